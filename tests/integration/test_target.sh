#!/usr/bin/env bash
# test_target.sh — integration test of `squall target`, the built-in demo and
# test HTTP service: flags and exit codes, every route, the store and its tags,
# ?delay / ?status overrides, body limits, latency that does not block worker
# threads, error injection, stalls, /stats, bind failures and graceful shutdown.
#
# Env: SQUALL (the squall binary), SQUALL_SRC (source tree; unused here but
# accepted). Traffic goes only to 127.0.0.1 (and ::1), in bounded loops. Every
# server this script starts is killed by its own pid on exit; nothing is ever
# killed by name. Exit 0 = pass, 1 = fail, 77 = skipped (no curl).
set -u

: "${SQUALL:?set SQUALL to the squall binary}"
command -v curl >/dev/null 2>&1 || { echo "SKIP: curl is not installed"; exit 77; }

TMP=$(mktemp -d "${TMPDIR:-/tmp}/squall-target-test.XXXXXX")
PIDS=()
FAILS=0
CHECKS=0

# Kills every server this script started (by pid) and removes the scratch dir.
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -KILL "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# check DESC CONDITION...: runs the condition; counts a failure with DESC.
check() {
    local desc=$1
    shift
    CHECKS=$((CHECKS + 1))
    if "$@"; then
        return 0
    fi
    FAILS=$((FAILS + 1))
    echo "FAIL: $desc" >&2
    return 1
}

# die MESSAGE: a failure the rest of the test cannot survive.
die() {
    echo "FAIL: $*" >&2
    exit 1
}

# Float comparisons for curl's time_total.
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 < b + 0) }'; }

# start_target NAME [ARGS...]: starts `squall target --listen 127.0.0.1:0 ARGS`
# (ARGS may override --listen), waits for its "listening on" line and sets
# PID, PORT and BASE. Output goes to $TMP/NAME.out and $TMP/NAME.err.
start_target() {
    local name=$1 i line
    shift
    "$SQUALL" target --listen 127.0.0.1:0 "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
    PID=$!
    PIDS+=("$PID")
    for i in $(seq 1 150); do
        line=$(grep -m1 'listening on http://' "$TMP/$name.out" 2>/dev/null)
        if [ -n "$line" ]; then
            BASE=${line##*listening on }
            PORT=${BASE##*:}
            return 0
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$TMP/$name.err" >&2
    die "squall target $* did not start listening"
}

# forget_pid PID: drops a reaped server from the cleanup list (so that a
# recycled pid is never signalled).
forget_pid() {
    local p keep=()
    for p in "${PIDS[@]}"; do
        [ "$p" = "$1" ] || keep+=("$p")
    done
    PIDS=("${keep[@]}")
}

# stop_target PID NAME [SIGNAL]: sends SIGNAL (default INT), waits (bounded)
# for the process to exit and checks it exited 0 (under ASan/LSan a leak would
# make that non-zero).
stop_target() {
    local pid=$1 name=$2 sig=${3:-INT} i rc
    kill -"$sig" "$pid" 2>/dev/null
    for i in $(seq 1 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        check "$name: exits within 15 s of SIG$sig" false
        kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid"
    rc=$?
    forget_pid "$pid"
    check "$name: exit status 0 after SIG$sig (got $rc; stderr: $(head -c 2000 "$TMP/$name.err"))" \
        test "$rc" -eq 0
}

# req METHOD PATH [CURL ARGS...]: one request to BASE; sets CODE, BODY, TIME
# and HDRS (the response header file).
req() {
    local method=$1 path=$2
    shift 2
    local out
    out=$(curl -s -X "$method" -o "$TMP/body" -D "$TMP/hdrs" -w '%{http_code} %{time_total}' \
        --max-time 20 "$@" "$BASE$path") || true
    CODE=${out%% *}
    TIME=${out##* }
    BODY=$(cat "$TMP/body" 2>/dev/null)
    HDRS="$TMP/hdrs"
}

# head_req PATH: a HEAD request (curl -I); sets CODE.
head_req() {
    CODE=$(curl -s -I -o /dev/null -w '%{http_code}' --max-time 20 "$BASE$1") || true
}

# json_num KEY: the number after "KEY": in BODY (top-level keys are unique).
json_num() {
    printf '%s' "$BODY" | grep -o "\"$1\":[0-9]*" | head -1 | cut -d: -f2
}

# ---------------------------------------------------------------- flags -----
out=$("$SQUALL" target --help 2>/dev/null)
rc=$?
check "--help exits 0" test "$rc" -eq 0
check "--help prints usage to stdout" grep -q 'usage: squall target' <<<"$out"
check "--help lists --latency" grep -q -- '--latency SPEC' <<<"$out"

# bad_flag EXPECTED_FRAGMENT ARGS...: exit 2 and a first stderr line that
# names the problem precisely.
bad_flag() {
    local want=$1 err rc
    shift
    err=$("$SQUALL" target "$@" 2>&1 >/dev/null)
    rc=$?
    check "target $*: exits 2 (got $rc)" test "$rc" -eq 2
    check "target $*: says '$want' (got: $err)" grep -qF -- "$want" <<<"$(head -1 <<<"$err")"
    check "target $*: message starts with 'squall target: '" grep -q '^squall target: ' <<<"$err"
}
bad_flag "--latency: 'foo:1ms': unknown distribution 'foo'" --latency foo:1ms
bad_flag "--latency: 'uniform:10ms..1ms': the minimum is above the maximum" --latency uniform:10ms..1ms
bad_flag "--latency: 'uniform:1ms': uniform needs MIN..MAX" --latency uniform:1ms
bad_flag "--latency: 'exp:abc': the mean" --latency exp:abc
bad_flag "--latency: 'normal:5ms': normal needs MEAN,STDDEV" --latency normal:5ms
bad_flag "--error-rate:" --error-rate 150%
bad_flag "--stall-for: needs --stall-every" --stall-for 1s
bad_flag "--stall-every: needs --stall-for" --stall-every 1s
bad_flag "--stall-for: must be shorter than --stall-every" --stall-every 1s --stall-for 2s
bad_flag "--listen: 'nope'" --listen nope
bad_flag "--listen: '127.0.0.1:99999'" --listen 127.0.0.1:99999
bad_flag "--threads:" --threads 0
bad_flag "--tag-header: 'X Run' is not a valid header name" --tag-header 'X Run'
bad_flag "unknown option '--bogus'" --bogus
bad_flag "unexpected argument 'extra'" extra

# ----------------------------------------------- server A: routes, store ----
start_target a
A_PID=$PID A_PORT=$PORT
check "listening line names 127.0.0.1 and a real port" grep -q "^squall target: listening on http://127.0.0.1:[1-9][0-9]*$" "$TMP/a.out"
NREQ=0 # requests to non-control routes, to compare with /stats

req GET /healthz
check "GET /healthz is 200 (got $CODE)" test "$CODE" = 200
check "GET /healthz says ok (got $BODY)" test "$BODY" = ok

req GET /api/items; NREQ=$((NREQ + 1))
check "GET /api/items is 200 (got $CODE)" test "$CODE" = 200
check "GET /api/items body (got $BODY)" test "$BODY" = '{"ok":true,"path":"/api/items"}'
check "GET /api/items is JSON" grep -qi '^content-type: application/json' "$HDRS"
head_req /api/items; NREQ=$((NREQ + 1))
check "HEAD /api/items is 200 (got $CODE)" test "$CODE" = 200
for m in POST PUT PATCH DELETE; do
    req "$m" /api/orders -d '{"sku":"a1"}'; NREQ=$((NREQ + 1))
    check "$m /api/orders is 200 (got $CODE)" test "$CODE" = 200
done
for m in OPTIONS FOO; do
    req "$m" /api/x; NREQ=$((NREQ + 1))
    check "$m /api/x is 405 (got $CODE)" test "$CODE" = 405
    check "$m /api/x has an Allow header" grep -qi '^allow: GET' "$HDRS"
done

# The store.
req POST /items -H 'X-Squall-Run: run-a' -d '{}'; NREQ=$((NREQ + 1))
check "POST /items is 201 (got $CODE)" test "$CODE" = 201
loc=$(grep -i '^location:' "$HDRS" | tr -d '\r' | awk '{print $2}')
check "POST /items has Location /items/ID (got '$loc')" grep -qE '^/items/[0-9]+$' <<<"$loc"
id_a=${loc##*/}
check "POST /items body carries id and tag (got $BODY)" test "$BODY" = "{\"id\":\"$id_a\",\"tag\":\"run-a\"}"
req POST /items -d '{}'; NREQ=$((NREQ + 1))
id_none=$(grep -i '^location:' "$HDRS" | tr -d '\r' | awk '{print $2}'); id_none=${id_none##*/}
check "POST /items without the tag header gives tag null (got $BODY)" test "$BODY" = "{\"id\":\"$id_none\",\"tag\":null}"
req PUT /items -H 'X-Squall-Run: run-b' -d '{}'; NREQ=$((NREQ + 1))
check "PUT /items is 201 (got $CODE)" test "$CODE" = 201
check "ids are distinct" test "$id_a" != "$id_none"

req GET "/items/$id_a"; NREQ=$((NREQ + 1))
check "GET /items/ID is 200 (got $CODE)" test "$CODE" = 200
check "GET /items/ID body (got $BODY)" test "$BODY" = "{\"id\":\"$id_a\",\"tag\":\"run-a\"}"
req GET /items/count; NREQ=$((NREQ + 1))
check "count is 3 (got $BODY)" test "$BODY" = '{"count":3}'
req GET '/items/count?tag=run-a'; NREQ=$((NREQ + 1))
check "count?tag=run-a is 1 (got $BODY)" test "$BODY" = '{"count":1}'
req GET '/items/count?tag=run-b'; NREQ=$((NREQ + 1))
check "count?tag=run-b is 1 (got $BODY)" test "$BODY" = '{"count":1}'
req GET '/items/count?tag=nope'; NREQ=$((NREQ + 1))
check "count?tag=nope is 0 (got $BODY)" test "$BODY" = '{"count":0}'

req DELETE "/items/$id_a"; NREQ=$((NREQ + 1))
check "DELETE /items/ID is 204 (got $CODE)" test "$CODE" = 204
req DELETE "/items/$id_a"; NREQ=$((NREQ + 1))
check "second DELETE /items/ID is 404 (got $CODE)" test "$CODE" = 404
req GET "/items/$id_a"; NREQ=$((NREQ + 1))
check "GET of a deleted item is 404 (got $CODE)" test "$CODE" = 404
req GET /items/count; NREQ=$((NREQ + 1))
check "count after delete is 2 (got $BODY)" test "$BODY" = '{"count":2}'
req GET '/items/count?tag=run-a'; NREQ=$((NREQ + 1))
check "count?tag=run-a after delete is 0 (got $BODY)" test "$BODY" = '{"count":0}'
req GET /items/abc; NREQ=$((NREQ + 1))
check "GET /items/abc is 404 (got $CODE)" test "$CODE" = 404
req POST "/items/$id_none"; NREQ=$((NREQ + 1))
check "POST /items/ID is 405 (got $CODE)" test "$CODE" = 405

# Per-request overrides.
req GET '/api/x?status=503'; NREQ=$((NREQ + 1))
check "?status=503 answers 503 (got $CODE)" test "$CODE" = 503
req GET '/api/x?status=99'; NREQ=$((NREQ + 1))
check "?status=99 is refused with 400 (got $CODE)" test "$CODE" = 400
req GET '/api/x?delay=300ms'; NREQ=$((NREQ + 1))
check "?delay=300ms answers 200 (got $CODE)" test "$CODE" = 200
check "?delay=300ms takes >= 0.3 s (took $TIME)" ge "$TIME" 0.29
req GET '/api/x?delay=bogus'; NREQ=$((NREQ + 1))
check "?delay=bogus is refused with 400 (got $CODE)" test "$CODE" = 400

# Request bodies: consumed up to 1 MiB, 413 beyond.
head -c 100000 /dev/zero >"$TMP/small"
head -c 1100000 /dev/zero >"$TMP/big"
req POST /api/upload --data-binary "@$TMP/small"; NREQ=$((NREQ + 1))
check "a 100 kB body is accepted (got $CODE)" test "$CODE" = 200
req POST /api/upload --data-binary "@$TMP/big"; NREQ=$((NREQ + 1))
check "a 1.1 MB body is refused with 413 (got $CODE)" test "$CODE" = 413
req POST /api/upload -H 'Transfer-Encoding: chunked' --data-binary "@$TMP/big"; NREQ=$((NREQ + 1))
check "a 1.1 MB chunked body is refused with 413 (got $CODE)" test "$CODE" = 413

# /stats matches what this script sent.
req GET /stats
check "GET /stats is 200 (got $CODE)" test "$CODE" = 200
check "/stats requests = $NREQ (got $BODY)" test "$(json_num requests)" = "$NREQ"
check "/stats items = 2 (got $BODY)" test "$(json_num items)" = 2
check "/stats counts three 201s (got $BODY)" test "$(json_num 201)" = 3
check "/stats counts the 413s (got $BODY)" test "$(json_num 413)" = 2
check "/stats counts the delayed request (got $BODY)" test "$(json_num delayed)" = 1
if command -v jq >/dev/null 2>&1; then
    check "/stats is valid JSON" jq -e '.by_status["200"] > 0' <<<"$BODY" >/dev/null
fi

# Bulk delete by tag: DELETE /items?tag=T (what `squall cleanup --by-tag` uses).
for i in 1 2 3; do req POST /items -H 'X-Squall-Run: bulk-1'; done
req POST /items -H 'X-Squall-Run: bulk-2'
req DELETE '/items?tag=bulk-1'
check "DELETE /items?tag=T is 200 (got $CODE)" test "$CODE" = 200
check "DELETE /items?tag=T says how many (got $BODY)" test "$BODY" = '{"deleted":3}'
req GET '/items/count?tag=bulk-1'
check "no item of the tag is left (got $BODY)" test "$BODY" = '{"count":0}'
req GET '/items/count?tag=bulk-2'
check "items of other tags stay (got $BODY)" test "$BODY" = '{"count":1}'
req DELETE '/items?tag=bulk-1'
check "a second bulk delete deletes nothing (got $BODY)" test "$BODY" = '{"deleted":0}'
req DELETE '/items?tag='
check "DELETE /items?tag= (empty) is 400 (got $CODE)" test "$CODE" = 400
req DELETE /items
check "DELETE /items without a tag is 400 (got $CODE $BODY)" \
    grep -q '^400 .*needs ?tag=T' <<<"$CODE $BODY"
req PATCH /items
check "PATCH /items is 405 with DELETE allowed" grep -qi '^allow: .*DELETE' "$HDRS"

# A second server on the same port cannot bind: exit 3, precise message.
err=$("$SQUALL" target --listen "127.0.0.1:$A_PORT" 2>&1 >/dev/null)
rc=$?
check "binding a busy port exits 3 (got $rc)" test "$rc" -eq 3
check "binding a busy port says why (got: $err)" \
    grep -q "^squall target: cannot listen on 127.0.0.1:$A_PORT: Address already in use" <<<"$err"

stop_target "$A_PID" a INT
check "prints a stop line" grep -q '^squall target: stopped' "$TMP/a.out"

# ------------------- server B: latency never blocks the (single) worker ----
start_target b --threads 1 --latency 1s --drain 10s
B_PID=$PID
req GET /api/slow
check "--latency 1s: request takes >= 1 s (took $TIME)" ge "$TIME" 0.99
req GET /healthz
check "--latency does not apply to /healthz (took $TIME)" lt "$TIME" 0.8
start=$(date +%s%N)
cpids=()
for i in $(seq 1 20); do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 "$BASE/api/p$i" >"$TMP/par.$i" &
    cpids+=($!)
done
wait "${cpids[@]}"
elapsed_ms=$((($(date +%s%N) - start) / 1000000))
ok=$(cat "$TMP"/par.* | grep -c '^200$')
check "20 parallel delayed requests all answer 200 (got $ok)" test "$ok" -eq 20
check "20 x 1 s on 1 thread overlap: done in < 8 s, not 20 s (took ${elapsed_ms} ms)" \
    test "$elapsed_ms" -lt 8000

# Graceful shutdown answers a held request at once.
curl -s -o "$TMP/held.body" -w '%{http_code} %{time_total}' --max-time 30 \
    "$BASE/api/held?delay=60s" >"$TMP/held.out" &
held=$!
sleep 0.5
stop_target "$B_PID" b INT
wait "$held"
read -r held_code held_time <"$TMP/held.out"
check "a request held for 60 s is answered 200 on SIGINT (got $held_code)" test "$held_code" = 200
check "... promptly (took $held_time s)" lt "$held_time" 10

# ----------------------------------------------- server C: distributions ----
start_target c --latency uniform:50ms..150ms
C_PID=$PID
okc=0
for i in $(seq 1 8); do
    req GET "/api/u$i"
    if [ "$CODE" = 200 ] && ge "$TIME" 0.045 && lt "$TIME" 2; then okc=$((okc + 1)); fi
done
check "uniform:50ms..150ms: 8 answers each >= 50 ms (got $okc of 8)" test "$okc" -eq 8
stop_target "$C_PID" c TERM

start_target c2 --latency normal:20ms,5ms --threads 2
C2_PID=$PID
req GET /api/n
check "normal:20ms,5ms: answers 200 (got $CODE)" test "$CODE" = 200
check "normal:20ms,5ms: takes some time (took $TIME)" ge "$TIME" 0.001
stop_target "$C2_PID" c2 INT

start_target c3 --latency exp:10ms
C3_PID=$PID
req GET /api/e
check "exp:10ms: answers 200 (got $CODE)" test "$CODE" = 200
stop_target "$C3_PID" c3 INT

# ------------------------------------------------ server D: error rate -----
start_target d --error-rate 50%
D_PID=$PID
urls=()
for i in $(seq 1 200); do urls+=("$BASE/api/e$i"); done
n500=$(curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 "${urls[@]}" | grep -c '^500$')
check "--error-rate 50%: 200 requests give 40..160 500s (got $n500)" test "$n500" -ge 40 -a "$n500" -le 160
urls=()
for i in $(seq 1 20); do urls+=("$BASE/healthz"); done
nhz=$(curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 "${urls[@]}" | grep -c '^200$')
check "--error-rate spares /healthz (20 of 20 are 200, got $nhz)" test "$nhz" -eq 20
nitems=$(for i in $(seq 1 20); do
    curl -s -o /dev/null -w '%{http_code}\n' --max-time 20 -X POST -H 'X-Squall-Run: er' "$BASE/items"
done | grep -c '^201$')
check "--error-rate spares the store (20 of 20 POST /items are 201, got $nitems)" test "$nitems" -eq 20
req GET /stats
check "/stats errors_injected = $n500 (got $BODY)" test "$(json_num errors_injected)" = "$n500"
check "/stats by_status 500 = $n500 (got $BODY)" test "$(json_num 500)" = "$n500"
stop_target "$D_PID" d INT

# ---------------------------------------------------- server E: stalls -----
# Stall windows are [0, 2 s), [4 s, 6 s), ... after start: a request sent
# right after start is held until 2 s; /healthz is not; right after the
# window (before 4 s) the next request is fast.
start_target e --stall-every 4s --stall-for 2s
E_PID=$PID
curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 20 "$BASE/api/stalled" >"$TMP/stall.out" &
stalled=$!
sleep 0.2
req GET /healthz
check "a stall spares /healthz (took $TIME)" lt "$TIME" 1.0
wait "$stalled"
read -r st_code st_time <"$TMP/stall.out"
check "a request in a stall window answers 200 (got $st_code)" test "$st_code" = 200
check "a request in a stall window is held >= 1 s (took $st_time)" ge "$st_time" 1.0
req GET /api/after
check "right after the stall window a request is fast (took $TIME)" lt "$TIME" 1.5
req GET /stats
check "/stats counts the stalled request (got $BODY)" ge "$(json_num stalled)" 1
stop_target "$E_PID" e INT

# --------------------------- server F: --tag-header, --max-items, SIGTERM ---
start_target f --tag-header X-Run --max-items 2
F_PID=$PID
req POST /items -H 'X-Run: t1'
check "--tag-header X-Run: the tag comes from X-Run (got $BODY)" grep -q '"tag":"t1"' <<<"$BODY"
req POST /items -H 'X-Squall-Run: t2'
check "--tag-header X-Run: X-Squall-Run is not the tag any more (got $BODY)" grep -q '"tag":null' <<<"$BODY"
req POST /items -H 'X-Run: t1'
check "--max-items 2: the third item is refused with 507 (got $CODE)" test "$CODE" = 507
req GET '/items/count?tag=t1'
check "--max-items 2: the refused item is not stored (got $BODY)" test "$BODY" = '{"count":1}'
stop_target "$F_PID" f TERM

# ------------------------------------------------------ server G: IPv6 -----
"$SQUALL" target --listen '[::1]:0' >"$TMP/g.probe" 2>&1 &
gp=$!
PIDS+=("$gp")
for i in $(seq 1 50); do
    grep -q 'listening on' "$TMP/g.probe" && break
    kill -0 "$gp" 2>/dev/null || break
    sleep 0.1
done
kill -INT "$gp" 2>/dev/null
wait "$gp"
forget_pid "$gp"
if grep -q 'listening on http://\[::1\]:' "$TMP/g.probe"; then
    start_target g --listen '[::1]:0'
    G_PID=$PID
    code=$(curl -s -g -o /dev/null -w '%{http_code}' --max-time 20 "$BASE/healthz")
    check "IPv6 [::1]:0 serves /healthz (got $code)" test "$code" = 200
    stop_target "$G_PID" g INT
else
    echo "note: IPv6 loopback unavailable; skipping the [::1] check"
fi

echo "test_target: $CHECKS checks, $FAILS failed"
[ "$FAILS" -eq 0 ]
