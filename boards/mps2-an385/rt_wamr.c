/*
 * rt_wamr.c - RUNTIME=wamr-fast|wamr-classic|wamr-aot: the image embedded in flash (image.S:
 * the .wasm, or wamrc's XIP AOT image) run by WAMR 2.4.5 on its no-OS platform layer
 * (boards/common/wamr-nos), through the same glue as the Linux and ESP32 WAMR boards
 * (boards/common/wasmip_wamr.c). Everything WAMR allocates (module, instance, operand stack,
 * linear memory) comes from one static pool (.wamr_pool); its peak is printed by 's'.
 *   fast, aot: loaded from flash as it is (wasmip_wamr_load_const: WAMR copies the names and data
 *              segments it would patch; the AOT code executes in place, from flash);
 *   classic:   its loader rewrites the bytecode it then runs, so the image is copied into the
 *              pool first (flash is read-only here: the MPU faults any write to it).
 */
#include <stddef.h>
#include <string.h>

#include "board_rt.h"
#include "console.h"
#include "mps2.h"
#include "wasmip_wamr.h"

#ifndef WASMIP_WAMR_KIND
#error "define WASMIP_WAMR_KIND: 1 fast, 2 classic, 3 aot (the Makefile does)"
#endif
#ifndef WASMIP_WAMR_POOL_BYTES
#define WASMIP_WAMR_POOL_BYTES (256u * 1024u)
#endif
/* The instance's wasm operand and frame stack (in the pool), bytes. */
#ifndef WASMIP_WAMR_STACK_BYTES
#define WASMIP_WAMR_STACK_BYTES (16u * 1024u)
#endif

#if WASMIP_WAMR_KIND == 1
const char board_rt_name[] = "wamr-fast";
#elif WASMIP_WAMR_KIND == 2
const char board_rt_name[] = "wamr-classic";
#else
const char board_rt_name[] = "wamr-aot";
#endif

extern const uint8_t wasmip_image[], wasmip_image_end[]; /* image.S */
extern uint32_t __stack_bottom[];                       /* mps2-an385.ld */

static uint8_t pool[WASMIP_WAMR_POOL_BYTES] __attribute__((section(".wamr_pool"), aligned(8)));
static wasmip_wamr_t w;

int board_rt_load(wasmip_board_t *b, wasmip_runtime_t *rt, const char **why) {
  uint32_t len = (uint32_t)(wasmip_image_end - wasmip_image);
  if (wasmip_wamr_init(pool, sizeof pool) != 0) {
    *why = "wasm_runtime_full_init failed";
    return -1;
  }
#if WASMIP_WAMR_KIND == 2
  uint8_t *copy = wasm_runtime_malloc(len);
  if (!copy) {
    *why = "the pool cannot hold a copy of the image (WASMIP_WAMR_POOL_BYTES)";
    return -1;
  }
  memcpy(copy, wasmip_image, len);
  int rc = wasmip_wamr_load(&w, copy, len, b, WASMIP_WAMR_STACK_BYTES);
#else
  int rc = wasmip_wamr_load_const(&w, wasmip_image, len, b, WASMIP_WAMR_STACK_BYTES);
#endif
  if (rc != 0) {
    *why = w.error;
    return -1;
  }
  *rt = w.rt;
  return 0;
}

void board_rt_memory(uint32_t *size, uint32_t *reserved) {
  *size = wasmip_wamr_memory_size(&w);
  *reserved = *size; /* WAMR allocates what the module asks (initial pages); memory.grow takes more from the pool */
}

void board_rt_stats(void) {
  uint32_t high = 0, total = 0, used = 0;
  wasmip_wamr_pool_stats(&high, &total);
  wasmip_wamr_pool_used(&used);
  console_puts("wamr:\n  pool_size ");
  console_put_u32(total);
  console_puts(" pool_used ");
  console_put_u32(used);
  console_puts(" pool_peak ");
  console_put_u32(high);
  console_puts(" image_bytes ");
  console_put_u32((uint32_t)(wasmip_image_end - wasmip_image));
  console_puts("\n");
}

/* ---- what WAMR's no-OS platform layer asks of the board (wamr-nos/platform_internal.h) ---- */

uint64_t wasmip_nos_boot_us(void) { return board_boot_us(); }

void wasmip_nos_write(const char *s, size_t n) {
  /* WAMR's messages become lines of their own ("wamr: ..."), never mixed into the protocol. */
  static int at_line_start = 1;
  for (size_t i = 0; i < n; i++) {
    if (at_line_start) console_puts("wamr: ");
    char c = s[i] == '\n' || (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    console_write(&c, 1);
    at_line_start = c == '\n';
  }
}

/* WAMR checks the native stack against this (plus its own guard), so a runaway recursion in
 * AOT code is a wasm trap ("native stack overflow"), not the MPU guard's fault (mps2.test.ts). */
uint8_t *wasmip_nos_stack_boundary(void) { return (uint8_t *)__stack_bottom + 32u; }

/* newlib's vsnprintf (WAMR's messages) links malloc for the stream case it never takes here:
 * this board has no heap, so an allocation would fail rather than grow into the stack. */
void *_sbrk(ptrdiff_t incr) {
  (void)incr;
  return (void *)-1;
}
