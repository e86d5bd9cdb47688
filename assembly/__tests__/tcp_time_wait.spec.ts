// Issue 19 item 4: TIME-WAIT follows RFC 9293 §3.10.7.4, in both of its representations (a block
// the application still holds, and a compact TIME-WAIT slot).
import { tcpClose, tcpShutdown } from "../api/tcp";
import { CLOSED, TIME_WAIT } from "../sockets/tcp/pcb";
import { TCP_MSL_MS, TCP_RCV_BUF } from "../config";
import { ACK, C, FIN, RST, SYN, advance, clearSent, connectOne, connectedPeer, stateTo } from "../testing";

const PISN: u32 = 1000000;

/** An active close to TIME-WAIT: the fd held (a full block) or closed (a compact slot). */
function timeWait(hold: bool): i32 {
  const fd = connectOne(PISN);
  connectedPeer.send(SYN | ACK, "", 1460);
  expect(connectedPeer.expect(ACK, 1, 1, 0)).toBe("");
  if (hold) expect(tcpShutdown(fd, 1)).toBe(0);
  else expect(tcpClose(fd)).toBe(0);
  expect(connectedPeer.expect(FIN | ACK, 1, 1, 0)).toBe("");
  connectedPeer.send(ACK);
  connectedPeer.send(FIN | ACK);
  expect(connectedPeer.expect(ACK, 2, 2, 0)).toBe("");
  expect(stateTo(80)).toBe(<i32>TIME_WAIT);
  return fd;
}

function timeWaitChecks(hold: bool): void {
  timeWait(hold);
  // First: an unacceptable segment, even zero-length, is answered with an ACK and dropped.
  expect(connectedPeer.resend(ACK, 2 + TCP_RCV_BUF + 100)).toBe(C.TCP_OUT_OF_WINDOW);
  expect(connectedPeer.expect(ACK, 2, 2, 0)).toBe("");
  // ... but never a RST (RFC 1337: nor does an acceptable one end TIME-WAIT).
  expect(connectedPeer.resend(RST, 2 + TCP_RCV_BUF + 100)).toBe(C.TCP_TIME_WAIT);
  expect(connectedPeer.resend(RST, 2)).toBe(C.TCP_TIME_WAIT);
  expect(connectedPeer.expectNone()).toBe("");
  // Fifth: an acceptable segment without ACK is dropped, a FIN too.
  expect(connectedPeer.resend(FIN, 2)).toBe(C.TCP_NO_ACK);
  expect(connectedPeer.expectNone()).toBe("");
  // An acceptable pure ACK: nothing to answer.
  expect(connectedPeer.resend(ACK, 2)).toBe(C.TCP_TIME_WAIT);
  expect(connectedPeer.expectNone()).toBe("");
  // The retransmitted FIN is ACKed and restarts the 2 MSL timer.
  advance(TCP_MSL_MS);
  expect(connectedPeer.resend(FIN | ACK, 1)).toBe(C.TCP_TIME_WAIT);
  expect(connectedPeer.expect(ACK, 2, 2, 0)).toBe("");
  advance(TCP_MSL_MS + 1000);
  expect(stateTo(80)).toBe(<i32>TIME_WAIT);
  advance(TCP_MSL_MS);
  expect(stateTo(80)).toBe(hold ? <i32>CLOSED : -1); // a held block stays, CLOSED; a slot is gone
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
    connectedPeer.resend(SYN, 5);
    expect(connectedPeer.expect(ACK, 2, 2, 0)).toBe("");
  });
});
