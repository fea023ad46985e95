-- Token vault: tenants, their wrapped data keys and encrypted originals.
-- Times are Unix seconds. Every secret column holds ciphertext made by
-- package keys; nothing here is readable without the key-encryption key.

CREATE TABLE tenants (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    name       TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

-- One row per tenant and purpose ("value" encrypts originals, "index"
-- keys the blind index). wrapped = the data key sealed by the KEK
-- version kek_version. Deleting the rows is crypto-shredding.
CREATE TABLE data_keys (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id   INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    purpose     TEXT    NOT NULL,
    kek_version INTEGER NOT NULL,
    wrapped     BLOB    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (tenant_id, purpose)
);
CREATE INDEX data_keys_kek_version ON data_keys (kek_version);

-- id is the token identifier (a prefix of mac), mac the full blind index
-- HMAC-SHA256(index key, type || 0x00 || value), value the sealed original.
-- The type is inside the MAC, so id alone is unique within a tenant.
CREATE TABLE tokens (
    tenant_id  INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    type       TEXT    NOT NULL,
    id         BLOB    NOT NULL,
    mac        BLOB    NOT NULL,
    value      BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (tenant_id, id)
) WITHOUT ROWID;
CREATE INDEX tokens_expires_at ON tokens (expires_at) WHERE expires_at IS NOT NULL;
