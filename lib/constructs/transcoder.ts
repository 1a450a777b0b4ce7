import * as fs from 'node:fs';
import * as path from 'node:path';
import { Duration, RemovalPolicy, Size, Stack, Validations } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import { Construct } from 'constructs';
import { ENV, MEDIA_PREFIXES, TRANSCODER_MALLOC_ENV, type FunctionSpec } from '../../app/model';
import { ChirpFunction, REPO_ROOT, type ChirpResources } from './chirp-function';
import { FailureQueue } from './failure-queue';

/** The layer's source folder; scripts/build-media-layer.sh installs nodejs/node_modules in it. */
export const MEDIA_TOOLS_LAYER_DIR = path.join(REPO_ROOT, 'layers', 'media-tools');
export const BUILD_MEDIA_LAYER_COMMAND = 'npm run build:media-layer';

/**
 * Where Lambda mounts the layer: its bin/ (ffmpeg, ffprobe and rlimit-exec, built from source by
 * scripts/build-ffmpeg.sh) at /opt/bin; the transcoder finds rlimit-exec next to ffmpeg.
 */
export const LAYER_FFMPEG_PATH = '/opt/bin/ffmpeg';
export const LAYER_FFPROBE_PATH = '/opt/bin/ffprobe';

/** Files whose presence shows the layer was built for linux-arm64. */
const LAYER_MARKERS = [
  'nodejs/node_modules/sharp/package.json',
  'nodejs/node_modules/@img/sharp-linux-arm64/package.json',
  'bin/ffmpeg',
  'bin/ffprobe',
  'bin/rlimit-exec',
];

export interface TranscoderProps {
  /** Reserved concurrent executions; 0 reserves none. @default none */
  readonly reservedConcurrency?: number;
  /** The app model's transcoder function. */
  readonly spec: FunctionSpec;
  readonly resources: ChirpResources;
  /** The media bucket whose uploads trigger the transcoder. */
  readonly bucket: s3.IBucket;
  /**
   * Scratch space: a 512 MiB video original plus its transcoded output and poster frames.
   * @default Size.gibibytes(3)
   */
  readonly ephemeralStorageSize?: Size;
  /** Lambda's asynchronous retries after a failed invocation (0-2). @default 2 */
  readonly retryAttempts?: number;
  /** Folder of the media-tools layer. @default layers/media-tools */
  readonly layerDir?: string;
  /** @default the repository root */
  readonly projectRoot?: string;
}

/**
 * The media transcoder: every object created under uploads/ invokes it asynchronously. sharp (with
 * libvips) and static ffmpeg/ffprobe for linux-arm64 (built from pinned source, docs/media.md)
 * come from the media-tools layer, so the
 * function's own bundle stays small and the binaries match Lambda's architecture, not the build
 * machine's. Failed invocations are retried by Lambda, then land in an SQS failure queue; the
 * media sweeper marks anything left in processing as failed.
 */
export class Transcoder extends Construct {
  public readonly function: ChirpFunction;
  public readonly layer: lambda.LayerVersion;
  public readonly failures: FailureQueue;

  constructor(scope: Construct, id: string, props: TranscoderProps) {
    super(scope, id);
    const layerDir = props.layerDir ?? MEDIA_TOOLS_LAYER_DIR;
    assertLayerBuilt(layerDir, Stack.of(this).bundlingRequired);

    this.layer = new lambda.LayerVersion(this, 'MediaTools', {
      description: 'sharp + libvips, ffmpeg and ffprobe for linux-arm64',
      code: lambda.Code.fromAsset(layerDir, {
        exclude: ['nodejs/node_modules/.bin', '.build-stamp'],
      }),
      compatibleArchitectures: [lambda.Architecture.ARM_64],
      compatibleRuntimes: [lambda.Runtime.NODEJS_24_X],
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.function = new ChirpFunction(this, props.spec.id, {
      spec: props.spec,
      resources: props.resources,
      projectRoot: props.projectRoot,
      layers: [this.layer],
      // Provided by the layer at /opt/nodejs/node_modules (on Lambda's NODE_PATH).
      externalModules: ['sharp'],
      ephemeralStorageSize: props.ephemeralStorageSize ?? Size.gibibytes(3),
      ...(props.reservedConcurrency !== undefined && props.reservedConcurrency > 0
        ? { reservedConcurrentExecutions: props.reservedConcurrency }
        : {}),
      environment: {
        [ENV.ffmpegPath]: LAYER_FFMPEG_PATH,
        [ENV.ffprobePath]: LAYER_FFPROBE_PATH,
        // glibc malloc settings that let libvips reuse the previous image's pages (docs/media.md).
        ...TRANSCODER_MALLOC_ENV,
      },
    });

    this.failures = new FailureQueue(this, 'Failures', {
      purpose: 'upload events the transcoder failed on after Lambda retries',
    });
    this.function.configureAsyncInvoke({
      retryAttempts: props.retryAttempts ?? 2,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.failures.queue),
    });

    props.bucket.addEventNotification(
      s3.EventType.OBJECT_CREATED,
      new s3n.LambdaDestination(this.function),
      { prefix: MEDIA_PREFIXES.uploads },
    );
    acknowledgeBucketNotificationsHandler(Stack.of(this));
  }
}

/** CDK's singleton deploy-time function that writes the bucket's notification configuration. */
function acknowledgeBucketNotificationsHandler(stack: Stack): void {
  const handler = stack.node.children.find((child) =>
    child.node.id.startsWith('BucketNotificationsHandler'),
  );
  if (!handler) return;
  Validations.of(handler).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason:
      'CDK-owned deploy-time function that sets the media bucket notification configuration; the AWS-managed policy only lets it write its own CloudWatch logs.',
  });
}

/**
 * Deploying without the layer's binaries would ship a transcoder that cannot start, so a synth
 * that bundles fails with the command to run. Synths that skip bundling (most tests) only need
 * the folder, so they go on and stage it as it is.
 */
export function assertLayerBuilt(layerDir: string, bundlingRequired: boolean): void {
  const missing = LAYER_MARKERS.filter((marker) => !fs.existsSync(path.join(layerDir, marker)));
  if (missing.length > 0 && bundlingRequired) {
    throw new Error(
      `The media-tools Lambda layer is not built (missing ${missing.join(', ')} in ${layerDir}). ` +
        `Run \`${BUILD_MEDIA_LAYER_COMMAND}\` (scripts/build-media-layer.sh) once, then synth again.`,
    );
  }
}
