// The sensor app under as-pect with the real stack (assembly/testing): a scripted HTTP client and
// a UDP collector on the link, a fake sensor, a virtual clock. Copy this file with the app.
import { setApp } from "../../../assembly/app";
import { tcpConnect, tcpRecv, tcpSend, tcpSocket } from "../../../assembly/api/tcp";
import { udpBind, udpRecvfrom, udpSocket } from "../../../assembly/api/udp";
import { TIME_WAIT } from "../../../assembly/sockets/tcp/pcb";
import {
  ACK, ANY, C, FIN, LOCALHOST, PEER_IP, PSH, Peer, advance, bringUp, clearSent, run, connection, netstat, sentCount, settle,
} from "../../../assembly/testing";
import {
  HISTORY, HTTP_PORT, PUSH_PORT, REQUEST_TIMEOUT_MS, SAMPLE_MS, sensorPoll, sensorPushTo, sensorPushed, sensorReadings,
  sensorStart, setSensorSource,
} from "../sensor";

// The app as the firmware image registers it (firmware.ts); bringUp() (init) starts it.
setApp(sensorStart, sensorPoll);

// A fake sensor the tests set.
let reading: i32 = 0;
function fakeSensor(): i32 {
  return reading;
}

/** A fresh board at 10.0.0.1 with the app, reading 21.375 C; a peer at 10.0.0.2 it knows. */
function up(): Peer {
  setSensorSource(fakeSensor);
  reading = 21375;
  bringUp(1000);
  const peer = new Peer();
  peer.introduce();
  clearSent();
  return peer;
}

function response(status: string, type: string, body: string): string {
  return "HTTP/1.1 " + status + "\r\nContent-Type: " + type + "\r\nContent-Length: " + body.length.toString() +
    "\r\nConnection: close\r\n\r\n" + body;
}

/** One request from a fresh client port; returns everything the sensor answered. */
function get(peer: Peer, port: u32, request: string): string {
  const c = peer.tcp(port, HTTP_PORT);
  const r = c.open();
  if (r.length) return r;
  c.send(ACK | PSH, request);
  const s = c.recvText();
  c.send(FIN | ACK);
  return s;
}

describe("sensor: HTTP", () => {
  it("serves the newest reading at /, then closes (the ladder)", () => {
    const peer = up();
    const c = peer.tcp(40000, HTTP_PORT);
    expect(c.open()).toBe("");
    const req = "GET / HTTP/1.1\r\nHost: sensor\r\n\r\n";
    c.send(ACK | PSH, req);
    // feed() runs the app after the frame, as input() does: it answers and closes in one turn, and
    // what an app sends in its turn leaves when it returns, so the FIN rides on the response.
    const want = response("200 OK", "text/plain", "temperature 21.375 C, reading 0\n");
    expect(c.expectText(FIN | PSH | ACK, 1, 1 + req.length, want)).toBe("");
    c.send(FIN | ACK);
    expect(c.expect(ACK, 2 + want.length, 2 + req.length, 0)).toBe("");
    const row = connection(HTTP_PORT, 40000);
    expect(row).not.toBeNull(netstat());
    expect(row!.state).toBe(TIME_WAIT); // we closed first
  });

  it("serves the last readings as JSON, oldest first", () => {
    const peer = up();
    for (let k = 1; k <= 10; k++) {
      reading = 20000 + k * 10;
      advance(SAMPLE_MS);
    }
    expect(sensorReadings()).toBe(11);
    expect(HISTORY).toBe(8);
    const body = "{\"sensor\":\"temperature\",\"unit\":\"mC\",\"interval_ms\":1000,\"seq\":10," +
      "\"readings\":[20030,20040,20050,20060,20070,20080,20090,20100]}\n";
    expect(get(peer, 40001, "GET /readings HTTP/1.1\r\n\r\n")).toBe(response("200 OK", "application/json", body));
  });

  it("prints negative temperatures", () => {
    const peer = up();
    reading = -1250;
    advance(SAMPLE_MS);
    expect(get(peer, 40002, "GET /?x HTTP/1.0\r\n\r\n")).toBe(response("200 OK", "text/plain", "temperature -1.250 C, reading 1\n"));
  });

  it("answers 404, 405 and 414", () => {
    const peer = up();
    expect(get(peer, 40003, "GET /nope HTTP/1.1\r\n\r\n")).toBe(response("404 Not Found", "text/plain", ""));
    expect(get(peer, 40004, "GET /readingsX HTTP/1.1\r\n\r\n")).toBe(response("404 Not Found", "text/plain", ""));
    expect(get(peer, 40005, "POST / HTTP/1.1\r\n\r\n")).toBe(response("405 Method Not Allowed", "text/plain", ""));
    let long = "GET /";
    for (let i = 0; i < 80; i++) long += "a";
    expect(get(peer, 40006, long + " HTTP/1.1\r\n\r\n")).toBe(response("414 URI Too Long", "text/plain", ""));
  });

  it("waits for a request line split over segments", () => {
    const peer = up();
    const c = peer.tcp(40007, HTTP_PORT);
    expect(c.open()).toBe("");
    c.send(ACK | PSH, "GET /read");
    advance(10);
    expect(c.recvText()).toBe(""); // nothing yet (not even an ACK: it is delayed)
    c.send(ACK | PSH, "ings HTTP/1.1\r\n\r\n");
    expect(c.recvText().startsWith("HTTP/1.1 200 OK\r\nContent-Type: application/json")).toBe(true);
  });

  it("drops a client that sends nothing, and serves the one waiting behind it", () => {
    const peer = up();
    const idle = peer.tcp(40008, HTTP_PORT);
    expect(idle.open()).toBe("");
    const next = peer.tcp(40009, HTTP_PORT);
    expect(next.open()).toBe("");
    next.send(ACK | PSH, "GET / HTTP/1.1\r\n\r\n");
    expect(next.recvText()).toBe(""); // queued behind the idle one
    run(REQUEST_TIMEOUT_MS - 1);
    expect(idle.expectNone()).toBe("");
    run(1);
    expect(idle.expect(FIN | ACK, 1, 1, 0)).toBe("");
    expect(next.recvText()).toBe(response("200 OK", "text/plain", "temperature 21.375 C, reading 5\n"));
  });
});

describe("sensor: UDP push", () => {
  it("pushes the newest reading to the collector every interval", () => {
    const peer = up();
    expect(sensorPushTo(PEER_IP, 9999, 5000)).toBe(0);
    advance(0);
    expect(peer.expectUdp(PUSH_PORT, 9999, "{\"seq\":0,\"mC\":21375}\n")).toBe("");
    reading = 21500;
    run(4 * SAMPLE_MS); // as a board runs: a poll at every deadline, so a reading every second
    expect(peer.expectUdp()).toBe("expected a UDP datagram to 10.0.0.2, got nothing");
    run(SAMPLE_MS);
    expect(peer.expectUdp(PUSH_PORT, 9999, "{\"seq\":5,\"mC\":21500}\n")).toBe("");
    expect(sensorPushed()).toBe(2);
  });

  it("asks ARP for a new collector first; the push goes once it answers", () => {
    up();
    const collector = new Peer(0x0a000063, 99); // 10.0.0.99, not yet known
    sensorPushTo(collector.ip, 5000, 10000);
    advance(0);
    expect(collector.expectArpRequest()).toBe("");
    expect(collector.expectUdp()).toBe("expected a UDP datagram to 10.0.0.99, got nothing");
    expect(collector.arpReply()).toBe(C.ARP_REPLY_ACCEPTED);
    expect(collector.expectUdp(PUSH_PORT, 5000, "{\"seq\":0,\"mC\":21375}\n")).toBe("");
  });
});

describe("sensor: talking to itself over the loopback", () => {
  it("a client in the same firmware reads /readings from 127.0.0.1, and the push reaches a local socket", () => {
    up();
    const fd = tcpSocket();
    expect(tcpConnect(fd, LOCALHOST, HTTP_PORT)).toBe(0);
    settle(); // loopback traffic is delivered by poll(): the handshake, here
    const req = "GET /readings HTTP/1.1\r\n\r\n";
    const buf = heap.alloc(1024);
    for (let i = 0; i < req.length; i++) store<u8>(buf + i, <u8>req.charCodeAt(i));
    expect(tcpSend(fd, buf, req.length)).toBe(req.length);
    settle(); // the request, the app's answer, its FIN
    const n = tcpRecv(fd, buf, 1024);
    expect(n).toBeGreaterThan(0);
    expect(String.UTF8.decodeUnsafe(buf, n).endsWith("\"readings\":[21375]}\n")).toBe(true);
    expect(tcpRecv(fd, buf, 1024)).toBe(0); // and the end of the stream
    const u = udpSocket();
    udpBind(u, 7777);
    sensorPushTo(LOCALHOST, 7777, 1000);
    settle();
    expect(udpRecvfrom(u, buf, 100)).toBe(21); // {"seq":0,"mC":21375}\n
    expect(sentCount()).toBe(0); // none of it reached the PHY
  });
});
