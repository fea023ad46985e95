// Package detect finds sensitive data (PII, card data, health identifiers,
// credentials, network identifiers) in text and JSON.
//
// It is the first stage of Warden's request path: the gateway, the redact and
// detect commands and the response guard all ask it one question, "where in
// this input is the sensitive data?", and act on the Findings it returns.
//
// Scanning is one pass over the input. A prefilter looks at word starts
// (literal prefixes through a two-byte index), at trigger bytes such as '@'
// and ':', and at digit runs, and wakes only the recognizers a position can
// match, so the cost grows with the input and not with the number of
// recognizers. Every matcher is linear-time: hand-written scanners or Go's
// RE2 regexp on small windows.
//
// The recognizers read a normalised view of the input, the text as a model
// reads it: NFKC (fullwidth and mathematical digits and letters become
// ASCII), default-ignorable characters removed (zero-width characters,
// bidi controls, variation selectors, tag characters), Unicode dashes and
// spaces made ASCII, decimal digits of every script made ASCII, and
// look-alike letters (UTS #39 confusables, such as Cyrillic "А" for "A")
// folded to ASCII in words that would then be ASCII. Findings are mapped
// back: their offsets index the input, on rune boundaries, and cover every
// input byte of the value, invisible characters inside it included, so
// that replacing the span removes them too. Pure ASCII input is scanned as
// it is, without a copy. Config.NoNormalize turns the view off.
//
// After the recognizers, runs of base64, hex and percent-encoded text are
// decoded within a byte budget (DecodeConfig, DecodeBudget, ScanWithBudget)
// and scanned again; a finding inside marks the whole run, and a run that
// decodes to a DER or OpenSSH private key is a PRIVATE_KEY. Invisibles and
// StripInvisibles give the gateway the invisible characters by class for
// its sanitisation policy.
package detect

// Category groups finding types by the kind of harm a leak does.
type Category string

// Categories of findings.
const (
	PII       Category = "PII"
	Financial Category = "FINANCIAL"
	Health    Category = "HEALTH"
	Secret    Category = "SECRET"
	Network   Category = "NETWORK"
)

// Finding is one sensitive span. Start and End are byte offsets into the
// UTF-8 input (End exclusive) and always fall on rune boundaries.
type Finding struct {
	Type     string   `json:"type"`
	Category Category `json:"category"`
	Start    int      `json:"start"`
	End      int      `json:"end"`
	Score    float64  `json:"score"`
	// Recognizer names the recognizer that found the value; a value
	// found inside an encoded run has the encodings first, outermost
	// first: "base64:email", "percent:hex:aws_access_key".
	Recognizer string `json:"recognizer,omitempty"`
	// Path is the JSON path of the string value the finding is in
	// ($.messages[2].content); empty for plain text.
	Path string `json:"path,omitempty"`
	// Context lists the context words that raised the score, when the
	// scanner was asked to explain.
	Context []string `json:"context,omitempty"`
}
