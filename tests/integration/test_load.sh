#!/usr/bin/env bash
# test_load.sh — `squall load` against the demo target on loopback: counts add
# up, status classes, tagging, timeouts, connect errors, bad flags, metrics,
# Ctrl-C, and coordinated-omission correction.
. "$(dirname "$0")/../lib/common.sh"

# LOAD_ENGINE=curl|native runs the whole test on one HTTP client (see test_load_curl.sh)
sq_load() { "$SQUALL" load "$@" ${LOAD_ENGINE:+--engine "$LOAD_ENGINE"}; }

start_target || exit 1
base=$TARGET_URL

# --- open model: exact counts, every request tagged, server agrees ----------
run="$WORK/open"
sq_load "$base/api/items" --rate 200 --duration 2s --tag it-open -q -o "$run"
check_eq "open model exits 0" "$?" 0
for f in run.json series.jsonl routes.json summary.json; do
  check "run directory has $f" test -s "$run/$f"
done
check_eq "intended = rate x duration" "$(json "$run/summary.json" "d['requests']['intended']")" 400
check_eq "all intended were sent" "$(json "$run/summary.json" "d['requests']['sent']")" 400
check_eq "completed + errors = sent" \
  "$(json "$run/summary.json" "d['requests']['completed'] + d['requests']['errors']")" 400
check_eq "all 200" "$(json "$run/summary.json" "d['requests']['by_status'].get('200')")" 400
check_eq "schema" "$(json "$run/summary.json" "d['schema']")" "squall.summary/1"
check_eq "run id is the tag" "$(json "$run/summary.json" "d['run_id']")" "it-open"
check_eq "verdict none without objectives" "$(json "$run/summary.json" "d['verdict']")" "none"
check_eq "intended rate" "$(json "$run/summary.json" "round(d['rate']['intended_rps'])")" 200
check "duration is the run's, not rounded up to a whole interval" \
  python3 -c "import json,sys; sys.exit(0 if 2.0 <= json.load(open('$run/summary.json'))['duration_s'] < 2.5 else 1)"
check_eq "server saw exactly the requests sent" \
  "$(curl -s "$base/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')" 400
check_eq "series intervals sum to sent" \
  "$(python3 -c "import json; print(sum(json.loads(l)['sent'] for l in open('$run/series.jsonl')))")" 400
check_eq "series has contiguous intervals" \
  "$(python3 -c "import json; r=[json.loads(l)['interval'] for l in open('$run/series.jsonl')]; print(r == list(range(len(r))))")" True
check_eq "route key" "$(json "$run/routes.json" "d['routes'][0]['route']")" "GET /api/items"
for key in schema run_id verdict duration_s requests rate latency_ms users objectives faults; do
  check "summary has $key" python3 -c "import json,sys; sys.exit(0 if '$key' in json.load(open('$run/summary.json')) else 1)"
done

# --- objectives: a met one passes, a missed one exits 1; report.html is written -----
run="$WORK/slo-pass"
sq_load "$base/api/items" --rate 100 --duration 1s --slo "p(99) < 5s" --slo "error_rate < 1%" \
  --junit "$WORK/slo-pass.xml" -q -o "$run"
check_eq "met objectives exit 0" "$?" 0
check_eq "verdict pass" "$(json "$run/summary.json" "d['verdict']")" pass
check_eq "two objectives evaluated" "$(json "$run/summary.json" "len(d['objectives'])")" 2
check "report.html written" test -s "$run/report.html"
check "junit.xml written" grep -q "<testsuite" "$WORK/slo-pass.xml"
run="$WORK/slo-fail"
sq_load "$base/x?delay=20ms" --rate 50 --duration 1s --slo "p(50) < 1ms" -q -o "$run"
check_eq "missed objective exits 1" "$?" 1
check_eq "verdict fail" "$(json "$run/summary.json" "d['verdict']")" fail

# --- writes carry the tag header --------------------------------------------
run="$WORK/writes"
sq_load "$base/items" --method POST --body '{"sku":"a1"}' --rate 50 --duration 1s \
  --tag it-writes -q -o "$run"
created=$(json "$run/summary.json" "d['requests']['by_status'].get('201', 0)")
check_eq "every POST created an item" "$created" 50
check_eq "the target stored them under the run tag" \
  "$(curl -s "$base/items/count?tag=it-writes" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])')" 50

# --- shards: two processes split one schedule exactly; merge adds them up -----------
sq_load "$base/shard" --rate 201 --duration 1s --shard 1/2 -q -o "$WORK/shard1" &
shard_pid=$!
sq_load "$base/shard" --rate 201 --duration 1s --shard 2/2 -q -o "$WORK/shard2"
wait "$shard_pid"
check_eq "shard 1/2 sends the even requests" "$(json "$WORK/shard1/summary.json" "d['requests']['sent']")" 101
check_eq "shard 2/2 sends the odd requests" "$(json "$WORK/shard2/summary.json" "d['requests']['sent']")" 100
check_eq "shard recorded" "$(json "$WORK/shard2/run.json" "d['shard']")" "2/2"
"$SQUALL" report merge "$WORK/shard1" "$WORK/shard2" --out "$WORK/merged" -q
check_eq "merged shards: every request once" "$(json "$WORK/merged/summary.json" "d['requests']['intended'], d['requests']['sent']")" "201 201"

# --- closed model ---------------------------------------------------------------
run="$WORK/closed"
sq_load "$base/x" --connections 4 --duration 1s -q -o "$run"
check_eq "closed model exits 0" "$?" 0
check_eq "closed: intended = sent" \
  "$(json "$run/summary.json" "d['requests']['intended'] == d['requests']['sent'] > 0")" True
check_eq "closed: completed = sent" \
  "$(json "$run/summary.json" "d['requests']['completed'] == d['requests']['sent']")" True
check_eq "closed model recorded" "$(json "$run/run.json" "d['load']['model']")" closed

# --- status classes ---------------------------------------------------------------
run="$WORK/status"
sq_load "$base/x?status=503" --rate 100 --duration 1s -q -o "$run"
check_eq "503s counted by status" "$(json "$run/summary.json" "d['requests']['by_status'].get('503')")" 100
check_eq "series has the 5xx class" \
  "$(python3 -c "import json; print(sum(json.loads(l)['classes'].get('5xx',0) for l in open('$run/series.jsonl')))")" 100

# --- timeouts ------------------------------------------------------------------------
run="$WORK/timeout"
sq_load "$base/x?delay=2s" --rate 20 --duration 1s --timeout 200ms -q -o "$run"
check_eq "timeouts classified" "$(json "$run/summary.json" "d['requests']['by_error'].get('timeout')")" 20
check_eq "timeouts: completed + errors = sent" \
  "$(json "$run/summary.json" "d['requests']['completed'] + d['requests']['errors'] == d['requests']['sent'] == 20")" True

# --- connect errors to a closed port: exit 3 -----------------------------------------
closed_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
run="$WORK/refused"
"$SQUALL" load "http://127.0.0.1:$closed_port/" --rate 20 --duration 500ms -q -o "$run" 2> "$WORK/refused.err"
check_eq "unreachable target exits 3" "$?" 3
check "unreachable message" grep -q "target unreachable" "$WORK/refused.err"
check_eq "connect errors counted" "$(json "$run/summary.json" "d['requests']['by_error'].get('connect')")" 10

# --- bad flags: exit 2 with one precise line ------------------------------------------
bad() {
  local want=$1; shift
  "$SQUALL" load "$@" > "$WORK/bad.out" 2> "$WORK/bad.err"
  local rc=$?
  if [ "$rc" -eq 2 ] && grep -q -- "$want" "$WORK/bad.err"; then
    pass "rejects: $*"
  else
    fail "load $* gave exit $rc and: $(cat "$WORK/bad.err")"
  fi
}
bad "'abc' is not a rate" "$base/" --rate abc
bad "'5 parsecs' is not a duration" "$base/" --rate 10 --duration "5 parsecs"
bad "missing the target URL" --rate 10
bad "unknown option '--bogus'" "$base/" --bogus
bad "needs a value" "$base/" --rate
bad "give --rate R" "$base/"
bad "needs --traffic" "$base/" --rate 10xpeak
bad "unknown metric 'p99'" "$base/" --rate 10 --slo "p99 < 300ms"
bad "--slo" "$base/" --rate 10 --slo "p(101) < 300ms"
bad "is not a header" "$base/" --rate 10 --header nocolon
bad "not an http" "ftp://127.0.0.1/" --rate 10
bad "--tag" "$base/" --rate 10 --tag "bad tag!"
bad "--connections" "$base/" --connections 0
bad "--phase" "$base/" --phase "warmup=10s"
bad "already holds a run" "$base/" --rate 10 -o "$WORK/open"
bad "more than one machine" "$base/" --rate 1e12
bad "is not a shard" "$base/" --rate 10 --shard 3/2
bad "is not a shard" "$base/" --rate 10 --shard 1/2x
bad "sets Content-Length itself" "$base/" --rate 10 --body x -H "Content-Length: 5"
bad "HTTP/1.1 only" "$base/" --rate 10 --http2 --engine native
tag64=$(printf 'a%.0s' $(seq 64))
sq_load "$base/t" --rate 10 --duration 200ms --tag "$tag64" -q -o "$WORK/tag64"
check_eq "a 64-character tag is kept whole" "$(json "$WORK/tag64/run.json" "len(d['run_id'])")" 64
"$SQUALL" load --help > "$WORK/help.out"
check_eq "--help exits 0" "$?" 0
check "--help prints usage on stdout" grep -q "usage: squall load" "$WORK/help.out"

# --- phases ---------------------------------------------------------------------------
run="$WORK/phases"
sq_load "$base/p" --phase warm=500ms@100 --phase ramp=1s@100..300 -q -o "$run"
check_eq "phases: intended = 50 + 200" "$(json "$run/summary.json" "d['requests']['intended']")" 250
check_eq "phases: all sent" "$(json "$run/summary.json" "d['requests']['sent']")" 250

# --- one live progress line on a terminal, none when not on one ---------------------
if command -v script >/dev/null; then
  script -qec "$SQUALL load $base/tty --rate 50 --duration 2s -o $WORK/tty ${LOAD_ENGINE:+--engine $LOAD_ENGINE}" /dev/null > "$WORK/tty.out" 2>&1
  check "progress line on a terminal" grep -q "rate 50/50 req/s" "$WORK/tty.out"
  check "progress line redrawn in place" grep -q $'\r' "$WORK/tty.out"
fi
sq_load "$base/notty" --rate 50 --duration 1s -o "$WORK/notty" > "$WORK/notty.out" 2> "$WORK/notty.err"
check "no progress line when not on a terminal" test ! -s "$WORK/notty.err"
check "summary on stdout" grep -q "requests" "$WORK/notty.out"

# --- live metrics -----------------------------------------------------------------------
mport=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
run="$WORK/metrics"
"$SQUALL" load "$base/m" --rate 100 --duration 3s --metrics-listen "127.0.0.1:$mport" -q -o "$run" ${LOAD_ENGINE:+--engine "$LOAD_ENGINE"} &
load_pid=$!
STARTED_PIDS+=("$load_pid")
sleep 2
curl -s "http://127.0.0.1:$mport/metrics" > "$WORK/metrics.txt"
wait "$load_pid"
check "metrics: requests by status" grep -q '^squall_requests_total{status="200"} [1-9]' "$WORK/metrics.txt"
check "metrics: latency histogram" grep -q '^squall_latency_seconds_bucket{le="+Inf"} [1-9]' "$WORK/metrics.txt"
check "metrics: intended rate gauge" grep -q '^squall_rate_intended 100' "$WORK/metrics.txt"
check "metrics: error classes" grep -q '^squall_request_errors_total{class="timeout"} 0' "$WORK/metrics.txt"

# --- Ctrl-C mid-run: exit 4, complete and readable run directory -------------------------
run="$WORK/interrupted"
"$SQUALL" load "$base/i" --rate 100 --duration 20s -q -o "$run" ${LOAD_ENGINE:+--engine "$LOAD_ENGINE"} &
load_pid=$!
STARTED_PIDS+=("$load_pid")
sleep 1.5
kill -INT "$load_pid"
wait "$load_pid"
check_eq "interrupted run exits 4" "$?" 4
check_eq "verdict aborted" "$(json "$run/summary.json" "d['verdict']")" aborted
check_eq "intended = sent + never sent" \
  "$(json "$run/summary.json" "d['requests']['intended'] == d['requests']['sent'] + d['requests']['unsent']")" True
check_eq "stopped early" "$(json "$run/summary.json" "d['requests']['sent'] < 2000")" True
check "abort event recorded" grep -q '"type":"abort"' "$run/events.jsonl"
check "the last series line carries the exact never-sent count" \
  python3 -c "import json,sys; l=[json.loads(x) for x in open('$run/series.jsonl')][-1]; sys.exit(0 if 'unsent' in l and l['dur_s'] < 1.0 else 1)"
check "series readable" python3 -c "import json; [json.loads(l) for l in open('$run/series.jsonl')]"

# --- coordinated omission: a 1 s stall shows in corrected p99, not uncorrected ---------
stop_pid "$TARGET_PID"
start_target --stall-every 3s --stall-for 1s || exit 1
run="$WORK/stall"
sq_load "$TARGET_URL/s" --rate 200 --duration 6s --connections 2 --threads 1 -q -o "$run"
corr=$(json "$run/summary.json" "d['latency_ms']['corrected']['p99']")
unc=$(json "$run/summary.json" "d['latency_ms']['uncorrected']['p99']")
check "corrected p99 shows the stall ($corr ms > 500 ms)" python3 -c "import sys; sys.exit(0 if $corr > 500 else 1)"
check "uncorrected p99 hides it ($unc ms < 200 ms)" python3 -c "import sys; sys.exit(0 if $unc < 200 else 1)"
check "late sends counted during the stall" python3 -c "import json,sys; sys.exit(0 if json.load(open('$run/summary.json'))['requests']['late'] > 0 else 1)"

finish
