import * as fs from 'node:fs';
import { synthChirp } from './synth';

/**
 * Asset hashes change with every handler edit, and asset paths with the checkout's location; the
 * template's shape is what this guards.
 */
function scrubAssetHashes(template: unknown): unknown {
  return JSON.parse(
    JSON.stringify(template)
      .replace(/[0-9a-f]{64}(\.zip)?/g, (_hash, zip: string | undefined) =>
        zip ? '<asset>.zip' : '<asset-hash>',
      )
      .replace(/"aws:asset:path":"[^"]*"/g, '"aws:asset:path":"<asset-path>"'),
  );
}

it('matches the template snapshot (asset hashes scrubbed)', () => {
  const { template, outdir } = synthChirp();
  try {
    expect(scrubAssetHashes(template.toJSON())).toMatchSnapshot();
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
