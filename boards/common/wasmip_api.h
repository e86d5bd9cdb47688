/*
 * wasmip_api.h - calls into the stack from other threads or tasks (portable C11, no allocation).
 *
 *   thread A: wasmip_api_tcp_recv(api, fd, buf, n, 1000) ──┐ request on A's stack, pointer queued
 *   thread B: wasmip_api_tcp_send(api, fd2, buf, n, ...) ──┤ (a fixed ring), port->wake()
 *                                                          v
 *   stack task: wasmip_board_step: input ... poll() ──> wasmip_api_service: runs each request's
 *               fn(board, arg) (copies through io_buffer()), stores the result and signals the
 *               caller; one that would block is parked and run again when its socket's events
 *               change (tcp_changed()), every round (UDP, DNS), or failed at its timeout.
 *
 * The core is single-threaded: only the stack task may call the module (the receive buffer, the
 * socket tables, the runtime's own state). Like lwIP's tcpip_api_call and netconn, every other
 * thread hands its call to the stack task and sleeps until the result is stored; no lock is held
 * around the module, and nothing spins: a blocked call costs nothing until its socket changes.
 *
 * Set up, in the stack task before it runs (the board set up, the module not yet started is fine):
 *   static wasmip_api_t api;
 *   wasmip_api_init(&api, &board);          (sets board.service: the hook in wasmip_board_step)
 *   ... wasmip_board_run(&board) ...        (the stack task serves calls from here on)
 *   wasmip_api_stop(&api);                  (after run returned: fails what is pending, refuses more)
 *
 * The runtime must call exports by name (wasmip_runtime_t.call_export): WAMR does; a wasm2c board
 * compiles wasmip_w2c.h with WASMIP_W2C_ALL_EXPORTS. The service owns tcp_changed(): other code in
 * the stack task that calls it takes the change bits the waiting calls are woken by (use
 * tcp_events() there).
 *
 * Threading: port->wake must be callable from every thread that makes calls (the posix port's
 * eventfd is; an RTOS port's task notification is). Every wasmip_api_* call below is thread-safe and blocks the caller until the stack
 * task has run it (none may be called from the stack task itself: it would wait for itself). They
 * may be called before the stack task runs; they are served once it does. A call's buffers are
 * read/written by the stack task while the caller sleeps, so they may live on the caller's stack.
 * To end a call blocked in another thread, shut its fd down (wasmip_api_tcp_shutdown(fd, 2): the
 * recv returns 0); closing an fd another thread waits on fails that wait with EINVAL unless the
 * fd is reused in between (as with BSD sockets: don't).
 *
 * Returns: the core's codes (wasmip.h WASMIP_E*) plus WASMIP_EQUEUEFULL (the request ring is full:
 * nothing was done, try again) and WASMIP_ESTOPPED (the stack task stopped or trapped). A timeout
 * (ms, WASMIP_API_FOREVER: none; 0: do not wait) ends a wait with WASMIP_EWOULDBLOCK, like
 * SO_RCVTIMEO, except connect (WASMIP_ETIMEDOUT). Timeouts run on the board's clock
 * (port->now_ms), checked by the stack task at the board's own wake-ups (ms granularity).
 *
 * Costs: per call, one queue push and pop under a mutex, one port->wake (an eventfd write on
 * Linux), and a wait/signal pair; the ring is WASMIP_API_QUEUE_LEN pointers; a parked call costs
 * one module call per change of its socket (TCP fds 0..31) or per round (UDP, DNS).
 *
 * The OS layer (wasmip_os_*, below) is pthreads here. A FreeRTOS port would make the ring a
 * FreeRTOS queue of request pointers (xQueueSend with no wait: full -> WASMIP_EQUEUEFULL) and
 * the per-caller signal a task notification (give: xTaskNotifyGive to the handle stored in the
 * request; wait: ulTaskNotifyTake(pdTRUE, portMAX_DELAY)); port->wake is already a notification
 * of the stack task. Define WASMIP_API_OS_CUSTOM and provide the types and functions.
 */
#ifndef WASMIP_API_H
#define WASMIP_API_H

#include <stdint.h>

#include "wasmip_board.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Requests the ring holds (callers in flight at once: one per thread that calls the stack). */
#ifndef WASMIP_API_QUEUE_LEN
#define WASMIP_API_QUEUE_LEN 8u
#endif
#if (WASMIP_API_QUEUE_LEN & (WASMIP_API_QUEUE_LEN - 1u)) != 0 || WASMIP_API_QUEUE_LEN < 1u
#error "WASMIP_API_QUEUE_LEN must be a power of two (the ring's indices wrap at 2^32)"
#endif

/* Beyond the core's codes (which count down from -1). */
#define WASMIP_EQUEUEFULL (-100) /* the request ring is full: not queued, nothing done */
#define WASMIP_ESTOPPED   (-101) /* the stack task has stopped (or the module trapped) */

#define WASMIP_API_FOREVER 0xffffffffu

/* ---- the OS layer: a lock for the ring, a one-shot signal per waiting caller ---- */
#ifndef WASMIP_API_OS_CUSTOM
#include <pthread.h>
typedef pthread_mutex_t wasmip_os_lock_t;
typedef struct {
  pthread_mutex_t m;
  pthread_cond_t c;
  int given;
} wasmip_os_signal_t;
#endif
int wasmip_os_lock_init(wasmip_os_lock_t *l); /* 0 on success */
void wasmip_os_lock(wasmip_os_lock_t *l);
void wasmip_os_unlock(wasmip_os_lock_t *l);
void wasmip_os_signal_init(wasmip_os_signal_t *s);    /* in the caller, before queueing */
void wasmip_os_signal_wait(wasmip_os_signal_t *s);    /* the caller sleeps until given */
void wasmip_os_signal_give(wasmip_os_signal_t *s);    /* the stack task; s may be gone after */
void wasmip_os_signal_destroy(wasmip_os_signal_t *s); /* in the caller, after the wait */

/* ---- the call queue ---- */

/* Run in the stack task; returns the call's result, or WASMIP_API_AGAIN: not done, run me again
 * later (see wasmip_api_call_wait). It may call the module through b (wasmip_board_call_export)
 * and use io_buffer() (wasmip_api_io). */
typedef int32_t (*wasmip_api_fn)(wasmip_board_t *b, void *arg);
#define WASMIP_API_AGAIN (-102)

/* What a parked request waits for: its socket's events to change, or any round. */
#define WASMIP_API_WAIT_ROUND 0u
#define WASMIP_API_WAIT_TCP   1u

typedef struct wasmip_api_req {
  wasmip_api_fn fn;
  void *arg;
  int32_t result;
  uint32_t wait;    /* WASMIP_API_WAIT_* */
  int32_t fd;       /* the TCP fd for WASMIP_API_WAIT_TCP */
  uint32_t timeout; /* ms, from the first run */
  uint32_t deadline;
  struct wasmip_api_req *next; /* the parked list (stack task only) */
  wasmip_os_signal_t done;
} wasmip_api_req_t;

typedef struct {
  uint32_t calls;       /* requests queued */
  uint32_t queue_full;  /* refused with WASMIP_EQUEUEFULL */
  uint32_t parked;      /* requests that had to wait (fn returned AGAIN on its first run) */
  uint32_t retries;     /* runs of parked requests */
  uint32_t timeouts;    /* waits that ended at their timeout */
} wasmip_api_stats_t;

typedef struct {
  wasmip_board_t *board;
  wasmip_os_lock_t lock;
  /* Under lock: the ring of queued requests, and whether the stack task still serves them. */
  wasmip_api_req_t *ring[WASMIP_API_QUEUE_LEN];
  uint32_t head, tail;
  int stopped;
  wasmip_api_stats_t stats; /* calls and queue_full under lock; the rest by the stack task */
  /* The stack task's own. */
  wasmip_api_req_t *parked;
  int retry_all; /* the last round ran calls: run every parked one again (they may be unblocked) */
  uint32_t io_ptr, io_size;
} wasmip_api_t;

/* Set up and hook into the board (board->service). After wasmip_board_setup, before the stack
 * task runs. 0, or -1 when the lock cannot be created. */
int wasmip_api_init(wasmip_api_t *api, wasmip_board_t *board);

/* The hook (wasmip_board_t.service): the stack task runs queued and parked requests. Returns the
 * ms until the next timeout of a parked request (0: step again at once). */
uint32_t wasmip_api_service(void *api, uint32_t now);

/* After wasmip_board_run returned, in the stack task (or once it is joined): every queued and
 * parked request completes with WASMIP_ESTOPPED, later calls return it at once. */
void wasmip_api_stop(wasmip_api_t *api);

/* Requests queued and not yet taken by the stack task (for tests and diagnostics). */
uint32_t wasmip_api_pending(wasmip_api_t *api);

/* Run fn(board, arg) in the stack task and return its result (like tcpip_api_call). An fn that
 * returns WASMIP_API_AGAIN is run again after each later round until it returns something else. */
int32_t wasmip_api_call(wasmip_api_t *api, wasmip_api_fn fn, void *arg);

/* The same, with a wait: while fn returns WASMIP_API_AGAIN it is run again when TCP fd's events
 * change (wait WASMIP_API_WAIT_TCP) or after every round (WASMIP_API_WAIT_ROUND); timeout_ms
 * after its first run it completes with WASMIP_EWOULDBLOCK. */
int32_t wasmip_api_call_wait(wasmip_api_t *api, wasmip_api_fn fn, void *arg, uint32_t wait, int32_t fd, uint32_t timeout_ms);

/* In an fn: io_buffer() as a native pointer and its size (0 when the image has none). */
uint8_t *wasmip_api_io(wasmip_api_t *api, uint32_t *ptr, uint32_t *size);

/* ---- blocking sockets for other threads (like lwIP's netconn/sockets API) ---- */

/* Any export by name (wasmip.h), argc u32 arguments in argv, its result in argv[0] (thread-safe
 * raw access, e.g. tcp_setopt, config, dns_set_servers). 0 | WASMIP_ENOSYS (no such export with
 * that shape) | WASMIP_EQUEUEFULL | WASMIP_ESTOPPED. */
int32_t wasmip_api_export(wasmip_api_t *api, const char *name, uint32_t argc, uint32_t *argv);

/* TCP: fds as in wasmip.h. socket -> fd | ENOBUFS. bind(port 0: ephemeral) -> 0 | EINVAL |
 * EADDRINUSE. listen -> 0 | EINVAL. close -> 0 | EINVAL (graceful in the background).
 * shutdown(how 0 read, 1 write, 2 both) -> 0 | ENOTCONN. None of these block on the network. */
int32_t wasmip_api_tcp_socket(wasmip_api_t *api);
int32_t wasmip_api_tcp_bind(wasmip_api_t *api, int32_t fd, uint16_t port);
int32_t wasmip_api_tcp_listen(wasmip_api_t *api, int32_t fd, uint32_t backlog);
int32_t wasmip_api_tcp_shutdown(wasmip_api_t *api, int32_t fd, uint32_t how);
int32_t wasmip_api_tcp_close(wasmip_api_t *api, int32_t fd);
/* accept: blocks until a connection is ready. -> new fd | EWOULDBLOCK (timeout) | EINVAL. */
int32_t wasmip_api_tcp_accept(wasmip_api_t *api, int32_t fd, uint32_t timeout_ms);
/* connect: SYN, then blocks until the handshake completes. -> 0 | ECONNREFUSED | EHOSTUNREACH |
 * ETIMEDOUT (the core gave up, or timeout_ms passed: the attempt goes on until close) | EINVAL |
 * EADDRINUSE. After a failure, close the fd. */
int32_t wasmip_api_tcp_connect(wasmip_api_t *api, int32_t fd, uint32_t ip, uint16_t port, uint32_t timeout_ms);
/* send: queues all len bytes, blocking while the send buffer is full (cut into io_buffer()-sized
 * copies). -> len | the bytes queued before the timeout or an error (>= 1) | EWOULDBLOCK
 * (timeout, none queued) | ENOTCONN | the connection's error (ECONNRESET, ETIMEDOUT, ...). */
int32_t wasmip_api_tcp_send(wasmip_api_t *api, int32_t fd, const void *buf, uint32_t len, uint32_t timeout_ms);
/* recv: blocks until data, end of stream or an error, then returns what is there (up to len).
 * -> bytes (>= 1) | 0 (end of stream) | EWOULDBLOCK (timeout) | ENOTCONN | the connection's error. */
int32_t wasmip_api_tcp_recv(wasmip_api_t *api, int32_t fd, void *buf, uint32_t len, uint32_t timeout_ms);

/* UDP: socket -> fd | ENOBUFS; bind -> 0 | EINVAL | EADDRINUSE; close -> 0 | EINVAL.
 * sendto never blocks: -> len | EMSGSIZE (more than io_buffer_size()) | EHOSTUNREACH | ENOBUFS |
 * EINVAL | a pending ICMP error. recvfrom blocks until a datagram (cut to len): -> bytes, the
 * sender in *ip, *port (either may be NULL) | EWOULDBLOCK (timeout) | a pending ICMP error. */
int32_t wasmip_api_udp_socket(wasmip_api_t *api);
int32_t wasmip_api_udp_bind(wasmip_api_t *api, int32_t fd, uint16_t port);
int32_t wasmip_api_udp_close(wasmip_api_t *api, int32_t fd);
int32_t wasmip_api_udp_sendto(wasmip_api_t *api, int32_t fd, const void *buf, uint32_t len, uint32_t ip, uint16_t port);
int32_t wasmip_api_udp_recvfrom(wasmip_api_t *api, int32_t fd, void *buf, uint32_t len, uint32_t *ip, uint16_t *port, uint32_t timeout_ms);

/* DNS: an A lookup, blocking until the resolver is done (its own retransmissions bound it: 3
 * passes over the servers). name: NUL-terminated. -> 0 and *ip | EINVAL | ENOBUFS |
 * EHOSTUNREACH (no server) | ENXDOMAIN | ESERVFAIL | ETRUNCATED | ENODATA | ETIMEDOUT |
 * ECONNREFUSED (the codes of dns_resolve and dns_result in wasmip.h). */
int32_t wasmip_api_dns_resolve(wasmip_api_t *api, const char *name, uint32_t *ip);

#ifdef __cplusplus
}
#endif
#endif /* WASMIP_API_H */
