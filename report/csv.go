package report

import (
	"cmp"
	"encoding/csv"
	"io"
	"slices"
	"strconv"
	"strings"
)

// renderCSV writes the report's tabular part, a header row first.
// Every row ends with the checkpoint's origin, size and root hash.
func (r *Report) renderCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	cp := []string{r.Checkpoint.Origin, strconv.FormatInt(r.Checkpoint.Size, 10), r.Checkpoint.RootHash}
	cpHead := []string{"checkpoint_origin", "checkpoint_size", "checkpoint_root"}
	write := func(head []string, rows [][]string) error {
		if err := cw.Write(append(head, cpHead...)); err != nil {
			return err
		}
		for _, row := range rows {
			if err := cw.Write(append(row, cp...)); err != nil {
				return err
			}
		}
		cw.Flush()
		return cw.Error()
	}
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	switch {
	case r.ROPA != nil:
		return write([]string{"purpose", "legal_basis", "art9_condition", "category", "special_category", "finding_types",
			"recipient", "recipient_kind", "zone", "country", "region", "placement", "requests", "findings"}, r.ropaRows())
	case r.DPIA != nil:
		var rows [][]string
		for _, f := range r.DPIA.Flows {
			var ts []string
			for _, c := range f.Types {
				ts = append(ts, c.Name)
			}
			rows = append(rows, []string{f.Purpose, f.Tenant, f.Principal, f.Category, strings.Join(ts, ";"), f.Model, f.Upstream, f.Zone, f.Country, f.Placement,
				n(f.Requests), n(f.Findings), n(f.SentRaw), n(f.Deidentified)})
		}
		return write([]string{"purpose", "tenant", "principal", "category", "finding_types", "model", "upstream", "zone", "country", "placement",
			"requests", "findings", "sent_raw", "deidentified"}, rows)
	default:
		var rows [][]string
		for _, m := range r.AIAct.Models {
			var ups []string
			for _, u := range m.Upstreams {
				ups = append(ups, u.Name)
			}
			var ps []string
			for _, p := range m.Purposes {
				ps = append(ps, p.Name)
			}
			rows = append(rows, []string{m.Name, n(m.Requests), strings.Join(ps, ";"), strings.Join(ups, ";"), strconv.FormatBool(m.RequireApproved),
				strconv.FormatBool(m.Registered), strconv.FormatBool(m.Approved), m.Verdict, m.Signer, m.RootDigest, strconv.Itoa(m.Files), m.Source, m.Licence, m.RegisteredAt})
		}
		return write([]string{"model", "requests", "purposes", "upstreams", "require_approved", "registered", "approved", "verdict",
			"signer", "root_digest", "files", "source", "licence", "registered_at"}, rows)
	}
}

// ropaRows is one row per purpose × category × recipient: the requests
// of the purpose with findings of the category sent to the recipient,
// and, with recipient empty and kind "refused", those refused before
// any upstream call.
func (r *Report) ropaRows() [][]string {
	ev := r.ev
	type key struct{ purpose, category, recipient string }
	type val struct {
		requests, findings int64
		types              map[string]int64
	}
	agg := map[key]*val{}
	for k, f := range ev.flows {
		kk := key{k.purpose, k.category, k.upstream}
		v := agg[kk]
		if v == nil {
			v = &val{types: map[string]int64{}}
			agg[kk] = v
		}
		v.requests += f.requests
		v.findings += f.findings
		for t, n := range f.types {
			v.types[t] += n
		}
	}
	keys := make([]key, 0, len(agg))
	for k := range agg {
		keys = append(keys, k)
	}
	pidx := func(name string) int {
		for i, p := range r.ROPA.Purposes {
			if p.Name == name {
				return i
			}
		}
		return len(r.ROPA.Purposes)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(cmp.Compare(pidx(a.purpose), pidx(b.purpose)), cmp.Compare(catRank(a.category), catRank(b.category)), strings.Compare(a.recipient, b.recipient))
	})
	var rows [][]string
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	for _, p := range r.ROPA.Purposes {
		basis, art9 := "", ""
		if p.LegalBasis != nil {
			basis = p.LegalBasis.Name
		}
		if p.Art9Condition != nil {
			art9 = p.Art9Condition.Name
		}
		// refusedTypes are the finding types of each category in refused requests.
		refusedTypes := map[string]string{}
		for _, c := range p.Categories {
			var ts []string
			for _, t := range c.Types {
				if t.Refused > 0 {
					ts = append(ts, t.Type)
				}
			}
			refusedTypes[c.Category] = strings.Join(ts, ";")
		}
		for _, k := range keys {
			if k.purpose != p.Name {
				continue
			}
			v := agg[k]
			rec := ev.recipientOf(k.recipient)
			var ts []string
			for _, c := range sortedCounts(v.types) {
				ts = append(ts, c.Name)
			}
			rows = append(rows, []string{p.Name, basis, art9, k.category, strconv.FormatBool(Special(k.category)), strings.Join(ts, ";"),
				k.recipient, rec.Kind, rec.Zone, rec.Country, rec.Region, ev.home.place(rec).String(), n(v.requests), n(v.findings)})
		}
		// Requests refused before any upstream call, by category.
		pu := ev.purposes[min(pidx(p.Name), len(ev.purposes)-1)]
		cats := sortedKeys(pu.refusedCats)
		slices.SortFunc(cats, func(a, b string) int { return cmp.Compare(catRank(a), catRank(b)) })
		for _, cat := range cats {
			var findings int64
			for _, c := range p.Categories {
				if c.Category == cat {
					findings = c.Refused
				}
			}
			rows = append(rows, []string{p.Name, basis, art9, cat, strconv.FormatBool(Special(cat)), refusedTypes[cat],
				"", "refused", "", "", "", "", n(pu.refusedCats[cat]), n(findings)})
		}
	}
	return rows
}
