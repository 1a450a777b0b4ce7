/**
 * A user's page: their profile (when reached by handle: avatar, name, bio, counts, and whether you
 * follow them, as the API says), their tweets, and a follow/unfollow button. Reached by user id
 * (a tweet's author link) there is no profile read by id, so the button starts from what this
 * browser last did; both calls are idempotent.
 */
import { useCallback, useEffect, useState } from 'preact/hooks';
import type { User } from '../../../client';
import { errorMessage, unwrap, type ChirpClient } from '../api';
import { Avatar } from './Avatar';
import { Timeline } from './Timeline';

const followsKey = (me: string) => `chirp.follows.${me}`;

function readFollows(me: string): Set<string> {
  return new Set(JSON.parse(localStorage.getItem(followsKey(me)) ?? '[]') as string[]);
}

function ProfileHeader({
  api,
  profile,
  followers,
}: {
  api: ChirpClient;
  profile: User;
  followers: number;
}) {
  return (
    <div class="profile-card">
      <Avatar media={profile.avatar} handle={profile.handle} api={api} />
      <div>
        <h1>{profile.display_name || `@${profile.handle}`}</h1>
        <p class="handle">@{profile.handle}</p>
        {profile.bio && <p class="bio">{profile.bio}</p>}
        <p class="counts">
          <span data-count="followers">{followers}</span>{' '}
          {followers === 1 ? 'follower' : 'followers'} ·{' '}
          <span data-count="following">{profile.following_count}</span> following
        </p>
      </div>
    </div>
  );
}

export function UserPage({
  api,
  me,
  userId,
  profile,
}: {
  api: ChirpClient;
  me: string;
  userId: string;
  profile?: User;
}) {
  const [following, setFollowing] = useState(
    () => profile?.following ?? readFollows(me).has(userId),
  );
  const [followers, setFollowers] = useState(profile?.follower_count ?? 0);
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
      setFollowers((count) => count + (following ? -1 : 1));
      setFollowing(!following);
    } catch (caught) {
      setError(errorMessage(caught));
    } finally {
      setBusy(false);
    }
  };

  const name = profile !== undefined ? `@${profile.handle}` : userId;
  return (
    <main id="main">
      <header class="profile">
        {profile !== undefined ? (
          <ProfileHeader api={api} profile={profile} followers={followers} />
        ) : (
          <h1>@{userId}</h1>
        )}
        {userId !== me && (
          <button
            type="button"
            onClick={() => void toggle()}
            disabled={busy}
            aria-pressed={following}
          >
            {following ? 'Unfollow' : 'Follow'}
          </button>
        )}
        {error !== undefined && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </header>
      <Timeline key={userId} api={api} me={me} load={load} label={`Tweets by ${name}`} />
    </main>
  );
}

/** A user's page by handle: resolves it (GET /v1/profiles/{handle}), then shows their page. */
export function ProfilePage({ api, me, handle }: { api: ChirpClient; me: string; handle: string }) {
  const [profile, setProfile] = useState<User>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let cancelled = false;
    setProfile(undefined);
    setError(undefined);
    api
      .GET('/v1/profiles/{handle}', { params: { path: { handle } } })
      .then((result) => {
        if (!cancelled) setProfile(unwrap(result));
      })
      .catch((caught: unknown) => {
        if (!cancelled) setError(errorMessage(caught));
      });
    return () => {
      cancelled = true;
    };
  }, [api, handle]);
  if (error !== undefined) {
    return (
      <main id="main">
        <h1>@{handle}</h1>
        <p class="error" role="alert">
          {error}
        </p>
      </main>
    );
  }
  if (profile === undefined) {
    return (
      <main id="main" aria-busy="true">
        <h1>@{handle}</h1>
      </main>
    );
  }
  return (
    <UserPage key={profile.user_id} api={api} me={me} userId={profile.user_id} profile={profile} />
  );
}
