#!/usr/bin/env bash
# Gateway latency benchmark: how much latency `warden serve` adds in front
# of a model, measured open-loop (bench/cmd/loadgen) against the stand-in
# upstream (e2e/cmd/standin), all on this machine:
#
#   a. direct       loadgen → stand-in
#   a'. bare proxy  loadgen → httputil.ReverseProxy (bench/cmd/bareproxy,
#                   no protection) → stand-in: the cost of one more HTTP
#                   hop here, the floor under any gateway
#   b. protected    loadgen → warden (detect, tokenize via the vault, restore) → stand-in;
#                   each prompt has an email, SSN, phone and card number from a
#                   pool of 1000 value sets the vault has already tokenized
#   b'. protected-fresh  same, but every request carries values the vault has
#                   never seen (4 vault inserts per request), at FRESH_RATE
#   c. passthrough  loadgen → warden → stand-in, prompt with no findings
#   d. streamed chat, time to first byte: direct vs through warden
#
# Every request through warden is also written to the audit log (group
# commit to SQLite) before its response is sent.
#
# BASELINE=<git revision> also builds that revision's warden and runs the
# protected, passthrough and streamed scenarios through it in the same
# rounds (rows "… (baseline)"), so a change is measured against what it
# changes on the same machine at the same time.
#
# Prints markdown tables. Knobs (environment): RATE (500 req/s), FRESH_RATE
# (250 req/s), ROUNDS (3) of DURATION (3s measured per scenario and round,
# after WARMUP 1s),
# STREAM_RATE (50 req/s), STREAM_ROUNDS (2) of STREAM_DURATION (4s), OUT
# (directory for the per-round JSON reports; default a temp dir that is
# removed). Takes about 90 s plus build time.
# Everything shares the machine's cores, so the load generator, stand-in
# and gateway compete; run when `uptime` shows little other load.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
export RATE=${RATE:-500}
export DURATION=${DURATION:-3s}
export FRESH_RATE=${FRESH_RATE:-250}
export ROUNDS=${ROUNDS:-3}
export WARMUP=${WARMUP:-1s}
export STREAM_RATE=${STREAM_RATE:-50}
export STREAM_DURATION=${STREAM_DURATION:-4s}
export STREAM_ROUNDS=${STREAM_ROUNDS:-2}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/warden-bench.XXXXXX")
out=${OUT:-$tmp/out}
mkdir -p "$out"
pids=()

cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "bench: FAIL: $*" >&2
	exit 1
}

echo "bench: building" >&2
(cd "$root" && go build -o "$tmp/warden" ./cmd/warden && go build -o "$tmp/standin" ./e2e/cmd/standin &&
	go build -o "$tmp/loadgen" ./bench/cmd/loadgen && go build -o "$tmp/bareproxy" ./bench/cmd/bareproxy)
if [[ -n ${BASELINE:-} ]]; then
	echo "bench: building the baseline $BASELINE" >&2
	git -C "$root" worktree add -q --detach "$tmp/baseline-src" "$BASELINE"
	(cd "$tmp/baseline-src" && go build -o "$tmp/warden-base" ./cmd/warden)
	git -C "$root" worktree remove --force "$tmp/baseline-src"
fi

"$tmp/standin" -addr 127.0.0.1:0 -addr-file "$tmp/standin.addr" -delta 16 -models gpt-4o-mini 2>"$tmp/standin.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/standin.addr ]] && break; sleep 0.1; done
[[ -s $tmp/standin.addr ]] || fail "stand-in upstream did not start"
direct="http://$(cat "$tmp/standin.addr")/v1"
"$tmp/bareproxy" -addr-file "$tmp/bareproxy.addr" -upstream "http://$(cat "$tmp/standin.addr")" 2>"$tmp/bareproxy.log" &
pids+=($!)
for _ in $(seq 100); do [[ -s $tmp/bareproxy.addr ]] && break; sleep 0.1; done
[[ -s $tmp/bareproxy.addr ]] || fail "bare proxy did not start"
bare="http://$(cat "$tmp/bareproxy.addr")/v1"

export WARDEN_DATA_DIR="$tmp/data"
cat >"$tmp/warden.yaml" <<EOF
server:
  listen: 127.0.0.1:0
upstreams:
  - name: standin
    url: $direct
    key_env: BENCH_UPSTREAM_KEY
    models: [gpt-4o-mini]
EOF
BENCH_KEY=$("$tmp/warden" apikey create --name bench --models gpt-4o-mini --tenant bench 2>/dev/null | tail -n 1)
export BENCH_KEY
# serve BIN LOG DATA: start a gateway and print its base URL.
serve() {
	local bin=$1 log=$2
	WARDEN_DATA_DIR=$3 BENCH_UPSTREAM_KEY=sk-bench "$bin" serve --config "$tmp/warden.yaml" 2>"$log" &
	pids+=($!)
	local u=""
	for _ in $(seq 150); do
		u=$(grep -o '"url":"http://[^"]*/v1"' "$log" 2>/dev/null | head -n 1 | sed 's/"url":"\(.*\)"/\1/') || true
		[[ -n $u ]] && break
		sleep 0.1
	done
	[[ -n $u ]] || fail "$bin serve did not start"
	gw_url=$u
}
serve "$tmp/warden" "$tmp/serve.log" "$WARDEN_DATA_DIR"
gw=$gw_url
if [[ -n ${BASELINE:-} ]]; then
	mkdir -p "$tmp/data-base"
	BASE_KEY=$(WARDEN_DATA_DIR="$tmp/data-base" "$tmp/warden-base" apikey create --name bench --models gpt-4o-mini --tenant bench 2>/dev/null | tail -n 1)
	export BASE_KEY
	serve "$tmp/warden-base" "$tmp/serve-base.log" "$tmp/data-base"
	gwb=$gw_url
fi

load() { # name round url extra-flags...
	local name=$1 round=$2 url=$3
	shift 3
	echo "bench: round $round: $name" >&2
	"$tmp/loadgen" -scenario "$name" -url "$url" -warmup "$WARMUP" -timeout 5s -max-inflight 1000 "$@" \
		>"$out/$name.$round.json"
	jq -e '.ok > 0' "$out/$name.$round.json" >/dev/null || fail "$name: no successful request"
}

# Scenarios run interleaved, in ROUNDS short rounds, and the table shows
# the median over rounds of each number: a burst of load from other
# processes then spoils one round, not one scenario.
echo "bench: load before: $(uptime)" >&2
echo "bench: priming the vault with the 1000 recurring value sets" >&2
"$tmp/loadgen" -url "$gw" -key-env BENCH_KEY -rate 250 -n 1000 -warmup 0s -distinct 1000 >/dev/null
if [[ -n ${BASELINE:-} ]]; then
	"$tmp/loadgen" -url "$gwb" -key-env BASE_KEY -rate 250 -n 1000 -warmup 0s -distinct 1000 >/dev/null
fi
for r in $(seq "$ROUNDS"); do
	load direct "$r" "$direct" -rate "$RATE" -duration "$DURATION"
	load bare-proxy "$r" "$bare" -rate "$RATE" -duration "$DURATION"
	load protected "$r" "$gw" -key-env BENCH_KEY -rate "$RATE" -duration "$DURATION" -distinct 1000
	load protected-fresh "$r" "$gw" -key-env BENCH_KEY -rate "$FRESH_RATE" -duration "$DURATION" -distinct 100000 -seed $((100 + r))
	load passthrough "$r" "$gw" -key-env BENCH_KEY -rate "$RATE" -duration "$DURATION" -pii=false
	if [[ -n ${BASELINE:-} ]]; then
		load protected-base "$r" "$gwb" -key-env BASE_KEY -rate "$RATE" -duration "$DURATION" -distinct 1000
		load passthrough-base "$r" "$gwb" -key-env BASE_KEY -rate "$RATE" -duration "$DURATION" -pii=false
	fi
done
for r in $(seq "$STREAM_ROUNDS"); do
	load stream-direct "$r" "$direct" -stream -rate "$STREAM_RATE" -duration "$STREAM_DURATION"
	load stream-protected "$r" "$gw" -key-env BENCH_KEY -distinct 1000 -stream -rate "$STREAM_RATE" -duration "$STREAM_DURATION"
	if [[ -n ${BASELINE:-} ]]; then
		load stream-protected-base "$r" "$gwb" -key-env BASE_KEY -distinct 1000 -stream -rate "$STREAM_RATE" -duration "$STREAM_DURATION"
	fi
done
echo "bench: load after: $(uptime)" >&2

jq -r -s '
	def f: . * 100 | round / 100 | tostring;
	def med: sort | .[length / 2 | floor];
	def agg: {rounds: length, target_rps: .[0].target_rps, errors: (map(.errors) | add), sent: (map(.sent) | add),
		achieved_rps: (map(.achieved_rps) | med),
		p50: (map(.latency_ms.p50) | med), p90: (map(.latency_ms.p90) | med), p99: (map(.latency_ms.p99) | med),
		max: (map(.latency_ms.max) | max),
		t50: (map(.ttfb_ms.p50 // 0) | med), t99: (map(.ttfb_ms.p99 // 0) | med)};
	(group_by(.scenario) | map({(.[0].scenario): agg}) | add) as $r
	| $r.direct as $d | $r["stream-direct"] as $sd
	| "| scenario | target rps | rps achieved | p50 ms | p90 ms | p99 ms | max ms | errors/sent | added p50 | added p99 |",
	  "|---|---|---|---|---|---|---|---|---|---|",
	  ( ["direct", "bare-proxy", "protected", "protected-fresh", "passthrough", "protected-base", "passthrough-base"][] as $n | select($r[$n] != null) | $r[$n]
	    | "| \($n) | \(.target_rps) | \(.achieved_rps | f) | \(.p50 | f) | \(.p90 | f) | \(.p99 | f) | \(.max | f) | \(.errors)/\(.sent) | "
	      + (if $n == "direct" then "– | – |" else "\(.p50 - $d.p50 | f) | \(.p99 - $d.p99 | f) |" end) ),
	  "",
	  "| streamed chat | rps | TTFB p50 ms | TTFB p99 ms | total p50 ms | errors/sent | added TTFB p50 | added TTFB p99 |",
	  "|---|---|---|---|---|---|---|---|",
	  ( ["stream-direct", "stream-protected", "stream-protected-base"][] as $n | select($r[$n] != null) | $r[$n]
	    | "| \($n) | \(.achieved_rps | f) | \(.t50 | f) | \(.t99 | f) | \(.p50 | f) | \(.errors)/\(.sent) | "
	      + (if $n == "stream-direct" then "– | – |" else "\(.t50 - $sd.t50 | f) | \(.t99 - $sd.t99 | f) |" end) ),
	  "",
	  "Over the bare proxy (one more HTTP hop, no protection): protected p50 +\($r.protected.p50 - $r["bare-proxy"].p50 | f) ms, passthrough p50 +\($r.passthrough.p50 - $r["bare-proxy"].p50 | f) ms.",
	  "",
	  "Medians over \($d.rounds) rounds of \(env.DURATION) (streams: \($sd.rounds) rounds of \(env.STREAM_DURATION)); max is the max over rounds."
' "$out"/*.json

bad=$(jq -s '[.[] | select(.errors > 0) | .scenario] | unique | join(",")' -r "$out"/*.json)
if [[ -n $bad ]]; then
	echo "bench: errors in: $bad (see error_kinds in the JSON reports${OUT:+ in $OUT})" >&2
	jq -c 'select(.errors > 0) | {scenario, error_kinds}' "$out"/*.json >&2
fi
