// The bench app (`make bench`, bench/README.md): one TCP port speaking a tiny protocol, so the
// same measurements run against wasmip, lwIP and the kernel. A connection starts with a command
// line:
//   "D\n" then data: discard it until EOF, then close (bytes counted)
//   "S <n>\n"       : send n bytes of the bench pattern, then close
//   "E\n"           : echo until EOF (request/response latency)
//   EOF at once     : close (connection setup + teardown)
// Byte k of every bench stream is k mod 251 (a prime period, so a misplaced full-sized segment
// shows). The app does no per-byte work of its own: it sends from a constant pattern (three
// periods, in its own static memory) and discards into scratch: the core's io buffer, which is the
// receive frame buffer and free while the app runs (after input() has handled the frame).
// The client side (bench_send, bench_rr, bench_cps) drives the same protocol from a board.
import { FRAME_MAX, TCP_MAX_SOCKETS } from "../config";
import { rxBuf } from "../iface/netif";
import { EINVAL, EWOULDBLOCK } from "../support/errors";
import {
  EV_CONNECTED, EV_ERROR, OPT_NODELAY, tcpAbort, tcpAccept, tcpBind, tcpClose, tcpConnect, tcpEvents, tcpListen,
  tcpRecv, tcpSend, tcpSetopt, tcpShutdown, tcpSocket,
} from "../api/tcp";

export const BENCH_PORT: u32 = 5001;
export const BENCH_PERIOD: u32 = 251;

// @ts-ignore: decorator
@inline const PATTERN_LEN: u32 = 3 * BENCH_PERIOD;
// @ts-ignore: decorator
@inline const SCRATCH_LEN: u32 = FRAME_MAX;
const pattern: usize = memory.data(<i32>PATTERN_LEN, 16);
const scratch: usize = rxBuf;

// Per connection (fd): mode, line length, echo offset, pad, sent (u32), total (u32), line (16 bytes).
const M_FREE: u8 = 0;
const M_LINE: u8 = 1;
const M_DISCARD: u8 = 2;
const M_SOURCE: u8 = 3;
const M_ECHO: u8 = 4;
const SLOT: usize = 28;
const LINE_MAX: u32 = 16;
const conns = memory.data(TCP_MAX_SOCKETS * <i32>SLOT);
let listener: i32 = -1;

/** Bytes discarded on the connection that finished last, connections served, bytes discarded in all. */
export let benchLastDiscard: u32 = 0;
export let benchServed: u32 = 0;
export let benchDiscardTotal: u32 = 0;

// @ts-ignore: decorator
@inline function slot(fd: i32): usize {
  return conns + <usize>fd * SLOT;
}

export function benchStart(): void {
  for (let i: u32 = 0; i < PATTERN_LEN; i++) store<u8>(pattern + i, <u8>(i % BENCH_PERIOD));
  memory.fill(conns, 0, TCP_MAX_SOCKETS * <i32>SLOT);
  const fd = tcpSocket();
  if (fd < 0) return;
  if (tcpBind(fd, BENCH_PORT) < 0 || tcpListen(fd, 4) < 0) {
    tcpClose(fd);
    return;
  }
  listener = fd;
}

function release(fd: i32, abort: bool): void {
  if (abort) tcpAbort(fd);
  else tcpClose(fd);
  store<u8>(slot(fd), M_FREE);
  benchServed++;
}

/** Send pattern bytes [sent, total) on fd while the ring takes them; returns the new sent count
 *  or a negative error. */
function pump(fd: i32, sent: u32, total: u32): i32 {
  while (sent < total) {
    const off = sent % BENCH_PERIOD;
    let n = PATTERN_LEN - off;
    if (n > total - sent) n = total - sent;
    const r = tcpSend(fd, pattern + off, n);
    if (r == EWOULDBLOCK) break;
    if (r < 0) return r;
    sent += <u32>r;
  }
  return <i32>sent;
}

/** Parse "S <n>" into n, or -1. */
function parseCount(line: usize, len: u32): i64 {
  if (len < 3 || load<u8>(line + 1) != 32) return -1;
  let v: u64 = 0;
  for (let i: u32 = 2; i < len; i++) {
    const c = <u32>load<u8>(line + i) - 48;
    if (c > 9) return -1;
    v = v * 10 + c;
    if (v > 0xffffffff) return -1;
  }
  return <i64>v;
}

/** Read the command line byte by byte (it is short); switch mode at '\n'. */
function readLine(fd: i32, s: usize): void {
  const line = s + 12;
  for (;;) {
    const len = <u32>load<u8>(s, 1);
    const r = tcpRecv(fd, scratch, 1);
    if (r == EWOULDBLOCK) return;
    if (r == 0) {
      // EOF: a bare connect/close (or a cut line) ends here.
      release(fd, len != 0);
      return;
    }
    if (r < 0) {
      release(fd, true);
      return;
    }
    const c = load<u8>(scratch);
    if (c != 10) {
      if (len >= LINE_MAX) {
        release(fd, true);
        return;
      }
      store<u8>(line + len, c);
      store<u8>(s, <u8>(len + 1), 1);
      continue;
    }
    const cmd = len > 0 ? load<u8>(line) : 0;
    if (cmd == 68 && len == 1) {
      store<u8>(s, M_DISCARD);
      store<u32>(s, 0, 4);
    } else if (cmd == 69 && len == 1) {
      tcpSetopt(fd, OPT_NODELAY, 1);
      store<u8>(s, M_ECHO);
      store<u8>(s, 0, 1);
    } else if (cmd == 83) {
      const n = parseCount(line, len);
      if (n < 0) {
        release(fd, true);
        return;
      }
      store<u8>(s, M_SOURCE);
      store<u32>(s, 0, 4);
      store<u32>(s, <u32>n, 8);
    } else {
      release(fd, true);
    }
    return;
  }
}

function discard(fd: i32, s: usize): void {
  let got = load<u32>(s, 4);
  for (;;) {
    const r = tcpRecv(fd, scratch, SCRATCH_LEN);
    if (r > 0) {
      got += <u32>r;
      benchDiscardTotal += <u32>r;
      continue;
    }
    store<u32>(s, got, 4);
    if (r == EWOULDBLOCK) return;
    benchLastDiscard = got;
    release(fd, r < 0);
    return;
  }
}

function source(fd: i32, s: usize): void {
  const total = load<u32>(s, 8);
  const r = pump(fd, load<u32>(s, 4), total);
  if (r < 0) {
    release(fd, true);
    return;
  }
  store<u32>(s, <u32>r, 4);
  if (<u32>r == total) {
    // Nothing is read any more: drop stray input so the close is a FIN, not a reset.
    while (tcpRecv(fd, scratch, SCRATCH_LEN) > 0) {}
    release(fd, false);
  }
}

/** Echo through the connection's 16-byte line buffer: read only when it has been written back. */
function echo(fd: i32, s: usize): void {
  const buf = s + 12;
  for (;;) {
    const len = <u32>load<u8>(s, 1);
    if (len > 0) {
      const off = <u32>load<u8>(s, 2);
      const r = tcpSend(fd, buf + off, len - off);
      if (r == EWOULDBLOCK) return;
      if (r < 0) {
        release(fd, true);
        return;
      }
      if (off + <u32>r < len) {
        store<u8>(s, <u8>(off + <u32>r), 2);
        continue;
      }
      store<u8>(s, 0, 1);
      store<u8>(s, 0, 2);
    }
    const r = tcpRecv(fd, buf, LINE_MAX);
    if (r == EWOULDBLOCK) return;
    if (r <= 0) {
      release(fd, r < 0);
      return;
    }
    store<u8>(s, <u8>r, 1);
  }
}

function serve(): void {
  if (listener < 0) return;
  for (;;) {
    const fd = tcpAccept(listener);
    if (fd < 0) break;
    const s = slot(fd);
    memory.fill(s, 0, SLOT);
    store<u8>(s, M_LINE);
  }
  for (let fd = 0; fd < TCP_MAX_SOCKETS; fd++) {
    const s = slot(fd);
    const m = load<u8>(s);
    if (m == M_FREE) continue;
    if (tcpEvents(fd) & EV_ERROR) release(fd, true);
    else if (m == M_LINE) readLine(fd, s);
    if (load<u8>(s) == M_FREE) continue;
    const m2 = load<u8>(s);
    if (m2 == M_DISCARD) discard(fd, s);
    else if (m2 == M_SOURCE) source(fd, s);
    else if (m2 == M_ECHO) echo(fd, s);
  }
}

// ---- The client: one job at a time ---------------------------------------------------------
export const JOB_IDLE: i32 = 0;
export const JOB_RUNNING: i32 = 1;
export const JOB_DONE: i32 = 2;
const K_SEND: u8 = 1;
const K_RR: u8 = 2;
const K_CPS: u8 = 3;
// Phases of one connection.
const P_CONNECTING: u8 = 0;
const P_CMD: u8 = 1;
const P_DATA: u8 = 2;
const P_WAIT_EOF: u8 = 3;

/** The job: negative is the error that ended it. */
export let jobState: i32 = JOB_IDLE;
export let jobFd: i32 = -1;
/** Bytes sent (send), round trips (rr) or connections (cps) completed. */
export let jobDone: u32 = 0;
let jobKind: u8 = 0;
let jobPhase: u8 = 0;
let jobIp: u32 = 0;
let jobPort: u32 = 0;
let jobTotal: u32 = 0;
let jobCmdSent: u32 = 0;
let jobAwait: bool = false; // rr: a request is out
const cmd = memory.data(4);

function jobConnect(): i32 {
  const fd = tcpSocket();
  if (fd < 0) return fd;
  const r = tcpConnect(fd, jobIp, jobPort);
  if (r < 0) {
    tcpClose(fd);
    return r;
  }
  jobFd = fd;
  jobPhase = P_CONNECTING;
  jobCmdSent = 0;
  return 0;
}

/** Start a job against a bench server at ip:port: send `n` bytes (kind 1), `n` one-byte round
 *  trips (kind 2) or `n` connect/close cycles (kind 3). 0 or a negative error. */
export function benchJob(kind: u32, ip: u32, port: u32, n: u32): i32 {
  if (jobState == JOB_RUNNING || kind < 1 || kind > 3) return EINVAL;
  jobKind = <u8>kind;
  jobIp = ip;
  jobPort = port;
  jobTotal = n;
  jobDone = 0;
  jobAwait = false;
  const r = jobConnect();
  if (r < 0) return r;
  jobState = JOB_RUNNING;
  return 0;
}

function jobEnd(state: i32): void {
  if (jobFd >= 0) {
    if (state == JOB_DONE) tcpClose(jobFd);
    else tcpAbort(jobFd);
  }
  jobFd = -1;
  jobState = state;
}

function jobStep(): void {
  const fd = jobFd;
  const ev = tcpEvents(fd);
  if (ev & EV_ERROR) {
    const e = tcpRecv(fd, scratch, 1);
    jobEnd(e < 0 ? e : -6);
    return;
  }
  if (jobPhase == P_CONNECTING) {
    if ((ev & EV_CONNECTED) == 0) return;
    if (jobKind == K_CPS) {
      // Setup done: tear down (our FIN, the server's FIN, our ACK) and count it at EOF.
      tcpShutdown(fd, 1);
      jobPhase = P_WAIT_EOF;
    } else {
      store<u8>(cmd, jobKind == K_SEND ? 68 : 69);
      store<u8>(cmd + 1, 10);
      if (jobKind == K_RR) tcpSetopt(fd, OPT_NODELAY, 1);
      jobPhase = P_CMD;
    }
  }
  if (jobPhase == P_CMD) {
    const r = tcpSend(fd, cmd + jobCmdSent, 2 - jobCmdSent);
    if (r == EWOULDBLOCK) return;
    if (r < 0) {
      jobEnd(r);
      return;
    }
    jobCmdSent += <u32>r;
    if (jobCmdSent < 2) return;
    jobPhase = P_DATA;
  }
  if (jobPhase == P_DATA) {
    if (jobKind == K_SEND) {
      const r = pump(fd, jobDone, jobTotal);
      if (r < 0) {
        jobEnd(r);
        return;
      }
      jobDone = <u32>r;
      if (jobDone < jobTotal) return;
      tcpShutdown(fd, 1);
      jobPhase = P_WAIT_EOF;
    } else {
      // rr: one byte out, one byte back.
      for (;;) {
        if (!jobAwait) {
          if (jobDone >= jobTotal) {
            tcpShutdown(fd, 1);
            jobPhase = P_WAIT_EOF;
            break;
          }
          store<u8>(cmd + 2, <u8>jobDone);
          const r = tcpSend(fd, cmd + 2, 1);
          if (r == EWOULDBLOCK) return;
          if (r < 0) {
            jobEnd(r);
            return;
          }
          jobAwait = true;
        }
        const r = tcpRecv(fd, scratch, 1);
        if (r == EWOULDBLOCK) return;
        if (r <= 0 || load<u8>(scratch) != <u8>jobDone) {
          jobEnd(r < 0 ? r : -100);
          return;
        }
        jobAwait = false;
        jobDone++;
      }
    }
  }
  if (jobPhase == P_WAIT_EOF) {
    let e = tcpRecv(fd, scratch, SCRATCH_LEN);
    while (e > 0) e = tcpRecv(fd, scratch, SCRATCH_LEN);
    if (e == EWOULDBLOCK) return;
    if (e < 0) {
      jobEnd(e);
      return;
    }
    if (jobKind != K_CPS) {
      jobEnd(JOB_DONE);
      return;
    }
    tcpClose(fd);
    jobFd = -1;
    jobDone++;
    if (jobDone >= jobTotal) {
      jobState = JOB_DONE;
      return;
    }
    const r = jobConnect();
    if (r < 0) {
      jobFd = -1;
      jobState = r;
    }
  }
}

export function benchPoll(): void {
  serve();
  if (jobState == JOB_RUNNING) jobStep();
}
