package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/transform"
)

const vaultHelp = `usage: warden vault <command> [flags]

Erases originals from the token vault.

Commands:
  forget --tenant T --token TOKEN…   delete the originals behind these
                                     tokens (e.g. a GDPR erasure request);
                                     tokens may also be given as arguments
  shred  --tenant T --yes            destroy the tenant's keys: every token
                                     it ever issued becomes permanently
                                     unrestorable (crypto-shredding)
  purge                              delete originals past their retention
                                     (vault.ttl); they are already
                                     unrestorable

Every command takes --config. Exit codes: 0 success, 1 failure or
nothing to erase, 2 usage, configuration or I/O error.
`

func runVault(ctx context.Context, c *cli, args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(c.stderr, vaultHelp)
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "forget", "shred", "purge":
	default:
		fmt.Fprintf(c.stderr, "warden vault: unknown command %q\n\n%s", sub, vaultHelp)
		return exitUsage
	}
	help := fmt.Sprintf("usage: warden vault %s [flags]\n\n(see 'warden vault --help')\n\nFlags:\n", sub)
	fs, configPath := vaultFlags(c, "vault "+sub, help)
	tenant := fs.String("tenant", "", "forget, shred: the tenant")
	var tokens tokenList
	fs.Var(&tokens, "token", "forget: a `token` to forget (repeatable)")
	yes := fs.Bool("yes", false, "shred: confirm; without it shred refuses")
	if code, done := parseVaultFlags(fs, rest); done {
		return code
	}
	tokens = append(tokens, fs.Args()...)
	switch sub {
	case "forget":
		if *tenant == "" || len(tokens) == 0 {
			fmt.Fprintln(c.stderr, "warden vault forget: --tenant and at least one --token are required")
			return exitUsage
		}
	case "shred":
		if *tenant == "" {
			fmt.Fprintln(c.stderr, "warden vault shred: --tenant is required")
			return exitUsage
		}
		if !*yes {
			fmt.Fprintf(c.stderr, "warden vault shred: this destroys every original of tenant %s for good; add --yes to confirm\n", *tenant)
			return exitUsage
		}
	}
	if sub != "forget" && len(tokens) > 0 {
		fmt.Fprintf(c.stderr, "warden vault %s: unexpected argument\n", sub)
		return exitUsage
	}
	// Parse every token before erasing anything.
	var refs []transform.TokenRef
	for i, t := range tokens {
		t = strings.TrimSpace(t)
		found := transform.FindTokens(t)
		if len(found) != 1 || found[0].Start != 0 || found[0].End != len(t) {
			fmt.Fprintf(c.stderr, "warden vault forget: token %d is not one well-formed token like [[TYPE:ID]]\n", i+1)
			return exitUsage
		}
		refs = append(refs, found[0])
	}
	cfg, ok := configOrExit(c, "vault "+sub, *configPath)
	if !ok {
		return exitUsage
	}
	v, closeVault, err := openVault(ctx, cfg, c)
	if err != nil {
		fmt.Fprintf(c.stderr, "warden vault %s: %v\n", sub, err)
		return exitUsage
	}
	defer closeVault()
	switch sub {
	case "forget":
		tn := v.Tenant(*tenant)
		missing := 0
		for i, ref := range refs {
			ok, err := tn.Forget(ctx, ref)
			if err != nil {
				fmt.Fprintf(c.stderr, "warden vault forget: token %d: %v\n", i+1, err)
				return exitFailure
			}
			if ok {
				fmt.Fprintf(c.stdout, "forgot %s\n", strings.TrimSpace(tokens[i]))
			} else {
				missing++
				fmt.Fprintf(c.stderr, "warden vault forget: %s: not in tenant %s's vault\n", strings.TrimSpace(tokens[i]), *tenant)
			}
		}
		if code := recordAdmin(ctx, cfg, c, audit.AdminEvent{Action: "vault.forget", Tenant: *tenant,
			Details: map[string]string{"tokens": strconv.Itoa(len(refs) - missing)}}); code != exitOK {
			return code
		}
		if missing > 0 {
			return exitFailure
		}
	case "shred":
		ok, err := v.Shred(ctx, *tenant)
		if err != nil {
			fmt.Fprintf(c.stderr, "warden vault shred: %v\n", err)
			return exitFailure
		}
		if !ok {
			fmt.Fprintf(c.stderr, "warden vault shred: no tenant %s in the vault\n", *tenant)
			return exitFailure
		}
		fmt.Fprintf(c.stdout, "shredded tenant %s: its keys are destroyed and none of its tokens can be restored\n", *tenant)
		return recordAdmin(ctx, cfg, c, tenantShreddedEvent(*tenant))
	case "purge":
		n, err := v.Purge(ctx)
		if err != nil {
			fmt.Fprintf(c.stderr, "warden vault purge: %v\n", err)
			return exitFailure
		}
		fmt.Fprintf(c.stdout, "purged %d expired originals\n", n)
	}
	return exitOK
}

// tokenList collects repeated --token flags.
type tokenList []string

func (l *tokenList) String() string     { return strings.Join(*l, " ") }
func (l *tokenList) Set(s string) error { *l = append(*l, s); return nil }
