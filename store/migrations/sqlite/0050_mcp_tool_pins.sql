-- MCP tool pins: the approved definition of each tool of each MCP server,
-- as toolpin.Hash of its tools/list entry. The gateway refuses a tool whose
-- definition no longer hashes to its pin (a "rug pull"). Times are Unix
-- seconds.
CREATE TABLE mcp_tool_pins (
    server     TEXT    NOT NULL,
    tool       TEXT    NOT NULL,
    hash       TEXT    NOT NULL,
    pinned_by  TEXT    NOT NULL,
    pinned_at  INTEGER NOT NULL,
    PRIMARY KEY (server, tool)
);
