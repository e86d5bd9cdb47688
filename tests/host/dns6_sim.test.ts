// AAAA lookups and a connect by name over IPv6 in the simulator (virtual time, seeded; the seed
// is in the message of a failure, WASMIP_DNS6_SEED overrides it): a router advertiser gives two
// dual-stack boards (build/ipv6.wasm) SLAAC addresses, the sim DNS server has B's name with its
// IPv4 and IPv6 addresses, and A, on a lossy link, looks the name up by family and connects to
// it by name: over IPv6, since A has a global address. A second case has no prefix: the
// connect by name then takes the A record. A third has no IPv4 server: the RAs name the sim DNS
// server's IPv6 address (RDNSS), which the lookups go to over IPv6.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { once } from "node:events";
import { Simulator } from "../../host/sim/sim.ts";
import { SimDnsServer } from "../../host/sim/services/dnsd.ts";
import { SimRouterAdvertiser } from "../../host/sim/services/radvd.ts";
import { ROOT } from "../../host/board/board.ts";
import { requirePrereqs } from "./prereqs.ts";

const V6 = path.join(ROOT, "build", "ipv6.wasm");
const SEED = process.env.WASMIP_DNS6_SEED !== undefined ? Number(process.env.WASMIP_DNS6_SEED) >>> 0 : 16;

function seeded(name: string, fn: (t: TestContext, seed: number) => Promise<void>): void {
  test(name, { timeout: 120_000 }, async (t) => {
    if (!requirePrereqs(t, [], [V6])) return;
    try {
      await fn(t, SEED);
    } catch (e) {
      if (e instanceof Error) e.message = `[seed ${SEED}] ${e.message}`;
      throw e;
    }
  });
}

function world(seed: number, prefix: boolean, rdnss?: string) {
  const sim = new Simulator({ seed, wasm: V6 });
  const radvd = prefix ? new SimRouterAdvertiser(sim, { prefix: "2001:db8:1::", rdnss }) : undefined;
  const dnsd = new SimDnsServer(sim, { ip: "10.0.0.53", ip6: rdnss });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24, link: { loss: 0.05 } });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", ip: "10.0.0.2", prefix: 24 });
  if (!rdnss) a.dns.setServers(["10.0.0.53"]);
  sim.runFor(8000);
  return { sim, radvd, dnsd, a, b };
}

/** B echoes on port 7; A connects to b.test by name and sends 32 KiB. */
async function connectByName(sim: Simulator, a: ReturnType<typeof world>["a"], b: ReturnType<typeof world>["b"]) {
  b.net.createServer((s) => s.pipe(s)).listen(7);
  const data = Buffer.alloc(32 * 1024, 0).map((_, i) => (i * 13 + (i >> 8)) & 255);
  const got: Buffer[] = [];
  const looked: unknown[] = [];
  const c = a.net.connect({ host: "b.test", port: 7 });
  c.on("lookup", (err, address, family) => looked.push([err, address, family]));
  c.on("data", (d: Buffer) => got.push(d));
  c.once("connect", () => c.end(data));
  await sim.runUntilSettled(once(c, "end"), { timeout: 120_000 });
  assert.equal(Buffer.concat(got).equals(data), true, `echoed ${Buffer.concat(got).length} of ${data.length}`);
  return { c, looked };
}

seeded("dns6 sim: AAAA by family, both families with all, and a connect by name over IPv6 on a lossy link", async (_t, seed) => {
  const { sim, radvd, dnsd, a, b } = world(seed, true);
  assert.equal(radvd!.sent, 4);
  const global = (x: typeof a) => x.ipv6Addresses().find((e) => e.state === "preferred" && !e.address.startsWith("fe80:"))?.address;
  const bAddr = global(b);
  const aAddr = global(a);
  assert.equal(bAddr, "2001:db8:1::ff:fe00:2");
  assert.equal(aAddr, "2001:db8:1::ff:fe00:1");
  dnsd.records.set("b.test", ["10.0.0.2", bAddr!]);
  dnsd.cnames.set("www.b.test", "b.test");
  assert.deepEqual(await sim.runUntilSettled(a.dns.lookup("b.test", { family: 6 })), { address: bAddr, family: 6 });
  // Through a CNAME, and both families, AAAA first (A has a global address).
  assert.deepEqual(await sim.runUntilSettled(a.dns.lookup("www.b.test", { family: 0, all: true })), [
    { address: bAddr, family: 6 },
    { address: "10.0.0.2", family: 4 },
  ]);
  assert.deepEqual(await sim.runUntilSettled(a.dns.lookup("b.test", { family: 4 })), { address: "10.0.0.2", family: 4 });
  const qtypes = dnsd.queries.map((q) => `${q.name}/${q.qtype}`);
  assert.ok(qtypes.includes("b.test/28") && qtypes.includes("www.b.test/28") && qtypes.includes("www.b.test/1"), qtypes.join(" "));
  // NXDOMAIN ends a family-0 lookup at once (RFC 8020): one query, not one per family.
  const before = dnsd.queries.length;
  await assert.rejects(sim.runUntilSettled(a.dns.lookup("nobody.test")), { code: "ENOTFOUND" });
  assert.equal(dnsd.queries.length - before, 1);
  // No AAAA record: family 6 says ENODATA; family 0 falls back to A.
  dnsd.records.set("v4.test", ["10.0.0.2"]);
  await assert.rejects(sim.runUntilSettled(a.dns.lookup("v4.test", { family: 6 })), { code: "ENODATA" });
  assert.deepEqual(await sim.runUntilSettled(a.dns.lookup("v4.test")), { address: "10.0.0.2", family: 4 });
  const { c, looked } = await connectByName(sim, a, b);
  assert.deepEqual(looked, [[null, bAddr, 6]]);
  assert.equal(c.remoteFamily, "IPv6");
  assert.equal(c.remoteAddress, bAddr);
  assert.equal(c.address().address, aAddr);
  assert.ok(a.counters().tcp_retransmits + b.counters().tcp_retransmits > 0, "the lossy link made them retransmit");
  for (const x of [a, b]) assert.equal(x.rxAccounted(), x.counters().rx_frames);
});

seeded("dns6 sim: without a global IPv6 address the connect by name takes the A record", async (_t, seed) => {
  const { sim, dnsd, a, b } = world(seed, false);
  const bLl = b.ipv6Addresses()[0].address;
  dnsd.records.set("b.test", ["10.0.0.2", bLl]);
  assert.deepEqual(await sim.runUntilSettled(a.dns.lookup("b.test", { all: true })), [
    { address: "10.0.0.2", family: 4 },
    { address: bLl, family: 6 },
  ]);
  const { c, looked } = await connectByName(sim, a, b);
  assert.deepEqual(looked, [[null, "10.0.0.2", 4]]);
  assert.equal(c.remoteFamily, "IPv4");
});

seeded("dns6 sim: with no IPv4 server the lookups go to the RDNSS server over IPv6 (the sim dnsd's ip6) on a lossy link", async (_t, seed) => {
  const rdnss = "2001:db8:1::53";
  const { sim, dnsd, a } = world(seed, true, rdnss);
  assert.deepEqual(a.dns.getServers(), []);
  assert.deepEqual(a.ipv6DnsServers().map((x) => x.address), [rdnss]);
  dnsd.records.set("b.test", ["10.0.0.2", "2001:db8:1::ff:fe00:2"]);
  for (let i = 0; i < 30; i++) dnsd.records.set(`n${i}.test`, [`2001:db8:1::${i + 1}`]);
  assert.deepEqual(await sim.runUntilSettled(a.dns.lookup("b.test", { family: 6 })), { address: "2001:db8:1::ff:fe00:2", family: 6 });
  assert.deepEqual(await sim.runUntilSettled(a.dns.lookup("b.test", { family: 4 })), { address: "10.0.0.2", family: 4 }, "A lookups too");
  // Enough lookups that the 5% loss hits some: the resolver's retries cover it.
  for (let i = 0; i < 30; i++) assert.equal((await sim.runUntilSettled(a.dns.lookup(`n${i}.test`, { family: 6 }), { timeout: 60_000 })).address, `2001:db8:1::${i + 1}`);
  assert.ok(dnsd.queries.length >= 32);
  assert.ok(a.counters().dns_retransmits > 0 && sim.linkOf(a).toSwitch.stats.lost + sim.linkOf(a).fromSwitch.stats.lost > 0, "the loss made it retry");
  assert.ok(dnsd.queries.every((q) => q.src === "2001:db8:1::ff:fe00:1"), "asked from A's SLAAC address");
  // dnsd answered A's neighbor solicitation for its address.
  assert.ok(a.ipv6Neighbors().some((n) => n.address === rdnss && n.mac === dnsd.mac), JSON.stringify(a.ipv6Neighbors()));
  assert.equal(a.rxAccounted(), a.counters().rx_frames);
});
