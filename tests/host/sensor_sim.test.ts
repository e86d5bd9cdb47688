// The example app's image (build/sensor.wasm, from examples/sensor) on the emulated network: it
// fits the pages of the bare stack's image, serves its readings to an HTTP client on another
// board and pushes them to a UDP collector there.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import path from "node:path";
import { Simulator } from "../../host/sim/sim.ts";
import { ipToU32 } from "../../host/board/address.ts";
import { ROOT, type Board } from "../../host/board/board.ts";

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
  await sim.runUntilAsync(sim.now + 9000);
  assert.ok(got.length >= 4, `pushes: ${JSON.stringify(got)}`);
  for (let i = 1; i < got.length; i++) assert.ok(got[i].seq > got[i - 1].seq, JSON.stringify(got));
  assert.equal(s.rxAccounted(), s.counters().rx_frames);
  assert.equal(s.memoryPages, s.pagesAtInit);
});
