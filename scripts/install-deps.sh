#!/usr/bin/env bash
# Install the Debian packages the host tests need (real peers in a network namespace):
#   ip (iproute2), ping (iputils-ping), tshark, gcc, and the TCP peers curl, nc (netcat-openbsd),
#   python3 and ss (iproute2); wasm2c (wabt) for the native board (boards/posix); dnsmasq
#   (dnsmasq-base) as the DHCP and DNS server of the real-peer tests; mosquitto and mosquitto_sub /
#   mosquitto_pub (mosquitto, mosquitto-clients) as the MQTT broker and clients; chronyd (chrony) as
#   the NTP server (run with -x: it never touches the system clock); for `make bench` (and its
#   quick test): valgrind (callgrind), pkg-config and liblwip-dev (lwIP, the C stack it compares
#   with); for the emulated Cortex-M3 board (boards/mps2-an385): arm-none-eabi-gcc
#   (gcc-arm-none-eabi) with newlib-nano (libnewlib-arm-none-eabi), qemu-system-arm, and setpriv
#   (util-linux) to tie QEMU's life to the harness; clang-14 with libFuzzer (libclang-rt-14-dev)
#   and llvm-14 (llvm-symbolizer) for the fuzz targets (fuzz/); for the WAMR board (boards/wamr)
#   and make bench's WAMR figures (bench/c/Makefile), WAMR built from source: cmake, gcc-multilib
#   (its 32-bit x86 builds, -m32) and qemu-user (qemu-i386 runs those here: the kernel refuses
#   32-bit programs); python3-kconfiglib for the ESP32 board's stub-check (boards/esp32: its
#   sdkconfig.h written from the real Kconfig); flex and bison to build packetdrill (tests/packetdrill);
#   dig (bind9-dnsutils) and python3-zeroconf (an mDNS resolver and responder with no daemon) for the
#   mDNS test (tests/host/tap_mdns.test.ts); nft (nftables) for the random drop of make bench's
#   loss step (bench/lossy.ts: this kernel has no netem).
# Idempotent and quiet when everything is present. Needs root (apt-get); without root it only
# reports what is missing and exits 1 when something is.
set -euo pipefail

# command -> Debian package
declare -A PKG=(
  [ip]=iproute2
  [ping]=iputils-ping
  [tshark]=tshark
  [gcc]=gcc
  [g++]=g++ # wamrc (C++), for the Cortex-M3 board's AOT runtime
  [curl]=curl
  [nc]=netcat-openbsd
  [python3]=python3
  [ss]=iproute2
  [wasm2c]=wabt
  [dnsmasq]=dnsmasq-base
  [mosquitto]=mosquitto
  [mosquitto_sub]=mosquitto-clients
  [mosquitto_pub]=mosquitto-clients
  [chronyd]=chrony
  [valgrind]=valgrind
  [pkg-config]=pkg-config
  [arm-none-eabi-gcc]=gcc-arm-none-eabi
  [qemu-system-arm]=qemu-system-arm
  [setpriv]=util-linux
  [clang-14]=clang-14
  [llvm-symbolizer-14]=llvm-14
  [cmake]=cmake
  [qemu-i386]=qemu-user
  [flex]=flex
  [bison]=bison
  [dig]=bind9-dnsutils
  [nft]=nftables # random drop in make bench's loss step (this kernel has no netem)
)

# file pattern -> Debian package (libraries, which have no command)
declare -A FILE_PKG=(
  [/usr/include/lwip/lwip/tcp.h]=liblwip-dev
  [/usr/lib/arm-none-eabi/newlib/thumb/v7-m/nofp/libc_nano.a]=libnewlib-arm-none-eabi
  ["/usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-$(uname -m).a"]=libclang-rt-14-dev
  [/usr/include/x86_64-linux-gnu/gnu/stubs-32.h]=gcc-multilib
  ["/usr/lib/gcc/x86_64-linux-gnu/*/32/libgcc.a"]=gcc-multilib
  [/usr/lib/python3/dist-packages/kconfiglib.py]=python3-kconfiglib
  [/usr/lib/python3/dist-packages/zeroconf/__init__.py]=python3-zeroconf
  # WAMR's wamrc, built against Debian's LLVM for boards/mps2-an385 RUNTIME=wamr-aot (wamrc.mk)
  [/usr/lib/llvm-19/lib/cmake/llvm/LLVMConfig.cmake]=llvm-19-dev
)

missing=()
for cmd in "${!PKG[@]}"; do
  if ! command -v "$cmd" >/dev/null 2>&1 && [ ! -x "/usr/sbin/$cmd" ] && [ ! -x "/usr/bin/$cmd" ]; then
    missing+=("${PKG[$cmd]}")
  fi
done
# compgen: a pattern matches when some file does (a plain path too).
for f in "${!FILE_PKG[@]}"; do
  compgen -G "$f" >/dev/null || missing+=("${FILE_PKG[$f]}")
done

[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]} (run as root to install them)" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture: answer no without a prompt.
if command -v debconf-set-selections >/dev/null 2>&1; then
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
fi

echo "install-deps: installing ${missing[*]}" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
  cat "$log" >&2
  echo "install-deps: apt-get failed" >&2
  exit 1
fi
echo "install-deps: done" >&2
