// The verifier key the user pins (kept in this browser's localStorage),
// so proofs are checked against a key the user got elsewhere rather than
// the one the gateway serves with them.
const KEY = 'warden-console-verifier-key';

/** pinnedKey returns the pinned note verifier key, or ''. */
export function pinnedKey() {
  try {
    return localStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

/** setPinnedKey pins a verifier key ('' unpins). */
export function setPinnedKey(v) {
  try {
    if (v) localStorage.setItem(KEY, v);
    else localStorage.removeItem(KEY);
  } catch {
    // Storage refused (private mode): the key is not pinned.
  }
}

/** keyFor chooses the key to verify with: the pinned one when set. */
export function keyFor(served) {
  const p = pinnedKey();
  return { key: p || served, pinned: Boolean(p), differs: Boolean(p) && Boolean(served) && p !== served };
}
