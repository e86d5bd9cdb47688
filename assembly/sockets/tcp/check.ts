// Internal invariants of the TCP tables, for the debug build (debug_check in assembly/debug.ts):
// the fuzz targets call it after every frame and timer run. Returns 0, or the first violation as
// (check << 8) | block index (TIME-WAIT checks index the record). Read-only: it changes nothing.
import { TCP_BACKLOG_MAX, TCP_MAX_RETRIES, TCP_MAX_SOCKETS, TCP_MSS, TCP_RCV_BUF, TCP_SND_BUF, TCP_TIME_WAIT_SLOTS } from "../../config";
import { MAX_RANGES } from "./assembler";
import {
  CLOSED, LISTEN, SYN_SENT, TIME_WAIT, F_APP, F_CHILD, F_FIN_RCVD, F_FIN_SENT, F_PERSIST, F_RD_SHUT, F_RTX, F_USED,
  ooo, pcb, rcvRing, sndRing, tw,
} from "./pcb";
import { seqLe, seqLt } from "./seq";

// Check numbers (the high byte of a violation).
export const TCP_BAD_STATE: u32 = 1; // state out of range
export const TCP_CLOSED_UNHELD: u32 = 2; // CLOSED and no application holds it: should be free
export const TCP_BAD_CHILD: u32 = 3; // a child without a live listener on its port, or held by an app
export const TCP_BAD_LISTENER: u32 = 4; // a listener not held, unbound, or sharing its port
export const TCP_NO_ENDPOINT: u32 = 5; // a connection without remote address or ports
export const TCP_SEQ_ORDER: u32 = 6; // not SND.UNA <= SND.NXT <= SND.MAX
export const TCP_SEQ_BEYOND_DATA: u32 = 7; // SND.MAX past the data (and FIN) there is; SND.UNA off the ring's base
export const TCP_RING_BOUNDS: u32 = 8; // a ring's length or head outside its capacity, or the wrong capacity
export const TCP_OOO_RANGES: u32 = 9; // out-of-order ranges unsorted, overlapping, behind RCV.NXT or past the ring
export const TCP_BAD_MSS: u32 = 10;
export const TCP_BAD_WINDOW: u32 = 11; // window or shift out of range, SND.WND above MAX.SND.WND, cwnd below one MSS
export const TCP_TIMER_STATE: u32 = 12; // a retransmission or persist timer on a block that sends nothing
export const TCP_DUPLICATE_TUPLE: u32 = 13; // two blocks (or a block and a TIME-WAIT record) for one 4-tuple
export const TCP_BACKLOG: u32 = 14; // more children than TCP_BACKLOG_MAX
export const TCP_RETRIES: u32 = 15; // retries or zero-window probes past TCP_MAX_RETRIES on a live connection
export const TCP_BAD_TIME_WAIT: u32 = 16; // a TIME-WAIT record without ports, or two for one 4-tuple

// @ts-ignore: decorator
@inline function fail(check: u32, i: i32): u32 {
  return (check << 8) | <u32>i;
}

function ringOk(i: i32, snd: bool): bool {
  const r = snd ? sndRing(i) : rcvRing(i);
  const cap = snd ? TCP_SND_BUF : TCP_RCV_BUF;
  return r.cap == cap && r.len <= r.cap && r.head < r.cap;
}

function oooOk(i: i32): bool {
  const a = ooo(i);
  const n = a.count();
  if (n < 0 || n > MAX_RANGES) return false;
  const c = pcb(i);
  // After FIN or a read shutdown RCV.NXT may pass stale ranges that are never used again.
  const related = (c.flags & (F_FIN_RCVD | F_RD_SHUT)) == 0;
  let prevEnd = c.rcvNxt;
  for (let k = 0; k < n; k++) {
    const s = a.start(k);
    const e = a.end(k);
    if (!seqLt(s, e)) return false;
    // Sorted, disjoint and not adjacent (adjacent ranges are merged).
    if (k > 0 && !seqLt(prevEnd, s)) return false;
    if (k == 0 && related && !seqLt(c.rcvNxt, s)) return false;
    prevEnd = e;
  }
  if (n > 0 && related && prevEnd - c.rcvNxt > rcvRing(i).free()) return false;
  return true;
}

export function tcpCheck(): u32 {
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    const f = c.flags;
    if ((f & F_USED) == 0) continue;
    const st = c.state;
    if (st > TIME_WAIT) return fail(TCP_BAD_STATE, i);
    if (st == CLOSED && (f & F_APP) == 0) return fail(TCP_CLOSED_UNHELD, i);
    if (f & F_CHILD) {
      if (f & F_APP) return fail(TCP_BAD_CHILD, i);
      const l = c.parent;
      if (l < 0 || l >= TCP_MAX_SOCKETS) return fail(TCP_BAD_CHILD, i);
      const lc = pcb(l);
      if ((lc.flags & F_USED) == 0 || lc.state != LISTEN || lc.localPort != c.localPort) return fail(TCP_BAD_CHILD, i);
    }
    if (st == LISTEN) {
      if ((f & (F_APP | F_CHILD)) != F_APP || c.localPort == 0 || c.localPort > 0xffff) return fail(TCP_BAD_LISTENER, i);
      let children: u32 = 0;
      for (let j = 0; j < TCP_MAX_SOCKETS; j++) {
        if (j == i) continue;
        const o = pcb(j);
        if ((o.flags & F_USED) == 0) continue;
        if (o.state == LISTEN && o.localPort == c.localPort) return fail(TCP_BAD_LISTENER, i);
        if ((o.flags & F_CHILD) != 0 && o.parent == i) children++;
      }
      if (children > TCP_BACKLOG_MAX) return fail(TCP_BACKLOG, i);
      continue;
    }
    if (!ringOk(i, true) || !ringOk(i, false)) return fail(TCP_RING_BOUNDS, i);
    if (st < SYN_SENT) continue; // CLOSED, held by the application
    if (c.remoteIp == 0 || c.remotePort == 0 || c.remotePort > 0xffff || c.localPort == 0 || c.localPort > 0xffff) {
      return fail(TCP_NO_ENDPOINT, i);
    }
    if (!seqLe(c.sndUna, c.sndNxt) || !seqLe(c.sndNxt, c.sndMax)) return fail(TCP_SEQ_ORDER, i);
    const ring = sndRing(i);
    const dataEnd = c.sndBase + ring.len;
    // SND.UNA is the ring's base, one before it (our SYN unacknowledged) or one after (our FIN acknowledged).
    if (c.sndUna - c.sndBase + 1 > 2) return fail(TCP_SEQ_BEYOND_DATA, i);
    if (!seqLe(c.sndMax, dataEnd + ((f & F_FIN_SENT) != 0 ? 1 : 0))) return fail(TCP_SEQ_BEYOND_DATA, i);
    if (!oooOk(i)) return fail(TCP_OOO_RANGES, i);
    if (c.mss < 64 || c.mss > TCP_MSS) return fail(TCP_BAD_MSS, i);
    if (c.sndShift > 14 || c.rcvShift > 14 || c.sndWnd > (<u32>0xffff << 14) || c.sndWnd > c.maxSndWnd || c.cwnd < c.mss) {
      return fail(TCP_BAD_WINDOW, i);
    }
    if ((f & (F_RTX | F_PERSIST)) != 0 && st == TIME_WAIT) return fail(TCP_TIMER_STATE, i);
    if (c.retries > TCP_MAX_RETRIES || c.probes > TCP_MAX_RETRIES) return fail(TCP_RETRIES, i);
    for (let j = i + 1; j < TCP_MAX_SOCKETS; j++) {
      const o = pcb(j);
      if ((o.flags & F_USED) == 0 || o.state <= LISTEN) continue;
      if (o.localPort == c.localPort && o.remotePort == c.remotePort && o.remoteIp == c.remoteIp) return fail(TCP_DUPLICATE_TUPLE, i);
    }
    for (let t = 0; t < TCP_TIME_WAIT_SLOTS; t++) {
      const s = tw(t);
      if (s.used && s.localPort == c.localPort && s.remotePort == c.remotePort && s.remoteIp == c.remoteIp) {
        return fail(TCP_DUPLICATE_TUPLE, i);
      }
    }
  }
  for (let t = 0; t < TCP_TIME_WAIT_SLOTS; t++) {
    const s = tw(t);
    if (!s.used) continue;
    if (s.localPort == 0 || s.remotePort == 0) return fail(TCP_BAD_TIME_WAIT, t);
    for (let u = t + 1; u < TCP_TIME_WAIT_SLOTS; u++) {
      const o = tw(u);
      if (o.used && o.localPort == s.localPort && o.remotePort == s.remotePort && o.remoteIp == s.remoteIp) {
        return fail(TCP_BAD_TIME_WAIT, t);
      }
    }
  }
  return 0;
}
