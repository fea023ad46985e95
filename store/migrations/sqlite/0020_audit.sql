-- Tamper-evident audit log (package audit): an RFC 6962 Merkle tree over
-- canonical JSON entries. Times are Unix seconds.

-- One row per entry; idx counts from 0. entry is the canonical JSON the
-- leaf hash is taken over; hashes is the concatenation of the tree's
-- stored hashes this entry completes (golang.org/x/mod/sumdb/tlog
-- StoredHashes: level 0 first, 32 bytes each), from which tiles and
-- proofs are served. `warden audit verify` recomputes both.
CREATE TABLE audit_entries (
    idx        INTEGER PRIMARY KEY,
    entry      BLOB    NOT NULL,
    hashes     BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

-- The sequencer: one row holding the tree size. Every append locks it,
-- so entries from all processes form one log.
CREATE TABLE audit_state (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    size INTEGER NOT NULL
);
INSERT INTO audit_state (id, size) VALUES (1, 0);

-- Signed checkpoints (C2SP tlog-checkpoint notes), one per published size.
CREATE TABLE audit_checkpoints (
    size       INTEGER PRIMARY KEY,
    note       BLOB    NOT NULL,
    created_at INTEGER NOT NULL
);

-- The log's secrets, sealed by the keyring (package keys): "signer" is
-- the Ed25519 seed of the checkpoint key, named origin; "root" the
-- secret the per-tenant commitment keys are derived from.
CREATE TABLE audit_keys (
    name        TEXT    PRIMARY KEY,
    origin      TEXT    NOT NULL,
    kek_version INTEGER NOT NULL,
    wrapped     BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);
