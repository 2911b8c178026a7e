#!/usr/bin/env bash
# bench/chaos.sh — how long squall's chaos faults take to apply and to
# revert, inside a pair of network namespaces this script creates and
# removes. A benchmark, not a test: it prints numbers and never fails on a
# timing.
#
#   bench/chaos.sh [SQUALL_BINARY]      (root; RUNS=10 by default)
#
# For each fault it runs `squall chaos FAULT ... --for 300ms --out RUN` RUNS
# times and reads apply_ns (scheduled -> applied, journal fdatasync
# included) and revert_ns (TTL end -> reverted and verified) from
# RUN/events.jsonl; it prints the median and the maximum of each in ms.
set -uo pipefail
squall=${1:-build/squall}
src=$(cd "$(dirname "$0")/.." && pwd)
runs=${RUNS:-10}
SQUALL=$squall
. "$src/tests/lib/netns.sh"
netns_require
work=$(mktemp -d /tmp/squall-bench-chaos.XXXXXX)
sd="$work/state"
mkdir -m 0700 "$sd"
cleanup() {
  netns_cleanup
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
netns_pair 10.231.12 || { echo "bench: cannot create the namespaces"; exit 1; }

# stats KEY FILE: "median / max" in ms of KEY over the events in FILE.
stats() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
key, path = sys.argv[1], sys.argv[2]
v = sorted(json.loads(l)[key] / 1e6 for l in open(path) if key in json.loads(l))
print("%.1f / %.1f ms" % (v[(len(v) - 1) // 2], v[-1]) if v else "n/a")
EOF
}

# bench_fault NAME ARGS...: RUNS runs of one fault; prints a table row.
bench_fault() {
  local name=$1 run i
  shift
  run="$work/run-$name"
  mkdir -p "$run"
  : >"$run/events.jsonl"
  for i in $(seq "$runs"); do
    "$squall" chaos "$@" --netns "$NS_B" --for 300ms --state-dir "$sd" --out "$run" -q ||
      { echo "| $name | failed (exit $?) | |"; return; }
  done
  echo "| $name | $(stats apply_ns "$run/events.jsonl") | $(stats revert_ns "$run/events.jsonl") |"
}

echo "== chaos faults in a network namespace, $runs runs each, --for 300ms"
echo "| fault | scheduled -> applied (median / max) | TTL end -> reverted and verified (median / max) |"
echo "| --- | --- | --- |"
bench_fault drop drop --port 8080
bench_fault link-down link-down --dev "$VETH_B"
bench_fault bandwidth bandwidth --dev "$VETH_B" --rate 1mbit
bench_fault "delay --port (proxy)" delay --port 8080 --latency 100ms
if ip netns exec "$NS_A" tc qdisc add dev lo root netem delay 1ms 2>/dev/null; then
  bench_fault "delay --dev (netem)" delay --dev "$VETH_B" --latency 100ms
else
  echo "| delay --dev (netem) | this kernel has no sch_netem | |"
fi
