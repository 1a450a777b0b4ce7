/**
 * Redis is only a cache: with redis-server killed mid-test every route still answers correctly
 * from DynamoDB, and once it comes back (empty) timelines are rebuilt with nothing lost.
 */
import { eventually, newUser, type PageBody } from '../support/api-client';
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
    expect((await follower.follow(author.id)).status).toBe(204);
    const before = (await author.createTweet({ text: 'before the outage' })).body;
    await eventually('fanout before the outage', async () => {
      const home = await follower.timeline();
      return ids(home.body).includes(before.tweet_id) ? true : undefined;
    });
    // Warm the tweet cache, so the outage has something to lose.
    expect((await follower.getTweet(before.tweet_id)).status).toBe(200);

    const stopped = await stopRedis();
    expect(stopped.running).toBe(false);

    const started = Date.now();
    const during = await author.createTweet({ text: 'during the outage' });
    expect(during.status).toBe(201);
    const readDuring = await follower.getTweet(during.body.tweet_id);
    expect(readDuring.status).toBe(200);
    expect(readDuring.body.text).toBe('during the outage');
    expect((await follower.getTweet(before.tweet_id)).body.text).toBe('before the outage');
    const homeDuring = await follower.timeline();
    expect(homeDuring.status).toBe(200);
    expect(ids(homeDuring.body)).toEqual([during.body.tweet_id, before.tweet_id]);
    const userDuring = await follower.userTweets(author.id);
    expect(ids(userDuring.body)).toEqual([during.body.tweet_id, before.tweet_id]);
    const third = newUser('cached-newcomer');
    expect((await third.follow(author.id)).status).toBe(204);
    expect(ids((await third.timeline()).body)).toEqual([during.body.tweet_id, before.tweet_id]);
    // Short Redis timeouts: the outage costs milliseconds, not a Lambda timeout.
    expect(Date.now() - started).toBeLessThan(5_000);

    const restarted = await startRedis();
    expect(restarted.running).toBe(true);

    // Redis came back empty: timelines are rebuilt from DynamoDB, and fanout resumes.
    const after = (await author.createTweet({ text: 'after the outage' })).body;
    const expected = [after.tweet_id, during.body.tweet_id, before.tweet_id];
    await eventually(
      'the rebuilt timelines with every tweet',
      async () => {
        const [home, newcomer] = await Promise.all([follower.timeline(), third.timeline()]);
        return JSON.stringify(ids(home.body)) === JSON.stringify(expected) &&
          JSON.stringify(ids(newcomer.body)) === JSON.stringify(expected)
          ? true
          : undefined;
      },
      10_000,
    );
    expect((await follower.getTweet(during.body.tweet_id)).status).toBe(200);
  });
});
