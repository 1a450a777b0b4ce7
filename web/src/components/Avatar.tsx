/**
 * A user's avatar: the square `thumb` variants as <picture> (WebP, JPEG) once ready; while the
 * upload is pending or processing, its blurhash with "processing…", re-read after
 * `check_after_secs` (avatars are readable by anyone); no avatar: the handle's first letter.
 */
import { useEffect, useState } from 'preact/hooks';
import type { Media } from '../../../client';
import { unwrap, type ChirpClient } from '../api';
import { Blurhash } from './MediaView';

export function Avatar({
  media,
  handle,
  api,
  size = 96,
}: {
  media: Media | null;
  handle: string;
  api: ChirpClient;
  size?: number;
}) {
  const [current, setCurrent] = useState(media);
  useEffect(() => setCurrent(media), [media]);

  useEffect(() => {
    if (current?.check_after_secs === undefined) return;
    let cancelled = false;
    const check = async () => {
      try {
        const next = unwrap(
          await api.GET('/v1/media/{media_id}', {
            params: { path: { media_id: current.media_id } },
          }),
        );
        if (!cancelled) setCurrent(next);
      } catch {
        // Shown as still processing; the next page load reads it again.
      }
    };
    const timer = setTimeout(() => void check(), current.check_after_secs * 1000);
    return () => {
      cancelled = true;
      clearTimeout(timer);
    };
  }, [current, api]);

  const box = { width: `${size}px`, height: `${size}px` };
  if (current === null || current.status === 'failed') {
    return (
      <span class="avatar avatar-none" style={box} aria-hidden="true" data-status="none">
        {handle.charAt(0).toUpperCase()}
      </span>
    );
  }
  if (current.status !== 'ready') {
    return (
      <span class="avatar avatar-pending" style={box} data-status={current.status}>
        {current.blurhash !== undefined && (
          <Blurhash hash={current.blurhash} width={1} height={1} />
        )}
        <span class="processing">processing…</span>
      </span>
    );
  }
  const square = current.variants.filter((variant) => variant.name === 'thumb');
  const webp = square.find((variant) => variant.content_type === 'image/webp');
  const jpeg = square.find((variant) => variant.content_type === 'image/jpeg');
  return (
    <picture class="avatar" data-status="ready">
      {webp !== undefined && <source type="image/webp" srcSet={webp.url} />}
      <img src={jpeg?.url} width={size} height={size} alt={`@${handle}`} style={box} />
    </picture>
  );
}
