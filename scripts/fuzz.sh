#!/usr/bin/env bash
# Runs every libFuzzer harness in BUILD_DIR for SECONDS each, starting from
# the seeds in tests/fuzz/corpus/<name>/ (never writing into them: new inputs
# go to a scratch directory). Fails if any harness finds a crash.
set -euo pipefail
build=${1:?usage: fuzz.sh BUILD_DIR SECONDS}
seconds=${2:-60}
src=$(cd "$(dirname "$0")/.." && pwd)
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
passed=0
failed=0
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus="$src/tests/fuzz/corpus/${name#fuzz_}"
  mkdir -p "$scratch/$name"
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -artifact_prefix="$scratch/$name-" "$scratch/$name" "$corpus" \
       > "$scratch/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; log and reproducer:" >&2
    tail -40 "$scratch/$name.log" >&2
    ls "$scratch/$name-"* >&2 || true
    mkdir -p "$src/fuzz-findings" && cp "$scratch/$name-"* "$src/fuzz-findings/" 2>/dev/null || true
    status=1
    failed=$((failed + 1))
  else
    grep -E "^(Done|#[0-9]+ *DONE)" "$scratch/$name.log" | tail -1 || true
    passed=$((passed + 1))
  fi
done
echo "fuzz: $passed passed, $failed failed"
exit $status
