#!/usr/bin/env bash
# test_traffic_inspect.sh — `squall traffic inspect` on generated traffic
# files, one per format (jsonl, combined, common, gor, har), each with a
# known peak: the reported peak_rps and peak_at must equal a brute-force
# count (most requests in any [t, t + 1 s) window), with requests, format
# (auto-detected), methods and users. Then bad lines: exit 2 with
# FILE:LINE, --skip-bad counts, out-of-order beyond the reorder window, and
# usage errors.
#
# Env: SQUALL (binary), SQUALL_SRC (source tree). No network, no root.
# Exit 0 = pass, 1 = fail, 77 = skipped (no python3).
source "$(dirname "$0")/../lib/common.sh"
command -v python3 >/dev/null 2>&1 || { echo "SKIP: python3 is not installed"; exit 77; }

# gen.py FORMAT OUT: writes a file and prints "PEAK PEAK_AT_NS REQUESTS USERS"
cat > "$WORK/gen.py" <<'PY'
import random, sys, time
fmt, out = sys.argv[1], sys.argv[2]
T0 = 1795255200 * 10**9
rnd = random.Random(42)
res = {"combined": 10**9, "common": 10**9, "har": 10**6}.get(fmt, 1)
ts = [T0 + i * 40 * 10**6 + rnd.randrange(10**6) for i in range(1000)]            # 25 req/s for 40 s
ts += [T0 + 17_250 * 10**6 + rnd.randrange(800 * 10**6) for _ in range(53)]       # a burst
ts = sorted(t - (t - T0) % res for t in ts)
# out of order within a few seconds (the reorder window is 10 s)
for i in range(0, len(ts) - 40, 7):
    j = i + rnd.randrange(1, 40)
    if ts[j] - ts[i] < 3 * 10**9:
        ts[i], ts[j] = ts[j], ts[i]
s = sorted(ts)
peak, at = 0, 0
for i in range(len(s)):
    c = 0
    j = i
    while j < len(s) and s[j] < s[i] + 10**9:
        j += 1
    if j - i > peak:
        peak, at = j - i, s[i]
SEP = "\n\U0001F435\U0001F648\U0001F649\n"
def when(t, f):
    return time.strftime(f, time.gmtime(t // 10**9))
with open(out, "w", encoding="utf-8", newline="") as f:
    if fmt == "har":
        f.write('{"log": {"version": "1.2", "creator": {"name": "t", "version": "1"}, "entries": [\n')
    for i, t in enumerate(ts):
        m = "POST" if i % 10 == 3 else "GET"
        uid = "u%d" % (i % 11)
        if fmt == "jsonl":
            f.write('{"ts_ns": %d, "method": "%s", "url": "/api/items/%d?uid=%s", "user": "%s"}\n' % (t, m, i, uid, uid))
        elif fmt in ("combined", "common"):
            line = '10.0.0.1 - %s [%s] "%s /api/items/%d?uid=%s HTTP/1.1" 200 12' % (
                uid, when(t, "%d/%b/%Y:%H:%M:%S +0000"), m, i, uid)
            f.write(line + (' "-" "curl/8"' if fmt == "combined" else "") + "\n")
        elif fmt == "gor":
            f.write("1 %024x %d 0\n%s /api/items/%d?uid=%s HTTP/1.1\r\nHost: shop\r\n\r\n%s" % (i, t, m, i, uid, SEP))
            f.write("2 %024x %d 1000\nHTTP/1.1 200 OK\r\n\r\n%s" % (i, t + 1000, SEP))
        elif fmt == "har":
            f.write('%s{"startedDateTime": "%s.%03dZ", "request": {"method": "%s", "url": "http://shop/api/items/%d?uid=%s", "headers": []}}' % (
                ",\n" if i else "", when(t, "%Y-%m-%dT%H:%M:%S"), t % 10**9 // 10**6, m, i, uid))
    if fmt == "har":
        f.write("\n]}}\n")
print(peak, at, len(ts), 11)
PY

for fmt in jsonl combined common gor har; do
  ext=$fmt; [ "$fmt" = combined ] || [ "$fmt" = common ] && ext=log
  file="$WORK/traffic-$fmt.$ext"
  read -r want_peak want_at want_n want_users < <(python3 "$WORK/gen.py" "$fmt" "$file")
  "$SQUALL" traffic inspect "$file" --json --user-key query:uid > "$WORK/$fmt.json" 2> "$WORK/$fmt.err"
  check_eq "$fmt: exit code" "$?" 0
  check_eq "$fmt: format detected" "$(json "$WORK/$fmt.json" 'd["format"]')" "$fmt"
  check_eq "$fmt: requests" "$(json "$WORK/$fmt.json" 'd["requests"]')" "$want_n"
  check_eq "$fmt: peak_rps exact" "$(json "$WORK/$fmt.json" 'd["peak_rps"]')" "$want_peak"
  check_eq "$fmt: peak_at exact" "$(json "$WORK/$fmt.json" 'd["peak_at_ns"]')" "$want_at"
  check_eq "$fmt: users" "$(json "$WORK/$fmt.json" 'd["users"]')" "$want_users"
  check_eq "$fmt: methods" "$(json "$WORK/$fmt.json" 'sorted(d["methods"].items())')" \
    "[('GET', $((want_n - want_n / 10 - (want_n % 10 > 3 ? 1 : 0)))), ('POST', $((want_n / 10 + (want_n % 10 > 3 ? 1 : 0))))]"
  check_eq "$fmt: top route" "$(json "$WORK/$fmt.json" 'd["routes"][0]["route"]')" "GET /api/items/:id"
  check_eq "$fmt: DESIGN.md keys" \
    "$(json "$WORK/$fmt.json" 'all(k in d for k in ["format","requests","duration_s","peak_rps","peak_at","mean_rps","methods","users","routes"])')" True
  check_eq "$fmt: quiet stderr" "$(cat "$WORK/$fmt.err")" ""
done

# the sample files in tests/fixtures/traffic: detected, every request read
fx="$SQUALL_SRC/tests/fixtures/traffic"
for pair in sample.jsonl:jsonl:4 sample_combined.log:combined:3 sample_common.log:common:2 \
            sample.gor:gor:2 sample.har:har:2; do
  IFS=: read -r f want_fmt want_n <<< "$pair"
  "$SQUALL" traffic inspect "$fx/$f" --json > "$WORK/fx.json"
  check_eq "fixture $f: format, requests" "$(json "$WORK/fx.json" 'd["format"], d["requests"]')" "$want_fmt $want_n"
  "$SQUALL" traffic inspect "$fx/$f" --json --format "$want_fmt" > "$WORK/fx2.json"
  check_eq "fixture $f: --format $want_fmt" "$(json "$WORK/fx2.json" 'd["requests"]')" "$want_n"
done
# a pipe works with --format (auto needs to seek back)
check_eq "pipe with --format" "$("$SQUALL" traffic inspect --json --format gor <(cat "$fx/sample.gor") | python3 -c 'import json,sys; print(json.load(sys.stdin)["requests"])')" 2

# text output and --format
out=$("$SQUALL" traffic inspect "$WORK/traffic-jsonl.jsonl")
check "text output names the peak" grep -q "peak        [0-9]* req/s" <<< "$out"
check "text output names users (format's own)" grep -q "users       11 distinct" <<< "$out"
"$SQUALL" traffic inspect --format common "$WORK/traffic-combined.log" --json > "$WORK/c.json"
check_eq "--format common reads a combined log" "$(json "$WORK/c.json" 'd["format"], d["requests"]')" "common 1053"

# bad lines: FILE:LINE and exit 2; --skip-bad counts them
bad="$WORK/bad.jsonl"
printf '%s\n' '{"ts": 1, "url": "/a"}' 'oops' '{"ts": 2}' '{"ts": 3, "url": "/b"}' > "$bad"
"$SQUALL" traffic inspect "$bad" > /dev/null 2> "$WORK/bad.err"
check_eq "bad line: exit 2" "$?" 2
check "bad line: FILE:LINE: message" grep -q "^squall traffic: $bad:2: expected one JSON object per line" "$WORK/bad.err"
"$SQUALL" traffic inspect "$bad" --skip-bad --json > "$WORK/skip.json" 2> "$WORK/skip.err"
check_eq "--skip-bad: exit 0" "$?" 0
check_eq "--skip-bad: counted" "$(json "$WORK/skip.json" 'd["skipped"], d["requests"]')" "2 2"
check "--skip-bad: reported" grep -q "skipped 2 bad records" "$WORK/skip.err"

# out of order beyond the 10 s window
late="$WORK/late.jsonl"
printf '%s\n' '{"ts": 100, "url": "/a"}' '{"ts": 111, "url": "/b"}' '{"ts": 112, "url": "/c"}' \
  '{"ts": 95, "url": "/late"}' '{"ts": 105, "url": "/sorted"}' > "$late"
"$SQUALL" traffic inspect "$late" > /dev/null 2> "$WORK/late.err"
check_eq "too old: exit 2" "$?" 2
check "too old: FILE:LINE" grep -q "$late:4: timestamp 1970-01-01T00:01:35.000Z is earlier than" "$WORK/late.err"
"$SQUALL" traffic inspect "$late" --skip-bad --json > "$WORK/late.json" 2>/dev/null
check_eq "too old: skipped, the rest sorted" "$(json "$WORK/late.json" 'd["requests"], d["skipped_late"], d["duration_s"]')" "4 1 12.0"

# usage and input errors
"$SQUALL" traffic inspect /nonexistent.jsonl 2> "$WORK/e1"; check_eq "missing file: exit 2" "$?" 2
check "missing file: message" grep -q "/nonexistent.jsonl: cannot open" "$WORK/e1"
"$SQUALL" traffic inspect "$bad" --format csv 2> "$WORK/e2"; check_eq "bad --format: exit 2" "$?" 2
"$SQUALL" traffic inspect "$bad" --user-key ip:x 2> "$WORK/e3"; check_eq "bad --user-key: exit 2" "$?" 2
"$SQUALL" traffic inspect 2> /dev/null; check_eq "no FILE: exit 2" "$?" 2
"$SQUALL" traffic frobnicate 2> /dev/null; check_eq "unknown subcommand: exit 2" "$?" 2
"$SQUALL" help traffic > "$WORK/help"; check_eq "help: exit 0" "$?" 0
check "help mentions --skip-bad" grep -q -- "--skip-bad" "$WORK/help"
finish
