package detect

import "strings"

// urlCredRecognizer finds passwords in URL userinfo (RFC 3986 §3.2.1,
// "scheme://user:password@host"). Database and broker schemes report
// DATABASE_URL, others BASIC_AUTH_URL. The span is the password only, so a
// redacted URL keeps its scheme, user and host. A Sentry DSN
// ("https://<32 hex>@o1.ingest.sentry.io/2") reports its key as SENTRY_DSN.
type urlCredRecognizer struct{}

func (urlCredRecognizer) Name() string { return "url_credentials" }
func (urlCredRecognizer) Types() []string {
	return []string{"DATABASE_URL", "BASIC_AUTH_URL", "SENTRY_DSN"}
}
func (urlCredRecognizer) Triggers() []Trigger { return []Trigger{{Kind: TriggerPrefix, Prefix: "://"}} }

// dbSchemes are URL schemes of databases, caches and message brokers.
var dbSchemes = map[string]bool{
	"postgres": true, "postgresql": true, "mysql": true, "mysqlx": true, "mariadb": true, "mongodb": true,
	"mongodb+srv": true, "redis": true, "rediss": true, "amqp": true, "amqps": true, "mssql": true,
	"sqlserver": true, "oracle": true, "clickhouse": true, "cockroachdb": true, "cockroach": true,
	"couchdb": true, "neo4j": true, "neo4j+s": true, "bolt": true, "cassandra": true, "memcached": true,
	"nats": true, "kafka": true, "mqtt": true, "mqtts": true, "elasticsearch": true, "influxdb": true,
	"db2": true, "snowflake": true, "redshift": true, "timescaledb": true, "postgis": true, "sqlite": true,
	"stomp": true, "stomps": true, "rabbitmq": true, "jdbc": true, "arangodb": true, "surrealdb": true,
	"postgresql+psycopg2": true, "postgresql+asyncpg": true, "mysql+pymysql": true, "mysql+mysqldb": true,
}

// maxAuthority bounds the bytes read for "user:password@host".
const maxAuthority = 512

func (urlCredRecognizer) Find(s *Scan, at int) {
	text := s.text
	// Scheme: letters, digits, '+', '-', '.' back to a non-scheme byte.
	b := at
	for b > 0 && at-b < 32 {
		c := text[b-1]
		if isAlnum(c) || c == '+' || c == '-' || c == '.' {
			b--
			continue
		}
		break
	}
	if b == at || !isLower(lower[text[b]]) {
		return
	}
	var sbuf [32]byte
	scheme := sbuf[:0]
	for k := b; k < at; k++ {
		scheme = append(scheme, lower[text[k]])
	}
	// Authority: up to '/', '?', '#', white space, quotes or brackets.
	start := at + 3
	lim := start + maxAuthority
	if lim > len(text) {
		lim = len(text)
	}
	e := start
	lastAt := -1
	for e < lim {
		c := text[e]
		if c == '/' || c == '"' || c == '\'' || c == '`' || c == '<' || c == '>' ||
			c == '\\' || c == '(' || c == ')' || c == '[' || c == ']' || c == '{' || c == '}' || isSpace(c) || c == ',' || c == ';' {
			break
		}
		if c == '@' {
			lastAt = e
		}
		e++
	}
	if lastAt < 0 {
		return
	}
	colon := strings.IndexByte(text[start:lastAt], ':')
	if colon < 0 {
		sentryDSN(s, string(scheme), start, lastAt, e)
		return
	}
	if strings.ContainsAny(text[start:start+colon], "?#=&") {
		return
	}
	ps, pe := start+colon+1, lastAt
	if pe <= ps {
		return
	}
	pw := text[ps:pe]
	if !secValidUTF8Bounds(text, ps, pe) {
		return
	}
	host := text[lastAt+1 : e]
	if len(host) == 0 {
		return
	}
	// A short or stand-in literal ("user:pass@", "root:root@") is still
	// a credential URL, scored below the default threshold (examples and
	// local set-ups use them; policy may lower the threshold); templates
	// and references (${DB_PASS}, %s, <password>) are not reported.
	weak := len(pw) < 4 || placeholderValue(pw)
	if weak && (!isAlnum(pw[0]) || !allIn(pw, csWordDot)) {
		return
	}
	// Scores sit above the email recognizer's 0.95: "pass@host" inside
	// userinfo is not an address, and the higher score wins the overlap.
	typ, score := "BASIC_AUTH_URL", 0.96
	sch := string(scheme)
	if i := strings.LastIndexByte(sch, ':'); i >= 0 {
		sch = sch[i+1:]
	}
	switch {
	case dbSchemes[sch]:
		typ, score = "DATABASE_URL", 0.97
	case sch == "http" || sch == "https" || sch == "ftp" || sch == "ftps" || sch == "sftp" || sch == "ssh" ||
		sch == "git" || sch == "smtp" || sch == "smtps" || sch == "imap" || sch == "imaps" || sch == "ws" ||
		sch == "wss" || sch == "ldap" || sch == "ldaps" || sch == "svn" || sch == "socks5" || sch == "socks5h" ||
		sch == "socks" || sch == "rtsp" || sch == "s3" || sch == "git+https" || sch == "git+ssh" || sch == "pop3" || sch == "sip":
	default:
		score = 0.65
	}
	if weak {
		score = 0.3
	}
	addSecret(s, typ, "url_credentials", ps, pe, score, "")
}

// urlUserinfoAt reports whether i starts the password of a URL's
// userinfo ("scheme://user:" just before i, RFC 3986 §3.2.1), where an
// '@' ends the password, not an address's local part.
func urlUserinfoAt(text string, i int) bool {
	if i == 0 || text[i-1] != ':' {
		return false
	}
	for k := i - 2; k >= 2 && i-k < 130; k-- {
		c := text[k]
		if c == '/' {
			return text[k-1] == '/' && text[k-2] == ':'
		}
		if isSpace(c) || c == '@' || c == '"' || c == '\'' || c == '<' || c == '>' {
			return false
		}
	}
	return false
}

// sentryDSN reports the public key of a Sentry DSN
// "https://<32 hex>@oNNN.ingest.sentry.io/NNN".
func sentryDSN(s *Scan, scheme string, start, at, end int) {
	if scheme != "https" && scheme != "http" {
		return
	}
	text := s.text
	key := text[start:at]
	if len(key) != 32 || !allIn(key, csHexLower) {
		return
	}
	host := text[at+1 : end]
	score := 0.6
	if strings.Contains(host, "sentry") {
		score = 0.96
	}
	addSecret(s, "SENTRY_DSN", "url_credentials", start, at, score, "")
}

// secValidUTF8Bounds reports whether [a,b) starts and ends on rune
// boundaries of text.
func secValidUTF8Bounds(text string, a, b int) bool {
	if a < len(text) && text[a]&0xC0 == 0x80 {
		return false
	}
	if b < len(text) && text[b]&0xC0 == 0x80 {
		return false
	}
	return true
}

// webhookRecognizer finds incoming-webhook URLs whose path is the secret:
// Slack (hooks.slack.com/services|workflows|triggers/…) and Discord
// (discord.com/api/webhooks/<id>/<token>). The span is the whole URL,
// including "https://" when present.
type webhookRecognizer struct{}

func (webhookRecognizer) Name() string    { return "webhook_url" }
func (webhookRecognizer) Types() []string { return []string{"SLACK_WEBHOOK", "DISCORD_WEBHOOK"} }
func (webhookRecognizer) Triggers() []Trigger {
	return []Trigger{
		{Kind: TriggerPrefix, Prefix: "hooks.slack.com/"},
		{Kind: TriggerPrefix, Prefix: "discord.com/api/webhooks/"},
		{Kind: TriggerPrefix, Prefix: "discordapp.com/api/webhooks/"},
		{Kind: TriggerPrefix, Prefix: "canary.discord.com/api/webhooks/"},
		{Kind: TriggerPrefix, Prefix: "ptb.discord.com/api/webhooks/"},
	}
}

var csSlackHook = newCharset("A-Za-z0-9/+_")

func (webhookRecognizer) Find(s *Scan, at int) {
	text := s.text
	start := at
	if at >= 8 && text[at-8:at] == "https://" {
		start = at - 8
	} else if at >= 7 && text[at-7:at] == "http://" {
		start = at - 7
	}
	if text[at] == 'h' {
		i := at + len("hooks.slack.com/")
		var kind string
		for _, k := range [...]string{"services/", "workflows/", "triggers/"} {
			if strings.HasPrefix(text[i:], k) {
				kind = k
				break
			}
		}
		if kind == "" {
			return
		}
		i += len(kind)
		j := scanRun(text, i, 120, csSlackHook)
		for j > i && text[j-1] == '/' {
			j--
		}
		path := text[i:j]
		if len(path) < 40 || strings.Count(path, "/") < 2 || j-i > 120 || wordAfter(text, j) {
			return
		}
		if placeholderToken(path[strings.LastIndexByte(path, '/')+1:]) {
			return
		}
		addSecret(s, "SLACK_WEBHOOK", "webhook_url", start, j, 0.95, "")
		return
	}
	i := at + strings.Index(text[at:], "/webhooks/") + len("/webhooks/")
	j := i
	for j < len(text) && isDigit(text[j]) {
		j++
	}
	if j-i < 17 || j-i > 20 || j >= len(text) || text[j] != '/' {
		return
	}
	k := scanRun(text, j+1, 100, csB64URL)
	if n := k - j - 1; n < 60 || n > 100 || wordAfter(text, k) {
		return
	}
	addSecret(s, "DISCORD_WEBHOOK", "webhook_url", start, k, 0.95, "")
}

// authHeaderRecognizer finds HTTP credentials: "Bearer <token>" (RFC 6750)
// anywhere, and "Authorization: Basic <base64 user:pass>" (RFC 7617) or
// "Authorization: token <x>" / a bare token after an Authorization key.
// The span is the credential after the scheme.
type authHeaderRecognizer struct{}

func (authHeaderRecognizer) Name() string    { return "auth_header" }
func (authHeaderRecognizer) Types() []string { return []string{"BEARER_TOKEN", "BASIC_AUTH_HEADER"} }
func (authHeaderRecognizer) Triggers() []Trigger {
	return []Trigger{
		{Kind: TriggerPrefix, Prefix: "bearer", Fold: true},
		{Kind: TriggerPrefix, Prefix: "authorization", Fold: true},
	}
}

// csBearer is the RFC 6750 b64token charset before the trailing '='s.
var csBearer = newCharset("A-Za-z0-9._~+/-")

// maxBearer bounds a bearer token's length.
const maxBearer = 4096

func (authHeaderRecognizer) Find(s *Scan, at int) {
	text := s.text
	if lower[text[at]] == 'b' {
		i := at + len("bearer")
		findBearer(s, at, i, 0.85)
		return
	}
	i := at + len("authorization")
	// Authorization header or key: optional quote, ':' or '=', optional
	// quote, spaces.
	for i < len(text) && i-at < 20 && (text[i] == '"' || text[i] == '\'' || text[i] == ' ') {
		i++
	}
	if i >= len(text) || (text[i] != ':' && text[i] != '=') {
		return
	}
	i++
	for i < len(text) && (text[i] == ' ' || text[i] == '\t' || text[i] == '"' || text[i] == '\'') {
		i++
	}
	switch {
	case hasPrefixAt(text, i, "bearer", true):
		return // the "bearer" trigger reports it
	case hasPrefixAt(text, i, "basic ", true):
		j := i + len("basic ")
		for j < len(text) && text[j] == ' ' {
			j++
		}
		k := scanRun(text, j, 1024, csB64Pad)
		if k-j < 8 || k-j > 1024 || wordAfter(text, k) {
			return
		}
		var buf [768]byte
		n := b64Decode(buf[:], strings.TrimRight(text[j:k], "="))
		dec := buf[:n]
		c := strings.IndexByte(bytesToString(dec), ':')
		if c < 1 || c == n-1 || !printableASCII(dec) || placeholderValue(bytesToString(dec[c+1:])) {
			return
		}
		addSecret(s, "BASIC_AUTH_HEADER", "auth_header", j, k, 0.9, "")
	case hasPrefixAt(text, i, "token ", true):
		findBearer(s, i, i+len("token"), 0.85)
	default:
		// A bare credential, not a scheme followed by parameters
		// ("AWS4-HMAC-SHA256 Credential=…").
		j := scanRun(text, i, maxBearer, csBearer)
		if j < len(text) && text[j] == ' ' {
			return
		}
		findBearer(s, i, i, 0.7)
	}
}

// findBearer reads a token after the scheme word ending at i (spaces
// first when i is past a word) and reports it if it looks random.
func findBearer(s *Scan, at, i int, score float64) {
	text := s.text
	if i > at {
		if i >= len(text) || (text[i] != ' ' && text[i] != '\t') {
			return
		}
		for i < len(text) && (text[i] == ' ' || text[i] == '\t') {
			i++
		}
	}
	j := scanRun(text, i, maxBearer, csBearer)
	for j > i && text[j-1] == '.' {
		j--
	}
	for j < len(text) && j-i < maxBearer && text[j] == '=' {
		j++
	}
	if j-i > maxBearer || wordAfter(text, j) {
		return
	}
	tok := text[i:j]
	if len(tok) < 16 || placeholderValue(tok) || placeholderToken(tok) || codeRef(tok, false) || nameLike(tok) || camelIdentifier(tok) {
		return
	}
	if !hasClasses(tok, 2) || shannon(tok) < 3.2 {
		return
	}
	if !(isAlnum(tok[0])) {
		return
	}
	var ctx string
	if score < 0.85 {
		ctx = s.Context(at, j, []string{"authorization", "bearer", "token", "header"})
		score = boosted(score, 0.15, ctx)
	}
	addSecret(s, "BEARER_TOKEN", "auth_header", i, j, score, ctx)
}

// printableASCII reports whether b is all printable ASCII.
func printableASCII(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return false
		}
	}
	return true
}
