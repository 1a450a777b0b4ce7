/**
 * Hostile files that got through before (docs/media.md, "Hostile files"), crafted here, through the
 * layer's ffmpeg build: each ends `ready` with a bounded, honest output or fails with a code, fast
 * and within the tools' memory cap.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { processAnimatedGif, processVideo } from '../../lambdas/media/video';
import { TOOL_MEMORY_BYTES } from '../../lambdas/media/settings';
import { localMediaTools } from '../../local/media-tools';
import { failureOf, tempDir, testClip, toolRunner } from './fixtures';
import {
  editListAmplified,
  frameSizes,
  hugeScreenGif,
  manyTracks,
  plainClip,
  resolutionSwitch,
  sampleCountBomb,
  SEI_CANARY,
  seiUserDataClip,
  zeroSampleTrack,
} from './hostile-fixtures';

const dir = tempDir('chirp-hostile-');
afterAll(() => dir.remove());
const limits = { maxVideoSeconds: 140 };

/** Peak RSS in bytes of one of the layer's tools on `args`, under the pipeline's memory cap. */
function peakRss(tool: 'ffmpeg' | 'ffprobe', args: string[]): number {
  const report = dir.file(`rss-${Date.now()}.txt`);
  try {
    execFileSync(
      '/usr/bin/time',
      [
        '-o',
        report,
        '-f',
        '%M',
        localMediaTools.rlimitExecPath,
        String(TOOL_MEMORY_BYTES),
        localMediaTools[`${tool}Path`],
        ...args,
      ],
      { stdio: 'ignore' },
    );
  } catch {
    // A refused file exits non-zero; the peak is what this measures.
  }
  return Number(readFileSync(report, 'utf8').trim().split('\n').pop()) * 1024;
}

describe('hostile videos', () => {
  it('leaves room under the memory caps for a legit 4K video', async () => {
    const input = testClip(dir.file('4k.mp4'), { size: '3840x2160', seconds: 0.5 });
    const result = await processVideo(toolRunner(), input, dir.subdir(), limits);
    expect(result).toMatchObject({ width: 1280, height: 720, copied: false });
    const rss = peakRss('ffmpeg', [
      '-i',
      input,
      '-c:v',
      'libx264',
      '-preset',
      'veryfast',
      '-vf',
      'scale=1280:720',
      '-y',
      dir.file('4k-out.mp4'),
    ]);
    expect(rss).toBeLessThan(TOOL_MEMORY_BYTES / 2);
  });

  it('copies an edit list that repeats 1 s 140 times as the 1 s of samples it holds', async () => {
    const clip = plainClip(dir.file('one-second.mp4'));
    const input = editListAmplified(clip, dir.file('amplified.mp4'));
    const result = await processVideo(toolRunner(), input, dir.subdir(), limits);
    const video = result.files.find((f) => f.name === 'video')!;
    // Before: a 140x larger copy, recorded as 140 s.
    expect(video.bytes).toBeLessThan(statSync(input).size * 1.5);
    expect(result.durationMs).toBeLessThan(1500);
  });

  it('fails a few KB declaring 89 M samples in 1 s cleanly, ffprobe far below the memory cap', async () => {
    const input = sampleCountBomb(plainClip(dir.file('bomb-base.mp4')), dir.file('89m.mp4'));
    expect(statSync(input).size).toBeLessThan(200_000);
    const started = Date.now();
    expect(await failureOf(processVideo(toolRunner(), input, dir.subdir(), limits))).toBe(
      'frame_rate_too_high',
    );
    expect(Date.now() - started).toBeLessThan(10_000);
    // Without -max_alloc, ffprobe 7.1 takes 2 GB and 27 s to index it (4.1 GB with the old build).
    const rss = peakRss('ffprobe', ['-max_alloc', '268435456', '-show_streams', input]);
    expect(rss).toBeLessThan(512 * 1024 ** 2);
  });

  it('refuses a file declaring 100 video tracks before decoding any of them', async () => {
    const input = manyTracks(plainClip(dir.file('tracks-base.mp4')), dir.file('100-tracks.mp4'));
    expect(await failureOf(processVideo(toolRunner(), input, dir.subdir(), limits))).toBe(
      'corrupt_media',
    );
  });

  it('fails a video track with zero samples as corrupt_media', async () => {
    const input = zeroSampleTrack(plainClip(dir.file('empty-base.mp4')), dir.file('empty.mp4'));
    expect(await failureOf(processVideo(toolRunner(), input, dir.subdir(), limits))).toBe(
      'corrupt_media',
    );
  });

  it('strips H.264 SEI user data (GPS, serials) from a stream copy', async () => {
    const input = seiUserDataClip(dir.file('sei.mp4'));
    expect(readFileSync(input).includes(SEI_CANARY)).toBe(true);
    const result = await processVideo(toolRunner(), input, dir.subdir(), limits);
    expect(result.copied).toBe(true);
    const served = readFileSync(result.files.find((f) => f.name === 'video')!.path);
    expect(served.includes(SEI_CANARY)).toBe(false);
    // x264's own settings string travels in an SEI too.
    expect(served.includes('x264 - core')).toBe(false);
  });

  it('transcodes a copy candidate whose stream switches from 64x64 to 1600x1600 mid-way', async () => {
    const input = resolutionSwitch(dir.file);
    const result = await processVideo(toolRunner(), input, dir.subdir(), limits);
    expect(result).toMatchObject({ width: 64, height: 64, copied: false });
    // Every served frame has the recorded size.
    expect(frameSizes(result.files.find((f) => f.name === 'video')!.path)).toEqual(['64x64']);
  });
});

describe('hostile GIFs', () => {
  it('stops a 16000x16000 logical screen in the decoder, whatever libvips counted', async () => {
    const input = dir.file('screen.gif');
    writeFileSync(input, hugeScreenGif());
    const started = Date.now();
    // What libvips might report for it: 1x1 frames, well within every budget.
    const code = await failureOf(
      processAnimatedGif(
        toolRunner(),
        input,
        { width: 1, height: 1, frames: 3 },
        dir.subdir(),
        limits,
      ),
    );
    expect(code).toBe('corrupt_media');
    // Before: ~1 GB RSS per 16000² frame until the 240 s timeout.
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});
