// The console's proof checks, as the Audit page runs them: an entry's
// inclusion in the signed checkpoint the gateway served with it, and the
// consistency of two signed checkpoints. Each returns {ok, steps}, one
// step per check with a name and whether it passed, so the page can say
// exactly what failed. Nothing here trusts the gateway's word: the only
// input taken on trust is the verifier key (which the user may pin).

import { leafHash, verifyInclusion, verifyConsistency } from './merkle.js';
import { ProofError, decodeBase64, openCheckpoint } from './note.js';

async function step(steps, name, fn) {
  try {
    const v = await fn();
    steps.push({ name, ok: v !== false });
    return v !== false ? v : null;
  } catch (e) {
    steps.push({ name, ok: false, detail: e instanceof ProofError ? e.message : 'check failed' });
    return null;
  }
}

function hashes(list) {
  if (!Array.isArray(list)) throw new ProofError('proof hashes missing');
  return list.map((h) => {
    const b = decodeBase64(h);
    if (b.length !== 32) throw new ProofError('proof hash is not 32 bytes');
    return b;
  });
}

/**
 * verifyEntry checks an entry bundle (GET /console/api/entries/{idx}):
 * the checkpoint's signature by vkey, that the proof is for index idx in
 * the checkpoint's tree, and the RFC 6962 inclusion of the exact entry
 * bytes (entry_b64) under the checkpoint's root hash.
 */
export async function verifyEntry(bundle, idx, vkey) {
  const steps = [];
  const cp = await step(steps, 'checkpoint signature (Ed25519, signed note)', () =>
    openCheckpoint(bundle.checkpoint, vkey),
  );
  const p = bundle.proof || {};
  await step(steps, 'proof is for this entry and this checkpoint', () => {
    if (p.index !== idx) throw new ProofError('proof index differs from the entry index');
    if (cp && p.tree_size !== cp.size) throw new ProofError("proof tree size differs from the checkpoint's");
    return true;
  });
  const entry = await step(steps, 'entry bytes decode', () => decodeBase64(bundle.entry_b64));
  await step(steps, 'inclusion proof (RFC 6962, SHA-256)', async () => {
    if (!cp || !entry) throw new ProofError('earlier step failed');
    const ok = await verifyInclusion(p.index, cp.size, await leafHash(entry), hashes(p.hashes), cp.root);
    if (!ok) throw new ProofError('the path does not lead to the checkpoint root');
    return true;
  });
  return { ok: steps.every((s) => s.ok), steps, checkpoint: cp, entry };
}

/**
 * verifyCheckpoints checks a consistency response (GET
 * /console/api/consistency): both checkpoints' signatures and the RFC 6962
 * consistency proof from the older tree to the newer.
 */
export async function verifyCheckpoints(resp, vkey) {
  const steps = [];
  const from = await step(steps, 'older checkpoint signature', () => openCheckpoint(resp.from?.checkpoint, vkey));
  const to = await step(steps, 'newer checkpoint signature', () => openCheckpoint(resp.to?.checkpoint, vkey));
  await step(steps, 'sizes match the checkpoints', () => {
    if (from && resp.from.size !== from.size) throw new ProofError("older size differs from its checkpoint's");
    if (to && resp.to.size !== to.size) throw new ProofError("newer size differs from its checkpoint's");
    return true;
  });
  await step(steps, 'consistency proof (RFC 6962, SHA-256)', async () => {
    if (!from || !to) throw new ProofError('earlier step failed');
    const ok = await verifyConsistency(from.size, to.size, from.root, to.root, hashes(resp.hashes));
    if (!ok) throw new ProofError('the older tree is not a prefix of the newer');
    return true;
  });
  return { ok: steps.every((s) => s.ok), steps, from, to };
}
