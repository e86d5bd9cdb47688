// DNS against a real server: dnsmasq (Debian dnsmasq-base) on a TAP in a namespace this test
// creates (and always deletes; dnsmasq and the HTTP server are killed by pid). The board has a
// static address and is told the DNS server through dns_set_servers (board.dns.setServers). It
// resolves names dnsmasq serves (--host-record, --address), gets NXDOMAIN for one it does not
// know (--local=/test/: dnsmasq is authoritative for .test), then the fetch firmware resolves
// web.test, connects to a kernel HTTP server (python3 -m http.server bound to the peer address)
// and reads 200. Without the prerequisites the test is skipped locally and FAILS under CI=true.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { requirePrereqs } from "./prereqs.ts";
import { watch } from "./watch.ts";
import { netnsList, killChild, run, IP } from "../../host/devices/netns.ts";
import { appWasm } from "../../host/board/board.ts";
import { TapSession } from "../../host/devices/tap.ts";
import { DnsError } from "../../host/board/dns.ts";

const NS = `wasmip-n${process.pid}`.slice(0, 15);
const TAP = "wdns0";
const SUBNET = "10.213.87";
const BOARD = `${SUBNET}.2`;
const PEER = `${SUBNET}.1`;
const HTTP_PORT = 8080;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

test("tap: the board resolves names with dnsmasq, gets NXDOMAIN, and fetches http://web.test/ by name", { timeout: 60_000 }, async (t) => {
  const fetchWasm = appWasm("fetch");
  if (!requirePrereqs(t, ["dnsmasq", "python3"], [fetchWasm])) return;
  assert.ok(!(await netnsList()).includes(NS), `namespace ${NS} exists before the test`);
  const logs: string[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-dns-"));
  writeFileSync(path.join(dir, "index.html"), "<h1>hello from the kernel's peer</h1>\n");
  const session = new TapSession();
  const children: ChildProcess[] = [];
  try {
    await session.start({
      netns: NS,
      tap: TAP,
      boardIp: `${BOARD}/24`,
      peerIp: `${PEER}/24`,
      app: "fetch",
      log: (level, msg) => logs.push(`[${level}] ${msg}`),
    });
    const dnsmasq = session.spawn("dnsmasq", [
      "--no-daemon",
      "--conf-file=/dev/null",
      "--user=root",
      `--interface=${TAP}`,
      "--bind-interfaces",
      "--except-interface=lo",
      "--port=53",
      "--no-resolv",
      "--no-hosts",
      "--local=/test/",
      "--address=/board.test/10.213.87.77",
      `--host-record=web.test,${PEER}`,
      `--pid-file=${path.join(dir, "dnsmasq.pid")}`,
      "--log-queries",
      "--log-facility=-",
    ]);
    children.push(dnsmasq);
    const dlog = watch(dnsmasq);
    await dlog.until(/started, version/, 5000);
    const http = session.spawn("python3", ["-u", "-m", "http.server", String(HTTP_PORT), "--bind", PEER, "--directory", dir]);
    children.push(http);
    const hlog = watch(http);
    await hlog.until(/Serving HTTP/, 5000);
    assert.ok(await session.waitReachable(10), `the board did not answer ping:\n${logs.join("\n")}`);

    const board = session.board!;
    board.dns.setServers([PEER]);
    // A name dnsmasq serves (--host-record), timed: one UDP round trip plus ARP for the server.
    let t0 = performance.now();
    const web = await board.dns.lookup("web.test", { family: 4 });
    const first = performance.now() - t0;
    assert.deepEqual(web, { address: PEER, family: 4 });
    const other = await board.dns.lookup("board.test"); // --address
    assert.equal(other.address, "10.213.87.77");
    // A second name, ARP now resolved: the lookup round trip itself.
    board.dns.flushCache();
    t0 = performance.now();
    await board.dns.lookup("web.test");
    const rtt = performance.now() - t0;
    t0 = performance.now();
    await board.dns.lookup("web.test");
    const cached = performance.now() - t0;
    console.log(`# lookup against dnsmasq: first ${first.toFixed(2)} ms (with ARP), then ${rtt.toFixed(2)} ms; cached ${cached.toFixed(2)} ms`);
    await assert.rejects(board.dns.lookup("unknown.test"), (e: DnsError) => e.code === "ENOTFOUND" && e.errno === -11);
    const c = board.counters();
    assert.equal(c.dns_bad_id + c.dns_bad_source + c.dns_bad_question + c.dns_malformed, 0);
    assert.equal(c.dns_retransmits, 0);
    // dnsmasq's log lines may reach us after its answers did.
    await dlog.until(/query\[A\] web\.test from 10\.213\.87\.2/, 2000);
    await dlog.until(/query\[A\] unknown\.test/, 2000);

    // The fetch firmware: resolve, connect, GET, status line.
    board.dns.flushCache();
    const ex = board.exports as Record<string, (...a: number[]) => number>;
    const ptr = ex.io_buffer();
    const mem = board.memoryBytes();
    mem.set(Buffer.from("web.test"), ptr);
    mem.set(Buffer.from("/"), ptr + 256);
    assert.equal(ex.fetch_start(ptr, 8, HTTP_PORT, ptr + 256, 1), 0);
    session.runner!.kick();
    for (let i = 0; i < 500 && ex.fetch_state() > 0 && ex.fetch_state() < 5; i++) await sleep(10);
    assert.equal(ex.fetch_state(), 5, `fetch state ${ex.fetch_state()}:\n${logs.join("\n")}`);
    assert.equal(ex.fetch_status(), 200);
    const line = Buffer.from(board.memoryBytes().subarray(ex.fetch_line(), ex.fetch_line() + ex.fetch_line_len())).toString("latin1");
    assert.match(line, /^HTTP\/1\.[01] 200 OK$/);
    assert.equal(ex.fetch_body_bytes(), 38);
    assert.ok(logs.some((l) => l.includes(`fetch: web.test is ${PEER}`)), logs.join("\n"));
    assert.match(hlog.out(), /"GET \/ HTTP\/1\.1" 200/);
    assert.equal(session.error, undefined, `runner error: ${session.error?.message}`);
  } finally {
    for (const c of children) await killChild(c).catch(() => {});
    await session.stop();
    rmSync(dir, { recursive: true, force: true });
    if ((await netnsList()).includes(NS)) {
      await run(IP, ["netns", "del", NS], { check: false });
      assert.fail(`namespace ${NS} was left behind by stop()`);
    }
  }
});
