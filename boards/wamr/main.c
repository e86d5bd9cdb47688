/*
 * boards/wamr/main.c - the Linux WAMR board: any firmware image, loaded at run time into WAMR's
 * interpreter (the runtime of the ESP32 board, built here by ../common/wamr.mk), behind the same
 * Linux port as the wasm2c board (../common/posix_host.c) and the same glue as every WAMR board
 * (../common/wasmip_wamr.c).
 *
 *   wasmip-wamr --wasm IMAGE.wasm [--pool-kb N] [--stack-kb N] <the posix board's flags>
 *   wasmip-wamr-classic ...                      (the classic interpreter instead of the fast one)
 *
 * Output as the posix board's ("ready", "leased ...", counters at SIGINT/SIGTERM, exit 3 and
 * "wasmip: trap in <export>(): <WAMR's message>" after a trap), plus the pool's peak after the
 * counters: "wamr_pool_highmark N" and "wamr_pool_size N" (bytes). An image WAMR refuses: its
 * error on one line, exit status 2.
 *
 * Memory: WAMR allocates from one pool (--pool-kb, malloc'd once at start), at load and
 * instantiation only: the module's structures, the fast interpreter's translated code, the wasm
 * stack (--stack-kb). Linear memory is not in the pool (WAMR's os_mmap on Linux).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "posix_host.h"
#include "wasmip_wamr.h"

#ifndef WASMIP_WAMR_INTERP
#define WASMIP_WAMR_INTERP "fast"
#endif
/* The pool: with mDNS, multicast, SACK and SNTP the http image peaks at 347 KiB with the fast
 * interpreter on x86-64 (100 KiB with the classic one), the sensor example (MQTT too) at 380 KiB
 * (boards/wamr/README.md); 512 KiB holds every image of make build. The wasm stack:
 * 4 KiB carried ping, curl and a 1 MB echo, 2 KiB overflowed; 16 KiB leaves room. */
#ifndef WASMIP_WAMR_POOL_KB
#define WASMIP_WAMR_POOL_KB 512u
#endif
#ifndef WASMIP_WAMR_STACK_KB
#define WASMIP_WAMR_STACK_KB 16u
#endif

static wasmip_board_t board; /* static: the frame pool lives here */
static wasmip_wamr_t wamr;

typedef struct {
  const char *wasm;
  uint32_t pool_kb, stack_kb;
} wamr_opts_t;

static int parse_kb(const char *flag, const char *v, uint32_t min, uint32_t max, uint32_t *out) {
  char *end;
  errno = 0;
  unsigned long n = strtoul(v, &end, 10);
  if (errno || end == v || *end || n < min || n > max) {
    fprintf(stderr, "wasmip: bad %s %s (want %u..%u)\n", flag, v, min, max);
    return -1;
  }
  *out = (uint32_t)n;
  return 1;
}

static int wamr_flag(void *arg, const char *flag, const char *v) {
  wamr_opts_t *w = arg;
  if (!strcmp(flag, "--wasm")) {
    w->wasm = v;
    return 1;
  }
  if (!strcmp(flag, "--pool-kb")) return parse_kb(flag, v, 16, 1u << 20, &w->pool_kb);
  if (!strcmp(flag, "--stack-kb")) return parse_kb(flag, v, 1, 1024, &w->stack_kb);
  return 0;
}

static const char usage_wamr[] =
    "  --wasm FILE: the firmware image (required), loaded into WAMR's " WASMIP_WAMR_INTERP " interpreter.\n"
    "  --pool-kb N: WAMR's memory pool in KiB (default " "%u" "); --stack-kb N: the wasm stack (default %u).\n";

static void print_pool(void *ctx) {
  (void)ctx;
  uint32_t high = 0, total = 0;
  if (wasmip_wamr_pool_stats(&high, &total) == 0) printf("wamr_pool_highmark %u\nwamr_pool_size %u\n", high, total);
}

/* The whole file in one buffer that stays (the loader keeps pointers into it and may patch it). */
static uint8_t *read_image(const char *path, uint32_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "wasmip: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  uint8_t *buf = NULL;
  long n = -1;
  if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && n < (64l << 20) && fseek(f, 0, SEEK_SET) == 0) {
    buf = malloc((size_t)n);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
      free(buf);
      buf = NULL;
    }
  }
  fclose(f);
  if (!buf) fprintf(stderr, "wasmip: %s: cannot read it (%ld bytes)\n", path, n);
  *len = (uint32_t)n;
  return buf;
}

/* The DHCP host name's app part: the image's base name, "bare" for the core alone (as on the
 * posix board, whose wasmip-bare is build/wasmip.wasm). */
static void app_name(const char *path, char *out, size_t size) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (n > 5 && !strcmp(base + n - 5, ".wasm")) n -= 5;
  if (n == 6 && !strncmp(base, "wasmip", 6)) base = "bare", n = 4;
  if (n >= size) n = size - 1;
  memcpy(out, base, n);
  out[n] = 0;
}

int main(int argc, char **argv) {
  wamr_opts_t w = {NULL, WASMIP_WAMR_POOL_KB, WASMIP_WAMR_STACK_KB};
  char usage[320];
  snprintf(usage, sizeof usage, usage_wamr, WASMIP_WAMR_POOL_KB, WASMIP_WAMR_STACK_KB);
  wasmip_posix_opts_t o;
  int r = wasmip_posix_parse(&o, argc, argv, wamr_flag, &w, usage, NULL);
  if (r) return r == 1 ? 0 : 2;
  if (!w.wasm) {
    fprintf(stderr, "wasmip: --wasm FILE is required\n");
    return 2;
  }

  /* Everything WAMR needs, once, before the tap: a refused image leaves nothing to clean up. */
  uint32_t len;
  uint8_t *image = read_image(w.wasm, &len);
  if (!image) return 2;
  uint32_t pool_size = w.pool_kb * 1024u;
  void *pool = malloc(pool_size);
  if (!pool || wasmip_wamr_init(pool, pool_size)) {
    fprintf(stderr, "wasmip: WAMR's runtime did not start with a %u KiB pool\n", w.pool_kb);
    return 1;
  }
  if (wasmip_wamr_load(&wamr, image, len, &board, w.stack_kb * 1024u)) {
    fprintf(stderr, "wasmip: cannot load %s: %s\n", w.wasm, wamr.error);
    return 2;
  }
  if (o.dhcp && !(wamr.rt.has_export(wamr.rt.ctx, "dhcp_start") && wamr.rt.has_export(wamr.rt.ctx, "dhcp_state"))) {
    wasmip_posix_no_dhcp();
    return 2;
  }
  uint32_t high = 0, total = 0, used = 0;
  wasmip_wamr_pool_stats(&high, &total);
  wasmip_wamr_pool_used(&used);
  fprintf(stderr, "wasmip: wamr %s interpreter: %s (%u bytes) loaded, pool %u of %u bytes in use (peak %u), wasm stack %u KiB\n",
          WASMIP_WAMR_INTERP, w.wasm, len, used, total, high, w.stack_kb);

  if (wasmip_posix_open(&o, &board)) return 1;
  wasmip_board_setup(&board, &wamr.rt, wasmip_posix_port());
  wasmip_board_set_offload(&board, WASMIP_OFFLOAD_SUM); /* the interpreter's sums cost far more */
  char app[32], name[64];
  app_name(w.wasm, app, sizeof app);
  snprintf(name, sizeof name, "wamr board (%s interpreter)", WASMIP_WAMR_INTERP);
  const wasmip_posix_image_t img = {name, app, NULL, print_pool};
  return wasmip_posix_run(&board, &o, &img);
}
