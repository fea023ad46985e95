// C2SP signed notes and tlog checkpoints, checked with WebCrypto Ed25519.
//
// Verifier key (C2SP signed-note; golang.org/x/mod/sumdb/note.NewVerifier):
//
//	<name>+<key hash, 8 lower-case hex digits>+<base64(0x01 || 32-byte Ed25519 public key)>
//
// where key hash = the first 4 bytes, big-endian, of
// SHA-256(name || "\n" || 0x01 || public key).
//
// Signed note (note.Open): UTF-8 with no control characters but "\n";
// the text, which ends in "\n", then a blank line, then one or more
// signature lines
//
//	"— " <name> " " base64(4-byte big-endian key hash || 64-byte signature) "\n"
//
// The signature is over the text including its final newline, not the
// blank line: the message up to the last "\n\n", plus one "\n".
// Signatures by other keys are skipped; at least one by the given key
// must be present and every one by it must verify.
//
// Checkpoint body (C2SP tlog-checkpoint): "<origin>\n<size>\n<base64 root>\n",
// possibly followed by extension lines; the origin must be the key's name.

import { equalBytes } from './merkle.js';

/** ProofError is a verification failure; message names what failed, never a value. */
export class ProofError extends Error {}

const enc = new TextEncoder();

/**
 * decodeBase64 decodes standard, padded base64 and refuses any other
 * spelling (so one value has one encoding, as Go's checks require).
 */
export function decodeBase64(s) {
  if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) {
    throw new ProofError('malformed base64');
  }
  let bin;
  try {
    bin = atob(s);
  } catch {
    throw new ProofError('malformed base64');
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  if (encodeBase64(out) !== s) throw new ProofError('non-canonical base64');
  return out;
}

/** encodeBase64 encodes bytes as standard, padded base64. */
export function encodeBase64(b) {
  let bin = '';
  for (let i = 0; i < b.length; i++) bin += String.fromCharCode(b[i]);
  return btoa(bin);
}

function validName(name) {
  // \s covers Go's unicode.IsSpace (and U+FEFF, which Go allows: refusing it fails closed).
  return name !== '' && !/[\s+]/u.test(name);
}

function uint32BE(b, o = 0) {
  return ((b[o] << 24) >>> 0) + (b[o + 1] << 16) + (b[o + 2] << 8) + b[o + 3];
}

async function keyHash(name, key) {
  const sum = new Uint8Array(await crypto.subtle.digest('SHA-256', concat(enc.encode(name + '\n'), key)));
  return uint32BE(sum);
}

function concat(a, b) {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/**
 * parseVerifierKey parses and checks a note verifier key string and
 * returns {name, hash, publicKey (CryptoKey)}.
 */
export async function parseVerifierKey(vkey) {
  if (typeof vkey !== 'string') throw new ProofError('malformed verifier key');
  const i = vkey.indexOf('+');
  const j = i < 0 ? -1 : vkey.indexOf('+', i + 1);
  if (j < 0) throw new ProofError('malformed verifier key');
  const name = vkey.slice(0, i);
  const hash16 = vkey.slice(i + 1, j);
  if (!validName(name) || !/^[0-9a-fA-F]{8}$/.test(hash16)) throw new ProofError('malformed verifier key');
  let key;
  try {
    key = decodeBase64(vkey.slice(j + 1));
  } catch {
    throw new ProofError('malformed verifier key');
  }
  if (key.length === 0) throw new ProofError('malformed verifier key');
  if (parseInt(hash16, 16) !== (await keyHash(name, key))) throw new ProofError('verifier key hash does not match its key');
  if (key[0] !== 1) throw new ProofError('verifier key algorithm is not Ed25519');
  if (key.length !== 33) throw new ProofError('malformed verifier key');
  const publicKey = await crypto.subtle.importKey('raw', key.slice(1), { name: 'Ed25519' }, false, ['verify']);
  return { name, hash: parseInt(hash16, 16), publicKey };
}

/**
 * openNote checks a signed note against one verifier key (a string) and
 * returns its text. It throws ProofError when the note is malformed,
 * carries no signature by the key, or a signature by the key is invalid.
 */
export async function openNote(msg, vkey) {
  return openNoteWith(msg, await parseVerifierKey(vkey));
}

async function openNoteWith(msg, v) {
  if (typeof msg !== 'string' || !msg.isWellFormed()) throw new ProofError('malformed note');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0009\u000b-\u001f]/.test(msg)) throw new ProofError('malformed note');
  const split = msg.lastIndexOf('\n\n');
  if (split < 0) throw new ProofError('malformed note');
  const text = msg.slice(0, split + 1);
  let sigs = msg.slice(split + 2);
  if (sigs.length === 0 || !sigs.endsWith('\n')) throw new ProofError('malformed note');
  let verified = 0;
  let count = 0;
  const textBytes = enc.encode(text);
  while (sigs.length > 0) {
    const nl = sigs.indexOf('\n');
    const line = sigs.slice(0, nl);
    sigs = sigs.slice(nl + 1);
    if (!line.startsWith('— ')) throw new ProofError('malformed note');
    const rest = line.slice(2);
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? rest : rest.slice(0, sp);
    const b64 = sp < 0 ? '' : rest.slice(sp + 1);
    let sig;
    try {
      sig = decodeBase64Loose(b64);
    } catch {
      throw new ProofError('malformed note');
    }
    if (!validName(name) || b64 === '' || sig.length < 5) throw new ProofError('malformed note');
    if (++count > 100) throw new ProofError('malformed note');
    if (name !== v.name || uint32BE(sig) !== v.hash) continue;
    const ok = sig.length === 68 && (await crypto.subtle.verify({ name: 'Ed25519' }, v.publicKey, sig.slice(4), textBytes));
    if (!ok) throw new ProofError('invalid signature');
    verified++;
  }
  if (verified === 0) throw new ProofError('note has no signature by the verifier key');
  return text;
}

// decodeBase64Loose decodes standard base64 as Go's StdEncoding does
// (padding required, but the canonical-spelling check is not part of note.Open).
function decodeBase64Loose(s) {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) throw new ProofError('malformed base64');
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * parseCheckpoint parses a checkpoint body and returns {origin, size, root}.
 */
export function parseCheckpoint(text) {
  const lines = text.split('\n');
  if (lines.length < 4 || lines[0] === '') throw new ProofError('malformed checkpoint');
  const [origin, sizeText, rootText] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) throw new ProofError('malformed checkpoint');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new ProofError('malformed checkpoint');
  let root;
  try {
    root = decodeBase64(rootText);
  } catch {
    throw new ProofError('malformed checkpoint');
  }
  if (root.length !== 32) throw new ProofError('malformed checkpoint');
  return { origin, size, root };
}

/**
 * openCheckpoint verifies a signed checkpoint with a verifier key and
 * returns {origin, size, root}. The origin must be the key's name.
 */
export async function openCheckpoint(msg, vkey) {
  const v = await parseVerifierKey(vkey);
  const cp = parseCheckpoint(await openNoteWith(msg, v));
  if (cp.origin !== v.name) throw new ProofError("checkpoint origin is not the verifier key's name");
  return cp;
}

export { equalBytes };
