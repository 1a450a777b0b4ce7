/** What a processing step leaves in its temp dir, before storage gives the files their keys. */
export interface OutputFile {
  /** Variant name (large, medium, small, thumb, video, poster). */
  readonly name: string;
  readonly path: string;
  readonly extension: 'webp' | 'jpg' | 'mp4';
  readonly contentType: 'image/webp' | 'image/jpeg' | 'video/mp4';
  readonly width: number;
  readonly height: number;
  readonly bytes: number;
}

export interface ProcessedMedia {
  /** Display dimensions of the largest output. */
  readonly width: number;
  readonly height: number;
  readonly durationMs?: number;
  readonly blurhash: string;
  readonly files: readonly OutputFile[];
}
