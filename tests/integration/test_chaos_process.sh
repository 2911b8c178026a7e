#!/usr/bin/env bash
# test_chaos_process.sh — kill and stop against processes this test starts
# itself: copies of /bin/sleep under a unique name (sqt-sl-NNNNN), targeted by
# --pid, --name, --cmdline, --pidfile, with --count / --percent; stop resumes
# at the TTL; kill --for keeps killing a respawning process; a journaled
# process whose pid now has another start time (pid reuse) is never touched
# by a revert; protected and missing targets are refused; no privilege is
# exit 3. Nothing is ever killed by a broad name.
#
# Env: SQUALL. Needs root (exit 77 otherwise).
set -u
: "${SQUALL:?set SQUALL to the squall binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/chaos.sh"
if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: needs root"
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/squall-chaos-proc.XXXXXX")
SD="$TMP/state"
NAME="sqt-sl-$$"
NAME=${NAME:0:15}
SLEEP="$TMP/$NAME"
cp /bin/sleep "$SLEEP"
SLEEPERS=()
SUP=""
cleanup() {
    local p
    agents_cleanup
    [ -n "$SUP" ] && kill -KILL "$SUP" 2>/dev/null
    for p in "${SLEEPERS[@]}"; do
        kill -CONT "$p" 2>/dev/null
        kill -KILL "$p" 2>/dev/null
    done
    wait 2>/dev/null
    [ -n "${CG:-}" ] && rmdir "$CG" 2>/dev/null
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start_sleepers N: starts N copies; their pids in NEW. Returns once each
# has exec'd (its comm is NAME), so that selectors see all of them.
start_sleepers() {
    local i p
    NEW=()
    for i in $(seq "$1"); do
        "$SLEEP" 300 &
        NEW+=("$!")
        SLEEPERS+=("$!")
    done
    for p in "${NEW[@]}"; do
        for i in $(seq 100); do
            [ "$(cat "/proc/$p/comm" 2>/dev/null)" = "$NAME" ] && break
            sleep 0.02
        done
    done
}
alive() { [ "$(count_alive "$1")" = 1 ]; }
state() { proc_state "$1"; }

# ---- kill by pid ------------------------------------------------------------------------
start_sleepers 1
P=${NEW[0]}
"$SQUALL" chaos kill --pid "$P" --state-dir "$SD" -q
check "kill --pid: exit 0" test $? = 0
check "kill --pid: process gone" wait_alive 0 "$P"
check "kill: journal removed" journal_empty

# ---- kill by name with --count, and --percent ---------------------------------------------
start_sleepers 4
G=("${NEW[@]}")
"$SQUALL" chaos kill --name "$NAME" --count 2 --signal TERM --state-dir "$SD" -q
check "kill --name --count 2: exit 0" test $? = 0
check "kill --count 2: two of four left" wait_alive 2 "${G[@]}"
"$SQUALL" chaos kill --name "$NAME" --percent 50% --state-dir "$SD" -q
check "kill --percent 50%: one of two left" wait_alive 1 "${G[@]}"
"$SQUALL" chaos kill --cmdline "^$SLEEP 300\$" --state-dir "$SD" -q
check "kill --cmdline: none left" wait_alive 0 "${G[@]}"

# ---- kill by cgroup (a cgroup this test creates, when the hierarchy allows it) --------------------
CG=""
for base in /sys/fs/cgroup/unified /sys/fs/cgroup/pids /sys/fs/cgroup; do
    if [ -e "$base/cgroup.procs" ] && mkdir "$base/squall-t-$$" 2>/dev/null; then
        CG="$base/squall-t-$$"
        break
    fi
done
if [ -n "$CG" ]; then
    start_sleepers 2
    G=("${NEW[@]}")
    if echo "${G[0]}" >"$CG/cgroup.procs" 2>/dev/null; then
        "$SQUALL" chaos kill --cgroup "$CG" --state-dir "$SD" -q
        check "kill --cgroup: exit 0" test $? = 0
        check "kill --cgroup: the process in the cgroup is gone" wait_alive 0 "${G[0]}"
        check "kill --cgroup: the one outside lives" alive "${G[1]}"
    else
        echo "note: cannot move a process into $CG; --cgroup not exercised"
    fi
    kill -KILL "${G[@]}" 2>/dev/null
    wait "${G[0]}" 2>/dev/null
    rmdir "$CG" 2>/dev/null
    CG=""
else
    echo "note: no writable cgroup hierarchy; --cgroup not exercised"
fi

# ---- stop by cmdline, resumed at the TTL ----------------------------------------------------
start_sleepers 2
G=("${NEW[@]}")
check "stop --cmdline starts" agent_start stop1 stop --cmdline "$NAME 300" --for 1500ms
A=$AGENT
check "stop: both stopped" wait_state "${G[0]}" T
check "stop: both stopped (2)" wait_state "${G[1]}" T
agent_wait "$A"
check "stop: exit 0" test $? = 0
check "stop: both resumed" wait_state "${G[0]}" S
check "stop: both resumed (2)" wait_state "${G[1]}" S

# ---- stop by pidfile, interrupted -------------------------------------------------------------
echo "${G[0]}" >"$TMP/pidfile"
check "stop --pidfile starts" agent_start stop2 stop --pidfile "$TMP/pidfile" --for 60s
A=$AGENT
check "stop --pidfile: stopped" wait_state "${G[0]}" T
check "stop --pidfile: the other one runs" test "$(state "${G[1]}")" = S
kill -INT "$A"
agent_wait "$A"
check "stop --pidfile: exit 4 on SIGINT" test $? = 4
check "stop --pidfile: resumed" wait_state "${G[0]}" S

# ---- pid reuse: a journal whose pid now has another start time is not touched -----------------
P=${G[1]}
kill -STOP "$P"
wait_state "$P" T
START=$(awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[20] }' "/proc/$P/stat")
mkdir -p "$SD"
write_journal() { # FILE OWNER START-OF-PROCESS
    {
        printf '{"type":"agent","pid":%d,"start":1,"utc_ns":1,"version":1}\n' "$2"
        printf '{"type":"fault","seq":1,"utc_ns":1,"fault":{"id":"t-reuse","kind":"stop","ttl_ns":1,"ops":[{"type":"stop","pid":%d,"start":%s,"comm":"x"}]}}\n' "$P" "$3"
        printf '{"type":"applied","seq":1,"utc_ns":2}\n'
    } >"$1"
}
write_journal "$SD/agent-999999.jsonl" 999999 $((START + 12345))
out=$("$SQUALL" chaos status --state-dir "$SD")
check "stale journal: status says the agent is dead" bash -c "printf '%s' \"\$1\" | grep -q 'is dead'" _ "$out"
"$SQUALL" chaos recover --state-dir "$SD" >/dev/null 2>&1
check "pid reuse: recover exit 0" test $? = 0
check "pid reuse: a process with another start time stays stopped" test "$(state "$P")" = T
check "pid reuse: journal recovered and removed" journal_empty
# The same journal with the right start time, recovered by the next fault command.
write_journal "$SD/agent-999998.jsonl" 999998 "$START"
start_sleepers 1
"$SQUALL" chaos kill --pid "${NEW[0]}" --state-dir "$SD" -q 2>"$TMP/rec.err"
check "stale journal: recovered by the next command" wait_state "$P" S
check "stale journal: it says so" grep -q "reverted t-reuse" "$TMP/rec.err"
check "stale journal: removed" journal_empty

# ---- kill --for --count 1 spares the matches it did not choose -------------------------------------
for p in "${SLEEPERS[@]}"; do
    kill -CONT "$p" 2>/dev/null
    kill -KILL "$p" 2>/dev/null
done
wait_alive 0 "${SLEEPERS[@]}"
start_sleepers 3
G=("${NEW[@]}")
"$SQUALL" chaos kill --name "$NAME" --count 1 --for 600ms --interval 100ms --state-dir "$SD" -q
check "kill --count 1 --for: exit 0" test $? = 0
check "kill --count 1 --for: exactly one of three killed" wait_alive 2 "${G[@]}"
kill -KILL "${G[@]}" 2>/dev/null
wait_alive 0 "${G[@]}"

# ---- kill --for keeps killing a respawning process ------------------------------------------------
RUN="$TMP/run"
( while :; do "$SLEEP" 300; sleep 0.05; done ) &
SUP=$!
for _ in $(seq 100); do
    pgrep -x "$NAME" >/dev/null && break
    sleep 0.02
done
check "kill --for starts" agent_start kfor kill --name "$NAME" --for 2s --interval 100ms --out "$RUN"
A=$AGENT
agent_wait "$A"
check "kill --for: exit 0" test $? = 0
n=$(grep -c '"type":"fault_applied"' "$RUN/events.jsonl")
check "kill --for: killed the respawned process again (fault_applied events: $n)" test "$n" -ge 3
kill -KILL "$SUP"
wait "$SUP" 2>/dev/null
SUP=""
"$SQUALL" chaos kill --name "$NAME" --state-dir "$SD" -q 2>/dev/null

# ---- protected, missing, unprivileged ---------------------------------------------------------------
"$SQUALL" chaos kill --pid 1 --dry-run --state-dir "$SD" >/dev/null 2>"$TMP/e"
rc=$?
check "pid 1 refused: exit 3 (got $rc)" test "$rc" = 3
check "pid 1 refused: says protected" grep -q protected "$TMP/e"
"$SQUALL" chaos kill --pid $$ --dry-run --state-dir "$SD" >"$TMP/o" 2>&1
check "dry run kill: exit 0" test $? = 0
check "dry run kill: prints the signal" grep -q "pidfd_send_signal KILL" "$TMP/o"
"$SQUALL" chaos kill --name "nosuch-$$" --state-dir "$SD" >/dev/null 2>"$TMP/e"
rc=$?
check "no match: exit 3 (got $rc)" test "$rc" = 3
check "no match: says so" grep -q "no process matches" "$TMP/e"
if command -v setpriv >/dev/null 2>&1; then
    start_sleepers 1
    setpriv --reuid=65534 --regid=65534 --clear-groups "$SQUALL" chaos stop --pid "${NEW[0]}" \
        --for 1s --state-dir "$TMP/nobody" >/dev/null 2>"$TMP/e"
    rc=$?
    check "unprivileged stop of root's process: exit 3 (got $rc)" test "$rc" = 3
    check "unprivileged: clear message" grep -q "no permission" "$TMP/e"
    check "unprivileged: still running" test "$(state "${NEW[0]}")" = S
    setpriv --reuid=65534 --regid=65534 --clear-groups "$SQUALL" chaos drop --port 8080 \
        --for 1s --state-dir "$TMP/nobody" >/dev/null 2>"$TMP/e"
    rc=$?
    check "unprivileged drop: exit 3 (got $rc)" test "$rc" = 3
    check "unprivileged drop: names CAP_NET_ADMIN" grep -q "CAP_NET_ADMIN" "$TMP/e"
fi

finish test_chaos_process
