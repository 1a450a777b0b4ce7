/**
 * Format sniffing from magic bytes. The declared content type and the file name are the client's
 * claims; only the bytes decide which decoder (and which ffmpeg demuxer) ever sees the file.
 */
import { open } from 'node:fs/promises';
import { mediaFailure } from './failure';

export type SniffedFormat =
  | 'jpeg'
  | 'png'
  | 'webp'
  | 'gif'
  | 'avif'
  | 'heic'
  | 'mp4'
  | 'mov'
  // Recognised only to be refused, with a precise message.
  | 'hls_playlist'
  | 'ffconcat_script'
  | 'text'
  | 'empty'
  | 'unknown';

/** How many leading bytes sniffing needs. */
export const SNIFF_BYTES = 4096;

const ascii = (bytes: Uint8Array, start: number, end: number) =>
  String.fromCharCode(...bytes.subarray(start, end));

const startsWith = (bytes: Uint8Array, magic: readonly number[], offset = 0) =>
  bytes.length >= offset + magic.length && magic.every((b, i) => bytes[offset + i] === b);

const HEIC_BRANDS = new Set(['heic', 'heix', 'heim', 'heis', 'hevc', 'hevx', 'mif1', 'msf1']);
const AVIF_BRANDS = new Set(['avif', 'avis']);
/** Atoms a classic QuickTime file may start with when it has no ftyp. */
const QUICKTIME_ATOMS = new Set(['moov', 'mdat', 'wide', 'free', 'skip', 'pnot']);

export function sniffFormat(head: Uint8Array): SniffedFormat {
  if (head.length === 0) return 'empty';
  if (startsWith(head, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(head, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (head.length >= 6 && /^GIF8[79]a$/.test(ascii(head, 0, 6))) return 'gif';
  if (head.length >= 12 && ascii(head, 0, 4) === 'RIFF' && ascii(head, 8, 12) === 'WEBP') {
    return 'webp';
  }
  if (head.length >= 12 && ascii(head, 4, 8) === 'ftyp') {
    const brands = [ascii(head, 8, 12)];
    const boxSize = Buffer.from(head.buffer, head.byteOffset, head.length).readUInt32BE(0);
    for (let at = 16; at + 4 <= Math.min(boxSize, head.length); at += 4) {
      brands.push(ascii(head, at, at + 4));
    }
    const major = brands[0] ?? '';
    if (AVIF_BRANDS.has(major)) return 'avif';
    if (HEIC_BRANDS.has(major)) {
      return brands.some((b) => AVIF_BRANDS.has(b)) && !brands.includes('heic') ? 'avif' : 'heic';
    }
    return major === 'qt  ' ? 'mov' : 'mp4';
  }
  if (head.length >= 8 && QUICKTIME_ATOMS.has(ascii(head, 4, 8))) return 'mov';
  const text = Buffer.from(head.buffer, head.byteOffset, head.length)
    .toString('latin1')
    .replace(/^\uFEFF|^\u00EF\u00BB\u00BF/, '')
    .trimStart();
  if (text.startsWith('#EXTM3U') || /#EXT-X-|#EXTINF/.test(text)) return 'hls_playlist';
  if (text.startsWith('ffconcat') || /^\s*file\s+['"]?[\w/.:-]/m.test(text)) {
    return 'ffconcat_script';
  }
  // eslint-disable-next-line no-control-regex
  if (!/[\x00-\x08\x0e-\x1f]/.test(text)) return 'text';
  return 'unknown';
}

export async function readHead(path: string, bytes = SNIFF_BYTES): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(buffer, 0, bytes, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/**
 * Which sniffed formats each declared type accepts. A mismatch fails (`content_type_mismatch`)
 * rather than being processed as what the bytes really are: the declared type already decided
 * the upload's size limit and the tweet's media rules (one GIF or video per tweet), and a client
 * that mislabels files should hear about it. MP4 and QuickTime are one container family (ISO
 * BMFF, one demuxer), so either video type accepts either.
 *
 * image/avif and image/heic are listed so the pipeline is ready if the API starts accepting them;
 * HEIC itself needs an HEVC decoder that sharp's prebuilt libvips does not ship.
 */
const ACCEPTED: Readonly<Record<string, readonly SniffedFormat[]>> = {
  'image/jpeg': ['jpeg'],
  'image/png': ['png'],
  'image/webp': ['webp'],
  'image/gif': ['gif'],
  'image/avif': ['avif'],
  'image/heic': ['heic'],
  'video/mp4': ['mp4', 'mov'],
  'video/quicktime': ['mov', 'mp4'],
};

const DESCRIPTION: Readonly<Record<SniffedFormat, string>> = {
  jpeg: 'a JPEG image',
  png: 'a PNG image',
  webp: 'a WebP image',
  gif: 'a GIF',
  avif: 'an AVIF image',
  heic: 'a HEIC image',
  mp4: 'an MP4 video',
  mov: 'a QuickTime video',
  hls_playlist: 'an HLS playlist',
  ffconcat_script: 'a concat script',
  text: 'a text file',
  empty: 'an empty file',
  unknown: 'not a recognised image or video',
};

/** Formats the pipeline can decode, by the bytes alone. */
const PROCESSABLE = new Set<SniffedFormat>(['jpeg', 'png', 'webp', 'gif', 'avif', 'mp4', 'mov']);

/** Checks the sniffed format against the declared type; throws a client-readable failure. */
export function checkDeclaredType(declared: string, sniffed: SniffedFormat): void {
  if (sniffed === 'empty') throw mediaFailure('empty_upload', 'The uploaded file is empty.');
  if (!PROCESSABLE.has(sniffed)) {
    const what = DESCRIPTION[sniffed];
    throw mediaFailure(
      'unsupported_format',
      sniffed === 'unknown'
        ? 'The file is not a supported image or video.'
        : `The file is ${what}, which is not supported.`,
    );
  }
  if (!(ACCEPTED[declared] ?? []).includes(sniffed)) {
    throw mediaFailure(
      'content_type_mismatch',
      `The file was declared as ${declared} but is ${DESCRIPTION[sniffed]}.`,
    );
  }
}
