#!/usr/bin/env bash
# test_load_tls_h2.sh — `squall load` over TLS (OpenSSL) and HTTP/2 against a
# private nginx on loopback with a certificate made by the test.
. "$(dirname "$0")/../lib/common.sh"
. "$(dirname "$0")/../lib/nginx.sh"

command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || { echo "nginx not installed"; exit 77; }
command -v openssl >/dev/null || { echo "openssl not installed"; exit 77; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
http_port=$(free_port); tls_port=$(free_port); h2c_port=$(free_port); mtls_port=$(free_port)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=127.0.0.1" \
  -addext "subjectAltName=IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
# a client certificate (self-signed: the mTLS server trusts exactly it)
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=squall-test-client" \
  -keyout "$WORK/client-key.pem" -out "$WORK/client.pem" 2>/dev/null
extra="
  log_format proto '\$server_protocol \$http_x_squall_run \$http_traceparent';
  server {
    listen 127.0.0.1:$tls_port ssl http2;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    access_log $WORK/ngx/logs/tls.log proto;
    location / { return 200 'tls ok'; }
  }
  server {
    listen 127.0.0.1:$mtls_port ssl;
    ssl_certificate $WORK/cert.pem;
    ssl_certificate_key $WORK/key.pem;
    ssl_client_certificate $WORK/client.pem;
    ssl_verify_client on;
    access_log $WORK/ngx/logs/mtls.log proto;
    location /items/ { return 204; }
    location / { return 200 'mtls ok'; }
  }
  server {
    listen 127.0.0.1:$h2c_port http2;
    access_log $WORK/ngx/logs/h2c.log proto;
    location / { return 200 'h2c ok'; }
  }"
nginx_start "$WORK/ngx" "$http_port" "$extra" || { echo "nginx did not start"; cat "$WORK/ngx/logs/error.log"; exit 1; }
STARTED_PIDS+=("$NGINX_PID")

# TLS, HTTP/1.1, verifying with the test's CA
run="$WORK/tls"
"$SQUALL" load "https://127.0.0.1:$tls_port/a" --rate 50 --duration 1s --cacert "$WORK/cert.pem" --tag it-tls -q -o "$run"
check_eq "TLS with --cacert exits 0" "$?" 0
check_eq "TLS: all 200" "$(json "$run/summary.json" "d['requests']['by_status'].get('200')")" 50
check_eq "TLS: served over HTTP/1.1" "$(grep -c '^HTTP/1.1 it-tls 00-' "$WORK/ngx/logs/tls.log")" 50
check_eq "traceparent ids are fresh per request" \
  "$(awk '{print $3}' "$WORK/ngx/logs/tls.log" | sort -u | wc -l)" 50

# TLS without trust: tls errors, exit 3; with --insecure: fine
run="$WORK/untrusted"
"$SQUALL" load "https://127.0.0.1:$tls_port/a" --rate 20 --duration 500ms -q -o "$run" 2>/dev/null
check_eq "untrusted certificate exits 3" "$?" 3
check_eq "untrusted certificate: tls errors" "$(json "$run/summary.json" "d['requests']['by_error'].get('tls')")" 10
run="$WORK/insecure"
"$SQUALL" load "https://127.0.0.1:$tls_port/a" --rate 20 --duration 500ms --insecure -q -o "$run"
check_eq "--insecure exits 0" "$?" 0

# HTTP/2 over TLS (ALPN), multiplexed
: > "$WORK/ngx/logs/tls.log"
run="$WORK/h2"
"$SQUALL" load "https://127.0.0.1:$tls_port/b" --rate 200 --duration 1s --http2 --insecure --connections 2 -q -o "$run"
check_eq "HTTP/2 exits 0" "$?" 0
check_eq "HTTP/2: all 200" "$(json "$run/summary.json" "d['requests']['by_status'].get('200')")" 200
check_eq "HTTP/2: served over HTTP/2.0" "$(grep -c '^HTTP/2.0 ' "$WORK/ngx/logs/tls.log")" 200

# HTTP/2 with prior knowledge on cleartext: libcurl before 8.0 breaks every
# reused h2c connection (curl issue #10634), so squall refuses rather than
# report framing errors as the server's.
run="$WORK/h2c"
curl_num=$(python3 -c "import ctypes; l=ctypes.CDLL('libcurl.so.4'); l.curl_version.restype=ctypes.c_char_p; v=l.curl_version().decode().split()[0].split('/')[1].split('.'); print(int(v[0])*10000+int(v[1])*100+int(v[2].split('-')[0]))")
"$SQUALL" load "http://127.0.0.1:$h2c_port/c" --rate 100 --duration 1s --http2 -q -o "$run" 2> "$WORK/h2c.err"
rc=$?
if [ "$curl_num" -lt 80000 ]; then
  check_eq "h2c refused on libcurl < 8.0" "$rc" 2
  check "h2c refusal says why" grep -q "curl issue #10634" "$WORK/h2c.err"
else
  check_eq "h2c exits 0" "$rc" 0
  check_eq "h2c: served over HTTP/2.0" "$(grep -c '^HTTP/2.0 ' "$WORK/ngx/logs/h2c.log")" 100
fi

# closed model against nginx: counts add up
run="$WORK/nginx-closed"
"$SQUALL" load "http://127.0.0.1:$http_port/" --connections 8 --duration 1s -q -o "$run"
check_eq "nginx closed model: completed = sent" \
  "$(json "$run/summary.json" "d['requests']['completed'] == d['requests']['sent'] > 100")" True
run="$WORK/nginx-404"
"$SQUALL" load "http://127.0.0.1:$http_port/status404" --rate 100 --duration 1s -q -o "$run"
check_eq "nginx 404s counted" "$(json "$run/summary.json" "d['requests']['by_status'].get('404')")" 100

# client certificates (mTLS): load and cleanup present --cert/--key
run="$WORK/mtls"
"$SQUALL" load "https://127.0.0.1:$mtls_port/m" --rate 20 --duration 500ms --cacert "$WORK/cert.pem" \
  --cert "$WORK/client.pem" --key "$WORK/client-key.pem" -q -o "$run"
check_eq "mTLS with --cert/--key exits 0" "$?" 0
check_eq "mTLS: all 200" "$(json "$run/summary.json" "d['requests']['by_status'].get('200')")" 10
run="$WORK/mtls-nocert"
"$SQUALL" load "https://127.0.0.1:$mtls_port/m" --rate 20 --duration 500ms --cacert "$WORK/cert.pem" -q -o "$run"
check_eq "mTLS without a client certificate: nginx answers 400" \
  "$(json "$run/summary.json" "d['requests']['by_status'].get('400')")" 10
for with in no yes; do
  dir="$WORK/mtls-cleanup-$with"
  mkdir -p "$dir"
  printf '{"schema":"squall.run/1","run_id":"mtls-%s","target":"https://127.0.0.1:%s/items"}\n' "$with" "$mtls_port" > "$dir/run.json"
  printf '{"type":"created","entry":"1-0-1","run_id":"mtls-%s","method":"POST","url":"https://127.0.0.1:%s/items","status":201,"location":"https://127.0.0.1:%s/items/1","id":"1","utc_ns":1}\n' \
    "$with" "$mtls_port" "$mtls_port" > "$dir/ledger.jsonl"
done
"$SQUALL" cleanup "$WORK/mtls-cleanup-no" --cacert "$WORK/cert.pem" -q 2>/dev/null
check_eq "cleanup without a client certificate fails (exit 1)" "$?" 1
"$SQUALL" cleanup "$WORK/mtls-cleanup-yes" --cacert "$WORK/cert.pem" --cert "$WORK/client.pem" \
  --key "$WORK/client-key.pem" -q
check_eq "cleanup with --cert/--key deletes (exit 0)" "$?" 0
check "cleanup recorded the deletion" grep -q '"outcome":"deleted"' "$WORK/mtls-cleanup-yes/ledger.jsonl"

finish
