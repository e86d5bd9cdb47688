/*
 * wasmip_board.c - the frame pool, the phy.* import glue and the poll/sleep loop shared by every
 * board (see wasmip_board.h). Portable C11; no allocation; no OS calls (those are in the port).
 */
#include "wasmip_board.h"

#include <string.h>

const uint8_t wasmip_fn_argc[WASMIP_FN_COUNT] = {
    [WASMIP_FN_INIT] = 5,          [WASMIP_FN_SET_IPV4] = 3,      [WASMIP_FN_RX_BUFFER] = 0,
    [WASMIP_FN_RX_BUFFER_SIZE] = 0, [WASMIP_FN_INPUT] = 1,        [WASMIP_FN_POLL] = 1,
    [WASMIP_FN_COUNTER_COUNT] = 0, [WASMIP_FN_COUNTER] = 1,       [WASMIP_FN_COUNTER_NAME] = 1,
    [WASMIP_FN_COUNTER_KIND] = 1,  [WASMIP_FN_MEMORY_USED] = 0,   [WASMIP_FN_SET_LOG_LEVEL] = 1,
    [WASMIP_FN_SET_LINK] = 1,      [WASMIP_FN_NET_EVENTS] = 0,
};

const char *const wasmip_fn_name[WASMIP_FN_COUNT] = {
    [WASMIP_FN_INIT] = "init",
    [WASMIP_FN_SET_IPV4] = "set_ipv4",
    [WASMIP_FN_RX_BUFFER] = "rx_buffer",
    [WASMIP_FN_RX_BUFFER_SIZE] = "rx_buffer_size",
    [WASMIP_FN_INPUT] = "input",
    [WASMIP_FN_POLL] = "poll",
    [WASMIP_FN_COUNTER_COUNT] = "counter_count",
    [WASMIP_FN_COUNTER] = "counter",
    [WASMIP_FN_COUNTER_NAME] = "counter_name",
    [WASMIP_FN_COUNTER_KIND] = "counter_kind",
    [WASMIP_FN_MEMORY_USED] = "memory_used",
    [WASMIP_FN_SET_LOG_LEVEL] = "set_log_level",
    [WASMIP_FN_SET_LINK] = "set_link",
    [WASMIP_FN_NET_EVENTS] = "net_events",
};

/* ---- index access: C11 atomics (sequentially consistent: the empty check in push and the
 * empty check before the consumer sleeps form a store-load pair), or a critical section. ---- */
#ifdef WASMIP_NO_ATOMICS
static inline uint32_t idx_load(wasmip_index_t *p) {
  WASMIP_CRITICAL_ENTER();
  uint32_t v = *p;
  WASMIP_CRITICAL_EXIT();
  return v;
}
static inline void idx_store(wasmip_index_t *p, uint32_t v) {
  WASMIP_CRITICAL_ENTER();
  *p = v;
  WASMIP_CRITICAL_EXIT();
}
#else
static inline uint32_t idx_load(wasmip_index_t *p) { return atomic_load(p); }
static inline void idx_store(wasmip_index_t *p, uint32_t v) { atomic_store(p, v); }
#endif

static void board_log(wasmip_board_t *b, uint32_t level, const char *msg) {
  if (b->port->log) b->port->log(b->port->ctx, level, msg, (uint32_t)strlen(msg));
}

void wasmip_board_setup(wasmip_board_t *b, const wasmip_runtime_t *rt, const wasmip_port_t *port) {
  memset(b, 0, sizeof *b);
  b->rt = rt;
  b->port = port;
  b->link_up = 1;
}

int wasmip_board_call(wasmip_board_t *b, wasmip_fn_t fn, uint32_t *argv) {
  if (b->trapped) return WASMIP_BOARD_TRAPPED;
  if (b->rt->call(b->rt->ctx, fn, argv) != 0) {
    b->trapped = 1;
    b->trap_fn = fn;
    b->trap_msg = b->rt->trap_message ? b->rt->trap_message(b->rt->ctx) : "trap";
    return WASMIP_BOARD_TRAPPED;
  }
  return 0;
}

int32_t wasmip_board_start(wasmip_board_t *b, const uint8_t mac[6], uint32_t ip, uint32_t mask, uint32_t gw) {
  uint32_t a[5];
  if (wasmip_board_call(b, WASMIP_FN_RX_BUFFER, a)) return WASMIP_BOARD_TRAPPED;
  b->rx_ptr = a[0];
  if (wasmip_board_call(b, WASMIP_FN_RX_BUFFER_SIZE, a)) return WASMIP_BOARD_TRAPPED;
  b->rx_size = a[0];
  if (b->rx_size > WASMIP_FRAME_MAX || wasmip_board_mem(b, b->rx_ptr, b->rx_size) == NULL) {
    board_log(b, WASMIP_LOG_ERROR, "board: rx_buffer() is out of bounds");
    return WASMIP_EINVAL;
  }
  b->ip = ip;
  b->mask = mask;
  b->gw = gw;
  a[0] = ((uint32_t)mac[0] << 8) | mac[1];
  a[1] = ((uint32_t)mac[2] << 24) | ((uint32_t)mac[3] << 16) | ((uint32_t)mac[4] << 8) | mac[5];
  a[2] = ip;
  a[3] = mask;
  a[4] = gw;
  b->has_set_link = wasmip_board_has_export(b, "set_link");
  b->has_net_events = wasmip_board_has_export(b, "net_events");
  if (wasmip_board_call(b, WASMIP_FN_INIT, a)) return WASMIP_BOARD_TRAPPED;
  int32_t rc = (int32_t)a[0];
  b->started = rc == 0;
  if (rc == 0 && b->offload) {
    int32_t r = wasmip_board_set_offload(b, b->offload);
    if (r == WASMIP_BOARD_TRAPPED) return r;
    if (r < 0) board_log(b, WASMIP_LOG_WARN, "board: the image has no checksum offload (set_offload): the core sums itself");
  }
  /* A link that went down before start (a board waiting for its PHY) is the core's news too. */
  if (rc == 0 && !b->link_up) b->link_changed = 1;
  return rc;
}

/* ---- the receive pool ---- */

int wasmip_board_rx(wasmip_board_t *b, const uint8_t *frame, uint32_t len) {
  if (len == 0 || len > WASMIP_FRAME_MAX) {
    b->stats.rx_bad_length++; /* producer-only counter */
    return WASMIP_EINVAL;
  }
  if (!b->link_up) {
    b->stats.rx_link_down++;
    return WASMIP_ENOBUFS;
  }
#ifdef WASMIP_MULTI_PRODUCER
  WASMIP_CRITICAL_ENTER();
#endif
  uint32_t head = idx_load(&b->rxq_head);
  uint32_t tail = idx_load(&b->rxq_tail);
  if (head - tail >= WASMIP_RXQ_SLOTS) {
    b->stats.rx_pool_full++;
#ifdef WASMIP_MULTI_PRODUCER
    WASMIP_CRITICAL_EXIT();
#endif
    return WASMIP_ENOBUFS;
  }
  wasmip_slot_t *s = &b->rxq[head & (WASMIP_RXQ_SLOTS - 1u)];
  memcpy(s->data, frame, len);
  s->len = len;
  idx_store(&b->rxq_head, head + 1u); /* publishes the slot */
  b->stats.rx_queued++;
  /* Wake the consumer only when the pool was empty: otherwise it is still draining and will see
   * this frame before it sleeps (it re-checks the pool after storing its tail). */
  int was_empty = idx_load(&b->rxq_tail) == head;
#ifdef WASMIP_MULTI_PRODUCER
  WASMIP_CRITICAL_EXIT();
#endif
  if (was_empty && b->port->wake) b->port->wake(b->port->ctx);
  return 0;
}

static int rxq_empty(wasmip_board_t *b) { return idx_load(&b->rxq_head) == idx_load(&b->rxq_tail); }

void wasmip_board_link(wasmip_board_t *b, int up) {
  if (!!up == !!b->link_up) return;
  b->link_up = up;
  b->link_changed = 1;
  if (b->port->wake) b->port->wake(b->port->ctx);
}

static void report_events(wasmip_board_t *b, uint32_t ev) {
  if (b->port->net_event) {
    b->port->net_event(b->port->ctx, ev);
    return;
  }
  wasmip_board_log_events(b, ev);
}

void wasmip_board_log_events(wasmip_board_t *b, uint32_t ev) {
  static const char *const names[] = {"link up", "link down", "address", "renewed", "address lost", "dns", "time", "multicast"};
  char line[96] = "board: network events:"; /* 88 bytes with every name */
  for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (!(ev & (1u << i))) continue;
    strcat(line, " ");
    strcat(line, names[i]);
  }
  board_log(b, WASMIP_LOG_INFO, line);
}

int32_t wasmip_board_step(wasmip_board_t *b) {
  uint32_t a[5];
  if (b->trapped) return WASMIP_BOARD_TRAPPED;
  uint8_t *mem = b->rt->memory(b->rt->ctx, &a[0]);
  uint8_t *rx = mem + b->rx_ptr;
  /* At most one pool's worth per round, so timers run even under a flood. */
  for (uint32_t n = 0; n < WASMIP_RXQ_SLOTS; n++) {
    uint32_t tail = idx_load(&b->rxq_tail);
    if (tail == idx_load(&b->rxq_head)) break;
    wasmip_slot_t *s = &b->rxq[tail & (WASMIP_RXQ_SLOTS - 1u)];
    uint32_t len = s->len <= b->rx_size ? s->len : b->rx_size;
    memcpy(rx, s->data, len);
    idx_store(&b->rxq_tail, tail + 1u); /* the slot is free again */
    if (b->port->capture) b->port->capture(b->port->ctx, 0, rx, len);
    b->stats.rx_input++;
    a[0] = len;
    if (wasmip_board_call(b, WASMIP_FN_INPUT, a)) return WASMIP_BOARD_TRAPPED;
  }
  b->rx_more = 0;
  if (b->port->rx) {
    uint32_t n = 0;
    for (; n < WASMIP_RX_PULL_MAX; n++) {
      int32_t len = b->port->rx(b->port->ctx, rx, b->rx_size);
      if (len == 0) break;
      if (len < 0) {
        b->stats.rx_pull_errors++;
        break;
      }
      if (!b->link_up) {
        b->stats.rx_link_down++;
        continue;
      }
      if ((uint32_t)len > b->rx_size) { /* a driver bug: it was told the size */
        b->stats.rx_bad_length++;
        continue;
      }
      if (b->port->capture) b->port->capture(b->port->ctx, 0, rx, (uint32_t)len);
      b->stats.rx_pulled++;
      b->stats.rx_input++;
      a[0] = (uint32_t)len;
      if (wasmip_board_call(b, WASMIP_FN_INPUT, a)) return WASMIP_BOARD_TRAPPED;
    }
    b->rx_more = n == WASMIP_RX_PULL_MAX;
  }
  int link_changed = b->link_changed;
  if (link_changed) {
    b->link_changed = 0;
    board_log(b, WASMIP_LOG_INFO, b->link_up ? "board: link up" : "board: link down");
    if (b->has_set_link) {
      a[0] = b->link_up ? 1u : 0u;
      if (wasmip_board_call(b, WASMIP_FN_SET_LINK, a)) return WASMIP_BOARD_TRAPPED;
    } else if (b->link_up && b->ip != 0) {
      a[0] = b->ip;
      a[1] = b->mask;
      a[2] = b->gw;
      if (wasmip_board_call(b, WASMIP_FN_SET_IPV4, a)) return WASMIP_BOARD_TRAPPED;
    }
  }
  a[0] = wasmip_phy_now_ms(b);
  b->stats.polls++;
  uint32_t now = a[0];
  if (wasmip_board_call(b, WASMIP_FN_POLL, a)) return WASMIP_BOARD_TRAPPED;
  uint32_t delay = a[0] > WASMIP_POLL_MAX_SLEEP_MS ? WASMIP_POLL_MAX_SLEEP_MS : a[0];
  if (b->has_net_events) {
    uint32_t since = now - b->events_checked;
    if (since >= WASMIP_NET_EVENTS_MS || link_changed) {
      b->events_checked = now;
      if (wasmip_board_call(b, WASMIP_FN_NET_EVENTS, a)) return WASMIP_BOARD_TRAPPED;
      if (a[0] != 0) report_events(b, a[0]);
    } else if (WASMIP_NET_EVENTS_MS - since < delay) {
      delay = WASMIP_NET_EVENTS_MS - since; /* come back for what this round may have raised */
    }
  }
  if (b->service) {
    uint32_t d = b->service(b->service_arg, now);
    if (b->trapped) return WASMIP_BOARD_TRAPPED;
    if (d < delay) delay = d;
  }
  return (int32_t)delay;
}

int wasmip_board_run(wasmip_board_t *b) {
  while (!b->stop) {
    int32_t delay = wasmip_board_step(b);
    if (delay < 0) return WASMIP_BOARD_TRAPPED;
    if (b->stop) break;
    if (!rxq_empty(b) || b->rx_more) continue; /* more frames came in while we were busy */
    if (delay == 0) continue;    /* a deadline is due now */
    b->stats.waits++;
    b->port->wait(b->port->ctx, (uint32_t)delay);
  }
  return 0;
}

void wasmip_board_request_stop(wasmip_board_t *b) {
  b->stop = 1;
  if (b->port->wake) b->port->wake(b->port->ctx);
}

int wasmip_board_call_export(wasmip_board_t *b, const char *name, uint32_t argc, uint32_t *argv) {
  if (b->trapped) return WASMIP_BOARD_TRAPPED;
  if (!b->rt->call_export) return WASMIP_BOARD_NO_EXPORT;
  int r = b->rt->call_export(b->rt->ctx, name, argc, argv);
  if (r == 0) return 0;
  if (r == WASMIP_RT_NO_EXPORT) return WASMIP_BOARD_NO_EXPORT;
  b->trapped = 1;
  b->trap_export = name;
  b->trap_msg = b->rt->trap_message ? b->rt->trap_message(b->rt->ctx) : "trap";
  return WASMIP_BOARD_TRAPPED;
}

int32_t wasmip_board_set_offload(wasmip_board_t *b, uint32_t flags) {
  b->offload = flags;
  if (!b->started) return 0;
  uint32_t a[1] = {flags};
  int r = wasmip_board_call_export(b, "set_offload", 1, a);
  return r != 0 ? r : (int32_t)a[0];
}

int wasmip_board_has_export(wasmip_board_t *b, const char *name) {
  return b->rt->has_export != NULL && b->rt->has_export(b->rt->ctx, name);
}

/* ---- DHCP boot ---- */

int wasmip_board_has_dhcp(wasmip_board_t *b) {
  return wasmip_board_has_export(b, "dhcp_start") && wasmip_board_has_export(b, "dhcp_state");
}

int32_t wasmip_board_dhcp_start(wasmip_board_t *b, const char *host) {
  uint32_t hl = (uint32_t)strlen(host);
  uint8_t *m = wasmip_board_mem(b, b->rx_ptr, hl);
  if (!m || b->rx_size < hl) hl = 0;
  else memcpy(m, host, hl);
  uint32_t d[2] = {b->rx_ptr, hl};
  int r = wasmip_board_call_export(b, "dhcp_start", 2, d);
  return r != 0 ? r : (int32_t)d[0];
}

/* A lease field; 0 when the image lacks the export. Non-zero only after a trap. */
static int dhcp_field(wasmip_board_t *b, const char *name, uint32_t *out) {
  uint32_t a[1] = {0};
  int r = wasmip_board_call_export(b, name, 0, a);
  if (r == WASMIP_BOARD_TRAPPED) return r;
  *out = r == 0 ? a[0] : 0;
  return 0;
}

int wasmip_board_dhcp_wait_lease(wasmip_board_t *b, uint32_t *ip, uint32_t *gw) {
  while (!b->stop) {
    int32_t delay = wasmip_board_step(b);
    if (delay < 0) return WASMIP_BOARD_TRAPPED;
    uint32_t a[1];
    int r = wasmip_board_call_export(b, "dhcp_state", 0, a);
    if (r == WASMIP_BOARD_TRAPPED) return r;
    if (r == 0 && a[0] == WASMIP_DHCP_BOUND) {
      if (dhcp_field(b, "dhcp_address", ip) || dhcp_field(b, "dhcp_router", gw)) return WASMIP_BOARD_TRAPPED;
      return 0;
    }
    if (b->stop) break;
    if (!rxq_empty(b) || b->rx_more) continue; /* more frames queued */
    if (delay == 0) continue;
    b->stats.waits++;
    b->port->wait(b->port->ctx, (uint32_t)delay);
  }
  return 1;
}

uint8_t *wasmip_board_mem(wasmip_board_t *b, uint32_t ptr, uint32_t len) {
  uint32_t size = 0;
  uint8_t *mem = b->rt->memory(b->rt->ctx, &size);
  if (mem == NULL || ptr > size || len > size - ptr) return NULL;
  return mem + ptr;
}

int wasmip_board_multicast_macs(wasmip_board_t *b, void (*fn)(void *arg, const uint8_t mac[6]), void *arg) {
  uint32_t a[2] = {WASMIP_CONFIG_MCAST_GROUPS, 0};
  int r = wasmip_board_call_export(b, "config", 1, a);
  if (r) return r;
  uint32_t slots = a[0];
  a[0] = WASMIP_CONFIG_IPV6_ADDRS;
  if ((r = wasmip_board_call_export(b, "config", 1, a)) != 0) return r;
  uint32_t v6 = a[0] ? 1u + a[0] : 0u; /* all-nodes, then one solicited-node group per address */
  int n = 0;
  if (slots > v6) { /* IPv4 multicast: the IGMP queries come to all systems (RFC 1112 §4) */
    static const uint8_t all_systems[6] = {0x01, 0x00, 0x5e, 0x00, 0x00, 0x01};
    fn(arg, all_systems);
    n++;
  }
  for (uint32_t i = 0; i < slots && i < 64u; i++) {
    a[0] = i;
    a[1] = b->rx_ptr; /* free between input() calls */
    if ((r = wasmip_board_call_export(b, "multicast_mac", 2, a)) != 0) return r;
    if (!a[0]) continue;
    const uint8_t *m = wasmip_board_mem(b, b->rx_ptr, 6);
    if (!m) return n;
    fn(arg, m);
    n++;
  }
  return n;
}

int wasmip_board_counters(wasmip_board_t *b, void (*fn)(void *arg, const char *name, uint32_t kind, uint32_t value), void *arg) {
  uint32_t a[1];
  if (wasmip_board_call(b, WASMIP_FN_COUNTER_COUNT, a)) return WASMIP_BOARD_TRAPPED;
  uint32_t n = a[0];
  for (uint32_t id = 0; id < n; id++) {
    uint32_t value, kind, name;
    a[0] = id;
    if (wasmip_board_call(b, WASMIP_FN_COUNTER, a)) return WASMIP_BOARD_TRAPPED;
    value = a[0];
    a[0] = id;
    if (wasmip_board_call(b, WASMIP_FN_COUNTER_KIND, a)) return WASMIP_BOARD_TRAPPED;
    kind = a[0];
    a[0] = id;
    if (wasmip_board_call(b, WASMIP_FN_COUNTER_NAME, a)) return WASMIP_BOARD_TRAPPED;
    name = a[0];
    /* The name must be NUL-terminated inside memory (at most 64 bytes). */
    uint32_t size = 0;
    const uint8_t *mem = b->rt->memory(b->rt->ctx, &size);
    const char *s = "?";
    if (name < size) {
      uint32_t max = size - name < 64u ? size - name : 64u;
      if (memchr(mem + name, 0, max) != NULL) s = (const char *)mem + name;
    }
    fn(arg, s, kind, value);
  }
  return (int)n;
}

void wasmip_board_describe_trap(const wasmip_board_t *b, char *buf, size_t size) {
  if (size == 0) return;
  if (!b->trapped) {
    buf[0] = 0;
    return;
  }
  const char *fn = b->trap_export ? b->trap_export : b->trap_fn < WASMIP_FN_COUNT ? wasmip_fn_name[b->trap_fn] : "?";
  /* No snprintf: some embedded libcs lack it or pull in floating point. */
  const char *parts[] = {"trap in ", fn, "(): ", b->trap_msg ? b->trap_msg : "trap", b->panicked ? " (after phy.panic)" : ""};
  size_t o = 0;
  for (size_t i = 0; i < sizeof parts / sizeof parts[0]; i++)
    for (const char *p = parts[i]; *p && o + 1 < size; p++) buf[o++] = *p;
  buf[o] = 0;
}

/* ---- phy.* imports ---- */

void wasmip_phy_tx(wasmip_board_t *b, const uint8_t *frame, uint32_t len) {
  if (frame == NULL || len < 14u || len > WASMIP_FRAME_MAX) {
    b->stats.tx_errors++;
    return;
  }
  if (!b->link_up) {
    b->stats.tx_link_down++;
    return;
  }
  if (b->port->capture) b->port->capture(b->port->ctx, 1, frame, len);
  if (b->port->tx(b->port->ctx, frame, len) != 0)
    b->stats.tx_errors++;
  else
    b->stats.tx_frames++;
}

uint32_t wasmip_phy_now_ms(wasmip_board_t *b) { return b->port->now_ms(b->port->ctx); }

uint32_t wasmip_phy_random(wasmip_board_t *b) { return b->port->random(b->port->ctx); }

void wasmip_phy_panic(wasmip_board_t *b, const char *msg, uint32_t len, uint32_t line) {
  (void)line; /* the message already carries file:line */
  b->panicked = 1;
  if (!b->port->log) return;
  /* One line: "wasmip panic: <msg>" (cut to fit; static: no allocation, stack task only). */
  static char buf[192];
  static const char pre[] = "wasmip panic: ";
  uint32_t o = sizeof pre - 1u;
  memcpy(buf, pre, o);
  if (msg) {
    uint32_t n = len < sizeof buf - o ? len : (uint32_t)(sizeof buf - o);
    memcpy(buf + o, msg, n);
    o += n;
  }
  b->port->log(b->port->ctx, WASMIP_LOG_ERROR, buf, o);
  /* Returning is fine: the core executes `unreachable` next, the runtime traps, the board stops. */
}

void wasmip_phy_log(wasmip_board_t *b, uint32_t level, const char *msg, uint32_t len) {
  if (b->port->log && msg) b->port->log(b->port->ctx, level, msg, len);
}

/* ---- flag parsing ---- */

static const char *parse_u32(const char *s, uint32_t max, uint32_t *out) {
  uint32_t v = 0;
  int digits = 0;
  while (*s >= '0' && *s <= '9') {
    v = v * 10u + (uint32_t)(*s - '0');
    if (v > max || ++digits > 10) return NULL;
    s++;
  }
  if (digits == 0) return NULL;
  *out = v;
  return s;
}

static const char *parse_ip_prefix(const char *s, uint32_t *ip) {
  uint32_t v = 0, part;
  for (int i = 0; i < 4; i++) {
    s = parse_u32(s, 255, &part);
    if (!s) return NULL;
    v = (v << 8) | part;
    if (i < 3) {
      if (*s != '.') return NULL;
      s++;
    }
  }
  *ip = v;
  return s;
}

int wasmip_parse_ip(const char *s, uint32_t *ip) {
  s = parse_ip_prefix(s, ip);
  return s && *s == 0 ? 0 : -1;
}

int wasmip_parse_cidr(const char *s, uint32_t *ip, uint32_t *mask) {
  uint32_t len;
  s = parse_ip_prefix(s, ip);
  if (!s || *s != '/') return -1;
  s = parse_u32(s + 1, 32, &len);
  if (!s || *s != 0 || len == 0) return -1;
  *mask = len == 32 ? 0xffffffffu : ~(0xffffffffu >> len);
  return 0;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

int wasmip_parse_mac(const char *s, uint8_t mac[6]) {
  for (int i = 0; i < 6; i++) {
    int h = hexval(s[0]), l = h < 0 ? -1 : hexval(s[1]);
    if (l < 0) return -1;
    mac[i] = (uint8_t)(h << 4 | l);
    s += 2;
    if (i < 5) {
      if (*s != ':') return -1;
      s++;
    }
  }
  return *s == 0 ? 0 : -1;
}
