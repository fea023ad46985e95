package console

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/auditindex"
)

// view records that the session's user read page of audit data with
// the named query parameters set (names only, never their values), and
// reports whether it could: a page view that cannot be recorded is not
// answered (503), so every view of audit data is in the log.
func (c *Console) view(w http.ResponseWriter, r *http.Request, page, target string) bool {
	s := sessionOf(r)
	var names []string
	for k := range r.URL.Query() {
		if len(k) <= 32 {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	_, err := c.d.Log.RecordAdmin(r.Context(), audit.AdminEvent{Action: "console.view", Actor: s.Principal, Target: target, Tenant: s.Tenant,
		Details: map[string]string{"page": page, "filters": strings.Join(names, ",")}})
	if err != nil {
		c.fail(w, r, "recording the page view in the audit log", err)
		return false
	}
	return true
}

// badParam answers 400 naming the query parameter (never its value).
func badParam(w http.ResponseWriter, name, want string) {
	writeError(w, http.StatusBadRequest, "bad_request", "query parameter "+name+": "+want)
}

// params reads query parameters, remembering the first that was bad.
type params struct {
	q         url.Values
	bad, want string
}

func (p *params) fail(name, want string) {
	if p.bad == "" {
		p.bad, p.want = name, want
	}
}

func (p *params) str(name string) string {
	v := p.q.Get(name)
	if len(v) > 256 || !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n") {
		p.fail(name, "at most 256 characters of text")
		return ""
	}
	return v
}

func (p *params) time(name string, def time.Time) time.Time {
	v := p.q.Get(name)
	if v == "" {
		return def
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		p.fail(name, "want an RFC 3339 time like 2026-01-02T15:04:05Z")
		return def
	}
	return t
}

func (p *params) int(name string, def, lo, hi int64) int64 {
	v := p.q.Get(name)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		p.fail(name, "want a whole number from "+strconv.FormatInt(lo, 10)+" to "+strconv.FormatInt(hi, 10))
		return def
	}
	return n
}

func (p *params) ok(w http.ResponseWriter) bool {
	if p.bad != "" {
		badParam(w, p.bad, p.want)
		return false
	}
	return true
}

// entries lists indexed entries, newest first.
func (c *Console) entries(w http.ResponseWriter, r *http.Request) {
	p := &params{q: r.URL.Query()}
	f := auditindex.Filter{
		Since: p.time("since", time.Time{}), Until: p.time("until", time.Time{}),
		Principal: p.str("principal"), Tenant: p.str("tenant"), Model: p.str("model"), Decision: p.str("decision"),
		Kind: p.str("kind"), Error: p.str("error"), Action: p.str("action"),
		Status: int(p.int("status", 0, 0, 999)),
	}
	before := p.int("before", -1, 0, 1<<62)
	limit := p.int("limit", 50, 1, auditindex.MaxLimit)
	if !p.ok(w) || !c.view(w, r, "entries", "entries") {
		return
	}
	page, err := c.d.Index.Entries(r.Context(), f, before, int(limit))
	if err != nil {
		c.fail(w, r, "searching the audit index", err)
		return
	}
	writeJSON(w, http.StatusOK, page)
}

// proofJSON is an inclusion proof as the browser checks it.
type proofJSON struct {
	Index    int64    `json:"index"`
	TreeSize int64    `json:"tree_size"`
	Hashes   []string `json:"hashes"`
}

// entry answers one entry with its inclusion proof against the newest
// signed checkpoint.
func (c *Console) entry(w http.ResponseWriter, r *http.Request) {
	idx, err := strconv.ParseInt(r.PathValue("idx"), 10, 64)
	if err != nil || idx < 0 {
		writeError(w, http.StatusBadRequest, "bad_request", "the entry index is a whole number")
		return
	}
	if !c.view(w, r, "entry", "entry:"+strconv.FormatInt(idx, 10)) {
		return
	}
	ctx := r.Context()
	cp, err := c.d.Log.LatestCheckpoint(ctx)
	if errors.Is(err, audit.ErrNoCheckpoint) {
		writeError(w, http.StatusNotFound, "not_signed_yet", "no checkpoint is signed yet; retry in a second")
		return
	}
	if err != nil {
		c.fail(w, r, "reading the checkpoint", err)
		return
	}
	if idx >= cp.Size {
		size, err := audit.Size(ctx, c.d.Store)
		if err != nil {
			c.fail(w, r, "reading the log", err)
			return
		}
		if idx >= size {
			writeError(w, http.StatusNotFound, "not_found", "the log has no entry at that index")
			return
		}
		writeError(w, http.StatusNotFound, "not_signed_yet", "the entry is not covered by a signed checkpoint yet; retry in a second")
		return
	}
	pr, err := audit.Prove(ctx, c.d.Store, idx, cp)
	if err != nil {
		c.fail(w, r, "proving the entry", err)
		return
	}
	out := struct {
		Entry       json.RawMessage `json:"entry"`
		EntryB64    string          `json:"entry_b64"`
		LeafHash    string          `json:"leaf_hash"`
		Proof       proofJSON       `json:"proof"`
		Checkpoint  string          `json:"checkpoint"`
		VerifierKey string          `json:"verifier_key"`
	}{
		Entry: pr.Entry, EntryB64: base64.StdEncoding.EncodeToString(pr.Entry), LeafHash: base64.StdEncoding.EncodeToString(pr.LeafHash),
		Proof:      proofJSON{Index: pr.Index, TreeSize: pr.TreeSize, Hashes: b64s(pr.Hashes)},
		Checkpoint: string(cp.Note), VerifierKey: c.d.Log.VerifierKey(),
	}
	writeJSON(w, http.StatusOK, out)
}

func b64s(hs [][]byte) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = base64.StdEncoding.EncodeToString(h)
	}
	return out
}

// windowJSON is the window an overview or flows answer covers, rounded
// out to whole hours.
type windowJSON struct {
	Since string `json:"since"`
	Until string `json:"until"`
	Step  string `json:"step"`
}

// window reads since, until (default: the last 24 hours) and step
// (default 1h, whole hours).
func (c *Console) window(w http.ResponseWriter, r *http.Request, p *params) (auditindex.Window, windowJSON, bool) {
	until := p.time("until", c.d.Now())
	since := p.time("since", until.Add(-24*time.Hour))
	step := time.Hour
	if s := p.q.Get("step"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			p.fail("step", "want a whole number of hours like 1h or 24h")
		}
		step = d
	}
	if !p.ok(w) {
		return auditindex.Window{}, windowJSON{}, false
	}
	win, err := auditindex.NewWindow(since, until, step)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad_request", "since must be before until, step a whole number of hours, and the window at most 5000 steps")
		return auditindex.Window{}, windowJSON{}, false
	}
	return win, windowJSON{
		Since: time.Unix(win.From, 0).UTC().Format(time.RFC3339), Until: time.Unix(win.To, 0).UTC().Format(time.RFC3339),
		Step: strconv.FormatInt(win.Step/3600, 10) + "h",
	}, true
}

// overview answers the rollups of a window.
func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	p := &params{q: r.URL.Query()}
	win, wj, ok := c.window(w, r, p)
	if !ok || !c.view(w, r, "overview", "overview") {
		return
	}
	ctx := r.Context()
	o, err := c.d.Index.Overview(ctx, win)
	if err != nil {
		c.fail(w, r, "reading the audit index", err)
		return
	}
	size, err := audit.Size(ctx, c.d.Store)
	if err != nil {
		c.fail(w, r, "reading the log", err)
		return
	}
	var cpSize int64
	if cp, err := c.d.Log.LatestCheckpoint(ctx); err == nil {
		cpSize = cp.Size
	} else if !errors.Is(err, audit.ErrNoCheckpoint) {
		c.fail(w, r, "reading the checkpoint", err)
		return
	}
	indexed, err := c.d.Index.Next(ctx)
	if err != nil {
		c.fail(w, r, "reading the audit index", err)
		return
	}
	writeJSON(w, http.StatusOK, struct {
		Window windowJSON `json:"window"`
		*auditindex.Overview
		Log struct {
			Size           int64 `json:"size"`
			CheckpointSize int64 `json:"checkpoint_size"`
			Indexed        int64 `json:"indexed"`
		} `json:"log"`
	}{Window: wj, Overview: o, Log: struct {
		Size           int64 `json:"size"`
		CheckpointSize int64 `json:"checkpoint_size"`
		Indexed        int64 `json:"indexed"`
	}{size, cpSize, indexed}})
}

// flows answers the data flows of a window.
func (c *Console) flows(w http.ResponseWriter, r *http.Request) {
	p := &params{q: r.URL.Query()}
	win, wj, ok := c.window(w, r, p)
	if !ok || !c.view(w, r, "flows", "flows") {
		return
	}
	links, err := c.d.Index.Flows(r.Context(), win)
	if err != nil {
		c.fail(w, r, "reading the audit index", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"window": wj, "links": links})
}

// checkpointJSON is a signed checkpoint and its tree size.
type checkpointJSON struct {
	Size       int64  `json:"size"`
	Checkpoint string `json:"checkpoint"`
}

// consistency answers the consistency proof between two stored
// checkpoints: from (default the oldest of a non-empty tree) and to
// (default the newest).
func (c *Console) consistency(w http.ResponseWriter, r *http.Request) {
	p := &params{q: r.URL.Query()}
	from := p.int("from", -1, 1, 1<<62)
	to := p.int("to", -1, 1, 1<<62)
	if !p.ok(w) {
		return
	}
	if from >= 0 && to >= 0 && from > to {
		badParam(w, "from", "must not be larger than to")
		return
	}
	if !c.view(w, r, "consistency", "consistency") {
		return
	}
	ctx := r.Context()
	vkey := c.d.Log.VerifierKey()
	read := func(size int64, def func() (*audit.Checkpoint, error)) (*audit.Checkpoint, bool) {
		var cp *audit.Checkpoint
		var err error
		if size < 0 {
			cp, err = def()
		} else {
			cp, err = audit.CheckpointAt(ctx, c.d.Store, size, vkey)
		}
		if errors.Is(err, audit.ErrNoCheckpoint) {
			writeError(w, http.StatusNotFound, "not_found", "no checkpoint is stored at that size")
			return nil, false
		}
		if err != nil {
			c.fail(w, r, "reading a checkpoint", err)
			return nil, false
		}
		return cp, true
	}
	toCP, ok := read(to, func() (*audit.Checkpoint, error) { return c.d.Log.LatestCheckpoint(ctx) })
	if !ok {
		return
	}
	fromCP, ok := read(from, func() (*audit.Checkpoint, error) { return audit.FirstCheckpoint(ctx, c.d.Store, vkey) })
	if !ok {
		return
	}
	if fromCP.Size > toCP.Size || fromCP.Size == 0 {
		badParam(w, "from", "must name a non-empty checkpoint no larger than to")
		return
	}
	proof, err := audit.ProveConsistency(ctx, c.d.Store, fromCP, toCP)
	if err != nil {
		c.fail(w, r, "proving consistency", err)
		return
	}
	hs := make([][]byte, len(proof))
	for i := range proof {
		hs[i] = proof[i][:]
	}
	writeJSON(w, http.StatusOK, struct {
		From        checkpointJSON `json:"from"`
		To          checkpointJSON `json:"to"`
		Hashes      []string       `json:"hashes"`
		VerifierKey string         `json:"verifier_key"`
	}{checkpointJSON{fromCP.Size, string(fromCP.Note)}, checkpointJSON{toCP.Size, string(toCP.Note)}, b64s(hs), vkey})
}

// checkpoints lists the newest stored checkpoints.
func (c *Console) checkpoints(w http.ResponseWriter, r *http.Request) {
	p := &params{q: r.URL.Query()}
	limit := p.int("limit", 20, 1, 1000)
	if !p.ok(w) {
		return
	}
	list, err := audit.ListCheckpoints(r.Context(), c.d.Store, int(limit))
	if err != nil {
		c.fail(w, r, "reading the checkpoints", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"checkpoints": list})
}
