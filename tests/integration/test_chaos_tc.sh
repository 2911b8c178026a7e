#!/usr/bin/env bash
# test_chaos_tc.sh — the bandwidth fault (tbf on squall's handle 5157:) in
# network namespaces this test creates: the kernel's default root qdisc comes
# back afterwards; a pre-existing root qdisc (pfifo 77: limit 123) is put
# back exactly, also by the watchdog after SIGKILL; a classful root with
# classes is refused; an upload through the shaped link cannot go faster
# than the limit allows (an upper bound only: a slow machine cannot fail
# it); dry run changes nothing.
#
# Env: SQUALL. Needs root and tc (exit 77 otherwise).
set -u
: "${SQUALL:?set SQUALL to the squall binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/netns.sh"
. "$HERE/../lib/chaos.sh"
command -v tc >/dev/null 2>&1 || { echo "SKIP: tc is not installed"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is not installed"; exit 77; }
chaos_net_begin chaos-tc

netns_pair 10.231.4 || { echo "FAIL: cannot create the namespaces"; exit 1; }
qdisc() { tc -n "$NS_B" qdisc show dev "$VETH_B"; }
if ! tc -n "$NS_B" qdisc add dev "$VETH_B" root handle 9: tbf rate 1mbit burst 16k limit 32k 2>/dev/null; then
    echo "SKIP: this kernel has no sch_tbf"
    exit 77
fi
tc -n "$NS_B" qdisc del dev "$VETH_B" root
BASE=$(qdisc)

# A sink for uploads in A; B uploads through its shaped egress.
ip netns exec "$NS_A" "$SQUALL" target --listen "$IP_A:8080" --max-body 4MiB >"$TMP/target.out" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
    grep -q "listening" "$TMP/target.out" && break
    sleep 0.05
done
head -c 400000 /dev/zero >"$TMP/body"
upload_speed() {
    ip netns exec "$NS_B" curl -s -o /dev/null -m 30 -w '%{speed_upload}' \
        --data-binary @"$TMP/body" "http://$IP_A:8080/items"
}

# ---- the kernel's default qdisc ----------------------------------------------------------------
check "bandwidth starts" agent_start bw1 bandwidth --netns "$NS_B" --dev "$VETH_B" --rate 1mbit --for 60s
A=$AGENT
check "bandwidth: tbf 5157: is the root" bash -c "tc -n '$NS_B' qdisc show dev '$VETH_B' | grep -q '^qdisc tbf 5157: root'"
speed=$(upload_speed)
speed=${speed%.*}
echo "upload through 1mbit: ${speed:-?} bytes/s"
check "bandwidth: upload at most 300000 B/s at 1mbit (got ${speed:-none})" test "${speed:-999999999}" -le 300000
check "bandwidth: status says in effect" bash -c "'$SQUALL' chaos status --state-dir '$SD' | grep -q 'tbf.*in effect'"
kill -TERM "$A"
agent_wait "$A"
check "bandwidth: exit 4 on SIGTERM" test $? = 4
check "bandwidth: the default root qdisc is back" test "$(qdisc)" = "$BASE"
code=$(ip netns exec "$NS_B" curl -s -o /dev/null -m 30 -w '%{http_code}' \
    --data-binary @"$TMP/body" "http://$IP_A:8080/items")
check "bandwidth: uploads still work afterwards (HTTP $code)" test "${code:-000}" != 000

# ---- a pre-existing root qdisc is put back exactly, also by the watchdog ---------------------------
tc -n "$NS_B" qdisc add dev "$VETH_B" root handle 77: pfifo limit 123
MINE=$(qdisc)
"$SQUALL" chaos bandwidth --netns "$NS_B" --dev "$VETH_B" --rate 2mbit --for 300ms --state-dir "$SD" -q
check "pfifo: exit 0" test $? = 0
check "pfifo: put back with its handle and limit" test "$(qdisc)" = "$MINE"
check "watchdog case starts" agent_start bw2 bandwidth --netns "$NS_B" --dev "$VETH_B" --rate 2mbit --for 60s
A=$AGENT
check "watchdog case: tbf in place" bash -c "tc -n '$NS_B' qdisc show dev '$VETH_B' | grep -q 'tbf 5157:'"
kill -KILL "$A"
wait "$A" 2>/dev/null
for _ in $(seq 60); do [ "$(qdisc)" = "$MINE" ] && break; sleep 0.05; done
check "watchdog: pfifo 77: put back after SIGKILL" test "$(qdisc)" = "$MINE"

# ---- dry run; classful roots with classes are refused ------------------------------------------------
out=$("$SQUALL" chaos bandwidth --netns "$NS_B" --dev "$VETH_B" --rate 1mbit --for 5s --dry-run --state-dir "$SD")
check "dry run: exit 0" test $? = 0
check "dry run: prints RTM_NEWQDISC and the revert" bash -c "printf '%s' \"\$1\" | grep -q RTM_NEWQDISC && printf '%s' \"\$1\" | grep -q 'revert: netlink RTM_NEWQDISC root handle 77:'" _ "$out"
check "dry run: unchanged" test "$(qdisc)" = "$MINE"
tc -n "$NS_B" qdisc replace dev "$VETH_B" root handle 1: htb default 10
tc -n "$NS_B" class add dev "$VETH_B" parent 1: classid 1:10 htb rate 10mbit
HTB=$(qdisc)
"$SQUALL" chaos bandwidth --netns "$NS_B" --dev "$VETH_B" --rate 1mbit --for 1s --state-dir "$SD" >/dev/null 2>"$TMP/e"
rc=$?
check "htb with classes: refused with exit 3 (got $rc)" test "$rc" = 3
check "htb with classes: says why" grep -q "could not put them back" "$TMP/e"
check "htb with classes: unchanged" test "$(qdisc)" = "$HTB"
check "journals removed" journal_empty

# ---- usage ------------------------------------------------------------------------------------------------
"$SQUALL" chaos bandwidth --netns "$NS_B" --dev "$VETH_B" --rate fast --for 1s --state-dir "$SD" >/dev/null 2>"$TMP/e"
check "bad rate: exit 2" test $? = 2
"$SQUALL" chaos bandwidth --netns "$NS_B" --dev lo --rate 1mbit --for 1s --state-dir "$SD" >/dev/null 2>"$TMP/e"
check "lo: refused with exit 3" test $? = 3

finish test_chaos_tc
