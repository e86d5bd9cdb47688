/*
 * rt_w2c.c - RUNTIME=wasm2c: the image translated by wasm2c (stack.c, module "stack") on the
 * static runtime (boards/common/wasm_rt_static.c): the module is C compiled into the firmware,
 * its linear memory the static .wasm_memory buffer. See board_rt.h.
 */
#include "wasmip_w2c.h" /* stack.h, wasm-rt-impl.h, wasmip_board.h; defines the phy.* imports */

#include "board_rt.h"

extern const uint32_t wasm_rt_static_memory_bytes; /* wasm_rt_static.c */

const char board_rt_name[] = "wasm2c";

static Z_stack_instance_t inst;
static struct Z_phy_instance_t phy;

int board_rt_load(wasmip_board_t *b, wasmip_runtime_t *rt, const char **why) {
  (void)why;
  phy.board = b;
  wasm_rt_init();
  Z_stack_init_module();
  Z_stack_instantiate(&inst, &phy);
  *rt = wasmip_w2c_runtime(&inst);
  return 0;
}

void board_rt_memory(uint32_t *size, uint32_t *reserved) {
  wasmip_w2c_memory(&inst, size);
  *reserved = wasm_rt_static_memory_bytes;
}

void board_rt_stats(void) {}

/* The static runtime hit one of its limits (wasm_rt_static.c). */
WASM_RT_NO_RETURN void wasm_rt_static_fatal(const char *msg) { board_fatal(msg); }
