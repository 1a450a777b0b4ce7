/**
 * Input validation shared by the routes. Every rejection is a typed 4xx; nothing here touches a
 * store, so a request is fully validated before any write.
 */
import { LIMITS } from '../../app/model';
import { badRequest, invalidRequest, notFound } from './errors';
import { isUserId } from './ids';

/** Lone UTF-16 surrogates cannot be stored as UTF-8; in `u` mode a valid pair never matches. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;
/** C0 controls except tab, LF and CR, plus DEL: rejected rather than stored. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}

/**
 * Normalises user text to NFC and checks it: well-formed Unicode, no control characters other
 * than tab/newline, at most `maxCodePoints` code points. Over-long text gets `tooLongCode`.
 */
export function userText(
  value: string,
  field: string,
  maxCodePoints: number,
  tooLongCode: string,
): string {
  // A cheap bound first, so a 1 MB string is refused without normalising it. NFC can compose a
  // few code units into one, never more than 4-fold for real text, so this never refuses valid text.
  if (value.length > maxCodePoints * 4) {
    throw badRequest(tooLongCode, `${field} is longer than ${maxCodePoints} characters`);
  }
  if (LONE_SURROGATE.test(value)) throw invalidRequest(`${field} is not valid Unicode`);
  const normalized = value.normalize('NFC');
  if (CONTROL.test(normalized)) {
    throw invalidRequest(`${field} must not contain control characters`);
  }
  if (codePointLength(normalized) > maxCodePoints) {
    throw badRequest(tooLongCode, `${field} is longer than ${maxCodePoints} characters`);
  }
  return normalized;
}

/** A user id from the path: malformed ids (traversal, over-long, non-ASCII) are a 400. */
export function userIdParam(value: string): string {
  if (!isUserId(value)) throw invalidRequest('user_id is not a valid user id');
  return value;
}

/** The `limit` query parameter: digits only, 1..100; absent means the default. */
export function pageLimit(raw: string | undefined): number {
  if (raw === undefined) return LIMITS.pageDefaultLimit;
  if (!/^[0-9]{1,3}$/.test(raw)) {
    throw invalidRequest(`limit must be an integer from 1 to ${LIMITS.pageMaxLimit}`);
  }
  const limit = Number(raw);
  if (limit < 1 || limit > LIMITS.pageMaxLimit) {
    throw invalidRequest(`limit must be an integer from 1 to ${LIMITS.pageMaxLimit}`);
  }
  return limit;
}

const CURSOR_MAX_CHARS = 512;

/**
 * Encodes an opaque page cursor. Clients must treat it as opaque; the server validates every
 * field when it comes back.
 */
export function encodeCursor(fields: readonly (string | number)[]): string {
  return Buffer.from(fields.join('|'), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor into its fields, strictly: canonical base64url of printable ASCII with the
 * expected number of fields. The caller validates the fields themselves.
 */
export function decodeCursor(raw: string, fieldCount: number): string[] {
  const bad = () => invalidRequest('cursor is not valid');
  if (raw.length === 0 || raw.length > CURSOR_MAX_CHARS || !/^[A-Za-z0-9_-]+$/.test(raw)) {
    throw bad();
  }
  const bytes = Buffer.from(raw, 'base64url');
  if (bytes.toString('base64url') !== raw) throw bad();
  const text = bytes.toString('latin1');
  if (!/^[\x20-\x7E]+$/.test(text)) throw bad();
  const fields = text.split('|');
  if (fields.length !== fieldCount) throw bad();
  return fields;
}

/** A missing tweet and someone else's tweet look the same. */
export const tweetNotFound = () => notFound('tweet_not_found', 'Tweet not found');
export const mediaNotFound = () => notFound('media_not_found', 'Media not found');
