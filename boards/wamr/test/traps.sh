#!/usr/bin/env bash
# boards/wamr/test/traps.sh BOARD... - (root) each deliberately trapping image on each WAMR board
# binary, in a namespace the board creates and deletes (--netns wamrtrap<n>x<pid>): exit status 3, the
# trap reported on stderr as "wasmip: trap in <export>(): <WAMR's message>", the counters on
# stdout, the namespace gone. Then an image WAMR refuses: exit 2, its error on one line, no
# namespace created. Bounded: every board gets at most 10 s.
set -uo pipefail
cd "$(dirname "$0")/.."

# Like the host tests' prerequisites: skipped without root, failed under CI=true.
if [ "$(id -u)" -ne 0 ]; then
  echo "traps.sh: skipped: needs root (network namespaces)" >&2
  [ "${CI:-}" = true ] && exit 1
  exit 0
fi
[ $# -gt 0 ] || { echo "usage: $0 build/wasmip-wamr [build/wasmip-wamr-classic ...]" >&2; exit 2; }

# image  expected stderr line (extended regex)  whether to ping the board first
CASES=(
  "trap-unreachable|^wasmip: trap in init\(\): unreachable \(after phy\.panic\)$|no"
  "trap-recursion|^wasmip: trap in init\(\): wasm operand stack overflow$|no"
  "trap-tx-bounds|^wasmip: trap in poll\(\): out of bounds memory access$|no"
  "trap-oob|^wasmip: trap in input\(\): out of bounds memory access$|yes"
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
for bin in "$@"; do
  for c in "${CASES[@]}"; do
    IFS='|' read -r img want ping <<<"$c"
    ns="wamrtrap$((n))x$(($$ % 100000))" # at most 15 characters
    n=$((n + 1))
    "$bin" --netns "$ns" --wasm "build/$img.wasm" >"$tmp/out" 2>"$tmp/err" &
    pid=$!
    if [ "$ping" = yes ]; then
      # A frame for input(): the board answers nothing, the kernel's ARP request is enough.
      for _ in $(seq 1 50); do grep -q '^ready$' "$tmp/out" && break; sleep 0.1; done
      ip netns exec "$ns" ping -c 1 -W 1 10.213.0.2 >/dev/null 2>&1
    fi
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid"
      echo "FAIL $bin $img: still running after 10 s" >&2
      fail=1
    fi
    wait "$pid"
    rc=$?
    if [ "$rc" -ne 3 ] || ! grep -Eq "$want" "$tmp/err" || ! grep -q '^board:' "$tmp/out"; then
      echo "FAIL $bin $img: exit $rc" >&2
      cat "$tmp/err" >&2
      fail=1
    else
      echo "ok   $bin $img: exit 3, $(grep -E '^wasmip: trap' "$tmp/err")"
    fi
    if ip netns list | grep -qw "$ns"; then
      echo "FAIL $bin $img: namespace $ns left behind" >&2
      ip netns del "$ns"
      fail=1
    fi
  done
  # A file that is no wasm module: WAMR's error on one line, exit 2, nothing created.
  printf 'not a module' >"$tmp/bad.wasm"
  ns="wamrtrap$((n))x$(($$ % 100000))"
  "$bin" --netns "$ns" --wasm "$tmp/bad.wasm" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [ "$rc" -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q "^wasmip: cannot load .*: WASM module load failed" "$tmp/err" || ip netns list | grep -qw "$ns"; then
    echo "FAIL $bin bad.wasm: exit $rc" >&2
    cat "$tmp/err" >&2
    fail=1
  else
    echo "ok   $bin bad.wasm: exit 2, $(cat "$tmp/err")"
  fi
done
exit $fail
