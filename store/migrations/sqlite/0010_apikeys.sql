-- Gateway API keys. Only a SHA-256 of each key's 256-bit secret is kept;
-- the key itself is shown once, at creation. Times are Unix seconds.
CREATE TABLE api_keys (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    secret_sha BLOB    NOT NULL,
    tenant     TEXT    NOT NULL,
    models     TEXT    NOT NULL,
    roles      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX api_keys_name ON api_keys (name);
