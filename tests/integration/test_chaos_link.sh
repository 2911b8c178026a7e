#!/usr/bin/env bash
# test_chaos_link.sh — link-down inside a network namespace this test
# creates: the veth goes down during the fault and up after; a link that was
# already down stays down; loopback and the default-route interface are
# refused without --force; dry run changes nothing; SIGTERM reverts (exit 4).
#
# Env: SQUALL. Needs root (exit 77 otherwise).
set -u
: "${SQUALL:?set SQUALL to the squall binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/netns.sh"
. "$HERE/../lib/chaos.sh"
chaos_net_begin chaos-link

netns_pair 10.231.2 || { echo "FAIL: cannot create the namespaces"; exit 1; }
# A listener in B, so that "traffic flows again" means a completed connection.
ip netns exec "$NS_B" "$SQUALL" target --listen "$IP_B:8080" >"$TMP/target.out" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
    grep -q "listening" "$TMP/target.out" && break
    sleep 0.05
done

# flags NS DEV: the link's flags as `ip -o link` prints them (<...>).
flags() { ip -n "$1" -o link show "$2" | grep -o '<[^>]*>'; }
is_up() { flags "$1" "$2" | grep -q '[<,]UP[,>]'; }
BEFORE=$(flags "$NS_B" "$VETH_B")

check "link-down starts" agent_start l1 link-down --netns "$NS_B" --dev "$VETH_B" --for 5s
P=$AGENT
check "link-down: down during the fault" bash -c "! ip -n '$NS_B' -o link show '$VETH_B' | grep -q '[<,]UP[,>]'"
# the peer's carrier follows through the kernel's link watch, which runs up to
# a second later (more on a busy machine): poll for it
check "link-down: peer has no carrier" bash -c "for i in \$(seq 60); do ip -n '$NS_A' -o link show '$VETH_A' | grep -q NO-CARRIER && exit 0; sleep 0.05; done; exit 1"
check "link-down: status says in effect" bash -c "'$SQUALL' chaos status --state-dir '$SD' | grep -q 'down.*in effect'"
agent_wait "$P"
check "link-down: exit 0" test $? = 0
check "link-down: up again with the same flags" test "$(flags "$NS_B" "$VETH_B")" = "$BEFORE"
check "link-down: journal removed" journal_empty
check "link-down: traffic flows again" ns_reachable "$NS_A" "$IP_B" 8080

# A link that was down stays down.
ip -n "$NS_B" link set "$VETH_B" down
DOWN=$(flags "$NS_B" "$VETH_B")
"$SQUALL" chaos link-down --netns "$NS_B" --dev "$VETH_B" --for 1s --state-dir "$SD" -q
check "already down: exit 0" test $? = 0
check "already down: stays down, flags unchanged" test "$(flags "$NS_B" "$VETH_B")" = "$DOWN"
ip -n "$NS_B" link set "$VETH_B" up

# SIGTERM reverts and exits 4.
check "sigterm: starts" agent_start l2 link-down --netns "$NS_B" --dev "$VETH_B" --for 60s
P=$AGENT
kill -TERM "$P"
agent_wait "$P"
rc=$?
check "sigterm: exit 4 (got $rc)" test "$rc" = 4
check "sigterm: link up again" is_up "$NS_B" "$VETH_B"

# Protected: loopback, and the interface that carries the default route.
"$SQUALL" chaos link-down --netns "$NS_B" --dev lo --for 1s --state-dir "$SD" >/dev/null 2>"$TMP/e"
rc=$?
check "lo refused: exit 3 (got $rc)" test "$rc" = 3
check "lo refused: says protected" grep -q protected "$TMP/e"
check "lo still up" is_up "$NS_B" lo
ip -n "$NS_B" route add default via "$IP_A" dev "$VETH_B"
"$SQUALL" chaos link-down --netns "$NS_B" --dev "$VETH_B" --for 1s --state-dir "$SD" >/dev/null 2>"$TMP/e"
rc=$?
check "default-route link refused: exit 3 (got $rc)" test "$rc" = 3
check "default-route link refused: says so" grep -q "default route" "$TMP/e"
check "default-route link still up" is_up "$NS_B" "$VETH_B"
"$SQUALL" chaos link-down --netns "$NS_B" --dev "$VETH_B" --for 1s --force -q --state-dir "$SD"
check "--force takes the default-route link down and back: exit 0" test $? = 0
check "--force: link up again" is_up "$NS_B" "$VETH_B"
ip -n "$NS_B" route del default 2>/dev/null

# Dry run changes nothing; a missing device is a clear error.
out=$("$SQUALL" chaos link-down --netns "$NS_B" --dev "$VETH_B" --for 5s --dry-run --state-dir "$SD")
check "dry run: exit 0" test $? = 0
check "dry run: prints the netlink message" bash -c "printf '%s' \"\$1\" | grep -q RTM_NEWLINK" _ "$out"
check "dry run: link still up" is_up "$NS_B" "$VETH_B"
check "dry run: no journal" journal_empty
"$SQUALL" chaos link-down --netns "$NS_B" --dev nosuchdev0 --for 1s --state-dir "$SD" >/dev/null 2>"$TMP/e"
rc=$?
check "missing device: exit 3 (got $rc)" test "$rc" = 3
check "missing device: names it" grep -q "nosuchdev0" "$TMP/e"

finish test_chaos_link
