/*
 * wasmip.h - the PHY shim ABI: the one contract between the wasmip core (a WebAssembly module)
 * and every board that runs it (the Node harness, wasm2c-compiled C, WAMR on an ESP32).
 *
 * Only 32-bit numbers and offsets into the module's linear memory cross this boundary, so a
 * WAMR native written in C and the Node harness call exactly the same exports.
 *
 * Conventions
 *   - IPv4 addresses are u32 in host order: 10.0.0.2 is 0x0A000002.
 *   - A MAC address is split in two numbers: mac_hi = bytes 0..1 (b0 << 8 | b1),
 *     mac_lo = bytes 2..5 (b2 << 24 | b3 << 16 | b4 << 8 | b5).
 *   - Times are milliseconds on a u32 clock that wraps (every ~49.7 days); the core compares
 *     times modulo 2^32, so a board just passes its free-running counter.
 *   - "ptr" is an offset into the module's exported memory ("memory").
 *   - Errors are negative i32 codes (WASMIP_E*); 0 or a positive value means success.
 */
#ifndef WASMIP_H
#define WASMIP_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------------------------------
 * Imports: module "phy". A board implements these six functions.
 * ------------------------------------------------------------------------------------------ */

/* phy.tx: transmit one Ethernet II frame (destination MAC first, no FCS, 60..1514 bytes).
 * The frame is only valid during the call: copy it or send it before returning. */
typedef void (*wasmip_phy_tx_fn)(uint32_t frame_ptr, uint32_t len);

/* phy.now_ms: a monotonic millisecond clock (wrapping u32). */
typedef uint32_t (*wasmip_phy_now_ms_fn)(void);

/* phy.random: 32 random bits. Used for TCP ISN keys, ephemeral ports, IP ids, DHCP xids.
 * Use a hardware RNG where the board has one (the ESP32's esp_random()). */
typedef uint32_t (*wasmip_phy_random_fn)(void);

/* phy.checksum: the RFC 1071 sum of len bytes at ptr: 16-bit big-endian words added with end-around
 * carry, an odd last byte as the high byte of a word; returned in the low 16 bits, NOT complemented.
 * The core calls it only after the board's set_offload(WASMIP_OFFLOAD_SUM), for sums of at least
 * CHECKSUM_NATIVE_MIN bytes; a board that never sets that flag may return anything. Under an
 * interpreter a native loop is far cheaper than the core's own; wasmip_checksum() below is one. */
typedef uint32_t (*wasmip_phy_checksum_fn)(uint32_t ptr, uint32_t len);

static inline uint32_t wasmip_checksum(const uint8_t *p, uint32_t len) {
  uint64_t s = 0; /* carries deferred to the end (RFC 1071 §4.1) */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  /* Little-endian words summed as they lie and the result's bytes swapped once (RFC 1071 §2(B)):
   * a quarter of the instructions of byte loads. memcpy: any alignment (byte loads where the CPU
   * has no unaligned ones). */
  for (; len >= 16; p += 16, len -= 16) {
    uint32_t w[4];
    __builtin_memcpy(w, p, 16);
    s += (uint64_t)w[0] + w[1] + w[2] + w[3];
  }
  for (; len >= 4; p += 4, len -= 4) {
    uint32_t w;
    __builtin_memcpy(&w, p, 4);
    s += w;
  }
  for (; len >= 2; p += 2, len -= 2) s += (uint32_t)p[1] << 8 | p[0];
  if (len) s += p[0]; /* the odd last byte: the high byte of its word, before the swap */
  while (s >> 16) s = (s & 0xffffu) + (s >> 16);
  return (uint32_t)(((s & 0xffu) << 8) | (s >> 8));
#else
  /* Byte loads: any alignment, any endianness. */
  for (; len >= 8; p += 8, len -= 8)
    s += ((uint32_t)p[0] << 8 | p[1]) + ((uint32_t)p[2] << 8 | p[3]) + ((uint32_t)p[4] << 8 | p[5]) + ((uint32_t)p[6] << 8 | p[7]);
  for (; len >= 2; p += 2, len -= 2) s += (uint32_t)p[0] << 8 | p[1];
  if (len) s += (uint32_t)p[0] << 8;
  while (s >> 16) s = (s & 0xffffu) + (s >> 16);
  return (uint32_t)s;
#endif
}

/* phy.panic: the core hit an internal invariant it cannot recover from. msg is ASCII
 * "file:line message" (not NUL-terminated). The core executes `unreachable` if this returns,
 * so a board should log and reset. Replaces AssemblyScript's env.abort. */
typedef void (*wasmip_phy_panic_fn)(uint32_t msg_ptr, uint32_t msg_len, uint32_t line);

/* phy.log: one ASCII log line (no newline) at a level (WASMIP_LOG_*). A board may ignore it. */
typedef void (*wasmip_phy_log_fn)(uint32_t level, uint32_t msg_ptr, uint32_t msg_len);

#define WASMIP_LOG_ERROR 0u
#define WASMIP_LOG_WARN  1u
#define WASMIP_LOG_INFO  2u
#define WASMIP_LOG_DEBUG 3u

/* ------------------------------------------------------------------------------------------
 * Exports: what a board calls. Names are the wasm export names.
 * ------------------------------------------------------------------------------------------ */

/* init(mac_hi, mac_lo, ip, netmask, gateway) -> 0 or WASMIP_EINVAL.
 * Call once, before anything else. ip may be 0 (no address yet). With an address, a
 * gratuitous ARP is sent. Rejects a multicast/zero MAC and a non-contiguous netmask. */
typedef int32_t (*wasmip_init_fn)(uint32_t mac_hi, uint32_t mac_lo, uint32_t ip,
                                  uint32_t netmask, uint32_t gateway);

/* set_ipv4(ip, netmask, gateway) -> 0 or WASMIP_EINVAL. Changes the address (gratuitous ARP). */
typedef int32_t (*wasmip_set_ipv4_fn)(uint32_t ip, uint32_t netmask, uint32_t gateway);

/* ipv4_address() -> the interface's address now (0 while it has none; DHCP sets it). */
typedef uint32_t (*wasmip_ipv4_address_fn)(void);

/* rx_buffer() -> ptr, rx_buffer_size() -> bytes (WASMIP_FRAME_MAX).
 * The receive path: copy one frame (without FCS) to rx_buffer(), then call input(len).
 * No allocation anywhere on this path. */
typedef uint32_t (*wasmip_rx_buffer_fn)(void);
typedef uint32_t (*wasmip_rx_buffer_size_fn)(void);

/* input(len) -> the id of the counter that accounts for this frame (see counter_kind).
 * Every frame lands in exactly one "rx" counter: delivered to a protocol, or dropped for a
 * named reason. Never traps, whatever the bytes. */
typedef uint32_t (*wasmip_input_fn)(uint32_t len);

/* Checksum offload (lwIP's CHECKSUM_GEN_* / CHECKSUM_CHECK_*): what the board does for the core.
 * set_offload(flags) -> 0 | WASMIP_EINVAL (an unknown bit); offload() -> the flags in force (0 at
 * init: the core sums everything itself). Call it after init, whenever the MAC's setup changes.
 *   SUM:     the core's sums of many bytes go to phy.checksum (a native loop; wins under an
 *            interpreter, not under wasm2c).
 *   TX_IPV4: the MAC fills the IPv4 header checksum of each frame sent: the core leaves it 0.
 *   TX_L4:   the MAC fills TCP and UDP checksums, pseudo-header included (a UDP sum of 0 sent as
 *            0xffff): the core leaves them 0. ICMP and IGMP are always summed by the core, and so
 *            is everything over IPv6 (TX_L4 and RX_L4_OK are about IPv4 frames only).
 * input_checked(len, flags) -> as input(len), for a MAC that verifies received checksums: flags
 * (WASMIP_RX_*) say which of this frame's checksums it verified and found good. Only those are not
 * summed again; a frame it could not verify, or found bad, is passed with the bit clear (or
 * dropped by the MAC) and the core checks it as usual. */
typedef int32_t (*wasmip_set_offload_fn)(uint32_t flags);
typedef uint32_t (*wasmip_offload_fn)(void);
typedef uint32_t (*wasmip_input_checked_fn)(uint32_t len, uint32_t flags);
#define WASMIP_OFFLOAD_SUM     1u
#define WASMIP_OFFLOAD_TX_IPV4 2u
#define WASMIP_OFFLOAD_TX_L4   4u
#define WASMIP_RX_IPV4_OK      1u
#define WASMIP_RX_L4_OK        2u

/* poll(now_ms) -> milliseconds until the next timer deadline (at most WASMIP_POLL_MAX_SLEEP_MS).
 * Runs due timers (ARP retries and expiry; later TCP). Call it after input() and whenever the
 * returned delay has elapsed; a board may sleep until then or until the next frame.
 * It also delivers loopback traffic (to 127/8 and to the board's own address; it never reaches
 * phy.tx), through rx_buffer(), and returns 0 while some still waits: poll again at once. */
typedef uint32_t (*wasmip_poll_fn)(uint32_t now_ms);

/* Counters, like `netstat -s`. ids are 0..counter_count()-1.
 * counter_name(id) -> ptr to a NUL-terminated ASCII name ("ip_bad_checksum"), valid until the
 * next counter_name call (the names are stored compressed and written out on demand).
 * counter_kind(id) -> WASMIP_COUNTER_*. The sum of all RX_* counters equals rx_frames: the
 * number of input() calls plus the datagrams the loopback delivered (loopback_received). */
typedef uint32_t (*wasmip_counter_count_fn)(void);
typedef uint32_t (*wasmip_counter_fn)(uint32_t id);
typedef uint32_t (*wasmip_counter_name_fn)(uint32_t id);
typedef uint32_t (*wasmip_counter_kind_fn)(uint32_t id);

#define WASMIP_COUNTER_RX_DELIVERED 0u /* a received frame consumed by the stack */
#define WASMIP_COUNTER_RX_DROP      1u /* a received frame dropped, for the reason in the name */
#define WASMIP_COUNTER_EVENT        2u /* anything else: frames sent, retries, cache events */

/* set_log_level(level): phy.log receives lines at this level and more severe (default INFO), from
 * every module. set_log_module_level(module, level) -> 0 | WASMIP_EINVAL (unknown module): one
 * module's level. A line's module is the prefix of its text ("arp: who-has ..."). */
typedef void (*wasmip_set_log_level_fn)(uint32_t level);
typedef int32_t (*wasmip_set_log_module_level_fn)(uint32_t module, uint32_t level);
#define WASMIP_LOG_MODULE_ETH  0u
#define WASMIP_LOG_MODULE_ARP  1u
#define WASMIP_LOG_MODULE_IP   2u
#define WASMIP_LOG_MODULE_ICMP 3u
#define WASMIP_LOG_MODULE_TCP  4u
#define WASMIP_LOG_MODULE_UDP  5u
#define WASMIP_LOG_MODULE_DHCP 6u
#define WASMIP_LOG_MODULE_DNS  7u
#define WASMIP_LOG_MODULE_APP  8u /* the app's lines: any other prefix */
#define WASMIP_LOG_MODULES     9u

/* ------------------------------------------------------------------------------------------
 * The link and network events (lwIP's netif link and status callbacks).
 * ------------------------------------------------------------------------------------------ */
/* set_link(up): the board's carrier changed (PHY link, cable, Wi-Fi association). The link starts
 * up at init(). While it is down, frames the core sends are dropped and counted (tx_link_down);
 * connections, sockets and the lease are kept. On the way up the ARP cache forgets its resolved
 * neighbours, and the DHCP client confirms its lease (INIT-REBOOT: WASMIP_DHCP_REBOOTING) or, still
 * looking for one, restarts discovery at once; a static address is announced (gratuitous ARP).
 * A board without carrier detection never calls it. link_up() -> 1 or 0. */
typedef void (*wasmip_set_link_fn)(uint32_t up);
typedef uint32_t (*wasmip_link_up_fn)(void);
/* net_events() -> WASMIP_NET_EV_* bits raised since the last call (then cleared). Check after
 * input()/poll()/set_link(), then read the state (ipv4_address(), dhcp_*, dns_server()). */
typedef uint32_t (*wasmip_net_events_fn)(void);
#define WASMIP_NET_EV_LINK_UP      1u
#define WASMIP_NET_EV_LINK_DOWN    2u
#define WASMIP_NET_EV_ADDRESS      4u  /* an address was set, or changed (static or leased) */
#define WASMIP_NET_EV_RENEWED      8u  /* the lease was renewed (or confirmed) with the same address */
#define WASMIP_NET_EV_ADDRESS_LOST 16u /* the address was dropped (expiry, DHCPNAK, release, set to 0) */
#define WASMIP_NET_EV_DNS          32u /* the DNS servers changed */
#define WASMIP_NET_EV_TIME         64u /* SNTP set the wall clock (each sample; see sntp_time) */
#define WASMIP_NET_EV_MULTICAST    128u /* the groups joined changed: reprogram the MAC filter (multicast_mac) */

/* memory_used() -> bytes of linear memory the core uses (static data; it never allocates). */
typedef uint32_t (*wasmip_memory_used_fn)(void);
/* config(id) -> the build's value of a configuration knob (assembly/config.ts), 0xffffffff for an
 * unknown id. Lets a board or a test size itself to the image it runs. */
typedef uint32_t (*wasmip_config_fn)(uint32_t id);
#define WASMIP_CONFIG_MTU                 0
#define WASMIP_CONFIG_TCP_MAX_SOCKETS     1  /* connection blocks (listeners included) */
#define WASMIP_CONFIG_TCP_MAX_CONNECTIONS 2  /* connections with buffers at once */
#define WASMIP_CONFIG_TCP_SND_BUF         3
#define WASMIP_CONFIG_TCP_RCV_BUF         4
#define WASMIP_CONFIG_TCP_BACKLOG_MAX     5
#define WASMIP_CONFIG_TCP_BYTES_PER_CONNECTION 6 /* static bytes of one connection's buffer set */
#define WASMIP_CONFIG_TCP_BYTES_PER_BLOCK 7  /* static bytes of one connection block */
#define WASMIP_CONFIG_UDP_MAX_SOCKETS     8
#define WASMIP_CONFIG_UDP_RCV_BUF         9
#define WASMIP_CONFIG_ARP_CACHE_SIZE      10
#define WASMIP_CONFIG_DNS_MAX_QUERIES     11
#define WASMIP_CONFIG_IO_BUFFER_SIZE      12 /* = io_buffer_size(), the frame buffer */
#define WASMIP_CONFIG_MCAST_GROUPS        13 /* multicast group slots (multicast_mac): IGMP's, then IPv6's (all-nodes, solicited-node per address, mDNS ff02::fb) */
#define WASMIP_CONFIG_IPV6_ADDRS          14 /* IPv6 address slots (ipv6_address); 0 without IPv6 */
#define WASMIP_CONFIG_ND_CACHE_SIZE       15 /* IPv6 neighbor cache entries (ipv6_neighbor); 0 without IPv6 */

/* ping(dst_ip, seq, payload_len) -> 0 or WASMIP_EINVAL / WASMIP_EMSGSIZE / WASMIP_EHOSTUNREACH /
 * WASMIP_ENOBUFS. Sends one ICMP echo request (identifier chosen at init).
 * ping_rtt(seq) -> round trip in ms of the reply to seq, or -1 while none has come.
 * The core remembers the last WASMIP_PING_SLOTS sequence numbers. */
typedef int32_t (*wasmip_ping_fn)(uint32_t dst_ip, uint32_t seq, uint32_t payload_len);
typedef int32_t (*wasmip_ping_rtt_fn)(uint32_t seq);

/* ------------------------------------------------------------------------------------------
 * TCP sockets (BSD-style, non-blocking). A socket is a small integer fd >= 0.
 * Data crosses through linear memory: a C board or the Node harness copies into io_buffer()
 * (io_buffer_size() bytes) and passes that pointer, or any other pointer into the memory.
 * ------------------------------------------------------------------------------------------ */

/* tcp_socket() -> fd, or WASMIP_ENOBUFS when every connection block is in use. */
typedef int32_t (*wasmip_tcp_socket_fn)(void);
/* tcp_bind(fd, port) -> 0 | EINVAL | EADDRINUSE. The local address is the interface's; port 0
 * picks an ephemeral port (RFC 6056). */
typedef int32_t (*wasmip_tcp_bind_fn)(int32_t fd, uint32_t port);
/* tcp_listen(fd, backlog) -> 0 | EINVAL. backlog bounds SYN-RECEIVED plus not-yet-accepted
 * connections (at most WASMIP_TCP_BACKLOG_MAX); SYNs beyond it are dropped and counted. */
typedef int32_t (*wasmip_tcp_listen_fn)(int32_t fd, uint32_t backlog);
/* tcp_accept(fd) -> new fd | EWOULDBLOCK | EINVAL. */
typedef int32_t (*wasmip_tcp_accept_fn)(int32_t fd);
/* tcp_connect(fd, ip, port) -> 0 (SYN sent: wait for WASMIP_EV_CONNECTED or WASMIP_EV_ERROR)
 * | EINVAL | EHOSTUNREACH | EADDRINUSE. Binds an ephemeral port if the socket has none. */
typedef int32_t (*wasmip_tcp_connect_fn)(int32_t fd, uint32_t ip, uint32_t port);
/* tcp_send(fd, ptr, len) -> bytes queued (>= 1) | EWOULDBLOCK (send buffer full) | ENOTCONN |
 * the connection's error. Never queues part of nothing: 0 only for len 0. */
typedef int32_t (*wasmip_tcp_send_fn)(int32_t fd, uint32_t ptr, uint32_t len);
/* tcp_send_space(fd) -> bytes tcp_send would queue now (0 when it may not send): read at most
 * this much from elsewhere and it is sent whole, with no buffer of the board's own. */
typedef uint32_t (*wasmip_tcp_send_space_fn)(int32_t fd);
/* tcp_recv(fd, ptr, len) -> bytes read (>= 1) | 0 at end of stream (peer sent FIN) |
 * EWOULDBLOCK | ENOTCONN | the connection's error (ECONNRESET, ETIMEDOUT, ECONNREFUSED). */
typedef int32_t (*wasmip_tcp_recv_fn)(int32_t fd, uint32_t ptr, uint32_t len);
/* tcp_shutdown(fd, how) -> 0 | ENOTCONN. how: 0 read, 1 write (sends FIN after queued data), 2 both. */
typedef int32_t (*wasmip_tcp_shutdown_fn)(int32_t fd, uint32_t how);
/* tcp_close(fd) -> 0 | EINVAL. The fd is released at once; the connection closes gracefully in
 * the background (FIN after queued data), or is reset if received data was left unread
 * (RFC 9293 §3.6, RFC 2525 §2.17). */
typedef int32_t (*wasmip_tcp_close_fn)(int32_t fd);
/* tcp_abort(fd) -> 0 | EINVAL: reset the connection (RST) and release the fd. */
typedef int32_t (*wasmip_tcp_abort_fn)(int32_t fd);
/* tcp_events(fd) -> WASMIP_EV_* bits, level-triggered. Check after input()/poll(). */
typedef uint32_t (*wasmip_tcp_events_fn)(int32_t fd);
/* tcp_changed() -> bit i set if fd i's events changed since the last call (fds 0..31). */
typedef uint32_t (*wasmip_tcp_changed_fn)(void);
/* tcp_setopt(fd, opt, value) -> 0 | EINVAL. opt: WASMIP_TCP_OPT_*. */
typedef int32_t (*wasmip_tcp_setopt_fn)(int32_t fd, uint32_t opt, uint32_t value);
/* tcp_state(fd), tcp_local_port(fd), tcp_remote_ip(fd), tcp_remote_port(fd). */
typedef uint32_t (*wasmip_tcp_field_fn)(int32_t fd);

#define WASMIP_EV_READABLE  1u  /* data to read, end of stream, or (listener) a connection to accept */
#define WASMIP_EV_WRITABLE  2u  /* room in the send buffer */
#define WASMIP_EV_CONNECTED 4u  /* the handshake completed */
#define WASMIP_EV_HUP       8u  /* the peer closed its side (FIN received) */
#define WASMIP_EV_ERROR     16u /* an error is pending: tcp_recv/tcp_send return it */
#define WASMIP_EV_CLOSED    32u /* the connection is gone (CLOSED or TIME-WAIT) */

#define WASMIP_TCP_OPT_NODELAY   1u /* 1 disables Nagle */
#define WASMIP_TCP_OPT_KEEPALIVE 2u /* 1 enables keep-alive */
#define WASMIP_TCP_OPT_KEEPIDLE  3u /* ms idle before the first probe */
#define WASMIP_TCP_OPT_KEEPINTVL 4u /* ms between probes */
#define WASMIP_TCP_OPT_KEEPCNT   5u /* unanswered probes before ETIMEDOUT */

/* The connection table (like netstat -tn): rows 0..tcp_table_size()-1. tcp_table_row(i, ptr)
 * writes 7 u32 at ptr: state, local ip, local port, remote ip, remote port, send queue bytes,
 * receive queue bytes; returns 1 if the row is in use, 0 if empty. A listener shows local ip 0. */
typedef uint32_t (*wasmip_tcp_table_size_fn)(void);
typedef int32_t (*wasmip_tcp_table_row_fn)(uint32_t i, uint32_t ptr);
/* tcp_info(fd, ptr) -> 1 (14 u32 written at ptr, indexed by WASMIP_TCP_INFO_*) | 0 (no such block).
 * Any block, held by the application or not (fd = connection-table row below TCP_MAX_SOCKETS).
 * For traces and benchmarks: congestion window, RTT estimate and sequence numbers. */
typedef int32_t (*wasmip_tcp_info_fn)(int32_t fd, uint32_t ptr);
#define WASMIP_TCP_INFO_STATE    0  /* WASMIP_TCP_* */
#define WASMIP_TCP_INFO_MSS      1  /* send MSS, bytes */
#define WASMIP_TCP_INFO_CWND     2  /* congestion window, bytes */
#define WASMIP_TCP_INFO_SSTHRESH 3  /* slow-start threshold, bytes */
#define WASMIP_TCP_INFO_SRTT     4  /* smoothed RTT, ms (0 before the first sample) */
#define WASMIP_TCP_INFO_RTTVAR   5  /* RTT variation, ms */
#define WASMIP_TCP_INFO_RTO      6  /* retransmission timeout, ms */
#define WASMIP_TCP_INFO_ISS      7  /* our initial sequence number */
#define WASMIP_TCP_INFO_SND_UNA  8
#define WASMIP_TCP_INFO_SND_NXT  9
#define WASMIP_TCP_INFO_SND_WND  10 /* the peer's window, bytes (scaled) */
#define WASMIP_TCP_INFO_IRS      11 /* the peer's initial sequence number */
#define WASMIP_TCP_INFO_RCV_NXT  12
#define WASMIP_TCP_INFO_RECOVERY 13 /* 1 while in NewReno fast recovery */
#define WASMIP_TCP_INFO_WORDS    14
/* io_buffer() -> ptr, io_buffer_size() -> bytes: scratch memory for a board's data. It is the
 * receive frame buffer (rx_buffer()), free between frames: the next frame copied to rx_buffer()
 * overwrites it, and so does poll() when it delivers loopback traffic, so read results out of it
 * first. Socket calls never overwrite it (beyond what a tcp_recv/udp_recvfrom returns there). */
typedef uint32_t (*wasmip_io_buffer_fn)(void);
typedef uint32_t (*wasmip_io_buffer_size_fn)(void);
/* app_config(ptr, len) -> 0 | negative error: optional, an app's export (the sensor example's):
 * one setting as text, "key=value", written at io_buffer(). The posix and WAMR boards pass each
 * --app-config to it after the lease, before "ready". */
typedef int32_t (*wasmip_app_config_fn)(uint32_t ptr, uint32_t len);

/* States, in tcp_state() and the table (RFC 9293 §3.3.2). */
#define WASMIP_TCP_CLOSED       0u
#define WASMIP_TCP_LISTEN       1u
#define WASMIP_TCP_SYN_SENT     2u
#define WASMIP_TCP_SYN_RECEIVED 3u
#define WASMIP_TCP_ESTABLISHED  4u
#define WASMIP_TCP_FIN_WAIT_1   5u
#define WASMIP_TCP_FIN_WAIT_2   6u
#define WASMIP_TCP_CLOSE_WAIT   7u
#define WASMIP_TCP_CLOSING      8u
#define WASMIP_TCP_LAST_ACK     9u
#define WASMIP_TCP_TIME_WAIT    10u

/* ------------------------------------------------------------------------------------------
 * UDP sockets (RFC 768), non-blocking. UDP fds are their own small integers (0..UDP_MAX_SOCKETS-1),
 * separate from TCP fds.
 * ------------------------------------------------------------------------------------------ */
/* udp_socket() -> fd | ENOBUFS. */
typedef int32_t (*wasmip_udp_socket_fn)(void);
/* udp_bind(fd, port) -> 0 | EINVAL | EADDRINUSE. port 0 picks an ephemeral port. */
typedef int32_t (*wasmip_udp_bind_fn)(int32_t fd, uint32_t port);
/* udp_connect(fd, ip, port) -> 0 | EINVAL: a default destination, and only datagrams from it are
 * received. Binds an ephemeral port if needed. */
typedef int32_t (*wasmip_udp_connect_fn)(int32_t fd, uint32_t ip, uint32_t port);
/* udp_sendto(fd, ptr, len, ip, port) -> len | EMSGSIZE | EHOSTUNREACH | ENOBUFS | EINVAL | a pending
 * ICMP error. ip 0 and port 0 mean the connected peer. 255.255.255.255 and the directed broadcast
 * are allowed (sent as link broadcasts); the source address is 0.0.0.0 while the interface has none
 * (DHCP). Binds an ephemeral port if needed. */
typedef int32_t (*wasmip_udp_sendto_fn)(int32_t fd, uint32_t ptr, uint32_t len, uint32_t ip, uint32_t port);
/* udp_recvfrom(fd, ptr, len) -> bytes of the next datagram (a longer one is cut to len, the rest
 * dropped) | EWOULDBLOCK | a pending ICMP error (ECONNREFUSED for port unreachable, EHOSTUNREACH).
 * The sender of that datagram: udp_from_ip(fd), udp_from_port(fd). */
typedef int32_t (*wasmip_udp_recvfrom_fn)(int32_t fd, uint32_t ptr, uint32_t len);
typedef uint32_t (*wasmip_udp_from_fn)(int32_t fd);
/* udp_local_port(fd) -> the bound port (0 before bind or the first send). */
typedef uint32_t (*wasmip_udp_local_port_fn)(int32_t fd);
/* udp_close(fd) -> 0 | EINVAL. udp_events(fd) -> WASMIP_EV_READABLE | WRITABLE | ERROR. */
typedef int32_t (*wasmip_udp_close_fn)(int32_t fd);
typedef uint32_t (*wasmip_udp_events_fn)(int32_t fd);

/* IPv4 multicast (RFC 1112, IGMPv3 RFC 3376), in images built with --use WASMIP_MULTICAST=1
 * (otherwise these return WASMIP_ENOSYS and multicast_mac 0).
 * udp_join(fd, group) -> 0 | EINVAL (not 224.0.0.0/4) | EADDRINUSE (already joined) | ENOBUFS (all
 *   WASMIP_CONFIG_MCAST_GROUPS slots in use): the group's datagrams to fd's port are received; the
 *   first join of a group sends IGMP reports (and raises WASMIP_NET_EV_MULTICAST).
 * udp_leave(fd, group) -> 0 | EINVAL (not joined); udp_close leaves every group of fd.
 * udp_set_multicast_ttl(fd, ttl 1..255) -> 0 | EINVAL: the TTL of fd's datagrams to groups (default
 *   1: this link). The board's own multicast is never looped back to it.
 * multicast_mac(i, ptr) -> 1 with the 6-byte MAC of group slot i at ptr | 0 (free slot): what a MAC's
 *   receive filter should pass (plus 01:00:5e:00:00:01, all systems). A board without a filter (a
 *   TAP, a switch port in promiscuous mode) passes everything; the core drops what is not joined
 *   (eth_not_for_us, ip_multicast_not_joined). */
typedef int32_t (*wasmip_udp_join_fn)(int32_t fd, uint32_t group);
typedef int32_t (*wasmip_udp_set_multicast_ttl_fn)(int32_t fd, uint32_t ttl);
typedef uint32_t (*wasmip_multicast_mac_fn)(uint32_t i, uint32_t ptr);

/* IPv6 (RFC 8200, ND RFC 4861, SLAAC RFC 4862, MLDv2 RFC 3810, ICMPv6 RFC 4443; docs/ipv6.md), in
 * images built with --use WASMIP_IPV6=1 (otherwise ENOSYS, or 0). Addresses are 16 bytes in network
 * order passed through memory (io_buffer). init() starts it: a link-local address (fe80:: + the
 * modified EUI-64 of the MAC), DAD, router solicitation, SLAAC addresses from RAs.
 * ipv6_enable(on) -> 0: IPv6 on (the default) or off on the interface; on again starts over.
 * ipv6_address(i, ptr) -> WASMIP_IPV6_* state of address slot i (0 .. WASMIP_CONFIG_IPV6_ADDRS - 1;
 *   slot 0 link-local), with the address (16 bytes), valid and preferred seconds left (u32 each,
 *   0xffffffff infinite) at ptr. Raises WASMIP_NET_EV_ADDRESS when one becomes usable.
 * ipv6_router(i, ptr) / ipv6_dns(i, ptr) -> seconds default router i / RDNSS server i (RFC 8106)
 *   stays valid (0: none), its address at ptr.
 * ipv6_neighbor(i, ptr) -> WASMIP_ND_* state of neighbor cache entry i (0 free), with the address
 *   (16), the MAC (6) and an is-router u16 at ptr.
 * ping6(ptr, seq, payload_len) -> like ping, to the address at ptr; ping_rtt(seq) reads both.
 * The solicited-node groups' MACs (33:33:ff:xx:xx:xx) and all-nodes (33:33:00:00:00:01) come after
 * IGMP's slots in multicast_mac(); WASMIP_NET_EV_MULTICAST says when they change.
 * TCP and UDP over IPv6 (docs/ipv6.md "TCP and UDP"): listeners and UDP sockets take both
 * families; the checksums over IPv6 are always computed by the core (the offload flags cover IPv4).
 * tcp_connect6(fd, ptr, port) -> like tcp_connect, to the 16-byte address at ptr, from the source
 *   address RFC 6724 picks (EHOSTUNREACH when there is none of that scope yet).
 * tcp_remote6(fd, ptr) -> 1 with fd's IPv6 peer at ptr | 0: IPv4 (tcp_remote_ip, which is 0 for
 *   an IPv6 connection).
 * tcp_table_row6(i, ptr) -> 1 with row i's local and remote IPv6 addresses (16 bytes each) at ptr
 *   | 0: the row is IPv4 or empty. An fd is its own row.
 * udp_connect6(fd, ptr, port) / udp_sendto6(fd, data, len, addr_ptr, port) -> like udp_connect /
 *   udp_sendto with an IPv6 address through memory (udp_sendto6 with :: and port 0, or udp_sendto
 *   with 0, 0: the connected peer). At most 1452 bytes (EMSGSIZE).
 * udp_from6(fd, ptr) -> 1 with the IPv6 source of the datagram the last udp_recvfrom returned at
 *   ptr | 0: it came over IPv4 (udp_from_ip). */
#define WASMIP_IPV6_TENTATIVE  1
#define WASMIP_IPV6_PREFERRED  2
#define WASMIP_IPV6_DEPRECATED 3
#define WASMIP_IPV6_DUPLICATED 4
#define WASMIP_ND_INCOMPLETE 1
#define WASMIP_ND_REACHABLE  2
#define WASMIP_ND_STALE      3
#define WASMIP_ND_DELAY      4
#define WASMIP_ND_PROBE      5
typedef int32_t (*wasmip_ipv6_enable_fn)(uint32_t on);
typedef int32_t (*wasmip_ipv6_address_fn)(uint32_t i, uint32_t ptr);
typedef uint32_t (*wasmip_ipv6_router_fn)(uint32_t i, uint32_t ptr);
typedef uint32_t (*wasmip_ipv6_neighbor_fn)(uint32_t i, uint32_t ptr);
typedef int32_t (*wasmip_ping6_fn)(uint32_t ptr, uint32_t seq, uint32_t payload_len);
typedef int32_t (*wasmip_tcp_connect6_fn)(int32_t fd, uint32_t ptr, uint32_t port);
typedef uint32_t (*wasmip_tcp_remote6_fn)(int32_t fd, uint32_t ptr);
typedef int32_t (*wasmip_tcp_table_row6_fn)(uint32_t i, uint32_t ptr);
typedef int32_t (*wasmip_udp_connect6_fn)(int32_t fd, uint32_t ptr, uint32_t port);
typedef int32_t (*wasmip_udp_sendto6_fn)(int32_t fd, uint32_t data, uint32_t len, uint32_t addr_ptr, uint32_t port);
typedef uint32_t (*wasmip_udp_from6_fn)(int32_t fd, uint32_t ptr);

/* ------------------------------------------------------------------------------------------
 * DNS resolver (RFC 1035): A lookups over UDP, non-blocking (a getaddrinfo that returns at once).
 * A lookup has a handle; poll() runs it (retransmission to the next server after
 * WASMIP_DNS_TIMEOUT_MS, doubling after each pass over the servers, 3 passes). Each lookup uses its
 * own UDP socket on a random port and a random query id; replies must come from port 53 of a server
 * it asked and match the id and the question, else they are dropped and counted (dns_bad_*).
 * ------------------------------------------------------------------------------------------ */
/* dns_set_servers(a, b) -> 0: the servers to ask, in order (0 = none). The DHCP client calls it
 * with the lease's servers; a board with a static address calls it itself.
 * dns_server(i) -> server i (0..1), 0 if none. */
typedef int32_t (*wasmip_dns_set_servers_fn)(uint32_t a, uint32_t b);
typedef uint32_t (*wasmip_dns_server_fn)(uint32_t i);
/* dns_resolve(name_ptr, len) -> handle >= 0 | EINVAL (not a host name) | ENOBUFS (all
 * WASMIP_DNS_MAX_QUERIES slots pending, or no UDP socket) | EHOSTUNREACH (no server set).
 * name: ASCII, labels separated by dots, one trailing dot allowed, not NUL-terminated. A dotted
 * quad and a cached name complete at once. */
typedef int32_t (*wasmip_dns_resolve_fn)(uint32_t name_ptr, uint32_t len);
/* dns_result(handle) -> EWOULDBLOCK while pending | 0: resolved, see dns_address | ENXDOMAIN |
 * ESERVFAIL | ETRUNCATED | ENODATA | ETIMEDOUT | ECONNREFUSED (ICMP port unreachable from every
 * server) | EINVAL (no such handle: released, or its slot was reused for a newer lookup).
 * dns_address(handle) -> the IPv4 address (host order), 0 unless resolved.
 * dns_ttl(handle) -> seconds the answer is valid (smallest TTL along the CNAME chain). */
typedef int32_t (*wasmip_dns_result_fn)(int32_t handle);
typedef uint32_t (*wasmip_dns_address_fn)(int32_t handle);
typedef uint32_t (*wasmip_dns_ttl_fn)(int32_t handle);
/* dns_resolve6(name_ptr, len) -> handle, as dns_resolve but for the AAAA record (RFC 3596); ENOSYS
 * in an image without IPv6. With no IPv4 server set, it asks the RDNSS servers (ipv6_dns) over
 * IPv6. A dotted quad ends at once with ENODATA; text with a colon (IPv6 text: an address, not a
 * name) is EINVAL, for dns_resolve too, in an image with IPv6. dns_result as above.
 * dns_address6(handle, ptr) -> 1: the 16-byte IPv6 address written at ptr; 0 unless an AAAA
 * lookup resolved. */
typedef int32_t (*wasmip_dns_resolve6_fn)(uint32_t name_ptr, uint32_t len);
typedef uint32_t (*wasmip_dns_address6_fn)(int32_t handle, uint32_t ptr);
/* dns_release(handle) -> 0 | EINVAL: frees the slot; a pending lookup is cancelled. A finished
 * lookup that is never released keeps its slot until a new lookup needs it (oldest first). */
typedef int32_t (*wasmip_dns_release_fn)(int32_t handle);
/* dns_cache_flush(): forget every cached answer. */
typedef void (*wasmip_dns_cache_flush_fn)(void);

#define WASMIP_DNS_MAX_QUERIES 4u
#define WASMIP_DNS_TIMEOUT_MS  1000u

/* ------------------------------------------------------------------------------------------
 * MQTT 3.1.1 client (services/mqtt.ts; docs/mqtt.md). Only in images built with
 * --use WASMIP_MQTT=1 (build/mqtt.wasm); elsewhere these return ENOSYS (or 0). One connection;
 * poll() runs it (keep-alive, reconnect with backoff 1 s doubling to 60 s). Pointers are offsets
 * in the module's memory; the board passes data through io_buffer().
 * ------------------------------------------------------------------------------------------ */
/* mqtt_connect(ip, port, cfg, cfg_len) -> 0 | EINVAL (running, or a field invalid) | EMSGSIZE
 * (the CONNECT exceeds WASMIP_MQTT_CONNECT_MAX). cfg: the u32 fields below (little-endian), then
 * client id, will topic, will message, user name, password, back to back. */
typedef int32_t (*wasmip_mqtt_connect_fn)(uint32_t ip, uint32_t port, uint32_t cfg, uint32_t cfg_len);
#define WASMIP_MQTT_CFG_KEEPALIVE    0  /* seconds, 0: none */
#define WASMIP_MQTT_CFG_FLAGS        4  /* WASMIP_MQTT_F_* */
#define WASMIP_MQTT_CFG_ID_LEN       8
#define WASMIP_MQTT_CFG_WILL_TOPIC_LEN 12
#define WASMIP_MQTT_CFG_WILL_MSG_LEN 16
#define WASMIP_MQTT_CFG_USER_LEN     20
#define WASMIP_MQTT_CFG_PASS_LEN     24
#define WASMIP_MQTT_CFG_SIZE         28 /* the strings start here */
#define WASMIP_MQTT_F_CLEAN          1u
#define WASMIP_MQTT_F_WILL           2u
#define WASMIP_MQTT_F_WILL_QOS_SHIFT 2  /* 2 bits */
#define WASMIP_MQTT_F_WILL_RETAIN    16u
#define WASMIP_MQTT_F_USER           32u
#define WASMIP_MQTT_F_PASS           64u /* needs WASMIP_MQTT_F_USER (MQTT 3.1.1 §3.1.2.9) */
/* mqtt_publish(topic, topic_len, payload, payload_len, flags: qos | WASMIP_MQTT_RETAIN) -> 0 (QoS 0,
 * sent) | packet id > 0 (QoS 1/2: kept until PUBACK/PUBCOMP, re-sent with DUP after a reconnect) |
 * EINVAL (wildcards, empty topic, QoS 3) | ENOTCONN | ENOBUFS (all WASMIP_MQTT_INFLIGHT slots
 * taken; QoS 0: the TCP send buffer is full) | EMSGSIZE (packet > WASMIP_MQTT_MSG_MAX). */
typedef int32_t (*wasmip_mqtt_publish_fn)(uint32_t topic, uint32_t topic_len, uint32_t payload, uint32_t payload_len, uint32_t flags);
#define WASMIP_MQTT_RETAIN 4u
/* mqtt_subscribe(filter, len, qos) / mqtt_unsubscribe(filter, len) -> packet id | ENOTCONN |
 * EINVAL (not a valid filter) | ENOBUFS | EMSGSIZE. The answer: WASMIP_MQTT_EV_SUBACK/UNSUBACK. */
typedef int32_t (*wasmip_mqtt_subscribe_fn)(uint32_t filter, uint32_t len, uint32_t qos);
typedef int32_t (*wasmip_mqtt_unsubscribe_fn)(uint32_t filter, uint32_t len);
/* mqtt_disconnect() -> 0 | ENOTCONN: DISCONNECT (no will), no reconnect. */
typedef int32_t (*wasmip_mqtt_disconnect_fn)(void);
/* mqtt_state() -> WASMIP_MQTT_* state, or the error that stopped the client (ECONNREFUSED:
 * mqtt_connack() has the CONNACK code, 1..5). mqtt_inflight() -> QoS 1/2 messages not completed. */
typedef int32_t (*wasmip_mqtt_state_fn)(void);
typedef uint32_t (*wasmip_mqtt_connack_fn)(void);
typedef uint32_t (*wasmip_mqtt_inflight_fn)(void);
#define WASMIP_MQTT_IDLE         0
#define WASMIP_MQTT_CONNECTING   1 /* TCP handshake */
#define WASMIP_MQTT_WAIT_CONNACK 2
#define WASMIP_MQTT_CONNECTED    3
#define WASMIP_MQTT_BACKOFF      4 /* waiting to reconnect */
/* mqtt_event(out) -> 1 with { u32 type, u32 id, i32 code } at out, or 0. Up to
 * WASMIP_MQTT_EVENTS wait; beyond, the oldest are lost (counter mqtt_events_lost). */
typedef int32_t (*wasmip_mqtt_event_fn)(uint32_t out);
#define WASMIP_MQTT_EV_CONNECTED 1u /* code: session present */
#define WASMIP_MQTT_EV_CLOSED    2u /* code: 0 after mqtt_disconnect, else WASMIP_E* */
#define WASMIP_MQTT_EV_PUBLISHED 3u /* id: PUBACK / PUBCOMP came */
#define WASMIP_MQTT_EV_SUBACK    4u /* id; code: granted QoS, or 0x80 refused */
#define WASMIP_MQTT_EV_UNSUBACK  5u /* id */
/* mqtt_message(out) -> 1 with { u32 topic, topic_len, payload, payload_len, flags } at out, or 0.
 * flags: qos | 4 retain | 8 dup. The message stays in the client's receive buffer (nothing more
 * is read) until mqtt_message_done() -> 0 | EINVAL. */
typedef int32_t (*wasmip_mqtt_message_fn)(uint32_t out);
typedef int32_t (*wasmip_mqtt_message_done_fn)(void);

#define WASMIP_MQTT_MSG_MAX     256u /* largest PUBLISH sent, whole packet */
#define WASMIP_MQTT_RX_BUF      512u /* largest packet received whole; longer PUBLISH: acked, dropped */
#define WASMIP_MQTT_INFLIGHT    4u
#define WASMIP_MQTT_CONNECT_MAX 192u
#define WASMIP_MQTT_EVENTS      8u

/* ------------------------------------------------------------------------------------------
 * SNTP client (RFC 4330, RFC 5905 client mode): the wall clock. Servers are configured
 * (sntp_set_servers) or come from the DHCP lease (option 42); configured ones take precedence.
 * poll() asks one server at a time (next one after WASMIP_SNTP_TIMEOUT_MS), a new random port
 * and a random nonce in the low 16 bits of the transmit timestamp each time; each sample steps
 * the clock and raises WASMIP_NET_EV_TIME. Poll interval 64 s doubling to 1024 s; no reply:
 * 15 s doubling to 1024 s; kiss-o'-death RATE doubles the interval, DENY/RSTR retire the server.
 * Replies from elsewhere, short, not mode 4, with another origin timestamp, or unsynchronised
 * are dropped and counted (sntp_*). Leave it out with --use WASMIP_NO_SNTP=1 (ENOSYS below).
 * ------------------------------------------------------------------------------------------ */
/* sntp_set_servers(a, b) -> 0: the servers, in order (0 = none); (0, 0) goes back to DHCP's.
 * sntp_server(i) -> server i (0..1) in use, 0 if none. sntp_synced() -> 1 once a sample was taken. */
typedef int32_t (*wasmip_sntp_set_servers_fn)(uint32_t a, uint32_t b);
typedef uint32_t (*wasmip_sntp_server_fn)(uint32_t i);
typedef uint32_t (*wasmip_sntp_synced_fn)(void);
/* sntp_time(out_ptr) -> 0 | EWOULDBLOCK (no sync yet: the clock reads 1970 + uptime): writes two
 * u32 at out_ptr, Unix seconds and the binary fraction of the second (fraction / 2^32 s). The clock
 * runs on now_ms() between samples (its wrap is harmless); seconds are valid until 2106. */
typedef int32_t (*wasmip_sntp_time_fn)(uint32_t out_ptr);
/* sntp_sample(out_ptr) -> 0 | EWOULDBLOCK (no sample yet): writes five u32 at out_ptr about the
 * last sample: the offset applied to the clock in microseconds (int64_t: low word, high word),
 * the round-trip delay in microseconds, the server's address, its stratum. */
typedef int32_t (*wasmip_sntp_sample_fn)(uint32_t out_ptr);

#define WASMIP_SNTP_TIMEOUT_MS 3000u

/* ------------------------------------------------------------------------------------------
 * mDNS responder and DNS-SD (RFC 6762, RFC 6763; docs/mdns.md). Only in an image built with
 * --use WASMIP_MULTICAST=1 --use WASMIP_MDNS=1 (ENOSYS, or 0, otherwise). Idle until mdns_start;
 * then poll() probes the name (3 queries, 250 ms apart), announces it (twice, 1 s apart) and
 * answers for it on 224.0.0.251:5353, renaming to "name-2", "name-3"... on a conflict. It uses one
 * UDP socket (port 5353) and one multicast group. Names and TXT go through io_buffer(). With it,
 * dns_resolve (dns_resolve6) of a name under ".local" sends one-shot mDNS queries instead of
 * asking a server (to ff02::fb as well in an image with IPv6). */
/* mdns_start(name_ptr, len) -> 0 | EINVAL (not a host label) | ENOBUFS (no socket or group);
 * len 0: the build's default name (MDNS_HOSTNAME and the MAC's last three bytes in hex). */
typedef int32_t (*wasmip_mdns_start_fn)(uint32_t name_ptr, uint32_t len);
/* mdns_stop() -> 0 | EINVAL: goodbyes (TTL 0) for every record, then the group is left. */
typedef int32_t (*wasmip_mdns_stop_fn)(void);
/* mdns_state() -> 0 idle, 1 waiting for an address or the link, 2 probing, 3 announcing, 4 running. */
typedef uint32_t (*wasmip_mdns_state_fn)(void);
/* mdns_conflicts() -> name conflicts since mdns_start. */
typedef uint32_t (*wasmip_mdns_conflicts_fn)(void);
/* mdns_hostname(out_ptr) -> length of the name in use, dotted ("name-2.local"), written at out_ptr. */
typedef uint32_t (*wasmip_mdns_hostname_fn)(uint32_t out_ptr);
/* mdns_add_service(inst, inst_len, type, type_len, port, txt, txt_len) -> handle | EINVAL | ENOBUFS:
 * type "_http._tcp" (or _udp); txt in wire form (length-prefixed strings; empty: one 0 byte is
 * sent); inst_len 0: the instance is named as the host. At most MDNS_SERVICES at once. */
typedef int32_t (*wasmip_mdns_add_service_fn)(uint32_t inst, uint32_t inst_len, uint32_t type, uint32_t type_len,
                                              uint32_t port, uint32_t txt, uint32_t txt_len);
/* mdns_remove_service(handle) -> 0 | EINVAL: goodbyes for the service's records. */
typedef int32_t (*wasmip_mdns_remove_service_fn)(int32_t handle);
/* mdns_service_name(handle, out_ptr) -> length of "inst._http._tcp.local" written at out_ptr, 0: none. */
typedef uint32_t (*wasmip_mdns_service_name_fn)(int32_t handle, uint32_t out_ptr);

/* ------------------------------------------------------------------------------------------
 * DHCPv4 client (RFC 2131/2132). Boot with init(mac_hi, mac_lo, 0, 0, 0), then dhcp_start; poll()
 * runs it (DISCOVER/REQUEST retransmitted after 4, 8, ... 64 s +-1 s; renewal at T1 unicast,
 * rebinding at T2 broadcast; at expiry the address is dropped and discovery restarts). It uses
 * one UDP socket (port 68) while running.
 * ------------------------------------------------------------------------------------------ */
/* dhcp_start(host_name_ptr, len) -> 0 | EINVAL (already running) | ENOBUFS / EADDRINUSE (no UDP
 * socket or port 68 taken). The host name (option 12, at most 63 bytes) may be empty (len 0). */
typedef int32_t (*wasmip_dhcp_start_fn)(uint32_t host_name_ptr, uint32_t len);
/* dhcp_release() -> 0 | EINVAL (not running): DHCPRELEASE to the server if leased, then the client
 * stops and the address is dropped (once the RELEASE has left: dhcp_state() turns STOPPED). */
typedef int32_t (*wasmip_dhcp_release_fn)(void);
/* dhcp_state() -> WASMIP_DHCP_*; dhcp_address(), dhcp_server(), dhcp_router() -> u32 (0 none);
 * dhcp_lease_remaining() -> seconds (0xffffffff infinite, 0 none); dhcp_dns(i), i 0..2 -> u32. */
typedef uint32_t (*wasmip_dhcp_info_fn)(void);
typedef uint32_t (*wasmip_dhcp_dns_fn)(uint32_t i);

#define WASMIP_DHCP_STOPPED    0u
#define WASMIP_DHCP_SELECTING  2u
#define WASMIP_DHCP_REQUESTING 3u
#define WASMIP_DHCP_BOUND      4u
#define WASMIP_DHCP_RENEWING   5u
#define WASMIP_DHCP_REBINDING  6u
#define WASMIP_DHCP_RELEASING  7u
#define WASMIP_DHCP_REBOOTING  8u /* INIT-REBOOT after set_link(1): confirming the lease's address */

/* ------------------------------------------------------------------------------------------
 * Error codes (shared with the socket API).
 * ------------------------------------------------------------------------------------------ */
#define WASMIP_OK            0
#define WASMIP_EINVAL       (-1)  /* invalid argument or configuration */
#define WASMIP_ENOBUFS      (-2)  /* no buffer space: a preallocated pool is full */
#define WASMIP_EWOULDBLOCK  (-3)  /* try again later */
#define WASMIP_ENOTCONN     (-4)  /* not connected */
#define WASMIP_ECONNREFUSED (-5)  /* connection refused (RST to our SYN) */
#define WASMIP_ECONNRESET   (-6)  /* connection reset by peer */
#define WASMIP_ETIMEDOUT    (-7)  /* retransmissions or keep-alive gave up */
#define WASMIP_EADDRINUSE   (-8)  /* address (port) in use */
#define WASMIP_EHOSTUNREACH (-9)  /* no route, or ARP gave up */
#define WASMIP_EMSGSIZE     (-10) /* larger than the MTU allows */
#define WASMIP_ENXDOMAIN    (-11) /* DNS: the name does not exist (NXDOMAIN) */
#define WASMIP_ESERVFAIL    (-12) /* DNS: every server failed (SERVFAIL, REFUSED, ...) or a CNAME loop */
#define WASMIP_ETRUNCATED   (-13) /* DNS: the reply was truncated (TC); no TCP fallback */
#define WASMIP_ENODATA      (-14) /* DNS: the name exists but has no A record */
#define WASMIP_ENOSYS       (-15) /* the feature is not in this build (config.ts FEATURE_*) */

/* Sizes fixed at build time (assembly/config.ts). */
#define WASMIP_FRAME_MAX          1514u
#define WASMIP_POLL_MAX_SLEEP_MS  1000u

#ifdef __cplusplus
}
#endif
#endif /* WASMIP_H */
