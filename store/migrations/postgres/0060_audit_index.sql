-- Audit index (package auditindex): a copy of the audit log's searchable
-- fields, one row per entry, and hourly rollups, for the console. It is
-- derived from audit_entries and rebuildable (`warden audit index
-- --rebuild`); nothing in it is authoritative and the log never reads it.
-- Times are Unix seconds, except time_us (Unix microseconds).

-- The indexer's cursor: entries before next are indexed. Every batch
-- moves it in the transaction that writes the batch's rows.
CREATE TABLE audit_index_state (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    next       BIGINT  NOT NULL,
    updated_at BIGINT  NOT NULL
);
INSERT INTO audit_index_state (id, next, updated_at) VALUES (1, 0, 0);

-- One row per entry. Completions and aborted entries repeat the model,
-- upstream, zone, endpoint, decision, server and tool of their intent;
-- admin entries keep their actor in principal. findings is a JSON object
-- of counts by type (an MCP completion's result findings).
CREATE TABLE audit_index (
    idx        BIGINT  PRIMARY KEY,
    time_us    BIGINT  NOT NULL,
    kind       TEXT    NOT NULL,
    principal  TEXT    NOT NULL,
    tenant     TEXT    NOT NULL,
    model      TEXT    NOT NULL,
    upstream   TEXT    NOT NULL,
    zone       TEXT    NOT NULL,
    endpoint   TEXT    NOT NULL,
    decision   TEXT    NOT NULL,
    status     BIGINT  NOT NULL,
    error      TEXT    NOT NULL,
    findings   TEXT    NOT NULL,
    restored   BIGINT  NOT NULL,
    leaks      BIGINT  NOT NULL,
    request_id TEXT    NOT NULL,
    server     TEXT    NOT NULL,
    tool       TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    target     TEXT    NOT NULL,
    intent     BIGINT  NOT NULL
);
-- Each filter is an equality on one column, read newest first: (col, idx).
CREATE INDEX audit_index_principal ON audit_index (principal, idx);
CREATE INDEX audit_index_tenant    ON audit_index (tenant, idx);
CREATE INDEX audit_index_model     ON audit_index (model, idx);
CREATE INDEX audit_index_decision  ON audit_index (decision, idx);
CREATE INDEX audit_index_status    ON audit_index (status, idx);
CREATE INDEX audit_index_kind      ON audit_index (kind, idx);
CREATE INDEX audit_index_error     ON audit_index (error, idx);
CREATE INDEX audit_index_action    ON audit_index (action, idx);
CREATE INDEX audit_index_request   ON audit_index (request_id);

-- Per hour (Unix seconds at the start of the hour, by entry time): how
-- many entries and the smallest and largest index among them, so that a
-- time window becomes an index range.
CREATE TABLE audit_index_hours (
    hour    BIGINT  PRIMARY KEY,
    entries BIGINT  NOT NULL,
    min_idx BIGINT  NOT NULL,
    max_idx BIGINT  NOT NULL
);

-- Requests (request and intent entries), refusals (request entries with
-- an error or a status of 400 or more), findings, leaks and restores
-- (completions, counted under their intent's model and zone) per hour.
CREATE TABLE audit_rollup_requests (
    hour      BIGINT  NOT NULL,
    model     TEXT    NOT NULL,
    zone      TEXT    NOT NULL,
    requests  BIGINT  NOT NULL,
    refusals  BIGINT  NOT NULL,
    findings  BIGINT  NOT NULL,
    leaks     BIGINT  NOT NULL,
    restores  BIGINT  NOT NULL,
    PRIMARY KEY (hour, model, zone)
);

-- Data flows: requests sent upstream (intents) by tenant, principal,
-- finding category ('' for requests without findings), model and zone,
-- with the findings of the category they carried, per hour and (the
-- same counts, for long windows) per UTC day.
CREATE TABLE audit_rollup_flows (
    hour      BIGINT  NOT NULL,
    tenant    TEXT    NOT NULL,
    principal TEXT    NOT NULL,
    category  TEXT    NOT NULL,
    model     TEXT    NOT NULL,
    zone      TEXT    NOT NULL,
    requests  BIGINT  NOT NULL,
    findings  BIGINT  NOT NULL,
    PRIMARY KEY (hour, tenant, principal, category, model, zone)
);
CREATE TABLE audit_rollup_flows_daily (
    day       BIGINT  NOT NULL,
    tenant    TEXT    NOT NULL,
    principal TEXT    NOT NULL,
    category  TEXT    NOT NULL,
    model     TEXT    NOT NULL,
    zone      TEXT    NOT NULL,
    requests  BIGINT  NOT NULL,
    findings  BIGINT  NOT NULL,
    PRIMARY KEY (day, tenant, principal, category, model, zone)
);

-- Refusals by reason (the gateway's error code) per hour.
CREATE TABLE audit_rollup_refusals (
    hour   BIGINT  NOT NULL,
    reason TEXT    NOT NULL,
    count  BIGINT  NOT NULL,
    PRIMARY KEY (hour, reason)
);

-- Findings by type (and the type's category) per hour.
CREATE TABLE audit_rollup_findings (
    hour     BIGINT  NOT NULL,
    type     TEXT    NOT NULL,
    category TEXT    NOT NULL,
    count    BIGINT  NOT NULL,
    PRIMARY KEY (hour, type)
);
