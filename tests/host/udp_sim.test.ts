// UDP in the emulated network: the udp-echo firmware, node:dgram-shaped sockets, port
// unreachable reported to the sender, broadcasts, and a lossy link that loses datagrams
// (UDP does not retransmit) without ever corrupting one.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import path from "node:path";
import { Simulator } from "../../host/sim/sim.ts";
import { ROOT } from "../../host/board/board.ts";
import type { RemoteInfo } from "../../host/board/dgram.ts";

const UDP_ECHO = path.join(ROOT, "build", "udp-echo.wasm");

function net(seed: number, loss = 0) {
  const sim = new Simulator({ seed });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24, link: { delay: 1, loss } });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", ip: "10.0.0.2", prefix: 24, link: { delay: 1 }, wasm: UDP_ECHO });
  return { sim, a, b };
}

test("udp: datagrams to the udp-echo firmware come back intact, with the sender's address", async () => {
  const { sim, a } = net(1);
  const s = a.dgram.createSocket("udp4");
  const got: [Buffer, RemoteInfo][] = [];
  s.on("message", (m: Buffer, r: RemoteInfo) => got.push([m, r]));
  s.bind(5000);
  // Until ARP resolves B, only ARP_PENDING_PER_NEIGHBOUR datagrams are held: resolve it first.
  a.ping("10.0.0.2", 1);
  await sim.runUntilAsync(sim.now + 100);
  for (let i = 0; i < 20; i++) s.send(Buffer.alloc(1 + i * 70, i), 7, "10.0.0.2");
  await sim.runUntilAsync(() => got.length === 20, { timeout: 5000 });
  assert.equal(got.length, 20);
  for (const [i, [m, r]] of got.entries()) {
    assert.equal(m.length, 1 + i * 70);
    assert.ok(m.every((x) => x === i), `datagram ${i} intact`);
    assert.deepEqual([r.address, r.port], ["10.0.0.2", 7]);
  }
  assert.equal(s.address().port, 5000);
});

test("udp: a datagram to a closed port brings ICMP port unreachable back as ECONNREFUSED", async () => {
  const { sim, a, b } = net(2);
  const s = a.dgram.createSocket("udp4");
  s.connect(9999, "10.0.0.2");
  const err = once(s, "error");
  s.send("anyone there?");
  const [e] = (await sim.runUntilSettled(err, { timeout: 5000 })) as [Error & { code: string }];
  assert.equal(e.code, "ECONNREFUSED");
  assert.equal(b.counters().icmp_port_unreachable_sent, 1);
  assert.equal(b.counters().udp_no_socket, 1);
  assert.equal(a.counters().icmp_errors_to_sockets, 1);
});

test("udp: broadcasts reach bound sockets and never draw port unreachable", async () => {
  const { sim, a, b } = net(3);
  const got: string[] = [];
  const r = b.dgram.createSocket("udp4", (m: Buffer) => got.push(m.toString()));
  r.bind(6000);
  const s = a.dgram.createSocket("udp4");
  s.send("to all", 6000, "255.255.255.255");
  s.send("to the subnet", 6000, "10.0.0.255");
  s.send("to nobody", 6001, "255.255.255.255");
  await sim.runUntilAsync(sim.now + 100);
  assert.deepEqual(got.sort(), ["to all", "to the subnet"]);
  assert.equal(b.counters().icmp_port_unreachable_sent ?? 0, 0);
});

test("udp: 30% loss loses datagrams but never corrupts or duplicates one", async () => {
  const { sim, a } = net(4, 0.3);
  const s = a.dgram.createSocket("udp4");
  const got = new Map<number, Buffer>();
  s.on("message", (m: Buffer) => {
    const k = m.readUInt32BE(0);
    assert.ok(!got.has(k), `datagram ${k} twice`);
    got.set(k, m);
  });
  s.bind(0);
  // A closed ARP entry would drop early datagrams: warm it with a ping first.
  a.ping("10.0.0.2", 1);
  await sim.runUntilAsync(sim.now + 3000);
  for (let k = 0; k < 200; k++) {
    const m = Buffer.alloc(100, k & 255);
    m.writeUInt32BE(k, 0);
    s.send(m, 7, "10.0.0.2");
    await sim.runUntilAsync(sim.now + 5);
  }
  await sim.runUntilAsync(sim.now + 1000);
  // Each echo crosses the lossy link twice: about 0.7 * 0.7 = 49 % come back.
  assert.ok(got.size > 60 && got.size < 140, `${got.size} of 200 echoed`);
  for (const [k, m] of got) assert.ok(m.subarray(4).every((x) => x === (k & 255)), `datagram ${k} intact`);
});
