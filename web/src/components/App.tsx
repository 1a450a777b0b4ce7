/** The signed-in app: a header, then the route (#/ home, #/u/<user id> a user's page). */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { Tweet } from '../../../client';
import { createApi, unwrap } from '../api';
import type { Auth, Session } from '../auth';
import type { AppConfig } from '../config';
import { Composer } from './Composer';
import { SignIn } from './SignIn';
import { Timeline } from './Timeline';
import { UserPage } from './UserPage';

function useHashRoute(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash.replace(/^#/, '') || '/';
}

function Home({ api, me }: { api: ReturnType<typeof createApi>; me: string }) {
  const [posted, setPosted] = useState<Tweet[]>([]);
  const load = useCallback(
    async (cursor: string | undefined) =>
      unwrap(
        await api.GET('/v1/timeline', {
          params: { query: { limit: 20, ...(cursor ? { cursor } : {}) } },
        }),
      ),
    [api],
  );
  return (
    <main id="main">
      <h1 class="visually-hidden">Home</h1>
      <Composer api={api} onPosted={(tweet) => setPosted((old) => [tweet, ...old])} />
      <Timeline api={api} me={me} load={load} prepend={posted} label="Home timeline" />
    </main>
  );
}

export function App({
  config,
  auth,
  initial,
}: {
  config: AppConfig;
  auth: Auth;
  initial: Session | undefined;
}) {
  const [session, setSession] = useState(initial);
  const [waiting, setWaiting] = useState(0);
  const route = useHashRoute();
  const api = useMemo(
    () => createApi(config.apiUrl, () => session?.token ?? '', setWaiting),
    [config.apiUrl, session],
  );

  if (session === undefined) {
    return <SignIn auth={auth} local={config.auth.mode === 'local'} onSignedIn={setSession} />;
  }
  const user = /^\/u\/(.+)$/.exec(route);
  const signOut = async () => {
    await auth.signOut();
    setSession(undefined);
  };
  return (
    <>
      <a href="#main" class="skip">
        Skip to content
      </a>
      <nav class="top" aria-label="Chirp">
        <a href="#/" class="brand">
          Chirp
        </a>
        <a href={`#/u/${encodeURIComponent(session.userId)}`}>@{session.userId}</a>
        <button type="button" class="link" onClick={signOut}>
          Sign out
        </button>
      </nav>
      {waiting > 0 && (
        <p class="notice" role="status">
          The API is busy; trying again in {waiting} s.
        </p>
      )}
      {user?.[1] !== undefined ? (
        <UserPage api={api} me={session.userId} userId={decodeURIComponent(user[1])} />
      ) : (
        <Home api={api} me={session.userId} />
      )}
    </>
  );
}
