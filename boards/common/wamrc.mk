# boards/common/wamrc.mk - wamrc, WAMR's ahead-of-time compiler (WAMR_ROOT's wamr-compiler/), built
# out of tree under build/wamrc against Debian's LLVM (llvm-19-dev, scripts/install-deps.sh) with
# -DWAMR_BUILD_WITH_CUSTOM_LLVM=1: no LLVM is downloaded or built. Include after wamr.mk (it
# needs WAMR_SRC, the configured WAMR tree):
#   include $(ROOT)/boards/common/wamr.mk
#   include $(ROOT)/boards/common/wamrc.mk
#   x.aot: x.wasm $(WAMRC) ; $(WAMRC) $(WAMRC_THUMBV7M_FLAGS) -o $@ $<
# Slow: LLVM's headers make every file heavy (16 min on this loaded 2-core machine, load 16).

ifndef WAMR_SRC
$(error wamrc.mk: include boards/common/wamr.mk first)
endif

WAMRC_LLVM_DIR ?= /usr/lib/llvm-19/lib/cmake/llvm
WAMRC_OUT ?= $(abspath $(ROOT))/build/wamrc
WAMRC := $(WAMRC_OUT)/wamrc
WAMRC_JOBS ?= 2

# A Cortex-M3 (ARMv7-M, Thumb-2, no FPU), execute in place: --xip is --enable-indirect-mode
# --disable-llvm-intrinsics (wamrc --help): calls to the runtime and 64-bit/float helpers go
# through a table the runtime fills, so the code needs no relocation and runs from flash; the
# runtime supplies the helpers (core/iwasm/aot/aot_intrinsic.c). Software bounds checks, as the
# interpreters do on a microcontroller (no MMU to trap on).
# (wamrc's target list has no thumbv7m: thumbv7 with the cpu, whose features make it ARMv7-M.)
WAMRC_THUMBV7M_FLAGS := --target=thumbv7 --cpu=cortex-m3 --target-abi=eabi --xip --bounds-checks=1

# Not rebuilt when this file changes (only the flags below live here: the images depend on it).
$(WAMRC_OUT)/CMakeCache.txt: $(WAMR_SRC_STAMP)
	@test -f '$(WAMRC_LLVM_DIR)/LLVMConfig.cmake' || { echo "wamrc.mk: $(WAMRC_LLVM_DIR)/LLVMConfig.cmake not found: install llvm-19-dev (scripts/install-deps.sh as root) or pass WAMRC_LLVM_DIR" >&2; exit 1; }
	rm -rf $(WAMRC_OUT)
	mkdir -p $(WAMRC_OUT)
	$(CMAKE) -S $(WAMR_SRC)/wamr-compiler -B $(WAMRC_OUT) -DCMAKE_BUILD_TYPE=Release \
	  -DWAMR_BUILD_WITH_CUSTOM_LLVM=1 -DLLVM_DIR=$(WAMRC_LLVM_DIR) > $(WAMRC_OUT).configure.log 2>&1 \
	  || { cat $(WAMRC_OUT).configure.log >&2; exit 1; }

$(WAMRC): $(WAMRC_OUT)/CMakeCache.txt
	$(CMAKE) --build $(WAMRC_OUT) --target wamrc -j $(WAMRC_JOBS) > $(WAMRC_OUT).build.log 2>&1 || { cat $(WAMRC_OUT).build.log >&2; exit 1; }
	@touch $@
