package report_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"html"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/report"
)

var update = flag.Bool("update", false, "rewrite report/testdata/*.golden from the current output")

// normalise replaces what differs between runs: the fixture's keys are
// generated afresh, so the commitments in its entries, the root hash,
// the checkpoint's signature and the verifier key change every run
// (entry times, names and counts do not). Each is replaced, in every
// spelling a format gives it, by a fixed placeholder.
func normalise(out string, cp report.CheckpointRef) string {
	note := strings.TrimSuffix(cp.Note, "\n")
	sig := note[strings.LastIndex(note, " ")+1:]
	for _, r := range []struct{ v, with string }{
		{cp.VerifierKey, "VERIFIER_KEY"}, {cp.RootHash, "ROOT_HASH"}, {sig, "SIGNATURE"},
	} {
		for _, spelling := range []string{r.v, html.EscapeString(r.v)} {
			out = strings.ReplaceAll(out, spelling, r.with)
		}
	}
	return out
}

// TestGoldenReports renders every report in every format from the
// fixture's log and compares it with testdata/<kind>.<format>.golden
// (go test ./report -run TestGoldenReports -update rewrites them).
func TestGoldenReports(t *testing.T) {
	f := newFixture(t)
	ev, err := report.Collect(context.Background(), f.db, f.cp, f.opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range report.Kinds() {
		rep, err := ev.Report(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, fm := range report.Formats() {
			t.Run(string(k)+"."+string(fm), func(t *testing.T) {
				var b bytes.Buffer
				if err := rep.Render(&b, fm); err != nil {
					t.Fatal(err)
				}
				got := normalise(b.String(), ev.Checkpoint)
				path := filepath.Join("testdata", string(k)+"."+string(fm)+".golden")
				if *update {
					if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
						t.Fatal(err)
					}
					return
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if got != string(want) {
					t.Errorf("%s differs from the golden file (rerun with -update after checking):\n%s", path, firstDiff(string(want), got))
				}
			})
		}
	}
}

// firstDiff shows the first line that differs.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return "line " + itoa(i+1) + ":\n  want: " + w + "\n  got:  " + g
		}
	}
	return ""
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

// TestReportNumbersFromTheLog pins the counts the fixture's log must
// give, independently of any rendering.
func TestReportNumbersFromTheLog(t *testing.T) {
	f := newFixture(t)
	ev, err := report.Collect(context.Background(), f.db, f.cp, f.opt)
	if err != nil {
		t.Fatal(err)
	}
	// 2 request and 10 intent entries, 9 closers written before the
	// checkpoint, 2 admin acts.
	if ev.Log.Entries != 23 || ev.Log.Intents != 10 || ev.Log.Completions != 8 || ev.Log.Aborted != 1 ||
		ev.Log.Requests != 2 || ev.Log.Admin != 2 || ev.Log.InFlight != 1 || !ev.Log.Paired {
		t.Fatalf("log summary %+v", ev.Log)
	}
	if ev.Checkpoint.Checkpoints != 2 || ev.Checkpoint.Size != f.size {
		t.Fatalf("checkpoint %+v", ev.Checkpoint)
	}
	ropa := mustReport(t, ev, report.ROPA).ROPA
	byName := map[string]report.PurposeRecord{}
	for _, p := range ropa.Purposes {
		byName[p.Name] = p
	}
	sup := byName["support"]
	// The entry before --since is not counted; the refused one is.
	if sup.Requests != 5 || sup.Sent != 4 || sup.Refused != 1 || sup.SentDeidentified != 4 || sup.Leaks != 1 || sup.Restored != 5 {
		t.Fatalf("support: %+v", sup)
	}
	if cats := sup.Categories; len(cats) != 3 || cats[0].Category != "FINANCIAL" || cats[1].Category != "PII" || cats[1].Sent != 7 || cats[2].Refused != 1 {
		t.Fatalf("support categories: %+v", cats)
	}
	if r := byName["research"]; r.Sent != 2 || r.SentRaw != 1 || r.Categories[0].Category != "HEALTH" || r.Categories[0].Sent != 2 {
		t.Fatalf("research: %+v", r)
	}
	if u := byName["(undeclared purpose)"]; u.Declared || u.Sent != 1 || u.Requests != 1 {
		t.Fatalf("undeclared: %+v", u)
	}
	if a := byName["agents"]; a.Sent != 1 || len(a.Recipients) != 1 || a.Recipients[0].Name != "crm" {
		t.Fatalf("agents: %+v", a)
	}
	var transfers []string
	for _, tr := range ropa.Transfers {
		transfers = append(transfers, tr.Recipient+"/"+tr.Placement+"/"+itoa(int(tr.Requests)))
	}
	if got := strings.Join(transfers, " "); got != `openai/outside/5 mystery/unknown/1` {
		t.Fatalf("transfers %s", got)
	}
	codes := map[string]string{}
	for _, is := range mustReport(t, ev, report.ROPA).Issues {
		codes[is.Code] = is.Severity
	}
	for code, sev := range map[string]string{
		"undeclared_purpose": "high", "special_category_without_condition": "high", "transfer_outside_home_region": "medium",
		"country_not_declared": "medium", "unclassified_types": "low", "recipient_not_configured": "low",
	} {
		if codes[code] != sev {
			t.Errorf("issue %s: severity %q, want %q (issues %v)", code, codes[code], sev, codes)
		}
	}
	if _, ok := codes["special_category_without_condition"]; !ok {
		t.Error("research processes health data without an Art. 9 condition and no issue says so")
	}
	dpia := mustReport(t, ev, report.DPIA).DPIA
	risks := map[string]string{}
	for _, r := range dpia.Risks {
		risks[r.ID] = r.Severity
	}
	for id, sev := range map[string]string{"special_categories_external": "medium", "transfers": "medium", "undeclared_purpose": "high",
		"raw_personal_data_external": "medium", "leaks_in_responses": "medium", "refusals": "low", "aborted": "low", "recipient_country_unknown": "medium"} {
		if risks[id] != sev {
			t.Errorf("risk %s: severity %q, want %q (risks %v)", id, risks[id], sev, risks)
		}
	}
	ai := mustReport(t, ev, report.AIAct).AIAct
	if len(ai.Models) == 0 || ai.Models[0].Name != "gpt-4o" || ai.Models[0].Requests != 4 {
		t.Fatalf("models %+v", ai.Models)
	}
	var pin report.PinRecord
	for _, p := range ai.ToolPins {
		if p.Tool == "lookup_customer" {
			pin = p
		}
	}
	if pin.Calls != 1 || pin.CallsOtherHash != 0 {
		t.Fatalf("pin %+v", pin)
	}
}

func mustReport(t *testing.T, ev *report.Evidence, k report.Kind) *report.Report {
	t.Helper()
	r, err := ev.Report(k)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestReportNeverHoldsThePromptCanary: every body of the fixture holds
// a canary (a name, an NHS number, an e-mail); no report in any format
// may contain it or any part of it.
func TestReportNeverHoldsThePromptCanary(t *testing.T) {
	f := newFixture(t)
	ev, err := report.Collect(context.Background(), f.db, f.cp, f.opt)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range report.Kinds() {
		rep := mustReport(t, ev, k)
		for _, fm := range report.Formats() {
			var b bytes.Buffer
			if err := rep.Render(&b, fm); err != nil {
				t.Fatal(err)
			}
			for _, part := range []string{canary, "Whitlock", "943 476 5919", "9434765919", "jane.canary"} {
				if strings.Contains(b.String(), part) {
					t.Errorf("%s.%s holds %q", k, fm, part)
				}
			}
		}
	}
}

// TestReportRefusesATamperedLog flips one byte of one entry the
// checkpoint signs: Collect refuses with the log's VerifyError, and no
// report can be built.
func TestReportRefusesATamperedLog(t *testing.T) {
	f := newFixture(t)
	// "gpt-4o" becomes "gpt-4p" in one intent: a change of one byte.
	res, err := f.db.Read().Exec(`UPDATE audit_entries SET entry = CAST(replace(CAST(entry AS TEXT), '"model":"gpt-4o",', '"model":"gpt-4p",') AS BLOB) WHERE idx = 7`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("tampered %d rows", n)
	}
	ev, err := report.Collect(context.Background(), f.db, f.cp, f.opt)
	var ve *audit.VerifyError
	if !errors.As(err, &ve) || ev != nil {
		t.Fatalf("Collect on a tampered log: %v, %v", ev, err)
	}
	if !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("error %q does not say the log does not verify", err)
	}
}

// TestReportEscapesNamesFromTheConfig: a purpose name that is markup
// stays text in Markdown and HTML.
func TestReportEscapesNamesFromTheConfig(t *testing.T) {
	f := newFixture(t)
	f.opt.Purposes[0].Name = `<script>alert(1)</script> | [x](javascript:y) *b*`
	ev, err := report.Collect(context.Background(), f.db, f.cp, f.opt)
	if err != nil {
		t.Fatal(err)
	}
	rep := mustReport(t, ev, report.ROPA)
	for _, fm := range []report.Format{report.HTML, report.Markdown} {
		var b bytes.Buffer
		if err := rep.Render(&b, fm); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.Contains(out, "<script>") || fm == report.Markdown && strings.Contains(out, "| [x](") {
			t.Errorf("%s: markup from a purpose name reached the output", fm)
		}
		if fm == report.HTML && (strings.Contains(out, "<link") || strings.Contains(out, "src=") || strings.Contains(out, "<script") ||
			!strings.Contains(out, `http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'"`)) {
			t.Error("html: the page loads something or has no restrictive CSP")
		}
		if fm == report.Markdown && !strings.Contains(out, `&lt;script&gt;alert(1)&lt;/script&gt; \| \[x\](javascript:y) \*b\*`) {
			t.Errorf("markdown: the name is not escaped as expected:\n%s", out[:min(len(out), 3000)])
		}
	}
}

// TestReportPeriod: --until before the period holds nothing but the
// entries before it; the whole log counts the early request too.
func TestReportPeriod(t *testing.T) {
	f := newFixture(t)
	f.opt.Since = day0.AddDate(0, -2, 0)
	ev, err := report.Collect(context.Background(), f.db, f.cp, f.opt)
	if err != nil {
		t.Fatal(err)
	}
	r := mustReport(t, ev, report.AIAct)
	found := false
	for _, is := range r.Issues {
		found = found || is.Code == "period_before_log"
	}
	if !found {
		t.Errorf("a period starting before the log's first entry raises no period_before_log issue: %+v", r.Issues)
	}
	if sup := mustReport(t, ev, report.ROPA).ROPA.Purposes[0]; sup.Sent != 5 {
		t.Errorf("support sent %d over the whole log, want 5", sup.Sent)
	}
	f.opt.Since, f.opt.Until = day0.AddDate(0, -2, 0), day0
	ev, err = report.Collect(context.Background(), f.db, f.cp, f.opt)
	if err != nil {
		t.Fatal(err)
	}
	if sup := mustReport(t, ev, report.ROPA).ROPA.Purposes[0]; sup.Sent != 1 || sup.Requests != 1 {
		t.Errorf("support before day0: %+v", sup)
	}
}

// TestReportNamesBrokenPairing: an intent neither closed nor open (its
// audit_open row deleted) leaves the log authentic, so the report is
// built, and says the log is not paired.
func TestReportNamesBrokenPairing(t *testing.T) {
	f := newFixture(t)
	if _, err := f.db.Read().Exec(`DELETE FROM audit_open`); err != nil {
		t.Fatal(err)
	}
	// The in-flight intent's completion was appended after the
	// checkpoint; remove it too, so the intent is closed nowhere.
	if _, err := f.db.Read().Exec(`DELETE FROM audit_entries WHERE idx >= $1`, f.size); err != nil {
		t.Fatal(err)
	}
	ev, err := report.Collect(context.Background(), f.db, f.cp, f.opt)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Log.Paired || !strings.Contains(ev.Log.PairingFailure, "never closed") {
		t.Fatalf("log %+v", ev.Log)
	}
	r := mustReport(t, ev, report.AIAct)
	if r.Issues[0].Code != "log_not_paired" || r.Issues[0].Severity != report.High || r.AIAct.Completeness.Paired {
		t.Fatalf("issues %+v", r.Issues)
	}
}
