// Issue 4 end to end against real servers: a board with no configuration leases an address from
// dnsmasq, takes its DNS server from the lease, resolves a name dnsmasq serves, connects by that
// name to a kernel HTTP server and gets 200; an unknown name gives NXDOMAIN. All in a namespace
// this test creates and deletes; its processes are killed by pid.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { requirePrereqs } from "./prereqs.ts";
import { netnsList, killChild, run, IP } from "../../host/devices/netns.ts";
import { appWasm } from "../../host/board/board.ts";
import { TapSession } from "../../host/devices/tap.ts";
import { Dnsmasq } from "../../host/devices/services/dnsmasq.ts";
import { dhcpStart } from "../../host/board/dhcp.ts";
import { DnsError } from "../../host/board/dns.ts";

const NS = `wasmip-b${process.pid}`.slice(0, 15);
const TAP = "wboot0";
const PEER = "10.213.93.1";
const HTTP_PORT = 8081;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

test("tap: boot with no configuration: DHCP lease, DNS from the lease, fetch http://web.test/ by name", { timeout: 60_000 }, async (t) => {
  if (!requirePrereqs(t, ["dnsmasq", "python3"], [appWasm("fetch")])) return;
  assert.ok(!(await netnsList()).includes(NS), `namespace ${NS} exists before the test`);
  const logs: string[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-boot-"));
  writeFileSync(path.join(dir, "index.html"), "booted by DHCP, found by DNS\n");
  const session = new TapSession();
  const children: ChildProcess[] = [];
  let dns: Dnsmasq | undefined;
  try {
    await session.start({ netns: NS, tap: TAP, boardIp: "10.213.93.2/24", peerIp: `${PEER}/24`, app: "fetch", addressless: true, log: (l, m) => logs.push(`[${l}] ${m}`) });
    dns = new Dnsmasq(session, {
      tap: TAP,
      rangeStart: "10.213.93.100",
      rangeEnd: "10.213.93.150",
      router: PEER,
      dns: [PEER],
      extraArgs: ["--no-ping", "--port=53", "--local=/test/", `--host-record=web.test,${PEER}`],
    });
    await dns.ready();
    const http = session.spawn("python3", ["-u", "-m", "http.server", String(HTTP_PORT), "--bind", PEER, "--directory", dir]);
    children.push(http);
    let served = "";
    http.stdout?.on("data", (d: Buffer) => (served += d.toString()));
    for (let i = 0; i < 250 && !/Serving HTTP/.test(served); i++) await sleep(20);
    assert.match(served, /Serving HTTP/, "python3 -m http.server did not start");
    const board = session.board!;
    dhcpStart(board, "wasmip-boot");
    const lease = await session.waitLease(20_000);
    assert.equal(lease.router, PEER);
    // The resolver was given the lease's DNS server by the core itself.
    assert.deepEqual(board.dns.getServers(), [PEER]);
    let file = dns.leases();
    for (let i = 0; i < 50 && file.length === 0; i++) {
      await sleep(20);
      file = dns.leases();
    }
    assert.equal(file[0]?.ip, lease.address, `dnsmasq's lease file: ${JSON.stringify(file)}`);
    await assert.rejects(board.dns.lookup("unknown.test"), (e: DnsError) => e.code === "ENOTFOUND");

    const ex = board.exports as Record<string, (...a: number[]) => number>;
    const ptr = ex.io_buffer();
    board.memoryBytes().set(Buffer.from("web.test"), ptr);
    board.memoryBytes().set(Buffer.from("/"), ptr + 256);
    assert.equal(ex.fetch_start(ptr, 8, HTTP_PORT, ptr + 256, 1), 0);
    session.runner!.kick();
    for (let i = 0; i < 500 && ex.fetch_state() > 0 && ex.fetch_state() < 5; i++) await sleep(10);
    assert.equal(ex.fetch_status(), 200, `fetch: ${ex.fetch_status()}\n${logs.join("\n")}`);
    assert.ok(logs.some((l) => l.includes(`fetch: web.test is ${PEER}`)), logs.join("\n"));
    assert.equal(session.error, undefined, `runner error: ${session.error?.message}`);
  } finally {
    for (const c of children) await killChild(c).catch(() => {});
    await dns?.stop().catch(() => {});
    await session.stop();
    rmSync(dir, { recursive: true, force: true });
    if ((await netnsList()).includes(NS)) {
      await run(IP, ["netns", "del", NS], { check: false });
      assert.fail(`namespace ${NS} was left behind`);
    }
  }
});
