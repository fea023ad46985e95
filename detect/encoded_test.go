package detect

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	mrand "math/rand"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// encodings are the ways a value is hidden from the recognizers.
var encodings = []struct {
	name, prefix string
	enc          func([]byte) string
}{
	{"base64 std", "base64", base64.StdEncoding.EncodeToString},
	{"base64 std unpadded", "base64", base64.RawStdEncoding.EncodeToString},
	{"base64 url", "base64", base64.URLEncoding.EncodeToString},
	{"base64 url unpadded", "base64", base64.RawURLEncoding.EncodeToString},
	{"hex lower", "hex", hex.EncodeToString},
	{"hex upper", "hex", func(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }},
	{"percent every byte", "percent", percentAll},
	{"percent query", "percent", func(b []byte) string { return url.QueryEscape(string(b)) }},
}

// percentAll percent-encodes every byte.
func percentAll(b []byte) string {
	var s strings.Builder
	for _, c := range b {
		fmt.Fprintf(&s, "%%%02X", c)
	}
	return s.String()
}

// mustFindEncoded scans prefix+run+suffix and fails unless one finding of
// type typ covers exactly the run, named after the encoding.
func mustFindEncoded(t *testing.T, e *Engine, typ, recPrefix, prefix, run, suffix string) {
	t.Helper()
	text := prefix + run + suffix
	fs := e.Scan(text)
	for _, f := range fs {
		if f.Type == typ && f.Start == len(prefix) && f.End == len(prefix)+len(run) {
			if !strings.HasPrefix(f.Recognizer, recPrefix+":") {
				t.Errorf("recognizer %q, want prefix %q", f.Recognizer, recPrefix+":")
			}
			return
		}
	}
	t.Errorf("%q: no %s over the whole run; findings %+v", text, typ, fs)
}

func TestBase64EncodedEmailMarksWholeRun(t *testing.T) {
	e := newTestEngine(t, Config{})
	inner := []string{"jane.doe@example.com", "write to a.b+c@corp.example.org today", "{\"email\":\"ops@acme.io\"}"}
	for _, enc := range encodings {
		for _, in := range inner {
			t.Run(enc.name+"/"+in, func(t *testing.T) {
				mustFindEncoded(t, e, "EMAIL_ADDRESS", enc.prefix, "payload=", enc.enc([]byte(in)), " end")
			})
		}
	}
}

func TestEncodedCredentialMarksWholeRun(t *testing.T) {
	e := newTestEngine(t, Config{})
	for _, tc := range []struct{ typ, value string }{
		{"AWS_ACCESS_KEY", "aws_access_key_id=AKIA2OGYBAH6T4MXQ3PZ"},
		{"GITHUB_TOKEN", "token ghp_R7m2kQ9xV4bN8cL1pZ6wT3yH5jD0fA2sE9uK"},
		{"CREDIT_CARD", "card 4111 1111 1111 1111"},
		{"US_SSN", "my ssn is 234-56-7890"},
	} {
		if !hasFinding(e.Scan(tc.value), tc.typ) {
			t.Fatalf("%s is not found in the clear; the test needs another value", tc.typ)
		}
		for _, enc := range encodings {
			t.Run(tc.typ+"/"+enc.name, func(t *testing.T) {
				run := enc.enc([]byte(tc.value))
				if enc.name == "percent query" {
					// Form encoding leaves the token as it is: the
					// recognizer finds it in place.
					for _, f := range e.Scan("data: " + run) {
						if f.Type == tc.typ && f.Start >= 6 && f.End <= 6+len(run) {
							return
						}
					}
				}
				mustFindEncoded(t, e, tc.typ, enc.prefix, "data: ", run, "\n")
			})
		}
	}
}

func TestNestedEncodingIsFound(t *testing.T) {
	e := newTestEngine(t, Config{})
	in := []byte("contact jane.doe@example.com")
	for _, outer := range encodings {
		for _, inner := range encodings {
			run := outer.enc([]byte(inner.enc(in)))
			t.Run(outer.name+" of "+inner.name, func(t *testing.T) {
				text := "x " + run + " y"
				fs := e.Scan(text)
				if len(fs) != 1 || fs[0].Type != "EMAIL_ADDRESS" || fs[0].Start != 2 || fs[0].End != 2+len(run) {
					t.Fatalf("findings %+v", fs)
				}
				want := outer.prefix + ":" + inner.prefix + ":"
				if run == inner.enc(in) {
					want = inner.prefix + ":" // the outer encoding changed nothing
				}
				if !strings.HasPrefix(fs[0].Recognizer, want) {
					t.Fatalf("recognizer %q, want prefix %q", fs[0].Recognizer, want)
				}
			})
		}
	}
	// Three levels are past the default depth.
	run := base64.StdEncoding.EncodeToString([]byte(hex.EncodeToString([]byte(base64.StdEncoding.EncodeToString(in)))))
	if fs := e.Scan(run); len(fs) != 0 {
		t.Fatalf("three levels deep: %+v", fs)
	}
	deep := newTestEngine(t, Config{Decode: DecodeConfig{Depth: 3}})
	if fs := deep.Scan(run); len(fs) != 1 {
		t.Fatalf("three levels with depth 3: %+v", fs)
	}
}

func TestWrappedBase64IsOneRun(t *testing.T) {
	e := newTestEngine(t, Config{})
	in := []byte(strings.Repeat("lorem ipsum dolor sit amet ", 8) + "mail jane.doe@example.com " + strings.Repeat("consectetur adipiscing ", 6))
	b64 := base64.StdEncoding.EncodeToString(in)
	for _, br := range []string{"\n", "\r\n", `\n`, `\r\n`} {
		var lines []string
		for s := b64; len(s) > 0; {
			n := min(64, len(s))
			lines = append(lines, s[:n])
			s = s[n:]
		}
		run := strings.Join(lines, br)
		t.Run(fmt.Sprintf("%q", br), func(t *testing.T) {
			mustFindEncoded(t, e, "EMAIL_ADDRESS", "base64", "attachment:"+br, run, br+"--")
		})
	}
}

func TestDecodeBudgetIsSharedAcrossScans(t *testing.T) {
	e := newTestEngine(t, Config{Decode: DecodeConfig{Budget: 100}})
	run := base64.StdEncoding.EncodeToString([]byte("mail jane.doe@example.com, please")) // 33 bytes decoded
	b := e.NewDecodeBudget()
	for i := 0; i < 3; i++ {
		if fs := e.ScanWithBudget(run, b); len(fs) != 1 {
			t.Fatalf("scan %d within budget: %+v", i, fs)
		}
	}
	if b.Exhausted() || b.Remaining() != 100-3*33 {
		t.Fatalf("remaining %d, exhausted %v", b.Remaining(), b.Exhausted())
	}
	if fs := e.ScanWithBudget(run, b); len(fs) != 0 || !b.Exhausted() {
		t.Fatalf("past the budget: %+v, exhausted %v", fs, b.Exhausted())
	}
	// Scan has a fresh budget each call.
	for i := 0; i < 5; i++ {
		if fs := e.Scan(run); len(fs) != 1 {
			t.Fatalf("Scan %d: %+v", i, fs)
		}
	}
}

// TestRandomTokensFindNothingEncoded checks precision: random base64,
// base64url and hex tokens of many lengths (API keys, hashes, nonces,
// UUIDs) decode to binary and produce no finding of the decoder.
func TestRandomTokensFindNothingEncoded(t *testing.T) {
	e := newTestEngine(t, Config{})
	r := mrand.New(mrand.NewSource(5))
	for i := 0; i < 4000; i++ {
		b := make([]byte, 8+r.Intn(120))
		r.Read(b)
		var tok string
		switch i % 4 {
		case 0:
			tok = base64.StdEncoding.EncodeToString(b)
		case 1:
			tok = base64.RawURLEncoding.EncodeToString(b)
		case 2:
			tok = hex.EncodeToString(b)
		default:
			tok = fmt.Sprintf("%x-%x-%x-%x-%x", b[:4], b[4:6], b[6:8], b[:2], b[2:8])
		}
		for _, f := range e.Scan("id " + tok + " ok") {
			if strings.Contains(f.Recognizer, ":") {
				t.Fatalf("%q: decoder finding %+v", tok, f)
			}
		}
	}
}

func TestDecodeConfigIsValidated(t *testing.T) {
	for name, c := range map[string]DecodeConfig{
		"decode.min_run": {MinRun: 3},
		"decode.budget":  {Budget: -1},
		"decode.depth":   {Depth: 9},
	} {
		_, err := New(Config{Decode: c})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v", name, err)
		}
	}
	e := newTestEngine(t, Config{Decode: DecodeConfig{Off: true}})
	if fs := e.Scan(base64.StdEncoding.EncodeToString([]byte("jane.doe@example.com"))); len(fs) != 0 {
		t.Fatalf("decode off: %+v", fs)
	}
}

// privateKeys returns DER private keys of every supported structure.
func privateKeys(t testing.TB) map[string][]byte {
	t.Helper()
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	keys := map[string][]byte{"pkcs1 rsa": x509.MarshalPKCS1PrivateKey(rsaKey)}
	for name, k := range map[string]any{"pkcs8 rsa": rsaKey, "pkcs8 ec": ecKey, "pkcs8 ed25519": edKey} {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		keys[name] = der
	}
	for name, k := range map[string]*ecdsa.PrivateKey{"sec1 p256": ecKey, "sec1 p384": ec384} {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		keys[name] = der
	}
	blk, err := ssh.MarshalPrivateKey(edKey, "")
	if err != nil {
		t.Fatal(err)
	}
	keys["openssh ed25519"] = blk.Bytes
	// EncryptedPrivateKeyInfo with PBES2 (1.2.840.113549.1.5.13): the
	// structure only; the parameters and ciphertext are filler.
	enc := []byte{0x30, 0x81, 0x9a, 0x30, 0x12, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0d, 0x30, 0x05, 0x02, 0x01, 0x01, 0x05, 0x00, 0x04, 0x81, 0x83}
	enc = append(enc, make([]byte, 0x83)...)
	keys["pkcs8 encrypted"] = enc
	return keys
}

func TestUnarmouredDERPrivateKeyIsFound(t *testing.T) {
	e := newTestEngine(t, Config{})
	for name, der := range privateKeys(t) {
		b64 := base64.StdEncoding.EncodeToString(der)
		t.Run(name+"/one line", func(t *testing.T) {
			mustFindEncoded(t, e, "PRIVATE_KEY", "base64", "key: ", b64, "\n")
		})
		t.Run(name+"/json escaped lines", func(t *testing.T) {
			var lines []string
			for s := b64; len(s) > 0; {
				n := min(64, len(s))
				lines = append(lines, s[:n])
				s = s[n:]
			}
			mustFindEncoded(t, e, "PRIVATE_KEY", "base64", `{"key": "`, strings.Join(lines, `\n`), `"}`)
		})
		if len(der) > 200 {
			t.Run(name+"/truncated", func(t *testing.T) {
				mustFindEncoded(t, e, "PRIVATE_KEY", "base64", "key ", base64.RawStdEncoding.EncodeToString(der[:len(der)*2/3]), " (cut)")
			})
		}
	}
}

func TestPublicKeysAndCertificatesAreNotPrivateKeys(t *testing.T) {
	e := newTestEngine(t, Config{})
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	spki, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "warden test"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	cert, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	for name, der := range map[string][]byte{"spki": spki, "certificate": cert} {
		if ok, _ := derPrivateKey(der); ok {
			t.Errorf("%s: derPrivateKey says private", name)
		}
		for _, f := range e.Scan("blob " + base64.StdEncoding.EncodeToString(der)) {
			t.Errorf("%s: finding %+v", name, f)
		}
	}
}

func TestLowercasePEMArmourIsFound(t *testing.T) {
	e := newTestEngine(t, Config{})
	k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(k)
	canon := string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}))
	canon = strings.TrimSuffix(canon, "\n")
	for name, armour := range map[string]func(string) string{
		"lower case": strings.ToLower,
		"title case": func(s string) string {
			return strings.ReplaceAll(strings.ReplaceAll(s, "BEGIN EC PRIVATE KEY", "Begin Ec Private Key"), "END EC PRIVATE KEY", "End Ec Private Key")
		},
		"three dashes": func(s string) string { return strings.ReplaceAll(s, "-----", "---") },
		"dash, space":  func(s string) string { return strings.ReplaceAll(s, "-----BEGIN", "----- BEGIN") },
		"zero-width cuts": func(s string) string {
			return strings.ReplaceAll(strings.ReplaceAll(s, "PRIVATE", "PRI\u200BVATE"), "-----B", "--\u2060---B")
		},
		"unicode dashes": func(s string) string { return strings.ReplaceAll(s, "-----", "\u2014\u2014\u2014\u2014\u2014") },
	} {
		t.Run(name, func(t *testing.T) {
			var body string
			if name != "lower case" {
				body = armour(canon)
			} else {
				// Lower-case the armour lines only: base64 is case-sensitive.
				lines := strings.Split(canon, "\n")
				lines[0], lines[len(lines)-1] = strings.ToLower(lines[0]), strings.ToLower(lines[len(lines)-1])
				body = strings.Join(lines, "\n")
			}
			mustFind(t, e, "PRIVATE_KEY", "my key:\n", body, "\nthanks", "")
		})
	}
}

func TestEncBreakMatchesEncClass(t *testing.T) {
	for c := 0; c < 0x80; c++ {
		if got, want := class[c]&clsEncBreak != 0, encClass[c] == 0; got != want {
			t.Errorf("%q: clsEncBreak %v, encClass says %v", rune(c), got, want)
		}
	}
}
