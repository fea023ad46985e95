package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/wardenhq/warden/audit"
)

const keysHelp = `usage: warden keys <command> [flags]

Manages the key-encryption keys (KEKs) that wrap every tenant's data keys.

Commands:
  status   list KEK versions, which one is current, and how many data keys
           each wraps
  rotate   add a KEK version; new data keys are wrapped by it, older
           versions keep decrypting (add --rewrap to move existing keys)
  rewrap   re-wrap every stored data key under the current version,
           without touching the data they encrypt
  retire   delete an old version's key material (refused while data keys
           still use it, unless --force: those become unreadable)

Every command takes --config. Exit codes: 0 success, 1 failure,
2 usage, configuration or I/O error.
`

func runKeys(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.stderr, keysHelp)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "status", "rotate", "rewrap", "retire":
	default:
		fmt.Fprintf(c.stderr, "warden keys: unknown command %q\n\n%s", sub, keysHelp)
		return exitUsage
	}
	help := fmt.Sprintf("usage: warden keys %s [flags]\n\n(see 'warden keys --help')\n\nFlags:\n", sub)
	fs, configPath := vaultFlags(c, "keys "+sub, help)
	asJSON := fs.Bool("json", false, "status: print JSON")
	rewrap := fs.Bool("rewrap", false, "rotate: also rewrap every data key under the new version")
	version := fs.Uint("version", 0, "retire: the KEK `version` to retire")
	force := fs.Bool("force", false, "retire: even if data keys still use it (they become unreadable)")
	if code, done := parseVaultFlags(fs, rest); done {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(c.stderr, "warden keys %s: unexpected argument\n", sub)
		return exitUsage
	}
	cfg, ok := configOrExit(c, "keys "+sub, *configPath)
	if !ok {
		return exitUsage
	}
	v, closeVault, err := openVault(ctx, cfg, c)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden keys %s: %v\n", sub, err)
		return exitUsage
	}
	defer closeVault()
	kr := v.Keyring()
	fail := func(err error) int {
		fmt.Fprintf(c.stderr, "warden keys %s: %v\n", sub, err)
		return exitFailure
	}
	switch sub {
	case "status":
		vs, err := kr.Versions(ctx)
		if err != nil {
			return fail(err)
		}
		st, err := v.Stats(ctx)
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			type ver struct {
				Version  uint32     `json:"version"`
				Created  time.Time  `json:"created"`
				Retired  *time.Time `json:"retired,omitempty"`
				Current  bool       `json:"current"`
				DataKeys int64      `json:"data_keys"`
			}
			out := struct {
				Keyring  string `json:"keyring"`
				Tenants  int64  `json:"tenants"`
				Tokens   int64  `json:"tokens"`
				Versions []ver  `json:"versions"`
			}{Keyring: kr.Path(), Tenants: st.Tenants, Tokens: st.Tokens}
			for _, x := range vs {
				e := ver{Version: x.Version, Created: x.Created, Current: x.Current, DataKeys: st.DataKeys[x.Version]}
				if !x.Retired.IsZero() {
					r := x.Retired
					e.Retired = &r
				}
				out.Versions = append(out.Versions, e)
			}
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			enc.Encode(out)
			return exitOK
		}
		fmt.Fprintf(c.stdout, "keyring  %s\ntenants  %d\ntokens   %d\n\n", kr.Path(), st.Tenants, st.Tokens)
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "VERSION\tSTATE\tCREATED\tDATA KEYS")
		for _, x := range vs {
			state := "active"
			switch {
			case !x.Retired.IsZero():
				state = "retired " + x.Retired.Format(time.DateOnly)
			case x.Current:
				state = "current"
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%d\n", x.Version, state, x.Created.Format(time.RFC3339), st.DataKeys[x.Version])
		}
		tw.Flush()
		return exitOK
	case "rotate":
		nv, err := kr.Rotate(ctx)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(c.stdout, "KEK version %d is current: it wraps every new data key; older versions still decrypt\n", nv)
		if code := recordAdmin(ctx, cfg, c, kekRotatedEvent(nv)); code != exitOK {
			return code
		}
		if !*rewrap {
			fmt.Fprintln(c.stdout, "run 'warden keys rewrap' to move existing data keys to it")
			return exitOK
		}
		fallthrough
	case "rewrap":
		n, err := v.Rewrap(ctx)
		if err != nil {
			return fail(err)
		}
		na, err := audit.Rewrap(ctx, v.Store(), kr)
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(c.stdout, "rewrapped %d data keys and %d audit keys under KEK version %d\n", n, na, kr.Current())
		return recordAdmin(ctx, cfg, c, audit.AdminEvent{Action: "keys.rewrap", Target: "kek:" + strconv.FormatUint(uint64(kr.Current()), 10),
			Details: map[string]string{"data_keys": strconv.Itoa(n), "audit_keys": strconv.Itoa(na)}})
	case "retire":
		if *version == 0 || *version > 1<<32-1 {
			fmt.Fprintln(c.stderr, "warden keys retire: --version is required")
			return exitUsage
		}
		st, err := v.Stats(ctx)
		if err != nil {
			return fail(err)
		}
		if n := st.DataKeys[uint32(*version)]; n > 0 && !*force {
			fmt.Fprintf(c.stderr, "warden keys retire: %d data keys are still wrapped by version %d; run 'warden keys rewrap' first (or --force to make them unreadable)\n", n, *version)
			return exitFailure
		}
		av, err := audit.KEKVersions(ctx, v.Store())
		if err != nil {
			return fail(err)
		}
		if n := av[uint32(*version)]; n > 0 {
			// The audit log's signing key cannot be given up: the log
			// could no longer be extended.
			fmt.Fprintf(c.stderr, "warden keys retire: %d audit keys are still wrapped by version %d; run 'warden keys rewrap' first\n", n, *version)
			return exitFailure
		}
		if err := kr.Retire(ctx, uint32(*version)); err != nil {
			return fail(err)
		}
		fmt.Fprintf(c.stdout, "KEK version %s retired\n", strconv.FormatUint(uint64(*version), 10))
		return recordAdmin(ctx, cfg, c, audit.AdminEvent{Action: "keys.retire", Target: "kek:" + strconv.FormatUint(uint64(*version), 10)})
	}
	return exitUsage
}
