package main

import (
	"context"
	"encoding/csv"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/wardenhq/warden/detect"
	"github.com/wardenhq/warden/transform"
)

const redactHelp = `usage: warden redact [flags] [FILE|-]

De-identifies text, JSON, JSONL or CSV: every sensitive value found is
replaced by its operator's output. Reads standard input when no file (or
"-") is given and writes to standard output (or --out). Memory stays
constant however large the input: lines and CSV records stream through.

Operators (--operator, or per type in the config's transform section):
  redact       remove the value
  placeholder  <EMAIL_ADDRESS>
  mask         ************1111 (keeps the last transform.mask_keep characters)
  hash         <EMAIL_ADDRESS:hmac:…>, keyed HMAC-SHA256 (needs transform.key_env)
  tokenize     [[EMAIL_ADDRESS:…]], reversible with 'warden restore': originals
               are stored encrypted in the vault under --tenant
  synthetic    a format-valid fake value (Luhn-valid card, …; needs transform.key_env)

A progress bar is drawn on standard error when it is a terminal; a summary
of counts by type follows unless --quiet.

Exit codes: 0 success, 1 the input could not be fully processed (nothing
after the bad line is written), 2 usage, configuration or I/O error.

Flags:
`

type redactOptions struct {
	operator string
	tenant   string
	format   string
	out      string
	maxLine  int
	quiet    bool
}

func runRedact(ctx context.Context, c *cli, args []string) int {
	fs := flag.NewFlagSet("redact", flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	var o redactOptions
	configPath := fs.String("config", "", "config `file`")
	fs.StringVar(&o.operator, "operator", "", "apply this `operator` to every finding (default: the config's transform section, else tokenize)")
	fs.StringVar(&o.tenant, "tenant", "default", "vault `tenant` that owns the tokens")
	fs.StringVar(&o.format, "format", "", "input format: text, json, jsonl or csv (default: from the file extension, else text)")
	fs.StringVar(&o.out, "out", "", "write to `file` instead of standard output (written whole or not at all)")
	fs.IntVar(&o.maxLine, "max-line", 64<<20, "largest line, CSV record or JSON document in `bytes`")
	fs.BoolVar(&o.quiet, "quiet", false, "no progress bar and no summary")
	fs.Usage = func() { fmt.Fprint(c.stderr, redactHelp); fs.PrintDefaults() }
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(c.stderr, "warden redact: give at most one input file")
		return exitUsage
	}
	name := "-"
	if fs.NArg() == 1 {
		name = fs.Arg(0)
	}
	if o.format == "" {
		o.format = formatFromName(name)
	}
	switch o.format {
	case "text", "json", "jsonl", "csv":
	default:
		fmt.Fprintf(c.stderr, "warden redact: --format %q: want text, json, jsonl or csv\n", o.format)
		return exitUsage
	}
	cfg, err := loadConfig(*configPath, c.getenv)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden redact:", err)
		return exitUsage
	}
	r, closeAll, err := newRedactor(ctx, cfg, c, &o)
	if err != nil {
		fmt.Fprintln(c.stderr, "warden redact:", err)
		return exitUsage
	}
	defer closeAll()

	var in io.Reader = c.stdin
	var size int64 = -1
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintln(c.stderr, "warden redact:", err)
			return exitUsage
		}
		defer f.Close()
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = st.Size()
		}
		in = f
	}
	out := c.stdout
	var tmp *os.File
	if o.out != "" {
		// Write next to the destination and rename at the end, so a
		// failure never leaves a half-written file behind.
		tmp, err = os.CreateTemp(filepath.Dir(o.out), "."+filepath.Base(o.out)+".tmp-*")
		if err != nil {
			fmt.Fprintln(c.stderr, "warden redact:", err)
			return exitUsage
		}
		defer os.Remove(tmp.Name())
		out = tmp
	}
	var bar *progressBar
	if c.stderrTTY && !o.quiet {
		bar = newProgressBar(c.stderr, size)
	}
	err = r.run(ctx, in, out, bar)
	if bar != nil {
		bar.finish()
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "warden redact: %s: %v\n", displayName(name), err)
		return exitFailure
	}
	if tmp != nil {
		if err := tmp.Close(); err != nil {
			fmt.Fprintln(c.stderr, "warden redact:", err)
			return exitUsage
		}
		if err := os.Rename(tmp.Name(), o.out); err != nil {
			fmt.Fprintln(c.stderr, "warden redact:", err)
			return exitUsage
		}
	}
	if !o.quiet {
		r.summary(c.stderr)
	}
	return exitOK
}

func formatFromName(name string) string {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json":
		return "json"
	case ".jsonl", ".ndjson":
		return "jsonl"
	case ".csv":
		return "csv"
	}
	return "text"
}

// redactor de-identifies batches of input.
type redactor struct {
	o      *redactOptions
	eng    *detect.Engine
	jsonO  *detect.JSONOptions
	d      *transform.Deidentifier
	batch  transform.BatchTokenizer // the tenant's vault, or nil
	mu     sync.Mutex
	counts map[string]map[transform.Operator]int
	values int
	lines  int
}

func newRedactor(ctx context.Context, cfg *Config, c *cli, o *redactOptions) (*redactor, func(), error) {
	eng, err := detect.New(cfg.Detect)
	if err != nil {
		return nil, nil, err
	}
	jsonO, err := detect.CompileJSON(cfg.Detect.JSON)
	if err != nil {
		return nil, nil, err
	}
	tc, err := transformConfig(cfg, c)
	if err != nil {
		return nil, nil, err
	}
	if o.operator != "" {
		tc.Default = transform.Operator(o.operator)
		tc.Operators, tc.Categories = nil, nil
	}
	r := &redactor{o: o, eng: eng, jsonO: jsonO, counts: map[string]map[transform.Operator]int{}}
	closeAll := func() {}
	if usesOperator(tc, transform.Tokenize) {
		v, closeVault, err := openVault(ctx, cfg, c)
		if err != nil {
			return nil, nil, err
		}
		closeAll = func() { closeVault() }
		t := v.Tenant(o.tenant)
		tc.Tokenizer = t
		r.batch = t
	}
	d, err := transform.NewDeidentifier(tc)
	if err != nil {
		closeAll()
		return nil, nil, err
	}
	r.d = d
	return r, closeAll, nil
}

// transformConfig maps the config file's transform section.
func transformConfig(cfg *Config, c *cli) (transform.Config, error) {
	t := cfg.Transform
	tc := transform.Config{Default: transform.Operator(t.Default), Operators: map[string]transform.Operator{},
		Categories: map[detect.Category]transform.Operator{}, Mask: transform.MaskConfig{Keep: t.MaskKeep}}
	for k, op := range t.Operators {
		switch cat := detect.Category(k); cat {
		case detect.PII, detect.Financial, detect.Health, detect.Secret, detect.Network:
			tc.Categories[cat] = transform.Operator(op)
		default:
			tc.Operators[k] = transform.Operator(op)
		}
	}
	if t.KeyEnv != "" {
		raw := c.getenv(t.KeyEnv)
		if raw == "" {
			return tc, fmt.Errorf("config: transform.key_env: environment variable %s is empty", t.KeyEnv)
		}
		k, err := transform.ParseKey(raw)
		if err != nil {
			return tc, fmt.Errorf("config: transform.key_env: %s: %w", t.KeyEnv, err)
		}
		tc.Key = k
	}
	return tc, nil
}

func usesOperator(tc transform.Config, op transform.Operator) bool {
	if tc.Default == op {
		return true
	}
	for _, o := range tc.Operators {
		if o == op {
			return true
		}
	}
	for _, o := range tc.Categories {
		if o == op {
			return true
		}
	}
	return false
}

func (r *redactor) run(ctx context.Context, in io.Reader, out io.Writer, bar *progressBar) error {
	var progress func(int64)
	if bar != nil {
		progress = bar.add
	}
	switch r.o.format {
	case "json":
		doc, err := io.ReadAll(io.LimitReader(in, int64(r.o.maxLine)+1))
		if err != nil {
			return err
		}
		if len(doc) > r.o.maxLine {
			return fmt.Errorf("JSON document larger than --max-line (%d bytes)", r.o.maxLine)
		}
		res, err := r.jsonDoc(ctx, doc)
		if err != nil {
			return err
		}
		if progress != nil {
			progress(int64(len(doc)))
		}
		_, err = out.Write(res)
		return err
	case "csv":
		return r.csv(ctx, in, out, progress)
	}
	return processLines(ctx, in, out, r.o.maxLine, progress, func(dst []byte, first int, lines [][]byte) ([]byte, error) {
		return r.lineBatch(ctx, dst, first, lines)
	})
}

// pending is one value to rewrite: a text line or a JSON string value.
type pending struct {
	text     string
	findings []detect.Finding
}

func (r *redactor) apply(ctx context.Context, items []pending) ([]string, error) {
	d := r.d
	if r.batch != nil {
		// Issue the batch's tokens in one vault transaction.
		texts := make([]string, len(items))
		fs := make([][]detect.Finding, len(items))
		for i, it := range items {
			texts[i], fs[i] = it.text, it.findings
		}
		tok, err := d.Preissue(ctx, r.batch, texts, fs)
		if err != nil {
			return nil, err
		}
		d = d.WithTokenizer(tok)
	}
	out := make([]string, len(items))
	var all []transform.Count
	n := 0
	for i, it := range items {
		s, st, err := d.Apply(ctx, it.text, it.findings)
		if err != nil {
			return nil, err
		}
		out[i] = s
		all = append(all, st.Counts...)
		n += len(it.findings)
	}
	r.mu.Lock()
	for _, c := range all {
		m := r.counts[c.Type]
		if m == nil {
			m = map[transform.Operator]int{}
			r.counts[c.Type] = m
		}
		m[c.Operator] += c.N
	}
	r.values += n
	r.mu.Unlock()
	return out, nil
}

func (r *redactor) lineBatch(ctx context.Context, out []byte, first int, lines [][]byte) ([]byte, error) {
	if r.o.format == "jsonl" {
		for i, l := range lines {
			res, err := r.jsonDoc(ctx, l)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", first+i, err)
			}
			out = append(out, res...)
			out = append(out, '\n')
		}
		r.addLines(len(lines))
		return out, nil
	}
	items := make([]pending, len(lines))
	for i, l := range lines {
		items[i] = pending{text: string(l), findings: r.eng.ScanBytes(l)}
	}
	res, err := r.apply(ctx, items)
	if err != nil {
		return nil, fmt.Errorf("lines %d-%d: %w", first, first+len(lines)-1, err)
	}
	for _, s := range res {
		out = append(out, s...)
		out = append(out, '\n')
	}
	r.addLines(len(lines))
	return out, nil
}

func (r *redactor) addLines(n int) {
	r.mu.Lock()
	r.lines += n
	r.mu.Unlock()
}

// jsonDoc de-identifies the string values of one JSON document: one
// scan collects the values with findings (so their tokens are issued in
// one batch), then a plain walk writes the replacements in.
func (r *redactor) jsonDoc(ctx context.Context, doc []byte) ([]byte, error) {
	var items []pending
	var at []int
	_, err := r.eng.RewriteJSON(doc, r.jsonO, func(v detect.JSONValue, fs []detect.Finding) (string, bool, error) {
		items = append(items, pending{text: strings.Clone(v.Value), findings: append([]detect.Finding(nil), fs...)})
		at = append(at, v.Start)
		return "", false, nil
	})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return doc, nil
	}
	res, err := r.apply(ctx, items)
	if err != nil {
		return nil, err
	}
	repl := make(map[int]string, len(at))
	for i, off := range at {
		repl[off] = res[i]
	}
	return detect.WalkJSON(doc, r.jsonO, func(v detect.JSONValue) (string, bool, error) {
		s, ok := repl[v.Start]
		return s, ok, nil
	})
}

// csv de-identifies every field of every record, streaming. The header's
// column name is offered as context for its fields.
func (r *redactor) csv(ctx context.Context, in io.Reader, out io.Writer, progress func(int64)) error {
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = false
	cw := csv.NewWriter(out)
	var header []string
	const batch = 2048
	var recs [][]string
	var reported int64
	flush := func() error {
		var items []pending
		for _, rec := range recs {
			for j, f := range rec {
				prefix := ""
				if header != nil && j < len(header) {
					prefix = header[j] + ": "
				}
				fs := r.eng.Scan(prefix + f)
				var kept []detect.Finding
				for _, x := range fs {
					if x.Start >= len(prefix) {
						x.Start -= len(prefix)
						x.End -= len(prefix)
						kept = append(kept, x)
					}
				}
				items = append(items, pending{text: f, findings: kept})
			}
		}
		res, err := r.apply(ctx, items)
		if err != nil {
			return err
		}
		k := 0
		for _, rec := range recs {
			for j := range rec {
				rec[j] = res[k]
				k++
			}
			if err := cw.Write(rec); err != nil {
				return err
			}
		}
		r.addLines(len(recs))
		recs = recs[:0]
		cw.Flush()
		return cw.Error()
	}
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return fmt.Errorf("malformed CSV at line %d, column %d: %v", pe.Line, pe.Column, pe.Err)
			}
			return err
		}
		if header == nil {
			header = rec
			if err := cw.Write(rec); err != nil {
				return err
			}
			continue
		}
		recs = append(recs, rec)
		if len(recs) == batch {
			if err := flush(); err != nil {
				return err
			}
			if progress != nil {
				off := cr.InputOffset()
				progress(off - reported)
				reported = off
			}
		}
	}
	if len(recs) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (r *redactor) summary(w io.Writer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	fmt.Fprintf(w, "warden redact: %d values de-identified in %d records\n", r.values, r.lines)
	types := make([]string, 0, len(r.counts))
	for t := range r.counts {
		types = append(types, t)
	}
	sort.Strings(types)
	for _, t := range types {
		var parts []string
		for op, n := range r.counts[t] {
			parts = append(parts, fmt.Sprintf("%d %s", n, op))
		}
		sort.Strings(parts)
		fmt.Fprintf(w, "  %-22s %s\n", t, strings.Join(parts, ", "))
	}
}

// progressBar draws bytes processed (and a bar when the size is known) on
// a terminal, at most five times a second.
type progressBar struct {
	w     io.Writer
	total int64
	mu    sync.Mutex
	done  int64
	start time.Time
	last  time.Time
}

func newProgressBar(w io.Writer, total int64) *progressBar {
	return &progressBar{w: w, total: total, start: time.Now()}
}

func (p *progressBar) add(n int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done += n
	if time.Since(p.last) < 200*time.Millisecond {
		return
	}
	p.last = time.Now()
	p.draw()
}

func (p *progressBar) draw() {
	el := time.Since(p.start).Seconds()
	rate := float64(p.done) / 1e6 / max(el, 1e-9)
	if p.total > 0 {
		frac := min(float64(p.done)/float64(p.total), 1)
		n := int(frac * 30)
		fmt.Fprintf(p.w, "\r[%s%s] %5.1f%%  %.1f MB  %.1f MB/s", strings.Repeat("=", n), strings.Repeat(" ", 30-n), frac*100, float64(p.done)/1e6, rate)
		return
	}
	fmt.Fprintf(p.w, "\r%.1f MB  %.1f MB/s", float64(p.done)/1e6, rate)
}

func (p *progressBar) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.draw()
	fmt.Fprintln(p.w)
}
