#!/usr/bin/env node
// Own code: npm's prestart/pretest hook that makes `npm start` and `npm test` work on a fresh clone;
// it must run on the machine's plain Node (20+) before node_modules exists, so it uses no package.
//
//   node scripts/bootstrap.mjs start|test           make the machine ready, then return
//   node scripts/bootstrap.mjs start|test --check   only report what it would do (exit 1 if anything)
//
// 1. System tools: Java 17+ and redis-server (and for tests ffmpeg/ffprobe for fixtures,
//    ImageMagick, exiftool, Chromium, openssl, and qemu with Debian's arm64 libraries to run the
//    Lambda's arm64 binaries). Missing ones are installed with apt-get when running as root on
//    Debian/Ubuntu; otherwise it stops with one line naming the command to run.
// 2. npm dependencies: `npm ci` when node_modules is missing or was installed from another lockfile.
// 3. The media tools (the Lambda layer and the same ffmpeg build for this machine, which `npm start`
//    and the tests run): `npm run build:media-layer` when `build-media-layer.sh --check` says they
//    are missing or their inputs changed (the build script keeps its own stamp).
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LOCKFILE = join(ROOT, 'package-lock.json');
const NODE_MODULES = join(ROOT, 'node_modules');
/** Written after `npm ci`: the lockfile it installed. */
const INSTALLED_LOCK = join(NODE_MODULES, '.bootstrap-lockfile.sha256');
/** The build's own stamp (a hash of every input); present once a build has finished. */
const LAYER_STAMP = join(ROOT, 'layers/media-tools/.build-stamp');
/** Debian's arm64 C++ runtime: with it, qemu runs the layer's dynamically linked sharp. */
const ARM64_LIBSTDCXX = '/usr/aarch64-linux-gnu/lib/libstdc++.so.6';

/** Tool, how to check it, its Debian package, its Homebrew formula. */
const TOOLS = {
  start: [
    { name: 'Java 17+', ok: javaOk, apt: 'openjdk-17-jre-headless', brew: 'openjdk@17' },
    { name: 'redis-server', ok: () => has('redis-server'), apt: 'redis-server', brew: 'redis' },
  ],
  test: [
    // Only for generating test fixtures: the transcoder runs the project's own build.
    { name: 'ffmpeg', ok: () => has('ffmpeg') && has('ffprobe'), apt: 'ffmpeg', brew: 'ffmpeg' },
    { name: 'ImageMagick', ok: () => has('identify'), apt: 'imagemagick', brew: 'imagemagick' },
    // `npm run bench`'s image_variants_vs_vips_cli baseline: libvips's own command-line tool.
    { name: 'vips', ok: () => has('vips'), apt: 'libvips-tools', brew: 'vips' },
    // Hostile-media fixtures: jpegtran writes the many-scan JPEG, GNU time measures the tools' RSS.
    { name: 'jpegtran', ok: () => has('jpegtran'), apt: 'libjpeg-turbo-progs', brew: 'jpeg-turbo' },
    { name: 'GNU time', ok: () => existsSync('/usr/bin/time'), apt: 'time', brew: 'gnu-time' },
    {
      name: 'exiftool',
      ok: () => has('exiftool'),
      apt: 'libimage-exiftool-perl',
      brew: 'exiftool',
    },
    { name: 'Chromium', ok: () => has('chromium'), apt: 'chromium', brew: 'chromium' },
    { name: 'openssl', ok: () => has('openssl'), apt: 'openssl', brew: 'openssl' },
    {
      name: 'qemu (aarch64)',
      ok: () => has('qemu-aarch64-static'),
      apt: 'qemu-user-static',
      brew: 'qemu',
    },
    {
      name: "Debian's arm64 glibc and libstdc++",
      ok: () => existsSync(ARM64_LIBSTDCXX),
      apt: 'libc6-arm64-cross libstdc++6-arm64-cross',
      brew: 'aarch64-elf-gcc',
    },
  ],
};

const say = (line) => process.stderr.write(`bootstrap: ${line}\n`);

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function javaOk() {
  const run = spawnSync('java', ['-version'], { encoding: 'utf8' });
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${run.stderr ?? ''}${run.stdout ?? ''}`);
  if (match === null) return false;
  // "1.8.0" is Java 8; "17.0.2" is 17.
  const major = match[1] === '1' ? Number(match[2]) : Number(match[1]);
  return major >= 17;
}

const sha256 = (data) => createHash('sha256').update(data).digest('hex');
const readOr = (file, fallback) =>
  existsSync(file) ? readFileSync(file, 'utf8').trim() : fallback;

/**
 * A node_modules that npm itself installed or updated from the current lockfile (`npm install`
 * by hand, or before this script wrote stamps): npm's own record of the install
 * (node_modules/.package-lock.json) is not older than the lockfile.
 */
function installedByNpm() {
  const npmRecord = join(NODE_MODULES, '.package-lock.json');
  return existsSync(npmRecord) && statSync(npmRecord).mtimeMs >= statSync(LOCKFILE).mtimeMs;
}

/** What must happen for `mode`, without doing it. */
export function plan(mode) {
  const tools = mode === 'test' ? [...TOOLS.start, ...TOOLS.test] : TOOLS.start;
  const missing = tools.filter((tool) => !tool.ok());
  const lock = sha256(readFileSync(LOCKFILE));
  let npm;
  if (!existsSync(NODE_MODULES)) npm = 'missing';
  else if (readOr(INSTALLED_LOCK, '') === lock || installedByNpm()) npm = 'ok';
  else npm = 'stale';
  const current =
    spawnSync('bash', [join(ROOT, 'scripts/build-media-layer.sh'), '--check'], { stdio: 'ignore' })
      .status === 0;
  const layer = current ? 'ok' : existsSync(LAYER_STAMP) ? 'stale' : 'missing';
  return { missing, npm, lock, layer };
}

function run(command, args) {
  const result = spawnSync(command, args, { cwd: ROOT, stdio: 'inherit' });
  if (result.status !== 0) {
    say(`\`${[command, ...args].join(' ')}\` failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}

function installCommand(missing) {
  const apt = [...new Set(missing.map((tool) => tool.apt))].join(' ');
  if (process.platform === 'darwin') {
    return `brew install ${[...new Set(missing.map((tool) => tool.brew))].join(' ')}`;
  }
  return `sudo apt-get install -y ${apt}`;
}

function installTools(missing) {
  if (missing.length === 0) return;
  const names = missing.map((tool) => tool.name).join(', ');
  const debian = existsSync('/etc/debian_version') && has('apt-get');
  if (debian && process.getuid?.() === 0) {
    const packages = [...new Set(missing.flatMap((tool) => tool.apt.split(' ')))];
    say(`installing ${names} with apt-get (${packages.join(' ')})`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    for (const args of [
      ['update', '-qq'],
      ['install', '-y', '-qq', ...packages],
    ]) {
      const result = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
      if (result.status !== 0) {
        say(`apt-get ${args[0]} failed; run: ${installCommand(missing)}`);
        process.exit(1);
      }
    }
    const still = missing.filter((tool) => !tool.ok());
    if (still.length === 0) return;
    missing = still;
  }
  say(`missing ${missing.map((tool) => tool.name).join(', ')}; run: ${installCommand(missing)}`);
  process.exit(1);
}

function main() {
  const mode = process.argv[2];
  if (mode !== 'start' && mode !== 'test') {
    say('usage: node scripts/bootstrap.mjs start|test [--check]');
    process.exit(2);
  }
  const major = Number(process.versions.node.split('.')[0]);
  if (major < 20) {
    say(`Node.js ${process.versions.node} is too old; install Node.js 20 or newer`);
    process.exit(1);
  }
  const todo = plan(mode);
  if (process.argv.includes('--check')) {
    process.stdout.write(
      `${JSON.stringify({
        mode,
        missingTools: todo.missing.map((tool) => tool.name),
        npm: todo.npm,
        mediaLayer: todo.layer,
      })}\n`,
    );
    const ready = todo.missing.length === 0 && todo.npm === 'ok' && todo.layer === 'ok';
    process.exit(ready ? 0 : 1);
  }
  installTools(todo.missing);
  if (todo.npm !== 'ok') {
    say(`npm dependencies ${todo.npm}: npm ci`);
    run('npm', ['ci', '--no-audit', '--no-fund']);
  }
  writeFileSync(INSTALLED_LOCK, `${todo.lock}\n`);
  if (todo.layer !== 'ok') {
    say(`media tools ${todo.layer}: npm run build:media-layer (a cold build compiles ffmpeg)`);
    run('npm', ['run', '--silent', 'build:media-layer']);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
