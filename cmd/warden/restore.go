package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/transform"
)

const restoreHelp = `usage: warden restore --tenant T [flags] [FILE|-]

Puts the original values back in place of the tokens a tenant's
"warden redact --operator tokenize" issued. Reads FILE (or standard
input) and writes the result to standard output. Tokens of other
tenants, forgotten or shredded values and anything that is not a token
stay exactly as they are.

In JSON and JSONL input the originals are written as JSON string
content (quotes, backslashes and control characters escaped), so the
output stays valid JSON; --format auto (the default) detects JSON.

Exit codes: 0 success, 1 the vault failed (e.g. a tampered row or a
retired key; nothing is written), 2 usage, configuration or I/O error.

Flags:
`

func runRestore(ctx context.Context, c *cli, args []string) int {
	fs, configPath := vaultFlags(c, "restore", restoreHelp)
	tenant := fs.String("tenant", "", "tenant whose tokens to restore (required)")
	format := fs.String("format", "auto", "input `format`: auto, text, json or jsonl")
	maxBytes := fs.Int64("max-bytes", 256<<20, "largest input in `bytes`")
	stats := fs.Bool("stats", false, "print how many tokens were found and restored on stderr")
	if code, done := parseVaultFlags(fs, args); done {
		return code
	}
	if *tenant == "" {
		fmt.Fprintln(c.stderr, "warden restore: --tenant is required")
		return exitUsage
	}
	switch *format {
	case "auto", "text", "json", "jsonl":
	default:
		fmt.Fprintf(c.stderr, "warden restore: --format: want auto, text, json or jsonl\n")
		return exitUsage
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(c.stderr, "warden restore: at most one input file")
		return exitUsage
	}
	in := c.stdin
	name := "standard input"
	if f := fs.Arg(0); f != "" && f != "-" {
		fh, err := os.Open(f)
		if err != nil {
			fmt.Fprintf(c.stderr, "warden restore: %v\n", err)
			return exitUsage
		}
		defer fh.Close()
		in, name = fh, f
	}
	data, err := io.ReadAll(io.LimitReader(in, *maxBytes+1))
	if err != nil {
		fmt.Fprintf(c.stderr, "warden restore: read %s: %v\n", name, err)
		return exitUsage
	}
	if int64(len(data)) > *maxBytes {
		fmt.Fprintf(c.stderr, "warden restore: %s is larger than --max-bytes (%d)\n", name, *maxBytes)
		return exitUsage
	}
	cfg, ok := configOrExit(c, "restore", *configPath)
	if !ok {
		return exitUsage
	}
	v, closeVault, err := openVault(ctx, cfg, c)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden restore: %v\n", err)
		return exitUsage
	}
	defer closeVault()

	var r transform.Revealer = v.Tenant(*tenant)
	if *format == "json" || *format == "jsonl" || (*format == "auto" && looksJSON(data)) {
		r = jsonRevealer{v.Tenant(*tenant)}
	}
	out, st, err := transform.Restore(ctx, string(data), r)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden restore: %v\n", err)
		return exitFailure
	}
	// Detokenisation outside the gateway is recorded before any original
	// is written out: no record, no output.
	if st.Restored > 0 {
		if code := recordAdmin(ctx, cfg, c, audit.AdminEvent{Action: "restore", Tenant: *tenant,
			Details: map[string]string{"tokens": strconv.Itoa(st.Tokens), "restored": strconv.Itoa(st.Restored)}}); code != exitOK {
			return code
		}
	}
	if _, err := io.WriteString(c.stdout, out); err != nil {
		fmt.Fprintf(c.stderr, "warden restore: write: %v\n", err)
		return exitUsage
	}
	if *stats {
		fmt.Fprintf(c.stderr, "warden restore: %d tokens, %d restored, %d left\n", st.Tokens, st.Restored, st.Left)
	}
	return exitOK
}

// looksJSON reports whether data is one JSON document or JSON lines.
func looksJSON(data []byte) bool {
	t := bytes.TrimSpace(data)
	if len(t) == 0 || (t[0] != '{' && t[0] != '[' && t[0] != '"') {
		return false
	}
	if json.Valid(t) {
		return true
	}
	for line := range bytes.Lines(t) {
		if l := bytes.TrimSpace(line); len(l) > 0 && !json.Valid(l) {
			return false
		}
	}
	return true
}

// jsonRevealer escapes originals for the inside of a JSON string: in
// JSON a token can only stand inside a string literal.
type jsonRevealer struct {
	inner transform.BatchRevealer
}

func (j jsonRevealer) Reveal(ctx context.Context, tok transform.TokenRef) (string, bool, error) {
	v, ok, err := j.inner.Reveal(ctx, tok)
	if !ok || err != nil {
		return v, ok, err
	}
	return jsonEscape(v), true, nil
}

func (j jsonRevealer) RevealBatch(ctx context.Context, toks []transform.TokenRef, values []string, found []bool) error {
	if err := j.inner.RevealBatch(ctx, toks, values, found); err != nil {
		return err
	}
	for i := range values {
		if found[i] {
			values[i] = jsonEscape(values[i])
		}
	}
	return nil
}

// jsonEscape returns s as JSON string content, without the quotes.
func jsonEscape(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	out := bytes.TrimSuffix(b.Bytes(), []byte("\n"))
	return string(out[1 : len(out)-1])
}
