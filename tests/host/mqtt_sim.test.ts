// The MQTT client in virtual time over a lossy link, reproducible by seed: board A (build/mqtt.wasm)
// publishes a stream of QoS 1 and QoS 2 messages to the simulator's broker (host/sim/services/
// mqttd.ts) on board B. Midway the broker drops the connection; the client reconnects with its
// session and sends again what was in flight.
// Every QoS 1 message arrives at least once, every QoS 2 message exactly once.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { Simulator } from "../../host/sim/sim.ts";
import { appWasm } from "../../host/board/board.ts";
import { SimMqttBroker } from "../../host/sim/services/mqttd.ts";

for (const seed of [3, 17]) {
  test(`mqtt in the simulator (seed ${seed}): 5% loss each way, the broker drops the connection midway; QoS 1 at least once, QoS 2 exactly once`, async () => {
    const wasm = appWasm("mqtt");
    const sim = new Simulator({ seed });
    const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:0a", ip: "10.0.0.2", prefix: 24, wasm, link: { loss: 0.05 } });
    const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:0b", ip: "10.0.0.3", prefix: 24 });
    const broker = new SimMqttBroker(b);
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
    const times = (m: string, qos: number) => broker.received.filter((r) => r.qos === qos && r.delivered && r.payload.toString() === m).length;
    for (let n = 0; n < N; n++) {
      const m = `m${n}`;
      if (n % 2) assert.equal(times(m, 2), 1, `seed ${seed}: QoS 2 ${m} delivered ${times(m, 2)} times`);
      else assert.ok(times(m, 1) >= 1, `seed ${seed}: QoS 1 ${m} lost`);
    }
    const c = a.counters();
    const dups = broker.received.filter((r) => r.dup).length;
    assert.ok(dups >= 1 && dups <= c.mqtt_retransmits, `seed ${seed}: retransmits ${c.mqtt_retransmits}, DUP seen ${dups}`);
    assert.equal(c.mqtt_malformed + c.mqtt_unexpected, 0);
  });
}
