import { useState } from 'preact/hooks';
import { api } from '../api.js';

/** SignIn exchanges an API key with a console role for a session cookie. */
export function SignIn({ onSignedIn, notice }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const who = await api('session', { method: 'POST', body: { api_key: key } });
      setKey('');
      onSignedIn(who);
    } catch (err) {
      setError(
        err.status === 401
          ? 'That key was not accepted: it is unknown, revoked or expired.'
          : err.status === 403
            ? 'That key has no console role (admin or auditor).'
            : err.status === 429
              ? 'Too many attempts: wait a moment and try again.'
              : err.message || 'Signing in failed.',
      );
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <div class="signin-card">
        <p class="brand big">
          <svg viewBox="0 0 32 32" width="28" height="28" aria-hidden="true" focusable="false">
            <path fill="#1d4ed8" d="M16 2 4 6v9c0 7.5 5.1 13.1 12 15 6.9-1.9 12-7.5 12-15V6z" />
            <path fill="#fff" d="m14 20.5-4.5-4.5 1.9-1.9 2.6 2.6 6.6-6.6 1.9 1.9z" />
          </svg>
          Warden
        </p>
        <h1>Sign in to the console</h1>
        <p class="muted">Use a gateway API key with the admin or auditor role. The key is sent once to the gateway and is not kept in this browser.</p>
        {notice ? (
          <p class="note" role="status">
            {notice}
          </p>
        ) : null}
        <form onSubmit={submit}>
          <div class="field">
            <label for="api-key">API key</label>
            <input
              id="api-key"
              name="api_key"
              type="password"
              autocomplete="off"
              spellcheck={false}
              required
              value={key}
              onInput={(e) => setKey(e.currentTarget.value)}
              aria-invalid={error ? 'true' : 'false'}
              aria-describedby={error ? 'signin-error' : undefined}
            />
          </div>
          {error ? (
            <p id="signin-error" class="error" role="alert">
              {error}
            </p>
          ) : null}
          <button type="submit" disabled={busy || !key}>
            {busy ? 'Signing in…' : 'Sign in'}
          </button>
        </form>
      </div>
    </main>
  );
}
