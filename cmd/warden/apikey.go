package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wardenhq/warden/auth"
)

const apikeyHelp = `usage: warden apikey <command> [flags]

Manages the API keys callers present to the gateway (Authorization:
Bearer or X-Api-Key). A key is shown once, when created; only a hash of
its secret is stored.

Commands:
  create   --name N --models a,b [--roles r1,r2] [--tenant T]
           [--expires 720h|2027-01-01T00:00:00Z]
           make a key; details go to stderr, the key is the last line
           of stdout
  list     [--json] every key: id, name, tenant, models, roles, state
           (never a secret)
  revoke   ID|NAME  disable the key with that id, or every active key
           with that name; running gateways stop accepting it within
           auth.api_keys.cache_ttl (default 5s)

Every command takes --config. Exit codes: 0 success, 1 failure,
2 usage, configuration or I/O error.
`

func runAPIKey(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.stderr, apikeyHelp)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "create", "list", "revoke":
	default:
		fmt.Fprintf(c.stderr, "warden apikey: unknown command %q\n\n%s", sub, apikeyHelp)
		return exitUsage
	}
	help := fmt.Sprintf("usage: warden apikey %s [flags]\n\n(see 'warden apikey --help')\n\nFlags:\n", sub)
	fs, configPath := vaultFlags(c, "apikey "+sub, help)
	name := fs.String("name", "", "create: the key's `name` (the principal it authenticates)")
	models := fs.String("models", "", "create: comma-separated `models` the key may use (* for all)")
	roles := fs.String("roles", "", "create: comma-separated `roles`")
	tenant := fs.String("tenant", "", "create: `tenant` whose vault the key's requests use (default \"default\")")
	expires := fs.String("expires", "", "create: lifetime (e.g. 720h) or an RFC 3339 `time`; default never")
	asJSON := fs.Bool("json", false, "list, create: print JSON")
	positional, code, done := parseInterleaved(fs, rest)
	if done {
		return code
	}
	switch {
	case sub == "revoke" && len(positional) != 1:
		fmt.Fprintln(c.stderr, "warden apikey revoke: name one key id or name")
		return exitUsage
	case sub != "revoke" && len(positional) > 0:
		fmt.Fprintf(c.stderr, "warden apikey %s: unexpected argument\n", sub)
		return exitUsage
	}
	var spec auth.KeySpec
	if sub == "create" {
		if *name == "" || *models == "" {
			fmt.Fprintln(c.stderr, "warden apikey create: --name and --models are required")
			return exitUsage
		}
		spec = auth.KeySpec{Name: *name, Tenant: *tenant, Models: splitCSV(*models), Roles: splitCSV(*roles)}
		if *expires != "" {
			t, err := parseExpiry(*expires, time.Now())
			if err != nil {
				fmt.Fprintf(c.stderr, "warden apikey create: --expires: %v\n", err)
				return exitUsage
			}
			spec.Expires = t
		}
	}
	cfg, ok := configOrExit(c, "apikey "+sub, *configPath)
	if !ok {
		return exitUsage
	}
	db, err := openStore(ctx, cfg)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden apikey %s: %v\n", sub, err)
		return exitUsage
	}
	defer db.Close()
	keys := auth.NewAPIKeys(db, 0, nil)
	fail := func(err error) int {
		fmt.Fprintf(c.stderr, "warden apikey %s: %v\n", sub, err)
		return exitFailure
	}
	switch sub {
	case "create":
		key, info, err := keys.Create(ctx, spec)
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			enc.Encode(info)
		} else {
			fmt.Fprintf(c.stderr, "created API key %s\n  name     %s\n  tenant   %s\n  models   %s\n  roles    %s\n  expires  %s\n",
				info.ID, info.Name, info.Tenant, strings.Join(info.Models, ","), orDash(strings.Join(info.Roles, ",")), formatTime(info.ExpiresAt, "never"))
			fmt.Fprintln(c.stderr, "Store the key now: it is not shown again. It is the last line of stdout.")
		}
		fmt.Fprintln(c.stdout, key)
		return recordAdmin(ctx, cfg, c, apikeyCreatedEvent(info))
	case "list":
		list, err := keys.List(ctx)
		if err != nil {
			return fail(err)
		}
		if *asJSON {
			if list == nil {
				list = []auth.KeyInfo{}
			}
			enc := json.NewEncoder(c.stdout)
			enc.SetIndent("", "  ")
			enc.Encode(list)
			return exitOK
		}
		now := time.Now()
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tTENANT\tMODELS\tROLES\tCREATED\tEXPIRES\tSTATE")
		for _, k := range list {
			state := "active"
			switch {
			case !k.RevokedAt.IsZero():
				state = "revoked " + k.RevokedAt.Format(time.RFC3339)
			case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
				state = "expired"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Name, k.Tenant, strings.Join(k.Models, ","),
				orDash(strings.Join(k.Roles, ",")), k.CreatedAt.Format(time.RFC3339), formatTime(k.ExpiresAt, "never"), state)
		}
		tw.Flush()
		return exitOK
	case "revoke":
		n, err := keys.Revoke(ctx, positional[0])
		if errors.Is(err, auth.ErrNotFound) {
			fmt.Fprintln(c.stderr, "warden apikey revoke: no active key has that id or name")
			return exitFailure
		}
		if err != nil {
			return fail(err)
		}
		fmt.Fprintf(c.stdout, "revoked %d key(s); running gateways refuse them within auth.api_keys.cache_ttl\n", n)
		return recordAdmin(ctx, cfg, c, apikeyRevokedEvent(positional[0], n))
	}
	return exitUsage
}

// parseInterleaved parses flags that may come before or after the
// positional arguments (apikey revoke NAME --config F).
func parseInterleaved(fs *flag.FlagSet, args []string) (positional []string, code int, done bool) {
	for {
		if code, done := parseVaultFlags(fs, args); done {
			return nil, code, true
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, 0, false
		}
		if args[0] == "--" {
			return append(positional, args[1:]...), 0, false
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// parseExpiry reads a lifetime (720h) or an RFC 3339 time.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, errors.New("lifetime must be positive")
		}
		return now.Add(d), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("want a duration like 720h or an RFC 3339 time like 2027-01-01T00:00:00Z")
	}
	if !t.After(now) {
		return time.Time{}, errors.New("time is in the past")
	}
	return t, nil
}

func splitCSV(s string) []string {
	var out []string
	for f := range strings.SplitSeq(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func formatTime(t time.Time, zero string) string {
	if t.IsZero() {
		return zero
	}
	return t.Format(time.RFC3339)
}
