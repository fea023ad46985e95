package detect

import (
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// JSON mode.
//
// The gateway sees request and response bodies as JSON documents. JSON
// mode walks a document once, decodes each string value (and, by default,
// the text of each number literal: a card or phone number is often sent as
// a JSON number) and scans it with the engine, reporting each finding with
// the JSON path of its value. Object keys are not scanned; the nearest key
// is put in front of the value as context ("ssn: 123-45-6789"; keys such
// as "customerSsn" and "customer_ssn" read as "customer ssn"), so context
// words in keys raise scores the way they do in prose.
//
// Parsing is a hand-written single-pass tokenizer with an explicit stack
// rather than encoding/json: Decoder.Token allocates per token and
// json.Unmarshal builds the whole tree, both several times slower than the
// scan itself, and neither reports the raw byte span of a value, which
// rewriting needs. The tokenizer accepts exactly the documents
// encoding/json.Valid accepts (RFC 8259), except that by default it
// rejects invalid UTF-8 and unpaired surrogate escapes (\ud800) inside
// strings, which encoding/json silently replaces with U+FFFD: a gateway
// must not decode a value differently from the model provider behind it.
// JSONConfig.AllowInvalidUTF8 restores encoding/json's behaviour (the
// decoded value then holds U+FFFD where the bad bytes were). Depth,
// document size and string length are bounded; the errors name the limit
// and the byte offset, never document content.

// Defaults for JSONConfig.
const (
	DefaultJSONMaxDepth = 64
	DefaultJSONMaxBytes = 32 << 20
)

// FieldAction says what a field rule does with the values it matches.
type FieldAction string

// Field rule actions.
const (
	// FieldAlways reports the whole value as a finding of the rule's type
	// with score 1, whatever the recognizers say.
	FieldAlways FieldAction = "always"
	// FieldNever leaves the value unscanned (and unrewritten).
	FieldNever FieldAction = "never"
)

// FieldRule applies an action to the values at a path pattern (see the
// path syntax above). A rule matching an object or array applies to every
// value inside it. Where rules disagree the one matching the deeper path
// wins, so "never $.metadata" and "always $.metadata.ssn" work together;
// at equal depth "always" wins.
type FieldRule struct {
	// Path is the path pattern, e.g. $.customer.ssn or $.messages[*].role.
	Path string `yaml:"path"`
	// Action is "always" or "never".
	Action FieldAction `yaml:"action"`
	// Type is the finding type an "always" rule reports (required for
	// always).
	Type string `yaml:"type"`
	// Category of an "always" finding; default PII.
	Category Category `yaml:"category"`
}

// Disallowed-field policies for JSONConfig.Disallowed.
const (
	// DisallowRefuse rejects a document holding a field outside the
	// allowlist, naming the first such field.
	DisallowRefuse = "refuse"
	// DisallowDrop removes fields outside the allowlist.
	DisallowDrop = "drop"
)

// JSONConfig configures JSON mode. The zero value is the default: limits
// as documented, numbers scanned, no field rules, no schema, no allowlist.
type JSONConfig struct {
	// MaxDepth bounds the nesting of objects and arrays; default 64.
	MaxDepth int `yaml:"max_depth"`
	// MaxBytes bounds the document size; default 32 MiB.
	MaxBytes int `yaml:"max_bytes"`
	// MaxString bounds the encoded length in bytes of one string (key or
	// value) or number literal; default 0 means only MaxBytes applies.
	MaxString int `yaml:"max_string"`
	// AllowInvalidUTF8 accepts invalid UTF-8 and unpaired surrogate
	// escapes in strings, decoding each bad byte or escape to U+FFFD as
	// encoding/json does. Default false: such documents are refused.
	AllowInvalidUTF8 bool `yaml:"allow_invalid_utf8"`
	// SkipNumbers leaves number literals unscanned. Default false: the
	// literal text of each number (e.g. 4111111111111111) is scanned.
	SkipNumbers bool `yaml:"skip_numbers"`
	// Literals makes WalkJSON also call back for true, false and null
	// (JSONValue.Literal set, Value the literal's text), so a caller can
	// read flags without decoding the document again. Default false.
	// Scanning never looks at literals.
	Literals bool `yaml:"-"`
	// Keys makes WalkJSON also call back for each object key
	// (JSONValue.IsKey set, Path the member's path, Value the decoded
	// key), before the member's value. A replacement renames the key.
	// Default false.
	Keys bool `yaml:"-"`
	// VisitDepth, when > 0, limits WalkJSON's callbacks to values (and
	// keys and containers) at most that deep: 1 is the members of the
	// top-level object or array. Deeper values are still parsed and
	// checked. Default 0: every value.
	VisitDepth int `yaml:"-"`
	// Containers makes WalkJSON also call back for each object and array
	// once it is complete (JSONValue.Container set, Value its raw JSON
	// text, Start and End its span), after the values inside it. A
	// replacement returned for a container is ignored. Default false.
	Containers bool `yaml:"-"`
	// UniqueKeys refuses an object that holds the same key twice, or two
	// keys that differ only by case ("model" and "MODEL"), with a
	// *JSONFieldError naming the object. Parsers disagree on which of
	// two such keys wins (and Go's encoding/json matches struct fields
	// case-insensitively), so a gateway must not pass them on. Default
	// false: the last of repeated keys wins, as in encoding/json.
	UniqueKeys bool `yaml:"-"`
	// NoKeyContext scans values alone. Default false: the nearest object
	// key is offered to the recognizers as context.
	NoKeyContext bool `yaml:"no_key_context"`
	// Fields are per-path rules applied when scanning.
	Fields []FieldRule `yaml:"fields"`
	// Schema is a JSON Schema (draft 2020-12 unless it says otherwise) as
	// JSON text; Minimize refuses documents it rejects. It must be
	// self-contained: $ref to other files or URLs is not loaded.
	Schema string `yaml:"schema"`
	// Allow is the field allowlist for Minimize: path patterns of the
	// values that may pass (with everything inside them). Empty means no
	// allowlist.
	Allow []string `yaml:"allow"`
	// Disallowed says what Minimize does with fields outside Allow:
	// "refuse" (default) or "drop".
	Disallowed string `yaml:"disallowed"`
}

// JSONOptions is a compiled JSONConfig. It is safe for concurrent use and
// keeps a pool of parser state, so compile it once and reuse it. A nil
// *JSONOptions means the defaults (with fresh parser state per call).
type JSONOptions struct {
	maxDepth, maxBytes, maxString int
	allowInvalid                  bool
	skipNumbers                   bool
	literals                      bool
	keys, uniqueKeys, containers  bool
	visitDepth                    int
	keyContext                    bool
	fields                        pathRules
	fieldRules                    []FieldRule
	schema                        *jsonschema.Schema
	allow                         pathRules
	drop                          bool
	pool                          sync.Pool // of *jsonWalker
}

// pathRules is a set of compiled path patterns.
type pathRules struct {
	pats [][]pathSeg
	root []int32 // indexes of patterns with at least one step
	// rootMatch is the first pattern matching "$" itself, or -1.
	rootMatch int32
}

func newPathRules(pats [][]pathSeg, better func(a, b int) bool) pathRules {
	r := pathRules{pats: pats, rootMatch: -1}
	for i, p := range pats {
		if len(p) == 0 {
			if r.rootMatch < 0 || better(i, int(r.rootMatch)) {
				r.rootMatch = int32(i)
			}
			continue
		}
		r.root = append(r.root, int32(i))
	}
	return r
}

// CompileJSON checks cfg and compiles it. Errors name the configuration
// key ("json.fields[2].path").
func CompileJSON(cfg JSONConfig) (*JSONOptions, error) {
	o := &JSONOptions{
		maxDepth:     cfg.MaxDepth,
		maxBytes:     cfg.MaxBytes,
		maxString:    cfg.MaxString,
		allowInvalid: cfg.AllowInvalidUTF8,
		skipNumbers:  cfg.SkipNumbers,
		literals:     cfg.Literals,
		keys:         cfg.Keys,
		uniqueKeys:   cfg.UniqueKeys,
		containers:   cfg.Containers,
		visitDepth:   cfg.VisitDepth,
		keyContext:   !cfg.NoKeyContext,
	}
	if o.maxDepth < 0 || o.maxBytes < 0 || o.maxString < 0 || o.visitDepth < 0 {
		return nil, errors.New("detect: json: max_depth, max_bytes and max_string must not be negative")
	}
	if o.maxDepth == 0 {
		o.maxDepth = DefaultJSONMaxDepth
	}
	if o.maxBytes == 0 {
		o.maxBytes = DefaultJSONMaxBytes
	}
	var pats [][]pathSeg
	for i, f := range cfg.Fields {
		p, err := parsePathPattern(f.Path)
		if err != nil {
			return nil, fmt.Errorf("detect: json.fields[%d].path: %v", i, err)
		}
		switch f.Action {
		case FieldAlways:
			if f.Type == "" {
				return nil, fmt.Errorf("detect: json.fields[%d].type: an always rule needs a finding type", i)
			}
			if f.Category == "" {
				f.Category = PII
			}
			if !f.Category.valid() {
				return nil, fmt.Errorf("detect: json.fields[%d].category: %q is not one of PII, FINANCIAL, HEALTH, SECRET, NETWORK", i, f.Category)
			}
		case FieldNever:
		default:
			return nil, fmt.Errorf("detect: json.fields[%d].action: %q is not always or never", i, f.Action)
		}
		pats = append(pats, p)
		o.fieldRules = append(o.fieldRules, f)
	}
	o.fields = newPathRules(pats, o.betterRule)
	pats = nil
	for i, a := range cfg.Allow {
		p, err := parsePathPattern(a)
		if err != nil {
			return nil, fmt.Errorf("detect: json.allow[%d]: %v", i, err)
		}
		pats = append(pats, p)
	}
	o.allow = newPathRules(pats, func(a, b int) bool { return a < b })
	switch cfg.Disallowed {
	case "", DisallowRefuse:
	case DisallowDrop:
		o.drop = true
	default:
		return nil, fmt.Errorf("detect: json.disallowed: %q is not refuse or drop", cfg.Disallowed)
	}
	if cfg.Schema != "" {
		s, err := compileSchema(cfg.Schema)
		if err != nil {
			return nil, fmt.Errorf("detect: json.schema: %w", err)
		}
		o.schema = s
	}
	return o, nil
}

// betterRule reports whether field rule a beats rule b when both match at
// the same depth: always beats never, then the earlier rule wins.
func (o *JSONOptions) betterRule(a, b int) bool {
	aa, ba := o.fieldRules[a].Action == FieldAlways, o.fieldRules[b].Action == FieldAlways
	if aa != ba {
		return aa
	}
	return a < b
}

// defaultJSONOptions returns the options of the zero JSONConfig.
func defaultJSONOptions() JSONOptions {
	return JSONOptions{maxDepth: DefaultJSONMaxDepth, maxBytes: DefaultJSONMaxBytes, keyContext: true,
		fields: pathRules{rootMatch: -1}, allow: pathRules{rootMatch: -1}}
}

// JSONFinding is a finding in a JSON document. The embedded Finding's
// Start and End are byte offsets into the decoded value (escapes
// resolved), its Path names the value. ValueStart and ValueEnd are the
// byte span in the document of the value's literal, including the quotes
// of a string, so a caller can replace the literal.
type JSONFinding struct {
	Finding
	ValueStart int `json:"value_start"`
	ValueEnd   int `json:"value_end"`
}

// JSONValue is one string or number value met while walking a document.
type JSONValue struct {
	// Path names the value ($.messages[2].content).
	Path string
	// Key is the key of the innermost object member holding the value
	// ("content" above; for an array element, the array's key), or "" at
	// the top level. Set by WalkJSON only; valid until the callback
	// returns, like Value.
	Key string
	// Value is the decoded string, or the literal text of a number. It
	// shares memory with the document and internal buffers: it is valid
	// only until the callback returns (strings.Clone it to keep it).
	Value string
	// Number is set when the value is a number literal.
	Number bool
	// Literal is set for true, false and null (WalkJSON with
	// JSONConfig.Literals only).
	Literal bool
	// Container is set for a complete object or array (WalkJSON with
	// JSONConfig.Containers only): Value is its raw JSON text.
	Container bool
	// IsKey is set for an object key (WalkJSON with JSONConfig.Keys
	// only): Value is the key, Path and Key name the member.
	IsKey bool
	// Start and End are the byte span of the literal in the document,
	// including the quotes of a string.
	Start, End int
}

// JSONWalkFunc is called for a value; it returns the replacement for the
// value and whether to replace it. A replacement is always written as a
// JSON string (a replaced number becomes a string). A non-nil error stops
// the walk and is returned as is.
type JSONWalkFunc func(v JSONValue) (replacement string, changed bool, err error)

// JSONRewriteFunc is JSONWalkFunc with the findings in the value (offsets
// into v.Value, Path set).
type JSONRewriteFunc func(v JSONValue, findings []Finding) (replacement string, changed bool, err error)

// ScanJSON parses doc and scans its string values (and number literals,
// unless SkipNumbers) with the engine and the field rules of opt. The
// findings are in document order. A malformed document or a limit hit
// returns nil and an error (*JSONSyntaxError or *JSONLimitError).
func (e *Engine) ScanJSON(doc []byte, opt *JSONOptions) ([]JSONFinding, error) {
	w := getWalker(doc, opt, walkScan)
	defer putWalker(w, opt)
	w.engine = e
	if err := w.walk(); err != nil {
		return nil, err
	}
	fs := w.findings
	w.findings = nil
	return fs, nil
}

// RewriteJSON is ScanJSON for de-identification: fn is called once for each
// value holding findings (or matching an "always" rule), in document order,
// and the document is returned with the replacements written in as JSON
// strings. Everything else, formatting included, is copied unchanged; when
// nothing changes the result is doc itself.
func (e *Engine) RewriteJSON(doc []byte, opt *JSONOptions, fn JSONRewriteFunc) ([]byte, error) {
	w := getWalker(doc, opt, walkRewrite)
	defer putWalker(w, opt)
	w.engine = e
	w.rewriteFn = fn
	if err := w.walk(); err != nil {
		return nil, err
	}
	return w.output(), nil
}

// WalkJSON calls fn for every string value and number literal of doc (in
// document order; numbers unless SkipNumbers) that no "never" field rule
// covers, and returns the document with the replacements fn asks for
// written in as JSON strings, escaped as needed. Everything else,
// formatting included, is copied unchanged; when nothing changes the
// result is doc itself.
func WalkJSON(doc []byte, opt *JSONOptions, fn JSONWalkFunc) ([]byte, error) {
	w := getWalker(doc, opt, walkVisit)
	defer putWalker(w, opt)
	w.walkFn = fn
	if err := w.walk(); err != nil {
		return nil, err
	}
	return w.output(), nil
}

// ValidateJSON checks that doc is well-formed JSON within the limits of
// opt.
func ValidateJSON(doc []byte, opt *JSONOptions) error {
	w := getWalker(doc, opt, walkValidate)
	defer putWalker(w, opt)
	return w.walk()
}

// JSONSyntaxError reports a malformed document.
type JSONSyntaxError struct {
	// Offset is the byte offset of the problem in the document.
	Offset int
	// Msg describes the problem without quoting document content.
	Msg string
}

// Error names the offset and the problem.
func (e *JSONSyntaxError) Error() string {
	return "detect: malformed JSON at byte " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// JSONLimitError reports a document beyond a configured limit.
type JSONLimitError struct {
	// Limit is the configuration key: max_depth, max_bytes or max_string.
	Limit string
	// Max is the configured value.
	Max int
	// Offset is the byte offset where the limit was exceeded.
	Offset int
}

// Error names the limit, its value and the offset.
func (e *JSONLimitError) Error() string {
	return fmt.Sprintf("detect: JSON exceeds json.%s (%d) at byte %d", e.Limit, e.Max, e.Offset)
}

// JSONFieldError reports a field that the minimisation rules refuse: a
// schema violation or a field outside the allowlist.
type JSONFieldError struct {
	// Path names the offending value.
	Path string
	// Reason says what is wrong, without quoting the value.
	Reason string
}

// Error names the path (shortened when very long) and the reason.
func (e *JSONFieldError) Error() string {
	return "detect: JSON field " + errorPath(e.Path) + ": " + e.Reason
}
