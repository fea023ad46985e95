#!/usr/bin/env bash
# The agent demo: an agent looks up a customer in a CRM and updates a
# ticket, with Warden between it and both the model and the CRM.
#
#   examples/agent/run.sh        # from anywhere; needs go and jq
#
#   agent ──/v1 (OpenAI API)──▶ warden ──▶ model (examples/agent/model, scripted)
#         ──/mcp/crm (MCP)────▶ warden ──▶ CRM MCP server (examples/agent/crm)
#
# Builds warden and the example's three programs into a temp dir, starts
# the CRM and the model, creates an API key for the agent, approves the
# CRM's tool definitions (`warden mcp approve`), starts `warden serve` and
# runs the agent. Then prints what the model saw (every request body
# Warden sent it: tokens only), what the tool received (the CRM's log:
# the real email in update_ticket) and the audit entries of the MCP calls.
# Exits non-zero if the model saw a raw value, the tool did not get the
# real one, or the agent's final answer does not carry it.
#
# AGENT_DEMO_DIR=DIR uses DIR (kept) instead of a temp dir (removed on
# success); AGENT_DEMO_QUIET=1 prints only the result sections.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
if [[ -n ${AGENT_DEMO_DIR:-} ]]; then
	tmp=$(mkdir -p "$AGENT_DEMO_DIR" && cd "$AGENT_DEMO_DIR" && pwd)
else
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/warden-agent.XXXXXX")
fi
pids=()
ok=0

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [[ $ok == 1 && -z ${AGENT_DEMO_DIR:-} ]]; then
		rm -rf "$tmp"
	elif [[ $ok != 1 ]]; then
		echo "demo: files kept in $tmp" >&2
		for f in serve.log crm.log model.log; do
			[[ -s $tmp/$f ]] && { echo "--- $f (tail)" >&2; tail -n 15 "$tmp/$f" >&2; }
		done
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { [[ -n ${AGENT_DEMO_QUIET:-} ]] || echo "demo: $*"; }
fail() {
	echo "demo: FAIL: $*" >&2
	exit 1
}

# The CRM's record (examples/agent/crm): the values that must never reach
# the model.
name="Dana Whitlock"
email=dana.whitlock@example.net
phone="+1 415 555 0142"

say "building warden and the example into $tmp"
(cd "$root" && go build -o "$tmp/" ./cmd/warden ./examples/agent/crm ./examples/agent/model ./examples/agent/agent)

# wait_file FILE WHAT: waits for a non-empty file written by a server.
wait_file() {
	for _ in $(seq 100); do [[ -s $1 ]] && return 0; sleep 0.1; done
	fail "$2 did not start"
}

export CRM_MCP_TOKEN="crm-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
"$tmp/crm" -addr 127.0.0.1:0 -addr-file "$tmp/crm.addr" 2>"$tmp/crm.log" &
pids+=($!)
"$tmp/model" -addr 127.0.0.1:0 -addr-file "$tmp/model.addr" -record "$tmp/model.jsonl" 2>"$tmp/model.log" &
pids+=($!)
wait_file "$tmp/crm.addr" "the CRM"
wait_file "$tmp/model.addr" "the model"
export CRM_URL="http://$(cat "$tmp/crm.addr")/mcp"
export MODEL_URL="http://$(cat "$tmp/model.addr")/v1"
export WARDEN_DATA_DIR="$tmp/data" WARDEN_LISTEN=127.0.0.1:0
cfg=$here/warden.yaml
say "CRM at $CRM_URL, model at $MODEL_URL"

say "warden apikey create --name agent --models '*' --roles support --tenant acme"
key=$("$tmp/warden" apikey create --config "$cfg" --name agent --models '*' --roles support --tenant acme 2>"$tmp/apikey.log" | tail -n 1)
[[ $key == wdn_* ]] || { cat "$tmp/apikey.log" >&2; fail "apikey create did not print a key"; }

say "warden mcp approve --server crm --yes"
"$tmp/warden" mcp approve --config "$cfg" --server crm --yes >"$tmp/approve.log" 2>&1 ||
	{ cat "$tmp/approve.log" >&2; fail "warden mcp approve"; }
[[ -n ${AGENT_DEMO_QUIET:-} ]] || sed 's/^/  /' "$tmp/approve.log"

say "warden serve"
"$tmp/warden" serve --config "$cfg" 2>"$tmp/serve.log" &
serve_pid=$!
pids+=("$serve_pid")
url=""
for _ in $(seq 150); do
	url=$(grep -o '"url":"http://[^"]*/v1"' "$tmp/serve.log" 2>/dev/null | head -n 1 | sed 's/"url":"\(.*\)\/v1"/\1/') || true
	[[ -n $url ]] && break
	kill -0 "$serve_pid" 2>/dev/null || fail "warden serve exited"
	sleep 0.1
done
[[ -n $url ]] || fail "warden serve did not report its address"

say "agent -url $url"
WARDEN_API_KEY=$key "$tmp/agent" -url "$url" >"$tmp/agent.out" 2>"$tmp/agent.log" ||
	{ cat "$tmp/agent.out" "$tmp/agent.log" >&2; fail "the agent failed"; }
[[ -n ${AGENT_DEMO_QUIET:-} ]] || sed 's/^/  /' "$tmp/agent.out"

# The servers stop before the audit log is read: every entry is written.
for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
pids=()

echo
msgfmt='"  \(.role): " + (if .tool_calls then (.tool_calls | map("call " + .function.name + " " + .function.arguments) | join("; ")) else (.content | tostring) end)'
echo "== What the model saw ($(wc -l <"$tmp/model.jsonl") requests; the last one's messages, which hold the others')"
tail -n 1 "$tmp/model.jsonl" | jq -r ".body | fromjson | .messages[] | $msgfmt"
echo "  and what it answered last: $(grep '^model: answer: ' "$tmp/model.log" | tail -n 1 | sed 's/^model: answer: //')"
echo
echo "== What the tool received (the CRM's log)"
grep -F 'update_ticket received:' "$tmp/crm.log" | sed 's/^/  /' || true
echo
echo "== The agent's final answer (Warden restored the token for the agent's tenant)"
grep '^final answer: ' "$tmp/agent.out" | sed 's/^/  /' || true
echo
echo "== Audit entries of the MCP tool calls (warden audit export)"
"$tmp/warden" audit export --config "$cfg" >"$tmp/audit.jsonl" 2>"$tmp/audit.log" ||
	{ cat "$tmp/audit.log" >&2; fail "warden audit export"; }
jq -c -s '(map(select(.kind == "completion")) | map({key: (.intent | tostring), value: .}) | from_entries) as $done
	| .[] | select(.kind == "admin" and .action == "mcp.approve" or .mcp.method == "tools/call")
	| if .kind == "admin" then {index, action, target, details}
	  else {index, principal, tenant, server: .mcp.server, tool: .mcp.tool, tool_hash: .mcp.tool_hash, decision,
		args_findings: .findings, result_findings: $done[.index | tostring].mcp.result_findings} end' \
	"$tmp/audit.jsonl" | sed 's/^/  /'
echo

# The checks.
[[ -s $tmp/model.jsonl ]] || fail "the model saw no request"
for v in "$name" "$email" "$phone" "${phone// /}" "$key" "$CRM_MCP_TOKEN"; do
	if grep -qF -- "$v" "$tmp/model.jsonl"; then fail "the model saw a raw value (or a credential)"; fi
done
grep -qE '\[\[EMAIL_ADDRESS:[0-9A-Z]+\]\]' "$tmp/model.jsonl" || fail "the model saw no email token"
grep -qF "update_ticket received: " "$tmp/crm.log" || fail "update_ticket was not called"
if ! grep -F 'update_ticket received: ' "$tmp/crm.log" | grep -qF "\"email\":\"$email\""; then
	fail "update_ticket did not receive the real email"
fi
grep '^final answer: ' "$tmp/agent.out" | grep -qF "$email" || fail "the final answer does not carry the real email"
jq -e -s 'any(.[]; .mcp.tool == "update_ticket" and (.mcp.tool_hash | startswith("sha256:")))' "$tmp/audit.jsonl" >/dev/null ||
	fail "no audit entry for update_ticket with its definition's hash"
echo "demo: ok: the model saw only tokens; update_ticket received the real email; the agent's answer has it restored"
ok=1
