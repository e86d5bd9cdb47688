/*
 * wasmip_wamr.h - the glue between WAMR (WebAssembly Micro Runtime >= 2.2, interpreter) and the
 * shared board code, for every WAMR board (boards/wamr on Linux, boards/esp32, benchmarks):
 *   - WAMR's allocator over a caller's pool (Alloc_With_Pool) and the phy.* natives, registered
 *     once per process, with "*~" (pointer + length) signatures so WAMR checks every buffer the
 *     core hands over against its linear memory before the native sees a pointer;
 *   - loading and instantiating an image for one board, its exports resolved and checked once;
 *   - the wasmip_runtime_t (call, memory, trap_message, call_export, has_export) that
 *     wasmip_board.c drives.
 * Several instances may live in one process (each with its own board): a native finds its board
 * through the module instance's custom data, never through a global. Everything that touches one
 * instance must run in one thread (WAMR's exec env records that thread's native stack bounds).
 *
 *   static uint8_t pool[320 * 1024]; (the http image needs 242 KiB with the fast interpreter on
 *                                      x86-64, 66 KiB with the classic one: boards/wamr/README.md)
 *   wasmip_wamr_init(pool, sizeof pool);
 *   static wasmip_wamr_t w; static wasmip_board_t board;
 *   if (wasmip_wamr_load(&w, image, image_len, &board, 16 * 1024)) puts(w.error);
 *   wasmip_board_setup(&board, &w.rt, &port);  ... wasmip_board_start(), wasmip_board_run()
 */
#ifndef WASMIP_WAMR_H
#define WASMIP_WAMR_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "wasm_export.h"
#include "wasmip_board.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Once per process: WAMR's allocator over pool (Alloc_With_Pool), the phy.* natives registered. 0, or -1. */
int wasmip_wamr_init(void *pool, uint32_t pool_size);
void wasmip_wamr_destroy(void);

typedef struct {
  wasm_module_t module;
  wasm_module_inst_t inst;
  wasm_exec_env_t env;
  wasm_function_inst_t fns[WASMIP_FN_COUNT];
  wasmip_runtime_t rt;   /* give &w->rt to wasmip_board_setup() */
  char error[128];
} wasmip_wamr_t;

/* Load and instantiate an image for this board (its phy.* imports reach board). buf must stay
 * valid (and writable, WAMR's loader may patch it) while loaded. 0, or -1 with w->error set.
 * One buffer per loaded image: two instances of one image need two copies of it. stack_size is
 * the wasm operand/frame stack of the instance, in bytes. Not reentrant (one load at a time). */
int wasmip_wamr_load(wasmip_wamr_t *w, uint8_t *buf, uint32_t len, wasmip_board_t *board, uint32_t stack_size);
/* The same for an image in read-only memory (flash) that stays there: WAMR copies into its pool
 * what it would patch in the buffer (names, data segments), and an AOT image compiled for
 * execute-in-place (wamrc --xip) runs its code from buf. Not for the classic interpreter, which
 * rewrites the bytecode it runs in place: give it a RAM copy through wasmip_wamr_load. */
int wasmip_wamr_load_const(wasmip_wamr_t *w, const uint8_t *buf, uint32_t len, wasmip_board_t *board, uint32_t stack_size);
void wasmip_wamr_unload(wasmip_wamr_t *w);

/* The pool's peak use so far (wasm_runtime_get_mem_alloc_info highmark), and its total. */
int wasmip_wamr_pool_stats(uint32_t *highmark, uint32_t *total);

/* ---- additions ---- */

/* The pool's bytes in use now (total - free). 0, or -1. */
int wasmip_wamr_pool_used(uint32_t *used);

/* The module's linear memory size in bytes now (0 before load). */
uint32_t wasmip_wamr_memory_size(const wasmip_wamr_t *w);

/* wamr.mk builds WAMR with BH_VPRINTF=wasmip_wamr_vprintf: WAMR's own messages go to stderr,
 * never into a board's stdout (which a harness parses). Defined in wasmip_wamr.c. */
int wasmip_wamr_vprintf(const char *format, va_list ap);

#ifdef __cplusplus
}
#endif
#endif /* WASMIP_WAMR_H */
