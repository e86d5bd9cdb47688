// Issue 19 item 4: TIME-WAIT follows RFC 9293 §3.10.7.4, in both of its representations (a block
// the application still holds, and a compact TIME-WAIT slot).
import { tcpAccept, tcpClose, tcpConnect, tcpRecv, tcpShutdown, tcpSocket, tcpState, tcpTableRow } from "../api/tcp";
import { CLOSED, TIME_WAIT } from "../sockets/tcp/pcb";
import { TCP_MSL_MS, TCP_RCV_BUF } from "../config";
import { ACK, ANY, C, FIN, OUR_PORT, PEER_IP, PEER_PORT, Peer, RST, SYN, TcpPeer, advance, clearSent, listenOn, tcpUp } from "../testing";

const PISN: u32 = 1000000;
const buf = heap.alloc(256);
const row = heap.alloc(28);

function text(n: i32): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(load<u8>(buf + i));
  return s;
}

/** The state tcpTableRow reports for the connection to the peer's port, -1 if none. */
function rowState(rport: u32): i32 {
  for (let r: u32 = 0; r < 16; r++) {
    if (tcpTableRow(r, row) && load<u32>(row, 16) == rport) return <i32>load<u32>(row);
  }
  return -1;
}

/** The stack connects to the peer's port 80; returns the fd, the peer in `conn`. */
let conn: TcpPeer = new Peer().tcp(80, 0, PISN);
function connecting(): i32 {
  tcpUp();
  const fd = tcpSocket();
  expect(tcpConnect(fd, PEER_IP, 80)).toBe(0);
  conn = new Peer().tcp(80, 0, PISN);
  expect(conn.expect(SYN, 0, ANY, 0)).toBe("");
  return fd;
}

/** An active close to TIME-WAIT: the fd held (a full block) or closed (a compact slot). */
function timeWait(hold: bool): i32 {
  const fd = connecting();
  conn.send(SYN | ACK, "", 1460);
  expect(conn.expect(ACK, 1, 1, 0)).toBe("");
  if (hold) expect(tcpShutdown(fd, 1)).toBe(0);
  else expect(tcpClose(fd)).toBe(0);
  expect(conn.expect(FIN | ACK, 1, 1, 0)).toBe("");
  conn.send(ACK);
  conn.send(FIN | ACK);
  expect(conn.expect(ACK, 2, 2, 0)).toBe("");
  expect(rowState(80)).toBe(<i32>TIME_WAIT);
  return fd;
}

function timeWaitChecks(hold: bool): void {
  timeWait(hold);
  // First: an unacceptable segment, even zero-length, is answered with an ACK and dropped.
  expect(conn.resend(ACK, 2 + TCP_RCV_BUF + 100)).toBe(C.TCP_OUT_OF_WINDOW);
  expect(conn.expect(ACK, 2, 2, 0)).toBe("");
  // ... but never a RST (RFC 1337: nor does an acceptable one end TIME-WAIT).
  expect(conn.resend(RST, 2 + TCP_RCV_BUF + 100)).toBe(C.TCP_TIME_WAIT);
  expect(conn.resend(RST, 2)).toBe(C.TCP_TIME_WAIT);
  expect(conn.expectNone()).toBe("");
  // Fifth: an acceptable segment without ACK is dropped, a FIN too.
  expect(conn.resend(FIN, 2)).toBe(C.TCP_NO_ACK);
  expect(conn.expectNone()).toBe("");
  // An acceptable pure ACK: nothing to answer.
  expect(conn.resend(ACK, 2)).toBe(C.TCP_TIME_WAIT);
  expect(conn.expectNone()).toBe("");
  // The retransmitted FIN is ACKed and restarts the 2 MSL timer.
  advance(TCP_MSL_MS);
  expect(conn.resend(FIN | ACK, 1)).toBe(C.TCP_TIME_WAIT);
  expect(conn.expect(ACK, 2, 2, 0)).toBe("");
  advance(TCP_MSL_MS + 1000);
  expect(rowState(80)).toBe(<i32>TIME_WAIT);
  advance(TCP_MSL_MS);
  expect(rowState(80)).toBe(hold ? <i32>CLOSED : -1); // a held block stays, CLOSED; a slot is gone
}

describe("RFC 9293 §3.10.7.4 in TIME-WAIT", () => {
  it("a held fd (full block): ACKs unacceptable segments, drops a FIN without ACK", () => {
    timeWaitChecks(true);
  });
  it("a compact TIME-WAIT slot: the same", () => {
    timeWaitChecks(false);
  });
  it("a held fd: an in-window SYN draws a challenge ACK (RFC 5961 §4.2)", () => {
    timeWait(true);
    clearSent();
    conn.resend(SYN, 5);
    expect(conn.expect(ACK, 2, 2, 0)).toBe("");
  });
});
