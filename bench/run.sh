#!/usr/bin/env bash
# bench/run.sh — squall's benchmarks. Not tests: they print numbers and
# ratios against peers (wrk, ab, hey) measured in this same invocation on the
# same loopback target, and never fail on a timing.
#
#   bench/run.sh [SQUALL_BINARY]        (make bench builds and runs it)
#
# Each throughput figure is the median of ROUNDS alternating runs, so that a
# machine that is busy for a moment hurts squall and its peers alike.
set -uo pipefail
squall=${1:-build/squall}
src=$(cd "$(dirname "$0")/.." && pwd)
rounds=${ROUNDS:-3}
secs=${SECS:-5}
work=$(mktemp -d /tmp/squall-bench.XXXXXX)
chmod 755 "$work"
pids=()
. "$src/tests/lib/nginx.sh"
cleanup() {
  nginx_stop
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }
field() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"; }
ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print('%.2f' % (a/b) if b else 'n/a')" "$1" "$2"; }
have() { command -v "$1" >/dev/null; }

port=$(free_port)
nginx_start "$work/ngx" "$port" || { echo "bench: nginx is needed (scripts/install-deps.sh bench)"; exit 1; }
url="http://127.0.0.1:$port/"
# squall_closed [--engine E]: one closed-model run; prints achieved req/s
squall_closed() {
  local dir
  dir=$(mktemp -d -u "$work/closed.XXXXXX")
  "$squall" load "$url" --threads 1 --connections 50 --duration "${secs}s" -q -o "$dir" "$@" &&
    field "$dir/summary.json" "round(d['rate']['achieved_rps'])"
}
wrk_closed() { wrk -t1 -c50 -d"${secs}s" "$url" | awk '/^Requests\/sec/ {print int($2)}'; }
ab_closed() { ab -k -q -c 50 -t "$secs" -n 100000000 "$url" 2>/dev/null | awk '/^Requests per second/ {print int($4)}'; }
hey_closed() { hey -c 50 -z "${secs}s" "$url" | awk '/Requests\/sec/ {print int($2)}'; }

echo "== closed model, 1 thread, 50 connections, ${secs}s, nginx (1 worker) on loopback; median of $rounds"
declare -A res
for tool in squall squall-curl wrk ab hey; do res[$tool]=""; done
for r in $(seq "$rounds"); do
  res[squall]+="$(squall_closed) "
  res[squall-curl]+="$(squall_closed --engine curl) "
  have wrk && res[wrk]+="$(wrk_closed) "
  have ab && res[ab]+="$(ab_closed) "
  have hey && res[hey]+="$(hey_closed) "
done
sq=$(echo "${res[squall]}" | tr ' ' '\n' | grep . | median)
echo "squall  ${sq} req/s   (runs: ${res[squall]})"
for tool in squall-curl wrk ab hey; do
  [ -n "${res[$tool]}" ] || { echo "$tool    not installed"; continue; }
  v=$(echo "${res[$tool]}" | tr ' ' '\n' | grep . | median)
  echo "$tool     ${v} req/s   (runs: ${res[$tool]})  squall/$tool = $(ratio "$sq" "$v")"
done

echo
echo "== open model, 20000 req/s for ${secs}s (default threads), nginx"
"$squall" load "$url" --rate 20000 --duration "${secs}s" --connections 200 -q -o "$work/open"
field "$work/open/summary.json" "'intended %d, sent %d, achieved/intended %.4f, late %.2f%%, corrected p99 %.2f ms, uncorrected p99 %.2f ms' % (d['requests']['intended'], d['requests']['sent'], d['rate']['achieved_rps']/d['rate']['intended_rps'], 100.0*d['requests']['late']/max(1,d['requests']['sent']), d['latency_ms']['corrected']['p99'], d['latency_ms']['uncorrected']['p99'])"

echo
echo "== replay: a recorded log (1000 users, 1000 req/s mean) at --rate 20xpeak, nginx"
# gen_log OUT SECONDS: Poisson arrivals at 1000 req/s, users u0..u999, JSON Lines
gen_log() {
  python3 - "$1" "$2" <<'PY'
import json, random, sys
out, secs = sys.argv[1], float(sys.argv[2])
rnd, t, T0 = random.Random(7), 0.0, 1795255200 * 10**9
with open(out, "w") as f:
    while t < secs:
        u = "u%d" % rnd.randrange(1000)
        f.write(json.dumps({"ts_ns": T0 + int(t * 1e9), "method": "GET", "url": "/?uid=" + u, "user": u}) + "\n")
        t += rnd.expovariate(1000.0)
PY
}
gen_log "$work/log_a.jsonl" $((secs * 20))
"$squall" traffic inspect "$work/log_a.jsonl" --json > "$work/log_a.json"
/usr/bin/time -f "%U %S %M" -o "$work/replay.time" "$squall" load "$url" --traffic "$work/log_a.jsonl" \
  --rate 20xpeak --connections 200 -q -o "$work/replay"
field "$work/replay/summary.json" "'recorded peak %d req/s -> replay peak x%.3f; sent %d of %d, achieved/intended %.4f, late %.2f%%, corrected p99 %.2f ms' % (json.load(open('$work/log_a.json'))['peak_rps'], d['rate']['multiplier'], d['requests']['sent'], d['requests']['intended'], d['rate']['achieved_rps']/d['rate']['intended_rps'], 100.0*d['requests']['late']/max(1,d['requests']['sent']), d['latency_ms']['corrected']['p99'])"
n=$(field "$work/replay/summary.json" "d['requests']['sent']")
dur=$(field "$work/replay/summary.json" "d['duration_s']")
/usr/bin/time -f "%U %S %M" -o "$work/synth.time" "$squall" load "$url/?uid=u1" \
  --rate "$(python3 -c "print(int($n / $dur))")" --duration "${dur}s" --connections 200 -q -o "$work/synth"
read -r ru rs rm < <(tail -1 "$work/replay.time"); read -r su ss sm < <(tail -1 "$work/synth.time")
echo "CPU: replay $(python3 -c "print('%.2f' % ($ru + $rs))") s, the same rate from a schedule $(python3 -c "print('%.2f' % ($su + $ss))") s, replay/schedule = $(ratio "$(python3 -c "print($ru + $rs)")" "$(python3 -c "print($su + $ss)")") (the replay reads the file twice: plan, then feed)"
gen_log "$work/log_b.jsonl" $((secs * 80))
/usr/bin/time -f "%M" -o "$work/replay_b.time" "$squall" load "$url" --traffic "$work/log_b.jsonl" \
  --rate 20xpeak --connections 200 -q -o "$work/replay_b"
echo "peak RSS: ${secs}s of replay ${rm} KiB, 4x longer file $(tail -1 "$work/replay_b.time") KiB, ratio $(ratio "$(tail -1 "$work/replay_b.time")" "$rm")"

echo
echo "== memory: peak RSS, 3 s vs 12 s at 5000 req/s (histograms are fixed-size)"
/usr/bin/time -f "%M" -o "$work/rss3" "$squall" load "$url" --rate 5000 --duration 3s -q -o "$work/m3"
/usr/bin/time -f "%M" -o "$work/rss12" "$squall" load "$url" --rate 5000 --duration 12s -q -o "$work/m12"
r3=$(tail -1 "$work/rss3"); r12=$(tail -1 "$work/rss12")
echo "3 s: ${r3} KiB, 12 s: ${r12} KiB, 12 s / 3 s = $(ratio "$r12" "$r3")"

echo
echo "== RSS at 10000 open connections (closed model, 5 s, nginx with 2 workers)"
nginx_stop
NGINX_WORKERS=2 nginx_start "$work/ngx2" "$port" || exit 1
/usr/bin/time -f "%M" -o "$work/rss10k" "$squall" load "$url" --connections 10000 --duration 5s -q -o "$work/c10k"
echo "peak RSS $(tail -1 "$work/rss10k") KiB; $(field "$work/c10k/summary.json" "'%d completed, %d errors %s' % (d['requests']['completed'], d['requests']['errors'], d['requests']['by_error'])")"

echo
echo "== accuracy: a target that stalls 1 s every 5 s, open model 1000 req/s for 10 s, 20 connections"
"$squall" target --listen 127.0.0.1:0 --stall-every 5s --stall-for 1s > "$work/target.out" 2>&1 &
pids+=($!)
sleep 0.3
turl=$(sed -n 's/^squall target: listening on \(http:[^ ]*\).*/\1/p' "$work/target.out")
"$squall" load "$turl/x" --rate 1000 --duration 10s --connections 20 -q -o "$work/stall"
field "$work/stall/summary.json" "'corrected p99 %.1f ms, p99.9 %.1f ms; uncorrected p99 %.1f ms, p99.9 %.1f ms; late %d of %d' % (d['latency_ms']['corrected']['p99'], d['latency_ms']['corrected']['p999'], d['latency_ms']['uncorrected']['p99'], d['latency_ms']['uncorrected']['p999'], d['requests']['late'], d['requests']['sent'])"
if have wrk; then
  echo "for comparison, wrk -t1 -c20 (closed model, latency from actual send) on the same target: $(wrk -t1 -c20 -d10s --latency "$turl/x" | awk '/ 50%/ {p50=$2} / 99%/ {p99=$2} END {print "p50 " p50 ", p99 " p99}')"
fi

echo
echo "== squall target throughput (wrk -t1 -c50, ${secs}s)"
if have wrk; then
  kill "${pids[0]}"; wait "${pids[0]}" 2>/dev/null; pids=()
  "$squall" target --listen 127.0.0.1:0 > "$work/target2.out" 2>&1 &
  pids+=($!)
  sleep 0.3
  turl=$(sed -n 's/^squall target: listening on \(http:[^ ]*\).*/\1/p' "$work/target2.out")
  echo "$(wrk -t1 -c50 -d"${secs}s" "$turl/api/x" | awk '/^Requests\/sec/ {print int($2)}') req/s"
fi
