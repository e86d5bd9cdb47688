// Issue 19 item 2: text (and a FIN) on a SYN-ACK, or on the SYN of a simultaneous open, is
// processed (RFC 9293 §3.10.7.3), not thrown away.
import { tcpAccept, tcpClose, tcpConnect, tcpRecv, tcpShutdown, tcpSocket, tcpState, tcpTableRow } from "../api/tcp";
import { CLOSE_WAIT, ESTABLISHED, SYN_RECEIVED } from "../sockets/tcp/pcb";
import { TCP_DELACK_MS } from "../config";
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

describe("RFC 9293 §3.10.7.3: text on a SYN is kept", () => {
  it("SYN-ACK with data: delivered in order, ACKed once (ack = ISN + 1 + len)", () => {
    const fd = connecting();
    expect(conn.send(SYN | ACK, "hello", 1460)).toBe(C.TCP_DELIVERED);
    expect(conn.expect(ACK, 1, 6, 0)).toBe("");
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(tcpRecv(fd, buf, 100)).toBe(5);
    expect(text(5)).toBe("hello");
    advance(TCP_DELACK_MS + 1);
    expect(conn.expectNone()).toBe("");
    // The next byte from the peer follows on.
    conn.send(ACK, "!");
    advance(TCP_DELACK_MS + 1);
    expect(conn.expect(ACK, 1, 7, 0)).toBe("");
    expect(tcpRecv(fd, buf, 100)).toBe(1);
  });

  it("SYN-ACK with data and FIN: the text, then the FIN (CLOSE-WAIT)", () => {
    const fd = connecting();
    conn.send(SYN | ACK | FIN, "bye", 1460);
    expect(conn.expect(ACK, 1, 5, 0)).toBe("");
    expect(tcpState(fd)).toBe(CLOSE_WAIT);
    expect(tcpRecv(fd, buf, 100)).toBe(3);
    expect(text(3)).toBe("bye");
    expect(tcpRecv(fd, buf, 100)).toBe(0); // end of stream
  });

  it("simultaneous open, SYN with data: the SYN-ACK ACKs it, and it is read once ESTABLISHED", () => {
    const fd = connecting();
    conn.send(SYN, "hi", 1460);
    expect(conn.expect(SYN | ACK, 0, 3, 0)).toBe("");
    expect(tcpState(fd)).toBe(SYN_RECEIVED);
    conn.send(ACK);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(tcpRecv(fd, buf, 100)).toBe(2);
    expect(text(2)).toBe("hi");
    advance(TCP_DELACK_MS + 1);
    expect(conn.expectNone()).toBe("");
  });
});

