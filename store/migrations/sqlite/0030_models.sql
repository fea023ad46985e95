-- Model registry: which model artifacts were scanned, signed and approved
-- for serving. The gateway refuses models an upstream requires approval for
-- unless they are here with approved = 1. Times are Unix seconds.
CREATE TABLE models (
    name        TEXT    PRIMARY KEY,
    root_digest TEXT    NOT NULL,
    files       INTEGER NOT NULL,
    signer      TEXT    NOT NULL,
    verdict     TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    licence     TEXT    NOT NULL,
    approved    INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
