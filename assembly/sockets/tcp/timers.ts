// TCP timers, driven by poll(): retransmission (RFC 6298), persist, delayed ACK, keep-alive
// (RFC 1122 §4.2.3.6), FIN-WAIT-2 and TIME-WAIT. Returns the delay to the nearest deadline.
import {
  FEATURE_IPV6, POLL_MAX_SLEEP_MS, TCP_ADVICE_RETRIES, TCP_MAX_RETRIES, TCP_PERSIST_MAX_MS, TCP_PERSIST_MIN_MS, TCP_RTO_MAX_MS,
  TCP_SACK, TCP_SYN_RETRIES, TCP_TIME_WAIT_SLOTS,
} from "../../config";
import { due, now, until } from "../../support/clock";
import { C, count } from "../../support/counters";
import { ETIMEDOUT } from "../../support/errors";
import { ACK, RST } from "../../wire/tcp";
import { ipv4NegativeAdvice } from "../../iface/ipv4";
import { closed, fail } from "./input";
import { sackForget } from "./sack";
import { OUT_PROBE, armRtx, rackTimeout, retransmitLast, sendAck, sendControlFor, sendSegment, sendSyn, tcpOutput, tcpOutputMode } from "./output";
import {
  CLOSE_WAIT, ESTABLISHED, FIN_WAIT_2, SYN_RECEIVED, SYN_SENT, TIME_WAIT,
  F_APP, F_CHILD, F_DELACK, F_KEEPALIVE, F_LOSS, F_PERSIST, F_PTO, F_RECOVERY, F_RTT, F_RTX, F_TLP_OUT, F_TLP_RTX, F_DSACK_CHECK, F_USED, F_V6,
  pcb, pcbFree, pcbUsed, sacked, tw,
} from "./pcb";

let next: u32 = 0;

// @ts-ignore: decorator
@inline function consider(at: u32): void {
  const d = until(at);
  if (d < next) next = d;
}

/** The error a timeout reports: a soft ICMP error that came since the last progress (SND.UNA
 *  unmoved), else ETIMEDOUT (RFC 1122 §4.2.3.9). */
function timeoutError(i: i32): i32 {
  const c = pcb(i);
  return c.softError != 0 && c.softUna == c.sndUna ? c.softError : ETIMEDOUT;
}

function retransmitTimeout(i: i32): void {
  const c = pcb(i);
  c.flags &= ~F_RTX;
  c.retries++;
  count(C.TCP_TIMEOUTS);
  if (c.state == SYN_SENT || c.state == SYN_RECEIVED) {
    if (c.retries > TCP_SYN_RETRIES) {
      if (c.flags & F_CHILD) pcbFree(i); // a half-open connection nobody will miss
      else fail(i, timeoutError(i));
      return;
    }
    c.rto = min<u32>(c.rto << 1, TCP_RTO_MAX_MS);
    sendSyn(i);
    return;
  }
  if (c.retries > TCP_MAX_RETRIES) {
    sendControlFor(i, c.sndNxt, 0, RST);
    fail(i, timeoutError(i));
    return;
  }
  // RFC 1122 §4.2.3.5: from R1 retransmissions on, negative advice to IP at each timeout (a MAC
  // learnt wrong from a damaged ARP reply blackholed a connection for ARP_ENTRY_TTL_MS, found by
  // the lossy tests; advice once only could be answered by another damaged reply).
  if (c.retries >= TCP_ADVICE_RETRIES && (!FEATURE_IPV6 || (c.flags & F_V6) == 0)) ipv4NegativeAdvice(c.remoteIp); // IPv6: ND's own NUD
  // RFC 5681 §3.1 eq. 4 and RFC 6298 §5.5-5.6: halve, restart from one segment, back off,
  // and resend from SND.UNA (go-back-N). RFC 6582 §3.2 step 7: remember what was in flight.
  const flight = c.sndMax - c.sndUna;
  c.ssthresh = max<u32>(flight >> 1, 2 * c.mss);
  c.cwnd = c.mss;
  c.recover = c.sndMax;
  c.flags = (c.flags & ~(F_RECOVERY | F_RTT | F_PTO | F_TLP_OUT | F_TLP_RTX | F_DSACK_CHECK)) | F_LOSS;
  if (TCP_SACK) sackForget(i); // RFC 2018 §5.1: the receiver may have reneged
  c.dupAcks = 0;
  c.ltBytes = 0;
  c.rto = min<u32>(c.rto << 1, TCP_RTO_MAX_MS);
  c.sndNxt = c.sndUna;
  tcpOutput(i);
}

/** The tail loss probe (RFC 8985 §7.3): one new segment if the peer's window takes it, else the
 *  last segment again, so that a loss at the tail of a flight draws an ACK (and with it fast
 *  recovery, or the repair itself) instead of waiting for the RTO, which restarts from here. */
function lossProbe(i: i32): void {
  const c = pcb(i);
  c.flags &= ~F_PTO;
  if (TCP_SACK && sacked(i).count() > 0) {
    rackTimeout(i);
    return;
  }
  if (c.flags & (F_RECOVERY | F_TLP_OUT)) return;
  if (tcpOutputMode(i, OUT_PROBE)) c.flags &= ~F_TLP_RTX;
  else if (retransmitLast(i)) c.flags |= F_TLP_RTX;
  else return;
  count(C.TCP_LOSS_PROBES);
  c.flags |= F_TLP_OUT;
  c.tlpEnd = c.sndMax;
  armRtx(i);
}

function persistTimeout(i: i32): void {
  const c = pcb(i);
  // RFC 9293 §3.8.6.1: probing goes on while the peer answers. A peer that vanished behind its
  // zero window would hold the block for ever, so TCP_MAX_RETRIES probes without an answer end
  // the connection like a retransmission timeout; once the application has closed (nobody will
  // read what it still wanted sent), TCP_MAX_RETRIES probes in all do, answered or not.
  if (c.probes >= TCP_MAX_RETRIES) {
    count(C.TCP_TIMEOUTS);
    sendControlFor(i, c.sndNxt, 0, RST);
    fail(i, ETIMEDOUT);
    return;
  }
  c.probes++;
  // A probe at SND.UNA - 1 makes the peer answer with its current window and carries no data.
  count(C.TCP_WINDOW_PROBES);
  sendSegment(i, c.sndUna - 1, ACK, 0, 0);
  if (c.persistBackoff < 16) c.persistBackoff++;
  let d = max<u32>(c.rto, TCP_PERSIST_MIN_MS) << min<u32>(c.persistBackoff, 7);
  if (d > TCP_PERSIST_MAX_MS) d = TCP_PERSIST_MAX_MS;
  c.persistAt = now + d;
}

function keepaliveTimeout(i: i32): void {
  const c = pcb(i);
  if (c.keepProbes >= c.keepCnt) {
    count(C.TCP_KEEPALIVE_TIMEOUTS);
    sendControlFor(i, c.sndNxt, 0, RST);
    fail(i, ETIMEDOUT);
    return;
  }
  c.keepProbes++;
  count(C.TCP_KEEPALIVE_PROBES);
  sendSegment(i, c.sndUna - 1, ACK, 0, 0);
  c.keepAt = now + c.keepIntvl;
}

const TO_RTX: u32 = 0;
const TO_TLP: u32 = 1;
const TO_PERSIST: u32 = 2;
const TO_KEEPALIVE: u32 = 3;

/**
 * Timeout `which` of connection i: one function with four call sites, so that binaryen keeps it
 * (and the four handlers it inlines) out of tcpPoll's per-connection loop, which poll() inlines.
 * With each handler inlined there (one caller each), that loop body was a 1.7 KB block: WAMR's
 * classic interpreter finds where a block ends through a small cache keyed by code address and
 * rescans the bytecode on a miss, which cost up to a 1.7 KB scan per poll once code moved (classic
 * 136 -> 177 instructions/byte, issue 14). Timers fire rarely: the extra call is off the hot path.
 */
function timeout(i: i32, which: u32): void {
  if (which == TO_RTX) retransmitTimeout(i);
  else if (which == TO_TLP) lossProbe(i);
  else if (which == TO_PERSIST) persistTimeout(i);
  else keepaliveTimeout(i);
}

/** Whether a TIME-WAIT record may be in use: set when one is made, cleared by a scan that finds
 *  none, so a poll with none skips their scan (an interpreter runs it for every frame). */
let twLive = false;

export function twArmed(): void {
  twLive = true;
}

export function tcpPoll(): u32 {
  next = POLL_MAX_SLEEP_MS;
  // The blocks in use when the scan starts; one a handler frees on the way has F_USED clear.
  let used = pcbUsed;
  while (used) {
    const i = <i32>ctz(used);
    used &= used - 1;
    const c = pcb(i);
    if ((c.flags & F_USED) == 0) continue;
    if ((c.flags & F_DELACK) && due(c.delackAt)) {
      count(C.TCP_DELAYED_ACKS);
      sendAck(i);
    }
    if ((c.flags & (F_PTO | F_RTX)) == (F_PTO | F_RTX) && due(c.tlpAt)) timeout(i, TO_TLP);
    if ((c.flags & F_RTX) && due(c.rtxAt)) timeout(i, TO_RTX);
    if ((c.flags & F_USED) == 0) continue;
    if ((c.flags & F_PERSIST) && due(c.persistAt)) timeout(i, TO_PERSIST);
    if ((c.flags & F_USED) == 0) continue;
    const st = c.state;
    if ((c.flags & F_KEEPALIVE) && (st == ESTABLISHED || st == CLOSE_WAIT) && due(c.keepAt)) timeout(i, TO_KEEPALIVE);
    if ((c.flags & F_USED) == 0) continue;
    if ((st == TIME_WAIT || (st == FIN_WAIT_2 && (c.flags & F_APP) == 0)) && due(c.closeAt)) {
      closed(i);
      continue;
    }
    if (c.flags & F_DELACK) consider(c.delackAt);
    if (c.flags & F_RTX) consider(c.rtxAt);
    if ((c.flags & (F_PTO | F_RTX)) == (F_PTO | F_RTX)) consider(c.tlpAt);
    if (c.flags & F_PERSIST) consider(c.persistAt);
    if ((c.flags & F_KEEPALIVE) && (c.state == ESTABLISHED || c.state == CLOSE_WAIT)) consider(c.keepAt);
    if (c.state == TIME_WAIT || (c.state == FIN_WAIT_2 && (c.flags & F_APP) == 0)) consider(c.closeAt);
  }
  if (twLive) {
    twLive = false;
    for (let t = 0; t < TCP_TIME_WAIT_SLOTS; t++) {
      const s = tw(t);
      if (!s.used) continue;
      if (due(s.until)) s.used = 0;
      else {
        twLive = true;
        consider(s.until);
      }
    }
  }
  return next;
}
