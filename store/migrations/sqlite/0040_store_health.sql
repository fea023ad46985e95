-- One row that DB.CheckWrite rewrites to prove the write path works
-- (readiness), without growing anything. checked_at is Unix seconds.
CREATE TABLE store_health (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at INTEGER NOT NULL
);
INSERT INTO store_health (id, checked_at) VALUES (1, 0);
