#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang (ASan + UBSan) and either replays the committed
# corpus once (a regression check: every input, no fuzzing) or fuzzes each harness for SECONDS.
#   tools/fuzz.sh replay BUILD_DIR              (ctest fuzz_replay, inside make test)
#   tools/fuzz.sh fuzz BUILD_DIR [SECONDS]      (make fuzz FUZZ_SECONDS=N; default 60 per harness)
# Fuzzing starts from tests/fuzz/corpus/<harness>/ (small slices of the real files, see tools/fuzz_seeds.py)
# and keeps what it discovers in BUILD_DIR/corpus/<harness>/. A crashing input is written to
# tests/fuzz/corpus/<harness>/crash-<sha1>: fix the bug, keep the file (replay then guards the fix), commit.
set -euo pipefail
mode=${1:?usage: tools/fuzz.sh replay|fuzz BUILD_DIR [SECONDS]} build=${2:?BUILD_DIR} seconds=${3:-60}
src=$(cd "$(dirname "$0")/.." && pwd)
harnesses=(idx cifar ag_news cora config run_record csv plugin_abi)
command -v clang++ >/dev/null || { echo "tools/fuzz.sh: clang++ not found (scripts/install-deps.sh installs clang)" >&2; exit 2; }
cmake -S "$src/tests/fuzz" -B "$build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" >"$build/build.log" 2>&1 || { echo "tools/fuzz.sh: the harnesses did not build:" >&2; tail -30 "$build/build.log" >&2; exit 1; }
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
status=0
case $mode in
  replay)
    for h in "${harnesses[@]}"; do
      mapfile -t inputs < <(find "$src/tests/fuzz/corpus/$h" -type f | sort)
      (( ${#inputs[@]} )) || { echo "tools/fuzz.sh: no corpus for $h" >&2; exit 1; }
      if "$build/fuzz_$h" "${inputs[@]}" >"$build/replay_$h.log" 2>&1; then
        echo "fuzz replay: $h: ${#inputs[@]} inputs ok"
      else
        echo "fuzz replay: $h: FAILED (see $build/replay_$h.log)" >&2; tail -30 "$build/replay_$h.log" >&2; status=1
      fi
    done ;;
  fuzz)
    printf '%-12s %12s %10s %8s %s\n' harness executions exec/s corpus crashes
    for h in "${harnesses[@]}"; do
      work=$build/corpus/$h && mkdir -p "$work" && touch "$build/started_$h"
      "$build/fuzz_$h" -max_total_time="$seconds" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$src/tests/fuzz/corpus/$h/" "$work" "$src/tests/fuzz/corpus/$h" \
        >"$build/fuzz_$h.log" 2>&1 || status=1
      runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$build/fuzz_$h.log" | tail -1)
      speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$build/fuzz_$h.log" | tail -1)
      # crash-, leak-, timeout- and oom- inputs written by this run (each is a finding to fix and keep)
      crashes=$(find "$src/tests/fuzz/corpus/$h" -newer "$build/started_$h" \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) | wc -l)
      printf '%-12s %12s %10s %8s %s\n' "$h" "${runs:-?}" "${speed:-?}" "$(find "$work" -type f | wc -l)" "$crashes"
    done ;;
  *) echo "tools/fuzz.sh: mode must be replay or fuzz" >&2; exit 2 ;;
esac
exit $status
