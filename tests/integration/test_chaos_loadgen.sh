#!/usr/bin/env bash
# test_chaos_loadgen.sh — the load generator's own connections are protected
# (DESIGN.md chaos rule 6). Two namespaces A and B joined by a veth pair
# (created by this test and always removed): `squall target` in B, `squall
# load` against it from A. A packet fault in A that would cut the load's
# connection is refused (exit 3, like every protected target, naming the
# load's pid), also in a dry run; faults that would not (another port, udp,
# or in namespace B, where no load runs) are allowed; with --force it is
# applied and reverted.
#
# Env: SQUALL. Needs root (exit 77 otherwise). Only processes this test
# starts are stopped, by pid.
set -u
: "${SQUALL:?set SQUALL to the squall binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/netns.sh"
. "$HERE/../lib/chaos.sh"
chaos_net_begin chaos-load

netns_pair 10.231.5 || { echo "FAIL: cannot create the namespaces"; exit 1; }
PORT=8080
ip netns exec "$NS_B" "$SQUALL" target --listen "$IP_B:$PORT" >"$TMP/target.out" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
    grep -q "listening" "$TMP/target.out" && break
    sleep 0.05
done
ns_tcp_ok "$NS_A" "$IP_B" "$PORT" 2 || { echo "FAIL: the server in $NS_B is unreachable"; exit 1; }

ip netns exec "$NS_A" "$SQUALL" load "http://$IP_B:$PORT/x" --rate 50 --duration 15s -q \
    -o "$TMP/run" >"$TMP/load.out" 2>&1 &
LOAD=$!

# has_established NS: the namespace has an established TCP connection to
# IP_B:PORT (read from /proc/net/tcp inside it; 1F90 = 8080).
has_established() {
    ip netns exec "$1" awk -v p=":$(printf '%04X' "$PORT")" \
        '$4 == "01" && $3 ~ p "$" { f = 1 } END { exit !f }' /proc/net/tcp
}
up=0
for _ in $(seq 100); do
    has_established "$NS_A" && { up=1; break; }
    kill -0 "$LOAD" 2>/dev/null || break
    sleep 0.05
done
[ "$up" = 1 ] || { echo "FAIL: the load never connected: $(cat "$TMP/load.out")"; exit 1; }

# run_chaos NAME ARGS...: one foreground `squall chaos`; sets RC.
run_chaos() {
    local name=$1
    shift
    "$SQUALL" chaos "$@" --state-dir "$SD" >"$TMP/$name.out" 2>"$TMP/$name.err"
    RC=$?
}

run_chaos refused drop --netns "$NS_A" --port "$PORT" --direction out --for 2s
check "drop on the load's port: exit 3 (got $RC: $(cat "$TMP/refused.err"))" test "$RC" = 3
check "the refusal names the load's pid" grep -q "squall load (pid $LOAD)" "$TMP/refused.err"
check "the refusal names the connection and --force" \
    grep -q "connection $IP_A:[0-9]* -> $IP_B:$PORT; add --force" "$TMP/refused.err"
check "nothing was applied" not grep -q SQUALL <(ns_rules "$NS_A")

run_chaos dry drop --netns "$NS_A" --port "$PORT" --direction out --for 2s --dry-run
check "dry run reports the refusal too (got $RC)" test "$RC" = 3
check "dry run names the load" grep -q "squall load (pid $LOAD)" "$TMP/dry.err"

run_chaos part partition --netns "$NS_A" --peers "$IP_B/32" --for 2s
check "partition from the load's server: exit 3 (got $RC)" test "$RC" = 3
run_chaos inrej reject --netns "$NS_A" --src "$IP_B" --for 2s
check "reject of what comes from the server: exit 3 (got $RC)" test "$RC" = 3

run_chaos other drop --netns "$NS_A" --port 9099 --direction out --for 1s
check "drop on an unrelated port: exit 0 (got $RC: $(cat "$TMP/other.err"))" test "$RC" = 0
run_chaos udp drop --netns "$NS_A" --port "$PORT" --proto udp --direction both --for 1s
check "udp drop on the port: exit 0 (got $RC: $(cat "$TMP/udp.err"))" test "$RC" = 0
run_chaos nsb drop --netns "$NS_B" --port "$PORT" --direction in --for 1s
check "drop in the server's namespace (no load there): exit 0 (got $RC: $(cat "$TMP/nsb.err"))" \
    test "$RC" = 0

run_chaos forced drop --netns "$NS_A" --port "$PORT" --direction out --for 2s --force
check "with --force: exit 0 (got $RC: $(cat "$TMP/forced.err"))" test "$RC" = 0
check "with --force: applied" grep -q "applied" "$TMP/forced.out"
check "with --force: reverted" grep -q "reverted" "$TMP/forced.out"
check "with --force: no rule left" not grep -q SQUALL <(ns_rules "$NS_A")
check "journal removed" journal_empty

kill -0 "$LOAD" 2>/dev/null && kill "$LOAD" 2>/dev/null
wait "$LOAD" 2>/dev/null
LOAD=""
finish test_chaos_loadgen
