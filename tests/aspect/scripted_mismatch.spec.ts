// A fixture for tests/host/testing_kit.test.ts, not part of `make test-as`: written the way a
// firmware author writes tests, it scripts segments the stack does not send, so as-pect must fail
// these tests with the kit's description of the difference, and pass the control test.
import { tcpBind, tcpListen, tcpSocket } from "../../assembly/api/tcp";
import { ACK, PSH, Peer, SYN, bringUp } from "../../assembly/testing";

function listening(): Peer {
  bringUp();
  const l = tcpSocket();
  tcpBind(l, 8080);
  tcpListen(l, 4);
  const peer = new Peer();
  peer.introduce();
  return peer;
}

describe("scripted peer", () => {
  it("control: the handshake as the stack really does it", () => {
    const c = listening().tcp(40000, 8080);
    c.send(SYN, "", 1460);
    expect(c.expect(SYN | ACK, 0, 1, 0)).toBe("");
  });

  it("MISMATCH-ACK: scripts an ACK number the stack does not send", () => {
    const c = listening().tcp(40000, 8080);
    c.send(SYN, "", 1460);
    expect(c.expect(SYN | ACK, 0, 2, 0)).toBe("");
  });

  it("MISMATCH-DATA: scripts data the stack never sends", () => {
    const c = listening().tcp(40000, 8080);
    expect(c.open()).toBe("");
    expect(c.expectText(PSH | ACK, 1, 1, "hello")).toBe("");
  });
});
