// TCP input (lwIP's tcp_in.c counterpart): "segment arrives", RFC 9293 §3.10.7, with the RFC 5961
// defences, RFC 6298 RTT sampling and RFC 5681 / RFC 6582 congestion control on ACKs.
import {
  TCP_DEFAULT_MSS, TCP_DELACK_MS, TCP_FIN_WAIT_2_MS, TCP_KEEPCNT, TCP_KEEPIDLE_MS, TCP_KEEPINTVL_MS, TCP_MSL_MS,
  TCP_MSS, TCP_RCV_BUF, TCP_RTO_INITIAL_MS, TCP_RTO_MAX_MS, TCP_RTO_MIN_MS, TCP_TIME_WAIT_SLOTS,
} from "../../config";
import { now } from "../../support/clock";
import { twArmed } from "./timers";
import { C, count } from "../../support/counters";
import { ECONNREFUSED, ECONNRESET, EHOSTUNREACH } from "../../support/errors";
import { ipAddr, localFor } from "../../iface/netif";
import { ipv4NextHop } from "../../iface/ipv4";
import { get16, get32 } from "../../support/bytes";
import { TYPE_DEST_UNREACHABLE, TYPE_REDIRECT, TYPE_SOURCE_QUENCH } from "../../wire/icmp";
import { WireError } from "../../wire/error";
import { ACK, FIN, RST, SYN, TcpRepr, rxTsEcr, rxTsVal } from "../../wire/tcp";
import { addrCopy, addrEq, addrPairEq, isUnspecified } from "../../wire/ipv6";
import { isn, key6 } from "./isn";
import {
  CLOSED, CLOSE_WAIT, CLOSING, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, LAST_ACK, LISTEN, SYN_RECEIVED, SYN_SENT, TIME_WAIT,
  F_ACK_NOW, F_APP, F_CHILD, F_FIN_AHEAD, F_DELACK, F_FIN_RCVD, F_FIN_SENT, F_KEEPALIVE, F_PERSIST, F_RD_SHUT, F_RECOVERY, F_RTT,
  F_RTX, F_SYN_ACKED, F_USED, F_WSCALE, F_NODELAY, F_LOSS, F_PTO, F_RPROBE, F_SACK, F_TLP_OUT, F_TLP_RTX, F_TS, F_DSACK_CHECK,
  NO_BUFFERS_LEFT, Pcb, ooo, pcb, pcbAllocConnection, pcbFree, rcvRing, sacked, sndRing, tsLastAckAt, tsRecentAt, tw,
  F_V6, TW_V6, TW_V6_SHIFT, addrs6, ctl6, familyIs, pcbTakeFamily, sameFamily, setCtl6, twAddrs6,
} from "./pcb";
import { FEATURE_IPV6, TCP_MAX_SOCKETS, TCP_SACK, TCP_SYN_COOKIES, TCP_TIMESTAMPS } from "../../config";
import { COOKIE_SACK, cookieMss, sendCookieSynAck, synCookie, synCookieCheck, synFlood, synFloodStart, synSeen } from "./syncookie";
import { sackAcked, sackDuplicate, sackEnter, sackSpurious, sackTake, sackUnaLost } from "./sack";
import {
  OUT_LIMITED, armRtx, challengeAck, mss6, mssFor, retransmitFirst, sackOutput, sackRetransmitFirst, schedulePto, sendAck, sendControl, sendSyn, tcpOutput,
  tcpOutputMode,
} from "./output";
import { seqGe, seqGt, seqLe, seqLt } from "./seq";

const seg = changetype<TcpRepr>(memory.data(offsetof<TcpRepr>()));
/** Our window scale: the shift that lets the receive ring's size fit 16 bits (0 at our sizes). */
export const OUR_SHIFT: u32 = 0;
let orderCounter: u32 = 0;
const RTO_AFTER_SYN_TIMEOUT_MS: u32 = 3000;

// @ts-ignore: decorator
@inline function segLen(): u32 {
  return seg.payloadLen + ((seg.flags & SYN) ? 1 : 0) + ((seg.flags & FIN) ? 1 : 0);
}

/** Defaults shared by active and passive opens. */
export function initConnection(c: Pcb): void {
  c.mss = TCP_DEFAULT_MSS;
  c.rto = TCP_RTO_INITIAL_MS;
  c.ssthresh = 0x7fffffff; // "arbitrarily high" (RFC 5681 §3.1)
  c.keepIdle = TCP_KEEPIDLE_MS;
  c.keepIntvl = TCP_KEEPINTVL_MS;
  c.keepCnt = TCP_KEEPCNT;
  c.recover = c.iss;
}

/** Initial window (RFC 3390): min(4 MSS, max(2 MSS, 4380 bytes)). */
export function initialWindow(mss: u32): u32 {
  return min<u32>(4 * mss, max<u32>(2 * mss, 4380));
}

/** RFC 9293 §3.7.1: the send MSS without an MSS option over IPv6 (1280 - 40 - 20). */
const DEFAULT_MSS6: u32 = 1220;

function synOptions(i: i32): void {
  const c = pcb(i);
  // IPv6: never above what the path MTU leaves (RFC 8201 §5.2).
  c.mss = mssFor(i, seg.mss ? min<u32>(seg.mss, TCP_MSS) : FEATURE_IPV6 && (c.flags & F_V6) != 0 ? DEFAULT_MSS6 : TCP_DEFAULT_MSS);
  if (c.mss < 64) c.mss = 64; // an absurdly small MSS would make us send a segment per byte
  // RFC 7323 §2.2: scaling applies only if both SYNs carried the option.
  if (seg.wscale >= 0) {
    c.flags |= F_WSCALE;
    c.sndShift = <u8>seg.wscale;
    c.rcvShift = <u8>OUR_SHIFT;
  } else {
    c.flags &= ~F_WSCALE;
    c.sndShift = 0;
    c.rcvShift = 0;
  }
  // RFC 2018 §2: SACK when both SYNs carry SACK-permitted (a SYN-ACK carries it only if the SYN did).
  if (TCP_SACK && seg.sackPermitted) c.flags |= F_SACK;
  else c.flags &= ~F_SACK;
  // RFC 7323 §3.2: timestamps when both SYNs carry them (a SYN-ACK carries them only if the SYN
  // did); TS.Recent starts at the SYN's TSval.
  if (TCP_TIMESTAMPS && seg.tsPresent) {
    c.flags |= F_TS;
    store<u32>(tsRecentAt(i), rxTsVal);
  } else c.flags &= ~F_TS;
  c.sndWnd = seg.window; // never scaled in a SYN
  c.maxSndWnd = c.sndWnd;
  c.sndWl1 = seg.seq;
  c.sndWl2 = seg.ack;
  c.cwnd = initialWindow(c.mss);
}

function findConnection(lport: u32, rip: u32, rport: u32): i32 {
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    if ((c.flags & F_USED) == 0 || c.state <= LISTEN) continue;
    if (c.localPort == lport && c.remotePort == rport && c.remoteIp == rip && (!FEATURE_IPV6 || sameFamily(i))) return i;
  }
  return -1;
}

/**
 * An ICMP error about a segment we sent (RFC 1122 §4.2.3.9, RFC 5461): quoted is the datagram's IP
 * header and at least 8 bytes of the TCP header (len bytes, len >= 28, checked by the caller).
 * Matched by the 4-tuple, and believed only when the quoted sequence number is in SND.UNA..SND.MAX
 * (RFC 5927: a blind attacker must guess it). Protocol or port unreachable (type 3, codes 2
 * and 3) is a hard error, and only while connecting (RFC 5461) does it abort: connect fails
 * with ECONNREFUSED. Fragmentation needed (code 4) is not: we never send with DF, so it is the
 * RFC 1191 PMTU signal gone astray, not a reason to abort (RFC 1191). Every other error,
 * and a hard one in a synchronized state, is soft: the next timeout reports it (below).
 */
export function tcpIcmpError(type: u32, code: u32, quoted: usize, len: u32): C {
  let at: usize; // the quoted TCP header
  let kind: i32;
  const v6 = FEATURE_IPV6 && <u32>load<u8>(quoted) >> 4 == 6;
  if (v6) {
    // From iface/icmpv6.ts: its IPv6 header and at least 8 bytes of TCP. Hard (RFC 5461 §4.1,
    // ICMPv6's counterparts of protocol and port unreachable): destination unreachable code 1
    // (administratively prohibited) and 4 (port unreachable), parameter problem code 1
    // (unrecognized next header).
    at = quoted + 40;
    kind = (type == 1 && (code == 1 || code == 4)) || (type == 4 && code == 1) ? 1 : 0;
  } else {
    const ihl = (<u32>load<u8>(quoted) & 15) << 2;
    if (ihl < 20 || len < ihl + 8) return C.TCP_ICMP_UNMATCHED;
    at = quoted + ihl;
    // Source quench is ignored (RFC 6633), a redirect is for IP.
    const ignored = type == TYPE_SOURCE_QUENCH || type == TYPE_REDIRECT;
    kind = ignored ? -1 : type == TYPE_DEST_UNREACHABLE && (code == 2 || code == 3) ? 1 : 0;
  }
  const i = findConnection(get16(at), v6 ? ctl6From(quoted + 24, quoted + 8) : get32(quoted + 16), get16(at + 2));
  if (FEATURE_IPV6) setCtl6(0);
  return icmpErrorFor(i, get32(at + 4), kind);
}

/** Sets ctl6 to copies of the IPv6 addresses src (the peer's) and dst (ours) and returns their
 *  key (isn.ts key6), which stands in for the IPv4 peer in the lookups. */
function ctl6From(src: usize, dst: usize): u32 {
  const a = memory.data(32, 8);
  addrCopy(a, src);
  addrCopy(a + 16, dst);
  setCtl6(a);
  return key6(a, a + 16);
}

/** An ICMP error for connection i (-1: none) about a segment at sequence sq: matched only when sq
 *  is in SND.UNA..SND.MAX (RFC 5927); kind -1 ignored, 0 soft (remembered for the timeout), 1
 *  hard (aborts a connection still opening, soft otherwise). */
function icmpErrorFor(i: i32, sq: u32, kind: i32): C {
  if (i < 0) return C.TCP_ICMP_UNMATCHED;
  const c = pcb(i);
  if (sq - c.sndUna >= c.sndMax - c.sndUna) return C.TCP_ICMP_OUT_OF_WINDOW;
  if (kind < 0) return C.ICMP_ERROR_RECEIVED;
  const hard = kind > 0;
  if (hard && (c.state == SYN_SENT || (c.state == SYN_RECEIVED && (c.flags & F_CHILD) == 0))) {
    count(C.TCP_ICMP_ABORTS);
    fail(i, ECONNREFUSED);
  } else {
    c.softError = hard ? ECONNREFUSED : EHOSTUNREACH;
    c.softUna = c.sndUna;
  }
  return C.ICMP_ERROR_RECEIVED;
}

/**
 * ARP gave up on neighbour ip (iface/arp.ts: ARP_MAX_REQUESTS unanswered, about 3 s): a connection
 * still opening through it fails with EHOSTUNREACH, as Linux's does when its neighbour entry
 * fails, rather than retrying its SYN for a minute: the link itself says the host is not there.
 * Synchronized connections go on retransmitting (each retransmission asks ARP again).
 */
export function tcpNeighbourLost(ip: u32): void {
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    if ((c.flags & F_USED) == 0 || ipv4NextHop(c.remoteIp) != ip || (FEATURE_IPV6 && (c.flags & F_V6) != 0)) continue;
    if (c.state == SYN_SENT || (c.state == SYN_RECEIVED && (c.flags & F_CHILD) == 0)) {
      count(C.TCP_UNREACHABLE_ABORTS);
      fail(i, EHOSTUNREACH);
    }
  }
}

/**
 * An address event (iface/ipv6.ts addressEvent6; a6 = 0: IPv4, from api/tcp.ts tcpAddressLost).
 * lost: our address is gone, a DHCP lease's (RFC 2131 §4.4.5) or an IPv6 one past its valid
 * lifetime (RFC 4862 §5.5.4: it MUST NOT be a source any more): the connections bound to it fail
 * with EHOSTUNREACH (one in TIME-WAIT just closes), without a RST (it could only come from that
 * address), and their TIME-WAIT records go. A deprecated address keeps its connections (§5.5.4).
 * Not lost (IPv6): a Packet Too Big lowered the path MTU to peer a6: its connections send smaller
 * segments from now on, and the one in flight that was too big is sent again at once rather than
 * at the RTO (RFC 8201 §5.2, RFC 1191 §6.5's advice for TCP).
 */
export function tcpAddressEvent(a6: usize, lost: bool): void {
  const v6 = FEATURE_IPV6 && a6 != 0;
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    if ((c.flags & F_USED) == 0 || c.state == CLOSED || c.state == LISTEN) continue;
    if (FEATURE_IPV6 && ((c.flags & F_V6) != 0) != v6) continue; // the other family
    if (v6) {
      if (!addrEq(addrs6(i) + (lost ? 16 : 0), a6)) continue; // lost: ours; else the peer's
      if (!lost) {
        const m = mss6(a6);
        if (m < c.mss) {
          c.mss = m;
          if (c.state >= ESTABLISHED && c.sndUna != c.sndMax) retransmitFirst(i);
        }
        continue;
      }
    } else if (localFor(c.remoteIp) != ipAddr) continue; // over 127/8: not using the lost address
    if (c.state != TIME_WAIT) c.error = EHOSTUNREACH;
    closed(i);
  }
  if (!lost) return;
  for (let t = 0; t < TCP_TIME_WAIT_SLOTS; t++) {
    const s = tw(t);
    if (!FEATURE_IPV6 || (v6 ? (s.used & TW_V6) != 0 && addrEq(twAddrs6(t) + 16, a6) : (s.used & TW_V6) == 0)) s.used = 0;
  }
}

function findListener(lport: u32): i32 {
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    if ((c.flags & F_USED) != 0 && c.state == LISTEN && c.localPort == lport) return i;
  }
  return -1;
}

function findTimeWait(lport: u32, rip: u32, rport: u32): i32 {
  for (let t = 0; t < TCP_TIME_WAIT_SLOTS; t++) {
    const s = tw(t);
    if (s.used && s.localPort == lport && s.remotePort == rport && s.remoteIp == rip && (!FEATURE_IPV6 || twSameFamily(t))) return t;
  }
  return -1;
}

/** sameFamily() for TIME-WAIT record t. */
function twSameFamily(t: i32): bool {
  return familyIs((tw(t).used & TW_V6) != 0, twAddrs6(t));
}

/** Children of listener l that count against its backlog (SYN-RECEIVED or not yet accepted). */
export function backlogCount(l: i32): u32 {
  let n: u32 = 0;
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    if ((c.flags & (F_USED | F_CHILD)) == (F_USED | F_CHILD) && c.parent == l) n++;
  }
  return n;
}

/** The connection is over. A block nobody holds is freed; the application's stays, CLOSED. */
export function closed(i: i32): void {
  const c = pcb(i);
  c.state = CLOSED;
  c.flags &= ~(F_RTX | F_PERSIST | F_DELACK | F_ACK_NOW | F_KEEPALIVE);
  if ((c.flags & F_APP) == 0) pcbFree(i);
}

/** Fails the connection with an error for the application. */
export function fail(i: i32, err: i32): void {
  pcb(i).error = err;
  closed(i);
}

export function enterTimeWait(i: i32): void {
  const c = pcb(i);
  c.state = TIME_WAIT;
  c.flags &= ~(F_RTX | F_PERSIST | F_DELACK | F_KEEPALIVE);
  c.closeAt = now + 2 * TCP_MSL_MS;
  if ((c.flags & F_APP) == 0) moveToTimeWait(i);
}

/** Keeps only what TIME-WAIT needs and frees the connection block and its buffers. */
export function moveToTimeWait(i: i32): void {
  const c = pcb(i);
  let slot = -1;
  let oldest: u32 = 0;
  for (let t = 0; t < TCP_TIME_WAIT_SLOTS; t++) {
    const s = tw(t);
    if (!s.used) { slot = t; break; }
    const left = s.until - now;
    if (slot < 0 || left < oldest) { slot = t; oldest = left; }
  }
  const s = tw(slot);
  if (s.used) count(C.TCP_TIME_WAIT_RECYCLED);
  // IPv6: TW_V6 from F_V6; the addresses are copied for IPv4 too (unused there).
  s.used = FEATURE_IPV6 ? <u16>(1 | (c.flags & F_V6) >> TW_V6_SHIFT) : 1;
  twArmed();
  if (FEATURE_IPV6) memory.copy(twAddrs6(slot), addrs6(i), 32);
  s.localPort = c.localPort;
  s.remoteIp = c.remoteIp;
  s.remotePort = c.remotePort;
  s.rcvNxt = c.rcvNxt;
  s.rcvWnd = <u16>min<u32>(seqGt(c.rcvAdv, c.rcvNxt) ? c.rcvAdv - c.rcvNxt : 0, 0xffff);
  s.sndNxt = c.sndNxt;
  s.until = c.closeAt;
  pcbFree(i);
}

/** Handles the segment in rxBuf at p (len bytes of IP payload) from src to dst. */
export function tcpInput(p: usize, len: u32, src: u32, dst: u32, toBroadcast: bool): C {
  const a6 = FEATURE_IPV6 ? ctl6 : 0; // the peer's address, ours after it
  const err = seg.parseFrom(p, len, src, dst, a6, a6 + 16);
  if (err != WireError.OK) {
    if (err == WireError.BAD_CHECKSUM) return C.TCP_BAD_CHECKSUM;
    if (err == WireError.BAD_HEADER_LEN) return C.TCP_BAD_HEADER_LEN;
    return C.TCP_TRUNCATED;
  }
  // RFC 1122 §4.2.3.10: TCP is unicast only.
  if (toBroadcast) return C.TCP_BROADCAST;
  // Port 0 is reserved and 0.0.0.0 is no source for a connection (RFC 1122 §3.2.1.3): neither can
  // be answered, and a block for one would look like a listener (found by the fuzzer).
  if (seg.srcPort == 0 || seg.dstPort == 0 || src == 0) return C.TCP_BAD_ENDPOINT;
  const data = p + seg.headerLen;
  const i = findConnection(seg.dstPort, src, seg.srcPort);
  if (i >= 0) return segmentArrives(i, data, src);
  const t = findTimeWait(seg.dstPort, src, seg.srcPort);
  if (t >= 0) {
    const s = tw(t);
    if ((seg.flags & (SYN | ACK | RST)) == SYN && seqGt(seg.seq, s.rcvNxt)) {
      s.used = 0; // a new incarnation may reuse the 4-tuple (RFC 9293 §3.6.1, as BSD does)
    } else {
      const r = timeWaitInput(s.rcvNxt, s.rcvWnd);
      if (twRestart) s.until = now + 2 * TCP_MSL_MS;
      if (twAck) sendControl(s.localPort, s.remoteIp, s.remotePort, s.sndNxt, s.rcvNxt, ACK);
      return r;
    }
  }
  const l = findListener(seg.dstPort);
  if (l >= 0) return listenInput(l, src, data);
  // No connection (RFC 9293 §3.10.7.1): answer with a RST, never a RST to a RST.
  if ((seg.flags & RST) == 0) resetFor(src);
  return C.TCP_NO_SOCKET;
}

/** A segment over IPv6 (iface/ipv6.ts): its addresses are ctl6, which the lookups and every reply
 *  use, and their key (isn.ts key6) stands in for the IPv4 source. In the received header the
 *  source and destination lie side by side (dst = src + 16), ctl6's order: nothing is copied. */
export function tcpInput6(p: usize, len: u32, src: usize, dst: usize, mcast: bool): C {
  if (isUnspecified(src)) return C.TCP_BAD_ENDPOINT;
  setCtl6(src);
  const r = tcpInput(p, len, key6(src, dst), 0, mcast);
  setCtl6(0);
  return r;
}


function resetFor(src: u32): void {
  if (seg.flags & ACK) sendControl(seg.dstPort, src, seg.srcPort, seg.ack, 0, RST);
  else sendControl(seg.dstPort, src, seg.srcPort, 0, seg.seq + segLen(), RST | ACK);
}

/** Children of listener l that are established and wait for accept(). */
function acceptQueue(l: i32): u32 {
  let n: u32 = 0;
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    if ((c.flags & (F_USED | F_CHILD)) == (F_USED | F_CHILD) && c.parent == l && c.state != SYN_RECEIVED) n++;
  }
  return n;
}

/** The oldest half-open child of listener l (of any listener when l < 0), -1 if none; outside
 *  flood mode only one whose first SYN-ACK has gone unanswered for the initial RTO. */
function oldestHalfOpen(l: i32, flood: bool): i32 {
  const wait: u32 = flood ? 0 : TCP_RTO_INITIAL_MS;
  let best = -1;
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    if ((c.flags & (F_USED | F_CHILD)) != (F_USED | F_CHILD) || c.state != SYN_RECEIVED) continue;
    if ((l >= 0 && c.parent != l) || now - c.rttTime < wait) continue;
    if (best < 0 || <i32>(c.order - pcb(best).order) < 0) best = i;
  }
  return best;
}

function listenInput(l: i32, src: u32, data: usize): C {
  const f = seg.flags;
  if (f & RST) return C.TCP_LISTEN_DROP;
  if (f & ACK) {
    if (TCP_SYN_COOKIES && (f & SYN) == 0) {
      // Our SYN-ACK's ISN is a cookie: the ACK of a SYN we kept nothing for, or whose child was evicted.
      const meta = synCookieCheck(seg.ack - 1, src, seg.dstPort, seg.srcPort, seg.seq - 1);
      if (meta >= 0) return cookieOpen(l, src, data, <u32>meta);
    }
    resetFor(src);
    return C.TCP_BAD_ACK;
  }
  if ((f & SYN) == 0) return C.TCP_LISTEN_DROP;
  // listen(backlog): beyond it, or with no block left, a cookie-capable listener enters flood mode
  // and answers with a cookie; without cookies the SYN is dropped silently so the peer retries (no
  // RST). The policy: syncookie.ts.
  const lc = pcb(l);
  if (TCP_SYN_COOKIES) synSeen();
  const full = backlogCount(l) >= lc.backlog;
  const cookie = TCP_SYN_COOKIES && acceptQueue(l) < lc.backlog;
  const i = full || (cookie && synFlood()) ? -1 : pcbAllocConnection();
  if (i < 0) {
    if (cookie) {
      synFloodStart();
      const sack = TCP_SACK && seg.sackPermitted;
      const iss = synCookie(src, seg.dstPort, seg.srcPort, seg.seq, seg.mss, seg.wscale, sack);
      sendCookieSynAck(seg.dstPort, src, seg.srcPort, iss, seg.seq + 1, seg.wscale >= 0 ? <i32>OUR_SHIFT : -1, sack);
      return C.TCP_SYN_COOKIE;
    }
    return full ? C.TCP_BACKLOG_FULL : i == NO_BUFFERS_LEFT ? C.TCP_NO_BUFFERS : C.TCP_NO_BLOCK;
  }
  const c = pcb(i);
  if (FEATURE_IPV6) pcbTakeFamily(i);
  c.state = SYN_RECEIVED;
  c.flags |= F_CHILD | (lc.flags & (F_NODELAY | F_KEEPALIVE));
  c.parent = l;
  c.order = orderCounter++;
  c.localPort = seg.dstPort;
  c.remoteIp = src;
  c.remotePort = seg.srcPort;
  c.irs = seg.seq;
  c.rcvNxt = seg.seq + 1;
  c.iss = isn(now, ipAddr, c.localPort, src, c.remotePort); // RFC 6528: cookies only in flood mode
  c.sndUna = c.iss;
  c.sndNxt = c.iss + 1;
  c.sndMax = c.sndNxt;
  c.sndBase = c.sndNxt;
  initConnection(c);
  c.keepIdle = lc.keepIdle;
  c.keepIntvl = lc.keepIntvl;
  c.keepCnt = lc.keepCnt;
  synOptions(i);
  c.sndWl2 = c.iss;
  c.rttTime = now;
  count(C.TCP_PASSIVE_OPENS);
  sendSyn(i);
  return C.TCP_DELIVERED;
}

/** An ACK returned a valid cookie (meta: its MSS index and the peer's window shift): open the
 *  connection as if the SYN had made a child, then process the ACK (and any data) in SYN-RECEIVED. */
function cookieOpen(l: i32, src: u32, data: usize, meta: u32): C {
  const lc = pcb(l);
  if (acceptQueue(l) >= lc.backlog) return C.TCP_BACKLOG_FULL; // the peer retransmits; the cookie stays valid
  const full = backlogCount(l) >= lc.backlog;
  let i = full ? -1 : pcbAllocConnection();
  if (i < 0) {
    // Its ISN was no cookie: if its peer was real after all, its ACK draws a RST.
    const v = oldestHalfOpen(full ? l : -1, synFlood());
    if (v < 0) return full ? C.TCP_BACKLOG_FULL : i == NO_BUFFERS_LEFT ? C.TCP_NO_BUFFERS : C.TCP_NO_BLOCK;
    pcbFree(v); // its block and its buffers
    count(C.TCP_HALF_OPEN_EVICTED);
    i = pcbAllocConnection();
    if (i < 0) return i == NO_BUFFERS_LEFT ? C.TCP_NO_BUFFERS : C.TCP_NO_BLOCK;
  }
  const c = pcb(i);
  if (FEATURE_IPV6) pcbTakeFamily(i);
  c.state = SYN_RECEIVED;
  c.flags |= F_CHILD | (lc.flags & (F_NODELAY | F_KEEPALIVE));
  c.parent = l;
  c.order = orderCounter++;
  c.localPort = seg.dstPort;
  c.remoteIp = src;
  c.remotePort = seg.srcPort;
  c.irs = seg.seq - 1;
  c.rcvNxt = seg.seq;
  c.iss = seg.ack - 1;
  c.sndUna = c.iss;
  c.sndNxt = seg.ack;
  c.sndMax = seg.ack;
  c.sndBase = seg.ack;
  initConnection(c);
  c.keepIdle = lc.keepIdle;
  c.keepIntvl = lc.keepIntvl;
  c.keepCnt = lc.keepCnt;
  c.mss = mssFor(i, cookieMss((meta >> 4) & 3));
  if (TCP_SACK && (meta & COOKIE_SACK)) c.flags |= F_SACK;
  const shift = meta & 15;
  if (shift != 15) {
    c.flags |= F_WSCALE;
    c.sndShift = <u8>min<u32>(shift, 14);
    c.rcvShift = <u8>OUR_SHIFT;
  }
  c.cwnd = initialWindow(c.mss);
  // What the cookie SYN-ACK offered; the window update below takes this ACK's window.
  c.rcvAdv = c.rcvNxt + (TCP_RCV_BUF > 0xffff ? 0xffff : TCP_RCV_BUF);
  c.sndWl1 = seg.seq - 1;
  c.sndWl2 = c.iss;
  c.retries = 1; // no RTT sample: when the SYN-ACK left is unknown
  count(C.TCP_PASSIVE_OPENS);
  count(C.TCP_SYNCOOKIES_OK);
  return segmentArrives(i, data, src);
}

function synSentInput(i: i32, src: u32, data: usize): C {
  const c = pcb(i);
  const f = seg.flags;
  if (f & ACK) {
    if (seqLe(seg.ack, c.iss) || seqGt(seg.ack, c.sndNxt)) {
      if ((f & RST) == 0) sendControl(c.localPort, src, c.remotePort, seg.ack, 0, RST);
      return C.TCP_BAD_ACK;
    }
  }
  if (f & RST) {
    if ((f & ACK) == 0) return C.TCP_RST_IGNORED;
    count(C.TCP_RESETS_RECEIVED);
    fail(i, ECONNREFUSED);
    return C.TCP_DELIVERED;
  }
  if ((f & SYN) == 0) return C.TCP_NO_ACK;
  c.irs = seg.seq;
  c.rcvNxt = seg.seq + 1;
  synOptions(i);
  if (f & ACK) {
    c.sndUna = seg.ack;
    c.flags |= F_SYN_ACKED | F_ACK_NOW;
    c.flags &= ~F_RTX;
    established(c);
    // RFC 9293 §3.10.7.3: text and controls on the SYN-ACK are processed as in ESTABLISHED (from
    // the sixth step): the data after the SYN's sequence number, then a FIN after the data.
    if (seg.payloadLen > 0) synText(i, data);
    if ((f & FIN) != 0 && c.rcvNxt == seg.seq + 1 + seg.payloadLen) finArrived(i);
    tcpOutput(i);
  } else {
    // Simultaneous open (RFC 9293 §3.5, figure 7): SYN-RECEIVED, SYN-ACK with our ISS. Text on
    // the SYN is queued for ESTABLISHED (§3.10.7.3): it waits in the receive ring, and the SYN-ACK
    // acknowledges it. (A FIN on it is not taken: the peer sends it again.)
    c.state = SYN_RECEIVED;
    if (seg.payloadLen > 0) {
      synText(i, data);
      c.flags &= ~(F_ACK_NOW | F_DELACK);
      c.unacked = 0;
    }
    sendSyn(i);
  }
  return C.TCP_DELIVERED;
}

/** The text of a SYN (its sequence number is the SYN's + 1), taken as in-order data. */
function synText(i: i32, data: usize): void {
  seg.seq++;
  processData(i, data);
  seg.seq--;
}

/** The four acceptability cases of RFC 9293 §3.10.7.4 for the segment in seg. */
// @ts-ignore: decorator
@inline function acceptable(rcvNxt: u32, wnd: u32): bool {
  const slen = segLen();
  // A zero-length segment may sit exactly at the right edge: a peer with a full window in flight
  // acknowledges our data from SND.NXT = our RCV.NXT + RCV.WND (Linux accepts it too). Read
  // literally (SEG.SEQ < RCV.NXT + RCV.WND) §3.10.7.4 would drop those ACKs.
  if (slen == 0) return seqGe(seg.seq, rcvNxt) && seqLe(seg.seq, rcvNxt + wnd);
  if (wnd == 0) return seg.seq == rcvNxt; // its ACK and RST are still processed; the data is not kept
  return (seqGe(seg.seq, rcvNxt) && seqLt(seg.seq, rcvNxt + wnd)) ||
    (seqGe(seg.seq + slen - 1, rcvNxt) && seqLt(seg.seq + slen - 1, rcvNxt + wnd));
}

/** What TIME-WAIT does with the segment (RFC 9293 §3.10.7.4, in its order), for both of its
 *  representations: a held block and a compact slot. Returns the counter; twAck: answer with an
 *  ACK (a challenge ACK for a SYN), twRestart: restart the 2 MSL timer. */
let twAck = false;
let twRestart = false;
function timeWaitInput(rcvNxt: u32, wnd: u32): C {
  const f = seg.flags;
  twAck = false;
  twRestart = false;
  // RST (the second step, taken first: RFC 1337 against TIME-WAIT assassination): ignored, in the
  // window or not, never answered.
  if (f & RST) return C.TCP_TIME_WAIT;
  if (!acceptable(rcvNxt, wnd)) {
    // First: an unacceptable segment, even a zero-length one, is ACKed and dropped. The peer's FIN
    // again (it ends at RCV.NXT, with the ACK bit) is the one TIME-WAIT is for: our ACK was lost;
    // ACK it and restart the 2 MSL timeout (the TIME-WAIT entries of the fifth and eighth steps).
    twAck = true;
    if ((f & (FIN | ACK)) == (FIN | ACK) && seg.seq + segLen() == rcvNxt) {
      twRestart = true;
      return C.TCP_TIME_WAIT;
    }
    return C.TCP_OUT_OF_WINDOW;
  }
  // Fourth: an in-window SYN is challenged (RFC 5961 §4.2).
  if (f & SYN) {
    twAck = true;
    return C.TCP_SYN_CHALLENGED;
  }
  // Fifth: without the ACK bit, dropped (a FIN too).
  if ((f & ACK) == 0) return C.TCP_NO_ACK;
  // Seventh: text is ignored. Eighth: a FIN is ACKed and restarts the 2 MSL timeout.
  if (f & FIN) {
    twAck = true;
    twRestart = true;
  }
  return C.TCP_TIME_WAIT;
}

/** RFC 6298 §2: SRTT, RTTVAR and RTO from one measurement r (ms). */
export function rttSample(c: Pcb, r: u32): void {
  if (c.srtt == 0) {
    c.srtt = r > 0 ? r : 1;
    c.rttvar = r >> 1;
  } else {
    const d = c.srtt > r ? c.srtt - r : r - c.srtt;
    c.rttvar = (3 * c.rttvar + d) >> 2;
    c.srtt = (7 * c.srtt + r) >> 3;
    if (c.srtt == 0) c.srtt = 1;
  }
  let rto = c.srtt + max<u32>(1, 4 * c.rttvar);
  if (rto < TCP_RTO_MIN_MS) rto = TCP_RTO_MIN_MS;
  if (rto > TCP_RTO_MAX_MS) rto = TCP_RTO_MAX_MS;
  c.rto = rto;
}

function segmentArrives(i: i32, data: usize, src: u32): C {
  const c = pcb(i);
  const f = seg.flags;
  if (c.state == SYN_SENT) return synSentInput(i, src, data);
  if (c.state == TIME_WAIT) {
    // The application still holds this fd; same rules as a TIME-WAIT slot.
    const r = timeWaitInput(c.rcvNxt, seqGt(c.rcvAdv, c.rcvNxt) ? c.rcvAdv - c.rcvNxt : 0);
    if (twRestart) c.closeAt = now + 2 * TCP_MSL_MS;
    if (twAck) {
      if (r == C.TCP_SYN_CHALLENGED) challengeAck(i);
      else sendAck(i);
    }
    return r;
  }

  if (c.state == SYN_RECEIVED && (f & (SYN | RST)) == SYN && seg.seq == c.irs) {
    if ((f & ACK) != 0 && (c.flags & F_CHILD) == 0 && seg.ack == c.sndNxt) {
      // Simultaneous open: the peer's SYN-ACK completes it (RFC 9293 §3.5 figure 8; its SYN
      // repeats the one we have, so the acceptability test would wrongly refuse it).
      c.state = ESTABLISHED;
      c.flags |= F_ACK_NOW;
      processAck(i);
      tcpOutput(i);
      return C.TCP_DELIVERED;
    }
    if ((f & ACK) == 0) {
      sendSyn(i); // the peer did not see our SYN-ACK and sent its SYN again
      return C.TCP_DELIVERED;
    }
  }

  // PAWS (RFC 7323 §5.3 R1), before the sequence number test: a TSval older than TS.Recent is an
  // old duplicate (counted as out of window), ACKed and dropped; never a RST. A segment without
  // the option is taken, as Linux does (§3.2 says SHOULD drop; MUST NOT abort).
  const tsOn = TCP_TIMESTAMPS && (c.flags & F_TS) != 0 && seg.tsPresent;
  if (tsOn && (f & RST) == 0 && <i32>(rxTsVal - load<u32>(tsRecentAt(i))) < 0) {
    sendAck(i);
    return C.TCP_OUT_OF_WINDOW;
  }
  // First: is the segment acceptable (RFC 9293 §3.10.7.4, the four cases)?
  const wnd = seqGt(c.rcvAdv, c.rcvNxt) ? c.rcvAdv - c.rcvNxt : 0;
  if (!acceptable(c.rcvNxt, wnd)) {
    if ((f & RST) == 0) {
      // Data we had already (a spurious retransmission, a duplicated frame): D-SACK (RFC 2883
      // §4.1.1). Not for a segment more than 64 KiB old, which is no retransmission of ours to see.
      const end = seg.seq + seg.payloadLen;
      if (TCP_SACK && seg.payloadLen != 0 && seqLe(end, c.rcvNxt) && c.rcvNxt - seg.seq <= 0x10000) sackDuplicate(i, seg.seq, end);
      sendAck(i);
    }
    return C.TCP_OUT_OF_WINDOW;
  }
  // RFC 7323 §4.3 (3): TS.Recent from a segment that covers our last ACK (so TSecr times the
  // earliest segment an ACK acknowledges, delayed ACK included) and is not older.
  if (tsOn && seqLe(seg.seq, load<u32>(tsLastAckAt(i))) && <i32>(rxTsVal - load<u32>(tsRecentAt(i))) >= 0) {
    store<u32>(tsRecentAt(i), rxTsVal);
  }
  if (c.flags & F_KEEPALIVE) {
    c.keepAt = now + c.keepIdle;
    c.keepProbes = 0;
  }
  if (c.flags & F_APP) c.probes = 0; // the peer is there: our zero-window probes are answered

  // Second: RST (RFC 5961 §3.2): only an exact match resets; other in-window RSTs are challenged.
  if (f & RST) {
    if (seg.seq != c.rcvNxt) {
      // The right edge passed the zero-length test above for ACKs only: RFC 5961 §3.2 challenges
      // a RST strictly inside the window (RCV.NXT < SEG.SEQ < RCV.NXT + RCV.WND).
      if (seg.seq == c.rcvNxt + wnd) return C.TCP_OUT_OF_WINDOW;
      challengeAck(i);
      return C.TCP_RST_CHALLENGED;
    }
    count(C.TCP_RESETS_RECEIVED);
    if (c.state == SYN_RECEIVED && (c.flags & F_CHILD)) pcbFree(i); // back to LISTEN (§3.10.7.4)
    else fail(i, c.state == SYN_RECEIVED ? ECONNREFUSED : ECONNRESET);
    return C.TCP_DELIVERED;
  }

  // Fourth: a SYN in a synchronized state is challenged, never obeyed (RFC 5961 §4.2).
  if (f & SYN) {
    challengeAck(i);
    return C.TCP_SYN_CHALLENGED;
  }

  // Fifth: the ACK field.
  if ((f & ACK) == 0) return C.TCP_NO_ACK;
  if (c.state == SYN_RECEIVED) {
    if (!(seqGt(seg.ack, c.sndUna) && seqLe(seg.ack, c.sndNxt))) {
      sendControl(c.localPort, src, c.remotePort, seg.ack, 0, RST);
      return C.TCP_BAD_ACK;
    }
    established(c);
  }
  // RFC 5961 §5.2: an ACK outside [SND.UNA - MAX.SND.WND, SND.MAX] is challenged and dropped.
  if (seqGt(seg.ack, c.sndMax) || seqLt(seg.ack, c.sndUna - c.maxSndWnd)) {
    challengeAck(i);
    return C.TCP_ACK_CHALLENGED;
  }
  if (processAck(i)) return C.TCP_DELIVERED; // LAST-ACK done: the block may be gone

  // Seventh: the segment text.
  if (seg.payloadLen > 0) {
    const st = c.state;
    if (st == ESTABLISHED || st == FIN_WAIT_1 || st == FIN_WAIT_2) processData(i, data);
    else c.flags |= F_ACK_NOW; // data after the peer's FIN: not ours to take
  }

  // Eighth: FIN, once everything before it has arrived. A FIN beyond a gap is remembered with the
  // out-of-order data before it, and taken when the gap fills (this segment or a later one), so
  // the peer need not send it again.
  if (f & FIN) {
    const at = seg.seq + seg.payloadLen;
    if (c.flags & F_FIN_RCVD) c.flags |= F_ACK_NOW;
    else if (at == c.rcvNxt || (seqGt(at, c.rcvNxt) && seqLt(at, c.rcvNxt + rcvRing(i).free()))) {
      c.flags |= F_FIN_AHEAD;
      c.finSeq = at;
      // Out of order (RFC 5681 §4.2, as for data beyond a gap): a duplicate ACK at once.
      if (at != c.rcvNxt) c.flags |= F_ACK_NOW;
    }
  }
  if ((c.flags & F_FIN_AHEAD) != 0 && c.rcvNxt == c.finSeq && finArrived(i)) return C.TCP_DELIVERED;
  tcpOutput(i);
  return C.TCP_DELIVERED;
}

/** The handshake is done: an RTT sample from it unless the SYN was retransmitted (Karn), in which
 *  case the RTO starts data transmission at 3 s (RFC 6298 §5.7: our initial RTO is below that). */
function established(c: Pcb): void {
  if (c.retries == 0) rttSample(c, now - c.rttTime);
  else c.rto = RTO_AFTER_SYN_TIMEOUT_MS;
  c.retries = 0;
  c.state = ESTABLISHED;
  if (c.flags & F_KEEPALIVE) c.keepAt = now + c.keepIdle;
}

/** The peer's FIN, everything before it received; returns true when the block has moved to
 *  TIME-WAIT (it may be gone). */
function finArrived(i: i32): bool {
  const c = pcb(i);
  c.flags = (c.flags & ~F_FIN_AHEAD) | F_FIN_RCVD | F_ACK_NOW;
  c.rcvNxt++;
  const st = c.state;
  if (st == ESTABLISHED) c.state = CLOSE_WAIT;
  else if (st == FIN_WAIT_1) c.state = CLOSING;
  else if (st == FIN_WAIT_2) {
    sendAck(i);
    enterTimeWait(i);
    return true;
  }
  return false;
}

/** ACK processing; returns true when the connection has ended (the block may be freed). */
function processAck(i: i32): bool {
  const c = pcb(i);
  const ack = seg.ack;
  const wndBefore = c.sndWnd;
  const segWnd = seg.window << c.sndShift;
  const sack = TCP_SACK && (c.flags & F_SACK) != 0;
  const newSack = sack && sackTake(i, seg, seqGt(ack, c.sndUna) ? ack : c.sndUna);
  if (c.flags & F_TLP_OUT) probeAnswered(c, ack);
  if (seqGt(ack, c.sndUna)) {
    let acked = ack - c.sndUna;
    if ((c.flags & F_SYN_ACKED) == 0) {
      c.flags |= F_SYN_ACKED;
      acked--;
    }
    const ring = sndRing(i);
    const dataEnd = c.sndBase + ring.len;
    const dataAcked = seqLt(ack, dataEnd) ? ack - c.sndBase : ring.len;
    ring.consume(dataAcked);
    c.sndBase += dataAcked;
    const finAcked = (c.flags & F_FIN_SENT) != 0 && ack == dataEnd + 1;
    c.sndUna = ack;
    if (sack) sackAcked(i, ack);
    if (seqLt(c.sndNxt, ack)) c.sndNxt = ack;
    if (TCP_TIMESTAMPS && (c.flags & F_TS) != 0 && seg.tsPresent && rxTsEcr != 0 && now - rxTsEcr <= TCP_RTO_MAX_MS) {
      // RFC 7323 §4.1-4.2: a sample from every ACK of new data, retransmissions included (the
      // echo says which transmission it acknowledges).
      rttSample(c, now - rxTsEcr);
      c.flags &= ~F_RTT;
    } else if ((c.flags & F_RTT) && seqGt(ack, c.rttSeq)) {
      rttSample(c, now - c.rttTime);
      c.flags &= ~F_RTT;
    }
    c.retries = 0;
    c.ltBytes = 0;
    c.flags &= ~F_RPROBE;
    if ((c.flags & F_LOSS) && seqGe(ack, c.recover)) c.flags &= ~F_LOSS; // the timeout's flight is acked
    c.flags &= ~F_PERSIST;
    if (c.flags & F_RECOVERY) {
      if (seqGe(ack, c.recover)) {
        // Full ACK: leave fast recovery (RFC 6582 §3.2 step 3, option 1).
        const flight = c.sndMax - c.sndUna;
        c.cwnd = min<u32>(c.ssthresh, max<u32>(flight, c.mss) + c.mss);
        c.flags &= ~F_RECOVERY;
        c.dupAcks = 0;
        // Each retransmission already reported as a duplicate: a spurious recovery (sack.ts).
        if (sack && (c.flags & F_DSACK_CHECK) && c.rtxUnreported == 0 && seqGt(c.highRxt, c.lossStart)) sackSpurious(c);
      } else if (!sack) {
        // Partial ACK: retransmit the next hole, deflate by what was acked (step 4).
        retransmitFirst(i);
        c.cwnd = c.cwnd > acked ? c.cwnd - acked + c.mss : c.mss;
        armRtx(i);
      } else if (sacked(i).count() == 0 && seqGe(ack, c.highRxt)) {
        // SACK recovery whose peer reports nothing above the hole: NewReno's step 4 repair.
        sackRetransmitFirst(i);
      }
    } else {
      c.dupAcks = 0;
      if (c.cwnd < c.ssthresh) c.cwnd += min<u32>(acked, c.mss); // slow start
      else c.cwnd += max<u32>(1, (c.mss * c.mss) / c.cwnd); // congestion avoidance
    }
    // RFC 6298 §5.2-5.3: stop the timer when all is acked, restart it otherwise.
    if (c.sndUna == c.sndMax) c.flags &= ~(F_RTX | F_PTO);
    else {
      armRtx(i);
      schedulePto(i);
    }
    if (finAcked) {
      const st = c.state;
      if (st == FIN_WAIT_1) {
        c.state = FIN_WAIT_2;
        if ((c.flags & F_APP) == 0) c.closeAt = now + TCP_FIN_WAIT_2_MS;
      } else if (st == CLOSING) {
        enterTimeWait(i);
        return true;
      } else if (st == LAST_ACK) {
        closed(i);
        return true;
      }
    }
  } else if (ack == c.sndUna && c.sndMax != c.sndUna && (sack ? newSack :
    seg.payloadLen == 0 && (seg.flags & (SYN | FIN)) == 0 && segWnd == wndBefore)) {
    // RFC 6675 §2: with SACK, an ACK is a duplicate when it SACKs new bytes; a window update
    // lost before it (the receiver's window reopens as its application reads) must not hide it.
    duplicateAck(i);
  }
  // Window update (RFC 9293 §3.10.7.4): only from a segment newer than the last one that set it.
  if (seqLt(c.sndWl1, seg.seq) || (c.sndWl1 == seg.seq && seqLe(c.sndWl2, ack))) {
    c.sndWnd = segWnd;
    c.sndWl1 = seg.seq;
    c.sndWl2 = ack;
    if (segWnd > c.maxSndWnd) c.maxSndWnd = segWnd;
    if (segWnd != 0) c.flags &= ~F_PERSIST;
  }
  // SACK loss recovery (RFC 6675 §5), with the window this ACK brought.
  if (sack && (c.flags & F_SYN_ACKED) != 0) {
    if (sackEnter(i)) {
      sackRetransmitFirst(i);
      armRtx(i);
    }
    if (c.flags & F_RECOVERY) sackOutput(i);
    if (sacked(i).count() > 0) schedulePto(i); // the RACK timer restarts with each ACK (output.ts)
  }
  return false;
}

/** An ACK while a loss probe is unacknowledged (RFC 8985 §7.4, as Linux's tcp_process_tlp_ack):
 *  a probe of new data, or a retransmitted one whose duplicate draws a pure duplicate ACK,
 *  repaired nothing; an ACK beyond a retransmitted probe means it repaired a loss, the original
 *  or an ACK of it having been lost. Without a D-SACK for the probe (sack.ts takes that as no
 *  loss) or timestamps the two cannot be told apart, so that counts as one loss event: cwnd
 *  halves (RFC 5681 §3.1, as Linux's cwnd-based ssthresh). */
function probeAnswered(c: Pcb, ack: u32): void {
  if (seqLt(ack, c.tlpEnd)) return;
  if (c.flags & F_TLP_RTX) {
    if (seqGt(ack, c.tlpEnd)) {
      c.ssthresh = max<u32>(c.cwnd >> 1, 2 * c.mss);
      c.cwnd = c.ssthresh;
      count(C.TCP_LOSS_PROBE_RECOVERIES);
    } else if (seqGt(ack, c.sndUna) || seg.payloadLen != 0 || (seg.flags & (SYN | FIN)) != 0) {
      return; // the probe acked at its end: which copy arrived is told by the next ACK
    }
  }
  c.flags &= ~(F_TLP_OUT | F_TLP_RTX);
}

/** Limited transmit (RFC 3042 §2): a new segment on each of the first two duplicates, so a small
 *  window still produces the third; cwnd itself is unchanged. */
function limitedTransmit(i: i32): void {
  const n = tcpOutputMode(i, OUT_LIMITED);
  if (n) {
    pcb(i).ltBytes += n;
    count(C.TCP_LIMITED_TRANSMITS);
  }
}

function duplicateAck(i: i32): void {
  const c = pcb(i);
  c.dupAcks++;
  const sack = TCP_SACK && (c.flags & F_SACK) != 0;
  if (sack) {
    // RFC 6675 §5: limited transmit while no loss is known; entering recovery and what it sends
    // follow in processAck, with the scoreboard this ACK updated.
    if (c.dupAcks < 3 && (c.flags & F_RECOVERY) == 0 && !sackUnaLost(i)) limitedTransmit(i);
    return;
  }
  if (c.dupAcks < 3 && (c.flags & F_RECOVERY) == 0) {
    limitedTransmit(i);
  } else if (c.dupAcks == 3 && (c.flags & F_RECOVERY) == 0 && seqGe(c.sndUna, c.recover)) {
    // RFC 6582 §3.2 step 2: the ACK covers more than recover - 1, the highest sequence number sent.
    // Fast retransmit, then fast recovery (RFC 5681 §3.2, RFC 6582 §3.2 step 2). What limited
    // transmit sent is not part of the flight that sets ssthresh (RFC 5681 §3.2 step 2).
    const flight = c.sndMax - c.sndUna - min<u32>(c.ltBytes, c.sndMax - c.sndUna);
    c.ssthresh = max<u32>(flight >> 1, 2 * c.mss);
    c.recover = c.sndMax;
    c.flags = (c.flags & ~(F_PTO | F_TLP_OUT | F_TLP_RTX)) | F_RECOVERY;
    count(C.TCP_FAST_RETRANSMITS);
    retransmitFirst(i);
    c.cwnd = c.ssthresh + 3 * c.mss;
    armRtx(i);
  } else if (c.flags & F_RECOVERY) {
    c.cwnd += c.mss; // each further duplicate: a segment has left the network
  }
}

function processData(i: i32, data: usize): void {
  const c = pcb(i);
  const ring = rcvRing(i);
  let seq = seg.seq;
  let n = seg.payloadLen;
  let d = data;
  if (seqLt(seq, c.rcvNxt)) {
    const cut = c.rcvNxt - seq;
    if (TCP_SACK) sackDuplicate(i, seq, cut >= n ? seq + n : c.rcvNxt); // the old part (RFC 2883 §4.1.1)
    if (cut >= n) {
      c.flags |= F_ACK_NOW; // all old: a duplicate
      return;
    }
    seq += cut;
    d += cut;
    n -= cut;
  }
  const off = seq - c.rcvNxt;
  const room = ring.free();
  if (off >= room) {
    c.flags |= F_ACK_NOW;
    return;
  }
  if (off + n > room) n = room - off;
  if (c.flags & F_RD_SHUT) {
    // Read side shut: the bytes are acknowledged and thrown away.
    if (off == 0) c.rcvNxt += n;
    c.flags |= F_ACK_NOW;
    return;
  }
  const asm = ooo(i);
  if (off == 0) {
    const gap = asm.count() > 0;
    ring.write(d, n);
    const nxt = c.rcvNxt + n;
    const after = asm.advance(nxt);
    if (after != nxt) ring.commit(after - nxt);
    c.rcvNxt = after;
    if (gap) {
      c.flags |= F_ACK_NOW; // filling a gap: ACK at once (RFC 5681 §4.2)
    } else if (++c.unacked >= 2) {
      c.flags |= F_ACK_NOW; // every second segment (RFC 9293 §3.8.6.3)
    } else if ((c.flags & F_DELACK) == 0) {
      c.flags |= F_DELACK;
      c.delackAt = now + TCP_DELACK_MS;
    }
    return;
  }
  // Out of order: keep it if the assembler has room, and send a duplicate ACK at once.
  count(C.TCP_OOO_SEGMENTS);
  if (TCP_SACK) {
    // Held already: D-SACK it, then the range holding it comes next (RFC 2883 §4.1.2).
    const k = asm.find(seq);
    if (k >= 0 && seqLe(seq + n, asm.end(k))) sackDuplicate(i, seq, seq + n);
  }
  if (asm.add(seq, seq + n)) ring.writeAt(off, d, n);
  else count(C.TCP_OOO_DROPPED);
  c.flags |= F_ACK_NOW;
}

