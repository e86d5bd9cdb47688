# wasmip: `make run` (the simulated demo) and `make test` (every test) set themselves up.
SHELL := /bin/bash
BIN := node_modules/.bin
AS_SOURCES := $(shell find assembly -name '*.ts' -not -path '*/__tests__/*')
TSX := node --import tsx

.PHONY: all run test tap deps sysdeps build typecheck test-as test-host clean boards flash

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

build: build/wasmip.wasm build/wasmip.debug.wasm $(APP_WASM) build/tap-bridge

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

test: deps build sysdeps typecheck test-as boards test-host

clean:
	rm -rf build
