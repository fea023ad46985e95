-- Token-signing keys of the gateway's issuer (auth.Issuer). The Ed25519
-- private seed is sealed under the keyring's current KEK (AAD purpose
-- auth.signing_key, record = kid); the public key is kept in the clear
-- for the JWKS. A key signs until retire_at and is published until
-- expires_at, when its last token has expired. Times are Unix seconds.
CREATE TABLE auth_signing_keys (
    kid            TEXT    PRIMARY KEY,
    alg            TEXT    NOT NULL,
    public_key     BYTEA   NOT NULL,
    private_sealed BYTEA   NOT NULL,
    created_at     BIGINT  NOT NULL,
    retire_at      BIGINT  NOT NULL,
    expires_at     BIGINT  NOT NULL
);
