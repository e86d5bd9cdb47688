/*
 * boards/posix/test/threads.c - the thread-safe C API (boards/common/wasmip_api.h) under load: the
 * posix board (the core alone, wasm2c) whose stack task is the main thread, and other threads
 * that all call it at once against the kernel in the tap's namespace (tests/host/capi.test.ts
 * starts the peers and runs this, also built with -fsanitize=thread, and by boards/wamr with
 * WASMIP_THREADS_WAMR: the same over WAMR, which takes --wasm build/wasmip.wasm):
 *
 *   wasmip-threads --tap tap0 --board-ip 10.213.x.2/24 --peer 10.213.x.1 --echo-port P --udp-port U
 *                  [--dns-name NAME --dns-ip A.B.C.D] [--tcp N] [--bytes N] [--udp N] [--calls N]
 *
 * Checks, in order: a full request ring refuses with WASMIP_EQUEUEFULL (the stack task held in a
 * call); the round trip of an empty call (timed, printed); a refused connect; the timeouts of
 * recvfrom and accept; a shutdown that wakes a recv blocked in another thread; listen/accept/
 * connect over the core's loopback; then at once N TCP connections
 * to the kernel's echo server, each with a sender and a receiver thread (the echo compared byte
 * for byte), UDP threads (datagrams echoed by the kernel) and a DNS lookup; after the stack task
 * stopped, a call fails with WASMIP_ESTOPPED. Prints "ok ..." per check, "FAIL ..." on a failure
 * (exit status 1), the counters at exit like the board.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "posix_host.h"
#include "wasmip_api.h"

static wasmip_board_t board;
static wasmip_api_t api;

/* The runtime: wasm2c's translation of the core linked in, or (WASMIP_THREADS_WAMR, built by
 * boards/wamr) the core's .wasm (--wasm FILE) in WAMR's fast interpreter, the ESP32's runtime. */
#ifdef WASMIP_THREADS_WAMR
#include "wasmip_wamr.h"
#define RUNTIME_NAME "wamr board, fast interpreter (threads test)"
#define RUNTIME_USAGE " --wasm build/wasmip.wasm"
static wasmip_wamr_t wamr;
static const char *wasm_path;
static int (*const has_dhcp)(void) = NULL;

static int load_runtime(const wasmip_runtime_t **rt) {
  static uint8_t image[256 * 1024];
  static uint64_t pool[384 * 1024 / 8];
  FILE *f = wasm_path ? fopen(wasm_path, "rb") : NULL;
  size_t len = f ? fread(image, 1, sizeof image, f) : 0;
  if (f) fclose(f);
  if (len == 0 || len == sizeof image) {
    fprintf(stderr, "wasmip-threads: cannot read --wasm %s\n", wasm_path ? wasm_path : "(missing)");
    return -1;
  }
  if (wasmip_wamr_init(pool, sizeof pool) || wasmip_wamr_load(&wamr, image, (uint32_t)len, &board, 16u * 1024u)) {
    fprintf(stderr, "wasmip-threads: WAMR: %s\n", wamr.error);
    return -1;
  }
  *rt = &wamr.rt;
  return 0;
}
#else
#include "wasmip_w2c.h"
#define RUNTIME_NAME "posix board (threads test)"
#define RUNTIME_USAGE ""
static Z_stack_instance_t inst;
static struct Z_phy_instance_t phy = {&board};
static const char *wasm_path;
static int (*const has_dhcp)(void) = wasmip_w2c_has_dhcp;

static int load_runtime(const wasmip_runtime_t **rt) {
  static wasmip_runtime_t runtime;
  wasm_rt_init();
  Z_stack_init_module();
  Z_stack_instantiate(&inst, &phy);
  runtime = wasmip_w2c_runtime(&inst);
  *rt = &runtime;
  return 0;
}
#endif

static struct {
  uint32_t peer, dns_ip;
  uint16_t echo_port, udp_port;
  const char *dns_name;
  uint32_t tcp, bytes, udp, calls;
} cfg = {0, 0, 0, 0, NULL, 4, 256 * 1024, 2, 20000};

static atomic_int failures;

#define FAIL(...)                      \
  do {                                 \
    printf("FAIL " __VA_ARGS__);       \
    printf("\n");                      \
    fflush(stdout);                    \
    atomic_fetch_add(&failures, 1);    \
  } while (0)
#define OK(...)                \
  do {                         \
    printf("ok " __VA_ARGS__); \
    printf("\n");              \
    fflush(stdout);            \
  } while (0)

static int flag(void *arg, const char *f, const char *v) {
  (void)arg;
  uint32_t ip;
  if (!strcmp(f, "--peer") || !strcmp(f, "--dns-ip")) {
    if (wasmip_parse_ip(v, &ip)) {
      fprintf(stderr, "bad %s %s\n", f, v);
      return -1;
    }
    *(!strcmp(f, "--peer") ? &cfg.peer : &cfg.dns_ip) = ip;
    return 1;
  }
  if (!strcmp(f, "--wasm")) {
    wasm_path = v;
    return 1;
  }
  if (!strcmp(f, "--dns-name")) {
    cfg.dns_name = v;
    return 1;
  }
  char *end;
  unsigned long n = strtoul(v, &end, 10);
  if (*end || n > 100000000ul) {
    fprintf(stderr, "bad %s %s\n", f, v);
    return -1;
  }
  if (!strcmp(f, "--echo-port")) cfg.echo_port = (uint16_t)n;
  else if (!strcmp(f, "--udp-port")) cfg.udp_port = (uint16_t)n;
  else if (!strcmp(f, "--tcp")) cfg.tcp = (uint32_t)n;
  else if (!strcmp(f, "--bytes")) cfg.bytes = (uint32_t)n;
  else if (!strcmp(f, "--udp")) cfg.udp = (uint32_t)n;
  else if (!strcmp(f, "--calls")) cfg.calls = (uint32_t)n;
  else return 0;
  return 1;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Stream i's bytes: xorshift32 from a seed per stream, so each connection carries distinct data. */
static void fill(uint8_t *p, uint32_t n, uint32_t seed) {
  uint32_t x = seed * 2654435761u + 1u;
  for (uint32_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
}

static int32_t noop(wasmip_board_t *b, void *arg) {
  (void)b;
  (void)arg;
  return 7;
}

/* ---- the full ring: hold the stack task inside a call, fill the ring, one more is refused ---- */

static pthread_mutex_t hold_m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_c = PTHREAD_COND_INITIALIZER;
static int holding, released;

static int32_t hold(wasmip_board_t *b, void *arg) {
  (void)b;
  (void)arg;
  pthread_mutex_lock(&hold_m);
  holding = 1;
  pthread_cond_broadcast(&hold_c);
  while (!released) pthread_cond_wait(&hold_c, &hold_m);
  pthread_mutex_unlock(&hold_m);
  return 1;
}

static void *call_thread(void *arg) {
  intptr_t which = (intptr_t)arg;
  return (void *)(intptr_t)wasmip_api_call(&api, which ? noop : hold, NULL);
}

static void check_queue_full(void) {
  pthread_t holder, t[WASMIP_API_QUEUE_LEN];
  pthread_create(&holder, NULL, call_thread, (void *)0);
  pthread_mutex_lock(&hold_m);
  while (!holding) pthread_cond_wait(&hold_c, &hold_m);
  pthread_mutex_unlock(&hold_m);
  for (unsigned i = 0; i < WASMIP_API_QUEUE_LEN; i++) pthread_create(&t[i], NULL, call_thread, (void *)1);
  while (wasmip_api_pending(&api) < WASMIP_API_QUEUE_LEN) {
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  int32_t r = wasmip_api_call(&api, noop, NULL);
  pthread_mutex_lock(&hold_m);
  released = 1;
  pthread_cond_broadcast(&hold_c);
  pthread_mutex_unlock(&hold_m);
  void *v;
  pthread_join(holder, &v);
  int bad = (intptr_t)v != 1;
  for (unsigned i = 0; i < WASMIP_API_QUEUE_LEN; i++) {
    pthread_join(t[i], &v);
    bad |= (intptr_t)v != 7;
  }
  if (r != WASMIP_EQUEUEFULL || bad) FAIL("queue full: call returned %d, queued calls %s", r, bad ? "failed" : "completed");
  else OK("queue full: call %u refused with WASMIP_EQUEUEFULL, the %u queued completed", WASMIP_API_QUEUE_LEN + 1, WASMIP_API_QUEUE_LEN);
}

/* ---- single-thread checks ---- */

static void check_round_trip(void) {
  double t0 = now_s();
  for (uint32_t i = 0; i < cfg.calls; i++)
    if (wasmip_api_call(&api, noop, NULL) != 7) {
      FAIL("round trip: an empty call did not return its result");
      return;
    }
  double us = (now_s() - t0) * 1e6 / (cfg.calls ? cfg.calls : 1);
  OK("round trip: %.2f us per call (%u empty calls from one thread)", us, cfg.calls);
}

static void check_errors(void) {
  /* A port the kernel does not listen on: RST, ECONNREFUSED. */
  int32_t fd = wasmip_api_tcp_socket(&api);
  int32_t r = fd < 0 ? fd : wasmip_api_tcp_connect(&api, fd, cfg.peer, 9, 5000);
  if (r != WASMIP_ECONNREFUSED) FAIL("connect to a closed port returned %d, not ECONNREFUSED", r);
  else OK("connect to a closed port: ECONNREFUSED");
  if (fd >= 0) wasmip_api_tcp_close(&api, fd);

  int32_t u = wasmip_api_udp_socket(&api);
  r = u < 0 ? u : wasmip_api_udp_bind(&api, u, 0);
  uint8_t buf[64];
  double t0 = now_s();
  if (r == 0) r = wasmip_api_udp_recvfrom(&api, u, buf, sizeof buf, NULL, NULL, 150);
  double waited = now_s() - t0;
  if (r != WASMIP_EWOULDBLOCK || waited < 0.14) FAIL("recvfrom with nothing to receive returned %d after %.3f s", r, waited);
  else OK("recvfrom timeout: EWOULDBLOCK after %.3f s (150 ms asked)", waited);
  if (u >= 0) wasmip_api_udp_close(&api, u);
}

/* A recv blocked in one thread returns 0 when another shuts the connection down: the change of
 * its events wakes it, not a timeout. */
typedef struct {
  int32_t fd, r;
  double seconds;
} blocked_t;

static void *blocked_recv(void *p) {
  blocked_t *x = p;
  uint8_t b[16];
  double t0 = now_s();
  x->r = wasmip_api_tcp_recv(&api, x->fd, b, sizeof b, 10000);
  x->seconds = now_s() - t0;
  return NULL;
}

static void check_shutdown_wakes(void) {
  blocked_t x = {wasmip_api_tcp_socket(&api), 1, 0};
  int32_t r = x.fd < 0 ? x.fd : wasmip_api_tcp_connect(&api, x.fd, cfg.peer, cfg.echo_port, 5000);
  if (r != 0) {
    FAIL("shutdown wakes recv: connect %d", r);
    if (x.fd >= 0) wasmip_api_tcp_close(&api, x.fd);
    return;
  }
  pthread_t t;
  pthread_create(&t, NULL, blocked_recv, &x);
  struct timespec ms50 = {0, 50000000};
  nanosleep(&ms50, NULL);
  r = wasmip_api_tcp_shutdown(&api, x.fd, 2);
  pthread_join(t, NULL);
  wasmip_api_tcp_close(&api, x.fd);
  if (r != 0 || x.r != 0 || x.seconds > 5) FAIL("shutdown wakes recv: shutdown %d, the blocked recv returned %d after %.3f s", r, x.r, x.seconds);
  else OK("shutdown from another thread: the blocked recv returns 0 (end of stream)");
}

/* listen/accept/connect between two threads over the core's loopback (127.0.0.1). */
static void *loop_client(void *arg) {
  (void)arg;
  int32_t fd = wasmip_api_tcp_socket(&api);
  int32_t r = fd < 0 ? fd : wasmip_api_tcp_connect(&api, fd, 0x7f000001u, 7100, 5000);
  static const char msg[] = "hello over loopback";
  if (r == 0) r = wasmip_api_tcp_send(&api, fd, msg, sizeof msg, 5000);
  if (fd >= 0) {
    wasmip_api_tcp_shutdown(&api, fd, 1);
    char b[8];
    wasmip_api_tcp_recv(&api, fd, b, sizeof b, 5000); /* the server's FIN */
    wasmip_api_tcp_close(&api, fd);
  }
  return (void *)(intptr_t)r;
}

static void check_loopback(void) {
  int32_t l = wasmip_api_tcp_socket(&api);
  int32_t r = l < 0 ? l : wasmip_api_tcp_bind(&api, l, 7100);
  if (r == 0) r = wasmip_api_tcp_listen(&api, l, 2);
  if (r != 0) {
    FAIL("loopback: listen %d", r);
    return;
  }
  int32_t none = wasmip_api_tcp_accept(&api, l, 50);
  pthread_t c;
  pthread_create(&c, NULL, loop_client, NULL);
  int32_t fd = wasmip_api_tcp_accept(&api, l, 5000);
  char buf[64];
  uint32_t got = 0;
  int32_t n = 0;
  while (fd >= 0 && (n = wasmip_api_tcp_recv(&api, fd, buf + got, (uint32_t)sizeof buf - got, 5000)) > 0) got += (uint32_t)n;
  void *v;
  if (fd >= 0) wasmip_api_tcp_close(&api, fd);
  pthread_join(c, &v);
  wasmip_api_tcp_close(&api, l);
  if (none != WASMIP_EWOULDBLOCK || fd < 0 || n != 0 || got != 20 || strcmp(buf, "hello over loopback") || (intptr_t)v != 20)
    FAIL("loopback: accept with none waiting %d, accept %d, recv %d after %u bytes, client send %d", none, fd, n, got, (int)(intptr_t)v);
  else OK("loopback: accept timeout EWOULDBLOCK; accept, 20 bytes and the end of stream between two threads");
}

/* ---- the load: TCP echo (a sender and a receiver thread per connection), UDP echo, DNS ---- */

typedef struct {
  uint32_t id;
  int32_t fd;
  int32_t send_result;
  double seconds;
} tcp_job_t;

static void *tcp_sender(void *p) {
  tcp_job_t *j = p;
  uint8_t *data = malloc(cfg.bytes);
  fill(data, cfg.bytes, j->id);
  int32_t r = 0;
  /* Writes of 1..9000 bytes: most larger than io_buffer(), cut inside the call. */
  for (uint32_t off = 0, k = 0; off < cfg.bytes && r >= 0; off += (uint32_t)r, k++) {
    uint32_t n = 1u + (k * 7919u + j->id * 131u) % 9000u;
    if (n > cfg.bytes - off) n = cfg.bytes - off;
    r = wasmip_api_tcp_send(&api, j->fd, data + off, n, 20000);
    if (r >= 0 && (uint32_t)r != n) r = WASMIP_EINVAL; /* a short send without an error */
  }
  j->send_result = r < 0 ? r : 0;
  if (r >= 0) wasmip_api_tcp_shutdown(&api, j->fd, 1); /* FIN: the server closes after echoing */
  free(data);
  return NULL;
}

static void *tcp_worker(void *p) {
  tcp_job_t *j = p;
  double t0 = now_s();
  j->fd = wasmip_api_tcp_socket(&api);
  int32_t r = j->fd < 0 ? j->fd : wasmip_api_tcp_connect(&api, j->fd, cfg.peer, cfg.echo_port, 5000);
  if (r != 0) {
    FAIL("tcp %u: socket/connect %d", j->id, r);
    if (j->fd >= 0) wasmip_api_tcp_close(&api, j->fd);
    return NULL;
  }
  pthread_t s;
  pthread_create(&s, NULL, tcp_sender, j);
  uint8_t *want = malloc(cfg.bytes), *got = malloc(cfg.bytes);
  fill(want, cfg.bytes, j->id);
  uint32_t n = 0;
  int32_t k = 1;
  while (n < cfg.bytes) {
    /* Reads of varying size too; each returns what is there. */
    uint32_t ask = 1u + (n * 31u) % 6000u;
    if (ask > cfg.bytes - n) ask = cfg.bytes - n;
    k = wasmip_api_tcp_recv(&api, j->fd, got + n, ask, 20000);
    if (k <= 0) break;
    n += (uint32_t)k;
  }
  int32_t eof = n == cfg.bytes ? wasmip_api_tcp_recv(&api, j->fd, got, 1, 20000) : k;
  pthread_join(s, NULL);
  wasmip_api_tcp_close(&api, j->fd);
  j->seconds = now_s() - t0;
  if (j->send_result != 0 || n != cfg.bytes || memcmp(want, got, cfg.bytes) != 0 || eof != 0) {
    uint32_t at = 0;
    while (at < n && want[at] == got[at]) at++;
    FAIL("tcp %u: send %d, received %u of %u bytes (last recv %d), first difference at %u, then %d", j->id, j->send_result, n, cfg.bytes, k,
         at, eof);
  }
  free(want);
  free(got);
  return NULL;
}

typedef struct {
  uint32_t id;
  uint32_t echoed, resent;
} udp_job_t;

static void *udp_worker(void *p) {
  udp_job_t *j = p;
  int32_t fd = wasmip_api_udp_socket(&api);
  int32_t r = fd < 0 ? fd : wasmip_api_udp_bind(&api, fd, 0);
  if (r != 0) {
    FAIL("udp %u: socket/bind %d", j->id, r);
    return NULL;
  }
  uint8_t out[1400], in[1500];
  for (uint32_t k = 0; k < 100; k++) {
    uint32_t len = 16u + (k * 97u + j->id * 13u) % (sizeof out - 16u);
    fill(out, len, 1000u + j->id * 1000u + k);
    int done = 0;
    for (int tries = 0; tries < 3 && !done; tries++) {
      if (tries) j->resent++;
      r = wasmip_api_udp_sendto(&api, fd, out, len, cfg.peer, cfg.udp_port);
      if (r != (int32_t)len) break;
      /* A late echo of an earlier try is skipped by its content. */
      for (;;) {
        uint32_t ip = 0;
        uint16_t port = 0;
        r = wasmip_api_udp_recvfrom(&api, fd, in, sizeof in, &ip, &port, 1000);
        if (r < 0) break;
        if ((uint32_t)r == len && !memcmp(in, out, len) && ip == cfg.peer && port == cfg.udp_port) {
          done = 1;
          break;
        }
      }
    }
    if (!done) {
      FAIL("udp %u: datagram %u (%u bytes) not echoed: %d", j->id, k, len, r);
      break;
    }
    j->echoed++;
  }
  wasmip_api_udp_close(&api, fd);
  return NULL;
}

static void *dns_worker(void *p) {
  uint32_t *ip = p;
  int32_t r = wasmip_api_dns_resolve(&api, cfg.dns_name, ip);
  if (r != 0) FAIL("dns: %s: %d", cfg.dns_name, r);
  return NULL;
}

static void check_load(void) {
  uint32_t dns_server[2] = {cfg.peer, 0};
  if (cfg.dns_name && wasmip_api_export(&api, "dns_set_servers", 2, dns_server) != 0) FAIL("dns_set_servers");
  tcp_job_t tj[64];
  udp_job_t uj[64];
  pthread_t tt[64], ut[64], dt;
  uint32_t dns_ip = 0;
  if (cfg.tcp > 64 || cfg.udp > 64) {
    FAIL("at most 64 threads of a kind");
    return;
  }
  int failed = atomic_load(&failures);
  double t0 = now_s();
  for (uint32_t i = 0; i < cfg.tcp; i++) {
    tj[i] = (tcp_job_t){i + 1, -1, 0, 0};
    pthread_create(&tt[i], NULL, tcp_worker, &tj[i]);
  }
  for (uint32_t i = 0; i < cfg.udp; i++) {
    uj[i] = (udp_job_t){i + 1, 0, 0};
    pthread_create(&ut[i], NULL, udp_worker, &uj[i]);
  }
  if (cfg.dns_name) pthread_create(&dt, NULL, dns_worker, &dns_ip);
  for (uint32_t i = 0; i < cfg.tcp; i++) pthread_join(tt[i], NULL);
  for (uint32_t i = 0; i < cfg.udp; i++) pthread_join(ut[i], NULL);
  if (cfg.dns_name) pthread_join(dt, NULL);
  double secs = now_s() - t0;
  uint32_t echoed = 0, resent = 0;
  for (uint32_t i = 0; i < cfg.udp; i++) echoed += uj[i].echoed, resent += uj[i].resent;
  if (atomic_load(&failures) == failed)
    OK("load: %u TCP connections x %u bytes echoed (2 threads each), %u UDP threads %u datagrams echoed (%u resent), in %.2f s", cfg.tcp,
     cfg.bytes, cfg.udp, echoed, resent, secs);
  if (cfg.dns_name) {
    if (dns_ip != cfg.dns_ip) FAIL("dns: %s resolved to %08x, want %08x", cfg.dns_name, dns_ip, cfg.dns_ip);
    else OK("dns: %s resolved by a thread while the others ran", cfg.dns_name);
  }
}

/* ---- the controller: the checks, then the stack task is told to stop (from inside it) ---- */

static int32_t stop_board(wasmip_board_t *b, void *arg) {
  (void)arg;
  wasmip_board_request_stop(b);
  return 0;
}

static void *controller(void *arg) {
  (void)arg;
  if (wasmip_api_call(&api, noop, NULL) != 7) FAIL("first call"); /* returns once the stack task runs */
  check_queue_full();
  check_round_trip();
  check_errors();
  check_shutdown_wakes();
  check_loopback();
  check_load();
  wasmip_api_call(&api, stop_board, NULL);
  return NULL;
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  wasmip_posix_opts_t o;
  int r = wasmip_posix_parse(&o, argc, argv, flag, NULL,
                             "  --peer IP --echo-port P --udp-port U [--dns-name NAME --dns-ip IP] [--tcp N] [--bytes N] [--udp N] [--calls N]" RUNTIME_USAGE "\n",
                             has_dhcp);
  if (r) return r == 1 ? 0 : 2;
  if (!cfg.peer || !cfg.echo_port || !cfg.udp_port || (cfg.dns_name && !cfg.dns_ip)) {
    fprintf(stderr, "wasmip-threads: --peer, --echo-port and --udp-port are required (--dns-ip with --dns-name)\n");
    return 2;
  }
  const wasmip_runtime_t *rt;
  if (load_runtime(&rt)) return 2;
  if (wasmip_posix_open(&o, &board)) return 1;
  wasmip_board_setup(&board, rt, wasmip_posix_port());
  if (wasmip_api_init(&api, &board)) return 1;

  /* The stack task is this thread (the runtime was set up on it); the callers are others. */
  pthread_t ctl;
  pthread_create(&ctl, NULL, controller, NULL);
  const wasmip_posix_image_t image = {RUNTIME_NAME, "threads", NULL, NULL};
  r = wasmip_posix_run(&board, &o, &image);
  wasmip_api_stop(&api);
  pthread_join(ctl, NULL);
  int32_t after = wasmip_api_tcp_socket(&api);
  if (after != WASMIP_ESTOPPED) FAIL("a call after the stack task stopped returned %d", after);
  else OK("after stop: WASMIP_ESTOPPED");
  printf("api: calls %u queue_full %u parked %u retries %u timeouts %u\n", api.stats.calls, api.stats.queue_full, api.stats.parked,
         api.stats.retries, api.stats.timeouts);
  int f = atomic_load(&failures);
  printf("%s\n", f ? "FAILED" : "PASSED");
  return r ? r : f ? 1 : 0;
}
