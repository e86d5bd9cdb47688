// The bulk app: the board as a TCP *client*. bulkStart(ip, port, bytes) connects to a server that
// echoes, sends `bytes` bytes of a deterministic pattern (bulkPattern: a function of the offset,
// so partial writes need no saved data), then shuts its write side, and meanwhile reads the echo
// back and checks every byte against the same pattern. The host reads progress, the number of
// mismatched bytes and FNV-1a sums of both directions through the bulk_* exports.

import { now } from "../support/clock";
import { EWOULDBLOCK } from "../support/errors";
import {
  EV_CONNECTED, EV_ERROR, EV_WRITABLE, tcpAbort, tcpClose, tcpConnect, tcpEvents, tcpRecv, tcpSend, tcpShutdown,
  tcpSocket,
} from "../api/tcp";

// bulkState
export const BULK_IDLE: i32 = 0;
export const BULK_CONNECTING: i32 = 1;
export const BULK_RUNNING: i32 = 2;
export const BULK_DONE: i32 = 3;
// Negative: the socket error (WASMIP_E*), or BULK_SHORT when the server closed early.
export const BULK_SHORT: i32 = -100;

const CHUNK: u32 = 2048;
const txBuf = memory.data(<i32>CHUNK, 16);
const rxBuf = memory.data(<i32>CHUNK, 16);

export let bulkState: i32 = BULK_IDLE;
let fd: i32 = -1;
let total: u32 = 0;
export let bulkSent: u32 = 0;
export let bulkReceived: u32 = 0;
export let bulkMismatches: u32 = 0;
/** Offset of the first mismatched byte received, or 0xffffffff. */
export let bulkFirstBad: u32 = 0xffffffff;
export let bulkSumSent: u32 = 0x811c9dc5;
export let bulkSumReceived: u32 = 0x811c9dc5;
/** Times (board clock, ms) of the connect and of the end. */
export let bulkStartedAt: u32 = 0;
export let bulkEndedAt: u32 = 0;
let shut = false;
/** false: the server is a sink; the transfer is done when it closes having sent nothing back. */
let expectEcho = true;

/** Byte `i` of the pattern: one 32-bit hash per 4-byte word (lowbias32), little-endian. */
// @ts-ignore: decorator
@inline export function bulkPattern(i: u32): u32 {
  let x = i >>> 2;
  x ^= x >>> 16;
  x *= 0x7feb352d;
  x ^= x >>> 15;
  x *= 0x846ca68b;
  x ^= x >>> 16;
  return (x >>> ((i & 3) << 3)) & 255;
}

/** Start a transfer of `bytes` bytes to ip:port (an echo server, or a sink when echo is false).
 *  0, or a negative error (one transfer at a time). */
export function bulkStart(ip: u32, port: u32, bytes: u32, echo: bool = true): i32 {
  if (bulkState == BULK_CONNECTING || bulkState == BULK_RUNNING) return -1; // EINVAL
  const s = tcpSocket();
  if (s < 0) return s;
  const r = tcpConnect(s, ip, port);
  if (r < 0) {
    tcpClose(s);
    return r;
  }
  fd = s;
  total = bytes;
  bulkSent = 0;
  bulkReceived = 0;
  bulkMismatches = 0;
  bulkFirstBad = 0xffffffff;
  bulkSumSent = 0x811c9dc5;
  bulkSumReceived = 0x811c9dc5;
  bulkStartedAt = now;
  bulkEndedAt = now;
  shut = false;
  expectEcho = echo;
  bulkState = BULK_CONNECTING;
  return 0;
}

function end(state: i32): void {
  bulkState = state;
  bulkEndedAt = now;
  if (fd >= 0) {
    if (state == BULK_DONE) tcpClose(fd);
    else tcpAbort(fd);
  }
  fd = -1;
}

export function bulkPoll(): void {
  if (bulkState != BULK_CONNECTING && bulkState != BULK_RUNNING) return;
  const ev = tcpEvents(fd);
  if (ev & EV_ERROR) {
    // The error itself: tcp_recv returns it.
    const e = tcpRecv(fd, rxBuf, 1);
    end(e < 0 ? e : -6);
    return;
  }
  if (bulkState == BULK_CONNECTING) {
    if ((ev & EV_CONNECTED) == 0) return;
    bulkState = BULK_RUNNING;
  }
  // Send while there is room.
  while (bulkSent < total && (tcpEvents(fd) & EV_WRITABLE) != 0) {
    const left = total - bulkSent;
    const n = left < CHUNK ? left : CHUNK;
    for (let k: u32 = 0; k < n; k++) store<u8>(txBuf + k, <u8>bulkPattern(bulkSent + k));
    const r = tcpSend(fd, txBuf, n);
    if (r == EWOULDBLOCK) break;
    if (r < 0) {
      end(r);
      return;
    }
    let h = bulkSumSent;
    for (let k: u32 = 0; k < <u32>r; k++) h = (h ^ load<u8>(txBuf + k)) * 0x01000193;
    bulkSumSent = h;
    bulkSent += <u32>r;
  }
  if (bulkSent == total && !shut) {
    shut = true;
    tcpShutdown(fd, 1);
  }
  // Read and check everything that has arrived.
  for (;;) {
    const r = tcpRecv(fd, rxBuf, CHUNK);
    if (r == EWOULDBLOCK) break;
    if (r == 0) {
      end(bulkReceived == (expectEcho ? total : 0) && bulkSent == total ? BULK_DONE : BULK_SHORT);
      return;
    }
    if (r < 0) {
      end(r);
      return;
    }
    let h = bulkSumReceived;
    const base = bulkReceived;
    for (let k: u32 = 0; k < <u32>r; k++) {
      const b = <u32>load<u8>(rxBuf + k);
      h = (h ^ b) * 0x01000193;
      if (b != bulkPattern(base + k)) {
        if (bulkMismatches == 0) bulkFirstBad = base + k;
        bulkMismatches++;
      }
    }
    bulkSumReceived = h;
    bulkReceived += <u32>r;
  }
}


