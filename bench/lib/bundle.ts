/** Bundles entry files with esbuild the way the CDK's ChirpFunction (NodejsFunction) does. */
import { build } from 'esbuild';
import { statSync } from 'node:fs';
import { join } from 'node:path';

export interface Bundle {
  readonly file: string;
  readonly bytes: number;
}

/**
 * lib/constructs/chirp-function.ts bundles: format cjs, platform node, target node24, minified,
 * external source map without sources content, and (by default) no externals: the SDK is bundled.
 */
export async function bundleLikeCdk(
  entry: string,
  outDir: string,
  external: readonly string[] = [],
): Promise<Bundle> {
  const file = join(outDir, 'index.js');
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node24',
    format: 'cjs',
    minify: true,
    sourcemap: 'external',
    sourcesContent: false,
    external: [...external],
    outfile: file,
    logLevel: 'error',
  });
  return { file, bytes: statSync(file).size };
}
