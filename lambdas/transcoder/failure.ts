/**
 * Permanent processing failures: the upload itself is at fault, so retrying cannot help. The
 * transcoder records them on the media as `failed` with {code, message}; the message is written
 * for the person who uploaded the file. Anything else thrown during processing is an
 * infrastructure problem (S3, DynamoDB) and is rethrown so Lambda retries the event.
 */
export type MediaFailureCode =
  /** Object size is zero. */
  | 'empty_upload'
  /** Object size differs from the size_bytes declared at init. */
  | 'size_mismatch'
  /** Larger than the limit for its declared type. */
  | 'media_too_large'
  /** The object under uploads/ is gone. */
  | 'upload_missing'
  /** The bytes are not an image or video format we process (includes playlists and scripts). */
  | 'unsupported_format'
  /** The bytes are a supported format, but not the one declared at init. */
  | 'content_type_mismatch'
  /** Image dimensions above the pixel cap (decompression bombs end here). */
  | 'image_too_large'
  /** The file is damaged or truncated and cannot be decoded. */
  | 'corrupt_media'
  /** A video or audio stream we do not decode, or no video stream at all. */
  | 'unsupported_codec'
  | 'video_too_long'
  | 'frame_rate_too_high'
  /** Video or animation dimensions above the cap. */
  | 'video_too_large'
  /** A processing step ran out of its time budget, or the media stayed in processing too long. */
  | 'processing_timeout'
  /** Processing crashed repeatedly (e.g. out of memory) or failed for an unexpected reason. */
  | 'processing_error';

export class MediaProcessingError extends Error {
  constructor(
    readonly code: MediaFailureCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'MediaProcessingError';
  }
}

export const mediaFailure = (code: MediaFailureCode, message: string) =>
  new MediaProcessingError(code, message);

/**
 * Runs a local processing step (sharp, ffmpeg, files in the temp dir). Its own failures are the
 * upload's fault or a bug, never an outage, so any unexpected error becomes `processing_error`
 * instead of an endless retry.
 */
export async function asPermanent<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof MediaProcessingError) throw error;
    // The cause (our bug, or a tool we could not run) is logged by processUpload.
    throw new MediaProcessingError(
      'processing_error',
      'The file could not be processed. Try again with a different file.',
      { cause: error },
    );
  }
}
