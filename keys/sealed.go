package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// Ciphertext format
//
// Every ciphertext this package makes, a data key wrapped by a
// key-encryption key or a value sealed by a data key, is
//
//	version (1 byte, 0x01) || key id (4 bytes, big-endian)
//	  || nonce (12 bytes, random) || AES-256-GCM(plaintext) || tag (16 bytes)
//
// The key id is the KEK version for wrapped data keys and the data key id
// for values: it says which key to fetch before any decryption is tried.
// The associated data is
//
//	"warden/aad/v1" || header (the first 5 bytes)
//	  || len(tenant) || tenant || len(purpose) || purpose || len(record) || record
//
// with each length a uvarint, so a ciphertext copied to another tenant,
// another purpose or another row fails to authenticate. Random 96-bit
// nonces keep a data key safe for 2^32 seals (NIST SP 800-38D §8.3).

const (
	formatV1   = 0x01
	headerLen  = 1 + 4
	nonceLen   = 12
	tagLen     = 16
	keyLen     = 32
	aadContext = "warden/aad/v1"
	// Overhead is how many bytes Seal adds to a plaintext.
	Overhead = headerLen + nonceLen + tagLen
)

var (
	// ErrDecrypt reports a ciphertext that does not authenticate: it was
	// altered, or copied from another tenant, purpose or record, or made
	// under another key.
	ErrDecrypt = errors.New("keys: ciphertext does not authenticate (tampered, or moved from another tenant, purpose or record)")
	// ErrFormat reports bytes that are not a ciphertext of this package.
	ErrFormat = errors.New("keys: not a warden ciphertext (bad length or version byte)")
)

// AAD says where a ciphertext belongs. It is authenticated, not stored.
type AAD struct {
	Tenant  string // tenant name
	Purpose string // what the ciphertext is, e.g. "vault.value" or "dek.value"
	Record  string // which row, e.g. a token identifier
}

func (a AAD) bytes(header []byte) []byte {
	b := make([]byte, 0, len(aadContext)+headerLen+3*binary.MaxVarintLen32+len(a.Tenant)+len(a.Purpose)+len(a.Record))
	b = append(b, aadContext...)
	b = append(b, header...)
	for _, f := range [...]string{a.Tenant, a.Purpose, a.Record} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	return b
}

// KeyID returns the id of the key that made ciphertext, without
// decrypting it.
func KeyID(ciphertext []byte) (uint32, error) {
	if len(ciphertext) < Overhead || ciphertext[0] != formatV1 {
		return 0, ErrFormat
	}
	return binary.BigEndian.Uint32(ciphertext[1:headerLen]), nil
}

// sealWith encrypts plaintext under aead and appends the ciphertext to dst.
func sealWith(aead cipher.AEAD, id uint32, dst, plaintext []byte, ad AAD) []byte {
	start := len(dst)
	dst = append(dst, formatV1, 0, 0, 0, 0)
	binary.BigEndian.PutUint32(dst[start+1:], id)
	var nonce [nonceLen]byte
	rand.Read(nonce[:]) // never fails (crypto/rand)
	dst = append(dst, nonce[:]...)
	return aead.Seal(dst, nonce[:], plaintext, ad.bytes(dst[start:start+headerLen]))
}

// openWith decrypts ciphertext made by sealWith with key id id.
func openWith(aead cipher.AEAD, id uint32, dst, ciphertext []byte, ad AAD) ([]byte, error) {
	got, err := KeyID(ciphertext)
	if err != nil {
		return nil, err
	}
	if got != id {
		return nil, fmt.Errorf("keys: ciphertext was made by key %d, not key %d", got, id)
	}
	out, err := aead.Open(dst, ciphertext[headerLen:headerLen+nonceLen], ciphertext[headerLen+nonceLen:], ad.bytes(ciphertext[:headerLen]))
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}

func newGCM(key []byte) (cipher.AEAD, error) {
	if len(key) != keyLen {
		return nil, fmt.Errorf("keys: key is %d bytes, want %d", len(key), keyLen)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("keys: %w", err)
	}
	return cipher.NewGCM(block)
}

// DataKey is an unwrapped AES-256-GCM data key. It does not print.
type DataKey struct {
	id   uint32
	aead cipher.AEAD
}

// NewDataKey returns a fresh random 32-byte data key, to be wrapped with
// [Keyring.Wrap] and stored. The caller should clear the bytes once
// wrapped.
func NewDataKey() []byte {
	k := make([]byte, keyLen)
	rand.Read(k)
	return k
}

// LoadDataKey makes a DataKey with identifier id from raw key bytes (for
// example from [Keyring.Unwrap]).
func LoadDataKey(id uint32, key []byte) (*DataKey, error) {
	aead, err := newGCM(key)
	if err != nil {
		return nil, err
	}
	return &DataKey{id: id, aead: aead}, nil
}

// ID is the key's identifier, written into every ciphertext it makes.
func (k *DataKey) ID() uint32 { return k.id }

// Seal encrypts plaintext bound to ad and appends the result to dst.
func (k *DataKey) Seal(dst, plaintext []byte, ad AAD) []byte {
	return sealWith(k.aead, k.id, dst, plaintext, ad)
}

// Open decrypts a ciphertext made by Seal with the same ad and appends
// the plaintext to dst. It fails with ErrDecrypt if anything changed.
func (k *DataKey) Open(dst, ciphertext []byte, ad AAD) ([]byte, error) {
	return openWith(k.aead, k.id, dst, ciphertext, ad)
}

// String hides the key.
func (k *DataKey) String() string { return fmt.Sprintf("keys.DataKey(%d)", k.id) }

// GoString hides the key.
func (k *DataKey) GoString() string { return k.String() }
