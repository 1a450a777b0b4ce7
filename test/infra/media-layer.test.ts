import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../../lib/constructs/chirp-function';
import { assertLayerBuilt, MEDIA_TOOLS_LAYER_DIR } from '../../lib/constructs/transcoder';
import { LOCAL_MEDIA_TOOLS_DIR } from '../../local/media-tools';

describe('media-tools layer guard', () => {
  let unbuilt: string;
  beforeAll(() => {
    // A fresh clone: the layer's package files, no node_modules.
    unbuilt = fs.mkdtempSync(path.join(os.tmpdir(), 'chirp-layer-'));
    fs.mkdirSync(path.join(unbuilt, 'nodejs'));
    fs.copyFileSync(
      path.join(MEDIA_TOOLS_LAYER_DIR, 'nodejs', 'package.json'),
      path.join(unbuilt, 'nodejs', 'package.json'),
    );
  });
  afterAll(() => fs.rmSync(unbuilt, { recursive: true, force: true }));

  it('fails a bundling synth without the layer, naming the command that builds it', () => {
    expect(() => assertLayerBuilt(unbuilt, true)).toThrow(/npm run build:media-layer/);
  });

  it('lets synths that skip bundling go on without it', () => {
    expect(() => assertLayerBuilt(unbuilt, false)).not.toThrow();
  });

  it('accepts the built layer', () => {
    expect(() => assertLayerBuilt(MEDIA_TOOLS_LAYER_DIR, true)).not.toThrow();
  });
});

type Tool = 'ffmpeg' | 'ffprobe';

/** The ffmpeg the layer ships (linux-arm64, run under qemu) and its local x86-64 twin. */
const BUILDS = [
  {
    arch: 'linux-arm64 (layer)',
    command: (tool: Tool) => [
      '/usr/bin/qemu-aarch64-static',
      path.join(MEDIA_TOOLS_LAYER_DIR, 'bin', tool),
    ],
  },
  { arch: 'linux-x64 (local)', command: (tool: Tool) => [path.join(LOCAL_MEDIA_TOOLS_DIR, tool)] },
];
type Build = (typeof BUILDS)[number];

function run(build: Build, tool: Tool, args: string[]) {
  const [file, ...prefix] = build.command(tool);
  return spawnSync(file!, [...prefix, '-hide_banner', ...args], { encoding: 'utf8' });
}

/** The configure options, without the build's own paths and cross-compile switches. */
function configuration(build: Build, tool: Tool): string[] {
  const line = /configuration: (.*)/.exec(run(build, tool, ['-version']).stdout)?.[1] ?? '';
  return line
    .split(/ (?=--)/)
    .filter(
      (option) =>
        !/^--(prefix|extra-ldflags|cross-prefix|arch|target-os|pkg-config=|enable-cross-compile)/.test(
          option,
        ) && !option.startsWith('--extra-cflags=-I'),
    );
}

describe.each(BUILDS)('the $arch ffmpeg build', (build) => {
  it('is ffmpeg and ffprobe 7.1.5, configured from --disable-everything', () => {
    for (const tool of ['ffmpeg', 'ffprobe'] as const) {
      expect(run(build, tool, ['-version']).stdout).toMatch(
        new RegExp(`^${tool} version 7\\.1\\.5 `),
      );
      expect(configuration(build, tool)).toEqual(
        expect.arrayContaining([
          '--disable-everything',
          '--disable-network',
          '--enable-protocol=file',
        ]),
      );
    }
  });

  it('lists only the file protocol, and only the mov and gif demuxers', () => {
    expect(run(build, 'ffmpeg', ['-protocols']).stdout.replace(/\s+/g, ' ').trim()).toBe(
      'Supported file protocols: Input: file Output: file',
    );
    const demuxers = run(build, 'ffmpeg', ['-demuxers'])
      .stdout.split('\n')
      .flatMap((line) => /^ D\s+(\S+)/.exec(line)?.[1] ?? []);
    expect(demuxers).toEqual(['gif', 'mov,mp4,m4a,3gp,3g2,mj2']);
  });

  it('cannot read a concat list or an HLS playlist: those demuxers do not exist', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chirp-demuxers-'));
    try {
      const list = path.join(dir, 'list.txt');
      fs.writeFileSync(list, "file '/etc/passwd'\n");
      const playlist = path.join(dir, 'list.m3u8');
      fs.writeFileSync(playlist, '#EXTM3U\n#EXTINF:1,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n');
      for (const [format, input] of [
        ['concat', list],
        ['hls', playlist],
      ] as const) {
        const result = run(build, 'ffprobe', ['-f', format, '-i', input]);
        expect(result.status).not.toBe(0);
        expect(result.stderr).toContain(`Unknown input format: ${format}`);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

it('builds both architectures with the same configuration', () => {
  const [arm64, x64] = BUILDS.map((build) => configuration(build, 'ffmpeg'));
  expect(arm64).toEqual(x64);
  expect(arm64!.length).toBeGreaterThan(10);
});

describe('the layer build stamp', () => {
  it('matches the current inputs (scripts/build-media-layer.sh --check)', () => {
    const check = spawnSync(
      'bash',
      [path.join(REPO_ROOT, 'scripts', 'build-media-layer.sh'), '--check'],
      {
        encoding: 'utf8',
      },
    );
    expect([check.status, check.stderr]).toEqual([0, '']);
  });
});
