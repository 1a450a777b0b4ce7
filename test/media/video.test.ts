import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:net';
import { writeFileSync } from 'node:fs';
import {
  ffmpeg,
  hardenedInput,
  probe,
  runTool,
  ToolAbortedError,
  ToolTimeoutError,
} from '../../lambdas/transcoder/ffmpeg';
import { processAnimatedGif, processVideo } from '../../lambdas/transcoder/video';
import { TOOL_MEMORY_BYTES } from '../../lambdas/transcoder/settings';
import { localMediaTools } from '../../local/media-tools';
import {
  animatedGif,
  exifTags,
  ffmpegFixture,
  hlsPlaylist,
  tempDir,
  testClip,
  failureOf,
  toolRunner,
  writeFixture,
} from './fixtures';
import { hugeScreenGif } from './hostile-fixtures';

const dir = tempDir();
afterAll(() => dir.remove());

const runner = toolRunner;
const limits = { maxVideoSeconds: 140 };

const outDir = () => dir.subdir();

describe('processVideo', () => {
  it('transcodes 1080p to 720p H.264 yuv420p + AAC-LC with faststart, no metadata, and a poster', async () => {
    const input = testClip(dir.file('1080p.mp4'), {
      size: '1920x1080',
      seconds: 0.5,
      extra: ['-metadata', 'location=+48.8584+002.2945/', '-metadata', 'title=Secret place'],
    });
    const result = await processVideo(runner(), input, outDir(), limits);

    expect(result.copied).toBe(false);
    expect(result).toMatchObject({ width: 1280, height: 720 });
    expect(result.durationMs).toBeGreaterThanOrEqual(450);
    expect(result.durationMs).toBeLessThanOrEqual(600);
    const video = result.files.find((f) => f.name === 'video')!;
    expect(video).toMatchObject({ contentType: 'video/mp4', width: 1280, height: 720 });
    const probed = await probe(runner(), 'mov', video.path);
    const [v, a] = [
      probed.streams?.find((s) => s.codec_type === 'video'),
      probed.streams?.find((s) => s.codec_type === 'audio'),
    ];
    expect(v).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: 1280, height: 720 });
    expect(a).toMatchObject({ codec_name: 'aac', profile: 'LC' });
    // faststart: the moov atom comes before mdat.
    const head = execFileSync('head', ['-c', '4096', video.path]).toString('latin1');
    expect(head.indexOf('moov')).toBeGreaterThan(0);
    expect(head.indexOf('moov')).toBeLessThan(
      head.indexOf('mdat') === -1 ? 1e9 : head.indexOf('mdat'),
    );
    expect(JSON.stringify(exifTags(video.path))).not.toMatch(/48\.8584|Secret place|GPS/);

    const posters = result.files.filter((f) => f.name === 'poster');
    expect(posters.map((p) => p.contentType).sort()).toEqual(['image/jpeg', 'image/webp']);
    expect(posters[0]).toMatchObject({ width: 1280, height: 720 });
    expect(result.blurhash.length).toBeGreaterThan(10);
  });

  it('copies the streams of a video that already complies', async () => {
    const input = testClip(dir.file('compliant.mp4'), {
      size: '640x360',
      seconds: 1,
      extra: ['-b:v', '400k', '-metadata', 'location=+48.8584+002.2945/'],
    });
    const result = await processVideo(runner(), input, outDir(), limits);
    expect(result.copied).toBe(true);
    expect(result).toMatchObject({ width: 640, height: 360 });
    const video = result.files.find((f) => f.name === 'video')!;
    expect(JSON.stringify(exifTags(video.path))).not.toMatch(/48\.8584|GPS/);
  });

  it('ignores cover art that comes before the real video stream', async () => {
    const clip = testClip(dir.file('plain.mp4'), { size: '320x240', seconds: 0.5 });
    const cover = ffmpegFixture(
      ['-f', 'lavfi', '-i', 'color=c=red:size=64x64', '-frames:v', '1'],
      dir.file('cover.jpg'),
    );
    const withCover = ffmpegFixture(
      [
        '-i',
        cover,
        '-i',
        clip,
        '-map',
        '0',
        '-map',
        '1',
        '-c',
        'copy',
        '-disposition:v:0',
        'attached_pic',
      ],
      dir.file('with-cover.mp4'),
    );
    const result = await processVideo(runner(), withCover, outDir(), limits);
    expect(result).toMatchObject({ width: 320, height: 240 });
    const probed = await probe(runner(), 'mov', result.files.find((f) => f.name === 'video')!.path);
    expect(probed.streams?.map((s) => `${s.codec_type}:${s.codec_name}`)).toEqual([
      'video:h264',
      'audio:aac',
    ]);
  });

  it('reports display dimensions of a rotated phone video', async () => {
    const coded = testClip(dir.file('coded.mp4'), { size: '320x240', seconds: 0.5, audio: false });
    const rotated = ffmpegFixture(
      ['-i', coded, '-c', 'copy', '-metadata:s:v:0', 'rotate=90'],
      dir.file('rotated.mp4'),
    );
    const result = await processVideo(runner(), rotated, outDir(), limits);
    expect(result).toMatchObject({ width: 240, height: 320 });
    expect(result.files.find((f) => f.name === 'poster')).toMatchObject({
      width: 240,
      height: 320,
    });
    // A copy keeps the coded frames and their rotation, as the player shows them.
    expect(result.copied).toBe(true);

    // A transcode rotates the frames before our scale: the file itself is upright.
    const coded444 = testClip(dir.file('coded444.mp4'), {
      size: '320x240',
      seconds: 0.5,
      audio: false,
      extra: ['-pix_fmt', 'yuv444p'],
    });
    const rotated444 = ffmpegFixture(
      ['-i', coded444, '-c', 'copy', '-metadata:s:v:0', 'rotate=90'],
      dir.file('rotated444.mp4'),
    );
    const transcoded = await processVideo(runner(), rotated444, outDir(), limits);
    expect(transcoded).toMatchObject({ copied: false, width: 240, height: 320 });
    const video = transcoded.files.find((f) => f.name === 'video')!.path;
    const stream = (await probe(runner(), 'mov', video)).streams?.[0];
    expect(stream).toMatchObject({ width: 240, height: 320 });
    expect(stream?.side_data_list?.some((d) => d.rotation)).toBeFalsy();
    expect(transcoded.files.find((f) => f.name === 'poster')).toMatchObject({
      width: 240,
      height: 320,
    });
  });

  it('copies compliant AAC-LC audio into a transcode, and re-encodes other audio to stereo AAC-LC', async () => {
    // yuv444p (High 4:4:4) is never stream-copied: these are transcodes.
    const clip = (name: string, audio: string[]) =>
      testClip(dir.file(name), {
        size: '320x240',
        seconds: 0.5,
        extra: ['-pix_fmt', 'yuv444p', ...audio],
      });
    const audioMd5 = (path: string) =>
      execFileSync('ffmpeg', [
        '-v',
        'error',
        '-i',
        path,
        '-map',
        '0:a',
        '-c',
        'copy',
        '-f',
        'md5',
        '-',
      ])
        .toString()
        .trim();
    const audioOf = async (path: string) =>
      (await probe(runner(), 'mov', path)).streams?.find((s) => s.codec_type === 'audio');

    const compliant = clip('aac-mono.mp4', ['-b:a', '96k']);
    const copied = await processVideo(runner(), compliant, outDir(), limits);
    expect(copied.copied).toBe(false);
    const copiedPath = copied.files.find((f) => f.name === 'video')!.path;
    expect(audioMd5(copiedPath)).toBe(audioMd5(compliant));

    const surround = clip('aac-51.mp4', ['-af', 'aformat=channel_layouts=5.1', '-b:a', '160k']);
    const downmixed = await processVideo(runner(), surround, outDir(), limits);
    const downmixedPath = downmixed.files.find((f) => f.name === 'video')!.path;
    expect(await audioOf(downmixedPath)).toMatchObject({
      codec_name: 'aac',
      profile: 'LC',
      channels: 2,
    });
    expect(audioMd5(downmixedPath)).not.toBe(audioMd5(surround));

    const loud = clip('aac-320k.mp4', ['-ac', '2', '-b:a', '320k']);
    const reencoded = await processVideo(runner(), loud, outDir(), limits);
    const reencodedPath = reencoded.files.find((f) => f.name === 'video')!.path;
    expect(audioMd5(reencodedPath)).not.toBe(audioMd5(loud));
    expect(Number((await audioOf(reencodedPath))?.bit_rate)).toBeLessThanOrEqual(160_000);
  });

  it('refuses too long, too fast, codec-less and unsupported-codec videos with their codes', async () => {
    const twoSeconds = testClip(dir.file('2s.mp4'), { size: '64x48', seconds: 2, audio: false });
    expect(
      await failureOf(processVideo(runner(), twoSeconds, outDir(), { maxVideoSeconds: 1 })),
    ).toBe('video_too_long');

    const fast = testClip(dir.file('120fps.mp4'), {
      size: '64x48',
      seconds: 0.5,
      fps: 120,
      audio: false,
    });
    expect(await failureOf(processVideo(runner(), fast, outDir(), limits))).toBe(
      'frame_rate_too_high',
    );

    const png = ffmpegFixture(
      ['-f', 'lavfi', '-i', 'testsrc2=size=64x48:rate=5', '-t', '0.4', '-c:v', 'png', '-f', 'mov'],
      dir.file('png.mov'),
    );
    expect(await failureOf(processVideo(runner(), png, outDir(), limits))).toBe(
      'unsupported_codec',
    );

    const audioOnly = ffmpegFixture(
      ['-f', 'lavfi', '-i', 'sine', '-t', '0.5', '-c:a', 'aac', '-f', 'mp4'],
      dir.file('audio.mp4'),
    );
    expect(await failureOf(processVideo(runner(), audioOnly, outDir(), limits))).toBe(
      'unsupported_codec',
    );
  });

  it('fails random bytes as corrupt_media, and a run past its deadline as processing_timeout', async () => {
    const noise = dir.file('noise.mp4');
    writeFileSync(noise, Buffer.concat([Buffer.from('\0\0\0\x18ftypisom'), Buffer.alloc(5000, 3)]));
    expect(await failureOf(processVideo(runner(), noise, outDir(), limits))).toBe('corrupt_media');

    const input = testClip(dir.file('deadline.mp4'), { size: '640x360', seconds: 1 });
    expect(await failureOf(processVideo(runner(1), input, outDir(), limits))).toBe(
      'processing_timeout',
    );
  });
});

describe('processAnimatedGif', () => {
  it('turns an animated GIF into a silent H.264 MP4 with even dimensions and a poster', async () => {
    const gif = animatedGif(dir.file('anim.gif'));
    const result = await processAnimatedGif(runner(), gif, outDir(), limits);
    const video = result.files.find((f) => f.name === 'video')!;
    expect(video).toMatchObject({ contentType: 'video/mp4', width: 160, height: 120 });
    const probed = await probe(runner(), 'mov', video.path);
    expect(probed.streams?.map((s) => s.codec_type)).toEqual(['video']);
    expect(probed.streams?.[0]).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p' });
    expect(result.durationMs).toBeGreaterThanOrEqual(900);
    expect(result.files.filter((f) => f.name === 'poster')).toHaveLength(2);
  });

  it('refuses a GIF whose frames x pixels, as ffmpeg counts them, exceed the budget', async () => {
    // 100 frames of a 4000x4000 screen: 1.6 G pixels to decode and encode, 9 KB of file.
    const gif = writeFixture(dir.file('budget.gif'), hugeScreenGif(4000, 100));
    expect(await failureOf(processAnimatedGif(runner(), gif, outDir(), limits))).toBe(
      'video_too_large',
    );
  });
});

describe('the ffmpeg runner', () => {
  it('refuses any demuxer but mov and gif, and relative paths', () => {
    expect(() => hardenedInput('hls' as never, '/tmp/x')).toThrow(/refusing demuxer/);
    expect(() => hardenedInput('concat' as never, '/tmp/x')).toThrow(/refusing demuxer/);
    expect(() => hardenedInput('mov', 'relative.mp4')).toThrow(/non-absolute/);
    const args = hardenedInput('mov', '/tmp/x.mp4');
    expect(args).toEqual(
      expect.arrayContaining(['-protocol_whitelist', 'file', '-f', 'mov', '-enable_drefs', '0']),
    );
    expect(args.slice(-2)).toEqual(['-i', 'file:/tmp/x.mp4']);
  });

  describe('given an HLS playlist that it is forced to read as mov', () => {
    let server: Server;
    let connections = 0;
    beforeAll(async () => {
      server = createServer((socket) => {
        connections += 1;
        socket.destroy();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('fails fast without opening the referenced file or connecting anywhere', async () => {
      const port = (server.address() as { port: number }).port;
      // A FIFO with no writer: any open() of it would block ffmpeg until the timeout.
      const fifo = dir.file('canary.fifo');
      execFileSync('mkfifo', [fifo]);
      const playlist = dir.file('playlist.mp4');
      writeFileSync(
        playlist,
        `${hlsPlaylist(`file://${fifo}`).replace('#EXT-X-ENDLIST\n', '')}` +
          `#EXTINF:10.0,\nhttp://127.0.0.1:${port}/segment.ts\n` +
          `#EXTINF:10.0,\nfile:///etc/passwd\n#EXT-X-ENDLIST\n`,
      );
      const started = Date.now();
      const code = await failureOf(
        ffmpeg(runner(10_000), { demuxer: 'mov', path: playlist }, ['-f', 'null'], dir.file('x')),
      );
      expect(code).toBe('corrupt_media');
      expect(Date.now() - started).toBeLessThan(5000);
      expect(connections).toBe(0);
      expect(await failureOf(probe(runner(10_000), 'mov', playlist))).toBe('corrupt_media');
      expect(connections).toBe(0);
    });
  });

  const shellLimits = (timeoutMs: number) => ({
    timeoutMs,
    rlimitExecPath: localMediaTools.rlimitExecPath,
  });

  it('runs tools with two malloc arenas, without the settings meant for libvips in this process', async () => {
    const saved = process.env.MALLOC_MMAP_THRESHOLD_;
    process.env.MALLOC_MMAP_THRESHOLD_ = '33554432';
    try {
      const { stdout } = await runTool(
        'sh',
        ['-c', 'echo "${MALLOC_MMAP_THRESHOLD_:-unset} ${MALLOC_ARENA_MAX:-unset} $PATH"'],
        shellLimits(5000),
      );
      expect(stdout.trim()).toBe(`unset 2 ${process.env.PATH}`);
    } finally {
      if (saved === undefined) delete process.env.MALLOC_MMAP_THRESHOLD_;
      else process.env.MALLOC_MMAP_THRESHOLD_ = saved;
    }
  });

  it('runs tools under the address-space cap, with no core dumps', async () => {
    const { stdout } = await runTool('sh', ['-c', 'ulimit -v; ulimit -c'], shellLimits(5000));
    expect(stdout.trim().split('\n')).toEqual([String(TOOL_MEMORY_BYTES / 1024), '0']);
  });

  it('kills a tool at its deadline', async () => {
    const started = Date.now();
    await expect(runTool('sleep', ['10'], shellLimits(200))).rejects.toBeInstanceOf(
      ToolTimeoutError,
    );
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('kills a tool its caller stops, and says it was stopped rather than failed', async () => {
    const stop = new AbortController();
    const started = Date.now();
    const run = runTool('sleep', ['10'], { ...shellLimits(5000), signal: stop.signal });
    setTimeout(() => stop.abort(), 100);
    await expect(run).rejects.toBeInstanceOf(ToolAbortedError);
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
