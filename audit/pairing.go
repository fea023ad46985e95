package audit

import (
	"errors"
	"fmt"
	"hash/maphash"
)

// Pairing
//
// A request that reaches an upstream is an intent and, later, exactly
// one completion or aborted entry naming the intent's index. Verify
// checks that every closing entry names an earlier intent, that no
// intent is closed twice, that the closer repeats its intent's
// request_id, principal and tenant, and that every intent is closed,
// except intents still open in audit_open under a live writer (in
// flight). It reads only the head of each entry (see Entry format): a
// full JSON decode would cost more than hashing the entry.

// entryHead is the start of an entry, the part pairing reads.
type entryHead struct {
	v    int
	kind string // one of the Kind constants
	// intent is the index a completion or aborted entry closes; -1
	// for other kinds.
	intent int64
	// who is the raw text of the request_id, principal and tenant
	// fields (intent, completion and aborted entries). Canonical JSON
	// spells equal strings with equal bytes, so closer and intent
	// compare as text.
	who []byte
}

var errMalformed = errors.New("audit: not a canonical entry of a known version and kind")

// parseHead reads the head of a canonical entry: v, kind, and for the
// request kinds that pair, time, intent, request_id, principal and
// tenant, in that order. It accepts version 1 (request, admin) and
// version 2 (request, intent, completion, aborted; admin entries keep
// version 1).
func parseHead(e []byte) (entryHead, error) {
	h := entryHead{intent: -1}
	p := headParser{b: e}
	if !p.lit(`{"v":`) {
		return h, errMalformed
	}
	v, ok := p.uint()
	if !ok || !p.lit(`,"kind":"`) {
		return h, errMalformed
	}
	kind, ok := p.str()
	if !ok {
		return h, errMalformed
	}
	h.v = int(v)
	switch {
	case string(kind) == KindRequest && (v == 1 || v == 2):
		h.kind = KindRequest
		return h, nil
	case string(kind) == KindAdmin && v == 1:
		h.kind = KindAdmin
		return h, nil
	case v != 2:
		return h, errMalformed
	case string(kind) == KindIntent:
		h.kind = KindIntent
	case string(kind) == KindCompletion:
		h.kind = KindCompletion
	case string(kind) == KindAborted:
		h.kind = KindAborted
	default:
		return h, errMalformed
	}
	if !p.lit(`,"time":"`) {
		return h, errMalformed
	}
	if _, ok := p.str(); !ok {
		return h, errMalformed
	}
	if h.kind != KindIntent {
		if !p.lit(`,"intent":`) {
			return h, errMalformed
		}
		n, ok := p.uint()
		if !ok {
			return h, errMalformed
		}
		h.intent = n
	}
	start := p.pos
	for _, key := range []string{`,"request_id":"`, `,"principal":"`, `,"tenant":"`} {
		if !p.lit(key) {
			return h, errMalformed
		}
		if _, ok := p.str(); !ok {
			return h, errMalformed
		}
	}
	h.who = e[start:p.pos]
	return h, nil
}

// headParser reads canonical JSON from the front.
type headParser struct {
	b   []byte
	pos int
}

// lit consumes s.
func (p *headParser) lit(s string) bool {
	if len(p.b)-p.pos < len(s) || string(p.b[p.pos:p.pos+len(s)]) != s {
		return false
	}
	p.pos += len(s)
	return true
}

// uint consumes a non-negative integer in canonical spelling (no
// leading zeros, at most 18 digits).
func (p *headParser) uint() (int64, bool) {
	start, n := p.pos, int64(0)
	for p.pos < len(p.b) && p.b[p.pos] >= '0' && p.b[p.pos] <= '9' {
		n = n*10 + int64(p.b[p.pos]-'0')
		p.pos++
	}
	digits := p.pos - start
	if digits == 0 || digits > 18 || (digits > 1 && p.b[start] == '0') {
		return 0, false
	}
	return n, true
}

// str consumes the rest of a string whose opening quote was consumed
// and returns its raw (escaped) text.
func (p *headParser) str() ([]byte, bool) {
	for i := p.pos; i < len(p.b); i++ {
		switch c := p.b[i]; {
		case c == '\\':
			i++
		case c == '"':
			s := p.b[p.pos:i]
			p.pos = i + 1
			return s, true
		case c < 0x20:
			return nil, false
		}
	}
	return nil, false
}

// PairCounts counts a log's entries by kind, as [Verify] saw them.
type PairCounts struct {
	// Requests counts request entries (version 1 and 2).
	Requests int64
	// Intents, Completions and Aborted count the two-entry requests.
	Intents, Completions, Aborted int64
	// Admin counts administrative acts.
	Admin int64
	// InFlight counts intents that were open when Verify ran, held in
	// audit_open by a live writer: requests still under way.
	InFlight int64
}

// pairing is Verify's state while it reads the log in order.
type pairing struct {
	PairCounts
	// open maps each intent not closed yet to the hash of its who text
	// (seeded per run, so entries cannot be made to collide in advance).
	open map[int64]uint64
	seed maphash.Seed
	// intents has bit i set when entry i is an intent.
	intents []uint64
	// bad is the first pairing failure.
	bad *VerifyError
}

func newPairing() *pairing { return &pairing{open: map[int64]uint64{}, seed: maphash.MakeSeed()} }

func (p *pairing) fail(idx int64, reason string) {
	if p.bad == nil {
		p.bad = &VerifyError{Index: idx, Reason: reason}
	}
}

func (p *pairing) isIntent(idx int64) bool {
	w := idx / 64
	return w < int64(len(p.intents)) && p.intents[w]&(1<<(idx%64)) != 0
}

// add takes the head of entry idx (parseHead's results); entries come
// in index order.
func (p *pairing) add(idx int64, h entryHead, err error) {
	if err != nil {
		p.fail(idx, "entry is not a canonical audit entry of a known version and kind")
		return
	}
	switch h.kind {
	case KindRequest:
		p.Requests++
	case KindAdmin:
		p.Admin++
	case KindIntent:
		p.Intents++
		for int64(len(p.intents)) <= idx/64 {
			p.intents = append(p.intents, 0)
		}
		p.intents[idx/64] |= 1 << (idx % 64)
		p.open[idx] = maphash.Bytes(p.seed, h.who)
	case KindCompletion, KindAborted:
		if h.kind == KindCompletion {
			p.Completions++
		} else {
			p.Aborted++
		}
		who, open := p.open[h.intent]
		switch {
		case h.intent >= idx:
			p.fail(idx, fmt.Sprintf("%s names entry %d, which is not an earlier entry", h.kind, h.intent))
		case !p.isIntent(h.intent):
			p.fail(idx, fmt.Sprintf("%s names entry %d, which is not an intent", h.kind, h.intent))
		case !open:
			p.fail(idx, fmt.Sprintf("%s closes intent %d, which an earlier entry already closed", h.kind, h.intent))
		default:
			if who != maphash.Bytes(p.seed, h.who) {
				p.fail(idx, fmt.Sprintf("%s does not repeat the request_id, principal and tenant of intent %d", h.kind, h.intent))
			}
			delete(p.open, h.intent)
		}
	}
}
