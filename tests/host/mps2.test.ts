// What only the emulated MPS2 AN385 board has (boards/mps2-an385; the real-peer suite it shares
// with the other boards is in tap*.test.ts): the linear memory it reserves is the module's own,
// its configuration block is checked, a pulled cable reaches the core through the LAN9118's PHY
// registers, the driver's and the pool's counters stay clean under traffic, and traps are
// reported on the UART before the board resets. QEMU runs bounded, in namespaces this file
// creates (or with no network at all), and is killed by pid in every outcome. Missing
// prerequisites skip locally and fail under CI=true.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { requirePrereqs } from "./prereqs.ts";
import { ROOT, appWasm } from "../../host/board/board.ts";
import { netnsList, run } from "../../host/devices/netns.ts";
import { CONFIG_ADDR, MPS2_RUNTIMES, QEMU, QemuSession, configBlock, qemuImage, statsErrors, type Mps2Runtime } from "../../host/devices/qemu.ts";
import { startBoard, startDhcpBoard, type PeerSession } from "./boards.ts";
import { Dnsmasq } from "../../host/devices/services/dnsmasq.ts";
import { ECHO_SHA_CLIENT as ECHO } from "../../host/devices/echo_client.ts";

const BOARD = "10.213.81.2";
const PEER = "10.213.81.1";
const APPS = ["bare", "http", "greeter", "echo", "bulk", "udp-echo", "fetch", "echo6", "http6"];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

let seq = 0;
const nsName = () => `wasmip-m${seq++}${process.pid % 100_000}`;

/** The memory limits of a .wasm (the Memory section, or an imported memory): [initial, maximum]. */
function wasmMemoryPages(file: string): [number, number | undefined] {
  const b = readFileSync(file);
  let p = 8;
  const leb = (): number => {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = b[p++];
      v += (byte & 0x7f) * 2 ** shift;
      if (!(byte & 0x80)) return v;
    }
  };
  const limits = (): [number, number | undefined] => {
    const flags = leb();
    const min = leb();
    return [min, flags & 1 ? leb() : undefined];
  };
  const name = () => {
    const n = leb();
    p += n;
  };
  while (p < b.length) {
    const id = b[p++];
    const size = leb();
    const end = p + size;
    if (id === 5) {
      assert.equal(leb(), 1, `${file}: one memory`);
      return limits();
    }
    if (id === 2) {
      for (let n = leb(); n > 0; n--) {
        name();
        name();
        const kind = b[p++];
        if (kind === 2) return limits();
        if (kind === 0) leb();
        else if (kind === 1) (p++, limits());
        else if (kind === 3) p += 2;
      }
    }
    p = end;
  }
  throw new Error(`${file}: no memory`);
}

/** Boot an image with no network device backend, the given config block, and return the UART up to `until`. */
async function bootUart(elf: string, config: Buffer | undefined, until: RegExp, timeoutMs = 20_000): Promise<{ out: string; code: number | null }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-mps2-"));
  const args = ["-M", "mps2-an385", "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio", "-no-reboot", "-kernel", elf];
  if (config) {
    writeFileSync(path.join(dir, "config.bin"), config);
    args.push("-device", `loader,file=${path.join(dir, "config.bin")},addr=0x${CONFIG_ADDR.toString(16)},force-raw=on`);
  }
  // setpriv: QEMU gets SIGTERM if this process dies before the finally below kills it.
  const q = spawn("setpriv", ["--pdeathsig", "TERM", QEMU, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  q.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d.replace(/\r/g, "")));
  q.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d));
  const exited = new Promise<number | null>((r) => q.once("exit", (c) => r(c)));
  try {
    const deadline = Date.now() + timeoutMs;
    while (!until.test(out) && q.exitCode === null && Date.now() < deadline) await sleep(20);
    assert.match(out, until, `UART:\n${out}`);
    return { out, code: q.exitCode };
  } finally {
    if (q.exitCode === null && q.signalCode === null) {
      q.kill("SIGKILL");
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

test("mps2 images: each reserves exactly its module's maximum linear memory (read from the .wasm), in SRAM", async (t) => {
  if (!requirePrereqs(t, ["arm-none-eabi-size"], APPS.map((a) => qemuImage(a)))) return;
  for (const app of APPS) {
    const [initial, max] = wasmMemoryPages(appWasm(app));
    assert.ok(max !== undefined, `${app}.wasm declares a maximum`);
    const r = await run("arm-none-eabi-size", ["-A", qemuImage(app)]);
    const m = /^\.wasm_memory\s+(\d+)\s+(\d+)$/m.exec(r.stdout);
    assert.ok(m, `no .wasm_memory section in ${app}: ${r.stdout}`);
    assert.equal(Number(m[1]), max * 65536, `${app}: reserved bytes = maximum pages (${max}) x 64 KiB`);
    const addr = Number(m[2]);
    assert.ok(addr >= 0x20000000 && addr + Number(m[1]) <= 0x20400000, `${app}: linear memory at 0x${addr.toString(16)} is in SSRAM2/3`);
    t.diagnostic(`${app}: ${initial} initial / ${max} maximum pages -> .wasm_memory ${m[1]} bytes at 0x${addr.toString(16)}`);
  }
});

test("mps2: a valid configuration block applies; a damaged one is ignored and the defaults apply", { timeout: 60_000 }, async (t) => {
  if (!requirePrereqs(t, [QEMU], [qemuImage("http")])) return;
  const [initial] = wasmMemoryPages(appWasm("http"));
  const good = configBlock({ ip: "10.9.8.7/16", mac: "02:00:00:00:81:07" });
  let r = await bootUart(qemuImage("http"), good, /^ready$/m);
  assert.match(r.out, /, 10\.9\.8\.7\/16 \(config block\)$/m);
  // The module's memory as the running board sees it: its initial size, not a number in the firmware.
  assert.match(r.out, new RegExp(`^wasmip: core uses \\d+ of ${initial * 65536} bytes of linear memory`, "m"));
  const bad = Buffer.from(good);
  bad[12] ^= 1; // the address word changes; the CRC no longer matches
  r = await bootUart(qemuImage("http"), bad, /^ready$/m);
  assert.match(r.out, /, 10\.213\.0\.2\/24 \(defaults \(the config block is damaged or of another version\)\)$/m);
  r = await bootUart(qemuImage("http"), undefined, /^ready$/m);
  assert.match(r.out, /, 10\.213\.0\.2\/24 \(defaults\)$/m);
});

test("mps2: a trap in init (unreachable after phy.panic) is reported on the UART, then the board resets (QEMU -no-reboot exits)", { timeout: 60_000 }, async (t) => {
  const elf = path.join(ROOT, "boards", "mps2-an385", "build", "wasmip-trap-unreachable.elf");
  if (!requirePrereqs(t, [QEMU], [elf])) return;
  const r = await bootUart(elf, undefined, /^wasmip: resetting$/m);
  assert.match(r.out, /^\[error\] wasmip panic: trap\.wat:9 deliberate trap in init/m);
  assert.match(r.out, /^wasmip: trap in init\(\): unreachable executed \(after phy\.panic\)$/m);
  assert.doesNotMatch(r.out, /^ready$/m);
});

test("mps2: a runaway recursion is stopped by the call depth limit (a trap, reported) well before the thread stack ends", { timeout: 60_000 }, async (t) => {
  const elf = path.join(ROOT, "boards", "mps2-an385", "build", "wasmip-trap-recursion.elf");
  if (!requirePrereqs(t, [QEMU], [elf])) return;
  const r = await bootUart(elf, undefined, /^wasmip: resetting$/m);
  assert.match(r.out, /^wasmip: trap in init\(\): call stack exhausted$/m);
  const m = /^ {2}high_water (\d+) size (\d+)$/m.exec(r.out);
  assert.ok(m, `no stack report:\n${r.out}`);
  assert.ok(Number(m[1]) < Number(m[2]) / 2, `stack high water ${m[1]} of ${m[2]}`);
  assert.doesNotMatch(r.out, /fault:/);
});

test("mps2: an out-of-bounds access while running (input of the first frame) is reported on the UART, then the board resets", { timeout: 60_000 }, async (t) => {
  const elf = path.join(ROOT, "boards", "mps2-an385", "build", "wasmip-trap-oob.elf");
  if (!requirePrereqs(t, ["ping", QEMU], [elf])) return;
  const ns = nsName();
  const s = new QemuSession();
  try {
    await s.start({ netns: ns, boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, elf });
    await s.exec("ping", ["-n", "-c", "1", "-W", "1", BOARD], { check: false, timeoutMs: 5000 });
    const code = await s.waitExit(10_000);
    assert.equal(code, 0, `QEMU exit (a guest reset with -no-reboot): ${s.stderr}`);
    assert.match(s.stdout, /^wasmip: trap in input\(\): out of bounds memory access/m);
    assert.match(s.stdout, /^wasmip: resetting$/m);
    assert.match(s.error?.message ?? "", /mps2 board exited \(0\) while running/);
  } finally {
    await s.stop();
  }
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} left behind`);
});

test("mps2: a pulled cable reaches the core through the PHY (link down: no traffic), plugging it back announces the address again", { timeout: 60_000 }, async (t) => {
  if (!requirePrereqs(t, ["ping", QEMU], [qemuImage("bare")])) return;
  const ns = nsName();
  const logs: string[] = [];
  const s = new QemuSession();
  try {
    await s.start({ netns: ns, boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, app: "bare", qmp: true, log: (l, m) => logs.push(`[${l}] ${m}`) });
    assert.ok(await s.waitReachable(10), "reachable before");
    const before = await s.stats();
    await s.setLink(false);
    for (let i = 0; i < 100 && !logs.includes("[info] board: link down"); i++) await sleep(20);
    assert.ok(logs.includes("[info] board: link down"), `no link-down log:\n${logs.join("\n")}`);
    const down = await s.exec("ping", ["-n", "-c", "1", "-W", "1", BOARD], { check: false, timeoutMs: 5000 });
    assert.notEqual(down.code, 0, "no answer while the link is down");
    await s.setLink(true);
    for (let i = 0; i < 100 && !logs.includes("[info] board: link up"); i++) await sleep(20);
    assert.ok(logs.includes("[info] board: link up"), `no link-up log:\n${logs.join("\n")}`);
    assert.ok(await s.waitReachable(10), "reachable again after the link came back");
    const after = await s.stats();
    assert.equal(after.lan9118.link_changes - before.lan9118.link_changes, 2, "two PHY link changes");
    assert.equal((after.core.arp_gratuitous_sent ?? 0) - (before.core.arp_gratuitous_sent ?? 0), 1, "one gratuitous ARP on the way up");
  } finally {
    await s.stop();
  }
  assert.ok(s.stoppedCleanly, `QEMU did not shut down cleanly: ${s.stderr}`);
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} left behind`);
});

/** The LAN9118's hash bit for a destination MAC (datasheet 3.9.2): the top six bits of the
 *  Ethernet CRC-32 (MSB-first register, bits of each byte least significant first, preset ~0). */
function lan9118HashBit(mac: number[]): number {
  let crc = 0xffffffff;
  for (const byte of mac) {
    let b = byte;
    for (let k = 0; k < 8; k++, b >>= 1) {
      const carry = (crc >>> 31) ^ (b & 1);
      crc = (crc << 1) >>> 0;
      if (carry) crc = (crc ^ 0x04c11db7) >>> 0;
    }
  }
  return crc >>> 26;
}
const groupMac = (g: string) => {
  const [, b, c, d] = g.split(".").map(Number);
  return [0x01, 0x00, 0x5e, b & 0x7f, c, d];
};

/** One legacy unicast mDNS query for _http._tcp.local PTR to 224.0.0.251:5353 (three tries, 2 s
 *  each); prints "answer from IP" and the printable bytes of the first answer. */
const MDNS_ASK = `
import socket
q = bytes.fromhex("12340000000100000000000005") + b"_http" + bytes([4]) + b"_tcp" + bytes([5]) + b"local" + bytes.fromhex("00000c0001")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
for _ in range(3):
    s.sendto(q, ("224.0.0.251", 5353))
    try:
        d, a = s.recvfrom(2048)
        print("answer from", a[0], "".join(chr(c) if 45 <= c < 127 else "." for c in d))
        break
    except socket.timeout:
        pass
`;

test("mps2: the LAN9118 takes only the joined groups' multicast (hash filter: all systems and mDNS); an mDNS query finds the board through it", { timeout: 60_000 }, async (t) => {
  if (!requirePrereqs(t, ["python3", QEMU], [qemuImage("http")])) return;
  const ns = nsName();
  const s = new QemuSession();
  try {
    await s.start({ netns: ns, boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, app: "http" });
    // No IPv6 from the kernel's side: its multicast (RS, MLD, DAD) would be noise in the counts below.
    await s.exec("sysctl", ["-q", "-w", `net.ipv6.conf.${s.tap}.disable_ipv6=1`]);
    assert.ok(await s.waitReachable(10));
    // The http image joins 224.0.0.251 (mDNS) at start, and takes IGMP queries to 224.0.0.1.
    const want = [0, 0]; // HASHL, HASHH
    for (const g of ["224.0.0.1", "224.0.0.251"]) {
      const bit = lan9118HashBit(groupMac(g));
      want[bit >> 5] = (want[bit >> 5] | (1 << (bit & 31))) >>> 0;
    }
    let st = await s.stats();
    assert.ok(st.lan9118.mcast_filter_updates >= 1, "the filter was programmed");
    assert.equal(st.lan9118.hashl, want[0], `HASHL 0x${st.lan9118.hashl.toString(16)}, want 0x${want[0].toString(16)}`);
    assert.equal(st.lan9118.hashh, want[1], `HASHH 0x${st.lan9118.hashh.toString(16)}, want 0x${want[1].toString(16)}`);
    assert.equal(st.lan9118.mac_cr & ((1 << 13) | (1 << 19) | (1 << 18)), 1 << 13, "MAC_CR: HPFILT, not MCPAS nor PRMS");
    // Through the filter: a legacy unicast mDNS query to the group (RFC 6762 §6.7), answered from
    // the board's address to the asking port (dig refuses an answer from another address than the
    // one it asked, so a socket of our own asks).
    await s.exec("ip", ["route", "add", "224.0.0.0/4", "dev", s.tap]);
    const q = await s.exec("python3", ["-c", MDNS_ASK], { check: false, timeoutMs: 20_000 });
    assert.match(q.stdout, new RegExp(`^answer from ${BOARD.replace(/\./g, "\\.")} .*wasmip-[0-9a-f]{6}`, "m"), `query: ${q.stdout}${q.stderr}`);
    // Groups not joined: one whose hash bit is clear never reaches the CPU; one sharing a joined
    // group's bit (the filter is imperfect) does, and the core drops it (eth_not_for_us: not a MAC
    // it listens to).
    const set = (g: string) => {
      const bit = lan9118HashBit(groupMac(g));
      return ((want[bit >> 5] >>> (bit & 31)) & 1) === 1;
    };
    const candidates = Array.from({ length: 250 }, (_, i) => `239.7.${i}.9`);
    const clear = candidates.find((g) => !set(g))!;
    const shared = candidates.find((g) => set(g));
    assert.ok(shared, "a group sharing a hash bit among 250");
    const send = (g: string) =>
      s.exec("python3", ["-c", `import socket\nx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor i in range(5): x.sendto(b"hello", ("${g}", 9999))`], { timeoutMs: 10_000 });
    st = await s.stats();
    await send(clear);
    await sleep(300);
    const afterClear = await s.stats();
    const dropped = (a: typeof st, b: typeof st) => (b.core.eth_not_for_us ?? 0) - (a.core.eth_not_for_us ?? 0) + (b.core.ip_multicast_not_joined ?? 0) - (a.core.ip_multicast_not_joined ?? 0);
    assert.equal(dropped(st, afterClear), 0, `${clear}: filtered by the MAC`);
    assert.equal(afterClear.lan9118.rx_frames, st.lan9118.rx_frames, `${clear}: no frame read from the MAC`);
    await send(shared!);
    await sleep(300);
    const afterShared = await s.stats();
    assert.equal(dropped(afterClear, afterShared), 5, `${shared}: past the MAC, dropped by the core`);
    t.diagnostic(`HASHH 0x${want[1].toString(16)} HASHL 0x${want[0].toString(16)}; ${clear} filtered, ${shared} shares a bit`);
  } finally {
    await s.stop();
  }
  assert.ok(s.stoppedCleanly, `QEMU did not shut down cleanly: ${s.stderr}`);
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} left behind`);
});

test("mps2: under traffic (1400-byte pings, 1 MiB echo) the driver and the pool count no error and every frame reaches input(); the stack stays below its size", { timeout: 120_000 }, async (t) => {
  if (!requirePrereqs(t, ["ping", "python3", QEMU], [qemuImage("echo")])) return;
  const ns = nsName();
  const s = new QemuSession();
  try {
    await s.start({ netns: ns, boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, app: "echo" });
    assert.ok(await s.waitReachable(10));
    const p = await s.exec("ping", ["-n", "-q", "-c", "50", "-s", "1400", "-i", "0.01", "-W", "2", BOARD], { check: false, timeoutMs: 30_000 });
    assert.match(p.stdout, /50 packets transmitted, 50 received/);
    const e = await s.exec("python3", ["-c", ECHO, BOARD, String(1 << 20)], { check: false, timeoutMs: 60_000 });
    assert.equal(e.stdout.trim(), `${1 << 20} True`, `echo: ${e.stdout}${e.stderr}`);
    const st = await s.stats();
    t.diagnostic(`board ${JSON.stringify(st.board)}`);
    t.diagnostic(`lan9118 ${JSON.stringify(st.lan9118)}`);
    t.diagnostic(`stack high water ${st.stack.high_water} of ${st.stack.size} bytes`);
    assert.deepEqual(statsErrors(st), []);
    assert.equal(st.board.rx_queued, st.lan9118.rx_frames, "every frame the driver read went into the pool");
    assert.equal(st.board.rx_input, st.board.rx_queued, "every pooled frame reached input()");
    assert.equal(st.core.rx_frames, st.board.rx_input, "the core counted every input() call");
    assert.ok(st.stack.high_water > 0 && st.stack.high_water < st.stack.size, `stack ${st.stack.high_water} of ${st.stack.size}`);
  } finally {
    await s.stop();
  }
  assert.ok(s.stoppedCleanly, `QEMU did not shut down cleanly: ${s.stderr}`);
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} left behind`);
});

test("mps2: two boots of the same image draw different random numbers (the DHCP transaction id) from the board's entropy sources", { timeout: 90_000 }, async (t) => {
  if (!requirePrereqs(t, ["dnsmasq", QEMU], [qemuImage("bare")])) return;
  const xids: string[] = [];
  for (let boot = 0; boot < 2; boot++) {
    const ns = nsName();
    let dns: Dnsmasq | undefined;
    const s = new QemuSession();
    try {
      await s.start({ netns: ns, boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, app: "bare", dhcp: true, beforeBoot: async (where) => {
        dns = new Dnsmasq(where, { tap: "tap0", rangeStart: "10.213.81.100", rangeEnd: "10.213.81.150", extraArgs: ["--no-ping"] });
        await dns.ready();
      } });
      const m = /(\d+) DHCPDISCOVER\(tap0\)/.exec(dns!.stderr);
      assert.ok(m, `no DISCOVER in dnsmasq's log:\n${dns!.stderr}`);
      xids.push(m[1]);
    } finally {
      await dns?.stop().catch(() => {});
      await s.stop();
    }
    assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} left behind`);
  }
  t.diagnostic(`DHCP transaction ids of two boots: ${xids.join(", ")}`);
  assert.notEqual(xids[0], xids[1], "the same transaction id on two boots: phy.random is not seeded");
});

// The same board under WAMR (RUNTIME=wamr-fast|wamr-classic|wamr-aot: the .wasm interpreted from
// flash, or wamrc's XIP AOT image executed from flash) against the same real peers: DHCP, then
// ping and curl on http; nc on greeter; echo with sha256. Sized for CI (about 5 s per runtime
// here): 1 MiB of echo, not the 16 MiB of tap_tcp.test.ts's wasm2c runs. WAMR's pool peak and
// the stack's high-water mark are printed.
const WAMR_RUNTIMES = MPS2_RUNTIMES.filter((r): r is Exclude<Mps2Runtime, "wasm2c"> => r !== "wasm2c");
const WAMR_ECHO_BYTES = 1 << 20;

/** Run fn against a board of this runtime and app in a namespace of its own; QEMU stopped and the namespace gone afterwards. */
async function withRuntime(runtime: Mps2Runtime, app: string, dhcp: Dnsmasq[] | undefined, fn: (s: PeerSession, logs: string[]) => Promise<void>): Promise<void> {
  const ns = nsName();
  const logs: string[] = [];
  const opts = { netns: ns, tap: "tap0", boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, app, runtime, log: (l: string, m: string) => logs.push(`[${l}] ${m}`) };
  let s: PeerSession | undefined;
  try {
    s = dhcp
      ? await startDhcpBoard("mps2", opts, async (where) => {
          const d = new Dnsmasq(where, { tap: "tap0", rangeStart: "10.213.81.100", rangeEnd: "10.213.81.150", extraArgs: ["--no-ping"] });
          dhcp.push(d);
          await d.ready();
        })
      : await startBoard("mps2", opts);
    assert.ok(await s.waitReachable(10), `${runtime} ${app}: no answer to ping:\n${logs.join("\n")}`);
    await fn(s, logs);
    assert.equal(s.error, undefined, `board error: ${s.error?.message}`);
  } finally {
    for (const d of dhcp ?? []) await d.stop().catch(() => {});
    await s?.stop();
  }
  const q = s as QemuSession;
  assert.ok(q.stoppedCleanly, `QEMU did not shut down cleanly: ${q.stderr}`);
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} left behind`);
}

for (const runtime of WAMR_RUNTIMES)
test(`mps2 ${runtime}: DHCP, ping and curl (http), nc (greeter), ${WAMR_ECHO_BYTES >> 20} MiB echo with sha256 (echo)`, { timeout: 300_000 }, async (t) => {
  const images = ["http", "greeter", "echo"].map((a) => qemuImage(a, runtime));
  if (!requirePrereqs(t, ["ping", "curl", "nc", "python3", "dnsmasq", QEMU], images)) return;
  const t0 = performance.now();
  await t.test("http: a lease from dnsmasq, 10 pings of 1400 bytes, curl x3 on one connection", () =>
    withRuntime(runtime, "http", [], async (s) => {
      assert.match(s.boardIp, /^10\.213\.81\.1[0-5]\d$/, `leased address ${s.boardIp}`);
      const p = await s.exec("ping", ["-n", "-q", "-c", "10", "-s", "1400", "-i", "0.05", "-W", "2", s.boardIp], { check: false, timeoutMs: 30_000 });
      assert.match(p.stdout, /10 packets transmitted, 10 received/, p.stdout);
      const url = `http://${s.boardIp}/`;
      const c = await s.exec("curl", ["-s", "-m", "20", "-w", "%{http_code} %{num_connects}\n", ...[url, url, url].flatMap((u) => [u, "-o", "/dev/null"])], { check: false, timeoutMs: 60_000 });
      assert.equal(c.stdout, "200 1\n200 0\n200 0\n", `curl (code, new connections): ${c.stderr}`);
    }));
  await t.test("greeter: nc prints the greeting", () =>
    withRuntime(runtime, "greeter", undefined, async (s) => {
      const r = await s.exec("nc", ["-w", "5", BOARD, "54321"], { check: false, timeoutMs: 30_000 });
      assert.equal(r.stdout, "Thank you for connecting\n", `nc output (exit ${r.code}): ${r.stderr}`);
    }));
  await t.test(`echo: ${WAMR_ECHO_BYTES} bytes each way, sha256 equal; no driver or pool error`, () =>
    withRuntime(runtime, "echo", undefined, async (s) => {
      const t1 = performance.now();
      const e = await s.exec("python3", ["-c", ECHO, BOARD, String(WAMR_ECHO_BYTES)], { check: false, timeoutMs: 120_000 });
      const secs = (performance.now() - t1) / 1000;
      assert.equal(e.stdout.trim(), `${WAMR_ECHO_BYTES} True`, `echo: ${e.stdout}${e.stderr}`);
      const st = await (s as QemuSession).stats();
      for (const k of ["rx_errors", "rx_dropped", "tx_errors", "tx_fifo_timeouts"]) assert.equal(st.lan9118[k], 0, `lan9118 ${k}`);
      assert.equal(st.board.rx_input, st.board.rx_queued, "every pooled frame reached input()");
      assert.ok(st.wamr.pool_peak > 0 && st.wamr.pool_peak <= st.wamr.pool_size, `WAMR pool peak ${st.wamr.pool_peak} of ${st.wamr.pool_size}`);
      t.diagnostic(`${runtime}: echo ${WAMR_ECHO_BYTES >> 20} MiB each way in ${secs.toFixed(2)} s; WAMR pool peak ${st.wamr.pool_peak} of ${st.wamr.pool_size} bytes; stack high water ${st.stack.high_water} bytes`);
    }));
  t.diagnostic(`${runtime}: ${((performance.now() - t0) / 1000).toFixed(1)} s for the three boots`);
});

for (const runtime of WAMR_RUNTIMES)
test(`mps2 ${runtime}: a trap in init (unreachable after phy.panic) is reported on the UART, then the board resets`, { timeout: 60_000 }, async (t) => {
  const elf = qemuImage("trap-unreachable", runtime);
  if (!requirePrereqs(t, [QEMU], [elf])) return;
  const r = await bootUart(elf, undefined, /^wasmip: resetting$/m);
  assert.match(r.out, new RegExp(`^wasmip: mps2-an385 board \\(Cortex-M3\\), app trap-unreachable, runtime ${runtime}$`, "m"));
  assert.match(r.out, /^\[error\] wasmip panic: trap\.wat:9 deliberate trap in init/m);
  assert.match(r.out, /^wasmip: trap in init\(\): unreachable\b/m);
  assert.doesNotMatch(r.out, /^ready$/m);
});

// Interpreted, the recursion fills WAMR's operand stack (in the pool); AOT code recurses on the
// thread stack, which WAMR checks against the bound the no-OS layer gives it (above the MPU guard).
for (const runtime of WAMR_RUNTIMES)
test(`mps2 ${runtime}: a runaway recursion is a trap (${runtime === "wamr-aot" ? "native" : "operand"} stack overflow), reported before the thread stack ends`, { timeout: 60_000 }, async (t) => {
  const elf = qemuImage("trap-recursion", runtime);
  if (!requirePrereqs(t, [QEMU], [elf])) return;
  const r = await bootUart(elf, undefined, /^wasmip: resetting$/m);
  const kind = runtime === "wamr-aot" ? "native stack overflow" : "wasm operand stack overflow";
  assert.match(r.out, new RegExp(`^wasmip: trap in init\\(\\): ${kind}$`, "m"));
  const m = /^\s+high_water (\d+) size (\d+)$/m.exec(r.out);
  assert.ok(m && Number(m[1]) < Number(m[2]), `stack report: ${m?.[0]}`);
  assert.doesNotMatch(r.out, /fault/);
  t.diagnostic(`${runtime}: thread stack high water ${m[1]} of ${m[2]} bytes at the trap`);
});

test("mps2: no namespace left behind", async (t) => {
  if (process.getuid?.() !== 0) {
    t.skip("needs root");
    return;
  }
  const left = (await netnsList()).filter((n) => n.startsWith("wasmip-m") && n.endsWith(String(process.pid % 100_000)));
  assert.deepEqual(left, []);
});
