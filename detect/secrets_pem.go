package detect

import "strings"

// pemRecognizer finds PEM-armoured private keys (RFC 7468 labels "PRIVATE
// KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY", "DSA PRIVATE KEY", "OPENSSH
// PRIVATE KEY", "ENCRYPTED PRIVATE KEY", and OpenPGP's "PGP PRIVATE KEY
// BLOCK"). The span runs from the dashes before BEGIN through those after
// the END line's label; line breaks may be real or JSON-escaped ("\n").
// Armour that is not canonical (lower or mixed case, two to ten dashes
// instead of five, dashes missing after a label) is still armour: it
// scores 0.95 instead of 1. A block cut off before its END line is still
// reported (from BEGIN through the last body character) at a lower score.
// Inside a Google service-account JSON document the type is
// GCP_SERVICE_ACCOUNT.
type pemRecognizer struct{}

// maxPEM bounds the bytes searched for the END line (an RSA-8192 key is
// about 6.5 KB; PGP blocks with sub-keys are larger).
const maxPEM = 64 << 10

func (pemRecognizer) Name() string    { return "private_key" }
func (pemRecognizer) Types() []string { return []string{"PRIVATE_KEY", "GCP_SERVICE_ACCOUNT"} }
func (pemRecognizer) Triggers() []Trigger {
	return []Trigger{{Kind: TriggerPrefix, Prefix: "--"}}
}

// pemLine reads an armour line's dashes, keyword (BEGIN or END, any case),
// label and closing dashes at i. It returns the label, the offset past
// the line's last dash (or label, when dashes are missing), and whether
// the line is canonical (five dashes either side, upper-case label).
func pemLine(text string, i int, keyword string) (label string, end int, canonical, ok bool) {
	d := 0
	for i+d < len(text) && text[i+d] == '-' && d <= 10 {
		d++
	}
	if d < 2 || d > 10 {
		return "", 0, false, false
	}
	j := i + d
	if j < len(text) && text[j] == ' ' {
		j++ // "-- BEGIN"
	}
	if !hasPrefixAt(text, j, keyword, true) || j+len(keyword) >= len(text) || text[j+len(keyword)] != ' ' {
		return "", 0, false, false
	}
	canonical = d == 5 && j == i+d && text[j] == keyword[0]
	j += len(keyword) + 1
	k := j
	for k < len(text) && k-j <= 40 && (isUpper(text[k]) || isLower(text[k]) || text[k] == ' ' || isDigit(text[k])) {
		if isLower(text[k]) {
			canonical = false
		}
		k++
	}
	label = text[j:k]
	for len(label) > 0 && label[len(label)-1] == ' ' {
		label = label[:len(label)-1]
		canonical = false
	}
	e := k
	for e < len(text) && text[e] == '-' && e-k <= 10 {
		e++
	}
	canonical = canonical && e-k == 5 && len(label) == k-j
	return label, e, canonical, true
}

func (pemRecognizer) Find(s *Scan, at int) {
	text := s.text
	if at > 0 && text[at-1] == '-' {
		return // the run of dashes was looked at from its start
	}
	label, bodyStart, canonical, ok := pemLine(text, at, "BEGIN")
	if !ok || !(hasSuffixFold(label, "PRIVATE KEY") || hasSuffixFold(label, "PRIVATE KEY BLOCK")) {
		return
	}
	lim := bodyStart + maxPEM
	if lim > len(text) {
		lim = len(text)
	}
	// The body never contains "--", so the first one after the header is
	// the END line (or a new block, when this one is truncated). Each byte
	// is searched by one block at most: linear overall.
	k := strings.Index(text[bodyStart:lim], "--")
	end := -1
	if k >= 0 {
		k += bodyStart
		if _, e, endCanonical, ok := pemLine(text, k, "END"); ok {
			end = e
			canonical = canonical && endCanonical
		}
	}
	score := 1.0
	if !canonical {
		score = 0.95
	}
	var n int
	if end > 0 {
		var ok bool
		n, ok = pemBody(text[bodyStart:k])
		if !ok {
			return
		}
	} else {
		// Truncated: keep the leading run of body characters.
		stop := bodyStart
		if k >= 0 {
			stop = k
		} else {
			stop = lim
		}
		var last int
		n, last = pemBodyPrefix(text[bodyStart:stop])
		end = bodyStart + last
		score -= 0.15
	}
	if n < 32 {
		return
	}
	typ := "PRIVATE_KEY"
	if inServiceAccountJSON(text, at, end) {
		typ = "GCP_SERVICE_ACCOUNT"
	}
	addSecret(s, typ, "private_key", at, end, score, "")
}

// hasSuffixFold reports whether s ends with the upper-case ASCII suffix,
// ignoring case.
func hasSuffixFold(s, suffix string) bool {
	return len(s) >= len(suffix) && hasPrefixAt(s, len(s)-len(suffix), suffix, true)
}

// pemBody checks the text between the BEGIN and END lines: optional
// RFC 1421 headers ("Proc-Type: …", "DEK-Info: …", "Comment: …"), then
// base64 lines, with real or JSON-escaped line breaks (or spaces, when a
// form or a log flattened the lines). It returns the count
// of base64 characters and whether the body is well-formed.
func pemBody(b string) (int, bool) {
	n := 0
	for len(b) > 0 {
		// One line: up to a real newline or a literal "\n".
		line := b
		rest := ""
		for i := 0; i < len(b); i++ {
			if b[i] == '\n' {
				line, rest = b[:i], b[i+1:]
				break
			}
			if b[i] == '\\' && i+1 < len(b) && (b[i+1] == 'n' || b[i+1] == 'r') {
				line, rest = b[:i], b[i+2:]
				break
			}
		}
		b = rest
		line = strings.TrimSpace(strings.TrimSuffix(line, "\\r"))
		if line == "" {
			continue
		}
		if c := strings.IndexByte(line, ':'); c > 0 && n == 0 {
			continue // header line
		}
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c == ' ' || c == '\t' {
				continue // line breaks flattened to spaces by a form or a log
			}
			if !csB64Pad[c] {
				return n, false
			}
			if c != '=' {
				n++
			}
		}
	}
	return n, true
}

// pemBodyPrefix returns the count of base64 characters in the leading body
// run of a truncated block and the offset just past its last one.
func pemBodyPrefix(b string) (n, last int) {
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case csB64Pad[c]:
			n++
			last = i + 1
		case c == '\n' || c == '\r' || c == ' ' || c == '\t':
		case c == '\\' && i+1 < len(b) && (b[i+1] == 'n' || b[i+1] == 'r'):
			i++
		default:
			return n, last
		}
	}
	return n, last
}

// inServiceAccountJSON reports whether the key at [start,end) is the
// "private_key" value of a Google service-account key file: the key name
// right before it and "service_account" or "gserviceaccount.com" within
// 1 KB either side.
func inServiceAccountJSON(text string, start, end int) bool {
	lo := start - 32
	if lo < 0 {
		lo = 0
	}
	if !strings.Contains(text[lo:start], `private_key`) {
		return false
	}
	lo = start - 1024
	if lo < 0 {
		lo = 0
	}
	hi := end + 1024
	if hi > len(text) {
		hi = len(text)
	}
	return strings.Contains(text[lo:start], "service_account") || strings.Contains(text[end:hi], "gserviceaccount.com") ||
		strings.Contains(text[lo:start], "private_key_id")
}

// jwtRecognizer finds JSON Web Tokens (RFC 7519) in compact serialization:
// three (JWS) or five (JWE) base64url segments joined by '.', whose first
// segment decodes to a JSON header with an "alg" member (or, when the
// payload is JSON too, any JSON object: headers of only "apu", "b64" …).
type jwtRecognizer struct{}

func (jwtRecognizer) Name() string        { return "jwt" }
func (jwtRecognizer) Types() []string     { return []string{"JWT"} }
func (jwtRecognizer) Triggers() []Trigger { return []Trigger{{Kind: TriggerPrefix, Prefix: "eyJ"}} }

// maxJWTHeader bounds the header segment decoded (real headers are well
// under 1 KB; x5c chains can be larger and are skipped).
const maxJWTHeader = 2048

func (jwtRecognizer) Find(s *Scan, at int) {
	text := s.text
	var segs [5]int // end offset of each segment
	nseg := 0
	i := at
	for nseg < 5 {
		j := i
		for j < len(text) && csB64URL[text[j]] {
			j++
		}
		segs[nseg] = j
		nseg++
		if j >= len(text) || text[j] != '.' || nseg == 5 {
			break
		}
		i = j + 1
	}
	if nseg == 4 {
		nseg = 3 // JWE has five segments; a fourth '.' ends a JWS
	}
	if nseg < 3 {
		return
	}
	end := segs[nseg-1]
	if end < len(text) && (isAlnum(text[end]) || text[end] >= 0x80) {
		return
	}
	hdr := text[at:segs[0]]
	payload := text[segs[0]+1 : segs[1]]
	if len(hdr) < 10 || len(hdr) > maxJWTHeader {
		return
	}
	score := 0.95
	if !jwtHeaderHasAlg(hdr) {
		if !strings.HasPrefix(payload, "eyJ") || !jwtHeaderObject(hdr) {
			return
		}
		score = 0.75
	}
	sig := text[segs[1]+1 : segs[2]]
	switch {
	case nseg == 5:
		score = min(score, 0.9)
	case len(payload) < 2:
		return
	case len(sig) == 0:
		score = min(score, 0.7) // unsecured JWT ("alg":"none"): still a bearer credential
	case len(sig) < 16:
		score = 0.6
	}
	if !strings.HasPrefix(payload, "eyJ") && nseg == 3 {
		score -= 0.2
	}
	addSecret(s, "JWT", "jwt", at, end, score, "")
}

// b64urlVal maps base64url (and standard base64) characters to their
// values; 0xFF marks others.
var b64urlVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xFF
	}
	const a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for i := 0; i < len(a); i++ {
		t[a[i]] = byte(i)
	}
	t['-'], t['_'], t['+'], t['/'] = 62, 63, 62, 63
	return t
}()

// b64Decode decodes unpadded base64url (or base64) src into dst and
// returns the bytes written; it stops at the first invalid character.
func b64Decode(dst []byte, src string) int {
	n := 0
	var acc uint32
	bits := 0
	for i := 0; i < len(src) && n < len(dst); i++ {
		v := b64urlVal[src[i]]
		if v == 0xFF {
			break
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			dst[n] = byte(acc >> uint(bits))
			n++
		}
	}
	return n
}

// jwtHeaderHasAlg decodes a JOSE header and looks for a JSON object with an
// "alg" member.
func jwtHeaderHasAlg(seg string) bool {
	var buf [maxJWTHeader * 3 / 4]byte
	n := b64Decode(buf[:], seg)
	h := bytesToString(buf[:n])
	h = strings.TrimLeft(h, " \t\r\n")
	if !strings.HasPrefix(h, "{") {
		return false
	}
	return strings.Contains(h, `"alg"`)
}

// jwtHeaderObject reports a segment that decodes to a JSON object whose
// first member has a short name ("apu", "b64", "aud" …): a JOSE header
// without "alg" (or with it past a truncation), taken only when the
// payload is JSON too.
func jwtHeaderObject(seg string) bool {
	var buf [24]byte
	n := b64Decode(buf[:], seg)
	h := bytesToString(buf[:n])
	if !strings.HasPrefix(h, `{"`) {
		return false
	}
	for i := 2; i < len(h) && i < 12; i++ {
		switch c := h[i]; {
		case c == '"':
			return i > 2 && i+1 < len(h) && h[i+1] == ':'
		case !isAlnum(c) && c != '_' && c != '#':
			return false
		}
	}
	return false
}
