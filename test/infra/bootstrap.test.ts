/**
 * The README's two commands on a fresh clone: the repository cloned into a temp dir, and the
 * bootstrap that npm's prestart/pretest hooks run (scripts/bootstrap.mjs) asked what it would do
 * there, on the machine's plain Node when there is one. Installing for real is left to CI, which
 * starts from a clean clone; this keeps the checks from rotting.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const REPO = resolve(__dirname, '../..');
/** The machine's Node (the bootstrap runs before node_modules, and its Node 24, exist). */
const PLAIN_NODE = ['/usr/bin/node', '/usr/local/bin/node'].find(existsSync) ?? process.execPath;

interface Check {
  readonly mode: string;
  readonly missingTools: string[];
  readonly npm: 'ok' | 'missing' | 'stale';
  readonly mediaLayer: 'ok' | 'missing' | 'stale';
}

let clone: string;
beforeAll(() => {
  clone = join(mkdtempSync(join(tmpdir(), 'chirp-clone-')), 'chirp');
  execFileSync('git', ['clone', '--quiet', '--no-hardlinks', REPO, clone]);
});
afterAll(() => rmSync(join(clone, '..'), { recursive: true, force: true }));

function check(mode: 'start' | 'test'): { status: number | null; result: Check } {
  const run = spawnSync(PLAIN_NODE, [join(clone, 'scripts/bootstrap.mjs'), mode, '--check'], {
    cwd: clone,
    encoding: 'utf8',
  });
  return { status: run.status, result: JSON.parse(run.stdout) as Check };
}

describe('a fresh clone', () => {
  it('runs the bootstrap before npm start and npm test', () => {
    const { scripts } = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    expect(scripts.prestart).toBe('node scripts/bootstrap.mjs start');
    expect(scripts.pretest).toBe('node scripts/bootstrap.mjs test');
    // CI relies on the same bootstrap instead of repeating it.
    const ci = readFileSync(join(clone, '.ci/run'), 'utf8')
      .split('\n')
      .filter((line) => !line.startsWith('#'))
      .join('\n');
    expect(ci).toMatch(/node scripts\/bootstrap\.mjs test/);
    expect(ci).toMatch(/^npm test$/m);
    expect(ci).not.toMatch(/apt-get|npm ci|build:media-layer/);
  });

  it('needs npm dependencies and the media tools; the system tools are here', () => {
    const start = check('start');
    expect(start.result).toEqual({
      mode: 'start',
      missingTools: [],
      npm: 'missing',
      mediaLayer: 'missing',
    });
    expect(start.status).toBe(1);
    const test = check('test');
    expect(test.result).toEqual({
      mode: 'test',
      missingTools: [],
      npm: 'missing',
      mediaLayer: 'missing',
    });
  });

  it('takes node_modules installed from its lockfile as ready, and a changed lockfile as stale', () => {
    const stamp = join(clone, 'node_modules/.bootstrap-lockfile.sha256');
    mkdirSync(join(clone, 'node_modules'), { recursive: true });
    const lock = readFileSync(join(clone, 'package-lock.json'));
    writeFileSync(stamp, `${createHash('sha256').update(lock).digest('hex')}\n`);
    expect(check('start').result).toEqual({
      mode: 'start',
      missingTools: [],
      npm: 'ok',
      mediaLayer: 'missing',
    });
    writeFileSync(join(clone, 'package-lock.json'), `${lock.toString()}\n`);
    expect(check('start').result.npm).toBe('stale');
  });

  it('rebuilds the media tools when an input of their build changes', () => {
    // The built layer and local tools of this checkout, as a finished build leaves them.
    for (const path of [
      'layers/media-tools/.build-stamp',
      'layers/media-tools/bin',
      'layers/media-tools/nodejs/node_modules',
      '.media-tools',
    ]) {
      cpSync(join(REPO, path), join(clone, path), { recursive: true });
    }
    expect(check('test').result.mediaLayer).toBe('ok');
    writeFileSync(
      join(clone, 'scripts/build-ffmpeg.sh'),
      `${readFileSync(join(clone, 'scripts/build-ffmpeg.sh'), 'utf8')}# changed\n`,
    );
    expect(check('test').result.mediaLayer).toBe('stale');
  });
});
