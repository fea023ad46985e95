// Package lexicon holds the word lists behind Warden's person-name, street
// address and date-of-birth recognizers and a case- and accent-insensitive
// lookup table over them.
//
// The lists are plain text files embedded in the binary (see NOTICE for
// their sources and licences). Every word belongs to one or more classes
// (a first name, a surname, a common English word, a title ...); Lookup
// returns the union of a word's classes in one hash probe, so recognizers
// can afford it at every capitalised word of the input.
package lexicon

import (
	_ "embed"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Class is a set of word classes.
type Class uint32

// Word classes.
const (
	First       Class = 1 << iota // a given name (first_names.txt)
	Surname                       // a family name (surnames.txt)
	Word                          // a common English word (words.txt)
	Stop                          // never part of a name (stop.txt)
	Place                         // a country, region, city (places.txt)
	Title                         // Mr, Mrs, Dr ... (roles.txt [title])
	TitleWeak                     // Officer, Judge, Captain ... ([titleweak])
	Suffix                        // Jr, Sr, III, MD, PhD ... ([suffix])
	Particle                      // van, de, von, da ... ([particle])
	Org                           // a word that ends an organisation or place name ([org])
	PlacePrefix                   // Lake, Port, Fort, North ... ([placeprefix])
	Street                        // a street-type word: Street, Ave, Rd ... ([street])
	Month                         // a month name or abbreviation ([month])
	Cue                           // a word that introduces a person ([cue])
	CueWeak                       // a word that may introduce a person ([cueweak])
	PostCue                       // a verb that often follows a person ([postcue])
	KeyPerson                     // a field name whose value is a person ([keyperson])
	KeyOther                      // a field-name part that means the name is not a person's ([keyother])
)

var (
	//go:embed first_names.txt
	firstNames string
	//go:embed surnames.txt
	surnames string
	//go:embed words.txt
	words string
	//go:embed stop.txt
	stop string
	//go:embed places.txt
	places string
	//go:embed roles.txt
	roles string
)

// sections maps the section names of roles.txt to classes.
var sections = map[string]Class{
	"title":       Title,
	"titleweak":   TitleWeak,
	"suffix":      Suffix,
	"particle":    Particle,
	"org":         Org,
	"placeprefix": PlacePrefix,
	"street":      Street,
	"month":       Month,
	"cue":         Cue,
	"cueweak":     CueWeak,
	"postcue":     PostCue,
	"keyperson":   KeyPerson,
	"keyother":    KeyOther,
	"demonym":     Word,
}

// MaxWord is the longest word, in bytes after folding, that Lookup can
// find; longer words have no class.
const MaxWord = 40

// Table maps folded words to their classes. It is read-only after
// construction and safe for concurrent use.
type Table struct {
	slots []uint64 // hash bits above classBits | classes; 0 = empty
	mask  uint64
	n     int
}

// classBits is the number of low slot bits that hold a word's classes.
const classBits = 20

const classMask = 1<<classBits - 1

// Default returns the table built from the embedded lists. It is built once
// per process and shared; callers must not modify it (they cannot: it has
// no mutating methods).
var Default = sync.OnceValue(func() *Table { return build() })

func build() *Table {
	t := &Table{}
	t.init(1 << 17)
	addList(t, firstNames, First)
	addList(t, surnames, Surname)
	addList(t, words, Word)
	addList(t, stop, Stop)
	addList(t, places, Place)
	var cls Class
	for line := range strings.Lines(roles) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if line[0] == '[' && line[len(line)-1] == ']' {
			cls = sections[line[1:len(line)-1]]
			continue
		}
		if cls != 0 {
			t.add(line, cls)
		}
	}
	return t
}

func addList(t *Table, list string, cls Class) {
	for line := range strings.Lines(list) {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		t.add(line, cls)
	}
}

func (t *Table) init(size int) {
	t.slots = make([]uint64, size)
	t.mask = uint64(size - 1)
	t.n = 0
}

func (t *Table) add(w string, cls Class) {
	var buf [MaxWord]byte
	k, ok := Fold(buf[:0], w)
	if !ok || len(k) == 0 {
		return
	}
	if (t.n+1)*4 > len(t.slots)*3 {
		old := t.slots
		t.init(len(old) * 2)
		for _, s := range old {
			if s != 0 {
				t.insert(s&^classMask, Class(s&classMask))
			}
		}
	}
	t.insert(hash(k), cls)
}

func (t *Table) insert(h uint64, cls Class) {
	for i := h >> classBits & t.mask; ; i = (i + 1) & t.mask {
		s := &t.slots[i]
		if *s&^classMask == h {
			*s |= uint64(cls)
			return
		}
		if *s == 0 {
			*s = h | uint64(cls)
			t.n++
			return
		}
	}
}

// Len is the number of distinct folded words in the table.
func (t *Table) Len() int { return t.n }

// Lookup returns the classes of word, ignoring case and Latin accents
// ("MÜLLER" finds "muller"). A straight apostrophe and U+2019 are the same.
// It does not allocate.
func (t *Table) Lookup(word string) Class {
	// Fast path: ASCII words are folded and hashed in one pass.
	if len(word) <= MaxWord {
		h := uint64(14695981039346656037)
		i := 0
		for ; i < len(word); i++ {
			c := word[i]
			if c >= utf8.RuneSelf {
				break
			}
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			h ^= uint64(c)
			h *= 1099511628211
		}
		if i == len(word) {
			if i == 0 {
				return 0
			}
			return t.get(finish(h))
		}
	}
	var buf [MaxWord]byte
	k, ok := Fold(buf[:0], word)
	if !ok || len(k) == 0 {
		return 0
	}
	return t.get(hash(k))
}

// LookupFolded is Lookup for a word already folded with Fold.
func (t *Table) LookupFolded(k []byte) Class {
	if len(k) == 0 {
		return 0
	}
	return t.get(hash(k))
}

func (t *Table) get(h uint64) Class {
	for i := h >> classBits & t.mask; ; i = (i + 1) & t.mask {
		s := t.slots[i]
		if s&^classMask == h {
			return Class(s & classMask)
		}
		if s == 0 {
			return 0
		}
	}
}

// hash is 64-bit FNV-1a, mixed, with the low classBits cleared, never 0. With
// under a million keys a collision of two different words in the 44 bits
// kept is too unlikely to matter, so keys are not stored.
func hash(k []byte) uint64 {
	h := uint64(14695981039346656037)
	for _, c := range k {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return finish(h)
}

// finish mixes an FNV-1a state into a slot hash.
func finish(h uint64) uint64 {
	// FNV's high bits barely depend on the last bytes; mix them (the
	// MurmurHash3 finaliser) before the slot index is taken from them.
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h &^= classMask
	if h == 0 {
		h = 1 << classBits
	}
	return h
}

// Fold appends the lookup key of w to dst: ASCII letters lower-cased,
// Latin letters with accents reduced to their base letters (ß to ss, ł to
// l), U+2019 to an apostrophe, other characters lower-cased. It reports
// false when the key would be longer than MaxWord.
func Fold(dst []byte, w string) ([]byte, bool) {
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if len(dst) >= MaxWord {
				return dst, false
			}
			dst = append(dst, c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(w[i:])
		i += size
		if r == '\u2019' {
			r = '\''
		}
		r = unicode.ToLower(r)
		if r >= 0xC0 && r < 0xC0+rune(len(latinFold)) {
			if b := latinFold[r-0xC0]; b != "" {
				if len(dst)+len(b) > MaxWord {
					return dst, false
				}
				dst = append(dst, b...)
				continue
			}
		}
		if len(dst)+utf8.RuneLen(r) > MaxWord {
			return dst, false
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst, true
}

// latinFold maps U+00C0..U+024F (lower-cased) to ASCII base letters; ""
// keeps the character.
var latinFold = [...]string{"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "ss", "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i", "d", "n", "o", "o", "o", "o", "o", "", "o", "u", "u", "u", "u", "y", "th", "y", "a", "a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "c", "c", "c", "d", "d", "d", "d", "e", "e", "e", "e", "e", "e", "e", "e", "e", "e", "g", "g", "g", "g", "g", "g", "g", "g", "h", "h", "h", "h", "i", "i", "i", "i", "i", "i", "i", "i", "", "i", "ij", "ij", "j", "j", "k", "k", "k", "l", "l", "l", "l", "l", "l", "l", "l", "l", "l", "n", "n", "n", "n", "n", "n", "", "n", "n", "o", "o", "o", "o", "o", "o", "oe", "oe", "r", "r", "r", "r", "r", "r", "s", "s", "s", "s", "s", "s", "s", "s", "t", "t", "t", "t", "t", "t", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "w", "w", "y", "y", "y", "z", "z", "z", "z", "z", "z", "s", "b", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "i", "", "", "l", "", "", "", "", "", "o", "o", "", "", "", "", "", "", "", "", "", "", "", "", "", "u", "u", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "dz", "dz", "dz", "lj", "lj", "lj", "nj", "nj", "nj", "a", "a", "i", "i", "o", "o", "u", "u", "u", "u", "u", "u", "u", "u", "u", "u", "", "a", "a", "a", "a", "", "", "", "", "g", "g", "k", "k", "o", "o", "o", "o", "", "", "j", "dz", "dz", "dz", "g", "g", "", "", "n", "n", "a", "a", "", "", "", "", "a", "a", "a", "a", "e", "e", "e", "e", "i", "i", "i", "i", "o", "o", "o", "o", "r", "r", "r", "r", "u", "u", "u", "u", "s", "s", "t", "t", "", "", "h", "h", "", "", "", "", "", "", "a", "a", "e", "e", "o", "o", "o", "o", "o", "o", "o", "o", "y", "y", "", "", "", "", "", "", "", "", "", "l", "", "", "", "", "", "b", "", "", "", "", "", "", "", "", "", "", "", ""}

// init starts building the table on another core while the rest of the
// program's packages initialise: a detection command needs it within
// milliseconds of start-up, and the build takes 10-20 ms. Default waits
// for it (sync.OnceValue); nothing else is shared.
func init() { go Default() }
