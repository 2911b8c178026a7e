#!/usr/bin/env bash
# ssh-shards.sh — one `squall load` spread over several hosts by SSH: host i
# runs shard i/N of the same schedule with the same run tag, all starting at
# the same wall-clock second; the run directories are copied back and merged
# with `squall report merge` (histograms merged exactly).
#
#   deploy/ssh-shards.sh -H "lg1 lg2 lg3" -o runs/peak -- URL --rate 30000 --duration 5m --slo 'p(99) < 300ms'
#
# Each host needs squall on its PATH (or SQUALL_REMOTE=/path/to/squall) and a
# clock kept by NTP. SSH and SCP may be replaced (tests use local stand-ins).
set -euo pipefail
SSH=${SSH:-ssh}
SCP=${SCP:-scp}
SQUALL=${SQUALL:-squall}
SQUALL_REMOTE=${SQUALL_REMOTE:-squall}
START_DELAY=${START_DELAY:-5} # seconds for every host to be ready

usage() {
  echo "usage: $0 -H 'HOST...' -o OUT_DIR [-t TAG] -- URL [squall load options]" >&2
  exit 2
}
hosts="" out="" tag=""
while getopts "H:o:t:" opt; do
  case $opt in
    H) hosts=$OPTARG ;;
    o) out=$OPTARG ;;
    t) tag=$OPTARG ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[ -n "$hosts" ] && [ -n "$out" ] && [ $# -ge 1 ] || usage
[ -e "$out" ] && { echo "$0: '$out' exists; give a new output directory" >&2; exit 2; }
read -r -a host_list <<< "$hosts"
n=${#host_list[@]}
tag=${tag:-shards-$(date -u +%Y%m%d-%H%M%S)}
start_at=$(( $(date +%s) + START_DELAY ))
remote_dir="/tmp/squall-$tag"

# quote the load arguments once for the remote shell
load_args=$(printf '%q ' "$@")
pids=()
for i in "${!host_list[@]}"; do
  host=${host_list[$i]}
  shard="$((i + 1))/$n"
  cmd="sleep \$(( $start_at - \$(date +%s) > 0 ? $start_at - \$(date +%s) : 0 )); "
  cmd+="$SQUALL_REMOTE load $load_args --shard $shard --tag $tag -q -o $remote_dir/shard-$((i + 1))"
  echo "ssh-shards: $host runs shard $shard"
  $SSH "$host" "$cmd" &
  pids+=($!)
done
status=0
for pid in "${pids[@]}"; do
  wait "$pid" || { rc=$?; [ "$rc" -le 1 ] || status=$rc; }
done
mkdir -p "$out.shards"
dirs=()
for i in "${!host_list[@]}"; do
  $SCP -r "${host_list[$i]}:$remote_dir/shard-$((i + 1))" "$out.shards/" >/dev/null
  dirs+=("$out.shards/shard-$((i + 1))")
done
[ "$status" -eq 0 ] || echo "ssh-shards: a shard failed (exit $status); merging what came back" >&2
"$SQUALL" report merge "${dirs[@]}" --out "$out"
