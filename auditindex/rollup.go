package auditindex

import (
	"context"
	"database/sql"
	"strconv"

	"github.com/wardenhq/warden/store"
)

// Rollups
//
// Each batch adds its entries to hourly counters (by entry time):
//
//	audit_index_hours      entries, smallest and largest index per hour
//	audit_rollup_requests  per hour × model × zone: requests (request and
//	                       intent entries), refusals (request entries
//	                       with an error or a status ≥ 400), findings
//	                       (request, intent and MCP result findings),
//	                       leaks and restores (completions, under their
//	                       intent's model and zone)
//	audit_rollup_flows     per hour × tenant × principal × category ×
//	                       model × zone: intents (requests sent upstream)
//	                       carrying findings of the category ('' for
//	                       none), and those findings; and the same per
//	                       UTC day in audit_rollup_flows_daily, so that a
//	                       long window sums days, not hours
//	audit_rollup_refusals  per hour × reason (the error code)
//	audit_rollup_findings  per hour × type (with its category)
//
// Counters only grow; a batch's deltas are summed in memory and each
// touched row is upserted once.

type reqKey struct {
	hour        int64
	model, zone string
}

type reqVal struct{ requests, refusals, findings, leaks, restores int64 }

type flowKey struct {
	hour                                     int64
	tenant, principal, category, model, zone string
}

type flowVal struct{ requests, findings int64 }

type reasonKey struct {
	hour   int64
	reason string
}

type typeKey struct {
	hour int64
	typ  string
}

type typeVal struct {
	category string
	count    int64
}

type hourVal struct{ entries, min, max int64 }

// deltas are one batch's additions to the rollups.
type deltas struct {
	hours    map[int64]*hourVal
	requests map[reqKey]*reqVal
	flows    map[flowKey]*flowVal
	reasons  map[reasonKey]int64
	types    map[typeKey]*typeVal
}

func (x *Index) deltas(entries []Entry) *deltas {
	d := &deltas{hours: map[int64]*hourVal{}, requests: map[reqKey]*reqVal{}, flows: map[flowKey]*flowVal{},
		reasons: map[reasonKey]int64{}, types: map[typeKey]*typeVal{}}
	for i := range entries {
		e := &entries[i]
		h := hourOf(e.timeUS)
		hv := d.hours[h]
		if hv == nil {
			hv = &hourVal{min: e.Index, max: e.Index}
			d.hours[h] = hv
		}
		hv.entries++
		hv.min, hv.max = min(hv.min, e.Index), max(hv.max, e.Index)
		var rv *reqVal
		req := func() *reqVal {
			if rv == nil {
				k := reqKey{h, e.Model, e.Zone}
				if rv = d.requests[k]; rv == nil {
					rv = &reqVal{}
					d.requests[k] = rv
				}
			}
			return rv
		}
		switch e.Kind {
		case "request", "intent":
			req().requests++
			if e.Kind == "request" && (e.Error != "" || e.Status >= 400) {
				req().refusals++
				reason := e.Error
				if reason == "" {
					reason = "status_" + strconv.Itoa(e.Status)
				}
				d.reasons[reasonKey{h, reason}]++
			}
		case "completion":
			if e.Leaks > 0 || e.Restored > 0 {
				req().leaks += int64(e.Leaks)
				req().restores += int64(e.Restored)
			}
		}
		if e.Kind != "request" && e.Kind != "intent" && e.Kind != "completion" {
			continue
		}
		cats := map[string]int64{}
		for typ, n := range e.Findings {
			if n <= 0 {
				continue
			}
			cat := x.category(typ)
			req().findings += int64(n)
			tk := typeKey{h, typ}
			tv := d.types[tk]
			if tv == nil {
				tv = &typeVal{category: cat}
				d.types[tk] = tv
			}
			tv.count += int64(n)
			cats[cat] += int64(n)
		}
		if e.Kind == "intent" {
			if len(cats) == 0 {
				cats[""] = 0
			}
			for cat, n := range cats {
				k := flowKey{h, e.Tenant, e.Principal, cat, e.Model, e.Zone}
				fv := d.flows[k]
				if fv == nil {
					fv = &flowVal{}
					d.flows[k] = fv
				}
				fv.requests++
				fv.findings += n
			}
		}
	}
	return d
}

// write upserts the deltas in tx.
func (d *deltas) write(ctx context.Context, db *store.DB, tx *sql.Tx) error {
	least, greatest := "LEAST", "GREATEST"
	if db.Engine() == store.SQLite {
		least, greatest = "MIN", "MAX"
	}
	{
		keys := make([]int64, 0, len(d.hours))
		for h := range d.hours {
			keys = append(keys, h)
		}
		err := multiRow(ctx, db, tx, "INSERT INTO audit_index_hours (hour, entries, min_idx, max_idx) VALUES ",
			" ON CONFLICT (hour) DO UPDATE SET entries = audit_index_hours.entries + excluded.entries, min_idx = "+least+
				"(audit_index_hours.min_idx, excluded.min_idx), max_idx = "+greatest+"(audit_index_hours.max_idx, excluded.max_idx)",
			4, len(keys), func(i int, args []any) []any {
				v := d.hours[keys[i]]
				return append(args, keys[i], v.entries, v.min, v.max)
			})
		if err != nil {
			return err
		}
	}
	{
		keys := make([]reqKey, 0, len(d.requests))
		for k := range d.requests {
			keys = append(keys, k)
		}
		err := multiRow(ctx, db, tx, "INSERT INTO audit_rollup_requests (hour, model, zone, requests, refusals, findings, leaks, restores) VALUES ",
			" ON CONFLICT (hour, model, zone) DO UPDATE SET requests = audit_rollup_requests.requests + excluded.requests, "+
				"refusals = audit_rollup_requests.refusals + excluded.refusals, findings = audit_rollup_requests.findings + excluded.findings, "+
				"leaks = audit_rollup_requests.leaks + excluded.leaks, restores = audit_rollup_requests.restores + excluded.restores",
			8, len(keys), func(i int, args []any) []any {
				k := keys[i]
				v := d.requests[k]
				return append(args, k.hour, k.model, k.zone, v.requests, v.refusals, v.findings, v.leaks, v.restores)
			})
		if err != nil {
			return err
		}
	}
	if err := writeFlows(ctx, db, tx, "audit_rollup_flows", "hour", d.flows); err != nil {
		return err
	}
	daily := map[flowKey]*flowVal{}
	for k, v := range d.flows {
		k.hour = dayOf(k.hour)
		if dv := daily[k]; dv != nil {
			dv.requests += v.requests
			dv.findings += v.findings
		} else {
			daily[k] = &flowVal{v.requests, v.findings}
		}
	}
	if err := writeFlows(ctx, db, tx, "audit_rollup_flows_daily", "day", daily); err != nil {
		return err
	}
	{
		keys := make([]reasonKey, 0, len(d.reasons))
		for k := range d.reasons {
			keys = append(keys, k)
		}
		err := multiRow(ctx, db, tx, "INSERT INTO audit_rollup_refusals (hour, reason, count) VALUES ",
			" ON CONFLICT (hour, reason) DO UPDATE SET count = audit_rollup_refusals.count + excluded.count",
			3, len(keys), func(i int, args []any) []any {
				return append(args, keys[i].hour, keys[i].reason, d.reasons[keys[i]])
			})
		if err != nil {
			return err
		}
	}
	keys := make([]typeKey, 0, len(d.types))
	for k := range d.types {
		keys = append(keys, k)
	}
	return multiRow(ctx, db, tx, "INSERT INTO audit_rollup_findings (hour, type, category, count) VALUES ",
		" ON CONFLICT (hour, type) DO UPDATE SET count = audit_rollup_findings.count + excluded.count",
		4, len(keys), func(i int, args []any) []any {
			v := d.types[keys[i]]
			return append(args, keys[i].hour, keys[i].typ, v.category, v.count)
		})
}

// writeFlows upserts flow counters into table, keyed by its time column
// col (hour or day).
func writeFlows(ctx context.Context, db *store.DB, tx *sql.Tx, table, col string, flows map[flowKey]*flowVal) error {
	keys := make([]flowKey, 0, len(flows))
	for k := range flows {
		keys = append(keys, k)
	}
	return multiRow(ctx, db, tx, "INSERT INTO "+table+" ("+col+", tenant, principal, category, model, zone, requests, findings) VALUES ",
		" ON CONFLICT ("+col+", tenant, principal, category, model, zone) DO UPDATE SET requests = "+table+".requests + excluded.requests, "+
			"findings = "+table+".findings + excluded.findings",
		8, len(keys), func(i int, args []any) []any {
			k := keys[i]
			v := flows[k]
			return append(args, k.hour, k.tenant, k.principal, k.category, k.model, k.zone, v.requests, v.findings)
		})
}

// dayOf is the start of the UTC day of an hour (Unix seconds).
func dayOf(hour int64) int64 {
	d := hour - hour%86400
	if hour < 0 && hour%86400 != 0 {
		d -= 86400
	}
	return d
}
