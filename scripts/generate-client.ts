/**
 * client/schema.d.ts from openapi.yaml (openapi-typescript), formatted as the repository formats
 * TypeScript. `--check` writes nothing and fails when the committed file is not what the document
 * generates (CI runs it through `npm run lint`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import { format, resolveConfig } from 'prettier';

const ROOT = resolve(__dirname, '..');
const SOURCE = resolve(ROOT, 'openapi.yaml');
const TARGET = resolve(ROOT, 'client', 'schema.d.ts');
const HEADER = '// Generated from openapi.yaml by `npm run generate:client`. Do not edit.\n\n';

async function main(): Promise<void> {
  const ast = await openapiTS(new URL(`file://${SOURCE}`));
  const generated = await format(HEADER + astToString(ast), {
    ...(await resolveConfig(TARGET)),
    filepath: TARGET,
  });
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(TARGET, 'utf8');
    } catch {
      // missing: stale
    }
    if (current !== generated) {
      process.stderr.write(
        'client/schema.d.ts is stale: openapi.yaml changed. Run `npm run generate:client` and commit it.\n',
      );
      process.exit(1);
    }
    process.stdout.write('client/schema.d.ts matches openapi.yaml\n');
    return;
  }
  writeFileSync(TARGET, generated);
  process.stdout.write('wrote client/schema.d.ts\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
