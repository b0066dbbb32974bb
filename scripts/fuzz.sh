#!/usr/bin/env bash
# Runs the fuzz targets (cargo-fuzz, libFuzzer, the nightly toolchain):
#   scripts/fuzz.sh [SECONDS] [TARGET...]
#   scripts/fuzz.sh build      (only installs cargo-fuzz and builds the targets)
# Each target starts from its seeds (fuzz/seeds/<target>) and the corpus it grew before
# (fuzz/corpus/<target>, not committed) and runs for SECONDS (default 4 hours) or 10
# million executions, whichever comes first, as many at once as there are cores
# (FUZZ_JOBS). The executions each ran are printed and its log kept in fuzz/logs/. A
# crash fails the script: its input is in fuzz/artifacts/<target>/; once the bug is
# fixed it goes into fuzz/regressions/<target>/, which an ordinary `cargo test` replays.
# FUZZ_PROFILE=dev (CI's 30-second runs) builds unoptimized: a build of less than half
# the time, for fewer executions a second.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-14400}
shift || true
build_only=false
if [ "$seconds" = build ]; then
  build_only=true
fi
jobs=${FUZZ_JOBS:-$(nproc)}
profile=()
if [ "${FUZZ_PROFILE:-release}" = dev ]; then
  profile=(--dev)
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "==> installing cargo-fuzz"
  cargo +nightly install cargo-fuzz --locked
fi
cd fuzz
if [ $# -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
mkdir -p logs
# Safe Rust, and C libraries the sanitizer would not see: it would only slow the runs.
echo "==> building the fuzz targets"
cargo +nightly fuzz build "${profile[@]}" --sanitizer none
if $build_only; then
  exit 0
fi

run() {
  local target=$1 log="logs/$1.log"
  mkdir -p "corpus/$target" "seeds/$target"
  if cargo +nightly fuzz run "${profile[@]}" --sanitizer none "$target" "$PWD/corpus/$target" "$PWD/seeds/$target" -- \
    -max_total_time="$seconds" -runs=10000000 -rss_limit_mb=2048 -timeout=10 \
    -max_len=262144 -print_final_stats=1 >"$log" 2>&1; then
    local runs took
    runs=$(grep -Eo 'number_of_executed_units: *[0-9]+' "$log" | grep -Eo '[0-9]+$' || echo "?")
    took=$(grep -Eo 'Done [0-9]+ runs in [0-9]+ second' "$log" | grep -Eo 'in [0-9]+' | grep -Eo '[0-9]+' || echo "$seconds")
    echo "    $target: $runs executions in $took s, no crash"
  else
    echo "!! $target crashed: see fuzz/$log and fuzz/artifacts/$target/" >&2
    grep -E 'panicked at|ERROR: libFuzzer|SUMMARY' "$log" | tail -n 5 >&2 || true
    return 1
  fi
}

echo "==> ${#targets[@]} targets, up to $seconds s or 10,000,000 executions each, $jobs at once"
failed=0
running=0
for target in "${targets[@]}"; do
  run "$target" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || failed=1
    running=$((running - 1))
  fi
done
while [ "$running" -gt 0 ]; do
  wait -n || failed=1
  running=$((running - 1))
done
exit "$failed"
