# nginx.sh — sourced by tests and benchmarks: start a private nginx on loopback.
#
#   nginx_start DIR PORT [extra server config lines]   sets NGINX_PID
#   nginx_stop                                          stops the nginx it started
# The nginx runs from DIR with its own config, logs and pid file, serves a
# small static body at every path, and never touches the system's nginx.

NGINX_PID=""

nginx_start() {
  local dir=$1 port=$2 extra=${3:-}
  local bin
  bin=$(command -v nginx || echo /usr/sbin/nginx)
  [ -x "$bin" ] || return 77
  mkdir -p "$dir/html" "$dir/logs" "$dir/tmp"
  printf 'ok\n' > "$dir/html/index.html"
  cat > "$dir/nginx.conf" <<CONF
worker_processes ${NGINX_WORKERS:-1};
worker_rlimit_nofile 40000;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 20000; }
http {
  access_log off;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path $dir/tmp;
  proxy_temp_path $dir/tmp;
  fastcgi_temp_path $dir/tmp;
  uwsgi_temp_path $dir/tmp;
  scgi_temp_path $dir/tmp;
  server {
    listen 127.0.0.1:$port;
    root $dir/html;
    location / { try_files /index.html =404; }
    location = /status404 { return 404; }
    location = /status503 { return 503; }
  }
  $extra
}
CONF
  "$bin" -p "$dir" -c "$dir/nginx.conf" &
  NGINX_PID=$!
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

nginx_stop() {
  if [ -n "$NGINX_PID" ]; then
    kill "$NGINX_PID" 2>/dev/null
    wait "$NGINX_PID" 2>/dev/null
    NGINX_PID=""
  fi
}
