// ICMPv6 (RFC 4443): echo answered and the ping6 client's replies, errors received (counted) and
// sent, and the dispatch of ND (iface/nd.ts) and MLD (iface/mld.ts) messages.
//
// Errors received about a TCP or UDP packet of ours go to that transport: the handlers ICMP's
// (iface/icmp.ts) registered, which tell an IPv6 quoted header by its version; echo replies to ping's.
// Errors we send (§2.4): never about an error message or a redirect (e.1, e.2), a packet to a
// multicast address (e.3) unless a Packet Too Big or a Parameter Problem code 2 (e.3's
// exceptions), a link-layer multicast or broadcast frame (e.4), or a packet whose source does not
// identify one node (e.5: unspecified or multicast). At most ICMP_ERROR_LIMIT a second (§2.4 f).
// Each holds as much of the packet as fits in the minimum MTU (§2.4 c).
import { ICMP_ERROR_LIMIT } from "../config";
import { now } from "../support/clock";
import { C, count } from "../support/counters";
import { get32 } from "../support/bytes";
import { macIsMulticast } from "../wire/ethernet";
import {
  HEADER_LEN, TYPE_ECHO_REPLY, TYPE_ECHO_REQUEST, TYPE_MLD_QUERY, TYPE_MLD_V1_DONE, TYPE_MLD_V1_REPORT, TYPE_MLD_V2_REPORT,
  TYPE_PACKET_TOO_BIG, TYPE_REDIRECT, TYPE_RS, emitIcmpv6, icmpv6Checksum, isError,
} from "../wire/icmpv6";
import { DST_AT, HEADER_LEN as IP_LEN, MIN_MTU, SRC_AT, NH_ICMPV6, NH_TCP, NH_UDP, isMulticast, isUnspecified } from "../wire/ipv6";
import { PAYLOAD_OFFSET6, hopLimit, ipv6Output, isOurs, lowerPathMtu, sourceFor, toTentative } from "./ipv6";
import { echoReplyHandler, tcpErrorHandler, udpErrorHandler } from "./icmp";
import { mldInput } from "./mld";
import { ndInput } from "./nd";
import { rxBuf, txBuf } from "./netif";

/** The second header word of the message being received: echo identifier and sequence, an
 *  error's MTU or pointer. */
let word: u32 = 0;
let limitSecond: u32 = 0;
let limitCount: u32 = 0;

/** The ICMPv6 message of len bytes at m in the packet at ip (its IPv6 header, checked). */
export function icmpv6Input(ip: usize, m: usize, len: u32): C {
  if (len < HEADER_LEN) return C.ICMP6_TRUNCATED;
  if (icmpv6Checksum(ip + SRC_AT, ip + DST_AT, m, len) != 0) return C.ICMP6_BAD_CHECKSUM;
  const type = <u32>load<u8>(m);
  word = get32(m + 4);
  if (type >= TYPE_RS && type <= TYPE_REDIRECT) return ndInput(ip, m, len, type);
  if (toTentative) return C.IP6_NOT_FOR_US; // RFC 4862 §5.4: only ND reaches a tentative address
  if (type - TYPE_MLD_QUERY <= TYPE_MLD_V1_DONE - TYPE_MLD_QUERY || type == TYPE_MLD_V2_REPORT) { // 130-132, 143
    return mldInput(ip, m, len, type);
  }
  if (type == TYPE_ECHO_REQUEST) return echo(ip, m, len);
  if (type == TYPE_ECHO_REPLY) {
    const h = echoReplyHandler;
    return h && h(word >>> 16, word & 0xffff, 0, len - HEADER_LEN) ? C.ICMP6_ECHO_REPLY_RECEIVED : C.ICMP6_ECHO_REPLY_UNMATCHED;
  }
  if (type == TYPE_PACKET_TOO_BIG) return packetTooBig(m, len);
  if (isError(type)) return transportError(m, len, type);
  return C.ICMP6_UNKNOWN_TYPE; // §2.4 (b): an unknown informational message is dropped
}

/** An error about a packet of ours right after its IPv6 header (no extension headers: we send
 *  none with TCP or UDP) goes to the transport that sent it (RFC 4443 §3: the upper layer), with
 *  8 bytes of it at least: (type, code, the quoted packet from its IPv6 header, its length >= 48). */
function transportError(m: usize, len: u32, type: u32): C {
  const q = m + HEADER_LEN;
  if (len < HEADER_LEN + IP_LEN + 8 || !isOurs(q + 8)) return C.ICMP6_ERROR_RECEIVED;
  const nh = <u32>load<u8>(q, 6);
  const h = nh == NH_TCP ? tcpErrorHandler : nh == NH_UDP ? udpErrorHandler : null;
  const r = h ? h(type, <u32>load<u8>(m, 1), q, len - HEADER_LEN) : C.ICMP6_ERROR_RECEIVED;
  return r == C.ICMP_ERROR_RECEIVED ? C.ICMP6_ERROR_RECEIVED : r; // the handlers share IPv4's counter
}

/** RFC 8201 §4: the path MTU to the quoted packet's destination, when the packet was ours and
 *  the MTU at least the IPv6 minimum (a smaller one is discarded). */
function packetTooBig(m: usize, len: u32): C {
  if (len < HEADER_LEN + IP_LEN) return C.ICMP6_BAD_ERROR;
  const quoted = m + HEADER_LEN;
  const mtu = word;
  if (mtu < MIN_MTU || !isOurs(quoted + 8)) return C.ICMP6_BAD_ERROR;
  if (lowerPathMtu(quoted + 24, mtu)) count(C.ICMP6_PATH_MTU_LOWERED);
  return C.ICMP6_ERROR_RECEIVED;
}

/** §4.2: the reply carries the request's identifier, sequence and data; to a multicast request
 *  from one of our unicast addresses. */
function echo(ip: usize, m: usize, len: u32): C {
  if (isUnspecified(ip + SRC_AT)) return C.IP6_BAD_SOURCE;
  const src = isMulticast(ip + DST_AT) ? sourceFor(ip + SRC_AT) : ip + DST_AT;
  if (src == 0) return C.IP6_NOT_FOR_US;
  memory.copy(txBuf + PAYLOAD_OFFSET6, m, len);
  send(TYPE_ECHO_REPLY, 0, word, len, src, ip + SRC_AT);
  return C.ICMP6_ECHO_ANSWERED;
}

/** Sends the message of len bytes at txBuf + PAYLOAD_OFFSET6 (its header written here) from src
 *  to dst: addresses that may lie in rxBuf, which txBuf overlaps nowhere. */
function send(type: u32, code: u32, word: u32, len: u32, src: usize, dst: usize): void {
  emitIcmpv6(txBuf + PAYLOAD_OFFSET6, type, code, word, len, src, dst);
  ipv6Output(txBuf, len, NH_ICMPV6, src, dst, hopLimit);
}

/**
 * Sends an error of type/code with `word` (a pointer or an MTU) about the packet at p (its IPv6
 * header, still in rxBuf), unless §2.4 (e) forbids it; multicastOk: the (e.3) exceptions.
 */
export function icmpv6Error(p: usize, type: u32, code: u32, word: u32, multicastOk: bool): void {
  const src = p + SRC_AT;
  const dst = p + DST_AT;
  if (isUnspecified(src)) return; // a multicast source never got past ipv6Input
  if (!multicastOk && (isMulticast(dst) || macIsMulticast(rxBuf))) return;
  // (e.1): not about an error (or a redirect); the upper header is only looked for right after ours.
  if (load<u8>(p, 6) == <u8>NH_ICMPV6) {
    const t = <u32>load<u8>(p + IP_LEN);
    if (isError(t) || t == TYPE_REDIRECT) return;
  }
  if (now - limitSecond >= 1000) {
    limitSecond = now;
    limitCount = 0;
  }
  if (limitCount >= ICMP_ERROR_LIMIT) {
    count(C.ICMP6_ERRORS_LIMITED);
    return;
  }
  limitCount++;
  const from = isMulticast(dst) ? sourceFor(src) : dst;
  if (from == 0) return;
  const total = IP_LEN + <u32>load<u8>(p, 4) * 256 + <u32>load<u8>(p, 5);
  const quoted = min<u32>(total, MIN_MTU - IP_LEN - HEADER_LEN);
  memory.copy(txBuf + PAYLOAD_OFFSET6 + HEADER_LEN, p, quoted);
  count(C.ICMP6_ERRORS_SENT);
  send(type, code, word, HEADER_LEN + quoted, from, src);
}
