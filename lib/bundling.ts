/**
 * How every function is bundled, declared once: ChirpFunction (NodejsFunction) bundles with these
 * options, and the benchmark (bench/lib/bundle.ts) builds the very same files to measure them.
 *
 * Each function's asset holds two files: `index.js` (the handler) and `aws-sdk.js`, the DynamoDB
 * SDK bundled on its own from lambdas/platform/aws-sdk.ts. The handler imports the second one only
 * when it first talks to DynamoDB (lambdas/platform/document-store.ts), so a cold start that is
 * served from the cache never loads or even compiles the SDK.
 */
export const FUNCTION_BUNDLE = {
  format: 'cjs',
  target: 'node24',
  minify: true,
  // Prefer the packages' ES module builds, which esbuild can tree-shake: the SDK's CommonJS
  // builds drag in every command.
  mainFields: ['module', 'main'],
  sourceMap: true,
  sourcesContent: false,
} as const;

/** The SDK file: its source, and the name it has next to index.js (as the source imports it). */
export const SDK_CHUNK = {
  entry: 'lambdas/platform/aws-sdk.ts',
  fileName: 'aws-sdk.js',
  importPath: './aws-sdk.js',
} as const;

/**
 * Written next to the bundles: without it Node must read a `.js` file loaded by `import()` to
 * guess whether it is CommonJS or an ES module (~65 ms for the SDK file, measured).
 */
export const PACKAGE_JSON = '{"type":"commonjs"}';

/**
 * The shell commands that bundle the SDK file into a function's asset directory (with the
 * project's own esbuild and the same options as the handler) and mark the directory CommonJS.
 */
export function sdkChunkCommands(projectRoot: string, outputDir: string): string[] {
  return [
    sdkChunkCommand(projectRoot, outputDir),
    `echo '${PACKAGE_JSON}' > "${outputDir}/package.json"`,
  ];
}

function sdkChunkCommand(projectRoot: string, outputDir: string): string {
  const args = [
    `"${projectRoot}/node_modules/.bin/esbuild"`,
    `"${projectRoot}/${SDK_CHUNK.entry}"`,
    '--bundle',
    '--platform=node',
    `--format=${FUNCTION_BUNDLE.format}`,
    `--target=${FUNCTION_BUNDLE.target}`,
    ...(FUNCTION_BUNDLE.minify ? ['--minify'] : []),
    `--main-fields=${FUNCTION_BUNDLE.mainFields.join(',')}`,
    ...(FUNCTION_BUNDLE.sourceMap ? ['--sourcemap=external'] : []),
    `--sources-content=${String(FUNCTION_BUNDLE.sourcesContent)}`,
    '--log-level=warning',
    `--outfile="${outputDir}/${SDK_CHUNK.fileName}"`,
  ];
  return args.join(' ');
}
