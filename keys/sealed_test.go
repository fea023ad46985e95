package keys

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

func TestAADEncoding(t *testing.T) {
	// Known answer: context, header, then uvarint-length-prefixed fields.
	got := AAD{Tenant: "acme", Purpose: "p", Record: ""}.bytes([]byte{1, 0, 0, 0, 7})
	want := "warden/aad/v1" + "\x01\x00\x00\x00\x07" + "\x04acme" + "\x01p" + "\x00"
	if string(got) != want {
		t.Fatalf("aad = %q, want %q", got, want)
	}
	// Field boundaries are unambiguous.
	a := AAD{Tenant: "ab", Purpose: "c"}.bytes(nil)
	b := AAD{Tenant: "a", Purpose: "bc"}.bytes(nil)
	if bytes.Equal(a, b) {
		t.Fatal("different AADs encode the same")
	}
}

func testKey(t testing.TB, id uint32) *DataKey {
	t.Helper()
	raw, _ := hex.DecodeString("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	k, err := LoadDataKey(id, raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestDataKeySealOpen(t *testing.T) {
	k := testKey(t, 7)
	ad := AAD{Tenant: "acme", Purpose: "vault.value", Record: "EMAIL\x00id1"}
	ct := k.Seal(nil, []byte("alice@example.com"), ad)
	if len(ct) != len("alice@example.com")+Overhead {
		t.Fatalf("ciphertext length %d", len(ct))
	}
	if id, _ := KeyID(ct); id != 7 {
		t.Fatalf("KeyID = %d, want 7", id)
	}
	if ct[0] != 0x01 {
		t.Fatalf("version byte %#x", ct[0])
	}
	pt, err := k.Open(nil, ct, ad)
	if err != nil || string(pt) != "alice@example.com" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	if bytes.Contains(ct, []byte("alice")) {
		t.Fatal("plaintext visible in ciphertext")
	}

	moved := []struct {
		name string
		ad   AAD
	}{
		{"other tenant", AAD{Tenant: "globex", Purpose: ad.Purpose, Record: ad.Record}},
		{"other purpose", AAD{Tenant: ad.Tenant, Purpose: "audit", Record: ad.Record}},
		{"other record", AAD{Tenant: ad.Tenant, Purpose: ad.Purpose, Record: "EMAIL\x00id2"}},
	}
	for _, m := range moved {
		if _, err := k.Open(nil, ct, m.ad); !errors.Is(err, ErrDecrypt) {
			t.Errorf("%s: err = %v, want ErrDecrypt", m.name, err)
		}
	}
	// Every flipped bit fails: header bits as a wrong key id or format,
	// the rest as ErrDecrypt.
	for i := range ct {
		for bit := range 8 {
			bad := bytes.Clone(ct)
			bad[i] ^= 1 << bit
			if _, err := k.Open(nil, bad, ad); err == nil {
				t.Fatalf("flipping byte %d bit %d still opens", i, bit)
			}
		}
	}
	if _, err := k.Open(nil, ct[:Overhead-1], ad); !errors.Is(err, ErrFormat) {
		t.Errorf("short: %v", err)
	}
	if _, err := testKey(t, 8).Open(nil, ct, ad); err == nil || !strings.Contains(err.Error(), "key 7") {
		t.Errorf("other key id: %v", err)
	}
}

func TestDataKeyDoesNotPrint(t *testing.T) {
	k := testKey(t, 3)
	for _, s := range []string{k.String(), k.GoString()} {
		if strings.Contains(s, "0102") {
			t.Fatalf("key printed: %s", s)
		}
	}
}

func TestDecodeKey(t *testing.T) {
	raw := bytes.Repeat([]byte{0xab}, 32)
	tests := []struct {
		name string
		in   string
		ok   bool
	}{
		{"raw", string(raw), true},
		{"hex", strings.Repeat("ab", 32) + "\n", true},
		{"base64", "q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s=\n", true},
		{"short hex", strings.Repeat("ab", 31), false},
		{"garbage", "not a key", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		k, ok := decodeKey([]byte(tt.in))
		if ok != tt.ok {
			t.Errorf("%s: ok = %v", tt.name, ok)
			continue
		}
		if ok && !bytes.Equal(k, raw) {
			t.Errorf("%s: key = %x", tt.name, k)
		}
	}
}

func FuzzOpen(f *testing.F) {
	k := testKey(f, 1)
	ad := AAD{Tenant: "t", Purpose: "p", Record: "r"}
	f.Add(k.Seal(nil, []byte("value"), ad))
	f.Add([]byte{1, 0, 0, 0, 1})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, ct []byte) {
		pt, err := k.Open(nil, ct, ad)
		if err == nil {
			// Only a genuine ciphertext opens; it must round-trip.
			if again := k.Seal(nil, pt, ad); len(again) != len(ct) {
				t.Fatalf("opened a ciphertext of odd length %d", len(ct))
			}
		}
	})
}

func FuzzDecodeKey(f *testing.F) {
	f.Add([]byte(strings.Repeat("ab", 32)))
	f.Add([]byte("q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="))
	f.Fuzz(func(t *testing.T, b []byte) {
		if k, ok := decodeKey(b); ok && len(k) != 32 {
			t.Fatalf("decoded %d bytes", len(k))
		}
	})
}
