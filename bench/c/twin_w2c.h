/*
 * bench/c/twin_w2c.h - the runtime part of bench/c/twin.c for wasm2c: the image translated twice,
 * as modules "snd" and "rcv" (so every function of each side has its own symbol and callgrind can
 * tell the sides apart), compiled with gcc -O2 like boards/posix. Included by twin.c once, after
 * its boards, ports and SND/RCV; provides what twin.c calls a runtime:
 *
 *   TWIN_RUNTIME               a name for the JSON result
 *   SND_CALL(f, args...)       call export f of the sender (RCV_CALL: the receiver); returns u32
 *   rt_memory(side), rt_pages(side)
 *   rt_open(image, stack)      instantiate both sides and set up both boards (image: unused here,
 *                              the image was compiled in); 0 or -1
 *   RT_PHASE(name)             in main(): start a phase; a trap during it ends the run (exit 3)
 *   rt_print_extra()           runtime-specific JSON members (with a leading comma), or nothing
 *   rt_mark(what)              called just before and after bulk_phase (a profile snapshot)
 */
#include "rcv.h"
#include "snd.h"
#include "wasm-rt-impl.h"

#define TWIN_RUNTIME "wasm2c"

struct Z_phy_instance_t {
  wasmip_board_t *board;
  int side;
};

static Z_snd_instance_t snd;
static Z_rcv_instance_t rcv;
static struct Z_phy_instance_t phy[2] = {{&boards[SND], SND}, {&boards[RCV], RCV}};
static wasm_rt_trap_t trap;

/* ---- the runtime table of each side (boards/common calls through it) ---- */

#define DEFINE_RUNTIME(M, INST)                                                                      \
  static uint8_t *M##_memory(void *ctx, uint32_t *size) {                                        \
    wasm_rt_memory_t *m = Z_##M##Z_memory((Z_##M##_instance_t *)ctx);                            \
    *size = (uint32_t)m->size;                                                                   \
    return m->data;                                                                              \
  }                                                                                              \
  /* No wasm_rt_impl_try per call: main() sets one unwind target per phase (a sigsetjmp per     \
   * export call would be a system call each time, and board cost, not core cost). */           \
  static int M##_call(void *ctx, wasmip_fn_t fn, uint32_t *a) {                                  \
    Z_##M##_instance_t *I = ctx;                                                                 \
    switch (fn) {                                                                                \
      case WASMIP_FN_INIT: a[0] = Z_##M##Z_init(I, a[0], a[1], a[2], a[3], a[4]); break;        \
      case WASMIP_FN_SET_IPV4: a[0] = Z_##M##Z_set_ipv4(I, a[0], a[1], a[2]); break;            \
      case WASMIP_FN_RX_BUFFER: a[0] = Z_##M##Z_rx_buffer(I); break;                            \
      case WASMIP_FN_RX_BUFFER_SIZE: a[0] = Z_##M##Z_rx_buffer_size(I); break;                  \
      case WASMIP_FN_INPUT: a[0] = Z_##M##Z_input(I, a[0]); break;                              \
      case WASMIP_FN_POLL: a[0] = Z_##M##Z_poll(I, a[0]); break;                                \
      case WASMIP_FN_COUNTER_COUNT: a[0] = Z_##M##Z_counter_count(I); break;                    \
      case WASMIP_FN_COUNTER: a[0] = Z_##M##Z_counter(I, a[0]); break;                          \
      case WASMIP_FN_COUNTER_NAME: a[0] = Z_##M##Z_counter_name(I, a[0]); break;                \
      case WASMIP_FN_COUNTER_KIND: a[0] = Z_##M##Z_counter_kind(I, a[0]); break;                \
      case WASMIP_FN_MEMORY_USED: a[0] = Z_##M##Z_memory_used(I); break;                        \
      case WASMIP_FN_SET_LOG_LEVEL: Z_##M##Z_set_log_level(I, a[0]); break;                     \
      default: return -1;                                                                        \
    }                                                                                            \
    return 0;                                                                                    \
  }                                                                                              \
  static const char *M##_trap_message(void *ctx) {                                               \
    (void)ctx;                                                                                   \
    return "trap";                                                                               \
  }                                                                                              \
  static const wasmip_runtime_t M##_runtime = {&INST, M##_call, M##_memory, M##_trap_message, NULL, NULL};

DEFINE_RUNTIME(snd, snd)
DEFINE_RUNTIME(rcv, rcv)

/* The phy.* imports of both modules: the instance pointer says which board. */
void Z_phyZ_tx(struct Z_phy_instance_t *p, u32 ptr, u32 len) { wasmip_phy_tx(p->board, wasmip_board_mem(p->board, ptr, len), len); }
u32 Z_phyZ_now_ms(struct Z_phy_instance_t *p) { return wasmip_phy_now_ms(p->board); }
u32 Z_phyZ_random(struct Z_phy_instance_t *p) { return wasmip_phy_random(p->board); }
u32 Z_phyZ_checksum(struct Z_phy_instance_t *p, u32 ptr, u32 len) {
  const uint8_t *m = wasmip_board_mem(p->board, ptr, len);
  return m ? wasmip_checksum(m, len) : 0;
}
void Z_phyZ_panic(struct Z_phy_instance_t *p, u32 ptr, u32 len, u32 line) {
  const uint8_t *m = wasmip_board_mem(p->board, ptr, len);
  wasmip_phy_panic(p->board, m ? (const char *)m : "?", m ? len : 1u, line);
}
void Z_phyZ_log(struct Z_phy_instance_t *p, u32 level, u32 ptr, u32 len) {
  const uint8_t *m = wasmip_board_mem(p->board, ptr, len);
  if (m) wasmip_phy_log(p->board, level, (const char *)m, len);
}

#define SND_CALL(f, ...) Z_sndZ_##f(&snd, ##__VA_ARGS__)
#define RCV_CALL(f, ...) Z_rcvZ_##f(&rcv, ##__VA_ARGS__)

static uint8_t *rt_memory(int side) {
  return side == SND ? Z_sndZ_memory(&snd)->data : Z_rcvZ_memory(&rcv)->data;
}
static uint32_t rt_pages(int side) {
  return (uint32_t)(side == SND ? Z_sndZ_memory(&snd)->pages : Z_rcvZ_memory(&rcv)->pages);
}

static int rt_open(const char *image, uint32_t stack) {
  (void)stack;
  if (image) {
    fprintf(stderr, "twin: this build runs the image it was translated from (wasm2c); --image is for the WAMR twin\n");
    return -1;
  }
  wasm_rt_init();
  Z_snd_init_module();
  Z_rcv_init_module();
  Z_snd_instantiate(&snd, &phy[SND]);
  Z_rcv_instantiate(&rcv, &phy[RCV]);
  wasmip_board_setup(&boards[SND], &snd_runtime, &ports[SND]);
  wasmip_board_setup(&boards[RCV], &rcv_runtime, &ports[RCV]);
  return 0;
}

/* One unwind target per phase: a trap anywhere in it lands here. */
#define RT_PHASE(name)                                                             \
  do {                                                                             \
    phase = (name);                                                                \
    trap = wasm_rt_impl_try();                                                     \
    if (trap != WASM_RT_TRAP_NONE) {                                               \
      printf("{\"ok\":false,\"trap\":%d,\"phase\":\"%s\"}\n", (int)trap, phase);   \
      return 3;                                                                    \
    }                                                                              \
  } while (0)

static void rt_print_extra(void) {}
static void rt_mark(const char *what) { (void)what; }
