package report

import (
	"encoding/json"
	"fmt"
	"time"
)

// entryTimeFormat is the audit log's time format (RFC 3339, UTC, six
// fractional digits): entry times compare as text.
const entryTimeFormat = "2006-01-02T15:04:05.000000Z"

// entry is every field of every kind of audit entry a report reads
// (docs/AUDIT.md); the commitments are not read.
type entry struct {
	V         int            `json:"v"`
	Kind      string         `json:"kind"`
	Time      string         `json:"time"`
	Intent    int64          `json:"intent"`
	Principal string         `json:"principal"`
	Tenant    string         `json:"tenant"`
	Endpoint  string         `json:"endpoint"`
	Model     string         `json:"model"`
	Upstream  string         `json:"upstream"`
	Zone      string         `json:"zone"`
	Decision  string         `json:"decision"`
	Policy    string         `json:"policy"`
	Findings  map[string]int `json:"findings"`
	Operators map[string]int `json:"operators"`
	Status    int            `json:"status"`
	Error     string         `json:"error"`
	Restored  int            `json:"restored"`
	Leaks     int            `json:"leaks"`
	Reason    string         `json:"reason"`
	Action    string         `json:"action"`
	MCP       *struct {
		Server         string         `json:"server"`
		Tool           string         `json:"tool"`
		ToolHash       string         `json:"tool_hash"`
		ResultFindings map[string]int `json:"result_findings"`
	} `json:"mcp"`
}

// Evidence is what [Collect] gathered from the log: the counts every
// report is built from. Build a report with [Evidence.Report].
type Evidence struct {
	// Checkpoint is the checkpoint the evidence was read up to.
	Checkpoint CheckpointRef
	// Log counts the entries the checkpoint covers.
	Log LogSummary
	// ConfigDigest identifies what the report read from the config.
	ConfigDigest string

	opt   *Options
	cat   categorizer
	home  home
	natID map[string]bool

	// period: the entries whose time falls in [Since, Until).
	inPeriod               int64
	periodFirst, periodEnd string

	purposes []*purposeUse // by purpose index; the last is the undeclared purpose
	flows    map[flowKey]*flowCount
	tools    map[toolKey]int64
	results  map[string]map[string]int64 // MCP server -> finding type -> count in tool results
	leaks    map[leakKey]*leakCount
	policies map[string]*policyUse
	ops      map[string]int64
	refusals map[string]int64 // error code -> requests refused before any upstream call
	upErrors map[string]int64 // error code -> completions that ended in an error
	admin    map[string]int64
	aborted  map[string]int64
	unauth   int64
	models   map[string]*modelUse
	sentTo   map[string]*recipientUse
	undecl   map[whoKey]*undeclaredUse
}

// purposeUse is the traffic of one purpose.
type purposeUse struct {
	requests, sent, refused int64
	raw, deidentified       int64 // sent with decision allow and findings / with deidentify
	types                   map[string]*typeUse
	refusedCats             map[string]int64 // category -> refused requests with findings of it
	tenants, principals     map[string]int64
	recipients              map[string]int64
	refusals                map[string]int64
	leaks, restored         int64
}

type typeUse struct{ sent, refused int64 }

// flowKey is one path of data: who, what category, to which model and
// upstream in which zone.
type flowKey struct {
	purpose, tenant, principal, category, model, upstream, zone string
}

// flowCount counts the requests sent along a flow.
type flowCount struct {
	requests, findings int64
	raw, deidentified  int64
	types              map[string]int64 // the category's finding types
}

type toolKey struct{ server, tool, hash string }

type leakKey struct{ purpose, model, upstream string }

type leakCount struct{ responses, withLeaks, leaks, restored int64 }

type policyUse struct {
	requests    int64
	first, last string
}

type modelUse struct {
	requests  int64
	upstreams map[string]int64
	purposes  map[string]int64
}

type recipientUse struct {
	requests, special int64
	zone              string
	purposes          map[string]int64
}

type whoKey struct{ principal, tenant, model string }

type undeclaredUse struct{ sent, refused int64 }

// openIntent is what a completion needs of its intent.
type openIntent struct {
	inPeriod                 bool
	pidx                     int // index in Evidence.purposes
	purpose, model, upstream string
	server                   string
}

// collector turns entries into Evidence, one at a time.
type collector struct {
	ev *Evidence
	// bad is the first entry that is not JSON; reported only once the
	// log verifies (an edit that breaks the JSON is first a broken log).
	bad                   error
	since, until          string
	open                  map[int64]openIntent
	firstEntry, lastEntry string
}

func newCollector(opt *Options) *collector {
	ev := &Evidence{
		opt: opt, cat: categorizer(opt.Categories), home: newHome(opt.HomeRegion), natID: map[string]bool{},
		flows: map[flowKey]*flowCount{}, tools: map[toolKey]int64{}, results: map[string]map[string]int64{},
		leaks: map[leakKey]*leakCount{}, policies: map[string]*policyUse{}, ops: map[string]int64{},
		refusals: map[string]int64{}, upErrors: map[string]int64{}, admin: map[string]int64{}, aborted: map[string]int64{},
		models: map[string]*modelUse{}, sentTo: map[string]*recipientUse{}, undecl: map[whoKey]*undeclaredUse{},
	}
	for _, t := range opt.NationalIDs {
		ev.natID[t] = true
	}
	for range len(opt.Purposes) + 1 {
		ev.purposes = append(ev.purposes, &purposeUse{
			types: map[string]*typeUse{}, refusedCats: map[string]int64{}, tenants: map[string]int64{}, principals: map[string]int64{},
			recipients: map[string]int64{}, refusals: map[string]int64{},
		})
	}
	c := &collector{ev: ev, open: map[int64]openIntent{}}
	if !opt.Since.IsZero() {
		c.since = opt.Since.UTC().Format(entryTimeFormat)
	}
	if !opt.Until.IsZero() {
		c.until = opt.Until.UTC().Format(entryTimeFormat)
	}
	return c
}

// undeclaredName is the purpose of traffic no declared purpose matches.
const undeclaredName = "(undeclared purpose)"

func (c *collector) purposeName(i int) string {
	if i < 0 || i >= len(c.ev.opt.Purposes) {
		return undeclaredName
	}
	return c.ev.opt.Purposes[i].Name
}

func (c *collector) add(idx int64, raw []byte) {
	var e entry
	if err := json.Unmarshal(raw, &e); err != nil {
		if c.bad == nil {
			c.bad = fmt.Errorf("entry %d is signed by the log but is not a JSON audit entry", idx)
		}
		return
	}
	if c.firstEntry == "" {
		c.firstEntry = e.Time
	}
	c.lastEntry = e.Time
	in := (c.since == "" || e.Time >= c.since) && (c.until == "" || e.Time < c.until)
	if in && (e.Kind == "request" || e.Kind == "intent" || e.Kind == "admin") {
		c.ev.inPeriod++
		if c.ev.periodFirst == "" {
			c.ev.periodFirst = e.Time
		}
		c.ev.periodEnd = e.Time
	}
	switch e.Kind {
	case "request":
		if in {
			c.request(&e)
		}
	case "intent":
		c.open[idx] = c.intent(&e, in)
	case "completion", "aborted":
		oi, ok := c.open[e.Intent]
		delete(c.open, e.Intent)
		if ok && oi.inPeriod {
			if e.Kind == "completion" {
				c.completion(&e, oi)
			} else {
				c.ev.aborted[e.Reason]++
			}
		}
	case "admin":
		if in {
			c.ev.admin[e.Action]++
		}
	}
}

// modelOf is the model a request names, or mcp:<server> for a tool call.
func modelOf(e *entry) string {
	if e.MCP != nil && e.MCP.Server != "" {
		return mcpModel(e.MCP.Server)
	}
	return e.Model
}

func (c *collector) policy(e *entry) {
	if e.Policy == "" {
		return
	}
	p := c.ev.policies[e.Policy]
	if p == nil {
		p = &policyUse{first: e.Time}
		c.ev.policies[e.Policy] = p
	}
	p.requests++
	p.last = e.Time
}

// request takes a request refused before any upstream call.
func (c *collector) request(e *entry) {
	code := e.Error
	if code == "" {
		code = "refused"
	}
	c.ev.refusals[code]++
	if e.Principal == "unauthenticated" {
		c.ev.unauth++
		return
	}
	c.policy(e)
	model := modelOf(e)
	i := purposeOf(c.ev.opt.Purposes, e.Principal, e.Tenant, model)
	pu := c.ev.purposes[len(c.ev.purposes)-1]
	if i >= 0 {
		pu = c.ev.purposes[i]
	} else {
		c.undeclared(e, model).refused++
	}
	pu.requests++
	pu.refused++
	pu.refusals[code]++
	pu.tenants[e.Tenant]++
	pu.principals[e.Principal]++
	cats := map[string]bool{}
	for t, n := range e.Findings {
		tu := pu.types[t]
		if tu == nil {
			tu = &typeUse{}
			pu.types[t] = tu
		}
		tu.refused += int64(n)
		cats[c.ev.cat.of(t)] = true
	}
	if len(cats) == 0 {
		cats[None] = true
	}
	for cat := range cats {
		pu.refusedCats[cat]++
	}
}

func (c *collector) undeclared(e *entry, model string) *undeclaredUse {
	k := whoKey{e.Principal, e.Tenant, model}
	u := c.ev.undecl[k]
	if u == nil {
		u = &undeclaredUse{}
		c.ev.undecl[k] = u
	}
	return u
}

// intent takes a request that went to an upstream (or MCP server).
func (c *collector) intent(e *entry, in bool) openIntent {
	model := modelOf(e)
	i := purposeOf(c.ev.opt.Purposes, e.Principal, e.Tenant, model)
	name := c.purposeName(i)
	upstream := e.Upstream
	oi := openIntent{inPeriod: in, pidx: len(c.ev.purposes) - 1, purpose: name, model: model, upstream: upstream}
	if i >= 0 {
		oi.pidx = i
	}
	if e.MCP != nil && e.MCP.Server != "" {
		upstream = e.MCP.Server
		oi.upstream, oi.server = upstream, e.MCP.Server
	}
	if !in {
		return oi
	}
	c.policy(e)
	pu := c.ev.purposes[len(c.ev.purposes)-1]
	if i >= 0 {
		pu = c.ev.purposes[i]
	} else {
		c.undeclared(e, model).sent++
	}
	pu.requests++
	pu.sent++
	pu.tenants[e.Tenant]++
	pu.principals[e.Principal]++
	pu.recipients[upstream]++
	total := 0
	perCat := map[string]int64{}
	perType := map[string]map[string]int64{}
	for t, n := range e.Findings {
		tu := pu.types[t]
		if tu == nil {
			tu = &typeUse{}
			pu.types[t] = tu
		}
		tu.sent += int64(n)
		total += n
		cat := c.ev.cat.of(t)
		perCat[cat] += int64(n)
		if perType[cat] == nil {
			perType[cat] = map[string]int64{}
		}
		perType[cat][t] += int64(n)
	}
	raw := e.Decision == "allow" && total > 0
	deid := e.Decision == "deidentify"
	if raw {
		pu.raw++
	}
	if deid {
		pu.deidentified++
	}
	for op, n := range e.Operators {
		c.ev.ops[op] += int64(n)
	}
	if len(perCat) == 0 {
		perCat[None] = 0
	}
	for cat, n := range perCat {
		k := flowKey{purpose: name, tenant: e.Tenant, principal: e.Principal, category: cat, model: model, upstream: upstream, zone: e.Zone}
		f := c.ev.flows[k]
		if f == nil {
			f = &flowCount{types: map[string]int64{}}
			c.ev.flows[k] = f
		}
		f.requests++
		f.findings += n
		for t, tn := range perType[cat] {
			f.types[t] += tn
		}
		if raw {
			f.raw++
		}
		if deid {
			f.deidentified++
		}
	}
	mu := c.ev.models[model]
	if mu == nil {
		mu = &modelUse{upstreams: map[string]int64{}, purposes: map[string]int64{}}
		c.ev.models[model] = mu
	}
	mu.requests++
	mu.upstreams[upstream]++
	mu.purposes[name]++
	ru := c.ev.sentTo[upstream]
	if ru == nil {
		ru = &recipientUse{zone: e.Zone, purposes: map[string]int64{}}
		c.ev.sentTo[upstream] = ru
	}
	ru.requests++
	ru.purposes[name]++
	ru.special += perCat[Health]
	if e.MCP != nil && e.MCP.Server != "" {
		c.ev.tools[toolKey{e.MCP.Server, e.MCP.Tool, e.MCP.ToolHash}]++
	}
	return oi
}

// completion takes the end of a request whose intent is in the period.
func (c *collector) completion(e *entry, oi openIntent) {
	k := leakKey{oi.purpose, oi.model, oi.upstream}
	l := c.ev.leaks[k]
	if l == nil {
		l = &leakCount{}
		c.ev.leaks[k] = l
	}
	l.responses++
	l.leaks += int64(e.Leaks)
	l.restored += int64(e.Restored)
	if e.Leaks > 0 {
		l.withLeaks++
	}
	pu := c.ev.purposes[oi.pidx]
	pu.leaks += int64(e.Leaks)
	pu.restored += int64(e.Restored)
	if e.Error != "" {
		c.ev.upErrors[e.Error]++
	}
	if oi.server != "" && e.MCP != nil {
		m := c.ev.results[oi.server]
		if m == nil {
			m = map[string]int64{}
			c.ev.results[oi.server] = m
		}
		for t, n := range e.MCP.ResultFindings {
			m[t] += int64(n)
		}
	}
}

func (c *collector) finish() *Evidence { return c.ev }

// displayTime turns an entry time into RFC 3339 to the second.
func displayTime(s string) string {
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(time.RFC3339)
}
