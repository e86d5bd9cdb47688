// The MQTT client in virtual time over a lossy link, reproducible by seed: board A (build/mqtt.wasm)
// publishes a stream of QoS 1 and QoS 2 messages to a small broker written here over board B's
// node:net-shaped API (CONNECT, PUBLISH with §4.3.3 method B, PUBREL, PINGREQ). Midway the broker
// drops the connection; the client reconnects with its session and sends again what was in flight.
// Every QoS 1 message arrives at least once, every QoS 2 message exactly once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { Simulator } from "../../host/sim/sim.ts";
import { appWasm, type Board } from "../../host/board/board.ts";
import type { Socket } from "../../host/board/net.ts";

/** The broker's side of MQTT 3.1.1, enough for one persistent client. */
class Broker {
  readonly q1 = new Map<string, number>();
  readonly q2 = new Map<string, number>();
  /** QoS 2 ids between PUBREC and PUBREL: the session, kept across connections. */
  private readonly pendingQ2 = new Set<number>();
  readonly sockets: Socket[] = [];
  connects = 0;
  dups = 0;

  constructor(board: Board) {
    board.net.createServer((s) => this.serve(s)).listen(1883);
  }

  private serve(s: Socket): void {
    this.sockets.push(s);
    let buf = Buffer.alloc(0);
    s.on("error", () => {});
    s.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        let rem = 0;
        let i = 1;
        for (let shift = 0; i < buf.length && i <= 4; i++, shift += 7) {
          rem += (buf[i] & 0x7f) << shift;
          if (!(buf[i] & 0x80)) break;
        }
        if (i >= buf.length || buf.length < i + 1 + rem) return;
        this.packet(s, buf[0] >> 4, buf[0] & 15, buf.subarray(i + 1, i + 1 + rem));
        buf = buf.subarray(i + 1 + rem);
      }
    });
  }

  private packet(s: Socket, type: number, flags: number, body: Buffer): void {
    const ack = (t: number, id: number) => s.write(Buffer.from([t, 2, id >> 8, id & 255]));
    if (type === 1) {
      this.connects++;
      s.write(Buffer.from([0x20, 2, this.connects > 1 ? 1 : 0, 0]));
    } else if (type === 3) {
      const qos = (flags >> 1) & 3;
      const tl = body.readUInt16BE(0);
      const id = body.readUInt16BE(2 + tl);
      const payload = body.subarray(4 + tl).toString();
      if (flags & 8) this.dups++;
      if (qos === 1) {
        this.q1.set(payload, (this.q1.get(payload) ?? 0) + 1);
        ack(0x40, id);
      } else if (qos === 2) {
        if (!this.pendingQ2.has(id)) {
          this.pendingQ2.add(id);
          this.q2.set(payload, (this.q2.get(payload) ?? 0) + 1);
        }
        ack(0x50, id);
      }
    } else if (type === 6) {
      const id = body.readUInt16BE(0);
      this.pendingQ2.delete(id);
      ack(0x70, id);
    } else if (type === 12) {
      s.write(Buffer.from([0xd0, 0]));
    }
  }
}

for (const seed of [3, 17]) {
  test(`mqtt in the simulator (seed ${seed}): 5% loss each way, the broker drops the connection midway; QoS 1 at least once, QoS 2 exactly once`, async () => {
    const wasm = appWasm("mqtt");
    const sim = new Simulator({ seed });
    const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:0a", ip: "10.0.0.2", prefix: 24, wasm, link: { loss: 0.05 } });
    const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:0b", ip: "10.0.0.3", prefix: 24 });
    const broker = new Broker(b);
    const client = a.mqtt.connect({ host: "10.0.0.3", clientId: "a", keepalive: 10, clean: false });
    await sim.runUntilSettled(once(client, "connect"), { timeout: 30_000 });
    const N = 40;
    for (let n = 0; n < N; ) {
      if (client.inflight < 4) {
        client.publish("s", `m${n}`, { qos: n % 2 ? 2 : 1 });
        // Midway, with that message certainly in flight: the broker goes away (RST).
        if (++n === N / 2) broker.sockets[0].destroy();
      } else {
        await sim.runUntilAsync(sim.now + 20);
      }
    }
    const t0 = sim.now;
    while (client.inflight > 0 && sim.now - t0 < 120_000) await sim.runUntilAsync(sim.now + 100);
    assert.equal(client.inflight, 0, `seed ${seed}: ${client.inflight} messages never completed`);
    assert.equal(broker.connects, 2, `seed ${seed}: one reconnect`);
    for (let n = 0; n < N; n++) {
      const m = `m${n}`;
      if (n % 2) assert.equal(broker.q2.get(m), 1, `seed ${seed}: QoS 2 ${m} delivered ${broker.q2.get(m) ?? 0} times`);
      else assert.ok((broker.q1.get(m) ?? 0) >= 1, `seed ${seed}: QoS 1 ${m} lost`);
    }
    const c = a.counters();
    assert.ok(broker.dups >= 1 && broker.dups <= c.mqtt_retransmits, `seed ${seed}: retransmits ${c.mqtt_retransmits}, DUP seen ${broker.dups}`);
    assert.equal(c.mqtt_malformed + c.mqtt_unexpected, 0);
  });
}
