package gateway_test

// Golden stream replay: hand-written upstream streams in the providers'
// published wire formats (testdata/streams/*.sse) are replayed through the
// gateway in 1-, 3- and 7-byte flushed writes and read back with a raw
// HTTP client. The fixtures carry tokens as placeholders:
//
//	{{tok TYPE value}}     the whole token the gateway issues for value
//	{{tok<K TYPE value}}   its first K bytes (K < 0: all but the last -K)
//	{{tok>K TYPE value}}   the rest, from byte K
//
// so a token can be split across two deltas. The upstream sends the
// tokens; the caller must see the originals. A fixture's name says its
// API: chat_* (Chat Completions), responses_* (Responses), messages_*
// (Anthropic Messages).
//
// The checks, per fixture and write size:
//
//  1. events that carry no text delta come out byte for byte as the
//     upstream sent them (tokens restored), in the same order; only
//     sequence_number may change, and it must increase strictly from
//     the first event's value;
//  2. per track (choice; choice and tool call index; output and content
//     index; content block index) the delta text concatenates to the
//     fixture's with originals for tokens, and the track's identifiers
//     (tool call id and name, item id, role) are kept;
//  3. no event carries an empty text delta the upstream did not send
//     (the gateway may merge or delay deltas, never invent empty ones),
//     and opaque values (encrypted_content, signature, redacted_thinking
//     data, audio data) are byte for byte unchanged;
//  4. the terminal event ([DONE], message_stop, response.completed) comes
//     last and exactly once.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/wardenhq/warden/gateway"
	"github.com/wardenhq/warden/transform"
)

// goldenPlaceholder matches {{tok TYPE value}}, {{tok<K …}}, {{tok>K …}}.
var goldenPlaceholder = regexp.MustCompile(`\{\{tok(?:([<>])(-?[0-9]+))? ([A-Z0-9_]+) ([^}]+)\}\}`)

// goldenShape is how one API's streams are requested and read.
type goldenShape struct {
	path    string
	body    string
	header  map[string]string
	analyze func(ev sseEv) (eventFacts, error)
}

var goldenShapes = map[string]goldenShape{
	"chat": {path: "/v1/chat/completions", analyze: analyzeChat,
		body: `{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Write the note."}]}`},
	"responses": {path: "/v1/responses", analyze: analyzeResponses,
		body: `{"model":"gpt-4o","stream":true,"input":"Write the note."}`},
	"messages": {path: "/v1/messages", analyze: analyzeMessages, header: map[string]string{"anthropic-version": "2023-06-01"},
		body: `{"model":"claude-sonnet-4-5","max_tokens":1024,"stream":true,"messages":[{"role":"user","content":"Write the note."}]}`},
}

// sseEv is one server-sent event: its name and its data lines joined.
type sseEv struct {
	name string
	data string
}

// parseSSE splits a stream into events (WHATWG HTML §9.2: comment lines
// and fields other than event and data are ignored; an event without data
// is not dispatched).
func parseSSE(b []byte) []sseEv {
	var out []sseEv
	var cur sseEv
	var data []string
	has := false
	flush := func() {
		if has {
			cur.data = strings.Join(data, "\n")
			out = append(out, cur)
		}
		cur, data, has = sseEv{}, nil, false
	}
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if line == "" {
			flush()
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			cur.name = value
		case "data":
			data = append(data, value)
			has = true
		}
	}
	flush()
	return out
}

// delta is the text one event adds to one track.
type delta struct {
	track, text string
}

// eventFacts is what the checks need to know about one event.
type eventFacts struct {
	deltas   []delta  // text deltas; an event with none is a non-text event
	attrs    []string // "track: key=value" identifiers of the tracks it touches
	opaque   []string // "path=raw JSON" of opaque values
	seq      int64    // sequence_number, -1 when absent
	terminal bool
}

// decodeEvent decodes event data as JSON, numbers kept as written.
func decodeEvent(data string) (map[string]any, error) {
	dec := json.NewDecoder(strings.NewReader(data))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	return m, nil
}

func str(v any) (string, bool) { s, ok := v.(string); return s, ok }

func num(v any) string {
	if n, ok := v.(json.Number); ok {
		return n.String()
	}
	return "?"
}

func analyzeChat(ev sseEv) (eventFacts, error) {
	f := eventFacts{seq: -1}
	if ev.data == "[DONE]" {
		f.terminal = true
		return f, nil
	}
	doc, err := decodeEvent(ev.data)
	if err != nil {
		return f, err
	}
	choices, _ := doc["choices"].([]any)
	for _, c := range choices {
		cm, _ := c.(map[string]any)
		track := "choice " + num(cm["index"])
		if t, ok := str(cm["text"]); ok { // legacy completions
			f.deltas = append(f.deltas, delta{track + " text", t})
		}
		if lp, ok := cm["logprobs"].(map[string]any); ok {
			if content, ok := lp["content"].([]any); ok && len(content) > 0 {
				var b strings.Builder
				for _, e := range content {
					em, _ := e.(map[string]any)
					t, _ := str(em["token"])
					b.WriteString(t)
				}
				f.deltas = append(f.deltas, delta{track + " logprobs.content", b.String()})
			}
		}
		d, _ := cm["delta"].(map[string]any)
		if d == nil {
			continue
		}
		if r, ok := str(d["role"]); ok {
			f.attrs = append(f.attrs, track+": role="+r)
		}
		for _, k := range []string{"content", "refusal"} {
			if t, ok := str(d[k]); ok {
				f.deltas = append(f.deltas, delta{track + " " + k, t})
			}
		}
		if a, ok := d["audio"].(map[string]any); ok {
			if t, ok := str(a["transcript"]); ok {
				f.deltas = append(f.deltas, delta{track + " audio.transcript", t})
			}
			if id, ok := str(a["id"]); ok {
				f.attrs = append(f.attrs, track+" audio: id="+id)
			}
		}
		calls, _ := d["tool_calls"].([]any)
		for _, tc := range calls {
			tm, _ := tc.(map[string]any)
			ct := track + " tool_calls[" + num(tm["index"]) + "]"
			for _, k := range []string{"id", "type"} {
				if v, ok := str(tm[k]); ok {
					f.attrs = append(f.attrs, ct+": "+k+"="+v)
				}
			}
			fn, _ := tm["function"].(map[string]any)
			if v, ok := str(fn["name"]); ok {
				f.attrs = append(f.attrs, ct+": name="+v)
			}
			if a, ok := str(fn["arguments"]); ok {
				f.deltas = append(f.deltas, delta{ct + " arguments", a})
			}
		}
	}
	f.opaque = opaqueValues(ev.data)
	return f, nil
}

func analyzeResponses(ev sseEv) (eventFacts, error) {
	f := eventFacts{seq: -1}
	doc, err := decodeEvent(ev.data)
	if err != nil {
		return f, err
	}
	if s, ok := doc["sequence_number"].(json.Number); ok {
		if f.seq, err = s.Int64(); err != nil {
			return f, err
		}
	}
	typ, _ := str(doc["type"])
	f.terminal = typ == "response.completed"
	out := "output " + num(doc["output_index"])
	var track string
	switch typ {
	case "response.output_text.delta":
		track = out + " content " + num(doc["content_index"]) + " text"
	case "response.refusal.delta":
		track = out + " content " + num(doc["content_index"]) + " refusal"
	case "response.function_call_arguments.delta":
		track = out + " arguments"
	case "response.reasoning_summary_text.delta":
		track = out + " summary " + num(doc["summary_index"])
	case "response.reasoning_text.delta":
		track = out + " reasoning " + num(doc["content_index"])
	}
	if track != "" {
		t, ok := str(doc["delta"])
		if !ok {
			return f, fmt.Errorf("%s without a string delta", typ)
		}
		f.deltas = append(f.deltas, delta{track, t})
		if id, ok := str(doc["item_id"]); ok {
			f.attrs = append(f.attrs, track+": item_id="+id)
		}
	}
	f.opaque = opaqueValues(ev.data)
	return f, nil
}

func analyzeMessages(ev sseEv) (eventFacts, error) {
	f := eventFacts{seq: -1}
	doc, err := decodeEvent(ev.data)
	if err != nil {
		return f, err
	}
	typ, _ := str(doc["type"])
	f.terminal = typ == "message_stop"
	if typ == "content_block_delta" {
		d, _ := doc["delta"].(map[string]any)
		block := "block " + num(doc["index"])
		dt, _ := str(d["type"])
		for k, key := range map[string]string{"text_delta": "text", "input_json_delta": "partial_json", "thinking_delta": "thinking"} {
			if dt == k {
				t, ok := str(d[key])
				if !ok {
					return f, fmt.Errorf("%s without a string %s", dt, key)
				}
				f.deltas = append(f.deltas, delta{block + " " + key, t})
			}
		}
	}
	f.opaque = opaqueValues(ev.data)
	return f, nil
}

// opaqueValues returns the opaque values of an event's data, as
// "path=raw JSON": encrypted_content, signature, a redacted_thinking
// block's data and audio data. Object keys are visited in sorted order.
func opaqueValues(data string) []string {
	var out []string
	var walk func(raw json.RawMessage, path string, parent map[string]json.RawMessage, key string)
	walk = func(raw json.RawMessage, path string, parent map[string]json.RawMessage, key string) {
		raw = bytes.TrimSpace(raw)
		if len(raw) == 0 {
			return
		}
		switch raw[0] {
		case '{':
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) != nil {
				return
			}
			keys := make([]string, 0, len(m))
			for k := range m {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(m[k], path+"."+k, m, k)
			}
		case '[':
			var a []json.RawMessage
			if json.Unmarshal(raw, &a) != nil {
				return
			}
			for i, v := range a {
				walk(v, path+"."+strconv.Itoa(i), nil, "")
			}
		case '"':
			opaque := key == "encrypted_content" || key == "signature" ||
				(key == "data" && strings.HasSuffix(path, ".audio.data"))
			if key == "data" && parent != nil {
				var t string
				json.Unmarshal(parent["type"], &t)
				opaque = opaque || t == "redacted_thinking"
			}
			if opaque {
				out = append(out, strings.TrimPrefix(path, ".")+"="+string(raw))
			}
		}
	}
	walk(json.RawMessage(data), "", nil, "")
	return out
}

// goldenFixture is one fixture in the two versions the test needs.
type goldenFixture struct {
	name     string
	shape    goldenShape
	upstream []byte  // what the upstream sends: tokens
	want     []sseEv // what the caller must see: originals
	sent     []sseEv // upstream parsed
}

// substitute replaces the placeholders: with tokens (or token parts) for
// the upstream, with originals for the caller (the first part of a split
// token stands for the whole value, the second for nothing).
func substitute(t *testing.T, st *transform.StatelessTokens, text string, originals bool) string {
	t.Helper()
	return goldenPlaceholder.ReplaceAllStringFunc(text, func(m string) string {
		g := goldenPlaceholder.FindStringSubmatch(m)
		op, typ, value := g[1], g[3], g[4]
		if originals {
			if op == ">" {
				return ""
			}
			return value
		}
		tok, err := st.Token(context.Background(), typ, value)
		if err != nil {
			t.Fatalf("placeholder %s: %v", m, err)
		}
		if op == "" {
			return tok
		}
		k, _ := strconv.Atoi(g[2])
		if k < 0 {
			k += len(tok)
		}
		if k <= 0 || k >= len(tok) {
			t.Fatalf("placeholder %s: split at %d outside the %d-byte token", m, k, len(tok))
		}
		if op == "<" {
			return tok[:k]
		}
		return tok[k:]
	})
}

func loadGoldenFixtures(t *testing.T) []goldenFixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "streams", "*.sse"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in testdata/streams: %v", err)
	}
	key, err := transform.NewKey(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	st, err := transform.NewStatelessTokens(key)
	if err != nil {
		t.Fatal(err)
	}
	var out []goldenFixture
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(file), ".sse")
		prefix, _, _ := strings.Cut(name, "_")
		shape, ok := goldenShapes[prefix]
		if !ok {
			t.Fatalf("%s: the name does not start with chat_, responses_ or messages_", file)
		}
		fx := goldenFixture{name: name, shape: shape,
			upstream: []byte(substitute(t, st, string(raw), false)),
			want:     parseSSE([]byte(substitute(t, st, string(raw), true)))}
		fx.sent = parseSSE(fx.upstream)
		for i, ev := range fx.want {
			if _, err := shape.analyze(ev); err != nil {
				t.Fatalf("%s: event %d is not valid: %v", name, i, err)
			}
		}
		out = append(out, fx)
	}
	return out
}

// replayUpstream sends a fixture in flushed writes of n bytes.
type replayUpstream struct {
	body []byte
	n    int
}

func (u replayUpstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	for b := u.body; len(b) > 0; {
		k := min(u.n, len(b))
		w.Write(b[:k])
		w.(http.Flusher).Flush()
		b = b[k:]
	}
}

func TestGoldenStreams(t *testing.T) {
	for _, fx := range loadGoldenFixtures(t) {
		for _, n := range []int{1, 3, 7} {
			t.Run(fmt.Sprintf("%s/write=%d", fx.name, n), func(t *testing.T) {
				srv := newTestGateway(t, gateway.Config{
					Upstreams: []*gateway.Upstream{{Name: "golden", URL: upstreamURL(t, replayUpstream{fx.upstream, n}), Models: []string{"*"}}},
				}, gateway.Deps{})
				req, err := http.NewRequest(http.MethodPost, srv.URL+fx.shape.path, strings.NewReader(fx.shape.body))
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer test")
				for k, v := range fx.shape.header {
					req.Header.Set(k, v)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil {
					t.Fatalf("%s write=%d: reading the stream: %v", fx.name, n, err)
				}
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("%s write=%d: status %d: %s", fx.name, n, resp.StatusCode, clip(string(body)))
				}
				checkGolden(t, fmt.Sprintf("%s write=%d", fx.name, n), fx, parseSSE(body))
			})
		}
	}
}

// recorder collects the checks' complaints.
type recorder struct{ msgs []string }

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, a ...any) {
	r.msgs = append(r.msgs, fmt.Sprintf(format, a...))
}
func (r *recorder) Fatalf(format string, a ...any) {
	r.msgs = append(r.msgs, "fatal: "+fmt.Sprintf(format, a...))
}

// The checks accept a stream that is exactly what the caller should see,
// and one where the gateway merged two deltas of a track.
func TestGoldenChecksAcceptTheIdealStream(t *testing.T) {
	for _, fx := range loadGoldenFixtures(t) {
		var r recorder
		checkGolden(&r, fx.name, fx, fx.want)
		if len(r.msgs) > 0 {
			t.Errorf("%s: the checks refuse the ideal stream:\n%s", fx.name, strings.Join(r.msgs, "\n"))
		}
		if fx.name != "chat_include_usage" {
			continue
		}
		merged := append([]sseEv(nil), fx.want[:3]...)
		merged[2].data = strings.Replace(merged[2].data, `"content":"jane.doe@example.com"`, `"content":"jane.doe@example.com and then call "`, 1)
		merged = append(merged, fx.want[4:]...)
		r = recorder{}
		checkGolden(&r, fx.name+" merged", fx, merged)
		if len(r.msgs) > 0 || merged[2].data == fx.want[2].data {
			t.Errorf("%s: the checks refuse a stream with two deltas merged:\n%s", fx.name, strings.Join(r.msgs, "\n"))
		}
	}
}

// Each check fails on the fault it is there to catch.
func TestGoldenChecksCatchFaults(t *testing.T) {
	fixtures := map[string]goldenFixture{}
	for _, fx := range loadGoldenFixtures(t) {
		fixtures[fx.name] = fx
	}
	edit := func(t *testing.T, evs []sseEv, i int, from, to string) []sseEv {
		t.Helper()
		out := append([]sseEv(nil), evs...)
		if !strings.Contains(out[i].data, from) {
			t.Fatalf("event %d has no %q", i, from)
		}
		out[i].data = strings.Replace(out[i].data, from, to, 1)
		return out
	}
	cases := []struct {
		name, fixture string
		mutate        func(t *testing.T, evs []sseEv) []sseEv
		want          string
	}{
		{"terminal event dropped", "chat_include_usage", func(t *testing.T, evs []sseEv) []sseEv { return evs[:len(evs)-1] }, "check 4"},
		{"terminal event twice", "messages_text_ping", func(t *testing.T, evs []sseEv) []sseEv { return append(evs, evs[len(evs)-1]) }, "check 4"},
		{"ping re-encoded", "messages_text_ping", func(t *testing.T, evs []sseEv) []sseEv { return edit(t, evs, 2, `{"type": "ping"}`, `{"type":"ping"}`) }, "re-encoded"},
		{"non-text event lost", "messages_text_ping", func(t *testing.T, evs []sseEv) []sseEv { return append(append([]sseEv(nil), evs[:2]...), evs[3:]...) }, "non-text events, the fixture has"},
		{"token left in a done event", "responses_text", func(t *testing.T, evs []sseEv) []sseEv {
			return edit(t, evs, 8, "jane.doe@example.com", "[[EMAIL_ADDRESS:0000]]")
		}, "differ in content"},
		{"signature changed", "messages_thinking", func(t *testing.T, evs []sseEv) []sseEv { return edit(t, evs, 6, `Hw=="`, `Hw="`) }, "check 3 (opaque values)"},
		{"encrypted_content changed", "responses_reasoning", func(t *testing.T, evs []sseEv) []sseEv { return edit(t, evs, 2, "gAAAAAB", "gAAAAAC") }, "check 3 (opaque values)"},
		{"empty delta invented", "chat_parallel_tool_calls", func(t *testing.T, evs []sseEv) []sseEv {
			return append(evs[:2:2], append([]sseEv{edit(t, evs, 1, `{\"to\":\"`, "")[1]}, evs[2:]...)...)
		}, "check 3 (empty deltas)"},
		{"tool call keyed by position", "chat_parallel_tool_calls", func(t *testing.T, evs []sseEv) []sseEv {
			return edit(t, evs, 4, `"index":1,"function"`, `"index":0,"function"`)
		}, "check 2 (track text)"},
		{"tool call name lost", "chat_parallel_tool_calls", func(t *testing.T, evs []sseEv) []sseEv { return edit(t, evs, 2, `"name":"lookup_contact",`, "") }, "check 2 (track identifiers)"},
		{"choices mixed", "chat_n2", func(t *testing.T, evs []sseEv) []sseEv { return edit(t, evs, 3, `"index":1`, `"index":0`) }, "check 2 (track text)"},
		{"sequence_number repeated", "responses_text", func(t *testing.T, evs []sseEv) []sseEv {
			return edit(t, evs, 5, `"sequence_number":5`, `"sequence_number":4`)
		}, "check 1 (sequence_number)"},
		{"stream aborted", "chat_n2", func(t *testing.T, evs []sseEv) []sseEv {
			return append(evs[:3:3], sseEv{name: "error", data: `{"error":{"code":"stream_aborted"}}`})
		}, "ended the stream with an error event"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := fixtures[tc.fixture]
			var r recorder
			checkGolden(&r, tc.name, fx, tc.mutate(t, fx.want))
			all := strings.Join(r.msgs, "\n")
			if !strings.Contains(all, tc.want) {
				t.Errorf("want a complaint with %q, got:\n%s", tc.want, all)
			}
		})
	}
}

// analyzed is a stream with its events' facts.
type analyzed struct {
	who   string // fixture, upstream or gateway
	evs   []sseEv
	facts []eventFacts
}

// reporter is the part of testing.T the checks use, so the checks
// themselves can be tested.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

func analyzeAll(t reporter, label, side string, shape goldenShape, evs []sseEv) analyzed {
	t.Helper()
	a := analyzed{who: side, evs: evs}
	for i, ev := range evs {
		f, err := shape.analyze(ev)
		if err != nil {
			t.Fatalf("%s: %s event %d (%s) does not parse: %v: %s", label, side, i, ev.name, err, clip(ev.data))
		}
		a.facts = append(a.facts, f)
	}
	return a
}

var seqNumber = regexp.MustCompile(`"sequence_number"\s*:\s*-?[0-9]+`)

// strippedText is an event's JSON with its text deltas removed, in a
// canonical encoding.
func strippedText(data string) (string, bool) {
	var doc any
	if err := json.Unmarshal([]byte(data), &doc); err != nil {
		return "", false
	}
	var strip func(v any, underDelta bool)
	strip = func(v any, underDelta bool) {
		switch t := v.(type) {
		case map[string]any:
			for k, c := range t {
				if _, isStr := c.(string); isStr && (underDelta || k == "delta") {
					switch k {
					case "content", "refusal", "transcript", "arguments", "text", "partial_json", "thinking", "delta", "reasoning_content":
						delete(t, k)
						continue
					}
				}
				strip(c, underDelta || k == "delta")
			}
		case []any:
			for _, c := range t {
				strip(c, underDelta)
			}
		}
	}
	strip(doc, false)
	b, _ := json.Marshal(doc)
	return string(b), true
}

func checkGolden(t reporter, label string, fx goldenFixture, got []sseEv) {
	t.Helper()
	for _, ev := range got {
		if ev.name == "error" || strings.Contains(ev.data, `"stream_aborted"`) {
			t.Errorf("%s: the gateway ended the stream with an error event: %s", label, clip(ev.data))
			return
		}
	}
	want := analyzeAll(t, label, "fixture", fx.shape, fx.want)
	sent := analyzeAll(t, label, "upstream", fx.shape, fx.sent)
	out := analyzeAll(t, label, "gateway", fx.shape, got)

	// 1. Non-text events: same order, same bytes (sequence_number aside).
	// A gateway event that is an upstream text event with its text held
	// back (the rest of it, such as a role or audio data, cannot wait) is
	// not a non-text event of the stream.
	derived := map[string]bool{}
	for i, f := range want.facts {
		if len(f.deltas) > 0 {
			if c, ok := strippedText(want.evs[i].data); ok {
				derived[c] = true
			}
		}
	}
	nonText := func(a analyzed) (idx []int, norm []string) {
		for i, f := range a.facts {
			if len(f.deltas) == 0 {
				if a.who == "gateway" {
					if c, ok := strippedText(a.evs[i].data); ok && derived[c] {
						continue
					}
				}
				idx = append(idx, i)
				norm = append(norm, a.evs[i].name+"\n"+seqNumber.ReplaceAllString(a.evs[i].data, `"sequence_number":#`))
			}
		}
		return idx, norm
	}
	wi, wn := nonText(want)
	gi, gn := nonText(out)
	if len(wn) != len(gn) {
		t.Errorf("%s: check 1 (non-text events): the gateway sent %d non-text events, the fixture has %d (names: got %s, want %s)",
			label, len(gn), len(wn), eventNames(out, gi), eventNames(want, wi))
	}
	reencoded, changed, firstBytes, firstContent := 0, 0, "", ""
	for k := 0; k < len(wn) && k < len(gn); k++ {
		if wn[k] == gn[k] {
			continue
		}
		where := fmt.Sprintf("non-text event %d (fixture event %d %s, gateway event %d %s)", k, wi[k], want.evs[wi[k]].name, gi[k], out.evs[gi[k]].name)
		if sameJSON(want.evs[wi[k]], out.evs[gi[k]]) {
			reencoded++
			if firstBytes == "" {
				firstBytes = where + " " + firstDiff(wn[k], gn[k])
			}
			continue
		}
		changed++
		if firstContent == "" {
			firstContent = where + " " + firstDiff(wn[k], gn[k])
		}
	}
	if changed > 0 {
		t.Errorf("%s: check 1 (non-text events): %d of %d differ in content; the first: %s", label, changed, len(wn), firstContent)
	}
	if reencoded > 0 {
		t.Errorf("%s: check 1 (non-text events): %d of %d carry the same JSON in other bytes (re-encoded); the first: %s", label, reencoded, len(wn), firstBytes)
	}
	if first := firstSeq(want); first >= 0 {
		prev := int64(-1)
		for i, f := range out.facts {
			switch {
			case f.seq < 0:
				t.Errorf("%s: check 1 (sequence_number): gateway event %d (%s) has no sequence_number", label, i, out.evs[i].name)
			case prev < 0 && f.seq != first:
				t.Errorf("%s: check 1 (sequence_number): the first event has %d, the fixture's first has %d", label, f.seq, first)
			case prev >= 0 && f.seq <= prev:
				t.Errorf("%s: check 1 (sequence_number): gateway event %d (%s) has %d after %d", label, i, out.evs[i].name, f.seq, prev)
			}
			if f.seq >= 0 {
				prev = f.seq
			}
		}
	}

	// 2. Per track: the text and the identifiers.
	wt, wa := tracks(want)
	gt, ga := tracks(out)
	for _, tr := range sortedKeys(wt, gt) {
		w, okW := wt[tr]
		g, okG := gt[tr]
		switch {
		case !okG:
			t.Errorf("%s: check 2 (track text): track %q is missing from the gateway's stream; want %s", label, tr, clipQ(w))
		case !okW:
			t.Errorf("%s: check 2 (track text): the gateway invented track %q with %s", label, tr, clipQ(g))
		case w != g:
			t.Errorf("%s: check 2 (track text): track %q: got %s, want %s", label, tr, clipQ(g), clipQ(w))
		}
	}
	for _, tr := range sortedKeys(wa, ga) {
		if w, g := strings.Join(wa[tr], ", "), strings.Join(ga[tr], ", "); w != g {
			t.Errorf("%s: check 2 (track identifiers): track %q: got [%s], want [%s]", label, tr, g, w)
		}
	}

	// 3. No invented empty deltas; opaque values unchanged.
	se, ge := emptyDeltas(sent), emptyDeltas(out)
	for _, tr := range sortedKeys(se, ge) {
		if ge[tr] > se[tr] {
			t.Errorf("%s: check 3 (empty deltas): track %q: the gateway sent %d events with an empty text delta, the upstream %d",
				label, tr, ge[tr], se[tr])
		}
	}
	wo, goq := opaqueAll(want), opaqueAll(out)
	for k := 0; k < len(wo) || k < len(goq); k++ {
		switch {
		case k >= len(goq):
			t.Errorf("%s: check 3 (opaque values): missing from the gateway's stream: %s", label, clip(wo[k]))
		case k >= len(wo):
			t.Errorf("%s: check 3 (opaque values): the gateway sent an extra opaque value: %s", label, clip(goq[k]))
		case wo[k] != goq[k]:
			t.Errorf("%s: check 3 (opaque values): opaque value %d changed: %s", label, k, firstDiff(wo[k], goq[k]))
		}
	}

	// 4. The terminal event: last, once.
	terminals := 0
	for _, f := range out.facts {
		if f.terminal {
			terminals++
		}
	}
	if terminals != 1 || len(out.facts) == 0 || !out.facts[len(out.facts)-1].terminal {
		last := "(no events)"
		if len(out.evs) > 0 {
			last = out.evs[len(out.evs)-1].name + " " + clip(out.evs[len(out.evs)-1].data)
		}
		t.Errorf("%s: check 4 (terminal event): %d terminal events; the last event is %s", label, terminals, last)
	}
}

// eventNames lists the names (or the first bytes of the data, for
// unnamed events) of the events at idx.
func eventNames(a analyzed, idx []int) string {
	var names []string
	for _, i := range idx {
		n := a.evs[i].name
		if n == "" {
			n = clipN(a.evs[i].data, 12)
		}
		names = append(names, n)
	}
	return "[" + strings.Join(names, " ") + "]"
}

// sameJSON reports whether two events carry the same name and the same
// JSON value (numbers compared as written), sequence_number aside.
func sameJSON(a, b sseEv) bool {
	if a.name != b.name {
		return false
	}
	da, errA := decodeEvent(seqNumber.ReplaceAllString(a.data, `"sequence_number":0`))
	db, errB := decodeEvent(seqNumber.ReplaceAllString(b.data, `"sequence_number":0`))
	if errA != nil || errB != nil {
		return a.data == b.data
	}
	return reflect.DeepEqual(da, db)
}

func firstSeq(a analyzed) int64 {
	for _, f := range a.facts {
		if f.seq >= 0 {
			return f.seq
		}
	}
	return -1
}

// tracks concatenates each track's delta text and collects its
// identifiers (deduplicated, in first-seen order).
func tracks(a analyzed) (map[string]string, map[string][]string) {
	text := map[string]string{}
	attrs := map[string][]string{}
	seen := map[string]bool{}
	for _, f := range a.facts {
		for _, d := range f.deltas {
			text[d.track] += d.text
		}
		for _, at := range f.attrs {
			if seen[at] {
				continue
			}
			seen[at] = true
			tr, kv, _ := strings.Cut(at, ": ")
			attrs[tr] = append(attrs[tr], kv)
		}
	}
	return text, attrs
}

func emptyDeltas(a analyzed) map[string]int {
	n := map[string]int{}
	for _, f := range a.facts {
		for _, d := range f.deltas {
			if d.text == "" {
				n[d.track]++
			}
		}
	}
	return n
}

func opaqueAll(a analyzed) []string {
	var out []string
	for _, f := range a.facts {
		out = append(out, f.opaque...)
	}
	return out
}

func sortedKeys[V any](ms ...map[string]V) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// firstDiff describes where two texts first differ, with context.
func firstDiff(want, got string) string {
	i := 0
	for i < len(want) && i < len(got) && want[i] == got[i] {
		i++
	}
	from := max(0, i-40)
	return fmt.Sprintf("at byte %d: want …%s… got …%s… (want %d bytes, got %d)",
		i, strconv.Quote(want[from:min(len(want), i+60)]), strconv.Quote(got[from:min(len(got), i+60)]), len(want), len(got))
}

func clip(s string) string { return clipN(s, 300) }

func clipN(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

func clipQ(s string) string { return strconv.Quote(clip(s)) }
