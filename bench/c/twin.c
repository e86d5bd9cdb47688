/*
 * bench/c/twin.c - two wasmip boards back to back in one native process, for `make bench`'s
 * deterministic CPU figure (bench/README.md, "CPU").
 *
 * One firmware .wasm runs twice, as the sender and the receiver, under a runtime chosen at build
 * time: wasm2c (twin_w2c.h: the image translated twice, modules "snd" and "rcv", compiled with
 * gcc -O2 like boards/posix; the default) or WAMR's interpreter (twin_wamr.h, -DTWIN_WAMR: two
 * instances loaded from --image FILE). Everything else is this file, the same for both: both
 * boards are driven by the shared board code (boards/common/wasmip_board.c): frames go from one
 * board's phy.tx straight into the other board's receive pool, in memory; the clock is virtual (it
 * jumps to the next deadline when both boards are idle), so a run is the same instruction stream
 * every time.
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
 * The JSON result also has the CPU and wall time of bulk_phase() (clock_gettime around it).
 *
 *   twin [--bytes N] [--seed S] [--image FILE] [--stack BYTES] [--offload 1]
 *        prints one JSON object on stdout; exit 0 when the transfer was complete and correct,
 *        1 otherwise, 3 on a trap. --image and --stack (the wasm stack, default 8 KiB as on the
 *        ESP32 board) are for the WAMR twin.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wasmip_board.h"

#define NOINLINE __attribute__((noinline))
#define PERIOD 251u
#define PORT 5001u
#define SND 0
#define RCV 1

static wasmip_board_t boards[2];
static uint32_t vnow = 1000; /* virtual ms */
static uint32_t rng = 0x9e3779b9u;
static const char *phase = "init";
static uint32_t rt_stack = 8192; /* --stack: WAMR's wasm stack per instance */

/* What the wire saw (counted in wire_tx_*, outside the core's cost). */
typedef struct {
  uint64_t frames, tcp, data_segments, full_segments, pure_acks, payload;
} wire_stats_t;
static wire_stats_t wire[2];
static uint32_t mss; /* the sender's MSS (tcp_info), for "full-sized" */

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
    {(void *)(intptr_t)SND, port_tx, port_now, port_random, port_log, port_wait, NULL, NULL, NULL, NULL},
    {(void *)(intptr_t)RCV, port_tx, port_now, port_random, port_log, port_wait, NULL, NULL, NULL, NULL},
};

/* ---- the runtime: calls into both sides (SND_CALL, RCV_CALL), their memories, the setup ---- */

#ifdef TWIN_WAMR
#include "twin_wamr.h"
#else
#include "twin_w2c.h"
#endif

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
    app_fill(rt_memory(SND) + s_io, off, n);
    int32_t w = (int32_t)SND_CALL(tcp_send, (uint32_t)sfd, s_io, n);
    if (w > 0) {
      sent += (uint32_t)w;
      kick[SND] = 1;
      did = 1;
    }
  }
  if (rfd >= 0) {
    for (;;) {
      int32_t n = (int32_t)RCV_CALL(tcp_recv, (uint32_t)rfd, r_io, r_io_size);
      if (n <= 0) break;
      app_digest(rt_memory(RCV) + r_io, (uint32_t)n);
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
  uint8_t *m = rt_memory(side);
  int ok = side == SND ? (int)SND_CALL(tcp_info, (uint32_t)fd, ptr) : (int)RCV_CALL(tcp_info, (uint32_t)fd, ptr);
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
    int32_t fd = (int32_t)RCV_CALL(tcp_accept, (uint32_t)lfd);
    if (fd >= 0) rfd = fd;
  }
  return rfd >= 0 && (SND_CALL(tcp_events, (uint32_t)sfd) & WASMIP_EV_CONNECTED) != 0;
}

static int closed_both(void) {
  /* The receiver reads the EOF and closes; both blocks then end (CLOSED or TIME-WAIT). */
  if (rfd >= 0) {
    int32_t n = (int32_t)RCV_CALL(tcp_recv, (uint32_t)rfd, r_io, r_io_size);
    if (n == 0) {
      RCV_CALL(tcp_close, (uint32_t)rfd);
      rfd = -1;
      kick[RCV] = 1;
    } else if (n > 0) {
      got += (uint32_t)n; /* data after the end: counted, so the check below fails */
    }
  }
  return rfd < 0 && (SND_CALL(tcp_events, (uint32_t)sfd) & WASMIP_EV_CLOSED) != 0;
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
  printf("\"%s\":{\"frames\":%llu,\"tcp\":%llu,\"data_segments\":%llu,\"full_segments\":%llu,\"pure_acks\":%llu,\"payload\":%llu,"
         "\"pages\":%u,\"polls\":%u,\"rx_pool_full\":%u,\"counters\":{",
         name, (unsigned long long)w->frames, (unsigned long long)w->tcp, (unsigned long long)w->data_segments,
         (unsigned long long)w->full_segments, (unsigned long long)w->pure_acks, (unsigned long long)w->payload, (unsigned)rt_pages(side),
         boards[side].stats.polls, boards[side].stats.rx_pool_full);
  int first = 1;
  wasmip_board_counters(&boards[side], print_counters, &first);
  printf("}}");
}

/* A board recorded a trap in one of its calls (a runtime whose calls return, i.e. WAMR's). */
static int report_trap(void) {
  char msg[200] = "trap";
  for (int s = 0; s < 2; s++)
    if (boards[s].trapped) wasmip_board_describe_trap(&boards[s], msg, sizeof msg);
  printf("{\"ok\":false,\"trap\":\"%s\",\"phase\":\"%s\"}\n", msg, phase);
  return 3;
}

static uint64_t ns_between(const struct timespec *a, const struct timespec *b) {
  return (uint64_t)(b->tv_sec - a->tv_sec) * 1000000000ull + (uint64_t)b->tv_nsec - (uint64_t)a->tv_nsec;
}

int main(int argc, char **argv) {
  uint32_t offload = 0;
  total = 16u << 20;
  const char *image = NULL;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--bytes") && i + 1 < argc)
      total = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
      rng = (uint32_t)strtoul(argv[++i], NULL, 0) | 1u;
    else if (!strcmp(argv[i], "--image") && i + 1 < argc)
      image = argv[++i];
    else if (!strcmp(argv[i], "--stack") && i + 1 < argc)
      rt_stack = (uint32_t)strtoul(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--offload") && i + 1 < argc)
      offload = (uint32_t)strtoul(argv[++i], NULL, 0);
    else {
      fprintf(stderr, "usage: %s [--bytes N] [--seed S] [--image FILE] [--stack BYTES] [--offload WASMIP_OFFLOAD_SUM]\n", argv[0]);
      return 2;
    }
  }
  if (rt_open(image, rt_stack) != 0) return 1;

  RT_PHASE("init");
  if (offload & ~WASMIP_OFFLOAD_SUM) {
    fprintf(stderr, "twin: only --offload %u (sums through phy.checksum): its wire is no MAC\n", WASMIP_OFFLOAD_SUM);
    return 2;
  }
  wasmip_board_set_offload(&boards[SND], offload);
  wasmip_board_set_offload(&boards[RCV], offload);
  const uint8_t mac_s[6] = {2, 0, 0, 0, 0, 1}, mac_r[6] = {2, 0, 0, 0, 0, 2};
  const uint32_t ip_s = 0x0a000001u, ip_r = 0x0a000002u, mask = 0xffffff00u;
  if (wasmip_board_start(&boards[SND], mac_s, ip_s, mask, 0) != 0 || wasmip_board_start(&boards[RCV], mac_r, ip_r, mask, 0) != 0) {
    fprintf(stderr, "twin: init failed\n");
    return 1;
  }
  uint32_t pages_before[2] = {rt_pages(SND), rt_pages(RCV)};
  uint32_t a[1];
  wasmip_board_call(&boards[SND], WASMIP_FN_MEMORY_USED, a);
  uint32_t used = a[0];
  s_io = SND_CALL(io_buffer);
  s_io_size = SND_CALL(io_buffer_size);
  r_io = RCV_CALL(io_buffer);
  r_io_size = RCV_CALL(io_buffer_size);
  s_pat_len = s_io_size / PERIOD * PERIOD;
  if (s_pat_len < PERIOD) {
    fprintf(stderr, "twin: io_buffer_size %u is smaller than the pattern period %u\n", s_io_size, PERIOD);
    return 1;
  }
  if (s_pat_len > sizeof s_pattern) s_pat_len = sizeof s_pattern / PERIOD * PERIOD;
  for (uint32_t i = 0; i < s_pat_len; i++) s_pattern[i] = (uint8_t)(i % PERIOD);

  phase = "connect";
  lfd = (int32_t)RCV_CALL(tcp_socket);
  if (lfd < 0 || (int32_t)RCV_CALL(tcp_bind, (uint32_t)lfd, PORT) < 0 || (int32_t)RCV_CALL(tcp_listen, (uint32_t)lfd, 1) < 0) {
    fprintf(stderr, "twin: listen failed\n");
    return 1;
  }
  sfd = (int32_t)SND_CALL(tcp_socket);
  if (sfd < 0 || (int32_t)SND_CALL(tcp_connect, (uint32_t)sfd, ip_r, PORT) < 0) {
    fprintf(stderr, "twin: connect failed\n");
    return 1;
  }
  kick[SND] = kick[RCV] = 1;
  int er = run_until(established, 60000);
  if (er < 0) return report_trap();
  if (er != 0) {
    fprintf(stderr, "twin: no connection\n");
    return 1;
  }
  mss = info(SND, sfd, INFO_MSS);
  memset(wire, 0, sizeof wire);
  uint32_t vstart = vnow;

  RT_PHASE("bulk");
  rt_mark("start");
  struct timespec c0, c1, w0, w1;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
  clock_gettime(CLOCK_MONOTONIC, &w0);
  int br = bulk_phase();
  clock_gettime(CLOCK_MONOTONIC, &w1);
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
  rt_mark("end");
  if (br < 0) return report_trap();
  uint32_t vbulk = vnow - vstart;
  wire_stats_t bulk_wire[2] = {wire[SND], wire[RCV]};

  RT_PHASE("close");
  SND_CALL(tcp_shutdown, (uint32_t)sfd, 1);
  kick[SND] = 1;
  int cr = run_until(closed_both, 120000);
  if (cr < 0) return report_trap();
  SND_CALL(tcp_close, (uint32_t)sfd);

  for (uint64_t k = 0; k < total; k++) expect_digest = (expect_digest ^ (uint8_t)(k % PERIOD)) * 0x01000193u;
  int ok = br == 0 && cr == 0 && got == total && mismatches == 0 && digest == expect_digest;
  uint32_t pages_after[2] = {rt_pages(SND), rt_pages(RCV)};
  wire[SND] = bulk_wire[SND];
  wire[RCV] = bulk_wire[RCV];
  printf("{\"ok\":%s,\"bytes\":%llu,\"sent\":%llu,\"received\":%llu,\"mismatches\":%llu,\"first_bad\":%lld,\"digest\":\"%08x\","
         "\"expected_digest\":\"%08x\",\"mss\":%u,\"bulk_virtual_ms\":%u,\"bulk_result\":%d,\"close_result\":%d,\"memory_used\":%u,"
         "\"io_buffer_size\":%u,\"pattern_len\":%u,\"pages_before\":[%u,%u],\"pages_after\":[%u,%u],\"runtime\":\"%s\","
         "\"bulk_cpu_ns\":%llu,\"bulk_wall_ns\":%llu,",
         ok ? "true" : "false", (unsigned long long)total, (unsigned long long)sent, (unsigned long long)got,
         (unsigned long long)mismatches, first_bad == UINT64_MAX ? -1ll : (long long)first_bad, digest, expect_digest, mss, vbulk, br, cr,
         used, s_io_size, s_pat_len, pages_before[0], pages_before[1], pages_after[0], pages_after[1], TWIN_RUNTIME,
         (unsigned long long)ns_between(&c0, &c1), (unsigned long long)ns_between(&w0, &w1));
  print_side("snd", SND);
  printf(",");
  print_side("rcv", RCV);
  rt_print_extra();
  printf("}\n");
  return ok ? 0 : 1;
}
