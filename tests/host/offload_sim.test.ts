// Checksum offload (wasmip.h set_offload, input_checked, phy.checksum) in every combination, between
// simulated boards on a link that corrupts frames: the data still arrives exactly (sha256), and the
// corrupted frames are caught, whoever sums. Seeded; a failure names its seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Simulator, type LinkOptions } from "../../host/sim/sim.ts";
import { Prng } from "../../host/sim/prng.ts";
import type { Board } from "../../host/board/board.ts";
import type { OffloadOptions } from "../../host/board/offload.ts";
import type { RemoteInfo } from "../../host/board/dgram.ts";
import { bulk, type BulkSide } from "./bulk.ts";

const KiB = 1024;
const BYTES = 96 * KiB;
const ALL: OffloadOptions = { sum: true, txIpv4: true, txL4: true, rxCheck: true };

/** A's and B's offload, and what the combination proves. */
const CASES: [string, OffloadOptions, OffloadOptions][] = [
  ["none (the core sums everything)", {}, {}],
  ["phy.checksum sums", { sum: true }, { sum: true }],
  ["the MACs fill transmit checksums", { txIpv4: true, txL4: true }, { txIpv4: true, txL4: true }],
  ["the MACs verify and vouch for received frames", { rxCheck: true }, { rxCheck: true }],
  ["everything offloaded", ALL, ALL],
  ["everything offloaded at A, nothing at B", ALL, {}],
  // B declares every capability set_offload has, but its MAC vouches for no frame: input() alone.
  ["B declares offload but its MAC checks nothing", {}, { sum: true, txIpv4: true, txL4: true }],
];

const CORRUPT: LinkOptions = { delay: 1, corrupt: 0.03 };
const badChecksums = (b: Board) => Object.entries(b.counters()).filter(([k]) => k.endsWith("_bad_checksum")).reduce((n, [, v]) => n + v, 0);

CASES.forEach(([what, oa, ob], i) => {
  const seed = 9100 + i;
  test(`offload: ${what}: ${BYTES / KiB} KiB each way over a link corrupting 3% of frames arrive intact [seed ${seed}]`, async () => {
    const sim = new Simulator({ seed });
    const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24, link: CORRUPT, offload: oa });
    const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", ip: "10.0.0.2", prefix: 24, link: CORRUPT, offload: ob });
    const bytesOf = (rng: Prng) => (n: number) => Buffer.from(Array.from({ length: n }, () => rng.nextU32() & 255));
    const serverDone = new Promise<BulkSide>((resolve) =>
      b.net.createServer({ allowHalfOpen: true }, (s) => resolve(bulk(s, BYTES, bytesOf(new Prng(seed).fork("B->A"))))).listen(5001),
    );
    const c = a.net.connect({ host: "10.0.0.2", port: 5001, allowHalfOpen: true });
    const clientDone = bulk(c, BYTES, bytesOf(new Prng(seed).fork("A->B")));
    const [ca, sb] = await sim.runUntilSettled(Promise.all([clientDone, serverDone]), { timeout: 3_000_000 });
    assert.equal(sb.bytes, BYTES, "bytes at B");
    assert.equal(sb.received, ca.sent, "sha256 A -> B");
    assert.equal(ca.received, sb.sent, "sha256 B -> A");

    const corrupted = sim.linkOf(a).totals().corrupted + sim.linkOf(b).totals().corrupted;
    assert.ok(corrupted >= 10, `the link corrupted ${corrupted} frames`);
    // Each flipped bit past the Ethernet header lands in a checksummed header or payload (or in
    // padding, which nothing reads): the boards' checksum drops account for most of them.
    const caught = badChecksums(a) + badChecksums(b);
    assert.ok(caught > 0 && caught <= corrupted, `checksum drops ${caught} of ${corrupted} corrupted frames`);
    for (const [x, o] of [[a, oa], [b, ob]] as const) {
      assert.equal(x.offload, (o.sum ? 1 : 0) | (o.txIpv4 ? 2 : 0) | (o.txL4 ? 4 : 0), `${x.name}: offload() in force`);
      if (o.rxCheck) {
        // The MAC vouched for the good frames and passed the damaged ones up unmarked, where the
        // core caught them: its checksum drops are frames the MAC did not vouch for.
        assert.ok(x.offloadStats.rxVouched > 50, `${x.name} vouched for ${x.offloadStats.rxVouched} frames`);
        assert.ok(badChecksums(x) <= x.offloadStats.rxUnmarked, `${x.name}: ${badChecksums(x)} drops, ${x.offloadStats.rxUnmarked} unmarked`);
      } else assert.equal(x.offloadStats.rxVouched, 0);
    }
  });
});

test("offload: UDP checksums filled by the MAC (0 sent as 0xffff) reach a board that sums itself; datagrams intact", async () => {
  const sim = new Simulator({ seed: 9200 });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24, link: { delay: 1 }, offload: ALL });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", ip: "10.0.0.2", prefix: 24, link: { delay: 1 } });
  const rx = b.dgram.createSocket("udp4");
  const got: Buffer[] = [];
  rx.on("message", (m: Buffer, r: RemoteInfo) => {
    assert.equal(r.address, "10.0.0.1");
    got.push(m);
  });
  rx.bind(7000);
  const tx = a.dgram.createSocket("udp4");
  a.ping("10.0.0.2", 1);
  await sim.runUntilAsync(sim.now + 100);
  for (let i = 0; i < 24; i++) tx.send(Buffer.alloc(1 + i * 61, i + 1), 7000, "10.0.0.2");
  await sim.runUntilAsync(() => got.length === 24, { timeout: 5000 });
  assert.equal(got.length, 24);
  got.forEach((m, i) => assert.ok(m.length === 1 + i * 61 && m.every((x) => x === i + 1), `datagram ${i}`));
  assert.equal(b.counters().udp_bad_checksum, 0);
});
