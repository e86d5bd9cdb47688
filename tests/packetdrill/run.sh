#!/usr/bin/env bash
# Runs the packetdrill scripts (tests/packetdrill/<area>/*.pkt) against the wasm2c-compiled core
# through the adapter (adapter/wasmip_packetdrill.c), JOBS at a time, and prints PASS/FAIL per
# script and the counts. Exits 1 if any script fails. The scripts in known-deviations/ show where
# the stack differs from the RFC: they are expected to fail, run and counted apart (XFAIL), and an
# unexpected pass (XPASS) is reported but does not fail the run.
#
#   tests/packetdrill/run.sh                     every script (make test-packetdrill builds first)
#   tests/packetdrill/run.sh path/x.pkt ...      these scripts only (failures print packetdrill's output)
#   tests/packetdrill/run.sh --wasm old.wasm ... against another core image (the adapter is built
#                                                for it in build/packetdrill/alt-<hash>/)
# Env: JOBS (default 2), PACKETDRILL_ARGS (extra packetdrill flags, e.g. -v), SO_FLAGS (more adapter
# flags, e.g. log=1: the core's log and every frame on stderr).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
B=$ROOT/build/packetdrill
JOBS=${JOBS:-2}
SO=$B/libwasmip-packetdrill.so

if [ "${1:-}" = --wasm ]; then
  wasm=$(realpath "$2")
  shift 2
  alt=$B/alt-$(sha1sum <"$wasm" | cut -c1-12)
  make -s -C "$HERE/adapter" WASM="$wasm" OUT="$alt" >/dev/null || exit 1
  SO=$alt/libwasmip-packetdrill.so
fi
for f in "$B/packetdrill" "$SO"; do
  [ -x "$f" ] || [ -f "$f" ] || { echo "packetdrill: $f is missing: make test-packetdrill builds it" >&2; exit 1; }
done

# The adapter's fixed addresses (adapter/wasmip_packetdrill.c, README.md): the core is 192.168.0.2/16
# behind gateway 192.168.0.1; the scripts' remote end is 192.0.2.1.
PD_ARGS=(--so_filename="$SO" --so_flags="ip=192.168.0.2,gw=192.168.0.1,mask=255.255.0.0${SO_FLAGS:+,$SO_FLAGS}"
  --local_ip=192.168.0.2 --gateway_ip=192.168.0.1 --netmask_ip=255.255.0.0 --remote_ip=192.0.2.1
  ${PACKETDRILL_ARGS:-})

one() { # script -> "PASS|FAIL path" on stdout, packetdrill's output kept in a log
  local s=$1 log
  log=$B/logs/${s#"$HERE"/}.log
  mkdir -p "$(dirname "$log")"
  if (cd "$(dirname "$s")" && timeout 120 "$B/packetdrill" "${PD_ARGS[@]}" "$(basename "$s")") >"$log" 2>&1; then
    echo "PASS ${s#"$HERE"/}"
  else
    echo "FAIL ${s#"$HERE"/}"
  fi
}
export -f one
export HERE B
run_set() { # scripts... -> result lines, in name order
  printf '%s\n' "$@" | xargs -P "$JOBS" -I{} bash -c "$(declare -p PD_ARGS); one {}" | sort -k2
}

if [ $# -gt 0 ]; then
  scripts=()
  for a in "$@"; do scripts+=("$(realpath "$a")"); done
  deviations=()
else
  mapfile -t scripts < <(find "$HERE" -name '*.pkt' -not -path '*/known-deviations/*' | sort)
  mapfile -t deviations < <(find "$HERE/known-deviations" -name '*.pkt' 2>/dev/null | sort)
fi

start=$(date +%s.%N)
results=$(run_set "${scripts[@]}")
echo "$results"
pass=$(grep -c '^PASS' <<<"$results")
fail=$(grep -c '^FAIL' <<<"$results")
if [ $# -gt 0 ] && [ "$fail" -gt 0 ]; then
  grep '^FAIL' <<<"$results" | while read -r _ s; do echo "--- $s"; cat "$B/logs/$s.log"; done
fi
xfail=0 xpass=0
if [ ${#deviations[@]} -gt 0 ]; then
  echo "known deviations (expected to fail):"
  dres=$(run_set "${deviations[@]}")
  sed -e 's/^FAIL/XFAIL/' -e 's/^PASS/XPASS/' <<<"$dres"
  xfail=$(grep -c '^FAIL' <<<"$dres")
  xpass=$(grep -c '^PASS' <<<"$dres")
fi
secs=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
printf 'packetdrill: %d passed, %d failed of %d; known deviations: %d still failing, %d now passing (%.1f s)\n' \
  "$pass" "$fail" "${#scripts[@]}" "$xfail" "$xpass" "$secs"
[ "$xpass" -eq 0 ] || echo "packetdrill: a known deviation passes now: move it out of known-deviations/" >&2
[ "$fail" -eq 0 ]
