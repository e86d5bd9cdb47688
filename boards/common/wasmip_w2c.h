/*
 * wasmip_w2c.h - the glue between a firmware image translated by wasm2c (module name "stack",
 * wabt 1.0.32 names: export f is Z_stackZ_f, import phy.f is Z_phyZ_f) and the shared board code:
 *   - the wasmip_runtime_t that calls the core's exports under a setjmp trap handler (WASMIP_W2C_TRY),
 *   - the phy.* imports (bounds-checked offsets -> native pointers -> wasmip_phy_*),
 *   - the optional DHCP exports (weak: the trap test images do not have them), callable by name
 *     (call_export) for the board's DHCP boot (wasmip_board_dhcp_start/wait_lease); with
 *     WASMIP_W2C_ALL_EXPORTS every other u32-returning export too (for wasmip_api.c).
 * Every wasm2c board (posix, mps2-an385) uses it, whatever its wasm-rt implementation (wabt's
 * wasm-rt-impl.c on Linux, boards/common/wasm_rt_static.c on bare metal).
 *
 * It defines functions: include it exactly once per program, after nothing else of the module.
 */
#ifndef WASMIP_W2C_H
#define WASMIP_W2C_H

#include <string.h>

#include "stack.h"
#include "wasm-rt-impl.h"
#include "wasmip_board.h"

/* The exports callable by name (call_export), with their argument counts (wasmip.h): the DHCP
 * client's, ipv4_address, set_log_module_level, set_offload, config, multicast_mac, io_buffer(_size)
 * and app_config, for the board's DHCP boot, its network events, its log flags, its checksum
 * offload, its MAC's multicast filter and the app's settings (--app-config), and with WASMIP_W2C_ALL_EXPORTS (a board that uses wasmip_api.c, the calls
 * from other threads) the sockets, DNS and the rest too. Each costs a table row and a name string
 * of flash, hence opt-in. */
#define WASMIP_W2C_DHCP_EXPORTS(X) X(dhcp_start, 2) X(dhcp_state, 0) X(dhcp_address, 0) X(dhcp_router, 0) X(ipv4_address, 0) \
  X(set_log_module_level, 2) X(set_offload, 1) X(config, 1) X(multicast_mac, 2) X(io_buffer, 0) X(io_buffer_size, 0) X(app_config, 2)
#ifdef WASMIP_W2C_ALL_EXPORTS
#define WASMIP_W2C_MORE_EXPORTS(X)                                                                                             \
  X(ping, 3) X(ping_rtt, 1) X(tcp_socket, 0) X(tcp_bind, 2) X(tcp_listen, 2) X(tcp_accept, 1)  \
  X(tcp_connect, 3) X(tcp_send, 3) X(tcp_send_space, 1) X(tcp_recv, 3) X(tcp_shutdown, 2) X(tcp_close, 1) X(tcp_abort, 1)    \
  X(tcp_events, 1) X(tcp_changed, 0) X(tcp_setopt, 3) X(tcp_state, 1) X(tcp_local_port, 1) X(tcp_remote_ip, 1)               \
  X(tcp_remote_port, 1) X(tcp_table_size, 0) X(tcp_table_row, 2) X(tcp_info, 2) X(udp_socket, 0) X(udp_bind, 2)              \
  X(udp_connect, 3) X(udp_sendto, 5) X(udp_recvfrom, 3) X(udp_from_ip, 1) X(udp_from_port, 1) X(udp_local_port, 1)            \
  X(udp_close, 1) X(udp_events, 1) X(dhcp_release, 0) X(dhcp_lease_remaining, 0)        \
  X(dhcp_server, 0) X(dhcp_dns, 1) X(dns_set_servers, 2) X(dns_server, 1) X(dns_resolve, 2) X(dns_result, 1)                 \
  X(dns_address, 1) X(dns_ttl, 1) X(dns_release, 1)
#else
#define WASMIP_W2C_MORE_EXPORTS(X)
#endif
#define WASMIP_W2C_NAMED_EXPORTS(X) WASMIP_W2C_DHCP_EXPORTS(X) WASMIP_W2C_MORE_EXPORTS(X)

/* Their prototypes, weak: an image without one (the trap test images) leaves it NULL. */
#define WASMIP_W2C_P0 Z_stack_instance_t *
#define WASMIP_W2C_P1 WASMIP_W2C_P0, u32
#define WASMIP_W2C_P2 WASMIP_W2C_P1, u32
#define WASMIP_W2C_P3 WASMIP_W2C_P2, u32
#define WASMIP_W2C_P5 WASMIP_W2C_P3, u32, u32
#define WASMIP_W2C_A0 I
#define WASMIP_W2C_A1 I, a[0]
#define WASMIP_W2C_A2 WASMIP_W2C_A1, a[1]
#define WASMIP_W2C_A3 WASMIP_W2C_A2, a[2]
#define WASMIP_W2C_A5 WASMIP_W2C_A3, a[3], a[4]
#define WASMIP_W2C_DECL(name, n) u32 Z_stackZ_##name(WASMIP_W2C_P##n) __attribute__((weak));
WASMIP_W2C_NAMED_EXPORTS(WASMIP_W2C_DECL)
/* set_link and net_events (optional in wasmip_fn_t): weak too. */
void Z_stackZ_set_link(Z_stack_instance_t *, u32) __attribute__((weak));
u32 Z_stackZ_net_events(Z_stack_instance_t *) __attribute__((weak));

/* The import object wasm2c passes to every phy.* import. */
struct Z_phy_instance_t {
  wasmip_board_t *board;
};

/* The trap handler set before every call into the module. wasm2c's wasm_rt_impl_try() is
 * sigsetjmp(buf, 1) wherever traps come from a SIGSEGV handler (64-bit POSIX): saving the signal
 * mask costs one rt_sigprocmask system call per call, i.e. per frame. We save no mask; the only
 * change a trap can leave in it is SIGSEGV/SIGBUS blocked (the handler longjmps out of itself),
 * which wasmip_w2c_trapped() undoes, on the trap path only. Elsewhere (bare metal: bounds are
 * checked in code, setjmp saves no mask anyway) it is wasm2c's own macro. */
#if WASM_RT_MEMCHECK_SIGNAL_HANDLER && !defined(_WIN32)
#include <signal.h>
#define WASMIP_W2C_TRY() (WASM_RT_SAVE_STACK_DEPTH(), wasm_rt_set_unwind_target(&wasm_rt_jmp_buf), sigsetjmp(wasm_rt_jmp_buf, 0))
static void wasmip_w2c_unblock_fault_signals(void) {
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGSEGV);
  sigaddset(&s, SIGBUS);
  pthread_sigmask(SIG_UNBLOCK, &s, NULL);
}
#else
#define WASMIP_W2C_TRY() wasm_rt_impl_try()
static void wasmip_w2c_unblock_fault_signals(void) {}
#endif

static wasm_rt_trap_t wasmip_w2c_last_trap;

static const char *wasmip_w2c_trap_kind(wasm_rt_trap_t t) {
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

static const char *wasmip_w2c_trap_message(void *ctx) {
  (void)ctx;
  return wasmip_w2c_trap_kind(wasmip_w2c_last_trap);
}

static uint8_t *wasmip_w2c_memory(void *ctx, uint32_t *size) {
  wasm_rt_memory_t *m = Z_stackZ_memory((Z_stack_instance_t *)ctx);
  *size = (uint32_t)m->size;
  return m->data;
}

static int wasmip_w2c_call(void *ctx, wasmip_fn_t fn, uint32_t *a) {
  Z_stack_instance_t *I = ctx;
  wasm_rt_trap_t t = (wasm_rt_trap_t)WASMIP_W2C_TRY();
  if (t != WASM_RT_TRAP_NONE) {
    wasmip_w2c_unblock_fault_signals();
    wasmip_w2c_last_trap = t;
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
    case WASMIP_FN_SET_LINK:
      if (!Z_stackZ_set_link) return -1;
      Z_stackZ_set_link(I, a[0]);
      break;
    case WASMIP_FN_NET_EVENTS:
      if (!Z_stackZ_net_events) return -1;
      a[0] = Z_stackZ_net_events(I);
      break;
    default: return -1;
  }
  return 0;
}

/* The named exports (call_export): a thunk each, in a table searched by name. */
#define WASMIP_W2C_THUNK(name, n) \
  static u32 wasmip_w2c_x_##name(Z_stack_instance_t *I, const uint32_t *a) { (void)a; return Z_stackZ_##name(WASMIP_W2C_A##n); }
WASMIP_W2C_NAMED_EXPORTS(WASMIP_W2C_THUNK)

typedef struct {
  const char *name;
  uint32_t argc;
  u32 (*thunk)(Z_stack_instance_t *, const uint32_t *);
  void (*fn)(void); /* the export itself: NULL when the image lacks it */
} wasmip_w2c_export_t;

static const wasmip_w2c_export_t *wasmip_w2c_find(const char *name) {
#define WASMIP_W2C_ROW(name, n) {#name, n, wasmip_w2c_x_##name, (void (*)(void))Z_stackZ_##name},
  static const wasmip_w2c_export_t table[] = {WASMIP_W2C_NAMED_EXPORTS(WASMIP_W2C_ROW)};
#undef WASMIP_W2C_ROW
  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (table[i].fn != NULL && !strcmp(table[i].name, name)) return &table[i];
  return NULL;
}

static int wasmip_w2c_has_export(void *ctx, const char *name) {
  (void)ctx;
  if (!strcmp(name, "set_link")) return Z_stackZ_set_link != NULL;
  if (!strcmp(name, "net_events")) return Z_stackZ_net_events != NULL;
  return wasmip_w2c_find(name) != NULL;
}

static int wasmip_w2c_call_export(void *ctx, const char *name, uint32_t argc, uint32_t *a) {
  Z_stack_instance_t *I = ctx;
  const wasmip_w2c_export_t *e = wasmip_w2c_find(name);
  if (!e || e->argc != argc) return WASMIP_RT_NO_EXPORT;
  wasm_rt_trap_t t = (wasm_rt_trap_t)WASMIP_W2C_TRY();
  if (t != WASM_RT_TRAP_NONE) {
    wasmip_w2c_unblock_fault_signals();
    wasmip_w2c_last_trap = t;
    return (int)t;
  }
  a[0] = e->thunk(I, a);
  return 0;
}

/* The runtime table for wasmip_board_setup(); ctx is the instance. */
static inline wasmip_runtime_t wasmip_w2c_runtime(Z_stack_instance_t *inst) {
  wasmip_runtime_t rt = {inst, wasmip_w2c_call, wasmip_w2c_memory, wasmip_w2c_trap_message, wasmip_w2c_call_export, wasmip_w2c_has_export};
  return rt;
}

/* ---- the phy.* imports wasm2c links against (a module that does not import one leaves it unused) ---- */
void Z_phyZ_tx(struct Z_phy_instance_t *p, u32 ptr, u32 len) { wasmip_phy_tx(p->board, wasmip_board_mem(p->board, ptr, len), len); }
u32 Z_phyZ_now_ms(struct Z_phy_instance_t *p) { return wasmip_phy_now_ms(p->board); }
u32 Z_phyZ_random(struct Z_phy_instance_t *p) { return wasmip_phy_random(p->board); }
u32 Z_phyZ_checksum(struct Z_phy_instance_t *p, u32 ptr, u32 len) {
  const uint8_t *m = wasmip_board_mem(p->board, ptr, len);
  return m ? wasmip_checksum(m, len) : 0; /* out of bounds: a sum no valid frame matches */
}
void Z_phyZ_panic(struct Z_phy_instance_t *p, u32 ptr, u32 len, u32 line) {
  const uint8_t *m = wasmip_board_mem(p->board, ptr, len);
  wasmip_phy_panic(p->board, m ? (const char *)m : "(bad message pointer)", m ? len : 21u, line);
}
void Z_phyZ_log(struct Z_phy_instance_t *p, u32 level, u32 ptr, u32 len) {
  const uint8_t *m = wasmip_board_mem(p->board, ptr, len);
  if (m) wasmip_phy_log(p->board, level, (const char *)m, len);
}

/* ---- DHCP: the board's generic boot (wasmip_board_dhcp_*) through call_export ---- */

static inline int wasmip_w2c_has_dhcp(void) { return Z_stackZ_dhcp_start != NULL && Z_stackZ_dhcp_state != NULL; }

static inline int32_t wasmip_w2c_dhcp_start(wasmip_board_t *b, Z_stack_instance_t *inst, const char *host) {
  (void)inst;
  return wasmip_board_dhcp_start(b, host);
}

static inline int wasmip_w2c_dhcp_wait_lease(wasmip_board_t *b, Z_stack_instance_t *inst, uint32_t *ip, uint32_t *gw) {
  (void)inst;
  return wasmip_board_dhcp_wait_lease(b, ip, gw);
}

/* "trap in <export>(): <kind>" for any trap, DHCP exports included (NUL-terminated). */
static inline void wasmip_w2c_describe_trap(const wasmip_board_t *b, char *buf, size_t size) { wasmip_board_describe_trap(b, buf, size); }

#endif /* WASMIP_W2C_H */
