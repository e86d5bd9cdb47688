// A SYN flood in virtual time: 100,000 SYNs from random (spoofed, off-link) sources and ports at
// the http firmware, through its gateway, while a client on the same link keeps fetching the page.
// The policy under test is the core's (assembly/sockets/tcp/syncookie.ts): half-open children stay
// within the backlog, SYNs beyond it are answered with cookies once the half-open ones go stale,
// a returned cookie opens the connection. Seeded: WASMIP_FLOOD_SEED=N reruns one seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Simulator } from "../../host/sim/sim.ts";
import { Prng } from "../../host/sim/prng.ts";
import { appWasm, type Board } from "../../host/board/board.ts";
import { ipToU32 } from "../../host/board/address.ts";
import {
  ARP_REQUEST, ETHERTYPE_ARP, ETHERTYPE_IPV4, IPPROTO_TCP, TCP_ACK, TCP_SYN, arpReplyFrame, parseArp, parseEthernet, parseIpv4, parseTcp,
  tcpFrame,
} from "../../host/sim/frames.ts";
import type { Socket } from "../../host/board/net.ts";
import { cfg } from "./config.ts";
import { formatCounters, formatTcpTable } from "../../host/board/netstat.ts";

const SEED = process.env.WASMIP_FLOOD_SEED !== undefined ? Number(process.env.WASMIP_FLOOD_SEED) >>> 0 : 601;
const FLOOD = 100_000;
const RATE_PER_MS = 20; // 20,000 SYNs a second of virtual time: 5 s of flood
const B_MAC = "02:00:00:00:00:02";
const A_MAC = "02:00:00:00:00:01";
const R_MAC = "02:00:00:00:00:fe";
const B_IP = "10.0.0.2";
const R_IP = "10.0.0.254";

/** One GET / with Connection: close; resolves with the status line and the body length. */
function fetchOnce(a: Board, onDone: (ok: boolean, why: string) => void): void {
  const s: Socket = a.net.connect({ host: B_IP, port: 80 });
  const chunks: Buffer[] = [];
  s.on("data", (d: Buffer) => chunks.push(d));
  s.on("error", (e) => onDone(false, (e as Error).message));
  s.on("close", () => {
    const text = Buffer.concat(chunks).toString("latin1");
    const ok = /^HTTP\/1\.1 200 OK\r\n/.test(text) && text.includes("Hello from wasmip");
    onDone(ok, ok ? "" : `response: ${JSON.stringify(text.slice(0, 80))}`);
  });
  s.end("GET / HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n");
}

test(`syn flood: ${FLOOD} SYNs from random sources while a client keeps fetching; bounded by the backlog, memory unchanged, every fetch succeeds (seed ${SEED})`, { timeout: 300_000 }, async (t) => {
  const why = (m: string) => `[seed ${SEED}, WASMIP_FLOOD_SEED=${SEED}] ${m}`;
  const sim = new Simulator({ seed: SEED });
  const b = sim.addBoard({ name: "B", wasm: appWasm("http"), mac: B_MAC, ip: B_IP, prefix: 24, gateway: R_IP, link: { delay: 0.1 } });
  // No jitter on the client's link: a segment that overtook the handshake's last ACK would find no
  // connection and draw a RST, as on Linux with cookies (RFC 9293 §3.10.7.2): not what this tests.
  const a = sim.addBoard({ name: "A", mac: A_MAC, ip: "10.0.0.1", prefix: 24, link: { delay: 0.1 } });
  const pages = b.memoryPages;
  // The gateway: answers ARP for itself and swallows what B sends to the spoofed sources.
  let synAcksToFlood = 0;
  let cookieSynAcks = 0;
  const router = sim.attach("R", (f) => {
    const eth = parseEthernet(f);
    if (!eth) return;
    if (eth.type === ETHERTYPE_ARP) {
      const q = parseArp(eth.payload);
      if (q && q.op === ARP_REQUEST && q.tpa === R_IP) router.send(arpReplyFrame({ srcMac: R_MAC, srcIp: R_IP, dstMac: q.sha, dstIp: q.spa }));
      return;
    }
    const ip = eth.type === ETHERTYPE_IPV4 ? parseIpv4(eth.payload) : undefined;
    const seg = ip?.protocol === IPPROTO_TCP ? parseTcp(ip.payload) : undefined;
    if (seg && (seg.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) synAcksToFlood++;
  }, { delay: 0.1 });

  const rng = new Prng(SEED).fork("flood");
  const base = ipToU32("198.18.0.0"); // RFC 2544 benchmarking range, off-link: via the gateway
  let sent = 0;
  const burst = () => {
    for (let k = 0; k < RATE_PER_MS && sent < FLOOD; k++, sent++) {
      router.send(tcpFrame({
        srcMac: R_MAC, dstMac: B_MAC, src: (base + rng.nextInt(1 << 17)) >>> 0, dst: B_IP,
        srcPort: rng.nextRange(1024, 65535), dstPort: 80, seq: rng.nextU32(), flags: TCP_SYN,
        options: Uint8Array.from([2, 4, 5, 0xb4, 1, 3, 3, 7]),
      }));
    }
    if (sent < FLOOD) sim.after(1, burst);
  };

  // The legitimate client: one fetch after another, for as long as the flood lasts and a bit.
  let ok = 0;
  let duringFlood = 0;
  const failures: string[] = [];
  let latencyMax = 0;
  let fetching = true;
  const next = () => {
    if (!fetching) return;
    const t0 = sim.now;
    fetchOnce(a, (good, msg) => {
      latencyMax = Math.max(latencyMax, sim.now - t0);
      if (good) ok++;
      else failures.push(`at ${sim.now.toFixed(0)} ms: ${msg}`);
      if (sent > 0 && sent < FLOOD) duringFlood++;
      sim.after(5, next);
    });
  };
  await sim.runUntilAsync(sim.now + 100);
  const maxChildren = cfg("TCP_BACKLOG_MAX");
  let worstHalfOpen = 0;
  let worstChildren = 0;
  const sample = () => {
    const rows = b.tcpTable();
    const half = rows.filter((r) => r.state === "SYN_RECEIVED").length;
    worstHalfOpen = Math.max(worstHalfOpen, half);
    worstChildren = Math.max(worstChildren, rows.filter((r) => r.state !== "LISTEN" && r.state !== "TIME_WAIT").length);
    if (sent < FLOOD) sim.after(7, sample);
  };
  const flood0 = sim.now;
  burst();
  sample();
  next();
  await sim.runUntilAsync(() => sent >= FLOOD, { timeout: 60_000 });
  const floodMs = sim.now - flood0;
  await sim.runUntilAsync(sim.now + 2000);
  fetching = false;
  await sim.runUntilAsync(sim.now + 5000);
  const c = b.counters();
  const detail = () => `${formatTcpTable(b).join("\n")}\n${formatCounters(b).join(" ")}`;
  t.diagnostic(
    `flood of ${FLOOD} SYNs over ${(floodMs / 1000).toFixed(1)} s virtual: ${ok} fetches succeeded (${duringFlood} during the flood), ` +
      `slowest ${latencyMax.toFixed(0)} ms; SYNs answered with a cookie ${c.tcp_syn_cookie}, dropped (backlog full) ${c.tcp_backlog_full}, ` +
      `(no block) ${c.tcp_no_block}; passive opens ${c.tcp_passive_opens}, cookie connections ${c.tcp_syncookies_ok}, ` +
      `half-open evicted ${c.tcp_half_open_evicted}, flood mode entered ${c.tcp_syn_floods}; SYN-ACKs to the flood ${synAcksToFlood}; most half-open at once ${worstHalfOpen}`,
  );
  assert.deepEqual(failures, [], why(`failed fetches\n${detail()}`));
  assert.ok(duringFlood >= 10, why(`only ${duringFlood} fetches completed during the flood`));
  assert.ok(worstChildren <= maxChildren, why(`${worstChildren} children at once (TCP_BACKLOG_MAX ${maxChildren})`));
  assert.ok(c.tcp_syn_cookie > 0, why("no SYN was answered with a cookie"));
  // Every flood SYN reached B and was answered or dropped per the policy, counted.
  assert.ok(c.tcp_syn_cookie + c.tcp_backlog_full + c.tcp_no_block + (c.tcp_no_buffers ?? 0) + c.tcp_passive_opens >= FLOOD, why(detail()));
  assert.equal(b.rxAccounted(), c.rx_frames, why("every frame in exactly one receive counter"));
  assert.equal(b.memoryPages, pages, why("memory pages unchanged"));
  // Each cookie SYN-ACK not for the client went to the flood's (spoofed) sources, through the gateway.
  cookieSynAcks = c.tcp_syn_cookie - c.tcp_syncookies_ok;
  assert.ok(synAcksToFlood >= cookieSynAcks, why(`${synAcksToFlood} SYN-ACKs left for ${cookieSynAcks} cookies`));
  assert.equal(c.tcp_syn_floods, 1, why("flood mode entered once"));
  // The half-open children time out (SYN-ACK retries), TIME-WAIT ends: the table is idle again.
  await sim.runUntilAsync(() => b.tcpTable().every((r) => r.state === "LISTEN"), { timeout: 300_000 });
  assert.deepEqual(b.tcpTable().map((r) => r.state), ["LISTEN"], why(detail()));
});
