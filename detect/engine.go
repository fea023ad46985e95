package detect

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
)

// TriggerKind says which positions of the input wake a recognizer.
type TriggerKind uint8

// Trigger kinds.
const (
	// TriggerPrefix fires at a position where the input starts with Prefix
	// (ASCII case-insensitively when Fold is set). Prefixes that start with
	// a letter or digit fire only at word starts; others fire anywhere.
	// A prefix must be at least two bytes long.
	TriggerPrefix TriggerKind = iota + 1
	// TriggerByte fires at every occurrence of Byte, which must not be a
	// letter, digit or non-ASCII byte (those are inside words; New refuses
	// them).
	TriggerByte
	// TriggerUpperWord fires at every word start whose first character is
	// an ASCII upper-case letter or a non-ASCII character.
	TriggerUpperWord
	// TriggerDigits fires at every word start that is an ASCII digit.
	// Scan.Run parses the digit run there once for all recognizers.
	TriggerDigits
	// TriggerLowerPairDigit fires at every word start of two ASCII
	// lower-case letters and a digit, or a space and a digit ("ab123456c",
	// "ab 12 34 56 c"): codes typed in lower case, at the cost of one
	// byte test per lower-case word.
	TriggerLowerPairDigit
)

// Trigger is one way a recognizer asks to be woken.
type Trigger struct {
	Kind   TriggerKind
	Prefix string
	Fold   bool
	Byte   byte
}

// Recognizer finds one family of sensitive values. Find is called once for
// every trigger hit at byte offset at; it reports matches with s.Add.
// Implementations must run in time linear in the text they look at and
// must not retain s.
type Recognizer interface {
	Name() string
	Triggers() []Trigger
	Find(s *Scan, at int)
}

// DefaultMinScore is the score a finding needs when Config names no
// threshold for its type.
const DefaultMinScore = 0.5

// Config tunes an Engine. The zero value enables every built-in recognizer
// with default thresholds.
type Config struct {
	// MinScore is the default threshold; 0 means DefaultMinScore.
	MinScore float64 `yaml:"min_score"`
	// Thresholds overrides MinScore per finding type.
	Thresholds map[string]float64 `yaml:"thresholds"`
	// Disable turns off recognizers by recognizer name or finding type.
	Disable []string `yaml:"disable"`
	// Only, when not empty, keeps only findings of these types or
	// categories.
	Only []string `yaml:"only"`
	// Allow lists values that are never reported (exact match).
	Allow []string `yaml:"allow"`
	// AllowRegex lists RE2 patterns; a finding whose whole value matches
	// one is not reported.
	AllowRegex []string `yaml:"allow_regex"`
	// Deny lists terms that are always reported, as type DENY_LIST
	// (category PII) unless the rule says otherwise.
	Deny []DenyRule `yaml:"deny"`
	// Custom adds recognizers defined in configuration.
	Custom []CustomRecognizer `yaml:"custom"`
	// JSON tunes JSON mode (limits, field rules, schema, allowlist); see
	// JSONConfig. Compile it with CompileJSON.
	JSON JSONConfig `yaml:"json"`
	// NoNormalize turns off the normalised view: recognizers then see the
	// input bytes as they are. Default false: Scan normalises first (see
	// the package documentation), so zero-width characters, fullwidth
	// digits, look-alike letters and Unicode dashes do not hide a value.
	NoNormalize bool `yaml:"no_normalize"`
	// Decode tunes the decoding of base64, hex and percent-encoded runs;
	// see DecodeConfig.
	Decode DecodeConfig `yaml:"decode"`
	// Phone tunes phone-number detection (default regions); see
	// PhoneConfig.
	Phone PhoneConfig `yaml:"phone"`
	// Explain records the context words that raised each score.
	Explain bool `yaml:"-"`
}

// Engine scans text with a fixed set of recognizers. It is safe for
// concurrent use.
type Engine struct {
	recs       []Recognizer
	prefixHead [1 << 16]uint16 // folded 2-byte key -> 1 + index into prefixList, 0 = none
	prefixBits [1 << 10]uint64 // keys with an entry in prefixHead: 8 KB that stay in cache
	prefixList []prefixEntry   // entries sharing a key are contiguous, ended by key change
	byteTrig   [256][]byteEntry
	upper      []int
	digits     []int
	lowerPair  []int
	thresholds map[string]float64
	minScore   float64
	only       map[string]bool
	allow      map[string]bool
	allowRE    []*regexp.Regexp
	wholeText  []*customRecognizer
	explain    bool
	normalize  bool
	dec        decodeOpts
	phoneCCs   []int // country calling codes of Config.Phone.DefaultRegions
	pool       sync.Pool
}

type prefixEntry struct {
	key    uint16
	prefix string
	fold   bool
	rec    int
	// The first up to eight bytes of prefix, compared in one 64-bit
	// word: text bytes OR or, AND mask, must equal want (see matchAt).
	want, or, mask uint64
}

// newPrefixEntry indexes a prefix trigger of at least two bytes.
func newPrefixEntry(prefix string, fold bool, rec int) prefixEntry {
	pe := prefixEntry{key: foldKey(prefix[0], prefix[1]), prefix: prefix, fold: fold, rec: rec}
	for j := 0; j < len(prefix) && j < 8; j++ {
		c := prefix[j]
		if fold && (isUpper(c) || isLower(c)) {
			// c|0x20 is the lower-case letter, and only c's two cases
			// give it.
			c |= 0x20
			pe.or |= 0x20 << (8 * j)
		}
		pe.want |= uint64(c) << (8 * j)
		pe.mask |= 0xff << (8 * j)
	}
	return pe
}

// matchAt is hasPrefixAt(text, i, pe.prefix, pe.fold), comparing the
// first eight bytes at once when the text has them.
func (pe *prefixEntry) matchAt(text string, i int) bool {
	if len(text)-i < 8 {
		return hasPrefixAt(text, i, pe.prefix, pe.fold)
	}
	t := text[i : i+8]
	w := uint64(t[0]) | uint64(t[1])<<8 | uint64(t[2])<<16 | uint64(t[3])<<24 |
		uint64(t[4])<<32 | uint64(t[5])<<40 | uint64(t[6])<<48 | uint64(t[7])<<56
	if (w|pe.or)&pe.mask != pe.want {
		return false
	}
	return len(pe.prefix) <= 8 || hasPrefixAt(text, i+8, pe.prefix[8:], pe.fold)
}

// escapeRec marks the byteTrig entry on '\\' that steps over an escaped
// line break ("\\n") so that the word after it starts a word.
const escapeRec = -1

type byteEntry struct {
	prefix string // "" for plain byte triggers
	fold   bool
	rec    int
}

// New builds an engine with the built-in recognizers and cfg applied.
func New(cfg Config) (*Engine, error) {
	recs := Builtins()
	return NewWith(cfg, recs)
}

// NewWith builds an engine with the given recognizers (plus cfg.Custom and
// cfg.Deny) instead of the built-ins.
func NewWith(cfg Config, recs []Recognizer) (*Engine, error) {
	e := &Engine{minScore: cfg.MinScore, explain: cfg.Explain, thresholds: map[string]float64{}, normalize: !cfg.NoNormalize}
	if e.minScore == 0 {
		e.minScore = DefaultMinScore
	}
	dec, err := decodeOptions(cfg.Decode)
	if err != nil {
		return nil, err
	}
	e.dec = dec
	if e.phoneCCs, err = phoneRegionCodes(cfg.Phone); err != nil {
		return nil, err
	}
	for k, v := range cfg.Thresholds {
		if v < 0 || v > 1 {
			return nil, fmt.Errorf("detect: thresholds.%s: %v is outside 0..1", k, v)
		}
		e.thresholds[k] = v
	}
	disabled := map[string]bool{}
	for _, d := range cfg.Disable {
		disabled[d] = true
	}
	if len(cfg.Only) > 0 {
		e.only = map[string]bool{}
		for _, o := range cfg.Only {
			e.only[o] = true
		}
	}
	e.allow = map[string]bool{}
	for _, a := range cfg.Allow {
		e.allow[a] = true
	}
	for i, p := range cfg.AllowRegex {
		re, err := regexp.Compile(`^(?:` + p + `)$`)
		if err != nil {
			return nil, fmt.Errorf("detect: allow_regex[%d]: %v", i, err)
		}
		e.allowRE = append(e.allowRE, re)
	}
	for i, c := range cfg.Custom {
		cr, err := newCustom(c)
		if err != nil {
			return nil, fmt.Errorf("detect: custom[%d] (%s): %w", i, c.Name, err)
		}
		if cr.wholeText {
			e.wholeText = append(e.wholeText, cr)
			continue
		}
		recs = append(recs, cr)
	}
	if len(cfg.Deny) > 0 {
		d, err := newDenyList(cfg.Deny)
		if err != nil {
			return nil, err
		}
		recs = append(recs, d)
	}
	for _, r := range recs {
		if disabled[r.Name()] {
			continue
		}
		if t, ok := r.(interface{ Types() []string }); ok {
			off := false
			for _, ty := range t.Types() {
				off = off || disabled[ty]
			}
			if off {
				continue
			}
		}
		if err := e.add(r); err != nil {
			return nil, err
		}
	}
	// The escape entry comes last, after every trigger on '\\'.
	e.byteTrig['\\'] = append(e.byteTrig['\\'], byteEntry{rec: escapeRec})
	e.buildPrefixIndex()
	e.pool.New = func() any { return &Scan{} }
	return e, nil
}

func (e *Engine) add(r Recognizer) error {
	idx := len(e.recs)
	e.recs = append(e.recs, r)
	for _, t := range r.Triggers() {
		switch t.Kind {
		case TriggerPrefix:
			if len(t.Prefix) < 2 {
				return fmt.Errorf("detect: recognizer %s: prefix trigger %d bytes long, need at least 2", r.Name(), len(t.Prefix))
			}
			if class[t.Prefix[0]]&clsWord == 0 {
				e.byteTrig[t.Prefix[0]] = append(e.byteTrig[t.Prefix[0]], byteEntry{prefix: t.Prefix, fold: t.Fold, rec: idx})
				if t.Fold && lower[t.Prefix[0]] != t.Prefix[0] {
					b := lower[t.Prefix[0]]
					e.byteTrig[b] = append(e.byteTrig[b], byteEntry{prefix: t.Prefix, fold: t.Fold, rec: idx})
				}
				continue
			}
			e.prefixList = append(e.prefixList, newPrefixEntry(t.Prefix, t.Fold, idx))
		case TriggerByte:
			if class[t.Byte]&clsWord != 0 {
				// run looks for byte triggers only between words.
				return fmt.Errorf("detect: recognizer %s: byte trigger %q is a letter, digit or non-ASCII byte; use a prefix trigger", r.Name(), t.Byte)
			}
			e.byteTrig[t.Byte] = append(e.byteTrig[t.Byte], byteEntry{rec: idx})
		case TriggerUpperWord:
			e.upper = append(e.upper, idx)
		case TriggerDigits:
			e.digits = append(e.digits, idx)
		case TriggerLowerPairDigit:
			e.lowerPair = append(e.lowerPair, idx)
		default:
			return fmt.Errorf("detect: recognizer %s: unknown trigger kind %d", r.Name(), t.Kind)
		}
	}
	return nil
}

func (e *Engine) buildPrefixIndex() {
	sort.SliceStable(e.prefixList, func(i, j int) bool { return e.prefixList[i].key < e.prefixList[j].key })
	for i := len(e.prefixList) - 1; i >= 0; i-- {
		key := e.prefixList[i].key
		e.prefixHead[key] = uint16(i + 1)
		e.prefixBits[key>>6] |= 1 << (key & 63)
	}
}

// Scan returns the findings in text, sorted by Start, non-overlapping.
// Encoded runs are decoded within a fresh budget of Config.Decode.Budget
// bytes.
func (e *Engine) Scan(text string) []Finding {
	return e.ScanWithBudget(text, nil)
}

// ScanWithBudget is Scan charging the bytes it decodes from encoded runs
// to b, which the caller may share across the strings of one request so
// that their total is bounded. A nil b means a fresh budget.
func (e *Engine) ScanWithBudget(text string, b *DecodeBudget) []Finding {
	s := e.pool.Get().(*Scan)
	if b == nil {
		s.budget = DecodeBudget{left: e.dec.budget}
		b = &s.budget
	}
	out := e.scan(s, text, b, 0)
	var res []Finding
	if len(out) > 0 {
		res = make([]Finding, len(out))
		copy(res, out)
	}
	s.text = ""
	e.pool.Put(s)
	return res
}

// AppendScan appends the findings in text to dst and returns the extended
// slice: Scan without an allocation when dst has room.
func (e *Engine) AppendScan(dst []Finding, text string) []Finding {
	s := e.pool.Get().(*Scan)
	s.budget = DecodeBudget{left: e.dec.budget}
	dst = append(dst, e.scan(s, text, &s.budget, 0)...)
	s.text = ""
	e.pool.Put(s)
	return dst
}

// ScanBytes is Scan for a byte slice; the findings' offsets index b.
func (e *Engine) ScanBytes(b []byte) []Finding {
	return e.Scan(bytesToString(b))
}

// scan runs the recognizers over the normalised view of text, then the
// decoder over encoded runs (above depth levels of encoding it does not
// decode), and returns the findings with offsets into text. The slice
// belongs to s.
func (e *Engine) scan(s *Scan, text string, b *DecodeBudget, depth int) []Finding {
	view, mapped := text, false
	if e.normalize {
		view, mapped = s.norm.view(text)
	}
	s.reset(e, view)
	e.run(s)
	if !e.dec.off && depth < e.dec.depth {
		e.decodeRuns(s, b, depth)
	}
	out := e.finish(s)
	if mapped {
		out = mapFindings(out, &s.norm, text)
	}
	return out
}

// mapFindings maps findings on the normalised view back to the input: each
// covers the whole input span its bytes came from, on rune boundaries.
// Two findings that came from one input character (an NFKC expansion)
// would overlap; the later one then starts where the earlier ends.
func mapFindings(fs []Finding, z *normalizer, text string) []Finding {
	kept := fs[:0]
	prevEnd := 0
	for _, f := range fs {
		f.Start, f.End = z.span(f.Start, f.End)
		for f.Start > 0 && !onRuneBoundary(text, f.Start) {
			f.Start--
		}
		for f.End < len(text) && !onRuneBoundary(text, f.End) {
			f.End++
		}
		f.Start = max(f.Start, prevEnd)
		if f.Start >= f.End {
			continue
		}
		prevEnd = f.End
		kept = append(kept, f)
	}
	return kept
}

func (e *Engine) run(s *Scan) {
	text := s.text
	n := len(text)
	// Runs of characters that may be encoded text (encClass, and
	// non-ASCII bytes, which decodeRuns splits off) of minRun or more
	// are noted for decodeRuns on the way: words are inside runs, so
	// only the bytes between words are looked at.
	minRun, runStart := e.dec.minRun, 0
	if e.dec.off {
		minRun = n + 1
	}
	s.runs = s.runs[:0]
outer:
	for i := 0; i < n; {
		c := text[i]
		cl := class[c]
		if cl&clsWord == 0 {
			if cl&clsEncBreak != 0 {
				if i-runStart >= minRun {
					s.runs = append(s.runs, [2]int{runStart, i})
				}
				runStart = i + 1
			}
			// Byte triggers fire only here, at bytes that are not part
			// of a word: a letter, digit or non-ASCII Byte never fires.
			for _, be := range e.byteTrig[c] {
				if be.rec == escapeRec {
					// An escaped line break or tab ("\\n" in a JSON
					// string or a log line) ends a word: the word after
					// it starts at i+2.
					if i+2 < n && (text[i+1] == 'n' || text[i+1] == 'r' || text[i+1] == 't') && class[text[i+2]]&clsWord != 0 {
						i += 2
						runStart = i
						continue outer
					}
					continue
				}
				if be.prefix != "" && !hasPrefixAt(text, i, be.prefix, be.fold) {
					continue
				}
				e.recs[be.rec].Find(s, i)
			}
			i++
			continue
		}
		// A word starts at i.
		if i+1 < n {
			if key := foldKey(c, text[i+1]); e.prefixBits[key>>6]&(1<<(key&63)) != 0 {
				h := e.prefixHead[key]
				for j := int(h - 1); j < len(e.prefixList) && e.prefixList[j].key == key; j++ {
					pe := &e.prefixList[j]
					if pe.matchAt(text, i) {
						e.recs[pe.rec].Find(s, i)
					}
				}
			}
		}
		if cl&clsDigit != 0 {
			for _, r := range e.digits {
				e.recs[r].Find(s, i)
			}
		} else if cl&clsUpper != 0 || c >= 0xC0 {
			for _, r := range e.upper {
				e.recs[r].Find(s, i)
			}
		} else if len(e.lowerPair) > 0 && i+3 < n && class[text[i+1]]&clsLower != 0 &&
			(class[text[i+2]]&clsDigit != 0 || text[i+2] == ' ' && class[text[i+3]]&clsDigit != 0) {
			for _, r := range e.lowerPair {
				e.recs[r].Find(s, i)
			}
		}
		// Nothing fires inside a word: skip to its end.
		for i++; i < n && class[text[i]]&clsWord != 0; i++ {
		}
	}
	if n-runStart >= minRun {
		s.runs = append(s.runs, [2]int{runStart, n})
	}
	for _, cr := range e.wholeText {
		cr.findAll(s)
	}
}

// finish applies thresholds, allow lists and type filters, then resolves
// overlaps: the higher score wins, then the longer span, then the earlier.
func (e *Engine) finish(s *Scan) []Finding {
	fs := s.found[:0]
	for _, f := range s.found {
		if f.Start < 0 || f.End > len(s.text) || f.Start >= f.End {
			continue
		}
		th, ok := e.thresholds[f.Type]
		if !ok {
			th = e.minScore
		}
		if f.Score < th {
			continue
		}
		if e.only != nil && !e.only[f.Type] && !e.only[string(f.Category)] {
			continue
		}
		v := s.text[f.Start:f.End]
		if e.allow[v] {
			continue
		}
		allowed := false
		for _, re := range e.allowRE {
			if re.MatchString(v) {
				allowed = true
				break
			}
		}
		if allowed {
			continue
		}
		fs = append(fs, f)
	}
	if len(fs) < 2 {
		return fs
	}
	// Sort by start, split into clusters of transitively overlapping
	// findings, and resolve each cluster greedily by priority. Clusters
	// are small, so this stays linear in the number of findings.
	slices.SortFunc(fs, func(a, b Finding) int { return a.Start - b.Start })
	kept := s.kept[:0]
	for i := 0; i < len(fs); {
		j, end := i+1, fs[i].End
		for j < len(fs) && fs[j].Start < end {
			end = max(end, fs[j].End)
			j++
		}
		if j-i == 1 {
			kept = append(kept, fs[i])
		} else {
			kept = resolveCluster(kept, fs[i:j])
		}
		i = j
	}
	s.kept = kept
	return kept
}

// resolveCluster appends to kept the winners among overlapping findings:
// any finding beats a URL (a value inside a URL), then the higher score wins, then the longer span, then the
// earlier start.
func resolveCluster(kept []Finding, c []Finding) []Finding {
	slices.SortFunc(c, func(a, b Finding) int {
		// A URL is a container: a value inside it (an email in a
		// query, an SSN in a path) is what matters, whatever the
		// scores.
		if an, bn := a.Type == "URL", b.Type == "URL"; an != bn {
			if bn {
				return -1
			}
			return 1
		}
		if a.Score != b.Score {
			if a.Score > b.Score {
				return -1
			}
			return 1
		}
		if la, lb := a.End-a.Start, b.End-b.Start; la != lb {
			return lb - la
		}
		return a.Start - b.Start
	})
	base := len(kept)
	for _, f := range c {
		clash := false
		for _, k := range kept[base:] {
			if f.Start < k.End && k.Start < f.End {
				clash = true
				break
			}
		}
		if !clash {
			kept = append(kept, f)
		}
	}
	w := kept[base:]
	slices.SortFunc(w, func(a, b Finding) int { return a.Start - b.Start })
	return kept
}

// Scan is the state of one scan, handed to recognizers.
type Scan struct {
	text  string
	e     *Engine
	found []Finding
	kept  []Finding
	run   numRun
	runAt int

	norm   normalizer   // the normalised view's buffers
	budget DecodeBudget // Scan's own budget, when the caller shares none
	// Encoded runs: findings in decoded text, the decode buffer, and the
	// direct findings' running maximum end (cover < 0: not computed yet).
	enc      []Finding
	dec      []byte
	runs     [][2]int // runs of encoding characters that run noted
	cover    int
	coverEnd []int
}

func (s *Scan) reset(e *Engine, text string) {
	s.text = text
	s.e = e
	s.found = s.found[:0]
	s.kept = s.kept[:0]
	s.enc = s.enc[:0]
	s.runAt = -1
}

// minScore is the threshold a finding of type typ must reach.
func (s *Scan) minScore(typ string) float64 {
	if th, ok := s.e.thresholds[typ]; ok {
		return th
	}
	return s.e.minScore
}

// Text is the input being scanned.
func (s *Scan) Text() string { return s.text }

// Add reports a finding. Offsets are clamped to rune boundaries by the
// caller's construction; Add drops spans that are empty or out of range.
func (s *Scan) Add(f Finding) {
	if f.Start < 0 || f.End > len(s.text) || f.Start >= f.End {
		return
	}
	if !s.e.explain {
		f.Context = nil
	}
	s.found = append(s.found, f)
}

// hasPrefixAt reports whether text[i:] starts with p (ASCII case-folded
// when fold is set).
func hasPrefixAt(text string, i int, p string, fold bool) bool {
	if len(text)-i < len(p) {
		return false
	}
	if !fold {
		return text[i:i+len(p)] == p
	}
	for j := 0; j < len(p); j++ {
		if lower[text[i+j]] != lower[p[j]] {
			return false
		}
	}
	return true
}

func foldKey(a, b byte) uint16 { return uint16(lower[a])<<8 | uint16(lower[b]) }

// String names the engine's recognizers, for diagnostics.
func (e *Engine) String() string {
	names := make([]string, len(e.recs))
	for i, r := range e.recs {
		names[i] = r.Name()
	}
	return "detect.Engine{" + strings.Join(names, ",") + "}"
}
