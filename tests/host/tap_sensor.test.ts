// The sensor template (build/sensor.wasm) against the real servers: mosquitto (Debian mosquitto,
// mosquitto-clients) and chronyd (Debian chrony) on a TAP in a namespace this test creates (and
// always deletes; the servers and clients are killed by pid), listening on the namespace's peer
// address only. The sensor syncs its clock from chronyd, then, told the broker through its exports
// (keep-alive 2 s), connects as sensor-<MAC's last three bytes> with its will, says "online" and
// subscribes to its command topic; mosquitto_sub sees its readings on sensors/<name>, each stamped
// within 1 s of the kernel's clock when mosquitto_sub printed it (the same clock: one kernel);
// mosquitto_pub commands it to publish every 3 s, and a bad command is rejected and counted. Then
// the board stops dead (its runner stopped: no frame in or out, as a board losing power), and
// mosquitto publishes its will, "offline", once the keep-alive (1.5 x 2 s) has run out.
// The posix board (wasm2c) runs the same image with no host at all: it leases its address from
// dnsmasq, which also hands out chronyd (option 42) and resolves the broker's name; the broker and
// keep-alive come from --app-config. mosquitto_sub sees its readings stamped by NTP time, a command
// from mosquitto_pub changes its interval, dig finds sensor.local and its _http._tcp service, curl
// reads its page, and its counters at exit show no error.
// Without the prerequisites the test is skipped locally and FAILS under CI=true.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { requirePrereqs } from "./prereqs.ts";
import { watch } from "./watch.ts";
import { netnsList, killChild, run, IP } from "../../host/devices/netns.ts";
import { appWasm } from "../../host/board/board.ts";
import { ipToU32 } from "../../host/board/address.ts";
import { TapSession } from "../../host/devices/tap.ts";
import { chronyConf, startChronyd } from "../../host/devices/services/chronyd.ts";
import { nativeBinary } from "../../host/devices/native.ts";
import { Dnsmasq } from "../../host/devices/services/dnsmasq.ts";

const NS = `wasmip-s${process.pid}`.slice(0, 15);
const TAP = "wsen0";
const SUBNET = "10.213.92";
const BOARD = `${SUBNET}.2`;
const PEER = `${SUBNET}.1`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

test("tap: the sensor with mosquitto and chronyd: online, readings on sensors/<name> at QoS 1 stamped by NTP time, commands from mosquitto_pub, offline by its will", { timeout: 120_000 }, async (t) => {
  const wasm = appWasm("sensor");
  if (!requirePrereqs(t, ["mosquitto", "mosquitto_sub", "mosquitto_pub", "chronyd"], [wasm])) return;
  assert.ok(!(await netnsList()).includes(NS), `namespace ${NS} exists before the test`);
  const logs: string[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-sensor-"));
  const conf = path.join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener 1883 ${PEER}\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type all\n`);
  const session = new TapSession();
  const children: ChildProcess[] = [];
  try {
    await session.start({ netns: NS, tap: TAP, boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, wasm, log: (level, msg) => logs.push(`[${level}] ${msg}`) });
    // chronyd first: it may answer "unsynchronised" for a moment after it starts (the client then
    // backs off 15 s), so it gets the broker's start-up time to settle.
    const ntp = await startChronyd((cmd, args) => session.spawn(cmd, args), chronyConf(dir, SUBNET, PEER)).catch((e: Error & { proc?: ChildProcess }) => {
      if (e.proc) children.push(e.proc);
      throw e;
    });
    children.push(ntp.proc);
    const b = session.spawn("mosquitto", ["-c", conf]);
    children.push(b);
    const log = watch(b);
    await log.until(/Opening ipv4 listen socket on port 1883/, 5000);
    // Each message with the time mosquitto_sub printed it (%U: Unix seconds, nanoseconds).
    const s = session.spawn("mosquitto_sub", ["-h", PEER, "-i", "sub", "-q", "1", "-F", "%U %t %p", "-t", "sensors/#"]);
    children.push(s);
    const sub = watch(s);
    await log.until(/sub 1 sensors\/#/, 5000);
    assert.ok(await session.waitReachable(10), `the board did not answer ping:\n${logs.join("\n")}`);
    const board = session.board!;
    const ex = (name: string) => (board.exports[name] as () => number)() >>> 0;
    const ex1 = (name: string, v: number) => (board.exports[name] as (v: number) => number)(v) >>> 0;

    board.sntp.setServers([PEER]);
    board.kick();
    for (let i = 0; i < 600 && !board.sntp.synced; i++) await sleep(100);
    assert.ok(board.sntp.synced, `no SNTP sync within 60 s:\n${logs.join("\n")}\nchronyd:\n${ntp.log()}`);

    assert.equal(ex1("sensor_mqtt_keepalive", 2), 1);
    assert.equal((board.exports.sensor_mqtt_to as (ip: number, port: number, ms: number) => number)(ipToU32(PEER), 0, 0), 0);
    board.kick();
    await log.until(/New client connected from 10\.213\.92\.2:\d+ as sensor-[0-9a-f]{6} \(p2, c0, k2\)/, 5000);
    const name = /as (sensor-[0-9a-f]{6})/.exec(log.out())![1];
    await log.until(new RegExp(`${name} 1 sensors/${name}/cmd`), 5000);
    await sub.until(new RegExp(`^\\d+\\.\\d+ sensors/${name}/status online$`, "m"), 5000);
    const reading = new RegExp(`^(\\d+\\.\\d+) sensors/${name} \\{"seq":(\\d+),"mC":-?\\d+,"t":(\\d+\\.\\d{3})\\}$`, "gm");
    const readings = () => [...sub.out().matchAll(reading)].map((m) => ({ at: Number(m[1]), seq: Number(m[2]), t: Number(m[3]) }));
    const seqs = () => readings().map((r) => r.seq);
    await sub.until(new RegExp(`(\\S+ sensors/${name} .*\\n){3}`), 5000);
    const first = seqs();
    for (let i = 1; i < first.length; i++) assert.equal(first[i], first[i - 1] + 1, `each reading once, in order: ${first}`);
    // Every reading stamped by the NTP clock: within 1 s of the kernel's when mosquitto_sub had it.
    assert.equal(readings().length, [...sub.out().matchAll(new RegExp(`^\\S+ sensors/${name} `, "gm"))].length, `a reading without a time:\n${sub.out()}`);
    for (const r of readings()) assert.ok(Math.abs(r.t - r.at) <= 1, `reading ${r.seq}: t ${r.t}, received at ${r.at}`);

    const pub = async (msg: string) => {
      const p = session.spawn("mosquitto_pub", ["-h", PEER, "-q", "1", "-t", `sensors/${name}/cmd`, "-m", msg]);
      children.push(p);
      await new Promise((r) => p.once("exit", r));
    };
    await pub("interval_ms=3000");
    for (let i = 0; i < 100 && ex("sensor_mqtt_interval") !== 3000; i++) await sleep(20);
    assert.equal(ex("sensor_mqtt_interval"), 3000);
    await pub("interval_ms=often");
    for (let i = 0; i < 100 && ex("sensor_commands_rejected") !== 1; i++) await sleep(20);
    assert.equal(ex("sensor_commands_rejected"), 1);
    assert.equal(ex("sensor_mqtt_interval"), 3000);
    // Three readings 3 s apart after the command (readings are taken every second).
    const before = seqs().length;
    for (let i = 0; i < 200 && seqs().length < before + 3; i++) await sleep(50);
    const after = seqs().slice(before);
    assert.ok(after.length >= 3, `readings after the command: ${after}`);
    for (let i = 1; i < after.length; i++) assert.ok(Math.abs(after[i] - after[i - 1] - 3) <= 1, `3 s apart: ${after}`);
    const all = readings();
    for (const r of all) assert.ok(Math.abs(r.t - r.at) <= 1, `reading ${r.seq}: t ${r.t}, received at ${r.at}`);
    console.log(`${all.length} readings: t within ${Math.max(...all.map((r) => Math.abs(r.t - r.at))).toFixed(3)} s of the kernel's clock at mosquitto_sub`);
    const c = board.counters();
    assert.equal(c.mqtt_malformed + c.mqtt_unexpected + c.mqtt_too_long + c.mqtt_ping_timeouts, 0);
    assert.equal(c.sntp_bad_origin + c.sntp_bad_source + c.sntp_malformed + c.sntp_bad_mode, 0);
    assert.equal(ex("sensor_mqtt_acked"), ex("sensor_mqtt_published"));
    assert.equal(session.error, undefined, `runner error: ${session.error?.message}`);

    // The board stops dead: mosquitto gives up on it after 1.5 keep-alives and publishes its will.
    session.runner!.stop();
    await log.until(new RegExp(`Client ${name} has exceeded timeout, disconnecting`), 10_000);
    await sub.until(new RegExp(`^\\d+\\.\\d+ sensors/${name}/status offline$`, "m"), 5000);
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

test("posix board --dhcp --app-config: the sensor leases, syncs from chronyd (option 42), publishes to mosquitto by name, takes a command, answers mDNS and HTTP", { timeout: 120_000 }, async (t) => {
  const bin = nativeBinary("sensor");
  if (!requirePrereqs(t, ["mosquitto", "mosquitto_sub", "mosquitto_pub", "chronyd", "dnsmasq", "dig", "curl"], [bin])) return;
  const ns = `wasmip-q${process.pid}`.slice(0, 15);
  const subnet = "10.213.93";
  const peer = `${subnet}.1`;
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} exists before the test`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-psensor-"));
  const conf = path.join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener 1883 ${peer}\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type all\n`);
  const board = spawn(bin, ["--netns", ns, "--dhcp", "--peer-ip", `${peer}/24`,
    "--app-config", "keepalive=2", "--app-config", "broker=broker.wasmip.test"], { stdio: ["ignore", "pipe", "pipe"] });
  const out = watch(board);
  const exited = new Promise<number | null>((resolve) => board.once("exit", (code) => resolve(code)));
  const spawnIn = (cmd: string, args: string[]) => spawn(IP, ["netns", "exec", ns, cmd, ...args], { stdio: ["pipe", "pipe", "pipe"] });
  const inNs = (cmd: string, args: string[]) => run(IP, ["netns", "exec", ns, cmd, ...args], { timeoutMs: 15_000 });
  const children: ChildProcess[] = [];
  let server: Dnsmasq | undefined;
  try {
    // The board creates the tap with the peer address; the servers bind to it once it is there.
    for (let i = 0; ; i++) {
      const r = await run(IP, ["-n", ns, "addr", "show", "dev", "tap0"], { check: false });
      if (r.code === 0 && r.stdout.includes(`${peer}/24`)) break;
      assert.ok(board.exitCode === null && i < 500, `tap0 not up in ${ns}: ${out.out()}`);
      await sleep(20);
    }
    const ntp = await startChronyd(spawnIn, chronyConf(dir, subnet, peer)).catch((e: Error & { proc?: ChildProcess }) => {
      if (e.proc) children.push(e.proc);
      throw e;
    });
    children.push(ntp.proc);
    const b = spawnIn("mosquitto", ["-c", conf]);
    children.push(b);
    const log = watch(b);
    await log.until(/Opening ipv4 listen socket on port 1883/, 5000);
    const s = spawnIn("mosquitto_sub", ["-h", peer, "-i", "sub", "-q", "1", "-F", "%U %t %p", "-t", "sensors/#"]);
    children.push(s);
    const sub = watch(s);
    await log.until(/sub 1 sensors\/#/, 5000);
    server = new Dnsmasq({ spawn: spawnIn }, {
      tap: "tap0", rangeStart: `${subnet}.100`, rangeEnd: `${subnet}.199`, router: peer,
      addresses: [["broker.wasmip.test", peer]], extraArgs: [`--dhcp-option=42,${peer}`],
    });
    await server.ready();
    await out.until(/^leased (10\.213\.93\.\d+)\/24/m, 30_000);
    const ip = /^leased (\S+)\/24/m.exec(out.out())![1];
    await out.until(/^ready$/m, 5000);
    assert.match(out.out(), /wasmip: app config broker=broker\.wasmip\.test/);

    // Connected by name, with the keep-alive it was given.
    await log.until(new RegExp(`New client connected from ${ip.replace(/\./g, "\\.")}:\\d+ as sensor-[0-9a-f]{6} \\(p2, c0, k2\\)`), 15_000);
    const name = /as (sensor-[0-9a-f]{6})/.exec(log.out())![1];
    await log.until(new RegExp(`${name} 1 sensors/${name}/cmd`), 5000);
    await sub.until(new RegExp(`^\\d+\\.\\d+ sensors/${name}/status online$`, "m"), 5000);
    await out.until(/sntp: synced, 10\.213\.93\.1 st 8/, 60_000);
    const reading = new RegExp(`^(\\d+\\.\\d+) sensors/${name} \\{"seq":(\\d+),"mC":-?\\d+,"t":(null|\\d+\\.\\d{3})\\}$`, "gm");
    const readings = () => [...sub.out().matchAll(reading)].map((m) => ({ at: Number(m[1]), seq: Number(m[2]), t: m[3] === "null" ? null : Number(m[3]) }));
    const stamped = () => readings().filter((r) => r.t !== null);
    for (let i = 0; i < 100 && stamped().length < 3; i++) await sleep(100);
    assert.ok(stamped().length >= 3, `readings stamped by NTP time:\n${sub.out()}`);

    // A command from mosquitto_pub: every 3 s from then on.
    const p = spawnIn("mosquitto_pub", ["-h", peer, "-q", "1", "-t", `sensors/${name}/cmd`, "-m", "interval_ms=3000"]);
    children.push(p);
    await new Promise((r) => p.once("exit", r));
    await out.until(/sensor: publishing every 3000 ms/, 5000);
    const before = readings().length;
    for (let i = 0; i < 200 && readings().length < before + 3; i++) await sleep(50);
    const after = readings().slice(before).map((r) => r.seq);
    assert.ok(after.length >= 3, `readings after the command: ${after}`);
    for (let i = 1; i < after.length; i++) assert.ok(Math.abs(after[i] - after[i - 1] - 3) <= 1, `3 s apart: ${after}`);
    const all = readings();
    assert.equal(all.length, [...sub.out().matchAll(new RegExp(`^\\S+ sensors/${name} `, "gm"))].length, `a reading not in the format:\n${sub.out()}`);
    for (let i = 1; i < all.length; i++) assert.ok(all[i].seq > all[i - 1].seq, `each reading once, in order: ${all.map((r) => r.seq)}`);
    for (const r of stamped()) assert.ok(Math.abs(r.t! - r.at) <= 1, `reading ${r.seq}: t ${r.t}, received at ${r.at}`);

    // Findable on the LAN (mDNS, asked by unicast to port 5353) and serving its page.
    const a = await inNs("dig", ["-p", "5353", `@${ip}`, "sensor.local", "+time=2", "+tries=2", "+short"]);
    assert.equal(a.stdout.trim(), ip, `sensor.local: ${a.stdout}`);
    const ptr = await inNs("dig", ["-p", "5353", `@${ip}`, "_http._tcp.local", "PTR", "+time=2", "+tries=2", "+short"]);
    assert.equal(ptr.stdout.trim(), "sensor._http._tcp.local.", `_http._tcp.local: ${ptr.stdout}`);
    const page = await inNs("curl", ["-sS", "--max-time", "5", `http://${ip}/`]);
    assert.match(page.stdout, /^temperature -?\d+\.\d{3} C, reading \d+\n$/);
  } finally {
    await server?.stop().catch(() => {});
    for (const c of children) await killChild(c).catch(() => {});
    if (board.exitCode === null) await killChild(board, 5000).catch(() => {});
    await exited;
    rmSync(dir, { recursive: true, force: true });
    if ((await netnsList()).includes(ns)) await run(IP, ["netns", "del", ns], { check: false });
  }
  assert.equal(board.exitCode, 0, `exit: ${out.out()}`);
  // The counters it printed at exit (netstat -s style): no malformed packet from the real servers.
  const counter = (n: string) => Number((new RegExp(`^\\s*${n}\\s+(\\d+)$`, "m").exec(out.out()) ?? [])[1] ?? NaN);
  assert.ok(counter("sntp_samples") >= 1, `counters at exit: ${out.out()}`);
  for (const bad of ["mqtt_malformed", "mqtt_unexpected", "mqtt_too_long", "mqtt_ping_timeouts", "sntp_bad_origin", "sntp_bad_source", "sntp_malformed", "sntp_bad_mode"]) {
    assert.ok(!(counter(bad) > 0), `${bad} at exit: ${out.out()}`);
  }
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} left behind`);
});
