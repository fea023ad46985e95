package detect

import (
	"hash/crc32"
	"math"
	"strings"
)

// base62Digits is the alphabet of GitHub's and npm's token checksums.
const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// validBase62CRC checks the checksum of a GitHub classic or npm token body
// (the part after "ghp_" / "npm_"): the last six characters are the CRC-32
// (IEEE) of the preceding characters, in base62, left-padded with '0'.
// See "Behind GitHub's new authentication token formats" (GitHub blog,
// 2021-04-05) and "npm's new access token format" (2021-09-23).
func validBase62CRC(body string) bool {
	if len(body) <= 6 {
		return false
	}
	n := len(body) - 6
	sum := crc32.ChecksumIEEE([]byte(body[:n]))
	var enc [6]byte
	for i := 5; i >= 0; i-- {
		enc[i] = base62Digits[sum%62]
		sum /= 62
	}
	return sum == 0 && string(enc[:]) == body[n:]
}

// checksumFailScore is the score of a vendor token whose checksum fails:
// the shape is specific enough that it is most likely a (mistyped,
// truncated or hand-made) credential, but policy can tell it apart from
// a verified one. Context words do not raise it.
const checksumFailScore = 0.6

// checkBase62CRC keeps the rule's score when the checksum verifies.
func checkBase62CRC(tok, b string, sc float64) float64 {
	if validBase62CRC(b) {
		return sc
	}
	return checksumFailScore
}

// checkAgeKey verifies an age secret key's Bech32 checksum (BIP-173,
// constant 1) with the decoder crypto.go uses for segwit addresses. Age
// keys are rare, so the 256-byte lookup table is built per check.
func checkAgeKey(tok, b string, sc float64) float64 {
	if _, spec := bech32Verify(tok, newBech32Values()); spec == bech32Const {
		return sc
	}
	return checksumFailScore
}

// clog2c[c] is c·log2(c), for entropy sums without a logarithm per byte.
var clog2c = func() (t [maxSecretValue + 1]float64) {
	for c := 1; c < len(t); c++ {
		t[c] = float64(c) * math.Log2(float64(c))
	}
	return t
}()

// shannon returns the Shannon entropy of s in bits per byte:
// H = log2(n) - (1/n)·Σ c·log2(c) over the byte counts c. Only the first
// maxSecretValue bytes are counted.
func shannon(s string) float64 {
	if len(s) > maxSecretValue {
		s = s[:maxSecretValue]
	}
	if len(s) == 0 {
		return 0
	}
	var counts [256]uint16
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	sum := 0.0
	for i := 0; i < len(s); i++ {
		if c := counts[s[i]]; c != 0 {
			sum += clog2c[c]
			counts[s[i]] = 0
		}
	}
	n := float64(len(s))
	h := math.Log2(n) - sum/n
	if h < 0 {
		return 0
	}
	return h
}

// placeholderToken reports token bodies that are obviously not real:
// placeholderShape, or the word EXAMPLE (AWS's documentation keys).
func placeholderToken(b string) bool {
	return placeholderShape(b) || containsFold(b, "example")
}

// placeholderShape reports token bodies that cannot be random: long runs
// of one character ("xxxx…", "0000…"), ascending sequences
// ("1234567890abcdef…") or very low entropy.
func placeholderShape(b string) bool {
	if len(b) < 8 {
		return false
	}
	run, maxRun, seq := 1, 1, 0
	for i := 1; i < len(b); i++ {
		if b[i] == b[i-1] {
			run++
			if run > maxRun {
				maxRun = run
			}
		} else {
			run = 1
		}
		if b[i] == b[i-1]+1 {
			seq++
		}
	}
	if maxRun >= 8 && maxRun*2 >= len(b) {
		return true
	}
	if seq*10 >= len(b)*6 {
		return true
	}
	return shannon(b) < 2.0
}

// containsFold reports whether s contains the lower-case ASCII word w,
// ignoring case.
func containsFold(s, w string) bool {
	n := len(w)
	for i := 0; i+n <= len(s); i++ {
		if lower[s[i]] != w[0] {
			continue
		}
		j := 1
		for j < n && lower[s[i+j]] == w[j] {
			j++
		}
		if j == n {
			return true
		}
	}
	return false
}

// placeholderWords are values that stand in for a secret in examples,
// templates and docs. Compared after lower-casing and dropping
// non-alphanumerics, so "<your-password>" and "YOUR_PASSWORD" match.
var placeholderWords = map[string]bool{
	"password": true, "passwd": true, "pass": true, "pwd": true, "secret": true, "token": true,
	"changeme": true, "changeit": true, "example": true, "sample": true, "test": true, "testing": true,
	"dummy": true, "placeholder": true, "redacted": true, "hidden": true, "masked": true, "removed": true,
	"none": true, "null": true, "nil": true, "undefined": true, "empty": true, "todo": true, "tbd": true,
	"fixme": true, "foo": true, "bar": true, "foobar": true, "baz": true, "admin": true, "root": true,
	"default": true, "string": true, "value": true, "apikey": true, "secretkey": true, "accesskey": true,
	"mypassword": true, "yourpassword": true, "newpassword": true, "oldpassword": true, "userpassword": true,
	"yourapikey": true, "yoursecret": true, "yourtoken": true, "mysecret": true, "mytoken": true,
	"secretvalue": true, "notasecret": true, "xxx": true, "true": true, "false": true, "required": true,
	"optional": true, "str": true, "text": true, "replaceme": true, "insert": true, "enter": true,
	"env": true, "environment": true, "secretpassword": true, "supersecret": true, "qwerty": true,
	"letmein": true, "welcome": true, "guest": true, "user": true, "username": true, "login": true,
	"authtoken": true, "accesstoken": true, "bearer": true, "basic": true, "clientsecret": true,
	"private": true, "privatekey": true, "credentials": true, "credential": true, "na": true, "tba": true,
	"abc123": true, "123456": true, "12345678": true, "123456789": true, "1234567890": true, "password123": true,
	"passw0rd": true, "p4ssw0rd": true, "pa55word": true, "secret123": true, "test123": true, "demo": true,
	"int": true, "int32": true, "int64": true, "uint64": true, "float": true, "float32": true, "float64": true,
	"bool": true, "boolean": true, "number": true, "integer": true, "object": true, "array": true, "bytes": true,
	"secretstr": true, "secretstring": true, "securestring": true,
}

// versionLike reports version constraints and numbers: optional ^ ~ v = < >,
// then digits and dots (and a trailing pre-release word).
func versionLike(v string) bool {
	i := 0
	for i < len(v) && strings.IndexByte("^~v=<> ", v[i]) >= 0 {
		i++
	}
	dots, digits := 0, 0
	for ; i < len(v); i++ {
		switch c := v[i]; {
		case isDigit(c):
			digits++
		case c == '.':
			dots++
		case c == '-' || c == '+':
			return dots > 0 && digits > 0
		default:
			return false
		}
	}
	return dots > 0 && digits > 0
}

// placeholderValue reports values that are templates, references or
// stand-ins rather than secrets: ${VAR}, {{ var }}, <password>, %(x)s,
// $VAR, ****, xxx…, "your_api_key_here", process.env.X and the like.
func placeholderValue(v string) bool {
	if len(v) == 0 {
		return true
	}
	switch v[0] {
	case '$', '<', '{', '%':
		// ${VAR}, $VAR, <password>, {{ x }}, %(pw)s
		return true
	case '[', '(', '@', '#':
		// [REDACTED], (none), @var, #{x}; but a long random value may
		// start with any symbol (Django's SECRET_KEY = '(#TPr(k9…').
		if len(v) < 20 || secretClasses(v) < 4 || shannon(v) < 3.5 {
			return true
		}
	}
	if strings.Contains(v, "${") || strings.Contains(v, "{{") || strings.Contains(v, "}}") {
		return true
	}
	// One repeated filler character: ****, xxxxxx, ......, ------.
	same := true
	for i := 1; i < len(v); i++ {
		if lower[v[i]] != lower[v[0]] {
			same = false
			break
		}
	}
	if same {
		return true
	}
	if strings.Contains(v, "***") || strings.Contains(v, "...") || strings.Contains(v, "…") {
		return true
	}
	// Format verbs (%s, %d, %v) and versions (^3.0.0, ~1.2, >=2, v1.4.0).
	if strings.Contains(v, "%s") || strings.Contains(v, "%d") || strings.Contains(v, "%v") || strings.Contains(v, "%q") ||
		strings.Contains(v, "/*") || versionLike(v) {
		return true
	}
	var buf [64]byte
	n := 0
	for i := 0; i < len(v) && n < len(buf); i++ {
		if isAlnum(v[i]) {
			buf[n] = lower[v[i]]
			n++
		}
	}
	w := string(buf[:n])
	if placeholderWords[w] {
		return true
	}
	for _, p := range [...]string{"xxxx", "your", "example", "placeholder", "changeme", "redacted", "dummy", "sample", "fake", "here", "replace", "insert", "secretgoeshere"} {
		if strings.Contains(w, p) {
			return true
		}
	}
	return false
}
