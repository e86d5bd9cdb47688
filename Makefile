# wasmip: `make run` (the simulated demo) and `make test` (every test) set themselves up.
SHELL := /bin/bash
BIN := node_modules/.bin
AS_SOURCES := $(shell find assembly -name '*.ts' -not -path '*/__tests__/*')
TSX := node --import tsx

.PHONY: all run test tap deps sysdeps build typecheck test-as test-host clean boards flash fuzz fuzz-build fuzz-smoke fuzz-corpus fuzz-capture

all: build

# npm packages exactly as package-lock.json pins them; re-run when the lock file changes.
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

deps: node_modules/.package-lock.json

# Debian packages for the real-peer tests (root only; quiet when all are present).
sysdeps:
	@bash scripts/install-deps.sh

build/wasmip.wasm: $(AS_SOURCES) asconfig.json node_modules/.package-lock.json
	@mkdir -p build
	$(BIN)/asc assembly/index.ts --target release

# The debug build: assertions on, and debug_check() (assembly/debug.ts) for the internal invariants.
build/wasmip.debug.wasm: $(AS_SOURCES) asconfig.json node_modules/.package-lock.json
	@mkdir -p build
	$(BIN)/asc assembly/debug.ts --target debug

# Firmware images: the core plus one app (assembly/firmware/<app>.ts), same options as release.
APPS := greeter http echo bulk udp-echo fetch
APP_WASM := $(APPS:%=build/%.wasm)

$(APP_WASM): build/%.wasm: assembly/firmware/%.ts $(AS_SOURCES) asconfig.json node_modules/.package-lock.json
	@mkdir -p build
	$(BIN)/asc $< --target release -o $@ --textFile build/$*.wat

build/tap-bridge: host/tap-bridge.c
	@mkdir -p build
	gcc -O2 -Wall -Wextra -o $@ $<

# Sends crafted frames from the kernel's side of a test's tap (the hostile-traffic tests).
build/pkt-inject: host/pkt-inject.c
	@mkdir -p build
	gcc -O2 -Wall -Wextra -o $@ $<

build: build/wasmip.wasm build/wasmip.debug.wasm $(APP_WASM) build/tap-bridge build/pkt-inject

run: deps build
	$(TSX) host/cli.ts sim --pcap build/demo.pcap

tap: deps build sysdeps
	$(TSX) host/cli.ts tap

typecheck: deps
	$(BIN)/tsc --noEmit -p tsconfig.json

test-as: deps
	$(BIN)/asp --config as-pect.config.js

test-host: deps build sysdeps
	$(TSX) --test --test-reporter=spec tests/host/*.test.ts

# The native posix board (boards/posix/build/wasmip-<app>): wasm2c + gcc -O2, ~25 s from clean, so
# not part of build; test builds it before the host suite (whose posix-board tests need it).
boards: build sysdeps
	$(MAKE) -C boards/posix -j4

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

build/fuzz.debug.wasm: assembly/firmware/fuzz.ts $(AS_SOURCES) asconfig.json node_modules/.package-lock.json
	@mkdir -p build
	$(BIN)/asc $< --target debug -o $@ --textFile build/fuzz.debug.wat

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

test: deps build sysdeps typecheck test-as boards fuzz-smoke test-host

clean:
	rm -rf build
