/**
 * Sizes of the files this browser just uploaded, by media id: the API knows a media's size only
 * once the transcoder has read it, so until then the poster's own "processing…" placeholder takes
 * its aspect ratio from the file it picked.
 */
export interface Size {
  readonly width: number;
  readonly height: number;
}

const sizes = new Map<string, Size>();

export const rememberSize = (mediaId: string, size: Size) => sizes.set(mediaId, size);
export const knownSize = (mediaId: string): Size | undefined => sizes.get(mediaId);

/** The pixel size of a picked image or video, read by the browser (undefined if it cannot). */
export function measure(file: File, url: string): Promise<Size | undefined> {
  return new Promise((done) => {
    if (file.type.startsWith('video/')) {
      const video = document.createElement('video');
      video.preload = 'metadata';
      video.onloadedmetadata = () => done({ width: video.videoWidth, height: video.videoHeight });
      video.onerror = () => done(undefined);
      video.src = url;
    } else {
      const image = new Image();
      image.onload = () => done({ width: image.naturalWidth, height: image.naturalHeight });
      image.onerror = () => done(undefined);
      image.src = url;
    }
  });
}
