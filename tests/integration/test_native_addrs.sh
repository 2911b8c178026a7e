#!/usr/bin/env bash
# test_native_addrs.sh — the native HTTP/1.1 client tries every address the
# target's host name resolves to: a name that resolves to ::1 first and
# 127.0.0.1 second reaches a server that listens on 127.0.0.1 only (curl's
# behaviour; before, squall took the first address and failed every request).
#
# Runs inside a network namespace the test creates: `ip netns exec` mounts
# /etc/netns/NAME/hosts over /etc/hosts there, so the name exists only for
# this test. Needs root (exit 77 otherwise). Env: SQUALL, SQUALL_SRC.
source "$(dirname "$0")/../lib/common.sh"
source "$(dirname "$0")/../lib/netns.sh"
netns_require
NS="squall-t-addr-$$-$RANDOM"
cleanup_addrs() {
  ip netns pids "$NS" 2>/dev/null | while read -r p; do kill "$p" 2>/dev/null; done
  ip netns del "$NS" 2>/dev/null
  rm -rf "/etc/netns/$NS"
  rmdir /etc/netns 2>/dev/null # only when empty: it may hold other namespaces' files
}
trap 'cleanup_addrs; cleanup_common' EXIT
ip netns add "$NS" || exit 1
ip -n "$NS" link set lo up
mkdir -p "/etc/netns/$NS"
printf '::1 squall-dual\n127.0.0.1 squall-dual\n' > "/etc/netns/$NS/hosts"

ip netns exec "$NS" "$SQUALL" target --listen 127.0.0.1:18087 > "$WORK/target.out" 2>&1 &
STARTED_PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$WORK/target.out" && break; sleep 0.05; done
first=$(ip netns exec "$NS" getent ahosts squall-dual | awk 'NR==1 {print $1}')
check_eq "the name resolves to ::1 first" "$first" "::1"
ip netns exec "$NS" "$SQUALL" load http://squall-dual:18087/ --rate 50 -d 1s -o "$WORK/run" -q
check_eq "load exit code" "$?" 0
check_eq "every request answered over 127.0.0.1" "$(json "$WORK/run/summary.json" "d['requests']['by_status'].get('200')")" 50
check_eq "no connect errors" "$(json "$WORK/run/summary.json" "d['requests']['errors']")" 0
finish
