#!/usr/bin/env bash
# test_chaos_delay.sh — the delay fault, in two network namespaces joined by
# a veth pair that this test creates and always removes. Server in B (an
# HTTP responder that answers with the peer address it saw, and an echo
# service); clients in A (their connections arrive in B: the PREROUTING
# path) and in B itself (the OUTPUT path); faults applied in B with --netns.
#
# delay --port (squall's TCP proxy): request times rise by at least 0.8 x
# the latency on both paths (a lower bound only: a slow machine cannot fail
# it); the server sees the proxy (B's address) instead of A while it is on,
# and A again afterwards; 3 MiB (12 x the per-connection buffer cap) are
# echoed back intact through the proxy, both ways delayed, from both paths;
# the nat rules carry the fault id and `iptables -t nat -S` in B is as
# before once the TTL ends (exit 0) or a signal ends it (exit 4); --max-conns 1 holds a second connection until
# the first ends; events.jsonl holds the rules with the proxy's real port
# and the proxy's counts; SIGKILL of the agent: its watchdog removes the
# rules (time reported); `recover` of a live agent; a stale journal
# (agent and watchdog killed) is reverted by the next command; status;
# dry run changes nothing; port 22 is refused.
# delay --dev (netem): dry run prints the netlink operations; where the
# kernel has no sch_netem (as on the build machine) a real run is exit 3
# naming sch_netem and suggesting --port; where it has, it runs and the
# root qdisc comes back.
#
# Env: SQUALL. Needs root, python3 and curl (exit 77 otherwise).
set -u
: "${SQUALL:?set SQUALL to the squall binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/netns.sh"
. "$HERE/../lib/chaos.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is not installed"; exit 77; }
chaos_net_begin chaos-delay

netns_pair 10.231.6 || { echo "FAIL: cannot create the namespaces"; exit 1; }

cat >"$TMP/helper.py" <<'EOF'
import hashlib, os, socket, socketserver, sys, threading, time

def serve(ip):
    class Http(socketserver.StreamRequestHandler):
        def handle(self):
            while True:
                line = self.rfile.readline()
                if not line or line in (b"\r\n", b"\n"):
                    break
            body = ("peer=%s\n" % self.client_address[0]).encode()
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n"
                             b"Connection: close\r\n\r\n" % len(body) + body)
    class Echo(socketserver.BaseRequestHandler):
        def handle(self):
            while True:
                d = self.request.recv(65536)
                if not d:
                    break
                self.request.sendall(d)
            self.request.shutdown(socket.SHUT_WR)
    class Srv(socketserver.ThreadingTCPServer):
        allow_reuse_address = True
        daemon_threads = True
    h, e = Srv((ip, 8080), Http), Srv((ip, 9090), Echo)
    threading.Thread(target=e.serve_forever, daemon=True).start()
    print("listening", flush=True)
    h.serve_forever()

def echo(ip, n):
    """Sends n random bytes, reads the echo to the end, compares."""
    data = os.urandom(n)
    s = socket.create_connection((ip, 9090), timeout=30)
    def send():
        s.sendall(data)
        s.shutdown(socket.SHUT_WR)
    t = threading.Thread(target=send)
    t.start()
    got = []
    while True:
        d = s.recv(65536)
        if not d:
            break
        got.append(d)
    t.join()
    got = b"".join(got)
    same = hashlib.sha256(got).digest() == hashlib.sha256(data).digest()
    print("ok %d" % len(got) if same else "bad: sent %d, got %d" % (n, len(got)))

def maxconns(ip):
    """With --max-conns 1: a second connection is relayed only once the
    first has ended."""
    a = socket.create_connection((ip, 9090), timeout=10)
    a.sendall(b"a")
    first = a.recv(10)
    b = socket.create_connection((ip, 9090), timeout=10)
    b.sendall(b"b")
    b.settimeout(1.0)
    try:
        held = "relayed" if b.recv(10) else "closed"
    except socket.timeout:
        held = "held"
    a.shutdown(socket.SHUT_WR)
    a.recv(10)
    a.close()
    b.settimeout(10)
    try:
        after = b.recv(10)
    except socket.timeout:
        after = b"timeout"
    print("first=%s second=%s after=%s" % (first.decode(), held, after.decode()))

{"serve": lambda: serve(sys.argv[2]), "echo": lambda: echo(sys.argv[2], int(sys.argv[3])),
 "maxconns": lambda: maxconns(sys.argv[2])}[sys.argv[1]]()
EOF

ip netns exec "$NS_B" python3 "$TMP/helper.py" serve "$IP_B" >"$TMP/server.out" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
    grep -q "listening" "$TMP/server.out" && break
    sleep 0.05
done
ns_tcp_ok "$NS_A" "$IP_B" 8080 2 || { echo "FAIL: the server in $NS_B is unreachable"; exit 1; }
BASE_NAT=$(ip netns exec "$NS_B" iptables -t nat -S)
BASE_FILTER=$(ns_rules "$NS_B")

# get NS: one request from NS to B; prints "peer=IP SECONDS".
get() {
    ip netns exec "$1" curl -s -m 20 -w ' %{time_total}' "http://$IP_B:8080/" | tr -d '\n'
}
# at_least A B: A >= B (decimals).
at_least() { python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) >= float(sys.argv[2]) else 1)' "$1" "$2"; }
nat_clean() {
    [ "$(ip netns exec "$NS_B" iptables -t nat -S)" = "$BASE_NAT" ] &&
        [ "$(ns_rules "$NS_B")" = "$BASE_FILTER" ]
}
nat_has_squall() { ip netns exec "$NS_B" iptables -t nat -S | grep -q squall; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

before_a=$(get "$NS_A")
before_b=$(get "$NS_B")
echo "before the fault: from A: $before_a; from B: $before_b"
check "before: the server sees A" test "${before_a%% *}" = "peer=$IP_A"

# ---- proxy delay on both paths ------------------------------------------------------------------
LAT=0.4
RUN="$TMP/run"
mkdir -p "$RUN" && : >"$RUN/events.jsonl"
check "delay starts" agent_start d1 delay --netns "$NS_B" --port 8080 --latency 400ms \
    --jitter 20ms --for 60s --id t-delay --out "$RUN"
P=$AGENT
check "delay: SQUALL-NAT-OUT jumped to first from nat OUTPUT" \
    test "$(ip netns exec "$NS_B" iptables -t nat -S OUTPUT | grep '^-A' | head -1)" = \
         "-A OUTPUT -m comment --comment squall -j SQUALL-NAT-OUT"
check "delay: SQUALL-NAT-PRE jumped to first from nat PREROUTING" \
    test "$(ip netns exec "$NS_B" iptables -t nat -S PREROUTING | grep '^-A' | head -1)" = \
         "-A PREROUTING -m comment --comment squall -j SQUALL-NAT-PRE"
check "delay: rules carry the fault id" \
    bash -c "ip netns exec '$NS_B' iptables -t nat -S | grep -c 'squall:t-delay' | grep -qx 2"
during_a=$(get "$NS_A")
during_b=$(get "$NS_B")
echo "during a 400ms delay: from A: $during_a; from B: $during_b"
check "delay: from A (PREROUTING) a request takes >= 0.8 x 400ms (${during_a#* } s)" \
    at_least "${during_a#* }" "$(python3 -c "print(0.8 * $LAT)")"
check "delay: from B (OUTPUT) a request takes >= 0.8 x 400ms (${during_b#* } s)" \
    at_least "${during_b#* }" "$(python3 -c "print(0.8 * $LAT)")"
check "delay: the server sees the proxy (B), not A" test "${during_a%% *}" = "peer=$IP_B"
out=$("$SQUALL" chaos status --state-dir "$SD")
check "delay: status shows the redirect in effect" \
    bash -c "printf '%s' \"\$1\" | grep -q 'delay proxy.*in effect'" _ "$out"
kill -TERM "$P"
agent_wait "$P"
rc=$?
check "delay: exit 4 on SIGTERM (got $rc)" test "$rc" = 4
check "delay: iptables -t nat -S (and -S) in B as before" nat_clean
after_a=$(get "$NS_A")
echo "after: from A: $after_a"
check "after: the request succeeds and goes direct (the server sees A)" \
    test "${after_a%% *}" = "peer=$IP_A"
check "delay: journal removed" journal_empty
check "events: fault_applied names the proxy's real port" \
    bash -c "grep '\"type\":\"fault_applied\"' '$RUN/events.jsonl' | grep -q '\"--to-ports\",\"[0-9][0-9]*\"'"
check "events: fault_reverted counts the proxied connections" \
    bash -c "grep '\"type\":\"fault_reverted\"' '$RUN/events.jsonl' | grep -q '\"proxy\":{[^}]*\"connections\":2'"

# ---- the end of the TTL: exit 0, rules gone, requests direct again --------------------------------------
check "ttl delay starts" agent_start dt delay --netns "$NS_B" --port 8080 --latency 300ms --for 3s
P=$AGENT
during_a=$(get "$NS_A")
check "ttl delay: the request went through the proxy (${during_a})" test "${during_a%% *}" = "peer=$IP_B"
agent_wait "$P"
rc=$?
check "ttl delay: exit 0 at the TTL (got $rc)" test "$rc" = 0
check "ttl delay: nat rules gone" nat_clean
after_a=$(get "$NS_A")
check "ttl delay: afterwards requests go direct (${after_a})" test "${after_a%% *}" = "peer=$IP_A"

# ---- bytes intact through the proxy (both ways delayed) ---------------------------------------------------
check "echo delay starts" agent_start d2 delay --netns "$NS_B" --port 9090 --latency 30ms \
    --jitter 10ms --direction both --for 120s
P=$AGENT
t0=$(now_ms)
res_a=$(ip netns exec "$NS_A" timeout 60 python3 "$TMP/helper.py" echo "$IP_B" 3145728 2>&1)
res_b=$(ip netns exec "$NS_B" timeout 60 python3 "$TMP/helper.py" echo "$IP_B" 3145728 2>&1)
echo "3 MiB echoed through the proxy from A and from B in $(( $(now_ms) - t0 )) ms: $res_a / $res_b"
check "echo from A: 3 MiB back intact ($res_a)" test "$res_a" = "ok 3145728"
check "echo from B: 3 MiB back intact ($res_b)" test "$res_b" = "ok 3145728"
kill -TERM "$P"
agent_wait "$P"
rc=$?
check "echo delay: exit 4 on SIGTERM (got $rc)" test "$rc" = 4
check "echo delay: proxied both connections" grep -q "proxied 2 connection(s): 6291456 bytes to the port, 6291456 back" "$TMP/d2.out"
check "echo delay: nat rules gone" nat_clean
res=$(ip netns exec "$NS_A" timeout 60 python3 "$TMP/helper.py" echo "$IP_B" 100000 2>&1)
check "echo afterwards (direct) works ($res)" test "$res" = "ok 100000"

# ---- --max-conns 1: a second connection waits for the first -------------------------------------------
check "max-conns delay starts" agent_start d3 delay --netns "$NS_B" --port 9090 --latency 10ms \
    --max-conns 1 --for 60s
P=$AGENT
res=$(ip netns exec "$NS_A" timeout 30 python3 "$TMP/helper.py" maxconns "$IP_B" 2>&1)
echo "max-conns 1: $res"
check "max-conns 1: the second connection is held, then relayed ($res)" \
    test "$res" = "first=a second=held after=b"
kill -TERM "$P"
agent_wait "$P"
check "max-conns: reverted" nat_clean

# ---- SIGKILL: the watchdog removes the rules; recover; stale journal ------------------------------------
RUN2="$TMP/run2"
mkdir -p "$RUN2" && : >"$RUN2/events.jsonl"
check "watchdog case starts" agent_start d4 delay --netns "$NS_B" --port 8080 --latency 300ms \
    --for 60s --out "$RUN2"
P=$AGENT
check "watchdog case: rules in place" nat_has_squall
t0=$(now_ms)
kill -KILL "$P"
took=""
for _ in $(seq 60); do
    if ! nat_has_squall; then
        took=$(( $(now_ms) - t0 ))
        break
    fi
    sleep 0.05
done
wait "$P" 2>/dev/null
echo "watchdog: nat rules removed ${took:-never} ms after SIGKILL"
check "watchdog: rules removed within 3 s (took ${took:-never} ms)" test -n "$took"
check "watchdog: iptables as before" nat_clean
check "watchdog: fault_reverted by the watchdog" grep -q '"type":"fault_reverted".*"by":"watchdog"' "$RUN2/events.jsonl"
after=$(get "$NS_A")
check "watchdog: requests go direct again (${after})" test "${after%% *}" = "peer=$IP_A"
for _ in $(seq 40); do journal_empty && break; sleep 0.05; done
check "watchdog: journal removed" journal_empty
out=$("$SQUALL" chaos status --state-dir "$SD")
check "watchdog: status finds nothing" bash -c "printf '%s' \"\$1\" | grep -q 'no fault is applied'" _ "$out"

check "recover case starts" agent_start d5 delay --netns "$NS_B" --port 8080 --latency 300ms --for 60s
P=$AGENT
out=$("$SQUALL" chaos recover --state-dir "$SD" 2>&1)
check "recover: rules gone" nat_clean
check "recover: says so" bash -c "printf '%s' \"\$1\" | grep -q '1 fault(s) reverted'" _ "$out"
agent_wait "$P"
rc=$?
check "recover: the agent ends with exit 4 (got $rc)" test "$rc" = 4

check "stale case starts" agent_start d6 delay --netns "$NS_B" --port 8080 --latency 300ms --for 60s --id t-stale
check "stale: agent and watchdog killed" agent_kill_all "$AGENT"
check "stale: with no watchdog the rules stay" nat_has_squall
out=$("$SQUALL" chaos status --state-dir "$SD")
check "stale: status says dead and in effect" \
    bash -c "printf '%s' \"\$1\" | grep -q 'is dead' && printf '%s' \"\$1\" | grep -q 'delay proxy.*in effect'" _ "$out"
"$SQUALL" chaos delay --netns "$NS_B" --port 8081 --latency 10ms --for 200ms --state-dir "$SD" -q 2>"$TMP/stale.err"
check "stale: the next delay exits 0" test $? = 0
check "stale: it reverted the stale journal first" grep -q "stale journal: reverted t-stale (delay)" "$TMP/stale.err"
check "stale: all clean" nat_clean
check "stale: journals removed" journal_empty

# ---- dry run, protection, missing namespace --------------------------------------------------------------
out=$("$SQUALL" chaos delay --netns "$NS_B" --port 8080 --latency 100ms --for 5s --dry-run --state-dir "$SD" 2>&1)
rc=$?
check "dry run: exit 0 (got $rc)" test "$rc" = 0
check "dry run: prints the nat rules and the proxy" \
    bash -c "printf '%s' \"\$1\" | grep -q -- '-A SQUALL-NAT-OUT' && printf '%s' \"\$1\" | grep -q 'SO_ORIGINAL_DST'" _ "$out"
check "dry run: nothing changed" nat_clean
check "dry run: no journal" journal_empty
"$SQUALL" chaos delay --netns "$NS_B" --port 22 --latency 100ms --for 1s --state-dir "$SD" >/dev/null 2>"$TMP/p.err"
rc=$?
check "port 22: refused with exit 3 (got $rc)" test "$rc" = 3
check "port 22: says it is protected" grep -q "protected" "$TMP/p.err"
"$SQUALL" chaos delay --netns "squall-t-none-$$" --port 8080 --latency 100ms --for 1s --state-dir "$SD" >/dev/null 2>&1
rc=$?
check "missing netns: exit 3 (got $rc)" test "$rc" = 3
check "protected and missing: nothing changed" nat_clean

# ---- delay --dev: netem -------------------------------------------------------------------------------
qdisc() { tc -n "$NS_B" qdisc show dev "$VETH_B"; }
HAVE_NETEM=0
if command -v tc >/dev/null 2>&1; then
    if ip netns exec "$NS_A" tc qdisc add dev lo root handle 9: netem delay 1ms 2>/dev/null; then
        HAVE_NETEM=1
        ip netns exec "$NS_A" tc qdisc del dev lo root
    fi
    BASE_Q=$(qdisc)
    out=$("$SQUALL" chaos delay --netns "$NS_B" --dev "$VETH_B" --latency 100ms --jitter 10ms \
        --for 5s --dry-run --state-dir "$SD" 2>&1)
    rc=$?
    check "netem dry run: exit 0 (got $rc)" test "$rc" = 0
    check "netem dry run: prints the netlink message with delay and jitter" \
        bash -c "printf '%s' \"\$1\" | grep -q 'RTM_NEWQDISC .* handle 5157: netem delay 100000 us jitter 10000 us'" _ "$out"
    check "netem dry run: prints the revert" \
        bash -c "printf '%s' \"\$1\" | grep -q 'revert: netlink RTM_DELQDISC handle 5157:'" _ "$out"
    check "netem dry run: unchanged" test "$(qdisc)" = "$BASE_Q"
    check "netem dry run: no journal" journal_empty
    if [ "$HAVE_NETEM" = 0 ]; then
        echo "note: this kernel has no sch_netem; checking the refusal"
        check "netem dry run: notes the missing sch_netem" \
            bash -c "printf '%s' \"\$1\" | grep -q 'note: .*sch_netem'" _ "$out"
        "$SQUALL" chaos delay --netns "$NS_B" --dev "$VETH_B" --latency 100ms --jitter 10ms \
            --for 5s --state-dir "$SD" >"$TMP/n.out" 2>"$TMP/n.err"
        rc=$?
        check "netem missing: exit 3 (got $rc)" test "$rc" = 3
        check "netem missing: names sch_netem" grep -q "sch_netem" "$TMP/n.err"
        check "netem missing: suggests --port" grep -q -- "--port" "$TMP/n.err"
        check "netem missing: one line on stderr" test "$(wc -l <"$TMP/n.err")" = 1
        check "netem missing: unchanged" test "$(qdisc)" = "$BASE_Q"
        check "netem missing: no journal" journal_empty
    else
        check "netem starts" agent_start n1 delay --netns "$NS_B" --dev "$VETH_B" --latency 200ms --for 60s
        P=$AGENT
        check "netem: 5157: is the root" bash -c "tc -n '$NS_B' qdisc show dev '$VETH_B' | grep -q '^qdisc netem 5157: root'"
        t=$(get "$NS_A")
        check "netem: a request takes >= 0.16 s (${t#* })" at_least "${t#* }" 0.16
        kill -TERM "$P"
        agent_wait "$P"
        check "netem: exit 4 on SIGTERM" test $? = 4
        check "netem: the root qdisc is back" test "$(qdisc)" = "$BASE_Q"
    fi
else
    echo "note: tc is not installed; netem not exercised"
fi

finish test_chaos_delay
