// The DHCP client in virtual time against the simulated server (host/sim/services/dhcpd.ts): boot with
// no configuration, renewal at T1, rebinding at T2 when the server is silent, expiry when all are
// silent, NAK handling, release.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Simulator } from "../../host/sim/sim.ts";
import { SimDhcpServer, simLease } from "../../host/sim/services/dhcpd.ts";
import { dhcpRelease, dhcpStart, dhcpStatus } from "../../host/board/dhcp.ts";
import type { Board } from "../../host/board/board.ts";

function setup(seed = 1, lease = 600, t1?: number, t2?: number) {
  const sim = new Simulator({ seed });
  const logs: string[] = [];
  sim.onLog = (e) => logs.push(`${e.time} ${e.board}: ${e.msg}`);
  const server = new SimDhcpServer(sim, {
    ip: "10.1.0.1",
    prefix: 24,
    router: "10.1.0.254",
    dns: ["10.1.0.53", "10.1.0.54"],
    poolStart: "10.1.0.100",
    poolEnd: "10.1.0.199",
    leaseSecs: lease,
    t1Secs: t1,
    t2Secs: t2,
  });
  const board = sim.addBoard({ name: "A", mac: "02:00:00:00:00:0a", link: { delay: 1 } });
  return { sim, server, board, logs };
}

function boot(sim: Simulator, board: Board): void {
  dhcpStart(board, "board-a");
  assert.ok(sim.runUntil(() => dhcpStatus(board).state === "BOUND", { timeout: 10_000 }), "no lease within 10 s");
}

test("DHCP sim: a board with no configuration leases an address at boot in 2 round trips", () => {
  const { sim, server, board } = setup();
  const t0 = sim.now;
  boot(sim, board);
  const st = dhcpStatus(board);
  assert.equal(st.address, "10.1.0.100");
  assert.equal(st.router, "10.1.0.254");
  assert.equal(st.server, "10.1.0.1");
  assert.deepEqual(st.dns, ["10.1.0.53", "10.1.0.54"]);
  assert.ok(st.leaseRemaining >= 599 && st.leaseRemaining <= 600); // counted from the REQUEST
  assert.deepEqual(server.seen.map((s) => s.typeName), ["DISCOVER", "REQUEST"]);
  const d = server.seen[0];
  assert.equal(d.hostName, "board-a");
  assert.equal(d.flags & 0x8000, 0x8000);
  assert.equal(d.ipSrc, "0.0.0.0");
  assert.equal(d.ipDst, "255.255.255.255");
  assert.equal(server.seen[1].requestedIp, "10.1.0.100");
  assert.equal(server.seen[1].serverId, "10.1.0.1");
  assert.equal(server.leaseOf("02:00:00:00:00:0a")?.ip, "10.1.0.100");
  assert.ok(sim.now - t0 <= 10, `bound after ${sim.now - t0} ms`);
  // The board answers ARP for its new address and its counters are consistent.
  const c = board.counters();
  assert.equal(c.dhcp_leases, 1);
  assert.equal(board.rxAccounted(), c.rx_frames);
});

test("DHCP sim: renewal at T1 is a unicast REQUEST to the server; the lease is extended", () => {
  const { sim, server, board } = setup(2, 600);
  boot(sim, board);
  const bound = sim.now;
  sim.runUntil(bound + 299_000);
  assert.equal(server.seen.length, 2);
  sim.runUntil(bound + 301_000);
  const r = server.seen[2];
  assert.equal(r.typeName, "REQUEST");
  assert.equal(r.ciaddr, "10.1.0.100");
  assert.equal(r.ipDst, "10.1.0.1");
  assert.equal(r.ipSrc, "10.1.0.100");
  assert.equal(r.serverId, undefined);
  assert.ok(Math.abs(r.time - bound - 300_000) <= 20, `renewed at +${r.time - bound} ms`);
  assert.equal(dhcpStatus(board).state, "BOUND");
  assert.ok(dhcpStatus(board).leaseRemaining >= 598);
  assert.equal(board.counters().dhcp_renewals, 1);
  // and again at the next T1
  sim.runUntil(bound + 602_000);
  assert.equal(board.counters().dhcp_renewals, 2);
  assert.equal(dhcpStatus(board).address, "10.1.0.100");
});

test("DHCP sim: the server silent after T1 -> rebinding at T2 (broadcast) -> a server answers", () => {
  const { sim, server, board } = setup(3, 800);
  boot(sim, board);
  const bound = sim.now;
  server.silent = true;
  sim.runUntil(bound + 699_000); // T2 = 700 s
  assert.equal(dhcpStatus(board).state, "RENEWING");
  const renewing = server.seen.slice(2);
  assert.ok(renewing.length >= 2 && renewing.every((s) => s.ipDst === "10.1.0.1"));
  server.silent = false;
  // The server is back but renewals are not due before T2 (60 s minimum retry, capped at T2)
  sim.runUntil(() => dhcpStatus(board).state === "BOUND", { timeout: 5_000 });
  assert.equal(dhcpStatus(board).state, "BOUND");
  const last = server.seen[server.seen.length - 1];
  assert.equal(last.ipDst, "255.255.255.255", "the REQUEST at T2 is broadcast");
  assert.equal(last.ciaddr, "10.1.0.100");
  assert.ok(Math.abs(last.time - bound - 700_000) <= 20);
  assert.equal(board.counters().dhcp_rebinds, 1);
});

test("DHCP sim: every server silent -> the lease expires, the address is dropped, discovery restarts", () => {
  const { sim, server, board, logs } = setup(4, 300);
  boot(sim, board);
  const bound = sim.now;
  server.silent = true;
  sim.runUntil(bound + 299_000);
  assert.equal(dhcpStatus(board).state, "REBINDING");
  assert.equal(dhcpStatus(board).address, "10.1.0.100");
  sim.runUntil(bound + 301_000);
  const st = dhcpStatus(board);
  assert.equal(st.address, "0.0.0.0");
  assert.equal(st.state, "SELECTING");
  assert.equal(board.counters().dhcp_expired, 1);
  assert.ok(logs.some((l) => l.includes("expired")));
  const after = server.seen.filter((s) => s.time >= bound + 299_000);
  assert.equal(after[0]?.typeName, "DISCOVER");
  assert.equal(after[0]?.ipSrc, "0.0.0.0");
  // The server comes back: a new lease
  server.silent = false;
  assert.ok(sim.runUntil(() => dhcpStatus(board).state === "BOUND", { timeout: 70_000 }));
});

test("DHCP sim: a NAK to the REQUEST restarts discovery; NAK on renewal drops the address", () => {
  const { sim, server, board } = setup(5, 600);
  server.nakRequests = true;
  dhcpStart(board, "board-a");
  sim.runUntil(sim.now + 50);
  assert.ok(board.counters().dhcp_naks >= 1);
  assert.notEqual(dhcpStatus(board).state, "BOUND");
  server.nakRequests = false;
  assert.ok(sim.runUntil(() => dhcpStatus(board).state === "BOUND", { timeout: 10_000 }));
  const bound = sim.now;
  server.nakRequests = true;
  sim.runUntil(bound + 300_100);
  assert.ok(board.counters().dhcp_naks >= 2);
  assert.equal(dhcpStatus(board).address === "10.1.0.100" && dhcpStatus(board).state === "BOUND", false);
});

test("DHCP sim: retransmissions back off 4, 8, 16 s (+-1 s) when no server answers", () => {
  const { sim, server, board } = setup(6);
  server.silent = true;
  dhcpStart(board, "board-a");
  sim.runUntil(sim.now + 40_000);
  const t = server.seen.map((s) => s.time);
  assert.equal(t.length, 4);
  const gaps = t.slice(1).map((x, i) => x - t[i]);
  [4000, 8000, 16000].forEach((g, i) => assert.ok(Math.abs(gaps[i] - g) <= 1000, `gap ${i}: ${gaps[i]}`));
  assert.equal(new Set(server.seen.map((s) => s.xid)).size, 1);
  assert.ok(server.seen[3].secs >= 27);
});

test("DHCP sim: release sends DHCPRELEASE and the server frees the lease; two boards get distinct addresses", () => {
  const { sim, server, board } = setup(7);
  const b2 = sim.addBoard({ name: "B", mac: "02:00:00:00:00:0b", link: { delay: 1 } });
  boot(sim, board);
  simLease(sim, b2, "board-b", 10_000);
  assert.notEqual(dhcpStatus(b2).address, dhcpStatus(board).address);
  // They reach each other with their leased addresses.
  board.ping(dhcpStatus(b2).address, 1);
  assert.ok(sim.runUntil(() => board.pingRtt(1) >= 0, { timeout: 2_000 }));
  dhcpRelease(board);
  sim.runUntil(sim.now + 100);
  assert.equal(dhcpStatus(board).state, "STOPPED");
  assert.equal(dhcpStatus(board).address, "0.0.0.0");
  assert.equal(server.seen[server.seen.length - 1].typeName, "RELEASE");
  assert.equal(server.leaseOf("02:00:00:00:00:0a"), undefined);
});

test("DHCP sim: leases through a 30% lossy link (retransmissions), and with two servers takes one", () => {
  for (const seed of [11, 12, 13, 14, 15]) {
    const sim = new Simulator({ seed });
    const s1 = new SimDhcpServer(sim, { name: "dhcpd1", ip: "10.1.0.1", prefix: 24, poolStart: "10.1.0.100", poolEnd: "10.1.0.199" });
    const s2 = new SimDhcpServer(sim, { name: "dhcpd2", mac: "02:00:00:00:d0:02", ip: "10.1.0.2", prefix: 24, poolStart: "10.1.0.200", poolEnd: "10.1.0.250" });
    const board = sim.addBoard({ name: "A", mac: "02:00:00:00:00:0a", link: { delay: 1, loss: 0.3 } });
    const st = simLease(sim, board, "lossy", 300_000);
    const mine = st.server === "10.1.0.1" ? s1 : s2;
    const other = mine === s1 ? s2 : s1;
    assert.equal(mine.leaseOf("02:00:00:00:00:0a")?.ip, st.address, `seed ${seed}`);
    assert.equal(other.leaseOf("02:00:00:00:00:0a"), undefined, `seed ${seed}`);
    assert.equal(board.rxAccounted(), board.counters().rx_frames);
  }
});
