#!/usr/bin/env bash
# The console in a real browser (console.test.mjs): Debian's Chromium,
# driven by playwright-core, against a real `warden serve` with
# console.enabled, after a scripted load through the OpenAI-compatible
# API to the built-in echo upstream.
#
#   e2e/console/run.sh    # from anywhere; exits non-zero on any failure
#
# Builds warden, creates an admin API key (`warden apikey create --roles
# admin`) and two callers' keys, starts the gateway on a free port with a
# fresh data dir, and runs the test with `node --test` on the machine's
# Node (>= 20). Screenshots of every page land in e2e/console/screenshots/
# (a CI artifact). Then checks that no raw value the load sent is in the
# gateway's log or data dir. Needs go, node and npm, and Chromium at
# /usr/bin/chromium (CHROMIUM overrides; scripts/test.sh installs
# Debian's package when it is missing). E2E_KEEP=1 keeps the temp dir.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/warden-console-e2e.XXXXXX")
pids=()
ok=0
start=$(date +%s)

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [[ $ok == 1 && -z ${E2E_KEEP:-} ]]; then
		rm -rf "$tmp"
	else
		echo "console e2e: files kept in $tmp" >&2
		[[ -f $tmp/serve.log ]] && { echo "--- gateway log (tail)" >&2; tail -n 20 "$tmp/serve.log" >&2; }
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "console e2e: FAIL: $*" >&2
	exit 1
}

chromium=${CHROMIUM:-/usr/bin/chromium}
[[ -x $chromium ]] || fail "no Chromium at $chromium (apt-get install chromium, or set CHROMIUM)"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[[ $node_major -ge 20 ]] || fail "node $(node --version) is too old: playwright-core needs >= 20"

npm_pid=""
if [[ ! -f $here/node_modules/.package-lock.json || $here/package-lock.json -nt $here/node_modules/.package-lock.json ]]; then
	echo "console e2e: npm ci (in the background)"
	(cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) >"$tmp/npm-ci.log" 2>&1 &
	npm_pid=$!
fi
echo "console e2e: building warden"
(cd "$root" && go build -o "$tmp/warden" ./cmd/warden)
if [[ -n $npm_pid ]] && ! wait "$npm_pid"; then
	cat "$tmp/npm-ci.log" >&2
	fail "npm ci"
fi

export WARDEN_DATA_DIR="$tmp/data"
cat >"$tmp/warden.yaml" <<YAML
data_dir: $tmp/data
server:
  listen: 127.0.0.1:0
auth:
  api_keys:
    cache_ttl: 1s
upstreams:
  # No url: the built-in echo upstream.
  - name: echo-eu
    zone: eu
    models: [gpt-4o-mini, gpt-4o]
  - name: echo-us
    zone: us
    models: [claude-test]
policy:
  rules:
    # Not hit by the load (no health data): it is there for the Policy page.
    - name: health-stays-onprem
      when: has_category("HEALTH")
      zones: [onprem]
console:
  enabled: true
YAML

key() { # name tenant models roles
	local k
	k=$("$tmp/warden" apikey create --config "$tmp/warden.yaml" --name "$1" --tenant "$2" --models "$3" ${4:+--roles "$4"} 2>>"$tmp/apikey.log" | tail -n 1)
	[[ $k == wdn_* ]] || fail "apikey create $1 did not print a key"
	echo "$k"
}
admin_key=$(key console-admin acme gpt-4o-mini admin)
app1=$(key support-bot acme gpt-4o-mini,claude-test)
app2=$(key hr-agent globex gpt-4o-mini)

echo "console e2e: starting warden serve"
"$tmp/warden" serve --config "$tmp/warden.yaml" 2>"$tmp/serve.log" &
pids+=($!)
url=""
for _ in $(seq 150); do
	url=$(grep -o '"url":"http://[^"]*/v1"' "$tmp/serve.log" 2>/dev/null | head -n 1 | sed 's/"url":"\(.*\)\/v1"/\1/') || true
	[[ -n $url ]] && break
	kill -0 "${pids[0]}" 2>/dev/null || fail "warden serve exited"
	sleep 0.1
done
[[ -n $url ]] || fail "warden serve did not report its address"
curl -fsS "$url/healthz" >/dev/null || fail "gateway /healthz"

echo "console e2e: Chromium $("$chromium" --version 2>/dev/null | awk '{print $2}'), playwright-core $(node -p "require('$here/node_modules/playwright-core/package.json').version"), axe-core $(node -p "require('$here/node_modules/axe-core/package.json').version")"
rm -rf "$here/screenshots"
(cd "$here" && WARDEN_URL="$url" ADMIN_KEY="$admin_key" APP_KEYS="$app1,$app2" CHROMIUM="$chromium" SHOTS="$here/screenshots" \
	node --test --test-reporter=spec --test-timeout=120000 console.test.mjs) || fail "browser test"

echo "console e2e: checking the gateway log and data dir for raw values"
for v in 'jane.roe+console@example.org' '4111 1111 1111 1111' '4111111111111111' 'AKIA2QX7N4M9RB3TLV6P'; do
	if grep -qF -- "$v" "$tmp/serve.log"; then fail "a raw value is in the gateway log"; fi
	if grep -rqaF -- "$v" "$WARDEN_DATA_DIR"; then fail "a raw value is in the data dir"; fi
done
for v in "$admin_key" "$app1" "$app2"; do
	if grep -qF -- "$v" "$tmp/serve.log"; then fail "an API key is in the gateway log"; fi
done

ok=1
echo "console e2e: PASS ($(ls "$here/screenshots" | wc -l) screenshots in e2e/console/screenshots, $(($(date +%s) - start))s)"
