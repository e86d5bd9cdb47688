// The link and network events in virtual time: a cable pulled and plugged back (Simulator.setLink),
// the board's events as Node events ('link', 'address', 'renewed', 'addressLost', 'dns'), the DHCP
// client's INIT-REBOOT against the simulated server, a TCP transfer that outlives the outage, and
// per-module log levels.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { Simulator } from "../../host/sim/sim.ts";
import { SimDhcpServer } from "../../host/sim/services/dhcpd.ts";
import { dhcpStart, dhcpStatus } from "../../host/board/dhcp.ts";
import { parseLogLevels, type Board } from "../../host/board/board.ts";

function setup(seed = 3) {
  const sim = new Simulator({ seed });
  const logs: string[] = [];
  sim.onLog = (e) => logs.push(`${e.board} ${e.level} ${e.msg}`);
  const server = new SimDhcpServer(sim, {
    ip: "10.1.0.1", prefix: 24, router: "10.1.0.254", dns: ["10.1.0.53"], poolStart: "10.1.0.100", poolEnd: "10.1.0.199", leaseSecs: 3600,
  });
  const board = sim.addBoard({ name: "A", mac: "02:00:00:00:00:0a", link: { delay: 1 } });
  const events: string[] = [];
  for (const ev of ["link", "address", "renewed", "addressLost", "dns"])
    board.on(ev, (arg: unknown) => events.push(`${ev} ${Array.isArray(arg) ? arg.join(",") : arg}`));
  return { sim, server, board, events, logs };
}

function boot(sim: Simulator, board: Board): void {
  dhcpStart(board, "board-a");
  assert.ok(sim.runUntil(() => dhcpStatus(board).state === "BOUND", { timeout: 10_000 }), "no lease within 10 s");
}

test("link sim: a lease, the cable out and back: events in order, INIT-REBOOT confirms the address", () => {
  const { sim, server, board, events } = setup();
  boot(sim, board);
  assert.deepEqual(events, ["address 10.1.0.100", "dns 10.1.0.53"]);
  // The server's MAC in the cache (it answers ARP, not echo).
  board.ping("10.1.0.1", 0);
  assert.ok(sim.runUntil(() => board.counters().arp_resolved === 1, { timeout: 1000 }), "server not resolved");
  events.length = 0;
  sim.setLink(board, false);
  assert.equal(board.linkUp, false);
  assert.deepEqual(events, ["link false"]);
  // Nothing leaves while it is out: the echo request is built and dropped at the interface.
  board.ping("10.1.0.1", 1);
  sim.runFor(2500);
  assert.equal(board.counters().tx_link_down, 1);
  assert.equal(sim.linkOf(board).toSwitch.stats.unplugged, 0); // the core held it back itself
  const seenBefore = server.seen.length;
  sim.setLink(board, true);
  assert.ok(sim.runUntil(() => events.includes("renewed 10.1.0.100"), { timeout: 1000 }), `events: ${events.join("; ")}`);
  assert.deepEqual(events, ["link false", "link true", "renewed 10.1.0.100"]);
  const req = server.seen.slice(seenBefore);
  assert.deepEqual(req.map((s) => s.typeName), ["REQUEST"]);
  assert.equal(req[0].requestedIp, "10.1.0.100");
  assert.equal(req[0].serverId, undefined); // INIT-REBOOT: no server identifier (RFC 2131 §4.3.2)
  assert.equal(req[0].ciaddr, "0.0.0.0");
  assert.equal(dhcpStatus(board).state, "BOUND");
  assert.equal(board.counters().dhcp_reboots, 1);
  // The ARP cache was flushed: reaching the server again costs a fresh resolution.
  assert.equal(board.counters().arp_flushed, 1);
  board.ping("10.1.0.1", 2);
  assert.ok(sim.runUntil(() => board.counters().arp_resolved === 2, { timeout: 1000 }), "no new ARP resolution");
});

test("link sim: back on a network whose server refuses the address: NAK, address lost, a new lease", () => {
  const { sim, server, board, events } = setup();
  boot(sim, board);
  events.length = 0;
  sim.setLink(board, false);
  server.nakRequests = true;
  sim.setLink(board, true);
  assert.ok(sim.runUntil(() => events.includes("addressLost 10.1.0.100"), { timeout: 1000 }), `events: ${events.join("; ")}`);
  assert.equal(board.ip, 0);
  server.nakRequests = false;
  assert.ok(sim.runUntil(() => dhcpStatus(board).state === "BOUND", { timeout: 20_000 }), "no new lease");
  assert.deepEqual(events, ["link false", "link true", "addressLost 10.1.0.100", `address ${board.ipString}`]);
});

test("link sim: a TCP transfer outlives 5 s without a cable (retransmission after the link is back)", async () => {
  const sim = new Simulator({ seed: 5 });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:0a", ip: "10.0.0.2", prefix: 24, link: { delay: 1 } });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:0b", ip: "10.0.0.3", prefix: 24, link: { delay: 1 } });
  const data = Buffer.alloc(256 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >>> 11)) & 255;
  const got: Buffer[] = [];
  b.net.createServer((s) => s.on("data", (d: Buffer) => got.push(d))).listen(9);
  const c = a.net.connect(9, "10.0.0.3");
  await sim.runUntilSettled(once(c, "connect"), { timeout: 5000 });
  c.end(data);
  sim.at(sim.now + 20, () => sim.setLink(a, false));
  sim.at(sim.now + 5020, () => sim.setLink(a, true));
  await sim.runUntilSettled(once(c, "finish"), { timeout: 120_000 });
  assert.ok(sim.runUntil(() => Buffer.concat(got).length >= data.length, { timeout: 120_000 }), `received ${Buffer.concat(got).length} of ${data.length}`);
  const sha = (x: Buffer) => createHash("sha256").update(x).digest("hex");
  assert.equal(sha(Buffer.concat(got)), sha(data));
  assert.ok(a.counters().tx_link_down > 0, "something was sent while the cable was out");
  assert.equal(a.counters().eth_link_downs, 1);
});

test("link sim: per-module log levels: warn everywhere but dhcp at debug", () => {
  const sim = new Simulator({ seed: 7 });
  const lines: string[] = [];
  sim.onLog = (e) => lines.push(`${e.level} ${e.msg}`);
  new SimDhcpServer(sim, { ip: "10.1.0.1", prefix: 24, poolStart: "10.1.0.100", poolEnd: "10.1.0.199" });
  const board = sim.addBoard({ name: "A", mac: "02:00:00:00:00:0a", logLevel: parseLogLevels("warn,dhcp=debug") });
  boot(sim, board);
  board.ping("10.1.0.1", 1); // an arp: and an icmp: line at info, not shown
  sim.runFor(1000);
  assert.ok(lines.length > 0);
  assert.ok(lines.every((l) => l.startsWith("info dhcp: ") || l.startsWith("debug dhcp: ") || /^(warn|error) /.test(l)), lines.join("\n"));
  assert.ok(lines.some((l) => l.includes("dhcp: bound to 10.1.0.100")), lines.join("\n"));
  board.setLogLevel({ modules: { arp: "info" } });
  board.ping("10.1.0.9", 2); // nobody: arp asks
  sim.runFor(1500);
  assert.ok(lines.some((l) => l.startsWith("info arp: who-has 10.1.0.9")), lines.join("\n"));
  assert.ok(!lines.some((l) => l.startsWith("info icmp: ")), lines.join("\n"));
  assert.throws(() => parseLogLevels("tcp=loud"), { code: "ERR_INVALID_ARG_VALUE", message: /bad log level "loud"/ });
  assert.throws(() => parseLogLevels("nfs=debug"), { code: "ERR_INVALID_ARG_VALUE", message: /bad log module "nfs"/ });
});
