/**
 * ffmpeg, ffprobe and rlimit-exec for the local stack and the tests: the x86-64 build of the very
 * configuration the Lambda layer ships for arm64 (scripts/build-media-layer.sh writes both), so
 * what runs here is what runs on Lambda, not whatever ffmpeg the system has.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const LOCAL_MEDIA_TOOLS_DIR = resolve(__dirname, '..', '.media-tools', 'linux-x64', 'bin');

export const localMediaTools = {
  ffmpegPath: join(LOCAL_MEDIA_TOOLS_DIR, 'ffmpeg'),
  ffprobePath: join(LOCAL_MEDIA_TOOLS_DIR, 'ffprobe'),
  rlimitExecPath: join(LOCAL_MEDIA_TOOLS_DIR, 'rlimit-exec'),
} as const;

/** Throws with the command to run when the build is missing. */
export function assertLocalMediaToolsBuilt(): void {
  const missing = Object.values(localMediaTools).filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(', ')} not built: run \`npm run build:media-layer\` (scripts/build-media-layer.sh)`,
    );
  }
}
