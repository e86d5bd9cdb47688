// The loopback interface in the release image, through the node:net-shaped API: a server and a
// client on one board over 127.0.0.1 and over its own address; nothing reaches phy.tx, every
// frame is accounted for, memory does not grow; a build without the feature refuses 127/8.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Simulator } from "../../host/sim/sim.ts";
import { Prng } from "../../host/sim/prng.ts";
import { ipToU32 } from "../../host/board/address.ts";
import { ROOT, type Board } from "../../host/board/board.ts";
import type { NetError, Socket } from "../../host/board/net.ts";

const SEED = 801;
const dir = mkdtempSync(path.join(tmpdir(), "wasmip-lo-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function oneBoard(wasm?: string): { sim: Simulator; a: Board; frames: Uint8Array[] } {
  const sim = new Simulator({ seed: SEED, wasm });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24 });
  // Everything A hands to phy.tx from now on (its gratuitous ARP from init is already out).
  const frames: Uint8Array[] = [];
  sim.captureAt("A", { write: (f) => frames.push(f) });
  return { sim, a, frames };
}

/** Received frames accounted for: the delivered and dropped counters sum to rx_frames. */
function accounted(b: Board): void {
  assert.equal(b.rxAccounted(), b.counters().rx_frames, "every received frame in exactly one counter");
}

for (const host of ["127.0.0.1", "10.0.0.1"]) {
  test(`loopback: a server and a client on one board over ${host}; nothing reaches phy.tx`, async () => {
    const { sim, a, frames } = oneBoard();
    const pages = a.memoryPages;
    const used = a.memoryUsed;
    const tx0 = a.counters().tx_frames;
    const size = 1 << 20;
    const data = Buffer.from(new Prng(SEED).fork(host).bytes(size));
    let serverSide: Socket | undefined;
    const server = a.net.createServer((s) => {
      serverSide = s;
      s.pipe(s); // echo
    });
    server.listen(7);
    const c = a.net.connect({ host, port: 7 });
    await sim.runUntilSettled(once(c, "connect"));
    await sim.runUntilAsync(() => serverSide !== undefined);
    // Both ends in the table, the loopback address as their local address.
    const rows = a.tcpTable();
    const ip = ipToU32(host);
    const client = rows.find((r) => r.localPort === c.localPort && r.remotePort === 7);
    const srv = rows.find((r) => r.localPort === 7 && r.remotePort === c.localPort);
    assert.ok(client && srv, JSON.stringify(rows));
    assert.equal(client.state, "ESTABLISHED");
    assert.equal(srv.state, "ESTABLISHED");
    assert.equal(client.localIp, ip);
    assert.equal(client.remoteIp, ip);
    assert.equal(srv.localIp, ip);
    assert.equal(srv.remoteIp, ip);
    assert.equal(c.localAddress, host);
    assert.equal(c.remoteAddress, host);
    assert.ok(rows.some((r) => r.state === "LISTEN" && r.localPort === 7), "the listener too");
    // A megabyte both ways: many times the ARP pool that holds loopback datagrams.
    const got: Buffer[] = [];
    c.on("data", (d: Buffer) => got.push(d));
    const closed = once(c, "close");
    c.end(data);
    await sim.runUntilSettled(closed, { timeout: 600_000 });
    assert.ok(Buffer.concat(got).equals(data), "the echo came back intact");
    const k = a.counters();
    assert.equal(frames.length, 0, "frames handed to phy.tx");
    assert.equal(k.tx_frames, tx0);
    assert.ok(k.loopback_sent > (2 * size) / 1460, `loopback_sent ${k.loopback_sent}`);
    assert.equal(k.loopback_received, k.loopback_sent, "every datagram sent over the loopback was received");
    assert.ok(k.loopback_no_buffers > 0, "the pool refused some (and TCP sent them again)");
    assert.equal(k.tcp_timeouts, 0, "without waiting for a retransmission timeout");
    accounted(a);
    assert.equal(a.memoryPages, pages, "linear memory did not grow");
    assert.equal(a.memoryUsed, used);
    server.close();
  });
}

test("loopback: UDP to 127.0.0.1 and ping to the board's own address", async () => {
  const { sim, a, frames } = oneBoard();
  const rx = a.dgram.createSocket("udp4");
  const msgs: string[] = [];
  rx.on("message", (m: Buffer, r: { address: string; port: number }) => msgs.push(`${m} from ${r.address}:${r.port}`));
  rx.bind(5140);
  const tx = a.dgram.createSocket("udp4");
  tx.bind(5141);
  tx.send("reading 1", 5140, "127.0.0.1");
  tx.send("reading 2", 5140, "10.0.0.1");
  await sim.runUntilAsync(() => msgs.length === 2, { timeout: 1000 });
  assert.deepEqual(msgs, ["reading 1 from 127.0.0.1:5141", "reading 2 from 10.0.0.1:5141"]);
  a.ping("10.0.0.1", 1);
  a.ping("127.0.0.1", 2, 1400);
  await sim.runUntilAsync(() => a.pingRtt(1) >= 0 && a.pingRtt(2) >= 0, { timeout: 1000 });
  assert.equal(a.counters().icmp_echo_answered, 2);
  assert.equal(frames.length, 0);
  accounted(a);
});

test("loopback: a build without it (asc --use WASMIP_NO_LOOPBACK=1) refuses 127/8 and its own address, off the wire too", async () => {
  const wasm = path.join(dir, "noloop.wasm");
  execFileSync(path.join(ROOT, "node_modules/.bin/asc"), [
    "assembly/index.ts", "--target", "release", "-o", wasm, "--textFile", path.join(dir, "noloop.wat"), "--transform", "./scripts/ascii-literals.mjs",
    "--use", "WASMIP_NO_LOOPBACK=1",
  ], { cwd: ROOT, stdio: "pipe" });
  const { sim, a, frames } = oneBoard(wasm);
  for (const host of ["127.0.0.1", "10.0.0.1"]) {
    const c = a.net.connect({ host, port: 7 });
    const e = await sim.runUntilSettled(
      new Promise<NetError>((resolve) => c.once("error", (err) => resolve(err as NetError))),
      { timeout: 1000 },
    );
    assert.equal(e.code, "EHOSTUNREACH", `${host}: ${e.message}`);
  }
  assert.equal(frames.length, 0, "nothing to 127/8 or to itself went to phy.tx");
  assert.equal(a.counters().loopback_sent, 0);
  assert.ok(a.counters().ip_no_route >= 2);
});
