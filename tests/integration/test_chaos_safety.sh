#!/usr/bin/env bash
# test_chaos_safety.sh — regression tests for the chaos safety review, all in
# network namespaces this test creates and removes:
#   - a huge TTL (600h) still ends on SIGTERM, reverted (exit 4);
#   - a revert never touches a namespace that was deleted and recreated
#     under the same name (same ifindex, link down): `recover` leaves it;
#   - default-route protection: an IPv6-only default on a second link, a
#     `default dev X` without gateway in another table, and a port and the
#     master of a default-route bridge are refused without --force;
#   - a running chaos agent (and its watchdog) is never chosen by a
#     `chaos kill --cmdline` pattern that matches it;
#   - an untrusted state directory (group/other-writable) is exit 3, and a
#     journal not owned by this user, or a symlink, is skipped, not reverted.
#
# Env: SQUALL. Needs root (exit 77 otherwise).
set -u
: "${SQUALL:?set SQUALL to the squall binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/netns.sh"
. "$HERE/../lib/chaos.sh"
netns_require

TMP=$(mktemp -d "${TMPDIR:-/tmp}/squall-chaos-safety.XXXXXX")
SD="$TMP/state"
SLEEPER=""
cleanup() {
    [ -n "$SLEEPER" ] && kill -KILL "$SLEEPER" 2>/dev/null
    agents_cleanup
    netns_cleanup
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

flags() { ip -n "$1" -o link show "$2" | grep -o '<[^>]*>'; }
is_up() { flags "$1" "$2" | grep -q '[<,]UP[,>]'; }
ifindex() { ip -n "$1" -o link show "$2" | cut -d: -f1; }

netns_pair 10.231.9 || { echo "FAIL: cannot create the namespaces"; exit 1; }

# ---- 1. a TTL of 600 hours: waits in capped pieces, SIGTERM still ends it.
check "600h: starts" agent_start huge link-down --netns "$NS_B" --dev "$VETH_B" --for 600h
P=$AGENT
check "600h: link down" bash -c "! ip -n '$NS_B' -o link show '$VETH_B' | grep -q '[<,]UP[,>]'"
kill -TERM "$P"
for _ in $(seq 60); do kill -0 "$P" 2>/dev/null || break; sleep 0.05; done
check "600h: ended within 3 s of SIGTERM" not kill -0 "$P" 2>/dev/null
agent_wait "$P"
rc=$?
check "600h: exit 4 (got $rc)" test "$rc" = 4
check "600h: link up again" is_up "$NS_B" "$VETH_B"
check "600h: journal removed" journal_empty

# ---- 5. a chaos agent is never chosen by a pattern that matches it.
check "agent for kill test: starts" agent_start prot link-down --netns "$NS_B" --dev "$VETH_B" --for 30s --id "t-prot-$$"
P=$AGENT
"$SQUALL" chaos kill --cmdline "link-down.*t-prot-$$" --state-dir "$TMP/state-k" >"$TMP/k.out" 2>"$TMP/k.err"
rc=$?
check "kill --cmdline matching an agent: exit 3 (got $rc)" test "$rc" = 3
check "kill --cmdline: says no process matches (protected)" grep -q "squall processes" "$TMP/k.err"
check "the agent still lives" kill -0 "$P"
check "its watchdog still lives" bash -c "pgrep -P '$P' >/dev/null"
kill -TERM "$P"
agent_wait "$P"
check "agent: exit 4 after SIGTERM" test $? = 4
check "agent: link up again" is_up "$NS_B" "$VETH_B"

# ---- 3. namespace deleted and recreated: the revert must not touch it.
NS_C="squall-t-$$-$RANDOM-c"
mk_c() {
    ip netns add "$NS_C" || return 1
    ip -n "$NS_C" link add sqc0 type veth peer name sqc1 || return 1
    ip -n "$NS_C" link set sqc1 up
}
if mk_c; then
    NETNS_CREATED+=("$NS_C")
    ip -n "$NS_C" link set sqc0 up
    IDX=$(ifindex "$NS_C" sqc0)
    check "recreate: starts" agent_start rc1 link-down --netns "$NS_C" --dev sqc0 --for 60s
    P=$AGENT
    W=$(pgrep -P "$P" | head -1)
    check "recreate: found the watchdog" test -n "$W"
    [ -n "$W" ] && kill -KILL "$W"
    kill -KILL "$P"
    wait "$P" 2>/dev/null
    check "recreate: the journal is left (stale)" not journal_empty
    ip netns del "$NS_C"
    mk_c || fail "recreate: cannot recreate the namespace"
    check "recreate: same ifindex ($IDX)" test "$(ifindex "$NS_C" sqc0)" = "$IDX"
    check "recreate: the new link is down" not is_up "$NS_C" sqc0
    "$SQUALL" chaos recover --state-dir "$SD" >"$TMP/r.out" 2>"$TMP/r.err"
    rc=$?
    check "recreate: recover exit 0 (got $rc: $(cat "$TMP/r.err"))" test "$rc" = 0
    check "recreate: the new namespace's link stays down" not is_up "$NS_C" sqc0
    check "recreate: recover reports the namespace gone" grep -q "gone" "$TMP/r.err"
    check "recreate: journal removed" journal_empty
else
    fail "recreate: cannot create $NS_C"
fi

# ---- 4. default-route protection (dry runs: nothing changes even on a regression).
refused() {
    local desc=$1 want=$2 rc
    shift 2
    "$SQUALL" chaos "$@" --dry-run --state-dir "$SD" >"$TMP/p.out" 2>"$TMP/p.err"
    rc=$?
    check "$desc: exit 3 (got $rc: $(cat "$TMP/p.err"))" test "$rc" = 3
    check "$desc: says why" grep -q "$want" "$TMP/p.err"
}
ip -n "$NS_B" link add sqd0 type veth peer name sqd1
ip -n "$NS_B" link set sqd0 up
ip -n "$NS_B" link set sqd1 up
ip -n "$NS_B" -6 addr add fd00:5157::1/64 dev sqd0 nodad
if ip -n "$NS_B" -6 route add default dev sqd0 2>"$TMP/e6"; then
    refused "IPv6-only default on a second link" "default route" link-down --netns "$NS_B" --dev sqd0 --for 1s
    refused "IPv6-only default, bandwidth" "default route" bandwidth --netns "$NS_B" --dev sqd0 --rate 1mbit --for 1s
    "$SQUALL" chaos link-down --netns "$NS_B" --dev sqd0 --for 1s --force --dry-run --state-dir "$SD" >/dev/null 2>&1
    check "IPv6-only default: --force allows it" test $? = 0
    ip -n "$NS_B" -6 route del default dev sqd0
else
    echo "note: no IPv6 here ($(cat "$TMP/e6")); IPv6 default case not run"
fi
ip -n "$NS_B" route add default dev sqd1 table 100
refused "default dev X without gateway, table 100" "default route" link-down --netns "$NS_B" --dev sqd1 --for 1s
ip -n "$NS_B" route del default dev sqd1 table 100
if ip -n "$NS_B" link add sqbr0 type bridge 2>/dev/null; then
    ip -n "$NS_B" link set sqd0 master sqbr0
    ip -n "$NS_B" link set sqbr0 up
    ip -n "$NS_B" addr add 10.231.99.1/24 dev sqbr0
    ip -n "$NS_B" route add default via 10.231.99.2 dev sqbr0
    refused "a port of a default-route bridge" "port of a bridge" link-down --netns "$NS_B" --dev sqd0 --for 1s
    refused "the default-route bridge itself" "default route" link-down --netns "$NS_B" --dev sqbr0 --for 1s
    ip -n "$NS_B" route del default
    ip -n "$NS_B" link del sqbr0
else
    echo "note: no bridge support; bridge case not run"
fi
ip -n "$NS_B" link del sqd0 2>/dev/null

# ---- 8. untrusted state directory and journals.
BAD="$TMP/bad-state"
mkdir -p "$BAD" && chmod 0777 "$BAD"
"$SQUALL" chaos status --state-dir "$BAD" >/dev/null 2>"$TMP/b.err"
rc=$?
check "world-writable state dir: exit 3 (got $rc)" test "$rc" = 3
check "world-writable state dir: says so" grep -q "writable by group or others" "$TMP/b.err"
"$SQUALL" chaos recover --state-dir "$BAD" >/dev/null 2>"$TMP/b.err"
check "world-writable state dir: recover exit 3" test $? = 3

sleep 1000 &
SLEEPER=$!
kill -STOP "$SLEEPER"
START=$(awk '{ s = $0; sub(/.*\) /, "", s); split(s, f, " "); print f[20] }' "/proc/$SLEEPER/stat")
mkdir -p "$SD" && chmod 0700 "$SD"
J="$SD/agent-999999.jsonl"
{
    echo '{"type":"agent","pid":999999,"start":1,"utc_ns":1,"version":1}'
    echo "{\"type\":\"fault\",\"seq\":1,\"utc_ns\":1,\"fault\":{\"id\":\"t-foreign\",\"kind\":\"stop\",\"ttl_ns\":1,\"ops\":[{\"type\":\"stop\",\"pid\":$SLEEPER,\"start\":$START,\"comm\":\"sleep\"}]}}"
    echo '{"type":"applied","seq":1,"utc_ns":1}'
} >"$J"
chown 65534 "$J"
"$SQUALL" chaos recover --state-dir "$SD" >/dev/null 2>"$TMP/f.err"
check "foreign journal: recover says not trusted" grep -q "not trusted" "$TMP/f.err"
check "foreign journal: the process stays stopped" wait_state "$SLEEPER" T
check "foreign journal: left in place" test -e "$J"
rm -f "$J"
cp /dev/null "$TMP/target.jsonl"
ln -s "$TMP/target.jsonl" "$SD/agent-999998.jsonl"
"$SQUALL" chaos status --state-dir "$SD" >/dev/null 2>"$TMP/s.err"
check "symlinked journal: status says not trusted" grep -q "not trusted" "$TMP/s.err"
rm -f "$SD/agent-999998.jsonl"
kill -KILL "$SLEEPER"
wait "$SLEEPER" 2>/dev/null
SLEEPER=""

finish test_chaos_safety
