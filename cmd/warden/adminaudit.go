package main

import (
	"context"
	"fmt"
	"os/user"
	"strconv"
	"strings"

	"github.com/wardenhq/warden/audit"
	"github.com/wardenhq/warden/auth"
)

// recordAdmin writes one administrative act to the audit log: who ran
// which command on what, never a value. It opens the log next to the
// config's store and keyring (as a gateway would), records, signs a
// checkpoint and closes. A failure is reported on stderr and turns the
// command's exit code into 1: the act happened but is not in the log.
func recordAdmin(ctx context.Context, cfg *Config, c *cli, ev audit.AdminEvent) int {
	if ev.Actor == "" {
		ev.Actor = "cli"
		if u, err := user.Current(); err == nil {
			ev.Actor = "cli:" + u.Username
		}
	}
	err := func() error {
		db, err := openStore(ctx, cfg)
		if err != nil {
			return err
		}
		defer db.Close()
		kr, closeKeys, err := openKeyring(ctx, cfg, c)
		if err != nil {
			return err
		}
		defer closeKeys()
		l, err := audit.Open(ctx, audit.Config{Store: db, Keyring: kr, Origin: cfg.Audit.Origin, CheckpointInterval: -1})
		if err != nil {
			return err
		}
		if _, err := l.RecordAdmin(ctx, ev); err != nil {
			l.Close()
			return err
		}
		return l.Close()
	}()
	if err != nil {
		fmt.Fprintf(c.stderr, "warden: %s was done but could not be recorded in the audit log: %v\n", ev.Action, err)
		return exitFailure
	}
	return exitOK
}

// The audit entries of the administrative acts the CLI commands and the
// console share, so that an act reads the same in the log whoever did
// it (the actor is set by the caller).

// apikeyCreatedEvent is the entry of `apikey create`.
func apikeyCreatedEvent(info auth.KeyInfo) audit.AdminEvent {
	return audit.AdminEvent{Action: "apikey.create", Target: info.ID, Tenant: info.Tenant,
		Details: map[string]string{"name": info.Name, "models": strings.Join(info.Models, ","), "roles": strings.Join(info.Roles, ",")}}
}

// apikeyRevokedEvent is the entry of `apikey revoke ID|NAME` that
// revoked n keys.
func apikeyRevokedEvent(idOrName string, n int) audit.AdminEvent {
	return audit.AdminEvent{Action: "apikey.revoke", Target: idOrName, Details: map[string]string{"keys": strconv.Itoa(n)}}
}

// kekRotatedEvent is the entry of `keys rotate` that made version v
// current.
func kekRotatedEvent(v uint32) audit.AdminEvent {
	return audit.AdminEvent{Action: "keys.rotate", Target: "kek:" + strconv.FormatUint(uint64(v), 10)}
}

// tenantShreddedEvent is the entry of `vault shred`.
func tenantShreddedEvent(tenant string) audit.AdminEvent {
	return audit.AdminEvent{Action: "vault.shred", Tenant: tenant, Target: tenant}
}
