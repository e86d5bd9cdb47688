// A small MQTT 3.1.1 broker for the emulated network, written over a board's node:net-shaped API
// (board.net.createServer on port 1883), so it runs in virtual time and a run is reproducible by
// the simulator's seed. What clients need of a broker, no more: CONNECT with sessions kept per
// client id (a clean session starts one afresh; CONNACK says whether one was present, §3.2.2.2),
// PUBLISH in at QoS 0, 1 and 2 (§4.3.3 method B: a QoS 2 id remembered until PUBREL, so a re-sent
// PUBLISH is delivered once), SUBSCRIBE (filters with + and #, granted at most QoS 1),
// UNSUBSCRIBE, PINGREQ, retained messages (§3.3.1.3: kept per topic, an empty one clears it, sent
// to each new subscription with RETAIN set), the will (§3.1.2.5: published when the connection ends
// without a DISCONNECT, and after 1.5 keep-alives without a packet from the client, §3.1.2.10).
// Messages are forwarded to the connected subscribers at the lower of the two QoS (no
// retransmission, no queueing for clients away: tests do not need it). It records every PUBLISH
// received (`received`, DUPs and QoS 2 re-sends included) and every will it published (`wills`),
// and counts CONNECTs; `drop()` resets every connection, as a broker restart does (no wills then:
// the broker is the one going away).
import type { Board } from "../../board/board.ts";
import type { Socket } from "../../board/net.ts";

export interface MqttReceived {
  time: number; // virtual ms, when the broker had it whole
  clientId: string;
  topic: string;
  payload: Buffer;
  qos: number;
  dup: boolean;
  retain: boolean;
  /** Passed on to subscribers: false for a QoS 2 PUBLISH sent again before its PUBREL. */
  delivered: boolean;
}

export interface MqttWill {
  time: number; // virtual ms, when the broker published it
  clientId: string;
  topic: string;
  payload: Buffer;
  qos: number;
  retain: boolean;
}

interface Session {
  filters: Map<string, number>; // filter -> granted QoS
  /** QoS 2 ids between PUBREC and PUBREL (§4.3.3 method B). */
  pendingQ2: Set<number>;
  socket?: Socket;
  nextId: number;
}

/** Does topic match filter (§4.7: + one level, # the rest)? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return true;
    if (i >= t.length || (f[i] !== "+" && f[i] !== t[i])) return false;
  }
  return f.length === t.length;
}

function mqttString(b: Buffer, at: number): [string, number] {
  const n = b.readUInt16BE(at);
  return [b.subarray(at + 2, at + 2 + n).toString("utf8"), at + 2 + n];
}

/** A packet: first byte, remaining length (§2.2.3), body. */
export function mqttPacket(first: number, body: Buffer): Buffer {
  const len: number[] = [];
  let n = body.length;
  do {
    let b = n & 0x7f;
    n >>= 7;
    if (n) b |= 0x80;
    len.push(b);
  } while (n);
  return Buffer.concat([Buffer.from([first, ...len]), body]);
}

function publishPacket(topic: string, payload: Buffer, qos: number, id: number, retain = false): Buffer {
  const t = Buffer.from(topic, "utf8");
  const head = Buffer.alloc(2 + t.length + (qos ? 2 : 0));
  head.writeUInt16BE(t.length, 0);
  t.copy(head, 2);
  if (qos) head.writeUInt16BE(id, 2 + t.length);
  return mqttPacket(0x30 | (qos << 1) | (retain ? 1 : 0), Buffer.concat([head, payload]));
}

/** One client's connection: its will and keep-alive, from its CONNECT. */
interface Conn {
  clientId: string;
  will?: Omit<MqttWill, "time" | "clientId">;
  keepAliveMs: number;
  lastRx: number;
}

export class SimMqttBroker {
  readonly received: MqttReceived[] = [];
  readonly wills: MqttWill[] = [];
  /** Retained messages by topic. */
  readonly retained = new Map<string, { payload: Buffer; qos: number }>();
  private readonly conns = new Map<Socket, Conn>();
  readonly sockets: Socket[] = [];
  readonly sessions = new Map<string, Session>();
  connects = 0;
  private readonly board: Board;

  constructor(board: Board, port = 1883) {
    this.board = board;
    board.net.createServer((s) => this.serve(s)).listen(port);
  }

  /** Publish as the broker itself (QoS 0 or 1) to the subscribers of topic; how many it reached. */
  publish(topic: string, payload: string | Buffer, qos = 0): number {
    return this.forward(topic, Buffer.from(payload), qos);
  }

  /** Reset every connection (a broker restart; sessions are kept, as mosquitto persists them). */
  drop(): void {
    for (const c of this.conns.values()) c.will = undefined;
    for (const s of this.sockets) s.destroy();
  }

  private retain(topic: string, payload: Buffer, qos: number): void {
    if (payload.length === 0) this.retained.delete(topic);
    else this.retained.set(topic, { payload, qos });
  }

  /** The connection ended without a DISCONNECT: its will goes out (§3.1.2.5), once. */
  private lost(c: Conn): void {
    const w = c.will;
    c.will = undefined;
    if (!w) return;
    this.wills.push({ time: this.board.now(), clientId: c.clientId, ...w });
    if (w.retain) this.retain(w.topic, w.payload, w.qos);
    this.forward(w.topic, w.payload, Math.min(w.qos, 1));
  }

  private forward(topic: string, payload: Buffer, qos: number): number {
    let n = 0;
    for (const sess of this.sessions.values()) {
      if (!sess.socket || sess.socket.destroyed) continue;
      let granted = -1;
      for (const [f, q] of sess.filters) if (topicMatches(f, topic)) granted = Math.max(granted, q);
      if (granted < 0) continue;
      const q = Math.min(qos, granted);
      sess.nextId = sess.nextId >= 0xffff ? 1 : sess.nextId + 1;
      sess.socket.write(publishPacket(topic, payload, q, sess.nextId));
      n++;
    }
    return n;
  }

  private serve(s: Socket): void {
    this.sockets.push(s);
    let buf = Buffer.alloc(0);
    const c: Conn = { clientId: "", keepAliveMs: 0, lastRx: this.board.now() };
    s.on("error", () => {});
    this.conns.set(s, c);
    s.on("close", () => {
      this.conns.delete(s);
      this.lost(c);
    });
    // §3.1.2.10: nothing from the client within 1.5 keep-alives: close as for a network failure.
    s.on("timeout", () => {
      const left = c.lastRx + c.keepAliveMs * 1.5 - this.board.now();
      if (left > 0) s.setTimeout(left);
      else s.destroy();
    });
    s.on("data", (d: Buffer) => {
      c.lastRx = this.board.now();
      buf = Buffer.concat([buf, d]);
      for (;;) {
        let rem = 0;
        let i = 1;
        for (let shift = 0; i < buf.length && i <= 4; i++, shift += 7) {
          rem += (buf[i] & 0x7f) << shift;
          if (!(buf[i] & 0x80)) break;
        }
        if (i >= buf.length || buf.length < i + 1 + rem) return;
        const body = buf.subarray(i + 1, i + 1 + rem);
        if (buf[0] >> 4 === 1) {
          this.connect(s, body, c);
          if (c.keepAliveMs > 0) s.setTimeout(c.keepAliveMs * 1.5);
        } else if (buf[0] >> 4 === 14) {
          c.will = undefined; // §3.1.2.5: a DISCONNECT discards it
          s.end();
        } else this.packet(s, c.clientId, buf[0] >> 4, buf[0] & 15, body);
        buf = buf.subarray(i + 1 + rem);
      }
    });
  }

  private connect(s: Socket, body: Buffer, c: Conn): void {
    this.connects++;
    const [, at] = mqttString(body, 0);
    const flags = body[at + 1];
    const clean = (flags & 2) !== 0;
    c.keepAliveMs = body.readUInt16BE(at + 2) * 1000;
    const [id, willAt] = mqttString(body, at + 4);
    c.clientId = id;
    if (flags & 4) {
      const [topic, msgAt] = mqttString(body, willAt);
      const n = body.readUInt16BE(msgAt);
      c.will = { topic, payload: Buffer.from(body.subarray(msgAt + 2, msgAt + 2 + n)), qos: (flags >> 3) & 3, retain: (flags & 0x20) !== 0 };
    }
    let sess = this.sessions.get(id);
    const present = !clean && sess !== undefined;
    if (!present) sess = { filters: new Map(), pendingQ2: new Set(), nextId: 0 };
    sess!.socket = s;
    this.sessions.set(id, sess!);
    s.write(Buffer.from([0x20, 2, present ? 1 : 0, 0]));
  }

  private packet(s: Socket, clientId: string, type: number, flags: number, body: Buffer): void {
    const sess = this.sessions.get(clientId);
    if (!sess) return;
    const ack = (t: number, id: number) => s.write(Buffer.from([t, 2, id >> 8, id & 255]));
    if (type === 3) {
      const qos = (flags >> 1) & 3;
      const [topic, at] = mqttString(body, 0);
      const id = qos ? body.readUInt16BE(at) : 0;
      const payload = Buffer.from(body.subarray(at + (qos ? 2 : 0)));
      const delivered = qos < 2 || !sess.pendingQ2.has(id);
      this.received.push({ time: this.board.now(), clientId, topic, payload, qos, dup: (flags & 8) !== 0, retain: (flags & 1) !== 0, delivered });
      if (qos === 2) sess.pendingQ2.add(id);
      if (delivered && flags & 1) this.retain(topic, payload, qos);
      if (delivered) this.forward(topic, payload, Math.min(qos, 1));
      if (qos === 1) ack(0x40, id);
      else if (qos === 2) ack(0x50, id);
    } else if (type === 6) {
      const id = body.readUInt16BE(0);
      sess.pendingQ2.delete(id);
      ack(0x70, id);
    } else if (type === 8) {
      const id = body.readUInt16BE(0);
      const codes: number[] = [];
      const added: [string, number][] = [];
      for (let at = 2; at < body.length; ) {
        const [f, next] = mqttString(body, at);
        const q = Math.min(body[next], 1);
        sess.filters.set(f, q);
        codes.push(q);
        added.push([f, q]);
        at = next + 1;
      }
      s.write(mqttPacket(0x90, Buffer.from([id >> 8, id & 255, ...codes])));
      // The retained messages the new filters match, RETAIN set (§3.3.1.3).
      for (const [topic, r] of this.retained) {
        let q = -1;
        for (const [f, g] of added) if (topicMatches(f, topic)) q = Math.max(q, g);
        if (q < 0) continue;
        sess.nextId = sess.nextId >= 0xffff ? 1 : sess.nextId + 1;
        s.write(publishPacket(topic, r.payload, Math.min(q, r.qos), sess.nextId, true));
      }
    } else if (type === 10) {
      const id = body.readUInt16BE(0);
      for (let at = 2; at < body.length; ) {
        const [f, next] = mqttString(body, at);
        sess.filters.delete(f);
        at = next;
      }
      ack(0xb0, id);
    } else if (type === 12) {
      s.write(Buffer.from([0xd0, 0]));
    }
  }
}
