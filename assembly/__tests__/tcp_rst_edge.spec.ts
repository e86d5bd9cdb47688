// Issue 19 item 3: a RST at exactly RCV.NXT + RCV.WND is outside the window and dropped silently
// (RFC 5961 §3.2), though a zero-length ACK there is accepted (tcp_edge_ack.spec.ts).
import { tcpAccept, tcpClose, tcpConnect, tcpRecv, tcpShutdown, tcpSocket, tcpState, tcpTableRow } from "../api/tcp";
import { ESTABLISHED } from "../sockets/tcp/pcb";
import { TCP_RCV_BUF } from "../config";
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

describe("RFC 5961 §3.2: a RST at RCV.NXT + RCV.WND is outside the window", () => {
  it("is dropped silently (no challenge ACK), the connection stays", () => {
    tcpUp();
    const l = listenOn(OUR_PORT, 5);
    const c = new Peer().tcp(PEER_PORT, OUR_PORT, PISN);
    expect(c.open()).toBe("");
    const fd = tcpAccept(l);
    expect(c.resend(RST, 1 + TCP_RCV_BUF)).toBe(C.TCP_OUT_OF_WINDOW);
    expect(c.expectNone()).toBe("");
    expect(tcpState(fd)).toBe(ESTABLISHED);
    // One byte inside is still challenged.
    expect(c.resend(RST, TCP_RCV_BUF)).toBe(C.TCP_RST_CHALLENGED);
    expect(c.expect(ACK, 1, 1, 0)).toBe("");
  });
});

