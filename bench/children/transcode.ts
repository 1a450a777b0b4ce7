/**
 * Runs the transcoder's own image or video path once, in a fresh process, and prints JSON with
 * its wall time and this process's peak RSS. Bundled with esbuild and run by plain node, so the
 * peak RSS is the transcoder's, not a TypeScript loader's.
 *
 *   node transcode.js image|video <input> <outDir> [warmups]
 *
 * With warm-ups, the same path first runs that many times untimed in this process, as in a warm
 * Lambda; `coldMs` is the first run's time either way.
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { processImage, type StillFormat } from '../../lambdas/transcoder/image';
import { readHead, sniffFormat } from '../../lambdas/transcoder/sniff';
import { TOOL_TIMEOUT_MS, mediaToolsFromEnv } from '../../lambdas/transcoder/settings';
import { processVideo } from '../../lambdas/transcoder/video';

async function main(): Promise<void> {
  const [kind, input, outDir, warmupArg] = process.argv.slice(2);
  const warmups = Number(warmupArg ?? 0);
  if ((kind !== 'image' && kind !== 'video') || input === undefined || outDir === undefined) {
    throw new Error('usage: transcode image|video <input> <outDir>');
  }
  // The image's own format (the bench uses JPEG; the hostile-media test a PNG).
  const format = sniffFormat(await readHead(input)) as StillFormat;
  const once = async (dir: string): Promise<number> => {
    const start = process.hrtime.bigint();
    if (kind === 'image') {
      await processImage(input, format, dir);
    } else {
      const tools = mediaToolsFromEnv();
      await processVideo(
        {
          ffmpegPath: tools.ffmpegPath,
          ffprobePath: tools.ffprobePath,
          rlimitExecPath: tools.rlimitExecPath,
          deadline: Date.now() + TOOL_TIMEOUT_MS,
        },
        input,
        dir,
        { maxVideoSeconds: tools.maxVideoSeconds },
      );
    }
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  let coldMs: number | undefined;
  for (let i = 0; i < warmups; i++) {
    const dir = mkdtempSync(join(outDir, 'warmup-'));
    const elapsed = await once(dir);
    coldMs ??= elapsed;
    rmSync(dir, { recursive: true, force: true });
  }
  const ms = await once(outDir);
  coldMs ??= ms;
  const outputs = readdirSync(outDir, { withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map(({ name }) => ({
      name,
      bytes: statSync(join(outDir, name)).size,
    }));
  // resourceUsage().maxRSS is in KiB.
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ ms, coldMs, maxRssMb, outputs })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
