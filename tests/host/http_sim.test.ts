// The http firmware in the emulated PHY, where a behaviour depends on time.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { Simulator } from "../../host/sim/sim.ts";
import { appWasm } from "../../host/board/board.ts";

const DRAINING = 2;

test("http: after a Connection: close response the board drains for 5 s, then lets go of a peer that never closes", async () => {
  const sim = new Simulator({ seed: 11 });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24, link: { delay: 1 } });
  const h = sim.addBoard({ name: "H", mac: "02:00:00:00:00:02", ip: "10.0.0.2", prefix: 24, link: { delay: 1 }, wasm: appWasm("http") });
  const phase = (h.exports as unknown as { http_conn_phase(fd: number): number }).http_conn_phase;
  const s = a.net.connect({ host: "10.0.0.2", port: 80, allowHalfOpen: true }); // we never send our FIN
  await sim.runUntilSettled(once(s, "connect"));
  const chunks: Buffer[] = [];
  s.on("data", (d: Buffer) => chunks.push(d));
  let ended = false;
  s.on("end", () => (ended = true));
  s.write("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
  await sim.runUntilAsync(() => ended, { timeout: 2_000 });
  assert.match(Buffer.concat(chunks).toString(), /^HTTP\/1\.1 200 OK\r\n/);
  // The board sent its FIN; we keep our side open and say nothing.
  const fds = [0, 1, 2, 3, 4, 5, 6, 7].filter((fd) => phase(fd) === DRAINING);
  assert.equal(fds.length, 1, "one connection draining");
  const since = sim.now;
  await sim.runUntilAsync(since + 4_500);
  assert.equal(phase(fds[0]), DRAINING, "still draining before DRAIN_MS");
  await sim.runUntilAsync(since + 6_000);
  assert.equal(phase(fds[0]), 0, "released after DRAIN_MS");
});
