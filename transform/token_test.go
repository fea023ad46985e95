package transform

import (
	"bytes"
	"testing"
)

func TestTokenRoundTrip(t *testing.T) {
	for _, id := range [][]byte{{0}, {1, 2, 3, 4, 5, 6, 7, 8}, bytes.Repeat([]byte{0xff}, 33)} {
		tok := FormatToken("EMAIL_ADDRESS", id)
		refs := FindTokens("see " + tok + " and more")
		if len(refs) != 1 || refs[0].Type != "EMAIL_ADDRESS" || !bytes.Equal(refs[0].ID, id) {
			t.Fatalf("%s: got %+v", tok, refs)
		}
		if refs[0].Start != 4 || refs[0].End != 4+len(tok) {
			t.Fatalf("%s: offsets %d..%d", tok, refs[0].Start, refs[0].End)
		}
	}
}

func TestTokenRejectsMangledID(t *testing.T) {
	tok := FormatToken("US_SSN", []byte{9, 8, 7, 6, 5, 4, 3, 2})
	b := []byte(tok)
	for i := len("[[US_SSN:"); i < len(b)-2; i++ {
		m := append([]byte(nil), b...)
		if m[i] == 'Z' {
			m[i] = 'Y'
		} else {
			m[i] = 'Z'
		}
		if refs := FindTokens(string(m)); len(refs) != 0 {
			t.Errorf("mangled %s accepted as %+v", m, refs)
		}
	}
}

func TestTokenIDCaseInsensitive(t *testing.T) {
	tok := FormatToken("PHONE_NUMBER", []byte("abcdefgh"))
	low := []byte(tok)
	for i := len("[[PHONE_NUMBER:"); i < len(low)-2; i++ {
		if low[i] >= 'A' && low[i] <= 'Z' {
			low[i] += 32
		}
	}
	refs := FindTokens(string(low))
	if len(refs) != 1 || string(refs[0].ID) != "abcdefgh" {
		t.Fatalf("lower-cased %s: %+v", low, refs)
	}
}
