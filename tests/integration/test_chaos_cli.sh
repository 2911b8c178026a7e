#!/usr/bin/env bash
# test_chaos_cli.sh — `squall chaos` flags and exit codes that need no
# privilege: every bad flag is exit 2 with one precise line (plus the --help
# hint) and changes nothing; help; a missing TTL; delay's flags, and
# `delay --dev` naming sch_netem (and suggesting --port) when the kernel
# lacks it; status/recover of an empty state directory.
#
# Env: SQUALL (the squall binary). Touches nothing but a temporary state
# directory. Exit 0 = pass, 1 = fail.
set -u
: "${SQUALL:?set SQUALL to the squall binary}"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/squall-chaos-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
FAILS=0
SD="$TMP/state"

fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

# Every case below is expected to fail validation; should one regress and
# apply, it must not reach the host's network: run squall in a throwaway
# network namespace (root), or as nobody (no CAP_NET_ADMIN) otherwise.
ISO=()
if [ "$(id -u)" -eq 0 ] && unshare -n true 2>/dev/null; then
    ISO=(unshare -n)
elif [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
    ISO=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi

# usage_error DESC EXPECTED-SUBSTRING ARGS...: exit 2, first stderr line
# names the problem, exactly two stderr lines, nothing on stdout, no journal.
usage_error() {
    local desc=$1 want=$2 rc
    shift 2
    if [ "${RAW:-0}" = 1 ]; then
        "${ISO[@]}" "$SQUALL" chaos "$@" >"$TMP/out" 2>"$TMP/err"
    else
        "${ISO[@]}" "$SQUALL" chaos "$@" --state-dir "$SD" >"$TMP/out" 2>"$TMP/err"
    fi
    rc=$?
    [ "$rc" -eq 2 ] || { fail "$desc: exit $rc, expected 2 ($(head -1 "$TMP/err"))"; return; }
    grep -qF -- "$want" "$TMP/err" || fail "$desc: stderr lacks '$want': $(cat "$TMP/err")"
    [ "$(wc -l <"$TMP/err")" -eq 2 ] || fail "$desc: expected one error line + hint: $(cat "$TMP/err")"
    [ ! -s "$TMP/out" ] || fail "$desc: wrote to stdout"
    [ ! -e "$SD" ] || fail "$desc: created the state directory"
}

RAW=1 usage_error "no fault" "missing the fault"
usage_error "unknown fault" "unknown fault 'flood'" flood --for 1s
usage_error "unknown option" "unknown option '--portx'" drop --portx 1 --for 1s
RAW=1 usage_error "missing value" "option '--for' needs a value" drop --for
usage_error "bad duration" "--for" drop --port 80 --for 10parsecs
usage_error "zero ttl" "--for: must be positive" drop --port 80 --for 0
usage_error "missing ttl" "needs --for DUR" drop --port 80
usage_error "missing ttl stop" "needs --for DUR" stop --pid 1
usage_error "port range" "--port" drop --port 70000 --for 1s
usage_error "direction" "--direction: 'sideways'" drop --port 80 --direction sideways --for 1s
usage_error "probability" "--probability" loss --port 80 --probability 150% --for 1s
usage_error "loss without probability" "loss needs --probability" loss --port 80 --for 1s
usage_error "probability on drop" "--probability applies to loss only" drop --port 80 --probability 10% --for 1s
usage_error "proto" "--proto: 'sctp'" drop --proto sctp --for 1s
usage_error "drop of everything" "would hit every packet" drop --for 1s
usage_error "loss of everything" "would hit every packet" loss --probability 10% --proto all --for 1s
usage_error "port with icmp" "--port needs --proto tcp or udp" drop --proto icmp --port 80 --for 1s
usage_error "bad cidr" "--src: '10.1.2.300'" drop --src 10.1.2.300 --for 1s
usage_error "ipv6" "IPv6" drop --dst fd00::1 --for 1s
usage_error "partition without peers" "partition needs --peers" partition --for 1s
usage_error "partition one way" "cuts both directions" partition --peers 10.9.9.9 --direction in --for 1s
usage_error "reject with" "--with: 'bounce'" reject --port 80 --with bounce --for 1s
usage_error "tcp-reset on udp" "--with tcp-reset needs --proto tcp" reject --proto udp --port 53 --with tcp-reset --for 1s
usage_error "signal" "--signal: 'FOO'" kill --pid 1 --signal FOO
usage_error "signal on stop" "--signal applies to kill only" stop --pid 1 --signal TERM --for 1s
# A stopping signal would leave the process stopped with nothing to resume it.
for sig in STOP 19 SIGTSTP TTIN TTOU; do
    usage_error "kill --signal $sig" "squall chaos stop --for DUR" kill --pid 1 --signal "$sig"
    usage_error "kill --signal $sig --for" "squall chaos stop --for DUR" kill --pid 1 --signal "$sig" --for 1s
done
usage_error "count and percent" "--count or --percent, not both" kill --name x --count 1 --percent 10%
usage_error "no selector" "needs a target" kill --for 1s
usage_error "bad regex" "--cmdline: '('" kill --cmdline '(' --for 1s
usage_error "net option on kill" "not network options" kill --pid 1 --port 80
usage_error "netns on kill" "--netns applies to network faults" kill --pid 1 --netns x
usage_error "link without dev" "link-down needs --dev" link-down --for 1s
usage_error "bandwidth without rate" "bandwidth needs --dev IF and --rate" bandwidth --dev x --for 1s
usage_error "bandwidth bad rate" "--rate" bandwidth --dev x --rate fast --for 1s
usage_error "rate on drop" "not process or device selectors" drop --port 80 --rate 1mbit --for 1s
usage_error "extra argument" "unexpected argument 'extra'" drop --port 80 --for 1s extra
usage_error "bad id" "--id" drop --port 80 --for 1s --id 'a b'
usage_error "interval on stop" "--interval applies to kill" stop --pid 1 --for 1s --interval 1s
usage_error "status flags" "status takes only" status --port 80

# Help goes to stdout with exit 0.
"$SQUALL" chaos --help >"$TMP/out" 2>&1 || fail "--help exit $?"
grep -q "usage: squall chaos" "$TMP/out" || fail "--help prints usage"

# status / recover on an empty (missing) state directory.
out=$("$SQUALL" chaos status --state-dir "$SD" 2>&1) || fail "status on empty dir: exit $?"
echo "$out" | grep -q "no fault is applied" || fail "status on empty dir: $out"
out=$("$SQUALL" chaos recover --state-dir "$SD" 2>&1) || fail "recover on empty dir: exit $?"
echo "$out" | grep -q "nothing to recover" || fail "recover on empty dir: $out"

# delay: bad flags are usage errors before anything else (the netem probe
# included).
usage_error "delay without latency" "delay needs --latency" delay --port 8080 --for 1s
usage_error "delay zero latency" "--latency: must be above 0" delay --port 8080 --latency 0 --for 1s
usage_error "delay negative jitter" "--jitter: '-5ms' is not a duration (must not be negative)" delay --port 8080 --latency 10ms --jitter -5ms --for 1s
usage_error "delay jitter above latency" "--jitter: must not exceed --latency" delay --port 8080 --latency 10ms --jitter 11ms --for 1s
usage_error "delay latency too long" "--latency: at most 60s" delay --port 8080 --latency 61s --for 2m
usage_error "delay dev and port" "not both" delay --dev eth0 --port 8080 --latency 10ms --for 1s
usage_error "delay neither dev nor port" "delay needs --dev IF" delay --latency 10ms --for 1s
usage_error "delay without ttl" "needs --for DUR" delay --port 8080 --latency 10ms
usage_error "delay direction with dev" "apply to delay --port" delay --dev eth0 --direction out --latency 10ms --for 1s
usage_error "delay max-conns with dev" "apply to delay --port" delay --dev eth0 --max-conns 5 --latency 10ms --for 1s
usage_error "delay dev latency 1500ns" "--latency: delay --dev (netem) takes a whole number of microseconds" delay --dev eth0 --latency 1500ns --for 1s
usage_error "delay dev latency 500ns" "--latency: delay --dev (netem) takes a whole number of microseconds" delay --dev eth0 --latency 500ns --for 1s
usage_error "delay dev jitter 999ns" "--jitter: delay --dev (netem) takes 0 or a whole number of microseconds" delay --dev eth0 --latency 10ms --jitter 999ns --for 1s
usage_error "delay udp" "tcp only" delay --port 53 --proto udp --latency 10ms --for 1s
usage_error "delay max-conns 0" "--max-conns" delay --port 8080 --latency 10ms --max-conns 0 --for 1s
usage_error "delay with rate" "delay takes" delay --port 8080 --latency 10ms --rate 1mbit --for 1s
usage_error "delay bad direction" "--direction: 'up'" delay --port 8080 --latency 10ms --direction up --for 1s
usage_error "delay bad dst" "--dst: '10.0.0.300'" delay --port 8080 --latency 10ms --dst 10.0.0.300 --for 1s
usage_error "latency on drop" "apply to delay only" drop --port 80 --latency 10ms --for 1s
usage_error "max-conns on bandwidth" "apply to delay only" bandwidth --dev x --rate 1mbit --max-conns 3 --for 1s

# delay --dev where the kernel has no sch_netem: a run-time error (exit 3)
# at validation, naming sch_netem and the alternative (--port).
"${ISO[@]}" "$SQUALL" chaos delay --dev eth0 --latency 10ms --for 1s --state-dir "$SD" >"$TMP/out" 2>"$TMP/err"
rc=$?
if grep -q "sch_netem" "$TMP/err"; then
    [ "$rc" -eq 3 ] || fail "delay --dev without netem: exit $rc, expected 3"
    grep -q -- "--port" "$TMP/err" || fail "delay --dev without netem: does not suggest --port: $(cat "$TMP/err")"
    [ ! -e "$SD" ] || fail "delay --dev without netem: created the state directory"
else
    [ "$rc" -eq 3 ] || fail "delay --dev: exit $rc ($(cat "$TMP/err"))"
fi

if [ "$FAILS" -ne 0 ]; then
    echo "test_chaos_cli: $FAILS failure(s)" >&2
    exit 1
fi
echo "test_chaos_cli: ok"
