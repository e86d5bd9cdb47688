/*
 * two_boards.c - two WAMR instances in one process, wired back to back (A's frames go into B's
 * receive pool and the other way), on a virtual clock: A pings B. Checks that the glue keeps
 * instances apart (each native reaches its own board through the instance's custom data) and
 * prints the pool's peak for two loaded images.
 *
 *   two_boards IMAGE.wasm [IMAGE_B.wasm]    exit 0 when A got N replies from B
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasmip_wamr.h"

#define PINGS 5u
#define PING_LEN 1400u

typedef struct {
  wasmip_board_t *peer;
  uint32_t rng;
  const char *name;
} sim_port_t;

static uint32_t clock_ms; /* the virtual clock of both boards */

static int p_tx(void *ctx, const uint8_t *frame, uint32_t len) {
  sim_port_t *p = ctx;
  return wasmip_board_rx(p->peer, frame, len) == 0 ? 0 : -1;
}
static uint32_t p_now(void *ctx) {
  (void)ctx;
  return clock_ms;
}
static uint32_t p_random(void *ctx) {
  sim_port_t *p = ctx; /* xorshift32: repeatable runs */
  p->rng ^= p->rng << 13;
  p->rng ^= p->rng >> 17;
  p->rng ^= p->rng << 5;
  return p->rng;
}
static void p_log(void *ctx, uint32_t level, const char *msg, uint32_t len) {
  sim_port_t *p = ctx;
  if (level <= WASMIP_LOG_WARN) fprintf(stderr, "[%s] %.*s\n", p->name, (int)len, msg);
}
static void p_wait(void *ctx, uint32_t ms) {
  (void)ctx;
  (void)ms;
}

static uint8_t *read_file(const char *path, uint32_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
  if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *len = (uint32_t)n;
  return buf;
}

static uint8_t pool[768 * 1024];
static wasmip_board_t board[2];
static wasmip_wamr_t wamr[2];
static sim_port_t sim[2];
static wasmip_port_t port[2];

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s IMAGE.wasm [IMAGE_B.wasm]\n", argv[0]);
    return 2;
  }
  if (wasmip_wamr_init(pool, sizeof pool)) {
    fprintf(stderr, "two_boards: wasmip_wamr_init failed\n");
    return 1;
  }
  for (int i = 0; i < 2; i++) {
    uint32_t len;
    const char *path = argv[argc > 2 ? 1 + i : 1];
    uint8_t *buf = read_file(path, &len); /* one buffer per instance: the loader may patch it */
    if (!buf) {
      fprintf(stderr, "two_boards: cannot read %s\n", path);
      return 2;
    }
    if (wasmip_wamr_load(&wamr[i], buf, len, &board[i], 16 * 1024)) {
      fprintf(stderr, "two_boards: %s: %s\n", path, wamr[i].error);
      return 2;
    }
    sim[i] = (sim_port_t){&board[1 - i], 0x9e3779b9u * (uint32_t)(i + 1), i ? "B" : "A"};
    port[i] = (wasmip_port_t){&sim[i], p_tx, p_now, p_random, p_log, p_wait, NULL, NULL, NULL, NULL};
    wasmip_board_setup(&board[i], &wamr[i].rt, &port[i]);
    wasmip_board_set_offload(&board[i], WASMIP_OFFLOAD_SUM); /* as the WAMR boards run */
  }
  const uint8_t mac[2][6] = {{2, 0x77, 0x69, 0x70, 0, 1}, {2, 0x77, 0x69, 0x70, 0, 2}};
  const uint32_t ip[2] = {0x0a000001u, 0x0a000002u};
  for (int i = 0; i < 2; i++) {
    int32_t rc = wasmip_board_start(&board[i], mac[i], ip[i], 0xffffff00u, 0);
    if (rc != 0) {
      fprintf(stderr, "two_boards: start %c: %d\n", 'A' + i, rc);
      return 1;
    }
  }
  uint32_t replies = 0;
  /* Bounded: one ping every 100 virtual ms, the boards stepped in turn between them. */
  for (uint32_t seq = 1; seq <= PINGS; seq++) {
    uint32_t a[3] = {ip[1], seq, PING_LEN};
    if (wasmip_board_call_export(&board[0], "ping", 3, a) != 0) {
      fprintf(stderr, "two_boards: ping export missing or trapped\n");
      return 1;
    }
    for (int round = 0; round < 20; round++) {
      clock_ms += 5;
      for (int i = 0; i < 2; i++)
        if (wasmip_board_step(&board[i]) < 0) {
          char msg[160];
          wasmip_board_describe_trap(&board[i], msg, sizeof msg);
          fprintf(stderr, "two_boards: %c: %s\n", 'A' + i, msg);
          return 3;
        }
    }
    a[0] = seq;
    if (wasmip_board_call_export(&board[0], "ping_rtt", 1, a) == 0 && (int32_t)a[0] >= 0) replies++;
  }
  uint32_t high = 0, total = 0;
  wasmip_wamr_pool_stats(&high, &total);
  printf("replies %u/%u\nA tx_frames %u rx_input %u, B tx_frames %u rx_input %u\nwamr_pool_highmark %u\nwamr_pool_size %u\n", replies, PINGS,
         board[0].stats.tx_frames, board[0].stats.rx_input, board[1].stats.tx_frames, board[1].stats.rx_input, high, total);
  for (int i = 0; i < 2; i++) wasmip_wamr_unload(&wamr[i]);
  wasmip_wamr_destroy();
  return replies == PINGS ? 0 : 1;
}
