// The fetch app: the board as an HTTP client by name. fetchStart(name, port, path) resolves the
// name (services/dns.ts), connects (api/tcp.ts), sends `GET path HTTP/1.1` with Host and
// Connection: close, reads the status line (logged at INFO: "fetch: HTTP/1.0 200 OK"), then reads
// the body to the end and closes. The host reads the outcome through the fetch_* exports.
import { now, elapsed } from "../support/clock";
import { EINVAL, ETIMEDOUT, EWOULDBLOCK } from "../support/errors";
import { INFO, logf } from "../support/log";
import { EV_CONNECTED, EV_ERROR, tcpAbort, tcpClose, tcpConnect, tcpEvents, tcpRecv, tcpSend, tcpSocket } from "../api/tcp";
import { dnsAddress, dnsRelease, dnsResolve, dnsResult } from "../services/dns";
import { putStr } from "./util";

export const FETCH_IDLE: i32 = 0;
export const FETCH_RESOLVING: i32 = 1;
export const FETCH_CONNECTING: i32 = 2;
export const FETCH_STATUS: i32 = 3; // request sent, waiting for the status line
export const FETCH_BODY: i32 = 4;
export const FETCH_DONE: i32 = 5;
/** A reply whose first line is not "HTTP/x.y NNN ...". */
export const FETCH_BAD_STATUS: i32 = -101;
/** The whole fetch gives up after this long. */
export const FETCH_TIMEOUT_MS: u32 = 30_000;

const NAME_MAX: u32 = 255;
const PATH_MAX: u32 = 256;
const LINE_MAX: u32 = 128;
const SCRATCH: u32 = 256;
/** The request, built at start; the name is read from its Host field (for DNS and logs). */
const REQ_MAX: u32 = NAME_MAX + PATH_MAX + 96;
const req = memory.data(<i32>REQ_MAX);
const line = memory.data(<i32>LINE_MAX);
const scratch = memory.data(<i32>SCRATCH);

export let fetchState: i32 = FETCH_IDLE;
/** The HTTP status code once the status line arrived, else 0. */
export let fetchCode: i32 = 0;
export let fetchAddress: u32 = 0;
export let fetchBodyBytes: u32 = 0;
export let fetchLineLen: u32 = 0;
export const fetchLine: usize = line;
let name: usize = 0;
let nameLen: u32 = 0;
let port: u32 = 80;
let handle: i32 = -1;
let fd: i32 = -1;
let reqLen: u32 = 0;
let reqSent: u32 = 0;
let startedAt: u32 = 0;
let headerDone = false;
let newlines: u32 = 0; // consecutive line ends (CR ignored): 2 end the header

/** Start a fetch of http://name:port/path. 0, or a negative error (one fetch at a time). */
export function fetchStart(namePtr: usize, nLen: u32, p: u32, pathPtr: usize, pLen: u32): i32 {
  if (fetchState > FETCH_IDLE && fetchState < FETCH_DONE) return EINVAL;
  if (nLen == 0 || nLen > NAME_MAX || pLen > PATH_MAX || p == 0 || p > 0xffff) return EINVAL;
  buildRequest(namePtr, nLen, pathPtr, pLen);
  port = p;
  fetchCode = 0;
  fetchAddress = 0;
  fetchBodyBytes = 0;
  fetchLineLen = 0;
  headerDone = false;
  newlines = 0;
  startedAt = now;
  const h = dnsResolve(name, nameLen);
  if (h < 0) {
    fetchState = h;
    return h;
  }
  handle = h;
  fetchState = FETCH_RESOLVING;
  return 0;
}

function end(state: i32): void {
  if (handle >= 0) dnsRelease(handle);
  handle = -1;
  if (fd >= 0) {
    if (state == FETCH_DONE) tcpClose(fd);
    else tcpAbort(fd);
  }
  fd = -1;
  fetchState = state;
  if (state < 0) logf(INFO, "fetch: %s failed: error %u", <u32>name, nameLen, <u32>-state);
}

function buildRequest(namePtr: usize, nLen: u32, pathPtr: usize, pLen: u32): void {
  let n: u32 = putStr(req, "GET ");
  if (pLen == 0) {
    store<u8>(req + n, 47); // "/"
    n++;
  } else {
    memory.copy(req + n, pathPtr, pLen);
    n += pLen;
  }
  n += putStr(req + n, " HTTP/1.1\r\nHost: ");
  memory.copy(req + n, namePtr, nLen);
  name = req + n;
  nameLen = nLen;
  n += nLen;
  n += putStr(req + n, "\r\nUser-Agent: wasmip-fetch\r\nAccept: */*\r\nConnection: close\r\n\r\n");
  reqLen = n;
  reqSent = 0;
}

/** "HTTP/d.d NNN": the code, or -1. */
function parseStatus(): i32 {
  if (fetchLineLen < 12) return -1;
  if (load<u8>(line) != 72 || load<u8>(line + 1) != 84 || load<u8>(line + 2) != 84 || load<u8>(line + 3) != 80 || load<u8>(line + 4) != 47) return -1;
  if (load<u8>(line + 8) != 32) return -1;
  let code: i32 = 0;
  for (let i = 9; i < 12; i++) {
    const c = <i32>load<u8>(line + i) - 48;
    if (c < 0 || c > 9) return -1;
    code = code * 10 + c;
  }
  return code;
}

export function fetchPoll(): void {
  if (fetchState <= FETCH_IDLE || fetchState >= FETCH_DONE) return;
  if (elapsed(startedAt) >= FETCH_TIMEOUT_MS) {
    end(ETIMEDOUT);
    return;
  }
  if (fetchState == FETCH_RESOLVING) {
    const r = dnsResult(handle);
    if (r == EWOULDBLOCK) return;
    if (r < 0) {
      end(r);
      return;
    }
    fetchAddress = dnsAddress(handle);
    dnsRelease(handle);
    handle = -1;
    logf(INFO, "fetch: %s is %i", <u32>name, nameLen, fetchAddress);
    const s = tcpSocket();
    if (s < 0) {
      end(s);
      return;
    }
    fd = s;
    const c = tcpConnect(fd, fetchAddress, port);
    if (c < 0) {
      end(c);
      return;
    }
    fetchState = FETCH_CONNECTING;
    return;
  }
  // Connected states: errors first (tcp_recv returns the connection's error).
  if (fetchState == FETCH_CONNECTING) {
    const ev = tcpEvents(fd);
    if (ev & EV_ERROR) {
      const e = tcpRecv(fd, scratch, 1);
      end(e < 0 ? e : -6);
      return;
    }
    if ((ev & EV_CONNECTED) == 0) return;
    reqSent = 0;
    fetchState = FETCH_STATUS;
  }
  while (reqSent < reqLen) {
    const r = tcpSend(fd, req + reqSent, reqLen - reqSent);
    if (r == EWOULDBLOCK) break;
    if (r < 0) {
      end(r);
      return;
    }
    reqSent += <u32>r;
  }
  for (let k = 0; k < 64; k++) {
    const r = tcpRecv(fd, scratch, SCRATCH);
    if (r == EWOULDBLOCK) return;
    if (r == 0) {
      // End of stream.
      end(fetchState == FETCH_BODY ? FETCH_DONE : FETCH_BAD_STATUS);
      return;
    }
    if (r < 0) {
      end(fetchState == FETCH_BODY && fetchCode > 0 ? FETCH_DONE : r);
      return;
    }
    let i: u32 = 0;
    if (fetchState == FETCH_STATUS) {
      // Collect the status line.
      for (; i < <u32>r; i++) {
        const c = load<u8>(scratch + i);
        if (c == 10) {
          if (fetchLineLen > 0 && load<u8>(line + fetchLineLen - 1) == 13) fetchLineLen--;
          const code = parseStatus();
          if (code < 0) {
            end(FETCH_BAD_STATUS);
            return;
          }
          fetchCode = code;
          fetchState = FETCH_BODY;
          newlines = 1; // the status line's own
          logf(INFO, "fetch: %s", <u32>line, fetchLineLen);
          i++;
          break;
        }
        if (fetchLineLen < LINE_MAX) store<u8>(line + fetchLineLen++, c);
      }
    }
    // Headers, then the body: count body bytes after the blank line.
    for (; i < <u32>r; i++) {
      if (headerDone) {
        fetchBodyBytes += <u32>r - i;
        break;
      }
      const c = load<u8>(scratch + i);
      if (c == 13) continue;
      if (c == 10) {
        if (++newlines >= 2) headerDone = true;
      } else newlines = 0;
    }
  }
}
