// TCP output (lwIP's tcp_out.c counterpart): building segments, deciding what may be sent now
// (window, congestion window, Nagle, sender SWS avoidance), and the stateless RST. Segments of an
// IPv6 connection (F_V6) go out through sendOut() too: the same header after the IPv6 one.
import { FEATURE_IPV6, TCP_MSS, TCP_RCV_BUF, TCP_CHALLENGE_ACK_LIMIT, TCP_RTO_INITIAL_MS, TCP_SACK, TCP_TIMESTAMPS, TCP_TLP_MAX_ACK_DELAY_MS } from "../../config";
import { now } from "../../support/clock";
import { C, count, countN } from "../../support/counters";
import { localFor, txBuf } from "../../iface/netif";
import { PAYLOAD_OFFSET, ipv4Output } from "../../iface/ipv4";
import { PROTO_TCP } from "../../wire/ipv4";
import { ACK, FIN, PSH, RST, SACK_MAX_BLOCKS, SYN, TcpRepr, setTxTimestamps } from "../../wire/tcp";
import { HEADER_LEN as IP6_LEN, NH_TCP } from "../../wire/ipv6";
import { PAYLOAD_OFFSET6, hopLimit, ipv6Output, pathMtu } from "../../iface/ipv6";
import {
  CLOSE_WAIT, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, LAST_ACK, SYN_RECEIVED, SYN_SENT, TIME_WAIT,
  F_ACK_NOW, F_DELACK, F_FIN_QUEUED, F_FIN_SENT, F_LOSS, F_NODELAY, F_PERSIST, F_PTO, F_RECOVERY, F_RPROBE, F_RTT, F_RTX, F_SACK,
  F_SYN_ACKED, F_TLP_OUT, F_TS, F_DSACK_CHECK, F_WSCALE, F_V6,
  addrs6, ctl6, pcb, rcvRing, sacked, setCtl6, sndRing, tsLastAckAt, tsRecentAt,
} from "./pcb";
import { nextLen, sackEnter, sackFill, sackHighest, sackMaxBlocks, sackNextHole, dataOptionLen, sackPipe } from "./sack";
import { seqGe, seqGt, seqLt, seqMax } from "./seq";

const seg = changetype<TcpRepr>(memory.data(offsetof<TcpRepr>()));

/** The window to advertise, recording the right edge (receiver SWS avoidance, RFC 9293 §3.8.6.2.2):
 *  the edge moves right only by at least min(RCV_BUF / 2, MSS), and never moves left. */
function advertise(i: i32): u32 {
  const c = pcb(i);
  const free = rcvRing(i).free();
  let wnd: u32;
  if (seqGe(c.rcvNxt + free, c.rcvAdv + min<u32>(TCP_RCV_BUF / 2, TCP_MSS))) wnd = free;
  else wnd = seqGt(c.rcvAdv, c.rcvNxt) ? min<u32>(c.rcvAdv - c.rcvNxt, free) : 0;
  let w = wnd >> c.rcvShift;
  if (w > 0xffff) w = 0xffff;
  c.rcvAdv = c.rcvNxt + (w << c.rcvShift);
  return w;
}

/** True when reading has opened the window enough to be worth telling the peer. Never below
 *  RFC 9293 3.8.6.2.2's SWS threshold, min(RCV.BUFF / 2, MSS); with large buffers a quarter of the
 *  buffer, at most 4 MSS (lwIP's TCP_WND_UPDATE_THRESHOLD), as an update per segment read would
 *  double the ACKs. One MSS at the default 4 x MSS buffer. */
const WND_UPDATE_SWS: u32 = TCP_RCV_BUF / 2 < TCP_MSS ? TCP_RCV_BUF / 2 : TCP_MSS;
const WND_UPDATE_BULK: u32 = TCP_RCV_BUF / 4 < 4 * TCP_MSS ? TCP_RCV_BUF / 4 : 4 * TCP_MSS;
const WND_UPDATE: u32 = WND_UPDATE_SWS > WND_UPDATE_BULK ? WND_UPDATE_SWS : WND_UPDATE_BULK;

export function windowUpdateDue(i: i32): bool {
  const c = pcb(i);
  const edge = c.rcvNxt + rcvRing(i).free();
  return <i32>(edge - c.rcvAdv) >= <i32>WND_UPDATE;
}

/** The MSS the path to the IPv6 address a (a 16-byte peer address) allows (RFC 8201 §5.2): its
 *  MTU less the IPv6 and TCP headers, never above TCP_MSS. */
export function mss6(a: usize): u32 {
  return min<u32>(TCP_MSS, pathMtu(a) - IP6_LEN - 20);
}

/** m, or for an IPv6 connection i no more than the path MTU to its peer allows (mss6). */
export function mssFor(i: i32, m: u32): u32 {
  return FEATURE_IPV6 && (pcb(i).flags & F_V6) != 0 ? min<u32>(m, mss6(addrs6(i))) : m;
}

/** Emits t (its payload already after its header) and sends it, len bytes of TCP: to rip, or over
 *  IPv6 when a6 != 0 (to the peer at a6, from our address at a6 + 16). */
export function sendOut(t: TcpRepr, rip: u32, a6: usize, len: u32): i32 {
  const v6 = FEATURE_IPV6 && a6 != 0;
  t.emitFrom(txBuf + (v6 ? PAYLOAD_OFFSET6 : PAYLOAD_OFFSET), localFor(rip), rip, v6 ? a6 + 16 : 0, a6);
  return v6 ? ipv6Output(txBuf, len, NH_TCP, a6 + 16, a6, hopLimit) : ipv4Output(txBuf, len, PROTO_TCP, rip);
}

/**
 * Sends one segment of connection i: seq, flags, and len bytes of the send ring starting at ring
 * offset off. SYN segments carry our MSS, window scale, SACK-permitted and timestamps options;
 * the others timestamps when agreed and the SACK blocks that fit beside len bytes in the peer's
 * MSS (all of them, when the caller took dataOptionLen() off the payload).
 */
export function sendSegment(i: i32, seq: u32, flags: u32, off: u32, len: u32): i32 {
  const c = pcb(i);
  const a6: usize = FEATURE_IPV6 && (c.flags & F_V6) != 0 ? addrs6(i) : 0;
  const tcp = txBuf + (a6 != 0 ? PAYLOAD_OFFSET6 : PAYLOAD_OFFSET);
  seg.srcPort = c.localPort;
  seg.dstPort = c.remotePort;
  seg.seq = seq;
  seg.ack = flags & ACK ? c.rcvNxt : 0;
  seg.flags = flags;
  seg.urgent = 0;
  seg.noOptions();
  let ts: u32 = 0;
  if (TCP_TIMESTAMPS && ((flags & (SYN | ACK)) == SYN || (c.flags & F_TS) != 0)) {
    // RFC 7323 §3.2: offered on our SYN; once both SYNs carried it, on every segment but a RST,
    // echoing TS.Recent (0 on a SYN: the echo is not valid without ACK).
    seg.tsPresent = true;
    setTxTimestamps(now, flags & ACK ? load<u32>(tsRecentAt(i)) : 0);
    if (flags & ACK) store<u32>(tsLastAckAt(i), c.rcvNxt);
    ts = 12;
  }
  if (flags & SYN) {
    seg.mss = a6 != 0 ? mss6(a6) : TCP_MSS;
    // RFC 7323 §2.2, RFC 2018 §2: on a SYN-ACK only if the peer's SYN offered it.
    seg.wscale = (flags & ACK) == 0 || (c.flags & F_WSCALE) != 0 ? <i32>c.rcvShift : -1;
    seg.sackPermitted = TCP_SACK && ((flags & ACK) == 0 || (c.flags & F_SACK) != 0);
    const w = rcvRing(i).free();
    seg.window = w > 0xffff ? 0xffff : w; // never scaled on a SYN (RFC 7323 §2.2)
    c.rcvAdv = c.rcvNxt + seg.window;
  } else {
    seg.window = advertise(i);
    if (TCP_SACK && (flags & ACK)) {
      const room = c.mss >= len + ts + 12 ? (c.mss - len - ts - 4) >> 3 : 0;
      sackFill(i, seg, min<u32>(len == 0 ? SACK_MAX_BLOCKS : room, sackMaxBlocks(ts)));
    }
  }
  const hl = seg.emitLen();
  if (len) sndRing(i).peek(tcp + hl, off, len);
  seg.payloadLen = len;
  const r = sendOut(seg, c.remoteIp, a6, hl + len);
  if (r < 0) {
    // Not accepted (the ARP or loopback pool is full): an ACK it carried is still owed, sent with
    // the next output rather than by a delayed-ACK timer that is already due.
    if (c.flags & F_DELACK) c.flags = (c.flags & ~F_DELACK) | F_ACK_NOW;
    return r;
  }
  if (flags & ACK) {
    c.flags &= ~(F_ACK_NOW | F_DELACK);
    c.unacked = 0;
  }
  countN(C.TCP_SEGMENTS_SENT, 1); // countN: @inline, per segment
  return r;
}

/** A segment with no connection behind it: a RST (RFC 9293 §3.10.7.1), or the ACK of TIME-WAIT.
 *  Over IPv6 when ctl6 is set (the segment being answered came over it, or sendControlFor). */
export function sendControl(lport: u32, rip: u32, rport: u32, seq: u32, ack: u32, flags: u32): void {
  seg.srcPort = lport;
  seg.dstPort = rport;
  seg.seq = seq;
  seg.ack = flags & ACK ? ack : 0;
  seg.flags = flags;
  seg.window = 0;
  seg.urgent = 0;
  seg.noOptions();
  seg.payloadLen = 0;
  countN(flags & RST ? C.TCP_RST_SENT : C.TCP_SEGMENTS_SENT, 1); // countN: @inline, per segment
  sendOut(seg, rip, FEATURE_IPV6 ? ctl6 : 0, 20);
}

/** sendControl to connection i's peer, from its address, in its family. */
export function sendControlFor(i: i32, seq: u32, ack: u32, flags: u32): void {
  const c = pcb(i);
  if (!FEATURE_IPV6) {
    sendControl(c.localPort, c.remoteIp, c.remotePort, seq, ack, flags);
    return;
  }
  const saved = ctl6;
  setCtl6((c.flags & F_V6) != 0 ? addrs6(i) : 0);
  sendControl(c.localPort, c.remoteIp, c.remotePort, seq, ack, flags);
  setCtl6(saved);
}

/** A bare ACK (also the reply to an unacceptable segment). It carries SND.MAX, not SND.NXT: after
 *  a timeout rewinds SND.NXT, an ACK from below the peer's RCV.NXT would be refused as out of
 *  window, ACK field and all (BSD's tcp_output does the same). */
export function sendAck(i: i32): void {
  sendSegment(i, pcb(i).sndMax, ACK, 0, 0);
}

let challengeSecond: u32 = 0;
let challengeCount: u32 = 0;

export function outputInit(): void {
  challengeSecond = now;
  challengeCount = 0;
}

/** A challenge ACK (RFC 5961 §3.2, §4.2, §5.2), at most TCP_CHALLENGE_ACK_LIMIT a second. */
export function challengeAck(i: i32): void {
  if (now - challengeSecond >= 1000) {
    challengeSecond = now;
    challengeCount = 0;
  }
  if (challengeCount >= TCP_CHALLENGE_ACK_LIMIT) {
    count(C.TCP_CHALLENGE_ACKS_LIMITED);
    return;
  }
  challengeCount++;
  count(C.TCP_CHALLENGE_ACKS_SENT);
  sendAck(i);
}

/** SYN (active open) or SYN-ACK (passive), at ISS; returns what the layer below said. */
export function sendSyn(i: i32): i32 {
  const c = pcb(i);
  armRtx(i);
  return sendSegment(i, c.iss, c.state == SYN_SENT ? SYN : SYN | ACK, 0, 0);
}

export function armRtx(i: i32): void {
  const c = pcb(i);
  c.flags |= F_RTX;
  c.rtxAt = now + c.rto;
}

/** tcpOutput's modes: within cwnd; limited transmit (RFC 3042: one new segment beyond cwnd, the
 *  flight at most cwnd + 2 MSS); a loss probe (RFC 8985 §7.3: one new segment, cwnd ignored). */
export const OUT_NORMAL: u32 = 0;
export const OUT_LIMITED: u32 = 1;
export const OUT_PROBE: u32 = 2;

/** Sends what the windows, Nagle and SWS avoidance allow, the FIN when its turn comes, and a
 *  pending ACK if nothing else carried it. Returns the bytes of sequence space sent. */
/** tcpOutputMode(i, OUT_NORMAL) without the optional argument's @varargs trampoline, a call per
 *  segment an interpreter pays for. */
// @ts-ignore: decorator
@inline export function tcpOutput(i: i32): u32 {
  return tcpOutputMode(i, OUT_NORMAL);
}

export function tcpOutputMode(i: i32, mode: u32): u32 {
  const c = pcb(i);
  const st = c.state;
  if (st == SYN_SENT || st == SYN_RECEIVED) return 0;
  const canSend = (c.flags & F_SYN_ACKED) != 0 && st >= ESTABLISHED && st != FIN_WAIT_2 && st != TIME_WAIT;
  let sent = false;
  const nxt0 = c.sndNxt;
  if (canSend) {
    const ring = sndRing(i);
    const dataEnd = c.sndBase + ring.len;
    const smss = c.mss - dataOptionLen(i); // room for our options (RFC 6691: MSS excludes options)
    // The extra modes send new data only (never the go-back-N resend after a timeout), one segment.
    let cw = c.cwnd;
    if (mode != OUT_NORMAL) {
      const flight = c.sndNxt - c.sndUna;
      cw = c.sndNxt != c.sndMax ? 0 : mode == OUT_PROBE ? flight + c.mss : max<u32>(cw, min<u32>(cw + 2 * c.mss, flight + c.mss));
    }
    for (;;) {
      const avail = seqLt(c.sndNxt, dataEnd) ? dataEnd - c.sndNxt : 0;
      const wnd = min<u32>(c.sndWnd, cw);
      const inflight = c.sndNxt - c.sndUna;
      const usable = wnd > inflight ? wnd - inflight : 0;
      let len = min<u32>(min<u32>(avail, usable), smss);
      const fin = (c.flags & F_FIN_QUEUED) != 0 && c.sndNxt + len == dataEnd && !seqGt(c.sndNxt, dataEnd);
      if (len == 0 && !(fin && avail == 0)) break;
      // Window-limited: sender SWS avoidance (RFC 9293 §3.8.6.2.1): wait for half the largest window
      // the peer offered, but only while something is in flight; with nothing in flight we send what
      // fits at once instead of waiting for an override timer.
      if (len < smss && len < avail && inflight > 0 && len < (c.maxSndWnd >> 1)) break;
      // Nagle (RFC 9293 §3.7.4): one small segment in flight at a time, unless turned off or closing.
      if (len < smss && inflight > 0 && (c.flags & F_NODELAY) == 0 && !fin) break;
      let flags = ACK;
      if (len && c.sndNxt + len == dataEnd) flags |= PSH;
      if (fin) flags |= FIN;
      if (sendSegment(i, c.sndNxt, flags, c.sndNxt - c.sndBase, len) < 0) {
        // Not accepted, so not sent: SND.NXT stays, and it goes at the next output, when the
        // loopback has made room, or at the RTO (armed, in case nothing else comes).
        if ((c.flags & F_RTX) == 0) armRtx(i);
        break;
      }
      if (len && (c.flags & F_RTT) == 0 && c.sndNxt == c.sndMax) {
        // Time one new segment per round trip; never a retransmission (Karn).
        c.flags |= F_RTT;
        c.rttSeq = c.sndNxt;
        c.rttTime = now;
      }
      if (c.sndNxt != c.sndMax) count(C.TCP_RETRANSMITS);
      sent = true;
      c.sndNxt += len + (fin ? 1 : 0);
      c.sndMax = seqMax(c.sndMax, c.sndNxt);
      if ((c.flags & F_RTX) == 0) armRtx(i);
      c.flags &= ~F_PERSIST;
      if (fin) {
        c.flags |= F_FIN_SENT;
        if (c.state == ESTABLISHED) c.state = FIN_WAIT_1;
        else if (c.state == CLOSE_WAIT) c.state = LAST_ACK;
        break;
      }
    }
    // Zero window with data waiting and nothing in flight: probe it (persist timer).
    if (c.sndWnd == 0 && seqLt(c.sndNxt, dataEnd) && c.sndNxt == c.sndUna && (c.flags & (F_PERSIST | F_RTX)) == 0) {
      c.flags |= F_PERSIST;
      c.persistBackoff = 0;
      c.persistAt = now + c.rto;
    }
  }
  if (!sent && (c.flags & F_ACK_NOW)) sendAck(i);
  const n = c.sndNxt - nxt0;
  if (n && mode != OUT_PROBE && c.sndNxt == c.sndMax) schedulePto(i);
  return n;
}

/** (Re)arms the tail loss probe after new data went out or a new ACK came (RFC 8985 §7.2): on a
 *  connection with SACK (without it the probe's ACK could not start recovery, and a probe due at
 *  the RTO would only delay it: RFC 8985 and Linux probe only with SACK), with data in flight,
 *  outside loss recovery, no probe unacknowledged. PTO = 2 SRTT (1 s without a sample), plus the
 *  peer's worst delayed ACK when a single segment is in flight (its ACK may be the delayed one),
 *  and never later than the RTO: a probe due then goes first (timers.ts polls it first) and the
 *  RTO restarts from it. The RTO deadline itself is untouched here. While SACKed data sent after
 *  a hole (or its retransmission) lies above it, the same timer is the RACK timer (rackTimeout()). */
export function schedulePto(i: i32): void {
  const c = pcb(i);
  c.flags &= ~F_PTO;
  const flight = c.sndMax - c.sndUna;
  if (flight == 0 || (c.flags & (F_SACK | F_RTX | F_LOSS)) != (F_SACK | F_RTX)) return;
  if (sacked(i).count() == 0 && (c.flags & (F_RECOVERY | F_TLP_OUT)) != 0) return;
  let pto = c.srtt ? 2 * c.srtt : TCP_RTO_INITIAL_MS;
  if (c.srtt && sacked(i).count() > 0 && ((c.flags & F_RECOVERY) == 0 || seqGt(sackHighest(i), c.rxtMax))) {
    // The RACK timer (rackTimeout()): data sent after the hole was delivered, so RACK calls the
    // hole lost one reordering window after the ACK that said so.
    pto = max<u32>(c.srtt >> 2, 1);
  } else if (flight <= c.mss) pto += TCP_TLP_MAX_ACK_DELAY_MS;
  const at = now + pto;
  c.flags |= F_PTO;
  c.tlpAt = <i32>(at - c.rtxAt) < 0 ? at : c.rtxAt;
}

/** Retransmits one segment from seq (at most an MSS and max bytes of what was sent, with the FIN
 *  if it reaches it) without moving SND.NXT; returns the sequence space sent, 0 if nothing. */
function retransmitFrom(i: i32, seq: u32, max: u32 = 0xffffffff): u32 {
  const c = pcb(i);
  const dataEnd = c.sndBase + sndRing(i).len;
  // Only what was sent: bytes past SND.MAX would leave without SND.MAX knowing, and the peer's
  // ACK of them would then be challenged as acknowledging data never sent.
  const sentEnd = seqGt(c.sndMax, dataEnd) ? dataEnd : c.sndMax; // past the data: our FIN
  const avail = seqLt(seq, sentEnd) ? sentEnd - seq : 0;
  const len = min<u32>(min<u32>(avail, c.mss - dataOptionLen(i)), max);
  let flags = ACK;
  const fin = (c.flags & F_FIN_SENT) != 0 && seq + len == dataEnd;
  if (fin) flags |= FIN;
  if (len == 0 && !fin) return 0;
  count(C.TCP_RETRANSMITS);
  c.flags &= ~F_RTT; // Karn
  if (c.flags & F_DSACK_CHECK) {
    // Counted while the loss event lasts; any other retransmission (a loss probe) ends the count.
    if ((c.flags & F_RECOVERY) == 0 || c.rtxUnreported == 0xff) c.flags &= ~F_DSACK_CHECK;
    else c.rtxUnreported++;
  }
  sendSegment(i, seq, flags, seq - c.sndBase, len);
  return len + (fin ? 1 : 0);
}

/** Retransmits one segment at SND.UNA (fast retransmit, partial ACKs). */
export function retransmitFirst(i: i32): void {
  retransmitFrom(i, pcb(i).sndUna);
}

/** Retransmits the last segment sent, the one that ends at SND.MAX (the loss probe without new
 *  data, RFC 8985 §7.3); 0 if nothing is in flight. */
export function retransmitLast(i: i32): u32 {
  const c = pcb(i);
  const dataEnd = c.sndBase + sndRing(i).len;
  const end = seqGt(c.sndMax, dataEnd) ? dataEnd : c.sndMax;
  return retransmitFrom(i, end - min<u32>(end - c.sndUna, c.mss));
}

/** SACK loss recovery's first retransmission (RFC 6675 §5 step 4.3): the segment at SND.UNA, up
 *  to the first SACKed range; HighRxt after it. */
export function sackRetransmitFirst(i: i32): void {
  const c = pcb(i);
  const n = retransmitFrom(i, c.sndUna, sackNextHole(i, false) == 0 ? nextLen : 0xffffffff);
  c.highRxt = c.sndUna + n;
  c.rxtMax = c.sndMax;
}

/** RFC 6675 §5 step (C): while cwnd - pipe >= 1 SMSS, send what NextSeg() returns: a lost hole
 *  above HighRxt (rule 1), else a new segment (rule 2), else another hole below the highest
 *  SACKed byte (rule 3). Each pass sends a segment or stops, and pipe grows by what it sends. */
export function sackOutput(i: i32): void {
  const c = pcb(i);
  for (;;) {
    if (c.cwnd < sackPipe(i) + c.mss) return;
    let off = sackNextHole(i, true);
    if (off < 0 && tcpOutputMode(i, OUT_PROBE) != 0) continue;
    if (off < 0) off = sackNextHole(i, false);
    if (off < 0) return;
    const seq = c.sndUna + <u32>off;
    const n = retransmitFrom(i, seq, nextLen);
    if (n == 0) return;
    c.highRxt = seq + n;
    c.rxtMax = c.sndMax;
  }
}

/** The RACK timer (RFC 8985 §6.2-6.3 without per-segment send times), when the PTO timer fires
 *  while SACKed data lies above a hole. Every unSACKed byte below the highest SACKed one was first
 *  sent before that SACKed data, and the timer runs SRTT / 4 (the reordering window) from the
 *  ACK that reported it, so each has been out for RACK's RTT + window: RACK would call it lost.
 *  Outside recovery that starts recovery (the small windows' common case: a hole with two
 *  segments SACKed above it, one short of DupThresh, and no new data to draw a third
 *  duplicate); in recovery a hole retransmitted before data that has since been SACKed was lost
 *  again (RACK's lost retransmission) and is sent again. Returns false when it marked nothing. */
export function rackTimeout(i: i32): bool {
  const c = pcb(i);
  const high = sackHighest(i);
  if (c.flags & F_RECOVERY) {
    // Without SACKed data sent after the retransmissions (window-limited: the receiver holds the
    // rest of its window out of order), silence for the whole timer is the only sign that a
    // retransmission was lost: the first hole goes again once, and a second silence is the RTO's.
    const evidence = seqGt(high, c.rxtMax);
    if (seqGt(c.highRxt, c.sndUna) && (evidence || (c.flags & F_RPROBE) == 0)) {
      if (!evidence) c.flags |= F_RPROBE;
      c.highRxt = c.sndUna;
    } else if (sackNextHole(i, false) < 0) return false; // no hole above HighRxt to call lost
    c.lostEnd = high;
  } else {
    if (!sackEnter(i, true)) return false;
    sackRetransmitFirst(i);
  }
  count(C.TCP_RACK_MARKS);
  sackOutput(i);
  // The RTO keeps running from the last ACK: restarting it here could put it off for ever while
  // nothing is acknowledged.
  schedulePto(i);
  return true;
}

