// Issue 19 item 3: a RST at exactly RCV.NXT + RCV.WND is outside the window and dropped silently
// (RFC 5961 §3.2), though a zero-length ACK there is accepted (tcp_edge_ack.spec.ts).
import { tcpAccept, tcpState } from "../api/tcp";
import { ESTABLISHED } from "../sockets/tcp/pcb";
import { TCP_RCV_BUF } from "../config";
import { ACK, C, OUR_PORT, PEER_PORT, Peer, RST, listenOn, tcpUp } from "../testing";

const PISN: u32 = 1000000;

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

