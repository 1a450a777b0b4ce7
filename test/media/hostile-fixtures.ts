/**
 * Hostile media crafted from valid clips, one per way such files hurt the pipeline before
 * (docs/media.md, "Hostile files"). The clips come from the system ffmpeg (lavfi sources and
 * encoders the layer's minimal build does not have); the pipeline runs the layer's build.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { ffmpegFixture, testClip } from './fixtures';
import {
  editMp4,
  findBox,
  fullBox,
  parseBoxes,
  removeChildren,
  serializeBoxes,
  setChild,
  STBL,
  tracks,
  type Box,
} from './mp4-boxes';

/** A video-only H.264 clip with its moov after mdat, ready for box surgery. */
export const plainClip = (output: string): string =>
  testClip(output, { size: '320x240', seconds: 1, audio: false });

const mvhdOf = (boxes: Box[]) => findBox(boxes, ['moov', 'mvhd']).payload!;
/** mvhd version 0: flags, creation, modification, timescale, duration (offset 16). */
const MVHD_DURATION = 16;
/** tkhd version 0: flags, creation, modification, track_ID (offset 12), reserved, duration (20). */
const TKHD_TRACK_ID = 12;
const TKHD_DURATION = 20;

/** Edit lists that play the clip's first second `repeats` times: a 140 s video from 1 s of data. */
export function editListAmplified(clip: string, output: string, repeats = 140): string {
  return editMp4(clip, output, (boxes) => {
    const mvhd = mvhdOf(boxes);
    const second = mvhd.readUInt32BE(12);
    mvhd.writeUInt32BE(second * repeats, MVHD_DURATION);
    for (const trak of tracks(boxes)) {
      findBox(trak.children!, ['tkhd']).payload!.writeUInt32BE(second * repeats, TKHD_DURATION);
      // Each entry: segment duration (movie timescale), media time 0, rate 1.0.
      const entries = Array.from({ length: repeats }, () => [second, 0, 0x10000]).flat();
      const elst = { type: 'elst', payload: fullBox(repeats, ...entries) };
      setChild(trak, { type: 'edts', children: [elst] });
    }
  });
}

/** A sample table declaring `samples` one-byte samples in one chunk: a few KB on disk. */
export function sampleCountBomb(clip: string, output: string, samples = 89_000_000): string {
  return editMp4(clip, output, (boxes) => {
    const stbl = findBox(tracks(boxes)[0]!.children!, STBL);
    const firstChunk = findBox(stbl.children!, ['stco']).payload!.readUInt32BE(8);
    setChild(stbl, { type: 'stts', payload: fullBox(1, samples, 1) });
    setChild(stbl, { type: 'stsc', payload: fullBox(1, 1, samples, 1) });
    setChild(stbl, { type: 'stsz', payload: fullBox(1, samples) });
    setChild(stbl, { type: 'stco', payload: fullBox(1, firstChunk) });
    removeChildren(stbl, ['stss', 'ctts', 'sdtp']);
  });
}

/** The clip's video track declared `count` times (same samples, new track ids). */
export function manyTracks(clip: string, output: string, count = 100): string {
  return editMp4(clip, output, (boxes) => {
    const moov = findBox(boxes, ['moov']);
    const original = serializeBoxes([tracks(boxes)[0]!]);
    for (let id = 2; id <= count; id += 1) {
      const [copy] = parseBoxes(original);
      findBox(copy!.children!, ['tkhd']).payload!.writeUInt32BE(id, TKHD_TRACK_ID);
      moov.children!.push(copy!);
    }
    // next_track_ID, the last field of mvhd.
    const mvhd = mvhdOf(boxes);
    mvhd.writeUInt32BE(count + 1, mvhd.length - 4);
  });
}

/** A video track whose sample tables are empty: headers, codec and size, but not one frame. */
export function zeroSampleTrack(clip: string, output: string): string {
  return editMp4(clip, output, (boxes) => {
    const stbl = findBox(tracks(boxes)[0]!.children!, STBL);
    setChild(stbl, { type: 'stts', payload: fullBox(0) });
    setChild(stbl, { type: 'stsc', payload: fullBox(0) });
    setChild(stbl, { type: 'stsz', payload: fullBox(0, 0) });
    setChild(stbl, { type: 'stco', payload: fullBox(0) });
    removeChildren(stbl, ['stss', 'ctts', 'sdtp']);
  });
}

export const SEI_CANARY = 'GPS+51.5007-000.1246 SERIAL=CANARY-7731';

/** A compliant clip (so it is stream-copied) with user data in an H.264 SEI message. */
export const seiUserDataClip = (output: string): string =>
  testClip(output, {
    size: '320x240',
    seconds: 1,
    audio: false,
    extra: [
      '-bsf:v',
      `h264_metadata=sei_user_data=086f3693-b7b3-4f2c-9653-21492feee5b8+${SEI_CANARY}`,
    ],
  });

/** 1 s at 64x64, then 1 s at `big`x`big` after a new SPS: the container says 64x64. */
export function resolutionSwitch(dir: (name: string) => string, big = 1600): string {
  const part = (name: string, size: string, source?: string) =>
    readFileSync(
      testClip(dir(name), {
        size,
        seconds: 1,
        audio: false,
        extra: ['-f', 'h264'],
        ...(source ? { source } : {}),
      }),
    );
  const both = Buffer.concat([
    part('small.h264', '64x64'),
    part('big.h264', `${big}x${big}`, 'color=c=gray'),
  ]);
  writeFileSync(dir('both.h264'), both);
  return ffmpegFixture(
    ['-f', 'h264', '-r', '30', '-i', dir('both.h264'), '-c', 'copy'],
    dir('switch.mp4'),
  );
}

/**
 * An animated GIF whose logical screen is `side`x`side` while each frame is a single pixel: 9 KB
 * that asks a decoder for `side`² pixels per frame.
 */
export function hugeScreenGif(side = 16000, frames = 3): Buffer {
  const screen = Buffer.alloc(13);
  screen.write('GIF89a', 0, 'latin1');
  screen.writeUInt16LE(side, 6);
  screen.writeUInt16LE(side, 8);
  const loop = Buffer.from([
    0x21,
    0xff,
    0x0b,
    ...Buffer.from('NETSCAPE2.0', 'latin1'),
    0x03,
    0x01,
    0x00,
    0x00,
    0x00,
  ]);
  const frame = Buffer.from([
    // Graphic control: 10 cs delay.
    0x21, 0xf9, 0x04, 0x00, 0x0a, 0x00, 0x00, 0x00,
    // Image descriptor: 1x1 at 0,0 with a 2-colour local table (black, white).
    0x2c, 0, 0, 0, 0, 1, 0, 1, 0, 0x80, 0, 0, 0, 0xff, 0xff, 0xff,
    // LZW, minimum code size 2: clear, pixel 0, end.
    0x02, 0x02, 0x44, 0x01, 0x00,
  ]);
  return Buffer.concat([
    screen,
    loop,
    ...Array.from({ length: frames }, () => frame),
    Buffer.from([0x3b]),
  ]);
}

/** The distinct frame sizes of an MP4's video, decoded by the system ffprobe (not the pipeline's). */
export function frameSizes(path: string): string[] {
  const out = execFileSync('ffprobe', [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'frame=width,height',
    '-of',
    'json',
    path,
  ]).toString();
  const { frames } = JSON.parse(out) as { frames: { width: number; height: number }[] };
  return [...new Set(frames.map((frame) => `${frame.width}x${frame.height}`))];
}
