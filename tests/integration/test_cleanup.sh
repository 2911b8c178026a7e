#!/usr/bin/env bash
# test_cleanup.sh — `squall cleanup RUN_DIR` against the demo target and a
# flaky server: run directories written by hand (run.json + ledger.jsonl
# "created" lines built from real Location headers), then: every item of the
# tag deleted, an item deleted beforehand counted as gone, an entry without
# location or id failed (exit 1), a second run sending nothing, --dry-run
# changing nothing, --by-tag, retries after 500/503 (Retry-After), 403 failing
# at once, an unreachable target, torn and bad ledger lines, an interrupted
# run resumed, bad flags (exit 2), and a location on another server (another
# loopback port): refused, nothing sent there, unless --allow-host.
. "$(dirname "$0")/../lib/common.sh"

start_target || exit 1

# tag_count TAG [URL]: how many items carry TAG in the target (or the server at URL).
tag_count() {
  curl -s "${2:-$TARGET_URL}/items/count?tag=$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'
}
# served [URL]: the target's (or URL's) request count (excluding /stats itself).
served() {
  curl -s "${1:-$TARGET_URL}/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'
}
# make_run DIR TAG: a run directory whose run.json names TAG and the target.
make_run() {
  mkdir -p "$1"
  printf '{"schema":"squall.run/1","run_id":"%s","target":"%s/items","load":{"tag_header":"X-Squall-Run"}}\n' \
    "$2" "$TARGET_URL" > "$1/run.json"
}
# create DIR TAG N: POSTs N items tagged TAG and appends their created lines.
create() {
  local dir=$1 tag=$2 n=$3 i loc
  for i in $(seq 1 "$n"); do
    loc=$(curl -s -D - -o /dev/null -X POST -H "X-Squall-Run: $tag" "$TARGET_URL/items" |
          tr -d '\r' | sed -n 's/^Location: //p')
    printf '{"type":"created","entry":"0-%s-%s","run_id":"%s","clone":0,"method":"POST","url":"%s/items","status":201,"location":"%s%s","id":"%s","utc_ns":%s}\n' \
      "$tag" "$i" "$tag" "$TARGET_URL" "$TARGET_URL" "$loc" "${loc##*/}" "$(date +%s%N)" >> "$dir/ledger.jsonl"
  done
}
# outcomes FILE: "outcome:count ..." of the cleanup lines, sorted.
outcomes() {
  python3 - "$1" <<'EOF'
import collections, json, sys
c = collections.Counter()
for line in open(sys.argv[1]):
    try:
        d = json.loads(line)
    except ValueError:
        continue
    if d.get("type") == "cleanup":
        c[d["outcome"]] += 1
print(" ".join("%s:%d" % kv for kv in sorted(c.items())))
EOF
}
# cleanup_run NAME ARGS...: runs squall cleanup; sets RC, OUT (stdout), ERR (stderr).
cleanup_run() {
  local name=$1; shift
  "$SQUALL" cleanup "$@" > "$WORK/$name.out" 2> "$WORK/$name.err"
  RC=$?
  OUT=$(cat "$WORK/$name.out")
  ERR=$(cat "$WORK/$name.err")
}

# ---------------------------------------------------------------- bad usage --
bad() {
  local what=$1 want=$2; shift 2
  cleanup_run bad "$@"
  check_eq "$what: exit 2" "$RC" 2
  check "$what: says '$want'" grep -qF -- "$want" "$WORK/bad.err"
}
make_run "$WORK/usage" U
bad "no run dir" "missing the run directory"
bad "two run dirs" "unexpected argument" "$WORK/usage" "$WORK/usage"
bad "unknown option" "unknown option '--bogus'" "$WORK/usage" --bogus
bad "bad rate" "--rate:" "$WORK/usage" --rate fast
bad "relative rate" "--rate: '2xpeak'" "$WORK/usage" --rate 2xpeak
bad "bad connections" "--connections:" "$WORK/usage" -c 0
bad "bad timeout" "--timeout:" "$WORK/usage" --timeout 1h2
bad "unknown placeholder" "--request: 'DELETE /items/{uid}': column 15: unknown placeholder {uid}" \
  "$WORK/usage" --request 'DELETE /items/{uid}'
bad "no method" "column 1: the method is missing" "$WORK/usage" --request '{location}'
bad "bulk with {id}" "--by-tag: 'DELETE /x/{id}': column 11: a bulk request can only use {tag}" \
  "$WORK/usage" --by-tag 'DELETE /x/{id}'
bad "request and by-tag" "not both" "$WORK/usage" --request 'DELETE {location}' --by-tag 'DELETE /x?t={tag}'
bad "bad header" "--header: 'nope' is not a header" "$WORK/usage" -H nope
bad "bad --allow-host" "--allow-host: 'h/x': expected HOST or HOST:PORT" "$WORK/usage" --allow-host h/x
bad "--allow-host with a scheme" "--allow-host: 'http://h': expected HOST or HOST:PORT" "$WORK/usage" --allow-host http://h
bad "missing dir" "cannot open run directory '$WORK/none'" "$WORK/none"
mkdir -p "$WORK/empty"
bad "not a run dir" "'$WORK/empty' is not a run directory: it has no run.json" "$WORK/empty"
check "a missing run dir is not created" test ! -e "$WORK/none"
echo '{"target":"http://x/"}' > "$WORK/empty/run.json"
bad "run.json without run_id" "run.json: expected \"run_id\"" "$WORK/empty"
"$SQUALL" cleanup --help > "$WORK/help.out"; RC=$?
check_eq "--help exits 0" "$RC" 0
check "--help shows the usage" grep -q '^usage: squall cleanup RUN_DIR' "$WORK/help.out"
check "--help shows --allow-host" grep -q -- '--allow-host HOST\[:PORT\]' "$WORK/help.out"
check "squall help lists cleanup" sh -c "'$SQUALL' help | grep -q '^  cleanup '"

# ------------------------------------------------------------ the main run --
RUN="$WORK/run1"
make_run "$RUN" T1
create "$RUN" T1 20
curl -s -o /dev/null -X POST -H 'X-Squall-Run: T2-bystander' "$TARGET_URL/items"
# one item is already gone; one entry has no location and no id
gone_loc=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["location"])' "$RUN/ledger.jsonl")
curl -s -o /dev/null -X DELETE "$gone_loc"
printf '{"type":"created","entry":"0-T1-null","run_id":"T1","method":"POST","url":"%s/items","status":201,"location":null,"id":null,"missing":"no Location header and no id in the body","utc_ns":1}\n' \
  "$TARGET_URL" >> "$RUN/ledger.jsonl"
echo '{"type":"checkpoint","note":"a type cleanup does not know"}' >> "$RUN/ledger.jsonl"
check_eq "19 items of T1 before cleanup" "$(tag_count T1)" 19

sum_before=$(md5sum < "$RUN/ledger.jsonl")
before=$(served)
cleanup_run dry "$RUN" --dry-run
check_eq "--dry-run exits 1 (one entry cannot be deleted)" "$RC" 1
check_eq "--dry-run prints one request per entry" "$(grep -c '^DELETE http://127.0.0.1:[0-9]*/items/[0-9]*$' "$WORK/dry.out")" 20
check "--dry-run says what it would do" grep -q '^cleanup: dry run: 20 requests would be sent, 1 entries cannot be deleted (0 already done)$' "$WORK/dry.out"
check "--dry-run names the entry it cannot delete" grep -q 'entry 0-T1-null: no location recorded for this entry (the ledger says: no Location header' "$WORK/dry.err"
check_eq "--dry-run leaves the ledger alone" "$(md5sum < "$RUN/ledger.jsonl")" "$sum_before"
check_eq "--dry-run sends nothing" "$(served)" "$before"
check_eq "--dry-run deletes nothing" "$(tag_count T1)" 19

cleanup_run first "$RUN" --rate 200 -c 4
check_eq "first run exits 1 (the entry without location or id)" "$RC" 1
check_eq "first run counts" "$OUT" "cleanup: 19 deleted, 1 gone, 1 failed (0 already done)"
check_eq "no item of T1 is left" "$(tag_count T1)" 0
check_eq "the bystander's item stays" "$(tag_count T2-bystander)" 1
check_eq "outcome lines" "$(outcomes "$RUN/ledger.jsonl")" "deleted:19 failed:1 gone:1"
check "the failed line says why" grep -q '"entry":"0-T1-null","outcome":"failed","status":0,"attempts":0,"request":null,"error":"no location recorded' "$RUN/ledger.jsonl"
check "a deleted line has status, attempts and request" \
  grep -q '"outcome":"deleted","status":204,"attempts":1,"request":"DELETE http://127.0.0.1:[0-9]*/items/[0-9]*","utc_ns":[0-9]*}$' "$RUN/ledger.jsonl"
check "the gone line has 404" grep -q '"outcome":"gone","status":404' "$RUN/ledger.jsonl"
check "the failure is named on stderr" grep -q '^cleanup: entry 0-T1-null: no location recorded' "$WORK/first.err"
check "every ledger line is whole JSON" python3 -c "import json,sys; [json.loads(l) for l in open(sys.argv[1])]" "$RUN/ledger.jsonl"

before=$(served)
cleanup_run second "$RUN"
check_eq "second run: still exit 1 for the entry without location or id" "$RC" 1
check_eq "second run counts" "$OUT" "cleanup: 0 deleted, 0 gone, 1 failed (20 already done)"
check_eq "second run sends nothing" "$(served)" "$before"

# A clean run directory: exit 0, then a no-op that says so.
CLEAN="$WORK/clean"
make_run "$CLEAN" T3
create "$CLEAN" T3 5
cleanup_run clean1 "$CLEAN" -q
check_eq "clean ledger: exit 0" "$RC" 0
check_eq "-q prints nothing" "$OUT" ""
check_eq "clean ledger: nothing left" "$(tag_count T3)" 0
before=$(served)
cleanup_run clean2 "$CLEAN"
check_eq "clean ledger, second run: exit 0" "$RC" 0
check "second run says there is nothing to send" grep -q '^cleanup: nothing to send: all 5 entries are already deleted or gone$' "$WORK/clean2.out"
check_eq "second run: final counts" "$(tail -1 "$WORK/clean2.out")" "cleanup: 0 deleted, 0 gone, 0 failed (5 already done)"
check_eq "clean ledger, second run sends nothing" "$(served)" "$before"

# No ledger at all (a run that created nothing): nothing to do.
make_run "$WORK/noledger" T4
cleanup_run noledger "$WORK/noledger"
check_eq "no ledger: exit 0" "$RC" 0
check "no ledger: says so" grep -q 'records no created objects' "$WORK/noledger.out"

# ---------------------------------------------------------------- --by-tag --
BULK="$WORK/bulk"
make_run "$BULK" T5
create "$BULK" T5 3
for i in 1 2 3 4; do curl -s -o /dev/null -X POST -H 'X-Squall-Run: T5' "$TARGET_URL/items"; done
check_eq "7 items of T5" "$(tag_count T5)" 7
cleanup_run bulkdry "$BULK" --by-tag 'DELETE /items?tag={tag}' --dry-run
check_eq "--by-tag --dry-run: the one request" "$OUT" "DELETE $TARGET_URL/items?tag=T5"
check_eq "--by-tag --dry-run deletes nothing" "$(tag_count T5)" 7
cleanup_run bulk1 "$BULK" --by-tag 'DELETE /items?tag={tag}'
check_eq "--by-tag: exit 0" "$RC" 0
check_eq "--by-tag says what it did" "$OUT" "cleanup: DELETE $TARGET_URL/items?tag=T5: deleted (HTTP 200)"
check_eq "--by-tag: every item of the tag is gone (ledgered or not)" "$(tag_count T5)" 0
check_eq "--by-tag: the bystander stays" "$(tag_count T2-bystander)" 1
check "--by-tag appends a cleanup_bulk line" \
  grep -q "^{\"type\":\"cleanup_bulk\",\"outcome\":\"deleted\",\"status\":200,\"attempts\":1,\"request\":\"DELETE $TARGET_URL/items?tag=T5\"" "$BULK/ledger.jsonl"
before=$(served)
cleanup_run bulk2 "$BULK" --by-tag 'DELETE /items?tag={tag}'
check_eq "--by-tag again: exit 0" "$RC" 0
check "--by-tag again: nothing to send" grep -q "^cleanup: nothing to send: 'DELETE $TARGET_URL/items?tag=T5' already succeeded" "$WORK/bulk2.out"
check_eq "--by-tag again sends nothing" "$(served)" "$before"
cleanup_run bulk3 "$BULK" --by-tag 'DELETE /items?status=404&tag={tag}' --retries 0
check_eq "--by-tag answered 404 (no such endpoint): exit 1" "$RC" 1
check "--by-tag 404 says why" grep -q "failed: HTTP 404" "$WORK/bulk3.err"

# ------------------------------------------- a location on another host --
# A second server on another loopback port: a ledger line pointing there is
# refused (failed, exit 1) and nothing reaches it, -H headers included, until
# --allow-host names its host and port.
MAIN_URL=$TARGET_URL MAIN_PID=$TARGET_PID
start_target || exit 1
OTHER_URL=$TARGET_URL OTHER_HOST=${TARGET_URL#http://}
TARGET_URL=$MAIN_URL TARGET_PID=$MAIN_PID
HOSTS="$WORK/hosts"
make_run "$HOSTS" T9
create "$HOSTS" T9 2
oloc=$(curl -s -D - -o /dev/null -X POST -H "X-Squall-Run: T9" "$OTHER_URL/items" |
       tr -d '\r' | sed -n 's/^Location: //p')
printf '{"type":"created","entry":"0-T9-other","run_id":"T9","method":"POST","url":"%s/items","status":201,"location":"%s%s","id":"%s"}\n' \
  "$OTHER_URL" "$OTHER_URL" "$oloc" "${oloc##*/}" >> "$HOSTS/ledger.jsonl"
refusal="location points at another host ($OTHER_HOST); rerun with --allow-host $OTHER_HOST to delete there"
other_before=$(served "$OTHER_URL")
cleanup_run hostdry "$HOSTS" --dry-run -H 'Authorization: Bearer s3cret'
check_eq "another host, --dry-run: exit 1" "$RC" 1
check_eq "another host, --dry-run: the target's requests" "$(grep -c "^DELETE $TARGET_URL/items/" "$WORK/hostdry.out")" 2
check_eq "another host, --dry-run: the refused entry listed as such" \
  "$(grep '^refused ' "$WORK/hostdry.out")" "refused DELETE $OTHER_URL$oloc: $refusal"
check "another host, --dry-run: counted" grep -q '^cleanup: dry run: 2 requests would be sent, 1 entries cannot be deleted (0 already done); 1 refused: another host (see --allow-host)$' "$WORK/hostdry.out"
cleanup_run host1 "$HOSTS" -H 'Authorization: Bearer s3cret'
check_eq "another host: exit 1" "$RC" 1
check_eq "another host: counts" "$OUT" "cleanup: 2 deleted, 0 gone, 1 failed (0 already done); 1 refused: another host (see --allow-host)"
check_eq "another host: the target's items are deleted" "$(tag_count T9)" 0
check_eq "another host: nothing was sent there" "$(served "$OTHER_URL")" "$other_before"
check_eq "another host: its item is still there" "$(tag_count T9 "$OTHER_URL")" 1
check "another host: the failure is named on stderr" grep -qF "cleanup: entry 0-T9-other: DELETE $OTHER_URL$oloc: $refusal" "$WORK/host1.err"
check "another host: a failed outcome line with the request and why" \
  grep -qF "\"entry\":\"0-T9-other\",\"outcome\":\"failed\",\"status\":0,\"attempts\":0,\"request\":\"DELETE $OTHER_URL$oloc\",\"error\":\"$refusal\"" "$HOSTS/ledger.jsonl"
other_before=$(served "$OTHER_URL")
cleanup_run host2 "$HOSTS" --allow-host 127.0.0.1:1 -H 'Authorization: Bearer s3cret'
check_eq "another host, another port allowed: still exit 1" "$RC" 1
check_eq "another host, another port allowed: nothing sent there" "$(served "$OTHER_URL")" "$other_before"
cleanup_run host3 "$HOSTS" --allow-host 127.0.0.1:1 --allow-host "$OTHER_HOST" -H 'Authorization: Bearer s3cret'
check_eq "another host, allowed: exit 0" "$RC" 0
check_eq "another host, allowed: counts" "$OUT" "cleanup: 1 deleted, 0 gone, 0 failed (2 already done)"
check_eq "another host, allowed: its item is deleted" "$(tag_count T9 "$OTHER_URL")" 0
# absolute --request / --by-tag URLs to another host: refused before anything is sent
for i in 1 2; do curl -s -o /dev/null -X POST -H 'X-Squall-Run: T9' "$OTHER_URL/items"; done
other_before=$(served "$OTHER_URL")
cleanup_run hostbulk "$HOSTS" --by-tag "DELETE $OTHER_URL/items?tag={tag}"
check_eq "--by-tag to another host: exit 2" "$RC" 2
check_eq "--by-tag to another host: says why" "$ERR" \
  "squall cleanup: --by-tag: 'DELETE $OTHER_URL/items?tag={tag}': the URL points at another host ($OTHER_HOST); rerun with --allow-host $OTHER_HOST to delete there"
cleanup_run hostreq "$HOSTS" --request "DELETE $OTHER_URL/items/{id}"
check_eq "--request to another host: exit 2" "$RC" 2
check "--request to another host: says why" grep -qF "the URL points at another host ($OTHER_HOST)" "$WORK/hostreq.err"
check_eq "to another host: nothing was sent there" "$(served "$OTHER_URL")" "$other_before"
cleanup_run hostbulk2 "$HOSTS" --by-tag "DELETE $OTHER_URL/items?tag={tag}" --allow-host "$OTHER_HOST"
check_eq "--by-tag to another host, allowed: exit 0" "$RC" 0
check_eq "--by-tag to another host, allowed: deleted there" "$(tag_count T9 "$OTHER_URL")" 0

# ---------------------------------------------- retries against a flaky server
start_quirky || exit 1
Q=$QUIRKY_URL
FLAKY="$WORK/flaky"
mkdir -p "$FLAKY"
printf '{"run_id":"TF","target":"%s/"}\n' "$Q" > "$FLAKY/run.json"
for spec in "a a?fail=2" "b b?fail=1&code=503&retry_after=1" "c c?fail=10" "d d?fail=1&code=403" "e e?fail=1&code=429"; do
  set -- $spec
  printf '{"type":"created","entry":"%s","location":"%s/flaky/%s","id":"%s"}\n' "$1" "$Q" "$2" "$1" >> "$FLAKY/ledger.jsonl"
done
cleanup_run flaky "$FLAKY" --backoff 10ms --retries 3
check_eq "flaky: exit 1 (c never recovers, d is 403)" "$RC" 1
check_eq "flaky: counts" "$OUT" "cleanup: 3 deleted, 0 gone, 2 failed (0 already done)"
stats=$(curl -s "$Q/stats")
check_eq "500, 500, then 204: three attempts" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["flaky"]["a"])' "$stats")" 3
check_eq "503 with Retry-After, then 204: two attempts" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["flaky"]["b"])' "$stats")" 2
check_eq "always 500: 1 + 3 retries" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["flaky"]["c"])' "$stats")" 4
check_eq "403 fails at once" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["flaky"]["d"])' "$stats")" 1
check_eq "429 is retried" "$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["flaky"]["e"])' "$stats")" 2
check "a: deleted on attempt 3" grep -q '"entry":"a","outcome":"deleted","status":204,"attempts":3' "$FLAKY/ledger.jsonl"
check "c: failed after 4 attempts with the last status" \
  grep -q '"entry":"c","outcome":"failed","status":500,"attempts":4,.*"error":"HTTP 500: flaky failure 4 of 10 (gave up after 4 attempts)"' "$FLAKY/ledger.jsonl"
check "d: failed with 403 on attempt 1" grep -q '"entry":"d","outcome":"failed","status":403,"attempts":1' "$FLAKY/ledger.jsonl"
# the second run retries only what failed: c fails again, d's 403 was once
cleanup_run flaky2 "$FLAKY" --backoff 10ms --retries 0
check_eq "flaky, second run: only the failed entries again" "$OUT" "cleanup: 1 deleted, 0 gone, 1 failed (3 already done)"

# ------------------------------------------------------ unreachable target --
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DOWN="$WORK/down"
mkdir -p "$DOWN"
printf '{"run_id":"TD","target":"http://127.0.0.1:%s/"}\n' "$port" > "$DOWN/run.json"
printf '{"type":"created","entry":"x","location":"http://127.0.0.1:%s/items/1","id":"1"}\n' "$port" > "$DOWN/ledger.jsonl"
cleanup_run down "$DOWN" --backoff 10ms --retries 2
check_eq "unreachable: exit 1" "$RC" 1
check_eq "unreachable: counts" "$OUT" "cleanup: 0 deleted, 0 gone, 1 failed (0 already done)"
check "unreachable: failed, no status, 3 attempts, curl's words" \
  grep -q '"outcome":"failed","status":0,"attempts":3,.*"error":"[^"]*connect[^"]*(gave up after 3 attempts)"' "$DOWN/ledger.jsonl"

# ----------------------------------------------- torn and bad ledger lines --
TORN="$WORK/torn"
make_run "$TORN" T6
create "$TORN" T6 3
printf '{"type":"created","entry":"0-T6-4","loc' >> "$TORN/ledger.jsonl"
cleanup_run torn1 "$TORN"
check_eq "torn last line: exit 0" "$RC" 0
check "torn last line: a warning with FILE:LINE" grep -q "ledger.jsonl:4: warning: ignoring a line cut short" "$WORK/torn1.err"
check_eq "torn last line: the rest is deleted" "$OUT" "cleanup: 3 deleted, 0 gone, 0 failed (0 already done)"
# the torn fragment is now a line of its own in the middle; the next run still reads
cleanup_run torn2 "$TORN"
check_eq "torn line in the middle: exit 0" "$RC" 0
check_eq "torn line in the middle: a no-op" "$OUT" "$(printf 'cleanup: nothing to send: all 3 entries are already deleted or gone\ncleanup: 0 deleted, 0 gone, 0 failed (3 already done)')"
BAD="$WORK/bad"
make_run "$BAD" T7
create "$BAD" T7 1
echo '["not","an","object"]' >> "$BAD/ledger.jsonl"
create "$BAD" T7 1
cleanup_run badline "$BAD"
check_eq "bad ledger line: exit 2" "$RC" 2
check_eq "bad ledger line: FILE:LINE: what was expected" "$ERR" \
  "squall cleanup: $BAD/ledger.jsonl:2: expected a JSON object (a ledger line), got an array"
check_eq "bad ledger line: nothing deleted" "$(tag_count T7)" 2

# ---------------------------------------------- interrupted, then resumed --
INT="$WORK/int"
make_run "$INT" T8
create "$INT" T8 12
"$SQUALL" cleanup "$INT" --rate 4 -c 1 > "$WORK/int1.out" 2> "$WORK/int1.err" &
cpid=$!
STARTED_PIDS+=("$cpid")
for _ in $(seq 200); do
  grep -q '"type":"cleanup"' "$INT/ledger.jsonl" && break
  sleep 0.05
done
kill -INT "$cpid"
wait "$cpid"; RC=$?
check_eq "interrupted: exit 4" "$RC" 4
check "interrupted: says how many are left" grep -q 'interrupted: .* entries left (run again to finish)' "$WORK/int1.err"
left=$(tag_count T8)
check "interrupted: some items are left" test "$left" -gt 0
cleanup_run int2 "$INT" --rate 0
check_eq "resumed: exit 0" "$RC" 0
check_eq "resumed: nothing left" "$(tag_count T8)" 0
check "resumed: only what was left was sent" grep -qE "^cleanup: [0-9]+ deleted, [01] gone, 0 failed \(([0-9]+) already done\)$" "$WORK/int2.out"
check_eq "every entry has exactly one deleted or gone outcome overall" \
  "$(python3 -c "
import json,sys
done = {}
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d['type'] == 'cleanup' and d['outcome'] in ('deleted', 'gone'):
        done[d['entry']] = done.get(d['entry'], 0) + 1
print(len(done), max(done.values()))" "$INT/ledger.jsonl")" "12 1"

finish
