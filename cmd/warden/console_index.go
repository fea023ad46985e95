package main

import (
	"context"
	"fmt"
	"time"
)

const auditIndexHelp = `usage: warden audit index [--config FILE] [--rebuild]

Brings the audit index (the console's searchable copy of the audit log,
with hourly rollups) up to date with the log, printing progress on
stderr. 'warden serve' does this every console.index_interval when the
console is enabled; run this to catch up a large log offline. With
--rebuild it first empties the index and indexes the whole log again
(after damage, or when detect: custom types change category). Safe to run
beside gateways: each entry is indexed once.

Exit codes: 0 done, 1 failure, 2 usage, configuration or I/O error.

Flags:
`

// runAuditIndex is `warden audit index`.
func runAuditIndex(ctx context.Context, c *cli, args []string) int {
	fs, configPath := vaultFlags(c, "audit index", auditIndexHelp)
	rebuild := fs.Bool("rebuild", false, "empty the index and index the whole log again")
	if code, done := parseVaultFlags(fs, args); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(c.stderr, "warden audit index: unexpected argument")
		return exitUsage
	}
	cfg, ok := configOrExit(c, "audit index", *configPath)
	if !ok {
		return exitUsage
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden audit index: %v\n", err)
		return exitUsage
	}
	defer db.Close()
	idx, err := newAuditIndex(cfg, db)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden audit index: %v\n", err)
		return exitUsage
	}
	start := time.Now()
	last, from := time.Time{}, int64(-1)
	progress := func(next, size int64) {
		if from < 0 {
			from = next
		}
		if now := time.Now(); now.Sub(last) >= time.Second || next >= size {
			last = now
			rate := float64(next-from) / max(now.Sub(start).Seconds(), 1e-3)
			fmt.Fprintf(c.stderr, "indexed %d of %d entries (%.0f/s)\n", next, size, rate)
		}
	}
	if *rebuild {
		err = idx.Rebuild(ctx, progress)
	} else {
		err = idx.CatchUp(ctx, progress)
	}
	if err != nil {
		fmt.Fprintf(c.stderr, "warden audit index: %v\n", err)
		return exitFailure
	}
	fmt.Fprintf(c.stderr, "audit index up to date in %s\n", time.Since(start).Round(time.Millisecond))
	return exitOK
}
