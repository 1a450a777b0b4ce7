/**
 * Users exist from their first authenticated call: it creates their profile item (which also
 * holds the follow counters) with a generated handle they can change. Following or listing a user
 * whose profile has no handle is 404 `user_not_found`.
 */
import { randomBytes } from 'node:crypto';
import { HANDLE_PATTERN } from '../../../app/model';
import { notFound } from '../errors';
import type { Deps } from '../ports';
import { cancellationReasons, sleep } from '../../platform/dynamo';
import { createProfile, hasHandle, readProfile, type ClaimedProfile } from './store';

/** Generated handles tried before giving up (each a fresh random one after the first). */
const GENERATED_HANDLE_ATTEMPTS = 5;

export const userNotFound = () => notFound('user_not_found', 'User not found');

export function isHandle(value: unknown): value is string {
  return typeof value === 'string' && HANDLE_PATTERN.test(value);
}

/** The user id itself when it is a valid handle, then random ones (ids on AWS are UUIDs). */
function generatedHandle(userId: string, attempt: number): string {
  if (attempt === 0 && isHandle(userId)) return userId;
  return `user_${randomBytes(6).toString('hex')}`;
}

/**
 * The caller's profile, created with a generated handle on their first call: the user exists from
 * then on. Concurrent first calls create one profile (the profile update's condition), and a
 * generated handle someone holds is never taken from them (the claim's condition).
 */
export async function ensureProfile(
  deps: Pick<Deps, 'dynamo' | 'tables' | 'now'>,
  userId: string,
): Promise<ClaimedProfile> {
  for (let attempt = 0; ; attempt++) {
    const current = await readProfile(deps, userId);
    if (hasHandle(current)) return current;
    const handle = generatedHandle(userId, attempt);
    try {
      await createProfile(deps, userId, handle);
    } catch (error) {
      const reasons = cancellationReasons(error);
      // Cancelled (a taken handle, a concurrent first call, a conflict): read again and retry.
      if (reasons === undefined || attempt + 1 >= GENERATED_HANDLE_ATTEMPTS) throw error;
      await sleep(10 * attempt + Math.random() * 20);
    }
  }
}

/**
 * The users a process knows exist, so a warm function ensures each caller once: their first
 * request costs one strongly consistent GetItem (and, for a new user, the transaction that creates
 * them), later ones nothing. Bounded: past `capacity` the longest-known user is forgotten and
 * costs one GetItem again. Users are never deleted, so a remembered user cannot go stale.
 */
export class KnownUsers {
  private readonly known = new Set<string>();
  /**
   * First calls in flight. A caller's concurrent first requests (an environment runs many at
   * once) wait for one ensure: racing their own, 20 of them made ~60 DynamoDB calls, most of
   * them cancelled transactions and their retries, instead of a read and a create.
   */
  private readonly ensuring = new Map<string, Promise<void>>();

  constructor(private readonly capacity: number) {}

  async ensure(deps: Pick<Deps, 'dynamo' | 'tables' | 'now'>, userId: string): Promise<void> {
    if (this.known.has(userId)) return;
    let ensured = this.ensuring.get(userId);
    if (ensured === undefined) {
      ensured = ensureProfile(deps, userId)
        .then(() => this.remember(userId))
        .finally(() => this.ensuring.delete(userId));
      this.ensuring.set(userId, ensured);
    }
    await ensured;
  }

  private remember(userId: string): void {
    this.known.add(userId);
    if (this.known.size > this.capacity) {
      const oldest = this.known.values().next().value;
      if (oldest !== undefined) this.known.delete(oldest);
    }
  }

  get size(): number {
    return this.known.size;
  }
}
