// Package keys is Warden's envelope encryption: random data keys
// (AES-256-GCM) encrypt values; versioned key-encryption keys (KEKs) in a
// keyring wrap the data keys; a root (a passphrase through Argon2id, a
// key file, or a KMS key through gocloud.dev/secrets) protects the KEKs.
//
// A KMS therefore sees only KEKs, once per version per process, never
// payloads or data keys. Rotation adds a KEK version that wraps new data
// keys; rewrapping (done by the data key's owner, package vault) moves
// stored data keys to the newest version without touching the data they
// encrypt; retiring a version deletes it, after which anything it still
// wrapped fails with [ErrRetired].
//
// Every ciphertext names the key that made it and is bound to its tenant,
// purpose and record by associated data; see sealed.go for the format.
package keys

import (
	"context"
	"crypto/cipher"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"
)

// ErrRetired reports a ciphertext wrapped by a KEK version that has been
// retired.
var ErrRetired = errors.New("keys: key-encryption key version is retired; what it wrapped can no longer be opened")

// ErrNoKeyring reports a keyring file that does not exist when Options
// did not ask to create one.
var ErrNoKeyring = errors.New("keys: keyring file does not exist")

// keyringFile is the keyring's JSON form. Every key in it is sealed by
// the root; the file is safe to back up and to share between replicas
// that share the root.
type keyringFile struct {
	Format   int          `json:"format"`
	Root     rootParams   `json:"root"`
	Check    []byte       `json:"check"`
	Versions []kekVersion `json:"versions"`
}

type rootParams struct {
	Kind   string        `json:"kind"`
	KDF    string        `json:"kdf,omitempty"`
	Salt   []byte        `json:"salt,omitempty"`
	Argon2 *Argon2Params `json:"argon2,omitempty"`
}

type kekVersion struct {
	Version uint32     `json:"version"`
	Created time.Time  `json:"created"`
	Retired *time.Time `json:"retired,omitempty"`
	Key     []byte     `json:"key,omitempty"` // sealed by the root; dropped at retire
}

const keyringFormat = 1

var checkAAD = AAD{Purpose: "keyring.check"}

const checkText = "warden keyring"

func kekAAD(v uint32) AAD {
	return AAD{Purpose: "keyring.kek", Record: strconv.FormatUint(uint64(v), 10)}
}

// Options configures [Open].
type Options struct {
	// Path is the keyring file.
	Path string
	// Root protects the KEKs.
	Root Root
	// Create makes a new keyring, with KEK version 1, when Path does not
	// exist.
	Create bool
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// Version describes one KEK version.
type Version struct {
	Version uint32
	Created time.Time
	Retired time.Time // zero while active
	Current bool      // wraps new data keys
}

// Keyring holds the KEK versions. It is safe for concurrent use, and
// notices versions added or retired by other processes.
type Keyring struct {
	path    string
	now     func() time.Time
	sealer  sealer
	created bool
	genKey  string

	mu    sync.RWMutex
	file  keyringFile
	keks  map[uint32]cipher.AEAD
	stamp fileStamp
}

type fileStamp struct {
	mod  time.Time
	size int64
}

// Open opens the keyring at opt.Path, or creates it when opt.Create is
// set and the file does not exist. A wrong passphrase, a wrong or
// missing key file and a damaged file each fail with a message that says
// which.
func Open(ctx context.Context, opt Options) (*Keyring, error) {
	if opt.Path == "" {
		return nil, errors.New("keys: keyring: no path")
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(opt.Path), 0o700); err != nil {
		return nil, fmt.Errorf("keys: keyring: %w", err)
	}
	k := &Keyring{path: opt.Path, now: opt.Now, keks: map[uint32]cipher.AEAD{}}
	err := withFileLock(opt.Path, func() error {
		_, err := os.Stat(opt.Path)
		switch {
		case errors.Is(err, fs.ErrNotExist) && opt.Create:
			return k.create(ctx, opt.Root)
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("%w: %s", ErrNoKeyring, opt.Path)
		case err != nil:
			return fmt.Errorf("keys: keyring: %w", err)
		}
		f, st, err := readKeyringFile(opt.Path)
		if err != nil {
			return err
		}
		s, _, err := opt.Root.unlock(&f.Root, false)
		if err != nil {
			return err
		}
		k.sealer = s
		if err := k.check(ctx, f, opt.Root); err != nil {
			return err
		}
		return k.install(ctx, f, st)
	})
	if err != nil {
		return nil, err
	}
	return k, nil
}

func (k *Keyring) create(ctx context.Context, root Root) error {
	f := keyringFile{Format: keyringFormat}
	s, generated, err := root.unlock(&f.Root, true)
	if err != nil {
		return err
	}
	if generated {
		k.genKey = root.keyFile
	}
	k.sealer = s
	if f.Check, err = s.seal(ctx, []byte(checkText), checkAAD); err != nil {
		return err
	}
	kek := NewDataKey()
	defer clear(kek)
	sealed, err := s.seal(ctx, kek, kekAAD(1))
	if err != nil {
		return err
	}
	f.Versions = []kekVersion{{Version: 1, Created: k.now().UTC(), Key: sealed}}
	if err := writeKeyringFile(k.path, f); err != nil {
		return err
	}
	st, err := statFile(k.path)
	if err != nil {
		return err
	}
	k.created = true
	return k.install(ctx, f, st)
}

// check tells a wrong root from a damaged keyring.
func (k *Keyring) check(ctx context.Context, f keyringFile, root Root) error {
	p, err := k.sealer.open(ctx, f.Check, checkAAD)
	if err == nil && string(p) == checkText {
		return nil
	}
	switch root.kind {
	case "passphrase":
		return fmt.Errorf("keys: wrong passphrase for keyring %s", k.path)
	case "key_file":
		return fmt.Errorf("keys: key file %s does not open keyring %s (wrong key file)", root.keyFile, k.path)
	}
	if err != nil && !errors.Is(err, ErrDecrypt) {
		return err
	}
	return fmt.Errorf("keys: the KMS key does not open keyring %s (wrong keys.kms)", k.path)
}

// install unseals f's active versions that are not yet in memory and
// makes f the current state. Called with k.mu held or before k is shared.
func (k *Keyring) install(ctx context.Context, f keyringFile, st fileStamp) error {
	keks := make(map[uint32]cipher.AEAD, len(f.Versions))
	for _, v := range f.Versions {
		if v.Retired != nil {
			continue
		}
		if a, ok := k.keks[v.Version]; ok {
			keks[v.Version] = a
			continue
		}
		raw, err := k.sealer.open(ctx, v.Key, kekAAD(v.Version))
		if err != nil {
			return fmt.Errorf("keys: keyring %s: KEK version %d does not open (damaged file): %w", k.path, v.Version, err)
		}
		a, err := newGCM(raw)
		clear(raw)
		if err != nil {
			return fmt.Errorf("keys: keyring %s: KEK version %d: %w", k.path, v.Version, err)
		}
		keks[v.Version] = a
	}
	if len(keks) == 0 {
		return fmt.Errorf("keys: keyring %s has no active KEK version", k.path)
	}
	k.file, k.keks, k.stamp = f, keks, st
	return nil
}

// refresh rereads the file if another process changed it.
func (k *Keyring) refresh(ctx context.Context) error {
	st, err := statFile(k.path)
	if err != nil {
		return err
	}
	k.mu.RLock()
	same := st == k.stamp
	k.mu.RUnlock()
	if same {
		return nil
	}
	return k.reload(ctx)
}

func (k *Keyring) reload(ctx context.Context) error {
	f, st, err := readKeyringFile(k.path)
	if err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.install(ctx, f, st)
}

// Created reports whether Open made a new keyring.
func (k *Keyring) Created() bool { return k.created }

// GeneratedKeyFile is the key file Open generated for a new keyring, or "".
func (k *Keyring) GeneratedKeyFile() string { return k.genKey }

// Path is the keyring file.
func (k *Keyring) Path() string { return k.path }

// Current is the KEK version that wraps new data keys: the newest active one.
func (k *Keyring) Current() uint32 {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.currentLocked()
}

func (k *Keyring) currentLocked() uint32 {
	var cur uint32
	for v := range k.keks {
		cur = max(cur, v)
	}
	return cur
}

// Versions lists every KEK version, oldest first.
func (k *Keyring) Versions(ctx context.Context) ([]Version, error) {
	if err := k.refresh(ctx); err != nil {
		return nil, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	cur := k.currentLocked()
	out := make([]Version, 0, len(k.file.Versions))
	for _, v := range k.file.Versions {
		ver := Version{Version: v.Version, Created: v.Created, Current: v.Version == cur}
		if v.Retired != nil {
			ver.Retired = *v.Retired
		}
		out = append(out, ver)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

// Wrap seals a data key under the current KEK version, bound to ad.
func (k *Keyring) Wrap(ctx context.Context, dataKey []byte, ad AAD) (wrapped []byte, version uint32, err error) {
	if err := k.refresh(ctx); err != nil {
		return nil, 0, err
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	v := k.currentLocked()
	return sealWith(k.keks[v], v, nil, dataKey, ad), v, nil
}

// Unwrap opens a data key sealed by Wrap under any active version.
func (k *Keyring) Unwrap(ctx context.Context, wrapped []byte, ad AAD) ([]byte, error) {
	v, err := KeyID(wrapped)
	if err != nil {
		return nil, err
	}
	// Data keys are unwrapped rarely (callers cache them), so check the
	// file every time: a retirement elsewhere takes effect at once.
	if err := k.refresh(ctx); err != nil {
		return nil, err
	}
	a, retired, ok := k.lookup(v)
	if !ok && !retired {
		if err := k.reload(ctx); err != nil {
			return nil, err
		}
		a, retired, ok = k.lookup(v)
	}
	if retired {
		return nil, fmt.Errorf("keys: KEK version %d: %w", v, ErrRetired)
	}
	if !ok {
		return nil, fmt.Errorf("keys: KEK version %d is not in keyring %s", v, k.path)
	}
	return openWith(a, v, nil, wrapped, ad)
}

func (k *Keyring) lookup(v uint32) (a cipher.AEAD, retired, ok bool) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	if a, ok := k.keks[v]; ok {
		return a, false, true
	}
	for _, fv := range k.file.Versions {
		if fv.Version == v && fv.Retired != nil {
			return nil, true, false
		}
	}
	return nil, false, false
}

// Rotate adds a new KEK version; it wraps every data key made or
// rewrapped from now on. Older versions keep unwrapping until retired.
func (k *Keyring) Rotate(ctx context.Context) (uint32, error) {
	var nv uint32
	err := k.modify(ctx, func(f *keyringFile) error {
		for _, v := range f.Versions {
			nv = max(nv, v.Version)
		}
		nv++
		kek := NewDataKey()
		defer clear(kek)
		sealed, err := k.sealer.seal(ctx, kek, kekAAD(nv))
		if err != nil {
			return err
		}
		f.Versions = append(f.Versions, kekVersion{Version: nv, Created: k.now().UTC(), Key: sealed})
		return nil
	})
	return nv, err
}

// Retire deletes version v's key material. Data keys still wrapped by it
// can no longer be opened: rewrap them first. The current version cannot
// be retired.
func (k *Keyring) Retire(ctx context.Context, v uint32) error {
	return k.modify(ctx, func(f *keyringFile) error {
		var cur uint32
		idx := -1
		for i, fv := range f.Versions {
			if fv.Retired == nil {
				cur = max(cur, fv.Version)
			}
			if fv.Version == v {
				idx = i
			}
		}
		if idx < 0 {
			return fmt.Errorf("keys: no KEK version %d", v)
		}
		if f.Versions[idx].Retired != nil {
			return fmt.Errorf("keys: KEK version %d is already retired", v)
		}
		if v == cur {
			return fmt.Errorf("keys: KEK version %d is current; rotate first", v)
		}
		t := k.now().UTC()
		f.Versions[idx].Retired = &t
		f.Versions[idx].Key = nil
		return nil
	})
}

// modify applies fn to the freshest file under the file lock, writes it
// and installs it.
func (k *Keyring) modify(ctx context.Context, fn func(*keyringFile) error) error {
	return withFileLock(k.path, func() error {
		f, _, err := readKeyringFile(k.path)
		if err != nil {
			return err
		}
		if err := fn(&f); err != nil {
			return err
		}
		if err := writeKeyringFile(k.path, f); err != nil {
			return err
		}
		st, err := statFile(k.path)
		if err != nil {
			return err
		}
		k.mu.Lock()
		defer k.mu.Unlock()
		return k.install(ctx, f, st)
	})
}

func statFile(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, fmt.Errorf("keys: keyring: %w", err)
	}
	return fileStamp{mod: fi.ModTime(), size: fi.Size()}, nil
}

func readKeyringFile(path string) (keyringFile, fileStamp, error) {
	var f keyringFile
	st, err := statFile(path)
	if err != nil {
		return f, st, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return f, st, fmt.Errorf("keys: keyring: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, st, fmt.Errorf("keys: keyring %s is damaged (not keyring JSON)", path)
	}
	if f.Format != keyringFormat {
		return f, st, fmt.Errorf("keys: keyring %s: format %d, want %d", path, f.Format, keyringFormat)
	}
	seen := map[uint32]bool{}
	for _, v := range f.Versions {
		if v.Version == 0 || seen[v.Version] || (v.Retired == nil && len(v.Key) == 0) {
			return f, st, fmt.Errorf("keys: keyring %s is damaged (version list)", path)
		}
		seen[v.Version] = true
	}
	return f, st, nil
}

// writeKeyringFile replaces path atomically (temporary file, fsync,
// rename), mode 0600.
func writeKeyringFile(path string, f keyringFile) error {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("keys: keyring: %w", err)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("keys: keyring: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".keyring-*")
	if err != nil {
		return fmt.Errorf("keys: keyring: %w", err)
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(append(b, '\n'))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("keys: keyring: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
