/**
 * Bundles entry files with esbuild exactly as ChirpFunction (NodejsFunction) does: the options
 * come from lib/bundling.ts, which the construct also reads, including the SDK file
 * (aws-sdk.js) that every function asset carries next to index.js.
 */
import { build } from 'esbuild';
import { statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { FUNCTION_BUNDLE, PACKAGE_JSON, SDK_CHUNK } from '../../lib/bundling';

export interface Bundle {
  readonly file: string;
  readonly bytes: number;
  /** The SDK file beside it, loaded on the first DynamoDB call. */
  readonly sdkBytes: number;
}

const REPO_ROOT = resolve(__dirname, '../..');

async function esbuild(entry: string, outfile: string, external: readonly string[]) {
  await build({
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: FUNCTION_BUNDLE.target,
    format: FUNCTION_BUNDLE.format,
    minify: FUNCTION_BUNDLE.minify,
    mainFields: [...FUNCTION_BUNDLE.mainFields],
    sourcemap: FUNCTION_BUNDLE.sourceMap ? 'external' : false,
    sourcesContent: FUNCTION_BUNDLE.sourcesContent,
    external: [...external],
    outfile,
    logLevel: 'error',
  });
}

export async function bundleLikeCdk(
  entry: string,
  outDir: string,
  external: readonly string[] = [],
): Promise<Bundle> {
  const file = join(outDir, 'index.js');
  const sdkFile = join(outDir, SDK_CHUNK.fileName);
  await esbuild(entry, file, [SDK_CHUNK.importPath, ...external]);
  await esbuild(join(REPO_ROOT, SDK_CHUNK.entry), sdkFile, []);
  writeFileSync(join(outDir, 'package.json'), `${PACKAGE_JSON}\n`);
  return { file, bytes: statSync(file).size, sdkBytes: statSync(sdkFile).size };
}
