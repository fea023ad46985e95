package main

import (
	"context"
	"fmt"
	"os/user"

	"github.com/wardenhq/warden/audit"
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
