// The mDNS responder and DNS-SD in virtual time: the http firmware (build/http.wasm, which
// announces `_http._tcp` on port 80) on the emulated switch next to host/sim/services/mdnsd.ts, an
// mDNS peer that owns `kitchen.local`. The board asked to be kitchen.local probes, hears the
// peer defend the name and becomes kitchen-2.local; the peer then browses `_http._tcp` and reads
// the instance, its SRV (port 80, host kitchen-2.local) and the A record; the board resolves the
// peer's name through board.dns (one-shot mDNS, legacy unicast answer). The http app with IPv6
// (build/http6.wasm) answers the peer's AAAA question with its link-local address, the A as an
// additional (RFC 6762 §6.2). Same seed, same run.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { ROOT } from "../../host/board/board.ts";
import { Simulator } from "../../host/sim/sim.ts";
import { SimMdnsPeer } from "../../host/sim/services/mdnsd.ts";

const HTTP = path.join(ROOT, "build", "http.wasm");
const HTTP6 = path.join(ROOT, "build", "http6.wasm");

function setup(seed = 11) {
  const sim = new Simulator({ seed });
  const board = sim.addBoard({ name: "H", mac: "02:00:00:00:00:0a", ip: "10.0.0.4", prefix: 24, wasm: HTTP });
  const peer = new SimMdnsPeer(sim, { ip: "10.0.0.9", names: ["kitchen.local"] });
  return { sim, board, peer };
}

test("a name the peer owns: probed, defended, renamed kitchen-2.local, then announced with the service", () => {
  const { sim, board, peer } = setup();
  board.mdns.setHostname("kitchen");
  assert.equal(board.mdns.hostname, "kitchen.local");
  sim.runFor(5000);
  assert.equal(board.mdns.hostname, "kitchen-2.local");
  assert.equal(board.mdns.state, "running");
  assert.ok(board.mdns.conflicts >= 1);
  assert.ok(peer.defended.includes("kitchen.local"), "the peer answered the probe");
  const a = peer.heard.filter((r) => r.name === "kitchen-2.local" && r.type === 1);
  assert.ok(a.length >= 2, `two announcements of the A record, heard ${a.length}`);
  assert.equal(a[0].data, "10.0.0.4");
  assert.equal(a[0].ttl, 120);
  const inst = board.mdns.serviceName(0);
  assert.match(inst, /^wasmip-[0-9a-f]{6}\._http\._tcp\.local$/);
  const srv = peer.heard.find((r) => r.type === 33 && r.name === inst);
  assert.equal(srv?.data, "80 kitchen-2.local");
  assert.ok(peer.heard.some((r) => r.type === 12 && r.name === "_services._dns-sd._udp.local" && r.data === "_http._tcp.local"));
  assert.equal(board.counters().mdns_conflicts, board.mdns.conflicts);
});

test("browsing _http._tcp: the instance, with SRV, TXT and A as additionals; a goodbye on unregister", () => {
  const { sim, board, peer } = setup();
  sim.runFor(4000);
  assert.equal(board.mdns.state, "running");
  const inst = board.mdns.serviceName(0);
  peer.heard.length = 0;
  peer.query("_http._tcp.local", 12);
  sim.runFor(200);
  const ptr = peer.heard.find((r) => r.type === 12 && r.name === "_http._tcp.local");
  assert.equal(ptr?.data, inst);
  assert.equal(peer.heard.find((r) => r.type === 16 && r.name === inst)?.data, "", "the empty TXT (one 0 byte)");
  assert.equal(peer.heard.find((r) => r.type === 1)?.data, "10.0.0.4");
  peer.heard.length = 0;
  board.mdns.unregister(0);
  sim.runFor(10);
  assert.ok(peer.heard.length > 0 && peer.heard.every((r) => r.ttl === 0), JSON.stringify(peer.heard));
  // A service registered from the host, with TXT.
  const h = board.mdns.register({ type: "_demo._udp", port: 9000, name: "Sensor One", txt: { v: "1", ro: true } });
  sim.runFor(4000);
  assert.equal(board.mdns.serviceName(h), "sensor one._demo._udp.local");
  assert.ok(peer.heard.some((r) => r.type === 16 && r.name === "sensor one._demo._udp.local" && r.data === "v=1;ro"));
});

test("goodbyes: the address lost (every record, TTL 0), a new one (probed, announced); the cable out and back: announced again", () => {
  const { sim, board, peer } = setup();
  sim.runFor(4000);
  assert.equal(board.mdns.state, "running");
  const host = board.mdns.hostname;
  peer.heard.length = 0;
  board.setIpv4("0.0.0.0", 0);
  sim.runFor(10);
  assert.ok(peer.heard.length >= 5 && peer.heard.every((r) => r.ttl === 0 && r.from === "10.0.0.4"), JSON.stringify(peer.heard));
  assert.ok(peer.heard.some((r) => r.name === host && r.type === 1 && r.data === "10.0.0.4"));
  peer.heard.length = 0;
  sim.runFor(3000);
  assert.equal(peer.heard.length, 0, "quiet without an address");
  assert.equal(board.mdns.state, "waiting");
  board.setIpv4("10.0.0.7", 24);
  sim.runFor(4000);
  assert.equal(board.mdns.state, "running");
  assert.deepEqual(peer.heard.filter((r) => r.name === host && r.type === 1).map((r) => [r.data, r.ttl]), [["10.0.0.7", 120], ["10.0.0.7", 120]]);
  peer.heard.length = 0;
  sim.setLink(board, false);
  sim.runFor(3000);
  assert.equal(peer.heard.length, 0, "nothing crosses a pulled cable");
  sim.setLink(board, true);
  sim.runFor(4000);
  assert.equal(board.mdns.state, "running");
  assert.equal(peer.heard.filter((r) => r.name === host && r.type === 1 && r.ttl === 120).length, 2, "announced twice again");
});

test("board.dns resolves the peer's .local name by one-shot mDNS, without a DNS server", async () => {
  const { sim, board } = setup();
  sim.runFor(100);
  const r = await sim.runUntilSettled(board.dns.lookup("kitchen.local"), { timeout: 10_000 });
  assert.deepEqual(r, { address: "10.0.0.9", family: 4 });
});

test("with IPv6 (http6): an AAAA question gets the link-local address, the A as an additional", () => {
  const sim = new Simulator({ seed: 12 });
  const board = sim.addBoard({ name: "H6", mac: "02:00:00:00:00:0b", ip: "10.0.0.5", prefix: 24, wasm: HTTP6 });
  const peer = new SimMdnsPeer(sim, { ip: "10.0.0.9", names: [] });
  sim.runFor(6000);
  assert.equal(board.mdns.state, "running");
  const ll = board.ipv6Addresses().find((a) => a.state === "preferred");
  assert.ok(ll, "a preferred link-local address");
  const host = board.mdns.hostname;
  assert.ok(peer.heard.some((r) => r.name === host && r.type === 28 && r.data === ll.address && r.ttl === 120), "announced");
  peer.heard.length = 0;
  peer.query(host, 28);
  sim.runFor(200);
  assert.deepEqual(peer.heard.filter((r) => r.name === host).map((r) => [r.type, r.data]), [[28, ll.address], [1, "10.0.0.5"]]);
});

test("with IPv6 (http6): one board resolves another's name.local AAAA (one-shot mDNS on ff02::fb and 224.0.0.251)", async () => {
  const sim = new Simulator({ seed: 13 });
  const a = sim.addBoard({ name: "A6", mac: "02:00:00:00:00:0c", ip: "10.0.0.5", prefix: 24, wasm: HTTP6 });
  const b = sim.addBoard({ name: "B6", mac: "02:00:00:00:00:0d", ip: "10.0.0.6", prefix: 24, wasm: HTTP6 });
  sim.runFor(6000);
  assert.equal(b.mdns.state, "running");
  const ll = b.ipv6Addresses().find((x) => x.state === "preferred");
  assert.ok(ll);
  const r = await sim.runUntilSettled(a.dns.lookup(b.mdns.hostname, { family: 6 }), { timeout: 10_000 });
  assert.deepEqual(r, { address: ll.address, family: 6 });
  const r4 = await sim.runUntilSettled(a.dns.lookup(b.mdns.hostname, { family: 4 }), { timeout: 10_000 });
  assert.deepEqual(r4, { address: "10.0.0.6", family: 4 });
});

test("an IPv6-only link (http6, no IPv4 address): both responders run over ff02::fb; one resolves the other's AAAA", async () => {
  const sim = new Simulator({ seed: 14 });
  const a = sim.addBoard({ name: "A6", mac: "02:00:00:00:00:0e", wasm: HTTP6 });
  const b = sim.addBoard({ name: "B6", mac: "02:00:00:00:00:0f", wasm: HTTP6 });
  sim.runFor(8000);
  assert.equal(a.ip, 0, "no IPv4 address");
  assert.equal(b.mdns.state, "running");
  assert.equal(a.mdns.state, "running");
  const ll = b.ipv6Addresses().find((x) => x.state === "preferred");
  assert.ok(ll);
  const r = await sim.runUntilSettled(a.dns.lookup(b.mdns.hostname, { family: 6 }), { timeout: 10_000 });
  assert.deepEqual(r, { address: ll.address, family: 6 });
});
