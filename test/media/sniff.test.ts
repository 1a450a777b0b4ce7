import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { checkDeclaredType, sniffFormat } from '../../lambdas/transcoder/sniff';
import { MediaProcessingError } from '../../lambdas/transcoder/failure';
import { animatedGif, hlsPlaylist, pngBomb, tempDir, testClip, twoToneImage } from './fixtures';

const dir = tempDir();
afterAll(() => dir.remove());

const failureCode = (fn: () => void) => {
  try {
    fn();
  } catch (error) {
    if (error instanceof MediaProcessingError) return error.code;
    throw error;
  }
  return undefined;
};

describe('sniffFormat', () => {
  it.each(['jpeg', 'png', 'webp', 'avif', 'gif'] as const)(
    'recognises a %s image by its bytes',
    async (format) => {
      const path = await twoToneImage(32, 24, format, dir.file(`img.${format}`));
      expect(sniffFormat(readFileSync(path))).toBe(format);
    },
  );

  it('recognises MP4 and QuickTime containers', () => {
    const mp4 = testClip(dir.file('clip.mp4'), { size: '64x48', seconds: 0.2 });
    const mov = testClip(dir.file('clip.mov'), {
      size: '64x48',
      seconds: 0.2,
      extra: ['-f', 'mov'],
    });
    expect(sniffFormat(readFileSync(mp4))).toBe('mp4');
    expect(sniffFormat(readFileSync(mov))).toBe('mov');
    expect(sniffFormat(readFileSync(animatedGif(dir.file('anim.gif'))))).toBe('gif');
  });

  it('flags playlists and concat scripts, whatever their leading whitespace', () => {
    expect(sniffFormat(Buffer.from(hlsPlaylist('file:///etc/passwd')))).toBe('hls_playlist');
    expect(sniffFormat(Buffer.from(`\uFEFF\n  ${hlsPlaylist('http://x/a.ts')}`))).toBe(
      'hls_playlist',
    );
    expect(sniffFormat(Buffer.from("ffconcat version 1.0\nfile '/etc/passwd'\n"))).toBe(
      'ffconcat_script',
    );
    expect(sniffFormat(Buffer.from("file '/etc/passwd'\n"))).toBe('ffconcat_script');
  });

  it('calls empty, text and random input what they are', () => {
    expect(sniffFormat(Buffer.alloc(0))).toBe('empty');
    expect(sniffFormat(Buffer.from('hello world'))).toBe('text');
    const noise = randomBytes(4096);
    noise[0] = 0x00; // not accidentally a magic number
    noise[4] = 0x00;
    expect(sniffFormat(noise)).toBe('unknown');
  });
});

describe('checkDeclaredType', () => {
  it('accepts each declared type with its own format, and MP4/QuickTime interchangeably', () => {
    expect(failureCode(() => checkDeclaredType('image/jpeg', 'jpeg'))).toBeUndefined();
    expect(failureCode(() => checkDeclaredType('image/png', 'png'))).toBeUndefined();
    expect(failureCode(() => checkDeclaredType('image/webp', 'webp'))).toBeUndefined();
    expect(failureCode(() => checkDeclaredType('image/gif', 'gif'))).toBeUndefined();
    expect(failureCode(() => checkDeclaredType('video/mp4', 'mov'))).toBeUndefined();
    expect(failureCode(() => checkDeclaredType('video/quicktime', 'mp4'))).toBeUndefined();
  });

  it('fails a PNG declared as image/jpeg as content_type_mismatch (documented choice)', () => {
    expect(failureCode(() => checkDeclaredType('image/jpeg', 'png'))).toBe('content_type_mismatch');
    expect(failureCode(() => checkDeclaredType('image/png', 'gif'))).toBe('content_type_mismatch');
    expect(failureCode(() => checkDeclaredType('video/mp4', 'jpeg'))).toBe('content_type_mismatch');
  });

  it('refuses playlists, scripts, unknown bytes and HEIC as unsupported_format', () => {
    for (const format of ['hls_playlist', 'ffconcat_script', 'text', 'unknown', 'heic'] as const) {
      expect(failureCode(() => checkDeclaredType('video/mp4', format))).toBe('unsupported_format');
    }
    expect(failureCode(() => checkDeclaredType('image/png', 'empty'))).toBe('empty_upload');
  });

  it('sniffs a decompression bomb as the PNG it claims to be (its size is checked later)', () => {
    expect(sniffFormat(pngBomb(40000, 40000))).toBe('png');
  });
});
