#!/usr/bin/env bash
# test_drill.sh — the components together, through the run directory: a load
# runs against the demo target while `squall chaos stop` freezes the target
# for 2 s, writing its events into the same run directory; the report then
# correlates the fault with the load: impact during it, recovery after it.
. "$(dirname "$0")/../lib/common.sh"

[ "$(id -u)" -eq 0 ] || { echo "needs root to signal the target through chaos"; exit 77; }

start_target || exit 1
run="$WORK/drill"
state="$WORK/state"
mkdir -m 700 "$state"
# the health threshold (p99 < 1 s per interval) is far from the 2 s freeze on one side and
# from a busy CI machine's p99 on the other (100 ms failed there: the sanitized build, with
# other tests on both CPUs, had baseline intervals at 90-115 ms); 10 s leaves 6 intervals
# after the revert to find the 3 healthy ones in a row that mean "recovered"
"$SQUALL" load "$TARGET_URL/api/items" --rate 200 --duration 10s --connections 50 --timeout 5s \
  --slo "p(99) < 1s" --slo "recovery < 5s after freeze" -q -o "$run" &
load_pid=$!
STARTED_PIDS+=("$load_pid")
for _ in $(seq 100); do [ -s "$run/run.json" ] && break; sleep 0.05; done
sleep 2
"$SQUALL" chaos stop --pid "$TARGET_PID" --for 2s --id freeze --state-dir "$state" --out "$run" -q
check_eq "chaos stop ran its TTL and reverted" "$?" 0
check "the target runs again" bash -c "[ \"\$(ps -o stat= -p $TARGET_PID | cut -c1)\" != T ]"
wait "$load_pid"
rc=$?
check "load finished with a verdict (0 or 1)" test "$rc" -le 1
check "fault events in the run directory" grep -q '"fault_applied"' "$run/events.jsonl"
check "revert recorded" grep -q '"fault_reverted"' "$run/events.jsonl"
check_eq "the report names the fault" "$(json "$run/summary.json" "d['faults'][0]['name']")" freeze
check_eq "kind" "$(json "$run/summary.json" "d['faults'][0]['kind']")" stop
check "time to impact measured" python3 -c "import json,sys; f=json.load(open('$run/summary.json'))['faults'][0]; sys.exit(0 if f['time_to_impact_s'] is not None and f['time_to_impact_s'] < 2.5 else 1)"
check "time to recover measured" python3 -c "import json,sys; f=json.load(open('$run/summary.json'))['faults'][0]; sys.exit(0 if f['time_to_recover_s'] is not None else 1)"
check "the stall shows in corrected p99" python3 -c "import json,sys; sys.exit(0 if json.load(open('$run/summary.json'))['latency_ms']['corrected']['p99'] > 500 else 1)"
check "report.html draws the fault" grep -q "freeze" "$run/report.html"
check_eq "nothing left journaled" "$(ls "$state" | grep -c jsonl)" 0

finish
