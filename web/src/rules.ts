/**
 * The composer's rules: what the API refuses, refused here first with the API's own words, so a
 * person learns it before uploading anything. The API is the authority (it checks again); these
 * mirror app/model.ts LIMITS and lambdas/core validation, which the web app may not import.
 * test/web/composer-rules.test.ts runs both on the same inputs and fails if they disagree.
 * Plain TypeScript, no DOM: the unit tests run it in Node.
 */
import type { Media } from '../../client';

export const TWEET_MAX_CODE_POINTS = 280;
export const ALT_TEXT_MAX_CODE_POINTS = 1000;
export const MAX_MEDIA_PER_TWEET = 4;
export const DISPLAY_NAME_MAX_CODE_POINTS = 50;
export const BIO_MAX_CODE_POINTS = 160;
/** Avatar upload types: still images (the API answers `avatar_not_image` for others). */
export const AVATAR_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
const HANDLE = /^[A-Za-z0-9_]{3,30}$/;

/**
 * Accepted upload types and their size limits in bytes. Keyed by the contract's Media content
 * types, so a type added to openapi.yaml (and the generated client) fails the type check here.
 */
export const MEDIA_TYPE_MAX_BYTES: Readonly<Record<Media['content_type'], number>> = {
  'image/jpeg': 16 * 1024 * 1024,
  'image/png': 16 * 1024 * 1024,
  'image/webp': 16 * 1024 * 1024,
  'image/gif': 15 * 1024 * 1024,
  'video/mp4': 512 * 1024 * 1024,
  'video/quicktime': 512 * 1024 * 1024,
};

const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Code points after NFC, as the API counts (an emoji is 1, e + combining acute is 1). */
export function codePointCount(text: string): number {
  let count = 0;
  for (const _ of text.normalize('NFC')) count++;
  return count;
}

/** The API's refusal of a user text field, or undefined if it would take it. */
export function textProblem(text: string, field: string, max: number): string | undefined {
  if (LONE_SURROGATE.test(text)) return `${field} is not valid Unicode`;
  const normalized = text.normalize('NFC');
  if (CONTROL.test(normalized)) return `${field} must not contain control characters`;
  if (codePointCount(normalized) > max) return `${field} is longer than ${max} characters`;
  return undefined;
}

export interface DraftFile {
  /** The browser's type for the file ('' when it does not know). */
  readonly type: string;
  readonly size: number;
}

const isSingleOnly = (type: string) => type === 'image/gif' || type.startsWith('video/');

/** The API's refusal of one file at POST /v1/media/init, or undefined. */
export function fileProblem(file: DraftFile): string | undefined {
  const type = file.type.toLowerCase();
  const max = Object.hasOwn(MEDIA_TYPE_MAX_BYTES, type)
    ? MEDIA_TYPE_MAX_BYTES[type as Media['content_type']]
    : undefined;
  if (max === undefined) {
    return `content_type must be one of ${Object.keys(MEDIA_TYPE_MAX_BYTES).join(', ')}`;
  }
  if (file.size < 1) return 'size_bytes must be a positive integer';
  if (file.size > max) return `${type} uploads are limited to ${max} bytes`;
  return undefined;
}

/** The API's refusal of this set of files on one tweet (POST /v1/tweets), or undefined. */
export function combinationProblem(files: readonly DraftFile[]): string | undefined {
  if (files.length > MAX_MEDIA_PER_TWEET) {
    return `A tweet has at most ${MAX_MEDIA_PER_TWEET} media`;
  }
  if (files.length > 1 && files.some((file) => isSingleOnly(file.type.toLowerCase()))) {
    return 'A GIF or video must be the only media of its tweet';
  }
  return undefined;
}

export interface Draft {
  readonly text: string;
  readonly files: readonly (DraftFile & { readonly altText: string })[];
}

/** Every refusal the API would give this draft, first the text's, then the media's. */
export function draftProblems(draft: Draft): string[] {
  const problems: string[] = [];
  const text = textProblem(draft.text, 'text', TWEET_MAX_CODE_POINTS);
  if (text !== undefined) problems.push(text);
  if (draft.text.length === 0 && draft.files.length === 0) {
    problems.push('text may be empty only when media is attached');
  }
  const combination = combinationProblem(draft.files);
  if (combination !== undefined) problems.push(combination);
  for (const file of draft.files) {
    const problem =
      fileProblem(file) ?? textProblem(file.altText, 'alt_text', ALT_TEXT_MAX_CODE_POINTS);
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}

export interface ProfileDraft {
  readonly handle: string;
  readonly displayName: string;
  readonly bio: string;
}

/** Every refusal PUT /v1/me/profile would give these fields, in the API's words. */
export function profileProblems(draft: ProfileDraft): string[] {
  const problems: string[] = [];
  if (!HANDLE.test(draft.handle)) {
    problems.push('A handle is 3 to 30 letters, digits or underscores');
  }
  const name =
    textProblem(draft.displayName, 'display_name', DISPLAY_NAME_MAX_CODE_POINTS) ??
    (/[\r\n\t]/.test(draft.displayName.normalize('NFC').trim())
      ? 'display_name must be one line'
      : undefined);
  if (name !== undefined) problems.push(name);
  const bio = textProblem(draft.bio, 'bio', BIO_MAX_CODE_POINTS);
  if (bio !== undefined) problems.push(bio);
  return problems;
}
