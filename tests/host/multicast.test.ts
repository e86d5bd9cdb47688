// IPv4 multicast (images built with WASMIP_MULTICAST=1: build/udp-echo.wasm): in virtual time,
// boards in a group on the simulated switch (which floods multicast, as a switch without IGMP
// snooping does); against the Linux kernel over a TAP in a namespace the test creates and deletes,
// a kernel socket in the group receives the board's datagrams and the board receives the kernel's,
// and the board's join goes out as an IGMPv3 report.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { spawn } from "node:child_process";
import { Simulator } from "../../host/sim/sim.ts";
import { appWasm } from "../../host/board/board.ts";
import { TapSession } from "../../host/devices/tap.ts";
import { netnsList, killChild, IP } from "../../host/devices/netns.ts";
import { requirePrereqs } from "./prereqs.ts";

const WASM = appWasm("udp-echo");
const GROUP = "239.1.2.3";

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

test("multicast sim: members of a group receive a board's datagram, others do not; TTL as set", async (t) => {
  if (!requirePrereqs(t, [], [WASM])) return;
  const sim = new Simulator({ seed: 4, wasm: WASM });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:0a", ip: "10.0.0.2", prefix: 24, link: { delay: 1 } });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:0b", ip: "10.0.0.3", prefix: 24, link: { delay: 1 } });
  const c = sim.addBoard({ name: "C", mac: "02:00:00:00:00:0c", ip: "10.0.0.4", prefix: 24, link: { delay: 1 } });
  const macs: string[][] = [];
  a.on("multicast", (m: string[]) => macs.push(m));
  const got: string[] = [];
  const sa = a.dgram.createSocket("udp4", (msg, r) => got.push(`A ${msg} from ${r.address}`)).bind(5000);
  const sc = c.dgram.createSocket("udp4", (msg) => got.push(`C ${msg}`)).bind(5000); // not in the group
  sa.addMembership(GROUP);
  assert.throws(() => sa.addMembership(GROUP), { code: "EADDRINUSE" });
  assert.throws(() => sa.addMembership(GROUP, "10.0.0.9"), { code: "EADDRNOTAVAIL" });
  assert.throws(() => sa.setMulticastLoopback(true), { code: "ENOSYS" });
  sim.runFor(10);
  assert.deepEqual(macs, [["01:00:5e:01:02:03"]]);
  const frames: Uint8Array[] = [];
  sim.capture({ write: (f: Uint8Array) => void frames.push(f) });
  const sb = b.dgram.createSocket("udp4").bind(6000);
  sb.setMulticastTTL(3);
  sb.send("hello", 5000, GROUP);
  await sim.runUntilAsync(() => got.length > 0, { timeout: 1000 });
  sim.runFor(100);
  assert.deepEqual(got, ["A hello from 10.0.0.3"]);
  const udp = frames.find((f) => f[12] === 0x08 && f[23] === 17 && f[30] === 239);
  assert.ok(udp, "no datagram to the group captured");
  assert.deepEqual([...udp!.subarray(0, 6)], [0x01, 0x00, 0x5e, 0x01, 0x02, 0x03]);
  assert.equal(udp![22], 3, "TTL");
  assert.equal(c.counters().eth_not_for_us > 0, true, "C's MAC filter dropped the group's frame");
  assert.equal(b.counters().arp_requests_sent, 0);
  sim.runFor(1100); // the join's second report (within IGMP_UNSOLICITED_MS)
  sa.dropMembership(GROUP);
  sim.runFor(10);
  assert.deepEqual(macs.at(-1), []);
  assert.ok(a.counters().igmp_reports_sent >= 3, "two reports for the join, one for the leave");
  for (const s of [sa, sb, sc]) s.close();
});

test("multicast against the kernel: a kernel socket in the group and the board exchange datagrams; the join is an IGMPv3 report", { timeout: 60_000 }, async (t) => {
  if (!requirePrereqs(t, ["python3"], [WASM])) return;
  const ns = `wasmip-m${process.pid}`.slice(0, 15);
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} exists before the test`);
  const sent: Uint8Array[] = [];
  const s = new TapSession();
  let py: ReturnType<typeof spawn> | undefined;
  try {
    await s.start({ netns: ns, tap: "tap0", boardIp: "10.213.95.2/24", peerIp: "10.213.95.1/24", wasm: WASM, observe: (dir, f) => dir === "tx" && sent.push(f.slice()) });
    const board = s.board!;
    const got: string[] = [];
    const sock = board.dgram.createSocket("udp4", (msg, r) => got.push(`${msg} from ${r.address}:${r.port}`)).bind(5000);
    sock.addMembership(GROUP);
    // The kernel joins the group on its tap, waits for one datagram to it, then sends one to it.
    const script = [
      "import socket, struct, sys",
      "r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      "r.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)",
      `r.bind(("${GROUP}", 6000))`,
      `r.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, socket.inet_aton("${GROUP}") + socket.inet_aton("10.213.95.1"))`,
      "print('joined', flush=True)",
      "r.settimeout(10)",
      "data, src = r.recvfrom(100)",
      "print('got', data.decode(), src[0], flush=True)",
      "w = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      "w.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton('10.213.95.1'))",
      "w.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)",
      `w.sendto(b'from-kernel', ("${GROUP}", 5000))`,
    ].join("\n");
    py = spawn(IP, ["netns", "exec", ns, "python3", "-c", script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    py.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    py.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    const until = async (ok: () => boolean, what: string, ms = 10_000) => {
      const deadline = Date.now() + ms;
      while (!ok() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(ok(), `${what}; python: ${out} ${err}`);
    };
    await until(() => out.includes("joined"), "the kernel did not join");
    sock.send("from-board", 6000, GROUP);
    await until(() => out.includes("got from-board 10.213.95.2"), "the kernel did not receive the board's datagram");
    await until(() => got.length > 0, "the board did not receive the kernel's datagram");
    assert.deepEqual(got, ["from-kernel from 10.213.95.1:" + got[0].split(":").at(-1)]);
    const report = sent.find((f) => f[12] === 0x08 && f[23] === 2);
    assert.ok(report, "no IGMP frame sent");
    const ihl = (report![14] & 15) * 4;
    assert.equal(report![14 + ihl], 0x22, "an IGMPv3 report");
    assert.deepEqual([...report!.subarray(14 + ihl + 12, 14 + ihl + 16)], [239, 1, 2, 3]);
    sock.close();
    const exited = py.exitCode !== null ? [py.exitCode] : await Promise.race([once(py, "exit"), new Promise((r) => setTimeout(() => r([null]), 5000))]);
    const [code] = exited as [number | null];
    assert.equal(code, 0, `python exited ${code}: ${err}`);
  } finally {
    if (py && py.exitCode === null) await killChild(py, 2000).catch(() => {});
    await s.stop();
  }
  assert.ok(!(await netnsList()).includes(ns), "namespace left behind");
});
