#!/usr/bin/env bash
# test_report.sh — integration test of `squall report` on real runs: a load
# against `squall target` (errors and stalls dialled in), chaos events added
# the way the chaos component writes them, then the report's exit codes
# (pass, fail, bad expression), summary.json (every v1 key), report.html
# (checked with python's html.parser: well nested, self-contained, every
# section), junit.xml (parsed as XML), objectives stored in run.json,
# `report merge` of two runs (counts add up, percentiles from merged
# histograms), and, where Debian's chromium is installed, a headless
# screenshot of the report whose PNG size is sanity-checked.
#
# Env: SQUALL (binary), SQUALL_SRC (source tree). Traffic goes to 127.0.0.1
# only; the target this script starts is killed by its own pid on exit.
# Exit 0 = pass, 1 = fail, 77 = skipped (no python3).
set -u

: "${SQUALL:?set SQUALL to the squall binary}"
: "${SQUALL_SRC:?set SQUALL_SRC to the source tree}"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/squall-report-test.XXXXXX")
TARGET_PID=
FAILS=0
CHECKS=0
CHECK_HTML="$SQUALL_SRC/tests/integration/check_report_html.py"

# Kills the target this script started (by pid) and removes the scratch dir.
cleanup() {
    [ -n "$TARGET_PID" ] && kill -TERM "$TARGET_PID" 2>/dev/null && wait "$TARGET_PID" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# check DESC CONDITION...: runs the condition; counts a failure with DESC.
check() {
    local desc=$1
    shift
    CHECKS=$((CHECKS + 1))
    if "$@"; then
        return 0
    fi
    FAILS=$((FAILS + 1))
    echo "FAIL: $desc" >&2
    return 1
}

die() {
    echo "FAIL: $*" >&2
    exit 1
}

# expect_rc WANT DESC CMD...: runs CMD (output to $TMP/last.*) and checks its exit code.
expect_rc() {
    local want=$1 desc=$2
    shift 2
    "$@" >"$TMP/last.out" 2>"$TMP/last.err"
    local rc=$?
    CHECKS=$((CHECKS + 1))
    if [ "$rc" -ne "$want" ]; then
        FAILS=$((FAILS + 1))
        echo "FAIL: $desc: exit $rc, want $want" >&2
        sed 's/^/    /' "$TMP/last.err" >&2
    fi
}

# py EXPR FILE: evaluates a python expression with `s` = the JSON in FILE.
py() {
    python3 -c "import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "$2"
}

# Starts the target with 1% errors and a 1.2 s stall every 4 s.
"$SQUALL" target --listen 127.0.0.1:0 --threads 2 --latency 2ms --error-rate 1% \
    --stall-every 4s --stall-for 1200ms >"$TMP/target.out" 2>"$TMP/target.err" &
TARGET_PID=$!
for _ in $(seq 100); do
    grep -q "listening on" "$TMP/target.out" 2>/dev/null && break
    sleep 0.05
done
BASE=$(sed -n 's/.*listening on \(http[^ ]*\).*/\1/p' "$TMP/target.out")
[ -n "$BASE" ] || die "the target did not start: $(cat "$TMP/target.err")"

RUN="$TMP/run"
"$SQUALL" load "$BASE/api/items" --phase warm=3s@150 --phase peak=4s@300 -t 2 -o "$RUN" -q \
    >"$TMP/load.out" 2>"$TMP/load.err" || die "squall load failed: $(cat "$TMP/load.err")"
[ -s "$RUN/series.jsonl" ] || die "no series.jsonl"

# Chaos events as the chaos component writes them: a fault from 2.5 s to 4.5 s.
python3 - "$RUN" <<'EOF'
import json, sys
d = sys.argv[1]
first = json.loads(open(d + "/series.jsonl").readline())
t0 = first["start_utc_ns"] - int(first["t_s"] * 1e9)
with open(d + "/events.jsonl", "a") as f:
    for typ, t in (("fault_applied", 2.5), ("fault_reverted", 4.5)):
        f.write(json.dumps({"type": typ, "utc_ns": t0 + int(t * 1e9),
                            "fault": {"name": "db-<loss>", "kind": "loss"}}) + "\n")
    f.write(json.dumps({"type": "probe", "utc_ns": t0 + int(1e9), "name": "health", "ok": True}) + "\n")
EOF

# 1. objectives that hold: exit 0, verdict pass, every output
expect_rc 0 "passing objectives" "$SQUALL" report "$RUN" --slo 'p(50) < 5s' \
    --slo 'error_rate < 50%' --slo 'achieved_rate >= 50% of intended' \
    --slo 'error_rate < 60% during "db-<loss>"' --junit "$RUN/junit.xml"
check "stdout has a check mark per objective" [ "$(grep -c '✓' "$TMP/last.out")" -eq 4 ]
check "stdout names the report" grep -q "report.html" "$TMP/last.out"
check "summary.json verdict pass" py 's["verdict"] == "pass"' "$RUN/summary.json"
check "summary.json has every v1 key" py 'all(k in s for k in ("schema","run_id","verdict","duration_s","requests","rate","latency_ms","users","objectives","faults")) and s["schema"] == "squall.summary/1" and all(k in s["requests"] for k in ("intended","sent","completed","late","errors","by_status","by_error")) and all(k in s["latency_ms"]["corrected"] for k in ("p50","p90","p99","p999","max","mean")) and all(k in o for o in s["objectives"] for k in ("name","expr","observed","target","ok","budget_consumed","samples")) and all(k in f for f in s["faults"] for k in ("name","kind","applied_at_s","reverted_at_s","time_to_impact_s","time_to_recover_s"))' "$RUN/summary.json"
check "summary.json counts match the series" python3 - "$RUN" <<'EOF'
import json, sys
d = sys.argv[1]
s = json.load(open(d + "/summary.json"))
sent = sum(json.loads(l)["sent"] for l in open(d + "/series.jsonl"))
done = sum(json.loads(l)["completed"] for l in open(d + "/series.jsonl"))
sys.exit(0 if s["requests"]["sent"] == sent and s["requests"]["completed"] == done and sent > 1000 else 1)
EOF
check "the fault is correlated" py 's["faults"][0]["name"] == "db-<loss>" and s["faults"][0]["applied_at_s"] > 2 and s["faults"][0]["during"] is not None' "$RUN/summary.json"
check "report.html passes the HTML checks" python3 "$CHECK_HTML" "$RUN/report.html" "db-<loss>" "PASS" "4 of 4 objectives met"
check "report.html escapes the fault name" grep -q "db-&lt;loss&gt;" "$RUN/report.html"
check "report.html is small" [ "$(stat -c %s "$RUN/report.html")" -lt 300000 ]
check "junit.xml is XML with 4 objectives and 1 probe" python3 - "$RUN/junit.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
cases = suite.findall("testcase")
sys.exit(0 if suite.get("tests") == "5" and suite.get("failures") == "0" and len(cases) == 5 else 1)
EOF

# 2. an objective that fails: exit 1, ✗, verdict fail, junit failure
expect_rc 1 "failing objective" "$SQUALL" report "$RUN" --slo 'p(50) < 1us' --slo 'error_rate < 50%' \
    --junit "$RUN/junit.xml"
check "stdout has a cross" grep -q "✗ p(50) < 1us" "$TMP/last.out"
check "summary.json verdict fail" py 's["verdict"] == "fail" and s["objectives"][0]["ok"] is False' "$RUN/summary.json"
check "junit.xml has one failure" python3 - "$RUN/junit.xml" <<'EOF'
import sys, xml.etree.ElementTree as ET
suite = ET.parse(sys.argv[1]).getroot().find("testsuite")
f = [c for c in suite.findall("testcase") if c.find("failure") is not None]
sys.exit(0 if len(f) == 1 and "expected < 0.001ms" in f[0].find("failure").get("message") else 1)
EOF
check "report.html says FAIL" python3 "$CHECK_HTML" "$RUN/report.html" "FAIL" "Missed:"

# 3. a typo is a usage error with the column, never a pass
expect_rc 2 "typo in a metric" "$SQUALL" report "$RUN" --slo 'p99 < 300ms'
check "the typo message names the column" grep -q "column 1: unknown metric 'p99' (did you mean p(99)?)" "$TMP/last.err"
expect_rc 2 "percentile out of range" "$SQUALL" report "$RUN" --slo 'p(101) < 300ms'
expect_rc 2 "not a run directory" "$SQUALL" report "$TMP/nowhere"
expect_rc 2 "two run directories" "$SQUALL" report "$RUN" "$RUN"
# a fault that is not in events.jsonl is "no data": a failure, never a pass
expect_rc 1 "unknown fault" "$SQUALL" report "$RUN" --slo 'error_rate < 50% during nope' -q
check "unknown fault is no_data" py 's["objectives"][0]["status"] == "no_data"' "$RUN/summary.json"

# 4. objectives stored in run.json are evaluated by a plain `squall report`
python3 - "$RUN/run.json" <<'EOF'
import json, sys
run = json.load(open(sys.argv[1]))
run["slos"] = ["p(99) < 60s", "availability 50% good=status<500"]
json.dump(run, open(sys.argv[1], "w"))
EOF
expect_rc 0 "stored objectives" "$SQUALL" report "$RUN" -q --no-html
check "both stored objectives evaluated" py 'len(s["objectives"]) == 2 and s["verdict"] == "pass"' "$RUN/summary.json"
expect_rc 1 "a command-line objective adds to the stored ones" "$SQUALL" report "$RUN" -q --no-html \
    --slo 'max < 1us'
check "three objectives" py 'len(s["objectives"]) == 3' "$RUN/summary.json"

# 5. merge two runs: counts add up, percentiles from merged histograms
RUN2="$TMP/run2"
"$SQUALL" load "$BASE/api/items" --rate 100 --duration 3s -t 1 -o "$RUN2" -q >/dev/null 2>&1 ||
    die "second squall load failed"
expect_rc 0 "merge" "$SQUALL" report merge "$RUN" "$RUN2" --out "$TMP/merged" --slo 'p(99) < 60s'
check "merged counts add up" python3 - "$RUN" "$RUN2" "$TMP/merged" <<'EOF'
import json, sys
a, b, m = (json.load(open(d + "/summary.json")) for d in sys.argv[1:4])
ok = m["requests"]["sent"] == a["requests"]["sent"] + b["requests"]["sent"]
ok &= m["requests"]["completed"] == a["requests"]["completed"] + b["requests"]["completed"]
ok &= m["latency_ms"]["corrected"]["max"] == max(a["latency_ms"]["corrected"]["max"], b["latency_ms"]["corrected"]["max"])
ok &= m["methodology"]["shards"] == 2
sys.exit(0 if ok else 1)
EOF
check "merged report.html passes the HTML checks" python3 "$CHECK_HTML" "$TMP/merged/report.html" "2 shards merged"
expect_rc 2 "merge into an occupied directory" "$SQUALL" report merge "$RUN" "$RUN2" --out "$TMP/merged"

# 6. a headless screenshot, where chromium is installed
CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -n "$CHROMIUM" ]; then
    mkdir -p "$TMP/chromium"
    timeout 120 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$TMP/chromium" \
        --hide-scrollbars --screenshot="$TMP/shot.png" --window-size=1280,2400 \
        "file://$RUN/report.html" >/dev/null 2>&1
    check "the screenshot is a 1280x2400 PNG of a real page" python3 - "$TMP/shot.png" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
w, h = struct.unpack(">II", data[16:24])
# a blank page compresses to a few kB; a rendered report is far larger
sys.exit(0 if data[:8] == b"\x89PNG\r\n\x1a\n" and (w, h) == (1280, 2400) and len(data) > 60000 else 1)
EOF
else
    echo "note: chromium is not installed; skipping the screenshot check"
fi

echo "test_report: $CHECKS checks, $FAILS failed"
[ "$FAILS" -eq 0 ]
