#!/usr/bin/env bash
# test_chaos_iptables.sh — drop, reject, loss and partition inside two
# network namespaces joined by a veth pair that this test creates and always
# removes. A server (`squall target`) runs in namespace B, the client in A;
# faults are applied in B with --netns. Checks: traffic stops during the
# fault and resumes after; the rules sit above a pre-existing ACCEPT and
# still take effect; connections opened before the fault are cut too (drop
# silences them, reject resets them); `iptables -S` in B is exactly as
# before afterwards;
# loss drops about the given share of 120 connection attempts (wide
# margins); SIGINT reverts and exits 4; two faults share the chains; dry run
# changes nothing; protected targets are refused; events.jsonl holds the
# exact rules.
#
# Env: SQUALL. Needs root (exit 77 otherwise). Traffic only inside the test's
# namespaces, in bounded loops.
set -u
: "${SQUALL:?set SQUALL to the squall binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/netns.sh"
. "$HERE/../lib/chaos.sh"
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is not installed"; exit 77; }
chaos_net_begin chaos-ipt

netns_pair 10.231.1 || { echo "FAIL: cannot create the namespaces"; exit 1; }
PORT=8080
ip netns exec "$NS_B" "$SQUALL" target --listen "$IP_B:$PORT" >"$TMP/target.out" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
    grep -q "listening" "$TMP/target.out" && break
    sleep 0.05
done
ns_tcp_ok "$NS_A" "$IP_B" "$PORT" 2 || { echo "FAIL: the server in $NS_B is unreachable"; exit 1; }

# A pre-existing ACCEPT for the port: our rules must still win.
ip netns exec "$NS_B" iptables -I INPUT 1 -p tcp --dport "$PORT" -j ACCEPT
BASE_B=$(ns_rules "$NS_B")
BASE_A=$(ns_rules "$NS_A")

# curl_code [T]: curl's exit code for one request from A (7 refused, 28
# timeout), connect timeout T seconds (default 1; checks that expect success
# use a long one so that a slow machine cannot fail them).
curl_code() {
    ip netns exec "$NS_A" curl -s -o /dev/null --connect-timeout "${1:-1}" -m "$((${1:-1} + 2))" \
        "http://$IP_B:$PORT/"
    echo $?
}
rules_clean() {
    [ "$(ns_rules "$NS_B")" = "$BASE_B" ] && [ "$(ns_rules "$NS_A")" = "$BASE_A" ]
}

# ---- drop, with a run directory ----------------------------------------------------
RUN="$TMP/run"
check "drop starts" agent_start drop drop --netns "$NS_B" --port "$PORT" --for 3s --id t-drop --out "$RUN"
P=$AGENT
check "drop: jump to SQUALL-IN is the first INPUT rule, above the ACCEPT" \
    test "$(ip netns exec "$NS_B" iptables -S INPUT | grep '^-A' | head -1)" = \
         "-A INPUT -m comment --comment squall -j SQUALL-IN"
check "drop: rule carries the fault id" bash -c "ip netns exec '$NS_B' iptables -S SQUALL-IN | grep -q 'squall:t-drop'"
check "drop: connection times out during the fault" test "$(curl_code)" = 28
check "drop: status shows it in effect" bash -c "'$SQUALL' chaos status --state-dir '$SD' | grep -q 'in effect'"
agent_wait "$P"
rc=$?
check "drop: exit 0 at the TTL (got $rc)" test "$rc" = 0
check "drop: traffic resumes" test "$(curl_code 5)" = 0
check "drop: iptables -S is as before" rules_clean
check "drop: journal removed" journal_empty
check "drop: events.jsonl has fault_applied with the rule" \
    bash -c "grep '\"type\":\"fault_applied\"' '$RUN/events.jsonl' | grep -q 'squall:t-drop'"
check "drop: events.jsonl has fault_reverted" bash -c "grep -q '\"type\":\"fault_reverted\".*\"id\":\"t-drop\"' '$RUN/events.jsonl'"
check "drop: events carry utc_ns" bash -c "grep -c '\"utc_ns\":[0-9]\\{19\\}' '$RUN/events.jsonl' | grep -q 2"

# ---- reject (tcp-reset), interrupted by SIGINT ---------------------------------------
check "reject starts" agent_start reject reject --netns "$NS_B" --port "$PORT" --for 60s
P=$AGENT
check "reject: connection refused (RST) during the fault" test "$(curl_code)" = 7
kill -INT "$P"
agent_wait "$P"
rc=$?
check "reject: exit 4 after SIGINT (got $rc)" test "$rc" = 4
check "reject: reverted" rules_clean
check "reject: traffic resumes" test "$(curl_code 5)" = 0

# ---- established connections are cut too (drop: silence; reject: a TCP reset) ---------------------
# probe_established KIND: opens a keep-alive connection from A first, then
# applies KIND, then sends a request on the open connection; sets RESULT to
# what happened: ok, timeout or reset.
probe_established() {
    local kind=$1 line result="" cpid
    coproc CONN { ip netns exec "$NS_A" python3 -u -c '
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
req = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n"
s.sendall(req); s.recv(65536)
print("ready")
sys.stdin.readline()
s.settimeout(2)
try:
    s.sendall(req)
    print("ok" if s.recv(65536) else "reset")
except socket.timeout:
    print("timeout")
except OSError:
    print("reset")
' "$IP_B" "$PORT" 2>/dev/null; }
    cpid=$CONN_PID
    read -r -t 10 line <&"${CONN[0]}"
    if [ "$line" = ready ] && agent_start "est-$kind" "$kind" --netns "$NS_B" --port "$PORT" --for 60s; then
        echo go >&"${CONN[1]}"
        read -r -t 10 result <&"${CONN[0]}"
        kill -TERM "$AGENT"
        agent_wait "$AGENT"
    fi
    kill "$cpid" 2>/dev/null
    wait "$cpid" 2>/dev/null
    RESULT=${result:-none}
}
if command -v python3 >/dev/null 2>&1; then
    probe_established drop
    check "established connection: drop silences it (got $RESULT)" test "$RESULT" = timeout
    probe_established reject
    check "established connection: reject resets it (got $RESULT)" test "$RESULT" = reset
    check "established: reverted" rules_clean
else
    echo "note: python3 missing; established connections not exercised"
fi

# ---- loss at 50%: about half of 120 connection attempts fail ----------------------------
check "loss starts" agent_start loss loss --netns "$NS_B" --port "$PORT" --probability 50% --for 300s
P=$AGENT
ok=0
for _ in $(seq 120); do
    ns_tcp_ok "$NS_A" "$IP_B" "$PORT" 0.5 && ok=$((ok + 1))
done
kill -TERM "$P"
agent_wait "$P"
rc=$?
echo "loss 50%: $ok of 120 connections succeeded"
check "loss: between 24 and 96 of 120 connect (got $ok)" test "$ok" -ge 24 -a "$ok" -le 96
check "loss: exit 4 after SIGTERM (got $rc)" test "$rc" = 4
check "loss: reverted" rules_clean
ok=0
for _ in $(seq 20); do
    ns_tcp_ok "$NS_A" "$IP_B" "$PORT" 5 && ok=$((ok + 1))
done
check "loss: all 20 connect afterwards (got $ok)" test "$ok" = 20

# ---- partition: both directions cut ---------------------------------------------------
check "partition starts" agent_start part partition --netns "$NS_B" --peers "$IP_A/32" --for 3s
P=$AGENT
check "partition: A -> B blocked" test "$(curl_code)" = 28
# B -> A on a closed port: refused at once normally, silent (timeout) when cut.
ip netns exec "$NS_B" timeout 1 bash -c "exec 3<>/dev/tcp/$IP_A/9" 2>/dev/null
rc=$?
check "partition: B -> A blocked (timeout, got $rc)" test "$rc" = 124
agent_wait "$P"
check "partition: exit 0" test $? = 0
check "partition: reverted" rules_clean
ip netns exec "$NS_B" timeout 5 bash -c "exec 3<>/dev/tcp/$IP_A/9" 2>/dev/null
rc=$?
check "partition: B -> A refused again, not timed out (got $rc)" test "$rc" = 1
check "partition: A -> B works" test "$(curl_code 5)" = 0

# ---- two faults share the chains; each removes only its own rules -----------------------
check "first of two" agent_start two1 drop --netns "$NS_B" --port 9091 --for 2s --id t-one
P1=$AGENT
check "second of two" agent_start two2 drop --netns "$NS_B" --port 9092 --for 4s --id t-two
P2=$AGENT
agent_wait "$P1"
check "two: first exit 0" test $? = 0
check "two: second's rule is still there" bash -c "ip netns exec '$NS_B' iptables -S SQUALL-IN | grep -q 'squall:t-two'"
check "two: first's rule is gone" bash -c "! ip netns exec '$NS_B' iptables -S SQUALL-IN | grep -q 'squall:t-one'"
agent_wait "$P2"
check "two: second exit 0" test $? = 0
check "two: all clean" rules_clean

# ---- dry run changes nothing --------------------------------------------------------------
out=$("$SQUALL" chaos drop --netns "$NS_B" --port "$PORT" --for 5s --dry-run --state-dir "$SD" 2>&1)
rc=$?
check "dry run: exit 0 (got $rc)" test "$rc" = 0
check "dry run: prints the iptables-restore input" bash -c "printf '%s' \"\$1\" | grep -q -- '-A SQUALL-IN'" _ "$out"
check "dry run: prints the revert" bash -c "printf '%s' \"\$1\" | grep -q -- '-D SQUALL-IN'" _ "$out"
check "dry run: rules unchanged" rules_clean
check "dry run: no journal" journal_empty
check "dry run: traffic flows" test "$(curl_code 5)" = 0

# ---- protected targets ----------------------------------------------------------------------
"$SQUALL" chaos drop --netns "$NS_B" --port 22 --for 1s --state-dir "$SD" >/dev/null 2>"$TMP/p.err"
rc=$?
check "protected: port 22 refused with exit 3 (got $rc)" test "$rc" = 3
check "protected: message says so" grep -q "protected" "$TMP/p.err"
"$SQUALL" chaos drop --netns "$NS_B" --src 127.0.0.1 --for 1s --state-dir "$SD" >/dev/null 2>"$TMP/p.err"
rc=$?
check "protected: loopback source refused with exit 3 (got $rc)" test "$rc" = 3
check "protected: nothing changed" rules_clean

# ---- no such namespace ---------------------------------------------------------------------
"$SQUALL" chaos drop --netns "squall-t-none-$$" --port "$PORT" --for 1s --state-dir "$SD" >/dev/null 2>"$TMP/n.err"
rc=$?
check "missing netns: exit 3 (got $rc)" test "$rc" = 3
check "missing netns: journal removed" journal_empty

finish test_chaos_iptables
