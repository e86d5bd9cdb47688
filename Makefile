# wasmip: `make run` (the simulated demo) and `make test` (every test) set themselves up.
SHELL := /bin/bash
BIN := node_modules/.bin
AS_SOURCES := $(shell find assembly -name '*.ts' -not -path '*/__tests__/*' -not -path '*/testing/*')
TSX := node --import tsx

.PHONY: all run test tap deps sysdeps build typecheck test-as test-host test-wamr test-esp32 clean boards flash bench docs bench-fleet bench-loopback fuzz fuzz-build fuzz-smoke fuzz-corpus fuzz-capture

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
# Release images then go through the newer binaryen of the `binaryen` package once more (asc's own
# is older): about 500 bytes smaller. Only features the module already uses are enabled.
# bench/lib.ts (ASC_TRANSFORM, WASM_OPT_FLAGS) builds its variants the same way.
WASM_OPT_FLAGS := -Oz --converge --enable-bulk-memory --enable-sign-ext --enable-mutable-globals
shrink = $(BIN)/wasm-opt $(1) $(WASM_OPT_FLAGS) -o $(1)

build/wasmip.wasm: $(AS_SOURCES) asconfig.json node_modules/.package-lock.json scripts/ascii-literals.mjs
	@mkdir -p build
	$(BIN)/asc assembly/index.ts --target release $(ASC_FLAGS)
	$(call shrink,$@)

# The debug build: assertions on, and debug_check() (assembly/debug.ts) for the internal invariants.
build/wasmip.debug.wasm: $(AS_SOURCES) asconfig.json node_modules/.package-lock.json scripts/ascii-literals.mjs
	@mkdir -p build
	$(BIN)/asc assembly/debug.ts --target debug $(ASC_FLAGS)

# Firmware images: the core plus one app (assembly/firmware/<app>.ts), same options as release.
# Linear memory is pinned (initial = maximum): one 64 KiB page, as asconfig.json says, unless the
# app's own buffers need more (asc refuses with AS105 when an image does not fit).
APPS := greeter http echo bulk udp-echo fetch bench
APP_WASM := $(APPS:%=build/%.wasm)
PAGES_http := 2
PAGES_bulk := 2
app_pages = $(if $(PAGES_$(1)),--initialMemory $(PAGES_$(1)) --maximumMemory $(PAGES_$(1)))

$(APP_WASM): build/%.wasm: assembly/firmware/%.ts $(AS_SOURCES) asconfig.json node_modules/.package-lock.json scripts/ascii-literals.mjs
	@mkdir -p build
	$(BIN)/asc $< --target release -o $@ --textFile build/$*.wat $(ASC_FLAGS) $(call app_pages,$*)
	$(call shrink,$@)

# Example apps (examples/<app>/, the template a firmware author copies): the same kind of image,
# built from examples/<app>/firmware.ts to build/<app>.wasm; their as-pect tests run in test-as.
EXAMPLES := sensor
EXAMPLE_WASM := $(EXAMPLES:%=build/%.wasm)
EXAMPLE_SOURCES := $(shell find examples -name '*.ts' -not -path '*/__tests__/*')

$(EXAMPLE_WASM): build/%.wasm: examples/%/firmware.ts $(AS_SOURCES) $(EXAMPLE_SOURCES) asconfig.json node_modules/.package-lock.json scripts/ascii-literals.mjs
	@mkdir -p build
	$(BIN)/asc $< --target release -o $@ --textFile build/$*.wat $(ASC_FLAGS)

build/tap-bridge: host/devices/tap-bridge.c
	@mkdir -p build
	gcc -O2 -Wall -Wextra -o $@ $<

# Sends crafted frames from the kernel's side of a test's tap (the hostile-traffic tests).
build/pkt-inject: host/devices/pkt-inject.c
	@mkdir -p build
	gcc -O2 -Wall -Wextra -o $@ $<

build: build/wasmip.wasm build/wasmip.debug.wasm $(APP_WASM) $(EXAMPLE_WASM) build/tap-bridge build/pkt-inject

run: deps build
	$(TSX) host/cli.ts sim --pcap build/demo.pcap

# The README's ladder diagram: the TCP connection of make run's capture (A to the greeter on G).
docs: run
	@mkdir -p docs
	$(TSX) host/cli.ts ladder build/demo.pcap -o docs/handshake.svg

# Boards per process and simulated seconds per wall second at 10, 50 and 200 boards (bench/fleet.ts).
bench-fleet: deps build
	$(TSX) bench/fleet.ts

# Loopback throughput in the harness (client and server on one board over 127.0.0.1) next to the
# same transfer between two boards, in one run (bench/loopback.ts).
bench-loopback: deps build
	$(TSX) bench/loopback.ts

tap: deps build sysdeps
	$(TSX) host/cli.ts tap

typecheck: deps
	$(BIN)/tsc --noEmit -p tsconfig.json

test-as: deps
	$(BIN)/asp --config as-pect.config.js

test-host: deps build sysdeps
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

# The fuzz image: the debug core with the http app, whose buffers need a second page (as build/http.wasm).
build/fuzz.debug.wasm: assembly/firmware/fuzz.ts $(AS_SOURCES) asconfig.json node_modules/.package-lock.json scripts/ascii-literals.mjs
	@mkdir -p build
	$(BIN)/asc $< --target debug -o $@ --textFile build/fuzz.debug.wat $(ASC_FLAGS) $(call app_pages,http)

fuzz-build: build/fuzz.debug.wasm sysdeps
	$(MAKE) -C fuzz

fuzz: fuzz-build
	FUZZ_JOBS=$(FUZZ_JOBS) bash fuzz/run.sh fuzz $(FUZZ_SECONDS)

fuzz-smoke: fuzz-build
	FUZZ_JOBS=$(FUZZ_JOBS) bash fuzz/run.sh smoke $(FUZZ_SMOKE_SECONDS)

# The seed corpus from the checked-in captures; fuzz-capture refreshes the captures (root).
fuzz-corpus: deps
	$(TSX) fuzz/corpus.ts

fuzz-capture: deps build sysdeps
	$(TSX) fuzz/capture.ts
	$(TSX) fuzz/corpus.ts

test: deps build sysdeps typecheck test-as boards test-wamr test-esp32 fuzz-smoke test-host

# make bench: size, memory, CPU per byte (callgrind) and throughput against lwIP and the kernel,
# in one run (bench/README.md): ~2 minutes once built, BENCH_QUICK=1 ~1 minute. Results in bench/results/.
bench: deps build sysdeps boards
	$(TSX) bench/bench.ts $(if $(filter 1,$(BENCH_QUICK)),--quick)

clean:
	rm -rf build
