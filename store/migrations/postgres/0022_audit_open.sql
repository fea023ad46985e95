-- Open intents of the audit log (package audit, docs/AUDIT.md).
--
-- A gateway request that goes upstream is two entries: an intent,
-- durable before the upstream is called, and a completion (or an
-- aborted entry) that closes it. audit_open holds one row per intent
-- not yet closed: inserted in the transaction that appends the intent,
-- deleted in the one that appends its completion or aborted entry.
-- writer names the audit_writers row of the process that wrote it.
CREATE TABLE audit_open (
    idx        BIGINT  PRIMARY KEY,
    writer     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

-- One row per open audit log (a gateway, a CLI command). beat is the
-- last heartbeat in Unix milliseconds by the database's clock; the
-- writer is dead when beat + ttl_ms is in the past, and another log
-- then closes its open intents with aborted entries and deletes the row.
-- started_at is Unix seconds.
CREATE TABLE audit_writers (
    id         TEXT    PRIMARY KEY,
    started_at BIGINT  NOT NULL,
    beat       BIGINT  NOT NULL,
    ttl_ms     BIGINT  NOT NULL
);
