#!/usr/bin/env bash
# test_deploy_ssh.sh — deploy/ssh-shards.sh with local stand-ins for ssh and
# scp: three "hosts" run shards 1/3..3/3 against the demo target, the run
# directories come back and merge into one run with every request once.
. "$(dirname "$0")/../lib/common.sh"

start_target || exit 1
mkdir -p "$WORK/bin"
cat > "$WORK/bin/fake-ssh" <<'SH'
#!/usr/bin/env bash
shift # the host
exec bash -c "$*"
SH
cat > "$WORK/bin/fake-scp" <<'SH'
#!/usr/bin/env bash
# fake-scp -r HOST:PATH DEST
src=${2#*:}
exec cp -r "$src" "$3"
SH
chmod +x "$WORK/bin/fake-ssh" "$WORK/bin/fake-scp"
tag="deploy-$RANDOM"
SSH="$WORK/bin/fake-ssh" SCP="$WORK/bin/fake-scp" SQUALL="$SQUALL" SQUALL_REMOTE="$SQUALL" \
  START_DELAY=1 bash "$SQUALL_SRC/deploy/ssh-shards.sh" -H "h1 h2 h3" -o "$WORK/merged" -t "$tag" \
  -- "$TARGET_URL/api/items" --rate 300 --duration 1s --slo 'error_rate < 1%' > "$WORK/deploy.out" 2>&1
check_eq "ssh-shards exits 0" "$?" 0
check_eq "every request once across the shards" \
  "$(json "$WORK/merged/summary.json" "d['requests']['intended'], d['requests']['sent']")" "300 300"
check_eq "the merged run keeps the objective" "$(json "$WORK/merged/summary.json" "d['verdict']")" pass
for i in 1 2 3; do
  check_eq "shard $i/3 labelled" "$(json "$WORK/merged.shards/shard-$i/run.json" "d['shard']")" "$i/3"
done
check_eq "the target saw 300 requests with the tag" \
  "$(curl -s "$TARGET_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')" 300
rm -rf "/tmp/squall-$tag"
finish
