/**
 * Redis is only a cache: with redis-server killed mid-test every route still answers correctly
 * from DynamoDB, and once it comes back (empty) timelines are rebuilt with nothing lost.
 */
import { eventually, newUser, type PageBody, type TweetBody } from '../support/api-client';
import { stackStatus, startRedis, stopRedis } from '../support/env';

const ids = (page: PageBody) => page.tweets.map((t) => t.tweet_id);

describe('Redis stopped in the middle of a test', () => {
  afterAll(async () => {
    // Never leave the shared stack without its cache, even when an assertion failed.
    if ((await stackStatus()).redis.running !== true) await startRedis();
  });

  it('keeps every route correct while Redis is down and rebuilds timelines when it returns', async () => {
    const author = newUser('cached-author');
    const follower = newUser('cached-follower');
    expect((await follower.put(`/v1/users/${author.id}/follow`)).status).toBe(204);
    const before = (await author.post<TweetBody>('/v1/tweets', { text: 'before the outage' })).body;
    await eventually('fanout before the outage', async () => {
      const home = await follower.get<PageBody>('/v1/timeline');
      return ids(home.body).includes(before.tweet_id) ? true : undefined;
    });
    // Warm the tweet cache, so the outage has something to lose.
    expect((await follower.get(`/v1/tweets/${before.tweet_id}`)).status).toBe(200);

    const stopped = await stopRedis();
    expect(stopped.running).toBe(false);

    const started = Date.now();
    const during = await author.post<TweetBody>('/v1/tweets', { text: 'during the outage' });
    expect(during.status).toBe(201);
    const readDuring = await follower.get<TweetBody>(`/v1/tweets/${during.body.tweet_id}`);
    expect(readDuring.status).toBe(200);
    expect(readDuring.body.text).toBe('during the outage');
    expect((await follower.get<TweetBody>(`/v1/tweets/${before.tweet_id}`)).body.text).toBe(
      'before the outage',
    );
    const homeDuring = await follower.get<PageBody>('/v1/timeline');
    expect(homeDuring.status).toBe(200);
    expect(ids(homeDuring.body)).toEqual([during.body.tweet_id, before.tweet_id]);
    const userDuring = await follower.get<PageBody>(`/v1/users/${author.id}/tweets`);
    expect(ids(userDuring.body)).toEqual([during.body.tweet_id, before.tweet_id]);
    const third = newUser('cached-newcomer');
    expect((await third.put(`/v1/users/${author.id}/follow`)).status).toBe(204);
    expect(ids((await third.get<PageBody>('/v1/timeline')).body)).toEqual([
      during.body.tweet_id,
      before.tweet_id,
    ]);
    // Short Redis timeouts: the outage costs milliseconds, not a Lambda timeout.
    expect(Date.now() - started).toBeLessThan(5_000);

    const restarted = await startRedis();
    expect(restarted.running).toBe(true);

    // Redis came back empty: timelines are rebuilt from DynamoDB, and fanout resumes.
    const after = (await author.post<TweetBody>('/v1/tweets', { text: 'after the outage' })).body;
    const expected = [after.tweet_id, during.body.tweet_id, before.tweet_id];
    await eventually(
      'the rebuilt timelines with every tweet',
      async () => {
        const [home, newcomer] = await Promise.all([
          follower.get<PageBody>('/v1/timeline'),
          third.get<PageBody>('/v1/timeline'),
        ]);
        return JSON.stringify(ids(home.body)) === JSON.stringify(expected) &&
          JSON.stringify(ids(newcomer.body)) === JSON.stringify(expected)
          ? true
          : undefined;
      },
      10_000,
    );
    expect((await follower.get<TweetBody>(`/v1/tweets/${during.body.tweet_id}`)).status).toBe(200);
  });
});
