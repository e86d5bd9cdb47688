/*
 * bench/c/twin_wamr.h - the runtime part of bench/c/twin.c for WAMR's interpreter (build with
 * -DTWIN_WAMR and one of build/wamr/<variant>/'s libiwasm): the image (--image FILE) loaded twice
 * from the file, as two module instances in one WAMR runtime with its memory in a static pool
 * (Alloc_With_Pool), through the boards' shared glue boards/common/wasmip_wamr.c (which registers
 * the phy.* natives and calls the board exports). The apps' socket exports are looked up here and
 * called with wasm_runtime_call_wasm, as a C board would. Same interface as twin_w2c.h.
 *
 * callgrind cannot tell the two sides apart here (one interpreter loop runs both).
 */
#include <sys/stat.h>

#include "wasm_export.h"
#include "wasmip_wamr.h"

#ifndef TWIN_WAMR_POOL_BYTES
#define TWIN_WAMR_POOL_BYTES (4u << 20)
#endif

#define TWIN_RUNTIME "wamr"

static uint8_t wamr_pool[TWIN_WAMR_POOL_BYTES] __attribute__((aligned(8)));
static wasmip_wamr_t wamr[2];
static uint8_t *wamr_image[2];
static uint32_t wamr_image_len;
static uint32_t wamr_after_load[2]; /* pool highmark, total after both loads */

/* The exports the apps and the driver call (the board's own are in wasmip_wamr_t.fns). */
#define TWIN_EXPORTS(X)                                                                            \
  X(tcp_socket, 0) X(tcp_bind, 2) X(tcp_listen, 2) X(tcp_accept, 1) X(tcp_connect, 3) X(tcp_send, 3) \
  X(tcp_recv, 3) X(tcp_events, 1) X(tcp_info, 2) X(tcp_shutdown, 2) X(tcp_close, 1) X(io_buffer, 0)  \
  X(io_buffer_size, 0)
enum {
#define X_ENUM(name, argc) X_##name,
  TWIN_EXPORTS(X_ENUM)
#undef X_ENUM
  X_COUNT
};
static const char *const x_name[X_COUNT] = {
#define X_NAME(name, argc) #name,
    TWIN_EXPORTS(X_NAME)
#undef X_NAME
};
static const uint8_t x_argc[X_COUNT] = {
#define X_ARGC(name, argc) argc,
    TWIN_EXPORTS(X_ARGC)
#undef X_ARGC
};
static wasm_function_inst_t x_fn[2][X_COUNT];

static NOINLINE void wamr_trapped(int side, const char *what) {
  const char *e = wasm_runtime_get_exception(wamr[side].inst);
  printf("{\"ok\":false,\"trap\":\"%s\",\"side\":\"%s\",\"export\":\"%s\",\"phase\":\"%s\"}\n", e ? e : "?", side == SND ? "snd" : "rcv",
         what, phase);
  fflush(stdout);
  exit(3);
}

static uint32_t wamr_x(int side, int x, const uint32_t args[3]) {
  uint32_t argv[3] = {args[0], args[1], args[2]};
  if (!wasm_runtime_call_wasm(wamr[side].env, x_fn[side][x], x_argc[x], argv)) wamr_trapped(side, x_name[x]);
  return argv[0];
}

#define SND_CALL(f, ...) wamr_x(SND, X_##f, (const uint32_t[3]){__VA_ARGS__})
#define RCV_CALL(f, ...) wamr_x(RCV, X_##f, (const uint32_t[3]){__VA_ARGS__})

static uint8_t *rt_memory(int side) {
  uint32_t size;
  return wamr[side].rt.memory(wamr[side].rt.ctx, &size);
}
static uint32_t rt_pages(int side) {
  uint32_t size;
  wamr[side].rt.memory(wamr[side].rt.ctx, &size);
  return size / 65536u;
}

static int rt_open(const char *image, uint32_t stack) {
  if (!image) {
    fprintf(stderr, "twin: the WAMR twin needs --image FILE\n");
    return -1;
  }
  FILE *f = fopen(image, "rb");
  struct stat st;
  if (!f || fstat(fileno(f), &st) != 0 || st.st_size <= 0) {
    fprintf(stderr, "twin: cannot read %s\n", image);
    return -1;
  }
  wamr_image_len = (uint32_t)st.st_size;
  /* One copy per module: the loader may write into its buffer, and keeps using it. */
  for (int s = 0; s < 2; s++) wamr_image[s] = malloc(wamr_image_len);
  if (!wamr_image[0] || !wamr_image[1] || fread(wamr_image[0], 1, wamr_image_len, f) != wamr_image_len) {
    fprintf(stderr, "twin: cannot read %s\n", image);
    return -1;
  }
  fclose(f);
  memcpy(wamr_image[1], wamr_image[0], wamr_image_len);
  if (wasmip_wamr_init(wamr_pool, sizeof wamr_pool) != 0) {
    fprintf(stderr, "twin: wasmip_wamr_init failed\n");
    return -1;
  }
  for (int s = 0; s < 2; s++) {
    if (wasmip_wamr_load(&wamr[s], wamr_image[s], wamr_image_len, &boards[s], stack) != 0) {
      fprintf(stderr, "twin: loading %s (%s): %s\n", image, s == SND ? "snd" : "rcv", wamr[s].error);
      return -1;
    }
    for (int x = 0; x < X_COUNT; x++) {
      x_fn[s][x] = wasm_runtime_lookup_function(wamr[s].inst, x_name[x]);
      if (!x_fn[s][x]) {
        fprintf(stderr, "twin: %s does not export %s()\n", image, x_name[x]);
        return -1;
      }
    }
    wasmip_board_setup(&boards[s], &wamr[s].rt, &ports[s]);
  }
  wasmip_wamr_pool_stats(&wamr_after_load[0], &wamr_after_load[1]);
  return 0;
}

/* With -DTWIN_PERF_PROFILE (against a WAMR built with WAMR_BUILD_PERF_PROFILING): WAMR's
 * per-function profile of each instance (calls and time, cumulative) at the start and at the end
 * of bulk_phase, after marker lines; bench/wamr.ts takes the difference. The markers go through
 * WAMR's own os_printf, like the profile, so they land on the same stream (wamr.mk's build sends
 * WAMR's messages to stderr). */
#ifdef TWIN_PERF_PROFILE
int os_printf(const char *format, ...); /* WAMR's platform layer (core/shared/platform) */
#endif
static void rt_mark(const char *what) {
#ifdef TWIN_PERF_PROFILE
  for (int s = 0; s < 2; s++) {
    fflush(stdout);
    os_printf("== twin profile: %s %s\n", what, s == SND ? "snd" : "rcv");
    wasm_runtime_dump_perf_profiling(wamr[s].inst);
    fflush(stdout);
    fflush(stderr);
  }
#else
  (void)what;
#endif
}

/* Traps are reported where they happen (wamr_trapped, or the board's record after a step). */
#define RT_PHASE(name) (phase = (name))

static void rt_print_extra(void) {
  uint32_t hi = 0, total = 0;
  wasmip_wamr_pool_stats(&hi, &total);
  printf(",\"wamr\":{\"image_bytes\":%u,\"stack_bytes\":%u,\"pool_bytes\":%u,\"pool_highmark_after_load\":%u,\"pool_highmark\":%u}",
         wamr_image_len, rt_stack, total, wamr_after_load[0], hi);
}
