#!/usr/bin/env bash
# Console API latency at one million audit entries: builds a log of
# scripted traffic (14 days, 40 principals, 8 models) through the real
# audit log and indexer, then times every GET endpoint through the
# console's HTTP handler (p50/p99 of 40 calls). On SQLite, and on
# PostgreSQL too when WARDEN_TEST_POSTGRES is set. The goal is < 200 ms.
# WARDEN_CONSOLE_MILLION=N builds N entries instead.
set -euo pipefail
cd "$(dirname "$0")/.."
engines=sqlite
if [ -n "${WARDEN_TEST_POSTGRES:-}" ]; then engines=sqlite,postgres; fi
WARDEN_CONSOLE_MILLION=${WARDEN_CONSOLE_MILLION:-1} WARDEN_CONSOLE_ENGINES=$engines \
  go test -count=1 -run TestConsoleMillion -v -timeout 60m ./console/ | grep -E "wrote|indexed|latency|p50|ok|FAIL"
