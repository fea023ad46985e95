package detect

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestUKNINO(t *testing.T) {
	const typ = "UK_NINO"
	runIDCases(t, []idCase{
		{"spaced", "NI number ⟦AB 12 34 56 C⟧.", typ},
		{"compact", "⟦JG103759A⟧", typ},
		{"compact in json", `{"nino": "⟦PZ123456D⟧"}`, typ},
		{"spaced bare", "ref ⟦CE 00 00 00 A⟧ filed", typ},
		{"first letter D", "DA123456C", ""},
		{"first letter F", "FA123456C", ""},
		{"first letter I", "IA123456C", ""},
		{"first letter Q", "QQ123456C", ""},
		{"first letter U", "UA123456C", ""},
		{"first letter V", "VA123456C", ""},
		{"second letter O", "AO123456C", ""},
		{"prefix BG", "BG123456A", ""},
		{"prefix GB", "GB123456A", ""},
		{"prefix KN", "KN123456A", ""},
		{"prefix NK", "NK123456A", ""},
		{"prefix NT", "NT123456A", ""},
		{"prefix TN", "TN123456A", ""},
		{"prefix ZZ", "ZZ123456A", ""},
		{"suffix E", "AB123456E", ""},
		{"five digits", "AB12345C", ""},
		{"glued", "XAB123456C AB123456CD", ""},
		// Typed in lower case (HMRC prints capitals): the same rules.
		{"lower case", "⟦ab123456c⟧", "UK_NINO"},
		{"lower case spaced", "NI no ⟦hh 01 02 03 d⟧", "UK_NINO"},
		{"lower case QQ", "qq123456c", ""},
		{"lower case suffix e", "ab123456e", ""},
		{"mixed case prefix", "aB123456C Ab123456C", ""},
		{"lower prefix upper suffix", "ab123456C", ""},
		{"lower case in a word", "xab123456c", ""},
	})
}

func TestSWIFT(t *testing.T) {
	const typ = "SWIFT_CODE"
	runIDCases(t, []idCase{
		{"swift context", "SWIFT: ⟦DEUTDEFF⟧", typ},
		// SWIFT MT party fields, option A (the FIN user handbook's MT103
		// layout): after the tag, or after a party identifier line.
		{"mt field 57A", ":57A:⟦DEUTDEFF500⟧", typ},
		{"mt field 52A", ":20:REF123\n:52A:⟦NWBKGB2L⟧\n:59:/DE89", typ},
		{"mt field with account line", ":57A:/12345678\n⟦DEUTDEFF⟧", typ},
		{"mt field with account line crlf", ":56A:/D/123\r\n⟦CHASUS33XXX⟧", typ},
		{"mt field 87A", ":87A:⟦BNPAFRPP⟧", typ},
		{"mt reference field", ":20:CHASUS33", ""},
		{"mt field 99A", ":99A:DEUTDEFF", ""},
		{"mt field two lines up", ":57A:/1\nx\nDEUTDEFF", ""},
		{"bic context 11", "BIC ⟦DEUTDEFF500⟧ for the branch", typ},
		{"bic json", `{"iban": "x", "bic": "⟦CPNCTMFE⟧"}`, typ},
		{"bank and digit", "bank code ⟦NWBKGB2L⟧", typ},
		{"bank and XXX", "the bank is ⟦COBADEFFXXX⟧", typ},
		{"bank letters only", "bank DEUTDEFF", ""},
		{"alone", "ship DEUTDEFF today", ""},
		{"shouted words", "DEAR CUSTOMER, YOUR ACCOUNT IS REDACTED", ""},
		{"bad country", "swift code ABCDQQ12", ""},
		{"nine chars", "swift DEUTDEFF5", ""},
		{"glued", "swift DEUTDEFFx", ""},
	})
}

func TestLabelledIDs(t *testing.T) {
	runIDCases(t, []idCase{
		{"passport next gen", "Passport No: ⟦X12345678⟧", "US_PASSPORT"},
		{"passport nine digits", "passport number is ⟦123456789⟧.", "US_PASSPORT"},
		{"passport json", `{"passportNumber": "⟦C03005988⟧"}`, "US_PASSPORT"},
		{"passport other country", "UK passport ⟦AB1234567⟧", "US_PASSPORT"},
		{"passport date stops", "passport expires 2031-01-01, ref 123456789", ""},
		{"nine digits alone", "order 123456789 shipped", ""},
		{"passport lower letters", "passport x12345678", ""},
		{"dl driver's license", "Driver's License: ⟦D1234567⟧", "US_DRIVER_LICENSE"},
		{"dl dashed", "DL# ⟦S530-4605-6489⟧ expires", "US_DRIVER_LICENSE"},
		{"dl driving licence", "driving licence number ⟦A1234567⟧", "US_DRIVER_LICENSE"},
		{"driver without licence", "the driver was late by 12345 seconds", ""},
		{"software license", "license key 1234-5678-9012", ""},
		{"license alone letter-led", "John Smith license is ⟦AC432223⟧", "US_DRIVER_LICENSE"},
		{"licence alone", "licence: ⟦D1234567⟧", "US_DRIVER_LICENSE"},
		{"license alone digits", "license number 12345678", ""},
		{"license plate", "license plate AB12345", ""},
		{"license version", "Apache License, Version 2.0", ""},
		{"license three letters", "license ABC12345", ""},
		{"mrn", "MRN: ⟦00482913⟧", "MEDICAL_RECORD_NUMBER"},
		{"medical record", "medical record number ⟦MR-448812⟧ on file", "MEDICAL_RECORD_NUMBER"},
		{"patient id", "Patient ID ⟦7734190⟧ admitted", "MEDICAL_RECORD_NUMBER"},
		{"patient hash", "patient #⟦4471902⟧", "MEDICAL_RECORD_NUMBER"},
		{"patient without id", "patient is 45 years old", ""},
		{"mrn date", "MRN updated 2024-01-05", ""},
		{"bank account", "checking account number ⟦123456789012⟧", "US_BANK_NUMBER"},
		{"acct routing", "routing 021000021 acct ⟦00012345678⟧", "US_BANK_NUMBER"},
		{"account alone", "account 12345678 was closed", ""},
	})
}

// FuzzIDs runs every recognizer of ids.go through the engine: offsets in
// bounds and on rune boundaries, no panic.
func FuzzIDs(f *testing.F) {
	for _, s := range []string{
		"ip=192.0.2.1 fe80::1%eth0 [2001:db8::1]:8443 ::ffff:192.0.2.1",
		"mac 01:23:45:67:89:ab 0123.4567.89ab",
		"Send 0.5 BTC to 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa or bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0",
		"wallet 0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
		"NI AB 12 34 56 C, SWIFT DEUTDEFF500, passport X12345678, MRN: 00482913",
		"Driver's License: D1234567 checking account 123456789012",
		"é::1é 1.2.3.4é 01:23:45:67:89:abé fe80::1%é",
		"::", ":", "1.", "bc1", "0x", "AB 12 34 56", "passport", "patient #",
		":57A:/12345678\nDEUTDEFF500", ":5", "/\nDEUTDEFF", "license is AC432223", "hh 01 02 03 d tw987654a",
	} {
		f.Add(s)
	}
	e, err := NewWith(Config{}, idRecognizers())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, fd := range e.Scan(s) {
			if fd.Start < 0 || fd.End > len(s) || fd.Start >= fd.End {
				t.Fatalf("finding %+v out of range for %d bytes", fd, len(s))
			}
			if !utf8.RuneStart(s[fd.Start]) || (fd.End < len(s) && !utf8.RuneStart(s[fd.End])) {
				t.Fatalf("finding %+v splits a rune", fd)
			}
		}
	})
}

// TestIDsRawOffsets checks the raw findings too (before thresholds), so a
// low-score finding with bad offsets cannot hide behind the threshold.
func TestIDsRawOffsets(t *testing.T) {
	e := idEngine(t)
	text := idMixedCorpus(1 << 16)
	text += "é::1é 1.2.3.4é 01:23:45:67:89:abé fe80::1%é passport é123456789"
	s := &Scan{}
	s.reset(e, text)
	e.run(s)
	if len(s.found) == 0 {
		t.Fatal("no raw findings in the mixed corpus")
	}
	for _, f := range s.found {
		if f.Start < 0 || f.End > len(text) || f.Start >= f.End || !utf8.RuneStart(text[f.Start]) || (f.End < len(text) && !utf8.RuneStart(text[f.End])) {
			t.Fatalf("bad raw finding %+v", f)
		}
	}
}

// idProse is ordinary text with nothing to find.
const idProse = "the quarterly report shows that revenue grew in most regions while costs stayed flat. " +
	"Please summarise the main points for the board and suggest three questions they might ask. " +
	"We would like the tone to be neutral and the length to stay under two hundred words: short, clear, calm.\n"

// idMixedCorpus builds n bytes of prompt, JSON, log and code text with
// the look-alikes these recognizers must skip (times, versions, UUIDs,
// hashes, C++ and Rust paths, shouted words) and some real values.
func idMixedCorpus(n int) string {
	r := rand.New(rand.NewSource(7))
	var b strings.Builder
	for b.Len() < n {
		switch r.Intn(10) {
		case 0:
			fmt.Fprintf(&b, `{"level":"info","ts":"2026-11-24T20:21:%02d.870Z","remote":"10.0.%d.%d:51234","ua":"Mozilla/5.0","req":"%08x-%04x-4add-a9ee-373617d2290a"}`+"\n", r.Intn(60), r.Intn(256), r.Intn(256), r.Uint32(), r.Intn(65536))
		case 1:
			fmt.Fprintf(&b, "Nov 24 20:21:%02d host sshd[%d]: Accepted publickey for deploy from 2001:db8::%x port %d ssh2: ED25519 SHA256:%x\n", r.Intn(60), r.Intn(99999), r.Intn(65536), r.Intn(65536), r.Uint64())
		case 2:
			b.WriteString("use std::collections::HashMap; fn main() { let v: Vec<u8> = Vec::new(); println!(\"{:?}\", v); } // v1.2.3\n")
		case 3:
			fmt.Fprintf(&b, "commit %016x%016x%08x\nAuthor: Dev <dev@example.com>\nDate: Mon Nov 24 20:21:48 2026 +0000\n\n    Bump version to 3.%d.%d\n", r.Uint64(), r.Uint64(), r.Uint32(), r.Intn(20), r.Intn(20))
		case 4:
			b.WriteString("Please send 0.5 BTC to 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2 and confirm the wallet. The BIC is DEUTDEFF.\n")
		case 5:
			b.WriteString("THE QUARTERLY REPORT IS ATTACHED. Meeting at 10:30 in room 4.12; call ext. 3612 between 9 and 5.\n")
		default:
			b.WriteString(idProse)
		}
	}
	return b.String()
}

// BenchmarkIDs measures the recognizers of ids.go alone over ~1 MB of
// mixed text (target: well under 2 ns/byte, i.e. over 500 MB/s).
func BenchmarkIDs(b *testing.B) {
	e := idEngine(b)
	text := idMixedCorpus(1 << 20)
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		e.Scan(text)
	}
}

// TestIDsDevCorpus scores IP_ADDRESS and CRYPTO on the shared labelled
// corpus the way score.py does (overlap with a gold span of the same
// type) and fails below the floors; it is skipped when the file is absent.
func TestIDsDevCorpus(t *testing.T) {
	fh, err := os.Open("/work/shared/eval/pii-dev.jsonl")
	if err != nil {
		t.Skip("dev corpus not present")
	}
	defer fh.Close()
	e := idEngine(t)
	type span struct {
		Type       string
		Start, End int
	}
	tp, fp, fn := map[string]int{}, map[string]int{}, map[string]int{}
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var d struct {
			Text  string
			Spans []span
		}
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		var pred []Finding
		for _, f := range e.Scan(d.Text) {
			if f.Type == "IP_ADDRESS" || f.Type == "CRYPTO" {
				pred = append(pred, f)
			}
		}
		used := make([]bool, len(pred))
		for _, g := range d.Spans {
			if g.Type != "IP_ADDRESS" && g.Type != "CRYPTO" {
				continue
			}
			hit := false
			for i, f := range pred {
				if f.Type == g.Type && f.Start < g.End && g.Start < f.End {
					hit, used[i] = true, true
				}
			}
			if hit {
				tp[g.Type]++
			} else {
				fn[g.Type]++
			}
		}
		for i, f := range pred {
			if !used[i] {
				fp[f.Type]++
				t.Logf("false positive %s %q", f.Type, d.Text[f.Start:f.End])
			}
		}
	}
	for _, ty := range []string{"IP_ADDRESS", "CRYPTO"} {
		p := float64(tp[ty]) / float64(max(1, tp[ty]+fp[ty]))
		r := float64(tp[ty]) / float64(max(1, tp[ty]+fn[ty]))
		t.Logf("%s tp=%d fp=%d fn=%d P=%.3f R=%.3f", ty, tp[ty], fp[ty], fn[ty], p, r)
		if p < 0.98 || r < 0.95 {
			t.Errorf("%s precision %.3f recall %.3f below 0.98/0.95", ty, p, r)
		}
	}
}

// TestIDScoresAndExplain pins the scores, the context words reported
// when explaining, and per-type thresholds (addID skips the context
// search only when it cannot change the outcome).
func TestIDScoresAndExplain(t *testing.T) {
	explain, err := NewWith(Config{Explain: true}, idRecognizers())
	if err != nil {
		t.Fatal(err)
	}
	strict, err := NewWith(Config{Thresholds: map[string]float64{"IP_ADDRESS": 0.82, "CRYPTO": 0.3}}, idRecognizers())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		e     *Engine
		text  string
		typ   string
		score float64 // 0: no finding
		ctx   string
	}{
		{"ipv4 bare", explain, "then 192.0.2.1 answered", "IP_ADDRESS", scoreIPv4, ""},
		{"ipv4 context does not change the score", explain, `{"src_ip": "192.0.2.1"}`, "IP_ADDRESS", scoreIPv4, ""},
		{"ipv6 bracketed", explain, "listen [::]:80", "IP_ADDRESS", scoreIPv6Strong, ""},
		{"ipv6 weak", explain, "bind to a::b", "IP_ADDRESS", scoreIPv6Weak + ipWeakContextBoost, "bind"},
		{"ipv6 loopback", explain, "then ::1 here", "IP_ADDRESS", scoreIPv6Loopback, ""},
		{"ipv6 short in brackets", explain, "ipv6 [a::b]", "IP_ADDRESS", scoreIPv6Strong, ""},
		{"mac digits", explain, "mac 00-11-22-33-44-55", "MAC_ADDRESS", scoreMACDigits + macContextBoost, "mac"},
		{"crypto shape", explain, "BTC: 1gXP7cC76ajEfrbS8ipajGwSpq", "CRYPTO", scoreCryptoShape + cryptoContextBoost, "btc"},
		{"crypto checked", explain, "BTC: 1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa", "CRYPTO", scoreCryptoChecked, ""},
		{"swift strong", explain, "BIC: DEUTDEFF", "SWIFT_CODE", scoreSWIFT + swiftStrongBoost, "bic"},
		{"swift weak", explain, "our bank NWBKGB2L", "SWIFT_CODE", scoreSWIFT + swiftDigitBonus + swiftWeakBoost, "bank"},
		{"threshold drops ipv4", strict, "host 192.0.2.1", "IP_ADDRESS", 0, ""},
		{"threshold keeps full ipv6", strict, "host 2001:db8:0:0:8:800:200c:417a", "IP_ADDRESS", scoreIPv6Full, ""},
		{"lower threshold keeps shape-only", strict, "see 1gXP7cC76ajEfrbS8ipajGwSpq", "CRYPTO", scoreCryptoShape, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			var got *Finding
			for _, f := range c.e.Scan(c.text) {
				if f.Type == c.typ {
					got = &f
				}
			}
			if c.score == 0 {
				if got != nil {
					t.Fatalf("got %+v, want none", *got)
				}
				return
			}
			if got == nil {
				t.Fatalf("no %s finding", c.typ)
			}
			if d := got.Score - c.score; d > 1e-9 || d < -1e-9 {
				t.Errorf("score %v, want %v", got.Score, c.score)
			}
			if c.e == explain && strings.Join(got.Context, ",") != c.ctx {
				t.Errorf("context %v, want %q", got.Context, c.ctx)
			}
		})
	}
}
