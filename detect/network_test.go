package detect

import (
	"net/netip"
	"strings"
	"testing"
)

// idEngine is an engine with only the recognizers of ids.go.
func idEngine(t testing.TB) *Engine {
	t.Helper()
	e, err := NewWith(Config{}, idRecognizers())
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// idSpan is an expected finding.
type idSpan struct {
	typ        string
	start, end int
}

// unmark removes the ⟦ ⟧ markers from an annotated text and returns the
// plain text and the marked spans (byte offsets into the plain text).
func unmark(marked, typ string) (string, []idSpan) {
	var b strings.Builder
	var spans []idSpan
	for i := 0; i < len(marked); {
		switch {
		case strings.HasPrefix(marked[i:], "⟦"):
			spans = append(spans, idSpan{typ: typ, start: b.Len()})
			i += len("⟦")
		case strings.HasPrefix(marked[i:], "⟧"):
			spans[len(spans)-1].end = b.Len()
			i += len("⟧")
		default:
			b.WriteByte(marked[i])
			i++
		}
	}
	return b.String(), spans
}

// idCase is one annotated text: every marked span must be found with type
// typ and exact offsets, and nothing else may be found.
type idCase struct {
	name, marked, typ string
}

func runIDCases(t *testing.T, cases []idCase) {
	t.Helper()
	e := idEngine(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text, want := unmark(c.marked, c.typ)
			var got []idSpan
			for _, f := range e.Scan(text) {
				got = append(got, idSpan{f.Type, f.Start, f.End})
			}
			if len(got) != len(want) {
				t.Fatalf("%q: got %v, want %v", text, got, want)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("%q: got %v, want %v", text, got, want)
				}
			}
		})
	}
}

func TestIPv4(t *testing.T) {
	runIDCases(t, []idCase{
		// RFC 5737 documentation blocks.
		{"test-net-1", "host ⟦192.0.2.1⟧ is up", "IP_ADDRESS"},
		{"test-net-2", "⟦198.51.100.7⟧", "IP_ADDRESS"},
		{"test-net-3", "from ⟦203.0.113.254⟧, retrying", "IP_ADDRESS"},
		{"json", `{"src_ip": "⟦10.254.8.51⟧"}`, "IP_ADDRESS"},
		{"port outside span", "connect ⟦192.0.2.1⟧:8080 now", "IP_ADDRESS"},
		{"cidr outside span", "allow ⟦10.0.0.0⟧/8 and ⟦192.168.0.0⟧/16", "IP_ADDRESS"},
		{"sentence end", "The server is ⟦192.0.2.10⟧.", "IP_ADDRESS"},
		{"zero and max", "⟦0.0.0.0⟧ ⟦255.255.255.255⟧", "IP_ADDRESS"},
		{"url host", "http://⟦198.51.100.3⟧/index.html", "IP_ADDRESS"},
		{"octet over 255", "256.1.1.1 and 1.2.3.256", ""},
		{"leading zero", "192.168.01.1", ""},
		{"five parts", "1.2.3.4.5", ""},
		{"oid", "OID 1.3.6.1.4.1.311.21.7", ""},
		{"version word", "version 1.2.3.4 and Version: 10.0.19041.1", ""},
		{"v prefix", "release v1.2.3.4 shipped", ""},
		{"user agent", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", ""},
		{"url path after host", "GET http://⟦10.1.2.3⟧/a/b from ⟦10.1.2.4⟧", "IP_ADDRESS"},
		{"three parts", "Released 2.10.3 on 12.03.2024", ""},
		{"glued letters", "10.0.0.1a x10.0.0.1", ""},
		{"decimal", "pi is 3.14159 and e is 2.71828", ""},
	})
}

func TestIPv6(t *testing.T) {
	runIDCases(t, []idCase{
		// RFC 4291 section 2.2, form 1.
		{"rfc4291 full", "⟦ABCD:EF01:2345:6789:ABCD:EF01:2345:6789⟧", "IP_ADDRESS"},
		{"rfc4291 full 2", "⟦2001:DB8:0:0:8:800:200C:417A⟧", "IP_ADDRESS"},
		// Form 2: "::".
		{"rfc4291 unicast", "addr ⟦2001:DB8::8:800:200C:417A⟧", "IP_ADDRESS"},
		{"rfc4291 multicast", "group ⟦FF01::101⟧ joined", "IP_ADDRESS"},
		{"rfc4291 loopback with context", "bind to ⟦::1⟧ only", "IP_ADDRESS"},
		{"rfc4291 unspecified with context", "listen address ⟦::⟧ port 80", "IP_ADDRESS"},
		{"loopback bare", "connecting from ⟦::1⟧", "IP_ADDRESS"},
		// RFC 4291 section 2.3: a prefix length marks an address prefix.
		{"loopback prefix", "⟦::1⟧/128", "IP_ADDRESS"},
		{"default route", "route ⟦::⟧/0 via ⟦fe80::1⟧", "IP_ADDRESS"},
		{"link-local prefix", "⟦fe80::⟧/10", "IP_ADDRESS"},
		{"prefix too long", "a::b/129", ""},
		{"prefix glued", "a::b/64x", ""},
		{"unspecified bare", "Unspecified ::", ""},
		{"haskell", "foo :: Int -> Int", ""},
		// Form 3: embedded IPv4.
		{"rfc4291 v4 compat", "⟦0:0:0:0:0:0:13.1.68.3⟧", "IP_ADDRESS"},
		{"rfc4291 v4 mapped", "⟦0:0:0:0:0:FFFF:129.144.52.38⟧", "IP_ADDRESS"},
		{"rfc4291 v4 compat short", "peer ⟦::13.1.68.3⟧", "IP_ADDRESS"},
		{"rfc4291 v4 mapped short", "x ⟦::FFFF:129.144.52.38⟧ y", "IP_ADDRESS"},
		{"rfc5952 mapped", "⟦::ffff:192.0.2.1⟧", "IP_ADDRESS"},
		{"rfc6052 nat64", "⟦64:ff9b::192.0.2.33⟧", "IP_ADDRESS"},
		// RFC 5952 recommended forms.
		{"rfc5952 1", "⟦2001:db8::1⟧", "IP_ADDRESS"},
		{"rfc5952 2", "⟦2001:db8::1:0:0:1⟧", "IP_ADDRESS"},
		{"rfc5952 3", "⟦2001:db8:0:0:1::1⟧", "IP_ADDRESS"},
		{"rfc5952 trailing", "prefix ⟦2001:db8::⟧/32", "IP_ADDRESS"},
		{"zone", "ping ⟦fe80::1%eth0⟧ now", "IP_ADDRESS"},
		{"zone numeric", "⟦fe80::2aa:ff:fe28:9c5a%12⟧", "IP_ADDRESS"},
		{"brackets and port", "curl https://[⟦2001:db8::1⟧]:8443/health", "IP_ADDRESS"},
		{"brackets loopback", "[⟦::1⟧]:8080", "IP_ADDRESS"},
		{"after key colon", "ip:⟦2001:db8::2⟧ seen", "IP_ADDRESS"},
		{"sentence end", "The address is ⟦fe80::1⟧.", "IP_ADDRESS"},
		{"trailing colon", "⟦2001:db8::5⟧: connection refused", "IP_ADDRESS"},
		{"corpus shape", "ip=⟦0826:bf5d:ebf6:9d98:f4ae:af56:46dc:cca5⟧", "IP_ADDRESS"},
		// Look-alikes.
		{"time", "at 12:30:45 and 09:15", ""},
		{"timestamp", "2026-11-24T20:21:48.870Z", ""},
		{"c++ scope", "std::vector<int> and ::std::string, a::b", ""},
		{"rust path", "use std::io::Read; Vec::new(); HashMap::default(); Self::C", ""},
		{"haskell", "f :: Int -> Int", ""},
		{"eui64", "01:23:45:67:89:ab:cd:ef", ""},
		{"nine groups", "1:2:3:4:5:6:7:8:9", ""},
		{"two doubles", "2001::db8::1", ""},
		{"long group", "20011:db8::1", ""},
		{"glued word", "xfe80::1 fe80::1x", ""},
		{"fingerprint", "SHA256 16:27:ac:a5:76:28:2d:36:63:1b:56:4d:eb:df:a6:48", ""},
	})
}

func TestMACAddress(t *testing.T) {
	runIDCases(t, []idCase{
		{"colons", "eth0 ⟦01:23:45:67:89:ab⟧ up", "MAC_ADDRESS"},
		{"dashes", "⟦01-23-45-67-89-AB⟧", "MAC_ADDRESS"},
		{"cisco", "⟦0123.4567.89ab⟧ dynamic Gi0/1", "MAC_ADDRESS"},
		{"digits with context", "mac address ⟦00-11-22-33-44-55⟧", "MAC_ADDRESS"},
		{"digits bare", "ref 00-11-22-33-44-55", ""},
		{"seven groups", "01:23:45:67:89:ab:cd", ""},
		{"five groups", "01:23:45:67:89", ""},
		{"mixed separators", "01:23-45:67:89:ab", ""},
		{"glued", "x01:23:45:67:89:ab", ""},
		// IEEE 802: broadcast and null name no interface; group addresses
		// (I/G bit set) outside 01-xx-xx need context.
		{"broadcast", "Broadcast: FF:FF:FF:FF:FF:FF", ""},
		{"broadcast with context", "mac ff:ff:ff:ff:ff:ff", ""},
		{"null with context", "mac 00:00:00:00:00:00", ""},
		{"group address bare", "fd:ff:ff:84:a2:a0", ""},
		{"group address with context", "Mixedcase MAC: ⟦0d-B3-4a-6A-d9-cF⟧", "MAC_ADDRESS"},
		{"locally administered", "⟦fe:54:00:76:07:0a⟧", "MAC_ADDRESS"},
		{"universal unicast", "⟦d0:50:99:84:a2:a0⟧", "MAC_ADDRESS"},
	})
}

// TestIPv6ReportedOnce checks that an address is reported by its first
// colon only, whatever its form.
func TestIPv6ReportedOnce(t *testing.T) {
	text := "a 2001:db8:0:0:1:0:0:1 b ::ffff:192.0.2.1 c fe80::1%eth0 d"
	s := &Scan{}
	e := idEngine(t)
	s.reset(e, text)
	e.run(s)
	n := 0
	for _, f := range s.found {
		if f.Type == "IP_ADDRESS" && f.Score >= 0.5 {
			n++
		}
	}
	// The IPv4 tail of the mapped address is left to the IPv6 finding.
	if n != 3 {
		t.Fatalf("raw findings: %+v, want 3 IP_ADDRESS", s.found)
	}
}

// FuzzIPv4Parse checks parseIPv4 against net/netip on whole strings.
func FuzzIPv4Parse(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "0.0.0.0", "01.2.3.4", "1.2.3", "256.0.0.1", "1.2.3.4.5", "1..2.3", "255.255.255.255"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := netip.ParseAddr(s)
		want := err == nil && a.Is4()
		got := parseIPv4(s, 0) == len(s)
		if got != want {
			t.Fatalf("parseIPv4(%q) = %v, netip says %v", s, got, want)
		}
	})
}
