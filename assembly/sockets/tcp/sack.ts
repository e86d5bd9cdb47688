// SACK (RFC 2018) both ways, and the sender's loss recovery with it (RFC 6675), for connections
// whose SYNs both carried SACK-permitted (F_SACK).
//
// Receiver: every ACK we send while the out-of-order assembler holds data reports its ranges,
// first the one holding the segment that arrived last (RFC 2018 §4), then the others from the
// highest down; a duplicate segment is reported first of all, once (D-SACK, RFC 2883). The assembler holds at most 4 ranges and nothing else shares the option space (no
// timestamps), so every range is reported each time; a data segment gives up payload for them
// (dataOptionLen), as Linux does, so segments still fit the peer's MSS.
//
// Sender: the scoreboard (pcb.ts sacked()) is an assembler of the ranges above SND.UNA the peer
// reported; what does not fit (a fifth discontiguous range) is left out, which only makes us
// think less has arrived. A block is trusted only when it lies in SND.UNA..SND.MAX, is not empty,
// and overlaps no other block of the option (a D-SACK block, RFC 2883: the first one at or below
// the ACK or inside the second, is skipped); an option with any other block is ignored whole and
// counted (tcp_sack_rejected), as is one whose length is not 2 + 8n (wire/tcp.ts). A timeout
// forgets the scoreboard (RFC 2018 §5.1: the receiver may have reneged).
//
// Loss recovery (RFC 6675 §5): entered on the third duplicate ACK or as soon as IsLost(SND.UNA);
// cwnd = ssthresh = FlightSize / 2; then, while cwnd - pipe >= 1 SMSS, NextSeg: the lost holes
// above HighRxt first, then new data, then the other holes (rule 3); it ends at the recovery point
// as NewReno's does (input.ts). IsLost and pipe are computed per hole: every byte of one hole has
// the same SACKed bytes above it, so a hole is lost or not as a whole. Holes below lostEnd are
// also lost: RACK's rule, applied by its timer (output.ts rackTimeout()).
import { TCP_SACK, TCP_TIMESTAMPS } from "../../config";
import { C, count } from "../../support/counters";
import { SACK_MAX_BLOCKS, TcpRepr } from "../../wire/tcp";
import { Assembler } from "./assembler";
import { F_ACK_NOW, F_LOSS, F_PTO, F_RECOVERY, F_RPROBE, F_SACK, F_TS, F_TLP_OUT, F_TLP_RTX, F_DSACK_CHECK, Pcb, dsackConn, dsackLeft, dsackRight, dsackSet, ooo, pcb, sacked } from "./pcb";
import { seqGt, seqLe, seqLt } from "./seq";

/** RFC 6675 §2 DupThresh. */
const DUP_THRESH: u32 = 3;

// ---- Receiver ----------------------------------------------------------------------------------

/** Connection i received [left, right) again: report it in the ACK it sends now (if SACK was
 *  agreed: otherwise nothing changes). */
export function sackDuplicate(i: i32, left: u32, right: u32): void {
  const c = pcb(i);
  if (!TCP_SACK || (c.flags & F_SACK) == 0) return;
  dsackSet(i, left, right);
  c.flags |= F_ACK_NOW;
}

/** Bytes the options take on connection i's next data segment: timestamps (12) and the SACK
 *  blocks to report (at most 3 beside timestamps, 4 without, in the 40 bytes of option space). */
// @ts-ignore: decorator
@inline export function dataOptionLen(i: i32): u32 {
  const ts: u32 = TCP_TIMESTAMPS && (pcb(i).flags & F_TS) != 0 ? 12 : 0;
  if (!TCP_SACK || (pcb(i).flags & F_SACK) == 0) return ts;
  const n = <u32>ooo(i).count() + <u32>(dsackConn == i);
  return ts + (n ? 4 + (min<u32>(n, sackMaxBlocks(ts)) << 3) : 0);
}

/** SACK blocks that fit beside ts bytes of timestamps option. */
// @ts-ignore: decorator
@inline export function sackMaxBlocks(ts: u32): u32 {
  return ts ? SACK_MAX_BLOCKS - 1 : SACK_MAX_BLOCKS;
}

/** Puts connection i's SACK blocks on s, at most max of them: a pending D-SACK block first, then
 *  the range the last arrival went into, then the others from the highest down. */
export function sackFill(i: i32, s: TcpRepr, max: u32): void {
  s.sackCount = 0;
  if (!TCP_SACK || (pcb(i).flags & F_SACK) == 0 || max == 0) return;
  const asm = ooo(i);
  const n = asm.count();
  let k: u32 = 0;
  if (dsackConn == i) {
    s.setSack(k++, dsackLeft, dsackRight);
    dsackSet(-1, 0, 0);
  }
  const first = asm.find(asm.last);
  if (first >= 0 && k < max) s.setSack(k++, asm.start(first), asm.end(first));
  for (let r = n - 1; r >= 0 && k < max; r--) {
    if (r != first) s.setSack(k++, asm.start(r), asm.end(r));
  }
  s.sackCount = k;
}


// ---- Sender: the scoreboard ------------------------------------------------------------------

/** Takes the SACK blocks of the arriving segment s (whose ACK field is ack, already checked to be
 *  in SND.UNA..SND.MAX) into connection i's scoreboard (RFC 6675 §5 Update()). Returns true when
 *  they SACKed bytes not SACKed before: RFC 6675 §2's duplicate ACK, whatever its window. */
export function sackTake(i: i32, s: TcpRepr, ack: u32): bool {
  const c = pcb(i);
  if (s.sackMalformed) {
    count(C.TCP_SACK_REJECTED);
    return false;
  }
  const n = s.sackCount;
  if (n == 0) return false;
  // D-SACK (RFC 2883 §4): the first block reports a duplicate when it lies at or below the ACK
  // or inside the second block; it is no news for the scoreboard.
  let k0: u32 = 0;
  if (!seqGt(s.sackRight(0), ack) ||
    (n > 1 && seqLe(s.sackLeft(1), s.sackLeft(0)) && seqLe(s.sackRight(0), s.sackRight(1)))) {
    k0 = 1;
  }
  // Check all before taking any: an option with a block we cannot trust is ignored whole.
  for (let k = k0; k < n; k++) {
    const l = s.sackLeft(k);
    const r = s.sackRight(k);
    let bad = !seqLt(l, r) || seqLt(l, ack) || seqGt(r, c.sndMax);
    for (let j = k0; j < k && !bad; j++) bad = seqLt(l, s.sackRight(j)) && seqLt(s.sackLeft(j), r);
    if (bad) {
      count(C.TCP_SACK_REJECTED);
      return false;
    }
  }
  // A duplicate that ends where our retransmitted loss probe ended: both copies arrived, the
  // probe repaired nothing (RFC 8985 §7.4).
  if (k0 && (c.flags & F_TLP_RTX) && s.sackRight(0) == c.tlpEnd) c.flags &= ~(F_TLP_OUT | F_TLP_RTX);
  // A duplicate of what the last loss event retransmitted (RFC 3708 §3): once each of its
  // retransmissions is reported so, none was needed.
  if (k0 && (c.flags & F_DSACK_CHECK) && c.rtxUnreported && seqLe(c.lossStart, s.sackLeft(0)) && seqLe(s.sackRight(0), c.recover)) {
    if (--c.rtxUnreported == 0 && (c.flags & F_RECOVERY) == 0) sackSpurious(c);
  }
  const sb = sacked(i);
  const before = sackedFrom(sb, 0);
  for (let k = k0; k < n; k++) sb.add(s.sackLeft(k), s.sackRight(k));
  return sackedFrom(sb, 0) != before;
}

/** Bytes in scoreboard ranges k and up. */
function sackedFrom(sb: Assembler, k: i32): u32 {
  let bytes: u32 = 0;
  for (let r = k, n = sb.count(); r < n; r++) bytes += sb.end(r) - sb.start(r);
  return bytes;
}

/** SND.UNA moved to una: what it covers leaves the scoreboard. */
export function sackAcked(i: i32, una: u32): void {
  sacked(i).trim(una);
}

/** The scoreboard is forgotten (a timeout, RFC 2018 §5.1). */
export function sackForget(i: i32): void {
  sacked(i).clear();
}

/** RFC 6675 §4 IsLost() for the hole from a below scoreboard range k (k = count: above the highest
 *  range, never lost): DupThresh ranges above it, or more than (DupThresh - 1) SMSS SACKed; or
 *  marked lost by time (below lostEnd, while in recovery). */
function holeLost(sb: Assembler, k: i32, mss: u32, a: u32, lostEnd: u32): bool {
  if (k < sb.count() && seqLt(a, lostEnd)) return true;
  const n = sb.count();
  if (n - k >= <i32>DUP_THRESH) return true;
  return sackedFrom(sb, k) > (DUP_THRESH - 1) * mss;
}

/** IsLost(SND.UNA): the first hole. */
export function sackUnaLost(i: i32): bool {
  const c = pcb(i);
  const sb = sacked(i);
  return sb.count() > 0 && holeLost(sb, 0, c.mss, c.sndUna, c.sndUna);
}

/** The end of the highest SACKed range (SND.UNA when nothing is SACKed). */
export function sackHighest(i: i32): u32 {
  const sb = sacked(i);
  const n = sb.count();
  return n ? sb.end(n - 1) : pcb(i).sndUna;
}

/** RFC 6675 §4 SetPipe(): bytes in flight, hole by hole: an unSACKed byte counts once unless
 *  lost, and once more if retransmitted in this recovery (below HighRxt). */
export function sackPipe(i: i32): u32 {
  const c = pcb(i);
  const sb = sacked(i);
  const n = sb.count();
  let pipe: u32 = 0;
  let a = c.sndUna;
  for (let k = 0; k <= n; k++) {
    const b = k < n ? sb.start(k) : c.sndMax;
    if (seqLt(a, b)) {
      if (!holeLost(sb, k, c.mss, a, c.lostEnd)) pipe += b - a;
      if (seqGt(c.highRxt, a)) pipe += (seqLt(c.highRxt, b) ? c.highRxt : b) - a;
    }
    if (k < n) a = sb.end(k);
  }
  return pipe;
}

/** RFC 6675 §4 NextSeg() rules 1 and 3: where the next retransmission starts (the first unSACKed
 *  byte at or above HighRxt below the highest SACKed byte: rule 1 only in a lost hole), and in
 *  nextLen how far its hole goes; false when there is none. */
export let nextLen: u32 = 0;
export function sackNextHole(i: i32, lostOnly: bool): i32 {
  const c = pcb(i);
  const sb = sacked(i);
  const n = sb.count();
  let a = c.sndUna;
  for (let k = 0; k < n; k++) {
    const b = sb.start(k);
    const from = seqLt(a, c.highRxt) ? c.highRxt : a;
    if (seqLt(from, b) && (!lostOnly || holeLost(sb, k, c.mss, a, c.lostEnd))) {
      nextLen = b - from;
      return <i32>(from - c.sndUna);
    }
    a = sb.end(k);
  }
  return -1;
}

/** Enters SACK loss recovery if it is due (RFC 6675 §5: the third duplicate ACK, or IsLost(SND.UNA);
 *  or, byTime, the holes below the highest SACKed byte were found lost by time), outside recovery
 *  and past the last recovery point (RFC 6582 §3.2 step 2's check). Returns true when it did:
 *  the caller retransmits and runs sackOutput(). */
export function sackEnter(i: i32, byTime: bool = false): bool {
  const c = pcb(i);
  if (c.flags & (F_RECOVERY | F_LOSS) || c.sndUna == c.sndMax) return false;
  if (!byTime && c.dupAcks < DUP_THRESH && !sackUnaLost(i)) return false;
  // RFC 6582 §3.2 step 2: the ACK must cover more than the last recovery's highest sequence
  // number sent, SND.MAX - 1 then (recover holds SND.MAX): a loss of the very next segment starts
  // a new recovery instead of waiting for the RTO.
  if (seqLt(c.sndUna, c.recover)) return false;
  // RFC 6675 §5 step 4: RecoveryPoint = HighData; cwnd = ssthresh = FlightSize / 2 (RFC 5681
  // eq. 4; limited transmit's segments left out, §3.2 step 2).
  const flight = c.sndMax - c.sndUna - min<u32>(c.ltBytes, c.sndMax - c.sndUna);
  c.lossStart = c.sndUna;
  c.rtxUnreported = 0;
  c.ssthresh = max<u32>(flight >> 1, 2 * c.mss);
  c.cwnd = c.ssthresh;
  c.recover = c.sndMax;
  c.highRxt = c.sndUna;
  c.lostEnd = byTime ? sackHighest(i) : c.sndUna;
  c.flags = (c.flags & ~(F_PTO | F_TLP_OUT | F_TLP_RTX | F_RPROBE)) | F_RECOVERY | F_DSACK_CHECK;
  count(C.TCP_FAST_RETRANSMITS);
  return true;
}

/** Every retransmission of the last loss event was reported as a duplicate (D-SACK, RFC 3708
 *  §3): reordering or lost ACKs made it, not a loss. Counted once recovery is over (input.ts).
 *  The congestion response is kept: undoing it (RFC 4015 §3.1, Linux's cwnd undo) was measured
 *  and lowered goodput with reordering in the emulated PHY (docs/tcp.md). */
export function sackSpurious(c: Pcb): void {
  c.flags &= ~F_DSACK_CHECK;
  count(C.TCP_SPURIOUS_RECOVERIES);
}
