// The example app's image (build/sensor.wasm, from examples/sensor) on the emulated network: it
// fits the pages of the bare stack's image, serves its readings to an HTTP client on another
// board and pushes them to a UDP collector there; and a fleet of sensors, booting by DHCP (whose
// lease names the DNS and NTP servers), publishes through lossy links to the simulator's broker
// (host/sim/services/mqttd.ts), found by name, with time from its NTP server (ntpd.ts), and takes
// commands from it. Seeded (SENSOR_SEED): a failure names its seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import path from "node:path";
import { Simulator } from "../../host/sim/sim.ts";
import { ipToU32 } from "../../host/board/address.ts";
import { ROOT, type Board } from "../../host/board/board.ts";
import { SimMqttBroker } from "../../host/sim/services/mqttd.ts";
import { SimNtpServer } from "../../host/sim/services/ntpd.ts";
import { SimDhcpServer } from "../../host/sim/services/dhcpd.ts";
import { SimDnsServer } from "../../host/sim/services/dnsd.ts";
import { dhcpStart, dhcpStatus } from "../../host/board/dhcp.ts";

const SENSOR = path.join(ROOT, "build", "sensor.wasm");

async function get(sim: Simulator, client: Board, target: string): Promise<{ status: string; body: string }> {
  const c = client.net.connect({ host: "10.0.0.5", port: 80 });
  const chunks: Buffer[] = [];
  c.on("data", (d: Buffer) => chunks.push(d));
  const closed = once(c, "close");
  c.end(`GET ${target} HTTP/1.1\r\nHost: sensor\r\n\r\n`);
  await sim.runUntilSettled(closed, { timeout: 10_000 });
  const text = Buffer.concat(chunks).toString("latin1");
  const at = text.indexOf("\r\n\r\n");
  assert.ok(at > 0, text);
  const len = Number(/Content-Length: (\d+)/.exec(text.slice(0, at))?.[1]);
  const body = text.slice(at + 4);
  assert.equal(body.length, len, "Content-Length");
  return { status: text.slice(9, text.indexOf("\r\n")), body };
}

test("sensor image: one image like the others, readings over HTTP, pushes over UDP", async () => {
  const sim = new Simulator({ seed: 5 });
  const s = sim.addBoard({ name: "S", wasm: SENSOR, mac: "02:00:00:00:00:05", ip: "10.0.0.5", prefix: 24 });
  const c = sim.addBoard({ name: "C", mac: "02:00:00:00:00:06", ip: "10.0.0.6", prefix: 24 });
  assert.equal(s.pagesAtInit, c.pagesAtInit, "the sensor fits the pages of the bare stack");
  await sim.runUntilAsync(sim.now + 3500);
  let r = await get(sim, c, "/readings");
  assert.equal(r.status, "200 OK");
  const j = JSON.parse(r.body) as { interval_ms: number; seq: number; readings: number[] };
  assert.equal(j.interval_ms, 1000);
  assert.ok(j.seq >= 3, `seq ${j.seq}`);
  assert.equal(j.readings.length, Math.min(8, j.seq + 1));
  for (const v of j.readings) assert.ok(v > 15000 && v < 25000, `reading ${v}`);
  r = await get(sim, c, "/");
  assert.match(r.body, /^temperature \d+\.\d{3} C, reading \d+\n$/);
  assert.equal((await get(sim, c, "/x")).status, "404 Not Found");
  // The collector on C.
  const got: { seq: number; mC: number }[] = [];
  const sock = c.dgram.createSocket("udp4", (m) => got.push(JSON.parse(m.toString())));
  sock.bind(9000);
  const push = s.exports.sensor_push_to as (ip: number, port: number, ms: number) => number;
  assert.equal(push(ipToU32("10.0.0.6"), 9000, 2000), 0);
  sim.poke(s);
  // Settings as text (app_config): refused ones say why; an image without settings says so.
  assert.throws(() => s.appConfig("colour=red"), { code: "EINVAL" });
  assert.throws(() => s.appConfig("interval_ms=10"), { code: "EINVAL" });
  assert.throws(() => c.appConfig("interval_ms=2000"), { code: "ENOSYS" });
  s.appConfig("interval_ms=2000");
  assert.equal((s.exports.sensor_mqtt_interval as () => number)(), 2000);
  await sim.runUntilAsync(sim.now + 9000);
  assert.ok(got.length >= 4, `pushes: ${JSON.stringify(got)}`);
  for (let i = 1; i < got.length; i++) assert.ok(got[i].seq > got[i - 1].seq, JSON.stringify(got));
  assert.equal(s.rxAccounted(), s.counters().rx_frames);
  assert.equal(s.memoryPages, s.pagesAtInit);
});

const SEED = Number(process.env.SENSOR_SEED ?? 23);

interface Reading {
  seq: number;
  mC: number;
  t: number | null;
}

test(`a fleet of 3 sensors over 5% loss each way (seed ${SEED}): DHCP, the broker by name, every QoS 1 reading reaches it, stamped by the sim's NTP clock; commands change the interval`, async () => {
  const why = (s: string) => `${s} (seed ${SEED})`;
  const sim = new Simulator({ seed: SEED });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:0b", ip: "10.0.0.3", prefix: 24 });
  const broker = new SimMqttBroker(b);
  const ntpd = new SimNtpServer(sim, { ip: "10.0.0.123", delay: 1, processingMs: 3 });
  new SimDnsServer(sim, { ip: "10.0.0.53", records: { "broker.lan": "10.0.0.3" } });
  new SimDhcpServer(sim, {
    ip: "10.0.0.1", prefix: 24, poolStart: "10.0.0.100", poolEnd: "10.0.0.199", dns: ["10.0.0.53"],
    extraOptions: [[42, Uint8Array.of(10, 0, 0, 123)]],
  });
  const fleet: Board[] = [];
  for (let i = 1; i <= 3; i++) {
    const s = sim.addBoard({ name: `S${i}`, wasm: SENSOR, mac: `02:00:00:00:01:0${i}`, link: { loss: 0.05 } });
    dhcpStart(s, `s${i}`);
    // Told the broker's name at once (its app_config, as --app-config on a native board): the
    // sensor asks DNS again until the lease brings a server.
    s.appConfig("broker=broker.lan");
    sim.poke(s);
    fleet.push(s);
  }
  const ex = (s: Board, name: string) => (s.exports[name] as () => number)() >>> 0;
  const names = fleet.map((_, i) => `sensor-00010${i + 1}`); // "sensor-" and the MAC's last three bytes
  // Up: leased (DHCP retries through the loss), subscribed, and on the NTP server's time (SNTP
  // backs off after a lost request: this may take a while).
  const up = () =>
    fleet.every((s, i) => dhcpStatus(s).state === "BOUND" && s.sntp.synced && broker.sessions.get(names[i])?.filters.has(`sensors/${names[i]}/cmd`));
  assert.ok(await sim.runUntilAsync(up, { timeout: 120_000 }), why("the fleet up: leased, synced, subscribed"));
  const syncedAt = sim.now;
  await sim.runUntilAsync(sim.now + 10_000);
  // Midway the broker restarts (every connection reset); the sensors reconnect to their sessions.
  broker.drop();
  await sim.runUntilAsync(sim.now + 10_000);
  // Commands: S1 every 3 s; S2 a bad one (rejected, counted); then everyone stops publishing, and
  // what is in flight completes.
  assert.equal(broker.publish(`sensors/${names[0]}/cmd`, "interval_ms=3000", 1), 1);
  assert.equal(broker.publish(`sensors/${names[1]}/cmd`, "interval_ms=fast", 1), 1);
  await sim.runUntilAsync(sim.now + 10_000);
  assert.equal(ex(fleet[0], "sensor_mqtt_interval"), 3000, why("S1 took its command"));
  assert.equal(ex(fleet[1], "sensor_commands_rejected"), 1, why("S2 rejected its command"));
  assert.equal(ex(fleet[1], "sensor_mqtt_interval"), 1000, why("S2 kept its interval"));
  for (const n of names) broker.publish(`sensors/${n}/cmd`, "interval_ms=86400000", 1);
  assert.ok(
    await sim.runUntilAsync(() => fleet.every((s) => ex(s, "sensor_mqtt_interval") === 86_400_000 && ex(s, "mqtt_inflight") === 0), { timeout: 120_000 }),
    why("the fleet went quiet with nothing in flight"),
  );
  const bySensor = new Map<string, Map<number, { r: Reading; time: number; copies: number }>>();
  const onlines = new Map<string, number>();
  for (const m of broker.received) {
    const [, st] = /^sensors\/([^/]+)\/status$/.exec(m.topic) ?? [];
    if (st) {
      assert.deepEqual([m.payload.toString(), m.qos, m.retain], ["online", 1, true], why(`${m.topic}: ${m.payload}`));
      onlines.set(st, (onlines.get(st) ?? 0) + 1);
      continue;
    }
    const [, n] = /^sensors\/([^/]+)$/.exec(m.topic) ?? [];
    assert.ok(n, why(`topic ${m.topic}`));
    assert.equal(m.qos, 1, why("QoS 1"));
    const r = JSON.parse(m.payload.toString()) as Reading;
    const seen = bySensor.get(n) ?? new Map();
    bySensor.set(n, seen);
    const had = seen.get(r.seq);
    if (had) {
      had.copies++;
      assert.deepEqual(had.r, r, why("a duplicate is the same reading"));
    } else seen.set(r.seq, { r, time: m.time, copies: 1 });
  }
  let duplicates = 0;
  let stamped = 0;
  for (const [i, s] of fleet.entries()) {
    const seen = bySensor.get(names[i]) ?? new Map();
    const published = ex(s, "sensor_mqtt_published");
    assert.equal(ex(s, "sensor_mqtt_acked"), published, why(`${names[i]}: every publish acknowledged`));
    assert.equal(seen.size, published, why(`${names[i]}: ${published} published, ${seen.size} distinct at the broker`));
    assert.ok(published >= 20, why(`${names[i]}: ${published} readings published`));
    let last = -Infinity;
    for (const { r, time, copies } of [...seen.values()].sort((a, b) => a.r.seq - b.r.seq)) {
      duplicates += copies - 1;
      if (r.t === null) {
        assert.ok(time < syncedAt + 30_000, why(`${names[i]} seq ${r.seq}: t null long after the sync`));
        continue;
      }
      stamped++;
      // Taken before the broker had it, by at most the reconnect backoff and retransmissions.
      const clock = ntpd.epochMs + time;
      assert.ok(r.t * 1000 <= clock + 1 && r.t * 1000 >= clock - 30_000, why(`${names[i]} seq ${r.seq}: t ${r.t}, broker's clock ${clock / 1000}`));
      assert.ok(r.t > last, why(`${names[i]}: t increases with seq`));
      last = r.t;
    }
    assert.equal(s.rxAccounted(), s.counters().rx_frames);
    assert.equal(s.memoryPages, s.pagesAtInit);
  }
  assert.ok(stamped >= 3 * 20, why(`${stamped} readings stamped by SNTP`));
  // "online" after each CONNACK (the first and the one after the restart at least), retained; the
  // restart published no will (the broker went, not the sensors).
  for (const n of names) {
    assert.ok((onlines.get(n) ?? 0) >= 2, why(`${n}: ${onlines.get(n)} "online"`));
    assert.equal(broker.retained.get(`sensors/${n}/status`)?.payload.toString(), "online", why(n));
  }
  assert.equal(broker.wills.length, 0, why("no will published"));
  console.log(`# seed ${SEED}: ${broker.received.length} PUBLISH at the broker, ${duplicates} duplicates, ${broker.connects} connects`);
});

test("the sensor's will: retained online after CONNACK; its cable pulled, offline from the broker 1.5 keep-alives after its last packet; a DISCONNECT of its own says offline without the will", async () => {
  const sim = new Simulator({ seed: 7 });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:0b", ip: "10.0.0.3", prefix: 24 });
  const broker = new SimMqttBroker(b);
  const s = sim.addBoard({ name: "S", wasm: SENSOR, mac: "02:00:00:00:00:05", ip: "10.0.0.5", prefix: 24 });
  const e = s.exports as Record<string, (...a: number[]) => number>;
  assert.equal(e.sensor_mqtt_keepalive(0), 0, "keep-alive 0 refused");
  assert.equal(e.sensor_mqtt_keepalive(2), 1);
  assert.equal(e.sensor_mqtt_to(ipToU32("10.0.0.3"), 0, 0), 0);
  sim.poke(s);
  const status = "sensors/sensor-000005/status";
  assert.ok(await sim.runUntilAsync(() => broker.retained.get(status)?.payload.toString() === "online", { timeout: 10_000 }), "online retained");
  await sim.runUntilAsync(sim.now + 5000); // readings flow; keep-alive 2 s
  assert.equal(broker.wills.length, 0);
  // The cable out: nothing more from the sensor (nor to it).
  sim.setLink(s, false);
  const cut = sim.now;
  assert.ok(await sim.runUntilAsync(() => broker.wills.length > 0, { timeout: 10_000 }), "the will published");
  const w = broker.wills[0];
  assert.deepEqual([w.clientId, w.topic, w.payload.toString(), w.qos, w.retain], ["sensor-000005", status, "offline", 1, true]);
  // §3.1.2.10: 1.5 x 2 s after the last packet, which came at most a second (a reading) before the cut.
  assert.ok(w.time - cut >= 2000 && w.time - cut <= 3000 + 50, `will at +${w.time - cut} ms after the cut`);
  assert.equal(broker.retained.get(status)?.payload.toString(), "offline");
  // Back: online again; then the sensor leaves on purpose: offline from itself, no second will.
  sim.setLink(s, true);
  assert.ok(await sim.runUntilAsync(() => broker.retained.get(status)?.payload.toString() === "online", { timeout: 30_000 }), "online again");
  assert.equal(e.sensor_mqtt_to(0, 0, 0), 0);
  sim.poke(s);
  await sim.runUntilAsync(sim.now + 5000);
  assert.equal(broker.retained.get(status)?.payload.toString(), "offline");
  const last = broker.received.at(-1)!;
  assert.deepEqual([last.topic, last.payload.toString(), last.qos, last.retain], [status, "offline", 0, true]);
  assert.equal(broker.wills.length, 1, "a DISCONNECT discards the will");
});
