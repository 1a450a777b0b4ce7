/**
 * A warm function's memory of the callers it has ensured (KnownUsers): each caller's profile is
 * read (and, for a new user, created) once per process, on DynamoDB Local.
 */
import './setup-env';
import { expect } from '@jest/globals';
import { KnownUsers } from '../../lambdas/core/users/users';
import type { DocumentStore } from '../../lambdas/platform/document-store';
import { dynamo } from '../../lambdas/platform/clients';
import { newUser, testDeps } from './harness';

/** The real store, recording which operations reach DynamoDB. */
function countingStore(calls: string[]): DocumentStore {
  return new Proxy(dynamo, {
    get(target, name, receiver) {
      const value: unknown = Reflect.get(target, name, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.push(String(name));
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
}

describe("a warm function's known callers", () => {
  it('ensures a new caller once for a burst of concurrent first requests', async () => {
    const calls: string[] = [];
    const deps = testDeps({ dynamo: countingStore(calls) });
    const callers = new KnownUsers(10);
    const user = newUser('burst');
    await Promise.all(Array.from({ length: 20 }, () => callers.ensure(deps, user)));
    // One ensureProfile: the read, the create, the read of what was created (60 calls before).
    expect(calls).toEqual(['get', 'transactWrite', 'get']);
    // Known from then on: no call at all.
    await callers.ensure(deps, user);
    expect(calls).toHaveLength(3);
    expect(callers.size).toBe(1);
  });

  it('lets every waiting request see the first call fail, and asks again on the next request', async () => {
    const failing = new Proxy(dynamo, {
      get: (target, name, receiver) =>
        name === 'get'
          ? () => Promise.reject(new Error('DynamoDB unavailable'))
          : (Reflect.get(target, name, receiver) as unknown),
    });
    const callers = new KnownUsers(10);
    const user = newUser('down');
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, () => callers.ensure(testDeps({ dynamo: failing }), user)),
    );
    expect(outcomes.map((outcome) => outcome.status)).toEqual(Array(5).fill('rejected'));
    expect(callers.size).toBe(0);
    await callers.ensure(testDeps(), user);
    expect(callers.size).toBe(1);
  });
});
