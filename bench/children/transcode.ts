/**
 * Runs the transcoder's own image or video path once, in a fresh process, and prints JSON with
 * its wall time and this process's peak RSS. Bundled with esbuild and run by plain node, so the
 * peak RSS is the transcoder's, not a TypeScript loader's.
 *
 *   node transcode.js image|video <input> <outDir>
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { processImage } from '../../lambdas/media/image';
import { TOOL_TIMEOUT_MS, mediaToolsFromEnv } from '../../lambdas/media/settings';
import { processVideo } from '../../lambdas/media/video';

async function main(): Promise<void> {
  const [kind, input, outDir] = process.argv.slice(2);
  if ((kind !== 'image' && kind !== 'video') || input === undefined || outDir === undefined) {
    throw new Error('usage: transcode image|video <input> <outDir>');
  }
  const start = process.hrtime.bigint();
  if (kind === 'image') {
    await processImage(input, 'jpeg', outDir);
  } else {
    const tools = mediaToolsFromEnv();
    await processVideo(
      {
        ffmpegPath: tools.ffmpegPath,
        ffprobePath: tools.ffprobePath,
        deadline: Date.now() + TOOL_TIMEOUT_MS,
      },
      input,
      outDir,
      { maxVideoSeconds: tools.maxVideoSeconds },
    );
  }
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const outputs = readdirSync(outDir).map((name) => ({
    name,
    bytes: statSync(join(outDir, name)).size,
  }));
  // resourceUsage().maxRSS is in KiB.
  const maxRssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify({ ms, maxRssMb, outputs })}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
