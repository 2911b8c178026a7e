#!/usr/bin/env bash
# test_native_http.sh — the native HTTP/1.1 client against responses real
# servers send: chunked bodies, Connection: close, bodies delimited by the
# close, 100 Continue, idle connections closed by the server (retried),
# garbage and truncated responses (errors, never counted as responses).
. "$(dirname "$0")/../lib/common.sh"

python3 "$SQUALL_SRC/tests/fixtures/quirky_server.py" > "$WORK/server.out" 2>&1 &
STARTED_PIDS+=($!)
for _ in $(seq 100); do
  port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$WORK/server.out")
  [ -n "$port" ] && break
  sleep 0.05
done
[ -n "$port" ] || { echo "server did not start"; cat "$WORK/server.out"; exit 1; }
base="http://127.0.0.1:$port"

# load PATH NAME [extra flags]: 40 requests in 1 s, native engine, 2 connections
load() {
  local path=$1 name=$2; shift 2
  "$SQUALL" load "$base$path" --engine native --rate 40 --duration 1s --connections 2 \
    --threads 1 --timeout 2s -q -o "$WORK/$name" "$@" 2> "$WORK/$name.err"
}
status() { json "$WORK/$1/summary.json" "d['requests']['by_status'].get('$2', 0)"; }
errors() { json "$WORK/$1/summary.json" "d['requests']['by_error'].get('$2', 0)"; }

load /chunked chunked;      check_eq "chunked bodies" "$(status chunked 200)" 40
load /close close;          check_eq "Connection: close" "$(status close 201)" 40
load /eof eof;              check_eq "body delimited by close" "$(status eof 200)" 40
load /continue continue;    check_eq "100 Continue skipped" "$(status continue 202)" 40
load /drop drop;            check_eq "idle close retried on a new connection" "$(status drop 200)" 40
check_eq "no errors from idle closes" "$(json "$WORK/drop/summary.json" "d['requests']['errors']")" 0
load /garbage garbage
check_eq "garbage is an error, not a response" "$(errors garbage other)" 40
check "garbage error message names the problem" grep -q "malformed response" "$WORK/garbage/events.jsonl"
load /headonly headonly
check_eq "truncated body is a reset" "$(errors headonly reset)" 40
check "truncation message" grep -q "short of Content-Length" "$WORK/headonly/events.jsonl"
load /keep keep --method POST --body 'x=1'
check_eq "POST with a body" "$(status keep 200)" 40

# a server that dies after reading a request: a POST must not be sent twice
# (it may have been acted on), a GET is retried once on a new connection
once_count() { curl -s "$base/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["once"])'; }
before=$(once_count)
"$SQUALL" load "$base/once" --engine native --method POST --body x=1 --rate 20 --duration 1s \
  --connections 1 --threads 1 -q -o "$WORK/once-post"
check_eq "POST: the server saw each request once" "$(( $(once_count) - before ))" \
  "$(json "$WORK/once-post/summary.json" "d['requests']['sent']")"
check "POST: the broken ones are errors" python3 -c "import json,sys; sys.exit(0 if json.load(open('$WORK/once-post/summary.json'))['requests']['by_error'].get('reset', 0) > 0 else 1)"
"$SQUALL" load "$base/once" --engine native --rate 20 --duration 1s --connections 1 --threads 1 \
  -q -o "$WORK/once-get"
check_eq "GET: retried on a new connection, all answered" \
  "$(json "$WORK/once-get/summary.json" "d['requests']['completed']")" 20

finish
