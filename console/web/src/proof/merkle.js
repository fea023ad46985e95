// RFC 6962 Merkle tree proofs, checked with WebCrypto SHA-256.
//
// Hashes (RFC 6962 §2.1, RFC 9162 §2.1.1):
//
//	leaf hash  MTH({d}) = SHA-256(0x00 || d)
//	node hash  SHA-256(0x01 || left || right)
//
// The proofs are the audit paths and consistency proofs that
// golang.org/x/mod/sumdb/tlog produces (ProveRecord, ProveTree): the
// hashes are ordered from the leaf (or the old tree) up to the root, as
// RFC 6962 §2.1.1 and §2.1.2 define them. The verifiers below are the
// algorithms of RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency),
// step by step; tree sizes and indexes are JavaScript numbers, exact up
// to 2^53.

const HASH_SIZE = 32;

async function sha256(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const buf = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    buf.set(p, o);
    o += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
}

const LEAF = Uint8Array.of(0);
const NODE = Uint8Array.of(1);

/** leafHash returns SHA-256(0x00 || entry), the hash of a log entry. */
export function leafHash(entry) {
  return sha256(LEAF, entry);
}

/** nodeHash returns SHA-256(0x01 || left || right). */
export function nodeHash(left, right) {
  return sha256(NODE, left, right);
}

/** equalBytes reports whether a and b hold the same bytes. */
export function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
  return d === 0;
}

function isSize(n) {
  return Number.isSafeInteger(n) && n >= 0;
}

function checkHashes(list) {
  return Array.isArray(list) && list.every((h) => h instanceof Uint8Array && h.length === HASH_SIZE);
}

function isPowerOfTwo(n) {
  while (n > 1 && n % 2 === 0) n /= 2;
  return n === 1;
}

const lsb = (n) => n % 2 === 1;
const half = (n) => Math.floor(n / 2);

/**
 * verifyInclusion reports whether proof (an array of 32-byte hashes) proves
 * that the leaf with hash leaf is at index in the tree of size treeSize
 * whose root hash is root (RFC 9162 §2.1.3.2).
 */
export async function verifyInclusion(index, treeSize, leaf, proof, root) {
  if (!isSize(index) || !isSize(treeSize) || index >= treeSize) return false;
  if (!checkHashes([leaf, root]) || !checkHashes(proof)) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      r = await nodeHash(p, r);
      if (!lsb(fn)) {
        while (!lsb(fn) && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(r, root);
}

/**
 * verifyConsistency reports whether proof proves that the tree of size
 * first with root firstRoot is a prefix of the tree of size second with
 * root secondRoot (RFC 9162 §2.1.4.2). Equal sizes need an empty proof
 * and equal roots; a first size of 0 is refused, as tlog.CheckTree does.
 */
export async function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  if (!isSize(first) || !isSize(second) || first < 1 || first > second) return false;
  if (!checkHashes([firstRoot, secondRoot]) || !checkHashes(proof)) return false;
  if (first === second) return proof.length === 0 && equalBytes(firstRoot, secondRoot);
  if (proof.length === 0) return false;
  let path = proof;
  // first is an exact power of 2: the old tree is a node of the new one.
  if (isPowerOfTwo(first)) path = [firstRoot, ...proof];
  let fn = first - 1;
  let sn = second - 1;
  while (lsb(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (lsb(fn) || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      while (!lsb(fn) && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && equalBytes(fr, firstRoot) && equalBytes(sr, secondRoot);
}
