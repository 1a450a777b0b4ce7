/**
 * Bundles for real (esbuild, no Docker) and inspects what would be uploaded to Lambda: the
 * transcoder's native binaries must be linux-arm64, API handlers must stay small, and every
 * function must load with exactly the environment the stack gives it.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ROUTES } from '../../app/model';
import type { ChirpFunction } from '../../lib/constructs/chirp-function';
import { REPO_ROOT } from '../../lib/constructs/chirp-function';
import { MEDIA_TOOLS_LAYER_DIR } from '../../lib/constructs/transcoder';
import {
  logicalId,
  resourceOf,
  synthChirp,
  type Synthesized,
  type TemplateResource,
} from './synth';

jest.setTimeout(600_000);

const MAX_API_BUNDLE_BYTES = 1_000_000;
const ELF_MAGIC = Buffer.from([0x7f, 0x45, 0x4c, 0x46]);
const EM_AARCH64 = 0xb7;

let synthesized: Synthesized;

beforeAll(() => {
  if (!fs.existsSync(path.join(MEDIA_TOOLS_LAYER_DIR, 'nodejs', 'node_modules', 'sharp'))) {
    throw new Error('Build the media-tools layer first: npm run build:media-layer');
  }
  synthesized = synthChirp({ bundle: true });
});
afterAll(() => {
  if (synthesized) fs.rmSync(synthesized.outdir, { recursive: true, force: true });
});

function resource(id: string): TemplateResource {
  return resourceOf(synthesized.template, id);
}

/** The staged folder of a function's or layer's asset. */
function assetDir(construct: Parameters<typeof logicalId>[1]): string {
  const metadata = resource(logicalId(synthesized.stack, construct)).Metadata ?? {};
  const assetPath = metadata['aws:asset:path'];
  if (typeof assetPath !== 'string') throw new Error(`${construct.node.path} has no asset path`);
  return path.join(synthesized.outdir, assetPath);
}

function functions(): ChirpFunction[] {
  const { stack } = synthesized;
  return [
    ...stack.api.functions.values(),
    stack.fanout.function,
    stack.transcoder.function,
    stack.mediaSweeper.function,
  ];
}

/** e_machine of an ELF file, or undefined when the file is not ELF. */
function elfMachine(file: string): number | undefined {
  const header = Buffer.alloc(20);
  const fd = fs.openSync(file, 'r');
  try {
    fs.readSync(fd, header, 0, 20, 0);
  } finally {
    fs.closeSync(fd);
  }
  if (!header.subarray(0, 4).equals(ELF_MAGIC)) return undefined;
  // EI_DATA (byte 5) = 1: little-endian.
  return header[5] === 1 ? header.readUInt16LE(18) : header.readUInt16BE(18);
}

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .flatMap((entry) => (entry.isFile() ? [path.join(entry.parentPath, entry.name)] : []));
}

describe('transcoder package', () => {
  let layerRoot: string;
  let layerModules: string;
  beforeAll(() => {
    layerRoot = assetDir(synthesized.stack.transcoder.layer);
    layerModules = path.join(layerRoot, 'nodejs', 'node_modules');
  });

  it('carries sharp, libvips, ffmpeg, ffprobe and rlimit-exec as aarch64 ELF binaries', () => {
    const native = filesUnder(layerRoot).filter((file) => elfMachine(file) !== undefined);
    const names = native.map((file) => path.relative(layerRoot, file));
    expect(names).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /^nodejs\/node_modules\/@img\/sharp-linux-arm64\/lib\/sharp-linux-arm64.*\.node$/,
        ),
        expect.stringMatching(
          /^nodejs\/node_modules\/@img\/sharp-libvips-linux-arm64\/lib\/libvips-cpp\.so/,
        ),
        'bin/ffmpeg',
        'bin/ffprobe',
        'bin/rlimit-exec',
      ]),
    );
    // Every native file in the package is for Lambda's architecture, none for the build machine's.
    for (const file of native) {
      expect([path.relative(layerRoot, file), elfMachine(file)]).toEqual([
        path.relative(layerRoot, file),
        EM_AARCH64,
      ]);
    }
    // The build stamp stays out of what is uploaded.
    expect(fs.existsSync(path.join(layerRoot, '.build-stamp'))).toBe(false);
  });

  it('has ffmpeg and ffprobe where FFMPEG_PATH/FFPROBE_PATH point, executable by any user', () => {
    const env = (
      resource(logicalId(synthesized.stack, synthesized.stack.transcoder.function)).Properties
        .Environment as { Variables: Record<string, string> }
    ).Variables;
    for (const variable of ['FFMPEG_PATH', 'FFPROBE_PATH']) {
      const onLambda = env[variable]!;
      // Lambda mounts the layer at /opt.
      expect(onLambda.startsWith('/opt/bin/')).toBe(true);
      const staged = path.join(layerRoot, path.relative('/opt', onLambda));
      expect(elfMachine(staged)).toBe(EM_AARCH64);
      // Lambda runs code as a user that does not own the files.
      expect(fs.statSync(staged).mode & 0o005).toBe(0o005);
    }
    expect(fs.statSync(path.join(layerRoot, 'bin', 'rlimit-exec')).mode & 0o005).toBe(0o005);
  });

  it('ships the same sharp version the project is tested with', () => {
    const version = (file: string) =>
      (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
    expect(version(path.join(layerModules, 'sharp', 'package.json'))).toBe(
      version(path.join(REPO_ROOT, 'node_modules', 'sharp', 'package.json')),
    );
  });

  it('leaves sharp and the binaries out of the function bundle, for the layer to provide', () => {
    const dir = assetDir(synthesized.stack.transcoder.function);
    const bundle = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
    expect(bundle).toMatch(/require\("sharp"\)/);
    expect(filesUnder(dir).filter((file) => elfMachine(file) !== undefined)).toEqual([]);
  });
});

describe('function bundles', () => {
  const sizes = new Map<string, number>();
  afterAll(() => {
    const lines = [...sizes].map(
      ([id, bytes]) => `${id.padEnd(16)} ${(bytes / 1024).toFixed(0)} KiB`,
    );
    process.stdout.write(`Bundle sizes (index.js):\n${lines.join('\n')}\n`);
  });

  it('keeps every API handler bundle under 1 MB', () => {
    for (const fn of functions()) {
      sizes.set(fn.spec.id, fs.statSync(path.join(assetDir(fn), 'index.js')).size);
    }
    for (const route of ROUTES) {
      expect([route.id, sizes.get(route.id)! < MAX_API_BUNDLE_BYTES]).toEqual([route.id, true]);
    }
  });

  it('ships a source map with every bundle', () => {
    for (const fn of functions()) {
      expect(fs.existsSync(path.join(assetDir(fn), 'index.js.map'))).toBe(true);
      expect(fs.existsSync(path.join(assetDir(fn), 'aws-sdk.js.map'))).toBe(true);
    }
  });

  it('keeps the DynamoDB SDK out of index.js, in an aws-sdk.js of its own loaded on first use', () => {
    for (const fn of functions()) {
      const dir = assetDir(fn);
      const handler = fs.readFileSync(path.join(dir, 'index.js'), 'utf8');
      const sdk = fs.readFileSync(path.join(dir, 'aws-sdk.js'), 'utf8');
      // The SDK's DynamoDB endpoint rules live only in the SDK file.
      expect([fn.spec.id, handler.includes('dynamodb.'), sdk.includes('dynamodb.')]).toEqual([
        fn.spec.id,
        false,
        true,
      ]);
      expect(handler).toContain('import("./aws-sdk.js")');
      // So Node need not parse aws-sdk.js to guess its module format.
      expect(JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'))).toEqual({
        type: 'commonjs',
      });
    }
    // The cache-hit path of the hottest read carries no SDK at all: ioredis (~170 KB minified)
    // and the handler's own code, against ~900 KB with the SDK bundled in.
    const getTweet = synthesized.stack.api.functions.get('GetTweet');
    expect(fs.statSync(path.join(assetDir(getTweet!), 'index.js')).size).toBeLessThan(300_000);
  });

  /**
   * Stand-ins for the values CloudFormation fills in at deploy time. The Redis port is closed, so
   * cache clients fail to connect, as they may on Lambda, without blocking the load.
   */
  function deployTimeValue(name: string, value: unknown): string {
    if (typeof value === 'string') return value;
    if (name === 'REDIS_URL') return 'rediss://127.0.0.1:9';
    if (name === 'CDN_BASE_URL') return 'https://d111111abcdef8.cloudfront.net';
    return `chirp-test-${name.toLowerCase()}`;
  }

  it('loads every function with the environment the stack gives it', () => {
    for (const fn of functions()) {
      const props = resource(logicalId(synthesized.stack, fn)).Properties;
      const variables = (props.Environment as { Variables: Record<string, unknown> }).Variables;
      const env: Record<string, string> = {
        PATH: process.env.PATH ?? '',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
        AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
        AWS_LAMBDA_FUNCTION_NAME: fn.spec.id,
        // On Lambda the layer is on NODE_PATH; here the machine's own sharp stands in for it.
        ...(props.Layers ? { NODE_PATH: path.join(REPO_ROOT, 'node_modules') } : {}),
      };
      for (const [name, value] of Object.entries(variables))
        env[name] = deployTimeValue(name, value);

      const script = `
        process.on('unhandledRejection', (e) => { console.error('UNHANDLED', e); process.exit(3); });
        const m = require(${JSON.stringify(path.join(assetDir(fn), 'index.js'))});
        if (typeof m.handler !== 'function') { console.error('no handler export'); process.exit(2); }
        // The SDK file, as document-store.ts loads it on the first DynamoDB call.
        import(${JSON.stringify(path.join(assetDir(fn), 'aws-sdk.js'))}).then((sdk) => {
          if (typeof sdk.createDocumentClient !== 'function' || typeof sdk.GetCommand !== 'function') {
            console.error('aws-sdk.js lacks its exports'); process.exit(4);
          }
          sdk.createDocumentClient();
          setTimeout(() => { console.log('LOADED'); process.exit(0); }, 300);
        });`;
      const result = spawnSync(process.execPath, ['-e', script], {
        env,
        encoding: 'utf8',
        timeout: 30_000,
        cwd: synthesized.outdir,
      });
      expect([fn.spec.id, result.status, result.stdout.trim().split('\n').pop()]).toEqual([
        fn.spec.id,
        0,
        'LOADED',
      ]);
    }
  });
});
