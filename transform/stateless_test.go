package transform

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
)

func newStateless(t testing.TB, seed byte) *StatelessTokens {
	t.Helper()
	s, err := NewStatelessTokens(testKey(t, seed))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestStatelessConstruction recomputes a token from the documented
// formulas with the standard library alone.
func TestStatelessConstruction(t *testing.T) {
	key := testKey(t, 1)
	kmac, _ := hkdf.Key(sha256.New, key.b, nil, "warden transform v1 stateless-token mac", 32)
	kenc, _ := hkdf.Key(sha256.New, key.b, nil, "warden transform v1 stateless-token enc", 32)
	typ, value := "EMAIL_ADDRESS", "jane.doe@acme.test"
	m := hmac.New(sha256.New, kmac)
	m.Write([]byte(typ + "\x00" + value))
	iv := m.Sum(nil)[:16]
	blk, _ := aes.NewCipher(kenc)
	ct := make([]byte, len(value))
	cipher.NewCTR(blk, iv).XORKeyStream(ct, []byte(value))
	want := FormatToken(typ, append(append([]byte(nil), iv...), ct...))

	s, _ := NewStatelessTokens(key)
	got, err := s.Token(context.Background(), typ, value)
	if err != nil || got != want {
		t.Fatalf("Token = %q, %v; want %q", got, err, want)
	}
	if got != pinnedToken {
		t.Fatalf("known answer changed: %s", got)
	}
}

func TestStatelessRoundTrip(t *testing.T) {
	s := newStateless(t, 1)
	ctx := context.Background()
	for _, v := range []string{"", "a", "jane.doe@acme.test", "4111 1111 1111 1111", "naïve 名前", "\x00\xff\xfe", strings.Repeat("x", 500)} {
		tok, err := s.Token(ctx, "PERSON", v)
		if err != nil {
			t.Fatalf("Token(%d bytes): %v", len(v), err)
		}
		ref, ok := ParseTokenAt(tok, 0)
		if !ok {
			t.Fatalf("token %q does not parse", tok)
		}
		got, ok, err := s.Reveal(ctx, ref)
		if err != nil || !ok || got != v {
			t.Fatalf("Reveal = %q, %v, %v", got, ok, err)
		}
	}
}

func TestStatelessDeterministic(t *testing.T) {
	ctx := context.Background()
	a, a2, b := newStateless(t, 1), newStateless(t, 1), newStateless(t, 2)
	t1, _ := a.Token(ctx, "EMAIL_ADDRESS", "x@y.test")
	t2, _ := a2.Token(ctx, "EMAIL_ADDRESS", "x@y.test")
	t3, _ := b.Token(ctx, "EMAIL_ADDRESS", "x@y.test")
	t4, _ := a.Token(ctx, "PERSON", "x@y.test")
	t5, _ := a.Token(ctx, "EMAIL_ADDRESS", "x@y.tesu")
	if t1 != t2 {
		t.Errorf("same key, same value: %s != %s", t1, t2)
	}
	if t1 == t3 {
		t.Error("another key gives the same token")
	}
	if t1[len("[[EMAIL_ADDRESS:"):] == t4[len("[[PERSON:"):] {
		t.Error("another type gives the same ID")
	}
	if t1 == t5 {
		t.Error("another value gives the same token")
	}
	ref, _ := ParseTokenAt(t1, 0)
	if _, ok, _ := b.Reveal(ctx, ref); ok {
		t.Error("token revealed under another key")
	}
}

// TestStatelessRejectsTampering flips every bit of a token's ID and its
// type and expects Reveal to refuse each.
func TestStatelessRejectsTampering(t *testing.T) {
	s := newStateless(t, 1)
	ctx := context.Background()
	tok, _ := s.Token(ctx, "US_SSN", "123-45-6789")
	ref, _ := ParseTokenAt(tok, 0)
	for i := range ref.ID {
		for bit := 0; bit < 8; bit++ {
			m := ref
			m.ID = append([]byte(nil), ref.ID...)
			m.ID[i] ^= 1 << bit
			if v, ok, err := s.Reveal(ctx, m); ok || err != nil || v != "" {
				t.Fatalf("flipped byte %d bit %d: %q %v %v", i, bit, v, ok, err)
			}
		}
	}
	for _, m := range []TokenRef{
		{Type: "US_SSM", ID: ref.ID},
		{Type: "US_SSN", ID: ref.ID[:len(ref.ID)-1]},
		{Type: "US_SSN", ID: ref.ID[:15]},
		{Type: "US_SSN", ID: append(append([]byte(nil), ref.ID...), 0)},
	} {
		if v, ok, err := s.Reveal(ctx, m); ok || err != nil || v != "" {
			t.Fatalf("tampered %+v revealed %q %v %v", m, v, ok, err)
		}
	}
}

func TestStatelessLimits(t *testing.T) {
	s := newStateless(t, 1)
	ctx := context.Background()
	max := MaxStatelessValueLen("SECRET_KEY")
	tok, err := s.Token(ctx, "SECRET_KEY", strings.Repeat("k", max))
	if err != nil || len(tok) > MaxTokenLen {
		t.Fatalf("value of %d bytes: len %d, %v", max, len(tok), err)
	}
	if refs := FindTokens(tok); len(refs) != 1 {
		t.Fatalf("longest token not found")
	}
	if _, err := s.Token(ctx, "SECRET_KEY", strings.Repeat("k", max+1)); !errors.Is(err, ErrValueTooLong) {
		t.Fatalf("value of %d bytes: %v", max+1, err)
	}
	if _, err := s.Token(ctx, "bad-type", "v"); err == nil {
		t.Fatal("bad type accepted")
	}
	if _, err := NewStatelessTokens(Key{}); !errors.Is(err, ErrShortKey) {
		t.Fatalf("zero key: %v", err)
	}
}
