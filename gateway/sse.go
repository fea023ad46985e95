package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxEventBytes bounds one server-sent event from an upstream.
const maxEventBytes = 4 << 20

// sseEvent is one server-sent event (WHATWG HTML §9.2).
type sseEvent struct {
	name string
	id   string
	data []byte
}

var errMalformedStream = errors.New("malformed event stream")

// readEvent reads the next event. Comment lines are dropped; an event with
// no data lines is skipped. io.EOF ends the stream cleanly only between
// events.
func readEvent(br *bufio.Reader) (*sseEvent, error) {
	ev := &sseEvent{}
	var data bytes.Buffer
	hasData := false
	size := 0
	for {
		line, err := br.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			return nil, fmt.Errorf("%w: line longer than %d bytes", errMalformedStream, br.Size())
		}
		if err == io.EOF && len(line) == 0 {
			if hasData {
				return ev, nil
			}
			return nil, io.EOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
		size += len(line)
		if size > maxEventBytes {
			return nil, fmt.Errorf("%w: event larger than %d bytes", errMalformedStream, maxEventBytes)
		}
		l := bytes.TrimRight(line, "\r\n")
		if len(l) == 0 {
			if hasData {
				ev.data = data.Bytes()
				return ev, nil
			}
			if err == io.EOF {
				return nil, io.EOF
			}
			continue
		}
		if l[0] == ':' {
			continue
		}
		field, value, _ := bytes.Cut(l, []byte(":"))
		value = bytes.TrimPrefix(value, []byte(" "))
		switch string(field) {
		case "data":
			if hasData {
				data.WriteByte('\n')
			}
			data.Write(value)
			hasData = true
		case "event":
			ev.name = string(value)
		case "id":
			ev.id = string(value)
		}
		if err == io.EOF {
			if hasData {
				ev.data = data.Bytes()
				return ev, nil
			}
			return nil, io.EOF
		}
	}
}

// streamState is the per-response state of the stream rewriter.
type streamState struct {
	guards    map[string]*streamGuard
	order     []string
	templates map[string]*template
}

// template remembers the last upstream event that carried a delta for a
// guard, so held-back text can be released in an event of the same shape.
type template struct {
	name string
	data []byte
	path []string
}

// relayStream rewrites an SSE response event by event.
func (s *Server) relayStream(w http.ResponseWriter, r *http.Request, x *exchange, resp *http.Response) int {
	ctx := x.ctx
	select {
	case s.streams <- struct{}{}:
		defer func() { <-s.streams }()
	default:
		return s.refuse(w, x, http.StatusServiceUnavailable, "api_error", "too_many_streams", "too many concurrent streams; retry shortly")
	}
	fl, _ := w.(http.Flusher)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set("Trailer", "Warden-Audit-Index")
	w.WriteHeader(resp.StatusCode)
	if fl != nil {
		fl.Flush()
	}
	st := &streamState{guards: map[string]*streamGuard{}, templates: map[string]*template{}}
	br := bufio.NewReaderSize(resp.Body, 64<<10)
	var out bytes.Buffer
	var sent bytes.Buffer // response as sent, for the audit commitment
	emit := func() {
		if out.Len() == 0 {
			return
		}
		sent.Write(out.Bytes())
		w.Write(out.Bytes())
		out.Reset()
		if fl != nil {
			fl.Flush()
		}
	}
	status := resp.StatusCode
	// From here the total timeout gives way to an idle timeout: a stream
	// may run long, but not silently.
	x.deadline.Stop()
	idle := time.AfterFunc(s.cfg.StreamIdleTimeout, x.cancel)
	defer idle.Stop()
	for {
		t := time.Now()
		ev, err := readEvent(br)
		idle.Reset(s.cfg.StreamIdleTimeout)
		x.upstream += time.Since(t)
		if err == io.EOF {
			x.endUpstream(resp.StatusCode, "")
			break
		}
		if err == nil {
			err = s.rewriteEvent(ctx, x, st, ev, &out)
		}
		if err != nil {
			// End with an error event: never pass raw upstream bytes.
			out.Reset()
			s.streamError(&out, x.kind, "upstream stream ended abnormally or could not be guarded; response ended by Warden")
			emit()
			status = http.StatusBadGateway
			x.errType = "stream_aborted"
			x.endUpstream(resp.StatusCode, "stream_aborted")
			s.deps.Metrics.streamErrors.Inc()
			break
		}
		emit()
	}
	if status != http.StatusBadGateway {
		if err := s.flushGuards(ctx, x, st, &out); err != nil {
			out.Reset()
			s.streamError(&out, x.kind, "response guard failed; response ended by Warden")
			status = http.StatusBadGateway
			x.errType = "restore_failed"
		}
		emit()
	}
	x.ev.ResponseBody = sent.Bytes()
	x.ev.Restored, x.ev.Leaks = x.restored, x.leaks
	if idx, err := s.record(context.WithoutCancel(ctx), x, status); err == nil && idx >= 0 {
		w.Header().Set("Warden-Audit-Index", strconv.FormatInt(idx, 10))
	}
	return status
}

func (s *Server) streamError(out *bytes.Buffer, kind apiKind, msg string) {
	var body any
	if kind == apiMessages {
		body = map[string]any{"type": "error", "error": map[string]any{"type": "api_error", "message": msg}}
	} else {
		body = map[string]any{"error": map[string]any{"message": msg, "type": "api_error", "code": "stream_aborted"}}
	}
	b, _ := json.Marshal(body)
	out.WriteString("event: error\ndata: ")
	out.Write(b)
	out.WriteString("\n\n")
}

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
	out.WriteString("data: ")
	out.Write(data)
	out.WriteString("\n\n")
}

// rewriteEvent guards one event. Text deltas go through their stream's
// guard (and may be held back); an event without deltas first releases
// everything held, then has its own strings guarded whole.
func (s *Server) rewriteEvent(ctx context.Context, x *exchange, st *streamState, ev *sseEvent, out *bytes.Buffer) error {
	if bytes.Equal(bytes.TrimSpace(ev.data), []byte("[DONE]")) {
		if err := s.flushGuards(ctx, x, st, out); err != nil {
			return err
		}
		writeEvent(out, ev.name, ev.id, ev.data)
		return nil
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(ev.data))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("%w: event data is not JSON", errMalformedStream)
	}
	obj, _ := doc.(map[string]any)
	x.noteResponse(obj)
	var deltas []deltaRef
	collectDeltas(doc, nil, x.kind, &deltas)
	if len(deltas) == 0 {
		if err := s.flushGuards(ctx, x, st, out); err != nil {
			return err
		}
		if _, err := s.guardDoc(ctx, x, doc); err != nil {
			return err
		}
		if obj != nil {
			s.adjustUsage(ctx, x, usageOf(obj))
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		writeEvent(out, ev.name, ev.id, b)
		return nil
	}
	suffix := streamSuffix(obj)
	for _, d := range deltas {
		key := strings.Join(d.path, ".") + suffix
		g := st.guards[key]
		if g == nil {
			g = newStreamGuard(func(ctx context.Context, before, seg string) (string, error) {
				return s.segment(ctx, x, before, seg)
			})
			st.guards[key] = g
			st.order = append(st.order, key)
		}
		st.templates[key] = &template{name: ev.name, data: append([]byte(nil), ev.data...), path: d.path}
		text, err := g.Write(ctx, d.value)
		if err != nil {
			return err
		}
		s.deps.Metrics.holdBack.Observe(float64(g.held))
		d.set(text)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	writeEvent(out, ev.name, ev.id, b)
	return nil
}

// flushGuards releases everything held, each in an event shaped like the
// last one its stream came in.
func (s *Server) flushGuards(ctx context.Context, x *exchange, st *streamState, out *bytes.Buffer) error {
	for _, key := range st.order {
		g := st.guards[key]
		text, err := g.Flush(ctx)
		if err != nil {
			return err
		}
		if text == "" {
			continue
		}
		t := st.templates[key]
		var doc any
		dec := json.NewDecoder(bytes.NewReader(t.data))
		dec.UseNumber()
		if err := dec.Decode(&doc); err != nil {
			return err
		}
		var deltas []deltaRef
		collectDeltas(doc, nil, x.kind, &deltas)
		for _, d := range deltas {
			if strings.Join(d.path, ".") == strings.Join(t.path, ".") {
				d.set(text)
			} else {
				d.set("")
			}
		}
		// A template may carry a finish marker or usage from its own
		// event; the released text is only text.
		clearFinish(doc)
		b, err := json.Marshal(doc)
		if err != nil {
			return err
		}
		writeEvent(out, t.name, "", b)
	}
	return nil
}

func clearFinish(doc any) {
	m, _ := doc.(map[string]any)
	if m == nil {
		return
	}
	delete(m, "usage")
	if cs, ok := m["choices"].([]any); ok {
		for _, c := range cs {
			if cm, ok := c.(map[string]any); ok {
				if _, has := cm["finish_reason"]; has {
					cm["finish_reason"] = nil
				}
			}
		}
	}
}

// streamSuffix distinguishes parallel streams that share a path: content
// blocks (Anthropic "index") and output items (Responses
// "output_index"/"content_index").
func streamSuffix(obj map[string]any) string {
	if obj == nil {
		return ""
	}
	var b strings.Builder
	for _, k := range []string{"index", "output_index", "content_index", "item_id"} {
		if v, ok := obj[k]; ok {
			fmt.Fprintf(&b, "|%s=%v", k, v)
		}
	}
	return b.String()
}

// deltaRef is one incremental text field of a stream event.
type deltaRef struct {
	path  []string
	value string
	set   func(string)
}

// deltaKeys are the fields that carry incremental text: chat "content",
// tool-call "arguments", Anthropic "text"/"partial_json"/"thinking",
// "refusal".
var deltaKeys = map[string]bool{"content": true, "text": true, "arguments": true, "partial_json": true, "thinking": true, "refusal": true}

// collectDeltas finds incremental text in a stream event: strings under a
// "delta" object, a top-level "delta" string (Responses API), and
// choices[i].text of legacy completions.
func collectDeltas(v any, path []string, kind apiKind, out *[]deltaRef) {
	switch t := v.(type) {
	case map[string]any:
		for k, c := range t {
			p := append(path[:len(path):len(path)], k)
			if s, ok := c.(string); ok {
				if isDeltaPath(p, kind) {
					m, k := t, k
					*out = append(*out, deltaRef{path: p, value: s, set: func(n string) { m[k] = n }})
				}
				continue
			}
			collectDeltas(c, p, kind, out)
		}
	case []any:
		for i, c := range t {
			collectDeltas(c, append(path[:len(path):len(path)], strconv.Itoa(i)), kind, out)
		}
	}
}

func isDeltaPath(p []string, kind apiKind) bool {
	last := p[len(p)-1]
	if len(p) == 1 && last == "delta" {
		return true // Responses API: {"type":"response.output_text.delta","delta":"…"}
	}
	if !deltaKeys[last] {
		return false
	}
	for _, seg := range p[:len(p)-1] {
		if seg == "delta" {
			return true
		}
	}
	// Legacy completions stream: choices[i].text.
	return kind == apiCompletions && len(p) == 3 && p[0] == "choices" && last == "text"
}
