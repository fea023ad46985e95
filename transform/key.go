package transform

import (
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// MinKeyLen is the shortest key, in bytes, that Key accepts.
const MinKeyLen = 32

// ErrShortKey reports key material shorter than MinKeyLen bytes.
var ErrShortKey = errors.New("transform: key is shorter than 32 bytes")

// Key is secret key material for the keyed operators (hash, tokenize,
// synthetic). It never prints: String, GoString, Format and MarshalText
// all give "[redacted]". It cannot be compared with ==. The zero Key is
// "no key".
type Key struct {
	b []byte
}

// NewKey copies b into a Key. It refuses material shorter than MinKeyLen.
func NewKey(b []byte) (Key, error) {
	if len(b) < MinKeyLen {
		return Key{}, ErrShortKey
	}
	return Key{b: append([]byte(nil), b...)}, nil
}

// ParseKey decodes key material written as hex or base64 (standard or URL
// alphabet, padded or not), as it appears in a configuration file or an
// environment variable. Errors never echo the input.
func ParseKey(s string) (Key, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Key{}, errors.New("transform: key is empty")
	}
	if b, err := hex.DecodeString(s); err == nil {
		return NewKey(b)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return NewKey(b)
		}
	}
	return Key{}, errors.New("transform: key is neither hex nor base64")
}

// IsZero reports whether k holds no key material.
func (k Key) IsZero() bool { return len(k.b) == 0 }

// String returns "[redacted]".
func (k Key) String() string { return "[redacted]" }

// GoString returns "[redacted]", so %#v does not print the bytes either.
func (k Key) GoString() string { return "[redacted]" }

// Format writes "[redacted]" for every verb.
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[redacted]")) }

// MarshalText returns "[redacted]": serialising a configuration never
// writes the key out.
func (k Key) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// UnmarshalText parses hex or base64 key material (see ParseKey), so a Key
// can sit directly in a YAML or JSON configuration struct.
func (k *Key) UnmarshalText(text []byte) error {
	nk, err := ParseKey(string(text))
	if err != nil {
		return err
	}
	*k = nk
	return nil
}

// HKDF info strings, one per purpose, so that no two operators ever use
// the same key bytes.
const (
	infoSIVMac    = "warden transform v1 stateless-token mac"
	infoSIVEnc    = "warden transform v1 stateless-token enc"
	infoHash      = "warden transform v1 hash"
	infoSynthetic = "warden transform v1 synthetic"
)

// derive returns a 32-byte subkey for one purpose: HKDF-SHA256 (RFC 5869)
// with an empty salt and the purpose as info. The configured key is
// already uniformly random key material, so no salt is needed.
func (k Key) derive(info string) ([]byte, error) {
	if len(k.b) < MinKeyLen {
		return nil, ErrShortKey
	}
	return hkdf.Key(sha256.New, k.b, nil, info, 32)
}
