package auditindex

import (
	"context"
	"errors"
	"sort"
	"time"
)

// Totals are counts over a window (see Rollups for what each counts).
type Totals struct {
	Requests int64 `json:"requests"`
	Refusals int64 `json:"refusals"`
	Findings int64 `json:"findings"`
	Leaks    int64 `json:"leaks"`
	Restores int64 `json:"restores"`
}

// Point is one step of an overview's series: T is the step's start in
// Unix seconds; Categories counts findings by category.
type Point struct {
	T int64 `json:"t"`
	Totals
	Categories map[string]int64 `json:"categories"`
}

// ModelCount is the traffic of one model in one zone.
type ModelCount struct {
	Model    string `json:"model"`
	Zone     string `json:"zone"`
	Requests int64  `json:"requests"`
	Findings int64  `json:"findings"`
}

// Overview sums the rollups of a window.
type Overview struct {
	Totals             Totals           `json:"totals"`
	Series             []Point          `json:"series"`
	RefusalsByReason   map[string]int64 `json:"refusals_by_reason"`
	FindingsByType     map[string]int64 `json:"findings_by_type"`
	FindingsByCategory map[string]int64 `json:"findings_by_category"`
	ByModel            []ModelCount     `json:"by_model"`
}

// MaxPoints bounds the steps of one overview.
const MaxPoints = 5000

// ErrWindow reports a window or step an overview cannot be made of.
var ErrWindow = errors.New("auditindex: the window must end after it starts, the step be a whole number of hours, and the window hold at most 5000 steps")

// Window is a time window at the rollups' resolution: From is the start
// of the hour of since, To the end of the hour of until's last instant,
// both Unix seconds, and Step a whole number of hours.
type Window struct {
	From, To int64
	Step     int64
}

// NewWindow rounds [since, until) out to whole hours and checks the step.
func NewWindow(since, until time.Time, step time.Duration) (Window, error) {
	if step <= 0 || step%time.Hour != 0 || !until.After(since) {
		return Window{}, ErrWindow
	}
	w := Window{From: hourOf(since.UnixMicro()), To: hourOf(until.Add(-time.Microsecond).UnixMicro()) + 3600, Step: int64(step / time.Second)}
	w.From -= w.From % w.Step
	if (w.To-w.From)/w.Step > MaxPoints {
		return Window{}, ErrWindow
	}
	return w, nil
}

// Overview sums the rollups of the hours of w.
func (x *Index) Overview(ctx context.Context, w Window) (*Overview, error) {
	o := &Overview{RefusalsByReason: map[string]int64{}, FindingsByType: map[string]int64{},
		FindingsByCategory: map[string]int64{}, ByModel: []ModelCount{}}
	n := (w.To - w.From + w.Step - 1) / w.Step
	o.Series = make([]Point, n)
	for i := range o.Series {
		o.Series[i] = Point{T: w.From + int64(i)*w.Step, Categories: map[string]int64{}}
	}
	at := func(hour int64) *Point { return &o.Series[(hour-w.From)/w.Step] }

	rows, err := x.db.Read().QueryContext(ctx, `SELECT hour, model, zone, requests, refusals, findings, leaks, restores
		FROM audit_rollup_requests WHERE hour >= $1 AND hour < $2`, w.From, w.To)
	if err != nil {
		return nil, wrap("read rollups", err)
	}
	models := map[[2]string]*ModelCount{}
	for rows.Next() {
		var hour int64
		var model, zone string
		var t Totals
		if err := rows.Scan(&hour, &model, &zone, &t.Requests, &t.Refusals, &t.Findings, &t.Leaks, &t.Restores); err != nil {
			rows.Close()
			return nil, wrap("read rollups", err)
		}
		p := at(hour)
		p.add(t)
		o.Totals.add(t)
		if t.Requests == 0 && t.Findings == 0 {
			continue // leaks and restores of completions only
		}
		m := models[[2]string{model, zone}]
		if m == nil {
			m = &ModelCount{Model: model, Zone: zone}
			models[[2]string{model, zone}] = m
		}
		m.Requests += t.Requests
		m.Findings += t.Findings
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("read rollups", err)
	}
	for _, m := range models {
		o.ByModel = append(o.ByModel, *m)
	}
	sort.Slice(o.ByModel, func(i, j int) bool {
		a, b := o.ByModel[i], o.ByModel[j]
		if a.Requests != b.Requests {
			return a.Requests > b.Requests
		}
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		return a.Zone < b.Zone
	})

	rows, err = x.db.Read().QueryContext(ctx, `SELECT hour, type, category, SUM(count) FROM audit_rollup_findings
		WHERE hour >= $1 AND hour < $2 GROUP BY hour, type, category`, w.From, w.To)
	if err != nil {
		return nil, wrap("read rollups", err)
	}
	for rows.Next() {
		var hour, count int64
		var typ, cat string
		if err := rows.Scan(&hour, &typ, &cat, &count); err != nil {
			rows.Close()
			return nil, wrap("read rollups", err)
		}
		at(hour).Categories[cat] += count
		o.FindingsByType[typ] += count
		o.FindingsByCategory[cat] += count
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, wrap("read rollups", err)
	}

	rows, err = x.db.Read().QueryContext(ctx, `SELECT reason, SUM(count) FROM audit_rollup_refusals
		WHERE hour >= $1 AND hour < $2 GROUP BY reason`, w.From, w.To)
	if err != nil {
		return nil, wrap("read rollups", err)
	}
	defer rows.Close()
	for rows.Next() {
		var reason string
		var count int64
		if err := rows.Scan(&reason, &count); err != nil {
			return nil, wrap("read rollups", err)
		}
		o.RefusalsByReason[reason] = count
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read rollups", err)
	}
	return o, nil
}

func (t *Totals) add(u Totals) {
	t.Requests += u.Requests
	t.Refusals += u.Refusals
	t.Findings += u.Findings
	t.Leaks += u.Leaks
	t.Restores += u.Restores
}

func (p *Point) add(u Totals) { p.Totals.add(u) }

// Link is one data flow over a window: requests of principal (of
// tenant) sent upstream to model in zone that carried findings of
// category, and how many findings of it they carried.
type Link struct {
	Tenant    string `json:"tenant"`
	Principal string `json:"principal"`
	Category  string `json:"category"`
	Model     string `json:"model"`
	Zone      string `json:"zone"`
	// Count is the number of requests.
	Count    int64 `json:"count"`
	Findings int64 `json:"findings"`
}

// Flows sums the data flows of the hours of w (its step is ignored),
// largest first: whole UTC days from the daily rollup, the hours at
// either end from the hourly one.
func (x *Index) Flows(ctx context.Context, w Window) ([]Link, error) {
	firstDay := dayOf(w.From)
	if firstDay < w.From {
		firstDay += 86400
	}
	endDay := dayOf(w.To)
	sums := map[Link]*Link{}
	add := func(q string, args ...any) error {
		rows, err := x.db.Read().QueryContext(ctx, q, args...)
		if err != nil {
			return wrap("read flows", err)
		}
		defer rows.Close()
		for rows.Next() {
			var l Link
			var reqs, findings int64
			if err := rows.Scan(&l.Tenant, &l.Principal, &l.Category, &l.Model, &l.Zone, &reqs, &findings); err != nil {
				return wrap("read flows", err)
			}
			s := sums[l]
			if s == nil {
				s = &Link{Tenant: l.Tenant, Principal: l.Principal, Category: l.Category, Model: l.Model, Zone: l.Zone}
				sums[l] = s
			}
			s.Count += reqs
			s.Findings += findings
		}
		if err := rows.Err(); err != nil {
			return wrap("read flows", err)
		}
		return nil
	}
	const cols = "tenant, principal, category, model, zone, SUM(requests), SUM(findings)"
	const group = " GROUP BY tenant, principal, category, model, zone"
	if firstDay < endDay {
		if err := add("SELECT "+cols+" FROM audit_rollup_flows_daily WHERE day >= $1 AND day < $2"+group, firstDay, endDay); err != nil {
			return nil, err
		}
		if err := add("SELECT "+cols+" FROM audit_rollup_flows WHERE (hour >= $1 AND hour < $2) OR (hour >= $3 AND hour < $4)"+group,
			w.From, firstDay, endDay, w.To); err != nil {
			return nil, err
		}
	} else if err := add("SELECT "+cols+" FROM audit_rollup_flows WHERE hour >= $1 AND hour < $2"+group, w.From, w.To); err != nil {
		return nil, err
	}
	out := make([]Link, 0, len(sums))
	for _, l := range sums {
		out = append(out, *l)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Count != out[j].Count {
			return out[i].Count > out[j].Count
		}
		a, b := out[i], out[j]
		for _, p := range [][2]string{{a.Tenant, b.Tenant}, {a.Principal, b.Principal}, {a.Category, b.Category}, {a.Model, b.Model}} {
			if p[0] != p[1] {
				return p[0] < p[1]
			}
		}
		return a.Zone < b.Zone
	})
	return out, nil
}
