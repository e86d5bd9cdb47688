// IPv6 on the Ethernet interface (RFC 8200, RFC 2464): the receive checks and dispatch, the
// addresses of the interface with their states, source address and next-hop choice, and output.
// Built only with config.ts FEATURE_IPV6; iface/ethernet.ts counts IPv6 frames as ignored without it.
//
// Receive: the fixed header and the extension headers are checked (wire/ipv6.ts ipv6Walk()); a packet
// is ours when it goes to one of our unicast addresses (a tentative one only for ND, RFC 4862
// §5.4), to all-nodes ff02::1, to the solicited-node group of one of our addresses, or to the one
// group a core service joined (mDNS's ff02::fb; application sockets join no IPv6 group yet). ICMPv6 goes
// to iface/icmpv6.ts, TCP and UDP to the transport that registered itself (setTransport6); a
// datagram no socket takes is answered with a port unreachable (RFC 4443 §3.1 code 4).
//
// Addresses: slot 0 the link-local one, the others from SLAAC (iface/slaac.ts), each 16 bytes with
// a state and lifetimes (seconds left, decremented by a one-second tick so nothing wraps).
// Output: the next hop is the destination when it is link-local, multicast or inside an on-link
// prefix, else a default router (iface/nd.ts); none: EHOSTUNREACH (RFC 4861 §5.2 as amended by
// RFC 4943: no on-link assumption). The source follows RFC 6724's first rules: same scope, then
// preferred over deprecated.
//
// The IPv6 files keep their static buffers behind functions (`addrs()`, nd.ts's `table()`...): a
// top-level memory.data is in every image that imports the file, one inside a function only in an
// image that calls it, so an IPv4-only image carries none of them (binaryen inlines the calls).
// The most used small ones (scratch addresses, ND's message buffer and lists) are allocated first,
// in iface/ipv6_static.ts, under a compile-time FEATURE_IPV6: below 8 KiB their addresses take a
// byte less wherever they are named.
import { IPV6_ADDRS, IPV6_DEFAULT_HOP_LIMIT, IPV6_PMTU_SLOTS, IPV6_PMTU_TIMEOUT_MS, MTU } from "../config";
import { due, now, until } from "../support/clock";
import { C, count } from "../support/counters";
import { EHOSTUNREACH, EMSGSIZE } from "../support/errors";
import { WireError } from "../wire/error";
import { HEADER_LEN as ETH_LEN, TYPE_IPV6 } from "../wire/ethernet";
import {
  DST_AT, Ext, HEADER_LEN, NH_ICMPV6, NH_NONE, NH_TCP, NH_UDP, SRC_AT, addrCopy, addrEq, emitIpv6, errorCode, errorPointer, ipv6Parse,
  ipv6Walk, isAllNodes, isBadSource, isLinkLocal, isMulticast, isSolicitedNode, nhFieldAt, payloadLen, sendError, upperAt, upperProto,
} from "../wire/ipv6";
import { ethernetSend } from "./ethernet";
import { PMTU_TABLE } from "./ipv6_static";
import { icmpv6Error, icmpv6Input } from "./icmpv6";
import { ndOnLink, ndResolveAndSend, ndRouter } from "./nd";
import { CODE_PORT_UNREACHABLE, CODE_UNRECOGNIZED_NEXT_HEADER, TYPE_DEST_UNREACHABLE, TYPE_PARAMETER_PROBLEM } from "../wire/icmpv6";

/** A transport's input over IPv6: (payload, length, source, destination, sent to a group); the
 *  addresses are 16 bytes in the received packet. */
export type Transport6Input = (p: usize, len: u32, src: usize, dst: usize, mcast: bool) => C;
// Transports register themselves, so this layer never imports the one above it.
let tcp6: Transport6Input | null = null;
let udp6: Transport6Input | null = null;

export function setTransport6(nh: u32, h: Transport6Input | null): void {
  if (nh == NH_TCP) tcp6 = h;
  else udp6 = h;
}
/** Told about an address (16 bytes) TCP's connections may use (TCP registers it; the iface never
 *  calls up by name): a Packet Too Big lowered the path MTU to it (lost false: TCP lowers its
 *  MSS), or it was ours and became invalid (lost true: what used it as a source must stop). */
let addressHandler: ((a: usize, lost: bool) => void) | null = null;
export function setAddressHandler6(h: ((a: usize, lost: bool) => void) | null): void {
  addressHandler = h;
}
export function addressEvent6(a: usize, lost: bool): void {
  const h = addressHandler;
  if (h) h(a, lost);
}

/** Where an IPv6 payload starts in a frame buffer (Ethernet + the fixed header). */
export const PAYLOAD_OFFSET6: u32 = ETH_LEN + HEADER_LEN;

// Address states (ipv6_address() returns them; WASMIP_IPV6_* in wasmip.h).
export const ADDR_FREE: u32 = 0;
export const ADDR_TENTATIVE: u32 = 1;
export const ADDR_PREFERRED: u32 = 2;
export const ADDR_DEPRECATED: u32 = 3;
export const ADDR_DUPLICATED: u32 = 4;
/** A lifetime that never runs out (RFC 4861 §4.6.2: all ones). */
export const INFINITE: u32 = 0xffffffff;
/** The sooner of next and the ms until t: the IPv6 polls' next wake-up (a call, not inlined at
 *  each of them). */
export function sooner(next: u32, t: u32): u32 {
  return min<u32>(next, until(t));
}
/** A lifetime (seconds left) s seconds later: INFINITE stays, the rest stops at 0. */
export function lifeLeft(life: u32, s: u32): u32 {
  return life == INFINITE ? life : life > s ? life - s : 0;
}

@unmanaged
export class Addr {
  a0: u64;
  a8: u64;
  state: u32;
  /** Seconds left, INFINITE for ever. */
  validS: u32;
  preferredS: u32;
  /** DAD: probes still to send, and when the next step is due. */
  dadLeft: u32;
  dadAt: u32;
}
const ADDR_SIZE = offsetof<Addr>();
function addrs(): usize {
  return memory.data(<i32>ADDR_SIZE * IPV6_ADDRS, 8);
}

export function addr(i: i32): Addr {
  return changetype<Addr>(addrs() + <usize>i * ADDR_SIZE);
}

/** The hop limit of what we originate (an RA's Cur Hop Limit changes it, RFC 4861 §6.3.4). */
export let hopLimit: u32 = IPV6_DEFAULT_HOP_LIMIT;
/** The link's MTU (an RA's MTU option may lower it, never above the Ethernet MTU). */
export let linkMtu: u32 = MTU;
export function setHopLimit(h: u32): void {
  hopLimit = h;
}
export function setLinkMtu(m: u32): void {
  linkMtu = m;
}

/** Was the packet being handled sent to a tentative address of ours (only ND may use it)? */
export let toTentative: bool = false;

/** The group a core service joined (iface/mld.ts mldJoinService), or 0. */
let svcGroupJoined: bool = false;
function svcGroup(): usize {
  return memory.data(16, 8);
}
export function serviceGroup(): usize {
  return svcGroupJoined ? svcGroup() : 0;
}
export function setServiceGroup(a: usize): void {
  if (a != 0) addrCopy(svcGroup(), a);
  svcGroupJoined = a != 0;
}

export function ipv6AddrInit(): void {
  memory.fill(addrs(), 0, ADDR_SIZE * IPV6_ADDRS);
  svcGroupJoined = false;
  pathMtuInit();
  hopLimit = IPV6_DEFAULT_HOP_LIMIT;
  linkMtu = MTU;
}

/** The slot holding address a (any state but free), or -1. */
export function addrFind(a: usize): i32 {
  for (let i = 0; i < IPV6_ADDRS; i++) {
    const s = addr(i);
    if (s.state != ADDR_FREE && addrEq(changetype<usize>(s), a)) return i;
  }
  return -1;
}

/** Is a usable as ours: preferred or deprecated (RFC 4862 §5.5.4: deprecated still receives). */
function usable(s: Addr): bool {
  return s.state == ADDR_PREFERRED || s.state == ADDR_DEPRECATED;
}

/** Is the multicast address a a group we are in: all-nodes, the service's, or one of our
 *  solicited-node groups (tentative addresses included: DAD listens on them, RFC 4862 §5.4.2)? */
export function isOurGroup(a: usize): bool {
  if (isAllNodes(a) || (svcGroupJoined && addrEq(a, svcGroup()))) return true;
  return isSolicitedNode(a) && solicitedOurs(load<u32>(a, 12));
}

/** Is low (a group's bytes 12..15 as loaded, ff in the first) the solicited-node suffix of one of
 *  our addresses (any state but free and duplicated)? */
function solicitedOurs(low: u32): bool {
  low &= 0xffffff00;
  for (let i = 0; i < IPV6_ADDRS; i++) {
    const s = addr(i);
    if (s.state != ADDR_FREE && s.state != ADDR_DUPLICATED && (load<u32>(changetype<usize>(s), 12) & 0xffffff00) == low) return true;
  }
  return false;
}

/** Receive filter for a 33:33 multicast MAC (RFC 2464 §7: its low 4 bytes are the group's last 4). */
export function ipv6AcceptsMac(w0: u32, w4: u16): bool {
  if ((w0 & 0xffff) != 0x3333) return false;
  const low = (w0 >>> 16) | (<u32>w4 << 16); // the group's bytes 12..15 as loaded
  if (low == 0x01000000 || (svcGroupJoined && load<u32>(svcGroup(), 12) == low)) return true; // ff02::1, the service's
  return (low & 0xff) == 0xff && solicitedOurs(low);
}

/** Handles the IPv6 packet of len bytes at p (after the Ethernet header); returns its counter. */
export function ipv6Input(p: usize, len: u32): C {
  const err = ipv6Parse(p, len);
  // parse() fails TRUNCATED, BAD_VERSION or BAD_TOTAL_LEN: ip6_truncated, _bad_version, _bad_length.
  if (err != WireError.OK) return <C>(<u32>C.IP6_TRUNCATED + min<u32>(<u32>err, 3) - 1);
  if (isBadSource(p + SRC_AT)) return C.IP6_BAD_SOURCE;
  const dst = p + DST_AT;
  const mcast = isMulticast(dst);
  toTentative = false;
  if (mcast) {
    if (!isOurGroup(dst)) return C.IP6_NOT_FOR_US;
  } else {
    const i = addrFind(dst);
    if (i < 0 || addr(i).state == ADDR_DUPLICATED) return C.IP6_NOT_FOR_US;
    toTentative = addr(i).state == ADDR_TENTATIVE;
  }
  const ext = ipv6Walk(p);
  if (ext != Ext.UPPER) {
    if (sendError && !toTentative) icmpv6Error(p, TYPE_PARAMETER_PROBLEM, errorCode, errorPointer, errorCode == 2);
    // Ext's order is the counters' (ip6_ext_truncated ... ip6_unknown_next_header).
    return <C>(<u32>C.IP6_EXT_TRUNCATED + <u32>ext - <u32>Ext.TRUNCATED);
  }
  const at = upperAt;
  const plen = HEADER_LEN + payloadLen - at;
  const proto = upperProto;
  if (proto == NH_ICMPV6) return icmpv6Input(p, p + at, plen);
  if (toTentative) return C.IP6_NOT_FOR_US;
  if (proto == NH_NONE) return C.IP6_NO_NEXT_HEADER;
  if (proto == NH_TCP || proto == NH_UDP) {
    const h = proto == NH_TCP ? tcp6 : udp6;
    const r = h ? h(p + at, plen, p + SRC_AT, p + DST_AT, mcast) : C.IP6_NO_TRANSPORT;
    // No socket for a datagram (TCP answers with a RST itself): the sender learns at once (RFC 4443
    // §3.1 code 4), never about a multicast one (§2.4 e.3): icmpv6Error checks that and rate-limits.
    if (r == C.UDP_NO_SOCKET || r == C.IP6_NO_TRANSPORT) icmpv6Error(p, TYPE_DEST_UNREACHABLE, CODE_PORT_UNREACHABLE, 0, false);
    return r;
  }
  // §4: an unrecognized Next Header, the pointer at the field that named it.
  icmpv6Error(p, TYPE_PARAMETER_PROBLEM, CODE_UNRECOGNIZED_NEXT_HEADER, nhFieldAt, false);
  return C.IP6_UNKNOWN_NEXT_HEADER;
}

/** Our source address for dst, or 0: link-local for link-local and link-scope multicast
 *  destinations, else a preferred global one, else a deprecated one (RFC 6724 rules 2 and 3). */
export function sourceFor(dst: usize): usize {
  const ll = addr(0);
  const local: usize = usable(ll) ? changetype<usize>(ll) : 0;
  if (isLinkLocal(dst) || (isMulticast(dst) && (load<u8>(dst, 1) & 15) <= 2)) return local;
  let best: usize = 0;
  for (let i = 1; i < IPV6_ADDRS; i++) {
    const s = addr(i);
    if (s.state == ADDR_PREFERRED) return changetype<usize>(s);
    if (s.state == ADDR_DEPRECATED && best == 0) best = changetype<usize>(s);
  }
  return best != 0 ? best : local;
}

/**
 * Sends the packet whose payload (plen bytes) is at frame + PAYLOAD_OFFSET6 from src to dst
 * (16-byte addresses, neither inside the frame's header); the IPv6 and Ethernet headers are
 * written here. The frame is transmitted, or held while its next hop resolves. 0 or an error.
 */
export function ipv6Output(frame: usize, plen: u32, nh: u32, src: usize, dst: usize, hops: u32): i32 {
  if (plen + HEADER_LEN > pathMtu(dst)) return EMSGSIZE; // we never fragment (RFC 8200 §5)
  if (src == 0) return EHOSTUNREACH; // no usable source address (yet)
  // ::1, IPv4-mapped and the rest of ::/64 never go on a link (RFC 4291 §2.5.3, §2.5.5); there is
  // no IPv6 loopback here.
  if (load<u64>(dst) == 0) {
    count(C.IP6_NO_ROUTE);
    return EHOSTUNREACH;
  }
  emitIpv6(frame + ETH_LEN, plen, nh, hops, src, dst);
  const len = PAYLOAD_OFFSET6 + plen;
  const d = frame + ETH_LEN + 24; // the destination as written
  if (isMulticast(d)) {
    // RFC 2464 §7: 33:33 and the group's last four bytes.
    ethernetSend(frame, len, 0x3333 | (load<u32>(d, 12) << 16), <u16>(load<u32>(d, 12) >>> 16), TYPE_IPV6);
    count(C.IP6_SENT);
    return 0;
  }
  let hop = d;
  if (!isLinkLocal(d) && !ndOnLink(d)) {
    hop = ndRouter();
    if (hop == 0) {
      count(C.IP6_NO_ROUTE);
      return EHOSTUNREACH;
    }
  }
  const r = ndResolveAndSend(frame, len, hop);
  if (r == 0) count(C.IP6_SENT);
  return r;
}

/** True when a is one of our usable unicast addresses. */
export function isOurs(a: usize): bool {
  const i = addrFind(a);
  return i >= 0 && usable(addr(i));
}

// ---- Path MTU (RFC 8201) --------------------------------------------------------------------------
// Slots of [destination (16), MTU, when it expires]: lowered by Packet Too Big, forgotten after
// IPV6_PMTU_TIMEOUT_MS (then the link MTU is tried again, §4).
function pmtuTable(): usize {
  return PMTU_TABLE; // IPV6_PMTU_SLOTS
}

/** dst's slot, expired ones freed on the way; absent: 0, or (take) the free slot or the one
 *  that expires first, for dst to replace. */
function pmtuSlot(dst: usize, take: bool): usize {
  let slot: usize = 0;
  let soonest: u32 = 0xffffffff;
  for (let i = 0; i < IPV6_PMTU_SLOTS; i++) {
    const e = pmtuTable() + <usize>i * 24;
    if (due(load<u32>(e, 20))) store<u32>(e, 0, 16);
    const left: u32 = load<u32>(e, 16) == 0 ? 0 : load<u32>(e, 20) - now; // > 0 when in use
    if (left != 0 && addrEq(e, dst)) return e;
    if (take && left < soonest) {
      soonest = left;
      slot = e;
    }
  }
  return slot;
}

/** The largest packet (IPv6 header included) we send to dst. */
export function pathMtu(dst: usize): u32 {
  const e = pmtuSlot(dst, false);
  return e != 0 ? min<u32>(load<u32>(e, 16), linkMtu) : linkMtu;
}

/** A Packet Too Big for dst said mtu (RFC 8201 §4: below 1280 it is discarded by the caller). */
export function lowerPathMtu(dst: usize, mtu: u32): bool {
  if (mtu >= pathMtu(dst)) return false;
  const slot = pmtuSlot(dst, true);
  addrCopy(slot, dst);
  store<u32>(slot, mtu, 16);
  store<u32>(slot, now + IPV6_PMTU_TIMEOUT_MS, 20);
  addressEvent6(slot, false);
  return true;
}

export function pathMtuInit(): void {
  memory.fill(pmtuTable(), 0, IPV6_PMTU_SLOTS * 24);
}
