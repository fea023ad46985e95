// Formatting shared by the pages.

const nf = new Intl.NumberFormat('en');

/** num formats a count. */
export const num = (n) => (typeof n === 'number' ? nf.format(n) : '—');

/** utc formats a time (RFC 3339 string or Unix seconds) as "YYYY-MM-DD HH:MM:SSZ". */
export function utc(t) {
  if (t === undefined || t === null || t === '') return '—';
  const d = typeof t === 'number' ? new Date(t * 1000) : new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** sortedEntries returns a {key: n} map's entries, largest first. */
export function sortedEntries(m) {
  return Object.entries(m || {}).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}

/** Windows the pickers offer: label, length in seconds, chart step. */
export const WINDOWS = [
  { id: '1h', label: 'Last hour', secs: 3600, step: '5m' },
  { id: '6h', label: 'Last 6 hours', secs: 6 * 3600, step: '15m' },
  { id: '24h', label: 'Last 24 hours', secs: 86400, step: '1h' },
  { id: '7d', label: 'Last 7 days', secs: 7 * 86400, step: '6h' },
  { id: '30d', label: 'Last 30 days', secs: 30 * 86400, step: '24h' },
];

/** windowRange returns {since, until, step} (RFC 3339) for a window id. */
export function windowRange(id, now = Date.now()) {
  const w = WINDOWS.find((x) => x.id === id) || WINDOWS[2];
  const until = new Date(Math.ceil(now / 60000) * 60000);
  const since = new Date(until.getTime() - w.secs * 1000);
  return { since: since.toISOString().replace(/\.\d+Z$/, 'Z'), until: until.toISOString().replace(/\.\d+Z$/, 'Z'), step: w.step };
}

/** findingsText summarises a {TYPE: n} map as "EMAIL_ADDRESS 2, US_SSN 1". */
export function findingsText(m) {
  const e = sortedEntries(m);
  return e.length ? e.map(([k, v]) => `${k} ${v}`).join(', ') : '—';
}
