/** Synthesizes the Chirp app the way bin/chirp.ts does, with cdk.json's feature flags. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, CfnElement } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { Template } from 'aws-cdk-lib/assertions';
import { buildChirpApp } from '../../lib/chirp-app';
import type { ChirpStack } from '../../lib/chirp-stack';

const cdkJson = JSON.parse(
  fs.readFileSync(path.join(__dirname, '..', '..', 'cdk.json'), 'utf8'),
) as { context: Record<string, unknown> };

/** cdk.json's context (feature flags), as `cdk synth` passes it to the app. */
export const CDK_JSON_CONTEXT: Readonly<Record<string, unknown>> = cdkJson.context;

export interface Synthesized {
  readonly app: App;
  readonly stack: ChirpStack;
  readonly template: Template;
  /** The cloud assembly directory (a fresh temporary folder). */
  readonly outdir: string;
}

export interface SynthOptions {
  /** Extra context, as `-c key=value` would give. */
  readonly context?: Record<string, unknown>;
  /** Bundle the functions for real (slow). @default false */
  readonly bundle?: boolean;
}

export function synthChirp(options: SynthOptions = {}): Synthesized {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'chirp-cdk-'));
  const app = new App({
    outdir,
    context: {
      ...cdkJson.context,
      // Lets tests map each function to its staged asset folder.
      'aws:cdk:enable-asset-metadata': true,
      ...(options.bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...options.context,
    },
  });
  try {
    const stack = buildChirpApp(app);
    // Runs the cdk-nag plugin too: synth throws on any unacknowledged finding.
    app.synth();
    return { app, stack, template: Template.fromStack(stack), outdir };
  } catch (error) {
    fs.rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
}

/** Logical ids and properties of every resource of `type` in the template. */
export function resourcesOfType(
  template: Template,
  type: string,
): Array<[string, { Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }]> {
  return Object.entries(template.findResources(type)) as Array<
    [string, { Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }]
  >;
}

/** The template's logical id of a construct's CloudFormation resource (or of an L1 itself). */
export function logicalId(stack: ChirpStack, construct: IConstruct): string {
  const element = CfnElement.isCfnElement(construct) ? construct : construct.node.defaultChild;
  if (!CfnElement.isCfnElement(element)) throw new Error(`${construct.node.path} has no L1`);
  return stack.getLogicalId(element);
}
