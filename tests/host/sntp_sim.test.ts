// The SNTP client in virtual time against host/sim/services/ntpd.ts: the board syncs and its wall
// clock equals the server's within the link delay; polls follow the interval; a kiss-o'-death
// RATE backs it off; servers from the DHCP lease (option 42); an unsynchronised server is not
// believed. Seeded: a failure names its seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Simulator } from "../../host/sim/sim.ts";
import { SimNtpServer } from "../../host/sim/services/ntpd.ts";
import { SimDhcpServer } from "../../host/sim/services/dhcpd.ts";
import { dhcpStart, dhcpStatus } from "../../host/board/dhcp.ts";
import type { Board } from "../../host/board/board.ts";

const SEED = Number(process.env.SNTP_SEED ?? 17);

function setup(seed = SEED) {
  const sim = new Simulator({ seed });
  const ntpd = new SimNtpServer(sim, { ip: "10.0.0.123", delay: 1, processingMs: 3 });
  const board = sim.addBoard({ name: "A", mac: "02:00:00:00:00:0a", ip: "10.0.0.2", prefix: 24, link: { delay: 1 } });
  return { sim, ntpd, board, why: (s: string) => `${s} (seed ${seed})` };
}

/** The board's wall clock in Unix ms, with the fraction. */
function boardMs(board: Board): number {
  const t = board.sntp.time();
  return t.seconds * 1000 + (t.fraction * 1000) / 2 ** 32;
}

/** Start times of polls: requests less than 1 s apart (a request that waited for ARP, then the
 *  one asked again at once) are one poll. */
function polls(ntpd: SimNtpServer): number[] {
  return ntpd.requests.filter((r, i) => i === 0 || r.time - ntpd.requests[i - 1].time > 1000).map((r) => r.time);
}

/** b - a is `ms`, give or take the few ms of an ARP resolution and a round trip. */
function gap(a: number, b: number, ms: number): boolean {
  return b - a >= ms && b - a <= ms + 50;
}

function sync(sim: Simulator, board: Board, why: (s: string) => string): void {
  assert.ok(sim.runUntil(() => board.sntp.synced, { timeout: 10_000 }), why("no sync within 10 s"));
}

test("SNTP sim: the board syncs and its clock equals the server's within the link delay", () => {
  const { sim, ntpd, board, why } = setup();
  let events = 0;
  board.on("time", () => events++);
  assert.equal(board.sntp.now(), null);
  assert.equal(board.sntp.lastSample(), null);
  board.sntp.setServers(["10.0.0.123"]);
  assert.deepEqual(board.sntp.getServers(), ["10.0.0.123"]);
  const t0 = sim.now;
  sync(sim, board, why);
  assert.ok(sim.now - t0 < 50, why(`synced after ${sim.now - t0} virtual ms`));
  assert.equal(events, 1);
  const r = ntpd.requests[0];
  assert.equal(r.version, 4);
  assert.equal(r.mode, 3);
  assert.ok(r.srcPort >= 49152, why(`source port ${r.srcPort}`));
  const s = board.sntp.lastSample()!;
  assert.equal(s.server, "10.0.0.123");
  assert.equal(s.stratum, 2);
  // 1 ms each way on each of the two links: 4 ms round trip, the server's processing excluded.
  assert.ok(s.delayMs >= 3 && s.delayMs <= 5, why(`delay ${s.delayMs} ms`));
  // Two links of 1 ms: one-way 2 ms; symmetric, so the error is the clocks' ms granularity.
  const link = 2;
  for (let k = 0; k < 3; k++) {
    const diff = boardMs(board) - ntpd.clockMs();
    assert.ok(Math.abs(diff) <= link, why(`board - server = ${diff.toFixed(3)} ms after ${sim.now} ms`));
    assert.ok(Math.abs(board.sntp.now()!.getTime() - ntpd.clockMs()) <= link + 1, why("now() as a Date"));
    sim.runUntil(sim.now + 300_000);
  }
  const c = board.counters();
  assert.ok(c.sntp_samples >= 3, why(`${c.sntp_samples} samples in 15 min`));
  // Every request answered; those sent while ARP resolved only warm the path (no sample).
  assert.equal(ntpd.requests.length, c.sntp_requests);
  assert.equal(c.sntp_timeouts, 0);
  assert.ok(c.sntp_requests - c.sntp_samples <= c.arp_requests_sent, why("one extra request per ARP resolution at most"));
  assert.equal(c.sntp_bad_origin + c.sntp_bad_source + c.sntp_malformed + c.sntp_bad_mode, 0);
  assert.equal(board.rxAccounted(), c.rx_frames);
});

test("SNTP sim: the poll interval doubles from 64 s; a RATE kiss doubles it again and is waited out", () => {
  const { sim, ntpd, board, why } = setup();
  board.sntp.setServers(["10.0.0.123"]);
  sync(sim, board, why);
  assert.ok(sim.runUntil(() => polls(ntpd).length === 2, { timeout: 70_000 }), why("second poll"));
  sim.runUntil(sim.now + 100);
  let p = polls(ntpd);
  assert.ok(gap(p[0], p[1], 64_000), why(`first interval ${p[1] - p[0]}`));
  // The next poll (after 128 s) is answered with RATE: the interval, 256 s, becomes 512 s.
  ntpd.kiss = "RATE";
  assert.ok(sim.runUntil(() => polls(ntpd).length === 3, { timeout: 130_000 }), why("third poll"));
  sim.runUntil(sim.now + 100);
  ntpd.kiss = undefined;
  p = polls(ntpd);
  assert.ok(gap(p[1], p[2], 128_000), why(`second interval ${p[2] - p[1]}`));
  assert.equal(board.counters().sntp_kisses, 1);
  assert.ok(sim.runUntil(() => polls(ntpd).length === 4, { timeout: 600_000 }), why("fourth poll"));
  p = polls(ntpd);
  assert.ok(gap(p[2], p[3], 512_000), why(`backed off by the kiss: ${p[3] - p[2]}`));
  sim.runUntil(sim.now + 100);
  assert.ok(board.sntp.synced);
  assert.equal(board.counters().sntp_samples, 3);
});

test("SNTP sim: no reply backs off from 15 s, doubling; an unsynchronised server is not believed", () => {
  const { sim, ntpd, board, why } = setup();
  ntpd.leap = 3;
  board.sntp.setServers(["10.0.0.123"]);
  sim.runUntil(sim.now + 200_000);
  assert.equal(board.sntp.synced, false);
  const t = ntpd.requests.map((r) => r.time);
  // Each request times out after 3 s; then 15, 30, 60 s... between rounds.
  const gaps = t.slice(1).map((x, i) => x - t[i]);
  assert.equal(gaps.length, 3, why(`gaps ${gaps}`));
  [18_000, 33_000, 63_000].forEach((g, i) => assert.ok(Math.abs(gaps[i] - g) <= 10, why(`gaps ${gaps}`)));
  const c = board.counters();
  assert.equal(c.sntp_unsynced, t.length);
  assert.equal(c.sntp_timeouts, t.length);
  ntpd.leap = 0;
  assert.ok(sim.runUntil(() => board.sntp.synced, { timeout: 300_000 }), why("synced once the server is"));
});

test("SNTP sim: the servers come from the DHCP lease (option 42)", () => {
  const sim = new Simulator({ seed: SEED });
  const ntpd = new SimNtpServer(sim, { ip: "10.1.0.123" });
  new SimDhcpServer(sim, {
    ip: "10.1.0.1", prefix: 24, poolStart: "10.1.0.100", poolEnd: "10.1.0.199",
    extraOptions: [[42, Uint8Array.of(10, 1, 0, 123)]],
  });
  const board = sim.addBoard({ name: "A", mac: "02:00:00:00:00:0a", link: { delay: 1 } });
  dhcpStart(board, "a");
  assert.ok(sim.runUntil(() => dhcpStatus(board).state === "BOUND", { timeout: 10_000 }));
  assert.deepEqual(board.sntp.getServers(), ["10.1.0.123"]);
  assert.ok(sim.runUntil(() => board.sntp.synced, { timeout: 10_000 }), `no sync (seed ${SEED})`);
  assert.ok(Math.abs(boardMs(board) - ntpd.clockMs()) <= 2);
});
