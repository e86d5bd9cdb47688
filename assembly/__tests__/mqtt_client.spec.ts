// The MQTT client against a scripted broker (a TcpPeer on 10.0.0.2:1883): the bytes of every packet
// both ways, QoS 1 and 2 flows, retransmission with DUP after a reconnect, keep-alive, malformed
// packets and full queues. The as-pect build has FEATURE_MQTT (as-pect.asconfig.json).
import { ACK, PSH, RST, FIN } from "../wire/tcp";
import { ANY, C, Peer, PEER_IP, TcpPeer, advance, ascii, clearSent, ctr, run, tcpUp } from "../testing";
import { ConnectFields, validFilter } from "../wire/mqtt";
import { ECONNREFUSED, ECONNRESET, EINVAL, EMSGSIZE, ENOBUFS, ENOTCONN, ETIMEDOUT } from "../support/errors";
import {
  MQTT_BACKOFF, MQTT_CONNECTED, MQTT_EV_CLOSED, MQTT_EV_CONNECTED, MQTT_EV_PUBLISHED, MQTT_EV_SUBACK, MQTT_WAIT_CONNACK,
  mqttConnack, mqttConnect, mqttDisconnect, mqttEvent, mqttInflight, mqttMessage, mqttMessageDone, mqttOnEvent, mqttOnMessage,
  mqttPublish, mqttState, mqttSubscribe, mqttUnsubscribe,
} from "../services/mqtt";
import { MQTT_INFLIGHT, MQTT_MSG_MAX, MQTT_RX_BUF } from "../config";

const PORT: u32 = 1883;
let broker: TcpPeer = new Peer().tcp(PORT, 0, 7000);
const fields = changetype<ConnectFields>(heap.alloc(offsetof<ConnectFields>()));
const buf = heap.alloc(2048);
let bufLen: u32 = 0;

function hexOf(p: usize, n: u32): string {
  let s = "";
  for (let i: u32 = 0; i < n; i++) {
    const b = <u32>load<u8>(p + i);
    s += (i ? " " : "") + (b < 16 ? "0" : "") + b.toString(16);
  }
  return s;
}

/** "10 02 ..." into buf. */
function parseHex(hex: string): usize {
  bufLen = 0;
  for (let i = 0; i + 1 < hex.length; i += 3) store<u8>(buf + bufLen++, <u8>I32.parseInt(hex.substr(i, 2), 16));
  return buf;
}

function brokerSends(hex: string): void {
  const p = parseHex(hex);
  broker.sendBytes(ACK | PSH, p, bufLen);
}

/** Everything new the client sent the broker since the last call, as hex (and ACKed);
 *  retransmitted segments left out. */
function fromClient(): string {
  let s = "";
  let before = broker.rcv;
  while (broker.take()) {
    const g = broker.got;
    if (g.payloadLen && g.seq - broker.iss == before) s += (s.length ? " " : "") + hexOf(broker.gotPayload, g.payloadLen);
    before = broker.rcv;
  }
  broker.ack();
  return s;
}

// What the handlers saw.
let messages: string[] = [];
let evs: string[] = [];
function onMessage(topic: usize, tl: u32, payload: usize, pl: u32, flags: u32): void {
  messages.push(String.UTF8.decodeUnsafe(topic, tl) + "=" + String.UTF8.decodeUnsafe(payload, pl) + "/" + flags.toString());
}
function onEvent(ev: u32, id: u32, code: i32): void {
  evs.push(ev.toString() + ":" + id.toString() + ":" + code.toString());
}

function setFields(keepAlive: u32, clean: u32): void {
  memory.fill(changetype<usize>(fields), 0, offsetof<ConnectFields>());
  fields.keepAlive = keepAlive;
  fields.clean = clean;
}

/** A fresh stack and client; the broker accepts the TCP connection; returns the CONNECT's hex. */
function start(keepAlive: u32 = 0, clean: u32 = 1, handlers: bool = true): string {
  tcpUp();
  messages = [];
  evs = [];
  mqttOnMessage(handlers ? onMessage : null);
  mqttOnEvent(handlers ? onEvent : null);
  if (keepAlive != 0xffff) setFields(keepAlive, clean);
  expect(mqttConnect(PEER_IP, PORT, fields, ascii("dev"), 3)).toBe(0);
  broker = new Peer().tcp(PORT, 0, 7000);
  expect(broker.accept()).toBe("");
  expect(mqttState()).toBe(MQTT_WAIT_CONNACK);
  return fromClient();
}

function connected(keepAlive: u32 = 0, clean: u32 = 1, handlers: bool = true): void {
  start(keepAlive, clean, handlers);
  brokerSends("20 02 00 00");
  expect(mqttState()).toBe(MQTT_CONNECTED);
}

function publish(topic: string, payload: string, qos: u32, retain: bool = false): i32 {
  return mqttPublish(ascii(topic), <u32>topic.length, ascii(payload), <u32>payload.length, qos, retain);
}

/** The client reset the connection (among what it sent since). */
function sawRst(): bool {
  while (broker.take()) if (broker.got.flags & RST) return true;
  return false;
}

/** The broker's side ends (RST): the client is then backing off. */
function brokerResets(): void {
  broker.send(RST | ACK);
  run(0);
  expect(mqttState()).toBe(MQTT_BACKOFF);
}

describe("mqtt: connect", () => {
  test("CONNECT bytes: keep-alive, clean session, will (QoS 1, retained), user name and password", () => {
    setFields(10, 1);
    fields.willTopic = ascii("w");
    fields.willTopicLen = 1;
    fields.willPayload = ascii("bye");
    fields.willPayloadLen = 3;
    fields.willQos = 1;
    fields.willRetain = 1;
    fields.hasUsername = 1;
    fields.username = ascii("u");
    fields.usernameLen = 1;
    fields.hasPassword = 1;
    fields.password = ascii("p");
    fields.passwordLen = 1;
    const hex = start(0xffff);
    expect(hex).toBe("10 1d 00 04 4d 51 54 54 04 ee 00 0a 00 03 64 65 76 00 01 77 00 03 62 79 65 00 01 75 00 01 70");
    brokerSends("20 02 01 00"); // accepted, session present
    expect(mqttState()).toBe(MQTT_CONNECTED);
    expect(evs.join(",")).toBe("1:0:1");
  });

  test("minimal CONNECT; invalid fields refused before anything is sent", () => {
    expect(start(60, 1)).toBe("10 0f 00 04 4d 51 54 54 04 02 00 3c 00 03 64 65 76");
    expect(mqttConnect(PEER_IP, PORT, fields, ascii("dev"), 3)).toBe(EINVAL); // running already
    expect(mqttDisconnect()).toBe(0);
    setFields(0, 0);
    expect(mqttConnect(PEER_IP, PORT, fields, 0, 0)).toBe(EINVAL); // §3.1.3.1: empty id needs a clean session
    setFields(0, 1);
    fields.hasPassword = 1;
    expect(mqttConnect(PEER_IP, PORT, fields, ascii("x"), 1)).toBe(EINVAL); // §3.1.2.9
    setFields(0, 1);
    expect(mqttConnect(PEER_IP, PORT, fields, buf, 300)).toBe(EMSGSIZE);
  });

  test("CONNACK refused: bad credentials stop the client; server unavailable retries with backoff", () => {
    start();
    brokerSends("20 02 00 04");
    expect(mqttState()).toBe(ECONNREFUSED);
    expect(mqttConnack()).toBe(4);
    expect(evs.join(",")).toBe("2:0:" + ECONNREFUSED.toString());
    start();
    brokerSends("20 02 00 03");
    expect(mqttState()).toBe(MQTT_BACKOFF);
    expect(mqttConnack()).toBe(3);
  });

  test("no CONNACK within the connect timeout: the attempt fails and is retried", () => {
    start();
    run(10_000);
    expect(evs[0]).toBe("2:0:" + ETIMEDOUT.toString());
    clearSent();
    const retry = new Peer().tcp(PORT, 0, 9000);
    run(2_000); // the first backoff is 1 to 1.25 s
    expect(retry.expect(0x02, 0, ANY, 0)).toBe(""); // a new SYN
  });
});

describe("mqtt: QoS flows", () => {
  test("QoS 0 out and in; the handler gets topic, payload and flags", () => {
    connected();
    expect(publish("t/a", "hi", 0, true)).toBe(0);
    expect(fromClient()).toBe("31 07 00 03 74 2f 61 68 69");
    brokerSends("30 07 00 03 74 2f 62 79 6f");
    expect(messages.join(",")).toBe("t/b=yo/0");
    expect(fromClient()).toBe(""); // nothing to acknowledge
  });

  test("QoS 1 out: PUBLISH with an id, kept until PUBACK", () => {
    connected();
    expect(publish("t/a", "hi", 1)).toBe(1);
    expect(fromClient()).toBe("32 09 00 03 74 2f 61 00 01 68 69");
    expect(mqttInflight()).toBe(1);
    brokerSends("40 02 00 01");
    expect(mqttInflight()).toBe(0);
    expect(evs.join(",")).toBe("1:0:0,3:1:0");
    brokerSends("40 02 00 01"); // again: unknown id
    expect(ctr(C.MQTT_UNEXPECTED)).toBe(1);
    expect(mqttState()).toBe(MQTT_CONNECTED);
  });

  test("QoS 1 in: delivered, PUBACK", () => {
    connected();
    brokerSends("32 08 00 01 78 12 34 6f 6b 21");
    expect(messages.join(",")).toBe("x=ok!/1");
    expect(fromClient()).toBe("40 02 12 34");
  });

  test("QoS 2 out (§4.3.3): PUBLISH, PUBREC -> PUBREL, PUBCOMP completes", () => {
    connected();
    expect(publish("q", "2", 2)).toBe(1);
    expect(fromClient()).toBe("34 06 00 01 71 00 01 32");
    brokerSends("50 02 00 01");
    expect(fromClient()).toBe("62 02 00 01");
    brokerSends("50 02 00 01"); // a PUBREC again: PUBREL again
    expect(fromClient()).toBe("62 02 00 01");
    expect(mqttInflight()).toBe(1);
    brokerSends("70 02 00 01");
    expect(mqttInflight()).toBe(0);
    expect(evs.join(",")).toBe("1:0:0,3:1:0");
  });

  test("QoS 2 in (§4.3.3 method B): delivered once, PUBREC; a DUP re-send is not delivered again; PUBREL -> PUBCOMP", () => {
    connected();
    brokerSends("34 07 00 01 78 00 05 6f 6e");
    expect(fromClient()).toBe("50 02 00 05");
    brokerSends("3c 07 00 01 78 00 05 6f 6e"); // DUP
    expect(fromClient()).toBe("50 02 00 05");
    expect(messages.join(",")).toBe("x=on/2");
    brokerSends("62 02 00 05");
    expect(fromClient()).toBe("70 02 00 05");
    brokerSends("34 07 00 01 78 00 05 6f 6e"); // the id is free again: a new message
    expect(messages.length).toBe(2);
  });

  test("without a message handler the PUBLISH waits in the buffer for the board, nothing more is read", () => {
    connected(0, 1, false);
    brokerSends("30 05 00 01 61 31 32 30 05 00 01 62 33 34");
    const out = heap.alloc(20);
    expect(mqttMessage(out)).toBe(1);
    expect(String.UTF8.decodeUnsafe(load<u32>(out), load<u32>(out, 4))).toBe("a");
    expect(String.UTF8.decodeUnsafe(load<u32>(out, 8), load<u32>(out, 12))).toBe("12");
    expect(mqttMessageDone()).toBe(0);
    expect(mqttMessage(out)).toBe(1);
    expect(String.UTF8.decodeUnsafe(load<u32>(out), load<u32>(out, 4))).toBe("b");
    expect(mqttMessageDone()).toBe(0);
    expect(mqttMessage(out)).toBe(0);
    // The events queued too.
    expect(mqttEvent(out)).toBe(1);
    expect(load<u32>(out)).toBe(MQTT_EV_CONNECTED);
    expect(mqttEvent(out)).toBe(0);
  });

  test("SUBSCRIBE / UNSUBSCRIBE bytes; SUBACK 0x80 reported", () => {
    connected();
    expect(mqttSubscribe(ascii("a/+/c"), 5, 1)).toBe(1);
    expect(fromClient()).toBe("82 0a 00 01 00 05 61 2f 2b 2f 63 01");
    brokerSends("90 03 00 01 80");
    expect(evs[1]).toBe(MQTT_EV_SUBACK.toString() + ":1:128");
    expect(mqttUnsubscribe(ascii("a/#"), 3)).toBe(2);
    expect(fromClient()).toBe("a2 07 00 02 00 03 61 2f 23");
    brokerSends("b0 02 00 02");
    expect(evs[2]).toBe("5:2:0");
    expect(mqttSubscribe(ascii("a/b#"), 4, 0)).toBe(EINVAL); // §4.7.1.2
    expect(validFilter(ascii("#"), 1)).toBe(true);
    expect(validFilter(ascii("a+"), 2)).toBe(false);
  });
});

describe("mqtt: reconnect", () => {
  test("after the broker goes away: backoff, reconnect, PUBLISH again with DUP and PUBREL again (§4.4)", () => {
    connected(0, 0);
    expect(publish("a", "1", 1)).toBe(1);
    expect(fromClient()).toBe("32 06 00 01 61 00 01 31");
    expect(publish("b", "2", 2)).toBe(2);
    expect(fromClient()).toBe("34 06 00 01 62 00 02 32");
    expect(publish("c", "3", 2)).toBe(3);
    expect(fromClient()).toBe("34 06 00 01 63 00 03 33");
    brokerSends("50 02 00 02"); // b received: PUBREL
    expect(fromClient()).toBe("62 02 00 02");
    brokerResets();
    expect(evs[1]).toBe("2:0:" + ECONNRESET.toString());
    // Published while disconnected: queued behind the others.
    expect(publish("d", "4", 1)).toBe(4);
    expect(publish("e", "5", 0)).toBe(ENOTCONN);
    clearSent();
    const again = new Peer().tcp(PORT, 0, 9000);
    run(1300);
    broker = again;
    expect(broker.accept()).toBe("");
    expect(fromClient()).toBe("10 0f 00 04 4d 51 54 54 04 00 00 00 00 03 64 65 76");
    brokerSends("20 02 01 00");
    // In the order they were published: a (DUP), b's PUBREL, c (DUP), then d for the first time.
    expect(fromClient()).toBe("3a 06 00 01 61 00 01 31 62 02 00 02 3c 06 00 01 63 00 03 33 32 06 00 01 64 00 04 34");
    expect(ctr(C.MQTT_RETRANSMITS)).toBe(3);
    brokerSends("40 02 00 01 70 02 00 02 50 02 00 03 40 02 00 04");
    expect(fromClient()).toBe("62 02 00 03");
    brokerSends("70 02 00 03");
    expect(mqttInflight()).toBe(0);
  });

  test("backoff doubles while the broker refuses the TCP connection", () => {
    start();
    brokerResets();
    let synAt: u32[] = [];
    for (let k = 0; k < 3; k++) {
      clearSent();
      const p = new Peer().tcp(PORT, 0, 100 + <u32>k);
      let t: u32 = 0;
      while (t < 20_000 && p.expect(0x02, 0, ANY, 0) != "") {
        advance(50);
        t += 50;
      }
      synAt.push(t);
      p.send(RST | ACK, "");
      run(0);
    }
    expect(synAt[0]).toBeGreaterThanOrEqual(1000);
    expect(synAt[0]).toBeLessThanOrEqual(1300);
    expect(synAt[1]).toBeGreaterThanOrEqual(2000);
    expect(synAt[2]).toBeGreaterThanOrEqual(4000);
  });
});

describe("mqtt: keep-alive (§3.1.2.10)", () => {
  test("PINGREQ after a keep-alive without sending; PINGRESP keeps the connection; none within the keep-alive drops it", () => {
    connected(10);
    run(9_900);
    expect(fromClient()).toBe("");
    run(200);
    expect(fromClient()).toBe("c0 00");
    brokerSends("d0 00");
    run(9_700);
    expect(fromClient()).toBe("");
    run(400);
    expect(fromClient()).toBe("c0 00");
    run(9_700);
    expect(mqttState()).toBe(MQTT_CONNECTED);
    run(400);
    expect(ctr(C.MQTT_PING_TIMEOUTS)).toBe(1);
    expect(mqttState()).toBe(MQTT_BACKOFF);
    expect(evs[1]).toBe("2:0:" + ETIMEDOUT.toString());
  });
});

function closes(hex: string, c: C): void {
  connected();
  const before = ctr(c);
  brokerSends(hex);
  expect(ctr(c)).toBe(before + 1);
  expect(mqttState()).toBe(MQTT_BACKOFF);
  expect(sawRst()).toBe(true);
}

describe("mqtt: malformed packets are counted and close the connection", () => {
  test("a remaining length of five bytes (§2.2.3)", () => {
    closes("30 ff ff ff ff 01", C.MQTT_MALFORMED);
  });
  test("wrong fixed-header flags (§2.2.2): PUBACK with flags, PUBLISH at QoS 3, PUBREL without 0x2", () => {
    closes("42 02 00 01", C.MQTT_MALFORMED);
    closes("36 05 00 01 61 00 01", C.MQTT_MALFORMED);
    closes("60 02 00 01", C.MQTT_MALFORMED);
  });
  test("truncated: a topic longer than the packet, a CONNACK of 3 bytes, a packet id 0", () => {
    closes("30 03 00 05 61", C.MQTT_MALFORMED);
    closes("20 03 00 00 00", C.MQTT_MALFORMED);
    closes("40 02 00 00", C.MQTT_MALFORMED);
  });
  test("a type servers never send, and a PUBLISH before CONNACK", () => {
    closes("c0 00", C.MQTT_UNEXPECTED);
    start();
    brokerSends("30 04 00 01 61 62");
    expect(ctr(C.MQTT_UNEXPECTED)).toBe(1);
    expect(mqttState()).toBe(MQTT_BACKOFF);
  });
  test("a PUBLISH longer than the receive buffer is acknowledged and dropped, the connection kept", () => {
    connected();
    const n = MQTT_RX_BUF + 100;
    const rem = 2 + 1 + 2 + n;
    const p = parseHex("32 00 00 00 01 61 00 09");
    store<u8>(p + 1, <u8>((rem & 0x7f) | 0x80)); // a 2-byte remaining length
    store<u8>(p + 2, <u8>(rem >> 7));
    let len: u32 = 8;
    memory.fill(p + len, 0x7a, n);
    len += n;
    for (let off: u32 = 0; off < len; off += 400) broker.sendBytes(ACK | PSH, p + off, len - off < 400 ? len - off : 400);
    expect(ctr(C.MQTT_TOO_LONG)).toBe(1);
    expect(fromClient()).toBe("40 02 00 09");
    expect(messages.length).toBe(0);
    brokerSends("30 04 00 01 61 62"); // the next packet is read as usual
    expect(messages.join(",")).toBe("a=b/0");
  });
});

describe("mqtt: bounds", () => {
  test("queue full: ENOBUFS once MQTT_INFLIGHT QoS 1/2 messages wait; EMSGSIZE; EINVAL", () => {
    connected();
    for (let i = 0; i < MQTT_INFLIGHT; i++) expect(publish("t", "x", 1)).toBeGreaterThan(0);
    expect(publish("t", "x", 1)).toBe(ENOBUFS);
    expect(publish("t", "x", 0)).toBe(0); // QoS 0 does not wait
    const big = heap.alloc(MQTT_MSG_MAX);
    expect(mqttPublish(ascii("t"), 1, big, MQTT_MSG_MAX - 4, 0, false)).toBe(EMSGSIZE);
    expect(mqttPublish(ascii("t"), 1, big, MQTT_MSG_MAX - 6, 2, false)).toBe(EMSGSIZE);
    expect(publish("t/#", "x", 0)).toBe(EINVAL);
    expect(publish("", "x", 0)).toBe(EINVAL);
    expect(publish("t", "x", 3)).toBe(EINVAL);
    brokerSends("40 02 00 01");
    expect(publish("t", "x", 1)).toBeGreaterThan(0); // a slot is free again
  });

  test("the event queue keeps the newest and counts what it lost", () => {
    connected(0, 1, false);
    for (let i = 0; i < 12; i++) mqttSubscribe(ascii("s"), 1, 0);
    let hex = "";
    for (let i = 1; i <= 12; i++) hex += (i > 1 ? " " : "") + "90 03 00 " + (i < 16 ? "0" : "") + i.toString(16) + " 00";
    brokerSends(hex);
    expect(ctr(C.MQTT_EVENTS_LOST)).toBe(5); // 13 events (CONNECTED + 12 SUBACKs) into 8
    const out = heap.alloc(12);
    expect(mqttEvent(out)).toBe(1);
    expect(load<u32>(out, 4)).toBe(5);
  });

  test("disconnect sends DISCONNECT and stops; publish is then ENOTCONN", () => {
    connected();
    expect(mqttDisconnect()).toBe(0);
    expect(fromClient()).toBe("e0 00");
    expect(mqttState()).toBe(0);
    expect(publish("t", "x", 1)).toBe(ENOTCONN);
    expect(evs[1]).toBe("2:0:0");
  });
});

// ---- random input from the broker ------------------------------------------------------------
let rng: u32 = 1;
function rand(): u32 {
  rng ^= rng << 13;
  rng ^= rng >> 17;
  rng ^= rng << 5;
  return rng;
}
const VALID: string[] = [
  "30 05 00 01 61 31 32", "32 07 00 01 61 00 05 31 32", "34 07 00 01 61 00 06 31 32", "40 02 00 01", "50 02 00 02",
  "62 02 00 03", "70 02 00 01", "90 03 00 01 00", "b0 02 00 01", "d0 00", "20 02 00 00",
];

describe("mqtt: random input from the broker", () => {
  test("valid packets mutated and random bytes: no trap, the client connected or reconnecting, counted", () => {
    for (let seed: u32 = 1; seed <= 150; seed++) {
      rng = seed * 2654435761;
      connected();
      publish("t", "x", 1);
      publish("t", "y", 2);
      const msg = "seed " + seed.toString();
      for (let k = 0; k < 6 && mqttState() == MQTT_CONNECTED; k++) {
        const p = parseHex(VALID[rand() % <u32>VALID.length]);
        const flips = rand() % 3;
        for (let f: u32 = 0; f < flips; f++) store<u8>(p + rand() % bufLen, <u8>rand());
        if (rand() % 4 == 0) bufLen = rand() % (bufLen + 1); // cut short: the rest comes later, or never
        if (rand() % 5 == 0) for (let i: u32 = 0; i < 8; i++) store<u8>(p + bufLen++, <u8>rand());
        if (bufLen) broker.sendBytes(ACK | PSH, p, bufLen);
        run(rand() % 3000);
      }
      const st = mqttState();
      expect(st == MQTT_CONNECTED || st == MQTT_BACKOFF || st == MQTT_WAIT_CONNACK || st == 1).toBe(true, msg);
      expect(mqttInflight()).toBeLessThanOrEqual(<u32>MQTT_INFLIGHT, msg);
      if (st == MQTT_BACKOFF) expect(ctr(C.MQTT_MALFORMED) + ctr(C.MQTT_UNEXPECTED) + ctr(C.MQTT_TOO_LONG) + ctr(C.MQTT_PING_TIMEOUTS) + ctr(C.TCP_RESETS_RECEIVED)).toBeGreaterThan(0, msg);
    }
  });
});
