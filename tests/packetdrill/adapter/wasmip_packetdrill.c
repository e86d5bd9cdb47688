/*
 * wasmip_packetdrill.c - packetdrill's --so_filename interface (packetdrill.h) over the
 * wasm2c-compiled core (build/wasmip.wasm). packetdrill runs its scripts against this library
 * instead of the kernel:
 *
 *   - socket calls map onto the core's tcp_* exports; blocking calls are emulated by running the
 *     core in virtual time until the call can complete (see block());
 *   - packets: netdev_send() gets an IPv4 packet from the script, the adapter adds an Ethernet
 *     header and calls input(); phy.tx frames lose their Ethernet header and queue for
 *     netdev_receive(); ARP requests from the core are answered here (every address but the
 *     core's own is at PEER_MAC), so scripts see IP only;
 *   - time is virtual: gettimeofday() reads a microsecond clock that only usleep(), a blocking call
 *     or netdev_receive() waiting for the stack's next packet moves forward (plus 1 us per read, as
 *     packetdrill spins on it); the core's phy.now_ms is that clock in ms, and its timers run at
 *     their exact deadlines (poll()'s return). A script's 200 s of timeouts take milliseconds.
 *
 * packetdrill runs a blocking call whose script line has a time range (0...1.2 connect(...)) on a
 * thread of its own while its main thread goes on with the script, so every entry point takes one
 * lock, and the main thread hands each step of virtual time to the waiting call before it goes on
 * (notify()): the call returns at the virtual time it would have on a real stack.
 *
 * --so_flags: comma-separated key=value: ip= gw= mask= (the core's address; the defaults match
 * tests/packetdrill/run.sh's --local_ip/--gateway_ip/--netmask_ip), seed= (the PRNG behind
 * phy.random: ISNs, ephemeral ports), max_wait= (seconds of virtual time netdev_receive waits for
 * the stack's next packet before failing the script; default 600), log=1 (the core's log lines and
 * every frame to stderr).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "packetdrill.h"
#include "stack.h"
#include "wasm-rt-impl.h"
#include "wasmip.h"

/* ---- fixed addresses ---- */
static const uint8_t BOARD_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
static const uint8_t PEER_MAC[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
#define DEFAULT_IP 0xC0A80002u   /* 192.168.0.2 */
#define DEFAULT_GW 0xC0A80001u   /* 192.168.0.1 */
#define DEFAULT_MASK 0xFFFF0000u /* 255.255.0.0: packetdrill's default netmask */

/* Each socket also holds a real fd (on /dev/null) and is known to packetdrill by its number:
 * packetdrill's clean-up close()s the fds of the sockets a script left open with the real close(). */
#define MAX_FDS 32
#define MAX_REAL_FD 1024
/* Frames the stack sent that the script has not read yet. */
#define TXQ_SLOTS 256
#define FRAME_MAX 1514
#define ARPQ_SLOTS 8
/* The virtual clock starts here (µs): an arbitrary date, away from 0 and from the u32 ms wrap. */
#define CLOCK_START_US 1000000000000ull

struct Z_phy_instance_t {
  int unused;
};

typedef struct {
  uint32_t len;
  uint64_t time_us;
  uint8_t data[FRAME_MAX];
} frame_t;

typedef struct {
  int open;
  int real_fd;
  int nonblock;
  int keepalive, nodelay;
  uint32_t keepidle_s, keepintvl_s, keepcnt;
  int reuseaddr;
  int rcvbuf_req, sndbuf_req; /* what the script asked for (the rings are fixed, config.ts) */
  int connecting;             /* connect() in progress (EINPROGRESS / EALREADY) */
  int error_taken;            /* SO_ERROR already reported this error */
} sock_t;

static struct {
  pthread_mutex_t lock;
  pthread_cond_t changed;  /* the core's state or the clock moved (gen) */
  pthread_cond_t seen_cv;  /* the blocked call has looked at gen */
  pthread_t main_thread;
  uint64_t gen, seen;
  int waiting;             /* a call on packetdrill's syscall thread is blocked */
  struct Z_phy_instance_t phy;
  Z_stack_instance_t inst;
  uint64_t now_us;
  uint64_t deadline_us;    /* the core's next timer (from poll()) */
  uint32_t ip, gw, mask;
  uint32_t rng;
  uint64_t max_wait_us;
  int log;
  uint32_t io, io_size, rx, rx_size;
  /* Where write()/read() data crosses: a page the adapter adds to linear memory, above all the
   * core uses (it never allocates and never looks at the memory's size), so that one write() or
   * read() is one tcp_send()/tcp_recv() as on a real stack: io_buffer-sized pieces would each go
   * out as a segment under TCP_NODELAY, and each piece read would send its own window update. */
  uint32_t buf, buf_size;
  uint32_t snd_buf, rcv_buf, mss;
  frame_t txq[TXQ_SLOTS];
  uint32_t txq_head, txq_tail;
  uint32_t txq_dropped;
  uint8_t arpq[ARPQ_SLOTS][42];
  uint32_t arpq_n;
  sock_t socks[MAX_FDS];
  int16_t core_of[MAX_REAL_FD]; /* real fd -> core fd + 1 (0: not ours) */
} A;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "wasmip-packetdrill: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static uint8_t *mem(void) { return Z_stackZ_memory(&A.inst)->data; }
static uint32_t mem_size(void) { return (uint32_t)Z_stackZ_memory(&A.inst)->size; }
static uint32_t now_ms(void) { return (uint32_t)(A.now_us / 1000u); }

static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) { return get16(p) << 16 | get16(p + 2); }
static void put16(uint8_t *p, uint32_t v) {
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}

/* ---- the phy imports ---- */

void Z_phyZ_tx(struct Z_phy_instance_t *p, u32 ptr, u32 len) {
  (void)p;
  if ((uint64_t)ptr + len > mem_size() || len < 14 || len > FRAME_MAX) die("phy.tx(%u, %u): bad frame", ptr, len);
  const uint8_t *f = mem() + ptr;
  uint32_t type = get16(f + 12);
  if (A.log) fprintf(stderr, "[%llu.%06llu] tx type 0x%04x, %u bytes\n", (unsigned long long)(A.now_us / 1000000u), (unsigned long long)(A.now_us % 1000000u), type, len);
  if (type == 0x0806) {
    /* An ARP request for anyone but ourselves: PEER_MAC has it. Answered after this call returns
     * (input() must not run inside the core). */
    if (len < 42 || get16(f + 20) != 1 || get32(f + 38) == get32(f + 28) || A.arpq_n == ARPQ_SLOTS) return;
    uint8_t *r = A.arpq[A.arpq_n++];
    memcpy(r, f + 6, 6);
    memcpy(r + 6, PEER_MAC, 6);
    put16(r + 12, 0x0806);
    memcpy(r + 14, f + 14, 6); /* htype, ptype, hlen, plen */
    put16(r + 20, 2);
    memcpy(r + 22, PEER_MAC, 6);
    memcpy(r + 28, f + 38, 4); /* the address asked for */
    memcpy(r + 32, f + 22, 10); /* the asker's MAC and IP */
    return;
  }
  if (type != 0x0800) return;
  if (A.txq_head - A.txq_tail == TXQ_SLOTS) {
    A.txq_dropped++;
    return;
  }
  frame_t *q = &A.txq[A.txq_head++ % TXQ_SLOTS];
  /* IP total length, not the padded frame. */
  uint32_t ip_len = len - 14;
  if (ip_len >= 20 && get16(f + 16) <= ip_len) ip_len = get16(f + 16);
  q->len = ip_len;
  q->time_us = A.now_us;
  memcpy(q->data, f + 14, ip_len);
}

u32 Z_phyZ_now_ms(struct Z_phy_instance_t *p) {
  (void)p;
  return now_ms();
}

u32 Z_phyZ_random(struct Z_phy_instance_t *p) {
  (void)p;
  uint32_t x = A.rng; /* xorshift32: deterministic runs */
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  A.rng = x;
  return x;
}

u32 Z_phyZ_checksum(struct Z_phy_instance_t *p, u32 ptr, u32 len) {
  (void)p;
  return (uint64_t)ptr + len <= mem_size() ? wasmip_checksum(mem() + ptr, len) : 0;
}

void Z_phyZ_log(struct Z_phy_instance_t *p, u32 level, u32 ptr, u32 len) {
  (void)p;
  (void)level;
  if (A.log && (uint64_t)ptr + len <= mem_size()) fprintf(stderr, "[core] %.*s\n", (int)len, (const char *)mem() + ptr);
}

void Z_phyZ_panic(struct Z_phy_instance_t *p, u32 ptr, u32 len, u32 line) {
  (void)p;
  if ((uint64_t)ptr + len <= mem_size()) die("phy.panic: %.*s (line %u)", (int)len, (const char *)mem() + ptr, line);
  die("phy.panic (line %u)", line);
}

/* ---- driving the core (all under A.lock) ---- */

/* Every entry point: the lock, and a trap ends the run (the core cannot be called again). */
#define ENTER()                                                                    \
  pthread_mutex_lock(&A.lock);                                                     \
  if (wasm_rt_impl_try() != 0) die("the core trapped in %s", __func__)
#define LEAVE(v)                                                                   \
  do {                                                                             \
    pthread_mutex_unlock(&A.lock);                                                 \
    return (v);                                                                    \
  } while (0)

static void input_frame(const uint8_t *f, uint32_t len) {
  uint32_t n = len < 60 ? 60 : len;
  if (n > A.rx_size) return;
  uint8_t *rx = mem() + A.rx;
  memcpy(rx, f, len);
  memset(rx + len, 0, n - len);
  uint32_t id = Z_stackZ_input(&A.inst, n);
  if (A.log) fprintf(stderr, "  -> %s\n", (const char *)mem() + Z_stackZ_counter_name(&A.inst, id));
}

/* Runs due timers and the ARP replies owed, and learns the next deadline. */
static void poll_core(void) {
  for (int round = 0; round < 64; round++) {
    while (A.arpq_n > 0) {
      uint8_t r[42];
      memcpy(r, A.arpq[--A.arpq_n], 42);
      input_frame(r, 42);
    }
    uint32_t d = Z_stackZ_poll(&A.inst, now_ms());
    if (d > 0 && A.arpq_n == 0) {
      A.deadline_us = ((uint64_t)now_ms() + d) * 1000u;
      return;
    }
  }
  A.deadline_us = A.now_us + 1000u;
}

/* The state changed: wake a call blocked on the syscall thread and, from the main thread, wait
 * until it has looked (so it returns at this virtual time, not at a later one). */
static void notify(void) {
  A.gen++;
  pthread_cond_broadcast(&A.changed);
  if (pthread_equal(pthread_self(), A.main_thread))
    while (A.waiting && A.seen != A.gen) pthread_cond_wait(&A.seen_cv, &A.lock);
}

/* Moves the clock to t, running every timer due on the way at its own time. */
static void advance_to(uint64_t t) {
  while (A.deadline_us <= t) {
    if (A.deadline_us > A.now_us) A.now_us = A.deadline_us;
    poll_core();
    notify();
  }
  if (t > A.now_us) {
    uint32_t before = now_ms();
    A.now_us = t;
    if (now_ms() != before) notify();
  }
}

static void after_call(void) {
  poll_core();
  notify();
}

/* ---- sockets ---- */

static int set_errno(int32_t r) {
  switch (r) {
  case WASMIP_EINVAL: errno = EINVAL; break;
  case WASMIP_ENOBUFS: errno = ENOBUFS; break;
  case WASMIP_EWOULDBLOCK: errno = EAGAIN; break;
  case WASMIP_ENOTCONN: errno = ENOTCONN; break;
  case WASMIP_ECONNREFUSED: errno = ECONNREFUSED; break;
  case WASMIP_ECONNRESET: errno = ECONNRESET; break;
  case WASMIP_ETIMEDOUT: errno = ETIMEDOUT; break;
  case WASMIP_EADDRINUSE: errno = EADDRINUSE; break;
  case WASMIP_EHOSTUNREACH: errno = EHOSTUNREACH; break;
  case WASMIP_EMSGSIZE: errno = EMSGSIZE; break;
  default: errno = EIO; break;
  }
  return -1;
}

/* The core's fd for a script fd, or -1 (EBADF). */
static int core_fd(int fd) {
  int c = fd >= 0 && fd < MAX_REAL_FD ? A.core_of[fd] - 1 : -1;
  if (c < 0 || !A.socks[c].open) {
    errno = EBADF;
    return -1;
  }
  return c;
}

/* A new socket for core fd c: its packetdrill fd, or -1 (the core's socket is released). */
static int open_sock(int c, int nonblock) {
  int real = c < MAX_FDS ? open("/dev/null", O_RDONLY | O_CLOEXEC) : -1;
  if (real < 0 || real >= MAX_REAL_FD) {
    if (real >= 0) close(real);
    Z_stackZ_tcp_abort(&A.inst, c);
    errno = EMFILE;
    return -1;
  }
  memset(&A.socks[c], 0, sizeof A.socks[c]);
  A.socks[c].open = 1;
  A.socks[c].real_fd = real;
  A.socks[c].nonblock = nonblock;
  A.core_of[real] = (int16_t)(c + 1);
  return real;
}

static void close_sock(int c) {
  A.core_of[A.socks[c].real_fd] = 0;
  close(A.socks[c].real_fd);
  A.socks[c].open = 0;
}

static uint32_t events(int c) { return Z_stackZ_tcp_events(&A.inst, c); }

/* The connection's pending error (tcp_send of nothing returns it), 0 if none. */
static int32_t pending_error(int c) {
  if ((events(c) & WASMIP_EV_ERROR) == 0) return 0;
  int32_t r = (int32_t)Z_stackZ_tcp_send(&A.inst, c, A.io, 0);
  return r < 0 && r != WASMIP_ENOTCONN && r != WASMIP_EWOULDBLOCK ? r : 0;
}

/* Blocks until tcp_events(c) has a bit of mask, or until the virtual time `until` (0: none).
 * Returns 1 when ready, 0 on timeout. On packetdrill's main thread nobody else moves the clock,
 * so the call runs the core's timers itself, up to max_wait; on its syscall thread it sleeps while
 * the main thread plays the script (notify()). */
static int block(int c, uint32_t mask, uint64_t until) {
  uint64_t limit = A.now_us + A.max_wait_us;
  if (until && until < limit) limit = until;
  int main = pthread_equal(pthread_self(), A.main_thread);
  int ready = 0;
  for (;;) {
    if (events(c) & mask) {
      ready = 1;
      break;
    }
    if (A.now_us >= limit) break;
    if (main) {
      advance_to(A.deadline_us < limit ? A.deadline_us : limit);
    } else {
      A.waiting = 1;
      A.seen = A.gen;
      pthread_cond_signal(&A.seen_cv);
      pthread_cond_wait(&A.changed, &A.lock);
    }
  }
  if (!main) {
    A.waiting = 0;
    pthread_cond_signal(&A.seen_cv);
  }
  return ready;
}

static int pd_socket(void *u, int domain, int type, int protocol) {
  (void)u;
  ENTER();
  if (domain != AF_INET || (type & 0xf) != SOCK_STREAM || (protocol != 0 && protocol != IPPROTO_TCP)) {
    errno = EAFNOSUPPORT;
    LEAVE(-1);
  }
  int32_t c = (int32_t)Z_stackZ_tcp_socket(&A.inst);
  if (c < 0) LEAVE(set_errno(c));
  LEAVE(open_sock(c, (type & SOCK_NONBLOCK) != 0));
}

static int sin_of(const struct sockaddr *addr, socklen_t len, uint32_t *ip, uint32_t *port) {
  if (addr == NULL || len < sizeof(struct sockaddr_in) || addr->sa_family != AF_INET) {
    errno = EAFNOSUPPORT;
    return -1;
  }
  const struct sockaddr_in *s = (const struct sockaddr_in *)addr;
  *ip = ntohl(s->sin_addr.s_addr);
  *port = ntohs(s->sin_port);
  return 0;
}

static int pd_bind(void *u, int fd, const struct sockaddr *addr, socklen_t len) {
  (void)u;
  ENTER();
  uint32_t ip, port;
  int c = core_fd(fd);
  if (c < 0 || sin_of(addr, len, &ip, &port)) LEAVE(-1);
  if (ip != 0 && ip != A.ip) {
    errno = EADDRNOTAVAIL;
    LEAVE(-1);
  }
  int32_t r = (int32_t)Z_stackZ_tcp_bind(&A.inst, c, port);
  LEAVE(r < 0 ? set_errno(r) : 0);
}

static int pd_listen(void *u, int fd, int backlog) {
  (void)u;
  ENTER();
  int c = core_fd(fd);
  if (c < 0) LEAVE(-1);
  uint32_t max = Z_stackZ_config(&A.inst, WASMIP_CONFIG_TCP_BACKLOG_MAX);
  uint32_t b = backlog < 1 ? 1 : (uint32_t)backlog > max ? max : (uint32_t)backlog;
  int32_t r = (int32_t)Z_stackZ_tcp_listen(&A.inst, c, b);
  LEAVE(r < 0 ? set_errno(r) : 0);
}

static void fill_addr(struct sockaddr *addr, socklen_t *len, uint32_t ip, uint32_t port) {
  if (addr == NULL || len == NULL) return;
  struct sockaddr_in s = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(ip)};
  memcpy(addr, &s, *len < sizeof s ? *len : sizeof s);
  *len = sizeof s;
}

static int pd_accept(void *u, int fd, struct sockaddr *addr, socklen_t *len) {
  (void)u;
  ENTER();
  int c = core_fd(fd);
  if (c < 0) LEAVE(-1);
  for (;;) {
    int32_t n = (int32_t)Z_stackZ_tcp_accept(&A.inst, c);
    if (n >= 0) {
      fill_addr(addr, len, Z_stackZ_tcp_remote_ip(&A.inst, n), Z_stackZ_tcp_remote_port(&A.inst, n));
      int fdn = open_sock(n, 0);
      after_call();
      LEAVE(fdn);
    }
    if (n != WASMIP_EWOULDBLOCK || A.socks[c].nonblock || !block(c, WASMIP_EV_READABLE, 0)) LEAVE(set_errno(n));
  }
}

static int pd_connect(void *u, int fd, const struct sockaddr *addr, socklen_t len) {
  (void)u;
  ENTER();
  uint32_t ip, port;
  int c = core_fd(fd);
  if (c < 0 || sin_of(addr, len, &ip, &port)) LEAVE(-1);
  sock_t *s = &A.socks[c];
  uint32_t st = Z_stackZ_tcp_state(&A.inst, c);
  if (s->connecting || st != WASMIP_TCP_CLOSED) {
    int32_t e = pending_error(c);
    if (e) {
      s->connecting = 0;
      LEAVE(set_errno(e));
    }
    if (st == WASMIP_TCP_SYN_SENT || st == WASMIP_TCP_SYN_RECEIVED) {
      errno = EALREADY;
      LEAVE(-1);
    }
    s->connecting = 0;
    errno = EISCONN;
    LEAVE(-1);
  }
  int32_t r = (int32_t)Z_stackZ_tcp_connect(&A.inst, c, ip, port);
  if (r < 0) LEAVE(set_errno(r));
  after_call();
  if (s->nonblock) {
    s->connecting = 1;
    errno = EINPROGRESS;
    LEAVE(-1);
  }
  block(c, WASMIP_EV_CONNECTED | WASMIP_EV_ERROR | WASMIP_EV_CLOSED, 0);
  int32_t e = pending_error(c);
  if (e) LEAVE(set_errno(e));
  if ((events(c) & WASMIP_EV_CONNECTED) == 0) {
    errno = ETIMEDOUT;
    LEAVE(-1);
  }
  LEAVE(0);
}

/* Reads up to len bytes into buf through the io buffer. Caller holds the lock. */
static ssize_t do_recv(int c, void *buf, size_t len, int nonblock) {
  if (len == 0) return 0;
  for (;;) {
    uint8_t *out = buf;
    size_t got = 0;
    int32_t r = 0;
    while (got < len) {
      uint32_t want = len - got < A.buf_size ? (uint32_t)(len - got) : A.buf_size;
      r = (int32_t)Z_stackZ_tcp_recv(&A.inst, c, A.buf, want);
      if (r <= 0) break;
      memcpy(out + got, mem() + A.buf, (uint32_t)r);
      got += (uint32_t)r;
    }
    if (got > 0) {
      after_call();
      return (ssize_t)got;
    }
    if (r == 0) return 0;
    if (r != WASMIP_EWOULDBLOCK || nonblock) return set_errno(r);
    if (!block(c, WASMIP_EV_READABLE | WASMIP_EV_ERROR | WASMIP_EV_HUP | WASMIP_EV_CLOSED, 0)) return set_errno(r);
  }
}

/* Queues all of buf (blocking) or what fits (non-blocking), like Linux. Caller holds the lock. */
static ssize_t do_send(int c, const void *buf, size_t len, int nonblock) {
  const uint8_t *in = buf;
  size_t sent = 0;
  while (sent < len) {
    uint32_t n = len - sent < A.buf_size ? (uint32_t)(len - sent) : A.buf_size;
    memcpy(mem() + A.buf, in + sent, n);
    int32_t r = (int32_t)Z_stackZ_tcp_send(&A.inst, c, A.buf, n);
    if (r > 0) {
      sent += (uint32_t)r;
      after_call();
      continue;
    }
    if (r == WASMIP_EWOULDBLOCK && !nonblock && block(c, WASMIP_EV_WRITABLE | WASMIP_EV_ERROR | WASMIP_EV_CLOSED, 0)) continue;
    if (sent > 0) break;
    if (r == WASMIP_ENOTCONN && (Z_stackZ_tcp_state(&A.inst, c) >= WASMIP_TCP_FIN_WAIT_1)) {
      errno = EPIPE;
      return -1;
    }
    return set_errno(r == 0 ? WASMIP_EWOULDBLOCK : r);
  }
  return (ssize_t)sent;
}

static ssize_t pd_recv(void *u, int fd, void *buf, size_t len, int flags) {
  (void)u;
  ENTER();
  int c = core_fd(fd);
  if (c < 0) LEAVE(-1);
  if (flags & ~MSG_DONTWAIT) {
    errno = EOPNOTSUPP;
    LEAVE(-1);
  }
  ssize_t r = do_recv(c, buf, len, A.socks[c].nonblock || (flags & MSG_DONTWAIT));
  LEAVE(r);
}

static ssize_t pd_read(void *u, int fd, void *buf, size_t len) { return pd_recv(u, fd, buf, len, 0); }

static ssize_t pd_recvfrom(void *u, int fd, void *buf, size_t len, int flags, struct sockaddr *src, socklen_t *srclen) {
  ssize_t r = pd_recv(u, fd, buf, len, flags);
  if (r >= 0 && src && srclen) {
    ENTER();
    int c = core_fd(fd);
    if (c >= 0) fill_addr(src, srclen, Z_stackZ_tcp_remote_ip(&A.inst, c), Z_stackZ_tcp_remote_port(&A.inst, c));
    pthread_mutex_unlock(&A.lock);
  }
  return r;
}

static ssize_t pd_readv(void *u, int fd, const struct iovec *iov, int n) {
  ssize_t total = 0;
  for (int i = 0; i < n; i++) {
    ssize_t r = pd_recv(u, fd, iov[i].iov_base, iov[i].iov_len, total > 0 ? MSG_DONTWAIT : 0);
    if (r < 0) return total > 0 ? total : r;
    total += r;
    if ((size_t)r < iov[i].iov_len) break;
  }
  return total;
}

static ssize_t pd_recvmsg(void *u, int fd, struct msghdr *msg, int flags) {
  (void)flags;
  msg->msg_controllen = 0;
  msg->msg_flags = 0;
  return pd_readv(u, fd, msg->msg_iov, (int)msg->msg_iovlen);
}

static ssize_t pd_send(void *u, int fd, const void *buf, size_t len, int flags) {
  (void)u;
  ENTER();
  int c = core_fd(fd);
  if (c < 0) LEAVE(-1);
  ssize_t r = do_send(c, buf, len, A.socks[c].nonblock || (flags & MSG_DONTWAIT));
  LEAVE(r);
}

static ssize_t pd_write(void *u, int fd, const void *buf, size_t len) { return pd_send(u, fd, buf, len, 0); }

static ssize_t pd_sendto(void *u, int fd, const void *buf, size_t len, int flags, const struct sockaddr *dst, socklen_t dstlen) {
  (void)dst;
  (void)dstlen;
  return pd_send(u, fd, buf, len, flags);
}

static ssize_t pd_writev(void *u, int fd, const struct iovec *iov, int n) {
  ssize_t total = 0;
  for (int i = 0; i < n; i++) {
    ssize_t r = pd_send(u, fd, iov[i].iov_base, iov[i].iov_len, 0);
    if (r < 0) return total > 0 ? total : r;
    total += r;
    if ((size_t)r < iov[i].iov_len) break;
  }
  return total;
}

static ssize_t pd_sendmsg(void *u, int fd, const struct msghdr *msg, int flags) {
  (void)flags;
  return pd_writev(u, fd, msg->msg_iov, (int)msg->msg_iovlen);
}

static int pd_fcntl(void *u, int fd, int cmd, ...) {
  (void)u;
  va_list ap;
  va_start(ap, cmd);
  long arg = va_arg(ap, long);
  va_end(ap);
  ENTER();
  int c = core_fd(fd);
  if (c < 0) LEAVE(-1);
  if (cmd == F_GETFL) LEAVE(O_RDWR | (A.socks[c].nonblock ? O_NONBLOCK : 0));
  if (cmd == F_SETFL) {
    A.socks[c].nonblock = (arg & O_NONBLOCK) != 0;
    LEAVE(0);
  }
  errno = EINVAL;
  LEAVE(-1);
}

static int pd_ioctl(void *u, int fd, unsigned long request, ...) {
  (void)u;
  va_list ap;
  va_start(ap, request);
  int *out = va_arg(ap, int *);
  va_end(ap);
  ENTER();
  int c = core_fd(fd);
  if (c < 0) LEAVE(-1);
  if (request == FIONREAD || request == TIOCOUTQ) {
    uint32_t row[7];
    if (Z_stackZ_tcp_table_row(&A.inst, (uint32_t)c, A.io) != 1) {
      errno = EINVAL;
      LEAVE(-1);
    }
    memcpy(row, mem() + A.io, sizeof row);
    *out = (int)(request == FIONREAD ? row[6] : row[5]);
    LEAVE(0);
  }
  errno = ENOTTY;
  LEAVE(-1);
}

static int pd_close(void *u, int fd) {
  (void)u;
  ENTER();
  int c = core_fd(fd);
  if (c < 0) LEAVE(-1);
  int32_t r = (int32_t)Z_stackZ_tcp_close(&A.inst, c);
  close_sock(c);
  after_call();
  LEAVE(r < 0 ? set_errno(r) : 0);
}

static int pd_shutdown(void *u, int fd, int how) {
  (void)u;
  ENTER();
  int c = core_fd(fd);
  if (c < 0) LEAVE(-1);
  int32_t r = (int32_t)Z_stackZ_tcp_shutdown(&A.inst, c, (uint32_t)how);
  after_call();
  LEAVE(r < 0 ? set_errno(r) : 0);
}

static int setopt(int c, uint32_t opt, uint32_t v) {
  int32_t r = (int32_t)Z_stackZ_tcp_setopt(&A.inst, c, opt, v);
  after_call();
  return r < 0 ? set_errno(r) : 0;
}

static int pd_setsockopt(void *u, int fd, int level, int name, const void *val, socklen_t len) {
  (void)u;
  ENTER();
  int c = core_fd(fd);
  if (c < 0) LEAVE(-1);
  if (val == NULL || len < sizeof(int)) {
    errno = EINVAL;
    LEAVE(-1);
  }
  int v;
  memcpy(&v, val, sizeof v);
  sock_t *s = &A.socks[c];
  if (level == SOL_SOCKET) {
    switch (name) {
    case SO_KEEPALIVE:
      s->keepalive = v != 0;
      LEAVE(setopt(c, WASMIP_TCP_OPT_KEEPALIVE, v != 0));
    case SO_REUSEADDR: s->reuseaddr = v != 0; LEAVE(0);
    /* The rings are fixed at build time (TCP_SND_BUF / TCP_RCV_BUF); the request is kept and
     * getsockopt reports the real size. */
    case SO_RCVBUF: s->rcvbuf_req = v; LEAVE(0);
    case SO_SNDBUF: s->sndbuf_req = v; LEAVE(0);
    }
  } else if (level == IPPROTO_TCP) {
    if (v < 0) {
      errno = EINVAL;
      LEAVE(-1);
    }
    switch (name) {
    case TCP_NODELAY: s->nodelay = v != 0; LEAVE(setopt(c, WASMIP_TCP_OPT_NODELAY, v != 0));
    case TCP_KEEPIDLE: s->keepidle_s = (uint32_t)v; LEAVE(setopt(c, WASMIP_TCP_OPT_KEEPIDLE, (uint32_t)v * 1000u));
    case TCP_KEEPINTVL: s->keepintvl_s = (uint32_t)v; LEAVE(setopt(c, WASMIP_TCP_OPT_KEEPINTVL, (uint32_t)v * 1000u));
    case TCP_KEEPCNT: s->keepcnt = (uint32_t)v; LEAVE(setopt(c, WASMIP_TCP_OPT_KEEPCNT, (uint32_t)v));
    }
  }
  errno = ENOPROTOOPT;
  LEAVE(-1);
}

static int pd_getsockopt(void *u, int fd, int level, int name, void *val, socklen_t *len) {
  (void)u;
  ENTER();
  int c = core_fd(fd);
  if (c < 0) LEAVE(-1);
  if (val == NULL || len == NULL || *len < sizeof(int)) {
    errno = EINVAL;
    LEAVE(-1);
  }
  sock_t *s = &A.socks[c];
  int v;
  if (level == SOL_SOCKET && name == SO_ERROR) {
    int32_t e = s->error_taken ? 0 : pending_error(c);
    if (e) {
      s->error_taken = 1;
      s->connecting = 0;
      set_errno(e);
      v = errno;
    } else {
      v = 0;
    }
  } else if (level == SOL_SOCKET && name == SO_KEEPALIVE) v = s->keepalive;
  else if (level == SOL_SOCKET && name == SO_REUSEADDR) v = s->reuseaddr;
  else if (level == SOL_SOCKET && name == SO_TYPE) v = SOCK_STREAM;
  else if (level == SOL_SOCKET && name == SO_RCVBUF) v = (int)A.rcv_buf;
  else if (level == SOL_SOCKET && name == SO_SNDBUF) v = (int)A.snd_buf;
  else if (level == IPPROTO_TCP && name == TCP_NODELAY) v = s->nodelay;
  else if (level == IPPROTO_TCP && name == TCP_KEEPIDLE) v = (int)(s->keepidle_s ? s->keepidle_s : 7200);
  else if (level == IPPROTO_TCP && name == TCP_KEEPINTVL) v = (int)(s->keepintvl_s ? s->keepintvl_s : 75);
  else if (level == IPPROTO_TCP && name == TCP_KEEPCNT) v = (int)(s->keepcnt ? s->keepcnt : 9);
  else if (level == IPPROTO_TCP && name == TCP_MAXSEG) {
    uint32_t info[WASMIP_TCP_INFO_WORDS];
    v = (int)A.mss;
    if (Z_stackZ_tcp_info(&A.inst, c, A.io) == 1) {
      memcpy(info, mem() + A.io, sizeof info);
      if (info[WASMIP_TCP_INFO_STATE] >= WASMIP_TCP_ESTABLISHED) v = (int)info[WASMIP_TCP_INFO_MSS];
    }
  } else {
    errno = ENOPROTOOPT;
    LEAVE(-1);
  }
  memcpy(val, &v, sizeof v);
  *len = sizeof v;
  LEAVE(0);
}

static short revents_of(int c, short want) {
  uint32_t ev = events(c);
  short r = 0;
  if (ev & (WASMIP_EV_READABLE | WASMIP_EV_HUP)) r |= POLLIN;
  if (ev & WASMIP_EV_WRITABLE) r |= POLLOUT;
  if (ev & WASMIP_EV_ERROR) r |= POLLERR;
  if ((ev & WASMIP_EV_HUP) && (ev & (WASMIP_EV_CLOSED | WASMIP_EV_ERROR))) r |= POLLHUP;
  if (ev & WASMIP_EV_HUP) r |= POLLRDHUP;
  return r & (want | POLLERR | POLLHUP);
}

/* poll() over one socket blocks in virtual time; over several it only reports (timeout 0). */
static int pd_poll(void *u, struct pollfd *fds, nfds_t n, int timeout) {
  (void)u;
  ENTER();
  int ready = 0;
  for (nfds_t i = 0; i < n; i++) {
    int c = core_fd(fds[i].fd);
    fds[i].revents = c >= 0 ? revents_of(c, fds[i].events) : POLLNVAL;
    ready += fds[i].revents != 0;
  }
  if (ready == 0 && n == 1 && timeout != 0 && fds[0].revents == 0) {
    int c = core_fd(fds[0].fd);
    uint32_t mask = WASMIP_EV_ERROR | WASMIP_EV_CLOSED;
    if (fds[0].events & POLLIN) mask |= WASMIP_EV_READABLE | WASMIP_EV_HUP;
    if (fds[0].events & POLLOUT) mask |= WASMIP_EV_WRITABLE;
    block(c, mask, timeout > 0 ? A.now_us + (uint64_t)timeout * 1000u : 0);
    fds[0].revents = revents_of(c, fds[0].events);
    ready = fds[0].revents != 0;
  }
  LEAVE(ready);
}

/* ---- packets and time ---- */

static int pd_netdev_send(void *u, const void *buf, size_t count) {
  (void)u;
  ENTER();
  if (count < 20 || count + 14 > FRAME_MAX) {
    errno = EMSGSIZE;
    LEAVE(-1);
  }
  uint8_t f[FRAME_MAX];
  memcpy(f, BOARD_MAC, 6);
  memcpy(f + 6, PEER_MAC, 6);
  put16(f + 12, 0x0800);
  memcpy(f + 14, buf, count);
  if (A.log) fprintf(stderr, "[%llu.%06llu] rx %zu bytes %08x -> %08x\n", (unsigned long long)(A.now_us / 1000000u), (unsigned long long)(A.now_us % 1000000u), count, get32(f + 26), get32(f + 30));
  input_frame(f, (uint32_t)count + 14);
  after_call();
  LEAVE(0);
}

/* The stack's next packet; when none is waiting the clock runs on (timers fire) until one comes,
 * or max_wait passes: then count 0, which fails the script (packetdrill expected a packet). */
static int pd_netdev_receive(void *u, void *buf, size_t *count, long long *time_us) {
  (void)u;
  ENTER();
  uint64_t limit = A.now_us + A.max_wait_us;
  while (A.txq_head == A.txq_tail && A.now_us < limit) advance_to(A.deadline_us < limit ? A.deadline_us : limit);
  if (A.txq_head == A.txq_tail) {
    fprintf(stderr, "wasmip-packetdrill: the stack sent nothing in %llu s of virtual time\n", (unsigned long long)(A.max_wait_us / 1000000u));
    *count = 0;
    LEAVE(0);
  }
  frame_t *q = &A.txq[A.txq_tail++ % TXQ_SLOTS];
  size_t n = q->len < *count ? q->len : *count;
  memcpy(buf, q->data, n);
  *count = n;
  *time_us = (long long)q->time_us;
  LEAVE(0);
}

static int pd_usleep(void *u, useconds_t us) {
  (void)u;
  ENTER();
  advance_to(A.now_us + us);
  LEAVE(0);
}

static int pd_gettimeofday(void *u, struct timeval *tv, struct timezone *tz) {
  (void)u;
  (void)tz;
  ENTER();
  /* packetdrill spins on the clock for the last MAX_SPIN_USECS before an event. */
  advance_to(A.now_us + 1);
  tv->tv_sec = (time_t)(A.now_us / 1000000u);
  tv->tv_usec = (suseconds_t)(A.now_us % 1000000u);
  LEAVE(0);
}

static int pd_unsupported(void) {
  errno = ENOSYS;
  return -1;
}
static int pd_epoll_create(void *u, int size) {
  (void)u;
  (void)size;
  return pd_unsupported();
}
static int pd_epoll_ctl(void *u, int epfd, int op, int fd, struct epoll_event *ev) {
  (void)u, (void)epfd, (void)op, (void)fd, (void)ev;
  return pd_unsupported();
}
static int pd_epoll_wait(void *u, int epfd, struct epoll_event *ev, int max, int timeout) {
  (void)u, (void)epfd, (void)ev, (void)max, (void)timeout;
  return pd_unsupported();
}
static int pd_pipe(void *u, int fds[2]) {
  (void)u, (void)fds;
  return pd_unsupported();
}
static int pd_splice(void *u, int in, loff_t *oi, int out, loff_t *oo, size_t len, unsigned int flags) {
  (void)u, (void)in, (void)oi, (void)out, (void)oo, (void)len, (void)flags;
  return pd_unsupported();
}

static void pd_free(void *u) {
  (void)u;
  if (A.txq_dropped) fprintf(stderr, "wasmip-packetdrill: %u frames dropped (TXQ_SLOTS full)\n", A.txq_dropped);
}

/* ---- set-up ---- */

static uint32_t parse_ip(const char *s) {
  struct in_addr a;
  if (inet_pton(AF_INET, s, &a) != 1) die("bad address in --so_flags: %s", s);
  return ntohl(a.s_addr);
}

static void parse_flags(const char *flags) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", flags ? flags : "");
  for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(tok, '=');
    if (!eq) die("--so_flags: expected key=value, got %s", tok);
    *eq = 0;
    const char *v = eq + 1;
    if (!strcmp(tok, "ip")) A.ip = parse_ip(v);
    else if (!strcmp(tok, "gw")) A.gw = parse_ip(v);
    else if (!strcmp(tok, "mask")) A.mask = parse_ip(v);
    else if (!strcmp(tok, "seed")) A.rng = (uint32_t)strtoul(v, NULL, 0);
    else if (!strcmp(tok, "max_wait")) A.max_wait_us = strtoull(v, NULL, 0) * 1000000u;
    else if (!strcmp(tok, "log")) A.log = atoi(v);
    else die("--so_flags: unknown key %s", tok);
  }
  if (A.rng == 0) A.rng = 1;
}

void packetdrill_interface_init(const char *flags, struct packetdrill_interface *ifc) {
  memset(&A, 0, sizeof A);
  pthread_mutex_init(&A.lock, NULL);
  pthread_cond_init(&A.changed, NULL);
  pthread_cond_init(&A.seen_cv, NULL);
  A.main_thread = pthread_self();
  A.ip = DEFAULT_IP;
  A.gw = DEFAULT_GW;
  A.mask = DEFAULT_MASK;
  A.rng = 0x2545F491u;
  A.max_wait_us = 600ull * 1000000u;
  A.now_us = CLOCK_START_US;
  parse_flags(flags);

  wasm_rt_init();
  Z_stack_init_module();
  if (wasm_rt_impl_try() != 0) die("the core trapped while starting");
  Z_stack_instantiate(&A.inst, &A.phy);
  A.rx = Z_stackZ_rx_buffer(&A.inst);
  A.rx_size = Z_stackZ_rx_buffer_size(&A.inst);
  A.io = Z_stackZ_io_buffer(&A.inst);
  A.io_size = Z_stackZ_io_buffer_size(&A.inst);
  A.snd_buf = Z_stackZ_config(&A.inst, WASMIP_CONFIG_TCP_SND_BUF);
  A.rcv_buf = Z_stackZ_config(&A.inst, WASMIP_CONFIG_TCP_RCV_BUF);
  A.mss = Z_stackZ_config(&A.inst, WASMIP_CONFIG_MTU) - 40u;
  if (A.io_size == 0 || A.rx_size < 60) die("the core's buffers are too small");
  wasm_rt_memory_t *m = Z_stackZ_memory(&A.inst);
  A.buf = m->size;
  if (m->max_pages < m->pages + 1u) m->max_pages = m->pages + 1u;
  if (wasm_rt_grow_memory(m, 1) == (uint32_t)-1) die("cannot add a page to linear memory");
  A.buf_size = m->size - A.buf;
  uint32_t mac_hi = (uint32_t)BOARD_MAC[0] << 8 | BOARD_MAC[1];
  if ((int32_t)Z_stackZ_init(&A.inst, mac_hi, get32(BOARD_MAC + 2), A.ip, A.mask, A.gw) != 0) die("init() failed");
  poll_core();
  A.txq_head = A.txq_tail = 0; /* the gratuitous ARP is not the script's business */

  ifc->userdata = &A;
  ifc->free = pd_free;
  ifc->socket = pd_socket;
  ifc->bind = pd_bind;
  ifc->listen = pd_listen;
  ifc->accept = pd_accept;
  ifc->connect = pd_connect;
  ifc->read = pd_read;
  ifc->readv = pd_readv;
  ifc->recv = pd_recv;
  ifc->recvfrom = pd_recvfrom;
  ifc->recvmsg = pd_recvmsg;
  ifc->write = pd_write;
  ifc->writev = pd_writev;
  ifc->send = pd_send;
  ifc->sendto = pd_sendto;
  ifc->sendmsg = pd_sendmsg;
  ifc->fcntl = pd_fcntl;
  ifc->ioctl = pd_ioctl;
  ifc->close = pd_close;
  ifc->shutdown = pd_shutdown;
  ifc->getsockopt = pd_getsockopt;
  ifc->setsockopt = pd_setsockopt;
  ifc->poll = pd_poll;
  ifc->netdev_send = pd_netdev_send;
  ifc->netdev_receive = pd_netdev_receive;
  ifc->usleep = pd_usleep;
  ifc->gettimeofday = pd_gettimeofday;
  ifc->epoll_create = pd_epoll_create;
  ifc->epoll_ctl = pd_epoll_ctl;
  ifc->epoll_wait = pd_epoll_wait;
  ifc->pipe = pd_pipe;
  ifc->splice = pd_splice;
}
