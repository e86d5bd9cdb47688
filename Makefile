# wasmip: `make run` (the simulated demo) and `make test` (every test) set themselves up.
SHELL := /bin/bash
BIN := node_modules/.bin
AS_SOURCES := $(shell find assembly -name '*.ts' -not -path '*/__tests__/*' -not -path '*/testing/*')
TSX := node --import tsx
# The command line, from build/cli's bundle (bin/wasmip.mjs falls back to tsx without it).
WASMIP := node bin/wasmip.mjs

.PHONY: all run test tap deps sysdeps build host-tools figures figures-check typecheck test-as test-host test-wamr test-esp32 test-packetdrill clean boards flash bench docs bench-fleet bench-loopback fuzz fuzz-build fuzz-smoke fuzz-corpus fuzz-capture

all: build

# npm packages exactly as package-lock.json pins them; re-run when the lock file changes.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

# Debian packages for the real-peer tests (root only; quiet when all are present).
sysdeps:
	@bash scripts/install-deps.sh

# Counter names as ASCII static data, generated from NAMES in counter_list.ts (committed; regenerated
# when either list changes).
assembly/support/counter_names.ts: assembly/support/counters.ts assembly/support/counter_list.ts scripts/gen-counter-names.mjs
	node scripts/gen-counter-names.mjs

# Every image is built with the ascii-literals transform (log text as bytes, not UTF-16 strings).
ASC_FLAGS := --transform ./scripts/ascii-literals.mjs
# Release images: host/image/build.ts has the one recipe (asconfig.json's release options, the
# transform, then the newer binaryen of the `binaryen` package once more, memory pinned to the
# pages the image needs) that `wasmip build` and bench/ use too. It writes build/<image>.d, the
# sources asc read, so touching one app or example rebuilds only its image.
IMAGE_TOOL := host/image/build.ts asconfig.json node_modules/.package-lock.json scripts/ascii-literals.mjs
image = $(TSX) host/image/build.ts $(1) $@ --text $(@:.wasm=.wat) --depfile $(@:.wasm=.d)

build/wasmip.wasm: assembly/index.ts $(IMAGE_TOOL)
	@mkdir -p build
	$(call image,assembly/index.ts)

# The core with the MQTT client (config.ts FEATURE_MQTT: off in the default images, which it would
# take past one page), for the host API and the tests against mosquitto.
build/mqtt.wasm: assembly/index.ts $(IMAGE_TOOL)
	@mkdir -p build
	$(call image,assembly/index.ts) --use WASMIP_MQTT=1

# The core with IPv6 (config.ts FEATURE_IPV6: off in the default images, which it would take past
# one page): link-local and SLAAC addresses, ND, MLDv2, ICMPv6 echo; for the IPv6 tests.
build/ipv6.wasm: assembly/index.ts $(IMAGE_TOOL)
	@mkdir -p build
	$(call image,assembly/index.ts) --use WASMIP_IPV6=1

# IPv6 firmware images for the real-peer tests (tests/host/tap_ipv6.test.ts): TCP and UDP echo
# (assembly/firmware/echo6.ts), and the http app with IPv6 (two pages: http alone fills one).
build/echo6.wasm: assembly/firmware/echo6.ts $(IMAGE_TOOL)
	@mkdir -p build
	$(call image,$<) --use WASMIP_IPV6=1

build/http6.wasm: assembly/firmware/http.ts $(IMAGE_TOOL)
	@mkdir -p build
	$(call image,$<) $(foreach u,$(USE_http),--use $(u)) --use WASMIP_IPV6=1

# The debug build: assertions on, and debug_check() (assembly/debug.ts) for the internal invariants.
build/wasmip.debug.wasm: $(AS_SOURCES) asconfig.json node_modules/.package-lock.json scripts/ascii-literals.mjs
	@mkdir -p build
	$(BIN)/asc assembly/debug.ts --target debug $(ASC_FLAGS)

# Firmware images: the core plus one app (assembly/firmware/<app>.ts).
# APPS is also host/board/apps.ts's list (what `wasmip tap --app`, `sim --topology` and their help name).
APPS := greeter http echo bulk udp-echo fetch bench
APP_WASM := $(APPS:%=build/%.wasm)

# Each image's own sizes and features beyond config.ts's defaults (asc --use), as a firmware
# project sizes lwIP in its lwipopts.h: fetch makes one connection at a time, the bench image
# serves one transfer and its control connection, so fewer connection buffers (11.8 KB each)
# keep them in one page of linear memory. The http server serves 3 connections at a time (more SYNs
# are dropped and the peers retry, as with an ESP-IDF httpd of 3 sockets), in 5 blocks (the
# listener, the 3, and one closing or waiting to be accepted): one page with mDNS, so that its WAMR
# footprint fits an ESP32 without PSRAM (issue 14). udp-echo has IPv4 multicast (its sockets can
# join groups); http and sensor answer mDNS and announce their page with DNS-SD (docs/mdns.md).
# bulk, the long-transfer image, uses TCP timestamps (RFC 7323) with peers that offer them.
USE_bulk := WASMIP_TCP_TIMESTAMPS=1
USE_fetch := WASMIP_TCP_MAX_CONNECTIONS=2
USE_bench := WASMIP_TCP_MAX_CONNECTIONS=3
USE_sensor := WASMIP_TCP_MAX_CONNECTIONS=3 WASMIP_MULTICAST=1 WASMIP_MDNS=1 WASMIP_MQTT=1
USE_udp-echo := WASMIP_MULTICAST=1
USE_http := WASMIP_TCP_MAX_SOCKETS=5 WASMIP_TCP_MAX_CONNECTIONS=3 WASMIP_MULTICAST=1 WASMIP_MDNS=1

$(APP_WASM): build/%.wasm: assembly/firmware/%.ts $(IMAGE_TOOL)
	@mkdir -p build
	$(call image,$<) $(foreach u,$(USE_$*),--use $(u))

# Example apps (examples/<app>/, the template a firmware author copies): the same kind of image,
# built from examples/<app>/firmware.ts to build/<app>.wasm; their as-pect tests run in test-as.
EXAMPLES := sensor
EXAMPLE_WASM := $(EXAMPLES:%=build/%.wasm)

$(EXAMPLE_WASM): build/%.wasm: examples/%/firmware.ts $(IMAGE_TOOL)
	@mkdir -p build
	$(call image,$<) $(foreach u,$(USE_$*),--use $(u))

# Each image's sources as asc read them (written by the build above).
-include $(wildcard build/*.d)

# The `wasmip` command as one ESM bundle (bin/wasmip.mjs runs it; without it, tsx compiles host/
# on every start). Two levels below the root like host/cli.ts: the harness finds build/ from there.
HOST_SOURCES := $(shell find host -name '*.ts')
build/cli/cli.mjs: $(HOST_SOURCES) node_modules/.package-lock.json
	@rm -rf build/cli
	$(BIN)/esbuild host/cli.ts --bundle --platform=node --format=esm --splitting --packages=external \
	  --outdir=build/cli --out-extension:.js=.mjs --log-level=warning

build/tap-bridge: host/devices/tap-bridge.c
	@mkdir -p build
	gcc -O2 -Wall -Wextra -o $@ $<

# Sends crafted frames from the kernel's side of a test's tap (the hostile-traffic tests).
build/pkt-inject: host/devices/pkt-inject.c
	@mkdir -p build
	gcc -O2 -Wall -Wextra -o $@ $<

build: build/wasmip.wasm build/wasmip.debug.wasm build/mqtt.wasm build/ipv6.wasm build/echo6.wasm build/http6.wasm $(APP_WASM) $(EXAMPLE_WASM) build/cli/cli.mjs

# The Linux-only helpers (a TAP device, AF_PACKET), built only for the targets that use a TAP, so
# `make build` and `make run` work where there is none (macOS). The harness also builds each one
# when it is missing (host/devices/tap-runner.ts, inject.ts).
host-tools: build/tap-bridge build/pkt-inject

run: deps build
	@$(WASMIP) sim --pcap build/demo.pcap

# The README's ladder diagram: the TCP connection of make run's capture (A to the greeter on G).
docs: run
	@mkdir -p docs
	$(WASMIP) ladder build/demo.pcap -o docs/handshake.svg

# The figures README.md and docs/ quote (docs/benchmarks.md's tables among them), written from the
# committed bench run that bench/docs.ts names; figures-check fails when a file differs.
figures: deps
	$(TSX) bench/docs.ts

figures-check: deps
	$(TSX) bench/docs.ts --check

# Boards per process and simulated seconds per wall second at 10, 50 and 200 boards (bench/fleet.ts).
bench-fleet: deps build
	$(TSX) bench/fleet.ts

# Loopback throughput in the harness (client and server on one board over 127.0.0.1) next to the
# same transfer between two boards, in one run (bench/loopback.ts).
bench-loopback: deps build
	$(TSX) bench/loopback.ts

tap: deps build host-tools sysdeps
	$(WASMIP) tap

typecheck: deps
	$(BIN)/tsc --noEmit -p tsconfig.json

test-as: deps
	$(BIN)/asp --config as-pect.config.js

test-host: deps build host-tools sysdeps
	$(TSX) --test --test-reporter=spec tests/host/*.test.ts

# The native posix board (boards/posix/build/wasmip-<app>): wasm2c + gcc -O2, ~25 s from clean, the
# Cortex-M3 firmware for QEMU's mps2-an385 (boards/mps2-an385/build/wasmip-<app>.elf), and the WAMR
# board (boards/wamr/build/wasmip-wamr{,-classic}: WAMR from source, WAMR_ROOT=/path/to/WAMR-2.4.5,
# ~1 min from clean), so not part of build; test builds them before the host suite (whose posix and
# mps2 tests need them). wamr-images: the Cortex-M3 under WAMR (fast, classic, AOT), whose wamrc
# is built against Debian's LLVM first (6 to 16 min from clean here: boards/mps2-an385/README.md).
boards: build sysdeps
	$(MAKE) -C boards/posix -j4
	$(MAKE) -C boards/mps2-an385 -j2
	$(MAKE) -C boards/mps2-an385 -j2 wamr-images $(if $(WAMR_ROOT),WAMR_ROOT=$(abspath $(WAMR_ROOT)))
	$(MAKE) -C boards/wamr -j2 $(if $(WAMR_ROOT),WAMR_ROOT=$(abspath $(WAMR_ROOT)))

# The WAMR board's own checks: two instances in one process, and (root) the trap images, each in a
# namespace of its own.
test-wamr: boards
	$(MAKE) -C boards/wamr check check-traps $(if $(WAMR_ROOT),WAMR_ROOT=$(abspath $(WAMR_ROOT)))

# TCP conformance: packetdrill scripts (tests/packetdrill/<area>/*.pkt, from the RFCs) against the
# wasm2c-compiled core through an --so_filename adapter, in virtual time (tests/packetdrill/README.md).
# packetdrill is built from PACKETDRILL_ROOT (copied to build/packetdrill/src); without it the suite
# is skipped, and fails under CI=true.
PACKETDRILL_ROOT ?= ../shared/vendor/packetdrill-2c4001c
test-packetdrill: build/wasmip.wasm sysdeps
	@if [ ! -f '$(PACKETDRILL_ROOT)/packetdrill.h' ]; then \
	  echo "test-packetdrill: no packetdrill source at PACKETDRILL_ROOT=$(PACKETDRILL_ROOT)" >&2; \
	  if [ "$$CI" = true ]; then exit 1; fi; echo "test-packetdrill: skipped (set PACKETDRILL_ROOT)" >&2; exit 0; \
	fi; \
	$(MAKE) -C tests/packetdrill/adapter -j2 PACKETDRILL_ROOT=$(abspath $(PACKETDRILL_ROOT)) && JOBS=2 bash tests/packetdrill/run.sh

# The ESP32 board's C (no ESP-IDF here): compiled against stub ESP-IDF headers and WAMR's real
# wasm_export.h for several menuconfig choices; bad choices must stop with their message.
test-esp32: boards
	$(MAKE) -C boards/esp32 stub-check

# make flash BOARD=esp32 PORT=/dev/ttyUSB0: idf.py build flash (boards/esp32/Makefile says what is
# missing when ESP-IDF is not set up).
BOARD ?= esp32
PORT ?= /dev/ttyUSB0
flash:
	@$(MAKE) --no-print-directory -C boards/$(BOARD) check-idf
	$(MAKE) build
	$(MAKE) -C boards/$(BOARD) flash PORT=$(PORT)

# Fuzzing (fuzz/README.md): libFuzzer targets over the wasm2c-compiled debug core. `make fuzz`
# runs each target for FUZZ_SECONDS (corpus kept in build/fuzz/corpus) and fails on any crash;
# fuzz-smoke is the short run make test does (fresh corpus, then the regression inputs).
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_JOBS ?= 2

# The fuzz image: the debug core with the http app, whose buffers need a second page (as build/http.wasm),
# IPv6 (its input is fuzzed too: the captures carry the kernel's RS, NS and MLD frames), and the
# services the mdns, mqtt and sntp targets drive (multicast, mDNS, the MQTT client; SNTP is default).
FUZZ_USE := WASMIP_IPV6=1 WASMIP_MULTICAST=1 WASMIP_MDNS=1 WASMIP_MQTT=1
build/fuzz.debug.wasm: assembly/firmware/fuzz.ts $(AS_SOURCES) asconfig.json node_modules/.package-lock.json scripts/ascii-literals.mjs
	@mkdir -p build
	$(BIN)/asc $< --target debug -o $@ --textFile build/fuzz.debug.wat $(ASC_FLAGS) --initialMemory 2 --maximumMemory 2 $(foreach u,$(FUZZ_USE),--use $(u))

fuzz-build: build/fuzz.debug.wasm sysdeps
	$(MAKE) -C fuzz

fuzz: fuzz-build
	FUZZ_JOBS=$(FUZZ_JOBS) bash fuzz/run.sh fuzz $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	FUZZ_JOBS=$(FUZZ_JOBS) bash fuzz/run.sh smoke $(FUZZ_SMOKE_SECONDS)

# The seed corpus from the checked-in captures; fuzz-capture refreshes the captures (root).
fuzz-corpus: deps
	$(TSX) fuzz/corpus.ts

fuzz-capture: deps build host-tools sysdeps
	$(TSX) fuzz/capture.ts
	$(TSX) fuzz/corpus.ts

test: deps build sysdeps typecheck test-as boards test-packetdrill test-wamr test-esp32 fuzz-smoke test-host

# make bench: size, memory, CPU per byte (callgrind) and throughput against lwIP and the kernel,
# in one run (bench/README.md): ~2 minutes once built, BENCH_QUICK=1 ~1 minute. Results in bench/results/.
bench: deps build host-tools sysdeps boards
	$(TSX) bench/bench.ts $(if $(filter 1,$(BENCH_QUICK)),--quick)

clean:
	rm -rf build
