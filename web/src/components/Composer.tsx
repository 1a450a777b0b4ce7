/**
 * Compose: text with a live counter (code points after NFC, as the API counts), up to 4 images or
 * one GIF or one video with previews and alt text. What the API would refuse is refused here with
 * its words (../rules.ts). Each file goes straight to its presigned URL (XMLHttpRequest, with
 * progress); the tweet is posted as soon as the PUTs finish, without waiting for processing.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { uploadMedia, type Tweet } from '../../../client';
import { errorMessage, unwrap, type ChirpClient } from '../api';
import { measure, rememberSize, type Size } from '../local-sizes';
import {
  ALT_TEXT_MAX_CODE_POINTS,
  codePointCount,
  draftProblems,
  fileProblem,
  MAX_MEDIA_PER_TWEET,
  TWEET_MAX_CODE_POINTS,
} from '../rules';

interface Attachment {
  readonly key: string;
  readonly file: File;
  readonly preview: string;
  altText: string;
  progress: number;
  size?: Size | undefined;
}

let nextKey = 0;

export function Composer({
  api,
  onPosted,
}: {
  api: ChirpClient;
  onPosted: (tweet: Tweet) => void;
}) {
  const [text, setText] = useState('');
  const [attachments, setAttachments] = useState<Attachment[]>([]);
  const [posting, setPosting] = useState(false);
  const [error, setError] = useState<string>();
  const picker = useRef<HTMLInputElement>(null);

  useEffect(
    () => () => attachments.forEach((attachment) => URL.revokeObjectURL(attachment.preview)),
    [],
  );

  const count = codePointCount(text);
  const problems = draftProblems({
    text,
    files: attachments.map(({ file, altText }) => ({ type: file.type, size: file.size, altText })),
  });
  // An empty draft is not worth shouting about; the button is just disabled.
  const shownProblems = problems.filter(
    (problem) => !(problem.startsWith('text may be empty') && text === ''),
  );

  const add = (list: FileList | null) => {
    setError(undefined);
    for (const file of Array.from(list ?? [])) {
      const problem = fileProblem(file);
      if (problem !== undefined) {
        setError(`${file.name}: ${problem}`);
        continue;
      }
      const key = String(nextKey++);
      const preview = URL.createObjectURL(file);
      setAttachments((old) => [...old, { key, file, preview, altText: '', progress: 0 }]);
      void measure(file, preview).then((size) => update(key, { size }));
    }
    if (picker.current !== null) picker.current.value = '';
  };

  const update = (key: string, change: Partial<Attachment>) =>
    setAttachments((old) => old.map((a) => (a.key === key ? { ...a, ...change } : a)));

  const remove = (key: string) =>
    setAttachments((old) => {
      const gone = old.find((a) => a.key === key);
      if (gone !== undefined) URL.revokeObjectURL(gone.preview);
      return old.filter((a) => a.key !== key);
    });

  const submit = async (event: Event) => {
    event.preventDefault();
    if (problems.length > 0 || posting) return;
    setPosting(true);
    setError(undefined);
    try {
      const uploads = await Promise.all(
        attachments.map((attachment) =>
          uploadMedia(
            api,
            {
              bytes: attachment.file,
              contentType: attachment.file.type,
              ...(attachment.altText !== '' ? { altText: attachment.altText } : {}),
            },
            {
              onProgress: ({ loaded, total }) =>
                update(attachment.key, { progress: total > 0 ? loaded / total : 0 }),
            },
          ),
        ),
      );
      uploads.forEach((upload, index) => {
        const size = attachments[index]?.size;
        if (size !== undefined) rememberSize(upload.media_id, size);
      });
      const tweet = unwrap(
        await api.POST('/v1/tweets', {
          body: {
            text,
            ...(uploads.length > 0 ? { media_ids: uploads.map((u) => u.media_id) } : {}),
          },
          // A retry after Retry-After (or a lost answer) posts the same tweet, not a second one.
          params: { header: { 'Idempotency-Key': crypto.randomUUID() } },
        }),
      );
      attachments.forEach((attachment) => URL.revokeObjectURL(attachment.preview));
      setAttachments([]);
      setText('');
      onPosted(tweet);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setPosting(false);
    }
  };

  const over = count > TWEET_MAX_CODE_POINTS;
  return (
    <form class="composer" onSubmit={(event) => void submit(event)} aria-label="Compose a tweet">
      <label for="compose-text" class="visually-hidden">
        What is happening?
      </label>
      <textarea
        id="compose-text"
        value={text}
        placeholder="What is happening?"
        rows={3}
        onInput={(event) => setText(event.currentTarget.value)}
        aria-describedby="compose-count"
      />
      <div class="composer-bar">
        <span id="compose-count" class={over ? 'count over' : 'count'} aria-live="polite">
          {count}/{TWEET_MAX_CODE_POINTS}
        </span>
        <label class="button secondary">
          Add media
          <input
            ref={picker}
            type="file"
            class="visually-hidden"
            accept="image/jpeg,image/png,image/webp,image/gif,video/mp4,video/quicktime"
            multiple
            disabled={attachments.length >= MAX_MEDIA_PER_TWEET}
            onChange={(event) => add(event.currentTarget.files)}
          />
        </label>
        <button type="submit" disabled={problems.length > 0 || posting}>
          {posting ? 'Posting…' : 'Post'}
        </button>
      </div>
      {attachments.length > 0 && (
        <ul class="attachments">
          {attachments.map((attachment, index) => (
            <li key={attachment.key}>
              {attachment.file.type.startsWith('video/') ? (
                <video src={attachment.preview} muted class="preview" aria-hidden="true" />
              ) : (
                <img src={attachment.preview} alt="" class="preview" />
              )}
              <label>
                Alt text for media {index + 1}
                <input
                  type="text"
                  value={attachment.altText}
                  maxLength={ALT_TEXT_MAX_CODE_POINTS * 2}
                  onInput={(event) =>
                    update(attachment.key, { altText: event.currentTarget.value })
                  }
                />
              </label>
              {posting ? (
                <progress
                  max={1}
                  value={attachment.progress}
                  aria-label={`Upload of media ${index + 1}`}
                />
              ) : (
                <button type="button" class="link" onClick={() => remove(attachment.key)}>
                  Remove media {index + 1}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {[...shownProblems, ...(error !== undefined ? [error] : [])].map((message) => (
        <p class="error" role="alert" key={message}>
          {message}
        </p>
      ))}
    </form>
  );
}
