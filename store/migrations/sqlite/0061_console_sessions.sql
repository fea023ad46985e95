-- Console sessions (package console). A session is a random 256-bit
-- token in the browser's cookie; only its SHA-256 is kept here, with the
-- principal the API key it was opened with authenticated (key_id, the
-- key's public id, so that revoking the key ends the session). roles is
-- comma-separated. Times are Unix seconds.
CREATE TABLE console_sessions (
    token_sha  BLOB    PRIMARY KEY,
    principal  TEXT    NOT NULL,
    tenant     TEXT    NOT NULL,
    roles      TEXT    NOT NULL,
    key_id     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX console_sessions_expires ON console_sessions (expires_at);
