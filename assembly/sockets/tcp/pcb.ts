// Connection blocks: a fixed table of TCP_MAX_SOCKETS small blocks (a socket's fd is its index),
// and a separate pool of TCP_MAX_CONNECTIONS buffer sets (send ring, receive ring, out-of-order
// assembler, SACK scoreboard and their bytes), all in static memory. A block takes a buffer set only when it
// starts a connection (SYN sent or received) and gives it back when freed, so listeners and
// sockets not yet connected cost a block, not 11 KiB of buffers (lwIP's tcp_pcb_listen idea).
// A block without buffers points at an empty set (capacity 0): reads see nothing, writes take
// nothing, so no caller needs a special case. TIME-WAIT is kept in a table of small records.
//
// IPv6 (FEATURE_IPV6): a block or record of an IPv6 connection (F_V6, TW_V6) keeps both 16-byte
// addresses in a side table (addrs6(), twAddrs6(): 32 bytes a row, only in an image with IPv6, so
// the IPv4-only layout is unchanged), and in remoteIp a keyed hash of them (isn.ts key6()), which
// stands in for the IPv4 peer wherever a 32-bit address is hashed or compared; lookups compare the
// addresses themselves too.
import { TCP_MAX_CONNECTIONS, TCP_MAX_SOCKETS, TCP_RCV_BUF, TCP_SACK, TCP_SND_BUF, TCP_TIME_WAIT_SLOTS, TCP_TIMESTAMPS } from "../../config";
import { Ring } from "../../support/ring";
import { Assembler } from "./assembler";
import { addrPairEq } from "../../wire/ipv6";

// States (RFC 9293 §3.3.2), numbered as WASMIP_TCP_* in wasmip.h.
export const CLOSED: u32 = 0;
export const LISTEN: u32 = 1;
export const SYN_SENT: u32 = 2;
export const SYN_RECEIVED: u32 = 3;
export const ESTABLISHED: u32 = 4;
export const FIN_WAIT_1: u32 = 5;
export const FIN_WAIT_2: u32 = 6;
export const CLOSE_WAIT: u32 = 7;
export const CLOSING: u32 = 8;
export const LAST_ACK: u32 = 9;
export const TIME_WAIT: u32 = 10;

// Pcb.flags
export const F_USED: u32 = 1 << 0; // the block is allocated
export const F_APP: u32 = 1 << 1; // an application holds the fd
export const F_NODELAY: u32 = 1 << 2; // Nagle off
export const F_KEEPALIVE: u32 = 1 << 3;
export const F_ACK_NOW: u32 = 1 << 4; // send an ACK at the next output
export const F_DELACK: u32 = 1 << 5; // an ACK is being delayed
export const F_FIN_QUEUED: u32 = 1 << 6; // the application shut the write side
export const F_FIN_SENT: u32 = 1 << 7;
export const F_FIN_RCVD: u32 = 1 << 8; // end of stream reached (in order)
export const F_RD_SHUT: u32 = 1 << 9; // the application shut the read side
export const F_WSCALE: u32 = 1 << 10; // window scaling agreed (both SYNs carried it)
export const F_RTT: u32 = 1 << 11; // timing a segment (rttSeq, rttTime)
export const F_RECOVERY: u32 = 1 << 12; // NewReno fast recovery
export const F_CHILD: u32 = 1 << 13; // made by a listener, not yet accepted
export const F_RTX: u32 = 1 << 14; // retransmission timer armed
export const F_PERSIST: u32 = 1 << 15; // persist timer armed
export const F_SYN_ACKED: u32 = 1 << 16; // our SYN has been acknowledged
export const F_REMOTE_MSS: u32 = 1 << 17; // the peer's SYN carried MSS
export const F_FIN_AHEAD: u32 = 1 << 18; // the peer's FIN is at finSeq, not yet reached by RCV.NXT
export const F_OUTPUT_DUE: u32 = 1 << 19; // data queued while the app ran: sent when it returns
export const F_PTO: u32 = 1 << 20; // tail loss probe timer armed (tlpAt), only while F_RTX is
export const F_TLP_OUT: u32 = 1 << 21; // a loss probe is unacknowledged (up to tlpEnd)
export const F_TLP_RTX: u32 = 1 << 22; // ... and it was a retransmission, not new data
export const F_LOSS: u32 = 1 << 23; // recovering from a timeout, until SND.UNA reaches recover
export const F_SACK: u32 = 1 << 24; // SACK permitted by both SYNs (RFC 2018 §2)
export const F_V6: u32 = 1 << 25; // over IPv6: addresses in addrs6()
/** TimeWait.used: in use (1), and over IPv6 (addresses in twAddrs6()): F_V6 >> TW_V6_SHIFT. */
export const TW_V6_SHIFT: u32 = 24;
export const TW_V6: u16 = <u16>(F_V6 >> TW_V6_SHIFT);
export const F_TS: u32 = 1 << 26; // timestamps agreed by both SYNs (RFC 7323 §3.2)
export const F_RPROBE: u32 = 1 << 27; // in recovery, the first hole was sent again on silence (output.ts rackTimeout)
export const F_DSACK_CHECK: u32 = 1 << 28; // the SACK loss event may yet prove spurious: lossStart, rtxUnreported (sack.ts)

@unmanaged
export class Pcb {
  state: u32;
  flags: u32;
  localPort: u32;
  remoteIp: u32;
  remotePort: u32;
  /** Listener: its backlog. Child: its listener's index. */
  backlog: u32;
  parent: i32;
  /** Order of arrival, so accept() hands out the oldest connection first. */
  order: u32;
  // Send sequence space (RFC 9293 §3.3.1)
  iss: u32;
  sndUna: u32;
  sndNxt: u32;
  /** The highest sndNxt ever sent: after a timeout sndNxt goes back to sndUna. */
  sndMax: u32;
  /** Sequence number of the first byte in the send ring. */
  sndBase: u32;
  sndWnd: u32;
  sndWl1: u32;
  sndWl2: u32;
  /** The largest window the peer has offered (MAX.SND.WND of RFC 5961 §5). */
  maxSndWnd: u32;
  // Small fields packed four to a word: the blocks are static memory.
  sndShift: u8;
  rcvShift: u8;
  persistBackoff: u8;
  /** Retransmissions of this loss event not yet reported as duplicates (D-SACK, F_DSACK_CHECK). */
  rtxUnreported: u8;
  mss: u32;
  // Receive sequence space
  irs: u32;
  rcvNxt: u32;
  /** The right edge we have advertised (RCV.NXT + RCV.WND when it was sent). */
  rcvAdv: u32;
  // Round trip (RFC 6298), in ms
  srtt: u32;
  rttvar: u32;
  rto: u32;
  rttSeq: u32;
  rttTime: u32;
  retries: u8;
  keepProbes: u8;
  // Congestion control (RFC 5681, RFC 6582)
  cwnd: u32;
  ssthresh: u32;
  dupAcks: u32;
  recover: u32;
  /** SND.UNA when this loss event began: the start of what it may retransmit (F_DSACK_CHECK). */
  lossStart: u32;
  /** Bytes sent by limited transmit since the last new ACK (RFC 3042): not part of the flight
   *  that sets ssthresh at the third duplicate ACK (RFC 5681 §3.2 step 2). */
  ltBytes: u32;
  /** Tail loss probe (RFC 8985 §7): when it fires (F_PTO), and SND.MAX after the probe (F_TLP_OUT). */
  tlpAt: u32;
  tlpEnd: u32;
  /** SACK recovery (RFC 6675 §2 HighRxt): the end of the highest retransmission in this one. */
  highRxt: u32;
  /** SACK recovery: holes below lostEnd are lost (time-based marking, sack.ts), and SND.MAX at
   *  the last retransmission (data above it was sent after it). */
  lostEnd: u32;
  rxtMax: u32;
  // Timers: absolute deadlines, valid while their flag (or state) says so
  rtxAt: u32;
  persistAt: u32;
  delackAt: u32;
  /** Keep-alive: when the next probe is due (idle since the last segment received). */
  keepAt: u32;
  keepIdle: u32;
  keepIntvl: u32;
  keepCnt: u32;
  /** FIN-WAIT-2 and TIME-WAIT (while the application still holds the fd). */
  closeAt: u32;
  /** Full-sized segments received since our last ACK (ACK every second one). */
  unacked: u32;
  /** Pending error for the application (a negative code), 0 if none. */
  error: i32;
  /** Events last reported through tcp_changed(). */
  reported: u32;
  /** Index of the buffer set, NO_BUFFERS while the block has none. */
  bufs: u32;
  /** Zero-window probes not answered (or, once the application has closed, sent in all). */
  probes: u32;
  /** Where the peer's FIN is (F_FIN_AHEAD): it arrived after a gap in the data before it. */
  finSeq: u32;
  /** The last soft ICMP error (RFC 1122 §4.2.3.9), 0 if none, and SND.UNA when it came: a
   *  timeout reports it instead of ETIMEDOUT unless SND.UNA has moved since (progress). */
  softError: i32;
  softUna: u32;
}

@unmanaged
export class TimeWait {
  used: u16;
  /** RCV.WND when the block left: the acceptability test still needs it (RFC 9293 §3.10.7.4). */
  rcvWnd: u16;
  localPort: u32;
  remoteIp: u32;
  remotePort: u32;
  rcvNxt: u32;
  sndNxt: u32;
  until: u32;
}

const PCB_SIZE = offsetof<Pcb>();
const RING_SIZE = offsetof<Ring>();
const ASM_SIZE = offsetof<Assembler>();
const TW_SIZE = offsetof<TimeWait>();
const pcbs = memory.data(<i32>PCB_SIZE * TCP_MAX_SOCKETS, 8);
/** The index of the empty buffer set that blocks without buffers point at. */
export const NO_BUFFERS: u32 = <u32>TCP_MAX_CONNECTIONS;
const SETS = TCP_MAX_CONNECTIONS + 1;
const sndRings = memory.data(<i32>RING_SIZE * SETS, 8);
const rcvRings = memory.data(<i32>RING_SIZE * SETS, 8);
const assemblers = memory.data(<i32>ASM_SIZE * SETS, 8);
const scoreboards = memory.data(TCP_SACK ? <i32>ASM_SIZE * SETS : 8, 8);
/** Per buffer set with TCP_TIMESTAMPS: TS.Recent and Last.ACK.sent (RFC 7323 §4.3). */
const tsState = memory.data(TCP_TIMESTAMPS ? 8 * SETS : 8, 8);
/** 1 where buffer set k is taken. */
const setUsed = memory.data(TCP_MAX_CONNECTIONS);
const sndBufs = memory.data(<i32>TCP_SND_BUF * TCP_MAX_CONNECTIONS, 16);
const rcvBufs = memory.data(<i32>TCP_RCV_BUF * TCP_MAX_CONNECTIONS, 16);
const timeWaits = memory.data(<i32>TW_SIZE * TCP_TIME_WAIT_SLOTS, 8);

// The accessors are @inline: they are called dozens of times per segment, and under an interpreter
// a wasm call costs far more than their multiply-add.
// @ts-ignore: decorator
@inline export function pcb(i: i32): Pcb {
  return changetype<Pcb>(pcbs + <usize>i * PCB_SIZE);
}
// @ts-ignore: decorator
@inline export function sndRing(i: i32): Ring {
  return changetype<Ring>(sndRings + <usize>pcb(i).bufs * RING_SIZE);
}
// @ts-ignore: decorator
@inline export function rcvRing(i: i32): Ring {
  return changetype<Ring>(rcvRings + <usize>pcb(i).bufs * RING_SIZE);
}
// @ts-ignore: decorator
@inline export function ooo(i: i32): Assembler {
  return changetype<Assembler>(assemblers + <usize>pcb(i).bufs * ASM_SIZE);
}
/** The SACK scoreboard: the ranges above SND.UNA the peer reported (sack.ts). */
// @ts-ignore: decorator
@inline export function sacked(i: i32): Assembler {
  return changetype<Assembler>(scoreboards + <usize>pcb(i).bufs * ASM_SIZE);
}
/** TS.Recent of connection i: the peer's TSval to echo (RFC 7323 §4.3). */
// @ts-ignore: decorator
@inline export function tsRecentAt(i: i32): usize {
  return tsState + (<usize>pcb(i).bufs << 3);
}
/** Last.ACK.sent of connection i: the ACK field of our last segment, at tsRecentAt(i) + 4. */
// @ts-ignore: decorator
@inline export function tsLastAckAt(i: i32): usize {
  return tsState + (<usize>pcb(i).bufs << 3) + 4;
}
// @ts-ignore: decorator
@inline export function tw(i: i32): TimeWait {
  return changetype<TimeWait>(timeWaits + <usize>i * TW_SIZE);
}

/** Bytes of static memory one connection's buffer set takes (rings, assembler, scoreboard, buffers). */
export const BYTES_PER_CONNECTION: u32 = 2 * <u32>RING_SIZE + (TCP_SACK ? 2 : 1) * <u32>ASM_SIZE + TCP_SND_BUF + TCP_RCV_BUF;
/** Bytes of one connection block. */
export const BYTES_PER_BLOCK: u32 = <u32>PCB_SIZE;

/** Block i's IPv6 addresses: the peer's (16 bytes), then ours. */
export function addrs6(i: i32): usize {
  return memory.data(32 * TCP_MAX_SOCKETS, 8) + <usize>i * 32;
}
/** TIME-WAIT record t's IPv6 addresses, as addrs6(). */
export function twAddrs6(t: i32): usize {
  return memory.data(32 * TCP_TIME_WAIT_SLOTS, 8) + <usize>t * 32;
}
/** The addresses (peer, ours) of the IPv6 segment being handled, which replies and lookups use, or
 *  of the connection whose control segment goes next; 0 for IPv4. */
export let ctl6: usize = 0;
export function setCtl6(a: usize): void {
  ctl6 = a;
}
/** Does block i belong to the family (and, IPv6, the addresses) of ctl6? */
export function sameFamily(i: i32): bool {
  return familyIs((pcb(i).flags & F_V6) != 0, addrs6(i));
}
/** Is a block or record (over IPv6 if v6, with addresses a) of ctl6's family and addresses? */
export function familyIs(v6: bool, a: usize): bool {
  return ctl6 == 0 ? !v6 : v6 && addrPairEq(a, ctl6);
}
/** A block made for the segment being handled takes its family and addresses. */
export function pcbTakeFamily(i: i32): void {
  if (ctl6 == 0) return;
  pcb(i).flags |= F_V6;
  memory.copy(addrs6(i), ctl6, 32);
}

export function pcbInitAll(): void {
  memory.fill(pcbs, 0, PCB_SIZE * TCP_MAX_SOCKETS);
  pcbUsed = 0;
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) pcb(i).bufs = NO_BUFFERS;
  memory.fill(timeWaits, 0, TW_SIZE * TCP_TIME_WAIT_SLOTS);
  memory.fill(setUsed, 0, TCP_MAX_CONNECTIONS);
  // The empty set: capacity 0, nothing queued, no ranges.
  memory.fill(sndRings + <usize>NO_BUFFERS * RING_SIZE, 0, RING_SIZE);
  memory.fill(rcvRings + <usize>NO_BUFFERS * RING_SIZE, 0, RING_SIZE);
  memory.fill(assemblers + <usize>NO_BUFFERS * ASM_SIZE, 0, ASM_SIZE);
  if (TCP_SACK) memory.fill(scoreboards + <usize>NO_BUFFERS * ASM_SIZE, 0, ASM_SIZE);
}

/** Bit i is set while block i is allocated, so the timer scan visits only those blocks. */
export let pcbUsed: u64 = 0;

/** Takes a free block and clears it, without buffers; -1 when all are in use. */
export function pcbAlloc(): i32 {
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    if (c.flags & F_USED) continue;
    memory.fill(changetype<usize>(c), 0, PCB_SIZE);
    c.flags = F_USED;
    c.parent = -1;
    c.bufs = NO_BUFFERS;
    pcbUsed |= <u64>1 << <u64>i;
    return i;
  }
  return -1;
}

// D-SACK (RFC 2883 §4, sack.ts): a segment that brought only bytes we already had is reported once,
// as the first block of the next ACK, which goes out at once (a duplicate is ACKed immediately).
// One pending report for the whole stack, not one per connection: if another connection's duplicate
// replaces it before it is sent, the peer misses a hint, never data. Here so that a block given to
// a new connection drops it.
export let dsackConn: i32 = -1;
export let dsackLeft: u32 = 0;
export let dsackRight: u32 = 0;

export function dsackSet(i: i32, left: u32, right: u32): void {
  dsackConn = i;
  dsackLeft = left;
  dsackRight = right;
}

/** Gives block i a buffer set with empty rings; false when every set is taken. */
export function pcbAttachBuffers(i: i32): bool {
  const c = pcb(i);
  if (c.bufs != NO_BUFFERS) return true;
  for (let k = 0; k < TCP_MAX_CONNECTIONS; k++) {
    if (load<u8>(setUsed + k)) continue;
    store<u8>(setUsed + k, 1);
    c.bufs = <u32>k;
    sndRing(i).init(sndBufs + <usize>k * TCP_SND_BUF, TCP_SND_BUF);
    rcvRing(i).init(rcvBufs + <usize>k * TCP_RCV_BUF, TCP_RCV_BUF);
    ooo(i).clear();
    if (TCP_SACK) sacked(i).clear();
    if (dsackConn == i) dsackConn = -1;
    return true;
  }
  return false;
}

/** What pcbAllocConnection returns when a block was free but no buffer set. */
export const NO_BUFFERS_LEFT: i32 = -2;

/** A block with a buffer set, for a connection that starts now: its index, -1 when no block is
 *  free, NO_BUFFERS_LEFT when no buffer set is. */
export function pcbAllocConnection(): i32 {
  const i = pcbAlloc();
  if (i < 0) return -1;
  if (pcbAttachBuffers(i)) return i;
  pcbFree(i);
  return NO_BUFFERS_LEFT;
}

export function pcbFree(i: i32): void {
  const c = pcb(i);
  if (c.bufs != NO_BUFFERS) store<u8>(setUsed + c.bufs, 0);
  c.bufs = NO_BUFFERS;
  c.flags = 0;
  c.state = CLOSED;
  pcbUsed &= ~(<u64>1 << <u64>i);
}

// @ts-ignore: decorator
@inline export function pcbIndex(c: Pcb): i32 {
  return <i32>((changetype<usize>(c) - pcbs) / PCB_SIZE);
}
