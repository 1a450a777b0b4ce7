/**
 * A user's tweets and a follow/unfollow button. The API has no "do I follow them" read yet, so the
 * button's state is what this browser last did (kept per signed-in user); both calls are idempotent.
 */
import { useCallback, useState } from 'preact/hooks';
import { errorMessage, unwrap, type ChirpClient } from '../api';
import { Timeline } from './Timeline';

const followsKey = (me: string) => `chirp.follows.${me}`;

function readFollows(me: string): Set<string> {
  return new Set(JSON.parse(localStorage.getItem(followsKey(me)) ?? '[]') as string[]);
}

export function UserPage({ api, me, userId }: { api: ChirpClient; me: string; userId: string }) {
  const [following, setFollowing] = useState(() => readFollows(me).has(userId));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const load = useCallback(
    async (cursor: string | undefined) =>
      unwrap(
        await api.GET('/v1/users/{user_id}/tweets', {
          params: {
            path: { user_id: userId },
            query: { limit: 20, ...(cursor ? { cursor } : {}) },
          },
        }),
      ),
    [api, userId],
  );

  const toggle = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const options = { params: { path: { user_id: userId } } };
      const result = following
        ? await api.DELETE('/v1/users/{user_id}/follow', options)
        : await api.PUT('/v1/users/{user_id}/follow', options);
      if (result.error !== undefined) unwrap(result);
      const follows = readFollows(me);
      if (following) follows.delete(userId);
      else follows.add(userId);
      localStorage.setItem(followsKey(me), JSON.stringify([...follows]));
      setFollowing(!following);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main">
      <header class="profile">
        <h1>@{userId}</h1>
        {userId !== me && (
          <button type="button" onClick={toggle} disabled={busy} aria-pressed={following}>
            {following ? 'Unfollow' : 'Follow'}
          </button>
        )}
        {error !== undefined && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </header>
      <Timeline key={userId} api={api} me={me} load={load} label={`Tweets by ${userId}`} />
    </main>
  );
}
