-- Erasure generation: Forget adds one to its tenant's generation in the
-- transaction that deletes the original; Shred deletes the tenant row (a
-- tenant made again under the name gets a new id). Every process checks
-- (id, generation) before it trusts what it cached for the tenant, so an
-- erasure is final everywhere within vault.invalidation_interval.
ALTER TABLE tenants ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
