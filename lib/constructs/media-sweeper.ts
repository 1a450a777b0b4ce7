import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import type { FunctionSpec } from '../../app/model';
import { ChirpFunction, type ChirpResources } from './chirp-function';

export interface MediaSweeperProps {
  /** The app model's sweeper, with its schedule. */
  readonly spec: FunctionSpec & { readonly scheduleMinutes: number };
  readonly resources: ChirpResources;
  /** @default the repository root */
  readonly projectRoot?: string;
}

/**
 * Runs the media sweeper on an EventBridge schedule: media stuck in processing becomes failed, and
 * media never attached to a tweet is removed. Each run is idempotent and the next one picks up
 * whatever a failed run left, so a lost invocation only delays cleanup by one period.
 */
export class MediaSweeper extends Construct {
  public readonly function: ChirpFunction;
  public readonly schedule: events.Rule;

  constructor(scope: Construct, id: string, props: MediaSweeperProps) {
    super(scope, id);
    this.function = new ChirpFunction(this, props.spec.id, {
      spec: props.spec,
      resources: props.resources,
      projectRoot: props.projectRoot,
    });
    this.schedule = new events.Rule(this, 'Schedule', {
      description: `Runs the media sweeper every ${props.spec.scheduleMinutes} minutes`,
      schedule: events.Schedule.rate(Duration.minutes(props.spec.scheduleMinutes)),
      targets: [
        new targets.LambdaFunction(this.function, {
          retryAttempts: 2,
          maxEventAge: Duration.minutes(props.spec.scheduleMinutes),
        }),
      ],
    });
  }
}
