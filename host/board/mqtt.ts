// An MQTT client shaped like mqtt.js, over a Board's MQTT exports (boards/include/wasmip.h, "MQTT";
// an image built with --use WASMIP_MQTT=1, build/mqtt.wasm):
//
//   const client = board.mqtt.connect({ host: "10.0.0.1", clientId: "dev1", keepalive: 30 });
//   client.on("connect", () => client.subscribe("cmd/#", { qos: 1 }));
//   client.on("message", (topic, payload, packet) => ...);
//   client.publish("sensors/dev1", "21.5", { qos: 1 }, (err) => ...);
//
// The protocol runs inside the board (its TCP connection, keep-alive, in-flight window,
// retransmission and reconnect with backoff); this layer turns its events and its waiting
// message into EventEmitter events after every input()/poll() (Board's pump). Subscriptions are
// made again after a reconnect without a session (mqtt.js's resubscribe). One client per board.
import { EventEmitter } from "node:events";
import { ipToU32 } from "./address.ts";
import { codedError, WasmipError } from "./errors.ts";
import { netActivity, type LayerHost } from "./pump.ts";

/** The MQTT exports, typed. */
export interface MqttExports {
  memory: WebAssembly.Memory;
  io_buffer(): number;
  io_buffer_size(): number;
  mqtt_connect(ip: number, port: number, cfg: number, len: number): number;
  mqtt_publish(topic: number, tl: number, payload: number, pl: number, flags: number): number;
  mqtt_subscribe(filter: number, len: number, qos: number): number;
  mqtt_unsubscribe(filter: number, len: number): number;
  mqtt_disconnect(): number;
  mqtt_state(): number;
  mqtt_connack(): number;
  mqtt_inflight(): number;
  mqtt_event(out: number): number;
  mqtt_message(out: number): number;
  mqtt_message_done(): number;
}

const EV_CONNECTED = 1;
const EV_CLOSED = 2;
const EV_PUBLISHED = 3;
const EV_SUBACK = 4;
const EV_UNSUBACK = 5;
const ECONNREFUSED = -5;
const ENOSYS = -15;

/** CONNACK return codes (§3.2.2.3), as mqtt.js words them. */
const CONNACK_TEXT: Record<number, string> = {
  1: "Connection refused: Unacceptable protocol version",
  2: "Connection refused: Identifier rejected",
  3: "Connection refused: Server unavailable",
  4: "Connection refused: Bad username or password",
  5: "Connection refused: Not authorized",
};

export type QoS = 0 | 1 | 2;

export interface MqttConnectOptions {
  /** The broker's IPv4 address, or a name the board resolves (its DNS). */
  host: string;
  port?: number;
  clientId?: string;
  /** Seconds; 0 disables (default 60). */
  keepalive?: number;
  /** Clean session (default true). */
  clean?: boolean;
  will?: { topic: string; payload: string | Buffer; qos?: QoS; retain?: boolean };
  username?: string;
  password?: string | Buffer;
  /** Subscribe again after a reconnect without a session (default true). */
  resubscribe?: boolean;
}

export interface MqttPacket {
  cmd: "publish";
  topic: string;
  payload: Buffer;
  qos: QoS;
  retain: boolean;
  dup: boolean;
}

type Callback = (err?: Error | null) => void;
type SubCallback = (err: Error | null, granted?: { topic: string; qos: number }[]) => void;

export class MqttClient extends EventEmitter {
  connected = false;
  private readonly ex: MqttExports;
  private readonly published = new Map<number, Callback | undefined>();
  private readonly subscribing = new Map<number, { topic: string; qos: number; cb?: SubCallback }>();
  private readonly unsubscribing = new Map<number, Callback | undefined>();
  /** topic -> qos: what a reconnect without a session subscribes again. */
  private readonly subscriptions = new Map<string, number>();
  private ended = false;

  constructor(
    private readonly board: LayerHost,
    private readonly opts: MqttConnectOptions,
  ) {
    super();
    this.ex = board.exports as unknown as MqttExports;
  }

  /** Start the board's client (Mqtt.connect does). */
  start(ip: number): void {
    const o = this.opts;
    const enc = (s: string | Buffer | undefined) => (s === undefined ? Buffer.alloc(0) : Buffer.isBuffer(s) ? s : Buffer.from(s));
    const id = enc(o.clientId ?? `wasmip_${Math.random().toString(16).slice(2, 10)}`);
    const wt = enc(o.will?.topic);
    const wp = enc(o.will?.payload);
    const user = enc(o.username);
    const pass = enc(o.password);
    let flags = o.clean === false ? 0 : 1;
    if (o.will) flags |= 2 | ((o.will.qos ?? 0) << 2) | (o.will.retain ? 16 : 0);
    if (o.username !== undefined) flags |= 32;
    if (o.password !== undefined) flags |= 64;
    const head = Buffer.alloc(28);
    [o.keepalive ?? 60, flags, id.length, wt.length, wp.length, user.length, pass.length].forEach((v, i) => head.writeUInt32LE(v, i * 4));
    const cfg = Buffer.concat([head, id, wt, wp, user, pass]);
    const r = this.ex.mqtt_connect(ip, this.opts.port ?? 1883, this.put(cfg), cfg.length);
    this.board.kick();
    if (r < 0) throw new WasmipError(r, "mqtt_connect");
  }

  /** Bytes into the board's io buffer (at offset), returning their address. */
  private put(b: Buffer, offset = 0): number {
    if (offset + b.length > this.ex.io_buffer_size()) throw codedError("ERR_OUT_OF_RANGE", new RangeError(`mqtt: ${b.length} bytes do not fit the board's io buffer`));
    const ptr = this.ex.io_buffer() + offset;
    new Uint8Array(this.ex.memory.buffer, ptr, b.length).set(b);
    return ptr;
  }

  publish(topic: string, payload: string | Buffer, opts: { qos?: QoS; retain?: boolean } | Callback = {}, cb?: Callback): this {
    if (typeof opts === "function") [cb, opts] = [opts, {}];
    const t = Buffer.from(topic);
    const p = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
    const qos = opts.qos ?? 0;
    const r = this.ex.mqtt_publish(this.put(t), t.length, this.put(p, t.length), p.length, qos | (opts.retain ? 4 : 0));
    this.board.kick();
    if (r < 0) this.fail(new WasmipError(r, `publish ${topic}`), cb);
    else if (r === 0) queueMicrotask(() => cb?.(null));
    else this.published.set(r, cb);
    return this;
  }

  subscribe(topic: string, opts: { qos?: QoS } | SubCallback = {}, cb?: SubCallback): this {
    if (typeof opts === "function") [cb, opts] = [opts, {}];
    const qos = opts.qos ?? 0;
    this.subscriptions.set(topic, qos);
    this.sendSubscribe(topic, qos, cb);
    return this;
  }

  private sendSubscribe(topic: string, qos: number, cb?: SubCallback): void {
    const t = Buffer.from(topic);
    const r = this.ex.mqtt_subscribe(this.put(t), t.length, qos);
    this.board.kick();
    if (r < 0) this.fail(new WasmipError(r, `subscribe ${topic}`), cb ? (e) => cb(e ?? null) : undefined);
    else this.subscribing.set(r, { topic, qos, cb });
  }

  unsubscribe(topic: string, cb?: Callback): this {
    this.subscriptions.delete(topic);
    const t = Buffer.from(topic);
    const r = this.ex.mqtt_unsubscribe(this.put(t), t.length);
    this.board.kick();
    if (r < 0) this.fail(new WasmipError(r, `unsubscribe ${topic}`), cb);
    else this.unsubscribing.set(r, cb);
    return this;
  }

  /** DISCONNECT and stop (no reconnect); 'end' follows. */
  end(cb?: () => void): this {
    if (!this.ended) {
      this.ended = true;
      this.ex.mqtt_disconnect();
      this.board.kick();
    }
    if (cb) queueMicrotask(cb);
    return this;
  }

  /** QoS 1/2 messages the board holds until acknowledged. */
  get inflight(): number {
    return this.ex.mqtt_inflight();
  }

  private fail(err: Error, cb?: Callback): void {
    queueMicrotask(() => (cb ? cb(err) : this.emit("error", err)));
  }

  /** After every input()/poll(): the board's events and waiting messages as events. */
  pump(): boolean {
    const ex = this.ex;
    const out = ex.io_buffer();
    let did = false;
    for (;;) {
      if (ex.mqtt_event(out)) {
        const [type, id, code] = [...new Int32Array(ex.memory.buffer, out, 3)];
        this.event(type, id, code);
        did = true;
        continue;
      }
      if (ex.mqtt_message(out)) {
        const [tp, tl, pp, pl, flags] = [...new Uint32Array(ex.memory.buffer, out, 5)];
        const mem = Buffer.from(ex.memory.buffer);
        const topic = mem.toString("utf8", tp, tp + tl);
        const payload = Buffer.from(mem.subarray(pp, pp + pl));
        ex.mqtt_message_done();
        const packet: MqttPacket = { cmd: "publish", topic, payload, qos: (flags & 3) as QoS, retain: (flags & 4) !== 0, dup: (flags & 8) !== 0 };
        this.emit("message", topic, payload, packet);
        did = true;
        continue;
      }
      break;
    }
    if (did) netActivity.pending = true;
    return did;
  }

  private event(type: number, id: number, code: number): void {
    if (type === EV_CONNECTED) {
      this.connected = true;
      const sessionPresent = code === 1;
      if (!sessionPresent && this.opts.resubscribe !== false) {
        for (const [topic, qos] of this.subscriptions) this.sendSubscribe(topic, qos);
      }
      this.emit("connect", { cmd: "connack", returnCode: 0, sessionPresent });
    } else if (type === EV_CLOSED) {
      const was = this.connected;
      this.connected = false;
      if (code === ECONNREFUSED && this.ex.mqtt_connack()) {
        const rc = this.ex.mqtt_connack();
        this.emit("error", Object.assign(new Error(CONNACK_TEXT[rc] ?? `Connection refused: ${rc}`), { code: rc }));
      }
      if (was || code === 0) this.emit("close");
      if (code === 0 || this.ex.mqtt_state() < 0) this.emit("end");
      else if (!was) this.emit("offline");
      else this.emit("reconnect");
    } else if (type === EV_PUBLISHED) {
      const cb = this.published.get(id);
      this.published.delete(id);
      cb?.(null);
    } else if (type === EV_SUBACK) {
      const s = this.subscribing.get(id);
      this.subscribing.delete(id);
      // As mqtt.js: a refused subscription is granted QoS 128 (0x80), not an error.
      s?.cb?.(null, [{ topic: s.topic, qos: code }]);
    } else if (type === EV_UNSUBACK) {
      const cb = this.unsubscribing.get(id);
      this.unsubscribing.delete(id);
      cb?.(null);
    }
  }
}

export class Mqtt {
  private client?: MqttClient;

  constructor(private readonly board: LayerHost) {
    const ex = board.exports as unknown as MqttExports;
    if (typeof ex.mqtt_connect !== "function" || ex.mqtt_state() === ENOSYS) {
      throw codedError("ENOSYS", new Error(`${board.name}: this firmware has no MQTT client (build it with --use WASMIP_MQTT=1: build/mqtt.wasm)`));
    }
  }

  /** Like mqtt.connect: the client, connecting. Errors come as 'error' events. */
  connect(opts: MqttConnectOptions): MqttClient {
    const c = new MqttClient(this.board, opts);
    this.client = c;
    const go = (ip: string) => {
      try {
        c.start(ipToU32(ip));
      } catch (e) {
        queueMicrotask(() => c.emit("error", e));
      }
    };
    if (/^\d+\.\d+\.\d+\.\d+$/.test(opts.host)) go(opts.host);
    else this.board.lookup4(opts.host).then(go, (e: Error) => c.emit("error", e));
    return c;
  }

  /** Called by Board after input()/poll(). */
  pump(): boolean {
    return this.client?.pump() ?? false;
  }
}
