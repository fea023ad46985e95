#!/usr/bin/env bash
# Detection throughput, whole process including start-up: warden detect
# --jsonl over a 9 MB mixed corpus, side by side with gitleaks on the same
# file. Prints MB/s for each and the ratio. Usage: bench/detect.sh [MB]
set -euo pipefail
cd "$(dirname "$0")/.."
mb=${1:-9}
out=${TMPDIR:-/tmp}/warden-bench
mkdir -p "$out"
go build -o "$out/warden" ./cmd/warden
go run ./bench/cmd/mkcorpus -bytes $((mb << 20)) > "$out/corpus.txt"
GITLEAKS=$(go env GOPATH)/bin/gitleaks
if [ ! -x "$GITLEAKS" ]; then
  go install github.com/zricethezav/gitleaks/v8@v8.30.1
fi
bytes=$(stat -c %s "$out/corpus.txt")
run() { # name, runs, command…
  local name=$1 runs=$2; shift 2
  local best=999999
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s.%N)
    if ! "$@" > /dev/null 2> "$out/$name.err"; then
      echo "bench: $name failed:" >&2; cat "$out/$name.err" >&2; exit 1
    fi
    t1=$(date +%s.%N)
    best=$(python3 -c "print(min($best, $t1 - $t0))")
  done
  python3 -c "print('%-10s %6.2f s  %8.2f MB/s' % ('$name', $best, $bytes / 1e6 / $best))"
  echo "$best" > "$out/$name.t"
}
echo "corpus: $bytes bytes ($out/corpus.txt); whole process, best of 3 runs (gitleaks: 1 run)"
run warden 3 "$out/warden" detect --jsonl "$out/corpus.txt"
eval=../shared/eval/pii-dev.jsonl
if [ -f "$eval" ]; then
  # The evaluation corpus's texts, one a line, repeated to the same size:
  # denser than the mixed corpus (about 13 findings per KB).
  python3 -c "
import json, sys
docs = [json.loads(l)['text'].replace('\\n', ' ') + '\\n' for l in open('$eval')]
out, n = open('$out/dense.txt', 'w'), 0
while n < $bytes:
    for d in docs:
        out.write(d); n += len(d.encode())
"
  dbytes=$(stat -c %s "$out/dense.txt")
  bytes_save=$bytes; bytes=$dbytes
  echo "dense corpus: $dbytes bytes ($out/dense.txt)"
  run warden-dense 3 "$out/warden" detect --jsonl "$out/dense.txt"
  bytes=$bytes_save
fi
# gitleaks replaces the file at --report-path (as root it would turn a
# device such as /dev/null into a regular file): give it one of ours.
run gitleaks 1 "$GITLEAKS" detect --no-git --no-banner --redact --exit-code 0 --source "$out/corpus.txt" --report-format json --report-path "$out/gitleaks-report.json"
python3 -c "w=float(open('$out/warden.t').read()); g=float(open('$out/gitleaks.t').read()); print('throughput ratio warden/gitleaks: %.2f (gitleaks looks for secrets only; warden for every built-in type)' % (g / w))"
