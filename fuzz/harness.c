/*
 * fuzz/harness.c - libFuzzer targets over the wasm2c-compiled debug core (build/fuzz.debug.wasm:
 * the core, its assertions, debug_check() and the http app). One binary per target, chosen at
 * compile time with -DFUZZ_TARGET=1..7:
 *
 *   1 listen       the http listener on port 80, the peer's ARP entry resolved
 *   2 established  as 1, plus 10.0.0.1:40000 -> 10.0.0.2:80 ESTABLISHED (and accepted by the app)
 *   3 dhcp         a board that booted with no address and holds a DHCP lease (BOUND, 1 h)
 *   4 dns          as 1, plus a DNS lookup of example.test outstanding at the peer
 *   5 mdns         as 1, plus the mDNS responder announced as sensor.local with _http._tcp on 80
 *   6 mqtt         as 1, plus the MQTT client connected to 10.0.0.1:1883 (CONNACK taken), a
 *                  QoS 1 and a QoS 2 publish and a subscription (ids 1 to 3) awaiting their acks
 *   7 sntp         as 1, plus an SNTP request outstanding at 10.0.0.1
 *
 * The state is built once (LLVMFuzzerInitialize) and snapshotted (linear memory, globals, the
 * harness's clock and PRNG); every input starts from the snapshot, so runs are independent and
 * repeatable. An input is a sequence of records (fuzz/README.md):
 *
 *   0x00 len:u16 bytes   a frame, fed to input() as is
 *   0x03 len:u16 bytes   a frame with fix-ups: TCP seq/ack made relative to the connection its
 *                        4-tuple names (seq += IRS, ack += ISS), the DHCP xid and the DNS id and
 *                        port of the board's last query filled in, an NTP reply's destination
 *                        port and origin timestamp set to the board's last request's; a segment
 *                        from port 1883 goes to the MQTT client's port and its ack is SND.NXT - v
 *                        (0: all sent); then the IPv4 header checksum and the TCP/UDP/ICMP
 *                        checksums recomputed: the deep paths, reachable
 *   0x01 v:u16           advance the clock (v < 0x8000: v ms; else (v & 0x7fff) * 100 ms) in
 *                        steps of the deadlines poll() returns, as a board sleeps
 *   0x02 len:u16         input(len) on whatever the receive buffer holds (a driver passing a length)
 *   (the record kind is op & 3; the other bits of op are ignored)
 *
 * Oracles: no trap (a wasm2c trap or a phy.panic aborts); input() returns a receive counter
 * (kind delivered or dropped) and the receive counters sum to rx_frames; linear memory keeps its
 * size; poll() never asks for more than POLL_MAX_SLEEP_MS; debug_check() is 0 after every input()
 * and at the end of every record; every frame the board transmits is well formed (lengths, IPv4
 * header, TCP/UDP/ICMP checksums).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "wasmip.h"
#include "stack.h"
#include "wasm-rt-impl.h"

/* From assembly/config.ts (the Makefile reads it there). */
#ifndef FUZZ_POLL_MAX_SLEEP_MS
#error "build with -DFUZZ_POLL_MAX_SLEEP_MS=<POLL_MAX_SLEEP_MS of assembly/config.ts>"
#endif
#ifndef FUZZ_TARGET
#error "build with -DFUZZ_TARGET=1 (listen), 2 (established), 3 (dhcp), 4 (dns), 5 (mdns), 6 (mqtt) or 7 (sntp)"
#endif
#define T_LISTEN 1
#define T_ESTABLISHED 2
#define T_DHCP 3
#define T_DNS 4
#define T_MDNS 5
#define T_MQTT 6
#define T_SNTP 7

static const char *const target_names[] = {"?", "listen", "established", "dhcp", "dns", "mdns", "mqtt", "sntp"};

struct Z_phy_instance_t {
  int unused;
};
static struct Z_phy_instance_t phy;
static Z_stack_instance_t inst;

/* Harness state that belongs to the snapshot. */
typedef struct {
  uint32_t now;
  uint32_t rng;
  uint32_t dhcp_xid;
  uint32_t dns_port, dns_id;
  uint32_t syn_ack_seq;
  int syn_ack_seen;
  uint32_t mqtt_port, mqtt_iss, mqtt_nxt; /* the MQTT client's connection, from its segments */
  uint32_t ntp_port;
  uint8_t ntp_xmit[8]; /* the transmit timestamp of the last SNTP request */
  uint32_t tx_count;
} hstate_t;
static hstate_t hs;

static Z_stack_instance_t snap_inst;
static hstate_t snap_hs;
static uint8_t *snap_mem;
static uint32_t snap_size;

static uint32_t initial_pages;
static uint32_t n_counters;
static uint8_t counter_kinds[512];
static uint32_t rx_frames_id;
static uint32_t rx_buf, rx_size, io_buf;
static const char *where = "init";
static uint32_t poll_max;
static int log_on; /* WASMIP_FUZZ_LOG: the board's log lines and the counter of every frame */

static const uint8_t board_mac[6] = FUZZ_BOARD_MAC;
static const uint8_t peer_mac[6] = FUZZ_PEER_MAC;

static void crash(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void crash(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "\nwasmip-fuzz (%s): ", target_names[FUZZ_TARGET]);
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  abort();
}

static uint8_t *mem(void) { return Z_stackZ_memory(&inst)->data; }
static uint32_t mem_size(void) { return Z_stackZ_memory(&inst)->size; }

/* ---------------- bytes and checksums ---------------- */

static uint32_t get16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t get32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void put16(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static void put32(uint8_t *p, uint32_t v) { put16(p, v >> 16); put16(p + 2, v & 0xffff); }

static uint32_t sum_add(uint32_t s, const uint8_t *p, uint32_t n) {
  for (uint32_t i = 0; i + 1 < n; i += 2) s += get16(p + i);
  if (n & 1) s += (uint32_t)p[n - 1] << 8;
  return s;
}
static uint32_t fold(uint32_t s) {
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return s;
}
static uint32_t pseudo(const uint8_t *ip, uint32_t proto, uint32_t len) {
  return sum_add(0, ip + 12, 8) + proto + len;
}

/* ---------------- the phy imports ---------------- */

/* IPv6 (the image is built with WASMIP_IPV6=1): a sound header, and ICMPv6 (behind at most a
 * hop-by-hop header: MLD), TCP or UDP with a valid pseudo-header checksum (RFC 8200 §8.1: over
 * IPv6 a UDP checksum is never 0). */
static void check_tx6(const uint8_t *ip, uint32_t len) {
  uint32_t plen = get16(ip + 4), nh = ip[6], at = 40;
  if ((ip[0] >> 4) != 6 || 40 + plen > len) crash("transmitted a bad IPv6 header");
  if (nh == 0) {
    if (plen < 8) crash("transmitted a truncated hop-by-hop header");
    nh = ip[40];
    at += ((uint32_t)ip[41] + 1) * 8;
    if (at > 40 + plen) crash("transmitted a hop-by-hop header past the packet");
  }
  uint32_t n = 40 + plen - at;
  const uint8_t *l4 = ip + at;
  int ok = n >= 8 && fold(sum_add(0, ip + 8, 32) + n + nh + sum_add(0, l4, n)) == 0xffff;
  if (nh == 58) {
    if (!ok) crash("transmitted a bad ICMPv6 checksum");
  } else if (nh == 6) {
    if (n < 20 || (uint32_t)(l4[12] >> 4) * 4 > n) crash("transmitted a bad TCP header over IPv6");
    if (!ok) crash("transmitted a bad TCP checksum over IPv6");
  } else if (nh == 17) {
    if (n < 8 || get16(l4 + 4) != n) crash("transmitted a bad UDP length over IPv6");
    if (!ok || get16(l4 + 6) == 0) crash("transmitted a bad UDP checksum over IPv6");
  } else {
    crash("transmitted IPv6 next header %u", nh);
  }
}

static void check_tx(const uint8_t *f, uint32_t len) {
  if (len < 60 || len > rx_size) crash("transmitted a frame of %u bytes", len);
  if (memcmp(f + 6, board_mac, 6) != 0) crash("transmitted a frame from another MAC");
  uint32_t type = get16(f + 12);
  if (type == 0x0806) return;
  if (type == 0x86dd) {
    check_tx6(f + 14, len - 14);
    return;
  }
  if (type != 0x0800) crash("transmitted ethertype 0x%04x", type);
  if (len >= 34 && f[30] >> 4 == 0xe) { /* to a group: its MAC is 01:00:5e and the low 23 bits (RFC 1112 §6.4) */
    const uint8_t want[6] = {0x01, 0x00, 0x5e, (uint8_t)(f[31] & 0x7f), f[32], f[33]};
    if (memcmp(f, want, 6) != 0) crash("transmitted to an IPv4 group at the wrong MAC");
  }
  const uint8_t *ip = f + 14;
  uint32_t ihl = (uint32_t)(ip[0] & 15) * 4, total = get16(ip + 2);
  if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl || total > len - 14) crash("transmitted a bad IPv4 header");
  if (fold(sum_add(0, ip, ihl)) != 0xffff) crash("transmitted a bad IPv4 header checksum");
  const uint8_t *l4 = ip + ihl;
  uint32_t n = total - ihl, proto = ip[9];
  if (proto == 6) {
    if (n < 20 || (uint32_t)(l4[12] >> 4) * 4 > n) crash("transmitted a bad TCP header");
    if (fold(pseudo(ip, 6, n) + sum_add(0, l4, n)) != 0xffff) crash("transmitted a bad TCP checksum");
    /* Our SYN-ACK (the established target's setup reads the ISS from it). */
    if ((l4[13] & 0x12) == 0x12 && get16(l4 + 2) == FUZZ_PEER_PORT) {
      hs.syn_ack_seq = get32(l4 + 4);
      hs.syn_ack_seen = 1;
    }
    /* The MQTT client's segments (the mqtt target's setup follows its sequence numbers). */
    if (get16(l4 + 2) == FUZZ_MQTT_PORT) {
      uint32_t seq = get32(l4 + 4), dlen = n - (uint32_t)(l4[12] >> 4) * 4 + (l4[13] & 1) + ((l4[13] >> 1) & 1);
      if (l4[13] & 2) {
        hs.mqtt_port = get16(l4);
        hs.mqtt_iss = seq;
      }
      if ((int32_t)(seq + dlen - hs.mqtt_nxt) > 0 || (l4[13] & 2)) hs.mqtt_nxt = seq + dlen;
    }
  } else if (proto == 17) {
    if (n < 8 || get16(l4 + 4) != n) crash("transmitted a bad UDP length");
    if (fold(pseudo(ip, 17, n) + sum_add(0, l4, n)) != 0xffff) crash("transmitted a bad UDP checksum");
    uint32_t sport = get16(l4), dport = get16(l4 + 2);
    if (sport == 68 && dport == 67 && n >= 8 + 8) hs.dhcp_xid = get32(l4 + 8 + 4);
    if (dport == 53 && n >= 8 + 2) {
      hs.dns_port = sport;
      hs.dns_id = get16(l4 + 8);
    }
    if (dport == 123 && n >= 8 + 48) {
      hs.ntp_port = sport;
      memcpy(hs.ntp_xmit, l4 + 8 + 40, 8);
    }
  } else if (proto == 1) {
    if (n < 4 || fold(sum_add(0, l4, n)) != 0xffff) crash("transmitted a bad ICMP message");
  } else if (proto == 2) {
    /* IGMP: a membership report or leave (RFC 2236 §2, RFC 3376 §4.2), behind Router Alert. */
    if (n < 8 || fold(sum_add(0, l4, n)) != 0xffff) crash("transmitted a bad IGMP message");
    if (ip[8] != 1) crash("transmitted IGMP with TTL %u", ip[8]);
  } else {
    crash("transmitted IP protocol %u", proto);
  }
}

void Z_phyZ_tx(struct Z_phy_instance_t *p, u32 ptr, u32 len) {
  (void)p;
  if ((uint64_t)ptr + len > mem_size()) crash("tx(%u, %u) outside memory", ptr, len);
  hs.tx_count++;
  check_tx(mem() + ptr, len);
}
u32 Z_phyZ_now_ms(struct Z_phy_instance_t *p) {
  (void)p;
  return hs.now;
}
u32 Z_phyZ_random(struct Z_phy_instance_t *p) {
  (void)p;
  uint32_t x = hs.rng; /* xorshift32 */
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  hs.rng = x;
  return x;
}
u32 Z_phyZ_checksum(struct Z_phy_instance_t *p, u32 ptr, u32 len) {
  (void)p;
  if ((uint64_t)ptr + len > mem_size()) crash("checksum(%u, %u) outside memory", ptr, len);
  return wasmip_checksum(mem() + ptr, len);
}
void Z_phyZ_log(struct Z_phy_instance_t *p, u32 level, u32 ptr, u32 len) {
  (void)p;
  (void)level;
  if ((uint64_t)ptr + len > mem_size()) crash("log(%u, %u) outside memory", ptr, len);
  if (log_on) fprintf(stderr, "[board] %.*s\n", (int)len, (const char *)mem() + ptr);
}
/* Imported only when the core has assertions left (the debug build may have none). */
void Z_phyZ_panic(struct Z_phy_instance_t *p, u32 ptr, u32 len, u32 line) {
  (void)p;
  if ((uint64_t)ptr + len <= mem_size()) crash("phy.panic in %s: %.*s (line %u)", where, (int)len, (const char *)mem() + ptr, line);
  crash("phy.panic in %s (line %u)", where, line);
}

/* ---------------- calling the core, with the oracles ---------------- */

static void check_invariants(void) {
  where = "debug_check";
  uint32_t v = Z_stackZ_debug_check(&inst);
  if (v != 0) crash("debug_check() = 0x%08x: area %u, check %u, index %u (see assembly/debug.ts)", v, v >> 24, (v >> 8) & 0xffff, v & 0xff);
  if (Z_stackZ_memory(&inst)->pages != initial_pages) crash("linear memory grew from %u to %u pages", initial_pages, Z_stackZ_memory(&inst)->pages);
}

/* The receive counters only move in input(). */
static void check_counters(void) {
  where = "counter";
  uint32_t sum = 0;
  for (uint32_t i = 0; i < n_counters; i++)
    if (counter_kinds[i] != 2) sum += Z_stackZ_counter(&inst, i);
  uint32_t rx = Z_stackZ_counter(&inst, rx_frames_id);
  if (sum != rx) crash("receive counters sum to %u, rx_frames is %u", sum, rx);
}

static uint32_t do_input(uint32_t len) {
  where = "input";
  uint32_t c = Z_stackZ_input(&inst, len);
  if (c >= n_counters || counter_kinds[c] == 2) crash("input(%u) returned %u, not a receive counter", len, c);
  if (log_on) fprintf(stderr, "[harness] input(%u) -> %s\n", len, (const char *)mem() + Z_stackZ_counter_name(&inst, c));
  check_invariants();
  check_counters();
  return c;
}

static uint32_t do_poll(void) {
  where = "poll";
  uint32_t d = Z_stackZ_poll(&inst, hs.now);
  if (d > poll_max) crash("poll() returned %u ms (POLL_MAX_SLEEP_MS is %u)", d, poll_max);
  return d;
}

static uint32_t feed(const uint8_t *f, uint32_t len) {
  uint32_t n = len < rx_size ? len : rx_size;
  memcpy(mem() + rx_buf, f, n);
  return do_input(len);
}

/* Sleep like a board: poll at each deadline until ms have passed. When poll() asks for its
 * longest sleep (nothing due sooner, or the cap), sleep up to 16 times that, as a busy or
 * low-power board may: the core must cope with late polls, and long idle stretches stay cheap. */
static void advance(uint32_t ms) {
  uint32_t end = hs.now + ms;
  for (int k = 0; k < 8192; k++) {
    uint32_t d = do_poll();
    int32_t left = (int32_t)(end - hs.now);
    if (left <= 0) break;
    if (d == 0) d = 1;
    if (d >= poll_max) d = 16 * poll_max;
    hs.now += (uint32_t)left < d ? (uint32_t)left : d;
  }
  check_invariants();
}

/* ---------------- fix-ups ---------------- */

/* The connection block for a segment from (rip, rport) to lport: its ISS and IRS. */
static int find_connection(uint32_t lport, uint32_t rip, uint32_t rport, uint32_t *iss, uint32_t *irs, uint32_t *snd_nxt) {
  uint32_t rows = Z_stackZ_tcp_table_size(&inst);
  for (uint32_t i = 0; i < rows; i++) {
    if (!Z_stackZ_tcp_table_row(&inst, i, io_buf)) continue;
    const uint8_t *r = mem() + io_buf;
    uint32_t st, lp, ri, rp;
    memcpy(&st, r, 4);
    memcpy(&lp, r + 8, 4);
    memcpy(&ri, r + 12, 4);
    memcpy(&rp, r + 16, 4);
    if (st < 3 || lp != lport || ri != rip || rp != rport) continue; /* SYN-RECEIVED and later */
    if (!Z_stackZ_tcp_info(&inst, (int32_t)i, io_buf)) return 0;
    memcpy(iss, mem() + io_buf + 28, 4);
    memcpy(snd_nxt, mem() + io_buf + 36, 4);
    memcpy(irs, mem() + io_buf + 44, 4);
    return 1;
  }
  return 0;
}

/* Checksums always; with context, also the sequence numbers, DHCP xid and DNS id/port. */
static void fixup(uint8_t *f, uint32_t len, int context) {
  if (len < 34 || get16(f + 12) != 0x0800) return;
  uint8_t *ip = f + 14;
  uint32_t avail = len - 14, ihl = (uint32_t)(ip[0] & 15) * 4;
  if (ihl < 20 || ihl > avail) return;
  put16(ip + 10, 0);
  put16(ip + 10, ~fold(sum_add(0, ip, ihl)) & 0xffff);
  uint32_t total = get16(ip + 2);
  if (total < ihl || total > avail) return;
  uint8_t *l4 = ip + ihl;
  uint32_t n = total - ihl, proto = ip[9];
  if (proto == 6 && n >= 20) {
    uint32_t iss, irs, nxt;
    where = "fixup";
    int mqtt = context && get16(l4) == FUZZ_MQTT_PORT && hs.mqtt_port != 0;
    if (mqtt) put16(l4 + 2, hs.mqtt_port);
    if (context && find_connection(get16(l4 + 2), get32(ip + 12), get16(l4), &iss, &irs, &nxt)) {
      put32(l4 + 4, get32(l4 + 4) + irs);
      /* The client's own stream differs from the capture's (its CONNECT, its publishes): a
       * server's segment acknowledges what the board sent, less v bytes. */
      put32(l4 + 8, mqtt ? nxt - get32(l4 + 8) : get32(l4 + 8) + iss);
    }
    put16(l4 + 16, 0);
    put16(l4 + 16, ~fold(pseudo(ip, 6, n) + sum_add(0, l4, n)) & 0xffff);
  } else if (proto == 17 && n >= 8) {
    uint32_t sport = get16(l4), dport = get16(l4 + 2);
    if (context && sport == 67 && dport == 68 && n >= 8 + 8) put32(l4 + 8 + 4, hs.dhcp_xid);
    if (context && sport == 53 && hs.dns_port != 0) {
      put16(l4 + 2, hs.dns_port);
      if (n >= 8 + 2) put16(l4 + 8, hs.dns_id);
    }
    if (context && sport == 123 && hs.ntp_port != 0) {
      put16(l4 + 2, hs.ntp_port);
      if (n >= 8 + 32) memcpy(l4 + 8 + 24, hs.ntp_xmit, 8); /* the origin timestamp (RFC 5905 §8) */
    }
    uint32_t ulen = get16(l4 + 4);
    if (ulen < 8 || ulen > n) return;
    put16(l4 + 6, 0);
    uint32_t c = ~fold(pseudo(ip, 17, ulen) + sum_add(0, l4, ulen)) & 0xffff;
    put16(l4 + 6, c == 0 ? 0xffff : c);
  } else if (proto == 1 && n >= 4) {
    put16(l4 + 2, 0);
    put16(l4 + 2, ~fold(sum_add(0, l4, n)) & 0xffff);
  }
}

/* ---------------- building the setup frames ---------------- */

static uint32_t eth(uint8_t *f, const uint8_t *dst, const uint8_t *src, uint32_t type) {
  memcpy(f, dst, 6);
  memcpy(f + 6, src, 6);
  put16(f + 12, type);
  return 14;
}

/* An IPv4 + L4 frame from the peer to dst (payload already at f + 34); returns the frame length. */
static uint32_t ip_frame(uint8_t *f, const uint8_t *dst_mac, uint32_t dst, uint32_t proto, uint32_t l4len) {
  eth(f, dst_mac, peer_mac, 0x0800);
  uint8_t *ip = f + 14;
  ip[0] = 0x45;
  ip[1] = 0;
  put16(ip + 2, 20 + l4len);
  put16(ip + 4, 0x1234);
  put16(ip + 6, 0x4000);
  ip[8] = 64;
  ip[9] = (uint8_t)proto;
  put32(ip + 12, FUZZ_PEER_IP);
  put32(ip + 16, dst);
  fixup(f, 34 + l4len, 0);
  uint32_t len = 34 + l4len;
  if (len < 60) {
    memset(f + len, 0, 60 - len);
    len = 60;
  }
  return len;
}

/* A segment from the peer's sport to the board's dport; opts (olen, a multiple of 4) then data. */
static uint32_t tcp_segment(uint8_t *f, uint32_t sport, uint32_t dport, uint32_t flags, uint32_t seq, uint32_t ack, const uint8_t *opts,
                            uint32_t olen, const uint8_t *data, uint32_t dlen) {
  uint8_t *t = f + 34;
  memset(t, 0, 20);
  put16(t, sport);
  put16(t + 2, dport);
  put32(t + 4, seq);
  put32(t + 8, ack);
  t[12] = (uint8_t)(((20 + olen) / 4) << 4);
  t[13] = (uint8_t)flags;
  put16(t + 14, 64240);
  memcpy(t + 20, opts, olen);
  if (dlen) memcpy(t + 20 + olen, data, dlen);
  return ip_frame(f, board_mac, FUZZ_BOARD_IP, 6, 20 + olen + dlen);
}

static uint32_t tcp_frame(uint8_t *f, uint32_t flags, uint32_t seq, uint32_t ack, const uint8_t *opts, uint32_t olen) {
  return tcp_segment(f, FUZZ_PEER_PORT, FUZZ_HTTP_PORT, flags, seq, ack, opts, olen, NULL, 0);
}

/* The MQTT client's CONNECT fields (wasmip.h WASMIP_MQTT_CFG_*): keep-alive, flags (will, its QoS
 * 1 and retain: the sensor's), then the client id, will topic and will message. */
static uint32_t mqtt_cfg(uint8_t *p) {
  static const char id[] = FUZZ_MQTT_CLIENT, wt[] = FUZZ_MQTT_TOPIC "/status", wm[] = "offline";
  const uint32_t v[7] = {FUZZ_MQTT_KEEPALIVE_S, 2u | 1u << 2 | 1u << 4, sizeof id - 1, sizeof wt - 1, sizeof wm - 1, 0, 0};
  memcpy(p, v, sizeof v);
  uint32_t n = sizeof v;
  memcpy(p + n, id, sizeof id - 1), n += sizeof id - 1;
  memcpy(p + n, wt, sizeof wt - 1), n += sizeof wt - 1;
  memcpy(p + n, wm, sizeof wm - 1), n += sizeof wm - 1;
  return n;
}

static void put_str(uint32_t at, const char *s) { memcpy(mem() + at, s, strlen(s)); }

/* A DHCP reply (OFFER 2 / ACK 5) for the board's current xid. */
static uint32_t dhcp_frame(uint8_t *f, uint32_t type) {
  uint8_t *u = f + 34, *d = u + 8;
  memset(u, 0, 8 + 300);
  put16(u, 67);
  put16(u + 2, 68);
  d[0] = 2; /* BOOTREPLY */
  d[1] = 1;
  d[2] = 6;
  put32(d + 4, hs.dhcp_xid);
  put16(d + 10, 0x8000);
  put32(d + 16, FUZZ_BOARD_IP);
  put32(d + 20, FUZZ_PEER_IP);
  memcpy(d + 28, board_mac, 6);
  put32(d + 236, 0x63825363);
  uint8_t *o = d + 240;
  *o++ = 53, *o++ = 1, *o++ = (uint8_t)type;
  *o++ = 54, *o++ = 4, put32(o, FUZZ_PEER_IP), o += 4;
  *o++ = 51, *o++ = 4, put32(o, FUZZ_DHCP_LEASE_S), o += 4;
  *o++ = 1, *o++ = 4, put32(o, FUZZ_NETMASK), o += 4;
  *o++ = 3, *o++ = 4, put32(o, FUZZ_PEER_IP), o += 4;
  *o++ = 6, *o++ = 4, put32(o, FUZZ_PEER_IP), o += 4;
  *o++ = 255;
  uint32_t dlen = (uint32_t)(o - d);
  if (dlen < 300) dlen = 300;
  put16(u + 4, 8 + dlen);
  static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
  return ip_frame(f, bcast, 0xffffffffu, 17, 8 + dlen);
}

static void setup_fail(const char *what) { crash("setup of the %s target: %s", target_names[FUZZ_TARGET], what); }

static void setup(void) {
  static uint8_t f[2048];
  log_on = getenv("WASMIP_FUZZ_LOG") != NULL;
  hs.now = FUZZ_CLOCK_START;
  hs.rng = FUZZ_RANDOM_SEED;
  wasm_rt_init();
  Z_stack_init_module();
  where = "instantiate";
  Z_stack_instantiate(&inst, &phy);
  initial_pages = Z_stackZ_memory(&inst)->pages;
  rx_buf = Z_stackZ_rx_buffer(&inst);
  rx_size = Z_stackZ_rx_buffer_size(&inst);
  io_buf = Z_stackZ_io_buffer(&inst);
  poll_max = FUZZ_POLL_MAX_SLEEP_MS;
  n_counters = Z_stackZ_counter_count(&inst);
  if (n_counters > sizeof counter_kinds) setup_fail("too many counters");
  uint32_t mac_hi = (uint32_t)board_mac[0] << 8 | board_mac[1];
  uint32_t mac_lo = get32(board_mac + 2);
  int dhcp = FUZZ_TARGET == T_DHCP;
  where = "init";
  if ((int32_t)Z_stackZ_init(&inst, mac_hi, mac_lo, dhcp ? 0 : FUZZ_BOARD_IP, dhcp ? 0 : FUZZ_NETMASK, dhcp ? 0 : FUZZ_PEER_IP) != 0)
    setup_fail("init failed");
  for (uint32_t i = 0; i < n_counters; i++) {
    counter_kinds[i] = (uint8_t)Z_stackZ_counter_kind(&inst, i);
    if (strcmp((const char *)mem() + Z_stackZ_counter_name(&inst, i), "rx_frames") == 0) rx_frames_id = i;
  }
  check_invariants();
  check_counters();

  if (dhcp) {
    static const char host[] = "fuzz";
    memcpy(mem() + io_buf, host, 4);
    where = "dhcp_start";
    if (Z_stackZ_dhcp_start(&inst, io_buf, 4) != 0) setup_fail("dhcp_start");
    advance(10);
    if (hs.dhcp_xid == 0) setup_fail("no DISCOVER");
    feed(f, dhcp_frame(f, 2));
    advance(10);
    feed(f, dhcp_frame(f, 5));
    advance(10);
    if (Z_stackZ_dhcp_state(&inst) != 4) setup_fail("not BOUND after OFFER and ACK");
  }
  /* The peer asks for our address (so both sides know each other's MAC). */
  uint32_t n = eth(f, (const uint8_t *)"\xff\xff\xff\xff\xff\xff", peer_mac, 0x0806);
  static const uint8_t arp_hdr[8] = {0, 1, 8, 0, 6, 4, 0, 1};
  memcpy(f + n, arp_hdr, 8);
  memcpy(f + n + 8, peer_mac, 6);
  put32(f + n + 14, FUZZ_PEER_IP);
  memset(f + n + 18, 0, 6);
  put32(f + n + 24, FUZZ_BOARD_IP);
  memset(f + n + 28, 0, 60 - (n + 28));
  feed(f, 60);
  advance(10);

  if (FUZZ_TARGET == T_ESTABLISHED) {
    /* Linux's SYN options: MSS 1460, SACK permitted, timestamps, NOP, window scale 7. */
    static const uint8_t opts[20] = {2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
    feed(f, tcp_frame(f, 0x02, FUZZ_PEER_ISN, 0, opts, sizeof opts));
    advance(1);
    if (!hs.syn_ack_seen) setup_fail("no SYN-ACK");
    feed(f, tcp_frame(f, 0x10, FUZZ_PEER_ISN + 1, hs.syn_ack_seq + 1, NULL, 0));
    advance(1);
    uint32_t iss, irs, nxt;
    if (!find_connection(FUZZ_HTTP_PORT, FUZZ_PEER_IP, FUZZ_PEER_PORT, &iss, &irs, &nxt) || irs != FUZZ_PEER_ISN) setup_fail("no connection");
    if (!Z_stackZ_tcp_table_row(&inst, 0, io_buf)) setup_fail("no table");
  }
  if (FUZZ_TARGET == T_DNS) {
    where = "dns_set_servers";
    Z_stackZ_dns_set_servers(&inst, FUZZ_PEER_IP, 0);
    memcpy(mem() + io_buf, FUZZ_DNS_NAME, sizeof FUZZ_DNS_NAME - 1);
    where = "dns_resolve";
    int32_t h = (int32_t)Z_stackZ_dns_resolve(&inst, io_buf, sizeof FUZZ_DNS_NAME - 1);
    if (h < 0) setup_fail("dns_resolve");
    advance(10);
    if (hs.dns_port == 0) setup_fail("no DNS query sent");
    if ((int32_t)Z_stackZ_dns_result(&inst, h) != -3) setup_fail("the lookup is not pending");
  }
  if (FUZZ_TARGET == T_MDNS) {
    static const char type[] = "_http._tcp";
    put_str(io_buf, FUZZ_MDNS_NAME);
    where = "mdns_start";
    if (Z_stackZ_mdns_start(&inst, io_buf, sizeof FUZZ_MDNS_NAME - 1) != 0) setup_fail("mdns_start");
    put_str(io_buf, type);
    where = "mdns_add_service";
    if ((int32_t)Z_stackZ_mdns_add_service(&inst, 0, 0, io_buf, sizeof type - 1, FUZZ_HTTP_PORT, 0, 0) < 0) setup_fail("mdns_add_service");
    advance(5000); /* probed (3 x 250 ms) and announced (twice, 1 s apart) */
    if (Z_stackZ_mdns_state(&inst) != FUZZ_MDNS_RUNNING) setup_fail("mDNS not running");
  }
  if (FUZZ_TARGET == T_MQTT) {
    where = "mqtt_connect";
    if (Z_stackZ_mqtt_connect(&inst, FUZZ_PEER_IP, FUZZ_MQTT_PORT, io_buf, mqtt_cfg(mem() + io_buf)) != 0) setup_fail("mqtt_connect");
    advance(10);
    if (hs.mqtt_port == 0) setup_fail("no SYN to the broker");
    /* Linux's SYN-ACK options: MSS 1460, SACK permitted, timestamps, NOP, window scale 7. */
    static const uint8_t opts[20] = {2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7};
    feed(f, tcp_segment(f, FUZZ_MQTT_PORT, hs.mqtt_port, 0x12, FUZZ_PEER_ISN, hs.mqtt_iss + 1, opts, sizeof opts, NULL, 0));
    advance(10);
    if ((int32_t)(hs.mqtt_nxt - (hs.mqtt_iss + 1)) <= 0) setup_fail("no CONNECT");
    static const uint8_t connack[4] = {0x20, 2, 0, 0};
    feed(f, tcp_segment(f, FUZZ_MQTT_PORT, hs.mqtt_port, 0x18, FUZZ_PEER_ISN + 1, hs.mqtt_nxt, NULL, 0, connack, sizeof connack));
    advance(10);
    if ((int32_t)Z_stackZ_mqtt_state(&inst) != 3) setup_fail("not connected after CONNACK");
    static const char reading[] = "{\"seq\":0,\"mC\":21000,\"t\":null}";
    put_str(io_buf, FUZZ_MQTT_TOPIC);
    put_str(io_buf + 64, reading);
    where = "mqtt_publish";
    for (uint32_t qos = 1; qos <= 2; qos++)
      if ((int32_t)Z_stackZ_mqtt_publish(&inst, io_buf, sizeof FUZZ_MQTT_TOPIC - 1, io_buf + 64, sizeof reading - 1, qos) <= 0) setup_fail("mqtt_publish");
    /* Packet ids 1 and 2 then 3, as the captured sensor's reading, status and subscription. */
    put_str(io_buf, FUZZ_MQTT_TOPIC "/cmd");
    where = "mqtt_subscribe";
    if ((int32_t)Z_stackZ_mqtt_subscribe(&inst, io_buf, sizeof FUZZ_MQTT_TOPIC "/cmd" - 1, 1) <= 0) setup_fail("mqtt_subscribe");
    advance(10);
  }
  if (FUZZ_TARGET == T_SNTP) {
    where = "sntp_set_servers";
    if (Z_stackZ_sntp_set_servers(&inst, FUZZ_PEER_IP, 0) != 0) setup_fail("sntp_set_servers");
    advance(10);
    if (hs.ntp_port == 0) setup_fail("no SNTP request");
  }
}

static void snapshot(void) {
  snap_inst = inst;
  snap_hs = hs;
  snap_size = mem_size();
  snap_mem = malloc(snap_size);
  if (!snap_mem) crash("out of memory");
  memcpy(snap_mem, mem(), snap_size);
}

static void restore(void) {
  inst = snap_inst;
  hs = snap_hs;
  memcpy(mem(), snap_mem, snap_size);
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  if (wasm_rt_impl_try() != 0) crash("trap in %s during setup", where);
  setup();
  snapshot();
  if (getenv("WASMIP_FUZZ_DESCRIBE")) {
    fprintf(stderr, "wasmip-fuzz %s: ready, %u pages, %u counters, %u frames sent during setup\n", target_names[FUZZ_TARGET],
            initial_pages, n_counters, hs.tx_count);
  }
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t f[65536 + 8];
  restore();
  if (wasm_rt_impl_try() != 0) crash("trap in %s", where);
  size_t i = 0;
  while (i < size) {
    uint32_t op = data[i++] & 3;
    if (size - i < 2) break;
    uint32_t v = get16(data + i);
    i += 2;
    if (op == 0 || op == 3) {
      uint32_t len = v;
      if (len > size - i) len = (uint32_t)(size - i);
      memcpy(f, data + i, len);
      i += len;
      if (op == 3) fixup(f, len, 1);
      feed(f, len);
      do_poll();
      check_invariants();
    } else if (op == 1) {
      advance(v < 0x8000 ? v : (v & 0x7fff) * 100u);
    } else {
      do_input(v);
      do_poll();
      check_invariants();
    }
  }
  if (log_on) /* what the input did: every counter that is not 0 */
    for (uint32_t c = 0; c < n_counters; c++)
      if (Z_stackZ_counter(&inst, c) != 0) fprintf(stderr, "[harness] %s %u\n", (const char *)mem() + Z_stackZ_counter_name(&inst, c), Z_stackZ_counter(&inst, c));
  return 0;
}
