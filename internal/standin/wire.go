package standin

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
)

// obj is a JSON object that keeps its keys in the order written, so the
// stand-in's bodies list fields in the order the providers' APIs do.
type obj []kv

type kv struct {
	k string
	v any
}

// MarshalJSON writes the object with its keys in order and without
// HTML escaping (the providers send <, > and & as they are).
func (o obj) MarshalJSON() ([]byte, error) { return appendJSON(nil, o) }

// appendJSON appends v as JSON. The stand-in's own shapes (obj, []any,
// strings, numbers, bools, nil) are written directly; anything else
// goes through encoding/json. Writing them directly keeps a benchmark's
// upstream cheap: encoding/json would re-validate every nested
// MarshalJSON result.
func appendJSON(b []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case obj:
		b = append(b, '{')
		for i, f := range t {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, f.k)
			b = append(b, ':')
			var err error
			if b, err = appendJSON(b, f.v); err != nil {
				return nil, err
			}
		}
		return append(b, '}'), nil
	case []any:
		b = append(b, '[')
		for i, e := range t {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, e); err != nil {
				return nil, err
			}
		}
		return append(b, ']'), nil
	case string:
		return appendString(b, t), nil
	case bool:
		return strconv.AppendBool(b, t), nil
	case int:
		return strconv.AppendInt(b, int64(t), 10), nil
	case int64:
		return strconv.AppendInt(b, t, 10), nil
	}
	m, err := marshal(v)
	if err != nil {
		return nil, err
	}
	return append(b, m...), nil
}

// appendString appends s as a JSON string, without HTML escaping.
func appendString(b []byte, s string) []byte {
	if isPlain(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// isPlain reports whether s needs no escaping in JSON.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f {
			return false
		}
	}
	return true
}

// set replaces the value of key k, or appends it.
func (o obj) set(k string, v any) obj {
	for i := range o {
		if o[i].k == k {
			o[i].v = v
			return o
		}
	}
	return append(o, kv{k, v})
}

// marshal encodes v as JSON without HTML escaping and without the
// encoder's trailing newline.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// mustMarshal is marshal for values the stand-in builds itself, which
// always encode.
func mustMarshal(v any) []byte {
	b, err := appendJSON(nil, v)
	if err != nil {
		panic("standin: " + err.Error())
	}
	return b
}

// splitWriter writes responses, optionally in tiny flushed pieces.
type splitWriter struct {
	w http.ResponseWriter
	n int
}

func (s *splitWriter) write(b []byte) {
	f, _ := s.w.(http.Flusher)
	for len(b) > 0 {
		k := len(b)
		if s.n > 0 && s.n < k {
			k = s.n
		}
		if _, err := s.w.Write(b[:k]); err != nil {
			return // the client went away; nothing to tell it
		}
		if f != nil {
			f.Flush()
		}
		b = b[k:]
	}
}

func (s *splitWriter) json(status int, v any) {
	b := mustMarshal(v)
	s.w.Header().Set("Content-Type", "application/json")
	s.w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	s.w.WriteHeader(status)
	s.write(b)
}

func (s *splitWriter) sseHeader() {
	s.w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	s.w.Header().Set("Cache-Control", "no-cache")
	s.w.WriteHeader(http.StatusOK)
}

// event writes one server-sent event: an "event:" line when name is set
// (Anthropic and Responses streams name their events; Chat Completions
// streams do not), one "data:" line and the blank line that ends it.
func (s *splitWriter) event(name string, v any) {
	var b bytes.Buffer
	if name != "" {
		b.WriteString("event: ")
		b.WriteString(name)
		b.WriteByte('\n')
	}
	b.WriteString("data: ")
	b.Write(mustMarshal(v))
	b.WriteString("\n\n")
	s.write(b.Bytes())
}

func (s *splitWriter) raw(t string) { s.write([]byte(t)) }

// sseEvent is one event of a stream the stand-in is about to write.
type sseEvent struct {
	name string
	data obj
}

// interleave merges tracks round-robin: the first event of every track,
// then the second of every track, and so on. A track's events keep their
// order.
func interleave(tracks [][]sseEvent) []sseEvent {
	var out []sseEvent
	for i := 0; ; i++ {
		more := false
		for _, t := range tracks {
			if i < len(t) {
				out = append(out, t[i])
				more = true
			}
		}
		if !more {
			return out
		}
	}
}

// sequential concatenates tracks.
func sequential(tracks [][]sseEvent) []sseEvent {
	var out []sseEvent
	for _, t := range tracks {
		out = append(out, t...)
	}
	return out
}

// schedule merges tracks round-robin when mixed is set, else one after
// another.
func schedule(tracks [][]sseEvent, mixed bool) []sseEvent {
	if mixed {
		return interleave(tracks)
	}
	return sequential(tracks)
}
