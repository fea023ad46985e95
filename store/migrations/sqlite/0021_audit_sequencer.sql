-- The audit log's sequencer on SQLite is the entries table itself: a
-- write transaction (BEGIN IMMEDIATE) already excludes every other
-- writer, so the next index is MAX(idx) + 1, and keeping audit_state in
-- step cost a second page written to the WAL on every commit.
-- PostgreSQL keeps audit_state: its row lock orders appends of several
-- processes.
DROP TABLE audit_state;
