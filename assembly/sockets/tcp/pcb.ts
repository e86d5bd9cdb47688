// Connection blocks: a fixed table of TCP_MAX_SOCKETS, each with a send ring, a receive ring and
// an out-of-order assembler, all in static memory. A socket's fd is its index in the table.
// TIME-WAIT is kept in a separate table of small records so a closed connection frees its buffers.
import { TCP_MAX_SOCKETS, TCP_RCV_BUF, TCP_SND_BUF, TCP_TIME_WAIT_SLOTS } from "../../config";
import { Ring } from "../../support/ring";
import { Assembler } from "./assembler";

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
  sndShift: u32;
  rcvShift: u32;
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
  retries: u32;
  // Congestion control (RFC 5681, RFC 6582)
  cwnd: u32;
  ssthresh: u32;
  dupAcks: u32;
  recover: u32;
  // Timers: absolute deadlines, valid while their flag (or state) says so
  rtxAt: u32;
  persistAt: u32;
  persistBackoff: u32;
  delackAt: u32;
  /** Keep-alive: when the next probe is due (idle since the last segment received). */
  keepAt: u32;
  keepProbes: u32;
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
  /** Zero-window probes not answered (or, once the application has closed, sent in all). */
  probes: u32;
}

@unmanaged
export class TimeWait {
  used: u32;
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
const sndRings = memory.data(<i32>RING_SIZE * TCP_MAX_SOCKETS, 8);
const rcvRings = memory.data(<i32>RING_SIZE * TCP_MAX_SOCKETS, 8);
const assemblers = memory.data(<i32>ASM_SIZE * TCP_MAX_SOCKETS, 8);
const sndBufs = memory.data(<i32>TCP_SND_BUF * TCP_MAX_SOCKETS, 16);
const rcvBufs = memory.data(<i32>TCP_RCV_BUF * TCP_MAX_SOCKETS, 16);
const timeWaits = memory.data(<i32>TW_SIZE * TCP_TIME_WAIT_SLOTS, 8);

// @ts-ignore: decorator
@inline export function pcb(i: i32): Pcb {
  return changetype<Pcb>(pcbs + <usize>i * PCB_SIZE);
}
// @ts-ignore: decorator
@inline export function sndRing(i: i32): Ring {
  return changetype<Ring>(sndRings + <usize>i * RING_SIZE);
}
// @ts-ignore: decorator
@inline export function rcvRing(i: i32): Ring {
  return changetype<Ring>(rcvRings + <usize>i * RING_SIZE);
}
// @ts-ignore: decorator
@inline export function ooo(i: i32): Assembler {
  return changetype<Assembler>(assemblers + <usize>i * ASM_SIZE);
}
// @ts-ignore: decorator
@inline export function tw(i: i32): TimeWait {
  return changetype<TimeWait>(timeWaits + <usize>i * TW_SIZE);
}

/** Bytes of static memory one connection takes (block, rings, assembler, buffers). */
export const BYTES_PER_CONNECTION: u32 = <u32>(PCB_SIZE + 2 * RING_SIZE + ASM_SIZE) + TCP_SND_BUF + TCP_RCV_BUF;

export function pcbInitAll(): void {
  memory.fill(pcbs, 0, PCB_SIZE * TCP_MAX_SOCKETS);
  memory.fill(timeWaits, 0, TW_SIZE * TCP_TIME_WAIT_SLOTS);
}

/** Takes a free block and clears it, rings empty; -1 when all are in use. */
export function pcbAlloc(): i32 {
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    if (c.flags & F_USED) continue;
    memory.fill(changetype<usize>(c), 0, PCB_SIZE);
    c.flags = F_USED;
    c.parent = -1;
    sndRing(i).init(sndBufs + <usize>i * TCP_SND_BUF, TCP_SND_BUF);
    rcvRing(i).init(rcvBufs + <usize>i * TCP_RCV_BUF, TCP_RCV_BUF);
    ooo(i).clear();
    return i;
  }
  return -1;
}

export function pcbFree(i: i32): void {
  const c = pcb(i);
  c.flags = 0;
  c.state = CLOSED;
}

// @ts-ignore: decorator
@inline export function pcbIndex(c: Pcb): i32 {
  return <i32>((changetype<usize>(c) - pcbs) / PCB_SIZE);
}
