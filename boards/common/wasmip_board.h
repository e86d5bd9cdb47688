/*
 * wasmip_board.h - the C code every board shares (portable C11, no allocation after start).
 *
 *   driver rx callback ──> wasmip_board_rx() ──> frame pool (fixed slots, SPSC ring)
 *                                                      │
 *   stack task: wasmip_board_run() ── drain ──> rx_buffer()+input(len) ──> poll(now)
 *                       │                                                   │
 *                       └──── port->wait(min(deadline, next frame)) <───────┘
 *
 *   imports (phy.*) ──> wasmip_phy_tx/now_ms/random/panic/log ──> port->tx/now_ms/...
 *
 * A board provides two small tables:
 *   - wasmip_runtime_t: how to call the module's exports (wasm2c-compiled C, WAMR, ...) and where
 *     its linear memory is. A call that traps returns non-zero; the board stops.
 *   - wasmip_port_t: the driver and OS: transmit a frame, a ms clock, random bits, logging, and a
 *     wait that sleeps until a timeout or until wasmip_board_rx() signalled a frame (port->wake).
 *
 * Threading: one producer (the driver's receive callback, a task or thread; not an ISR unless
 * port->wake is ISR-safe) and one consumer (the stack task that runs wasmip_board_run). The queue
 * is lock-free with C11 atomics; a platform without them defines WASMIP_NO_ATOMICS and the two
 * macros WASMIP_CRITICAL_ENTER()/WASMIP_CRITICAL_EXIT() (e.g. portENTER_CRITICAL/portEXIT_CRITICAL).
 * Several producers need WASMIP_MULTI_PRODUCER plus those macros around the push.
 */
#ifndef WASMIP_BOARD_H
#define WASMIP_BOARD_H

#include <stddef.h>
#include <stdint.h>

#include "wasmip.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Slots in the receive pool (a power of two). Each is WASMIP_FRAME_MAX bytes plus a length. */
#ifndef WASMIP_RXQ_SLOTS
#define WASMIP_RXQ_SLOTS 8u
#endif
#if (WASMIP_RXQ_SLOTS & (WASMIP_RXQ_SLOTS - 1u)) != 0 || WASMIP_RXQ_SLOTS < 2u
#error "WASMIP_RXQ_SLOTS must be a power of two >= 2"
#endif

#if defined(WASMIP_NO_ATOMICS) || defined(WASMIP_MULTI_PRODUCER)
#if !defined(WASMIP_CRITICAL_ENTER) || !defined(WASMIP_CRITICAL_EXIT)
#error "define WASMIP_CRITICAL_ENTER() and WASMIP_CRITICAL_EXIT() for this platform"
#endif
#endif

#ifdef WASMIP_NO_ATOMICS
typedef volatile uint32_t wasmip_index_t;
#else
#include <stdatomic.h>
typedef _Atomic uint32_t wasmip_index_t;
#endif

/* The exports a board calls (names as in wasmip.h). */
typedef enum {
  WASMIP_FN_INIT,           /* (mac_hi, mac_lo, ip, mask, gw) -> i32 */
  WASMIP_FN_SET_IPV4,       /* (ip, mask, gw) -> i32 */
  WASMIP_FN_RX_BUFFER,      /* () -> ptr */
  WASMIP_FN_RX_BUFFER_SIZE, /* () -> u32 */
  WASMIP_FN_INPUT,          /* (len) -> counter id */
  WASMIP_FN_POLL,           /* (now) -> ms */
  WASMIP_FN_COUNTER_COUNT,  /* () -> n */
  WASMIP_FN_COUNTER,        /* (id) -> value */
  WASMIP_FN_COUNTER_NAME,   /* (id) -> ptr to NUL-terminated name */
  WASMIP_FN_COUNTER_KIND,   /* (id) -> WASMIP_COUNTER_* */
  WASMIP_FN_MEMORY_USED,    /* () -> bytes */
  WASMIP_FN_SET_LOG_LEVEL,  /* (level) -> nothing */
  /* Optional (images before network events lack them): the board calls them only when present. */
  WASMIP_FN_SET_LINK,       /* (up) -> nothing */
  WASMIP_FN_NET_EVENTS,     /* () -> WASMIP_NET_EV_* bits */
  WASMIP_FN_COUNT
} wasmip_fn_t;
/* The first optional export: a runtime fails to load an image without one of those before it. */
#define WASMIP_FN_REQUIRED WASMIP_FN_SET_LINK

/* The argument count of each export (index: wasmip_fn_t). */
extern const uint8_t wasmip_fn_argc[WASMIP_FN_COUNT];
/* The wasm export name of each (index: wasmip_fn_t). */
extern const char *const wasmip_fn_name[WASMIP_FN_COUNT];

typedef struct wasmip_runtime {
  void *ctx;
  /* Call export fn with wasmip_fn_argc[fn] u32 arguments in argv (WAMR's convention: the result,
   * if any, replaces argv[0]; argv has room for at least one value). Returns 0, or non-zero when
   * the module trapped: trap_message(ctx) then says what happened. */
  int (*call)(void *ctx, wasmip_fn_t fn, uint32_t *argv);
  /* The module's linear memory: base pointer, size in *size. */
  uint8_t *(*memory)(void *ctx, uint32_t *size);
  const char *(*trap_message)(void *ctx);
  /* Optional (NULL: none): an export outside wasmip_fn_t by name, e.g. the DHCP client's, with
   * argc u32 arguments, same argv convention. Returns 0, WASMIP_RT_NO_EXPORT when the image does
   * not export it (with that shape), or another non-zero value when the module trapped. */
  int (*call_export)(void *ctx, const char *name, uint32_t argc, uint32_t *argv);
  /* Optional: 1 when the image exports name, else 0. */
  int (*has_export)(void *ctx, const char *name);
} wasmip_runtime_t;

#define WASMIP_RT_NO_EXPORT 0x7fff

typedef struct wasmip_port {
  void *ctx;
  /* Send one frame (no FCS) from the stack task; the frame is valid only during the call.
   * Returns 0, or non-zero when the driver refused it (counted, never retried). */
  int (*tx)(void *ctx, const uint8_t *frame, uint32_t len);
  uint32_t (*now_ms)(void *ctx);
  uint32_t (*random)(void *ctx);
  /* A log line from the core (not NUL-terminated) or from this file (level WASMIP_LOG_*). */
  void (*log)(void *ctx, uint32_t level, const char *msg, uint32_t len);
  /* Sleep in the stack task until wake() was called or timeout_ms passed (whichever first). A
   * wake() before the wait must make the wait return at once (a semaphore, an eventfd, a task
   * notification). */
  void (*wait)(void *ctx, uint32_t timeout_ms);
  /* From the producer: a frame was queued into an empty pool. May be NULL if wait polls. */
  void (*wake)(void *ctx);
  /* Optional: every frame in (dir 0, when handed to input) and out (dir 1), e.g. for a pcap. */
  void (*capture)(void *ctx, int dir, const uint8_t *frame, uint32_t len);
  /* Optional, for a driver the stack task can read itself (a non-blocking fd, a polled MAC):
   * copy the next waiting frame into buf (at most size bytes: the core's receive buffer, so no
   * pool slot and no second copy) and return its length; 0 when none is waiting; negative on an
   * error (counted in rx_pull_errors). wasmip_board_step() calls it after draining the pool, at
   * most WASMIP_RX_PULL_MAX times per round. With rx, wait() must also return when the driver has
   * a frame (e.g. poll() on its fd too). NULL: every frame comes through wasmip_board_rx(). */
  int32_t (*rx)(void *ctx, uint8_t *buf, uint32_t size);
  /* Optional: the core raised network events (WASMIP_NET_EV_* bits: link, address bound, renewed or
   * lost, DNS servers), reported after the step that raised them. Read the state it refers to with
   * wasmip_board_call/call_export (ipv4_address, dhcp_*). NULL: they are only logged. */
  void (*net_event)(void *ctx, uint32_t events);
} wasmip_port_t;

/* How often the stack task asks the core for network events (ms): at most once per this, so a
 * busy board does not pay an interpreted call per round; an event waits at most this long. */
#ifndef WASMIP_NET_EVENTS_MS
#define WASMIP_NET_EVENTS_MS 20u
#endif

/* Frames port->rx may hand over per round before poll() runs (timers, ACKs, queued sends). */
#ifndef WASMIP_RX_PULL_MAX
#define WASMIP_RX_PULL_MAX WASMIP_RXQ_SLOTS
#endif

typedef struct {
  uint32_t len;
  uint8_t data[WASMIP_FRAME_MAX];
} wasmip_slot_t;

/* What the board itself counts (the core counts everything after input()). */
typedef struct {
  uint32_t rx_queued;        /* frames the driver handed over and the pool took */
  uint32_t rx_pool_full;     /* frames dropped because every slot was in use */
  uint32_t rx_bad_length;    /* frames dropped for a length of 0 or more than WASMIP_FRAME_MAX */
  uint32_t rx_input;         /* frames passed to input() */
  uint32_t rx_link_down;     /* frames dropped while the link was down */
  uint32_t rx_pulled;        /* frames port->rx handed over (also in rx_input) */
  uint32_t rx_pull_errors;   /* port->rx returned an error */
  uint32_t tx_frames;        /* frames the driver accepted */
  uint32_t tx_errors;        /* frames the driver refused, or a bad pointer/length from the core */
  uint32_t tx_link_down;     /* frames dropped while the link was down */
  uint32_t polls;            /* poll() calls */
  uint32_t waits;            /* port->wait() calls */
} wasmip_board_stats_t;

typedef struct wasmip_board {
  const wasmip_runtime_t *rt;
  const wasmip_port_t *port;
  /* The receive pool: a single-producer single-consumer ring of slots. */
  wasmip_index_t rxq_head; /* written by the producer */
  wasmip_index_t rxq_tail; /* written by the consumer */
  wasmip_slot_t rxq[WASMIP_RXQ_SLOTS];
  uint32_t rx_ptr, rx_size; /* rx_buffer(), rx_buffer_size() */
  uint32_t ip, mask, gw;
  volatile int link_up;
  volatile int link_changed;
  volatile int stop;
  /* After a trap: which export, and the runtime's message. The board never calls the module again. */
  int trapped;
  wasmip_fn_t trap_fn;
  const char *trap_msg;
  int panicked; /* phy.panic was called (a trap follows) */
  const char *trap_export; /* the trap was in this export outside wasmip_fn_t (NULL: trap_fn) */
  int rx_more;  /* the last round stopped at WASMIP_RX_PULL_MAX: port->rx may have more */
  int has_set_link, has_net_events; /* the image exports them (wasmip_board_start) */
  uint32_t offload;                  /* WASMIP_OFFLOAD_* for the core (wasmip_board_set_offload) */
  int started;                       /* init() succeeded */
  uint32_t events_checked;           /* when net_events() was last called (board clock, ms) */
  wasmip_board_stats_t stats;
  /* Optional (NULL: none): work the stack task does once per round of wasmip_board_step, after
   * poll(), e.g. wasmip_api_service (wasmip_api.h: calls from other threads). It may call the
   * module through the board; returns the ms until it wants to run again (0: step again at once,
   * so poll() delivers what it queued; UINT32_MAX: no deadline of its own). Set after setup. */
  uint32_t (*service)(void *arg, uint32_t now);
  void *service_arg;
} wasmip_board_t;

/* Set up (no module call yet). The board struct is big (the pool): make it static. */
void wasmip_board_setup(wasmip_board_t *b, const wasmip_runtime_t *rt, const wasmip_port_t *port);

/* init() the core with this MAC and address; caches rx_buffer(). Returns init's result (0 or a
 * negative WASMIP_E*), or WASMIP_BOARD_TRAPPED. The link starts up. */
#define WASMIP_BOARD_TRAPPED (-1000)
int32_t wasmip_board_start(wasmip_board_t *b, const uint8_t mac[6], uint32_t ip, uint32_t mask, uint32_t gw);

/* The driver's receive callback: copy one frame into a free slot and return at once.
 * Returns 0, or WASMIP_ENOBUFS (pool full: dropped and counted) / WASMIP_EINVAL (bad length). */
int wasmip_board_rx(wasmip_board_t *b, const uint8_t *frame, uint32_t len);

/* Checksum offload (wasmip.h set_offload): WASMIP_OFFLOAD_* flags the core is given at start (at
 * once, from the stack task, when it has started). The WAMR boards pass WASMIP_OFFLOAD_SUM: the
 * interpreter's own checksum loop costs far more than wasmip_checksum(). Returns set_offload's
 * result, 0 before start, WASMIP_BOARD_NO_EXPORT for an image without it. */
int32_t wasmip_board_set_offload(wasmip_board_t *b, uint32_t flags);

/* The link went up or down (any task). While down, frames are dropped both ways. The stack task
 * tells the core (set_link: on the way up it flushes its ARP cache and confirms its DHCP lease);
 * an image without set_link gets its static address announced again instead (set_ipv4). */
void wasmip_board_link(wasmip_board_t *b, int up);

/* One round of the stack task: hand every queued frame to input() (the pool's, then port->rx's),
 * then poll(). Returns the ms until the next deadline, or WASMIP_BOARD_TRAPPED. */
int32_t wasmip_board_step(wasmip_board_t *b);

/* The stack task: step, then wait until the deadline or the next frame; until b->stop is set
 * (wasmip_board_request_stop, signal-safe) or the module traps. Returns 0 or WASMIP_BOARD_TRAPPED. */
int wasmip_board_run(wasmip_board_t *b);
void wasmip_board_request_stop(wasmip_board_t *b);

/* Call any export through the board (traps are recorded like in step). */
int wasmip_board_call(wasmip_board_t *b, wasmip_fn_t fn, uint32_t *argv);

/* Call an export outside wasmip_fn_t by name (rt->call_export). Returns 0 (result in argv[0]),
 * WASMIP_BOARD_NO_EXPORT (the image lacks it, or the runtime cannot call by name), or
 * WASMIP_BOARD_TRAPPED (recorded like in wasmip_board_call, with trap_export = name). */
#define WASMIP_BOARD_NO_EXPORT (-1001)
int wasmip_board_call_export(wasmip_board_t *b, const char *name, uint32_t argc, uint32_t *argv);
int wasmip_board_has_export(wasmip_board_t *b, const char *name);

/* ---- DHCP boot, for images with the DHCP client (dhcp_start, dhcp_state, dhcp_address,
 * dhcp_router exports) on a runtime with call_export. ---- */
int wasmip_board_has_dhcp(wasmip_board_t *b);
/* dhcp_start with host name `host` (copied through the receive buffer, which is free between
 * input() calls). Returns dhcp_start's result (0 or a negative WASMIP_E*), WASMIP_BOARD_NO_EXPORT
 * or WASMIP_BOARD_TRAPPED. */
int32_t wasmip_board_dhcp_start(wasmip_board_t *b, const char *host);
/* Step the stack (waiting in port->wait between rounds) until the DHCP client is BOUND; *ip and
 * *gw get the lease. Returns 0 bound, 1 stopped first (b->stop), WASMIP_BOARD_TRAPPED. */
int wasmip_board_dhcp_wait_lease(wasmip_board_t *b, uint32_t *ip, uint32_t *gw);

/* A pointer into linear memory for [ptr, ptr+len), or NULL when it is out of bounds. For runtimes
 * whose imports receive offsets (wasm2c); WAMR checks "(*~)" arguments itself. */
uint8_t *wasmip_board_mem(wasmip_board_t *b, uint32_t ptr, uint32_t len);

/* The core's counters: calls fn(name, kind, value) for each, in id order. Returns the count, or
 * WASMIP_BOARD_TRAPPED. */
int wasmip_board_counters(wasmip_board_t *b, void (*fn)(void *arg, const char *name, uint32_t kind, uint32_t value), void *arg);

/* The Ethernet multicast addresses the core wants (for a MAC's receive filter): multicast_mac()
 * of every WASMIP_CONFIG_MCAST_GROUPS slot in use, and 01:00:5e:00:00:01 (all systems) in an image
 * with IPv4 multicast. fn(arg, mac) for each (mac valid during the call). Call it at start and
 * after WASMIP_NET_EV_MULTICAST. Returns the count, WASMIP_BOARD_NO_EXPORT (an image without
 * multicast_mac or config, or a runtime without call_export) or WASMIP_BOARD_TRAPPED. */
int wasmip_board_multicast_macs(wasmip_board_t *b, void (*fn)(void *arg, const uint8_t mac[6]), void *arg);

/* Log network events (WASMIP_NET_EV_* bits) as the board does without port->net_event. */
void wasmip_board_log_events(wasmip_board_t *b, uint32_t events);

/* Describe a trap in buf: "trap in input(): out of bounds memory access" (NUL-terminated). */
void wasmip_board_describe_trap(const wasmip_board_t *b, char *buf, size_t size);

/* ---- The phy.* imports: a runtime's import functions forward here (native pointers). ---- */
void wasmip_phy_tx(wasmip_board_t *b, const uint8_t *frame, uint32_t len);
uint32_t wasmip_phy_now_ms(wasmip_board_t *b);
uint32_t wasmip_phy_random(wasmip_board_t *b);
void wasmip_phy_panic(wasmip_board_t *b, const char *msg, uint32_t len, uint32_t line);
void wasmip_phy_log(wasmip_board_t *b, uint32_t level, const char *msg, uint32_t len);

/* Helpers for flags: "A.B.C.D/len" -> ip, mask (host order); "02:00:..:01" -> mac. 0 on success. */
int wasmip_parse_cidr(const char *s, uint32_t *ip, uint32_t *mask);
int wasmip_parse_ip(const char *s, uint32_t *ip);
int wasmip_parse_mac(const char *s, uint8_t mac[6]);

#ifdef __cplusplus
}
#endif
#endif /* WASMIP_BOARD_H */
