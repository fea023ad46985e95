// The console's JSON API client (/console/api/, see docs/CONSOLE.md).
// The session is an HttpOnly cookie; every mutation also sends the CSRF
// header X-Warden-Console: 1. Errors come back as
// {"error":{"code","message"}} and are thrown as ApiError.

export const API = '/console/api/';

/** ApiError is an error answer of the console API. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code || '';
  }
}

/** api calls the console API: api('overview', {query}) or api('keys', {method: 'POST', body}). */
export async function api(path, { method = 'GET', body, query } = {}) {
  let url = API + path;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
    }
    const s = q.toString();
    if (s) url += '?' + s;
  }
  const headers = { Accept: 'application/json' };
  if (method !== 'GET') headers['X-Warden-Console'] = '1';
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'network', 'The gateway could not be reached.');
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      throw new ApiError(res.status, 'bad_response', 'The gateway sent an answer that is not JSON.');
    }
  }
  if (!res.ok) {
    const e = data && data.error ? data.error : {};
    const err = new ApiError(res.status, e.code, e.message);
    if (res.status === 401 && path !== 'session') window.dispatchEvent(new CustomEvent('warden:signed-out'));
    throw err;
  }
  return data;
}
