// Issue 19 item 2: text (and a FIN) on a SYN-ACK, or on the SYN of a simultaneous open, is
// processed (RFC 9293 §3.10.7.3), not thrown away.
import { tcpRecv, tcpState } from "../api/tcp";
import { CLOSE_WAIT, ESTABLISHED, SYN_RECEIVED } from "../sockets/tcp/pcb";
import { TCP_DELACK_MS } from "../config";
import { ACK, C, FIN, SYN, advance, connectOne, connectedPeer } from "../testing";

const PISN: u32 = 1000000;
const buf = heap.alloc(256);

function text(n: i32): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(load<u8>(buf + i));
  return s;
}

describe("RFC 9293 §3.10.7.3: text on a SYN is kept", () => {
  it("SYN-ACK with data: delivered in order, ACKed once (ack = ISN + 1 + len)", () => {
    const fd = connectOne(PISN);
    expect(connectedPeer.send(SYN | ACK, "hello", 1460)).toBe(C.TCP_DELIVERED);
    expect(connectedPeer.expect(ACK, 1, 6, 0)).toBe("");
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(tcpRecv(fd, buf, 100)).toBe(5);
    expect(text(5)).toBe("hello");
    advance(TCP_DELACK_MS + 1);
    expect(connectedPeer.expectNone()).toBe("");
    // The next byte from the peer follows on.
    connectedPeer.send(ACK, "!");
    advance(TCP_DELACK_MS + 1);
    expect(connectedPeer.expect(ACK, 1, 7, 0)).toBe("");
    expect(tcpRecv(fd, buf, 100)).toBe(1);
  });

  it("SYN-ACK with data and FIN: the text, then the FIN (CLOSE-WAIT)", () => {
    const fd = connectOne(PISN);
    connectedPeer.send(SYN | ACK | FIN, "bye", 1460);
    expect(connectedPeer.expect(ACK, 1, 5, 0)).toBe("");
    expect(tcpState(fd)).toBe(CLOSE_WAIT);
    expect(tcpRecv(fd, buf, 100)).toBe(3);
    expect(text(3)).toBe("bye");
    expect(tcpRecv(fd, buf, 100)).toBe(0); // end of stream
  });

  it("simultaneous open, SYN with data: the SYN-ACK ACKs it, and it is read once ESTABLISHED", () => {
    const fd = connectOne(PISN);
    connectedPeer.send(SYN, "hi", 1460);
    expect(connectedPeer.expect(SYN | ACK, 0, 3, 0)).toBe("");
    expect(tcpState(fd)).toBe(SYN_RECEIVED);
    connectedPeer.send(ACK);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(tcpRecv(fd, buf, 100)).toBe(2);
    expect(text(2)).toBe("hi");
    advance(TCP_DELACK_MS + 1);
    expect(connectedPeer.expectNone()).toBe("");
  });
});

