// The hello app under as-pect with wasmip's testing kit: the real stack with a virtual clock, a
// scripted peer on the link that sends crafted frames and checks what the board sends back.
import { ACK, FIN, PSH, Peer, bringUp, clearSent } from "wasmip/assembly/testing";
import { HELLO_PORT, hello_answered } from "../app"; // importing the app registers it (setApp)

/** A fresh board at 10.0.0.1 with the app started; a peer at 10.0.0.2 it knows. */
function up(): Peer {
  bringUp(1000);
  const peer = new Peer();
  peer.introduce();
  clearSent();
  return peer;
}

describe("hello over TCP", () => {
  it("answers a name with a greeting and closes", () => {
    const peer = up();
    const c = peer.tcp(40000, HELLO_PORT);
    expect(c.open()).toBe("");
    c.send(ACK | PSH, "world\n");
    // The answer and the FIN leave in the app's turn after the frame: one segment.
    expect(c.expectText(FIN | PSH | ACK, 1, 7, "hello, world\n")).toBe("");
    c.send(FIN | ACK);
    expect(hello_answered()).toBe(1);
  });

  it("waits for the end of the line", () => {
    const peer = up();
    const c = peer.tcp(40001, HELLO_PORT);
    expect(c.open()).toBe("");
    c.send(ACK | PSH, "wor");
    expect(c.recvText()).toBe("");
    c.send(ACK | PSH, "ld\n");
    expect(c.recvText()).toBe("hello, world\n");
  });
});

describe("hello over UDP", () => {
  it("answers each datagram to its sender", () => {
    const peer = up();
    peer.udpSend(5000, HELLO_PORT, "udp\n");
    expect(peer.expectUdp(HELLO_PORT, 5000, "hello, udp\n")).toBe("");
  });
});
