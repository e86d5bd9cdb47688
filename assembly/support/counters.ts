// Counters, like `netstat -s`. Every received frame ends in exactly one counter of kind "+"
// (delivered) or "-" (dropped, the name says why): input() returns the id it counted, so the sum
// of those counters always equals rx_frames. Kind "." counts everything else.
//
// The enum here and NAMES in counter_list.ts list the same counters in the same order, then each
// feature section (NAMES_MDNS, NAMES_IPV6) after C.COUNT. NAMES* are the source of the names a
// board reads: scripts/gen-counter-names.mjs turns them into ASCII bytes in counter_names.ts (and
// fails if they and the enum disagree); only tests use the strings themselves, so the image
// carries each name once, in ASCII, and a section's only with its feature.

import { FEATURE_IPV6, FEATURE_MDNS } from "../config";
import {
  COUNTER_IPV6_NAME_BYTES, COUNTER_MDNS_NAME_BYTES, COUNTER_NAME_BYTES, COUNTER_NAME_TEXT, COUNTER_PREFIX_TEXT,
  counterNamesIpv6, counterNamesMdns, counterPrefixesIpv6, counterWordsIpv6,
} from "./counter_names";

export const enum C {
  // events
  RX_FRAMES,
  TX_FRAMES,
  TX_BYTES,
  TX_LINK_DOWN,
  ETH_LINK_UPS,
  ETH_LINK_DOWNS,
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
  ARP_FLUSHED,
  IP_SENT,
  IP_NO_ROUTE,
  ICMP_ECHO_REQUESTS_SENT,
  IGMP_REPORTS_SENT,
  // received frames: delivered
  ARP_REQUEST_ANSWERED,
  ARP_REPLY_ACCEPTED,
  ICMP_ECHO_ANSWERED,
  ICMP_ECHO_REPLY_RECEIVED,
  ICMP_ERROR_RECEIVED,
  IGMP_RECEIVED,
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
  IP_MULTICAST_NOT_JOINED,
  IGMP_MALFORMED,
  IGMP_BAD_CHECKSUM,
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
  TCP_LIMITED_TRANSMITS,
  TCP_LOSS_PROBES,
  TCP_LOSS_PROBE_RECOVERIES,
  TCP_SACK_REJECTED,
  TCP_RACK_MARKS,
  TCP_SPURIOUS_RECOVERIES,
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
  TCP_NO_BUFFERS,
  TCP_RST_IGNORED,
  TCP_NO_ACK,
  TCP_OUT_OF_WINDOW,
  TCP_RST_CHALLENGED,
  TCP_SYN_CHALLENGED,
  TCP_ACK_CHALLENGED,
  TCP_BAD_ENDPOINT,
  TCP_ICMP_UNMATCHED,
  TCP_ICMP_OUT_OF_WINDOW,
  TCP_ICMP_ABORTS,
  TCP_UNREACHABLE_ABORTS,
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
  DHCP_REBOOTS,
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
  // Loopback (events: a delivered datagram also counts in rx_frames and in the counter that
  // accounted for it, like a frame from the PHY)
  LOOPBACK_SENT,
  LOOPBACK_RECEIVED,
  LOOPBACK_NO_BUFFERS,
  // MQTT client (events: the TCP layer counts the segments; a malformed packet closes the connection)
  MQTT_MALFORMED,
  MQTT_UNEXPECTED,
  MQTT_TOO_LONG,
  MQTT_RETRANSMITS,
  MQTT_PING_TIMEOUTS,
  MQTT_EVENTS_LOST,
  // SNTP client (events: the UDP layer counts the frame as delivered to the socket)
  SNTP_REQUESTS,
  SNTP_SAMPLES,
  SNTP_TIMEOUTS,
  SNTP_KISSES,
  SNTP_BAD_SOURCE,
  SNTP_MALFORMED,
  SNTP_BAD_MODE,
  SNTP_BAD_ORIGIN,
  SNTP_UNSYNCED,
  COUNT,
  // mDNS responder and .local lookups (FEATURE_MDNS only, numbered on from COUNT; names in
  // NAMES_MDNS). Events: the UDP layer counts the frame as delivered to the socket.
  MDNS_RESPONSES_SENT = COUNT,
  MDNS_PROBES_SENT,
  MDNS_CONFLICTS,
  MDNS_KNOWN_ANSWERS,
  MDNS_MALFORMED,
  MDNS_END,
  // IPv6 (FEATURE_IPV6, NAMES_IPV6), numbered on from the mDNS section.
  IP6_SENT = MDNS_END,
  IP6_NO_ROUTE,
  ICMP6_ECHO_REQUESTS_SENT,
  ICMP6_ERRORS_SENT,
  ICMP6_ERRORS_LIMITED,
  ND_NS_SENT,
  ND_NA_SENT,
  ND_RS_SENT,
  ND_RESOLVED,
  ND_GAVE_UP,
  ND_EVICTIONS,
  ND_QUEUED,
  ND_QUEUE_DROPS,
  ND_DAD_DUPLICATES,
  ND_ADDRESSES_CONFIGURED,
  ND_ADDRESSES_EXPIRED,
  MLD_REPORTS_SENT,
  ICMP6_PATH_MTU_LOWERED,
  ICMP6_ECHO_ANSWERED,
  ICMP6_ECHO_REPLY_RECEIVED,
  ICMP6_ERROR_RECEIVED,
  ND_NS_RECEIVED,
  ND_NA_RECEIVED,
  ND_RA_RECEIVED,
  MLD_RECEIVED,
  IP6_TRUNCATED,
  IP6_BAD_VERSION,
  IP6_BAD_LENGTH,
  IP6_BAD_SOURCE,
  IP6_NOT_FOR_US,
  IP6_EXT_TRUNCATED,
  IP6_EXT_TOO_MANY,
  IP6_FRAGMENT_DROPPED,
  IP6_ROUTING_DROPPED,
  IP6_BAD_OPTION,
  IP6_UNKNOWN_NEXT_HEADER,
  IP6_NO_TRANSPORT,
  IP6_NO_NEXT_HEADER,
  ICMP6_TRUNCATED,
  ICMP6_BAD_CHECKSUM,
  ICMP6_UNKNOWN_TYPE,
  ICMP6_ECHO_REPLY_UNMATCHED,
  ND_BAD_HOP_LIMIT,
  ND_BAD_SOURCE,
  ND_MALFORMED,
  ND_TARGET_NOT_OURS,
  ND_NA_IGNORED,
  ND_IGNORED,
  ND_DAD_CONFLICT,
  MLD_MALFORMED,
  ICMP6_BAD_ERROR,
  IP6_UDP_NO_CHECKSUM,
  IPV6_END,
}


export const KIND_RX_DELIVERED: u32 = 0;
export const KIND_RX_DROP: u32 = 1;
export const KIND_EVENT: u32 = 2;

/** How many counters this build has: C.COUNT, then each feature section up to the last one built
 *  in (an image with IPv6 and without mDNS keeps mDNS's few counters, at 0, so ids stay fixed). */
export const COUNTERS: i32 = FEATURE_IPV6 ? <i32>C.IPV6_END : FEATURE_MDNS ? <i32>C.MDNS_END : <i32>C.COUNT;
const WITH_MDNS: bool = FEATURE_MDNS || FEATURE_IPV6;
const N: i32 = COUNTERS;
const values = memory.data(N * 4);

/** Not @inline: one call per event is cheaper in image size than the load-add-store at ~70 sites. */
export function count(id: C): void {
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

function countNames(text: usize, bytes: i32): i32 {
  let n: i32 = 0;
  for (let at: i32 = 0; at < bytes; at++) if (load<u8>(text + at) == 0) n++;
  return n;
}

/** Zeroes the counters; returns how many names there are (COUNTERS, when the tables agree). */
export function countersInit(): i32 {
  memory.fill(values, 0, N * 4);
  let n = countNames(COUNTER_NAME_TEXT, COUNTER_NAME_BYTES);
  if (WITH_MDNS) n += countNames(counterNamesMdns(), COUNTER_MDNS_NAME_BYTES);
  if (FEATURE_IPV6) n += countNames(counterNamesIpv6(), COUNTER_IPV6_NAME_BYTES);
  return n;
}

/** The prefix table of the section entryOf() last found a name in. */
let entryPrefixes: usize = 0;

/** Where counter id's entry (its kind and prefix byte) starts, or 0. Boards read names once,
 *  at start, so a walk through the text is cheaper than a table of offsets kept in RAM. */
function entryOf(id: u32): usize {
  if (id >= <u32>N) return 0;
  let text = COUNTER_NAME_TEXT;
  let bytes = COUNTER_NAME_BYTES;
  entryPrefixes = COUNTER_PREFIX_TEXT;
  if (FEATURE_IPV6 && id >= <u32>C.MDNS_END) {
    text = counterNamesIpv6();
    bytes = COUNTER_IPV6_NAME_BYTES;
    entryPrefixes = counterPrefixesIpv6();
    id -= <u32>C.MDNS_END;
  } else if (WITH_MDNS && id >= <u32>C.COUNT) {
    text = counterNamesMdns();
    bytes = COUNTER_MDNS_NAME_BYTES;
    id -= <u32>C.COUNT;
  }
  let at: i32 = 0;
  for (let k: u32 = 0; k < id && at < bytes; at++) if (load<u8>(text + at) == 0) k++;
  return at < bytes ? text + <usize>at : 0;
}

const NAME_MAX: i32 = 48;
/** The name counter_name() returns, NUL-terminated; valid until its next call. */
const nameOut = memory.data(NAME_MAX);

/** Counter id's name: its prefix, then the rest, copied to nameOut ("" when absent). */
export function counterNamePtr(id: u32): usize {
  const at = entryOf(id);
  let n: i32 = 0;
  if (FEATURE_IPV6) {
    // One copy loop for the prefix, the rest and IPv6's words.
    if (at) {
      const k = <i32>(load<u8>(at) & 15);
      if (k) n = copyName(entryPrefixes, k - 1, 0);
      n = copyName(at + 1, 0, n);
    }
  } else if (at) {
    let k = <i32>(load<u8>(at) & 15);
    let p = entryPrefixes;
    while (k > 1) {
      if (load<u8>(p++) == 0) k--;
    }
    if (k == 1) while (load<u8>(p) != 0) store<u8>(nameOut + n++, load<u8>(p++));
    p = at + 1;
    while (load<u8>(p) != 0 && n < NAME_MAX - 1) store<u8>(nameOut + n++, load<u8>(p++));
  }
  store<u8>(nameOut + n, 0);
  return nameOut;
}

/** Appends the kth NUL-terminated string from p to nameOut at n (as room allows), a byte 0x80 | w
 *  in it as IPv6's word w (gen-counter-names.mjs SECTION_WORDS: bytes of the core's names, read
 *  where they lie, then back to p); returns the new length. */
function copyName(p: usize, k: i32, n: i32): i32 {
  while (k > 0) if (load<u8>(p++) == 0) k--;
  let end: usize = 0; // of the word being copied, then back to where it was named
  let back: usize = 0;
  while (n < NAME_MAX - 1) {
    if (p == end) p = back;
    let c = <u32>load<u8>(p++);
    if (c >= 0x80) {
      const w = <u32>load<u16>(counterWordsIpv6() + ((c & 0x7f) << 1));
      back = p;
      p = COUNTER_NAME_TEXT + (w & 0xfff);
      end = p + (w >> 12) + 1;
      c = <u32>load<u8>(p++);
    }
    if (c == 0) break;
    store<u8>(nameOut + n++, <u8>c);
  }
  return n;
}

/** KIND_RX_DELIVERED, KIND_RX_DROP or KIND_EVENT: the generator numbers kinds the same way. */
export function counterKind(id: u32): u32 {
  const at = entryOf(id);
  return at ? <u32>load<u8>(at) >> 4 : KIND_EVENT;
}
