// The echo app: TCP echo on port 7 (RFC 862) and discard on port 9 (RFC 863). Echo reads only
// as much as the send buffer takes now (tcpSendSpace) and sends it at once, so it needs no buffer
// per connection, and a peer that does not read stops us reading (backpressure through both TCP
// windows). When the peer closes and everything is echoed, we close.
import { TCP_MAX_SOCKETS } from "../config";
import { rxBuf } from "../iface/netif";
import { EWOULDBLOCK } from "../support/errors";
import {
  EV_ERROR, tcpAbort, tcpAccept, tcpBind, tcpClose, tcpEvents, tcpListen, tcpRecv, tcpSend, tcpSendSpace, tcpSocket,
} from "../api/tcp";

export const ECHO_PORT: u32 = 7;
export const DISCARD_PORT: u32 = 9;
const N = TCP_MAX_SOCKETS;
const SCRATCH: u32 = 1024;

// Per fd: 0 free, 1 echo, 2 discard.
const FREE: u8 = 0;
const ECHO: u8 = 1;
const DISCARD: u8 = 2;
const kind = memory.data(N);
// The core's receive frame buffer (io_buffer()): free while the app runs, between frames.
const scratch: usize = rxBuf;
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
  for (;;) {
    const room = tcpSendSpace(fd);
    if (room == 0) return; // the peer is not reading: neither do we
    const r = tcpRecv(fd, scratch, min<u32>(room, SCRATCH));
    if (r > 0) {
      tcpSend(fd, scratch, <u32>r); // takes all r: no more than the room it has
    } else if (r == 0) {
      finish(fd);
      return;
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
    const r = tcpRecv(fd, scratch, SCRATCH);
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
