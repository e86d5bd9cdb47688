// MQTT against the real broker: mosquitto (Debian mosquitto, mosquitto-clients) on a TAP in a
// namespace this test creates (and always deletes; mosquitto and its clients are killed by pid),
// listening on the namespace's peer address only. The board (build/mqtt.wasm, the core with the
// MQTT client) publishes at QoS 0, 1 and 2 and mosquitto_sub sees each; mosquitto_pub delivers to
// the board's subscription; then the broker is stopped while QoS 1 messages are in flight, killed
// and started again: the board reconnects and sends them again (DUP), and the subscriber gets them,
// the QoS 2 one exactly once.
// Without the prerequisites the test is skipped locally and FAILS under CI=true.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { requirePrereqs } from "./prereqs.ts";
import { watch, type Watch } from "./watch.ts";
import { netnsList, killChild, run, IP } from "../../host/devices/netns.ts";
import { appWasm } from "../../host/board/board.ts";
import { TapSession } from "../../host/devices/tap.ts";
import type { MqttClient, MqttPacket } from "../../host/board/mqtt.ts";

const NS = `wasmip-q${process.pid}`.slice(0, 15);
const TAP = "wmqt0";
const SUBNET = "10.213.91";
const BOARD = `${SUBNET}.2`;
const PEER = `${SUBNET}.1`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

function once<T>(c: MqttClient, ev: string, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no '${ev}' within ${ms} ms`)), ms);
    c.once(ev, (v: T) => {
      clearTimeout(t);
      resolve(v);
    });
  });
}

test("tap: the board's MQTT client with mosquitto: QoS 0/1/2 both ways, and QoS 1 and 2 re-sent after a broker restart", { timeout: 60_000 }, async (t) => {
  const wasm = appWasm("mqtt");
  if (!requirePrereqs(t, ["mosquitto", "mosquitto_sub", "mosquitto_pub"], [wasm])) return;
  assert.ok(!(await netnsList()).includes(NS), `namespace ${NS} exists before the test`);
  const logs: string[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-mqtt-"));
  const conf = path.join(dir, "mosquitto.conf");
  writeFileSync(conf, `listener 1883 ${PEER}\nallow_anonymous true\npersistence false\nlog_dest stderr\nlog_type all\n`);
  const session = new TapSession();
  const children: ChildProcess[] = [];
  const broker = async () => {
    const b = session.spawn("mosquitto", ["-c", conf]);
    children.push(b);
    const w = watch(b);
    await w.until(/Opening ipv4 listen socket on port 1883/, 5000);
    return { proc: b, log: w };
  };
  /** mosquitto_sub on board/#, QoS 2, printing "topic payload" lines; resolved once subscribed. */
  const subscriber = async (log: Watch, id: string) => {
    const s = session.spawn("mosquitto_sub", ["-h", PEER, "-i", id, "-q", "2", "-v", "-t", "board/#"]);
    children.push(s);
    const w = watch(s);
    await log.until(new RegExp(`${id} 2 board/#`), 5000);
    return w;
  };
  try {
    await session.start({ netns: NS, tap: TAP, boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, wasm, log: (level, msg) => logs.push(`[${level}] ${msg}`) });
    let b = await broker();
    let sub = await subscriber(b.log, "sub1");
    assert.ok(await session.waitReachable(10), `the board did not answer ping:\n${logs.join("\n")}`);
    const board = session.board!;

    const client = board.mqtt.connect({ host: PEER, clientId: "board1", keepalive: 5, clean: false, will: { topic: "board/will", payload: "gone", qos: 1 } });
    const connack = await once<{ sessionPresent: boolean }>(client, "connect", 5000);
    assert.equal(connack.sessionPresent, false);
    await b.log.until(/New client connected from 10\.213\.91\.2:\d+ as board1 \(p2, c0, k5\)/, 2000);

    // Board -> mosquitto_sub at each QoS; the callbacks fire on PUBACK / PUBCOMP.
    const done = (topic: string, payload: string, qos: 0 | 1 | 2) =>
      new Promise<void>((resolve, reject) => client.publish(topic, payload, { qos }, (e) => (e ? reject(e) : resolve())));
    await done("board/q0", "zero", 0);
    await done("board/q1", "one", 1);
    await done("board/q2", "two", 2);
    await sub.until(/board\/q0 zero\nboard\/q1 one\nboard\/q2 two\n/, 3000);

    // mosquitto_pub -> the board's subscription, at QoS 1 and 2.
    const granted = await new Promise<{ qos: number }[]>((resolve, reject) => client.subscribe("cmd/#", { qos: 2 }, (e, g) => (e ? reject(e) : resolve(g!))));
    assert.deepEqual(granted, [{ topic: "cmd/#", qos: 2 }]);
    const got: MqttPacket[] = [];
    client.on("message", (_topic: string, _payload: Buffer, packet: MqttPacket) => got.push(packet));
    for (const [q, text] of [["1", "led on"], ["2", "led off"]]) {
      const pub = session.spawn("mosquitto_pub", ["-h", PEER, "-q", q, "-t", `cmd/${q}`, "-m", text]);
      children.push(pub);
      await new Promise((r) => pub.once("exit", r));
    }
    for (let i = 0; i < 200 && got.length < 2; i++) await sleep(10);
    assert.deepEqual(got.map((p) => [p.topic, p.payload.toString(), p.qos]), [["cmd/1", "led on", 1], ["cmd/2", "led off", 2]]);

    // The broker stops answering with QoS 1 messages in flight, then dies and comes back.
    process.kill(b.proc.pid!, "SIGSTOP");
    for (let i = 0; i < 3; i++) client.publish("board/r", `again ${i}`, { qos: 1 });
    client.publish("board/r2", "once", { qos: 2 });
    await sleep(300);
    assert.equal(client.inflight, 4, "the messages wait for PUBACK / PUBREC");
    const closed = once(client, "close", 5000);
    process.kill(b.proc.pid!, "SIGKILL");
    await new Promise((r) => b.proc.once("exit", r));
    await killChild(children.find((c) => c.spawnargs.includes("sub1"))!);
    b = await broker();
    sub = await subscriber(b.log, "sub2");
    await closed;
    const reconnected = await once<{ sessionPresent: boolean }>(client, "connect", 15_000);
    assert.equal(reconnected.sessionPresent, false); // the broker lost its memory
    await sub.until(/board\/r again 0\nboard\/r again 1\nboard\/r again 2\nboard\/r2 once\n/, 5000);
    for (let i = 0; i < 200 && client.inflight > 0; i++) await sleep(10);
    assert.equal(client.inflight, 0);
    const c = board.counters();
    assert.equal(c.mqtt_retransmits, 4);
    await sleep(200);
    assert.equal(sub.out().match(/board\/r2 once/g)?.length, 1, "QoS 2: exactly once");
    assert.equal(c.mqtt_malformed + c.mqtt_unexpected + c.mqtt_too_long + c.mqtt_ping_timeouts, 0);
    // The retained subscription came back with the new session (resubscribe).
    await b.log.until(/board1 2 cmd\/#/, 3000);
    client.end();
    await b.log.until(/Received DISCONNECT from board1/, 3000);
    assert.doesNotMatch(sub.out(), /board\/will/); // DISCONNECT: no will
    assert.equal(session.error, undefined, `runner error: ${session.error?.message}`);
  } finally {
    for (const c of children) {
      if (c.signalCode === null && c.exitCode === null && c.pid) {
        try {
          process.kill(c.pid, "SIGCONT");
        } catch {}
      }
      await killChild(c).catch(() => {});
    }
    await session.stop();
    rmSync(dir, { recursive: true, force: true });
    if ((await netnsList()).includes(NS)) {
      await run(IP, ["netns", "del", NS], { check: false });
      assert.fail(`namespace ${NS} was left behind by stop()`);
    }
  }
});
