package auditindex

import (
	"context"
	"database/sql"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Filter selects entries. Every set field must match exactly; the zero
// value selects every entry.
type Filter struct {
	// Since and Until bound the entry time: Since ≤ time < Until. Zero:
	// unbounded.
	Since, Until time.Time
	Principal    string
	Tenant       string
	Model        string
	Decision     string
	Kind         string
	// Error is the gateway's error code (an aborted entry's reason).
	Error string
	// Action is an admin entry's act (apikey.create, config.reload …).
	Action string
	// Status is the HTTP status answered; 0 matches any.
	Status int
}

// Page is one page of entries, newest first. Next, when set, is the
// before to ask for the following page; nil when there is none.
type Page struct {
	Entries []Entry `json:"entries"`
	Next    *int64  `json:"next"`
}

// maxWindow bounds the index range one query of Entries reads, so that
// a search stops close to its time budget.
const maxWindow = 1 << 16

// MaxLimit bounds the entries of one page.
const MaxLimit = 500

// Entries returns up to limit entries matching f with an index below
// before (before < 0: from the newest), newest first.
//
// It reads the index newest first in windows of indexes that grow four
// times each round up to 65536, each an index range scan on the filter's (column,
// idx) index; a time window is first narrowed to the indexes of the
// hours it covers. When Config.Budget has passed before the page is
// full, it returns what it found with Next at the window it reached, so
// a search that matches almost nothing still answers in bounded time and
// can be continued.
func (x *Index) Entries(ctx context.Context, f Filter, before int64, limit int) (Page, error) {
	if limit <= 0 || limit > MaxLimit {
		limit = 50
	}
	deadline := time.Now().Add(x.cfg.Budget)
	next, err := x.Next(ctx)
	if err != nil {
		return Page{}, err
	}
	hi := next
	if before >= 0 && before < hi {
		hi = before
	}
	lo := int64(0)
	if !f.Since.IsZero() || !f.Until.IsZero() {
		tlo, thi, ok, err := x.timeRange(ctx, f.Since, f.Until)
		if err != nil {
			return Page{}, err
		}
		if !ok {
			return Page{Entries: []Entry{}}, nil
		}
		lo, hi = max(lo, tlo), min(hi, thi+1)
	}
	where, args := f.where()
	page := Page{Entries: []Entry{}}
	window := int64(4096)
	for hi > lo {
		wlo := max(lo, hi-window)
		need := limit - len(page.Entries)
		q := "SELECT " + indexCols + " FROM audit_index WHERE idx >= $1 AND idx < $2" + where +
			" ORDER BY idx DESC LIMIT " + strconv.Itoa(need+1)
		got, err := x.query(ctx, q, append([]any{wlo, hi}, args...)...)
		if err != nil {
			return Page{}, err
		}
		if len(got) > need {
			page.Entries = append(page.Entries, got[:need]...)
			n := page.Entries[limit-1].Index
			page.Next = &n
			return page, nil
		}
		page.Entries = append(page.Entries, got...)
		if len(page.Entries) == limit {
			if wlo > lo {
				n := page.Entries[limit-1].Index
				page.Next = &n
			}
			return page, nil
		}
		hi = wlo
		window = min(window*4, maxWindow)
		if hi > lo && time.Now().After(deadline) {
			page.Next = &hi
			return page, nil
		}
	}
	return page, nil
}

// where renders f's equality filters as " AND col = $3 …" (parameters
// from $3: $1 and $2 are the index range).
func (f *Filter) where() (string, []any) {
	var b strings.Builder
	var args []any
	add := func(col string, v any) {
		args = append(args, v)
		b.WriteString(" AND " + col + " = $" + strconv.Itoa(len(args)+2))
	}
	for _, c := range []struct{ col, v string }{
		{"principal", f.Principal}, {"tenant", f.Tenant}, {"model", f.Model}, {"decision", f.Decision},
		{"kind", f.Kind}, {"error", f.Error}, {"action", f.Action},
	} {
		if c.v != "" {
			add(c.col, c.v)
		}
	}
	if f.Status != 0 {
		add("status", f.Status)
	}
	if !f.Since.IsZero() {
		args = append(args, f.Since.UnixMicro())
		b.WriteString(" AND time_us >= $" + strconv.Itoa(len(args)+2))
	}
	if !f.Until.IsZero() {
		args = append(args, f.Until.UnixMicro())
		b.WriteString(" AND time_us < $" + strconv.Itoa(len(args)+2))
	}
	return b.String(), args
}

// timeRange returns the smallest and largest index of the entries of
// the hours that [since, until) touches: every entry of the window lies
// between them. ok is false when no indexed entry falls in those hours.
func (x *Index) timeRange(ctx context.Context, since, until time.Time) (lo, hi int64, ok bool, err error) {
	from, to := int64(-1<<62), int64(1<<62)
	if !since.IsZero() {
		from = hourOf(since.UnixMicro())
	}
	if !until.IsZero() {
		to = until.Unix() + 1 // hours starting before until (to the second, inclusive)
	}
	var l, h sql.NullInt64
	err = x.db.Read().QueryRowContext(ctx, "SELECT MIN(min_idx), MAX(max_idx) FROM audit_index_hours WHERE hour >= $1 AND hour < $2", from, to).Scan(&l, &h)
	if err != nil {
		return 0, 0, false, wrap("read hours", err)
	}
	if !l.Valid {
		return 0, 0, false, nil
	}
	return l.Int64, h.Int64, true, nil
}

// query runs a SELECT of indexCols and scans the rows.
func (x *Index) query(ctx context.Context, q string, args ...any) ([]Entry, error) {
	rows, err := x.db.Read().QueryContext(ctx, q, args...)
	if err != nil {
		return nil, wrap("read entries", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var findings string
		if err := rows.Scan(&e.Index, &e.timeUS, &e.Kind, &e.Principal, &e.Tenant, &e.Model, &e.Upstream, &e.Zone, &e.Endpoint,
			&e.Decision, &e.Status, &e.Error, &findings, &e.Restored, &e.Leaks, &e.RequestID, &e.Server, &e.Tool,
			&e.Action, &e.Target, &e.Intent); err != nil {
			return nil, wrap("read entries", err)
		}
		e.Time = time.UnixMicro(e.timeUS).UTC().Format(timeLayout)
		if json.Unmarshal([]byte(findings), &e.Findings) != nil || e.Findings == nil {
			e.Findings = map[string]int{}
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap("read entries", err)
	}
	return out, nil
}
