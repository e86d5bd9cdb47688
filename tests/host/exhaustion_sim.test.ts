// Resource exhaustion in virtual time, each with its documented outcome, and every resource back
// afterwards (the connection table idle, memory unchanged):
//   - more connections than the board has blocks: SYNs beyond them are dropped without a RST
//     (tcp_no_block) and the clients' SYN retries get in as the http app closes idle ones (30 s);
//   - a peer that never reads: zero window for minutes; the core probes it (answered: kept open),
//     the http app gives up on a response blocked for 30 s;
//   - peers that vanish: mid-transfer (retransmissions run out: ETIMEDOUT), behind a zero window
//     (unanswered probes run out: ETIMEDOUT), with half a request sent (the http app's idle timeout).
// Seeded; a failure prints "[seed N]"; WASMIP_EXHAUST_SEED=N reruns with that seed.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { Simulator } from "../../host/sim/sim.ts";
import { appWasm, imageConfig } from "../../host/board/board.ts";
import type { Board } from "../../host/board/board.ts";
import type { NetError, Socket } from "../../host/board/net.ts";
import { formatCounters, formatTcpTable } from "../../host/board/netstat.ts";
import { cfg } from "./config.ts";

const SEED_OVERRIDE = process.env.WASMIP_EXHAUST_SEED !== undefined ? Number(process.env.WASMIP_EXHAUST_SEED) >>> 0 : undefined;
const mac = (n: number) => `02:00:00:00:01:${n.toString(16).padStart(2, "0")}`;

function seeded(name: string, seed: number, fn: (t: TestContext, seed: number) => Promise<void>): void {
  const s = SEED_OVERRIDE ?? seed;
  test(name, { timeout: 300_000 }, async (t) => {
    try {
      await fn(t, s);
    } catch (e) {
      if (e instanceof Error) e.message = `[seed ${s}] ${e.message}`;
      throw e;
    }
  });
}

function world(seed: number, clients: number, serverWasm?: string) {
  const sim = new Simulator({ seed });
  const server = sim.addBoard({ name: "S", wasm: serverWasm, mac: mac(1), ip: "10.0.0.2", prefix: 24, link: { delay: 1 } });
  const peers: Board[] = [];
  for (let i = 0; i < clients; i++) peers.push(sim.addBoard({ name: `C${i}`, mac: mac(0x10 + i), ip: `10.0.0.${10 + i}`, prefix: 24, link: { delay: 1 } }));
  return { sim, server, peers, pages: server.memoryPages };
}

/** Connection-table rows other than listeners. */
const busy = (b: Board) => b.tcpTable().filter((r) => r.state !== "LISTEN");
const detail = (b: Board) => `${formatTcpTable(b).join("\n")}\n${formatCounters(b).join(" ")}`;

async function idleAgain(sim: Simulator, b: Board, pages: number): Promise<void> {
  await sim.runUntilAsync(() => busy(b).length === 0, { timeout: 600_000 });
  assert.deepEqual(busy(b), [], `table not idle:\n${detail(b)}`);
  assert.equal(b.memoryPages, pages, "memory pages unchanged");
  assert.equal(b.rxAccounted(), b.counters().rx_frames, "every frame in one receive counter");
}

const errorOf = (s: Socket) => new Promise<string>((resolve) => s.once("error", (e) => resolve((e as NetError).code)));

seeded("exhaustion: twice as many connections as the http board has buffers for: no RST, the extra SYNs dropped and retried, served as buffers free up", 701, async (t, seed) => {
  // A connection takes a block and a buffer set (TCP_MAX_CONNECTIONS of them; the listener has a
  // block only): buffer sets are the bound at the defaults, blocks if there are fewer.
  const http = appWasm("http");
  const blocks = Math.min(imageConfig(http, "tcpMaxConnections"), imageConfig(http, "tcpMaxSockets") - 1); // the image's own sizes
  const { sim, server, peers, pages } = world(seed, 2, http);
  for (const p of peers) p.ping("10.0.0.2", 1);
  await sim.runUntilAsync(sim.now + 50);
  // Each client board opens `blocks` connections (all it may have), sends a keep-alive request and
  // stays connected: the http app holds each until it has been idle for 30 s.
  const results: string[] = [];
  let most = 0;
  for (const p of peers)
    for (let k = 0; k < blocks; k++) {
      const s = p.net.connect({ host: "10.0.0.2", port: 80 });
      const got: Buffer[] = [];
      s.on("data", (d: Buffer) => got.push(d));
      s.on("error", (e) => results.push(`error ${(e as NetError).code}`));
      s.on("connect", () => s.write("GET / HTTP/1.1\r\nHost: b\r\n\r\n"));
      s.on("end", () => s.end());
      s.on("close", () => {
        if (s.remotePort === undefined) return;
        results.push(Buffer.concat(got).toString("latin1").startsWith("HTTP/1.1 200 OK") ? "served" : "closed unserved");
      });
    }
  const watch = () => {
    most = Math.max(most, busy(server).filter((r) => r.state !== "TIME_WAIT").length);
    if (results.length < 2 * blocks) sim.after(50, watch);
  };
  watch();
  await sim.runUntilAsync(() => results.length === 2 * blocks, { timeout: 400_000 });
  const c = server.counters();
  const served = results.filter((r) => r === "served").length;
  const timedOut = results.filter((r) => r === "error ETIMEDOUT").length;
  t.diagnostic(`${2 * blocks} connects at ${blocks} connections: ${served} served, ${timedOut} ETIMEDOUT (SYN retries ran out); ` +
    `tcp_no_buffers ${c.tcp_no_buffers ?? 0}, tcp_no_block ${c.tcp_no_block ?? 0}, most connections at once ${most}`);
  assert.ok(most <= blocks, `${most} connections at once, ${blocks} allowed`);
  assert.ok((c.tcp_no_buffers ?? 0) + (c.tcp_no_block ?? 0) > 0, "SYNs beyond the bound were dropped and counted");
  assert.equal(c.tcp_rst_sent ?? 0, 0, "no RST for a SYN the board has no room for");
  // The app closes each connection after 30 s idle; the clients' SYN retries (1, 3, 7, 15, 31 s)
  // get in as blocks free up. A client whose retries run out first gets ETIMEDOUT; nothing else.
  assert.deepEqual(results.filter((r) => r !== "served" && r !== "error ETIMEDOUT"), [], detail(server));
  assert.ok(served >= 2 * blocks - 1, `${served} served: two waves of ${blocks}\n${JSON.stringify(results)}`);
  await idleAgain(sim, server, pages);
});

seeded("exhaustion: a peer that never reads: zero window for 10 minutes, probed with backoff and kept while it answers; then it reads everything", 702, async (t, seed) => {
  const { sim, server, peers, pages } = world(seed, 1);
  const TOTAL = 1 << 20;
  let srv!: Socket;
  server.net.createServer((s) => {
    srv = s;
    s.end(Buffer.alloc(TOTAL, 0x5a));
  }).listen(5000);
  const c = peers[0].net.connect({ host: "10.0.0.2", port: 5000 });
  const got: Buffer[] = [];
  c.pause(); // never reads: node's buffer fills, then the core's ring, then the window closes
  await sim.runUntilAsync(sim.now + 600_000);
  const probes = server.counters().tcp_window_probes;
  const row = busy(server).find((r) => r.localPort === 5000);
  t.diagnostic(`10 min at zero window: ${probes} probes, the server's connection ${row?.state} with ${row?.sendQ} bytes queued`);
  assert.equal(row?.state, "ESTABLISHED", detail(server));
  assert.ok(probes >= 5 && probes <= 600_000 / cfg("TCP_PERSIST_MIN_MS"), `probes ${probes}`);
  assert.ok(srv && !srv.destroyed, "the server's socket is still open");
  c.on("data", (d: Buffer) => got.push(d));
  c.resume();
  await sim.runUntilAsync(() => got.reduce((n, d) => n + d.length, 0) === TOTAL, { timeout: 120_000 });
  assert.ok(Buffer.concat(got).equals(Buffer.alloc(TOTAL, 0x5a)), "every byte, once, in order");
  await idleAgain(sim, server, pages);
});

seeded("exhaustion: the http app gives up on a client that pipelines requests and never reads (response blocked 30 s: RST)", 703, async (t, seed) => {
  const { sim, server, peers, pages } = world(seed, 1, appWasm("http"));
  const c = peers[0].net.connect({ host: "10.0.0.2", port: 80 });
  c.pause();
  c.write("GET / HTTP/1.1\r\nHost: b\r\n\r\n".repeat(200));
  const err = errorOf(c);
  await sim.runUntilAsync(sim.now + 10_000);
  assert.equal(busy(server)[0]?.state, "ESTABLISHED", "stalled, not closed yet");
  const code = await sim.runUntilSettled(err, { timeout: 120_000 });
  t.diagnostic(`the never-reading client got ${code} after ${(sim.now / 1000).toFixed(0)} s; probes ${server.counters().tcp_window_probes}`);
  assert.equal(code, "ECONNRESET");
  await idleAgain(sim, server, pages);
});

seeded("exhaustion: a peer that vanishes mid-transfer: retransmissions run out, ETIMEDOUT, the block is freed", 704, async (t, seed) => {
  const { sim, server, peers, pages } = world(seed, 1);
  let srvErr!: Promise<string>;
  server.net.createServer((s) => {
    srvErr = errorOf(s);
    s.write(Buffer.alloc(1 << 20, 1));
  }).listen(5000);
  const c = peers[0].net.connect({ host: "10.0.0.2", port: 5000 });
  let got = 0;
  c.on("data", (d: Buffer) => (got += d.length));
  await sim.runUntilAsync(() => got > 100_000);
  const gone = sim.now;
  sim.linkOf(peers[0]).setImpairments({ loss: 1 });
  c.on("error", () => {}); // the vanished side's own socket times out too: not what is tested
  const code = await sim.runUntilSettled(srvErr, { timeout: 3_600_000 });
  t.diagnostic(`vanished at ${got} bytes: the server gave up after ${((sim.now - gone) / 1000).toFixed(0)} s (${server.counters().tcp_timeouts} timeouts)`);
  assert.equal(code, "ETIMEDOUT");
  await idleAgain(sim, server, pages);
});

seeded("exhaustion: a peer that vanishes behind a zero window: unanswered probes run out, ETIMEDOUT, the block is freed", 705, async (t, seed) => {
  const { sim, server, peers, pages } = world(seed, 1);
  let srvErr!: Promise<string>;
  server.net.createServer((s) => {
    srvErr = errorOf(s);
    s.write(Buffer.alloc(1 << 20, 1));
  }).listen(5000);
  const c = peers[0].net.connect({ host: "10.0.0.2", port: 5000 });
  c.pause();
  await sim.runUntilAsync(() => server.counters().tcp_window_probes >= 2, { timeout: 60_000 });
  const gone = sim.now;
  sim.linkOf(peers[0]).setImpairments({ loss: 1 });
  c.on("error", () => {}); // the vanished side's own socket times out too: not what is tested
  const code = await sim.runUntilSettled(srvErr, { timeout: 3_600_000 });
  t.diagnostic(`vanished behind a zero window: the server gave up after ${((sim.now - gone) / 1000).toFixed(0)} s, ${server.counters().tcp_window_probes} probes`);
  assert.equal(code, "ETIMEDOUT");
  await idleAgain(sim, server, pages);
});

seeded("exhaustion: a client that sends half a request and vanishes: the http app's idle timeout frees the connection", 706, async (t, seed) => {
  const { sim, server, peers, pages } = world(seed, 1, appWasm("http"));
  const c = peers[0].net.connect({ host: "10.0.0.2", port: 80 });
  c.write("GET / HTTP/1.1\r\nHost: b\r\nX-Slow: ");
  await sim.runUntilAsync(() => busy(server).some((r) => r.state === "ESTABLISHED"));
  await sim.runUntilAsync(sim.now + 100);
  const gone = sim.now;
  sim.linkOf(peers[0]).setImpairments({ loss: 1 });
  c.on("error", () => {}); // the vanished side's own socket times out too: not what is tested
  await idleAgain(sim, server, pages);
  t.diagnostic(`half a request, then gone: the table was idle again after ${((sim.now - gone) / 1000).toFixed(0)} s`);
});
