import { readFileSync, writeFileSync } from 'node:fs';
import sharp from 'sharp';
import { processImage } from '../../lambdas/transcoder/image';
import { IMAGE_VARIANTS } from '../../lambdas/transcoder/settings';
import {
  exifTags,
  exifTagsOf,
  pngBomb,
  tagWithExif,
  tempDir,
  twoToneImage,
  failureOf,
} from './fixtures';

const dir = tempDir();
afterAll(() => dir.remove());

const outDir = (_name: string) => dir.subdir();

describe('processImage', () => {
  it.each(['jpeg', 'png', 'webp', 'avif'] as const)(
    'writes WebP and JPEG for every variant from a %s',
    async (format) => {
      const input = await twoToneImage(2400, 1600, format, dir.file(`in-${format}`));
      const result = await processImage(input, format, outDir(`out-${format}`));

      expect({ width: result.width, height: result.height }).toEqual({ width: 2400, height: 1600 });
      expect(result.blurhash).toMatch(/^[0-9A-Za-z#$%*+,\-.:;=?@[\]^_{|}~]{20,40}$/);
      const names = IMAGE_VARIANTS.map((v) => v.name);
      expect(result.files.map((f) => `${f.name}.${f.extension}`).sort()).toEqual(
        names.flatMap((n) => [`${n}.jpg`, `${n}.webp`]).sort(),
      );
      const size = (name: string, ext: string) =>
        result.files.find((f) => f.name === name && f.extension === ext)!;
      expect(size('large', 'webp')).toMatchObject({ width: 2048, height: 1365 });
      expect(size('medium', 'jpg')).toMatchObject({ width: 1200, height: 800 });
      expect(size('small', 'webp')).toMatchObject({ width: 680, height: 453 });
      expect(size('thumb', 'jpg')).toMatchObject({ width: 150, height: 150 });
      for (const file of result.files) {
        const meta = await sharp(file.path).metadata();
        expect(meta.format).toBe(file.extension === 'jpg' ? 'jpeg' : 'webp');
        expect(file.contentType).toBe(file.extension === 'jpg' ? 'image/jpeg' : 'image/webp');
        expect([meta.width, meta.height]).toEqual([file.width, file.height]);
        expect(meta.space).toBe('srgb');
      }
    },
  );

  it('never upscales a small image', async () => {
    const input = await twoToneImage(400, 300, 'png', dir.file('small.png'));
    const result = await processImage(input, 'png', outDir('out-small'));
    for (const file of result.files) {
      expect(file.width).toBeLessThanOrEqual(400);
      expect(file.height).toBeLessThanOrEqual(300);
    }
    expect(result.files.find((f) => f.name === 'large')).toMatchObject({ width: 400, height: 300 });
  });

  it('keeps alpha in WebP and puts JPEG on white', async () => {
    const input = await twoToneImage(200, 200, 'png', dir.file('alpha.png'), { alpha: true });
    const result = await processImage(input, 'png', outDir('out-alpha'));
    const webp = result.files.find((f) => f.name === 'small' && f.extension === 'webp')!;
    const jpeg = result.files.find((f) => f.name === 'small' && f.extension === 'jpg')!;
    expect((await sharp(webp.path).metadata()).hasAlpha).toBe(true);
    const { data } = await sharp(jpeg.path).raw().toBuffer({ resolveWithObject: true });
    // Bottom-left pixel was fully transparent: white in the JPEG.
    const at = (199 * 200 + 0) * 3;
    expect([...data.subarray(at, at + 3)].every((v) => v > 240)).toBe(true);
  });

  it('converts Display P3 and CMYK inputs to sRGB, keeping the colour', async () => {
    const colour = [200, 100, 50];
    const pixels = Buffer.alloc(64 * 64 * 3);
    for (let i = 0; i < pixels.length; i += 3) pixels.set(colour, i);
    const source = () => sharp(pixels, { raw: { width: 64, height: 64, channels: 3 } });
    const p3 = dir.file('p3.jpg');
    await source().withIccProfile('p3').jpeg({ quality: 100 }).toFile(p3);
    const cmyk = dir.file('cmyk.jpg');
    await source().toColourspace('cmyk').jpeg({ quality: 100 }).toFile(cmyk);
    // The stored P3 numbers differ from the sRGB ones: ignoring the profile would shift colours.
    const stored = await sharp(p3, { ignoreIcc: true }).raw().toBuffer();
    expect(Math.abs(stored[0]! - colour[0]!)).toBeGreaterThan(8);

    for (const input of [p3, cmyk]) {
      const result = await processImage(input, 'jpeg', outDir('colour'));
      const small = result.files.find((f) => f.name === 'small' && f.extension === 'jpg')!;
      expect((await sharp(small.path).metadata()).space).toBe('srgb');
      const out = await sharp(small.path).raw().toBuffer();
      const [r, g, b] = [out[0]!, out[1]!, out[2]!];
      expect(Math.abs(r - colour[0]!)).toBeLessThan(12);
      expect(Math.abs(g - colour[1]!)).toBeLessThan(12);
      expect(Math.abs(b - colour[2]!)).toBeLessThan(35); // CMYK round trip loses a little
    }
  });

  it('applies the EXIF orientation and strips GPS, camera and owner tags', async () => {
    const input = await twoToneImage(300, 200, 'jpeg', dir.file('exif.jpg'));
    tagWithExif(input, 6); // stored landscape, shown rotated 90° clockwise
    const before = exifTags(input);
    expect(before['GPS:GPSLatitude']).toBeCloseTo(48.8584);
    expect(before['IFD0:Make']).toBe('FixtureCam');

    const result = await processImage(input, 'jpeg', outDir('out-exif'));
    expect({ width: result.width, height: result.height }).toEqual({ width: 200, height: 300 });
    const outputs = exifTagsOf(result.files.map((f) => f.path));
    expect(outputs).toHaveLength(result.files.length);
    for (const tags of outputs) {
      expect(JSON.stringify(tags)).not.toMatch(
        /GPS|FixtureCam|FX-1|Fixture Owner|SN123456|Orientation/,
      );
    }
    // The stored left (red) half is the top after rotating 90° clockwise.
    const large = result.files.find((f) => f.name === 'large' && f.extension === 'jpg')!;
    expect(large).toMatchObject({ width: 200, height: 300 });
    const { data } = await sharp(large.path).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [
      ...data.subarray((y * 200 + x) * 3, (y * 200 + x) * 3 + 3),
    ];
    expect(pixel(100, 20)[0]).toBeGreaterThan(150); // red on top
    expect(pixel(100, 280)[2]).toBeGreaterThan(150); // blue at the bottom
  });

  it('fails a PNG that declares 40000x40000 pixels fast, as image_too_large', async () => {
    const input = dir.file('bomb.png');
    writeFileSync(input, pngBomb(40000, 40000));
    const started = Date.now();
    expect(await failureOf(processImage(input, 'png', outDir('out-bomb')))).toBe('image_too_large');
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('fails a truncated JPEG as corrupt_media', async () => {
    const full = await twoToneImage(800, 600, 'jpeg', dir.file('whole.jpg'));
    const bytes = readFileSync(full);
    const input = dir.file('truncated.jpg');
    writeFileSync(input, bytes.subarray(0, Math.floor(bytes.length / 2)));
    expect(await failureOf(processImage(input, 'jpeg', outDir('out-trunc')))).toBe('corrupt_media');
  });

  it('fails bytes that do not decode as the sniffed format as corrupt_media', async () => {
    const input = dir.file('fake.png');
    writeFileSync(input, Buffer.concat([pngBomb(10, 10).subarray(0, 8), Buffer.alloc(100, 7)]));
    expect(await failureOf(processImage(input, 'png', outDir('out-fake')))).toBe('corrupt_media');
  });
});
