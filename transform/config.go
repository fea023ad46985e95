package transform

import (
	"fmt"
	"sort"
	"unicode"
	"unicode/utf8"

	"github.com/wardenhq/warden/detect"
)

// Config chooses an operator for every finding. The zero Config replaces
// every finding with a placeholder. In YAML:
//
//	operators:
//	  EMAIL_ADDRESS: tokenize
//	  US_SSN: mask
//	categories:
//	  FINANCIAL: mask
//	  SECRET: redact
//	default: placeholder
//	mask: {char: "*", keep: 4}
//	hash: {bytes: 8}
//	key: ${WARDEN_TRANSFORM_KEY}   # hex or base64, >= 32 bytes
type Config struct {
	// Operators maps a finding type (EMAIL_ADDRESS) to its operator. It
	// wins over Categories and Default.
	Operators map[string]Operator `yaml:"operators"`
	// Categories maps a category (PII, FINANCIAL, HEALTH, SECRET, NETWORK)
	// to the operator for the types of that category Operators does not
	// name.
	Categories map[detect.Category]Operator `yaml:"categories"`
	// Default is the operator for every other finding. Default
	// "placeholder".
	Default Operator `yaml:"default"`
	// Mask configures the mask operator.
	Mask MaskConfig `yaml:"mask"`
	// Hash configures the hash operator.
	Hash HashConfig `yaml:"hash"`
	// Key is the secret (at least 32 bytes) for hash and synthetic, and for
	// tokenize when Tokenizer is nil. Required as soon as one of those
	// operators is used; subkeys per operator are derived with HKDF.
	Key Key `yaml:"key"`
	// Tokenizer issues tokens for tokenize (the vault). Nil means
	// StatelessTokens under Key.
	Tokenizer Tokenizer `yaml:"-"`
}

// MaskConfig configures the mask operator.
type MaskConfig struct {
	// Char is the one character written for each masked character.
	// Default "*".
	Char string `yaml:"char"`
	// Keep is how many characters stay visible at the end. Default 4; a
	// negative value keeps none. Never more than half of a value's
	// characters are kept.
	Keep int `yaml:"keep"`
	// KeepSeparators lists the types for which only letters and digits
	// are masked and counted, while spaces and punctuation stay
	// (**** **** **** 1111). Nil means CREDIT_CARD, PHONE_NUMBER, US_SSN,
	// IBAN_CODE; an empty list means none.
	KeepSeparators []string `yaml:"keep_separators"`
}

// HashConfig configures the hash operator.
type HashConfig struct {
	// Bytes is how many leading bytes of the HMAC-SHA256 are written, as
	// 2*Bytes hex digits. Default 8 (16 hex digits, 64 bits); 4 to 32.
	// With 64 bits two distinct values collide with probability about
	// m^2/2^65 among m values (one in a million at m = 6 million): fine
	// for telling entities apart in a conversation or a data set; raise
	// it when hashes serve as join keys across very large tables.
	Bytes int `yaml:"bytes"`
}

// Defaults of Config.
const (
	DefaultOperator  = Placeholder
	DefaultMaskChar  = "*"
	DefaultMaskKeep  = 4
	DefaultHashBytes = 8
)

// defaultSeparatorTypes are the types masked digit by digit by default.
func defaultSeparatorTypes() []string {
	return []string{"CREDIT_CARD", "PHONE_NUMBER", "US_SSN", "IBAN_CODE"}
}

// configError formats a configuration error that names its key.
func configError(key, format string, args ...any) error {
	return fmt.Errorf("transform: %s: "+format, append([]any{key}, args...)...)
}

func validCategory(c detect.Category) bool {
	switch c {
	case detect.PII, detect.Financial, detect.Health, detect.Secret, detect.Network:
		return true
	}
	return false
}

// validate checks cfg and reports which operators it uses (and where, for
// error messages), in a stable order.
func (cfg *Config) validate() (used map[Operator]string, err error) {
	used = map[Operator]string{}
	note := func(op Operator, key string) {
		if _, ok := used[op]; !ok {
			used[op] = key
		}
	}
	for _, typ := range sortedKeys(cfg.Operators) {
		key := "operators." + typ
		op := cfg.Operators[typ]
		if typ == "" {
			return nil, fmt.Errorf("transform: operators: empty finding type")
		}
		if !op.valid() {
			return nil, configError(key, "unknown operator %q", string(op))
		}
		if op == Tokenize && !validType(typ) {
			return nil, configError(key, "type cannot appear in a token (use A-Z, 0-9, _)")
		}
		note(op, key)
	}
	cats := make([]string, 0, len(cfg.Categories))
	for c := range cfg.Categories {
		cats = append(cats, string(c))
	}
	sort.Strings(cats)
	for _, c := range cats {
		key := "categories." + c
		if !validCategory(detect.Category(c)) {
			return nil, configError(key, "unknown category (want PII, FINANCIAL, HEALTH, SECRET or NETWORK)")
		}
		op := cfg.Categories[detect.Category(c)]
		if !op.valid() {
			return nil, configError(key, "unknown operator %q", string(op))
		}
		note(op, key)
	}
	if cfg.Default != "" {
		if !cfg.Default.valid() {
			return nil, configError("default", "unknown operator %q", string(cfg.Default))
		}
		note(cfg.Default, "default")
	}
	if cfg.Mask.Char != "" {
		r, n := utf8.DecodeRuneInString(cfg.Mask.Char)
		if n != len(cfg.Mask.Char) || r == utf8.RuneError || !unicode.IsPrint(r) || r == '[' || r == ']' {
			return nil, configError("mask.char", "want one printable character other than [ and ]")
		}
	}
	for i, typ := range cfg.Mask.KeepSeparators {
		if typ == "" {
			return nil, configError(fmt.Sprintf("mask.keep_separators[%d]", i), "empty finding type")
		}
	}
	if b := cfg.Hash.Bytes; b != 0 && (b < 4 || b > 32) {
		return nil, configError("hash.bytes", "%d is out of range 4..32", b)
	}
	for _, op := range []Operator{Hash, Synthetic, Tokenize} {
		where, ok := used[op]
		if !ok || (op == Tokenize && cfg.Tokenizer != nil) {
			continue
		}
		if cfg.Key.IsZero() {
			return nil, configError("key", "required by %s (operator %s)", where, op)
		}
		if len(cfg.Key.b) < MinKeyLen {
			return nil, configError("key", "shorter than %d bytes", MinKeyLen)
		}
	}
	return used, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
