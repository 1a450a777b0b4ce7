/**
 * The arm64 artifacts we ship, executed: the synthesized (bundled) transcoder asset with its
 * media-tools layer, and the GetTweet asset, run by Node's linux-arm64 build under qemu against
 * the local stack's DynamoDB Local, S3 emulator and Redis (emulated-lambda.ts says how).
 * Its own Jest project (npm run test:arm64): slow under emulation, so kept out of `npm test`.
 */
import '../media/setup-env';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { buildEvent } from '../../local/api-gateway';
import { REPO_ROOT } from '../../lib/constructs/chirp-function';
import { serviceEnv } from '../support/env';
import { newUser } from '../support/api-client';
import { logicalId, resourceOf, synthChirp, type Synthesized } from '../infra/synth';
import { testClip, tempDir, twoToneImage } from '../media/fixtures';
import { getRecord, newId, putMedia, putObject, s3 } from '../media/harness';
import {
  arm64Node,
  assertEmulationAvailable,
  emulationRoot,
  invokeEmulated,
  type EmulatedLayerRoot,
} from './emulated-lambda';

jest.setTimeout(900_000);

let synthesized: Synthesized;
let node: string;
let transcoderRoot: EmulatedLayerRoot;
let plainRoot: EmulatedLayerRoot;
const files = tempDir('chirp-arm64-');
const bucket = `arm64-test-${newId().toLowerCase()}`;

beforeAll(async () => {
  assertEmulationAvailable();
  node = arm64Node(REPO_ROOT);
  synthesized = synthChirp({ bundle: true });
  transcoderRoot = emulationRoot(assetDir(synthesized.stack.transcoder.layer));
  plainRoot = emulationRoot();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(() => {
  transcoderRoot?.remove();
  plainRoot?.remove();
  files.remove();
});

const resource = (construct: Parameters<typeof logicalId>[1]) =>
  resourceOf(synthesized.template, logicalId(synthesized.stack, construct));

/** The staged folder of a function's or layer's asset in the cloud assembly. */
function assetDir(construct: Parameters<typeof logicalId>[1]): string {
  const assetPath = resource(construct).Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') throw new Error(`${construct.node.path} has no asset path`);
  return join(synthesized.outdir, assetPath);
}

/**
 * The function's environment as the template declares it: literal values as they are (such as
 * FFMPEG_PATH=/opt/bin/ffmpeg), deploy-time references (tables, bucket, Redis) replaced by the
 * local stack's value for the same name, plus the local endpoints and credentials.
 */
function lambdaEnvironment(
  construct: Parameters<typeof logicalId>[1],
  functionName: string,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const local = serviceEnv();
  const declared = (
    resource(construct).Properties.Environment as {
      Variables: Record<string, unknown>;
    }
  ).Variables;
  const env: Record<string, string> = { ...local, AWS_LAMBDA_FUNCTION_NAME: functionName };
  for (const [name, value] of Object.entries(declared)) {
    const resolved = typeof value === 'string' ? value : local[name];
    if (resolved === undefined) throw new Error(`no local value for ${name}`);
    env[name] = resolved;
  }
  return { ...env, ...overrides };
}

async function transcodeOnArm64(body: Buffer, contentType: 'image/jpeg' | 'video/mp4') {
  const media = await putMedia({ content_type: contentType, size_bytes: body.length });
  await putObject(bucket, media.upload_key, body);
  const fn = synthesized.stack.transcoder.function;
  const invocation = await invokeEmulated({
    node,
    root: transcoderRoot,
    assetDir: assetDir(fn),
    event: {
      Records: [
        {
          eventSource: 'aws:s3',
          eventName: 'ObjectCreated:Put',
          s3: { bucket: { name: bucket }, object: { key: media.upload_key, size: body.length } },
        },
      ],
    },
    env: lambdaEnvironment(fn, 'Transcoder', { MEDIA_BUCKET: bucket }),
    timeoutMs: 600_000,
  });
  return { invocation, record: await getRecord(media.media_id) };
}

describe('on emulated linux-arm64', () => {
  it('the transcoder asset and its layer turn a JPEG into ready variants', async () => {
    const jpeg = readFileSync(await twoToneImage(640, 480, 'jpeg', files.file('photo.jpg')));
    const { invocation, record } = await transcodeOnArm64(jpeg, 'image/jpeg');
    process.stdout.write(`arm64 transcoder, JPEG: ${invocation.ms} ms\n`);
    expect(invocation).toMatchObject({ arch: 'arm64', result: { processed: 1 } });
    expect(record).toMatchObject({ status: 'ready', width: 640, height: 480 });
    expect(record?.variants?.map((v) => v.name)).toEqual(
      expect.arrayContaining(['large', 'thumb']),
    );
  });

  it('the transcoder asset and its layer turn a 2 s MP4 into a ready video with a poster', async () => {
    const mp4 = readFileSync(
      testClip(files.file('clip.mp4'), { size: '320x240', seconds: 2, extra: ['-bf', '0'] }),
    );
    const { invocation, record } = await transcodeOnArm64(mp4, 'video/mp4');
    process.stdout.write(`arm64 transcoder, 2 s MP4: ${invocation.ms} ms\n`);
    expect(invocation).toMatchObject({ arch: 'arm64', result: { processed: 1 } });
    expect(record).toMatchObject({ status: 'ready', width: 320, height: 240 });
    expect(record?.duration_ms).toBeGreaterThanOrEqual(1900);
    expect(record?.duration_ms).toBeLessThanOrEqual(2100);
    expect(record?.variants?.map((v) => v.content_type)).toEqual(
      expect.arrayContaining(['video/mp4', 'image/jpeg']),
    );
  });

  it('the GetTweet asset serves a tweet like the local API does', async () => {
    const author = newUser(`arm64-${randomUUID().slice(0, 8)}`);
    const created = await author.createTweet({ text: 'from arm64' });
    expect(created.status).toBe(201);
    const tweetId = created.body.tweet_id;
    const local = await author.getTweet(tweetId);
    const fn = synthesized.stack.api.functions.get('GetTweet')!;
    const event = buildEvent({
      method: 'GET',
      rawPath: `/v1/tweets/${tweetId}`,
      rawQueryString: '',
      rawHeaders: ['host', 'api.example.com', 'user-agent', 'arm64-test'],
      body: Buffer.alloc(0),
      sourceIp: '127.0.0.1',
      httpVersion: '1.1',
      routeKey: 'GET /v1/tweets/{tweet_id}',
      pathParameters: { tweet_id: tweetId },
      caller: { claims: { sub: author.id }, scopes: [] },
      requestId: randomUUID(),
      now: new Date(),
    });
    const invocation = await invokeEmulated({
      node,
      root: plainRoot,
      assetDir: assetDir(fn),
      event,
      env: lambdaEnvironment(fn, 'GetTweet'),
      timeoutMs: 120_000,
    });
    process.stdout.write(`arm64 GetTweet: ${invocation.ms} ms\n`);
    const result = invocation.result as { statusCode: number; body: string };
    expect(invocation.arch).toBe('arm64');
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(result.body)).toEqual(local.body);
  });
});
