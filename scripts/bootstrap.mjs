#!/usr/bin/env node
// Own code: npm's prestart/pretest hook that makes `npm start` and `npm test` work on a fresh clone;
// it must run on the machine's plain Node (20+) before node_modules exists, so it uses no package.
//
//   node scripts/bootstrap.mjs start|test           make the machine ready, then return
//   node scripts/bootstrap.mjs start|test --check   only report what it would do (exit 1 if anything)
//
// 1. System tools: Java 17+, redis-server, ffmpeg/ffprobe (and for tests ImageMagick, exiftool,
//    Chromium, openssl). Missing ones are installed with apt-get when running as root on
//    Debian/Ubuntu; otherwise it stops with one line naming the command to run.
// 2. npm dependencies: `npm ci` when node_modules is missing or was installed from another lockfile.
// 3. For tests, the media-tools Lambda layer: `npm run build:media-layer` when it is missing or its
//    inputs changed since it was built.
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LOCKFILE = join(ROOT, 'package-lock.json');
const NODE_MODULES = join(ROOT, 'node_modules');
/** Written after `npm ci`: the lockfile it installed. */
const INSTALLED_LOCK = join(NODE_MODULES, '.bootstrap-lockfile.sha256');
/** What the media layer is built from (the build script and the layer's own package files). */
const LAYER_INPUTS = ['scripts/build-media-layer.sh', 'layers/media-tools'];
/** What the build produces; the stamp lives in it, so removing the output forces a rebuild. */
const LAYER_OUTPUT = join(ROOT, 'layers/media-tools/nodejs/node_modules');
const LAYER_STAMP = join(LAYER_OUTPUT, '.bootstrap-inputs.sha256');

/** Tool, how to check it, its Debian package, its Homebrew formula. */
const TOOLS = {
  start: [
    { name: 'Java 17+', ok: javaOk, apt: 'openjdk-17-jre-headless', brew: 'openjdk@17' },
    { name: 'redis-server', ok: () => has('redis-server'), apt: 'redis-server', brew: 'redis' },
    { name: 'ffmpeg', ok: () => has('ffmpeg') && has('ffprobe'), apt: 'ffmpeg', brew: 'ffmpeg' },
  ],
  test: [
    { name: 'ImageMagick', ok: () => has('identify'), apt: 'imagemagick', brew: 'imagemagick' },
    {
      name: 'exiftool',
      ok: () => has('exiftool'),
      apt: 'libimage-exiftool-perl',
      brew: 'exiftool',
    },
    { name: 'Chromium', ok: () => has('chromium'), apt: 'chromium', brew: 'chromium' },
    { name: 'openssl', ok: () => has('openssl'), apt: 'openssl', brew: 'openssl' },
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

/** Every file under the inputs (node_modules excluded), hashed by path and content. */
export function layerInputsHash() {
  const hash = createHash('sha256');
  const walk = (path) => {
    if (!existsSync(path)) return;
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path).sort()) {
        if (entry !== 'node_modules') walk(join(path, entry));
      }
      return;
    }
    hash.update(relative(ROOT, path)).update('\0').update(readFileSync(path)).update('\0');
  };
  for (const input of LAYER_INPUTS) walk(join(ROOT, input));
  return hash.digest('hex');
}

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
  let layer = 'ok';
  if (mode === 'test') {
    if (!existsSync(LAYER_OUTPUT)) layer = 'missing';
    else if (readOr(LAYER_STAMP, '') !== layerInputsHash()) layer = 'stale';
  }
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
    const packages = [...new Set(missing.map((tool) => tool.apt))];
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
    say(`media-tools layer ${todo.layer}: npm run build:media-layer`);
    const inputs = layerInputsHash();
    run('npm', ['run', '--silent', 'build:media-layer']);
    writeFileSync(LAYER_STAMP, `${inputs}\n`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
