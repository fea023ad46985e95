package transform

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testKey returns a fixed 32-byte key whose bytes are seed, seed+1, ….
func testKey(t testing.TB, seed byte) Key {
	t.Helper()
	b := make([]byte, 32)
	for i := range b {
		b[i] = seed + byte(i)
	}
	k, err := NewKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestKeyNeverPrints(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789ABCDEF")
	k, err := NewKey(raw)
	if err != nil {
		t.Fatal(err)
	}
	type wrapper struct {
		Name string
		Key  Key
	}
	j, _ := json.Marshal(wrapper{"x", k})
	outputs := []string{
		fmt.Sprint(k), fmt.Sprintf("%v %+v %#v %s %q %x %X %d", k, k, k, k, k, k, k, k),
		fmt.Sprintf("%+v %#v", wrapper{"x", k}, wrapper{"x", k}), k.String(), string(j),
	}
	for _, out := range outputs {
		for _, leak := range []string{string(raw), hex.EncodeToString(raw), hex.EncodeToString(raw[:8]), "0123456789abcdef", "48 49 50"} {
			if strings.Contains(out, leak) {
				t.Errorf("output %q contains key material", out)
			}
		}
		if !strings.Contains(out, "[redacted]") {
			t.Errorf("output %q lacks [redacted]", out)
		}
	}
}

func TestKeyRejectsShort(t *testing.T) {
	if _, err := NewKey(make([]byte, 31)); !errors.Is(err, ErrShortKey) {
		t.Fatalf("31-byte key: %v", err)
	}
	if _, err := NewKey(make([]byte, 32)); err != nil {
		t.Fatalf("32-byte key: %v", err)
	}
}

func TestKeyCopiesInput(t *testing.T) {
	raw := make([]byte, 32)
	k, _ := NewKey(raw)
	raw[0] = 1
	if k.b[0] != 0 {
		t.Fatal("NewKey aliases its input")
	}
}

func TestParseKey(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789ABCDEF!")
	for _, c := range []struct {
		name, in string
		err      string
	}{
		{"hex", hex.EncodeToString(raw), ""},
		{"base64", base64.StdEncoding.EncodeToString(raw), ""},
		{"base64 raw url", base64.RawURLEncoding.EncodeToString(raw), ""},
		{"padded with spaces", "  " + hex.EncodeToString(raw) + "\n", ""},
		{"short", hex.EncodeToString(raw[:16]), "shorter than 32 bytes"},
		{"garbage", "not a key at all!!", "neither hex nor base64"},
		{"empty", "", "key is empty"},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseKey(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				if c.in != "" && strings.Contains(err.Error(), strings.TrimSpace(c.in)) {
					t.Fatalf("error echoes the input: %v", err)
				}
				return
			}
			if err != nil || string(k.b) != string(raw) {
				t.Fatalf("ParseKey: %v", err)
			}
		})
	}
	var k Key
	if err := k.UnmarshalText([]byte(hex.EncodeToString(raw))); err != nil || k.IsZero() {
		t.Fatalf("UnmarshalText: %v", err)
	}
}

func TestKeyedValuesNeverPrint(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789ABCDEF")
	k, _ := NewKey(raw)
	s, _ := NewStatelessTokens(k)
	d, err := NewDeidentifier(Config{Default: Hash, Operators: map[string]Operator{"PERSON": Synthetic, "X": Tokenize}, Key: k})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Key: k}
	out := fmt.Sprintf("%v %+v %#v %v %+v %#v %+v %#v", s, s, s, d, d, *d, cfg, cfg)
	if strings.Contains(out, string(raw)) || strings.Contains(out, hex.EncodeToString(raw)) || strings.Contains(out, "48, 49, 50") {
		t.Fatalf("key material printed: %s", out)
	}
}
