// Counters, like `netstat -s`. Every received frame ends in exactly one counter of kind "+"
// (delivered) or "-" (dropped, the name says why): input() returns the id it counted, so the sum
// of those counters always equals rx_frames. Kind "." counts everything else.
//
// The enum and NAMES list the same counters in the same order (a unit test checks both agree).

export const enum C {
  // events
  RX_FRAMES,
  TX_FRAMES,
  TX_BYTES,
  ARP_REQUESTS_SENT,
  ARP_REPLIES_SENT,
  ARP_GRATUITOUS_SENT,
  ARP_RESOLVED,
  ARP_EXPIRED,
  ARP_EVICTIONS,
  ARP_GAVE_UP,
  ARP_QUEUED,
  ARP_QUEUE_DROPS,
  ARP_INVALIDATED,
  IP_SENT,
  IP_NO_ROUTE,
  ICMP_ECHO_REQUESTS_SENT,
  // received frames: delivered
  ARP_REQUEST_ANSWERED,
  ARP_REPLY_ACCEPTED,
  ICMP_ECHO_ANSWERED,
  ICMP_ECHO_REPLY_RECEIVED,
  ICMP_ERROR_RECEIVED,
  // received frames: dropped
  ETH_TOO_SHORT,
  ETH_OVERSIZE,
  ETH_NOT_FOR_US,
  ETH_IPV6_IGNORED,
  ETH_UNKNOWN_TYPE,
  ARP_TRUNCATED,
  ARP_UNSUPPORTED,
  ARP_BAD_OP,
  ARP_BAD_SENDER,
  ARP_NOT_FOR_US,
  ARP_ADDRESS_CONFLICT,
  ARP_REPLY_UNSOLICITED,
  IP_TRUNCATED,
  IP_BAD_VERSION,
  IP_BAD_HEADER_LEN,
  IP_BAD_TOTAL_LEN,
  IP_BAD_CHECKSUM,
  IP_FRAGMENT_DROPPED,
  IP_BAD_SOURCE,
  IP_NOT_FOR_US,
  IP_UNKNOWN_PROTOCOL,
  ICMP_TRUNCATED,
  ICMP_BAD_CHECKSUM,
  ICMP_ECHO_BROADCAST_IGNORED,
  ICMP_ECHO_REPLY_FAILED,
  ICMP_ECHO_REPLY_UNMATCHED,
  ICMP_UNKNOWN_TYPE,
  // TCP
  TCP_SEGMENTS_SENT,
  TCP_RETRANSMITS,
  TCP_FAST_RETRANSMITS,
  TCP_TIMEOUTS,
  TCP_RST_SENT,
  TCP_CHALLENGE_ACKS_SENT,
  TCP_CHALLENGE_ACKS_LIMITED,
  TCP_ACTIVE_OPENS,
  TCP_PASSIVE_OPENS,
  TCP_RESETS_RECEIVED,
  TCP_TIME_WAIT_RECYCLED,
  TCP_OOO_SEGMENTS,
  TCP_OOO_DROPPED,
  TCP_WINDOW_PROBES,
  TCP_DELAYED_ACKS,
  TCP_KEEPALIVE_PROBES,
  TCP_KEEPALIVE_TIMEOUTS,
  TCP_CLOSE_UNREAD_RESETS,
  TCP_SYN_FLOODS,
  TCP_SYNCOOKIES_OK,
  TCP_HALF_OPEN_EVICTED,
  TCP_DELIVERED,
  TCP_TIME_WAIT,
  TCP_SYN_COOKIE,
  TCP_TRUNCATED,
  TCP_BAD_HEADER_LEN,
  TCP_BAD_CHECKSUM,
  TCP_BROADCAST,
  TCP_NO_SOCKET,
  TCP_LISTEN_DROP,
  TCP_BAD_ACK,
  TCP_BACKLOG_FULL,
  TCP_NO_BLOCK,
  TCP_RST_IGNORED,
  TCP_NO_ACK,
  TCP_OUT_OF_WINDOW,
  TCP_RST_CHALLENGED,
  TCP_SYN_CHALLENGED,
  TCP_ACK_CHALLENGED,
  TCP_BAD_ENDPOINT,
  // UDP
  UDP_DATAGRAMS_SENT,
  ICMP_PORT_UNREACHABLE_SENT,
  ICMP_ERRORS_LIMITED,
  ICMP_ERRORS_TO_SOCKETS,
  UDP_DELIVERED,
  UDP_TRUNCATED,
  UDP_BAD_LENGTH,
  UDP_BAD_CHECKSUM,
  UDP_NO_SOCKET,
  UDP_QUEUE_FULL,
  // DHCP client (events: the UDP layer counts the frame as delivered to the socket)
  DHCP_DISCOVERS_SENT,
  DHCP_REQUESTS_SENT,
  DHCP_RELEASES_SENT,
  DHCP_RETRANSMITS,
  DHCP_OFFERS,
  DHCP_ACKS,
  DHCP_NAKS,
  DHCP_LEASES,
  DHCP_RENEWALS,
  DHCP_REBINDS,
  DHCP_EXPIRED,
  DHCP_MALFORMED,
  DHCP_BAD_OP,
  DHCP_WRONG_XID,
  DHCP_WRONG_CHADDR,
  DHCP_WRONG_SERVER,
  DHCP_UNEXPECTED,
  DHCP_BAD_LEASE,
  // DNS resolver (events: the UDP layer counts the frame as delivered to the socket)
  DNS_QUERIES_SENT,
  DNS_RETRANSMITS,
  DNS_CACHE_HITS,
  DNS_REPLIES_ACCEPTED,
  DNS_BAD_SOURCE,
  DNS_BAD_ID,
  DNS_BAD_QUESTION,
  DNS_MALFORMED,
  DNS_TIMEOUTS,
  COUNT,
}

const NAMES = `
.rx_frames
.tx_frames
.tx_bytes
.arp_requests_sent
.arp_replies_sent
.arp_gratuitous_sent
.arp_resolved
.arp_expired
.arp_evictions
.arp_gave_up
.arp_queued
.arp_queue_drops
.arp_invalidated
.ip_sent
.ip_no_route
.icmp_echo_requests_sent
+arp_request_answered
+arp_reply_accepted
+icmp_echo_answered
+icmp_echo_reply_received
+icmp_error_received
-eth_too_short
-eth_oversize
-eth_not_for_us
-eth_ipv6_ignored
-eth_unknown_type
-arp_truncated
-arp_unsupported
-arp_bad_op
-arp_bad_sender
-arp_not_for_us
-arp_address_conflict
-arp_reply_unsolicited
-ip_truncated
-ip_bad_version
-ip_bad_header_len
-ip_bad_total_len
-ip_bad_checksum
-ip_fragment_dropped
-ip_bad_source
-ip_not_for_us
-ip_unknown_protocol
-icmp_truncated
-icmp_bad_checksum
-icmp_echo_broadcast_ignored
-icmp_echo_reply_failed
-icmp_echo_reply_unmatched
-icmp_unknown_type
.tcp_segments_sent
.tcp_retransmits
.tcp_fast_retransmits
.tcp_timeouts
.tcp_rst_sent
.tcp_challenge_acks_sent
.tcp_challenge_acks_limited
.tcp_active_opens
.tcp_passive_opens
.tcp_resets_received
.tcp_time_wait_recycled
.tcp_ooo_segments
.tcp_ooo_dropped
.tcp_window_probes
.tcp_delayed_acks
.tcp_keepalive_probes
.tcp_keepalive_timeouts
.tcp_close_unread_resets
.tcp_syn_floods
.tcp_syncookies_ok
.tcp_half_open_evicted
+tcp_delivered
+tcp_time_wait
+tcp_syn_cookie
-tcp_truncated
-tcp_bad_header_len
-tcp_bad_checksum
-tcp_broadcast
-tcp_no_socket
-tcp_listen_drop
-tcp_bad_ack
-tcp_backlog_full
-tcp_no_block
-tcp_rst_ignored
-tcp_no_ack
-tcp_out_of_window
-tcp_rst_challenged
-tcp_syn_challenged
-tcp_ack_challenged
-tcp_bad_endpoint
.udp_datagrams_sent
.icmp_port_unreachable_sent
.icmp_errors_limited
.icmp_errors_to_sockets
+udp_delivered
-udp_truncated
-udp_bad_length
-udp_bad_checksum
-udp_no_socket
-udp_queue_full
.dhcp_discovers_sent
.dhcp_requests_sent
.dhcp_releases_sent
.dhcp_retransmits
.dhcp_offers
.dhcp_acks
.dhcp_naks
.dhcp_leases
.dhcp_renewals
.dhcp_rebinds
.dhcp_expired
.dhcp_malformed
.dhcp_bad_op
.dhcp_wrong_xid
.dhcp_wrong_chaddr
.dhcp_wrong_server
.dhcp_unexpected
.dhcp_bad_lease
.dns_queries_sent
.dns_retransmits
.dns_cache_hits
.dns_replies_accepted
.dns_bad_source
.dns_bad_id
.dns_bad_question
.dns_malformed
.dns_timeouts
`;

export const KIND_RX_DELIVERED: u32 = 0;
export const KIND_RX_DROP: u32 = 1;
export const KIND_EVENT: u32 = 2;

const N: i32 = C.COUNT;
const values = memory.data(N * 4);
// ASCII names, NUL-terminated, built once by countersInit() for boards written in C.
const NAME_BYTES: i32 = 2560;
const nameText = memory.data(NAME_BYTES);
const nameOffset = memory.data(N * 2);
const kinds = memory.data(N);
let namesBuilt: i32 = 0;

// @ts-ignore: decorator
@inline export function count(id: C): void {
  const p = values + (<usize>id << 2);
  store<u32>(p, load<u32>(p) + 1);
}

// @ts-ignore: decorator
@inline export function countN(id: C, n: u32): void {
  const p = values + (<usize>id << 2);
  store<u32>(p, load<u32>(p) + n);
}

export function counterValue(id: u32): u32 {
  return id < <u32>N ? load<u32>(values + (<usize>id << 2)) : 0;
}

/** Parses NAMES into the ASCII table; returns how many names it found (must equal C.COUNT). */
export function countersInit(): i32 {
  memory.fill(values, 0, N * 4);
  if (namesBuilt) return namesBuilt;
  let at: i32 = 0;
  let id: i32 = 0;
  const n = NAMES.length;
  let i = 0;
  while (i < n) {
    const c = NAMES.charCodeAt(i);
    if (c == 10) { i++; continue; }
    // c is the kind prefix of one line
    const kind: u8 = c == 43 /* + */ ? <u8>KIND_RX_DELIVERED : c == 45 /* - */ ? <u8>KIND_RX_DROP : <u8>KIND_EVENT;
    i++;
    if (id < N) {
      store<u8>(kinds + id, kind);
      store<u16>(nameOffset + (<usize>id << 1), <u16>at);
    }
    while (i < n && NAMES.charCodeAt(i) != 10) {
      if (at < NAME_BYTES - 1) store<u8>(nameText + at++, <u8>NAMES.charCodeAt(i));
      i++;
    }
    if (at < NAME_BYTES) store<u8>(nameText + at++, 0);
    id++;
  }
  namesBuilt = id;
  return id;
}

export function counterNamePtr(id: u32): usize {
  if (id >= <u32>N) return nameText + NAME_BYTES - 1; // an empty string
  return nameText + <usize>load<u16>(nameOffset + (<usize>id << 1));
}

export function counterKind(id: u32): u32 {
  return id < <u32>N ? <u32>load<u8>(kinds + id) : KIND_EVENT;
}
