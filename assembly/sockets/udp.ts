// UDP sockets (RFC 768): a fixed table, each with a receive queue of whole datagrams in a ring
// (an 8-byte record header: length, source port, source address; then the data).
import { UDP_MAX_SOCKETS, UDP_RCV_BUF } from "../config";
import { C, count } from "../support/counters";
import { ECONNREFUSED, EHOSTUNREACH } from "../support/errors";
import { Ring } from "../support/ring";
import { get16, get32 } from "../support/bytes";
import { WireError } from "../wire/error";
import { PROTO_UDP } from "../wire/ipv4";
import { UdpRepr } from "../wire/udp";
import { setTransport } from "../iface/ipv4";
import { icmpUnreachable, setIcmpErrorHandler } from "../iface/icmp";

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
}

const SOCK_SIZE = offsetof<UdpSock>();
const RING_SIZE = offsetof<Ring>();
const socks = memory.data(<i32>SOCK_SIZE * UDP_MAX_SOCKETS, 8);
const rings = memory.data(<i32>RING_SIZE * UDP_MAX_SOCKETS, 8);
const bufs = memory.data(<i32>UDP_RCV_BUF * UDP_MAX_SOCKETS, 16);
const record = memory.data(8, 8);
const rx = changetype<UdpRepr>(memory.data(offsetof<UdpRepr>()));
export const RECORD_LEN: u32 = 8;

// @ts-ignore: decorator
@inline export function udpSock(i: i32): UdpSock {
  return changetype<UdpSock>(socks + <usize>i * SOCK_SIZE);
}
// @ts-ignore: decorator
@inline export function udpRing(i: i32): Ring {
  return changetype<Ring>(rings + <usize>i * RING_SIZE);
}

export function udpInit(): void {
  memory.fill(socks, 0, SOCK_SIZE * UDP_MAX_SOCKETS);
  setTransport(PROTO_UDP, udpInput);
  setIcmpErrorHandler(udpIcmpError);
}

export function udpAlloc(): i32 {
  for (let i = 0; i < UDP_MAX_SOCKETS; i++) {
    const s = udpSock(i);
    if (s.used) continue;
    memory.fill(changetype<usize>(s), 0, SOCK_SIZE);
    s.used = 1;
    udpRing(i).init(bufs + <usize>i * UDP_RCV_BUF, UDP_RCV_BUF);
    return i;
  }
  return -1;
}

/** The socket a datagram to lport from (rip, rport) belongs to: a connected match, else a bound one. */
function lookup(lport: u32, rip: u32, rport: u32): i32 {
  let any = -1;
  for (let i = 0; i < UDP_MAX_SOCKETS; i++) {
    const s = udpSock(i);
    if (!s.used || s.localPort != lport) continue;
    if (s.remotePort == 0) any = i;
    else if (s.remoteIp == rip && s.remotePort == rport) return i;
  }
  return any;
}

function udpInput(p: usize, len: u32, src: u32, dst: u32, toBroadcast: bool): C {
  const err = rx.parse(p, len, src, dst);
  if (err != WireError.OK) {
    if (err == WireError.BAD_CHECKSUM) return C.UDP_BAD_CHECKSUM;
    if (err == WireError.BAD_TOTAL_LEN) return C.UDP_BAD_LENGTH;
    return C.UDP_TRUNCATED;
  }
  const i = lookup(rx.dstPort, src, rx.srcPort);
  if (i < 0) {
    // RFC 1122 §4.1.3.1: port unreachable, but never about a broadcast.
    if (!toBroadcast) icmpUnreachable(3);
    return C.UDP_NO_SOCKET;
  }
  const ring = udpRing(i);
  const n = rx.payloadLen;
  if (ring.free() < RECORD_LEN + n) return C.UDP_QUEUE_FULL;
  store<u16>(record, <u16>n);
  store<u16>(record, <u16>rx.srcPort, 2);
  store<u32>(record, src, 4);
  ring.write(record, RECORD_LEN);
  ring.write(p + 8, n);
  return C.UDP_DELIVERED;
}

/** An ICMP error about a datagram we sent: the socket that sent it gets ECONNREFUSED (port
 *  unreachable) or EHOSTUNREACH, returned by its next send or receive. */
function udpIcmpError(type: u32, code: u32, quoted: usize, len: u32): void {
  const ihl = (<u32>load<u8>(quoted) & 15) << 2;
  if (load<u8>(quoted, 9) != PROTO_UDP || ihl < 20 || len < ihl + 8) return;
  const rip = get32(quoted + 16);
  const lport = get16(quoted + ihl);
  const rport = get16(quoted + ihl + 2);
  const i = lookup(lport, rip, rport);
  if (i < 0) return;
  count(C.ICMP_ERRORS_TO_SOCKETS);
  udpSock(i).error = type == 3 && code == 3 ? ECONNREFUSED : EHOSTUNREACH;
}

/** Debug-build invariants (debug_check): 0, or (check << 8) | socket. 1: a ring out of bounds or of
 *  the wrong capacity; 2: the queued records do not tile the ring; 3: two sockets on one port. */
export function udpCheck(): u32 {
  for (let i = 0; i < UDP_MAX_SOCKETS; i++) {
    const s = udpSock(i);
    if (!s.used) continue;
    const r = udpRing(i);
    if (r.cap != UDP_RCV_BUF || r.len > r.cap || r.head >= r.cap) return (1 << 8) | <u32>i;
    let off: u32 = 0;
    while (off < r.len) {
      if (r.len - off < RECORD_LEN || r.peek(record, off, RECORD_LEN) != RECORD_LEN) return (2 << 8) | <u32>i;
      const n = <u32>load<u16>(record);
      if (r.len - off - RECORD_LEN < n) return (2 << 8) | <u32>i;
      off += RECORD_LEN + n;
    }
    if (s.localPort == 0) continue;
    for (let j = i + 1; j < UDP_MAX_SOCKETS; j++) {
      if (udpSock(j).used && udpSock(j).localPort == s.localPort) return (3 << 8) | <u32>i;
    }
  }
  return 0;
}
