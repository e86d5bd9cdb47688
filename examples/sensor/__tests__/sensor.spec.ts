// The sensor app under as-pect with the real stack (assembly/testing): a scripted HTTP client, a
// UDP collector, an MQTT broker and an NTP server on the link, a fake sensor, a virtual clock.
// Copy this file with the app. (The as-pect build has the MQTT client: as-pect.asconfig.json.)
import { setApp } from "../../../assembly/app";
import { tcpConnect, tcpRecv, tcpSend, tcpSocket } from "../../../assembly/api/tcp";
import { udpBind, udpRecvfrom, udpSocket } from "../../../assembly/api/udp";
import { TIME_WAIT } from "../../../assembly/sockets/tcp/pcb";
import {
  ACK, ANY, C, FIN, LOCALHOST, PEER_IP, PSH, Peer, RST, TcpPeer, advance, ascii, bringUp, bytesText, clearSent, run, connection,
  netstat, sentCount, settle,
} from "../../../assembly/testing";
import { get64, UNIX_EPOCH_NTP } from "../../../assembly/wire/ntp";
import { sntpSetServers, sntpSynced } from "../../../assembly/services/sntp";
import { mqttInflight } from "../../../assembly/services/mqtt";
import { dnsSetServers } from "../../../assembly/services/dns";
import { EINVAL } from "../../../assembly/support/errors";
import { MQTT_INFLIGHT } from "../../../assembly/config";
import {
  HISTORY, HTTP_PORT, MQTT_PORT, PUSH_PORT, REQUEST_TIMEOUT_MS, RESOLVE_RETRY_MS, SAMPLE_MS, sensorCommands, sensorCommandsRejected, sensorMqttAcked,
  sensorMqttDropped, sensorMqttInterval, sensorMqttPublished, sensorMqttTo, sensorMqttToName, sensorPoll, sensorPushTo, sensorPushed, sensorReadings,
  sensorConfig, sensorStart, setSensorKeepAlive, setSensorName, setSensorSource, MQTT_KEEPALIVE_S,
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

// ---- MQTT: a scripted broker on 10.0.0.2:1883 -------------------------------------------------

/** MQTT's length-prefixed string (§1.5.3). */
function mstr(s: string): string {
  return String.fromCharCode(s.length >> 8) + String.fromCharCode(s.length & 255) + s;
}
/** A packet: its first byte, the remaining length (§2.2.3, up to 127 here), the rest. */
function pkt(first: u32, rest: string): string {
  return String.fromCharCode(first) + String.fromCharCode(rest.length) + rest;
}
function id16(id: u32): string {
  return String.fromCharCode(id >> 8) + String.fromCharCode(id & 255);
}
/** PUBLISH QoS 1 (DUP when dup) of payload to topic with packet id. */
function publishPkt(topic: string, id: u32, payload: string, dup: bool = false): string {
  return pkt(dup ? 0x3a : 0x32, mstr(topic) + id16(id) + payload);
}
function shown(s: string): string {
  return bytesText(ascii(s), <u32>s.length, 1000);
}

let broker: TcpPeer = new Peer().tcp(MQTT_PORT, 0, 7000);

/** What the sensor sent the broker since the last call (ACKed), escaped for reading. */
function fromSensor(): string {
  const s = broker.recvText();
  broker.ack();
  return shown(s);
}
function brokerSends(s: string): void {
  broker.send(ACK | PSH, s);
}

/** CONNECT: protocol level 4, flags 0 (persistent session), keep-alive 30 s, client id "t1". */
/** CONNECT: persistent session, will QoS 1 retained (0x2c), keep-alive 30 s; then the client id,
 *  the will's topic and message. */
function connectPkt(keepAlive: string = "\x00\x1e"): string {
  return pkt(0x10, mstr("MQTT") + "\x04\x2c" + keepAlive + mstr("t1") + mstr(STATUS) + mstr("offline"));
}
/** "online" to the status topic, QoS 1, retained. */
function onlinePkt(id: u32): string {
  return pkt(0x33, mstr(STATUS) + id16(id) + "online");
}

/** The DNS server's answer to the query dns.expectUdp took: an A record with ip, or NXDOMAIN (ip 0). */
function dnsAnswer(dns: Peer, ip: u32): C {
  const q = dns.udpPayload;
  const n = dns.udpLen;
  const r = heap.alloc(n + 16);
  memory.copy(r, q, n);
  store<u16>(r + 2, bswap<u16>(ip ? 0x8180 : 0x8183)); // response, RD RA; NOERROR or NXDOMAIN
  store<u16>(r + 6, bswap<u16>(ip ? 1 : 0)); // answers
  if (!ip) return dns.udpBytes(53, dns.udpSrcPort, r, n);
  const a: u8[] = [0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4, <u8>(ip >> 24), <u8>(ip >> 16), <u8>(ip >> 8), <u8>ip]; // owner: the question's name
  for (let i = 0; i < a.length; i++) store<u8>(r + n + i, a[i]);
  return dns.udpBytes(53, dns.udpSrcPort, r, n + 16);
}

const TOPIC = "sensors/t1";
const CMD = "sensors/t1/cmd";
const STATUS = "sensors/t1/status";

/** The board up, named t1, publishing each reading to a broker that accepted the connection,
 *  "online" and the subscription; the next reading (seq 1, t null) sent and acknowledged. */
function mqttUp(): Peer {
  const peer = up();
  expect(setSensorName("t1")).toBe(true);
  expect(sensorMqttTo(PEER_IP, 0, 0)).toBe(0);
  broker = peer.tcp(MQTT_PORT, 0, 7000);
  expect(broker.accept()).toBe("");
  expect(fromSensor()).toBe(shown(connectPkt()));
  brokerSends("\x20\x02\x00\x00"); // CONNACK: accepted, no session
  expect(fromSensor()).toBe(shown(onlinePkt(1) + pkt(0x82, id16(2) + mstr(CMD) + "\x01")));
  brokerSends("\x40\x02\x00\x01\x90\x03\x00\x02\x01"); // PUBACK of "online"; SUBACK: QoS 1 granted
  expect(sensorMqttAcked()).toBe(0); // "online" is not a reading
  // The next reading goes as it is taken.
  run(SAMPLE_MS);
  expect(fromSensor()).toBe(shown(publishPkt(TOPIC, 3, "{\"seq\":1,\"mC\":21375,\"t\":null}")));
  brokerSends("\x40\x02\x00\x03"); // PUBACK
  expect(sensorMqttAcked()).toBe(1);
  expect(mqttInflight()).toBe(0);
  return peer;
}

describe("sensor: MQTT", () => {
  it("connects as its name, subscribes to its command topic and publishes each reading at QoS 1, t null before SNTP", () => {
    mqttUp();
    expect(sntpSynced()).toBe(false);
    reading = 21500;
    run(SAMPLE_MS);
    expect(fromSensor()).toBe(shown(publishPkt(TOPIC, 4, "{\"seq\":2,\"mC\":21500,\"t\":null}")));
    reading = -250;
    run(SAMPLE_MS);
    expect(fromSensor()).toBe(shown(publishPkt(TOPIC, 5, "{\"seq\":3,\"mC\":-250,\"t\":null}")));
    brokerSends("\x40\x02\x00\x04\x40\x02\x00\x05");
    expect(sensorMqttPublished()).toBe(3);
    expect(sensorMqttAcked()).toBe(3);
  });

  it("stamps readings with the SNTP clock once synced: seconds since 1970 with milliseconds", () => {
    mqttUp();
    const ntp = new Peer(0x0a00007b, 7); // 10.0.0.123
    ntp.introduce();
    expect(sntpSetServers(ntp.ip, 0)).toBe(0);
    advance(0);
    expect(ntp.expectUdp(ANY, 123)).toBe("");
    // The server's clock: 2026-12-07T00:00:00.250Z at the instant of the request (no delay either way).
    const T: u64 = 1796601600;
    const ts: u64 = ((T + UNIX_EPOCH_NTP) << 32) | 0x40000000;
    const r = heap.alloc(48);
    memory.fill(r, 0, 48);
    store<u8>(r, 0x24); // LI 0, version 4, mode 4
    store<u8>(r, 1, 1); // stratum 1
    store<u64>(r + 24, bswap<u64>(get64(ntp.udpPayload + 40))); // origin: the request's transmit timestamp
    store<u64>(r + 32, bswap<u64>(ts));
    store<u64>(r + 40, bswap<u64>(ts));
    expect(ntp.udpBytes(123, ntp.udpDstPort == 123 ? ntp.udpSrcPort : 0, r, 48)).toBe(C.UDP_DELIVERED);
    expect(sntpSynced()).toBe(true);
    fromSensor(); // readings published meanwhile, if any
    const before = sensorMqttPublished();
    run(SAMPLE_MS);
    expect(sensorMqttPublished()).toBe(before + 1);
    // The server's clock one second on, to the millisecond: 1796601601.250, or .249 where the
    // client's 32.32 arithmetic (its request's 16 random low bits) rounds down.
    const got = fromSensor();
    const ok = got.endsWith(",\"t\":1796601601.250}") || got.endsWith(",\"t\":1796601601.249}");
    expect(ok).toBe(true, got);
  });

  it("takes interval_ms=<ms> on its command topic; rejects and counts anything else", () => {
    mqttUp();
    // A QoS 1 command: acknowledged, applied (the next reading goes 5 s from now).
    brokerSends(publishPkt(CMD, 7, "interval_ms=5000\n"));
    expect(fromSensor()).toBe(shown("\x40\x02\x00\x07"));
    expect(sensorCommands()).toBe(1);
    expect(sensorMqttInterval()).toBe(5000);
    run(4 * SAMPLE_MS);
    expect(fromSensor()).toBe("");
    run(SAMPLE_MS);
    expect(fromSensor()).toBe(shown(publishPkt(TOPIC, 4, "{\"seq\":6,\"mC\":21375,\"t\":null}")));
    const bad = ["interval_ms=999", "interval_ms=86400001", "interval_ms=", "interval_ms=5s", "interval=5000", "", "interval_ms=123456789"];
    for (let i = 0; i < bad.length; i++) brokerSends(pkt(0x30, mstr(CMD) + bad[i])); // QoS 0
    expect(sensorCommandsRejected()).toBe(<u32>bad.length);
    expect(sensorCommands()).toBe(1);
    expect(sensorMqttInterval()).toBe(5000);
    brokerSends(pkt(0x30, mstr("sensors/t2/cmd") + "interval_ms=1000")); // another sensor's: ignored
    expect(sensorCommandsRejected()).toBe(<u32>bad.length);
    expect(sensorMqttInterval()).toBe(5000);
  });

  it("keeps readings for a broker that went away, counts those beyond its slots, and sends them again after reconnecting", () => {
    const peer = mqttUp();
    broker.send(RST | ACK);
    // A reading a second while the client backs off (1 s, then 2 s ...): MQTT_INFLIGHT wait, the rest are dropped.
    run((MQTT_INFLIGHT + 2) * SAMPLE_MS);
    expect(mqttInflight()).toBe(<u32>MQTT_INFLIGHT);
    expect(sensorMqttDropped()).toBeGreaterThan(0);
    // The broker is back: it answers the client's next SYN (an attempt in progress, or the next one).
    clearSent();
    broker = peer.tcp(MQTT_PORT, 0, 9000);
    let waited = 0;
    while (broker.accept() != "" && waited++ < 60) run(SAMPLE_MS);
    expect(fromSensor()).toBe(shown(connectPkt()));
    brokerSends("\x20\x02\x01\x00"); // session present: no new subscription
    // Readings 2 to 5, in order, then nothing: no SUBSCRIBE (the session has it), no DUP (never
    // sent), and "online" only once a slot is free: after the first PUBACK.
    let want = "";
    for (let k: u32 = 1; k <= <u32>MQTT_INFLIGHT; k++) want += publishPkt(TOPIC, 3 + k, "{\"seq\":" + (k + 1).toString() + ",\"mC\":21375,\"t\":null}");
    const again = fromSensor();
    expect(again).toBe(shown(want));
    brokerSends("\x40\x02\x00\x04");
    expect(fromSensor()).toBe(shown(onlinePkt(8)));
  });

  it("finds the broker by name: asks DNS again after a failed lookup, then connects to the answer", () => {
    const peer = up();
    expect(setSensorName("t1")).toBe(true);
    const dns = new Peer(0x0a000035, 5); // 10.0.0.53
    dns.introduce();
    expect(dnsSetServers(dns.ip, 0)).toBe(0);
    expect(sensorMqttToName(ascii("mq.lan"), 0, 0, 0)).toBe(EINVAL);
    expect(sensorMqttToName(ascii("mq.lan"), 6, 0, 0)).toBe(0);
    advance(0);
    expect(dns.expectUdp(ANY, 53)).toBe("");
    expect(dnsAnswer(dns, 0)).toBe(C.UDP_DELIVERED); // NXDOMAIN
    run(RESOLVE_RETRY_MS - 1);
    expect(dns.expectUdp(ANY, 53)).toBe("expected a UDP datagram to 10.0.0.53, got nothing");
    run(1);
    expect(dns.expectUdp(ANY, 53)).toBe("");
    broker = peer.tcp(MQTT_PORT, 0, 7000);
    expect(dnsAnswer(dns, PEER_IP)).toBe(C.UDP_DELIVERED);
    expect(broker.accept()).toBe("");
    expect(fromSensor()).toBe(shown(connectPkt()));
  });

  it("sends the keep-alive set before connecting (the will's delay at the broker); refuses 0", () => {
    const peer = up();
    expect(setSensorKeepAlive(0)).toBe(false);
    expect(setSensorKeepAlive(0x10000)).toBe(false);
    expect(setSensorKeepAlive(2)).toBe(true);
    expect(setSensorName("t1")).toBe(true);
    expect(sensorMqttTo(PEER_IP, 0, 0)).toBe(0);
    broker = peer.tcp(MQTT_PORT, 0, 7000);
    expect(broker.accept()).toBe("");
    expect(fromSensor()).toBe(shown(connectPkt("\x00\x02")));
    expect(setSensorKeepAlive(MQTT_KEEPALIVE_S)).toBe(true); // the next tests' default
  });

  it("takes its settings as key=value text (the boards' --app-config): keep-alive, name and interval, then the broker at an address and port", () => {
    const peer = up();
    const set = (s: string): i32 => sensorConfig(ascii(s), <u32>s.length);
    const bad = [
      "", "broker=", "broker=:1883", "broker=h:", "broker=h:0", "broker=h:65536", "broker=h:1x", "keepalive=", "keepalive=0",
      "keepalive=65536", "name=", "name=a/b", "name=a b", "name=abcdefghijklmnopqrstuvwx", "interval_ms=999", "interval_ms=1000x",
      "colour=red", "keepalive", "Broker=h",
    ];
    for (let i = 0; i < bad.length; i++) expect(set(bad[i])).toBe(EINVAL, bad[i]);
    expect(set("keepalive=2")).toBe(0);
    expect(set("name=t1")).toBe(0);
    expect(set("interval_ms=3000")).toBe(0);
    expect(sensorMqttInterval()).toBe(3000);
    expect(set("broker=10.0.0.2:1884")).toBe(0);
    advance(0);
    broker = peer.tcp(1884, 0, 7000);
    expect(broker.accept()).toBe("");
    expect(fromSensor()).toBe(shown(connectPkt("\x00\x02")));
    expect(sensorMqttInterval()).toBe(3000); // kept across broker=
    expect(setSensorKeepAlive(MQTT_KEEPALIVE_S)).toBe(true); // the next tests' default
  });

  it("stops at ip 0; names that are not a topic level are refused", () => {
    mqttUp();
    expect(sensorMqttTo(0, 0, 0)).toBe(0);
    // "offline" (QoS 0, retained) itself: the broker discards the will on a DISCONNECT.
    expect(fromSensor()).toBe(shown(pkt(0x31, mstr(STATUS) + "offline") + "\xe0\x00"));
    expect(setSensorName("a/b")).toBe(false);
    expect(setSensorName("a+")).toBe(false);
    expect(setSensorName("")).toBe(false);
    expect(setSensorName("abcdefghijklmnopqrstuvwx")).toBe(false); // 24 > NAME_MAX
    expect(setSensorName("abcdefghijklmnopqrstuvw")).toBe(true);
  });
});
