import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { assertLayerBuilt, MEDIA_TOOLS_LAYER_DIR } from '../../lib/constructs/transcoder';

describe('media-tools layer guard', () => {
  let unbuilt: string;
  beforeAll(() => {
    // A fresh clone: the layer's package files, no node_modules.
    unbuilt = fs.mkdtempSync(path.join(os.tmpdir(), 'chirp-layer-'));
    fs.mkdirSync(path.join(unbuilt, 'nodejs'));
    fs.copyFileSync(
      path.join(MEDIA_TOOLS_LAYER_DIR, 'nodejs', 'package.json'),
      path.join(unbuilt, 'nodejs', 'package.json'),
    );
  });
  afterAll(() => fs.rmSync(unbuilt, { recursive: true, force: true }));

  it('fails a bundling synth without the layer, naming the command that builds it', () => {
    expect(() => assertLayerBuilt(unbuilt, true)).toThrow(/npm run build:media-layer/);
  });

  it('lets synths that skip bundling go on without it', () => {
    expect(() => assertLayerBuilt(unbuilt, false)).not.toThrow();
  });

  it('accepts the built layer', () => {
    expect(() => assertLayerBuilt(MEDIA_TOOLS_LAYER_DIR, true)).not.toThrow();
  });
});
