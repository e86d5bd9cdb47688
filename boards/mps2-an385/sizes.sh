#!/bin/sh
# sizes.sh IMAGE...: flash and RAM of each built firmware image (build/wasmip-IMAGE.elf), from
# arm-none-eabi-size -A and the link map, next to its .wasm. Flash = what the image occupies in
# SSRAM1 (vectors, code, read-only data, .data's initial values); RAM = .data + .bss + the two
# stacks + the linear memory. The second table splits flash and static RAM (less the stacks and
# the linear memory) by origin: the generated module (stack.o), the wasm2c runtime
# (wasm_rt_static.o), the shared board code (wasmip_board.o), this board (main, lan9118, console,
# startup) and newlib-nano/libgcc.
set -e
cd "$(dirname "$0")"
SIZE=${SIZE:-arm-none-eabi-size}

wasm_of() {
  case "$1" in
    bare) echo ../../build/wasmip.wasm ;;
    trap-*) echo "build/$1.wasm" ;;
    *) echo "../../build/$1.wasm" ;;
  esac
}

echo "| image | .wasm | flash: text | rodata | data | = flash | RAM: data | bss | stacks | linear memory | = RAM |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for app in "$@"; do
  elf=build/wasmip-$app.elf
  [ -f "$elf" ] || { echo "| $app | (not built) |"; continue; }
  wasm=$(wasm_of "$app")
  wsize=$(stat -c %s "$wasm" 2>/dev/null || echo "?")
  $SIZE -A "$elf" | awk -v app="$app" -v w="$wsize" '
    $1 == ".vectors" || $1 == ".text" { text += $2 }
    $1 == ".rodata" || $1 == ".ARM.exidx" { ro += $2 }
    $1 == ".data" { data = $2 }
    $1 == ".bss" { bss = $2 }
    $1 == ".stack" || $1 == ".handler_stack" { st += $2 }
    $1 == ".wasm_memory" { lm = $2 }
    END { printf "| %s | %d | %d | %d | %d | **%d** | %d | %d | %d | %d | **%d** |\n", app, w, text, ro, data, text + ro + data, data, bss, st, lm, data + bss + st + lm }'
done

echo
echo "| image | part | flash | static RAM |"
echo "|---|---|---:|---:|"
for app in "$@"; do
  map=build/wasmip-$app.map
  [ -f "$map" ] || continue
  awk -v app="$app" '
    function hex(h,   i, v) {
      v = 0
      h = tolower(substr(h, 3))
      for (i = 1; i <= length(h); i++) v = v * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
      return v
    }
    function part(f) {
      if (f ~ /stack\.o$/) return "module (wasm2c output)"
      if (f ~ /wasm_rt_static\.o$/) return "wasm2c runtime"
      if (f ~ /wasmip_board\.o$/) return "shared board code"
      if (f ~ /\.a\(/ || f ~ /\.a$/) return "newlib-nano + libgcc"
      if (f ~ /\.o$/) return "mps2-an385 board"
      return ""
    }
    function add(sec, size, file,   p) {
      p = part(file)
      if (p == "" || size == 0) return
      if (out == ".vectors" || out == ".text" || out == ".rodata" || out == ".ARM.exidx") flash[p] += size
      else if (out == ".data") { flash[p] += size; ram[p] += size }
      else if (out == ".bss") ram[p] += size
      seen[p] = 1
    }
    /^\.[A-Za-z_.]+/ { out = $1; pending = ""; next }
    /^ \.[^ ]+$/ { pending = $1; next }
    /^ \.[^ ]+ +0x[0-9a-f]+ +0x[0-9a-f]+ / { add($1, hex($3), $4); pending = ""; next }
    /^ +0x[0-9a-f]+ +0x[0-9a-f]+ / && pending != "" { add(pending, hex($2), $3); pending = ""; next }
    /^ \*\(/ || /^ \*fill\*/ { pending = "" }
    END {
      n = split("module (wasm2c output)|wasm2c runtime|shared board code|mps2-an385 board|newlib-nano + libgcc", order, "|")
      for (i = 1; i <= n; i++) if (order[i] in seen) printf "| %s | %s | %d | %d |\n", app, order[i], flash[order[i]], ram[order[i]]
    }' "$map"
done
