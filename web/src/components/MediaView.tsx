/**
 * One media item of a tweet. Until it is final: its blurhash at the media's aspect ratio with a
 * "processing…" label, re-read after `check_after_secs`; then, in place: images as <picture> with
 * WebP and JPEG srcsets, GIFs as a muted looping inline video, videos with poster and controls;
 * failed media show the API's message.
 */
import { decode } from 'blurhash';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { Media } from '../../../client';
import { errorMessage, unwrap, type ChirpClient } from '../api';
import { knownSize } from '../local-sizes';

/** The layout width a tweet's media takes: the whole column on a phone, 600 px at most. */
export const MEDIA_SIZES = '(max-width: 640px) 100vw, 600px';

export function Blurhash({ hash, width, height }: { hash: string; width: number; height: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const element = canvas.current;
    if (element === null) return;
    // Decoded small and stretched by CSS: a blur does not need more pixels.
    const w = 32;
    const h = Math.max(1, Math.round((32 * height) / width));
    element.width = w;
    element.height = h;
    const context = element.getContext('2d');
    if (context === null) return;
    const image = context.createImageData(w, h);
    image.data.set(decode(hash, w, h));
    context.putImageData(image, 0, 0);
  }, [hash, width, height]);
  return <canvas ref={canvas} class="blurhash" aria-hidden="true" />;
}

function srcset(media: Media, type: string): string {
  return media.variants
    .filter((variant) => variant.content_type === type)
    .sort((a, b) => a.width - b.width)
    .map((variant) => `${variant.url} ${variant.width}w`)
    .join(', ');
}

function Ready({ media }: { media: Media }) {
  const alt = media.alt_text ?? '';
  const video = media.variants.find((variant) => variant.name === 'video');
  const poster = media.variants.find((variant) => variant.name === 'poster');
  if (video !== undefined) {
    const gif = media.content_type === 'image/gif';
    return (
      <video
        class="media-video"
        src={video.url}
        poster={poster?.url}
        width={video.width}
        height={video.height}
        aria-label={alt || (gif ? 'GIF' : 'video')}
        preload="metadata"
        playsInline
        {...(gif ? { muted: true, loop: true, autoplay: true } : { controls: true })}
        data-kind={gif ? 'gif' : 'video'}
      />
    );
  }
  const jpegs = media.variants
    .filter((variant) => variant.content_type === 'image/jpeg')
    .sort((a, b) => a.width - b.width);
  const fallback = jpegs.find((variant) => variant.width >= 600) ?? jpegs.at(-1);
  return (
    <picture>
      <source type="image/webp" srcSet={srcset(media, 'image/webp')} sizes={MEDIA_SIZES} />
      <img
        class="media-image"
        src={fallback?.url}
        srcSet={srcset(media, 'image/jpeg')}
        sizes={MEDIA_SIZES}
        width={media.width}
        height={media.height}
        alt={alt}
        loading="lazy"
        decoding="async"
      />
    </picture>
  );
}

export function MediaView({ initial, api }: { initial: Media; api: ChirpClient }) {
  const [media, setMedia] = useState(initial);
  const [pollError, setPollError] = useState<string>();

  useEffect(() => setMedia(initial), [initial]);

  useEffect(() => {
    if (media.check_after_secs === undefined) return;
    let cancelled = false;
    const check = async () => {
      try {
        const next = unwrap(
          await api.GET('/v1/media/{media_id}', {
            params: { path: { media_id: media.media_id } },
          }),
        );
        if (!cancelled) setMedia(next);
      } catch (error) {
        if (!cancelled) setPollError(errorMessage(error));
      }
    };
    const timer = setTimeout(() => void check(), media.check_after_secs * 1000);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [media, api]);

  // The API's size once known; before that the picked file's (if this browser posted it), else 16:9.
  const local = knownSize(media.media_id);
  const width = media.width ?? local?.width ?? 16;
  const height = media.height ?? local?.height ?? 9;
  if (media.status === 'ready') {
    return (
      <figure class="media" data-status="ready">
        <Ready media={media} />
      </figure>
    );
  }
  if (media.status === 'failed') {
    return (
      <figure class="media media-failed" data-status="failed" role="alert">
        {media.failure?.message ?? 'This media could not be processed.'}
      </figure>
    );
  }
  return (
    <figure
      class="media media-pending"
      data-status={media.status}
      style={{ aspectRatio: `${width} / ${height}` }}
    >
      {media.blurhash !== undefined && (
        <Blurhash hash={media.blurhash} width={width} height={height} />
      )}
      <figcaption class="processing" aria-live="polite">
        {pollError ?? 'processing…'}
        {media.alt_text ? <span class="visually-hidden"> {media.alt_text}</span> : null}
      </figcaption>
    </figure>
  );
}
