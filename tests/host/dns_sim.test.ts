// The DNS resolver in virtual time: a board on the emulated switch asks host/sim/services/dnsd.ts
// through board.dns.lookup (node:dns-shaped). Resolve, NXDOMAIN, SERVFAIL, CNAME chains, the
// cache, a dead first server (the second is used), both dead (ETIMEOUT after 1+1+2+2+4+4 s),
// forged replies dropped and counted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Simulator } from "../../host/sim/sim.ts";
import { SimDnsServer } from "../../host/sim/services/dnsd.ts";
import { DnsError } from "../../host/board/dns.ts";
import { ethernet, ipv4, udp, ETHERTYPE_IPV4, IPPROTO_UDP, get16, parseEthernet, parseIpv4 } from "../../host/sim/frames.ts";
import type { Board } from "../../host/board/board.ts";

function setup(opts: { seed?: number; second?: boolean } = {}) {
  const sim = new Simulator({ seed: opts.seed ?? 7 });
  const board = sim.addBoard({ name: "A", mac: "02:00:00:00:00:0a", ip: "10.0.0.2", prefix: 24 });
  const ns1 = new SimDnsServer(sim, {
    name: "ns1",
    mac: "02:00:00:00:d0:35",
    ip: "10.0.0.53",
    records: { "web.test": "10.0.0.80", "cdn.example": ["10.0.0.81", "10.0.0.82"] },
    cnames: { "www.test": "alias.test", "alias.test": "cdn.example", "dangling.test": "nowhere.test" },
    ttl: 60,
  });
  const ns2 = opts.second
    ? new SimDnsServer(sim, { name: "ns2", mac: "02:00:00:00:d0:36", ip: "10.0.0.54", records: { "web.test": "10.0.0.80" } })
    : undefined;
  return { sim, board, ns1, ns2 };
}

async function lookupError(sim: Simulator, board: Board, name: string): Promise<DnsError> {
  try {
    const r = await sim.runUntilSettled(board.dns.lookup(name), { timeout: 60_000 });
    assert.fail(`expected an error, got ${JSON.stringify(r)}`);
  } catch (e) {
    assert.ok(e instanceof DnsError, String(e));
    return e;
  }
}

test("resolves a name through the simulated server, like node:dns lookup", async () => {
  const { sim, board, ns1 } = setup();
  board.dns.setServers(["10.0.0.53"]);
  assert.deepEqual(board.dns.getServers(), ["10.0.0.53"]);
  const t0 = sim.now;
  const r = await sim.runUntilSettled(board.dns.lookup("web.test", { family: 4 }));
  assert.deepEqual(r, { address: "10.0.0.80", family: 4 });
  assert.ok(sim.now - t0 < 100, `took ${sim.now - t0} virtual ms`);
  assert.equal(ns1.queries.length, 1);
  assert.equal(ns1.queries[0].name, "web.test");
  assert.ok(ns1.queries[0].srcPort >= 49152, `source port ${ns1.queries[0].srcPort}`);
  // Cached: no second query.
  const again = await sim.runUntilSettled(board.dns.lookup("WEB.test"));
  assert.equal(again.address, "10.0.0.80");
  assert.equal(ns1.queries.length, 1);
  const c = board.counters();
  assert.equal(c.dns_queries_sent, 1);
  assert.equal(c.dns_cache_hits, 1);
  assert.equal(c.dns_replies_accepted, 1);
  // all: true gives an array.
  const all = await sim.runUntilSettled(board.dns.lookup("web.test", { all: true }));
  assert.deepEqual(all, [{ address: "10.0.0.80", family: 4 }]);
});

test("an unknown name is ENOTFOUND (NXDOMAIN); SERVFAIL and TC are distinct", async () => {
  const { sim, board, ns1 } = setup();
  board.dns.setServers(["10.0.0.53"]);
  const e = await lookupError(sim, board, "nope.test");
  assert.equal(e.code, "ENOTFOUND");
  assert.equal(e.errno, -11);
  assert.equal(e.hostname, "nope.test");
  ns1.rcode = 2;
  const e2 = await lookupError(sim, board, "web.test");
  assert.equal(e2.code, "ESERVFAIL");
  ns1.rcode = undefined;
  ns1.truncate = true;
  const e3 = await lookupError(sim, board, "cdn.example");
  assert.equal(e3.code, "EBADRESP");
  assert.equal(e3.errno, -13);
});

test("follows a CNAME chain to the address, and the TTL cache expires", async () => {
  const { sim, board, ns1 } = setup();
  board.dns.setServers(["10.0.0.53"]);
  const r = await sim.runUntilSettled(board.dns.lookup("www.test"));
  assert.equal(r.address, "10.0.0.81");
  assert.equal(ns1.queries.length, 1);
  // A reply that stops at a CNAME: the resolver asks for the target (which does not exist).
  const e = await lookupError(sim, board, "dangling.test");
  assert.equal(e.code, "ENOTFOUND");
  assert.deepEqual(ns1.queries.map((q) => q.name), ["www.test", "dangling.test", "nowhere.test"]);
  // TTL 60 s: cached for a minute, then asked again.
  await sim.runUntilSettled(board.dns.lookup("www.test"));
  assert.equal(ns1.queries.length, 3);
  sim.runFor(61_000);
  await sim.runUntilSettled(board.dns.lookup("www.test"));
  assert.equal(ns1.queries.length, 4);
});

test("a resolver whose first server is dead uses the second", async () => {
  const { sim, board, ns1, ns2 } = setup({ second: true });
  ns1.deaf = true; // no ARP, no answers: a host that is gone
  board.dns.setServers(["10.0.0.53", "10.0.0.54"]);
  const t0 = sim.now;
  const r = await sim.runUntilSettled(board.dns.lookup("web.test"));
  assert.equal(r.address, "10.0.0.80");
  const took = sim.now - t0;
  assert.ok(took >= 1000 && took < 1100, `took ${took} virtual ms (first timeout 1000)`);
  assert.equal(ns2!.queries.length, 1);
  assert.equal(board.counters().dns_retransmits, 1);
});

test("a server that stays silent: the other answers; both silent: ETIMEOUT after 14 s", async () => {
  const { sim, board, ns1, ns2 } = setup({ second: true });
  ns1.silent = true;
  board.dns.setServers(["10.0.0.53", "10.0.0.54"]);
  const r = await sim.runUntilSettled(board.dns.lookup("web.test"));
  assert.equal(r.address, "10.0.0.80");
  assert.equal(ns1.queries.length, 1);
  ns2!.silent = true;
  board.dns.flushCache();
  const t0 = sim.now;
  const e = await lookupError(sim, board, "web.test");
  assert.equal(e.code, "ETIMEOUT");
  assert.equal(sim.now - t0, 14_000);
  // Three passes over two servers, one query id for the lookup.
  const q = [...ns1.queries.slice(1), ...ns2!.queries.slice(1)].sort((a, b) => a.time - b.time);
  assert.deepEqual(q.map((x) => x.time - t0), [0, 1000, 2000, 4000, 6000, 10000].map((x) => x + 1));
  assert.equal(new Set(q.map((x) => x.id)).size, 1);
  assert.equal(board.counters().dns_timeouts, 1);
});

test("forged replies (wrong id, wrong server, wrong port) are dropped and counted", async () => {
  const { sim, board, ns1 } = setup();
  board.dns.setServers(["10.0.0.53"]);
  ns1.silent = true;
  // An attacker on the LAN sees the query (a capture tap on every link) and races the server
  // with forged answers.
  const forger = sim.attach("forger", () => {});
  sim.capture({ write: (f) => {
    const eth = parseEthernet(f);
    if (!eth || eth.type !== ETHERTYPE_IPV4) return;
    const ip = parseIpv4(eth.payload);
    if (!ip || ip.protocol !== IPPROTO_UDP || get16(ip.payload, 2) !== 53) return;
    const q = ip.payload.subarray(8);
    const port = get16(ip.payload, 0);
    const send = (src: string, sport: number, id: number) => {
      const m = Uint8Array.from([...q.subarray(0, q.length)]);
      m[0] = id >>> 8;
      m[1] = id & 255;
      m[2] = 0x81;
      m[3] = 0x80;
      m[7] = 1; // ancount 1
      const ans = [0xc0, 12, 0, 1, 0, 1, 0, 0, 1, 0, 0, 4, 6, 6, 6, 6];
      const payload = Uint8Array.from([...m, ...ans]);
      forger.send(ethernet({ dst: eth.src, src: "02:00:00:00:66:66", type: ETHERTYPE_IPV4, payload: ipv4({ src, dst: ip.src, protocol: IPPROTO_UDP, payload: udp(sport, port, payload) }) }));
    };
    const id = get16(q, 0);
    send("10.0.0.53", 53, id ^ 0x5555); // guessed id
    send("10.0.0.66", 53, id); // another host
    send("10.0.0.53", 5353, id); // another port
  } });
  const e = await lookupError(sim, board, "web.test");
  assert.equal(e.code, "ETIMEOUT");
  const c = board.counters();
  assert.equal(c.dns_bad_id, 3); // one per query (first try and the two retransmissions)
  assert.equal(c.dns_bad_source, 6);
  assert.equal(c.dns_replies_accepted, 0);
});

test("node-style errors for bad names and no servers", async () => {
  const { sim, board } = setup();
  await assert.rejects(sim.runUntilSettled(board.dns.lookup("a..b")), (e: DnsError) => e.code === "EINVAL");
  await assert.rejects(sim.runUntilSettled(board.dns.lookup("web.test")), (e: DnsError) => e.code === "ECONNREFUSED" && e.errno === -9);
  const r = await sim.runUntilSettled(board.dns.lookup("10.1.2.3"));
  assert.equal(r.address, "10.1.2.3");
  // An address is answered as node answers it (its own family, whatever was asked), no query.
  assert.deepEqual(await board.dns.lookup("2001:db8::7", { family: 4 }), { address: "2001:db8::7", family: 6 });
  assert.deepEqual(await board.dns.lookup("10.1.2.3", { all: true }), [{ address: "10.1.2.3", family: 4 }]);
  assert.equal(board.counters().dns_queries_sent, 0);
});

test("the fetch firmware resolves a name, connects to the http firmware and reads 200", async () => {
  const { sim, ns1 } = setup();
  const wasm = (app: string) => new URL(`../../build/${app}.wasm`, import.meta.url).pathname;
  sim.addBoard({ name: "H", mac: "02:00:00:00:00:50", ip: "10.0.0.80", prefix: 24, wasm: wasm("http") });
  const logs: string[] = [];
  sim.onLog = (e) => logs.push(`${e.board}: ${e.msg}`);
  const f = sim.addBoard({ name: "F", mac: "02:00:00:00:00:0f", ip: "10.0.0.15", prefix: 24, wasm: wasm("fetch") });
  const ex = f.exports as Record<string, (...a: number[]) => number>;
  f.dns.setServers(["10.0.0.53"]);
  const fetch = (name: string, p: string): number => {
    const ptr = ex.io_buffer();
    const mem = f.memoryBytes();
    mem.set(Buffer.from(name), ptr);
    mem.set(Buffer.from(p), ptr + 256);
    const rc = ex.fetch_start(ptr, name.length, 80, ptr + 256, p.length);
    sim.poke(f);
    return rc;
  };
  assert.equal(fetch("web.test", "/"), 0);
  assert.ok(sim.runUntil(() => ex.fetch_state() >= 5 || ex.fetch_state() < 0, { timeout: 10_000 }), `state ${ex.fetch_state()}`);
  assert.equal(ex.fetch_state(), 5);
  assert.equal(ex.fetch_status(), 200);
  const line = Buffer.from(f.memoryBytes().subarray(ex.fetch_line(), ex.fetch_line() + ex.fetch_line_len())).toString("latin1");
  assert.equal(line, "HTTP/1.1 200 OK");
  assert.ok(ex.fetch_body_bytes() > 0);
  assert.ok(logs.includes("F: fetch: web.test is 10.0.0.80"), logs.join("\n"));
  assert.ok(logs.includes("F: fetch: HTTP/1.1 200 OK"), logs.join("\n"));
  assert.equal(ns1.queries.length, 1);
  // A path the server does not have, and a name nobody has.
  assert.equal(fetch("web.test", "/missing"), 0);
  sim.runUntil(() => ex.fetch_state() >= 5 || ex.fetch_state() < 0, { timeout: 10_000 });
  assert.equal(ex.fetch_status(), 404);
  assert.equal(fetch("nope.test", "/"), 0);
  sim.runUntil(() => ex.fetch_state() >= 5 || ex.fetch_state() < 0, { timeout: 10_000 });
  assert.equal(ex.fetch_status(), -11);
});
