// IPv6 in the simulator (virtual time, seeded): two dual-stack boards (build/ipv6.wasm) on one
// link form their link-local addresses (DAD, MLDv2, RS with no router to answer) and ping each
// other over IPv6 by Board.ping with an IPv6 string; an IPv4-only image counts IPv6 as ignored
// and refuses ping6 with ENOSYS; the host API (node:net, node:dgram shapes) connects and sends to
// IPv6 strings over a lossy link. Seconds of wall time.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { once } from "node:events";
import { Simulator } from "../../host/sim/sim.ts";
import { ROOT } from "../../host/board/board.ts";
import { requirePrereqs } from "./prereqs.ts";

const SEED = 6;
const V6 = path.join(ROOT, "build", "ipv6.wasm");

test("ipv6 sim: two boards configure link-local addresses and ping each other", { timeout: 60_000 }, async (t) => {
  if (!requirePrereqs(t, [], [V6])) return;
  const sim = new Simulator({ seed: SEED, wasm: V6 });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24 });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", ip: "10.0.0.2", prefix: 24 });
  sim.runFor(5000);
  const la = a.ipv6Addresses();
  const lb = b.ipv6Addresses();
  assert.deepEqual(la.map((x) => [x.address, x.state, x.scopeid, x.family]), [["fe80::ff:fe00:1", "preferred", 1, "IPv6"]]);
  assert.deepEqual(lb.map((x) => x.address), ["fe80::ff:fe00:2"]);
  assert.equal(la[0].validLifetime, Infinity);
  // The first resolves B (NS, NA; held meanwhile, ND_QUEUE_PER_NEIGHBOUR at most), the rest go at once.
  a.ping(lb[0].address, 1, 200);
  sim.runFor(1000);
  for (let seq = 2; seq <= 5; seq++) a.ping(lb[0].address, seq, 200);
  sim.runFor(1000);
  for (let seq = 1; seq <= 5; seq++) assert.ok(a.pingRtt(seq) >= 0, `reply ${seq}`);
  assert.deepEqual(a.ipv6Neighbors().map((n) => [n.address, n.mac, n.state]), [["fe80::ff:fe00:2", "02:00:00:00:00:02", "REACHABLE"]]);
  const ca = a.counters();
  const cb = b.counters();
  assert.equal(cb.icmp6_echo_answered, 5);
  assert.equal(ca.icmp6_echo_reply_received, 5);
  assert.equal(ca.nd_dad_duplicates + cb.nd_dad_duplicates, 0);
  sim.runFor(20_000);
  assert.equal(a.counters().nd_rs_sent, 3); // no router on this link: RFC 4861 §6.3.7's three, no more
  assert.ok(ca.mld_reports_sent >= 2);
  for (const x of [a, b]) assert.equal(x.rxAccounted(), x.counters().rx_frames);
});

test("ipv6 sim: an IPv4-only image counts IPv6 frames as ignored and has no ping6", { timeout: 60_000 }, async () => {
  const sim = new Simulator({ seed: SEED });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24 });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", ip: "10.0.0.2", prefix: 24, wasm: V6 });
  sim.runFor(5000);
  assert.deepEqual(a.ipv6Addresses(), []);
  assert.equal(a.counters().ip6_sent, undefined); // not even the counter's name is in the image
  assert.ok(b.counters().ip6_sent > 0);
  assert.throws(() => a.ping("fe80::ff:fe00:2", 1), /ENOSYS/);
  // B's all-nodes frames (MLD to ff02::16 is filtered by MAC; its DAD NS too) never reach A's IPv6.
  assert.equal(a.rxAccounted(), a.counters().rx_frames);
});

test("ipv6 sim: node:net and node:dgram over IPv6 between two boards, 128 KiB each way on a lossy link", { timeout: 60_000 }, async (t) => {
  if (!requirePrereqs(t, [], [V6])) return;
  const sim = new Simulator({ seed: SEED, wasm: V6 });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24, link: { loss: 0.05 } });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", ip: "10.0.0.2", prefix: 24 });
  sim.runFor(5000);
  const bAddr = b.ipv6Addresses()[0].address;
  const aAddr = a.ipv6Addresses()[0].address;
  // TCP: B echoes; A connects by B's link-local address (a zone naming the one interface is accepted).
  const server = b.net.createServer((s) => s.pipe(s)).listen(7);
  const data = Buffer.alloc(128 * 1024, 0).map((_, i) => (i * 7 + (i >> 9)) & 255);
  const got: Buffer[] = [];
  const c = a.net.connect({ host: `${bAddr}%eth0`, port: 7 });
  let accepted: { remoteAddress?: string; remoteFamily?: string } = {};
  server.on("connection", (s) => (accepted = { remoteAddress: s.remoteAddress, remoteFamily: s.remoteFamily }));
  c.on("data", (d: Buffer) => got.push(d));
  c.once("connect", () => c.end(data));
  await sim.runUntilSettled(once(c, "end"), { timeout: 120_000 });
  assert.equal(Buffer.concat(got).equals(data), true, `echoed ${Buffer.concat(got).length} of ${data.length}`);
  assert.equal(c.remoteFamily, "IPv6");
  assert.equal(c.remoteAddress, bAddr);
  assert.deepEqual(c.address(), { address: aAddr, family: "IPv6", port: c.localPort });
  assert.deepEqual(accepted, { remoteAddress: aAddr, remoteFamily: "IPv6" });
  assert.ok(a.counters().tcp_retransmits + b.counters().tcp_retransmits > 0, "the lossy link made them retransmit");
  // UDP: a udp6 socket on B answers A's datagram; rinfo says IPv6.
  const bs = b.dgram.createSocket("udp6");
  bs.bind(5353 + 1);
  bs.on("message", (m: Buffer, r: { address: string; port: number }) => bs.send(Buffer.concat([Buffer.from("re:"), m]), r.port, r.address));
  const as = a.dgram.createSocket("udp4");
  as.bind(0);
  const replies: [string, string][] = [];
  as.on("message", (m: Buffer, r: { address: string; family: string }) => replies.push([m.toString(), `${r.family} ${r.address}`]));
  for (let k = 0; k < 5 && replies.length === 0; k++) {
    as.send("ping6", 5354, bAddr); // lost now and then (5%): sent again
    sim.runFor(500);
  }
  assert.deepEqual(replies[0], ["re:ping6", `IPv6 ${bAddr}`]);
  assert.deepEqual(bs.address(), { address: "::", family: "IPv6", port: 5354 });
  assert.equal(a.counters().ip6_udp_no_checksum, 0);
  for (const x of [a, b]) assert.equal(x.rxAccounted(), x.counters().rx_frames);
});
