package detect

import "strings"

// azureClientSecretRecognizer finds Microsoft Entra ID (Azure AD) client
// secrets: three characters, a digit, "Q~", then 31-34 characters of
// [A-Za-z0-9_~.-]. It is woken by the '~'.
type azureClientSecretRecognizer struct{}

func (azureClientSecretRecognizer) Name() string    { return "azure_client_secret" }
func (azureClientSecretRecognizer) Types() []string { return []string{"AZURE_CLIENT_SECRET"} }
func (azureClientSecretRecognizer) Triggers() []Trigger {
	return []Trigger{{Kind: TriggerByte, Byte: '~'}}
}

func (azureClientSecretRecognizer) Find(s *Scan, at int) {
	text := s.text
	if at < 5 || text[at-1] != 'Q' || !isDigit(text[at-2]) {
		return
	}
	start := at - 5
	for k := start; k < at-2; k++ {
		if !csAzureSecret[text[k]] || text[k] == '-' {
			return
		}
	}
	if start > 0 && (csAzureSecret[text[start-1]] || text[start-1] >= 0x80) {
		return
	}
	j := scanRun(text, at+1, 34, csAzureSecret)
	if n := j - at - 1; n < 31 || n > 34 || (j < len(text) && text[j] >= 0x80) {
		return
	}
	if placeholderToken(text[at+1 : j]) {
		return
	}
	addSecret(s, "AZURE_CLIENT_SECRET", "azure_client_secret", start, j, 0.9, "")
}

// mailchimpRecognizer finds Mailchimp API keys: 32 lower-case hex, "-us",
// and a one- or two-digit data-center number. It is woken by "-us".
type mailchimpRecognizer struct{}

func (mailchimpRecognizer) Name() string    { return "mailchimp_key" }
func (mailchimpRecognizer) Types() []string { return []string{"MAILCHIMP_API_KEY"} }
func (mailchimpRecognizer) Triggers() []Trigger {
	return []Trigger{{Kind: TriggerPrefix, Prefix: "-us"}}
}

func (mailchimpRecognizer) Find(s *Scan, at int) {
	text := s.text
	if at < 32 {
		return
	}
	j := at + 3
	for j < len(text) && j-at-3 < 3 && isDigit(text[j]) {
		j++
	}
	if d := j - at - 3; d < 1 || d > 2 || wordAfter(text, j) {
		return
	}
	start := at - 32
	if !allIn(text[start:at], csHexLower) || wordBefore(text, start) || placeholderToken(text[start:at]) {
		return
	}
	addSecret(s, "MAILCHIMP_API_KEY", "mailchimp_key", start, j, 0.9, "")
}

// telegramRecognizer finds Telegram bot tokens: the bot's numeric id, ':',
// and a 35-character secret starting with 'A'. It is woken by ':'.
type telegramRecognizer struct{}

func (telegramRecognizer) Name() string        { return "telegram_bot_token" }
func (telegramRecognizer) Types() []string     { return []string{"TELEGRAM_BOT_TOKEN"} }
func (telegramRecognizer) Triggers() []Trigger { return []Trigger{{Kind: TriggerByte, Byte: ':'}} }

func (telegramRecognizer) Find(s *Scan, at int) {
	text := s.text
	if at+1 >= len(text) || text[at+1] != 'A' || at == 0 || !isDigit(text[at-1]) {
		return
	}
	start := at
	for start > 0 && at-start <= 17 && isDigit(text[start-1]) {
		start--
	}
	d := at - start
	if d < 8 || d > 16 || wordBefore(text, start) {
		return
	}
	j := scanRun(text, at+1, 35, csB64URL)
	if j-at-1 != 35 || wordAfter(text, j) || placeholderToken(text[at+1:j]) || !hasClasses(text[at+1:j], 3) {
		return
	}
	// Bot ids issued so far have 8-10 digits; longer ones need the
	// context words to outscore a card number in the id.
	score := 0.85
	if d > 10 {
		score = 0.7
	}
	ctx := s.Context(start, j, []string{"telegram", "bot"})
	addSecret(s, "TELEGRAM_BOT_TOKEN", "telegram_bot_token", start, j, boosted(score, 0.15, ctx), ctx)
}

// terraformRecognizer finds HCP Terraform (Terraform Cloud) API tokens:
// 14 alphanumerics, ".atlasv1.", then 60-70 of [A-Za-z0-9_=-].
type terraformRecognizer struct{}

func (terraformRecognizer) Name() string    { return "terraform_token" }
func (terraformRecognizer) Types() []string { return []string{"TERRAFORM_CLOUD_TOKEN"} }
func (terraformRecognizer) Triggers() []Trigger {
	return []Trigger{{Kind: TriggerPrefix, Prefix: ".atlasv1."}}
}

func (terraformRecognizer) Find(s *Scan, at int) {
	text := s.text
	start := at - 14
	if start < 0 || !allIn(text[start:at], csBase62) || wordBefore(text, start) || placeholderShape(text[start:at]) {
		return
	}
	i := at + len(".atlasv1.")
	j := scanRun(text, i, 70, csWordEq)
	if n := j - i; n < 60 || n > 70 || wordAfter(text, j) {
		return
	}
	addSecret(s, "TERRAFORM_CLOUD_TOKEN", "terraform_token", start, j, 1.0, "")
}

// discordBotRecognizer finds Discord bot tokens: base64 of the bot's
// numeric id, '.', a 6-7 character timestamp, '.', a 27-38 character HMAC.
// The id's base64 starts with one of the prefixes below (digits 1-9).
type discordBotRecognizer struct{}

func (discordBotRecognizer) Name() string    { return "discord_bot_token" }
func (discordBotRecognizer) Types() []string { return []string{"DISCORD_BOT_TOKEN"} }
func (discordBotRecognizer) Triggers() []Trigger {
	var ts []Trigger
	for _, p := range [...]string{"MT", "Mj", "Mz", "ND", "NT", "Nj", "Nz", "OD", "OT"} {
		ts = append(ts, Trigger{Kind: TriggerPrefix, Prefix: p})
	}
	return ts
}

func (discordBotRecognizer) Find(s *Scan, at int) {
	text := s.text
	a := scanRun(text, at, 28, csB64URL)
	if n := a - at; n < 23 || n > 28 || a >= len(text) || text[a] != '.' {
		return
	}
	b := scanRun(text, a+1, 7, csB64URL)
	if n := b - a - 1; n < 6 || n > 7 || b >= len(text) || text[b] != '.' {
		return
	}
	c := scanRun(text, b+1, 38, csB64URL)
	if n := c - b - 1; n < 27 || n > 38 || wordAfter(text, c) || (c < len(text) && text[c] == '.') {
		return
	}
	var buf [24]byte
	d := b64Decode(buf[:], text[at:a])
	id := bytesToString(buf[:d])
	if len(id) < 17 || !allIn(strings.TrimRight(id, "\x00"), csDigits) {
		return
	}
	addSecret(s, "DISCORD_BOT_TOKEN", "discord_bot_token", at, c, 0.9, "")
}

// awsSecretPairRecognizer finds an AWS secret access key written next to
// its access key ID ("AKIA… / wJalr…", CSV exports, "key id X secret Y"):
// after an access key ID, the first 40-character run of [A-Za-z0-9/+]
// within 200 bytes that mixes upper case, lower case and digits.
// A secret key alone, with no key ID or key name nearby, is 40 base64
// characters like many hashes and blobs and is not reported.
type awsSecretPairRecognizer struct{}

func (awsSecretPairRecognizer) Name() string    { return "aws_secret_pair" }
func (awsSecretPairRecognizer) Types() []string { return []string{"AWS_SECRET_KEY"} }
func (awsSecretPairRecognizer) Triggers() []Trigger {
	return []Trigger{{Kind: TriggerPrefix, Prefix: "AKIA"}, {Kind: TriggerPrefix, Prefix: "ASIA"}}
}

// awsPairWindow bounds how far after a key ID its secret is looked for.
const awsPairWindow = 200

func (awsSecretPairRecognizer) Find(s *Scan, at int) {
	text := s.text
	i := scanRun(text, at+4, 16, csUpperNum)
	if i-at != 20 || wordAfter(text, i) {
		return
	}
	lim := min(len(text), i+awsPairWindow)
	for j := i; j < lim; {
		if !csB64[text[j]] {
			j++
			continue
		}
		e := scanRun(text, j, 40, csB64)
		if e-j == 40 && (e == len(text) || (!csB64[text[e]] && text[e] != '=' && text[e] < 0x80)) &&
			(j == 0 || text[j-1] < 0x80) && charClasses(text[j:e]) >= 3 && !allIn(text[j:e], csHex) && !placeholderToken(text[j:e]) {
			addSecret(s, "AWS_SECRET_KEY", "aws_secret_pair", j, e, 0.85, "")
			return
		}
		for e < len(text) && csB64[text[e]] { // skip the rest of a longer run
			e++
		}
		j = e
	}
}
