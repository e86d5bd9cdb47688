// What a firmware app sends during its turn (after input and poll) is queued and sent when it
// returns, so several small writes leave as one segment (lwIP's tcp_write until tcp_output).
import { setApp } from "../app";
import { tcpAccept, tcpClose, tcpRecv, tcpSend } from "../api/tcp";
import { ACK, C, FIN, PSH, Peer, bringUp, listenOn } from "../testing";

const buf = heap.alloc(64);
let appFd: i32 = -1;
let appWrites: i32 = 0; // writes to make on the app's next turn
let appCloses = false;

function put(s: string): void {
  for (let i = 0; i < s.length; i++) store<u8>(buf + i, <u8>s.charCodeAt(i));
}

function appStart(): void {}

function appPoll(): void {
  if (appFd < 0) return;
  for (let i = 0; i < appWrites; i++) {
    put(String.fromCharCode(0x61 + 2 * i) + String.fromCharCode(0x62 + 2 * i));
    tcpSend(appFd, buf, 2);
  }
  appWrites = 0;
  if (appCloses) {
    tcpRecv(appFd, buf, 64); // unread data at close would reset (RFC 9293 §3.6)
    tcpClose(appFd);
    appCloses = false;
    appFd = -1;
  }
}

describe("TCP output held during the app's turn", () => {
  it("three small writes in one turn leave as one segment; the same writes outside it do not", () => {
    bringUp();
    const peer = new Peer();
    peer.introduce();
    const l = listenOn(8080);
    const c = peer.tcp(40000, 8080, 1000);
    expect(c.open()).toBe("");
    const fd = tcpAccept(l);
    setApp(appStart, appPoll);
    appFd = fd;
    appWrites = 3;
    expect(c.send(ACK | PSH, "go")).toBe(C.TCP_DELIVERED);
    expect(c.expectText(ACK | PSH, 1, 3, "abcdef")).toBe("");
    expect(c.expectNone()).toBe("");
    c.ack();
    // Outside the app's turn a write is sent at once: the first goes alone, and Nagle holds the
    // rest until it is acknowledged.
    appFd = -1;
    put("xy");
    tcpSend(fd, buf, 2);
    tcpSend(fd, buf, 2);
    expect(c.expectText(ACK | PSH, 7, 3, "xy")).toBe("");
    expect(c.expectNone()).toBe("");
    c.ack();
    expect(c.expectText(ACK | PSH, 9, 3, "xy")).toBe("");
    c.ack();
    setApp(appStart, appStart);
  });

  it("a write and a close in one turn: the data and the FIN share a segment", () => {
    bringUp();
    const peer = new Peer();
    peer.introduce();
    const l = listenOn(8081);
    const c = peer.tcp(40001, 8081, 5000);
    expect(c.open()).toBe("");
    setApp(appStart, appPoll);
    appFd = tcpAccept(l);
    appWrites = 1;
    appCloses = true;
    expect(c.send(ACK | PSH, "go")).toBe(C.TCP_DELIVERED);
    expect(c.expectText(ACK | PSH | FIN, 1, 3, "ab")).toBe("");
    expect(c.expectNone()).toBe("");
    setApp(appStart, appStart);
  });
});
