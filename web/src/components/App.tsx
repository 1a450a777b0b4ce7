/**
 * The signed-in app: a header, then the route (#/ home, #/@<handle> a user's profile, #/u/<user
 * id> a user's page, #/settings your profile). GET /v1/me after sign-in; a new user's generated
 * handle leads to choosing one.
 */
import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import type { Me, Tweet } from '../../../client';
import { createApi, errorMessage, unwrap } from '../api';
import type { Auth, Session } from '../auth';
import type { AppConfig } from '../config';
import { Composer } from './Composer';
import { SignIn } from './SignIn';
import { Timeline } from './Timeline';
import { ProfileEditor } from './ProfileEditor';
import { ProfilePage, UserPage } from './UserPage';

function useHashRoute(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const changed = () => setHash(location.hash);
    addEventListener('hashchange', changed);
    return () => removeEventListener('hashchange', changed);
  }, []);
  return hash.replace(/^#/, '') || '/';
}

/** Go to a user's page by handle. */
function FindUser() {
  const [handle, setHandle] = useState('');
  return (
    <form
      class="find"
      role="search"
      onSubmit={(event) => {
        event.preventDefault();
        const wanted = handle.trim().replace(/^@/, '');
        if (wanted !== '') location.hash = `#/@${encodeURIComponent(wanted)}`;
      }}
    >
      <label for="find-handle" class="visually-hidden">
        Find a user by handle
      </label>
      <input
        id="find-handle"
        placeholder="@handle"
        value={handle}
        onInput={(e) => setHandle((e.target as HTMLInputElement).value)}
      />
      <button type="submit" class="secondary">
        Find
      </button>
    </form>
  );
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

  const [me, setMe] = useState<Me>();
  const [meError, setMeError] = useState<string>();
  useEffect(() => {
    if (session === undefined) return;
    let cancelled = false;
    api
      .GET('/v1/me')
      .then((result) => {
        if (!cancelled) setMe(unwrap(result));
      })
      .catch((caught: unknown) => {
        if (!cancelled) setMeError(errorMessage(caught));
      });
    return () => {
      cancelled = true;
    };
  }, [api, session]);

  if (session === undefined) {
    return <SignIn auth={auth} local={config.auth.mode === 'local'} onSignedIn={setSession} />;
  }
  const user = /^\/u\/(.+)$/.exec(route);
  const byHandle = /^\/@(.+)$/.exec(route);
  const signOut = async () => {
    await auth.signOut();
    setMe(undefined);
    setSession(undefined);
  };
  let page;
  if (route === '/settings' && me !== undefined) {
    page = <ProfileEditor api={api} me={me} onSaved={setMe} />;
  } else if (byHandle?.[1] !== undefined) {
    page = <ProfilePage api={api} me={session.userId} handle={decodeURIComponent(byHandle[1])} />;
  } else if (user?.[1] !== undefined) {
    page = <UserPage api={api} me={session.userId} userId={decodeURIComponent(user[1])} />;
  } else {
    page = <Home api={api} me={session.userId} />;
  }
  return (
    <>
      <a href="#main" class="skip">
        Skip to content
      </a>
      <nav class="top" aria-label="Chirp">
        <a href="#/" class="brand">
          Chirp
        </a>
        <FindUser />
        {me !== undefined && (
          <a href={`#/@${encodeURIComponent(me.handle)}`} class="me">
            @{me.handle}
          </a>
        )}
        <a href="#/settings">Edit profile</a>
        <button type="button" class="link" onClick={() => void signOut()}>
          Sign out
        </button>
      </nav>
      {waiting > 0 && (
        <p class="notice" role="status">
          The API is busy; trying again in {waiting} s.
        </p>
      )}
      {meError !== undefined && (
        <p class="error" role="alert">
          {meError}
        </p>
      )}
      {me?.handle_generated === true && route !== '/settings' && (
        <p class="notice choose-handle">
          Welcome! You are @{me.handle} for now. <a href="#/settings">Choose your handle</a>
        </p>
      )}
      {page}
    </>
  );
}
