# chaos.sh — sourced by the chaos integration tests: checks, running an
# agent in the background and waiting for it. Uses $SQUALL, $TMP, $SD.

FAILS=0
AGENT_PIDS=()

# chaos_net_begin NAME: the start every network-fault test shares: needs
# root (exit 77), a scratch dir $TMP with a 0700 state dir $SD, and at exit
# the agents, $LOAD and $SERVER (pids the test started, if set), the
# namespaces and $TMP are removed. Source netns.sh first.
chaos_net_begin() {
    netns_require
    TMP=$(mktemp -d "${TMPDIR:-/tmp}/squall-$1.XXXXXX")
    SD="$TMP/state"
    mkdir -m 0700 "$SD"
    SERVER=""
    LOAD=""
    trap chaos_net_end EXIT
    trap 'exit 1' INT TERM
}

# chaos_net_end: the exit trap of chaos_net_begin.
chaos_net_end() {
    local p
    agents_cleanup
    for p in "$LOAD" "$SERVER"; do
        [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    netns_cleanup
    rm -rf "$TMP"
}

# check DESC COMMAND...: runs the command; counts a failure with DESC.
check() {
    local desc=$1
    shift
    if "$@"; then
        return 0
    fi
    FAILS=$((FAILS + 1))
    echo "FAIL: $desc" >&2
    return 1
}

# not COMMAND...: succeeds when the command fails.
not() { ! "$@"; }

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

# finish NAME: prints the verdict and exits 0 or 1.
finish() {
    if [ "$FAILS" -ne 0 ]; then
        echo "$1: $FAILS failure(s)" >&2
        exit 1
    fi
    echo "$1: ok"
    exit 0
}

# agent_start NAME ARGS...: runs `squall chaos ARGS --state-dir $SD` in the
# background with output in $TMP/NAME.out/.err; sets AGENT; waits until it
# says "applied" (returns 1 if it exits first or takes over 10 s).
agent_start() {
    local name=$1 i
    shift
    "$SQUALL" chaos "$@" --state-dir "$SD" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    AGENT=$!
    AGENT_PIDS+=("$AGENT")
    for i in $(seq 200); do
        grep -q "applied" "$TMP/$name.out" 2>/dev/null && return 0
        kill -0 "$AGENT" 2>/dev/null || { cat "$TMP/$name.err" >&2; return 1; }
        sleep 0.05
    done
    return 1
}

# agent_kill_all PID: SIGKILLs the agent's watchdog (its child) and then the
# agent (PID), both started by this test, so that the journal is left stale;
# returns 1 when no watchdog was found.
agent_kill_all() {
    local wd
    wd=$(tr ' ' '\n' <"/proc/$1/task/$1/children" 2>/dev/null | grep . | head -1)
    [ -n "$wd" ] && kill -KILL "$wd"
    sleep 0.1
    kill -KILL "$1"
    wait "$1" 2>/dev/null
    sleep 0.2
    [ -n "$wd" ]
}

# agent_wait PID: waits for an agent and returns its exit status.
agent_wait() {
    wait "$1"
}

# Kills (by pid) any agent this test started that still runs.
agents_cleanup() {
    local p
    for p in "${AGENT_PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${AGENT_PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
}

# proc_state PID: the state letter of PID (R, S, T, Z...), empty when gone.
proc_state() {
    awk '{ s = $0; sub(/.*\) /, "", s); print substr(s, 1, 1) }' "/proc/$1/stat" 2>/dev/null
}

# wait_state PID WANT: polls (up to 5 s) until PID is in state WANT.
wait_state() {
    local i
    for i in $(seq 100); do
        [ "$(proc_state "$1")" = "$2" ] && return 0
        sleep 0.05
    done
    return 1
}

# count_alive PID...: how many of the pids exist and are not zombies.
count_alive() {
    local n=0 p st
    for p in "$@"; do
        st=$(proc_state "$p")
        [ -n "$st" ] && [ "$st" != Z ] && n=$((n + 1))
    done
    echo "$n"
}

# wait_alive N PID...: polls (up to 5 s) until exactly N of the pids live.
wait_alive() {
    local want=$1 i
    shift
    for i in $(seq 100); do
        [ "$(count_alive "$@")" = "$want" ] && return 0
        sleep 0.05
    done
    return 1
}

# journal_empty: no journal left in the state directory.
journal_empty() {
    ! ls "$SD"/agent-*.jsonl >/dev/null 2>&1
}
