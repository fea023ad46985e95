// Known-answer tests of the console's proof verifiers against vectors
// from golang.org/x/mod/sumdb/tlog and note (testdata/vectors.json,
// written by `go run ./internal/cmd/consolevectors`). Every proof must
// verify as given and fail with any one bit flipped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

import { leafHash, nodeHash, verifyInclusion, verifyConsistency } from '../src/proof/merkle.js';
import { decodeBase64, encodeBase64, openNote, openCheckpoint, parseVerifierKey } from '../src/proof/note.js';
import { verifyEntry, verifyCheckpoints } from '../src/proof/verify.js';

const V = JSON.parse(readFileSync(new URL('./testdata/vectors.json', import.meta.url), 'utf8'));
const d = decodeBase64;

function flips(bytes) {
  const out = [];
  for (let i = 0; i < bytes.length * 8; i++) {
    const b = bytes.slice();
    b[i >> 3] ^= 1 << (i & 7);
    out.push(b);
  }
  return out;
}

// A few vectors get every bit of every input flipped; the rest one bit
// per byte, which keeps the run short.
// (The sizes are bound by the signed checkpoint, not by the path: a path
// for a tree of size 3 is also one for size 4 with the same root, so the
// size checks are verifyEntry's.)
const thoroughInclusion = (v) => (v.tree_size === 70 && v.index === 35) || (v.tree_size === 13 && v.index === 4);
const thoroughConsistency = (v) => ['33-70', '5-9', '1-8', '7-13'].includes(`${v.from}-${v.to}`);

// One bit in every fourth byte (a different bit in each), for the other vectors.
const someFlips = (all) => all.filter((_, i) => (i >> 3) % 4 === 0 && i % 8 === (i >> 5) % 8);

test('RFC 6962 hashes', async () => {
  // MTH of the empty string's leaf and a node of two zero hashes.
  assert.equal(encodeBase64(await leafHash(new Uint8Array())), 'bjQLnP+zepicpUTmu3gKLHiQHT+zNzh2hRGjBhevoB0=');
  const z = new Uint8Array(32);
  const n = await nodeHash(z, z);
  assert.equal(n.length, 32);
});

test('the vectors cover sizes and proofs', () => {
  assert.ok(V.inclusion.length > 50);
  assert.ok(V.consistency.length >= 20);
  assert.ok(V.inclusion.some((v) => v.hashes.length >= 7));
});

test('inclusion proofs verify', async () => {
  for (const v of V.inclusion) {
    const leaf = await leafHash(d(v.entry_b64));
    assert.equal(encodeBase64(leaf), v.leaf_hash, `leaf ${v.index}`);
    assert.ok(await verifyInclusion(v.index, v.tree_size, leaf, v.hashes.map(d), d(v.root)), `${v.index}/${v.tree_size}`);
  }
});

test('inclusion proofs with a flipped bit fail', async (t) => {
  let checked = 0;
  for (const v of V.inclusion) {
    const leaf = await leafHash(d(v.entry_b64));
    const proof = v.hashes.map(d);
    const root = d(v.root);
    const pick = thoroughInclusion(v) ? (all) => all : someFlips;
    for (let k = 0; k < proof.length; k++) {
      for (const h of pick(flips(proof[k]))) {
        const p = proof.slice();
        p[k] = h;
        assert.equal(await verifyInclusion(v.index, v.tree_size, leaf, p, root), false);
        checked++;
      }
    }
    for (const r of pick(flips(root))) {
      assert.equal(await verifyInclusion(v.index, v.tree_size, leaf, proof, r), false);
      checked++;
    }
    for (const l of pick(flips(leaf))) {
      assert.equal(await verifyInclusion(v.index, v.tree_size, l, proof, root), false);
      checked++;
    }
  }
  assert.ok(checked > 3000, `checked ${checked}`);
  t.diagnostic(`${checked} flipped proofs refused`);
});

test('inclusion proofs for another index, size, or with a hash added or dropped fail', async () => {
  for (const v of V.inclusion) {
    const leaf = await leafHash(d(v.entry_b64));
    const proof = v.hashes.map(d);
    const root = d(v.root);
    const no = (i, t, p) => verifyInclusion(i, t, leaf, p, root).then((ok) => assert.equal(ok, false, `${i}/${t} of ${v.index}/${v.tree_size}`));
    if (v.tree_size > 1) {
      await no((v.index + 1) % v.tree_size, v.tree_size, proof);
    }
    await no(v.index, v.tree_size, [...proof, root]);
    if (proof.length > 0) await no(v.index, v.tree_size, proof.slice(1));
    if (proof.length > 1) await no(v.index, v.tree_size, [...proof].reverse());
    await no(v.tree_size, v.tree_size, proof);
    await no(-1, v.tree_size, proof);
    await no(v.index + 0.5, v.tree_size, proof);
  }
});

test('consistency proofs verify', async () => {
  for (const v of V.consistency) {
    assert.ok(await verifyConsistency(v.from, v.to, d(v.from_root), d(v.to_root), v.hashes.map(d)), `${v.from}->${v.to}`);
  }
});

test('consistency proofs with a flipped bit fail', async (t) => {
  let checked = 0;
  for (const v of V.consistency) {
    const proof = v.hashes.map(d);
    const fr = d(v.from_root);
    const tr = d(v.to_root);
    const pick = thoroughConsistency(v) ? (all) => all : someFlips;
    for (let k = 0; k < proof.length; k++) {
      for (const h of pick(flips(proof[k]))) {
        const p = proof.slice();
        p[k] = h;
        assert.equal(await verifyConsistency(v.from, v.to, fr, tr, p), false, `${v.from}->${v.to} hash ${k}`);
        checked++;
      }
    }
    for (const h of pick(flips(fr))) {
      assert.equal(await verifyConsistency(v.from, v.to, h, tr, proof), false);
      checked++;
    }
    for (const h of pick(flips(tr))) {
      assert.equal(await verifyConsistency(v.from, v.to, fr, h, proof), false);
      checked++;
    }
  }
  assert.ok(checked > 3000, `checked ${checked}`);
  t.diagnostic(`${checked} flipped proofs refused`);
});

test('consistency proofs for other sizes or with a hash added or dropped fail', async () => {
  for (const v of V.consistency) {
    const proof = v.hashes.map(d);
    const fr = d(v.from_root);
    const tr = d(v.to_root);
    const no = (a, b, p) => verifyConsistency(a, b, fr, tr, p).then((ok) => assert.equal(ok, false, `${a}->${b} of ${v.from}->${v.to}`));
    if (v.from !== v.to) {
      await no(v.to, v.from, proof);
      await no(v.from, v.to, proof.slice(1));
      await no(v.from, v.to, proof.slice(0, -1));
      await no(v.from, v.to, []);
    }
    await no(v.from, v.to, [...proof, tr]);
    await no(0, v.to, proof);
  }
});

test('the note package example verifies', async () => {
  const n = V.notes[0];
  assert.equal(await openNote(n.note, n.verifier_key), n.text);
});

test('a note with a flipped bit in its text or signature fails', async () => {
  const n = V.notes[0];
  const sigAt = n.note.lastIndexOf(' ') + 1;
  const sig = d(n.note.slice(sigAt, -1));
  let checked = 0;
  // Every bit of the signature (after the 4-byte key hash: a flipped key
  // hash makes it another key's signature, which is "no signature").
  for (const s of flips(sig)) {
    await assert.rejects(openNote(n.note.slice(0, sigAt) + encodeBase64(s) + '\n', n.verifier_key));
    checked++;
  }
  // Every byte of the text, changed to another printable ASCII character.
  for (let i = 0; i < n.text.length - 1; i++) {
    const c = n.text[i] === 'x' ? 'y' : 'x';
    await assert.rejects(openNote(n.text.slice(0, i) + c + n.note.slice(i + 1), n.verifier_key));
    checked++;
  }
  assert.ok(checked > 600);
});

test('malformed notes and verifier keys are refused', async () => {
  const n = V.notes[0];
  const bad = [
    n.note.slice(0, -1), // no final newline
    n.note.replace('\n\n', '\n'), // no blank line
    n.note.replace('— ', '-- '), // not an em dash
    n.note.replace('your', 'your\u0007'), // a control character
    n.note.replace('problem,', 'problem,\r'),
    n.note + '— PeterNeumann !!!!\n', // bad base64 in an extra signature
  ];
  for (const m of bad) await assert.rejects(openNote(m, n.verifier_key), undefined, JSON.stringify(m.slice(0, 20)));
  // Signed by another key only: no signature by the verifier key.
  await assert.rejects(openCheckpoint(V.inclusion[0].checkpoint, V.other_verifier_key), /no signature/);
  const vk = V.notes[0].verifier_key;
  for (const k of [vk.replace('c74f20a3', 'c74f20a4'), vk.replace('PeterNeumann', 'PeterNeumanm'), 'PeterNeumann+c74f20a3', '', vk.replace('+ARpc', '+AhRpc')]) {
    await assert.rejects(parseVerifierKey(k), undefined, k);
  }
  await parseVerifierKey(vk);
});

test('checkpoints open and parse', async () => {
  for (const v of V.inclusion.slice(0, 10)) {
    const cp = await openCheckpoint(v.checkpoint, V.verifier_key);
    assert.equal(cp.size, v.tree_size);
    assert.equal(encodeBase64(cp.root), v.root);
    assert.equal(cp.origin, V.origin);
  }
});

function bundle(v) {
  return {
    entry_b64: v.entry_b64,
    proof: { index: v.index, tree_size: v.tree_size, hashes: v.hashes },
    checkpoint: v.checkpoint,
    verifier_key: V.verifier_key,
  };
}

test('verifyEntry: OK for every vector, FAILED when anything is changed', async () => {
  for (const v of V.inclusion) {
    const r = await verifyEntry(bundle(v), v.index, V.verifier_key);
    assert.ok(r.ok, JSON.stringify(r.steps));
  }
  const v = V.inclusion.find((x) => x.tree_size === 70 && x.hashes.length >= 7);
  const changes = {
    'entry byte': (b) => {
      const e = d(b.entry_b64);
      e[5] ^= 1;
      b.entry_b64 = encodeBase64(e);
    },
    'proof hash': (b) => {
      const h = d(b.proof.hashes[2]);
      h[0] ^= 0x80;
      b.proof.hashes[2] = encodeBase64(h);
    },
    'proof index': (b) => (b.proof.index += 1),
    'proof tree size': (b) => (b.proof.tree_size -= 1),
    'checkpoint root': (b) => {
      const lines = b.checkpoint.split('\n');
      const r = d(lines[2]);
      r[31] ^= 1;
      lines[2] = encodeBase64(r);
      b.checkpoint = lines.join('\n');
    },
    'checkpoint size': (b) => (b.checkpoint = b.checkpoint.replace('\n70\n', '\n71\n')),
    'non-canonical base64': (b) => (b.proof.hashes[0] = b.proof.hashes[0].replace(/=$/, '')),
  };
  for (const [what, change] of Object.entries(changes)) {
    const b = structuredClone(bundle(v));
    change(b);
    const r = await verifyEntry(b, v.index, V.verifier_key);
    assert.equal(r.ok, false, what);
  }
  const r = await verifyEntry(bundle(v), v.index, V.other_verifier_key);
  assert.equal(r.ok, false, 'another key');
  assert.equal(r.steps[0].ok, false);
  assert.equal((await verifyEntry(bundle(v), v.index + 1, V.verifier_key)).ok, false, 'another index');
});

test('verifyCheckpoints: OK for every vector, FAILED when anything is changed', async () => {
  const resp = (v) => ({
    from: { size: v.from, checkpoint: v.from_checkpoint },
    to: { size: v.to, checkpoint: v.to_checkpoint },
    hashes: v.hashes,
  });
  for (const v of V.consistency) {
    const r = await verifyCheckpoints(resp(v), V.verifier_key);
    assert.ok(r.ok, JSON.stringify(r.steps));
  }
  const v = V.consistency.find((x) => x.from === 33 && x.to === 70);
  const swapped = resp(v);
  [swapped.from, swapped.to] = [swapped.to, swapped.from];
  assert.equal((await verifyCheckpoints(swapped, V.verifier_key)).ok, false, 'swapped');
  const wrongSize = resp(v);
  wrongSize.to.size = 71;
  assert.equal((await verifyCheckpoints(wrongSize, V.verifier_key)).ok, false, 'size');
  const tampered = resp(v);
  const h = d(tampered.hashes[0]);
  h[7] ^= 4;
  tampered.hashes[0] = encodeBase64(h);
  assert.equal((await verifyCheckpoints(tampered, V.verifier_key)).ok, false, 'hash');
  assert.equal((await verifyCheckpoints(resp(v), V.other_verifier_key)).ok, false, 'key');
});
