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
# The end of the proxy: when the TTL ends while a client streams an upload,
# the server sees a reset, not a clean end (an idle open connection is
# reset too; one that had ended closed cleanly), and so it does when the
# agent is SIGKILLed mid-upload. Open files: under a limit of 200 (prlimit), --max-conns 500 is exit 2, the default is
# lowered so that 150 connections neither reset nor starve the revert
# (exit 0), and an upstream socket() that fails with EMFILE holds the
# client until descriptors are back. A CONNMARK --restore-mark rule in
# mangle OUTPUT (which loses the proxy's mark): the proxy's own
# connections that come back are reset at once, with one warning. A
# request to 127.0.0.1:PORT is not redirected unless --force.
# delay --dev (netem): dry run prints the netlink operations; where the
# kernel has no sch_netem (as on the build machine) a real run is exit 3
# naming sch_netem and suggesting --port; where it has, it runs and the
# root qdisc comes back.
#
# Env: SQUALL. Needs root, python3, curl and prlimit (exit 77 otherwise).
set -u
: "${SQUALL:?set SQUALL to the squall binary}"
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/netns.sh"
. "$HERE/../lib/chaos.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is not installed"; exit 77; }
command -v prlimit >/dev/null 2>&1 || { echo "SKIP: prlimit (util-linux) is not installed"; exit 77; }
chaos_net_begin chaos-delay

netns_pair 10.231.6 || { echo "FAIL: cannot create the namespaces"; exit 1; }

cat >"$TMP/helper.py" <<'EOF'
import hashlib, os, socket, socketserver, sys, threading, time

LOG = threading.Lock()

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
        request_queue_size = 256
    class Sink(socketserver.BaseRequestHandler):
        """Reads an 8-byte tag, then to the end of the stream; logs how it
        ended (a clean EOF or a reset) and answers a clean end with "ok N"."""
        def handle(self):
            n, tag, how = 0, b"", "CLEAN EOF"
            try:
                while True:
                    d = self.request.recv(65536)
                    if not d:
                        break
                    if len(tag) < 8:
                        k = 8 - len(tag)
                        tag, d = tag + d[:k], d[k:]
                    n += len(d)
            except ConnectionResetError:
                how = "RESET"
            with LOG:  # one whole line at a time: handlers run in threads
                sys.stdout.write("sink %s %d bytes then %s\n" % (tag.decode(errors="replace"), n, how))
                sys.stdout.flush()
            if how == "CLEAN EOF":
                try:
                    self.request.sendall(b"ok %d" % n)
                    self.request.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
    h, e = Srv((ip, 8080), Http), Srv((ip, 9090), Echo)
    k, lo = Srv((ip, 9091), Sink), Srv(("127.0.0.1", 8080), Http)
    for srv in (e, k, lo):
        threading.Thread(target=srv.serve_forever, daemon=True).start()
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

def complete(ip, n):
    """Tag COMPLETE, n bytes, end of stream; reads the sink's answer to
    its end: "complete: ok N, EOF" when both ends closed cleanly."""
    s = socket.create_connection((ip, 9091), timeout=10)
    s.sendall(b"COMPLETE" + b"c" * n)
    s.shutdown(socket.SHUT_WR)
    got = b""
    try:
        while True:
            d = s.recv(100)
            if not d:
                break
            got += d
        print("complete: %s, EOF" % got.decode())
    except OSError as e:
        print("complete: %s, then %s" % (got.decode(), type(e).__name__))

def stream(ip, tag):
    """Tag (8 bytes), then 4 KiB every 10 ms until an error (or 20 s);
    prints how much was sent and how it ended."""
    s = socket.create_connection((ip, 9091), timeout=10)
    s.sendall(tag.encode())
    print("connected", flush=True)
    sent, end = 0, time.time() + 20
    try:
        while time.time() < end:
            s.sendall(b"s" * 4096)
            sent += 4096
            time.sleep(0.01)
        how = "timeout"
    except OSError as e:
        how = type(e).__name__
    print("stream: sent %d then %s" % (sent, how))

def idle(ip, secs):
    """Opens a connection to the sink, sends its tag only, and waits."""
    s = socket.create_connection((ip, 9091), timeout=10)
    s.sendall(b"IDLE0001")
    print("connected", flush=True)
    time.sleep(float(secs))

def flood(ip, n, secs, hold):
    """Opens n connections to the echo service one after another, sends a
    byte on each, keeps them open secs seconds, then counts how each
    fared: echoed, held (nothing yet), reset, closed; and keeps them open
    hold seconds more."""
    socks, errs = [], 0
    for _ in range(n):
        try:
            s = socket.create_connection((ip, 9090), timeout=5)
            s.sendall(b"f")
            socks.append(s)
        except OSError:
            errs += 1
    time.sleep(float(secs))
    res = {"echoed": 0, "held": 0, "reset": 0, "closed": 0}
    for s in socks:
        s.setblocking(False)
        try:
            d = s.recv(10)
            res["echoed" if d else "closed"] += 1
        except BlockingIOError:
            res["held"] += 1
        except OSError:
            res["reset"] += 1
    print("flood: connect errors %d echoed %d held %d reset %d closed %d" %
          (errs, res["echoed"], res["held"], res["reset"], res["closed"]), flush=True)
    time.sleep(float(hold))

def heldthen(ip, first, after):
    """Sends a byte to the echo service; reports whether it came back
    within `first` s (held / relayed / reset / closed), then waits up to
    `after` s more for it."""
    s = socket.create_connection((ip, 9090), timeout=10)
    s.sendall(b"x")
    def one(t):
        s.settimeout(float(t))
        try:
            d = s.recv(10)
            return d.decode() if d else "closed"
        except socket.timeout:
            return "held"
        except OSError:
            return "reset"
    a = one(first)
    b = one(after) if a == "held" else "-"
    print("first=%s after=%s" % (a, b), flush=True)

{"serve": lambda: serve(sys.argv[2]), "echo": lambda: echo(sys.argv[2], int(sys.argv[3])),
 "maxconns": lambda: maxconns(sys.argv[2]), "complete": lambda: complete(sys.argv[2], int(sys.argv[3])),
 "stream": lambda: stream(sys.argv[2], sys.argv[3]), "idle": lambda: idle(sys.argv[2], sys.argv[3]),
 "flood": lambda: flood(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]),
 "heldthen": lambda: heldthen(sys.argv[2], sys.argv[3], sys.argv[4])}[sys.argv[1]]()
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

# ---- the TTL ends while a client streams: a reset, never a clean end ---------------------------------
# A connection still open when the proxy stops is reset on both sides (a FIN
# would make a cut-off upload or response look complete); one that had
# ended (both FINs forwarded) closed normally before.
sink_log() { grep "^sink $1 " "$TMP/server.out" | tail -1; }
check "stop delay starts" agent_start d7 delay --netns "$NS_B" --port 9091 --latency 100ms --for 5s
P=$AGENT
res=$(ip netns exec "$NS_A" timeout 10 python3 "$TMP/helper.py" complete "$IP_B" 1000 2>&1)
check "stop: a connection that ended during the fault closed cleanly ($res)" \
    test "$res" = "complete: ok 1000, EOF"
ip netns exec "$NS_A" timeout 30 python3 "$TMP/helper.py" stream "$IP_B" STREAM01 >"$TMP/stream.out" 2>&1 &
STREAM=$!
ip netns exec "$NS_A" timeout 30 python3 "$TMP/helper.py" idle "$IP_B" 12 >"$TMP/idle.out" 2>&1 &
IDLE=$!
for _ in $(seq 60); do
    grep -q connected "$TMP/stream.out" && grep -q connected "$TMP/idle.out" && break
    sleep 0.05
done
check "stop: the streaming and the idle client connected while the proxy ran" \
    kill -0 "$P"
agent_wait "$P"
rc=$?
check "stop: exit 0 at the TTL (got $rc)" test "$rc" = 0
wait "$STREAM"
for _ in $(seq 100); do
    [ -n "$(sink_log STREAM01)" ] && [ -n "$(sink_log IDLE0001)" ] && break
    sleep 0.1
done
echo "stop: $(tr '\n' ' ' <"$TMP/stream.out"); server: $(sink_log STREAM01); $(sink_log IDLE0001); $(sink_log COMPLETE)"
check "stop: the server saw the completed upload end cleanly" \
    grep -q '^sink COMPLETE 1000 bytes then CLEAN EOF' "$TMP/server.out"
check "stop: the server saw the cut-off upload end with a reset, not a clean EOF ($(sink_log STREAM01))" \
    bash -c 'case "$1" in *" then RESET") exit 0 ;; *) exit 1 ;; esac' _ "$(sink_log STREAM01)"
check "stop: an idle open connection is reset too ($(sink_log IDLE0001))" \
    grep -q '^sink IDLE0001 0 bytes then RESET' "$TMP/server.out"
check "stop: the streaming client saw an error, not silence ($(cat "$TMP/stream.out"))" \
    grep -Eq 'then (ConnectionResetError|BrokenPipeError)' "$TMP/stream.out"
kill "$IDLE" 2>/dev/null
wait "$IDLE" 2>/dev/null
check "stop: nat rules gone" nat_clean
# The agent killed: the kernel closes the proxy's sockets, which reset too.
check "kill-stream delay starts" agent_start d7k delay --netns "$NS_B" --port 9091 --latency 100ms --for 60s
P=$AGENT
ip netns exec "$NS_A" timeout 30 python3 "$TMP/helper.py" stream "$IP_B" STREAM02 >"$TMP/stream2.out" 2>&1 &
STREAM=$!
for _ in $(seq 60); do grep -q connected "$TMP/stream2.out" && break; sleep 0.05; done
sleep 0.5
kill -KILL "$P"
wait "$P" 2>/dev/null
wait "$STREAM"
for _ in $(seq 100); do [ -n "$(sink_log STREAM02)" ] && break; sleep 0.1; done
echo "agent killed: $(tr '\n' ' ' <"$TMP/stream2.out"); server: $(sink_log STREAM02)"
check "kill: the server saw the cut-off upload end with a reset ($(sink_log STREAM02))" \
    bash -c 'case "$1" in *" then RESET") exit 0 ;; *) exit 1 ;; esac' _ "$(sink_log STREAM02)"
for _ in $(seq 60); do nat_clean && break; sleep 0.05; done
check "kill: the watchdog removed the nat rules" nat_clean
for _ in $(seq 40); do journal_empty && break; sleep 0.05; done

# ---- the open-files limit: --max-conns checked, a reserve kept for the revert -------------------------
# squall-nofile runs squall with RLIMIT_NOFILE 200 (soft and hard).
printf '#!/bin/sh\nexec prlimit --nofile=200:200 "%s" "$@"\n' "$SQUALL" >"$TMP/squall-nofile"
chmod +x "$TMP/squall-nofile"
"$TMP/squall-nofile" chaos delay --netns "$NS_B" --port 9090 --latency 10ms --max-conns 500 --for 1s \
    --state-dir "$SD" >/dev/null 2>"$TMP/nofile.err"
rc=$?
check "nofile 200: --max-conns 500 is exit 2 (got $rc)" test "$rc" = 2
check "nofile 200: the message names the open-files limit ($(head -c 300 "$TMP/nofile.err"))" \
    grep -q "open files" "$TMP/nofile.err"
check "nofile 200: nothing changed" nat_clean
SQ_REAL=$SQUALL
SQUALL="$TMP/squall-nofile"
check "nofile delay starts (open-files limit 200, default --max-conns)" \
    agent_start d8 delay --netns "$NS_B" --port 9090 --latency 10ms --for 5s
P=$AGENT
SQUALL=$SQ_REAL
ip netns exec "$NS_A" timeout 30 python3 "$TMP/helper.py" flood "$IP_B" 150 2 6 >"$TMP/flood.out" 2>&1 &
FLOOD=$!
agent_wait "$P"
rc=$?
wait "$FLOOD"
echo "nofile 200, 150 connections: $(cat "$TMP/flood.out"); agent: $(tr '\n' ' ' <"$TMP/d8.err")"
check "nofile: no connection reset or closed while the proxy was full ($(cat "$TMP/flood.out"))" \
    grep -q "connect errors 0 echoed [1-9][0-9]* held [1-9][0-9]* reset 0 closed 0" "$TMP/flood.out"
echoed=$(sed -n 's/.* echoed \([0-9]*\) .*/\1/p' "$TMP/flood.out")
check "nofile: at most (200 - 64) / 2 = 68 connections proxied at once (echoed ${echoed:-?})" \
    test "${echoed:-99}" -le 68
check "nofile: the revert had descriptors: exit 0 (got $rc)" test "$rc" = 0
check "nofile: no 'Too many open files'" not grep -q "Too many open files" "$TMP/d8.err"
check "nofile: nat rules gone" nat_clean

# An upstream socket() that fails with EMFILE: the client waits (as in a
# full accept queue) and is relayed once descriptors are free again.
check "emfile delay starts" agent_start d9 delay --netns "$NS_B" --port 9090 --latency 10ms --for 30s
P=$AGENT
read -r soft hard < <(prlimit --pid "$P" --nofile --noheadings --output SOFT,HARD)
# The second free descriptor number: as the soft limit it leaves exactly one
# descriptor, which accept() takes; the upstream socket() then fails. The agent
# may hold a descriptor for a moment while the number is read (on a busy
# machine), which leaves two free: then the attempt is repeated (up to 3 times).
for attempt in 1 2 3; do
  free2=$(ls "/proc/$P/fd" | sort -n | awk -v n=0 -v want=0 '
      { while (want < $1) { if (++n == 2) { print want; exit } want++ } want = $1 + 1 }
      END { while (n < 2) { if (++n == 2) print want; want++ } }')
  prlimit --pid "$P" --nofile="$free2:$hard"
  ip netns exec "$NS_A" timeout 30 python3 "$TMP/helper.py" heldthen "$IP_B" 1 5 >"$TMP/held.out" 2>&1 &
  HELD=$!
  sleep 1.5
  prlimit --pid "$P" --nofile="$soft:$hard"
  wait "$HELD"
  echo "emfile on the upstream socket, attempt $attempt (soft limit $free2, then $soft): $(cat "$TMP/held.out")"
  [ "$(cat "$TMP/held.out")" = "first=held after=x" ] && break
done
check "emfile: the client is held, not reset, then relayed ($(cat "$TMP/held.out"))" \
    test "$(cat "$TMP/held.out")" = "first=held after=x"
kill -TERM "$P"
agent_wait "$P"
rc=$?
check "emfile: exit 4 on SIGTERM (got $rc)" test "$rc" = 4
check "emfile: nat rules gone" nat_clean

# ---- a rule that rewrites marks: the proxy's own connection comes back -------------------------------
# Inside NS_B only: CONNMARK --restore-mark in mangle OUTPUT gives the
# proxy's upstream packets the connection's mark (0) instead of 0x5157.
BASE_MANGLE=$(ip netns exec "$NS_B" iptables -t mangle -S)
ip netns exec "$NS_B" iptables -t mangle -A OUTPUT -p tcp --dport 8080 -j CONNMARK --restore-mark
check "loop delay starts" agent_start d10 delay --netns "$NS_B" --port 8080 --latency 50ms --for 30s
P=$AGENT
t0=$(now_ms)
ip netns exec "$NS_A" curl -s -m 5 -o /dev/null "http://$IP_B:8080/"
c1=$?
ip netns exec "$NS_B" curl -s -m 5 -o /dev/null "http://$IP_B:8080/"
c2=$?
took=$(( $(now_ms) - t0 ))
echo "loop: curl from A exit $c1, from B exit $c2, both in $took ms; agent: $(tr '\n' ' ' <"$TMP/d10.err")"
# curl: 56 = reset while receiving; 7 = reset before it saw its connect
# complete (on loopback the reset can come first).
check "loop: the requests fail fast with a reset, not a timeout (curl $c1, $c2 in $took ms)" \
    bash -c 'for c in "$1" "$2"; do [ "$c" = 56 ] || [ "$c" = 7 ] || exit 1; done; [ "$3" -lt 4000 ]' \
    _ "$c1" "$c2" "$took"
check "loop: one warning naming the cause" \
    test "$(grep -c 'rewrites packet marks' "$TMP/d10.err")" = 1
kill -TERM "$P"
agent_wait "$P"
rc=$?
check "loop: exit 4 on SIGTERM (got $rc)" test "$rc" = 4
check "loop: the proxy counted the looped connections" grep -q "looped back" "$TMP/d10.out"
check "loop: nat rules gone" nat_clean
ip netns exec "$NS_B" iptables -t mangle -D OUTPUT -p tcp --dport 8080 -j CONNMARK --restore-mark
check "loop: mangle as before" test "$(ip netns exec "$NS_B" iptables -t mangle -S)" = "$BASE_MANGLE"

# ---- connections to loopback addresses are not redirected unless --force -----------------------------
lo_get() { ip netns exec "$NS_B" curl -s -m 10 -o /dev/null -w '%{time_total}' "http://127.0.0.1:8080/"; }
check "lo delay starts" agent_start d11 delay --netns "$NS_B" --port 8080 --latency 400ms --for 30s
P=$AGENT
t_lo=$(lo_get)
t_ip=$(get "$NS_B")
kill -TERM "$P"
agent_wait "$P"
echo "loopback: 127.0.0.1 in $t_lo s, $IP_B in ${t_ip#* } s"
check "lo: a request to 127.0.0.1:8080 is not delayed ($t_lo s)" not at_least "$t_lo" 0.3
check "lo: one to $IP_B:8080 is (${t_ip#* } s)" at_least "${t_ip#* }" 0.32
check "lo: the proxy saw only that one" grep -q "proxied 1 connection(s)" "$TMP/d11.out"
check "lo --force delay starts" agent_start d12 delay --netns "$NS_B" --port 8080 --latency 400ms \
    --force --for 30s
P=$AGENT
t_lo=$(lo_get)
kill -TERM "$P"
agent_wait "$P"
check "lo --force: a request to 127.0.0.1:8080 is delayed ($t_lo s)" at_least "$t_lo" 0.32
check "lo --force: through the proxy" grep -q "proxied 1 connection(s)" "$TMP/d12.out"
"$SQUALL" chaos delay --netns "$NS_B" --port 8080 --latency 100ms --dst 127.0.0.1 --for 1s \
    --state-dir "$SD" >/dev/null 2>"$TMP/lo.err"
rc=$?
check "lo: --dst 127.0.0.1 without --force is refused, exit 3 (got $rc)" test "$rc" = 3
check "lo: all reverted" nat_clean

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
