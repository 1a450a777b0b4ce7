/**
 * Timelines and follows over HTTP: the home timeline (own tweets plus followees', newest first),
 * follow with backfill, unfollow, user timelines paged through DynamoDB, and paging errors.
 */
import {
  errorOf,
  eventually,
  expectError,
  newUser,
  type ErrorBody,
  type TestUser,
  type TweetBody,
} from '../support/api-client';

async function tweet(user: TestUser, text: string): Promise<TweetBody> {
  const response = await user.createTweet({ text });
  expect(response.status).toBe(201);
  return response.body;
}

/** Every page of a timeline (`list`: the home timeline or a user's), following next_cursor. */
async function allPages(list: TestUser['timeline'], limit: number): Promise<TweetBody[][]> {
  const pages: TweetBody[][] = [];
  let cursor: string | null = null;
  do {
    const page: Awaited<ReturnType<typeof list>> = await list(
      cursor !== null ? { limit, cursor } : { limit },
    );
    expect(page.status).toBe(200);
    pages.push(page.body.tweets);
    cursor = page.body.next_cursor;
    expect(pages.length).toBeLessThan(50);
  } while (cursor !== null);
  return pages;
}

const ids = (tweets: TweetBody[]) => tweets.map((t) => t.tweet_id);

describe('follows and home timelines', () => {
  it("shows the caller's own tweets in their home timeline", async () => {
    const solo = newUser('solo');
    const mine = await tweet(solo, 'talking to myself');
    const home = await solo.timeline();
    expect(ids(home.body.tweets)).toContain(mine.tweet_id);
  });

  it('backfills on follow, delivers new tweets, and removes them on unfollow', async () => {
    const author = newUser('author');
    const reader = newUser('reader');
    const older = [
      await tweet(author, 'old 1'),
      await tweet(author, 'old 2'),
      await tweet(author, 'old 3'),
    ];

    expect((await reader.follow(author.id)).status).toBe(204);
    // Following is idempotent.
    expect((await reader.follow(author.id)).status).toBe(204);
    const backfilled = await reader.timeline();
    expect(ids(backfilled.body.tweets)).toEqual(ids(older).reverse());

    const fresh = await tweet(author, 'new one');
    await eventually('the new tweet in the home timeline', async () => {
      const home = await reader.timeline();
      return home.body.tweets[0]?.tweet_id === fresh.tweet_id ? true : undefined;
    });
    const home = await reader.timeline();
    expect(ids(home.body.tweets)).toEqual(
      [fresh, ...older.slice().reverse()].map((t) => t.tweet_id),
    );

    expect((await reader.unfollow(author.id)).status).toBe(204);
    expect((await reader.unfollow(author.id)).status).toBe(204);
    const after = await reader.timeline();
    expect(after.body.tweets).toEqual([]);
  });

  it('refuses to follow yourself with 400', async () => {
    const narcissus = newUser('narcissus');
    const response = await narcissus.follow(narcissus.id);
    expect(response.status).toBe(400);
    expect(typeof errorOf(response).error.code).toBe('string');
  });

  it('pages the home timeline newest first without gaps or repeats', async () => {
    const a = newUser('pa');
    const b = newUser('pb');
    const reader = newUser('preader');
    await reader.follow(a.id);
    await reader.follow(b.id);
    const written: TweetBody[] = [];
    for (let i = 0; i < 12; i++) written.push(await tweet(i % 2 === 0 ? a : b, `tweet ${i}`));
    const expected = ids(written).reverse();
    await eventually('all tweets in the home timeline', async () => {
      const home = await reader.timeline({ limit: 100 });
      return home.body.tweets.length === written.length ? true : undefined;
    });
    const pages = await allPages((query) => reader.timeline(query), 5);
    expect(pages.map((p) => p.length)).toEqual([5, 5, 2]);
    expect(ids(pages.flat())).toEqual(expected);
  });
});

describe('user timelines', () => {
  it("pages a user's complete history newest first", async () => {
    const writer = newUser('writer');
    const reader = newUser('someone');
    const written: TweetBody[] = [];
    for (let i = 0; i < 23; i++) written.push(await tweet(writer, `history ${i}`));
    const pages = await allPages((query) => reader.userTweets(writer.id, query), 10);
    expect(pages.map((p) => p.length)).toEqual([10, 10, 3]);
    expect(ids(pages.flat())).toEqual(ids(written).reverse());
    const defaultPage = await reader.userTweets(writer.id);
    expect(defaultPage.body.tweets).toHaveLength(20);
  });

  it('answers a user without tweets with an empty page, and an unknown id with 404', async () => {
    const reader = newUser('lonely');
    const page = await reader.userTweets(reader.id);
    expect(page.status).toBe(200);
    expect(page.body).toEqual({ tweets: [], next_cursor: null });
    expectError(await reader.userTweets(`nobody-${reader.id}`), 404, 'user_not_found');
  });

  it.each(['/v1/timeline', '/v1/users/someone/tweets'])(
    'rejects bad limits and cursors on %s with 400 invalid_request',
    async (path) => {
      const user = newUser('pager');
      for (const query of [
        'limit=0',
        'limit=101',
        'limit=-1',
        'limit=abc',
        'limit=1e9',
        'cursor=garbage',
        `cursor=${'x'.repeat(5000)}`,
      ]) {
        // Untyped: query strings the contract's types cannot spell (`abc`, `1e9`).
        const response = await user.untyped<ErrorBody>('GET', `${path}?${query}`);
        expect({ query, status: response.status, code: response.body?.error?.code }).toEqual({
          query,
          status: 400,
          code: 'invalid_request',
        });
      }
    },
  );
});
