/**
 * A user exists from their first authenticated call, to any route: it creates their profile with
 * a generated handle. Following or listing an id that never called is 404 user_not_found, and
 * writes nothing.
 */
import { randomBytes } from 'node:crypto';
import { GetCommand, ScanCommand } from '@aws-sdk/lib-dynamodb';
import { METADATA_KEYS } from '../../app/model';
import { expectError, newUser, TestUser } from '../support/api-client';
import { stackClients } from '../security/state';

const clients = stackClients();
afterAll(() => clients.close());

async function item(key: Record<string, string>) {
  const out = await clients.dynamo.send(
    new GetCommand({ TableName: clients.tables.metadata, Key: key, ConsistentRead: true }),
  );
  return out.Item;
}

/** The handle claims a user holds (one Scan: the local table is small). */
async function claimsOf(userId: string): Promise<unknown[]> {
  const claims: unknown[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await clients.dynamo.send(
      new ScanCommand({
        TableName: clients.tables.metadata,
        FilterExpression: 'begins_with(pk, :handle) AND user_id = :user',
        ExpressionAttributeValues: { ':handle': 'HANDLE#', ':user': userId },
        ConsistentRead: true,
        ...(start !== undefined ? { ExclusiveStartKey: start } : {}),
      }),
    );
    claims.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return claims;
}

describe('users exist from their first call', () => {
  it('the first call to any route creates the profile with a generated handle', async () => {
    // A valid handle as id: the generated handle is the id itself.
    const user = new TestUser(`first_${randomBytes(5).toString('hex')}`);
    expect(await item(METADATA_KEYS.profile(user.id))).toBeUndefined();
    expect((await user.timeline()).status).toBe(200);
    expect(await item(METADATA_KEYS.profile(user.id))).toMatchObject({
      user_id: user.id,
      handle: user.id,
      handle_generated: true,
    });
    const found = await newUser('finder').profile(user.id);
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ user_id: user.id, handle: user.id, following: false });
  });

  it('concurrent first calls create one profile and one handle claim', async () => {
    const user = newUser('racer'); // not a handle (has '-'): each attempt draws a random one
    const answers = await Promise.all([
      user.timeline(),
      user.timeline(),
      user.untyped('GET', `/v1/users/${user.id}/tweets`),
      user.untyped('GET', `/v1/users/${user.id}/tweets`),
      user.me(),
      user.me(),
      user.updateProfile({ bio: 'first' }),
      user.updateProfile({ display_name: 'First' }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200, 200, 200]);
    const claims = await claimsOf(user.id);
    expect(claims).toHaveLength(1);
    const profile = await item(METADATA_KEYS.profile(user.id));
    expect(claims[0]).toMatchObject({ pk: `HANDLE#${String(profile?.handle).toLowerCase()}` });
  });

  it('following an id that never called is 404 user_not_found and writes nothing', async () => {
    const follower = newUser('follower');
    await follower.exists();
    const before = await item(METADATA_KEYS.profile(follower.id));
    const ghost = `ghost-${randomBytes(4).toString('hex')}`;
    expectError(await follower.follow(ghost), 404, 'user_not_found');
    expect(await item(METADATA_KEYS.profile(follower.id))).toEqual(before);
    expect(before?.following_count ?? 0).toBe(0);
    expect(await item(METADATA_KEYS.profile(ghost))).toBeUndefined();
    expect(await item(METADATA_KEYS.follows(follower.id, ghost))).toBeUndefined();
    expect(await item(METADATA_KEYS.follower(ghost, follower.id))).toBeUndefined();
    // Listing them is 404 too; unfollowing them is the idempotent 204 and writes nothing.
    expectError(await follower.userTweets(ghost), 404, 'user_not_found');
    expect((await follower.unfollow(ghost)).status).toBe(204);
    expect(await item(METADATA_KEYS.profile(ghost))).toBeUndefined();
    expect(await item(METADATA_KEYS.profile(follower.id))).toEqual(before);
    // Once they call, they can be followed and listed.
    const ghostUser = new TestUser(ghost);
    expect((await ghostUser.timeline()).status).toBe(200);
    expect((await follower.follow(ghost)).status).toBe(204);
    expect((await follower.userTweets(ghost)).body).toEqual({ tweets: [], next_cursor: null });
  });
});
