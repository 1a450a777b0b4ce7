/**
 * The whole flow over HTTP against the local stack: token, media init, PUT upload, tweet, the
 * follower's home timeline (fanout via the DynamoDB stream), media ready (transcoder via the S3
 * event), processed media from the CDN. Every call goes through the generated client, as an app's
 * would.
 */
import { unwrap } from '../../client';
import { eventually, newUser } from '../support/api-client';
import { cdnUrl } from '../support/env';
import { generatePng, uploadMedia } from '../support/media';

describe('the whole flow', () => {
  const alice = newUser('alice');
  const bob = newUser('bob');

  it('delivers a tweet with an image to a follower and serves the processed media from the CDN', async () => {
    await alice.exists(); // alice signs in first: only a user who has called can be followed
    const follow = await bob.api.PUT('/v1/users/{user_id}/follow', {
      params: { path: { user_id: alice.id } },
    });
    expect(follow.response.status).toBe(204);

    const png = await generatePng(640, 480);
    const init = await uploadMedia(alice, png);
    expect(init.status).toBe('pending_upload');

    const created = await alice.api.POST('/v1/tweets', {
      body: { text: 'Hello from the local stack', media_ids: [init.media_id] },
    });
    expect(created.response.status).toBe(201);
    const tweet = unwrap(created);
    expect(tweet.user_id).toBe(alice.id);
    expect(tweet.media.map((m) => m.media_id)).toEqual([init.media_id]);
    // Fanout: the follower's home timeline gets it through the DynamoDB stream. How fast is the
    // bench's to measure (follower_visible_p99, goal 500 ms): a timed assertion here only failed
    // when the machine was loaded.
    await eventually(
      "the tweet in bob's home timeline",
      async () => {
        const page = unwrap(await bob.api.GET('/v1/timeline'));
        return page.tweets.some((t) => t.tweet_id === tweet.tweet_id) ? true : undefined;
      },
      15_000,
      25,
    );

    // Transcoder: the media becomes ready, with CDN URLs for its variants.
    const ready = await eventually(
      'the media to be ready',
      async () => {
        const media = unwrap(
          await alice.api.GET('/v1/media/{media_id}', {
            params: { path: { media_id: init.media_id } },
          }),
        );
        if (media.status === 'failed') throw new Error(JSON.stringify(media.failure));
        return media.status === 'ready' ? media : undefined;
      },
      30_000,
      100,
    );
    expect(ready.variants.length).toBeGreaterThan(0);

    // GET /v1/tweets shows the current media state.
    const fetched = await bob.api.GET('/v1/tweets/{tweet_id}', {
      params: { path: { tweet_id: tweet.tweet_id } },
    });
    expect(fetched.response.status).toBe(200);
    expect(unwrap(fetched).media[0]?.status).toBe('ready');

    for (const variant of ready.variants) {
      expect(variant.url.startsWith(`${cdnUrl()}/`)).toBe(true);
      const response = await fetch(variant.url);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe(variant.content_type);
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('strict-transport-security')).toContain('max-age=');
      const bytes = Buffer.from(await response.arrayBuffer());
      expect(bytes.length).toBe(variant.bytes);
    }

    // Originals are never served by the CDN.
    const original = await fetch(`${cdnUrl()}/uploads/${init.media_id}`);
    expect(original.status).toBe(403);
  });
});
