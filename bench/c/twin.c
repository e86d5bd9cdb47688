/*
 * bench/c/twin.c - two wasmip boards back to back in one native process, for `make bench`'s
 * deterministic CPU figure (bench/README.md, "CPU").
 *
 * One firmware .wasm is translated by wasm2c twice, as module "snd" (the sender) and module "rcv"
 * (the receiver), so every function of each side has its own symbol and callgrind can tell the
 * sides apart. Both are compiled with gcc -O2 like boards/posix and driven by the shared board
 * code (boards/common/wasmip_board.c): frames go from one board's phy.tx straight into the other
 * board's receive pool, in memory; the clock is virtual (it jumps to the next deadline when both
 * boards are idle), so a run is the same instruction stream every time.
 *
 * The apps are C, using the flat socket exports the way a C board does (wasmip.h): the sender
 * copies each chunk of the bench pattern (byte k of the stream is k mod 251) into its io_buffer
 * (app_fill: io_buffer is the receive frame buffer, so nothing stays there across frames) and
 * sends it from there; the receiver reads into its io_buffer and hands each chunk to app_digest(), which checks
 * it against the pattern and folds it into an FNV-1a digest. bulk_phase() is the measured region
 * (callgrind --toggle-collect=bulk_phase): from both ends ESTABLISHED to every byte read by the
 * receiver and acknowledged to the sender. app_digest() and wire_tx_*() (the copy into the other
 * board's pool and the segment counting) are separate functions so their cost can be taken out.
 *
 *   twin [--bytes N] [--seed S]    prints one JSON object on stdout; exit 0 when the transfer
 *                                  was complete and correct, 1 otherwise, 3 on a trap
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rcv.h"
#include "snd.h"
#include "wasm-rt-impl.h"
#include "wasmip_board.h"

#define NOINLINE __attribute__((noinline))
#define PERIOD 251u
#define PORT 5001u
#define SND 0
#define RCV 1

struct Z_phy_instance_t {
  wasmip_board_t *board;
  int side;
};

static wasmip_board_t boards[2];
static Z_snd_instance_t snd;
static Z_rcv_instance_t rcv;
static struct Z_phy_instance_t phy[2] = {{&boards[SND], SND}, {&boards[RCV], RCV}};
static uint32_t vnow = 1000; /* virtual ms */
static uint32_t rng = 0x9e3779b9u;
static wasm_rt_trap_t trap;

/* What the wire saw (counted in wire_tx_*, outside the core's cost). */
typedef struct {
  uint64_t frames, tcp, data_segments, full_segments, pure_acks, payload;
} wire_stats_t;
static wire_stats_t wire[2];
static uint32_t mss; /* the sender's MSS (tcp_info), for "full-sized" */

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
  static const wasmip_runtime_t M##_runtime = {&INST, M##_call, M##_memory, M##_trap_message};

DEFINE_RUNTIME(snd, snd)
DEFINE_RUNTIME(rcv, rcv)

/* ---- the wire ---- */

static void count_frame(wire_stats_t *w, const uint8_t *f, uint32_t len) {
  w->frames++;
  if (len < 14 + 20 || f[12] != 0x08 || f[13] != 0x00 || f[23] != 6) return;
  uint32_t ihl = (uint32_t)(f[14] & 15u) * 4u;
  uint32_t tot = ((uint32_t)f[16] << 8) | f[17];
  if (len < 14 + ihl + 20 || tot > len - 14) return;
  uint32_t doff = (uint32_t)(f[14 + ihl + 12] >> 4) * 4u;
  if (ihl + doff > tot) return;
  uint32_t payload = tot - ihl - doff;
  w->tcp++;
  if (payload == 0) {
    w->pure_acks++;
    return;
  }
  w->data_segments++;
  w->payload += payload;
  if (mss != 0 && payload == mss) w->full_segments++;
}

/* The other board's driver receives the frame: a copy into its pool (like a DMA ring). */
static NOINLINE void wire_tx_snd(const uint8_t *frame, uint32_t len) {
  count_frame(&wire[SND], frame, len);
  wasmip_board_rx(&boards[RCV], frame, len);
}
static NOINLINE void wire_tx_rcv(const uint8_t *frame, uint32_t len) {
  count_frame(&wire[RCV], frame, len);
  wasmip_board_rx(&boards[SND], frame, len);
}

static int port_tx(void *ctx, const uint8_t *frame, uint32_t len) {
  if ((intptr_t)ctx == SND)
    wire_tx_snd(frame, len);
  else
    wire_tx_rcv(frame, len);
  return 0;
}
static uint32_t port_now(void *ctx) {
  (void)ctx;
  return vnow;
}
static uint32_t port_random(void *ctx) {
  (void)ctx;
  rng ^= rng << 13; /* xorshift32: deterministic */
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}
static void port_log(void *ctx, uint32_t level, const char *msg, uint32_t len) {
  if (level <= WASMIP_LOG_WARN) fprintf(stderr, "twin %s: %.*s\n", (intptr_t)ctx == SND ? "snd" : "rcv", (int)len, msg);
}
static void port_wait(void *ctx, uint32_t ms) {
  (void)ctx;
  (void)ms;
}
static const wasmip_port_t ports[2] = {
    {(void *)(intptr_t)SND, port_tx, port_now, port_random, port_log, port_wait, NULL, NULL, NULL},
    {(void *)(intptr_t)RCV, port_tx, port_now, port_random, port_log, port_wait, NULL, NULL, NULL},
};

/* The phy.* imports of both modules: the instance pointer says which board. */
void Z_phyZ_tx(struct Z_phy_instance_t *p, u32 ptr, u32 len) { wasmip_phy_tx(p->board, wasmip_board_mem(p->board, ptr, len), len); }
u32 Z_phyZ_now_ms(struct Z_phy_instance_t *p) { return wasmip_phy_now_ms(p->board); }
u32 Z_phyZ_random(struct Z_phy_instance_t *p) { return wasmip_phy_random(p->board); }
void Z_phyZ_panic(struct Z_phy_instance_t *p, u32 ptr, u32 len, u32 line) {
  const uint8_t *m = wasmip_board_mem(p->board, ptr, len);
  wasmip_phy_panic(p->board, m ? (const char *)m : "?", m ? len : 1u, line);
}
void Z_phyZ_log(struct Z_phy_instance_t *p, u32 level, u32 ptr, u32 len) {
  const uint8_t *m = wasmip_board_mem(p->board, ptr, len);
  if (m) wasmip_phy_log(p->board, level, (const char *)m, len);
}

/* ---- the apps ---- */

static uint64_t total;         /* bytes to move */
static uint64_t sent, got;     /* by the sender's app, by the receiver's app */
static uint64_t mismatches;    /* received bytes that are not the pattern */
static uint64_t first_bad = UINT64_MAX;
static uint32_t digest = 0x811c9dc5u, expect_digest = 0x811c9dc5u;
static int32_t sfd = -1, rfd = -1, lfd = -1;
static uint32_t s_io, s_io_size, s_pat_len, r_io, r_io_size;
static int32_t deadline[2];
static int kick[2] = {1, 1};

static uint8_t s_pattern[2048];

/* The sender's copy of a pattern chunk into its io_buffer, outside the core (a C app's data lives
 * in its own memory). */
static NOINLINE void app_fill(uint8_t *dst, uint32_t off, uint32_t n) {
  memcpy(dst, s_pattern + off, n);
}

/* The receiver's per-byte check, outside the core: pattern and FNV-1a digest. */
static NOINLINE void app_digest(const uint8_t *p, uint32_t n) {
  uint32_t h = digest;
  uint32_t want = (uint32_t)(got % PERIOD);
  for (uint32_t i = 0; i < n; i++) {
    if (p[i] != want) {
      if (first_bad == UINT64_MAX) first_bad = got + i;
      mismatches++;
    }
    if (++want == PERIOD) want = 0;
    h = (h ^ p[i]) * 0x01000193u;
  }
  digest = h;
}

static uint8_t *mem_of(int side) {
  return side == SND ? Z_sndZ_memory(&snd)->data : Z_rcvZ_memory(&rcv)->data;
}

/* Step a board when a frame is queued, its deadline passed or the app called into it. */
static int maybe_step(int side) {
  wasmip_board_t *b = &boards[side];
  int pending = b->rxq_head != b->rxq_tail;
  if (!pending && !kick[side] && (int32_t)(vnow - (uint32_t)deadline[side]) < 0) return 0;
  kick[side] = 0;
  int32_t d = wasmip_board_step(b);
  if (d < 0) return -1;
  deadline[side] = (int32_t)(vnow + (uint32_t)d);
  return 1;
}

/* One round: both boards, then both apps. Returns whether anything happened (-1: trapped). */
static int round_once(int run_apps) {
  int did = 0, r;
  if ((r = maybe_step(SND)) < 0) return -1;
  did |= r;
  if ((r = maybe_step(RCV)) < 0) return -1;
  did |= r;
  if (!run_apps) return did;
  if (sfd >= 0 && sent < total) {
    uint32_t off = (uint32_t)(sent % PERIOD);
    uint64_t left = total - sent;
    uint32_t n = s_pat_len - off;
    if (left < n) n = (uint32_t)left;
    app_fill(mem_of(SND) + s_io, off, n);
    int32_t w = (int32_t)Z_sndZ_tcp_send(&snd, (u32)sfd, s_io, n);
    if (w > 0) {
      sent += (uint32_t)w;
      kick[SND] = 1;
      did = 1;
    }
  }
  if (rfd >= 0) {
    for (;;) {
      int32_t n = (int32_t)Z_rcvZ_tcp_recv(&rcv, (u32)rfd, r_io, r_io_size);
      if (n <= 0) break;
      app_digest(mem_of(RCV) + r_io, (uint32_t)n);
      got += (uint32_t)n;
      kick[RCV] = 1;
      did = 1;
    }
  }
  return did;
}

/* Both idle: jump the clock to the earlier deadline. */
static void advance(void) {
  int32_t a = (int32_t)((uint32_t)deadline[SND] - vnow), b = (int32_t)((uint32_t)deadline[RCV] - vnow);
  int32_t d = a < b ? a : b;
  vnow += d > 0 ? (uint32_t)d : 1u;
}

static uint32_t info(int side, int32_t fd, int word) {
  uint32_t ptr = side == SND ? s_io : r_io;
  uint8_t *m = mem_of(side);
  int ok = side == SND ? (int)Z_sndZ_tcp_info(&snd, (u32)fd, ptr) : (int)Z_rcvZ_tcp_info(&rcv, (u32)fd, ptr);
  uint32_t v = 0;
  if (ok) memcpy(&v, m + ptr + 4u * (uint32_t)word, 4);
  return v;
}
#define INFO_STATE 0
#define INFO_MSS 1
#define INFO_SND_UNA 8
#define INFO_SND_NXT 9

/* The measured region. */
static NOINLINE int bulk_phase(void) {
  for (uint64_t guard = 0; guard < 100000000ull; guard++) {
    int r = round_once(1);
    if (r < 0) return -1;
    if (got == total && sent == total && boards[SND].rxq_head == boards[SND].rxq_tail &&
        boards[RCV].rxq_head == boards[RCV].rxq_tail && info(SND, sfd, INFO_SND_UNA) == info(SND, sfd, INFO_SND_NXT))
      return 0;
    if (!r) advance();
  }
  return 1;
}

/* Run rounds (apps off) until cond() or a bound of virtual time. */
static int run_until(int (*cond)(void), uint32_t max_ms) {
  uint32_t start = vnow;
  while (!cond()) {
    int r = round_once(0);
    if (r < 0) return -1;
    if (!r) {
      if (vnow - start > max_ms) return 1;
      advance();
    }
  }
  return 0;
}

static int established(void) {
  if (rfd < 0) {
    int32_t fd = (int32_t)Z_rcvZ_tcp_accept(&rcv, (u32)lfd);
    if (fd >= 0) rfd = fd;
  }
  return rfd >= 0 && (Z_sndZ_tcp_events(&snd, (u32)sfd) & WASMIP_EV_CONNECTED) != 0;
}

static int closed_both(void) {
  /* The receiver reads the EOF and closes; both blocks then end (CLOSED or TIME-WAIT). */
  if (rfd >= 0) {
    int32_t n = (int32_t)Z_rcvZ_tcp_recv(&rcv, (u32)rfd, r_io, r_io_size);
    if (n == 0) {
      Z_rcvZ_tcp_close(&rcv, (u32)rfd);
      rfd = -1;
      kick[RCV] = 1;
    } else if (n > 0) {
      got += (uint32_t)n; /* data after the end: counted, so the check below fails */
    }
  }
  return rfd < 0 && (Z_sndZ_tcp_events(&snd, (u32)sfd) & WASMIP_EV_CLOSED) != 0;
}

static void print_counters(void *arg, const char *name, uint32_t kind, uint32_t value) {
  int *first = arg;
  (void)kind;
  if (!value) return;
  printf("%s\"%s\":%u", *first ? "" : ",", name, value);
  *first = 0;
}

static void print_side(const char *name, int side) {
  const wire_stats_t *w = &wire[side];
  wasm_rt_memory_t *m = side == SND ? Z_sndZ_memory(&snd) : Z_rcvZ_memory(&rcv);
  printf("\"%s\":{\"frames\":%llu,\"tcp\":%llu,\"data_segments\":%llu,\"full_segments\":%llu,\"pure_acks\":%llu,\"payload\":%llu,"
         "\"pages\":%u,\"polls\":%u,\"rx_pool_full\":%u,\"counters\":{",
         name, (unsigned long long)w->frames, (unsigned long long)w->tcp, (unsigned long long)w->data_segments,
         (unsigned long long)w->full_segments, (unsigned long long)w->pure_acks, (unsigned long long)w->payload, (unsigned)m->pages,
         boards[side].stats.polls, boards[side].stats.rx_pool_full);
  int first = 1;
  wasmip_board_counters(&boards[side], print_counters, &first);
  printf("}}");
}

int main(int argc, char **argv) {
  total = 16u << 20;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--bytes") && i + 1 < argc)
      total = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
      rng = (uint32_t)strtoul(argv[++i], NULL, 0) | 1u;
    else {
      fprintf(stderr, "usage: %s [--bytes N] [--seed S]\n", argv[0]);
      return 2;
    }
  }
  wasm_rt_init();
  Z_snd_init_module();
  Z_rcv_init_module();
  Z_snd_instantiate(&snd, &phy[SND]);
  Z_rcv_instantiate(&rcv, &phy[RCV]);
  wasmip_board_setup(&boards[SND], &snd_runtime, &ports[SND]);
  wasmip_board_setup(&boards[RCV], &rcv_runtime, &ports[RCV]);

  const char *phase = "init";
  trap = wasm_rt_impl_try();
  if (trap != WASM_RT_TRAP_NONE) {
    printf("{\"ok\":false,\"trap\":%d,\"phase\":\"%s\"}\n", (int)trap, phase);
    return 3;
  }
  const uint8_t mac_s[6] = {2, 0, 0, 0, 0, 1}, mac_r[6] = {2, 0, 0, 0, 0, 2};
  const uint32_t ip_s = 0x0a000001u, ip_r = 0x0a000002u, mask = 0xffffff00u;
  if (wasmip_board_start(&boards[SND], mac_s, ip_s, mask, 0) != 0 || wasmip_board_start(&boards[RCV], mac_r, ip_r, mask, 0) != 0) {
    fprintf(stderr, "twin: init failed\n");
    return 1;
  }
  uint32_t pages_before[2] = {Z_sndZ_memory(&snd)->pages, Z_rcvZ_memory(&rcv)->pages};
  uint32_t a[1];
  wasmip_board_call(&boards[SND], WASMIP_FN_MEMORY_USED, a);
  uint32_t used = a[0];
  s_io = Z_sndZ_io_buffer(&snd);
  s_io_size = Z_sndZ_io_buffer_size(&snd);
  r_io = Z_rcvZ_io_buffer(&rcv);
  r_io_size = Z_rcvZ_io_buffer_size(&rcv);
  s_pat_len = s_io_size / PERIOD * PERIOD;
  if (s_pat_len < PERIOD) {
    fprintf(stderr, "twin: io_buffer_size %u is smaller than the pattern period %u\n", s_io_size, PERIOD);
    return 1;
  }
  if (s_pat_len > sizeof s_pattern) s_pat_len = sizeof s_pattern / PERIOD * PERIOD;
  for (uint32_t i = 0; i < s_pat_len; i++) s_pattern[i] = (uint8_t)(i % PERIOD);

  phase = "connect";
  lfd = (int32_t)Z_rcvZ_tcp_socket(&rcv);
  if (lfd < 0 || (int32_t)Z_rcvZ_tcp_bind(&rcv, (u32)lfd, PORT) < 0 || (int32_t)Z_rcvZ_tcp_listen(&rcv, (u32)lfd, 1) < 0) {
    fprintf(stderr, "twin: listen failed\n");
    return 1;
  }
  sfd = (int32_t)Z_sndZ_tcp_socket(&snd);
  if (sfd < 0 || (int32_t)Z_sndZ_tcp_connect(&snd, (u32)sfd, ip_r, PORT) < 0) {
    fprintf(stderr, "twin: connect failed\n");
    return 1;
  }
  kick[SND] = kick[RCV] = 1;
  if (run_until(established, 60000) != 0) {
    fprintf(stderr, "twin: no connection\n");
    return 1;
  }
  mss = info(SND, sfd, INFO_MSS);
  memset(wire, 0, sizeof wire);
  uint32_t vstart = vnow;

  phase = "bulk";
  trap = wasm_rt_impl_try();
  if (trap != WASM_RT_TRAP_NONE) {
    printf("{\"ok\":false,\"trap\":%d,\"phase\":\"%s\"}\n", (int)trap, phase);
    return 3;
  }
  int br = bulk_phase();
  uint32_t vbulk = vnow - vstart;
  wire_stats_t bulk_wire[2] = {wire[SND], wire[RCV]};

  phase = "close";
  trap = wasm_rt_impl_try();
  if (trap != WASM_RT_TRAP_NONE) {
    printf("{\"ok\":false,\"trap\":%d,\"phase\":\"%s\"}\n", (int)trap, phase);
    return 3;
  }
  Z_sndZ_tcp_shutdown(&snd, (u32)sfd, 1);
  kick[SND] = 1;
  int cr = run_until(closed_both, 120000);
  Z_sndZ_tcp_close(&snd, (u32)sfd);

  for (uint64_t k = 0; k < total; k++) expect_digest = (expect_digest ^ (uint8_t)(k % PERIOD)) * 0x01000193u;
  int ok = br == 0 && cr == 0 && got == total && mismatches == 0 && digest == expect_digest;
  uint32_t pages_after[2] = {Z_sndZ_memory(&snd)->pages, Z_rcvZ_memory(&rcv)->pages};
  wire[SND] = bulk_wire[SND];
  wire[RCV] = bulk_wire[RCV];
  printf("{\"ok\":%s,\"bytes\":%llu,\"sent\":%llu,\"received\":%llu,\"mismatches\":%llu,\"first_bad\":%lld,\"digest\":\"%08x\","
         "\"expected_digest\":\"%08x\",\"mss\":%u,\"bulk_virtual_ms\":%u,\"bulk_result\":%d,\"close_result\":%d,\"memory_used\":%u,"
         "\"io_buffer_size\":%u,\"pattern_len\":%u,\"pages_before\":[%u,%u],\"pages_after\":[%u,%u],",
         ok ? "true" : "false", (unsigned long long)total, (unsigned long long)sent, (unsigned long long)got,
         (unsigned long long)mismatches, first_bad == UINT64_MAX ? -1ll : (long long)first_bad, digest, expect_digest, mss, vbulk, br, cr,
         used, s_io_size, s_pat_len, pages_before[0], pages_before[1], pages_after[0], pages_after[1]);
  print_side("snd", SND);
  printf(",");
  print_side("rcv", RCV);
  printf("}\n");
  return ok ? 0 : 1;
}
