// wasmip configuration: every knob in one place (like lwIP's opt.h).
// All values are compile-time constants: buffers are sized from them in static memory, so the core
// never allocates and linear memory never grows. Change a value and rebuild.

// Sizing knobs marked "(--use)" may also be set from the asc command line, like -D for lwIP's
// opt.h: `asc ... --use WASMIP_TCP_RCV_BUF=65535` (a build with more memory needs more pages).

// ---- Features ---------------------------------------------------------------------------------
// What the image contains. Each is on unless the build leaves it out with `asc ... --use
// WASMIP_NO_<NAME>=1`; the exports of a left-out feature stay and return ENOSYS (or 0), so a board
// links against any build. DHCP and DNS need UDP.
// @ts-ignore: isDefined of a --use constant
export const FEATURE_TCP: bool = !isDefined(WASMIP_NO_TCP);
// @ts-ignore: isDefined of a --use constant
export const FEATURE_UDP: bool = !isDefined(WASMIP_NO_UDP);
// @ts-ignore: isDefined of a --use constant
export const FEATURE_DHCP: bool = FEATURE_UDP && !isDefined(WASMIP_NO_DHCP);
// @ts-ignore: isDefined of a --use constant
export const FEATURE_DNS: bool = FEATURE_UDP && !isDefined(WASMIP_NO_DNS);
/** The SNTP client (services/sntp.ts): the wall clock from servers set by the app or from DHCP
 *  option 42. Idle (no traffic, nothing armed) until it has a server. */
// @ts-ignore: isDefined of a --use constant
export const FEATURE_SNTP: bool = FEATURE_UDP && !isDefined(WASMIP_NO_SNTP);
/** ICMP echo (answering pings, the ping client) and ICMP errors (port unreachable for UDP, errors
 *  reported to UDP sockets). Off: ICMP is dropped as ip_unknown_protocol. */
// @ts-ignore: isDefined of a --use constant
export const FEATURE_ICMP: bool = !isDefined(WASMIP_NO_ICMP);
/** The loopback interface: datagrams to 127.0.0.0/8 and to our own address are delivered inside
 *  the stack (by poll()), never to the PHY. Off: they are refused (EHOSTUNREACH, ip_no_route). */
// @ts-ignore: isDefined of a --use constant
export const FEATURE_LOOPBACK: bool = !isDefined(WASMIP_NO_LOOPBACK);
/** IPv4 multicast (iface/igmp.ts): UDP sockets join groups (IGMPv3 reports, v1/v2 queriers
 *  understood), send to groups with a TTL, receive what was sent to a joined group. OFF unless the
 *  build says `--use WASMIP_MULTICAST=1` (like lwIP's LWIP_IGMP): it costs about 3.2 KB of code and
 *  450 bytes of static memory, more than the one-page images have to spare. Off: frames to multicast
 *  MACs are dropped (eth_not_for_us) and udp_join returns ENOSYS. */
// @ts-ignore: isDefined of a --use constant
export const FEATURE_MULTICAST: bool = FEATURE_UDP && isDefined(WASMIP_MULTICAST);
/** The MQTT 3.1.1 client (services/mqtt.ts). Off unless built with `--use WASMIP_MQTT=1`: its
 *  buffers (about 2 KiB at the sizes below) would take the default images past one page of
 *  linear memory. Needs TCP. */
// @ts-ignore: isDefined of a --use constant
export const FEATURE_MQTT: bool = FEATURE_TCP && isDefined(WASMIP_MQTT);
/** The mDNS responder and DNS-SD (services/mdns.ts, RFC 6762 / RFC 6763) and `.local` names in the
 *  resolver (services/dns.ts). Off unless built with `--use WASMIP_MDNS=1`, which needs
 *  WASMIP_MULTICAST=1 (224.0.0.251) too. */
// @ts-ignore: isDefined of a --use constant
export const FEATURE_MDNS: bool = FEATURE_MULTICAST && isDefined(WASMIP_MDNS);
// @ts-ignore: isDefined of a --use constant
if (isDefined(WASMIP_MDNS) && !FEATURE_MULTICAST) ERROR("WASMIP_MDNS=1 needs WASMIP_MULTICAST=1 (and UDP)");

// ---- Link ----------------------------------------------------------------------------------
/** IP MTU of the Ethernet link in bytes (RFC 894). We never send a larger IP packet. */
export const MTU: u32 = 1500;
/** Largest Ethernet II frame we send or accept, without FCS: header + MTU. */
export const FRAME_MAX: u32 = 14 + MTU;
/** Frames shorter than this are zero-padded on transmit (Ethernet minimum without FCS). */
export const FRAME_MIN: u32 = 60;

// ---- ARP (RFC 826) ---------------------------------------------------------------------------
/** Neighbour cache entries. Full cache: the oldest pending entry is replaced, else the resolved
 *  entry used least recently. */
export const ARP_CACHE_SIZE: i32 = 16;
/** Entries resolving at once at most: beyond, a new one replaces the oldest pending one (its held
 *  frames dropped), so spoofed sources (a SYN flood from on-link addresses) cannot fill the cache
 *  and real peers' requests still find room (Linux bounds unresolved entries by gc_thresh3). */
export const ARP_PENDING_MAX: i32 = ARP_CACHE_SIZE / 4;
/** How long a resolved entry is trusted before it must be resolved again (lwIP uses 5 min). */
export const ARP_ENTRY_TTL_MS: u32 = 300_000;
/** Rate limit: at most one request per neighbour per interval (RFC 1122 §2.3.2.1: at most 1/s). */
export const ARP_REQUEST_INTERVAL_MS: u32 = 1000;
/** Unanswered requests before giving up on a neighbour; its queued frames are dropped and counted. */
export const ARP_MAX_REQUESTS: u32 = 3;
/** Bytes for frames held while their neighbour resolves, across all neighbours: each takes its
 *  length (at least 60) plus 6, rounded to 4. 1536 holds one full-sized frame or a score of
 *  small ones (a SYN, a DNS query); TCP resends what did not fit. Frames that do not fit are dropped
 *  (ENOBUFS) and counted (arp_queue_drops). IPv6's neighbours (ND) and the loopback share it. */
export const ARP_PENDING_BYTES: u32 = 1536;
/** Frames held per neighbour at most; more are dropped (ENOBUFS) and counted. The same pool holds
 *  loopback datagrams until poll() delivers them (any number, as bytes allow). */
export const ARP_PENDING_PER_NEIGHBOUR: i32 = 2;
/** An entry used in the last this many ms of its life is re-confirmed by a unicast request first
 *  (RFC 1122 §2.3.2.1), so a busy neighbour is never unresolved (lwIP asks 30 s before expiry). */
export const ARP_REFRESH_MS: u32 = 30_000;

// ---- IPv4 (RFC 791, RFC 1122) ----------------------------------------------------------------
/** TTL of the datagrams we originate. */
export const IP_DEFAULT_TTL: u8 = 64;
// Fragments are not reassembled: every fragment (MF set or offset != 0) is dropped and counted as
// ip_fragment_dropped. We never fragment either: a datagram larger than MTU is refused (EMSGSIZE).

// ---- Loopback (RFC 1122 §3.2.1.3) -----------------------------------------------------------
/** Loopback datagrams poll() delivers at most per call; more wait for the next poll, which it then
 *  asks for at once (returns 0). Bounds the work of two apps that answer each other forever. */
export const LOOPBACK_POLL_MAX: u32 = 256;

// ---- IPv4 multicast (IGMP: RFC 3376, RFC 2236) ------------------------------------------------
/** Groups the interface can be in at once, every socket's together (each socket may join any of
 *  them; lwIP's MEMP_NUM_IGMP_GROUP). A join beyond it is refused with ENOBUFS. */
export const MCAST_GROUPS: i32 = 4; // at most 16 (a socket's groups are a u16 mask)
/** Reports sent for a join (RFC 3376 §8.1, the Robustness Variable). */
export const IGMP_ROBUSTNESS: u32 = 2;
/** The join's repeated reports go out at random within this (RFC 3376 §8.11: 1 s). */
export const IGMP_UNSOLICITED_MS: u32 = 1000;
/** How long a v1/v2 query keeps the interface reporting in that version (RFC 3376 §8.12:
 *  Robustness × 125 s query interval + 10 s response interval). */
export const IGMP_OLDER_QUERIER_MS: u32 = 260000;
/** The TTL of multicast datagrams a socket sends until it sets another (RFC 1112 §6.1: 1, this link). */
export const MCAST_DEFAULT_TTL: u32 = 1;

// ---- mDNS responder and DNS-SD (RFC 6762, RFC 6763; FEATURE_MDNS) ------------------------------
/** The host label when the app gives none: this, '-', then the MAC's last three bytes in hex
 *  ("wasmip-a1b2c3.local"), so boards of one firmware do not all claim one name (ESP-IDF's
 *  default is "espressif"; lwIP takes the netif's hostname). */
// @ts-ignore: decorator (@lazy: compiled where used, so no static string in a build without mDNS)
@lazy export const MDNS_HOSTNAME: string = "wasmip";
/** Services registered at once (lwIP's MDNS_MAX_SERVICES): each about 260 bytes; at most 7
 *  (a set of records is a 32-bit mask). */
export const MDNS_SERVICES: i32 = 2;
/** Largest TXT record of a service, in wire form (lwIP's MDNS_TXT_RDATA_SIZE). */
export const MDNS_TXT_MAX: u32 = 64;

// ---- ICMP (RFC 792) --------------------------------------------------------------------------
/** Sums this long or longer go to phy.checksum when the board offers it (set_offload): under an
 *  interpreter a native call costs about as much as summing this many bytes in wasm. */
export const CHECKSUM_NATIVE_MIN: u32 = 64;
/** Answer echo requests sent to a broadcast address (RFC 1122 §3.2.2.6 allows ignoring them). */
export const ICMP_ECHO_BROADCAST: bool = false;
/** Echo requests this board sent whose replies it remembers (ping_rtt), by sequence modulo this. */
export const PING_SLOTS: i32 = 16;

// ---- Timers ----------------------------------------------------------------------------------
/** poll() never asks to sleep longer than this, even with no timer pending. */
export const POLL_MAX_SLEEP_MS: u32 = 1000;

// ---- Logging ---------------------------------------------------------------------------------
/** Compile the phy.log sink in. Off (--use WASMIP_NO_LOG=1) removes every log call and string. */
// @ts-ignore: isDefined of a --use constant
export const LOG_ENABLED: bool = !isDefined(WASMIP_NO_LOG);
/** Length of one log line; longer lines are cut (the longest format, a DHCP lease, prints about
 *  95 characters; a DNS name in a line may be cut). */
export const LOG_LINE_MAX: i32 = 128;

// ---- TCP (RFC 9293) --------------------------------------------------------------------------
/** Connection blocks: listeners, connections and sockets not yet connected (~190 bytes each). (--use) */
// @ts-ignore: isDefined of a --use constant
export const TCP_MAX_SOCKETS: i32 = isDefined(WASMIP_TCP_MAX_SOCKETS) ? WASMIP_TCP_MAX_SOCKETS : 8;
if (TCP_MAX_SOCKETS < 1 || TCP_MAX_SOCKETS > 64) ERROR("WASMIP_TCP_MAX_SOCKETS must be 1 to 64 (the timer scan keeps one bit per block)");
/** Connections with buffers at once: each takes a send and a receive ring of the sizes below
 *  (11.7 KiB at the defaults) from SYN sent or received until its block is freed. A SYN arriving
 *  when all are taken is dropped (tcp_no_buffers); connect() returns ENOBUFS. (--use) */
// @ts-ignore: isDefined of a --use constant
export const TCP_MAX_CONNECTIONS: i32 = isDefined(WASMIP_TCP_MAX_CONNECTIONS) ? WASMIP_TCP_MAX_CONNECTIONS : 4;
/** Our MSS: the MTU less IPv4 and TCP headers (RFC 9293 §3.7.1). Sent on SYN and SYN-ACK. */
export const TCP_MSS: u32 = MTU - 40;
/** MSS assumed when the peer sends none (RFC 9293 §3.7.1). */
export const TCP_DEFAULT_MSS: u32 = 536;
/** Send ring per connection: unacknowledged plus unsent bytes. (--use) */
// @ts-ignore: isDefined of a --use constant
export const TCP_SND_BUF: u32 = isDefined(WASMIP_TCP_SND_BUF) ? WASMIP_TCP_SND_BUF : 4 * TCP_MSS;
/** Receive ring per connection: the most we advertise (at most 65535: our window scale is 0);
 *  out-of-order data is kept inside it. (--use) */
// @ts-ignore: isDefined of a --use constant
export const TCP_RCV_BUF: u32 = isDefined(WASMIP_TCP_RCV_BUF) ? WASMIP_TCP_RCV_BUF : 4 * TCP_MSS;
/** Largest listen() backlog: SYN-RECEIVED plus not-yet-accepted connections per listener. */
export const TCP_BACKLOG_MAX: u32 = 8;
/** SYN cookies (RFC 4987 §3.6) when a SYN flood fills the backlog: the policy is described in
 *  sockets/tcp/syncookie.ts. Off (--use WASMIP_NO_SYN_COOKIES=1): a full backlog drops SYNs,
 *  whatever fills it. */
// @ts-ignore: isDefined of a --use constant
export const TCP_SYN_COOKIES: bool = !isDefined(WASMIP_NO_SYN_COOKIES);
/** Compact TIME-WAIT records (the connection block is freed). When all are in use the oldest is
 *  recycled early and counted (tcp_time_wait_recycled). */
export const TCP_TIME_WAIT_SLOTS: i32 = 8;
/** Maximum segment lifetime; TIME-WAIT lasts 2 x MSL (RFC 9293 §3.4.2 suggests 2 min; lwIP 60 s). */
export const TCP_MSL_MS: u32 = 30_000;
/** A FIN-WAIT-2 whose application has closed gives up after this (the peer never sent FIN). */
export const TCP_FIN_WAIT_2_MS: u32 = 60_000;
/** RTO bounds and initial value (RFC 6298 §2: initial 1 s; we allow a 200 ms minimum like Linux). */
export const TCP_RTO_INITIAL_MS: u32 = 1000;
export const TCP_RTO_MIN_MS: u32 = 200;
export const TCP_RTO_MAX_MS: u32 = 60_000;
/** Retransmissions of a data segment (or FIN) before the connection fails with ETIMEDOUT: with
 *  backoff to TCP_RTO_MAX_MS about 6 minutes (Linux allows 15, about 15 minutes). At 10% loss each
 *  way, 8 gave up in roughly one 16 MiB transfer in a hundred. */
export const TCP_MAX_RETRIES: u32 = 12;
/** Retransmissions of one data segment from which each further timeout tells IP the path may be
 *  broken (RFC 1122 §4.2.3.5 threshold R1): ARP resolves the next hop again (§2.3.2.1 (4),
 *  higher-layer advice), so a neighbour's MAC learnt wrong (or changed) costs seconds, not
 *  ARP_ENTRY_TTL_MS. */
export const TCP_ADVICE_RETRIES: u32 = 3;
/** Retransmissions of SYN / SYN-ACK before connect() fails with ETIMEDOUT. */
export const TCP_SYN_RETRIES: u32 = 5;
/** Delayed ACK timeout (RFC 9293 §3.8.6.3: under 500 ms); every second full segment is ACKed at once.
 *  Half the minimum RTO, so a peer of ours never times out waiting for the ACK of a last, odd segment. */
export const TCP_DELACK_MS: u32 = 100;
/** Persist (zero window probe) interval bounds; the interval doubles while the window stays shut. */
export const TCP_PERSIST_MIN_MS: u32 = 500;
/** SACK (RFC 2018): offered in our SYNs and taken when the peer's SYN offers it; then the receiver
 *  reports its out-of-order ranges and the sender recovers by RFC 6675 with a scoreboard of 4
 *  ranges (the assembler's structure, 40 bytes per connection) and the tail loss probe (RFC 8985
 *  §7) runs. lwIP: LWIP_TCP_SACK_OUT (receiver side only). Off: `--use WASMIP_NO_SACK=1`. */
// @ts-ignore: isDefined of a --use constant
export const TCP_SACK: bool = !isDefined(WASMIP_NO_SACK);
/** TCP timestamps (RFC 7323 §3–5): offered in our SYNs and used when the peer's SYN carried them:
 *  every segment but a RST carries TSval (our ms clock) and TSecr, every ACK of new data gives an
 *  RTT sample (retransmissions included, Karn's rule is not needed), and PAWS drops old segments.
 *  12 bytes of option space per segment (so at most 3 SACK blocks) and 4 bytes per connection
 *  block. Off by default (the one-page images have no room to spare): `--use
 *  WASMIP_TCP_TIMESTAMPS=1`. Linux: net.ipv4.tcp_timestamps; lwIP: LWIP_TCP_TIMESTAMPS. */
// @ts-ignore: isDefined of a --use constant
export const TCP_TIMESTAMPS: bool = isDefined(WASMIP_TCP_TIMESTAMPS);
/** The tail loss probe's allowance for the peer's delayed ACK when one segment is in flight
 *  (RFC 8985 §7.2 WCDelAckT, 200 ms; Linux TCP_DELACK_MAX). */
export const TCP_TLP_MAX_ACK_DELAY_MS: u32 = 200;
export const TCP_PERSIST_MAX_MS: u32 = 60_000;
/** Keep-alive defaults (RFC 1122 §4.2.3.6): off unless enabled per socket. */
export const TCP_KEEPIDLE_MS: u32 = 7_200_000;
export const TCP_KEEPINTVL_MS: u32 = 75_000;
export const TCP_KEEPCNT: u32 = 9;
/** Challenge ACKs sent per second at most, across all connections (RFC 5961 §7). */
export const TCP_CHALLENGE_ACK_LIMIT: u32 = 10;
/** Ephemeral ports (RFC 6056 §2.1). */
export const TCP_EPHEMERAL_MIN: u32 = 49152;
export const TCP_EPHEMERAL_MAX: u32 = 65535;

// ---- UDP (RFC 768) ---------------------------------------------------------------------------
/** UDP sockets, the services' included: the DHCP client takes one while it runs, the resolver one
 *  per lookup in flight (~40 bytes each). */
export const UDP_MAX_SOCKETS: i32 = 6;
/** Application sockets with a receive queue at once; udpSocket() beyond them is ENOBUFS. The
 *  services need none: their datagrams are handled where they arrive. */
export const UDP_MAX_QUEUES: i32 = 2;
/** Receive queue per application socket in bytes: datagrams plus 8 bytes of bookkeeping each; at
 *  least one datagram of the largest size (MTU - 28). One that does not fit is dropped and
 *  counted (udp_queue_full). */
export const UDP_RCV_BUF: u32 = MTU - 28 + 8;
/** ICMP errors (port unreachable) we send per second at most (RFC 1812 §4.3.2.8 rate limiting). */
export const ICMP_ERROR_LIMIT: u32 = 10;

// ---- DNS resolver (RFC 1035) -----------------------------------------------------------------
/** Lookups in flight or holding an unread result (dnsResolve handles). Each takes a UDP socket
 *  while in flight and 2 x 256 bytes of names. */
export const DNS_MAX_QUERIES: i32 = 2;
/** Cached answers (name -> IPv4 address until the TTL runs out); DNS_CACHE_NAME_MAX + 16 bytes each. */
export const DNS_CACHE_SLOTS: i32 = 4;
/** Longest name the cache keeps, in wire form (a name of n characters takes n + 2); longer names
 *  are resolved every time. */
export const DNS_CACHE_NAME_MAX: u32 = 64;
/** TTLs longer than this (seconds) are cut to it; a TTL of 0 is not cached. */
export const DNS_CACHE_MAX_TTL_S: u32 = 3600;
/** First timeout of a query; it doubles after each pass over the servers (RFC 1035 §4.2.1). */
export const DNS_TIMEOUT_MS: u32 = 1000;
/** Passes over the servers before a lookup fails with ETIMEDOUT: with two servers 1+1+2+2+4+4 s. */
export const DNS_TRIES: u32 = 3;
/** CNAMEs followed per lookup, within one reply and across re-queries for the target. */
export const DNS_MAX_CNAME: u32 = 8;
/** Compression pointers followed in one name; each must also point before the previous one. */
export const DNS_MAX_POINTERS: u32 = 16;
/** Largest reply read (RFC 1035 §4.2.1: 512 over UDP; we send no EDNS0). */
export const DNS_MSG_MAX: u32 = 512;

// ---- DHCPv4 client (RFC 2131, RFC 2132) ------------------------------------------------------
/** Largest DHCP message we receive (and announce in option 57): the RFC 2131 minimum a client must
 *  accept, 576 bytes of IP datagram. A longer reply is cut by the socket and then fails to parse. */
export const DHCP_MSG_MAX: u32 = 576;
/** Retransmission of DISCOVER and REQUEST (RFC 2131 §4.1): 4 s, doubling to 64 s, each +-1 s. */
export const DHCP_RETRY_MIN_MS: u32 = 4000;
export const DHCP_RETRY_MAX_MS: u32 = 64000;
export const DHCP_RETRY_JITTER_MS: u32 = 1000;
/** REQUESTs sent in REQUESTING before starting over with a DISCOVER. */
export const DHCP_REQUEST_TRIES: u32 = 4;
/** REQUESTs sent in INIT-REBOOT (the link came back with a lease) before the client keeps the lease
 *  unconfirmed (RFC 2131 §3.2; lwIP's DHCP_REBOOT_REQUEST_TRIES is 2): 4 s + 8 s. */
export const DHCP_REBOOT_TRIES: u32 = 2;
/** RENEWING/REBINDING retransmit after half the time left until T2/expiry, at least this (§4.4.5). */
export const DHCP_RENEW_RETRY_MIN_MS: u32 = 60000;
/** After DHCPRELEASE, how long we keep the address for the RELEASE to leave (while ARP resolves the
 *  server); the address is dropped as soon as nothing is queued for the server. */
export const DHCP_RELEASE_LINGER_MS: u32 = 2000;

// ---- MQTT 3.1.1 client (services/mqtt.ts) -----------------------------------------------------
/** Largest PUBLISH we send, the whole packet: topic + payload + 7 bytes at QoS 1/2 (5 at QoS 0).
 *  Larger is EMSGSIZE. Each in-flight slot keeps one such packet for retransmission. (--use) */
// @ts-ignore: isDefined of a --use constant
export const MQTT_MSG_MAX: u32 = isDefined(WASMIP_MQTT_MSG_MAX) ? WASMIP_MQTT_MSG_MAX : 256;
/** QoS 1 and 2 messages kept until acknowledged (PUBACK / PUBCOMP): the in-flight window and the
 *  queue of those not yet sent, in one. Full: mqttPublish at QoS > 0 is ENOBUFS (esp-mqtt's
 *  outbox, lwIP's MQTT_REQ_MAX_IN_FLIGHT). (--use) */
// @ts-ignore: isDefined of a --use constant
export const MQTT_INFLIGHT: i32 = isDefined(WASMIP_MQTT_INFLIGHT) ? WASMIP_MQTT_INFLIGHT : 4;
/** Largest packet received whole (lwIP's MQTT_VAR_HEADER_BUFFER_LEN plays this part). A longer
 *  PUBLISH is acknowledged and dropped (mqtt_too_long); any other is malformed. (--use) */
// @ts-ignore: isDefined of a --use constant
export const MQTT_RX_BUF: u32 = isDefined(WASMIP_MQTT_RX_BUF) ? WASMIP_MQTT_RX_BUF : 512;
/** The CONNECT packet, kept for reconnecting: client id, will topic and message, username and
 *  password together (+ 20 bytes). Longer is EMSGSIZE. */
export const MQTT_CONNECT_MAX: u32 = 192;
/** Incoming QoS 2 packet ids between PUBREC and PUBREL (§4.3.3): a duplicate PUBLISH with one of
 *  these is acknowledged, not delivered again. Full: the connection is closed (the server re-sends). */
export const MQTT_QOS2_RX_MAX: i32 = 8;
/** Events kept for a board that polls them (mqtt_event); beyond, the oldest are lost (mqtt_events_lost). */
export const MQTT_EVENTS: i32 = 8;
/** TCP connect plus CONNACK must take less than this, or the attempt counts as failed. */
export const MQTT_CONNECT_TIMEOUT_MS: u32 = 10_000;
/** Reconnect backoff after the broker went away or refused with "server unavailable": from the
 *  minimum, doubling to the maximum, plus up to a quarter of random jitter; reset by a CONNACK. */
export const MQTT_RECONNECT_MIN_MS: u32 = 1000;
export const MQTT_RECONNECT_MAX_MS: u32 = 60_000;
// ---- SNTP client (RFC 4330, RFC 5905 client mode) --------------------------------------------
/** Poll interval after the first sample; it doubles with each sample up to SNTP_POLL_MAX_MS
 *  (RFC 5905 minpoll 6 = 64 s; RFC 4330 §10 forbids less than 15 s in steady state). */
export const SNTP_POLL_MIN_MS: u32 = 64_000;
/** Longest poll interval (RFC 5905 maxpoll 10 = 1024 s; lwIP's SNTP_UPDATE_DELAY is 1 h). The
 *  clock is not disciplined between samples: a 50 ppm crystal drifts 51 ms in 1024 s. */
export const SNTP_POLL_MAX_MS: u32 = 1_024_000;
/** How long a request waits for its reply before the next server is asked (lwIP: 15 s). */
export const SNTP_TIMEOUT_MS: u32 = 3000;
/** The wait after a round in which no server answered; it doubles per such round up to
 *  SNTP_POLL_MAX_MS (RFC 4330 §10 backoff). At least 15 s: no server is asked more often. */
export const SNTP_RETRY_MS: u32 = 15_000;

// ---- IPv6 (RFC 8200, RFC 4861 ND, RFC 4862 SLAAC, RFC 3810 MLDv2, RFC 4443 ICMPv6) --------------
// The interface layer (iface/ipv6.ts, iface/nd.ts) and TCP and UDP over it (docs/ipv6.md).
/** IPv6 on the Ethernet interface. OFF unless the build says `--use WASMIP_IPV6=1` (lwIP's
 *  LWIP_IPV6): a link-local address, SLAAC, ND, MLDv2, ICMPv6 echo, and TCP and UDP sockets over
 *  IPv6 (32 bytes of addresses per TCP block, TIME-WAIT record and UDP socket). Off: every IPv6
 *  frame is dropped as eth_ipv6_ignored, the ipv6_* and *6 exports return ENOSYS (or 0), and
 *  neither its code nor its static memory (counter names included) is in the image. */
// @ts-ignore: isDefined of a --use constant
export const FEATURE_IPV6: bool = isDefined(WASMIP_IPV6);
/** Addresses of the interface: the link-local one and IPV6_ADDRS - 1 SLAAC addresses (lwIP's
 *  LWIP_IPV6_NUM_ADDRESSES is 3). An RA prefix beyond them is not configured. */
export const IPV6_ADDRS: i32 = 3;
/** Neighbor cache entries (RFC 4861 §5.1; lwIP's LWIP_ND6_NUM_NEIGHBORS is 10). Replacement is
 *  described in iface/nd.ts: an entry that carried traffic is never taken for a stranger's NS. */
export const ND_CACHE_SIZE: i32 = 8;
/** Entries resolving (INCOMPLETE) at once at most, like ARP_PENDING_MAX. */
export const ND_INCOMPLETE_MAX: i32 = 3;
/** Packets held per INCOMPLETE entry at most (lwIP's MEMP_NUM_ND6_QUEUE is shared; 2 like ARP), in
 *  ARP's pool (ARP_PENDING_BYTES, no pool of its own); what does not fit is dropped and counted
 *  (nd_queue_drops). */
export const ND_QUEUE_PER_NEIGHBOUR: i32 = 2;
/** Default routers and on-link prefixes remembered from RAs (RFC 4861 §5.1; lwIP: 3 and 5). */
export const ND_ROUTERS: i32 = 2;
export const ND_PREFIXES: i32 = 3;
/** RDNSS servers kept (RFC 8106 §5.3.1 suggests at least 3; the resolver asks 2). */
export const ND_RDNSS: i32 = 2;
/** RFC 4861 §10 protocol constants (the defaults a router's RA may change at run time). */
export const ND_REACHABLE_TIME_MS: u32 = 30_000;
export const ND_RETRANS_TIMER_MS: u32 = 1000;
export const ND_MAX_MULTICAST_SOLICIT: u32 = 3;
export const ND_MAX_UNICAST_SOLICIT: u32 = 3;
export const ND_DELAY_FIRST_PROBE_MS: u32 = 5000;
export const ND_MAX_RTR_SOLICITATIONS: u32 = 3;
export const ND_RTR_SOLICITATION_INTERVAL_MS: u32 = 4000;
/** Random delay before the first RS and the DAD probe (RFC 4861 §6.3.7, RFC 4862 §5.4.2: up to 1 s). */
export const ND_MAX_RTR_SOLICITATION_DELAY_MS: u32 = 1000;
/** DAD probes (RFC 4862 §5.1 DupAddrDetectTransmits). 0: no DAD, addresses are preferred at once. */
export const IPV6_DAD_TRANSMITS: u32 = 1;
/** Hop limit of the packets we originate until an RA's Cur Hop Limit says otherwise. */
export const IPV6_DEFAULT_HOP_LIMIT: u32 = 64;
/** Destinations whose path MTU a Packet Too Big lowered (RFC 8201 §5.2); the oldest is replaced.
 *  A lowered MTU is forgotten after IPV6_PMTU_TIMEOUT_MS (RFC 8201 §4: at least 5 min, 10 advised). */
export const IPV6_PMTU_SLOTS: i32 = 4;
export const IPV6_PMTU_TIMEOUT_MS: u32 = 600_000;
/** MLDv2 reports per change (RFC 3810 §9.1 Robustness Variable) and their spread (§9.11: 1 s). */
export const MLD_ROBUSTNESS: u32 = 2;
export const MLD_UNSOLICITED_MS: u32 = 1000;
