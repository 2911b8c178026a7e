# netns.sh — sourced by chaos tests: private network namespaces joined by a
# veth pair, created and removed by the test itself. Nothing here touches the
# host's own interfaces, routes or firewall.
#
#   netns_require            exits 77 unless root with ip/iptables/netns support
#   netns_pair A B SUBNET    creates namespaces squall-t-<rand>-a/-b, a veth pair
#                            between them, SUBNET.1/24 in A and SUBNET.2/24 in B
#                            (e.g. SUBNET=10.231.7); sets NS_A, NS_B, IP_A, IP_B,
#                            VETH_A, VETH_B
#   netns_cleanup            removes every namespace this script created
#   ns_tcp_ok NS IP PORT T   1 TCP connect from NS to IP:PORT within T seconds?
#                            (exit status 0 = connected)
#   ns_reachable NS IP [P]   a TCP connection from NS to IP:P (default 9)
#                            completes (polls up to ~3 s); refused/unreachable
#                            do not count, so a listener must run there
#   ns_rules NS              iptables -S of NS (filter table)

NETNS_CREATED=()

netns_require() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "SKIP: needs root (CAP_NET_ADMIN) for network namespaces"
        exit 77
    fi
    for b in ip iptables iptables-restore iptables-save timeout; do
        command -v "$b" >/dev/null 2>&1 || { echo "SKIP: $b is not installed"; exit 77; }
    done
    local probe="squall-t-probe-$$-$RANDOM"
    if ! ip netns add "$probe" 2>/dev/null; then
        echo "SKIP: cannot create network namespaces here"
        exit 77
    fi
    if ! ip netns exec "$probe" iptables -S >/dev/null 2>&1; then
        ip netns del "$probe" 2>/dev/null
        echo "SKIP: iptables does not work inside a network namespace here"
        exit 77
    fi
    ip netns del "$probe"
}

netns_pair() {
    local subnet=$1 tag
    tag="squall-t-$$-$RANDOM"
    NS_A="$tag-a"
    NS_B="$tag-b"
    VETH_A="sqa$RANDOM"
    VETH_B="sqb$RANDOM"
    IP_A="$subnet.1"
    IP_B="$subnet.2"
    ip netns add "$NS_A" || return 1
    NETNS_CREATED+=("$NS_A")
    ip netns add "$NS_B" || return 1
    NETNS_CREATED+=("$NS_B")
    ip link add "$VETH_A" netns "$NS_A" type veth peer name "$VETH_B" netns "$NS_B" || return 1
    ip -n "$NS_A" addr add "$IP_A/24" dev "$VETH_A" || return 1
    ip -n "$NS_B" addr add "$IP_B/24" dev "$VETH_B" || return 1
    ip -n "$NS_A" link set lo up
    ip -n "$NS_B" link set lo up
    ip -n "$NS_A" link set "$VETH_A" up || return 1
    ip -n "$NS_B" link set "$VETH_B" up || return 1
}

netns_cleanup() {
    local ns
    for ns in "${NETNS_CREATED[@]}"; do
        ip netns del "$ns" 2>/dev/null
    done
    NETNS_CREATED=()
}

# One TCP connection attempt from namespace NS to IP:PORT, bounded by T s.
ns_tcp_ok() {
    local ns=$1 ip=$2 port=$3 t=${4:-1}
    ip netns exec "$ns" timeout "$t" bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null
}

# ns_reachable NS IP [PORT]: polls (up to ~3 s) until a TCP connection from
# NS to IP:PORT (default 9) succeeds. Only a completed connection counts:
# "refused", "no route" and "unreachable" do not. A listener is started in
# the namespace that owns IP when none is given (see ns_listen).
ns_reachable() {
    local ns=$1 ip=$2 port=${3:-9} i
    for i in $(seq 12); do
        if ip netns exec "$ns" timeout 0.25 bash -c "exec 3<>/dev/tcp/$ip/$port" 2>/dev/null; then
            return 0
        fi
        sleep 0.25
    done
    return 1
}

ns_rules() {
    ip netns exec "$1" iptables -S
}
