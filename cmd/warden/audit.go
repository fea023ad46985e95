package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/wardenhq/warden/audit"
)

const auditHelp = `usage: warden audit <command> [flags]

Inspects the tamper-evident audit log (an RFC 6962 Merkle tree with signed
C2SP checkpoints) that the gateway writes to the store.

Commands:
  key      print the log's checkpoint verifier key (name+hash+base64) as the
           last line; generates the log's keys if the log has none yet
  verify   recompute every hash from the stored entries, check every signed
           checkpoint (and --since, a checkpoint saved earlier), then the
           pairing of intents: every completion or aborted entry closes an
           earlier intent, none twice, and every intent is closed or still
           in flight under a live gateway; exit 1 naming the first bad index
           on any edit, deletion, reordering, truncation or broken pairing
  export   write entries for a SIEM: --format jsonl|cef [--since TIME|INDEX]
  tail     print entries as they are appended (jsonl), until interrupted
  proof    print the inclusion proof of --index N against the newest
           checkpoint (JSON)
  index    bring the console's audit index up to date [--rebuild]

Every command takes --config. Exit codes: 0 success, 1 failure (verify: the
log does not verify), 2 usage, configuration or I/O error.
`

func runAudit(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.stderr, auditHelp)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "index":
		return runAuditIndex(ctx, c, rest)
	case "key", "verify", "export", "tail", "proof":
	default:
		fmt.Fprintf(c.stderr, "warden audit: unknown command %q\n\n%s", sub, auditHelp)
		return exitUsage
	}
	help := fmt.Sprintf("usage: warden audit %s [flags]\n\n(see 'warden audit --help')\n\nFlags:\n", sub)
	fs, configPath := vaultFlags(c, "audit "+sub, help)
	since := fs.String("since", "", "verify: a saved checkpoint `file`; export: an RFC 3339 time or an entry index")
	vkeyFlag := fs.String("key", "", "verify, proof: the verifier `key` to check checkpoints with (default: the log's own, from the keyring)")
	format := fs.String("format", "jsonl", "export, tail: jsonl or cef")
	index := fs.Int64("index", -1, "proof: the entry `index`")
	from := fs.Int64("from", -1, "tail: first index to print (default: the last 10 entries)")
	interval := fs.Duration("interval", time.Second, "tail: poll `interval`")
	if code, done := parseVaultFlags(fs, rest); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "warden audit %s: unexpected argument\n", sub)
		return exitUsage
	}
	if *format != audit.FormatJSONL && *format != audit.FormatCEF {
		fmt.Fprintf(c.stderr, "warden audit %s: --format: want jsonl or cef\n", sub)
		return exitUsage
	}
	cfg, ok := configOrExit(c, "audit "+sub, *configPath)
	if !ok {
		return exitUsage
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden audit %s: %v\n", sub, err)
		return exitUsage
	}
	defer db.Close()
	fail := func(code int, err error) int {
		fmt.Fprintf(c.stderr, "warden audit %s: %v\n", sub, err)
		return code
	}
	// verifierKey is --key, or the log's own key unwrapped from the keyring.
	verifierKey := func(create bool) (string, error) {
		if *vkeyFlag != "" && !create {
			return *vkeyFlag, nil
		}
		kr, closeKeys, err := openKeyring(ctx, cfg, c)
		if err != nil {
			return "", err
		}
		defer closeKeys()
		return audit.VerifierKey(ctx, db, kr, "", create)
	}

	switch sub {
	case "key":
		vkey, err := verifierKey(true)
		if err != nil {
			return fail(exitUsage, err)
		}
		fmt.Fprintln(c.stdout, "# checkpoint verifier key (golang.org/x/mod/sumdb/note):")
		fmt.Fprintln(c.stdout, vkey)
		return exitOK

	case "verify":
		opt := audit.VerifyOptions{}
		if *since != "" {
			b, err := os.ReadFile(*since)
			if err != nil {
				return fail(exitUsage, fmt.Errorf("--since: %w", err))
			}
			opt.Since = b
		}
		vkey, err := verifierKey(false)
		if err != nil {
			return fail(exitUsage, err)
		}
		start := time.Now()
		rep, err := audit.Verify(ctx, db, vkey, opt)
		var ve *audit.VerifyError
		if errors.As(err, &ve) {
			if ve.Index >= 0 {
				fmt.Fprintf(c.stdout, "FAIL: first bad index %d: %s\n", ve.Index, ve.Reason)
			} else {
				fmt.Fprintf(c.stdout, "FAIL: %s\n", ve.Reason)
			}
			return exitFailure
		}
		if err != nil {
			return fail(exitUsage, err)
		}
		fmt.Fprintf(c.stdout, "OK: %d entries, %d signed checkpoints verified (newest covers %d", rep.Size, rep.Checkpoints, rep.Latest)
		if rep.Unsigned > 0 {
			fmt.Fprintf(c.stdout, "; %d newer entries are not signed yet", rep.Unsigned)
		}
		fmt.Fprintf(c.stdout, ") in %s; origin %s\n", time.Since(start).Round(time.Millisecond), rep.Origin)
		fmt.Fprintf(c.stdout, "pairing: %d intents, %d completions, %d aborted, %d in flight\n", rep.Intents, rep.Completions, rep.Aborted, rep.InFlight)
		fmt.Fprintf(c.stdout, "other: %d requests, %d admin\n", rep.Requests, rep.Admin)
		return exitOK

	case "export":
		opt := audit.ExportOptions{Format: *format, Version: version}
		if *since != "" {
			if n, err := strconv.ParseInt(*since, 10, 64); err == nil && n >= 0 {
				opt.FromIndex = n
			} else if t, err := time.Parse(time.RFC3339Nano, *since); err == nil {
				opt.Since = t
			} else {
				fmt.Fprintln(c.stderr, "warden audit export: --since: want an entry index or an RFC 3339 time like 2026-01-02T15:04:05Z")
				return exitUsage
			}
		}
		if _, err := audit.Export(ctx, db, c.stdout, opt); err != nil {
			return fail(exitUsage, err)
		}
		return exitOK

	case "tail":
		next := *from
		if next < 0 {
			size, err := audit.Size(ctx, db)
			if err != nil {
				return fail(exitUsage, err)
			}
			next = max(0, size-10)
		}
		var line []byte
		for {
			err := audit.Entries(ctx, db, next, func(idx int64, entry []byte) error {
				var err error
				line, err = audit.FormatEntry(line[:0], idx, entry, *format, version)
				if err != nil {
					return err
				}
				next = idx + 1
				_, err = c.stdout.Write(line)
				return err
			})
			if err != nil {
				if ctx.Err() != nil {
					return exitOK
				}
				return fail(exitUsage, err)
			}
			select {
			case <-ctx.Done():
				return exitOK
			case <-time.After(*interval):
			}
		}

	case "proof":
		if *index < 0 {
			fmt.Fprintln(c.stderr, "warden audit proof: --index N is required")
			return exitUsage
		}
		vkey, err := verifierKey(false)
		if err != nil {
			return fail(exitUsage, err)
		}
		cp, err := audit.LatestCheckpointOf(ctx, db, vkey)
		if err != nil {
			return fail(exitFailure, err)
		}
		p, err := audit.Prove(ctx, db, *index, cp)
		if err != nil {
			return fail(exitFailure, err)
		}
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		enc.Encode(p)
		return exitOK
	}
	return exitUsage
}
