package keys

import (
	"bytes"
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"

	"golang.org/x/crypto/argon2"
)

// A Root protects the key-encryption keys in a keyring file: a master
// key derived from a passphrase, a master key read from a key file, or a
// KMS key. Make one with [Passphrase], [KeyFile] or [KMS].
type Root struct {
	kind       string // "passphrase", "key_file" or "kms"
	passphrase []byte
	keyFile    string
	create     bool // KeyFile: create the file if missing and the keyring is new
	keeper     Keeper
	argon      Argon2Params
}

// Keeper encrypts and decrypts small secrets with a key held elsewhere.
// *gocloud.dev/secrets.Keeper satisfies it; Warden only ever passes it
// 32-byte key-encryption keys, never payloads.
type Keeper interface {
	Encrypt(ctx context.Context, plaintext []byte) ([]byte, error)
	Decrypt(ctx context.Context, ciphertext []byte) ([]byte, error)
}

// Argon2Params are Argon2id cost parameters (RFC 9106). The zero value
// means RFC 9106's second recommended option: t=3, m=64 MiB, p=4.
type Argon2Params struct {
	Time      uint32 `json:"time"`
	MemoryKiB uint32 `json:"memory_kib"`
	Threads   uint8  `json:"threads"`
}

func (p Argon2Params) withDefaults() Argon2Params {
	if p.Time == 0 {
		p.Time = 3
	}
	if p.MemoryKiB == 0 {
		p.MemoryKiB = 64 * 1024
	}
	if p.Threads == 0 {
		p.Threads = 4
	}
	return p
}

// Passphrase protects KEKs with Argon2id(passphrase, salt). params apply
// when a new keyring is made; an existing keyring keeps its own.
func Passphrase(passphrase []byte, params Argon2Params) Root {
	return Root{kind: "passphrase", passphrase: bytes.Clone(passphrase), argon: params.withDefaults()}
}

// KeyFile protects KEKs with the 32-byte key in path, which must not be
// readable by group or others (mode 0600 or 0400). The file holds the
// key raw, in hex or in base64. With create, a missing file is generated
// (mode 0600) when the keyring is new; an existing keyring never gets a
// new key file, since it could not open the old one.
func KeyFile(path string, create bool) Root {
	return Root{kind: "key_file", keyFile: path, create: create}
}

// KMS protects KEKs with a KMS key through k. Each KEK version costs one
// Decrypt call when the keyring is opened and none afterwards.
func KMS(k Keeper) Root {
	return Root{kind: "kms", keeper: k}
}

// sealer seals and opens KEK versions under a root.
type sealer interface {
	seal(ctx context.Context, plaintext []byte, ad AAD) ([]byte, error)
	open(ctx context.Context, ciphertext []byte, ad AAD) ([]byte, error)
}

type gcmSealer struct{ aead cipher.AEAD }

func (g gcmSealer) seal(_ context.Context, p []byte, ad AAD) ([]byte, error) {
	return sealWith(g.aead, 0, nil, p, ad), nil
}

func (g gcmSealer) open(_ context.Context, c []byte, ad AAD) ([]byte, error) {
	return openWith(g.aead, 0, nil, c, ad)
}

// keeperSealer binds ad by sealing it with the plaintext: gocloud
// keepers take no associated data.
type keeperSealer struct{ k Keeper }

func (s keeperSealer) seal(ctx context.Context, p []byte, ad AAD) ([]byte, error) {
	msg := append(ad.bytes(nil), p...)
	defer clear(msg)
	c, err := s.k.Encrypt(ctx, msg)
	if err != nil {
		return nil, fmt.Errorf("keys: kms encrypt: %w", err)
	}
	return c, nil
}

func (s keeperSealer) open(ctx context.Context, c []byte, ad AAD) ([]byte, error) {
	msg, err := s.k.Decrypt(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("keys: kms decrypt failed (wrong keys.kms key, or no access): %w", err)
	}
	prefix := ad.bytes(nil)
	if !bytes.HasPrefix(msg, prefix) {
		clear(msg)
		return nil, ErrDecrypt
	}
	return msg[len(prefix):], nil
}

// unlock derives the root's sealer for the keyring described by rf,
// filling rf's parameters when the keyring is new.
func (r Root) unlock(rf *rootParams, isNew bool) (s sealer, generated bool, err error) {
	if !isNew && rf.Kind != r.kind {
		return nil, false, fmt.Errorf("keys: the keyring is protected by a %s, but a %s is configured", kindName(rf.Kind), kindName(r.kind))
	}
	rf.Kind = r.kind
	switch r.kind {
	case "passphrase":
		if len(r.passphrase) == 0 {
			return nil, false, errors.New("keys: empty passphrase")
		}
		if isNew {
			rf.KDF = "argon2id"
			rf.Salt = make([]byte, 16)
			rand.Read(rf.Salt)
			p := r.argon
			rf.Argon2 = &p
		}
		if rf.KDF != "argon2id" || rf.Argon2 == nil || len(rf.Salt) < 16 {
			return nil, false, errors.New("keys: keyring root: unknown or incomplete key derivation parameters")
		}
		p := *rf.Argon2
		if p.Time == 0 || p.MemoryKiB < 8*1024 || p.Threads == 0 || p.MemoryKiB > 4<<20 || p.Time > 64 {
			return nil, false, errors.New("keys: keyring root: argon2id parameters out of range")
		}
		k := argon2.IDKey(r.passphrase, rf.Salt, p.Time, p.MemoryKiB, p.Threads, keyLen)
		defer clear(k)
		aead, err := newGCM(k)
		if err != nil {
			return nil, false, err
		}
		return gcmSealer{aead}, false, nil
	case "key_file":
		k, generated, err := readKeyFile(r.keyFile, r.create && isNew)
		if err != nil {
			return nil, false, err
		}
		defer clear(k)
		aead, err := newGCM(k)
		if err != nil {
			return nil, false, err
		}
		return gcmSealer{aead}, generated, nil
	case "kms":
		if r.keeper == nil {
			return nil, false, errors.New("keys: no KMS keeper")
		}
		return keeperSealer{r.keeper}, false, nil
	}
	return nil, false, errors.New("keys: no root configured (passphrase, key file or KMS)")
}

func kindName(kind string) string {
	switch kind {
	case "passphrase":
		return "passphrase"
	case "key_file":
		return "key file"
	case "kms":
		return "KMS key"
	}
	return "root of unknown kind"
}

// readKeyFile reads a 32-byte key, checking the file mode. With create
// and no file, it writes a new random key (mode 0600).
func readKeyFile(path string, create bool) (key []byte, created bool, err error) {
	if path == "" {
		return nil, false, errors.New("keys: key file: no path")
	}
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) && create {
		k, err := createKeyFile(path)
		return k, err == nil, err
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("keys: key file %s is missing; the keyring cannot be opened without it (restore it from backup)", path)
	}
	if err != nil {
		return nil, false, fmt.Errorf("keys: key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, false, fmt.Errorf("keys: key file %s is not a regular file", path)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("keys: key file %s has mode %04o; it must not be readable by group or others (chmod 600 %s)", path, fi.Mode().Perm(), path)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("keys: key file: %w", err)
	}
	defer clear(raw)
	k, ok := decodeKey(raw)
	if !ok {
		return nil, false, fmt.Errorf("keys: key file %s: want 32 bytes, raw or as hex or base64", path)
	}
	return k, false, nil
}

func decodeKey(raw []byte) ([]byte, bool) {
	if len(raw) == keyLen {
		return bytes.Clone(raw), true
	}
	s := bytes.TrimSpace(raw)
	if len(s) == 2*keyLen {
		k := make([]byte, keyLen)
		if _, err := hex.Decode(k, s); err == nil {
			return k, true
		}
	}
	k := make([]byte, base64.StdEncoding.DecodedLen(len(s)))
	if n, err := base64.StdEncoding.Decode(k, s); err == nil && n == keyLen {
		return k[:n], true
	}
	return nil, false
}

func createKeyFile(path string) ([]byte, error) {
	k := NewDataKey()
	text := base64.StdEncoding.AppendEncode(nil, k)
	text = append(text, '\n')
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("keys: key file: %w", err)
	}
	_, err = f.Write(text)
	clear(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("keys: key file: %w", err)
	}
	return k, nil
}
