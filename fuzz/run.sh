#!/usr/bin/env bash
# Runs the fuzz targets (build/fuzz/fuzz-<target>, from `make fuzz-build`).
#   fuzz/run.sh fuzz SECONDS    each target for SECONDS with its corpus in build/fuzz/corpus/<target>
#                               (kept between runs; seeded from fuzz/corpus/<target>)
#   fuzz/run.sh smoke SECONDS   the same on a fresh corpus, then every input in fuzz/regressions
# FUZZ_JOBS targets run at once (default 2), FUZZ_TARGETS picks some ("listen dns").
# Prints, per target, the executions, the core's edges covered (libFuzzer's coverage counters
# over the translated core only) and its wasm functions entered (libFuzzer -print_coverage), and
# exits 1 if any target crashed (the input is kept as build/fuzz/crashes/<target>-crash-*; the
# harness's message is in build/fuzz/logs/<target>.log).
set -uo pipefail
cd "$(dirname "$0")/.."
mode=${1:?usage: fuzz/run.sh fuzz|smoke SECONDS}
seconds=${2:?usage: fuzz/run.sh fuzz|smoke SECONDS}
jobs=${FUZZ_JOBS:-2}
targets=${FUZZ_TARGETS:-listen established dhcp dns mdns mqtt sntp}
B=build/fuzz
mkdir -p "$B/logs" "$B/crashes"
export PATH="/usr/lib/llvm-14/bin:$PATH" # llvm-symbolizer, for -print_coverage

run_target() {
  local t=$1 bin="$B/fuzz-$t" log="$B/logs/$t.log" work
  if [ "$mode" = smoke ]; then
    work=$(mktemp -d "${TMPDIR:-/tmp}/wasmip-fuzz-$t.XXXXXX")
  else
    work="$B/corpus/$t"
    mkdir -p "$work"
  fi
  rm -f "$B/crashes/$t-"*
  local rc=0
  "$bin" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$B/crashes/$t-" "$work" "fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  local execs total cov funcs_hit funcs_all
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  total=$(sed -n 's/^INFO: Loaded 1 modules *(\([0-9]*\) inline 8-bit counters).*/\1/p' "$log" | head -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | cut -d' ' -f2)
  if [ "$rc" -eq 0 ]; then
    "$bin" -runs=0 -print_coverage=1 "$work" >"$log.cov" 2>&1 || true
    funcs_hit=$(grep -c '^COVERED_FUNC: .* w2c_' "$log.cov" || true)
    funcs_all=$((funcs_hit + $(grep -c '^UNCOVERED_FUNC: .* w2c_' "$log.cov" || true)))
  fi
  if [ "$rc" -eq 0 ] && [ "$mode" = smoke ] && [ -d "fuzz/regressions/$t" ] && [ -n "$(ls -A "fuzz/regressions/$t")" ]; then
    "$bin" fuzz/regressions/"$t"/* >>"$log" 2>&1 || rc=$?
  fi
  local inputs
  inputs=$(find "$work" -type f | wc -l)
  [ "$mode" = smoke ] && rm -rf "$work"
  printf '%-12s %10s executions in %ss (%s/s), edges %s of %s (%s%%), wasm functions %s of %s, corpus %s%s\n' \
    "$t" "${execs:-?}" "$seconds" "$(( ${execs:-0} / (seconds > 0 ? seconds : 1) ))" "${cov:-?}" "${total:-?}" \
    "$(awk -v a="${cov:-0}" -v b="${total:-1}" 'BEGIN { printf "%.1f", 100 * a / b }')" "${funcs_hit:-?}" "${funcs_all:-?}" \
    "$inputs" "$([ "$rc" -ne 0 ] && echo "  CRASH (exit $rc): see $log")" >"$B/logs/$t.summary"
  return "$rc"
}

failed=0
pids=()
names=()
for t in $targets; do
  [ -x "$B/fuzz-$t" ] || { echo "fuzz: $B/fuzz-$t missing (make fuzz-build)" >&2; exit 1; }
  run_target "$t" &
  pids+=($!)
  names+=("$t")
  if [ "${#pids[@]}" -ge "$jobs" ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do wait "$p" || failed=1; done

echo "fuzz ($mode, ${seconds}s per target):"
for t in "${names[@]}"; do cat "$B/logs/$t.summary"; done | tee "$B/summary.txt"
if [ "$failed" -ne 0 ]; then
  for t in "${names[@]}"; do
    if grep -q CRASH "$B/logs/$t.summary"; then
      echo "--- $t:" >&2
      grep -E 'wasmip-fuzz|^==|Test unit written|ERROR' "$B/logs/$t.log" | head -20 >&2
    fi
  done
  exit 1
fi
