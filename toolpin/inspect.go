package toolpin

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/wardenhq/warden/detect"
)

// Tool poisoning.
//
// A tool definition is text the model reads as instructions and the
// user rarely sees in full. A hostile or compromised server hides
// instructions there: an <IMPORTANT> block telling the model to read
// ~/.ssh/id_rsa and pass it as a parameter and not to mention it
// (Invariant Labs, "tool poisoning"), a note changing how another
// server's tool is used (tool shadowing), text spelled in Unicode tag
// characters or reordered by bidi controls so a reviewer sees something
// else than the model (ASCII smuggling, Trojan Source), ANSI escapes that
// hide text in a terminal (Trail of Bits), and all of it anywhere in the
// schema, not only in the description (CyberArk, full-schema poisoning).
// Inspect reports such things so an operator looks before pinning.

// DefaultPhrases are the instruction phrases [Inspector] looks for when
// its Phrases are nil: phrases of published tool-poisoning examples that
// address the model, not the user, and that ordinary tool documentation
// does not use. Phrases common in honest descriptions ("before using
// this tool", "send it to", ".env file") are left out: they would flag
// every other server.
var DefaultPhrases = []string{
	// Overriding the model's instructions.
	"ignore previous instructions",
	"ignore all previous",
	"ignore the previous",
	"ignore any previous",
	"ignore prior instructions",
	"ignore all prior",
	"ignore your instructions",
	"disregard previous",
	"disregard all previous",
	"disregard the previous",
	"disregard prior",
	"disregard your instructions",
	"forget previous instructions",
	"forget all previous",
	"forget your instructions",
	"new instructions:",
	"you are now",
	"system prompt",
	// Keeping the user in the dark.
	"do not tell the user",
	"don't tell the user",
	"never tell the user",
	"do not inform the user",
	"don't inform the user",
	"without telling the user",
	"without informing the user",
	"without the user knowing",
	"without the user's knowledge",
	"hide this from the user",
	"do not mention",
	"don't mention",
	"could even upset the user",
	"mere implementation detail",
	// Markup and chat-template tokens that pose as the system.
	"<important>",
	"</important>",
	"<system>",
	"</system>",
	"<instructions>",
	"<|im_start|>",
	"<|system|>",
	"<<sys>>",
	// Shadowing other tools, hijacking recipients.
	"instead of the user",
	"when this tool is available",
	"side effect on the",
	"change the recipient",
	// Exfiltration of local secrets.
	"~/.ssh",
	"id_rsa",
	"id_ed25519",
	"~/.aws",
	"~/.cursor",
	"pass its content as",
	"otherwise the tool will not work",
}

// Inspector finds hidden instructions in a tool definition. The zero
// value uses [DefaultPhrases].
type Inspector struct {
	// Phrases are instructions addressed to the model, matched
	// case-insensitively on a normalised view of each string: NFKC,
	// invisible (default-ignorable) characters removed, typographic
	// apostrophes as ', runs of white space as one space. Text smuggled
	// in tag characters is decoded and matched too. Nil: DefaultPhrases.
	Phrases []string
}

// maxProblems bounds what Inspect returns for one definition.
const maxProblems = 100

// Inspect returns the problems found in the definition's text, in a
// stable order, or nil when there are none. It reads every string and
// every object key of the definition (name, title, description,
// inputSchema and outputSchema with their descriptions, titles, enum,
// const, default and example values and property names, annotations)
// except the top-level "_meta", which [Hash] leaves out too.
//
// Each problem is "<place>: <kind>". The place is a JSON path such as
// "description" or "inputSchema.properties.email.description"; a key
// that is not a short plain identifier shows as ['…'], and a problem in
// a key itself ends the place with " (key)". The kind is "tag
// characters", "bidi controls", "zero-width characters", "variation
// selectors", "invisible characters" (other default-ignorable ones),
// "control characters" (C0 and C1 controls other than tab and line
// breaks: ANSI escapes) or `instruction phrase "<phrase>"` naming the
// configured phrase. A zero width joiner, variation selector or tag
// sequence that is part of an emoji (👩‍💻, ❤️, a subdivision flag) is
// not a problem. Problems never quote the definition's own text.
//
// A definition that is not a well-formed JSON object (see [Hash]) is one
// problem, at place "definition".
func (in *Inspector) Inspect(def json.RawMessage) []string {
	v, err := parse(def)
	if err != nil {
		return []string{"definition: " + strings.TrimLeft(strings.TrimPrefix(err.Error(), "toolpin: tool definition"), ": ")}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return []string{"definition: is not a JSON object"}
	}
	phrases := DefaultPhrases
	if in != nil && in.Phrases != nil {
		phrases = in.Phrases
	}
	w := walker{}
	for _, p := range phrases {
		if n := normalise(p); n != "" {
			w.phrases = append(w.phrases, phrase{name: p, norm: n})
		}
	}
	for _, k := range sortedKeys(obj) {
		if k == "_meta" {
			continue
		}
		path := appendKey(nil, k)
		w.check(string(path)+" (key)", k)
		w.walk(path, obj[k])
	}
	if w.more {
		w.out = append(w.out, "definition: more problems not listed")
	}
	return w.out
}

type phrase struct{ name, norm string }

type walker struct {
	phrases []phrase
	out     []string
	more    bool
}

func (w *walker) add(place, kind string) {
	if len(w.out) >= maxProblems {
		w.more = true
		return
	}
	w.out = append(w.out, place+": "+kind)
}

func (w *walker) walk(path []byte, v any) {
	switch v := v.(type) {
	case string:
		w.check(string(path), v)
	case map[string]any:
		for _, k := range sortedKeys(v) {
			p := appendKey(slices.Clip(path), k)
			w.check(string(p)+" (key)", k)
			w.walk(p, v[k])
		}
	case []any:
		for i, e := range v {
			p := append(strconv.AppendInt(append(slices.Clip(path), '['), int64(i), 10), ']')
			w.walk(p, e)
		}
	}
}

// check reports the problems of one string at place.
func (w *walker) check(place, s string) {
	if s == "" {
		return
	}
	if hasControl(s) {
		w.add(place, "control characters")
	}
	var seen [8]bool
	hasTags := false
	for _, inv := range detect.Invisibles(s) {
		if emojiPart(s, inv) {
			continue
		}
		hasTags = hasTags || inv.Class == detect.InvisibleTag
		if int(inv.Class) < len(seen) && !seen[inv.Class] {
			seen[inv.Class] = true
			w.add(place, invisibleKind(inv.Class))
		}
	}
	if len(w.phrases) == 0 {
		return
	}
	view := normalise(s)
	var tagView string
	if hasTags {
		tagView = normalise(decodeTags(s))
	}
	for _, p := range w.phrases {
		if strings.Contains(view, p.norm) || hasTags && strings.Contains(tagView, p.norm) {
			w.add(place, fmt.Sprintf("instruction phrase %q", p.name))
		}
	}
}

func invisibleKind(c detect.InvisibleClass) string {
	switch c {
	case detect.InvisibleTag:
		return "tag characters"
	case detect.InvisibleBidi:
		return "bidi controls"
	case detect.InvisibleZeroWidth:
		return "zero-width characters"
	case detect.InvisibleVariationSelector:
		return "variation selectors"
	}
	return "invisible characters"
}

// hasControl reports a C0 control other than tab, line feed and carriage
// return, DEL, or a C1 control: ESC starts the ANSI sequences that hide
// or overwrite text in a terminal.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r >= 0x7F && r <= 0x9F {
			return true
		}
	}
	return false
}

// normalise is the view phrases are matched on: NFKC, without
// default-ignorable characters, lower case, typographic apostrophes as
// ', every run of white space or control characters as one space.
func normalise(s string) string {
	s = norm.NFKC.String(detect.StripInvisibles(s, detect.AllInvisibles))
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range s {
		switch {
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = true
			continue
		case r == '\u2018' || r == '\u2019' || r == '\u02BC' || r == '\uFF07':
			r = '\''
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// decodeTags replaces each tag character U+E0020–U+E007E by the ASCII
// character it spells.
func decodeTags(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 0xE0020 && r <= 0xE007E {
			return r - 0xE0000
		}
		return r
	}, s)
}

// emojiPart reports whether an invisible run belongs to an emoji and
// carries no text: a zero width joiner between two pictographs (👩‍💻), a
// variation selector after a pictograph or a keycap base (❤️, 1️⃣), or
// the tag letters of a subdivision flag (🏴 + "gbsct" + cancel tag).
func emojiPart(s string, inv detect.Invisible) bool {
	run := s[inv.Start:inv.End]
	prev, _ := utf8.DecodeLastRuneInString(s[:inv.Start])
	next, _ := utf8.DecodeRuneInString(s[inv.End:])
	switch inv.Class {
	case detect.InvisibleZeroWidth:
		if run != "\u200D" {
			return false
		}
		return (isPictograph(prev) || prev == 0xFE0F || isSkinTone(prev)) && isPictograph(next)
	case detect.InvisibleVariationSelector:
		if run != "\uFE0F" && run != "\uFE0E" {
			return false
		}
		return isPictograph(prev) || (prev >= '0' && prev <= '9' || prev == '#' || prev == '*') && next == 0x20E3
	case detect.InvisibleTag:
		// A subdivision flag: black flag, 2–7 tag letters or digits, cancel tag.
		n := utf8.RuneCountInString(run)
		if prev != 0x1F3F4 || n < 3 || n > 8 {
			return false
		}
		for i, r := range run {
			last := i == len(run)-utf8.RuneLen(r)
			switch {
			case last && r == 0xE007F:
			case !last && (r >= 0xE0061 && r <= 0xE007A || r >= 0xE0030 && r <= 0xE0039):
			default:
				return false
			}
		}
		return true
	}
	return false
}

// isPictograph approximates Extended_Pictographic: the emoji blocks and
// the symbols that take an emoji presentation.
func isPictograph(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF, r >= 0x2190 && r <= 0x21FF, r >= 0x2300 && r <= 0x23FF,
		r >= 0x2460 && r <= 0x27BF, r >= 0x2900 && r <= 0x297F, r >= 0x2B00 && r <= 0x2BFF,
		r == 0x00A9, r == 0x00AE, r == 0x203C, r == 0x2049, r == 0x2122, r == 0x2139, r == 0x3030, r == 0x303D,
		r == 0x3297, r == 0x3299:
		return true
	}
	return false
}

func isSkinTone(r rune) bool { return r >= 0x1F3FB && r <= 0x1F3FF }

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// appendKey appends the path step for an object member: ".key" (no dot
// first) for a short plain identifier, else ['…'], so a path never
// quotes text the server chose freely.
func appendKey(path []byte, key string) []byte {
	if !plainKey(key) {
		return append(path, "['…']"...)
	}
	if len(path) > 0 {
		path = append(path, '.')
	}
	return append(path, key...)
}

func plainKey(k string) bool {
	if k == "" || len(k) > 32 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c == '$' || i > 0 && (c >= '0' && c <= '9' || c == '-')) {
			return false
		}
	}
	return true
}
