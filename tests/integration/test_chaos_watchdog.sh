#!/usr/bin/env bash
# test_chaos_watchdog.sh — the agent is SIGKILLed in the middle of a fault:
# its watchdog reverts iptables rules, a downed link and a stopped process
# within a second or two (the margin is generous: the test polls for up to
# 3 s and reports the time it took); `chaos recover` then finds nothing; and
# when the watchdog is killed too, the stale journal is reverted by the next
# chaos command. Everything happens in namespaces and processes the test
# creates.
#
# Env: SQUALL. Needs root (exit 77 otherwise).
set -u
: "${SQUALL:?set SQUALL to the squall binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/netns.sh"
. "$HERE/../lib/chaos.sh"
netns_require

TMP=$(mktemp -d "${TMPDIR:-/tmp}/squall-chaos-wd.XXXXXX")
SD="$TMP/state"
NAME="sqt-wd-$$"
NAME=${NAME:0:15}
SLEEP="$TMP/$NAME"
cp /bin/sleep "$SLEEP"
SLEEPER=""
cleanup() {
    agents_cleanup
    if [ -n "$SLEEPER" ]; then
        kill -CONT "$SLEEPER" 2>/dev/null
        kill -KILL "$SLEEPER" 2>/dev/null
    fi
    wait 2>/dev/null
    "$SQUALL" chaos recover --state-dir "$SD" >/dev/null 2>&1
    netns_cleanup
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

netns_pair 10.231.3 || { echo "FAIL: cannot create the namespaces"; exit 1; }
BASE_B=$(ns_rules "$NS_B")
"$SLEEP" 300 &
SLEEPER=$!
state() { proc_state "$1"; }
link_up() { ip -n "$NS_B" -o link show "$VETH_B" | grep -q '[<,]UP[,>]'; }
rules_clean() { [ "$(ns_rules "$NS_B")" = "$BASE_B" ]; }
all_reverted() { rules_clean && link_up && [ "$(state "$SLEEPER")" = S ]; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# ---- SIGKILL mid-fault: the watchdogs revert ----------------------------------------------------
RUN="$TMP/run"
check "drop starts" agent_start w1 drop --netns "$NS_B" --port 8080 --for 60s --out "$RUN"
A1=$AGENT
check "link-down starts" agent_start w2 link-down --netns "$NS_B" --dev "$VETH_B" --for 60s
A2=$AGENT
check "stop starts" agent_start w3 stop --pid "$SLEEPER" --for 60s
A3=$AGENT
check "drop in effect" not rules_clean
check "link down" not link_up
check "process stopped" wait_state "$SLEEPER" T
t0=$(now_ms)
kill -KILL "$A1" "$A2" "$A3"
took=""
for _ in $(seq 60); do
    if all_reverted; then
        took=$(( $(now_ms) - t0 ))
        break
    fi
    sleep 0.05
done
for p in "$A1" "$A2" "$A3"; do wait "$p" 2>/dev/null; done
echo "watchdog: all three faults reverted ${took:-never} ms after SIGKILL"
check "watchdog reverted within 3 s (took ${took:-never} ms)" test -n "$took"
check "watchdog: rules gone" rules_clean
check "watchdog: link up" link_up
check "watchdog: process resumed" test "$(state "$SLEEPER")" = S
for _ in $(seq 40); do journal_empty && break; sleep 0.05; done
check "watchdog: journals removed" journal_empty
check "watchdog: fault_reverted event by the watchdog" grep -q '"type":"fault_reverted".*"by":"watchdog"' "$RUN/events.jsonl"
out=$("$SQUALL" chaos recover --state-dir "$SD" 2>&1)
check "recover afterwards finds nothing" bash -c "printf '%s' \"\$1\" | grep -q 'nothing to recover'" _ "$out"

# ---- `recover` while the agent lives: reverts, and the agent ends (exit 4) ----------------------------
check "drop (recover case) starts" agent_start w5 drop --netns "$NS_B" --port 8082 --for 60s
A=$AGENT
out=$("$SQUALL" chaos recover --state-dir "$SD" 2>&1)
check "recover of a live agent: reverted" rules_clean
check "recover of a live agent: says so" bash -c "printf '%s' \"\$1\" | grep -q '1 fault(s) reverted'" _ "$out"
agent_wait "$A"
rc=$?
check "recover of a live agent: the agent ends with exit 4 (got $rc)" test "$rc" = 4
for _ in $(seq 40); do journal_empty && break; sleep 0.05; done
check "recover of a live agent: journal removed" journal_empty

# ---- agent and watchdog both killed: the next command recovers -------------------------------------
check "link-down (2) starts" agent_start w4 link-down --netns "$NS_B" --dev "$VETH_B" --for 60s
check "agent and watchdog killed" agent_kill_all "$AGENT"
check "with no watchdog the link stays down" not link_up
out=$("$SQUALL" chaos status --state-dir "$SD")
check "status: the journal is stale" bash -c "printf '%s' \"\$1\" | grep -q 'is dead'" _ "$out"
check "status: the link fault is in effect" bash -c "printf '%s' \"\$1\" | grep -q 'down.*in effect'" _ "$out"
# The next fault (a dry run does not count; a real one does) recovers first.
"$SQUALL" chaos drop --netns "$NS_B" --port 8081 --for 200ms --state-dir "$SD" -q 2>"$TMP/rec.err"
check "next command: exit 0" test $? = 0
check "next command: recovered the stale link-down" link_up
check "next command: said so" grep -q "stale journal: reverted link-down" "$TMP/rec.err"
check "next command: journals removed" journal_empty
check "and its own fault is reverted too" rules_clean

finish test_chaos_watchdog
