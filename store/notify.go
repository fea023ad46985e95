package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// How a listener keeps its connection: it checks the connection when no
// notification came for listenPing, and reconnects after a failure,
// waiting listenRetryMin, doubling up to listenRetryMax.
const (
	listenPing     = 30 * time.Second
	listenRetryMin = 100 * time.Millisecond
	listenRetryMax = 30 * time.Second
)

// Listen calls fn for every PostgreSQL NOTIFY on channel, from a
// connection of its own, until [DB.Close]. fn is also called once each
// time that connection is (re)established, since notifications sent
// while it was down are lost; fn must not block. On SQLite Listen does
// nothing (there are no notifications) and reports false.
//
// Notifications are an accelerator: a listener that is down misses them
// silently, so callers must stay correct without them (poll too).
func (db *DB) Listen(channel string, fn func()) bool {
	if db.engine != Postgres {
		return false
	}
	db.bgWG.Add(1)
	go func() {
		defer db.bgWG.Done()
		wait := listenRetryMin
		for {
			connected, _ := db.listenOnce(db.bg, channel, fn)
			if connected {
				wait = listenRetryMin
			}
			select {
			case <-db.bg.Done():
				return
			case <-time.After(wait):
			}
			wait = min(2*wait, listenRetryMax)
		}
	}()
	return true
}

// listenOnce connects, listens and delivers until the connection fails
// or ctx ends. connected reports whether LISTEN took effect.
func (db *DB) listenOnce(ctx context.Context, channel string, fn func()) (connected bool, err error) {
	cctx, cancel := context.WithTimeout(ctx, db.timeout)
	conn, err := pgx.Connect(cctx, db.dsn)
	cancel()
	if err != nil {
		return false, Scrub(err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), db.timeout)
		conn.Close(cctx)
		cancel()
	}()
	lctx, cancel := context.WithTimeout(ctx, db.timeout)
	_, err = conn.Exec(lctx, "LISTEN "+pgx.Identifier{channel}.Sanitize())
	cancel()
	if err != nil {
		return false, Scrub(err)
	}
	fn()
	for {
		wctx, cancel := context.WithTimeout(ctx, listenPing)
		_, err := conn.WaitForNotification(wctx)
		cancel()
		switch {
		case err == nil:
			fn()
			continue
		case ctx.Err() != nil:
			return true, ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded):
			return true, Scrub(err)
		}
		// Quiet for listenPing: make sure the connection still works.
		pctx, cancel := context.WithTimeout(ctx, db.timeout)
		err = conn.Ping(pctx)
		cancel()
		if err != nil {
			return true, Scrub(err)
		}
	}
}

// Notify sends a notification on channel when tx commits (PostgreSQL),
// for [DB.Listen]ers in every process; on SQLite it does nothing.
func (db *DB) Notify(ctx context.Context, tx *sql.Tx, channel string) error {
	if db.engine != Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, "SELECT pg_notify($1, '')", channel); err != nil {
		return fmt.Errorf("store: notify: %w", err)
	}
	return nil
}
