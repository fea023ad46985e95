// Hash routing under /console/: #/overview, #/audit?principal=x, #/audit/42.
// The gateway serves one index.html at /console/, so every route is a
// fragment and a reload lands on the same page.
import { useEffect, useState } from 'preact/hooks';

/** parseHash splits location.hash into a path and its query parameters. */
export function parseHash(hash = window.location.hash) {
  const h = hash.replace(/^#/, '') || '/overview';
  const i = h.indexOf('?');
  const path = i < 0 ? h : h.slice(0, i);
  const params = new URLSearchParams(i < 0 ? '' : h.slice(i + 1));
  return { path, params };
}

/** href builds a fragment link from a path and parameters (empty ones dropped). */
export function href(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return '#' + path + (s ? '?' + s : '');
}

/** navigate goes to a fragment link. */
export function navigate(to) {
  if (window.location.hash !== to) window.location.hash = to;
}

/** useRoute returns the current {path, params} and follows hash changes. */
export function useRoute() {
  const [route, setRoute] = useState(parseHash);
  useEffect(() => {
    const on = () => setRoute(parseHash());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}
