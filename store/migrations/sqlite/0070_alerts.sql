-- Alerts and drift (package alerts): the state of the evaluator that tails
-- the audit log, the baselines it learnt (package drift), the alerts it
-- raised and their webhook deliveries. Times are Unix milliseconds.

-- The evaluator's one row: the next audit index to read (cursor), the
-- detector's global record, and version, bumped by every save, so an
-- evaluator that lost its lease cannot overwrite a newer state.
CREATE TABLE alerts_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    version    INTEGER NOT NULL,
    cursor     INTEGER NOT NULL,
    detector   BLOB,
    updated_at INTEGER NOT NULL
);
INSERT INTO alerts_state (id, version, cursor, detector, updated_at) VALUES (1, 0, 0, NULL, 0);

-- Which replica evaluates: the holder until expires_at (the database's
-- clock); another may take the lease once it has expired.
CREATE TABLE alerts_lease (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
);
INSERT INTO alerts_lease (id, holder, expires_at) VALUES (1, '', 0);

-- One row per drift series: (kind, principal, model, type) and its
-- baselines (drift's binary series record).
CREATE TABLE drift_series (
    kind      TEXT NOT NULL,
    principal TEXT NOT NULL,
    model     TEXT NOT NULL,
    type      TEXT NOT NULL,
    state     BLOB NOT NULL,
    PRIMARY KEY (kind, principal, model, type)
);

-- Alerts raised. event_at and entry_idx name the audit entry that raised
-- it; names and counts only, never a value.
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    created_at INTEGER NOT NULL,
    event_at   INTEGER NOT NULL,
    entry_idx  INTEGER NOT NULL,
    kind       TEXT    NOT NULL,
    severity   TEXT    NOT NULL,
    principal  TEXT    NOT NULL,
    model      TEXT    NOT NULL,
    type       TEXT    NOT NULL,
    server     TEXT    NOT NULL,
    tool       TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    value      REAL    NOT NULL,
    baseline   REAL    NOT NULL,
    sigma      REAL    NOT NULL,
    bucket     INTEGER NOT NULL,
    message    TEXT    NOT NULL
);
CREATE INDEX alerts_event_at ON alerts (event_at);

-- The webhook outbox: one row per alert and target, written with the
-- alert; state pending until delivered, or failed after the last try.
CREATE TABLE alert_deliveries (
    alert_id    INTEGER NOT NULL,
    target      TEXT    NOT NULL,
    state       TEXT    NOT NULL,
    attempts    INTEGER NOT NULL,
    next_at     INTEGER NOT NULL,
    last_status INTEGER NOT NULL,
    done_at     INTEGER NOT NULL,
    PRIMARY KEY (alert_id, target)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_at);
