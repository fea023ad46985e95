package transform

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"errors"
	"fmt"
)

// StatelessTokens issues and reveals tokens without storing anything: each
// token carries a deterministic authenticated encryption of its value.
// It is what tokenize uses when no vault is configured. Anyone with the key
// can restore its tokens; the vault, by contrast, scopes tokens to a
// tenant and can erase them. Because the tokens are not scoped, a caller
// who obtains another caller's token (and sends it through a gateway that
// restores with the same key) gets the original back; a gateway that
// wants per-request scoping wraps the Revealer so it reveals only the
// tokens issued for that request.
//
// Construction: SIV (Rogaway and Shrimpton, "Deterministic Authenticated-
// Encryption", EUROCRYPT 2006) with HMAC-SHA256 as the PRF and AES-256-CTR
// as the cipher:
//
//	k_mac = HKDF-SHA256(key, info="warden transform v1 stateless-token mac")
//	k_enc = HKDF-SHA256(key, info="warden transform v1 stateless-token enc")
//	IV    = HMAC-SHA256(k_mac, TYPE || 0x00 || value)[:16]
//	C     = AES-256-CTR(k_enc, IV, value)   (IV is the initial counter block)
//	ID    = IV || C                          token = [[TYPE:base32(ID)+check]]
//
// Reveal decrypts C under IV, recomputes the HMAC over the type and the
// plaintext and compares it with IV in constant time; any change to the
// type or the ID fails. The same value and type always give the same token
// under the same key (so a model sees one entity as one token), which is
// exactly what deterministic encryption leaks: equality of values.
//
// Why not AES-SIV (RFC 5297): the standard library has no AES-SIV and no
// CMAC, and adding a dependency for it is not worth it: the SIV proof only
// needs a PRF for the IV, and HMAC-SHA256 is one; the 128-bit truncation
// keeps the tag as strong as AES-SIV's. The type is separated from the
// value by 0x00, which a type (A-Z 0-9 _) never contains, so the MAC input
// is unambiguous.
type StatelessTokens struct {
	block cipher.Block
	macs  *macPool // keyed with k_mac
}

// String returns a fixed text: a StatelessTokens never prints key
// material.
func (s *StatelessTokens) String() string { return "transform.StatelessTokens{[redacted]}" }

// GoString is String, for %#v.
func (s *StatelessTokens) GoString() string { return s.String() }

// sivIVLen is the length of the synthetic IV (and authentication tag).
const sivIVLen = 16

// ErrValueTooLong reports a value whose stateless token would be longer
// than MaxTokenLen.
var ErrValueTooLong = errors.New("transform: value too long for a stateless token")

// NewStatelessTokens derives the token keys from key. It refuses a key
// shorter than MinKeyLen bytes.
func NewStatelessTokens(key Key) (*StatelessTokens, error) {
	kmac, err := key.derive(infoSIVMac)
	if err != nil {
		return nil, err
	}
	kenc, err := key.derive(infoSIVEnc)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(kenc)
	if err != nil {
		return nil, fmt.Errorf("transform: stateless tokens: %v", err)
	}
	return &StatelessTokens{block: block, macs: newMACPool(kmac)}, nil
}

var (
	_ Tokenizer     = (*StatelessTokens)(nil)
	_ BatchRevealer = (*StatelessTokens)(nil)
)

// MaxStatelessValueLen returns the longest value, in bytes, that Token
// accepts for a type: the token must fit in MaxTokenLen.
func MaxStatelessValueLen(typ string) int {
	n := MaxTokenLen * 5 / 8 // more than fits
	for n > 0 && formattedLen(typ, n) > MaxTokenLen {
		n--
	}
	return n - sivIVLen
}

// Token returns the stateless token for value. It never blocks; ctx is
// accepted to satisfy Tokenizer.
func (s *StatelessTokens) Token(_ context.Context, typ, value string) (string, error) {
	if !validType(typ) {
		return "", errBadType
	}
	if formattedLen(typ, sivIVLen+len(value)) > MaxTokenLen {
		return "", ErrValueTooLong
	}
	id := make([]byte, sivIVLen+len(value))
	body := id[sivIVLen:]
	copy(body, value)
	s.tag(id[:sivIVLen], typ, body)
	cipher.NewCTR(s.block, id[:sivIVLen]).XORKeyStream(body, body)
	return FormatToken(typ, id), nil
}

// Reveal decrypts and authenticates tok. A token that was not made under
// this key, or was changed in any way, gives ok=false and no error.
func (s *StatelessTokens) Reveal(_ context.Context, tok TokenRef) (string, bool, error) {
	v, ok := s.open(tok.Type, tok.ID)
	return v, ok, nil
}

// RevealBatch reveals toks[i] into values[i] and found[i].
func (s *StatelessTokens) RevealBatch(_ context.Context, toks []TokenRef, values []string, found []bool) error {
	for i := range toks {
		values[i], found[i] = s.open(toks[i].Type, toks[i].ID)
	}
	return nil
}

func (s *StatelessTokens) open(typ string, id []byte) (string, bool) {
	if len(id) < sivIVLen {
		return "", false
	}
	iv := id[:sivIVLen]
	pt := make([]byte, len(id)-sivIVLen)
	cipher.NewCTR(s.block, iv).XORKeyStream(pt, id[sivIVLen:])
	var tag [sivIVLen]byte
	s.tag(tag[:], typ, pt)
	if subtle.ConstantTimeCompare(tag[:], iv) != 1 {
		return "", false
	}
	return string(pt), true
}

// tag writes HMAC-SHA256(k_mac, typ || 0x00 || value)[:16] to dst.
func (s *StatelessTokens) tag(dst []byte, typ string, value []byte) {
	macSum(s.macs, dst[:sivIVLen], typ, value)
}
