import { useState } from 'preact/hooks';
import { errorMessage } from '../api';
import type { Auth, Session } from '../auth';

/** Local mode: pick any user id; the local stack mints its token. Cognito mode: managed login. */
export function SignIn({
  auth,
  local,
  onSignedIn,
}: {
  auth: Auth;
  local: boolean;
  onSignedIn: (session: Session) => void;
}) {
  const [userId, setUserId] = useState('');
  const [error, setError] = useState<string>();
  const submit = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const session = await auth.signIn(local ? userId.trim() : undefined);
      if (session !== undefined) onSignedIn(session);
    } catch (caught) {
      setError(errorMessage(caught));
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to Chirp</h1>
      <form onSubmit={(event) => void submit(event)}>
        {local && (
          <>
            <p>
              The local stack signs a token for any user id you pick (letters, digits,{' '}
              <code>.</code> <code>_</code> <code>-</code>).
            </p>
            <label for="user-id">User id</label>
            <input
              id="user-id"
              name="user_id"
              autoComplete="username"
              required
              pattern="[A-Za-z0-9._\-]{1,128}"
              value={userId}
              onInput={(event) => setUserId(event.currentTarget.value)}
            />
          </>
        )}
        <button type="submit">{local ? 'Sign in' : 'Sign in with Cognito'}</button>
        {error !== undefined && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}
