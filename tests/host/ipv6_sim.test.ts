// IPv6 in the simulator (virtual time, seeded): two dual-stack boards (build/ipv6.wasm) on one
// link form their link-local addresses (DAD, MLDv2, RS with no router to answer) and ping each
// other over IPv6 by Board.ping with an IPv6 string; an IPv4-only image counts IPv6 as ignored
// and refuses ping6 with ENOSYS. Seconds of wall time.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
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
