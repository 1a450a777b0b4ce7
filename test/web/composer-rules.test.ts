/**
 * The web composer's rules (web/src/rules.ts) against the API's: the web app may not import the
 * backend, so it restates the limits; these tests hold the two together. Text and file rules are
 * compared with the handlers' own parsers on the same inputs (generated, with emoji, combining
 * marks, controls and lone surrogates); media combinations are sent to the running API.
 */
import fc from 'fast-check';
import { LIMITS } from '../../app/model';
import { parseInitMedia } from '../../lambdas/core/media/upload';
import { parseProfileUpdate } from '../../lambdas/core/users/service';
import { parseCreateTweet } from '../../lambdas/core/tweets/service';
import {
  ALT_TEXT_MAX_CODE_POINTS,
  AVATAR_TYPES,
  BIO_MAX_CODE_POINTS,
  codePointCount,
  DISPLAY_NAME_MAX_CODE_POINTS,
  combinationProblem,
  draftProblems,
  fileProblem,
  MAX_MEDIA_PER_TWEET,
  MEDIA_TYPE_MAX_BYTES,
  profileProblems,
  textProblem,
  TWEET_MAX_CODE_POINTS,
} from '../../web/src/rules';
import { errorOf, newUser } from '../support/api-client';

/** The API's message for a call, or undefined when it takes the input. */
function apiRefusal(call: () => unknown): string | undefined {
  try {
    call();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const tweetRefusal = (text: string) => apiRefusal(() => parseCreateTweet({ text, media_ids: [] }));
const altRefusal = (alt: string) =>
  apiRefusal(() => parseInitMedia({ content_type: 'image/jpeg', size_bytes: 1, alt_text: alt }));

/** Text near the limit, from pieces whose length changes under NFC or in UTF-16. */
const piece = fc.constantFrom(
  'a',
  ' ',
  '\n',
  '\t',
  'é', // precomposed
  'e\u0301', // e + combining acute: 2 code points, 1 after NFC
  '\u1100\u1161', // Hangul jamo: compose into one syllable
  '😀', // astral: 2 UTF-16 units, 1 code point
  '👩‍👩‍👧', // ZWJ family: 5 code points
  '🇫🇷', // flag: 2 code points
  'a\u0308\u0301', // two combining marks
  '\u0007', // BEL: a control character
  '\uD83D', // a lone surrogate
);
const textNear = (max: number) =>
  fc.array(piece, { minLength: max - 12, maxLength: max + 12 }).map((parts) => parts.join(''));

describe('the composer counts and refuses text as the API does', () => {
  it('counts code points after NFC', () => {
    expect(codePointCount('😀')).toBe(1);
    expect(codePointCount('e\u0301')).toBe(1);
    expect(codePointCount('👩‍👩‍👧')).toBe(5);
    expect(codePointCount('e\u0301'.repeat(280))).toBe(280);
    expect(textProblem('e\u0301'.repeat(280), 'text', 280)).toBeUndefined();
    expect(textProblem('😀'.repeat(281), 'text', 280)).toBe('text is longer than 280 characters');
  });

  it('agrees with POST /v1/tweets on generated text', () => {
    fc.assert(
      fc.property(textNear(TWEET_MAX_CODE_POINTS), (text) => {
        const web = draftProblems({ text, files: [] })[0];
        expect(web).toBe(tweetRefusal(text));
      }),
      { numRuns: 400 },
    );
  });

  it('agrees with POST /v1/media/init on generated alt text', () => {
    fc.assert(
      fc.property(textNear(ALT_TEXT_MAX_CODE_POINTS), (alt) => {
        expect(textProblem(alt, 'alt_text', ALT_TEXT_MAX_CODE_POINTS)).toBe(altRefusal(alt));
      }),
      { numRuns: 100 },
    );
  });

  it('refuses an empty tweet without media, in the API words', () => {
    expect(draftProblems({ text: '', files: [] })).toEqual([tweetRefusal('')]);
  });
});

describe('the composer refuses files as the API does', () => {
  it('holds the same limits', () => {
    expect(TWEET_MAX_CODE_POINTS).toBe(LIMITS.tweetTextMaxCodePoints);
    expect(ALT_TEXT_MAX_CODE_POINTS).toBe(LIMITS.altTextMaxChars);
    expect(MAX_MEDIA_PER_TWEET).toBe(LIMITS.maxMediaPerTweet);
    expect(MEDIA_TYPE_MAX_BYTES).toEqual(LIMITS.mediaTypes);
  });

  it('agrees with POST /v1/media/init on types and sizes', () => {
    const types = [...Object.keys(LIMITS.mediaTypes), 'image/heic', 'text/plain', '', 'IMAGE/PNG'];
    for (const type of types) {
      const max = LIMITS.mediaTypes[type.toLowerCase()] ?? 1000;
      for (const size of [0, 1, max, max + 1]) {
        const api = apiRefusal(() => parseInitMedia({ content_type: type, size_bytes: size }));
        expect([type, size, fileProblem({ type, size })]).toEqual([type, size, api]);
      }
    }
  });
});

describe('the composer refuses media combinations as the API does', () => {
  const user = newUser('composer');
  const cases: string[][] = [
    ['image/jpeg'],
    ['image/jpeg', 'image/png', 'image/webp', 'image/jpeg'],
    ['image/jpeg', 'image/png', 'image/webp', 'image/jpeg', 'image/png'],
    ['image/gif'],
    ['video/mp4'],
    ['image/gif', 'image/jpeg'],
    ['image/jpeg', 'video/quicktime'],
    ['image/gif', 'image/gif'],
  ];

  it.each(cases.map((types) => [types.join(' + '), types]))('%s', async (_name, types) => {
    const ids: string[] = [];
    for (const type of types) {
      const init = await user.initMedia({
        content_type: type,
        size_bytes: 1000,
      });
      expect(init.status).toBe(201);
      ids.push(init.body.media_id);
    }
    const created = await user.createTweet({ text: 'combination', media_ids: ids });
    const web = combinationProblem(types.map((type) => ({ type, size: 1000 })));
    expect(web).toBe(created.status === 201 ? undefined : errorOf(created).error?.message);
  });
});

describe('the profile editor refuses what PUT /v1/me/profile refuses, in its words', () => {
  const profileRefusal = (body: Record<string, unknown>) =>
    apiRefusal(() => parseProfileUpdate(body));
  const valid = { handle: 'valid_handle', displayName: '', bio: '' };

  it('holds the same limits', () => {
    expect(DISPLAY_NAME_MAX_CODE_POINTS).toBe(LIMITS.displayNameMaxCodePoints);
    expect(BIO_MAX_CODE_POINTS).toBe(LIMITS.bioMaxCodePoints);
    expect([...AVATAR_TYPES]).toEqual(LIMITS.avatarMediaTypes);
  });

  it('agrees on handles', () => {
    for (const handle of ['ab', 'abc', 'a'.repeat(30), 'a'.repeat(31), 'a-b_c', 'ÄBC', 'A_1', '']) {
      expect([handle, profileProblems({ ...valid, handle })[0]]).toEqual([
        handle,
        profileRefusal({ handle }),
      ]);
    }
  });

  it('agrees on generated display names and bios', () => {
    fc.assert(
      fc.property(
        textNear(DISPLAY_NAME_MAX_CODE_POINTS),
        textNear(BIO_MAX_CODE_POINTS),
        (displayName, bio) => {
          expect(profileProblems({ ...valid, displayName })[0]).toBe(
            profileRefusal({ display_name: displayName }),
          );
          expect(profileProblems({ ...valid, bio })[0]).toBe(profileRefusal({ bio }));
        },
      ),
      { numRuns: 300 },
    );
  });
});
