// `wasmip sim --topology`: topology validation, a 50-board fleet whose summary must match the
// checked-in expectation (tests/host/fleet50.expect.json: the run's invariants, no counts), cross-
// checked here against the raw run (leases, task runs, link and counter totals), and determinism.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ipToU32 } from "../../host/board/address.ts";
import { ROOT } from "../../host/board/board.ts";
import type { FleetSummary } from "../../host/sim/fleet/summary.ts";
import { runFleet } from "../../host/sim/fleet/fleet.ts";
import { parsePcap } from "../../host/capture/pcap.ts";
import { loadTopology, parseTopology, TopologyError } from "../../host/sim/fleet/topology.ts";

const dir = mkdtempSync(path.join(tmpdir(), "wasmip-fleet-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const CLI = path.join(ROOT, "host", "cli.ts");
const FLEET50 = path.join(ROOT, "tests", "host", "fleet50.json");
const EXPECT = JSON.parse(readFileSync(path.join(ROOT, "tests", "host", "fleet50.expect.json"), "utf8"));

function wasmip(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const minimal = (over: Record<string, unknown> = {}) => ({ duration: "10s", boards: [{ name: "a", firmware: "http", address: "10.0.0.80" }], ...over });

test("topology: defaults, group expansion, MACs, addresses, durations and probabilities", () => {
  const t = parseTopology({
    duration: "1.5m",
    switches: ["core", "edge"],
    links: [{ between: ["core", "edge"], delay: "2ms", loss: "5%", forward: { jitter: 3 } }],
    boards: [
      { name: "web", firmware: "http", address: "10.0.0.80" },
      { name: "s{i:3}", count: 3, firmware: "fetch", switch: "edge", link: { up: { loss: 0.1 } }, do: [{ fetch: "http://web.fleet:8080/x?y", every: "2s", count: 2 }] },
      { name: "rack-{i}", count: 2, address: "10.0.0.100" },
    ],
  });
  assert.equal(t.duration, 90_000);
  assert.equal(t.seed, 1);
  assert.deepEqual(t.boards.map((b) => b.name), ["web", "s001", "s002", "s003", "rack-1", "rack-2"]);
  assert.deepEqual(t.boards.map((b) => b.mac), ["02:fe:00:00:00:01", "02:fe:00:00:00:02", "02:fe:00:00:00:03", "02:fe:00:00:00:04", "02:fe:00:00:00:05", "02:fe:00:00:00:06"]);
  assert.deepEqual(t.boards.slice(4).map((b) => b.address), [ipToU32("10.0.0.100"), ipToU32("10.0.0.101")]);
  assert.equal(t.boards[1].address, "dhcp");
  assert.equal(t.boards[1].switch, "edge");
  assert.equal(t.boards[0].switch, "core", "the first switch by default");
  assert.deepEqual(t.boards[1].link, { delay: 1, toSwitch: { loss: 0.1 } });
  assert.deepEqual(t.trunks[0], { name: "core-edge", a: "core", b: "edge", link: { delay: 2, loss: 0.05, fromSwitch: { jitter: 3 } } });
  const f = t.boards[1].tasks[0];
  assert.ok(f.kind === "fetch" && f.host === "web.fleet" && f.port === 8080 && f.path === "/x?y" && f.every === 2000 && f.count === 2);
  // Defaults: 10.0.0.0/16, DHCP .2 with the upper half as pool, DNS .3 zone fleet.
  assert.deepEqual([t.subnet.prefix, t.dhcp!.server, t.dhcp!.poolStart, t.dhcp!.poolEnd, t.dns!.server, t.dns!.zone], [16, ipToU32("10.0.0.2"), ipToU32("10.0.128.0"), ipToU32("10.0.255.254"), ipToU32("10.0.0.3"), "fleet"]);
  assert.ok(t.boards[0].wasm.endsWith(path.join("build", "http.wasm")));
});

test("topology: every mistake is an error naming where it is", () => {
  const cases: [unknown, RegExp][] = [
    [{ boards: [{ name: "a" }] }, /duration: the run length in virtual time is required/],
    [minimal({ seeed: 3 }), /topology: unknown key "seeed" \(allowed: description, seed, duration/],
    [minimal({ duration: "ten seconds" }), /duration: expected a duration/],
    [minimal({ boards: [{ name: "a", frimware: "http" }] }), /boards\[0\]: unknown key "frimware"/],
    [minimal({ boards: [{ name: "a", firmware: "nope" }] }), /boards\[0\]\.firmware: unknown firmware "nope"/],
    [minimal({ boards: [{ name: "s", count: 3 }] }), /needs \{i\} in its name/],
    [minimal({ boards: [{ name: "A_1" }] }), /"a_1" is not a host name/],
    [minimal({ boards: [{ name: "a" }, { name: "a" }] }), /two boards are named "a"/],
    [minimal({ boards: [{ name: "a", address: "10.0.200.1" }] }), /static address 10\.0\.200\.1 is inside the DHCP pool/],
    [minimal({ boards: [{ name: "a", address: "10.0.0.3" }] }), /already used by the DNS server/],
    [minimal({ boards: [{ name: "a", address: "192.168.1.1" }] }), /not a host address in 10\.0\.0\.0\/16/],
    [minimal({ boards: [{ name: "a", switch: "edge" }] }), /boards\[0\]\.switch: no switch "edge"/],
    [minimal({ switches: ["a", "b", "c"], links: [{ between: ["a", "b"] }, { between: ["b", "c"] }, { between: ["c", "a"] }] }), /link c-a closes a loop/],
    [minimal({ switches: ["a", "b"], links: [{ between: ["a", "b"], loss: 2 }] }), /links\[0\]\.loss: expected a probability/],
    [minimal({ boards: [{ name: "a", do: [{ fetch: "http://nobody.fleet/" }] }] }), /nobody\.fleet is not a board of this topology/],
    [minimal({ boards: [{ name: "a", do: [{ fetch: "ftp://x/" }] }] }), /expected a URL like http:\/\/web\.fleet\//],
    [minimal({ boards: [{ name: "a", do: [{ fetch: "http://a.fleet/", bulk: "a.fleet:7" }] }] }), /exactly one of fetch, bulk, ping, udp, tcp \(got fetch and bulk\)/],
    [minimal({ boards: [{ name: "a", do: [{ tcp: "a.fleet:7000" }] }] }), /do\[0\]\.send: expected a non-empty string/],
    [minimal({ boards: [{ name: "a", do: [{ tcp: "a.fleet" }] }] }), /do\[0\]\.tcp: expected a port 1\.\.65535 in "a\.fleet"/],
    [minimal({ boards: [{ name: "a", do: [{ tcp: "a.fleet:1", send: "\u20ac" }] }] }), /do\[0\]\.send: one byte per character/],
    [minimal({ boards: [{ name: "a", do: [{ udp: "a.fleet:7", expect: "x" }] }] }), /do\[0\]\.expect: needs send/],
    [minimal({ boards: [{ name: "a", do: [{ udp: "a.fleet" }, { fetch: "http://a.fleet/", spreed: 1 }] }] }), /do\[1\]: unknown key "spreed"/],
    [minimal({ boards: [{ name: "a", do: [{ fetch: "http://a.fleet/" }, { fetch: "http://a.fleet/" }] }] }), /at most one fetch task per board/],
    [minimal({ network: { dhcp: false }, boards: [{ name: "a" }] }), /uses DHCP but network\.dhcp is false/],
    [minimal({ network: { subnet: "10.0.0.1/16" } }), /not the network address of a \/16 \(did you mean 10\.0\.0\.0\/16\?\)/],
    [minimal({ boards: [{ name: "a", boot: "20s" }] }), /would power on after the end of the run/],
    [minimal({ network: { subnet: "10.0.0.0/24", dhcp: { pool: "10.0.0.200-10.0.0.201" } }, boards: [{ name: "s{i}", count: 3 }] }), /3 boards use DHCP but the pool has 2 addresses/],
  ];
  for (const [json, re] of cases) assert.throws(() => parseTopology(json), (e: unknown) => e instanceof TopologyError && re.test(e.message), `${JSON.stringify(json)} should fail with ${re}`);
  // Our app names, sensor included, and any path (relative to the file's folder) are images.
  const named = parseTopology(minimal({ boards: [{ name: "s", firmware: "sensor" }, { name: "m", firmware: "out/mine.bin" }] }), "/proj");
  assert.deepEqual(named.boards.map((b) => b.wasm), [path.join(ROOT, "build", "sensor.wasm"), "/proj/out/mine.bin"]);
  assert.throws(() => loadTopology(path.join(dir, "missing.json")), /no such file/);
});

function checkAgainstRun(s: FleetSummary): void {
  const topo = loadTopology(FLEET50);
  assert.equal(s.boards.length, topo.boards.length);
  const dhcpBoards = topo.boards.filter((b) => b.address === "dhcp");
  // Every DHCP board holds a distinct lease from the pool, and the server agrees.
  assert.equal(s.dhcp?.leases, dhcpBoards.length);
  const leased = s.boards.filter((b) => b.dhcp).map((b) => ipToU32(b.address!));
  assert.equal(new Set(leased).size, dhcpBoards.length);
  assert.ok(leased.every((a) => a >= topo.dhcp!.poolStart && a <= topo.dhcp!.poolEnd));
  for (const b of s.boards) {
    const spec = topo.boards.find((x) => x.name === b.name)!;
    assert.equal(b.tasks.length, spec.tasks.length, b.name);
    for (const [i, t] of b.tasks.entries()) {
      const want = spec.tasks[i];
      const runs = want.kind === "ping" || want.kind === "udp" ? 1 : want.count;
      assert.equal(t.runs.length, runs, `${b.name} do[${i}]: runs`);
      for (const r of t.runs) {
        assert.ok(r.end !== undefined && r.end >= r.start && r.ok, `${b.name} do[${i}]: ${JSON.stringify(r)}`);
        if (want.kind === "fetch") assert.match(r.detail, /^200 OK, \d+ bytes$/);
        if (want.kind === "bulk") assert.equal(r.detail, `${want.bytes} of ${want.bytes} bytes echoed`);
      }
      // A packet the core refused (ENOBUFS while ARP resolves: only 2 frames wait per neighbour) is counted, not lost silently.
      if (want.kind === "udp" || want.kind === "ping")
        assert.ok(t.received! >= 1 && t.received! <= t.sent! && t.sent! + t.notSent! === want.count, `${b.name}: ${t.received}/${t.sent}+${t.notSent}`);
    }
    // A board's rx counters account for exactly the frames its link delivered.
    assert.ok(b.rxFrames > 0 && b.txFrames > 0 && b.rxDropped <= b.rxFrames, b.name);
    assert.ok(b.tcp.every((r) => r.state !== "SYN_SENT" && r.state !== "SYN_RECEIVED"), `${b.name}: a half-open connection left: ${JSON.stringify(b.tcp)}`);
  }
  // Every frame put on a board's or a service's link is on some switch's books.
  const intoSwitches = s.links.reduce((n, l) => n + Object.entries(l.directions).filter(([d]) => l.kind !== "trunk" && d.endsWith(">switch")).reduce((m, [, x]) => m + x.delivered, 0), 0);
  const trunkDelivered = s.links.filter((l) => l.kind === "trunk").reduce((n, l) => n + Object.values(l.directions).reduce((m, x) => m + x.delivered, 0), 0);
  assert.equal(s.switches.reduce((n, x) => n + x.stats.received, 0), intoSwitches + trunkDelivered);
}

test("a 50-board fleet from tests/host/fleet50.json keeps every checked-in invariant, and the same seed gives the same pcap", () => {
  const topo = loadTopology(FLEET50);
  assert.equal(topo.boards.length, 50);
  const lines: string[] = [];
  const pcap1 = path.join(dir, "f1.pcap");
  const s = runFleet(topo, { pcap: pcap1, print: (l) => lines.push(l) });
  assert.deepEqual(s.invariants, EXPECT.invariants, `seed ${s.seed}:\n${lines.filter((l) => /invariants|: [^a]|FAILED/.test(l)).slice(-20).join("\n")}`);
  assert.equal(s.ok, true);
  checkAgainstRun(s);
  // The report: a row per board, each board's table and counters, the invariants.
  for (const b of s.boards) assert.ok(lines.some((l) => l.startsWith(`--- ${b.name} (`)), b.name);
  assert.ok(lines.some((l) => /^  Proto Recv-Q Send-Q Local Address/.test(l)));
  assert.ok(lines.some((l) => /^  tcp +0 +0 0\.0\.0\.0:80 +\*:\* +LISTEN$/.test(l)), "web's listener in its connection table");
  assert.ok(lines.some((l) => /^  Dhcp:$/.test(l)) && lines.includes("fleet ok"));
  const bytes1 = readFileSync(pcap1);
  assert.equal(parsePcap(bytes1).records.length, s.pcapFrames);
  const pcap2 = path.join(dir, "f2.pcap");
  runFleet(topo, { pcap: pcap2, print: () => {}, brief: true });
  assert.ok(bytes1.equals(readFileSync(pcap2)), "same seed, same capture byte for byte");
  const pcap3 = path.join(dir, "f3.pcap");
  const other = runFleet(topo, { pcap: pcap3, seed: topo.seed + 1, print: () => {}, brief: true });
  assert.ok(!bytes1.equals(readFileSync(pcap3)), "another seed, another capture");
  assert.deepEqual(other.invariants, EXPECT.invariants, `seed ${other.seed}`);
});

test("invariants can fail: a fetch from a board that serves no HTTP is reported, and the command exits 1", () => {
  const file = path.join(dir, "bad.json");
  const json = {
    duration: "40s",
    boards: [
      { name: "echo", firmware: "echo", address: "10.0.0.7" },
      { name: "c", firmware: "fetch", do: [{ fetch: "http://echo.fleet/" }] },
    ],
  };
  writeFileSync(file, JSON.stringify(json));
  const topo = parseTopology(json, ROOT, file);
  assert.ok(topo.warnings.some((w) => /echo runs echo, which does not listen on TCP 80/.test(w)));
  const s = runFleet(topo, { print: () => {}, brief: true });
  assert.equal(s.ok, false);
  assert.equal(s.invariants.boardsUp, "all");
  assert.match(s.invariants.tasksOk, /^1 failed: c do\[0\] fetch http:\/\/echo\.fleet\/: ECONNREFUSED$/);
  const r = wasmip("sim", "--topology", file, "--brief");
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /warning: .*does not listen on TCP 80/);
  assert.match(r.out, /every task ok: 1 failed: c do\[0\]/);
  assert.match(r.out, /^fleet FAILED$/m);
  assert.equal(s.invariants.countersConsistent, "yes");
});

test("wasmip sim --topology: the example fleet, per-board captures, JSON summary; bad files exit 2", () => {
  const json = path.join(dir, "s.json");
  const caps = path.join(dir, "caps");
  const r = wasmip("sim", "--topology", "examples/fleet.json", "--brief", "--capture-dir", caps, "--capture", "web,sensor-01", "--json", json, "--duration", "70s");
  assert.equal(r.code, 0, r.err + r.out.slice(-2000));
  assert.match(r.out, /^wasmip sim: examples\/fleet\.json: \d+ boards/);
  assert.match(r.out, /^board +firmware +switch +address/m);
  assert.match(r.out, /every task ok: all/);
  assert.ok(!/^--- web/m.test(r.out), "--brief: no per-board sections");
  assert.ok(existsSync(path.join(caps, "web.pcap")) && existsSync(path.join(caps, "sensor-01.pcap")));
  assert.ok(!existsSync(path.join(caps, "echo.pcap")));
  const summary = JSON.parse(readFileSync(json, "utf8")) as FleetSummary;
  assert.equal(summary.duration, 70_000);
  assert.equal(summary.ok, true);
  const bad = path.join(dir, "typo.json");
  writeFileSync(bad, JSON.stringify(minimal({ boards: [{ name: "a", adress: "10.0.0.9" }] })));
  const e = wasmip("sim", "--topology", bad);
  assert.equal(e.code, 2);
  assert.match(e.err, /typo\.json: boards\[0\]: unknown key "adress"/);
  assert.equal(wasmip("sim", "--topology", path.join(dir, "none.json")).code, 2);
  const u = wasmip("sim", "--topology", "examples/fleet.json", "--count", "3");
  assert.equal(u.code, 2);
  assert.match(u.err, /with --topology, the demo's flags do not apply/);
});
