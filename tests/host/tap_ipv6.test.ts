// IPv6 against the Linux kernel over a real TAP, in a namespace this test creates (and always
// deletes; dnsmasq and the injector are ended by pid): dnsmasq advertises fd00:1::/64 with RDNSS
// (--enable-ra, ra-only), the board (build/ipv6.wasm) forms its link-local and SLAAC addresses and
// resolves a --host-record name's AAAA (and A) through the RDNSS server over IPv6, the
// kernel pings both (20/20, 1400 bytes) and sees the board REACHABLE in `ip -6 neigh`; then spoofed
// RAs (hop limit 64; a global source) are ignored and counted. The image (build/echo6.wasm) serves
// TCP and UDP echo: `nc -6` sends 384 KiB to the global address and gets them back (sha256 both
// ways), and UDP datagrams up to the largest that fits come back from port 7. A second test: curl -6
// to the http app with IPv6 (build/http6.wasm) over the link-local address, on one keep-alive
// connection and new ones, netstat's table in RFC 5952 text, and the app's mDNS name's AAAA from
// `dig -p 5353` over IPv6 and over IPv4. Then, on each native board (posix: wasm2c; mps2: the
// Cortex-M3 in QEMU; wamr: WAMR's fast interpreter): the echo6 image, nc -6 and UDP echo over the
// link-local address (no router: fe80:: + the MAC's modified EUI-64); and the http6 image, SLAAC
// from dnsmasq's RA, curl -6 on both addresses (keep-alive and new connections), 1400-byte pings
// 20/20 to both, and the kernel's neighbour entries REACHABLE.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import os from "node:os";
import type { ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { requirePrereqs } from "./prereqs.ts";
import { ROOT } from "../../host/board/board.ts";
import { parseIpv6 } from "../../host/board/address.ts";
import { netnsList, type RunOptions, type RunResult } from "../../host/devices/netns.ts";
import { TapSession } from "../../host/devices/tap.ts";
import { Injector } from "../../host/devices/inject.ts";
import { Dnsmasq } from "../../host/devices/services/dnsmasq.ts";
import { formatTcpTable } from "../../host/board/netstat.ts";
import { formatStatus, type TapStatus } from "../../host/devices/status.ts";
import { QemuSession, statsErrors } from "../../host/devices/qemu.ts";
import { WamrSession } from "../../host/devices/wamr.ts";
import { boardFile, boardTools, isProcessBoard, startBoard, type PeerSession } from "./boards.ts";
import { CURL_WRITE_OUT, curlTransfers, expectedIndex } from "./curl.ts";

const NS = `wasmip-6${process.pid}`.slice(0, 15);
const TAP = "wip6";
const MAC = "02:00:00:00:86:02";
/** The board's addresses: fe80:: and the RA's prefix, each + the modified EUI-64 of MAC. */
const LL = "fe80::ff:fe00:8602";
const SLAAC = "fd00:1::ff:fe00:8602";
const ROUTER = "fd00:1::1";
/** A name dnsmasq answers with an A and an AAAA record (--host-record). */
const NAME6 = "board6.test";
const NAME6_ADDR = "fd00:1::42";
const WASM = path.join(ROOT, "build", "echo6.wasm");
const HTTP6 = path.join(ROOT, "build", "http6.wasm");
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

/** The ones' complement checksum of the ICMPv6 message m from src to dst (RFC 4443 §2.3). */
function icmp6Checksum(src: Uint8Array, dst: Uint8Array, m: Uint8Array): number {
  const b = Buffer.concat([Buffer.from(src), Buffer.from(dst), Buffer.from([0, 0, m.length >> 8, m.length & 255, 0, 0, 0, 58]), Buffer.from(m)]);
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (i + 1 < b.length ? b[i + 1] : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** An RA for fd00:bad::/64 (A and L flags) from src to ff02::1 with the given hop limit. */
function spoofedRa(src: string, hops: number): Uint8Array {
  const s = parseIpv6(src);
  const d = parseIpv6("ff02::1");
  const m = new Uint8Array(16 + 32);
  m[0] = 134;
  m[4] = 64;
  m[6] = 0x07; m[7] = 0x08; // router lifetime 1800
  m.set([3, 4, 64, 0xc0, 0, 1, 0x51, 0x80, 0, 0, 0x38, 0x40], 16); // prefix info: valid 86400, preferred 14400
  m.set(parseIpv6("fd00:bad::"), 16 + 16);
  const c = icmp6Checksum(s, d, m);
  m[2] = c >> 8;
  m[3] = c & 255;
  const f = new Uint8Array(14 + 40 + m.length);
  f.set([0x33, 0x33, 0, 0, 0, 1, 0x02, 0, 0, 0, 0xba, 0xd0, 0x86, 0xdd]);
  f.set([0x60, 0, 0, 0, 0, m.length, 58, hops], 14);
  f.set(s, 22);
  f.set(d, 38);
  f.set(m, 54);
  return f;
}

/** What the tests run commands and daemons through: a session's namespace. */
interface InNamespace {
  exec(cmd: string, args: string[], opts?: RunOptions): Promise<RunResult>;
  spawn(cmd: string, args: string[]): ChildProcess;
}

/** Wait (up to 10 s) for the kernel's own link-local address to pass DAD: until then it cannot be a source. */
async function kernelLinkLocal(s: InNamespace): Promise<void> {
  for (const t0 = Date.now(); (await s.exec("ip", ["-6", "addr", "show", "dev", TAP, "tentative"])).stdout.trim() !== ""; ) {
    assert.ok(Date.now() - t0 < 10_000, "the kernel's link-local address stays tentative");
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** dnsmasq as the link's router: ROUTER/64 on the kernel's side of the tap, RAs for fd00:1::/64
 *  (ra-only: SLAAC, no DHCPv6; every 10 s, router lifetime 600 s) with ROUTER as the RDNSS
 *  server; v4 (the first three octets of the IPv4 subnet) for its DHCPv4 range. Started once the
 *  kernel's link-local address is usable: before that dnsmasq sends its RAs from ROUTER, which the
 *  board drops (RFC 4861 §6.1.2: nd_bad_source), and SLAAC waits 4 s for the board's next RS. */
async function startRouter(s: InNamespace, v4: string, extraArgs: string[] = []): Promise<Dnsmasq> {
  const ip = await s.exec("ip", ["-6", "addr", "add", `${ROUTER}/64`, "dev", TAP, "nodad"]);
  assert.equal(ip.code, 0, ip.stderr);
  await kernelLinkLocal(s);
  const dns = new Dnsmasq(s, {
    tap: TAP, rangeStart: `${v4}.100`, rangeEnd: `${v4}.150`,
    extraArgs: ["--enable-ra", "--dhcp-range=fd00:1::,ra-only,64,12h", `--ra-param=${TAP},10,600`, `--dhcp-option=option6:dns-server,[${ROUTER}]`, ...extraArgs],
  });
  try {
    await dns.ready();
  } catch (e) {
    await dns.stop().catch(() => {});
    throw e;
  }
  return dns;
}

/** Two GETs of / at url (an IPv6 literal) in one curl run: on one keep-alive connection, or with
 *  `Connection: close` each on a new one (the board closes); status and body checked. */
async function curlTwice(s: InNamespace, url: string, close: boolean, logs: string[]): Promise<void> {
  const args = ["-6", "-g", "--http1.1", "-sS", "-m", "10", "-w", CURL_WRITE_OUT, ...(close ? ["-H", "Connection: close"] : []), url, url];
  const r = await s.exec("curl", args, { timeoutMs: 20_000, check: false });
  assert.equal(r.code, 0, `curl ${url}: ${r.stderr}\n${logs.slice(-20).join("\n")}`);
  const got = curlTransfers(r.stdout);
  assert.deepEqual(got.map((x) => [x.code, x.connects]), [[200, 1], [200, close ? 1 : 0]], `curl ${url}${close ? " (close)" : ""}: status, new connections`);
  const index = expectedIndex();
  for (const x of got) assert.equal(x.body, index, `curl ${url}: body`);
}

/** 20 pings of 1400 bytes from the kernel to each address (a zone for a link-local one), all answered. */
async function ping20(s: InNamespace, dsts: string[], logs: string[]): Promise<void> {
  for (const dst of dsts) {
    const r = await s.exec("ping", ["-6", "-c", "20", "-i", "0.05", "-s", "1400", "-W", "2", dst], { timeoutMs: 30_000, check: false });
    assert.match(r.stdout, /20 packets transmitted, 20 received/, `${dst}: ${r.stdout}${r.stderr}\n${logs.slice(-20).join("\n")}`);
  }
}

/** The kernel's neighbour entry for each of the board's addresses: its MAC, REACHABLE. */
async function assertReachable(s: InNamespace, addrs: string[]): Promise<void> {
  const neigh = await s.exec("ip", ["-6", "neigh", "show", "dev", TAP]);
  for (const a of addrs) {
    const line = neigh.stdout.split("\n").find((l) => l.startsWith(a + " "));
    assert.match(line ?? "", new RegExp(`lladdr ${MAC} .*REACHABLE`), `${a}: ${neigh.stdout}`);
  }
}

/** TCP echo (nc -6, sha256 of what comes back) and UDP echo over IPv6 to addr (a zone for a
 *  link-local one) from the kernel in the session's namespace; returns nc's milliseconds. */
async function echoOverIpv6(s: { exec: TapSession["exec"] }, addr: string, logs: string[]): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-tap6-"));
  try {
    const data = randomBytes(384 * 1024);
    writeFileSync(path.join(dir, "in"), data);
    const t1 = performance.now();
    const nc = await s.exec("sh", ["-c", `nc -6 -N -w 10 ${addr} 7 < ${dir}/in > ${dir}/out`], { timeoutMs: 30_000, check: false });
    const ms = performance.now() - t1;
    const back = readFileSync(path.join(dir, "out"));
    assert.equal(nc.code, 0, `nc: ${nc.stderr}\n${logs.slice(-20).join("\n")}`);
    assert.equal(back.length, data.length);
    assert.equal(sha256(back), sha256(data));
    // UDP: each datagram back from port 7, unchanged (up to 1452 bytes: 1500 - 40 - 8).
    const py = [
      "import socket, os",
      "s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); s.settimeout(2)",
      `a = socket.getaddrinfo(${JSON.stringify(addr)}, 7, socket.AF_INET6, socket.SOCK_DGRAM)[0][4]`,
      "for n in [1, 100, 512, 1000, 1452] * 4:",
      "    d = os.urandom(n); s.sendto(d, a)",
      "    r, f = s.recvfrom(2048)",
      "    assert r == d and f[1] == 7, (n, len(r), f)",
      "print('ok')",
    ].join("\n");
    const u = await s.exec("python3", ["-c", py], { timeoutMs: 20_000, check: false });
    assert.equal(u.stdout.trim(), "ok", `udp: ${u.stdout}${u.stderr}`);
    return ms;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function until<T>(what: string, f: () => T | undefined, ms: number): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test("tap ipv6: SLAAC from dnsmasq's RA, the kernel pings link-local and global 20/20, TCP and UDP echo over IPv6, spoofed RAs ignored", { timeout: 90_000 }, async (t) => {
  if (!requirePrereqs(t, ["dnsmasq", "ping", "gcc", "nc", "python3"], [WASM])) return;
  assert.ok(!(await netnsList()).includes(NS), `namespace ${NS} exists before the test`);
  const logs: string[] = [];
  const session = new TapSession();
  let dns: Dnsmasq | undefined;
  let inj: Injector | undefined;
  try {
    await session.start({ netns: NS, tap: TAP, boardIp: "10.213.86.2/24", peerIp: "10.213.86.1/24", mac: MAC, wasm: WASM, log: (l, m) => logs.push(`[${l}] ${m}`) });
    dns = await startRouter(session, "10.213.86", [`--host-record=${NAME6},10.213.86.42,${NAME6_ADDR}`, "--local=/test/"]); // .test: answered here, NXDOMAIN otherwise
    const board = session.board!;
    const t0 = performance.now();
    const global = await until("a preferred SLAAC address", () => board.ipv6Addresses().find((a) => a.address.startsWith("fd00:1:") && a.state === "preferred"), 20_000);
    const ms = performance.now() - t0;
    const ll = board.ipv6Addresses().find((a) => a.scopeid === 1);
    const c0 = board.counters();
    console.log(`# first global address ${global.address} after ${ms.toFixed(0)} ms: ${c0.nd_rs_sent} RS, ${c0.nd_ra_received} RA, ${c0.nd_ns_sent} NS (DAD)`);
    assert.ok(ll && ll.state === "preferred", JSON.stringify(board.ipv6Addresses()));
    assert.equal(ll.address, LL);
    assert.equal(global.address, SLAAC);
    assert.equal(c0.nd_dad_duplicates, 0);
    assert.ok(global.validLifetime > 12 * 3600 - 60, JSON.stringify(global));
    const routers = board.ipv6Routers();
    assert.equal(routers.length, 1, JSON.stringify(routers));
    assert.ok(routers[0].address.startsWith("fe80::"), routers[0].address);
    assert.deepEqual(board.ipv6DnsServers().map((d) => d.address), [ROUTER]);

    await ping20(session, [`${ll.address}%${TAP}`, global.address], logs);
    await assertReachable(session, [global.address]);
    assert.ok(board.counters().icmp6_echo_answered >= 40);
    // The board pings the router back (ping6 through the API).
    board.ping(ROUTER, 7, 64);
    await until("the echo reply", () => (board.pingRtt(7) >= 0 ? true : undefined), 5000);
    // DNS over IPv6 to the RDNSS server (no IPv4 server set): AAAA, then both families, AAAA first
    // (the board has a global address). After the neighbour check: the board's NS for the server
    // would leave the kernel's entry for the board STALE, and the pings then find it in DELAY.
    board.dns.setServers([]);
    const d0 = performance.now();
    assert.deepEqual(await board.dns.lookup(NAME6, { family: 6 }), { address: NAME6_ADDR, family: 6 });
    assert.deepEqual(await board.dns.lookup(NAME6.toUpperCase(), { all: true }), [
      { address: NAME6_ADDR, family: 6 },
      { address: "10.213.86.42", family: 4 },
    ]);
    await assert.rejects(board.dns.lookup("nobody.test", { family: 6 }), { code: "ENOTFOUND" });
    console.log(`# AAAA lookups against dnsmasq over IPv6: ${(performance.now() - d0).toFixed(0)} ms`);
    assert.ok(board.counters().dns_replies_accepted >= 3);

    // TCP and UDP over IPv6 to the echo apps on the global address.
    const ncMs = await echoOverIpv6(session, global.address, logs);
    console.log(`# nc -6: 384 KiB echoed in ${ncMs.toFixed(0)} ms`);
    const cu = board.counters();
    assert.ok(cu.udp_datagrams_sent >= 20 && cu.ip6_udp_no_checksum === 0, JSON.stringify(cu));

    // Spoofed RAs: hop limit 64 (forwarded from off-link), and a global source; neither counts.
    inj = new Injector(session);
    const before = board.counters();
    await inj.send([spoofedRa("fe80::bad", 64), spoofedRa("fd00:1::bad", 255)]);
    await until("the spoofed RAs", () => {
      const c = board.counters();
      return c.nd_bad_hop_limit > before.nd_bad_hop_limit && c.nd_bad_source > before.nd_bad_source ? true : undefined;
    }, 5000);
    assert.ok(!board.ipv6Addresses().some((a) => a.address.startsWith("fd00:bad:")), JSON.stringify(board.ipv6Addresses()));
    assert.equal(board.ipv6Routers().length, 1);
    const c = board.counters();
    assert.equal(c.nd_ra_received - before.nd_ra_received <= 1, true); // dnsmasq's periodic RA at most
    assert.equal(board.rxAccounted(), c.rx_frames);
  } finally {
    await inj?.close(5000).catch(() => {});
    await dns?.stop().catch(() => {});
    await session.stop();
  }
  assert.ok(!(await netnsList()).includes(NS), "namespace left behind");
});

test("tap ipv6: curl -6 to the http app over the link-local address, keep-alive and new connections; netstat in RFC 5952 text", { timeout: 60_000 }, async (t) => {
  if (!requirePrereqs(t, ["curl", "python3", "dig"], [HTTP6])) return;
  const ns = `wasmip-6h${process.pid}`.slice(0, 15);
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} exists before the test`);
  const logs: string[] = [];
  const session = new TapSession();
  const statusDir = mkdtempSync(path.join(os.tmpdir(), "wasmip-status-"));
  try {
    const statusFile = path.join(statusDir, `${ns}.json`);
    await session.start({ netns: ns, tap: TAP, boardIp: "10.213.87.2/24", peerIp: "10.213.87.1/24", mac: MAC, wasm: HTTP6, statusFile, log: (l, m) => logs.push(`[${l}] ${m}`) });
    const board = session.board!;
    const ll = await until("the link-local address", () => board.ipv6Addresses().find((a) => a.scopeid === 1 && a.state === "preferred"), 10_000);
    const url = `http://[${ll.address}%25${TAP}]/`;
    await kernelLinkLocal(session);
    // Two requests on one connection (curl reuses it), then two with Connection: close: three connections.
    await curlTwice(session, url, false, logs);
    await curlTwice(session, url, true, logs);
    assert.ok(board.counters().tcp_passive_opens >= 3);
    // A connection held open by the kernel shows in the board's table as an IPv6 row.
    const py = `import socket, time\ns = socket.create_connection(("${ll.address}%${TAP}", 80)); time.sleep(2); s.close()`;
    const held = session.exec("python3", ["-c", py], { timeoutMs: 10_000, check: false });
    await until("the IPv6 row", () => (board.tcpTable().some((r) => r.remoteIp6 !== undefined && r.state === "ESTABLISHED") ? true : undefined), 5000);
    const lines = formatTcpTable(board).join("\n");
    // The held connection's row (the Connection: close ones left TIME-WAIT rows too).
    const row6 = lines.split("\n").find((l) => l.startsWith("tcp6") && l.endsWith("ESTABLISHED"))!;
    console.log(`# ${row6}`);
    assert.match(row6 ?? "", new RegExp(`^tcp6 .* \\[${ll.address}\\]:80 +\\[fe80::[0-9a-f:]+\\]:\\d+ +`), lines);
    assert.match(lines, /^tcp +0 +0 0\.0\.0\.0:80 +\*:\* +LISTEN/m, lines);
    // The status file `wasmip netstat` reads (rewritten within 200 ms of a change) says the same.
    let st = "";
    for (let i = 0; i < 20 && !st.split("\n").includes(row6); i++) {
      await new Promise((r) => setTimeout(r, 100));
      st = formatStatus(JSON.parse(readFileSync(statusFile, "utf8")) as TapStatus);
    }
    assert.equal((await held).code, 0);
    assert.ok(st.split("\n").includes(row6), `status: ${st}`);
    // mDNS (the http app answers for its name): dig's one-shot queries (legacy unicast, RFC 6762
    // §6.7: TTL 10) for the AAAA, over IPv6 to the board's link-local address on port 5353 and over
    // IPv4; the answer is the link-local address (no router here), the A comes as an additional.
    for (let i = 0; i < 100 && board.mdns.state !== "running"; i++) await new Promise((r) => setTimeout(r, 50));
    const host = board.mdns.hostname;
    const aaaa = new RegExp(`^${host.replace(/\./g, "\\.")}\\.\\s+10\\s+IN\\s+AAAA\\s+${ll.address}$`, "m");
    for (const server of [`${ll.address}%${TAP}`, "10.213.87.2"]) {
      const d = await session.exec("dig", ["-p", "5353", `@${server}`, host, "AAAA", "+time=2", "+tries=2", "+noall", "+answer", "+additional"], { timeoutMs: 15_000, check: false });
      assert.match(d.stdout, aaaa, `dig @${server}: ${d.stdout}${d.stderr}`);
      assert.match(d.stdout, /\sIN\s+A\s+10\.213\.87\.2$/m, `dig @${server}: the A as an additional`);
    }
  } finally {
    await session.stop();
    rmSync(statusDir, { recursive: true, force: true });
  }
  assert.ok(!(await netnsList()).includes(ns), "namespace left behind");
});

/** Ping addr once a try (1 s each, 200 ms apart) until it answers: DAD on both sides, or SLAAC. */
async function pingUntilUp(s: InNamespace, addr: string, what: string, logs: string[], tries = 30): Promise<void> {
  for (let k = 0; k < tries; k++) {
    if ((await s.exec("ping", ["-6", "-c", "1", "-W", "1", addr], { check: false, timeoutMs: 5000 })).code === 0) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`${what} (${addr}) did not answer:\n${logs.join("\n")}`);
}

/** The core's non-zero counters the posix and WAMR boards print on stdout when stopped (the mps2
 *  board prints them on its console: QemuSession.stats()). */
function exitCounters(stdout: string): Record<string, number> {
  const core = stdout.slice(stdout.lastIndexOf("core:\n"));
  return Object.fromEntries([...core.matchAll(/^ {2}([a-z0-9_]+) +(\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
}

for (const kind of ["posix", "mps2", "wamr"] as const) {
test(`tap ipv6: nc -6 and UDP echo over the link-local address (${kind} board)`, { timeout: 60_000 }, async (t) => {
  if (!requirePrereqs(t, ["nc", "python3", "ping", ...boardTools(kind)], [boardFile(kind, "echo6")])) return;
  const ns = `wasmip-6${kind[0]}${process.pid}`.slice(0, 15);
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} exists before the test`);
  const logs: string[] = [];
  let s: PeerSession | undefined;
  try {
    s = await startBoard(kind, { netns: ns, tap: TAP, boardIp: "10.213.88.2/24", peerIp: "10.213.88.1/24", mac: MAC, app: "echo6", log: (l, m) => logs.push(`[${l}] ${m}`) });
    const ll = `${LL}%${TAP}`;
    await pingUntilUp(s, ll, "the board's link-local address", logs);
    const ms = await echoOverIpv6(s, ll, logs);
    console.log(`# ${kind}: nc -6 384 KiB echoed in ${ms.toFixed(0)} ms`);
    assert.equal(s.error, undefined, `board error: ${s.error?.message}`);
  } finally {
    await s?.stop();
  }
  assert.ok(!(await netnsList()).includes(ns), "namespace left behind");
  if (isProcessBoard(s)) assert.ok(s.stoppedCleanly, `${kind} board did not shut down cleanly (${s.exitCode ?? s.exitSignal}): ${s.stderr}`);
});

test(`tap ipv6: SLAAC from dnsmasq's RA, curl -6 to the http app on the SLAAC and link-local addresses, 1400-byte pings 20/20, REACHABLE (${kind} board)`, { timeout: 90_000 }, async (t) => {
  if (!requirePrereqs(t, ["dnsmasq", "curl", "ping", ...boardTools(kind)], [boardFile(kind, "http6"), HTTP6])) return;
  const ns = `wasmip-6${kind[0]}h${process.pid}`.slice(0, 15);
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} exists before the test`);
  const logs: string[] = [];
  let s: PeerSession | undefined;
  let dns: Dnsmasq | undefined;
  let core: Record<string, number> = {};
  const t0 = performance.now();
  try {
    s = await startBoard(kind, { netns: ns, tap: TAP, boardIp: "10.213.89.2/24", peerIp: "10.213.89.1/24", mac: MAC, app: "http6", log: (l, m) => logs.push(`[${l}] ${m}`) });
    dns = await startRouter(s, "10.213.89");
    // The board answers on its SLAAC address once an RA (its RS answered, or the periodic one)
    // gave it the prefix and its DAD probe went unanswered.
    await pingUntilUp(s, SLAAC, "the board's SLAAC address", logs);
    console.log(`# ${kind}: ${SLAAC} answered ${(performance.now() - t0).toFixed(0)} ms after the board started`);
    const addrs = [SLAAC, `${LL}%${TAP}`];
    for (const a of addrs) {
      const url = `http://[${a.replace("%", "%25")}]/`;
      await curlTwice(s, url, false, logs);
      await curlTwice(s, url, true, logs);
    }
    await ping20(s, addrs, logs);
    await assertReachable(s, [SLAAC, LL]);
    assert.equal(s.error, undefined, `board error: ${s.error?.message}`);
    if (s instanceof QemuSession) {
      const st = await s.stats();
      core = st.core;
      assert.deepEqual(statsErrors(st), []);
      console.log(`# mps2: stack high water ${st.stack.high_water} of ${st.stack.size} bytes`);
    }
  } finally {
    await dns?.stop().catch(() => {});
    await s?.stop();
  }
  assert.ok(!(await netnsList()).includes(ns), "namespace left behind");
  if (isProcessBoard(s)) assert.ok(s.stoppedCleanly, `${kind} board did not shut down cleanly (${s.exitCode ?? s.exitSignal}): ${s.stderr}`);
  if (isProcessBoard(s) && !(s instanceof QemuSession)) core = exitCounters(s.stdout);
  assert.ok((core.nd_ra_received ?? 0) >= 1 && !core.nd_dad_duplicates, JSON.stringify(core));
  assert.ok((core.icmp6_echo_answered ?? 0) >= 40, JSON.stringify(core));
  assert.ok((core.tcp_passive_opens ?? 0) >= 6, JSON.stringify(core)); // 1 + 2 per address
  if (s instanceof WamrSession) console.log(`# wamr: WAMR's pool peak with http6 ${s.poolHighmark} bytes`);
  console.log(`# ${kind}: the http6 suite took ${((performance.now() - t0) / 1000).toFixed(1)} s`);
});
}
