/*
 * boards/posix/main.c - the native Linux board: a firmware .wasm translated to C by wasm2c
 * (stack.c/stack.h, module name "stack"), the shared board code (boards/common), and a TAP driver.
 *
 *   wasmip-<app> --tap IFNAME --board-ip A.B.C.D/len [--gw A.B.C.D] [--mac 02:..] [--pcap FILE]
 *                [--log-level error|warn|info|debug]
 *
 * Run it where the tap lives (`ip netns exec NS wasmip-http --tap tap0 ...`): it attaches to an
 * existing tap (or creates one that disappears when it exits). Prints "ready" on stdout once the
 * stack is initialised and frames flow; log lines go to stderr as "[level] message". SIGINT or
 * SIGTERM: prints the counters (netstat -s style) on stdout and exits 0. A trap inside the module
 * (wasm2c's trap handler: out-of-bounds access, unreachable, ...) is reported on stderr as
 * "wasmip: trap in <export>(): <kind>" and ends the process with status 3.
 *
 * Threads: a reader thread is the driver (blocking read on the tap, wasmip_board_rx into the
 * shared pool, eventfd to wake); the main thread is the stack task (wasmip_board_run), the only
 * one that calls into the module and the only one that writes to the tap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "stack.h"
#include "wasm-rt-impl.h"
#include "wasmip_board.h"

#define EXIT_TRAP 3

static wasmip_board_t board; /* static: the pool lives here, nothing is allocated per frame */
static Z_stack_instance_t inst;
struct Z_phy_instance_t {
  wasmip_board_t *board;
};
static struct Z_phy_instance_t phy = {&board};

static int tap_fd = -1;
static int wake_fd = -1;
static FILE *pcap;
static uint32_t log_level = WASMIP_LOG_INFO;
static struct timespec t0;

/* ---------------- the wasm2c runtime ---------------- */

static wasm_rt_trap_t last_trap;

static const char *trap_kind(wasm_rt_trap_t t) {
  switch (t) {
    case WASM_RT_TRAP_NONE: return "none";
    case WASM_RT_TRAP_OOB: return "out of bounds memory access (or call stack exhausted)";
    case WASM_RT_TRAP_INT_OVERFLOW: return "integer overflow";
    case WASM_RT_TRAP_DIV_BY_ZERO: return "integer divide by zero";
    case WASM_RT_TRAP_INVALID_CONVERSION: return "invalid conversion to integer";
    case WASM_RT_TRAP_UNREACHABLE: return "unreachable executed";
    case WASM_RT_TRAP_CALL_INDIRECT: return "invalid call_indirect";
    case WASM_RT_TRAP_UNCAUGHT_EXCEPTION: return "uncaught exception";
#if !WASM_RT_MERGED_OOB_AND_EXHAUSTION_TRAPS
    case WASM_RT_TRAP_EXHAUSTION: return "call stack exhausted";
#endif
    default: return "unknown trap";
  }
}

static const char *w2c_trap_message(void *ctx) {
  (void)ctx;
  return trap_kind(last_trap);
}

static uint8_t *w2c_memory(void *ctx, uint32_t *size) {
  wasm_rt_memory_t *m = Z_stackZ_memory((Z_stack_instance_t *)ctx);
  *size = (uint32_t)m->size;
  return m->data;
}

static int w2c_call(void *ctx, wasmip_fn_t fn, uint32_t *a) {
  Z_stack_instance_t *I = ctx;
  wasm_rt_trap_t t = wasm_rt_impl_try();
  if (t != WASM_RT_TRAP_NONE) {
    last_trap = t;
    return (int)t;
  }
  switch (fn) {
    case WASMIP_FN_INIT: a[0] = Z_stackZ_init(I, a[0], a[1], a[2], a[3], a[4]); break;
    case WASMIP_FN_SET_IPV4: a[0] = Z_stackZ_set_ipv4(I, a[0], a[1], a[2]); break;
    case WASMIP_FN_RX_BUFFER: a[0] = Z_stackZ_rx_buffer(I); break;
    case WASMIP_FN_RX_BUFFER_SIZE: a[0] = Z_stackZ_rx_buffer_size(I); break;
    case WASMIP_FN_INPUT: a[0] = Z_stackZ_input(I, a[0]); break;
    case WASMIP_FN_POLL: a[0] = Z_stackZ_poll(I, a[0]); break;
    case WASMIP_FN_COUNTER_COUNT: a[0] = Z_stackZ_counter_count(I); break;
    case WASMIP_FN_COUNTER: a[0] = Z_stackZ_counter(I, a[0]); break;
    case WASMIP_FN_COUNTER_NAME: a[0] = Z_stackZ_counter_name(I, a[0]); break;
    case WASMIP_FN_COUNTER_KIND: a[0] = Z_stackZ_counter_kind(I, a[0]); break;
    case WASMIP_FN_MEMORY_USED: a[0] = Z_stackZ_memory_used(I); break;
    case WASMIP_FN_SET_LOG_LEVEL: Z_stackZ_set_log_level(I, a[0]); break;
    default: return -1;
  }
  return 0;
}

static const wasmip_runtime_t runtime = {&inst, w2c_call, w2c_memory, w2c_trap_message};

/* The phy.* imports wasm2c links against. A module that does not import one leaves it unused. */
void Z_phyZ_tx(struct Z_phy_instance_t *p, u32 ptr, u32 len) { wasmip_phy_tx(p->board, wasmip_board_mem(p->board, ptr, len), len); }
u32 Z_phyZ_now_ms(struct Z_phy_instance_t *p) { return wasmip_phy_now_ms(p->board); }
u32 Z_phyZ_random(struct Z_phy_instance_t *p) { return wasmip_phy_random(p->board); }
void Z_phyZ_panic(struct Z_phy_instance_t *p, u32 ptr, u32 len, u32 line) {
  const uint8_t *m = wasmip_board_mem(p->board, ptr, len);
  wasmip_phy_panic(p->board, m ? (const char *)m : "(bad message pointer)", m ? len : 21u, line);
}
void Z_phyZ_log(struct Z_phy_instance_t *p, u32 level, u32 ptr, u32 len) {
  const uint8_t *m = wasmip_board_mem(p->board, ptr, len);
  if (m) wasmip_phy_log(p->board, level, (const char *)m, len);
}

/* ---------------- the port: Linux ---------------- */

static int port_tx(void *ctx, const uint8_t *frame, uint32_t len) {
  (void)ctx;
  ssize_t n;
  do n = write(tap_fd, frame, len);
  while (n < 0 && errno == EINTR);
  return n == (ssize_t)len ? 0 : -1; /* a refused frame is lost, as on a wire */
}

static uint32_t port_now_ms(void *ctx) {
  (void)ctx;
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint32_t)((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
}

static uint32_t port_random(void *ctx) {
  (void)ctx;
  uint32_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r) r = (uint32_t)rand();
  return r;
}

static const char *const level_names[] = {"error", "warn", "info", "debug"};

static void port_log(void *ctx, uint32_t level, const char *msg, uint32_t len) {
  (void)ctx;
  if (level > log_level) return;
  fprintf(stderr, "[%s] %.*s\n", level_names[level < 4 ? level : 3], (int)len, msg);
}

static void port_wait(void *ctx, uint32_t timeout_ms) {
  (void)ctx;
  struct pollfd p = {.fd = wake_fd, .events = POLLIN};
  int r = poll(&p, 1, (int)timeout_ms);
  if (r > 0) {
    uint64_t v;
    if (read(wake_fd, &v, sizeof v) < 0) { /* EAGAIN: someone else consumed it */
    }
  }
}

static void port_wake(void *ctx) {
  (void)ctx;
  uint64_t one = 1;
  if (write(wake_fd, &one, sizeof one) < 0) { /* the counter is already non-zero */
  }
}

static void pcap_record(const uint8_t *frame, uint32_t len) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  uint32_t h[4] = {(uint32_t)t.tv_sec, (uint32_t)(t.tv_nsec / 1000), len, len};
  fwrite(h, sizeof h, 1, pcap);
  fwrite(frame, 1, len, pcap);
}

static void port_capture(void *ctx, int dir, const uint8_t *frame, uint32_t len) {
  (void)ctx;
  (void)dir;
  if (pcap) pcap_record(frame, len);
}

static const wasmip_port_t port = {NULL, port_tx, port_now_ms, port_random, port_log, port_wait, port_wake, port_capture};

/* The driver: the receive "callback" runs in this thread. */
static void *reader(void *arg) {
  (void)arg;
  static uint8_t buf[65536];
  for (;;) {
    ssize_t n = read(tap_fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      fprintf(stderr, "wasmip: read tap: %s\n", strerror(errno));
      wasmip_board_request_stop(&board);
      return NULL;
    }
    wasmip_board_rx(&board, buf, (uint32_t)n); /* drops and counts when the pool is full */
  }
}

static int open_tap(const char *name) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    fprintf(stderr, "wasmip: open /dev/net/tun: %s\n", strerror(errno));
    return -1;
  }
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
  strncpy(ifr.ifr_name, name, IFNAMSIZ - 1);
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
    fprintf(stderr, "wasmip: TUNSETIFF %s: %s\n", name, strerror(errno));
    close(fd);
    return -1;
  }
  return fd;
}

static void on_signal(int sig) {
  (void)sig;
  board.stop = 1;
  port_wake(NULL); /* write(2) on an eventfd: async-signal-safe */
}

static void print_counter(void *arg, const char *name, uint32_t kind, uint32_t value) {
  (void)arg;
  (void)kind;
  if (value) printf("  %-32s %u\n", name, value);
}

static void print_stats(void) {
  const wasmip_board_stats_t *s = &board.stats;
  printf("board:\n  rx_queued %u rx_pool_full %u rx_bad_length %u rx_input %u tx_frames %u tx_errors %u polls %u waits %u\n",
         s->rx_queued, s->rx_pool_full, s->rx_bad_length, s->rx_input, s->tx_frames, s->tx_errors, s->polls, s->waits);
  if (!board.trapped) {
    printf("core:\n");
    wasmip_board_counters(&board, print_counter, NULL);
  }
  fflush(stdout);
}

static int report_trap(void) {
  char msg[160];
  wasmip_board_describe_trap(&board, msg, sizeof msg);
  fprintf(stderr, "wasmip: %s\n", msg);
  print_stats();
  return EXIT_TRAP;
}

static void usage(const char *argv0) {
  fprintf(stderr,
          "usage: %s --tap IFNAME --board-ip A.B.C.D/len [--gw A.B.C.D] [--mac XX:XX:XX:XX:XX:XX]\n"
          "          [--pcap FILE] [--log-level error|warn|info|debug]\n",
          argv0);
}

int main(int argc, char **argv) {
  const char *tap = NULL, *cidr = NULL, *gw_s = NULL, *mac_s = "02:77:69:70:00:02", *pcap_path = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(argv[0]);
      return 0;
    }
    if (!v) {
      fprintf(stderr, "wasmip: %s needs a value\n", a);
      usage(argv[0]);
      return 2;
    }
    if (!strcmp(a, "--tap")) tap = v;
    else if (!strcmp(a, "--board-ip")) cidr = v;
    else if (!strcmp(a, "--gw")) gw_s = v;
    else if (!strcmp(a, "--mac")) mac_s = v;
    else if (!strcmp(a, "--pcap")) pcap_path = v;
    else if (!strcmp(a, "--log-level")) {
      uint32_t l = 0;
      while (l < 4 && strcmp(v, level_names[l])) l++;
      if (l == 4) {
        fprintf(stderr, "wasmip: bad --log-level %s\n", v);
        return 2;
      }
      log_level = l;
    } else {
      fprintf(stderr, "wasmip: unknown option %s\n", a);
      usage(argv[0]);
      return 2;
    }
    i++;
  }
  uint32_t ip = 0, mask = 0, gw = 0;
  uint8_t mac[6];
  if (!tap || strlen(tap) >= IFNAMSIZ) {
    fprintf(stderr, "wasmip: --tap IFNAME is required\n");
    return 2;
  }
  if (!cidr || wasmip_parse_cidr(cidr, &ip, &mask)) {
    fprintf(stderr, "wasmip: --board-ip A.B.C.D/len is required (got %s)\n", cidr ? cidr : "nothing");
    return 2;
  }
  if (gw_s && wasmip_parse_ip(gw_s, &gw)) {
    fprintf(stderr, "wasmip: bad --gw %s\n", gw_s);
    return 2;
  }
  if (wasmip_parse_mac(mac_s, mac)) {
    fprintf(stderr, "wasmip: bad --mac %s\n", mac_s);
    return 2;
  }

  clock_gettime(CLOCK_MONOTONIC, &t0);
  tap_fd = open_tap(tap);
  if (tap_fd < 0) return 1;
  wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd < 0) {
    fprintf(stderr, "wasmip: eventfd: %s\n", strerror(errno));
    return 1;
  }
  if (pcap_path) {
    pcap = fopen(pcap_path, "wb");
    if (!pcap) {
      fprintf(stderr, "wasmip: %s: %s\n", pcap_path, strerror(errno));
      return 1;
    }
    const uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535u, 1u}; /* v2.4, Ethernet */
    fwrite(hdr, sizeof hdr, 1, pcap);
  }

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);

  /* The module: wasm2c's runtime (installs its SIGSEGV handler for memory bounds), then the
   * instance, with static data and the 2-page linear memory; nothing is allocated after this. */
  wasm_rt_init();
  Z_stack_init_module();
  Z_stack_instantiate(&inst, &phy);
  wasmip_board_setup(&board, &runtime, &port);
  uint32_t a[1] = {log_level};
  if (wasmip_board_call(&board, WASMIP_FN_SET_LOG_LEVEL, a)) return report_trap();
  int32_t rc = wasmip_board_start(&board, mac, ip, mask, gw);
  if (rc == WASMIP_BOARD_TRAPPED) return report_trap();
  if (rc < 0) {
    fprintf(stderr, "wasmip: init refused the configuration (%d)\n", rc);
    return 1;
  }
  if (wasmip_board_call(&board, WASMIP_FN_MEMORY_USED, a)) return report_trap();
  uint32_t memsize = 0;
  w2c_memory(&inst, &memsize);
  fprintf(stderr, "wasmip: posix board on %s, %s, core uses %u of %u bytes of linear memory, %u rx slots\n", tap, cidr, a[0], memsize,
          (unsigned)WASMIP_RXQ_SLOTS);

  /* The driver thread must not take SIGINT/SIGTERM: block them while creating it. */
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  pthread_t th;
  int e = pthread_create(&th, NULL, reader, NULL);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (e != 0) {
    fprintf(stderr, "wasmip: pthread_create: %s\n", strerror(e));
    return 1;
  }
  printf("ready\n");
  fflush(stdout);

  int r = wasmip_board_run(&board);
  if (r == WASMIP_BOARD_TRAPPED) {
    if (pcap) fclose(pcap);
    return report_trap();
  }
  if (pcap) fclose(pcap);
  print_stats();
  /* The reader thread is blocked in read(): exit the process without joining it. */
  return 0;
}
