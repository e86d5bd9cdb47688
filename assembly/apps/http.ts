// The http app: an HTTP/1.1 server on TCP 80. Keep-alive by default for HTTP/1.1 (HTTP/1.0 only
// with "Connection: keep-alive"), "Connection: close" honoured, pipelined and split requests
// parsed incrementally (httpparse.ts) from a static per-connection buffer. Serves "/" (a small
// HTML page) and "/status" (the connection table and the non-zero counters, text/plain); 404 for
// other paths, 405 for other methods, 400/431/501/505 for bad requests (then the connection
// closes). Every response has Content-Length. Output survives partial writes: each connection
// keeps what is left to send across polls. All state is static, sized from TCP_MAX_SOCKETS.
import { TCP_MAX_SOCKETS } from "../config";
import { now } from "../support/clock";
import { C, COUNTERS, counterNamePtr, counterValue } from "../support/counters";
import { EWOULDBLOCK } from "../support/errors";
import {
  EV_ERROR, OPT_NODELAY, tcpAbort, tcpAccept, tcpBind, tcpClose, tcpEvents, tcpListen, tcpRecv, tcpSend, tcpSetopt, tcpShutdown,
  tcpSocket, tcpTableRow, tcpTableSize,
} from "../api/tcp";
import {
  M_HEAD, M_OTHER, PARSE_BAD_VERSION, PARSE_MORE, PARSE_NOT_IMPLEMENTED, PARSE_TOO_LARGE, httpLeadingEmpty, httpParse,
  reqContentLength, reqKeepAlive, reqMethod, reqTarget, reqTargetLen,
} from "./httpparse";
import { cstrLen, padTo, putIp, putStr, putU32 } from "./util";

export const HTTP_PORT: u32 = 80;
/** Bytes of one request head (request line and header fields); a longer head gets 431. With the
 *  core's TCP buffers in the same two 64 KiB pages, 768 per connection is what fits. */
export const REQ_MAX: u32 = 768;
/** A connection that makes no progress for this long is closed: idle between requests, or a
 *  request head that stopped arriving (the peer may be gone); a response the peer stopped reading
 *  (its window shut) is aborted with a RST, so the block is back at once. */
const IDLE_MS: u32 = 30_000;
/** After our FIN (Connection: close, errors), input is read and dropped until the peer's FIN or this. */
const DRAIN_MS: u32 = 5_000;
const HDR_MAX: u32 = 160;
const STATUS_MAX: u32 = 2560;
const N = TCP_MAX_SOCKETS;

// Conn.phase
const FREE: u32 = 0;
const OPEN: u32 = 1;
const DRAIN: u32 = 2;
// Conn.flags
const CLOSE_AFTER: u32 = 1; // close once the current response is sent
const EOF: u32 = 2; // the peer sent FIN

@unmanaged
class Conn {
  phase: u32;
  flags: u32;
  /** Request bytes buffered, and where the search for the end of the head resumes. */
  inLen: u32;
  scan: u32;
  /** Request body bytes still to be dropped. */
  skip: u32;
  /** The response: header (in hdrBuf) then body (static memory), each with its write offset. */
  hdrLen: u32;
  hdrOff: u32;
  bodyPtr: usize;
  bodyLen: u32;
  bodyOff: u32;
  /** Time of the last progress (idle and drain timeouts). */
  since: u32;
}

const conns = memory.data(N * offsetof<Conn>());
const reqBuf = memory.data(N * REQ_MAX);
const hdrBuf = memory.data(N * HDR_MAX);
const statusBuf = memory.data(STATUS_MAX);
/** The fd whose response body is statusBuf (one /status in flight at a time), or -1. */
let statusOwner: i32 = -1;
const INDEX_MAX: u32 = 384;
const indexBuf = memory.data(INDEX_MAX);
let indexLen: u32 = 0;
const notFoundBuf = memory.data(48);
let notFoundLen: u32 = 0;
const row = memory.data(28);
const scratch = memory.data(256);
let listener: i32 = -1;

// One literal (a concatenation would allocate at start).
const INDEX_HTML = "<!DOCTYPE html>\n<html><head><title>wasmip</title></head>\n<body><h1>Hello from wasmip</h1>\n<p>This page was served by a TCP/IP stack written in AssemblyScript, running as WebAssembly.</p>\n<p><a href=\"/status\">Connection table and counters</a></p>\n</body></html>\n";

function conn(fd: i32): Conn {
  return changetype<Conn>(conns + <usize>fd * offsetof<Conn>());
}

export function httpStart(): void {
  indexLen = INDEX_HTML.length <= <i32>INDEX_MAX ? putStr(indexBuf, INDEX_HTML) : 0;
  notFoundLen = putStr(notFoundBuf, "Not Found\n");
  memory.fill(conns, 0, N * offsetof<Conn>());
  statusOwner = -1;
  listener = tcpSocket();
  if (listener < 0) return;
  if (tcpBind(listener, HTTP_PORT) < 0 || tcpListen(listener, 8) < 0) {
    tcpClose(listener);
    listener = -1;
  }
}

export function httpPoll(): void {
  if (listener < 0) return;
  for (;;) {
    const fd = tcpAccept(listener);
    if (fd < 0) break;
    // Header and body are two writes: with Nagle on, the body would wait for the ACK of the
    // header, which a client delays (40 ms on Linux) on every keep-alive request.
    tcpSetopt(fd, OPT_NODELAY, 1);
    const c = conn(fd);
    memory.fill(changetype<usize>(c), 0, offsetof<Conn>());
    c.phase = OPEN;
    c.since = now;
  }
  for (let fd = 0; fd < N; fd++) {
    const c = conn(fd);
    if (c.phase == OPEN) serve(fd, c);
    else if (c.phase == DRAIN) drain(fd, c);
  }
}

/** Forget a connection whose fd has been closed or aborted. */
function release(fd: i32): void {
  conn(fd).phase = FREE;
  if (statusOwner == fd) statusOwner = -1;
}

function abort(fd: i32): void {
  tcpAbort(fd);
  release(fd);
}

function outputPending(c: Conn): bool {
  return c.hdrOff < c.hdrLen || c.bodyOff < c.bodyLen;
}

/** Write what is left of the response. Returns 1 when all is queued, 0 if blocked, < 0 on error. */
function flush(fd: i32, c: Conn): i32 {
  while (c.hdrOff < c.hdrLen) {
    const r = tcpSend(fd, hdrBuf + <usize>fd * HDR_MAX + c.hdrOff, c.hdrLen - c.hdrOff);
    if (r == EWOULDBLOCK) return 0;
    if (r < 0) return r;
    c.hdrOff += <u32>r;
    c.since = now;
  }
  while (c.bodyOff < c.bodyLen) {
    const r = tcpSend(fd, c.bodyPtr + c.bodyOff, c.bodyLen - c.bodyOff);
    if (r == EWOULDBLOCK) return 0;
    if (r < 0) return r;
    c.bodyOff += <u32>r;
    c.since = now;
  }
  if (statusOwner == fd) statusOwner = -1;
  return 1;
}

/** Drop n bytes from the front of the connection's request buffer. */
function consume(fd: i32, c: Conn, n: u32): void {
  const b = reqBuf + <usize>fd * REQ_MAX;
  if (n < c.inLen) memory.copy(b, b + n, c.inLen - n);
  c.inLen -= n;
  c.scan = 0;
}

function serve(fd: i32, c: Conn): void {
  if (tcpEvents(fd) & EV_ERROR) {
    abort(fd);
    return;
  }
  const b = reqBuf + <usize>fd * REQ_MAX;
  for (;;) {
    if (outputPending(c)) {
      const r = flush(fd, c);
      if (r < 0 || (r == 0 && <i32>(now - c.since) >= <i32>IDLE_MS)) {
        abort(fd);
        return;
      }
      if (r == 0) return; // blocked: the next ACK (or a later poll) brings us back
    }
    if (c.flags & CLOSE_AFTER) {
      startDrain(fd, c);
      return;
    }
    // Read what fits. Not while output is pending: a peer that does not read stops us reading.
    let progress = false;
    if ((c.flags & EOF) == 0 && c.inLen < REQ_MAX) {
      const r = tcpRecv(fd, b + c.inLen, REQ_MAX - c.inLen);
      if (r > 0) {
        c.inLen += <u32>r;
        c.since = now;
        progress = true;
      } else if (r == 0) {
        c.flags |= EOF;
      } else if (r != EWOULDBLOCK) {
        abort(fd);
        return;
      }
    }
    // A request body we do not use is dropped.
    if (c.skip > 0 && c.inLen > 0) {
      const d = c.skip < c.inLen ? c.skip : c.inLen;
      consume(fd, c, d);
      c.skip -= d;
      progress = true;
    }
    if (c.skip == 0 && c.inLen > 0) {
      const e = httpLeadingEmpty(b, c.inLen);
      if (e > 0) consume(fd, c, e);
      const r = httpParse(b, c.inLen, REQ_MAX, c.scan);
      if (r > 0) {
        if (!respond(fd, c, b)) return; // waiting for the status buffer
        consume(fd, c, <u32>r);
        c.skip = reqContentLength;
        progress = true;
      } else if (r == PARSE_MORE) {
        c.scan = c.inLen > 3 ? c.inLen - 3 : 0;
      } else {
        respondError(fd, c, -r);
        c.inLen = 0;
        progress = true;
      }
    }
    if (progress) continue;
    if (outputPending(c)) continue;
    // Nothing more to do now.
    if (c.flags & EOF) {
      // The peer is done; an incomplete request left behind is dropped.
      tcpClose(fd);
      release(fd);
    } else if (<i32>(now - c.since) >= <i32>IDLE_MS) {
      tcpClose(fd); // a request half sent and abandoned too
      release(fd);
    }
    return;
  }
}

/** Our side is done: FIN after the queued response, then read and drop until the peer's FIN. */
function startDrain(fd: i32, c: Conn): void {
  c.phase = DRAIN;
  c.since = now;
  c.inLen = 0;
  if (tcpShutdown(fd, 1) < 0) {
    tcpClose(fd);
    release(fd);
    return;
  }
  drain(fd, c);
}

function drain(fd: i32, c: Conn): void {
  let r = tcpRecv(fd, scratch, 256);
  while (r > 0) r = tcpRecv(fd, scratch, 256);
  // The peer's FIN or an error ends it; so does DRAIN_MS of a peer that neither closes nor stops
  // (then the close resets if it keeps sending).
  if (r != EWOULDBLOCK || <i32>(now - c.since) >= <i32>DRAIN_MS) {
    tcpClose(fd);
    release(fd);
  }
}

function startsWith(p: usize, len: u32, s: string): bool {
  if (<i32>len < s.length) return false;
  for (let i = 0; i < s.length; i++) if (<u32>load<u8>(p + i) != <u32>s.charCodeAt(i)) return false;
  return true;
}

/** The request's path without a query: "/" or "/status" exactly? */
function pathIs(p: usize, len: u32, s: string): bool {
  if (!startsWith(p, len, s)) return false;
  const n = <u32>s.length;
  return len == n || load<u8>(p + n) == 63; // '?'
}

/** Queue the response to the request just parsed. False if it must wait (status buffer busy). */
function respond(fd: i32, c: Conn, b: usize): bool {
  const keep = reqKeepAlive;
  const target = b + reqTarget;
  let status: u32 = 200;
  let type = "text/html";
  let body: usize = indexBuf;
  let bodyLen = indexLen;
  if (reqMethod == M_OTHER) {
    status = 405;
    type = "text/plain";
    body = notFoundBuf;
    bodyLen = 0;
  } else if (pathIs(target, reqTargetLen, "/")) {
    // the index page
  } else if (pathIs(target, reqTargetLen, "/status")) {
    if (statusOwner >= 0 && statusOwner != fd) return false;
    statusOwner = fd;
    type = "text/plain";
    body = statusBuf;
    bodyLen = renderStatus(statusBuf, STATUS_MAX);
  } else {
    status = 404;
    type = "text/plain";
    body = notFoundBuf;
    bodyLen = notFoundLen;
  }
  header(fd, c, status, type, bodyLen, keep);
  c.bodyPtr = body;
  c.bodyLen = reqMethod == M_HEAD ? 0 : bodyLen;
  c.bodyOff = 0;
  if (!keep) c.flags |= CLOSE_AFTER;
  if (c.bodyLen == 0 && statusOwner == fd) statusOwner = -1;
  return true;
}

function respondError(fd: i32, c: Conn, status: u32): void {
  header(fd, c, status, "text/plain", 0, false);
  c.bodyPtr = notFoundBuf;
  c.bodyLen = 0;
  c.bodyOff = 0;
  c.flags |= CLOSE_AFTER;
}

function reason(status: u32): string {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 431: return "Request Header Fields Too Large";
    case 501: return "Not Implemented";
    case 505: return "HTTP Version Not Supported";
  }
  return "Error";
}

function header(fd: i32, c: Conn, status: u32, type: string, length: u32, keep: bool): void {
  const h = hdrBuf + <usize>fd * HDR_MAX;
  let n = putStr(h, "HTTP/1.1 ");
  n += putU32(h + n, status);
  n += putStr(h + n, " ");
  n += putStr(h + n, reason(status));
  n += putStr(h + n, "\r\nContent-Type: ");
  n += putStr(h + n, type);
  n += putStr(h + n, "\r\nContent-Length: ");
  n += putU32(h + n, length);
  if (status == 405) n += putStr(h + n, "\r\nAllow: GET, HEAD");
  n += putStr(h + n, keep ? "\r\nConnection: keep-alive\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
  c.hdrLen = n;
  c.hdrOff = 0;
}

export function tcpStateName(s: u32): string {
  switch (s) {
    case 0: return "CLOSED";
    case 1: return "LISTEN";
    case 2: return "SYN_SENT";
    case 3: return "SYN_RECV";
    case 4: return "ESTABLISHED";
    case 5: return "FIN_WAIT1";
    case 6: return "FIN_WAIT2";
    case 7: return "CLOSE_WAIT";
    case 8: return "CLOSING";
    case 9: return "LAST_ACK";
    case 10: return "TIME_WAIT";
  }
  return "UNKNOWN";
}

/** The /status body: the connection table (like netstat -tn) and the non-zero counters. */
export function renderStatus(out: usize, max: u32): u32 {
  // A line is at most ~100 bytes; stop before one could overflow.
  const LINE: u32 = 100;
  let n = putStr(out, "State        Local Address    Local Port  Remote Address   Remote Port  Send-Q  Recv-Q\n");
  const rows = tcpTableSize();
  for (let i: u32 = 0; i < rows && n + LINE <= max; i++) {
    if (tcpTableRow(i, row) == 0) continue;
    const line = out + n;
    let col = putStr(line, tcpStateName(load<u32>(row)));
    col = padTo(line, col, 13);
    col += putIp(line + col, load<u32>(row, 4));
    col = padTo(line, col, 30);
    col += putU32(line + col, load<u32>(row, 8));
    col = padTo(line, col, 42);
    col += putIp(line + col, load<u32>(row, 12));
    col = padTo(line, col, 59);
    col += putU32(line + col, load<u32>(row, 16));
    col = padTo(line, col, 72);
    col += putU32(line + col, load<u32>(row, 20));
    col = padTo(line, col, 80);
    col += putU32(line + col, load<u32>(row, 24));
    store<u8>(line + col++, 10);
    n += col;
  }
  if (n + LINE <= max) n += putStr(out + n, "\nCounters (non-zero)\n");
  for (let id: u32 = 0; id < <u32>COUNTERS && n + LINE <= max; id++) {
    const v = counterValue(id);
    if (v == 0) continue;
    const p = counterNamePtr(id);
    const len = cstrLen(p, 64);
    memory.copy(out + n, p, len);
    let col = padTo(out + n, len, 32);
    col += putU32(out + n + col, v);
    store<u8>(out + n + col++, 10);
    n += col;
  }
  return n;
}

/** For tests: whether fd is being served. */
export function httpConnPhase(fd: i32): u32 {
  return fd >= 0 && fd < N ? conn(fd).phase : FREE;
}

export { PARSE_TOO_LARGE, PARSE_NOT_IMPLEMENTED, PARSE_BAD_VERSION };
