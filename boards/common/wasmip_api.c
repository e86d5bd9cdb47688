/*
 * wasmip_api.c - the call queue into the stack task and the blocking sockets on top of it (see
 * wasmip_api.h). Portable C11 but for the OS layer at the end (pthreads). No allocation: each
 * request lives on its caller's stack, the ring holds pointers.
 */
#include "wasmip_api.h"

#include <string.h>

/* ---------------- the queue ---------------- */

int wasmip_api_init(wasmip_api_t *api, wasmip_board_t *board) {
  memset(api, 0, sizeof *api);
  api->board = board;
  if (wasmip_os_lock_init(&api->lock) != 0) return -1;
  board->service = wasmip_api_service;
  board->service_arg = api;
  return 0;
}

uint32_t wasmip_api_pending(wasmip_api_t *api) {
  wasmip_os_lock(&api->lock);
  uint32_t n = api->head - api->tail;
  wasmip_os_unlock(&api->lock);
  return n;
}

static void complete(wasmip_api_req_t *r, int32_t result) {
  r->result = result;
  wasmip_os_signal_give(&r->done); /* r belongs to its caller again: not touched after this */
}

int32_t wasmip_api_call_wait(wasmip_api_t *api, wasmip_api_fn fn, void *arg, uint32_t wait, int32_t fd, uint32_t timeout_ms) {
  wasmip_api_req_t r;
  r.fn = fn;
  r.arg = arg;
  r.result = 0;
  r.wait = wait;
  r.fd = fd;
  r.timeout = timeout_ms;
  r.deadline = 0;
  r.next = NULL;
  wasmip_os_lock(&api->lock);
  if (api->stopped || api->head - api->tail >= WASMIP_API_QUEUE_LEN) {
    int32_t e = api->stopped ? WASMIP_ESTOPPED : WASMIP_EQUEUEFULL;
    if (!api->stopped) api->stats.queue_full++;
    wasmip_os_unlock(&api->lock);
    return e;
  }
  wasmip_os_signal_init(&r.done);
  api->ring[api->head % WASMIP_API_QUEUE_LEN] = &r;
  api->head++;
  api->stats.calls++;
  wasmip_os_unlock(&api->lock);
  const wasmip_port_t *port = api->board->port;
  if (port->wake) port->wake(port->ctx);
  wasmip_os_signal_wait(&r.done);
  wasmip_os_signal_destroy(&r.done);
  return r.result;
}

int32_t wasmip_api_call(wasmip_api_t *api, wasmip_api_fn fn, void *arg) {
  return wasmip_api_call_wait(api, fn, arg, WASMIP_API_WAIT_ROUND, -1, WASMIP_API_FOREVER);
}

/* Deadlines on the wrapping ms clock: passed when now is at or after it (within 2^31 ms). */
static int due(uint32_t now, uint32_t deadline) { return (int32_t)(now - deadline) >= 0; }

/* A request that returned AGAIN: parked, or timed out. Returns 1 when it completed. */
static int park_or_time_out(wasmip_api_t *api, wasmip_api_req_t *r, uint32_t now) {
  if (r->timeout != WASMIP_API_FOREVER && due(now, r->deadline)) {
    api->stats.timeouts++;
    complete(r, WASMIP_EWOULDBLOCK);
    return 1;
  }
  r->next = api->parked;
  api->parked = r;
  return 0;
}

static int32_t run(wasmip_api_t *api, wasmip_api_req_t *r) {
  int32_t v = r->fn(api->board, r->arg);
  return api->board->trapped && v == WASMIP_API_AGAIN ? WASMIP_ESTOPPED : v;
}

static uint32_t tcp_changed(wasmip_board_t *b);

uint32_t wasmip_api_service(void *p, uint32_t now) {
  wasmip_api_t *api = p;
  wasmip_board_t *b = api->board;
  int ran = 0; /* something ran that may have queued loopback traffic or unblocked others */
  int completed = 0;

  /* Parked requests first: their sockets changed in this round's input() and poll(). */
  uint32_t changed = tcp_changed(b);
  wasmip_api_req_t *list = api->parked;
  api->parked = NULL;
  int retry_all = api->retry_all;
  while (list) {
    wasmip_api_req_t *r = list;
    list = r->next;
    int woken = r->wait == WASMIP_API_WAIT_TCP && r->fd >= 0 && r->fd < 32 && (changed & (1u << r->fd));
    if (retry_all || woken || r->wait != WASMIP_API_WAIT_TCP || r->fd < 0 || r->fd >= 32) {
      api->stats.retries++;
      int32_t v = run(api, r);
      if (woken) ran = 1;
      if (v != WASMIP_API_AGAIN) {
        complete(r, v);
        completed = 1;
        continue;
      }
    }
    completed |= park_or_time_out(api, r, now);
  }

  /* Then what was queued by now (later arrivals have woken the port: the next round). */
  wasmip_os_lock(&api->lock);
  uint32_t n = api->head - api->tail;
  while (n-- > 0) {
    wasmip_api_req_t *r = api->ring[api->tail % WASMIP_API_QUEUE_LEN];
    api->tail++;
    wasmip_os_unlock(&api->lock);
    r->deadline = now + (r->timeout == WASMIP_API_FOREVER ? 0 : r->timeout);
    int32_t v = run(api, r);
    ran = 1;
    if (v != WASMIP_API_AGAIN) {
      complete(r, v);
    } else {
      api->stats.parked++;
      park_or_time_out(api, r, now);
    }
    wasmip_os_lock(&api->lock);
  }
  wasmip_os_unlock(&api->lock);

  api->retry_all = ran || completed;
  if (ran || completed) return 0; /* poll() again now: loopback, and the retries above */
  uint32_t next = UINT32_MAX;
  for (wasmip_api_req_t *r = api->parked; r; r = r->next) {
    if (r->timeout == WASMIP_API_FOREVER) continue;
    uint32_t left = due(now, r->deadline) ? 0 : r->deadline - now;
    if (left < next) next = left;
  }
  return next;
}

void wasmip_api_stop(wasmip_api_t *api) {
  wasmip_os_lock(&api->lock);
  api->stopped = 1;
  while (api->tail != api->head) {
    wasmip_api_req_t *r = api->ring[api->tail % WASMIP_API_QUEUE_LEN];
    api->tail++;
    complete(r, WASMIP_ESTOPPED);
  }
  wasmip_os_unlock(&api->lock);
  while (api->parked) {
    wasmip_api_req_t *r = api->parked;
    api->parked = r->next;
    complete(r, WASMIP_ESTOPPED);
  }
}

/* ---------------- calling the module (in the stack task) ---------------- */

/* An export's result, or ENOSYS (not in this image) / ESTOPPED (it trapped). */
static int32_t ex(wasmip_board_t *b, const char *name, uint32_t argc, uint32_t a0, uint32_t a1, uint32_t a2, uint32_t a3, uint32_t a4) {
  uint32_t a[5] = {a0, a1, a2, a3, a4};
  int r = wasmip_board_call_export(b, name, argc, a);
  if (r == WASMIP_BOARD_NO_EXPORT) return WASMIP_ENOSYS;
  if (r != 0) return WASMIP_ESTOPPED;
  return (int32_t)a[0];
}
#define EX0(b, n) ex(b, n, 0, 0, 0, 0, 0, 0)
#define EX1(b, n, x) ex(b, n, 1, (uint32_t)(x), 0, 0, 0, 0)
#define EX2(b, n, x, y) ex(b, n, 2, (uint32_t)(x), (uint32_t)(y), 0, 0, 0)
#define EX3(b, n, x, y, z) ex(b, n, 3, (uint32_t)(x), (uint32_t)(y), (uint32_t)(z), 0, 0)

static uint32_t tcp_changed(wasmip_board_t *b) {
  uint32_t a[1] = {0};
  return wasmip_board_call_export(b, "tcp_changed", 0, a) == 0 ? a[0] : 0;
}

uint8_t *wasmip_api_io(wasmip_api_t *api, uint32_t *ptr, uint32_t *size) {
  if (api->io_size == 0) { /* once: the buffer never moves */
    int32_t p = EX0(api->board, "io_buffer"), s = EX0(api->board, "io_buffer_size");
    if (p == WASMIP_ENOSYS || p == WASMIP_ESTOPPED || s <= 0) return NULL;
    api->io_ptr = (uint32_t)p;
    api->io_size = (uint32_t)s;
  }
  uint8_t *m = wasmip_board_mem(api->board, api->io_ptr, api->io_size);
  *ptr = api->io_ptr;
  *size = m ? api->io_size : 0;
  return m;
}

/* ---------------- raw exports ---------------- */

typedef struct {
  const char *name;
  uint32_t argc;
  uint32_t *argv;
} export_arg_t;

static int32_t do_export(wasmip_board_t *b, void *p) {
  export_arg_t *x = p;
  int r = wasmip_board_call_export(b, x->name, x->argc, x->argv);
  return r == WASMIP_BOARD_NO_EXPORT ? WASMIP_ENOSYS : r != 0 ? WASMIP_ESTOPPED : 0;
}

int32_t wasmip_api_export(wasmip_api_t *api, const char *name, uint32_t argc, uint32_t *argv) {
  export_arg_t x = {name, argc, argv};
  return wasmip_api_call(api, do_export, &x);
}

/* Calls that never wait: one export, its result. */
typedef struct {
  const char *name;
  uint32_t argc;
  uint32_t a[3];
} simple_arg_t;

static int32_t do_simple(wasmip_board_t *b, void *p) {
  simple_arg_t *x = p;
  return ex(b, x->name, x->argc, x->a[0], x->a[1], x->a[2], 0, 0);
}

static int32_t simple(wasmip_api_t *api, const char *name, uint32_t argc, uint32_t a0, uint32_t a1) {
  simple_arg_t x = {name, argc, {a0, a1, 0}};
  return wasmip_api_call(api, do_simple, &x);
}

int32_t wasmip_api_tcp_socket(wasmip_api_t *api) { return simple(api, "tcp_socket", 0, 0, 0); }
int32_t wasmip_api_tcp_bind(wasmip_api_t *api, int32_t fd, uint16_t port) { return simple(api, "tcp_bind", 2, (uint32_t)fd, port); }
int32_t wasmip_api_tcp_listen(wasmip_api_t *api, int32_t fd, uint32_t backlog) { return simple(api, "tcp_listen", 2, (uint32_t)fd, backlog); }
int32_t wasmip_api_tcp_shutdown(wasmip_api_t *api, int32_t fd, uint32_t how) { return simple(api, "tcp_shutdown", 2, (uint32_t)fd, how); }
int32_t wasmip_api_tcp_close(wasmip_api_t *api, int32_t fd) { return simple(api, "tcp_close", 1, (uint32_t)fd, 0); }
int32_t wasmip_api_udp_socket(wasmip_api_t *api) { return simple(api, "udp_socket", 0, 0, 0); }
int32_t wasmip_api_udp_bind(wasmip_api_t *api, int32_t fd, uint16_t port) { return simple(api, "udp_bind", 2, (uint32_t)fd, port); }
int32_t wasmip_api_udp_close(wasmip_api_t *api, int32_t fd) { return simple(api, "udp_close", 1, (uint32_t)fd, 0); }

/* ---------------- TCP calls that wait ---------------- */

/* Each blocking call's state, on its caller's stack; the fns run in the stack task. */
typedef struct {
  wasmip_api_t *api;
  int32_t fd;
  uint32_t ip, port;
  int started;
  uint8_t *rbuf;       /* recv */
  const uint8_t *sbuf; /* send */
  uint32_t len, done;
} tcp_arg_t;

static int32_t do_accept(wasmip_board_t *b, void *p) {
  tcp_arg_t *x = p;
  int32_t r = EX1(b, "tcp_accept", x->fd);
  return r == WASMIP_EWOULDBLOCK ? WASMIP_API_AGAIN : r;
}

int32_t wasmip_api_tcp_accept(wasmip_api_t *api, int32_t fd, uint32_t timeout_ms) {
  tcp_arg_t x = {api, fd, 0, 0, 0, NULL, NULL, 0, 0};
  return wasmip_api_call_wait(api, do_accept, &x, WASMIP_API_WAIT_TCP, fd, timeout_ms);
}

/* The connection's pending error (tcp_send of nothing returns it), or ENOTCONN if it is gone. */
static int32_t tcp_error(wasmip_board_t *b, int32_t fd) {
  int32_t r = EX3(b, "tcp_send", fd, 0, 0);
  return r < 0 && r != WASMIP_EWOULDBLOCK ? r : WASMIP_ENOTCONN;
}

static int32_t do_connect(wasmip_board_t *b, void *p) {
  tcp_arg_t *x = p;
  if (!x->started) {
    int32_t r = EX3(b, "tcp_connect", x->fd, x->ip, x->port);
    if (r < 0) return r;
    x->started = 1;
  }
  int32_t ev = EX1(b, "tcp_events", x->fd);
  if (ev < 0) return ev;
  if (ev & WASMIP_EV_CONNECTED) return 0;
  if (ev & (WASMIP_EV_ERROR | WASMIP_EV_CLOSED)) return tcp_error(b, x->fd);
  return WASMIP_API_AGAIN;
}

int32_t wasmip_api_tcp_connect(wasmip_api_t *api, int32_t fd, uint32_t ip, uint16_t port, uint32_t timeout_ms) {
  tcp_arg_t x = {api, fd, ip, port, 0, NULL, NULL, 0, 0};
  int32_t r = wasmip_api_call_wait(api, do_connect, &x, WASMIP_API_WAIT_TCP, fd, timeout_ms);
  return r == WASMIP_EWOULDBLOCK ? WASMIP_ETIMEDOUT : r;
}

/* The next piece of a send or recv: io_buffer() (NULL when the image has none) and its length. */
static uint8_t *piece(tcp_arg_t *x, uint32_t *io, uint32_t *n) {
  uint32_t size;
  uint8_t *m = wasmip_api_io(x->api, io, &size);
  *n = x->len - x->done < size ? x->len - x->done : size;
  return m;
}

static int32_t do_send(wasmip_board_t *b, void *p) {
  tcp_arg_t *x = p;
  while (x->done < x->len) {
    uint32_t io, n;
    uint8_t *m = piece(x, &io, &n);
    if (!m) return WASMIP_ENOSYS;
    memcpy(m, x->sbuf + x->done, n);
    int32_t r = EX3(b, "tcp_send", x->fd, io, n);
    if (r == WASMIP_EWOULDBLOCK) return WASMIP_API_AGAIN; /* full, or still connecting */
    if (r <= 0) return x->done > 0 ? (int32_t)x->done : r;
    x->done += (uint32_t)r;
  }
  return (int32_t)x->len;
}

int32_t wasmip_api_tcp_send(wasmip_api_t *api, int32_t fd, const void *buf, uint32_t len, uint32_t timeout_ms) {
  if (len > INT32_MAX) return WASMIP_EINVAL;
  tcp_arg_t x = {api, fd, 0, 0, 0, NULL, buf, len, 0};
  int32_t r = wasmip_api_call_wait(api, do_send, &x, WASMIP_API_WAIT_TCP, fd, timeout_ms);
  return r == WASMIP_EWOULDBLOCK && x.done > 0 ? (int32_t)x.done : r;
}

static int32_t do_recv(wasmip_board_t *b, void *p) {
  tcp_arg_t *x = p;
  while (x->done < x->len) {
    uint32_t io, n;
    uint8_t *m = piece(x, &io, &n);
    if (!m) return WASMIP_ENOSYS;
    int32_t r = EX3(b, "tcp_recv", x->fd, io, n);
    if (r > 0 && (uint32_t)r <= n) {
      memcpy(x->rbuf + x->done, m, (uint32_t)r);
      x->done += (uint32_t)r;
      continue;
    }
    if (x->done > 0) break; /* what is there, now; the end or an error shows on the next call */
    if (r == WASMIP_EWOULDBLOCK) return WASMIP_API_AGAIN;
    return r > 0 ? WASMIP_EINVAL : r; /* 0: end of stream */
  }
  return (int32_t)x->done;
}

int32_t wasmip_api_tcp_recv(wasmip_api_t *api, int32_t fd, void *buf, uint32_t len, uint32_t timeout_ms) {
  if (len > INT32_MAX) return WASMIP_EINVAL;
  if (len == 0) return 0;
  tcp_arg_t x = {api, fd, 0, 0, 0, buf, NULL, len, 0};
  return wasmip_api_call_wait(api, do_recv, &x, WASMIP_API_WAIT_TCP, fd, timeout_ms);
}

/* ---------------- UDP ---------------- */

typedef struct {
  wasmip_api_t *api;
  int32_t fd;
  const uint8_t *sbuf;
  uint8_t *rbuf;
  uint32_t len, ip, port;
} udp_arg_t;

static int32_t do_sendto(wasmip_board_t *b, void *p) {
  udp_arg_t *x = p;
  uint32_t io, size;
  uint8_t *m = wasmip_api_io(x->api, &io, &size);
  if (!m) return WASMIP_ENOSYS;
  if (x->len > size) return WASMIP_EMSGSIZE;
  memcpy(m, x->sbuf, x->len);
  return ex(b, "udp_sendto", 5, (uint32_t)x->fd, io, x->len, x->ip, x->port);
}

int32_t wasmip_api_udp_sendto(wasmip_api_t *api, int32_t fd, const void *buf, uint32_t len, uint32_t ip, uint16_t port) {
  udp_arg_t x = {api, fd, buf, NULL, len, ip, port};
  return wasmip_api_call(api, do_sendto, &x);
}

static int32_t do_recvfrom(wasmip_board_t *b, void *p) {
  udp_arg_t *x = p;
  uint32_t io, size;
  uint8_t *m = wasmip_api_io(x->api, &io, &size);
  if (!m) return WASMIP_ENOSYS;
  uint32_t n = x->len < size ? x->len : size;
  int32_t r = EX3(b, "udp_recvfrom", x->fd, io, n);
  if (r == WASMIP_EWOULDBLOCK) return WASMIP_API_AGAIN;
  if (r < 0) return r;
  if ((uint32_t)r > n) return WASMIP_EINVAL;
  memcpy(x->rbuf, m, (uint32_t)r);
  x->ip = (uint32_t)EX1(b, "udp_from_ip", x->fd);
  x->port = (uint32_t)EX1(b, "udp_from_port", x->fd);
  return r;
}

int32_t wasmip_api_udp_recvfrom(wasmip_api_t *api, int32_t fd, void *buf, uint32_t len, uint32_t *ip, uint16_t *port, uint32_t timeout_ms) {
  if (len > INT32_MAX) return WASMIP_EINVAL;
  udp_arg_t x = {api, fd, NULL, buf, len, 0, 0};
  /* No udp_changed(): a waiting recvfrom costs one udp_recvfrom per round. */
  int32_t r = wasmip_api_call_wait(api, do_recvfrom, &x, WASMIP_API_WAIT_ROUND, fd, timeout_ms);
  if (r >= 0) {
    if (ip) *ip = x.ip;
    if (port) *port = (uint16_t)x.port;
  }
  return r;
}

/* ---------------- DNS ---------------- */

typedef struct {
  wasmip_api_t *api;
  const char *name;
  int32_t handle; /* -1 until dns_resolve ran */
  uint32_t ip;
} dns_arg_t;

static int32_t do_resolve(wasmip_board_t *b, void *p) {
  dns_arg_t *x = p;
  if (x->handle < 0) {
    uint32_t io, size;
    uint8_t *m = wasmip_api_io(x->api, &io, &size);
    if (!m) return WASMIP_ENOSYS;
    size_t len = strlen(x->name);
    if (len == 0 || len > size) return WASMIP_EINVAL;
    memcpy(m, x->name, len);
    int32_t h = EX2(b, "dns_resolve", io, len);
    if (h < 0) return h;
    x->handle = h;
  }
  int32_t r = EX1(b, "dns_result", x->handle);
  if (r == WASMIP_EWOULDBLOCK) return WASMIP_API_AGAIN;
  if (r == 0) x->ip = (uint32_t)EX1(b, "dns_address", x->handle);
  EX1(b, "dns_release", x->handle);
  return r;
}

int32_t wasmip_api_dns_resolve(wasmip_api_t *api, const char *name, uint32_t *ip) {
  dns_arg_t x = {api, name, -1, 0};
  int32_t r = wasmip_api_call_wait(api, do_resolve, &x, WASMIP_API_WAIT_ROUND, -1, WASMIP_API_FOREVER);
  if (r == 0 && ip) *ip = x.ip;
  return r;
}

/* ---------------- the OS layer: pthreads ---------------- */
#ifndef WASMIP_API_OS_CUSTOM
int wasmip_os_lock_init(wasmip_os_lock_t *l) { return pthread_mutex_init(l, NULL); }
void wasmip_os_lock(wasmip_os_lock_t *l) { pthread_mutex_lock(l); }
void wasmip_os_unlock(wasmip_os_lock_t *l) { pthread_mutex_unlock(l); }

void wasmip_os_signal_init(wasmip_os_signal_t *s) {
  pthread_mutex_init(&s->m, NULL);
  pthread_cond_init(&s->c, NULL);
  s->given = 0;
}

void wasmip_os_signal_wait(wasmip_os_signal_t *s) {
  pthread_mutex_lock(&s->m);
  while (!s->given) pthread_cond_wait(&s->c, &s->m);
  pthread_mutex_unlock(&s->m);
}

/* The waiter cannot see given (and return, ending s's life) before the unlock: POSIX allows
 * destroying a mutex once it is unlocked, whatever the unlocking thread does next. */
void wasmip_os_signal_give(wasmip_os_signal_t *s) {
  pthread_mutex_lock(&s->m);
  s->given = 1;
  pthread_cond_signal(&s->c);
  pthread_mutex_unlock(&s->m);
}

void wasmip_os_signal_destroy(wasmip_os_signal_t *s) {
  pthread_cond_destroy(&s->c);
  pthread_mutex_destroy(&s->m);
}
#endif
