import { useEffect, useRef, useState } from 'preact/hooks';
import { api } from './api.js';
import { useRoute } from './router.js';
import { Loading } from './components/ui.jsx';
import { SignIn } from './pages/SignIn.jsx';
import { Overview } from './pages/Overview.jsx';
import { Flows } from './pages/Flows.jsx';
import { Audit } from './pages/Audit.jsx';
import { Entry } from './pages/Entry.jsx';
import { Keys } from './pages/Keys.jsx';
import { Policy } from './pages/Policy.jsx';
import { Models } from './pages/Models.jsx';
import { Alerts } from './pages/Alerts.jsx';

const NAV = [
  ['/overview', 'Overview'],
  ['/flows', 'Data flows'],
  ['/audit', 'Audit'],
  ['/keys', 'Keys'],
  ['/policy', 'Policy'],
  ['/models', 'Models'],
  ['/alerts', 'Alerts'],
];

const TITLES = Object.fromEntries(NAV);

function page(route, session) {
  const { path, params } = route;
  const m = /^\/audit\/(\d+)$/.exec(path);
  if (m) return { title: `Audit entry ${m[1]}`, el: <Entry idx={Number(m[1])} key={m[1]} /> };
  switch (path) {
    case '/overview':
      return { title: 'Overview', el: <Overview /> };
    case '/flows':
      return { title: 'Data flows', el: <Flows /> };
    case '/audit':
      return { title: 'Audit', el: <Audit params={params} /> };
    case '/keys':
      return { title: 'Keys', el: <Keys session={session} /> };
    case '/policy':
      return { title: 'Policy', el: <Policy /> };
    case '/models':
      return { title: 'Models', el: <Models /> };
    case '/alerts':
      return { title: 'Alerts', el: <Alerts /> };
    default:
      return {
        title: 'Not found',
        el: (
          <>
            <h1>Page not found</h1>
            <p>
              There is no such page. Go to the <a href="#/overview">overview</a>.
            </p>
          </>
        ),
      };
  }
}

/** App is the console: the sign-in page, or the signed-in layout and the current page. */
export function App() {
  const [session, setSession] = useState(undefined); // undefined: asking; null: signed out
  const [notice, setNotice] = useState('');
  const route = useRoute();
  const main = useRef(null);
  const first = useRef(true);

  useEffect(() => {
    api('session').then(
      (s) => setSession(s),
      () => setSession(null),
    );
    const out = () => {
      setNotice('Your session ended: sign in again.');
      setSession(null);
    };
    window.addEventListener('warden:signed-out', out);
    return () => window.removeEventListener('warden:signed-out', out);
  }, []);

  const p = session ? page(route, session) : null;
  useEffect(() => {
    document.title = p ? `${p.title} · Warden console` : 'Sign in · Warden console';
    // Move focus to the new page's content on navigation (not on first load).
    if (session && !first.current && main.current) main.current.focus();
    if (session) first.current = false;
  }, [route.path, session]);

  if (session === undefined) return <Loading what="Starting" />;
  if (session === null)
    return (
      <SignIn
        notice={notice}
        onSignedIn={(s) => {
          setNotice('');
          setSession(s);
        }}
      />
    );

  const signOut = async () => {
    try {
      await api('session', { method: 'DELETE' });
    } catch {
      // The session is gone either way.
    }
    setNotice('Signed out.');
    setSession(null);
  };
  const current = route.path.startsWith('/audit') ? '/audit' : route.path;
  return (
    <>
      <button type="button" class="skip" onClick={() => main.current && main.current.focus()}>
        Skip to content
      </button>
      <header class="top">
        <a class="brand" href="#/overview">
          <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden="true" focusable="false">
            <path fill="#93c5fd" d="M16 2 4 6v9c0 7.5 5.1 13.1 12 15 6.9-1.9 12-7.5 12-15V6z" />
          </svg>
          Warden console
        </a>
        <nav aria-label="Console">
          <ul>
            {NAV.map(([path, label]) => (
              <li key={path}>
                <a href={'#' + path} aria-current={current === path ? 'page' : undefined}>
                  {label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <div class="who">
          <span>
            <span class="sr-only">Signed in as </span>
            <strong>{session.principal}</strong>
            {session.tenant ? ` (${session.tenant})` : ''} · {(session.roles || []).join(', ')}
          </span>
          <button type="button" class="link" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <main id="main" ref={main} tabindex={-1} aria-label={TITLES[current] || p.title}>
        {p.el}
      </main>
      <footer class="foot">
        <p>Warden · every view of audit data here is itself recorded in the audit log.</p>
      </footer>
    </>
  );
}
