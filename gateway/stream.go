package gateway

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wardenhq/warden/detect"
)

// The stream rewriter.
//
// A streamed response is a sequence of server-sent events whose text
// arrives in deltas. Deltas belong to tracks: one choice's content, one
// tool call's arguments (choices[].index and tool_calls[].index, not
// array positions: choices interleave chunk by chunk and parallel tool
// calls interleave call by call), one content block of an Anthropic
// message, one output item's content part of a Responses stream. Each
// track has its own guard (guard.go), which holds back only the text
// that may still become a token or a finding and releases the rest at
// once, leaks masked and tokens restored.
//
// Events are rewritten in place: the event's JSON is walked, each delta
// is replaced by what its track releases, every other string (ids,
// names, event and id lines too) goes through the guard whole, opaque
// values pass byte for byte, and the rest of the event is the
// upstream's bytes. An event whose deltas are all held back and that
// carries nothing else is not sent (the APIs never send empty deltas);
// an event without deltas — a ping, a usage report — passes in order
// and releases nothing. When a track ends (finish_reason, a content
// block's stop, an output item's done) the text it still holds is
// released in an event of that track, made from the track's last delta
// event, just before the event that ends it. Responses streams are
// renumbered so sequence_number stays strictly increasing.
//
// The terminal event ([DONE], message_stop, response.completed) is held
// until the request's completion entry is durable; if it cannot be
// written, the stream ends with the API's error event instead.

// streamShape is how one API streams.
type streamShape struct {
	// classify finds an event's deltas, the tracks it ends and whether it
	// is terminal.
	classify func(ev *evDoc) evClass
	// release makes the event that carries a track's held text; lp is
	// the logprobs of that text (a JSON array), nil when there are none
	// to send.
	release func(t *track, text string, lp []byte) (name string, data []byte)
	// logprobs maps a delta's path to the path of the array of logprob
	// entries for its text in the same event ("" if the API has none).
	logprobs func(deltaPath string) string
	// envelope matches the values that identify an event rather than
	// carry content: an event with nothing but these, nulls and held
	// deltas is not sent.
	envelope patterns
	// opaque positions in events.
	opaque []opaqueRule
	// done is the terminal data line ("[DONE]"), if the API has one.
	done string
	// seq says events carry sequence_number (renumbered).
	seq bool
}

// evDoc is one event's JSON, walked.
type evDoc struct {
	data []byte
	vals []evValue
	// typ is $.type ("" if none).
	typ string
}

// evValue is one value of an event.
type evValue struct {
	path       string
	start, end int
	text       string // decoded string, or the literal's text
	number     bool
	literal    bool
	isKey      bool
	container  bool
}

// get returns the text of the scalar at path and whether there is one.
func (d *evDoc) get(path string) (string, bool) {
	for i := range d.vals {
		v := &d.vals[i]
		if v.path == path && !v.isKey && !v.container {
			return v.text, true
		}
	}
	return "", false
}

// evClass is what classify finds in an event.
type evClass struct {
	deltas []evDelta
	ends   []string // prefixes of the track keys this event ends ("" ends all)
	keep   []string // track keys not ended although a prefix in ends matches
	// endsComplete are prefixes of track keys this event ends when the
	// track's text so far is a complete JSON value (tool arguments).
	endsComplete []string
	terminal     bool
	// opaque are values (indexes into evDoc.vals) that may pass
	// unscanned as base64 in this type of event.
	opaque []int
}

// evDelta is one text delta of an event.
type evDelta struct {
	val   int    // index into evDoc.vals
	track string // the track's key
}

// track is one stream of deltas and its guard.
type track struct {
	key   string
	guard *streamGuard
	// tmpl is the last event that carried a delta of this track, and
	// env the values release needs from it.
	tmpl *evDoc
	name string
	// Logprobs of the track's text are held with it: lp are the entries
	// not yet sent, each ending at lpEnd[i] bytes into the track's input.
	// They are dropped for good once the guard changes the track's text
	// (they would spell the original) or they do not add up to it.
	// json follows the track's input as JSON text (tool arguments), to
	// tell when it is a complete value.
	json jsonProgress

	hasLP    bool
	lpBroken bool
	lp       [][]byte
	lpEnd    []int
	lpTotal  int
}

// jsonProgress follows JSON text fed in pieces: nesting depth, whether
// inside a string, and whether a value has started.
type jsonProgress struct {
	depth                   int
	inString, esc           bool
	started, opened, broken bool
}

func (j *jsonProgress) feed(s string) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case j.inString:
			switch {
			case j.esc:
				j.esc = false
			case c == '\\':
				j.esc = true
			case c == '"':
				j.inString = false
			}
		case c == '"':
			j.inString, j.started = true, true
		case c == '{' || c == '[':
			if j.depth == 0 && !j.started {
				j.opened = true
			}
			j.depth++
			j.started = true
		case c == '}' || c == ']':
			j.depth--
			if j.depth < 0 {
				j.broken = true
			}
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
		default:
			j.started = true
		}
	}
}

// complete reports whether the text fed so far is one complete JSON
// object or array.
func (j *jsonProgress) complete() bool {
	return j.opened && !j.broken && j.depth == 0 && !j.inString
}

// takeLP returns the held logprob entries that describe released input,
// as a JSON array (nil when the track's logprobs are dropped).
func (t *track) takeLP(all bool) []byte {
	if t.lpBroken || t.guard.changed {
		t.lp, t.lpEnd = nil, nil
		return nil
	}
	n := 0
	for n < len(t.lp) && (all || t.lpEnd[n] <= t.guard.consumed) {
		n++
	}
	b := []byte{'['}
	for i := 0; i < n; i++ {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, t.lp[i]...)
	}
	t.lp, t.lpEnd = t.lp[n:], t.lpEnd[n:]
	return append(b, ']')
}

// addLP takes the logprob entries of a delta event: the elements of the
// array at path, each with a "token" string. They must add up to the
// delta's text, or the track's logprobs are dropped.
func (t *track) addLP(d *evDoc, path string, delta string) (span [2]int, ok bool) {
	n := 0
	for i := range d.vals {
		v := &d.vals[i]
		switch {
		case v.container && v.path == path:
			span, ok = [2]int{v.start, v.end}, true
		case v.container && strings.HasPrefix(v.path, path+"[") && strings.IndexByte(v.path[len(path):], '.') < 0 &&
			strings.Count(v.path[len(path):], "[") == 1:
			t.lp = append(t.lp, d.data[v.start:v.end])
			tok, _ := d.get(v.path + ".token")
			n += len(tok)
			t.lpTotal += len(tok)
			t.lpEnd = append(t.lpEnd, t.lpTotal)
		}
	}
	if !ok {
		return span, false
	}
	t.hasLP = true
	if n != len(delta) {
		t.lpBroken = true
	}
	return span, true
}

// streamState is the state of one streamed response.
type streamState struct {
	tracks map[string]*track
	order  []*track
	seq    int64 // next sequence_number; -1 until the first event sets it
}

// relayStream rewrites an SSE response event by event.
func (s *Server) relayStream(x *exchange, resp *http.Response) *apiError {
	if !x.slot {
		select {
		case s.streams <- struct{}{}:
			x.slot = true
		default:
			return errUnavailable("too_many_streams", "too many concurrent streams; retry shortly")
		}
	}
	w := x.w
	rc := http.NewResponseController(w)
	h := w.Header()
	for k, vs := range x.respHeader {
		h[k] = vs
	}
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Trailer", "Warden-Audit-Index")
	w.WriteHeader(resp.StatusCode)
	x.written = true
	x.rec.Status = resp.StatusCode
	clientGone := false
	var sent bytes.Buffer // the response as sent, for the audit commitment
	var out bytes.Buffer
	emit := func() {
		if out.Len() == 0 || clientGone {
			out.Reset()
			return
		}
		sent.Write(out.Bytes())
		if s.cfg.WriteTimeout > 0 {
			rc.SetWriteDeadline(time.Now().Add(s.cfg.WriteTimeout))
		}
		if _, err := w.Write(out.Bytes()); err != nil {
			clientGone = true
		} else if err := rc.Flush(); err != nil {
			clientGone = true
		}
		out.Reset()
	}
	rc.Flush()
	st := &streamState{tracks: map[string]*track{}, seq: -1}
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	// From here the total timeout gives way to an idle timeout: a stream
	// may run long, but not silently.
	x.deadline.Stop()
	idle := time.AfterFunc(s.cfg.StreamIdleTimeout, x.cancel)
	defer idle.Stop()
	abort := func(code, msg string, err error) *apiError {
		out.Reset()
		e := &apiError{Status: http.StatusBadGateway, Type: "api_error", Code: code, Msg: msg}
		x.endUpstream(resp.StatusCode, code)
		s.deps.Metrics.streamErrors.Inc()
		if err != nil {
			s.log.Warn("stream ended by the gateway", "request_id", x.rec.RequestID, "code", code, "error", scrubError(err))
		}
		x.rec.ResponseBody = sent.Bytes()
		s.complete(x, http.StatusBadGateway, code)
		out.Write(x.sh.streamErrorEvent(e))
		emit()
		x.rec.Error = code
		return nil
	}
	for {
		if clientGone {
			x.endUpstream(resp.StatusCode, "canceled")
			x.rec.ResponseBody = sent.Bytes()
			s.complete(x, 499, "client_gone")
			x.rec.Status, x.rec.Error = 499, "client_gone"
			return nil
		}
		t := time.Now()
		ev, err := readEvent(br)
		idle.Reset(s.cfg.StreamIdleTimeout)
		x.upstream += time.Since(t)
		if err == io.EOF {
			// The upstream ended without a terminal event: release what
			// is held and close the record.
			x.endUpstream(resp.StatusCode, "")
			if err := s.flushTracks(x.ctx, x, st, "", &out); err != nil {
				return abort("restore_failed", "response guard failed; response ended by Warden", err)
			}
			emit()
			break
		}
		if err != nil {
			code := "stream_aborted"
			if x.ctx.Err() != nil {
				code = "canceled"
			}
			return abort(code, "upstream stream ended abnormally; response ended by Warden", err)
		}
		terminal, err := s.rewriteEvent(x.ctx, x, st, ev, &out)
		if err != nil {
			code := "stream_aborted"
			msg := "upstream stream could not be guarded; response ended by Warden"
			if errors.Is(err, errHoldOverflow) {
				code, msg = "hold_overflow", "a sensitive value in the stream grew past the hold-back bound; response ended by Warden"
			}
			return abort(code, msg, err)
		}
		if terminal != nil {
			// Everything before the terminal event goes out; the terminal
			// event waits for the completion entry.
			emit()
			x.endUpstream(resp.StatusCode, "")
			x.rec.ResponseBody = append(sent.Bytes(), terminal...)
			s.adjustUsage(x.ctx, x)
			if err := s.complete(x, resp.StatusCode, ""); err != nil {
				e := errUnavailable("audit_unavailable", "audit log unavailable; the response is not complete")
				out.Write(x.sh.streamErrorEvent(e))
				emit()
				x.rec.Error = "audit_unavailable"
				return nil
			}
			if x.final >= 0 {
				h.Set("Warden-Audit-Index", strconv.FormatInt(x.final, 10))
			}
			out.Write(terminal)
			emit()
			// Drain what the upstream may still send after its terminal
			// event (nothing, normally) without passing it on.
			return nil
		}
		emit()
	}
	x.rec.ResponseBody = sent.Bytes()
	s.adjustUsage(x.ctx, x)
	if err := s.complete(x, resp.StatusCode, ""); err == nil && x.final >= 0 {
		h.Set("Warden-Audit-Index", strconv.FormatInt(x.final, 10))
	}
	return nil
}

// rewriteEvent guards one event into out. A terminal event is returned
// instead of written.
func (s *Server) rewriteEvent(ctx context.Context, x *exchange, st *streamState, ev *sseEvent, out *bytes.Buffer) (terminal []byte, err error) {
	ss := x.sh.stream
	name, id, err := s.guardLines(ctx, x, ev)
	if err != nil {
		return nil, err
	}
	if ss.done != "" && string(bytes.TrimSpace(ev.data)) == ss.done {
		if err := s.flushTracks(ctx, x, st, "", out); err != nil {
			return nil, err
		}
		var b bytes.Buffer
		writeEvent(&b, name, id, []byte(ss.done)) // exactly as the API writes it
		return b.Bytes(), nil
	}
	doc, err := s.walkEvent(ev.data)
	if err != nil {
		return nil, err
	}
	x.noteEvent(doc)
	cls := ss.classify(doc)
	isDelta := make(map[int]string, len(cls.deltas))
	for _, d := range cls.deltas {
		isDelta[d.val] = d.track
	}
	isOpaque := map[int]bool{}
	for _, i := range cls.opaque {
		isOpaque[i] = true
	}
	ending := func(key string) bool {
		for _, k := range cls.keep {
			if key == k {
				return false
			}
		}
		for _, p := range cls.ends {
			if strings.HasPrefix(key, p) {
				return true
			}
		}
		for _, p := range cls.endsComplete {
			if t := st.tracks[key]; t != nil && strings.HasPrefix(key, p) && t.json.complete() {
				return true
			}
		}
		return false
	}
	// Tracks that end here without a delta in this event release their
	// text in events of their own, before this one.
	withDelta := map[string]bool{}
	for _, d := range cls.deltas {
		withDelta[d.track] = true
	}
	for _, t := range st.order {
		if ending(t.key) && !withDelta[t.key] {
			if err := s.releaseTrack(ctx, x, st, t, out); err != nil {
				return nil, err
			}
		}
	}
	var edits, lpEdits []splice
	var held []int // deltas wholly held back
	heldAll, anyHeld := true, false
	payload := false
	for i := range doc.vals {
		v := &doc.vals[i]
		if v.container || v.literal {
			continue
		}
		if key, ok := isDelta[i]; ok {
			t := st.track(s, x, key)
			t.tmpl, t.name = doc, ev.name
			var lpSpan [2]int
			hasLP := false
			if ss.logprobs != nil {
				if p := ss.logprobs(v.path); p != "" {
					lpSpan, hasLP = t.addLP(doc, p, v.text)
				}
			}
			t.json.feed(v.text)
			text, err := t.guard.Write(ctx, v.text)
			if err != nil {
				return nil, err
			}
			if ending(key) {
				rest, err := t.guard.Flush(ctx)
				if err != nil {
					return nil, err
				}
				text += rest
			}
			s.deps.Metrics.holdBack.Observe(float64(t.guard.held))
			if text != v.text {
				if text == "" {
					held = append(held, i) // removed if the event is sent
				} else {
					edits = append(edits, splice{v.start, v.end, jsonString(text)})
				}
			}
			if hasLP {
				lp := t.takeLP(false)
				if lp == nil {
					lp = []byte("null")
				}
				lpEdits = append(lpEdits, splice{lpSpan[0], lpSpan[1], lp})
			}
			if text != "" {
				heldAll = false
			} else if v.text != "" {
				anyHeld = true
			}
			continue
		}
		if v.number && digitCount(v.text) < 9 {
			if !v.isKey && !ss.envelope.matches(v.path) && !strings.Contains(v.path, "logprobs") {
				payload = true
			}
			if ss.seq && v.path == "$.sequence_number" {
				edits = append(edits, st.renumber(v, doc))
			}
			continue
		}
		if isOpaque[i] {
			if _, ok := decodeStdBase64(v.text); ok {
				payload = true
				continue
			}
		}
		if !v.isKey && !v.number {
			if r := opaqueAt(ss.opaque, v.path); r != nil && r.proves(v.text, "") {
				payload = payload || !ss.envelope.matches(v.path)
				continue
			}
		}
		if !v.isKey && !ss.envelope.matches(v.path) && !strings.Contains(v.path, "logprobs") {
			payload = true
		}
		outText, err := s.segment(ctx, x, "", v.text)
		if err != nil {
			return nil, err
		}
		if outText != v.text {
			edits = append(edits, splice{v.start, v.end, jsonString(outText)})
		}
	}
	if len(cls.deltas) > 0 && heldAll && anyHeld && !payload && !cls.terminal {
		// Nothing to send yet: the deltas wait in their guards.
		return nil, nil
	}
	// A delta held back whole is left out of the event rather than sent
	// empty (the APIs never send an empty delta after the first).
	for _, i := range held {
		if sp, ok := memberSpan(doc, i); ok {
			edits = append(edits, sp)
		}
	}
	edits = append(edits, lpEdits...)
	if cls.terminal {
		if err := s.flushTracks(ctx, x, st, "", out); err != nil {
			return nil, err
		}
	}
	data := applySplices(doc.data, dropInner(edits))
	if cls.terminal {
		var b bytes.Buffer
		writeEvent(&b, name, id, data)
		return b.Bytes(), nil
	}
	writeEvent(out, name, id, data)
	return nil, nil
}

// renumber gives an event the stream's next sequence number.
func (st *streamState) renumber(v *evValue, doc *evDoc) splice {
	if st.seq < 0 {
		n, err := strconv.ParseInt(v.text, 10, 64)
		if err != nil {
			n = 0
		}
		st.seq = n
	}
	sp := splice{v.start, v.end, strconv.AppendInt(nil, st.seq, 10)}
	st.seq++
	return sp
}

// memberSpan is the span that removes the object member whose value is
// doc.vals[i]: its key, the value, and one comma next to them.
func memberSpan(doc *evDoc, i int) (splice, bool) {
	v := &doc.vals[i]
	start := -1
	for k := i - 1; k >= 0; k-- {
		if o := &doc.vals[k]; o.isKey && o.path == v.path {
			start = o.start
			break
		}
	}
	if start < 0 {
		return splice{}, false
	}
	d := doc.data
	end := v.end
	j := end
	for j < len(d) && isSpaceByte(d[j]) {
		j++
	}
	if j < len(d) && d[j] == ',' {
		return splice{start, j + 1, nil}, true
	}
	k := start
	for k > 0 && isSpaceByte(d[k-1]) {
		k--
	}
	if k > 0 && d[k-1] == ',' {
		return splice{k - 1, end, nil}, true
	}
	return splice{start, end, nil}, true
}

// track returns the track for key, making it on first use.
func (st *streamState) track(s *Server, x *exchange, key string) *track {
	t := st.tracks[key]
	if t == nil {
		g := newStreamGuard(func(ctx context.Context, before, seg string) (string, error) {
			return s.segment(ctx, x, before, seg)
		})
		g.scan = s.deps.Detector.Scan
		t = &track{key: key, guard: g}
		st.tracks[key] = t
		st.order = append(st.order, t)
	}
	return t
}

// flushTracks releases what every track whose key has the prefix holds.
func (s *Server) flushTracks(ctx context.Context, x *exchange, st *streamState, prefix string, out *bytes.Buffer) error {
	for _, t := range st.order {
		if strings.HasPrefix(t.key, prefix) {
			if err := s.releaseTrack(ctx, x, st, t, out); err != nil {
				return err
			}
		}
	}
	return nil
}

// releaseTrack writes the text a track holds as an event of its own.
func (s *Server) releaseTrack(ctx context.Context, x *exchange, st *streamState, t *track, out *bytes.Buffer) error {
	text, err := t.guard.Flush(ctx)
	if err != nil || text == "" || t.tmpl == nil {
		return err
	}
	var lp []byte
	if t.hasLP {
		lp = t.takeLP(true)
	}
	name, data := x.sh.stream.release(t, text, lp)
	if x.sh.stream.seq {
		if st.seq < 0 {
			st.seq = 0
		}
		data = setSequence(data, st.seq)
		st.seq++
	}
	writeEvent(out, name, "", data)
	return nil
}

// guardLines guards an event's event: and id: lines like content.
func (s *Server) guardLines(ctx context.Context, x *exchange, ev *sseEvent) (name, id string, err error) {
	if name, err = s.segment(ctx, x, "", ev.name); err != nil {
		return "", "", err
	}
	if id, err = s.segment(ctx, x, "", ev.id); err != nil {
		return "", "", err
	}
	return name, id, nil
}

// walkEvent walks an event's JSON data.
func (s *Server) walkEvent(data []byte) (*evDoc, error) {
	doc := &evDoc{data: data}
	_, err := detect.WalkJSON(data, s.eventWalk, func(v detect.JSONValue) (string, bool, error) {
		doc.vals = append(doc.vals, evValue{path: v.Path, start: v.Start, end: v.End, text: strings.Clone(v.Value),
			number: v.Number, literal: v.Literal, isKey: v.IsKey, container: v.Container})
		if v.Path == "$.type" && !v.IsKey && !v.Container && !v.Number && !v.Literal {
			doc.typ = strings.Clone(v.Value)
		}
		return "", false, nil
	})
	if err != nil {
		return nil, errMalformedStream
	}
	return doc, nil
}

// writeEvent writes one event; data holding line breaks is written as
// several data lines, as SSE requires.
func writeEvent(out *bytes.Buffer, name, id string, data []byte) {
	if name != "" {
		out.WriteString("event: ")
		out.WriteString(name)
		out.WriteByte('\n')
	}
	if id != "" {
		out.WriteString("id: ")
		out.WriteString(id)
		out.WriteByte('\n')
	}
	for {
		line, rest, more := bytes.Cut(data, []byte("\n"))
		out.WriteString("data: ")
		out.Write(bytes.TrimSuffix(line, []byte("\r")))
		out.WriteByte('\n')
		if !more {
			break
		}
		data = rest
	}
	out.WriteByte('\n')
}

// setSequence writes n as the sequence_number of a released event's
// data (which release made with a 0 placeholder).
func setSequence(data []byte, n int64) []byte {
	const field = `"sequence_number":0`
	i := bytes.LastIndex(data, []byte(field))
	if i < 0 {
		return data
	}
	out := append([]byte(nil), data[:i]...)
	out = append(out, `"sequence_number":`...)
	out = strconv.AppendInt(out, n, 10)
	return append(out, data[i+len(field):]...)
}

// matches reports whether any pattern matches path.
func (ps patterns) matches(path string) bool {
	_, ok := ps.match(path)
	return ok
}
