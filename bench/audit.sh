#!/usr/bin/env bash
# Audit log speed: appends/s on SQLite (and PostgreSQL when
# WARDEN_TEST_POSTGRES is set) with concurrent callers, and the time to
# verify a log of one million entries.
set -euo pipefail
cd "$(dirname "$0")/.."
go test -run XXX -bench 'Record|AppendBatch' -benchtime 2s ./audit/
WARDEN_AUDIT_MILLION=1 go test -count=1 -run TestVerifyMillion -v ./audit/ | grep -E "built|verified|ok|FAIL"
