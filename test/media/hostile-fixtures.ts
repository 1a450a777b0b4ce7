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
export const manyTracks = (clip: string, output: string, count = 100): string =>
  repeatTrack(clip, output, 0, count - 1);

/** Track `index` declared `copies` more times, after the others (same samples, new track ids). */
export function repeatTrack(clip: string, output: string, index: number, copies: number): string {
  return editMp4(clip, output, (boxes) => {
    const moov = findBox(boxes, ['moov']);
    const original = serializeBoxes([tracks(boxes)[index]!]);
    const first = tracks(boxes).length + 1;
    for (let id = first; id < first + copies; id += 1) {
      const [copy] = parseBoxes(original);
      findBox(copy!.children!, ['tkhd']).payload!.writeUInt32BE(id, TKHD_TRACK_ID);
      moov.children!.push(copy!);
    }
    // next_track_ID, the last field of mvhd.
    const mvhd = mvhdOf(boxes);
    mvhd.writeUInt32BE(first + copies, mvhd.length - 4);
  });
}

/**
 * A long clip whose headers say it lasts `claimed` seconds: the movie header (mvhd) alone, or
 * every header (mvhd, tkhd, mdhd) of every track.
 */
export function durationLie(
  clip: string,
  output: string,
  claimed: number,
  which: 'mvhd' | 'all',
): string {
  return editMp4(clip, output, (boxes) => {
    const mvhd = mvhdOf(boxes);
    mvhd.writeUInt32BE(mvhd.readUInt32BE(12) * claimed, MVHD_DURATION);
    if (which === 'mvhd') return;
    for (const trak of tracks(boxes)) {
      findBox(trak.children!, ['tkhd']).payload!.writeUInt32BE(
        mvhd.readUInt32BE(12) * claimed,
        TKHD_DURATION,
      );
      // mdhd version 0: flags, creation, modification, timescale (12), duration (16).
      const mdhd = findBox(trak.children!, ['mdia', 'mdhd']).payload!;
      mdhd.writeUInt32BE(mdhd.readUInt32BE(12) * claimed, 16);
    }
  });
}

/**
 * The clip's samples played `times` times over by the sample tables alone (no edit list): every
 * chunk offset repeated, so a stream copy writes the same bytes `times` times. The clip must be
 * all keyframes (-g 1), so that every repetition decodes.
 */
export function reusedSamples(clip: string, output: string, times: number): string {
  return editMp4(clip, output, (boxes) => {
    const trak = tracks(boxes)[0]!;
    const stbl = findBox(trak.children!, STBL);
    const u32s = (type: string, skip: number) => {
      const payload = findBox(stbl.children!, [type]).payload!;
      return Array.from({ length: (payload.length - skip) / 4 }, (_, i) =>
        payload.readUInt32BE(skip + i * 4),
      );
    };
    // stsz: version/flags, sample_size (0: a table follows), count, sizes.
    const sizes = u32s('stsz', 12);
    const chunks = u32s('stco', 8);
    const stsc = u32s('stsc', 8); // (first_chunk, samples_per_chunk, description) triples
    // Each sample's own offset, from its chunk's offset and the sizes of the samples before it.
    const offsets: number[] = [];
    chunks.forEach((chunkOffset, chunk) => {
      let entry = 0;
      while (entry + 3 < stsc.length && stsc[entry + 3]! <= chunk + 1) entry += 3;
      let at = chunkOffset;
      for (let n = 0; n < stsc[entry + 1]!; n += 1) {
        offsets.push(at);
        at += sizes[offsets.length - 1]!;
      }
    });
    const stts = u32s('stts', 8); // (count, delta) pairs
    const delta = stts[1]!;
    const all = <T>(list: T[]) => Array.from({ length: times }, () => list).flat();
    const samples = sizes.length * times;
    setChild(stbl, { type: 'stts', payload: fullBox(1, samples, delta) });
    setChild(stbl, { type: 'stsc', payload: fullBox(1, 1, 1, 1) });
    setChild(stbl, { type: 'stsz', payload: fullBox(0, samples, ...all(sizes)) });
    setChild(stbl, { type: 'stco', payload: fullBox(samples, ...all(offsets)) });
    removeChildren(stbl, ['stss', 'ctts', 'sdtp']);
    const mdhd = findBox(trak.children!, ['mdia', 'mdhd']).payload!;
    mdhd.writeUInt32BE(samples * delta, 16);
    const mvhd = mvhdOf(boxes);
    const seconds = (samples * delta) / mdhd.readUInt32BE(12);
    mvhd.writeUInt32BE(Math.round(mvhd.readUInt32BE(12) * seconds), MVHD_DURATION);
    findBox(trak.children!, ['tkhd']).payload!.writeUInt32BE(
      Math.round(mvhd.readUInt32BE(12) * seconds),
      TKHD_DURATION,
    );
    removeChildren(trak, ['edts']);
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

/**
 * The clip with its first track's sample entry (stsd) claiming `width`x`height`: what a header
 * probe reports, while the H.264 stream itself (its SPS, what a decoder sees) keeps the real size.
 */
export function sizeLie(clip: string, output: string, width: number, height: number): string {
  return editMp4(clip, output, (boxes) => {
    const stsd = findBox(tracks(boxes)[0]!.children!, [...STBL, 'stsd']).payload!;
    // Full box (4), entry count (4), then the visual sample entry: size, type, 6 reserved,
    // data reference index, 16 bytes pre-defined/reserved, width, height (16 bits each).
    stsd.writeUInt16BE(width, 40);
    stsd.writeUInt16BE(height, 42);
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

/** An H.264 clip (copy candidate) followed by TIFF, Cinepak and 4096x2160 ProRes tracks. */
export function extraTracksClip(dir: (name: string) => string): string {
  const clip = ffmpegFixture(
    [
      ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30'],
      ...['-f', 'lavfi', '-i', 'color=c=gray:size=4096x2160:rate=1'],
      ...['-t', '1', '-map', '0', '-map', '0', '-map', '0', '-map', '1'],
      ...['-c:v:0', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p'],
      ...['-c:v:1', 'tiff', '-c:v:2', 'cinepak', '-c:v:3', 'prores', '-f', 'mov'],
    ],
    dir('extra-base.mov'),
  );
  // 12 more ProRes tracks on the same samples: 16 streams, the most -max_streams lets in.
  return repeatTrack(clip, dir('extra-tracks.mov'), 3, 12);
}

/** A short AV1 clip in MP4 (the layer's ffmpeg has no AV1 decoder). */
export const av1Clip = (output: string): string =>
  ffmpegFixture(
    [
      ...['-f', 'lavfi', '-i', 'testsrc2=size=64x64:rate=10', '-t', '0.5'],
      ...['-c:v', 'libaom-av1', '-cpu-used', '8', '-f', 'mp4'],
    ],
    output,
  );

/**
 * An HEVC clip within the copy caps, with a user-data SEI (the canary) added before its first
 * picture, next to the SEI in which x265 writes its version and settings.
 */
export function hevcSeiClip(dir: (name: string) => string): string {
  const stream = readFileSync(
    ffmpegFixture(
      [
        ...['-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=30', '-t', '1'],
        ...['-c:v', 'libx265', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-f', 'hevc'],
      ],
      dir('x265.hevc'),
    ),
  );
  const text = Buffer.from(SEI_CANARY, 'latin1');
  const uuid = Buffer.from('6f3693b7b34f2c96532149feee5b8086', 'hex');
  const sei = Buffer.concat([
    Buffer.from([0, 0, 0, 1, 39 << 1, 1]), // prefix SEI NAL, layer 0, temporal id 0
    Buffer.from([5, uuid.length + text.length]), // user_data_unregistered, size
    uuid,
    text,
    Buffer.from([0x80]), // rbsp trailing bits
  ]);
  // Before the first picture (VCL NAL types 0-31), after the parameter sets.
  let at = 0;
  for (;;) {
    at = stream.indexOf(Buffer.from([0, 0, 1]), at);
    if (at < 0) throw new Error('no picture in the HEVC stream');
    if (stream[at + 3]! >> 1 < 32) break;
    at += 3;
  }
  const start = at > 0 && stream[at - 1] === 0 ? at - 1 : at;
  writeFileSync(
    dir('sei.hevc'),
    Buffer.concat([stream.subarray(0, start), sei, stream.subarray(start)]),
  );
  return ffmpegFixture(
    ['-f', 'hevc', '-r', '30', '-i', dir('sei.hevc'), '-c', 'copy', '-tag:v', 'hvc1'],
    dir('hevc-sei.mp4'),
  );
}

/** JPEG marker segments: [start, end) of each, the entropy-coded data counted with its SOS. */
function jpegSegments(data: Buffer): { marker: number; start: number; end: number }[] {
  const segments: { marker: number; start: number; end: number }[] = [];
  let at = 2;
  while (at < data.length) {
    const marker = data[at + 1]!;
    if (marker === 0xd9) break;
    let end = at + 2 + data.readUInt16BE(at + 2);
    if (marker === 0xda) {
      while (!(data[end] === 0xff && data[end + 1] !== 0 && (data[end + 1]! & 0xf8) !== 0xd0)) {
        end += 1;
      }
    }
    segments.push({ marker, start: at, end });
    at = end;
  }
  return segments;
}

/**
 * A valid progressive JPEG of `base`'s coefficients in 2,080 scans: the DC, then each of the 63
 * AC coefficients of each component alone, sent bit by bit (first scan at Al=10, then ten
 * refinements). jpegtran writes at most 100 scans per script, so it runs once per 9
 * coefficients and the scans are spliced together, each with the Huffman tables before it.
 */
export function manyScansJpeg(base: string, output: string, scriptDir: (name: string) => string) {
  const coefficients = [0, 1, 2].flatMap((c) =>
    Array.from({ length: 63 }, (_, k) => [c, k + 1] as const),
  );
  let header: Buffer | undefined;
  const scans: Buffer[] = [];
  for (let n = 0; n < coefficients.length; n += 9) {
    const lines = ['0 1 2: 0 0 0 0;'];
    for (const [c, k] of coefficients.slice(n, n + 9)) {
      lines.push(`${c}: ${k} ${k} 0 10;`);
      for (let a = 10; a > 0; a -= 1) lines.push(`${c}: ${k} ${k} ${a} ${a - 1};`);
    }
    const script = scriptDir(`scans-${n}.txt`);
    writeFileSync(script, `${lines.join('\n')}\n`);
    const jpeg = execFileSync('jpegtran', ['-scans', script, base], { maxBuffer: 1 << 28 });
    const segments = jpegSegments(jpeg);
    const dcScan = segments.find((s) => s.marker === 0xda)!;
    header ??= jpeg.subarray(0, dcScan.end);
    scans.push(jpeg.subarray(dcScan.end, segments[segments.length - 1]!.end));
  }
  writeFileSync(output, Buffer.concat([header!, ...scans, Buffer.from([0xff, 0xd9])]));
  return output;
}
