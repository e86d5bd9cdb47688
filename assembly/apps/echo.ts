// The echo app: TCP echo on port 7 (RFC 862) and discard on port 9 (RFC 863). Echo reads into a
// static per-connection buffer only when the previous chunk has been written back whole, so a
// peer that does not read stops us reading (backpressure through both TCP windows). When the
// peer closes, what is still buffered is written back, then we close.
import { TCP_MAX_SOCKETS } from "../config";
import { EWOULDBLOCK } from "../support/errors";
import { EV_ERROR, tcpAbort, tcpAccept, tcpBind, tcpClose, tcpEvents, tcpListen, tcpRecv, tcpSend, tcpSocket } from "../api/tcp";

export const ECHO_PORT: u32 = 7;
export const DISCARD_PORT: u32 = 9;
const N = TCP_MAX_SOCKETS;
const BUF: u32 = 1024;

// Per fd: 0 free, 1 echo, 2 discard.
const FREE: u8 = 0;
const ECHO: u8 = 1;
const DISCARD: u8 = 2;
const kind = memory.data(N);
const eof = memory.data(N);
const pendOff = memory.data(N * 4);
const pendLen = memory.data(N * 4);
const bufs = memory.data(N * BUF);
const scratch = memory.data(512);
let echoL: i32 = -1;
let discardL: i32 = -1;

function listenOn(port: u32): i32 {
  const fd = tcpSocket();
  if (fd < 0) return -1;
  if (tcpBind(fd, port) < 0 || tcpListen(fd, 4) < 0) {
    tcpClose(fd);
    return -1;
  }
  return fd;
}

export function echoStart(): void {
  memory.fill(kind, 0, N);
  echoL = listenOn(ECHO_PORT);
  discardL = listenOn(DISCARD_PORT);
}

function acceptAll(l: i32, k: u8): void {
  if (l < 0) return;
  for (;;) {
    const fd = tcpAccept(l);
    if (fd < 0) return;
    store<u8>(kind + fd, k);
    store<u8>(eof + fd, 0);
    store<u32>(pendOff + (<usize>fd << 2), 0);
    store<u32>(pendLen + (<usize>fd << 2), 0);
  }
}

export function echoPoll(): void {
  acceptAll(echoL, ECHO);
  acceptAll(discardL, DISCARD);
  for (let fd = 0; fd < N; fd++) {
    const k = load<u8>(kind + fd);
    if (k == FREE) continue;
    if (tcpEvents(fd) & EV_ERROR) {
      tcpAbort(fd);
      store<u8>(kind + fd, FREE);
    } else if (k == ECHO) echo(fd);
    else discard(fd);
  }
}

function finish(fd: i32): void {
  tcpClose(fd);
  store<u8>(kind + fd, FREE);
}

function echo(fd: i32): void {
  const b = bufs + <usize>fd * BUF;
  const po = pendOff + (<usize>fd << 2);
  const pl = pendLen + (<usize>fd << 2);
  for (;;) {
    let len = load<u32>(pl);
    if (len > 0) {
      const off = load<u32>(po);
      const r = tcpSend(fd, b + off, len);
      if (r == EWOULDBLOCK) return;
      if (r < 0) {
        tcpAbort(fd);
        store<u8>(kind + fd, FREE);
        return;
      }
      store<u32>(po, off + <u32>r);
      store<u32>(pl, len - <u32>r);
      continue;
    }
    if (load<u8>(eof + fd)) {
      finish(fd);
      return;
    }
    const r = tcpRecv(fd, b, BUF);
    if (r > 0) {
      store<u32>(po, 0);
      store<u32>(pl, <u32>r);
    } else if (r == 0) {
      store<u8>(eof + fd, 1);
    } else if (r == EWOULDBLOCK) {
      return;
    } else {
      tcpAbort(fd);
      store<u8>(kind + fd, FREE);
      return;
    }
  }
}

function discard(fd: i32): void {
  for (;;) {
    const r = tcpRecv(fd, scratch, 512);
    if (r > 0) continue;
    if (r == EWOULDBLOCK) return;
    if (r == 0) finish(fd);
    else {
      tcpAbort(fd);
      store<u8>(kind + fd, FREE);
    }
    return;
  }
}
