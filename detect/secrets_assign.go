package detect

import "strings"

// assignRecognizer finds secrets assigned to credential-named keys in code,
// env files, YAML, JSON, INI, query strings and prose:
//
//	DB_PASSWORD=hunter2x9Q   password: "s3cr3t!Pw"   "api_key": "…"
//	client_secret = '…'      apiKey := "…"           :token => "…"
//	AccountKey=…;            API key: …              aws_secret_access_key = …
//	<password>…</password>   Password=…;             ?user=app&password=…
//
// It is woken by every '=', ':' and '>' and looks back at the key: the key's
// last word(s), lower-cased with separators dropped, must end in a
// credential word (password, passwd, pwd, secret, token, apikey,
// accesskey, privatekey, credentials …). The value is then gated on
// placeholders (${VAR}, <password>, ****, "changeme", process.env.X …) and
// scored on length, character classes and Shannon entropy, so templating
// and examples stay below the threshold and random-looking values pass.
// Keys that name a vendor (aws_secret_access_key, DD_API_KEY,
// TWILIO_AUTH_TOKEN, HEROKU_API_KEY, CLOUDFLARE_API_TOKEN, Azure
// AccountKey) report that vendor's type when the value has its shape.
type assignRecognizer struct{}

func (assignRecognizer) Name() string { return "secret_assignment" }
func (assignRecognizer) Types() []string {
	return []string{"GENERIC_SECRET", "AWS_SECRET_KEY", "DATADOG_API_KEY", "TWILIO_AUTH_TOKEN", "HEROKU_API_KEY",
		"CLOUDFLARE_API_KEY", "AZURE_CLIENT_SECRET", "AZURE_STORAGE_KEY"}
}
func (assignRecognizer) Triggers() []Trigger {
	return []Trigger{{Kind: TriggerByte, Byte: '='}, {Kind: TriggerByte, Byte: ':'}, {Kind: TriggerByte, Byte: '>'},
		{Kind: TriggerPrefix, Prefix: "\","}, {Kind: TriggerPrefix, Prefix: "',"}}
}

// keyKind classifies a credential key.
type keyKind uint8

const (
	keyNone     keyKind = iota
	keyPassword         // human-chosen: shorter values are fine
	keyToken            // machine-generated: must look random
	keyAzure            // Azure connection-string AccountKey / SharedAccessKey
)

// credSuffixes are the compacted key endings that name a credential.
var credSuffixes = []struct {
	w    string
	kind keyKind
}{
	{"password", keyPassword}, {"passwd", keyPassword}, {"pwd", keyPassword}, {"pass", keyPassword},
	{"passphrase", keyPassword}, {"passcode", keyPassword}, {"pword", keyPassword},
	// German, French ("mot de passe"), Portuguese, Dutch, Spanish without
	// the tilde.
	{"passwort", keyPassword}, {"motdepasse", keyPassword}, {"senha", keyPassword},
	{"wachtwoord", keyPassword}, {"contrasena", keyPassword},
	{"secret", keyToken}, {"secretkey", keyToken}, {"apikey", keyToken}, {"apitoken", keyToken},
	{"accesskey", keyToken}, {"token", keyToken}, {"privatekey", keyToken}, {"credential", keyToken},
	{"credentials", keyToken}, {"creds", keyToken}, {"signingkey", keyToken}, {"encryptionkey", keyToken},
	{"masterkey", keyToken}, {"authkey", keyToken}, {"sessionkey", keyToken}, {"appkey", keyToken},
	{"secrets", keyToken}, {"licensekey", keyToken}, {"webhooksecret", keyToken},
	{"accountkey", keyAzure}, {"sharedaccesskey", keyAzure},
}

// notCredSuffixes are key endings that contain a credential word but name
// something public: pagination cursors, token counts and types.
var notCredSuffixes = []string{"nexttoken", "pagetoken", "continuationtoken", "synctoken", "cursortoken",
	"bypass", "compass", "subpass", "overpass", "oauth", "publickey", "pubkey", "tokentype", "oldpassword"}

// maxSecretValue bounds a value read after an assignment.
const maxSecretValue = 256

func (assignRecognizer) Find(s *Scan, at int) {
	text := s.text
	c := text[at]
	n := len(text)
	v := at + 1
	op := at // where the operator starts
	if c == '>' {
		// XML element: <password>value</password>.
		if at == 0 || !isAlnum(text[at-1]) {
			return
		}
		k := at - 1
		for k > 0 && at-k < 48 && (isAlnum(text[k-1]) || text[k-1] == '_' || text[k-1] == '-' || text[k-1] == '.') {
			k--
		}
		if k == 0 || text[k-1] != '<' {
			return
		}
	} else if c == ':' {
		// ':=' and '::=' are read at their '='.
		if v < n && (text[v] == '/' || text[v] == ':' || text[v] == '=') {
			return
		}
		if at > 0 && text[at-1] == ':' {
			return
		}
	} else if c == '"' || c == '\'' {
		// Woken at the quote of `",`: call arguments such as
		// setProperty("X_TOKEN", "…") and setenv('KEY', '…').
		op = at + 1
	} else {
		// Assignment operators ending in '=': = := ::= :::= ?= .= +=
		// (Make, Go, PHP, shell); comparisons (== != <= >=) are not.
		for op > 0 && at-op < 3 && (text[op-1] == ':' || text[op-1] == '?' || text[op-1] == '.' || text[op-1] == '+') {
			op--
		}
		if op > 0 {
			if p := text[op-1]; p == '=' || p == '!' || p == '<' || p == '>' || p == '-' || p == '*' || p == '/' || p == '|' || p == '&' || p == '(' {
				return
			}
		}
		if v < n && text[v] == '=' {
			return
		}
		if v < n && text[v] == '>' {
			v++
		}
	}
	kind, key, ks := credKey(text, op)
	if kind == keyNone || (c == ':' && ks+4 == keyEndBefore(text, at) && text[ks:ks+4] == "PASS") { // "--- PASS: TestX"
		return
	}
	if c == '"' || c == '\'' {
		if ks == 0 || text[ks-1] != c {
			return // the key must be a quoted string
		}
		vs, ve, quoted := assignedValue(text, op+1)
		if !quoted || ve <= vs {
			return
		}
		if typ, score := scoreSecretValue(kind, key, text[vs:ve], true); score > 0 {
			addSecret(s, typ, "secret_assignment", vs, ve, score, "")
		}
		return
	}
	if c == ':' && ks > 0 && text[ks-1] == ':' { // arn:…:secret:name
		return
	}
	vs, ve, quoted := assignedValue(text, v)
	if c == '>' {
		vs, quoted = v, true
		ve = strings.IndexByte(text[v:min(n, v+maxSecretValue)], '<')
		if ve < 0 {
			return
		}
		ve += v
		// The element may hold the value on a line of its own.
		for vs < ve && isSpace(text[vs]) {
			vs++
		}
		for ve > vs && isSpace(text[ve-1]) {
			ve--
		}
	}
	if ve <= vs {
		return
	}
	val := text[vs:ve]
	if !quoted {
		if cv := compactLower(val); len(cv) >= 4 && strings.HasSuffix(key, cv) {
			return // authPwd = authPwd
		}
		if ve < n && text[ve] == ',' && c == ':' && allIn(val, csLetters) {
			return // struct or object literal: {Token: someVar, …}
		}
		if ve+1 < n && text[ve] == ' ' && isLower(text[ve+1]) && !strings.ContainsAny(val, "0123456789") {
			return // prose: "PrivateKey: Hardware-backed private key …"
		}
	}
	typ, score := scoreSecretValue(kind, key, val, quoted)
	if score <= 0 {
		return
	}
	addSecret(s, typ, "secret_assignment", vs, ve, score, "")
}

// credKey reads the key before the assignment operator at op and returns
// its kind, its compacted lower-case form (up to three space-separated
// words, so "API key:" and "aws secret access key =" work) and the offset
// where it starts.
func credKey(text string, op int) (keyKind, string, int) {
	k := op
	for k > 0 && op-k < 4 && (text[k-1] == ' ' || text[k-1] == '\t') {
		k--
	}
	if k > 0 && (text[k-1] == '"' || text[k-1] == '\'' || text[k-1] == '`') {
		k--
		if k > 0 && text[k-1] == '\\' {
			k--
		}
	}
	k = skipTypeName(text, k)
	if k > 0 && text[k-1] == ']' { // ENV["X"] = … is rare; keep cheap
		return keyNone, "", 0
	}
	keyEnd := k
	// Fast reject: the key's last three letters must end some credential
	// word (or "key", which may follow "API", "secret", "access" …).
	if k < 3 {
		return keyNone, "", 0
	}
	switch string([]byte{lower[text[k-3]], lower[text[k-2]], lower[text[k-1]]}) {
	case "ord", "swd", "pwd", "ass", "ase", "ode", "ret", "key", "ken", "ial", "als", "eds", "ets", "ort", "sse", "nha", "ena":
	default:
		return keyNone, "", 0
	}
	var buf [64]byte
	m := len(buf)
	words := 0
	kStart := k
	for k > 0 && words < 3 {
		e := k
		for k > 0 && e-k < 48 && (isAlnum(text[k-1]) || text[k-1] == '_' || text[k-1] == '-' || text[k-1] == '.') {
			k--
		}
		if e == k {
			break
		}
		kStart = k
		for i := e - 1; i >= k && m > 0; i-- {
			if isAlnum(text[i]) {
				m--
				buf[m] = lower[text[i]]
			}
		}
		words++
		if w := bytesToString(buf[m:]); words == 1 && !credSuffix(w) && w != "key" {
			return keyNone, "", 0
		}
		// Another word only across a single space, and only letters.
		if k < 2 || text[k-1] != ' ' || !isAlnum(text[k-2]) {
			break
		}
		k--
	}
	key := bytesToString(buf[m:])
	for _, ns := range notCredSuffixes {
		if strings.HasSuffix(key, ns) {
			return keyNone, "", 0
		}
	}
	best := keyNone
	bestLen := 0
	for _, cs := range credSuffixes {
		if len(cs.w) > bestLen && strings.HasSuffix(key, cs.w) {
			best, bestLen = cs.kind, len(cs.w)
		}
	}
	if bestLen == 4 && len(key) > 4 && !wordStartAt(text, keyEnd-4) {
		return keyNone, "", 0 // "minipass", "bypass": "pass" inside a word
	}
	return best, string(buf[m:]), kStart
}

// skipTypeName steps back over a string type written between a key and
// its operator (`var token string = …`, `token: str = …`,
// `let token: &str = …`, `const char *token = …` is not affected) and
// returns where the key then ends; k is returned unchanged otherwise.
func skipTypeName(text string, k int) int {
	e := k
	for k > 0 && e-k < 8 && (isAlnum(text[k-1]) || text[k-1] == '&' || text[k-1] == '[' || text[k-1] == ']' || text[k-1] == '*') {
		k--
	}
	switch text[k:e] {
	case "string", "String", "str", "&str", "[]byte", "*string", "Str", "SecretStr":
	default:
		return e
	}
	j := k
	for j > 0 && k-j < 4 && (text[j-1] == ' ' || text[j-1] == '\t') {
		j--
	}
	if j > 0 && text[j-1] == ':' {
		j--
		for j > 0 && k-j < 6 && (text[j-1] == ' ' || text[j-1] == '\t') {
			j--
		}
	} else if j == k {
		return e // the type must be a word of its own
	}
	if j == 0 || !isAlnum(text[j-1]) {
		return e
	}
	return j
}

func credSuffix(key string) bool {
	for _, cs := range credSuffixes {
		if strings.HasSuffix(key, cs.w) {
			return true
		}
	}
	return false
}

// assignedValue reads the value starting at v (after the operator): an
// optionally quoted string on the same line. JSON-escaped quotes (\")
// count as quotes.
func assignedValue(text string, v int) (int, int, bool) {
	n := len(text)
	for v < n && (text[v] == ' ' || text[v] == '\t') {
		v++
	}
	if v >= n {
		return 0, 0, false
	}
	q := text[v]
	esc := false
	if q == '\\' && v+1 < n && text[v+1] == '"' {
		esc = true
		q = '"'
		v++
	}
	if q == '"' || q == '\'' || q == '`' {
		vs := v + 1
		lim := vs + maxSecretValue
		if lim > n {
			lim = n
		}
		for i := vs; i < lim; i++ {
			c := text[i]
			if c == '\n' || c == '\r' {
				return 0, 0, false
			}
			if esc {
				if c == '\\' && i+1 < n && text[i+1] == '"' {
					return vs, i, true
				}
				continue
			}
			if c == '\\' {
				i++
				continue
			}
			if c == q {
				return vs, i, true
			}
		}
		return 0, 0, false
	}
	vs := v
	lim := vs + maxSecretValue
	if lim > n {
		lim = n
	}
	i := vs
	for i < lim {
		c := text[i]
		if isSpace(c) || c == '"' || c == '\'' || c == '`' || c == ',' || c == ';' || c == '&' || c == ')' ||
			c == ']' || c == '}' || c == '<' || c == '>' || c == '\\' {
			break
		}
		i++
	}
	if i == lim && i < n {
		return 0, 0, false
	}
	// A sentence-ending period is not part of the value.
	for i > vs && (text[i-1] == '.' || text[i-1] == ':' || text[i-1] == '!' || text[i-1] == '?') && (i == n || !isAlnum(text[i])) {
		i--
	}
	if i < n && text[i] >= 0x80 {
		return 0, 0, false
	}
	return vs, i, false
}

// isUUID reports whether v is 8-4-4-4-12 hex.
func isUUID(v string) bool {
	if len(v) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if v[i] != '-' {
				return false
			}
		} else if !isHex(v[i]) {
			return false
		}
	}
	return true
}

// secretClasses counts lower, upper, digit and symbol classes of v; the
// separators '_', '-' and '.' (common in identifiers) count for nothing.
func secretClasses(v string) int {
	var lo, up, di, sy int
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isLower(c):
			lo = 1
		case isUpper(c):
			up = 1
		case isDigit(c):
			di = 1
		case c == '_' || c == '-' || c == '.':
		default:
			sy = 1
		}
	}
	return lo + up + di + sy
}

// codeRef reports values that are code, not literals: identifiers
// (user_password), dotted references (config.db.password, process.env.X),
// calls (getpass()), paths and URLs.
func codeRef(v string, quoted bool) bool {
	if strings.Contains(v, "://") || strings.ContainsAny(v, " \t") {
		return true
	}
	if v[0] == '/' || strings.HasPrefix(v, "./") || strings.HasPrefix(v, "~/") || strings.HasPrefix(v, "../") {
		return true
	}
	// Pointers and YAML aliases (*x, &x), string concatenation, URNs,
	// host names.
	if (!quoted && (v[0] == '*' || v[0] == '&')) || v[0] == '+' || v[0] == '`' || strings.HasSuffix(v, "+") ||
		strings.HasPrefix(v, "urn:") || hostLike(v) {
		return true
	}
	if dot := strings.LastIndexByte(v, '.'); dot >= 0 && len(v)-dot <= 5 {
		switch strings.ToLower(v[dot:]) {
		case ".txt", ".pem", ".key", ".json", ".yaml", ".yml", ".env", ".crt", ".p12", ".pfx", ".jks", ".cfg", ".conf":
			return true
		}
	}
	hasDigit := false
	ident := true
	dots := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isDigit(c):
			hasDigit = true
		case isAlnum(c) || c == '_':
		case c == '.':
			dots++
		default:
			ident = false
		}
	}
	if strings.HasPrefix(v, "process.env") || strings.HasPrefix(v, "os.environ") || strings.HasPrefix(v, "os.getenv") ||
		strings.HasPrefix(v, "System.getenv") || strings.HasPrefix(v, "ENV.") || strings.HasPrefix(v, "env.") {
		return true
	}
	if !quoted && strings.ContainsAny(v, "()[]{}") {
		return true
	}
	if ident && !quoted && !hasDigit && strings.IndexByte(v, '_') >= 0 {
		return true // user_password
	}
	if ident && !quoted && dots > 0 && dottedName(v) {
		return true // config.password, e2ex509.CertPrivateKey
	}
	if ident && dots > 0 && !hasDigit && isAlnum(v[0]) && !isDigit(v[0]) && v[len(v)-1] != '.' {
		return true // settings.SECRET_KEY quoted as a reference
	}
	return false
}

// scoreSecretValue decides whether val, assigned to a key of kind, is a
// credential, and returns the type and score (0 = not reported).
func scoreSecretValue(kind keyKind, key, val string, quoted bool) (string, float64) {
	if codeRef(val, quoted) || checksummedToken(val) {
		return "", 0
	}
	// A value in a vendor's exact shape under that vendor's key is its
	// credential even when it spells EXAMPLE (AWS's documentation secret
	// key): only shapes no generator makes are placeholders there.
	if t, sc := vendorByKey(kind, key, val); t != "" && !placeholderShape(val) {
		return t, sc
	}
	if placeholderValue(val) {
		return "", 0
	}
	if kind == keyAzure {
		return "", 0
	}
	n := len(val)
	cls := secretClasses(val)
	h := shannon(val)
	if kind == keyPassword {
		switch {
		case n < 6 || n > 128:
			return "", 0
		case allIn(val, csDigits):
			return "GENERIC_SECRET", 0.4
		case camelIdentifier(val) || plainWord(val) || nameLike(val):
			return "GENERIC_SECRET", 0.35
		case cls >= 3 && n >= 8:
			return "GENERIC_SECRET", 0.8
		case cls >= 2 && n >= 8:
			return "GENERIC_SECRET", 0.7
		case cls >= 2:
			return "GENERIC_SECRET", 0.6
		default:
			return "GENERIC_SECRET", 0.35
		}
	}
	if n < 8 || placeholderToken(val) {
		return "", 0
	}
	score := 0.35
	switch {
	case isUUID(val):
		score = 0.7
	case n >= 32 && allIn(val, csHex):
		score = 0.75
	case n >= 16 && h >= 3.3 && cls >= 2:
		score = 0.75
	case n >= 12 && h >= 3.0 && cls >= 2:
		score = 0.6
	}
	if (nameLike(val) && !randomSegments(val)) || camelIdentifier(val) || plainWord(val) {
		score = 0.35
	}
	return "GENERIC_SECRET", score
}

// vendorByKey types values of keys that name a vendor credential when the
// value has that vendor's shape.
func vendorByKey(kind keyKind, key, val string) (string, float64) {
	n := len(val)
	switch {
	case kind == keyAzure:
		if n >= 40 && n <= 100 && allIn(val, csB64Pad) && strings.HasSuffix(val, "=") {
			if n == 88 || n == 44 {
				return "AZURE_STORAGE_KEY", 0.95
			}
			return "AZURE_STORAGE_KEY", 0.85
		}
	case strings.Contains(key, "aws") || strings.HasSuffix(key, "secretaccesskey"):
		if n == 40 && allIn(val, csB64) && hasClasses(val, 2) {
			return "AWS_SECRET_KEY", 0.9
		}
	case strings.Contains(key, "datadog") || strings.HasPrefix(key, "dd"):
		if (n == 32 || n == 40) && allIn(val, csHexLower) {
			return "DATADOG_API_KEY", 0.9
		}
	case strings.Contains(key, "twilio"):
		if n == 32 && allIn(val, csHexLower) {
			return "TWILIO_AUTH_TOKEN", 0.9
		}
	case strings.Contains(key, "heroku"):
		if isUUID(val) {
			return "HEROKU_API_KEY", 0.9
		}
	case strings.Contains(key, "cloudflare") || strings.HasPrefix(key, "cfapi"):
		if (n == 40 && allIn(val, csB64URL)) || (n == 37 && allIn(val, csHexLower)) {
			return "CLOUDFLARE_API_KEY", 0.9
		}
	case strings.Contains(key, "azure") && strings.HasSuffix(key, "secret"):
		if n >= 34 && n <= 44 && allIn(val, csAzureSecret) {
			return "AZURE_CLIENT_SECRET", 0.85
		}
	}
	return "", 0
}

var csAzureSecret = newCharset("A-Za-z0-9_~.-")

// checksummedToken reports values that a checksummed vendor rule judges
// (GitHub, npm, age): the vendor finding, with its checksum verdict in the
// score, must not be outscored by a generic one.
func checksummedToken(v string) bool {
	if len(v) == 40 && v[0] == 'g' && v[1] == 'h' && v[3] == '_' {
		switch v[2] {
		case 'p', 'o', 'u', 's', 'r':
			return true
		}
	}
	return strings.HasPrefix(v, "npm_") || strings.HasPrefix(v, "AGE-SECRET-KEY-1")
}

// nameLike reports identifiers made of single-case words joined by '-',
// '_', '.' or '/' ("my-k8s-db-secret", "XDG_RUNTIME_DIR-bar",
// "team/prod.api-token"): resource and variable names, not secrets.
func nameLike(v string) bool {
	seg, seps := 0, 0
	var segCase byte // 'l' or 'u' once the segment has a letter
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isLower(c) || isUpper(c):
			cs := byte('l')
			if isUpper(c) {
				cs = 'u'
			}
			if segCase != 0 && segCase != cs {
				return false
			}
			segCase = cs
			fallthrough
		case isDigit(c):
			seg++
			if seg > 12 {
				return false
			}
		case c == '-' || c == '_' || c == '.' || c == '/':
			seps++
			seg, segCase = 0, 0
		default:
			return false
		}
	}
	return seps > 0
}

// randomSegments reports separated values with two or more segments of
// four bytes or more that mix letters and digits ("b72a82e3-e721-…",
// "A3-KGNT5S-Z3WR6J5PNVI-…"): generated keys, not the words of a name
// ("my-k8s-db-secret" has one such segment of three).
func randomSegments(v string) bool {
	mixed, seg, letters, digits := 0, 0, 0, 0
	for i := 0; i <= len(v); i++ {
		if i == len(v) || !isAlnum(v[i]) {
			if seg >= 4 && letters > 0 && digits > 0 {
				mixed++
			}
			seg, letters, digits = 0, 0, 0
			continue
		}
		seg++
		if isDigit(v[i]) {
			digits++
		} else {
			letters++
		}
	}
	return mixed >= 2
}

// camelIdentifier reports code identifiers written in camel or Pascal case
// ("RequireAndVerifyClientCert", "testEd25519PrivateKey", "oldDir"):
// letters and digits only, at least one lower-to-upper hump, every word
// (an optional capital and a lower-case run) holding a vowel, no lone
// lower-case letter except right after a capital, lower-case runs of two
// letters or more on average, and at most one run of digits. About 1.5%
// of random 15-character base62 strings pass, 0.1% at 24 characters.
func camelIdentifier(v string) bool {
	if len(v) < 4 || !isLower(lower[v[0]]) {
		return false
	}
	humps, lowers, runs, digitRuns := 0, 0, 0, 0
	vowel := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case isLower(c):
			lowers++
			if i == 0 || !isLower(v[i-1]) {
				runs++
				vowel = i > 0 && isUpper(v[i-1]) && isVowel(v[i-1])
			}
			vowel = vowel || isVowel(c)
			if i+1 == len(v) || !isLower(v[i+1]) { // run ends
				single := i == 0 || !isLower(v[i-1])
				if !vowel || (single && (i == 0 || !isUpper(v[i-1]))) {
					return false
				}
			}
		case isUpper(c):
			if i > 0 && isLower(v[i-1]) {
				humps++
			}
		case isDigit(c):
			if i == 0 || !isDigit(v[i-1]) {
				digitRuns++
			}
		default:
			return false
		}
	}
	return humps >= 1 && runs > 0 && lowers >= 2*runs && digitRuns <= 1
}

func isVowel(c byte) bool {
	switch lower[c] {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

// wordStartAt reports whether a word part starts at i: after a
// non-letter, or a capital after a lower-case letter (camelCase).
func wordStartAt(text string, i int) bool {
	if i <= 0 {
		return true
	}
	p, c := text[i-1], text[i]
	return !isAlnum(p) || (isUpper(c) && isLower(p))
}

// dottedName reports a.b.c references whose parts start with a letter and
// are at least two bytes long.
func dottedName(v string) bool {
	for _, part := range strings.Split(v, ".") {
		if len(part) < 2 || !isLower(lower[part[0]]) {
			return false
		}
	}
	return true
}

// hostLike reports host names ("www.example.com", "db.internal/"): labels
// of letters, digits and '-', at least one dot, a final label of letters.
func hostLike(v string) bool {
	v = strings.TrimSuffix(v, "/")
	dot := strings.LastIndexByte(v, '.')
	if dot <= 0 || dot == len(v)-1 || !allIn(v[dot+1:], csLetters) {
		return false
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !isAlnum(c) && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

// plainWord reports a capitalised or lower-case word of letters
// ("Parameters", "welcome"): prose, or at best a dictionary password.
func plainWord(v string) bool {
	if !isLower(lower[v[0]]) {
		return false
	}
	for i := 1; i < len(v); i++ {
		if !isLower(v[i]) {
			return false
		}
	}
	return true
}

// compactLower returns v lower-cased without '_', '-' and '.', for
// comparing a value with a compacted key; long values are not compacted.
func compactLower(v string) string {
	if len(v) > 64 {
		return v
	}
	var buf [64]byte
	n := 0
	for i := 0; i < len(v); i++ {
		if isAlnum(v[i]) {
			buf[n] = lower[v[i]]
			n++
		}
	}
	return string(buf[:n])
}

// keyEndBefore returns the end of the key before the operator at op
// (skipping blanks and a closing quote), as credKey sees it.
func keyEndBefore(text string, op int) int {
	k := op
	for k > 0 && op-k < 4 && (text[k-1] == ' ' || text[k-1] == '\t') {
		k--
	}
	if k > 0 && (text[k-1] == '"' || text[k-1] == '\'' || text[k-1] == '`') {
		k--
	}
	return k
}
