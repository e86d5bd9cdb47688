// The UDP socket API: non-blocking, the same for firmware (AssemblyScript) and, through the
// flat exports in index.ts, for C boards and the Node harness (wasmip.h).
import { FEATURE_IPV6, FEATURE_MULTICAST, MTU, UDP_MAX_SOCKETS } from "../config";
import { C, count } from "../support/counters";
import { EADDRINUSE, EHOSTUNREACH, EINVAL, EMSGSIZE, ENOBUFS, ENOSYS, EWOULDBLOCK, OK } from "../support/errors";
import { igmpJoin, igmpLeave, igmpSlot, isMulticast } from "../iface/igmp";
import { phy_random } from "../support/phy";
import { localFor, txBuf } from "../iface/netif";
import { PAYLOAD_OFFSET, ipv4Output } from "../iface/ipv4";
import { PROTO_UDP } from "../wire/ipv4";
import { HEADER_LEN, UdpRepr } from "../wire/udp";
import {
  RECORD_LEN, REC_V6, U_FROM6, U_REMOTE6, UdpErrorHandler, UdpHandler, UdpSock, udpAddrs6, udpAlloc, udpFree, udpRing, udpSock,
} from "../sockets/udp";
import { PAYLOAD_OFFSET6, hopLimit, ipv6Output, sourceFor } from "../iface/ipv6";
import { UDP6_DST } from "../iface/ipv6_static";
import { NH_UDP, addrCopy, isMulticast as isMulticast6, isUnspecified } from "../wire/ipv6";
import { EV_ERROR, EV_READABLE, EV_WRITABLE } from "./tcp";
import { TCP_EPHEMERAL_MAX, TCP_EPHEMERAL_MIN } from "../config";

export const UDP_MAX_PAYLOAD: u32 = MTU - 20 - HEADER_LEN;
/** Where udpSendPrepared expects the payload: in the transmit frame, after the UDP header. */
export const UDP_TX_PAYLOAD: usize = txBuf + PAYLOAD_OFFSET + HEADER_LEN;
const tx = changetype<UdpRepr>(memory.data(offsetof<UdpRepr>()));
const header = memory.data(8, 8);

function valid(fd: i32): bool {
  return fd >= 0 && fd < UDP_MAX_SOCKETS && udpSock(fd).used != 0;
}

/** A pending ICMP error, reported once. */
function takeError(s: UdpSock): i32 {
  const e = s.error;
  s.error = 0;
  return e;
}

function portBusy(port: u32, self: i32): bool {
  for (let i = 0; i < UDP_MAX_SOCKETS; i++) if (i != self && udpSock(i).used && udpSock(i).localPort == port) return true;
  return false;
}

/** A random free port (RFC 6056 §3.3.1, algorithm 1). */
function ephemeral(self: i32): u32 {
  const n = TCP_EPHEMERAL_MAX - TCP_EPHEMERAL_MIN + 1;
  for (let k = 0; k < 64; k++) {
    const port = TCP_EPHEMERAL_MIN + phy_random() % n;
    if (!portBusy(port, self)) return port;
  }
  return 0;
}

/** A socket with a receive queue; ENOBUFS when no socket or no queue is free. */
export function udpSocket(): i32 {
  const i = udpAlloc(null, null);
  return i < 0 ? ENOBUFS : i;
}

/** A service's socket: each datagram goes to handler from the received frame (no queue), ICMP
 *  errors to onError (null: ignored). For the core's own clients (DHCP, DNS). */
export function udpServiceSocket(handler: UdpHandler, onError: UdpErrorHandler | null): i32 {
  const i = udpAlloc(handler, onError);
  return i < 0 ? ENOBUFS : i;
}

export function udpBind(fd: i32, port: u32): i32 {
  if (!valid(fd) || port > 0xffff || udpSock(fd).localPort != 0) return EINVAL;
  if (port == 0) port = ephemeral(fd);
  if (port == 0 || portBusy(port, fd)) return EADDRINUSE;
  udpSock(fd).localPort = port;
  return OK;
}

export function udpConnect(fd: i32, ip: u32, port: u32): i32 {
  return connect(fd, ip, port, 0);
}

/** udpConnect to the IPv6 peer [a]:port (16 bytes at a). */
export function udpConnect6(fd: i32, a: usize, port: u32): i32 {
  if (!FEATURE_IPV6) return ENOSYS;
  return connect(fd, 0xffffffff, port, a); // never an IPv4 source (ip_bad_source): no IPv4 datagram matches it
}

/** Connects fd to ip:port, or (a6 != 0) to the IPv6 peer [a6]:port. */
function connect(fd: i32, ip: u32, port: u32, a6: usize): i32 {
  const v6 = FEATURE_IPV6 && a6 != 0;
  if (!valid(fd) || (v6 ? isUnspecified(a6) : ip == 0) || port == 0 || port > 0xffff) return EINVAL;
  const s = udpSock(fd);
  if (s.localPort == 0) {
    const r = udpBind(fd, 0);
    if (r < 0) return r;
  }
  s.remoteIp = ip;
  s.remotePort = port;
  s.used &= ~U_REMOTE6;
  if (v6) {
    addrCopy(udpAddrs6(fd), a6);
    s.used |= U_REMOTE6;
  }
  return OK;
}

/** Where udpSendto6 builds a datagram's payload: in the transmit frame, after the IPv6 and UDP headers. */
export const UDP6_TX_PAYLOAD: usize = txBuf + PAYLOAD_OFFSET6 + HEADER_LEN;

/** udpSendto's destination over IPv6 for udpSendPrepared (16 bytes at dst6()), 0: IPv4. */
let to6: usize = 0;
function dst6(): usize {
  return UDP6_DST;
}

/** udpSendto to [a]:port over IPv6 (a: 16 bytes; unspecified with port 0: the connected peer). */
export function udpSendto6(fd: i32, ptr: usize, len: u32, a: usize, port: u32): i32 {
  if (!FEATURE_IPV6) return ENOSYS;
  // A bad fd: udpSendPrepared says so (the frame written here is scratch).
  addrCopy(dst6(), a); // a may lie in the frame we are about to write
  if (len <= UDP_MAX_PAYLOAD - 20) memory.copy(UDP6_TX_PAYLOAD, ptr, len); // else EMSGSIZE below
  to6 = dst6();
  return udpSendPrepared(fd, len, 0, port);
}

/** The IPv6 source of the datagram the last recvfrom returned, written at out: 1, or 0 when it
 *  came over IPv4 (udpFromIp then). */
export function udpFrom6(fd: i32, out: usize): u32 {
  if (!FEATURE_IPV6 || !valid(fd) || (udpSock(fd).used & U_FROM6) == 0) return 0;
  addrCopy(out, udpAddrs6(fd) + 16);
  return 1;
}

export function udpSendto(fd: i32, ptr: usize, len: u32, ip: u32, port: u32): i32 {
  if (!valid(fd)) return EINVAL;
  if (len > UDP_MAX_PAYLOAD) return EMSGSIZE;
  memory.copy(UDP_TX_PAYLOAD, ptr, len);
  return udpSendPrepared(fd, len, ip, port);
}

/** Sends the len bytes already at UDP_TX_PAYLOAD (built there, so nothing is copied). */
export function udpSendPrepared(fd: i32, len: u32, ip: u32, port: u32): i32 {
  // Over IPv6 too: udpSendto6 set to6 (and built the payload at UDP6_TX_PAYLOAD) just before.
  let a = FEATURE_IPV6 ? to6 : 0;
  if (FEATURE_IPV6) to6 = 0;
  if (!valid(fd)) return EINVAL;
  const s = udpSock(fd);
  if (s.error) return takeError(s);
  let move = false;
  if (port == 0 && (FEATURE_IPV6 && a != 0 ? isUnspecified(a) : ip == 0)) {
    // No destination: the connected peer. An IPv6 one's datagram built at UDP_TX_PAYLOAD moves
    // on past the longer header.
    if (FEATURE_IPV6 && (s.used & U_REMOTE6) != 0) {
      move = a == 0;
      a = udpAddrs6(fd);
    }
    ip = s.remoteIp;
    port = s.remotePort;
  }
  const v6 = FEATURE_IPV6 && a != 0;
  if ((v6 ? isUnspecified(a) : ip == 0) || port == 0 || port > 0xffff) return EINVAL;
  if (len > UDP_MAX_PAYLOAD - (v6 ? 20 : 0)) return EMSGSIZE; // the IPv6 header is 20 bytes longer
  if (FEATURE_IPV6 && move) memory.copy(UDP6_TX_PAYLOAD, UDP_TX_PAYLOAD, len);
  if (s.localPort == 0) {
    const r = udpBind(fd, 0);
    if (r < 0) return r;
  }
  tx.srcPort = s.localPort;
  tx.dstPort = port;
  tx.payloadLen = len;
  let src6: usize = 0;
  if (v6) {
    src6 = sourceFor(a);
    if (src6 == 0) return EHOSTUNREACH;
  }
  tx.emitFrom(txBuf + (src6 != 0 ? PAYLOAD_OFFSET6 : PAYLOAD_OFFSET), localFor(ip), ip, src6, a);
  let r: i32;
  if (v6) {
    // To a group: the socket's multicast hop limit (1 by default: this link), as for IPv4.
    r = ipv6Output(txBuf, HEADER_LEN + len, NH_UDP, src6, a, isMulticast6(a) ? <u32>s.mcastTtl : hopLimit);
  } else {
    r = FEATURE_MULTICAST && isMulticast(ip)
      ? ipv4Output(txBuf, HEADER_LEN + len, PROTO_UDP, ip, s.mcastTtl)
      : ipv4Output(txBuf, HEADER_LEN + len, PROTO_UDP, ip);
  }
  if (r < 0) return r;
  count(C.UDP_DATAGRAMS_SENT);
  return <i32>len;
}

export function udpRecvfrom(fd: i32, ptr: usize, len: u32): i32 {
  if (!valid(fd)) return EINVAL;
  const s = udpSock(fd);
  const ring = udpRing(fd);
  if (ring.len < RECORD_LEN) {
    if (s.error) return takeError(s);
    return EWOULDBLOCK;
  }
  ring.peek(header, 0, RECORD_LEN);
  const field = <u32>load<u16>(header);
  s.fromPort = <u32>load<u16>(header, 2);
  s.fromIp = load<u32>(header, 4);
  let at = RECORD_LEN;
  let data = field;
  if (FEATURE_IPV6) {
    // An IPv6 source (REC_V6) follows the header. Branch-free: REC_V6 >> 11 is its 16 bytes,
    // and >> 2 more U_FROM6.
    const v6 = (field & REC_V6) >> 11;
    s.used = (s.used & ~U_FROM6) | (v6 >> 2);
    ring.peek(udpAddrs6(fd) + 16, RECORD_LEN, 16); // the data's first bytes when IPv4: unused
    at += v6;
    data &= ~REC_V6;
  }
  const m = data < len ? data : len;
  ring.peek(ptr, at, m);
  ring.consume(at + data);
  return <i32>m;
}

/** Joins group (224.0.0.0/4) on fd: its datagrams to the socket's port are received.
 *  EINVAL (not a group, or a bad fd), EADDRINUSE (already joined), ENOBUFS (MCAST_GROUPS in use). */
export function udpJoin(fd: i32, group: u32): i32 {
  if (!FEATURE_MULTICAST) return ENOSYS;
  if (!valid(fd) || !isMulticast(group)) return EINVAL;
  const s = udpSock(fd);
  const had = igmpSlot(group);
  if (had >= 0 && (<u32>s.groups & (1 << had)) != 0) return EADDRINUSE;
  const slot = igmpJoin(group);
  if (slot < 0) return slot;
  s.groups = <u16>(<u32>s.groups | (1 << <u32>slot));
  return OK;
}

/** Leaves group on fd (the last socket to leave it tells the routers). EINVAL if not joined. */
export function udpLeave(fd: i32, group: u32): i32 {
  if (!FEATURE_MULTICAST) return ENOSYS;
  if (!valid(fd)) return EINVAL;
  const s = udpSock(fd);
  const slot = igmpSlot(group);
  if (slot < 0 || (<u32>s.groups & (1 << slot)) == 0) return EINVAL;
  s.groups = <u16>(<u32>s.groups & ~(1 << <u32>slot));
  igmpLeave(slot);
  return OK;
}

/** The TTL of fd's multicast datagrams (1..255; default MCAST_DEFAULT_TTL: this link only). */
export function udpSetMulticastTtl(fd: i32, ttl: u32): i32 {
  if (!FEATURE_MULTICAST) return ENOSYS;
  if (!valid(fd) || ttl == 0 || ttl > 255) return EINVAL;
  udpSock(fd).mcastTtl = <u8>ttl;
  return OK;
}

export function udpFromIp(fd: i32): u32 {
  return valid(fd) ? udpSock(fd).fromIp : 0;
}

export function udpFromPort(fd: i32): u32 {
  return valid(fd) ? udpSock(fd).fromPort : 0;
}

export function udpClose(fd: i32): i32 {
  if (!valid(fd)) return EINVAL;
  udpFree(fd);
  return OK;
}

export function udpEvents(fd: i32): u32 {
  if (!valid(fd)) return 0;
  const s = udpSock(fd);
  let ev = EV_WRITABLE;
  if (udpRing(fd).len >= RECORD_LEN) ev |= EV_READABLE;
  if (s.error) ev |= EV_ERROR | EV_READABLE;
  return ev;
}

export function udpLocalPort(fd: i32): u32 {
  return valid(fd) ? udpSock(fd).localPort : 0;
}
