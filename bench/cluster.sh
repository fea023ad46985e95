#!/usr/bin/env bash
# Sizing and scale-out benchmark: how many requests a second one `warden
# serve` does per core of CPU it uses, protected (an email, SSN, phone and
# card number in every prompt, tokenized through the vault and restored in
# the answer) and passthrough (no findings); its memory under load; and the
# throughput of 1, 2 and 3 replicas on one PostgreSQL database and one Redis
# (limits) — and which process used the CPU, so the table says what
# saturates first.
#
# Each run drives the replicas at saturation: bench/cmd/loadgen, open loop at
# a rate above what the gateway can do, with at most INFLIGHT requests in
# flight (beyond that a due request is dropped and counted apart), so the
# gateway always has INFLIGHT requests to work on, like that many
# closed-loop clients. With N replicas, N loadgens (one per replica, each
# RATE/N and INFLIGHT/N) run at once and their answers add up.
#
# CPU is read from /proc/PID/stat (user + system time) before and after each
# run for: the replicas, the PostgreSQL backends serving the benchmark's
# database (pg_stat_activity; the shared walwriter/checkpointer are not
# counted), redis-server, the stand-in upstream (e2e/cmd/standin) and the
# loadgens. Memory is each replica's VmHWM (peak RSS) from /proc/PID/status
# after the run. PostgreSQL transactions/s come from pg_stat_database
# (xact_commit: read-only transactions count too). The machine's busy time
# (/proc/stat) less all of those is "other processes": whatever else runs
# on the machine.
#
#   sqlite      one replica, SQLite store in its data directory, no Redis
#   pg-1|2|3    1, 2, 3 replicas on one PostgreSQL database (created here,
#               dropped at the end) with limits in Redis (a default limit
#               high enough never to refuse, so every request asks Redis)
#
# Knobs (environment): PG (postgres:// URL of a server where a database may
# be created; default $WARDEN_TEST_POSTGRES, else
# postgres://postgres@127.0.0.1:5432/test?sslmode=disable), REDIS
# (host:port; default $WARDEN_TEST_REDIS, else 127.0.0.1:6379), RATE (4000
# req/s offered), INFLIGHT (64), ROUNDS (3) of DURATION (5s after WARMUP 1s),
# REPLICAS ("1 2 3"), OUT (directory for the JSON reports; default a temp
# dir that is removed). Prints a markdown table; takes about 5 minutes plus
# build time. Everything shares the machine's cores: run it when `uptime`
# shows little other load.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
PG=${PG:-${WARDEN_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}}
REDIS=${REDIS:-${WARDEN_TEST_REDIS:-127.0.0.1:6379}}
RATE=${RATE:-4000}
INFLIGHT=${INFLIGHT:-64}
ROUNDS=${ROUNDS:-3}
DURATION=${DURATION:-5s}
WARMUP=${WARMUP:-1s}
REPLICAS=${REPLICAS:-"1 2 3"}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/warden-cluster-bench.XXXXXX")
out=${OUT:-$tmp/out}
mkdir -p "$out"
db="warden_bench_$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
pgdb=$(echo "$PG" | sed -E "s#^(postgres(ql)?://[^/]+)/[^?]*#\1/$db#")
pids=()
replica_pids=()
db_created=""

cleanup() {
	for p in "${pids[@]}" "${replica_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}" "${replica_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [[ -n $db_created ]]; then psql -q "$PG" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
fail() {
	echo "bench: FAIL: $*" >&2
	exit 1
}
command -v jq >/dev/null || fail "needs jq"
command -v psql >/dev/null || fail "needs psql"
tck=$(getconf CLK_TCK)

echo "bench: building" >&2
(cd "$root" && go build -o "$tmp/warden" ./cmd/warden && go build -o "$tmp/standin" ./e2e/cmd/standin &&
	go build -o "$tmp/loadgen" ./bench/cmd/loadgen)

"$tmp/standin" -addr 127.0.0.1:0 -addr-file "$tmp/standin.addr" -delta 16 -models gpt-4o-mini 2>"$tmp/standin.log" &
standin_pid=$!
pids+=("$standin_pid")
for _ in $(seq 100); do [[ -s $tmp/standin.addr ]] && break; sleep 0.1; done
[[ -s $tmp/standin.addr ]] || fail "stand-in upstream did not start"
upstream="http://$(cat "$tmp/standin.addr")/v1"
redis_pid=$(pgrep -o -x redis-server || true)

# ticks PID...: user+system CPU ticks of the processes (0 for gone ones).
ticks() {
	local sum=0 p t
	for p in "$@"; do
		t=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)
		sum=$((sum + t))
	done
	echo "$sum"
}
now() { date +%s.%N; }
# machine_busy: CPU ticks the whole machine spent busy (all processes).
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
# pg_backends: pids of the PostgreSQL backends connected to the database.
pg_backends() {
	psql -At "$PG" -c "SELECT pid FROM pg_stat_activity WHERE datname = '$db'" 2>/dev/null | tr '\n' ' '
}
pg_commits() {
	psql -At "$PG" -c "SELECT xact_commit FROM pg_stat_database WHERE datname = '$db'" 2>/dev/null || echo 0
}

# serve CONFIG LOG: start a replica, wait until it listens; sets gw_url, gw_pid.
serve() {
	"$tmp/warden" serve --config "$1" 2>"$2" &
	gw_pid=$!
	replica_pids+=("$gw_pid")
	local u=""
	for _ in $(seq 300); do
		u=$(grep -o '"url":"http://[^"]*/v1"' "$2" 2>/dev/null | head -n 1 | sed 's/"url":"\(.*\)"/\1/') || true
		[[ -n $u ]] && break
		kill -0 "$gw_pid" 2>/dev/null || fail "warden serve exited: $(tail -n 5 "$2")"
		sleep 0.1
	done
	[[ -n $u ]] || fail "warden serve did not start"
	gw_url=$u
}
stop_replicas() {
	for p in "${replica_pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${replica_pids[@]}"; do wait "$p" 2>/dev/null || true; done
	replica_pids=()
}

# measure SETUP SCENARIO ROUND URL... -- LOADGEN-FLAGS...: one saturating
# run through the given replica URLs (one loadgen each); writes
# $out/SETUP.SCENARIO.ROUND.sum.json.
measure() {
	local setup=$1 scenario=$2 round=$3
	shift 3
	local urls=()
	while [[ $1 != -- ]]; do
		urls+=("$1")
		shift
	done
	shift
	local n=${#urls[@]} lpids=() i p
	local rate inflight
	rate=$(awk -v r="$RATE" -v n="$n" 'BEGIN { printf "%.0f", r / n }')
	inflight=$(((INFLIGHT + n - 1) / n))
	local b0 w0 pg0 rd0 st0 c0 m0 t0
	b0=$(pg_backends)
	# shellcheck disable=SC2086 # word splitting of pid lists is intended
	pg0=$(ticks $b0)
	w0=$(ticks "${replica_pids[@]}")
	# shellcheck disable=SC2086
	rd0=$(ticks $redis_pid)
	st0=$(ticks "$standin_pid")
	c0=$(pg_commits)
	m0=$(machine_busy)
	t0=$(now)
	for i in $(seq 0 $((n - 1))); do
		"$tmp/loadgen" -scenario "$setup.$scenario" -url "${urls[$i]}" -key-env BENCH_KEY -rate "$rate" \
			-max-inflight "$inflight" -duration "$DURATION" -warmup "$WARMUP" -timeout 10s -seed $((round * 10 + i + 1)) "$@" \
			>"$out/$setup.$scenario.$round.$i.json" &
		lpids+=($!)
	done
	# The loadgens' own CPU is sampled while they run: their /proc
	# entries go when they exit.
	local lt=0 t alive
	while :; do
		alive=0
		for p in "${lpids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		[[ $alive == 1 ]] || break
		t=$(ticks "${lpids[@]}")
		((t > lt)) && lt=$t
		sleep 0.2
	done
	for p in "${lpids[@]}"; do wait "$p" || fail "loadgen failed"; done
	local t1 w1 pg1 rd1 st1 c1 m1 rss=""
	t1=$(now)
	m1=$(machine_busy)
	w1=$(ticks "${replica_pids[@]}")
	# shellcheck disable=SC2046,SC2086
	pg1=$(ticks $(echo "$b0 $(pg_backends)" | tr ' ' '\n' | sort -u))
	# shellcheck disable=SC2086
	rd1=$(ticks $redis_pid)
	st1=$(ticks "$standin_pid")
	c1=$(pg_commits)
	for p in "${replica_pids[@]}"; do
		rss="$rss $(awk '/^VmHWM/ {print $2}' "/proc/$p/status")"
	done
	jq -s --arg setup "$setup" --arg scenario "$scenario" --argjson round "$round" --argjson n "$n" \
		--argjson wall "$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" --argjson tck "$tck" \
		--argjson warden $((w1 - w0)) --argjson pg $((pg1 - pg0)) --argjson redis $((rd1 - rd0)) \
		--argjson standin $((st1 - st0)) --argjson loadgen "$lt" --argjson commits $((c1 - c0)) --argjson machine $((m1 - m0)) --arg rss "$rss" '
		{setup: $setup, scenario: $scenario, round: $round, replicas: $n,
		 rps: (map(.achieved_rps) | add), ok: (map(.ok) | add),
		 dropped: (map(.error_kinds["dropped: too many in flight"] // 0) | add),
		 errors: (map(.errors - (.error_kinds["dropped: too many in flight"] // 0)) | add),
		 p50: (map(.latency_ms.p50) | max), p99: (map(.latency_ms.p99) | max),
		 cpu: {warden: ($warden / $tck / $wall), postgres: ($pg / $tck / $wall), redis: ($redis / $tck / $wall),
		       standin: ($standin / $tck / $wall), loadgen: ($loadgen / $tck / $wall), machine: ($machine / $tck / $wall)},
		 commits_per_s: ($commits / $wall),
		 rss_mib: ($rss | split(" ") | map(select(. != "") | tonumber / 1024 | round))}' \
		"$out/$setup.$scenario.$round".[0-9]*.json >"$out/$setup.$scenario.$round.sum.json"
	jq -c '{setup, scenario, round, rps: (.rps | round), errors, cpu: (.cpu | map_values(. * 100 | round)), commits_per_s: (.commits_per_s | round), rss_mib}' \
		"$out/$setup.$scenario.$round.sum.json" >&2
}

# keys CONFIG: make the benchmark's API key; sets BENCH_KEY.
keys() {
	BENCH_KEY=$("$tmp/warden" apikey create --config "$1" --name bench --models gpt-4o-mini --tenant bench 2>/dev/null | tail -n 1)
	export BENCH_KEY
}

# rounds SETUP URL...: prime the vault with the recurring value sets, then
# ROUNDS rounds of protected and passthrough.
rounds() {
	local setup=$1
	shift
	echo "bench: $setup: priming the vault" >&2
	"$tmp/loadgen" -url "$1" -key-env BENCH_KEY -rate 250 -n 1000 -warmup 0s -distinct 1000 >/dev/null
	local r
	for r in $(seq "$ROUNDS"); do
		echo "bench: $setup: round $r" >&2
		measure "$setup" protected "$r" "$@" -- -distinct 1000
		measure "$setup" passthrough "$r" "$@" -- -pii=false
	done
}

echo "bench: load before: $(uptime)" >&2

# One replica on SQLite.
cat >"$tmp/sqlite.yaml" <<EOF
data_dir: $tmp/sqlite-data
server:
  listen: 127.0.0.1:0
upstreams:
  - name: standin
    url: $upstream
    models: [gpt-4o-mini]
EOF
keys "$tmp/sqlite.yaml"
serve "$tmp/sqlite.yaml" "$tmp/sqlite.log"
rounds sqlite "$gw_url"
stop_replicas

# 1, 2, 3 replicas on one PostgreSQL database and Redis.
psql -q "$PG" -c "CREATE DATABASE $db" >/dev/null || fail "cannot create database $db on \$PG"
db_created=1
cat >"$tmp/pg.yaml" <<EOF
data_dir: $tmp/pg-data
store:
  dsn: $pgdb
server:
  listen: 127.0.0.1:0
  limits:
    redis: redis://$REDIS
    default: {requests_per_minute: 100000000}
upstreams:
  - name: standin
    url: $upstream
    models: [gpt-4o-mini]
EOF
keys "$tmp/pg.yaml"
for n in $REPLICAS; do
	urls=()
	for i in $(seq "$n"); do
		serve "$tmp/pg.yaml" "$tmp/pg-$n-$i.log"
		urls+=("$gw_url")
	done
	rounds "pg-$n" "${urls[@]}"
	stop_replicas
done
echo "bench: load after: $(uptime)" >&2

jq -r -s --arg rounds "$ROUNDS" --arg dur "$DURATION" --arg inflight "$INFLIGHT" '
	def f0: round | tostring;
	def f1: . * 10 | round / 10 | tostring;
	def med: sort | .[length / 2 | floor];
	group_by(.setup + "/" + .scenario) | map({
		setup: .[0].setup, scenario: .[0].scenario, replicas: .[0].replicas,
		rps: (map(.rps) | med), p50: (map(.p50) | med), p99: (map(.p99) | med),
		errors: (map(.errors) | add),
		warden: (map(.cpu.warden) | med), postgres: (map(.cpu.postgres) | med), redis: (map(.cpu.redis) | med),
		standin: (map(.cpu.standin) | med), loadgen: (map(.cpu.loadgen) | med),
		other: (map(.cpu.machine - .cpu.warden - .cpu.postgres - .cpu.redis - .cpu.standin - .cpu.loadgen) | med),
		commits: (map(.commits_per_s) | med), rss: (map(.rss_mib | max) | max)})
	| sort_by(.scenario, .setup)
	| "| setup | traffic | replicas | req/s | req/s per warden core | p50 ms | p99 ms | CPU warden | CPU postgres | CPU redis | CPU stand-in | CPU loadgen | CPU other processes | PG transactions/s | peak RSS per replica MiB | errors |",
	  "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
	  (.[] | "| \(.setup) | \(.scenario) | \(.replicas) | \(.rps | f0) | \(.rps / .warden | f0) | \(.p50 | f1) | \(.p99 | f1) | \(.warden * 100 | f0)% | \(.postgres * 100 | f0)% | \(.redis * 100 | f0)% | \(.standin * 100 | f0)% | \(.loadgen * 100 | f0)% | \(.other * 100 | f0)% | \(.commits | f0) | \(.rss | f0) | \(.errors) |"),
	  "",
	  "Medians over \($rounds) rounds of \($dur) at saturation (\($inflight) requests in flight); CPU in % of one core (200% = this whole machine; other processes: the rest of the machine, not of this benchmark); PG transactions: xact_commit of the database, read-only ones included; RSS is the peak (VmHWM) of the largest replica."
' "$out"/*.sum.json

bad=$(jq -s '[.[] | select(.errors > 0) | .setup + "." + .scenario] | unique | join(",")' -r "$out"/*.sum.json)
if [[ -n $bad ]]; then
	echo "bench: errors (other than drops at saturation) in: $bad (see error_kinds in the JSON reports${OUT:+ in $OUT})" >&2
fi
