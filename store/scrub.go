package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// Scrub returns err with a message that says what kind of failure it is
// (a timeout, a refused connection, a PostgreSQL SQLSTATE, a SQLite result
// code, an errno) and nothing else. Driver messages name the database's
// host, port, user and database, and file errors the path; a scrubbed
// error can be shown where the DSN must not be (a readiness answer).
// errors.Is and errors.As still see err.
func Scrub(err error) error {
	if err == nil {
		return nil
	}
	var te *TimeoutError
	if errors.As(err, &te) {
		return te // its message is already safe
	}
	return &scrubbed{msg: describe(err), err: err}
}

type scrubbed struct {
	msg string
	err error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.err }

// describe names the class of err in words that hold no part of the
// DSN, the statement or a path.
func describe(err error) string {
	var (
		pe    *pgconn.PgError
		ce    *pgconn.ConnectError
		se    *sqlite.Error
		errno syscall.Errno
		ne    net.Error
		pathE *fs.PathError
	)
	switch {
	case errors.Is(err, errMissingHealthRow):
		return errMissingHealthRow.Error()
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline exceeded"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &pe):
		// The code, never the message: messages quote roles, databases
		// and values ("password authentication failed for user …").
		return "PostgreSQL error SQLSTATE " + pe.Code
	case errors.As(err, &ce):
		if inner := ce.Unwrap(); inner != nil {
			return "cannot connect to PostgreSQL: " + describe(inner)
		}
		return "cannot connect to PostgreSQL"
	case errors.As(err, &se):
		if s, ok := sqlite.ErrorCodeString[se.Code()]; ok {
			return "SQLite: " + s
		}
		return fmt.Sprintf("SQLite result code %d", se.Code())
	case errors.As(err, &errno):
		return errno.Error()
	case errors.As(err, &ne):
		if ne.Timeout() {
			return "network timeout"
		}
		return "network error"
	case errors.As(err, &pathE):
		return "file error"
	case errors.Is(err, sql.ErrConnDone), errors.Is(err, sql.ErrTxDone):
		return "connection closed"
	}
	return "unexpected error"
}
