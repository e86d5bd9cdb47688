// UDP sockets (RFC 768): a fixed table. An application socket queues whole datagrams in a
// receive ring taken from a pool of UDP_MAX_QUEUES (an 8-byte record header each: length, source
// port, source address; then the data). A service socket (the DHCP client, DNS lookups) has a
// handler instead, called with each datagram where it lies in the received frame: no queue, no
// copy (lwIP's raw udp_recv). A socket without a queue points at an empty ring (capacity 0).
//
// IPv6 (FEATURE_IPV6): every socket is bound to the unspecified address, so it receives both
// families on its port. A datagram from an IPv6 source queues a record whose length has REC_V6 set
// and whose 16-byte source follows the 8-byte header. A socket connected to an IPv6 peer keeps the
// peer's address in a side table (addrs6(), only in an image with IPv6). Service sockets take
// IPv4 only (their handler has a 32-bit source) unless marked U_SVC6 (DNS lookups, for RDNSS
// servers): their handler then gets IPv6 datagrams with source 0 and the address in udpSource6.
import { FEATURE_ICMP, FEATURE_IPV6, FEATURE_MULTICAST, MCAST_DEFAULT_TTL, MCAST_GROUPS, UDP_MAX_QUEUES, UDP_MAX_SOCKETS, UDP_RCV_BUF } from "../config";
import { C, count } from "../support/counters";
import { ECONNREFUSED, EHOSTUNREACH } from "../support/errors";
import { Ring } from "../support/ring";
import { get16, get32 } from "../support/bytes";
import { WireError } from "../wire/error";
import { PROTO_UDP } from "../wire/ipv4";
import { UdpRepr } from "../wire/udp";
import { setTransport } from "../iface/ipv4";
import { icmpUnreachable, setIcmpErrorHandler } from "../iface/icmp";
import { ALL_SYSTEMS, igmpLeave, igmpSlot, isMulticast } from "../iface/igmp";
import { setTransport6 } from "../iface/ipv6";
import { NH_UDP, addrCopy, addrEq } from "../wire/ipv6";

/** A service socket's datagram: (fd, payload, length, source address, source port). */
export type UdpHandler = (fd: i32, p: usize, len: u32, src: u32, sport: u32) => void;
/** An ICMP error about a datagram a service socket sent: ECONNREFUSED or EHOSTUNREACH. */
export type UdpErrorHandler = (fd: i32, err: i32) => void;

/** UdpSock.used: in use, and (IPv6) connected to an IPv6 peer / the last datagram read came from one. */
export const U_USED: u32 = 1;
export const U_REMOTE6: u32 = 2;
export const U_FROM6: u32 = 4;
/** A service socket that takes IPv6 datagrams too. */
export const U_SVC6: u32 = 8;
/** While an IPv6 datagram is handled (a U_SVC6 handler's call with source 0): its source and
 *  destination (16 bytes each); udpSource6 is 0 otherwise. */
export let udpSource6: usize = 0;
export let udpDest6: usize = 0;
/** A record's length bit: an IPv6 source (16 bytes) follows the header. */
export const REC_V6: u32 = 0x8000;

@unmanaged
export class UdpSock {
  used: u32;
  localPort: u32;
  /** Connected peer (0 = any). */
  remoteIp: u32;
  remotePort: u32;
  /** Sender of the datagram last returned by recvfrom. */
  fromIp: u32;
  fromPort: u32;
  /** A pending ICMP error for the application, 0 if none. */
  error: i32;
  /** Index of the receive queue, NO_QUEUE for a service socket. */
  queue: u32;
  handler: UdpHandler | null;
  onError: UdpErrorHandler | null;
  /** The multicast groups joined: bit i for the interface's group slot i (iface/igmp.ts). */
  groups: u16;
  /** TTL of the multicast datagrams it sends. */
  mcastTtl: u8;
}

const SOCK_SIZE = offsetof<UdpSock>();
const RING_SIZE = offsetof<Ring>();
const NO_QUEUE: u32 = <u32>UDP_MAX_QUEUES;
const socks = memory.data(<i32>SOCK_SIZE * UDP_MAX_SOCKETS, 8);
const rings = memory.data(<i32>RING_SIZE * (UDP_MAX_QUEUES + 1), 8);
const queueUsed = memory.data(UDP_MAX_QUEUES);
const bufs = memory.data(<i32>UDP_RCV_BUF * UDP_MAX_QUEUES, 16);
const record = memory.data(8, 8);
const rx = changetype<UdpRepr>(memory.data(offsetof<UdpRepr>()));
export const RECORD_LEN: u32 = 8;

// @ts-ignore: decorator
@inline export function udpSock(i: i32): UdpSock {
  return changetype<UdpSock>(socks + <usize>i * SOCK_SIZE);
}
/** Socket i's IPv6 peer (16 bytes) and the IPv6 source of the datagram last read (16 more). */
export function udpAddrs6(i: i32): usize {
  return memory.data(32 * UDP_MAX_SOCKETS, 8) + <usize>i * 32;
}
// @ts-ignore: decorator
@inline export function udpRing(i: i32): Ring {
  return changetype<Ring>(rings + <usize>udpSock(i).queue * RING_SIZE);
}

export function udpInit(): void {
  memory.fill(socks, 0, SOCK_SIZE * UDP_MAX_SOCKETS);
  memory.fill(queueUsed, 0, UDP_MAX_QUEUES);
  memory.fill(rings + <usize>NO_QUEUE * RING_SIZE, 0, RING_SIZE);
  setTransport(PROTO_UDP, udpInput);
  if (FEATURE_IPV6) {
    setTransport6(NH_UDP, udpInput6);
  }
  if (FEATURE_ICMP) setIcmpErrorHandler(PROTO_UDP, udpIcmpError);
}

/** A free socket: with a receive queue when handler is null, else a service socket; -1 if none. */
export function udpAlloc(handler: UdpHandler | null, onError: UdpErrorHandler | null): i32 {
  let k: i32 = -1;
  if (!handler) {
    for (let j = 0; j < UDP_MAX_QUEUES; j++) if (!load<u8>(queueUsed + j)) { k = j; break; }
    if (k < 0) return -1;
  }
  for (let i = 0; i < UDP_MAX_SOCKETS; i++) {
    const s = udpSock(i);
    if (s.used) continue;
    memory.fill(changetype<usize>(s), 0, SOCK_SIZE);
    s.used = 1;
    s.handler = handler;
    s.onError = onError;
    s.queue = NO_QUEUE;
    s.mcastTtl = <u8>MCAST_DEFAULT_TTL;
    if (k >= 0) {
      store<u8>(queueUsed + k, 1);
      s.queue = <u32>k;
      udpRing(i).init(bufs + <usize>k * UDP_RCV_BUF, UDP_RCV_BUF);
    }
    return i;
  }
  return -1;
}

export function udpFree(i: i32): void {
  const s = udpSock(i);
  if (FEATURE_MULTICAST) {
    for (let g = 0; g < MCAST_GROUPS; g++) if ((<u32>s.groups & (1 << g)) != 0) igmpLeave(g);
    s.groups = 0;
  }
  if (s.queue != NO_QUEUE) store<u8>(queueUsed + s.queue, 0);
  s.queue = NO_QUEUE;
  s.used = 0;
}

/** The socket a datagram to lport from (rip, rport) belongs to: a connected match, else a bound
 *  one. From an IPv6 source (a6 != 0, rip unused): sockets connected to [a6]:rport, and those
 *  bound to the port but for IPv4-only services. */
function lookup(lport: u32, rip: u32, rport: u32, a6: usize): i32 {
  let any = -1;
  for (let i = 0; i < UDP_MAX_SOCKETS; i++) {
    const s = udpSock(i);
    if (!s.used || s.localPort != lport) continue;
    if (FEATURE_IPV6 && a6 != 0 && s.handler && (s.used & U_SVC6) == 0) continue;
    if (s.remotePort == 0) any = i;
    else if (s.remotePort == rport && (FEATURE_IPV6 && a6 != 0 ? (s.used & U_REMOTE6) != 0 && addrEq(udpAddrs6(i), a6) : s.remoteIp == rip)) return i;
  }
  return any;
}

/** A datagram over IPv6: udpInput with the addresses in udpSource6 / udpDest6 (toBroadcast: no
 *  ICMP here, iface/ipv6.ts answers UDP_NO_SOCKET with a port unreachable). A group's datagram
 *  (all-nodes is the only one we are in for UDP) goes to the port's socket. */
function udpInput6(p: usize, len: u32, src: usize, dst: usize, mcast: bool): C {
  udpSource6 = src;
  udpDest6 = dst;
  const r = udpInput(p, len, 0, 0, true);
  udpSource6 = 0;
  return r;
}

/** The parsed datagram at p to socket i: its service's handler, or a record in its queue (an
 *  IPv6 one, src6 != 0: source 0 and the 16-byte address after the header). */
function deliver(i: i32, p: usize, src: u32, src6: usize): C {
  const n = rx.payloadLen;
  const h = udpSock(i).handler;
  const ring = udpRing(i);
  const v6: u32 = FEATURE_IPV6 && src6 != 0 ? 16 : 0;
  // One exit: inlined into udpInput, it costs no block and branch there.
  let r = C.UDP_DELIVERED;
  if (h) {
    h(i, p + 8, n, src, rx.srcPort);
  } else if (ring.free() < RECORD_LEN + v6 + n) {
    r = C.UDP_QUEUE_FULL;
  } else {
    store<u16>(record, <u16>(v6 ? n | REC_V6 : n));
    store<u16>(record, <u16>rx.srcPort, 2);
    store<u32>(record, src, 4);
    ring.write(record, RECORD_LEN);
    if (v6) ring.write(src6, 16);
    ring.write(p + 8, n);
  }
  return r;
}

function udpInput(p: usize, len: u32, src: u32, dst: u32, toBroadcast: bool): C {
  const a6 = FEATURE_IPV6 ? udpSource6 : 0;
  const err = rx.parseFrom(p, len, src, dst, a6, FEATURE_IPV6 ? udpDest6 : 0);
  if (err != WireError.OK) {
    if (err == WireError.BAD_CHECKSUM) return C.UDP_BAD_CHECKSUM;
    if (err == WireError.BAD_TOTAL_LEN) return C.UDP_BAD_LENGTH;
    if (FEATURE_IPV6 && err == WireError.UNSUPPORTED) return C.IP6_UDP_NO_CHECKSUM;
    return C.UDP_TRUNCATED;
  }
  let i = lookup(rx.dstPort, src, rx.srcPort, a6);
  // A group's datagram is for the socket on the port only if it joined the group (224.0.0.1: any).
  if (FEATURE_MULTICAST && i >= 0 && isMulticast(dst) && dst != ALL_SYSTEMS) {
    const slot = igmpSlot(dst);
    if (slot < 0 || (<u32>udpSock(i).groups & (1 << slot)) == 0) i = -1;
  }
  if (i < 0) {
    // RFC 1122 §4.1.3.1: port unreachable, but never about a broadcast.
    if (FEATURE_ICMP && !toBroadcast) icmpUnreachable(3);
    return C.UDP_NO_SOCKET;
  }
  return deliver(i, p, src, a6);
}

/** An ICMP error about a datagram we sent: the socket that sent it gets ECONNREFUSED (port
 *  unreachable) or EHOSTUNREACH, returned by its next send or receive (or told to its service).
 *  ICMPv6's errors come here too (a quoted header of version 6). */
function udpIcmpError(type: u32, code: u32, quoted: usize, len: u32): C {
  let at: usize; // the quoted UDP header
  let a6: usize = 0;
  let refused: bool;
  if (FEATURE_IPV6 && <u32>load<u8>(quoted) >> 4 == 6) {
    // ICMPv6 (quoted: its IPv6 header, then at least 8 bytes of UDP): port unreachable (type 1
    // code 4) is ECONNREFUSED, the rest EHOSTUNREACH.
    at = quoted + 40;
    a6 = quoted + 24;
    refused = type == 1 && code == 4;
  } else {
    const ihl = (<u32>load<u8>(quoted) & 15) << 2;
    if (ihl < 20 || len < ihl + 8) return C.ICMP_ERROR_RECEIVED;
    at = quoted + ihl;
    refused = type == 3 && code == 3;
  }
  const i = lookup(get16(at), get32(quoted + 16), get16(at + 2), a6); // the IPv4 source: unused over IPv6
  if (i < 0) return C.ICMP_ERROR_RECEIVED;
  count(C.ICMP_ERRORS_TO_SOCKETS);
  const err = refused ? ECONNREFUSED : EHOSTUNREACH;
  const s = udpSock(i);
  const h = s.onError;
  if (h) h(i, err);
  else if (!s.handler) s.error = err;
  return C.ICMP_ERROR_RECEIVED;
}

/** The bytes after a record's header, from its length field: the data, and an IPv6 source. */
// @ts-ignore: decorator
@inline export function recordLen(field: u32): u32 {
  return FEATURE_IPV6 && (field & REC_V6) != 0 ? (field & ~REC_V6) + 16 : field;
}

/** Debug-build invariants (debug_check): 0, or (check << 8) | socket. 1: a ring out of bounds, of
 *  the wrong capacity, or a queue not marked taken (a service socket: any queue at all); 2: the
 *  queued records do not tile the ring; 3: two sockets on one port; 4: two sockets on one queue. */
export function udpCheck(): u32 {
  for (let i = 0; i < UDP_MAX_SOCKETS; i++) {
    const s = udpSock(i);
    if (!s.used) continue;
    const r = udpRing(i);
    // A service socket has no queue (the empty ring); an application socket its own, marked taken.
    if (s.handler) {
      if (s.queue != NO_QUEUE || r.cap != 0 || r.len != 0) return (1 << 8) | <u32>i;
    } else if (s.queue >= NO_QUEUE || !load<u8>(queueUsed + s.queue) || r.cap != UDP_RCV_BUF || r.len > r.cap || r.head >= r.cap) {
      return (1 << 8) | <u32>i;
    }
    let off: u32 = 0;
    while (off < r.len) {
      if (r.len - off < RECORD_LEN || r.peek(record, off, RECORD_LEN) != RECORD_LEN) return (2 << 8) | <u32>i;
      const n = recordLen(<u32>load<u16>(record));
      if (r.len - off - RECORD_LEN < n) return (2 << 8) | <u32>i;
      off += RECORD_LEN + n;
    }
    for (let j = i + 1; j < UDP_MAX_SOCKETS; j++) {
      const t = udpSock(j);
      if (!t.used) continue;
      if (s.localPort != 0 && t.localPort == s.localPort) return (3 << 8) | <u32>i;
      if (!s.handler && !t.handler && t.queue == s.queue) return (4 << 8) | <u32>i;
    }
  }
  return 0;
}
