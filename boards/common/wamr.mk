# boards/common/wamr.mk - WAMR (WebAssembly Micro Runtime) built from source, out of tree, the way
# the WAMR boards run the firmware: interpreter only (no AOT, no JIT), no SIMD, no WASI, no libc
# (the images import only phy.*), no pthread library, software bounds checks as on a
# microcontroller, and no write to the GS base (so valgrind can run it). WAMR prints its own
# messages through wasmip_wamr_vprintf (boards/common/wasmip_wamr.c: to stderr), so a program
# linking one of these libraries links wasmip_wamr.c too (or defines that function).
#
# Include it from any directory, with ROOT set to the repository's top first:
#   ROOT := ../..
#   include $(ROOT)/boards/common/wamr.mk
#   prog: main.o $(call wamr_lib,fast-x86_64)
#   main.o: CFLAGS += $(WAMR_CFLAGS) $(call wamr_arch_flags,fast-x86_64)
#
# A variant is <interp>-<arch>[-anything]: interp fast|classic|aot (aot: the AOT loader and no
# interpreter), arch x86_64|x86_32 (-m32; such a program runs under qemu-i386 on a kernel without
# 32-bit support) or thumbv7m (a Cortex-M3 with no OS: arm-none-eabi-gcc, -Os, WAMR's platform
# layer in wamr-nos/, built through wamr-nos/CMakeLists.txt). Its static library is
# $(WAMR_OUT)/<variant>/libiwasm.a (CMake's build directory). Extra CMake flags: WAMR_CMAKE_EXTRA
# for every variant, WAMR_EXTRA_<variant> for one. More variants: name them in WAMR_EXTRA_VARIANTS
# before the include, e.g. WAMR_EXTRA_VARIANTS := fast-x86_64-prof with
# WAMR_EXTRA_fast-x86_64-prof := -DWAMR_BUILD_PERF_PROFILING=1 -DWAMR_BUILD_CUSTOM_NAME_SECTION=1.
#
# WAMR_ROOT: a checkout of tag WAMR-2.4.5 (any 2.x >= 2.2 should do). WAMR's CMake configure
# writes core/version.h(.tmp) into the source tree, so a read-only tree is copied to
# $(WAMR_OUT)/src first.

ifndef ROOT
$(error wamr.mk: set ROOT (the repository's top) before including it)
endif

WAMR_ROOT ?= $(ROOT)/../shared/vendor/wamr-2.4.5
WAMR_ROOT_ABS := $(abspath $(WAMR_ROOT))
WAMR_OUT ?= $(abspath $(ROOT))/build/wamr
WAMR_VARIANTS := fast-x86_64 classic-x86_64 fast-x86_32 classic-x86_32
# The Cortex-M3 board's (boards/mps2-an385 RUNTIME=wamr-*), not part of wamr-libs.
WAMR_THUMB_VARIANTS := fast-thumbv7m classic-thumbv7m aot-thumbv7m
CMAKE ?= cmake

# Where CMake configures from: the tree itself if writable, else our copy. Root passes test -w on
# a read-only tree, so its mode must allow writing too.
WAMR_WRITABLE := $(shell test -w '$(WAMR_ROOT_ABS)/core' && find '$(WAMR_ROOT_ABS)/core' -maxdepth 0 -perm -u=w | grep -q . && echo 1)
ifeq ($(WAMR_WRITABLE),1)
WAMR_SRC := $(WAMR_ROOT_ABS)
WAMR_SRC_STAMP := $(WAMR_ROOT_ABS)/core/version.h.in
else
WAMR_SRC := $(WAMR_OUT)/src
WAMR_SRC_STAMP := $(WAMR_OUT)/src/.copied
endif

# Headers for code that calls WAMR: wasm_export.h (and, through it, core/version.h, which the glue
# checks). Put them first on the include path.
WAMR_CFLAGS := -I$(WAMR_SRC)/core/iwasm/include
WAMR_LDLIBS := -lm -ldl -lpthread
# WAMR's invokeNative assembly has no .note.GNU-stack: keep the stack non-executable anyway.
WAMR_LDFLAGS := -Wl,-z,noexecstack

wamr_interp = $(word 1,$(subst -, ,$(1)))
wamr_arch = $(word 2,$(subst -, ,$(1)))
wamr_lib = $(WAMR_OUT)/$(1)/libiwasm.a
# Compile and link flags a program built against this variant needs.
wamr_arch_flags = $(if $(filter x86_32,$(call wamr_arch,$(1))),-m32)

WAMR_CMAKE_COMMON := -DWAMR_BUILD_JIT=0 -DWAMR_BUILD_FAST_JIT=0 \
  -DWAMR_BUILD_SIMD=0 -DWAMR_BUILD_LIBC_BUILTIN=0 -DWAMR_BUILD_LIBC_WASI=0 \
  -DWAMR_BUILD_LIB_PTHREAD=0 -DWAMR_BUILD_LIB_WASI_THREADS=0 -DWAMR_BUILD_THREAD_MGR=0 \
  -DWAMR_BUILD_MULTI_MODULE=0 -DWAMR_BUILD_SHARED_MEMORY=0 -DWAMR_BUILD_MEMORY64=0 \
  -DWAMR_BUILD_BULK_MEMORY=1 -DWAMR_BUILD_REF_TYPES=0 -DWAMR_BUILD_TAIL_CALL=0 \
  -DWAMR_BUILD_MINI_LOADER=0 -DWAMR_DISABLE_HW_BOUND_CHECK=1 -DWAMR_DISABLE_STACK_HW_BOUND_CHECK=1 \
  -DWAMR_DISABLE_WRITE_GS_BASE=1

# The Cortex-M3 (no OS): cross-compiled with the board's flags; WAMR's messages go through the
# platform's os_printf to the board's console (wasmip_nos_write), so no BH_VPRINTF. The target
# name is the one wamrc writes into an AOT image for --target=thumbv7 (the loader compares them):
# WAMR's Thumb code is the same for every v7 profile.
WAMR_CROSS ?= arm-none-eabi-
WAMR_THUMB_FLAGS := -mthumb -mcpu=cortex-m3 -ffunction-sections -fdata-sections
WAMR_CMAKE_THUMBV7M := -DCMAKE_SYSTEM_NAME=Generic -DCMAKE_SYSTEM_PROCESSOR=arm \
  -DCMAKE_C_COMPILER=$(WAMR_CROSS)gcc -DCMAKE_ASM_COMPILER=$(WAMR_CROSS)gcc \
  -DCMAKE_TRY_COMPILE_TARGET_TYPE=STATIC_LIBRARY -DCMAKE_BUILD_TYPE=MinSizeRel \
  -DWAMR_ROOT_DIR=$(WAMR_SRC) -DWAMR_BUILD_TARGET=THUMBV7 \
  '-DCMAKE_C_FLAGS=$(WAMR_THUMB_FLAGS)' '-DCMAKE_ASM_FLAGS=$(WAMR_THUMB_FLAGS)'

# The classic interpreter looks up where each block ends in a per-exec-env cache (BLOCK_ADDR_CACHE_SIZE
# sets, 2 ways) and scans the bytecode on a miss. WAMR's default of 64 sets thrashes on the core's
# per-segment path: 60% of classic's instructions went to wasm_loader_find_block_addr. The set is
# the block's code address modulo the size, so the figure moves with code layout: the twin's
# rescans cost 14 to 32 instructions per byte with 512 sets as unrelated code changed; 1024 left
# 1.7 on one layout and 12.9 on the next, where 2048 leaves 0.65 (make bench cpu; 256 sets: 60).
# 2048 sets take 48 KiB per exec env on a 32-bit target (96 KiB on x86-64).
WAMR_CLASSIC_BLOCK_CACHE ?= 2048
wamr_classic_defs = $(if $(filter classic,$(call wamr_interp,$(1))),$(if $(filter thumbv7m,$(call wamr_arch,$(1))),'-DCMAKE_C_FLAGS_MINSIZEREL=-Os -DNDEBUG -DBLOCK_ADDR_CACHE_SIZE=$(WAMR_CLASSIC_BLOCK_CACHE)','-DCMAKE_C_FLAGS_RELEASE=-O3 -DNDEBUG -DBLOCK_ADDR_CACHE_SIZE=$(WAMR_CLASSIC_BLOCK_CACHE)'))

# Where CMake configures a variant from: WAMR's own top, or wamr-nos/ for the Cortex-M3.
wamr_cmake_src = $(if $(filter thumbv7m,$(call wamr_arch,$(1))),$(abspath $(ROOT))/boards/common/wamr-nos,$(WAMR_SRC))

# The CMake flags of one variant.
wamr_cmake_flags = $(WAMR_CMAKE_COMMON) \
  -DWAMR_BUILD_INTERP=$(if $(filter aot,$(call wamr_interp,$(1))),0,1) \
  -DWAMR_BUILD_AOT=$(if $(filter aot,$(call wamr_interp,$(1))),1,0) \
  -DWAMR_BUILD_FAST_INTERP=$(if $(filter fast,$(call wamr_interp,$(1))),1,0) \
  $(if $(filter thumbv7m,$(call wamr_arch,$(1))),$(WAMR_CMAKE_THUMBV7M),-DCMAKE_BUILD_TYPE=Release -DWAMR_BUILD_PLATFORM=linux -DWAMR_BH_VPRINTF=wasmip_wamr_vprintf) \
  $(if $(filter x86_32,$(call wamr_arch,$(1))),-DWAMR_BUILD_TARGET=X86_32 -DCMAKE_C_FLAGS=-m32 -DCMAKE_ASM_FLAGS=-m32,$(if $(filter x86_64,$(call wamr_arch,$(1))),-DWAMR_BUILD_TARGET=X86_64)) \
  $(call wamr_classic_defs,$(1)) $(WAMR_CMAKE_EXTRA) $(WAMR_EXTRA_$(1))

# Keep the includer's default goal: these rules come before its own.
wamr_saved_goal := $(.DEFAULT_GOAL)

.PHONY: wamr-libs wamr-clean
wamr-libs: $(foreach v,$(WAMR_VARIANTS),$(call wamr_lib,$(v)))
wamr-clean:
	rm -rf $(WAMR_OUT)

$(WAMR_OUT)/src/.copied: $(WAMR_ROOT_ABS)/core/version.h $(WAMR_ROOT_ABS)/build-scripts/runtime_lib.cmake
	@test -f '$(WAMR_ROOT_ABS)/build-scripts/runtime_lib.cmake' || { echo "wamr.mk: $(WAMR_ROOT_ABS) is not a WAMR tree: clone tag WAMR-2.4.5 of https://github.com/bytecodealliance/wasm-micro-runtime and pass WAMR_ROOT=<it>" >&2; exit 1; }
	rm -rf $(WAMR_OUT)/src
	mkdir -p $(WAMR_OUT)/src
	cp -R '$(WAMR_ROOT_ABS)/.' $(WAMR_OUT)/src/
	chmod -R u+w $(WAMR_OUT)/src
	echo '$(WAMR_ROOT_ABS)' > $@

# Copied again when WAMR_ROOT names another tree.
ifneq ($(shell cat '$(WAMR_OUT)/src/.copied' 2>/dev/null),$(WAMR_ROOT_ABS))
$(WAMR_OUT)/src/.copied: wamr-force
endif

$(WAMR_ROOT_ABS)/core/version.h $(WAMR_ROOT_ABS)/build-scripts/runtime_lib.cmake:
	@echo "wamr.mk: $@ not found: WAMR_ROOT=$(WAMR_ROOT) is not a WAMR tree (clone tag WAMR-2.4.5 of https://github.com/bytecodealliance/wasm-micro-runtime and pass WAMR_ROOT=<it>)" >&2; exit 1

# Configure once per variant (again when this file changes); CMake then rebuilds what changed
# (it always runs: an unchanged library keeps its time, so nothing relinks).
define wamr_variant_rules
$(WAMR_OUT)/$(1)/CMakeCache.txt: $(WAMR_SRC_STAMP) $(ROOT)/boards/common/wamr.mk $(if $(filter thumbv7m,$(call wamr_arch,$(1))),$(wildcard $(ROOT)/boards/common/wamr-nos/*))
	@command -v $(CMAKE) >/dev/null || { echo "wamr.mk: cmake not found (scripts/install-deps.sh as root, or apt-get install cmake)" >&2; exit 1; }
	rm -rf $(WAMR_OUT)/$(1)
	mkdir -p $(WAMR_OUT)
	$(CMAKE) -S $(call wamr_cmake_src,$(1)) -B $(WAMR_OUT)/$(1) $(call wamr_cmake_flags,$(1)) > $(WAMR_OUT)/$(1).configure.log 2>&1 || { cat $(WAMR_OUT)/$(1).configure.log >&2; exit 1; }

$(call wamr_lib,$(1)): $(WAMR_OUT)/$(1)/CMakeCache.txt wamr-force
	@$(CMAKE) --build $(WAMR_OUT)/$(1) --target vmlib > $(WAMR_OUT)/$(1).build.log 2>&1 || { cat $(WAMR_OUT)/$(1).build.log >&2; exit 1; }
	@grep -q 'Linking' $(WAMR_OUT)/$(1).build.log && echo "wamr.mk: built $$@" || true
endef
.PHONY: wamr-force
wamr-force:
$(foreach v,$(sort $(WAMR_VARIANTS) $(WAMR_THUMB_VARIANTS) $(WAMR_EXTRA_VARIANTS)),$(eval $(call wamr_variant_rules,$(v))))

# Configured again when the source tree changed (another WAMR_ROOT).
$(foreach v,$(sort $(WAMR_VARIANTS) $(WAMR_THUMB_VARIANTS) $(WAMR_EXTRA_VARIANTS)),$(if $(shell grep -qx 'CMAKE_HOME_DIRECTORY:INTERNAL=$(call wamr_cmake_src,$(v))' '$(WAMR_OUT)/$(v)/CMakeCache.txt' 2>/dev/null && echo same),,$(eval $(WAMR_OUT)/$(v)/CMakeCache.txt: wamr-force)))

.DEFAULT_GOAL := $(wamr_saved_goal)
