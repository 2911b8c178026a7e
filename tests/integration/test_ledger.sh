#!/usr/bin/env bash
# test_ledger.sh — writes against the demo target's store, end to end:
#   - every created item carries the run tag (in the store's tag index);
#   - the ledger holds every created item (one line per 201);
#   - `squall cleanup` leaves zero items under the tag, a second cleanup is a
#     no-op that sends nothing;
#   - a replayed write log (cloned) and a synthetic POST with templates both
#     land in the ledger;
#   - a load killed with SIGKILL mid-run, then `squall cleanup`, leaves no item
#     whose creation had been answered: every ledger entry is gone (404), and
#     what remains under the tag is at most what was in flight (1 connection).
#
# Env: SQUALL, SQUALL_SRC. Exit 0 pass, 1 fail, 77 skipped (no python3/curl).
source "$(dirname "$0")/../lib/common.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is not installed"; exit 77; }
start_target || exit 1

count_tag() {
  curl -s "$TARGET_URL/items/count?tag=$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["count"])'
}
requests_seen() {
  curl -s "$TARGET_URL/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])'
}

# synthetic writes with body templates
"$SQUALL" load "$TARGET_URL/items" --rate 100 -d 2s --body '{"run":"${tag}","n":"${uuid}"}' \
  -H 'Content-Type: application/json' --tag ledger-a -o "$WORK/a" -q
check_eq "load exit code" "$?" 0
created=$(json "$WORK/a/summary.json" "d['requests']['by_status'].get('201', 0)")
check_eq "every POST created an item" "$created" 200
check_eq "every created item carries the tag" "$(count_tag ledger-a)" "$created"
check_eq "the ledger holds every created item" "$(grep -c '"type":"created"' "$WORK/a/ledger.jsonl")" "$created"
check_eq "ledger ids are distinct" \
  "$(python3 -c 'import json,sys; print(len({json.loads(l)["id"] for l in open(sys.argv[1])}))' "$WORK/a/ledger.jsonl")" "$created"
"$SQUALL" cleanup "$WORK/a" > "$WORK/a.cleanup" 2>&1
check_eq "cleanup exit code" "$?" 0
check_eq "cleanup leaves zero items" "$(count_tag ledger-a)" 0
before=$(requests_seen)
"$SQUALL" cleanup "$WORK/a" > "$WORK/a.cleanup2" 2>&1
check_eq "second cleanup exit code" "$?" 0
after=$(requests_seen)
check_eq "second cleanup sends nothing" "$((after - before))" 0

# a replayed write log, cloned: the clone number travels into the ledger
python3 - "$WORK/writes.jsonl" <<'PY'
import json, sys
with open(sys.argv[1], "w") as f:
    for i in range(40):
        u = "u%d" % (i % 4)
        f.write(json.dumps({"ts_ns": 10**18 + i * 10**8, "method": "POST", "url": "/items",
                            "headers": {"Content-Type": "application/json"},
                            "body": json.dumps({"user": u}), "user": u}) + "\n")
PY
"$SQUALL" load "$TARGET_URL" --traffic "$WORK/writes.jsonl" --clone 3 --speed 4x --tag ledger-b -o "$WORK/b" -q
check_eq "replayed writes created" "$(count_tag ledger-b)" 120
check_eq "clones 1..3 in the ledger" \
  "$(python3 -c 'import json,sys; print(sorted({json.loads(l)["clone"] for l in open(sys.argv[1])}))' "$WORK/b/ledger.jsonl")" "[1, 2, 3]"
"$SQUALL" cleanup "$WORK/b" -q > /dev/null 2>&1
check_eq "cleanup of the replay leaves zero" "$(count_tag ledger-b)" 0

# what goes on the wire: templates expanded per request, one Host header even
# when -H gives one, and a creation cut short after its headers still recorded
start_quirky || exit 1
"$SQUALL" load "$QUIRKY_URL/record/t" --rate 20 -d 1s --body '{"t":"${tag}","u":"${uuid}"}' \
  -H 'Content-Type: application/json' --tag wire-1 -o "$WORK/wire" -q
check_eq "templated POSTs answered 201" "$(json "$WORK/wire/summary.json" "d['requests']['by_status'].get('201')")" 20
python3 - "$WORK/writes.jsonl" "$WORK/wire.jsonl" <<'PY'
import json, sys
with open(sys.argv[2], "w") as f:
    for i, line in enumerate(open(sys.argv[1])):
        d = json.loads(line)
        d["url"] = "/record/replay?i=%d" % i
        d["headers"]["Host"] = "prod.example"
        f.write(json.dumps(d) + "\n")
PY
"$SQUALL" load "$QUIRKY_URL" --traffic "$WORK/wire.jsonl" --speed 20x -H 'Host: api.example' \
  --tag wire-2 -o "$WORK/wire2" -q
curl -s "$QUIRKY_URL/heads" > "$WORK/heads.json"
check "each templated body has the tag and its own UUID" python3 - "$WORK/heads.json" <<'PY'
import json, re, sys
heads = [h for h in json.load(open(sys.argv[1])) if h["line"].startswith("POST /record/t ")]
bodies = [json.loads(h["body"]) for h in heads]
uuids = {b["u"] for b in bodies}
ok = len(bodies) == 20 and all(b["t"] == "wire-1" for b in bodies) and len(uuids) == 20 \
     and all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", u) for u in uuids)
print(len(bodies), len(uuids))
sys.exit(not ok)
PY
check "replayed requests carry one Host header, the -H one, and the tag" python3 - "$WORK/heads.json" <<'PY'
import json, sys
heads = [h for h in json.load(open(sys.argv[1])) if h["line"].startswith("POST /record/replay")]
def values(h, name):
    return [x.split(":", 1)[1].strip() for x in h["headers"] if x.lower().startswith(name + ":")]
ok = len(heads) == 40 and all(values(h, "host") == ["api.example"] for h in heads) \
     and all(values(h, "x-squall-run") == ["wire-2"] for h in heads)
print(len(heads), heads[0]["headers"] if heads else None)
sys.exit(not ok)
PY
"$SQUALL" load "$QUIRKY_URL/cut201" --rate 10 -d 1s -m POST -o "$WORK/cut" -q
check_eq "a cut-short 201 is an error for the load" "$(json "$WORK/cut/summary.json" "d['requests']['errors']")" 10
check_eq "but its creation is in the ledger" "$(grep -c 'cut short' "$WORK/cut/ledger.jsonl")" 10

# SIGKILL mid-run, then cleanup
"$SQUALL" load "$TARGET_URL/items" --rate 200 -d 20s -c 1 -m POST --tag ledger-k -o "$WORK/k" -q &
load_pid=$!
STARTED_PIDS+=("$load_pid")
for _ in $(seq 100); do
  [ "$(count_tag ledger-k)" -ge 150 ] && break
  sleep 0.05
done
kill -KILL "$load_pid"
wait "$load_pid" 2>/dev/null
made=$(count_tag ledger-k)
entries=$(grep -c '"type":"created"' "$WORK/k/ledger.jsonl")
check "killed mid-run after creating items ($made created, $entries in the ledger)" test "$made" -ge 150
check "the ledger lost at most the one in-flight creation" test $((made - entries)) -le 1 -a "$entries" -le "$made"
"$SQUALL" cleanup "$WORK/k" -q > "$WORK/k.cleanup" 2>&1
check_eq "cleanup after SIGKILL exit code" "$?" 0
gone=$(python3 - "$WORK/k/ledger.jsonl" "$TARGET_URL" <<'PY'
import json, sys, urllib.request, urllib.error
left = 0
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("type") != "created":
        continue
    try:
        urllib.request.urlopen(d["location"])
        left += 1
    except urllib.error.HTTPError as e:
        if e.code != 404:
            left += 1
print(left)
PY
)
check_eq "no answered creation survives cleanup" "$gone" 0
check "at most the in-flight item remains under the tag" test "$(count_tag ledger-k)" -le 1
finish
