// The sensor template (build/sensor.wasm) against the real broker: mosquitto (Debian mosquitto,
// mosquitto-clients) on a TAP in a namespace this test creates (and always deletes; mosquitto and
// its clients are killed by pid), listening on the namespace's peer address only. Told the broker
// through its export, the sensor connects as sensor-<MAC's last three bytes> and subscribes to its
// command topic; mosquitto_sub sees its readings on sensors/<name> (t null: no NTP server here);
// mosquitto_pub commands it to publish every 3 s, and a bad command is rejected and counted.
// Without the prerequisites the test is skipped locally and FAILS under CI=true.
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
import { ipToU32 } from "../../host/board/address.ts";
import { TapSession } from "../../host/devices/tap.ts";

const NS = `wasmip-s${process.pid}`.slice(0, 15);
const TAP = "wsen0";
const SUBNET = "10.213.92";
const BOARD = `${SUBNET}.2`;
const PEER = `${SUBNET}.1`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

test("tap: the sensor with mosquitto: readings on sensors/<name> at QoS 1, commands from mosquitto_pub", { timeout: 60_000 }, async (t) => {
  const wasm = appWasm("sensor");
  if (!requirePrereqs(t, ["mosquitto", "mosquitto_sub", "mosquitto_pub"], [wasm])) return;
  assert.ok(!(await netnsList()).includes(NS), `namespace ${NS} exists before the test`);
  const logs: string[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-sensor-"));
  const conf = path.join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener 1883 ${PEER}\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type all\n`);
  const session = new TapSession();
  const children: ChildProcess[] = [];
  try {
    await session.start({ netns: NS, tap: TAP, boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, wasm, log: (level, msg) => logs.push(`[${level}] ${msg}`) });
    const b = session.spawn("mosquitto", ["-c", conf]);
    children.push(b);
    const log = watch(b);
    await log.until(/Opening ipv4 listen socket on port 1883/, 5000);
    const s = session.spawn("mosquitto_sub", ["-h", PEER, "-i", "sub", "-q", "1", "-v", "-t", "sensors/#"]);
    children.push(s);
    const sub = watch(s);
    await log.until(/sub 1 sensors\/#/, 5000);
    assert.ok(await session.waitReachable(10), `the board did not answer ping:\n${logs.join("\n")}`);
    const board = session.board!;
    const ex = (name: string) => (board.exports[name] as () => number)() >>> 0;

    assert.equal((board.exports.sensor_mqtt_to as (ip: number, port: number, ms: number) => number)(ipToU32(PEER), 0, 0), 0);
    board.kick();
    await log.until(/New client connected from 10\.213\.92\.2:\d+ as sensor-[0-9a-f]{6} \(p2, c0, k30\)/, 5000);
    const name = /as (sensor-[0-9a-f]{6})/.exec(log.out())![1];
    await log.until(new RegExp(`${name} 1 sensors/${name}/cmd`), 5000);
    const reading = new RegExp(`^sensors/${name} \\{"seq":(\\d+),"mC":-?\\d+,"t":null\\}$`, "gm");
    const seqs = () => [...sub.out().matchAll(reading)].map((m) => Number(m[1]));
    await sub.until(new RegExp(`(sensors/${name} .*\\n){3}`), 5000);
    const first = seqs();
    for (let i = 1; i < first.length; i++) assert.equal(first[i], first[i - 1] + 1, `each reading once, in order: ${first}`);

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
    const c = board.counters();
    assert.equal(c.mqtt_malformed + c.mqtt_unexpected + c.mqtt_too_long + c.mqtt_ping_timeouts, 0);
    assert.equal(ex("sensor_mqtt_acked"), ex("sensor_mqtt_published"));
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
