# common.sh — sourced by integration tests: assertions, a scratch directory,
# and a `squall target` started on a free loopback port.
#
# Every process a test starts is recorded and stopped by pid at exit; nothing
# is ever killed by name.

set -u
: "${SQUALL:?set SQUALL to the squall binary}"
SQUALL_SRC=${SQUALL_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
TEST_NAME=$(basename "$0" .sh)
WORK=$(mktemp -d "/tmp/squall-${TEST_NAME}.XXXXXX")
chmod 755 "$WORK" # servers dropping privileges (nginx workers) read files here
FAILS=0
PASSES=0
STARTED_PIDS=()

cleanup_common() {
  local pid
  for pid in "${STARTED_PIDS[@]}"; do
    kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  done
  if [ "$FAILS" -eq 0 ]; then rm -rf "$WORK"; else echo "(work dir kept: $WORK)"; fi
}
trap cleanup_common EXIT

pass() { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $*"; }

# check DESCRIPTION COMMAND...: passes when the command succeeds.
check() {
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}

# check_eq DESCRIPTION GOT WANT
check_eq() {
  if [ "$2" == "$3" ]; then pass "$1 ($2)"; else fail "$1: got '$2', want '$3'"; fi
}

# json FILE PYTHON_EXPR: prints the expression evaluated with d = the JSON document.
json() {
  python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($2)" "$1"
}

# start_target [squall target options...]: starts a target on a free port,
# sets TARGET_PID and TARGET_URL (http://127.0.0.1:PORT).
start_target() {
  local out="$WORK/target.$RANDOM.out"
  "$SQUALL" target --listen 127.0.0.1:0 "$@" > "$out" 2>&1 &
  TARGET_PID=$!
  STARTED_PIDS+=("$TARGET_PID")
  for _ in $(seq 100); do
    TARGET_URL=$(sed -n 's/^squall target: listening on \(http:[^ ]*\).*/\1/p' "$out")
    [ -n "$TARGET_URL" ] && return 0
    sleep 0.05
  done
  echo "target did not start:"; cat "$out"
  return 1
}

# start_quirky: starts tests/fixtures/quirky_server.py on a free port, sets
# QUIRKY_PID and QUIRKY_URL (http://127.0.0.1:PORT).
start_quirky() {
  local out="$WORK/quirky.$RANDOM.out" port=
  python3 "$SQUALL_SRC/tests/fixtures/quirky_server.py" > "$out" 2>&1 &
  QUIRKY_PID=$!
  STARTED_PIDS+=("$QUIRKY_PID")
  for _ in $(seq 100); do
    port=$(sed -n 's/^listening \([0-9]*\)$/\1/p' "$out")
    [ -n "$port" ] && { QUIRKY_URL="http://127.0.0.1:$port"; return 0; }
    sleep 0.05
  done
  echo "quirky server did not start:"; cat "$out"
  return 1
}

# stop_pid PID: stops one process this test started.
stop_pid() {
  kill "$1" 2>/dev/null
  wait "$1" 2>/dev/null
}

# finish: prints the totals and exits with the test's status.
finish() {
  echo "$PASSES passed, $FAILS failed"
  [ "$FAILS" -eq 0 ]
  exit $?
}
