/** Media helpers for end-to-end tests: generated images and uploads through presigned URLs. */
import sharp from 'sharp';
import { uploadMedia as uploadWithClient } from '../../client';
import type { AnyUploadBody, InitMediaBody, TestUser } from './api-client';

/** A real PNG of the given size with a gradient-ish fill (so variants are non-trivial). */
export async function generatePng(width = 96, height = 64): Promise<Buffer> {
  const channels = 3;
  const pixels = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * channels;
      pixels[i] = (x * 255) / width;
      pixels[i + 1] = (y * 255) / height;
      pixels[i + 2] = 128;
    }
  }
  return sharp(pixels, { raw: { width, height, channels } }).png().toBuffer();
}

/** PUTs bytes to a presigned URL with exactly the headers the API returned. */
export function upload(
  init: InitMediaBody,
  bytes: Buffer,
  extraHeaders: Record<string, string> = {},
) {
  return fetch(init.upload_url, {
    method: init.upload_method,
    headers: { ...init.upload_headers, ...extraHeaders },
    body: bytes,
  });
}

/** media/init + upload (one PUT) through the generated client; returns the init response. */
export async function uploadMedia(
  user: TestUser,
  bytes: Buffer,
  contentType = 'image/png',
): Promise<InitMediaBody> {
  const init: AnyUploadBody = await uploadWithClient(user.api, { bytes, contentType });
  if (init.upload_method !== 'PUT') throw new Error('expected a single PUT upload');
  return init;
}
