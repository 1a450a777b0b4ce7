/**
 * The media store's pure parts: the items other aggregates put in their transactions on a media
 * record (a tweet attaching its media, a profile attaching and detaching its avatar). What they do
 * to a real table is tested against DynamoDB Local (test/domain/create-tweet.test.ts,
 * test/e2e/profiles.test.ts); here, that each says what it must, without the services.
 */
import { LIMITS, METADATA_KEYS } from '../../app/model';
import {
  attachAvatarItem,
  attachToTweetItem,
  detachAvatarItem,
} from '../../lambdas/core/media/store';

const deps = { tables: { metadata: 'metadata' } };
const at = Date.UTC(2026, 11, 4, 12, 0, 0);

describe('the media items of other aggregates’ writes', () => {
  it('attaches a tweet’s media only if the author owns it and it is attachable', () => {
    const item = attachToTweetItem(deps, { mediaId: 'm1', tweetId: 't1', ownerId: 'u1' }, at);
    expect(item.Update).toMatchObject({
      TableName: 'metadata',
      Key: METADATA_KEYS.media('m1'),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    });
    const update = item.Update!;
    // Out of the unattached index and no longer expiring.
    expect(update.UpdateExpression).toMatch(/REMOVE expires_at, gsi2pk, gsi2sk$/);
    for (const condition of [
      'attribute_exists(pk)',
      'owner_id = :owner',
      'attribute_not_exists(tweet_id)',
      'attribute_not_exists(detached_at)',
      'attribute_not_exists(avatar_of)',
      '#status <> :failed',
    ]) {
      expect(update.ConditionExpression).toContain(condition);
    }
    expect(update.ExpressionAttributeValues).toMatchObject({
      ':attachTo': 't1',
      ':owner': 'u1',
      ':now': new Date(at).toISOString(),
    });
  });

  it('attaches an avatar only if it is also one of the avatar types', () => {
    const update = attachAvatarItem(deps, { mediaId: 'm2', userId: 'u1' }, at).Update!;
    expect(update.UpdateExpression).toMatch(/^SET avatar_of = :attachTo/);
    expect(update.ConditionExpression).toContain('attribute_not_exists(tweet_id)');
    const values = update.ExpressionAttributeValues ?? {};
    const named = (update.ConditionExpression ?? '').match(/content_type IN \(([^)]*)\)/)?.[1];
    expect(named?.split(', ').map((name): unknown => values[name])).toEqual(
      LIMITS.avatarMediaTypes,
    );
  });

  it('detaches the old avatar back into the unattached index with a TTL, if it still is one', () => {
    const update = detachAvatarItem(deps, { mediaId: 'm3', userId: 'u1' }, at).Update!;
    expect(update.Key).toEqual(METADATA_KEYS.media('m3'));
    expect(update.ConditionExpression).toBe('avatar_of = :attachedTo');
    expect(update.UpdateExpression).toMatch(/REMOVE avatar_of$/);
    expect(update.ExpressionAttributeValues).toEqual({
      ':now': new Date(at).toISOString(),
      ':unattached': METADATA_KEYS.unattachedIndex.pk,
      ':expires': at / 1000 + LIMITS.unattachedMediaTtlSeconds,
      ':attachedTo': 'u1',
    });
  });
});
