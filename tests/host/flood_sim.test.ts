// A SYN flood in virtual time at the http firmware while a client on the same link keeps fetching
// the page: 100,000 SYNs a second from random spoofed sources and ports, off-link (through its
// gateway) and on-link (each one B must resolve by ARP, never answered). The policy under test is
// the core's (assembly/sockets/tcp/syncookie.ts, iface/arp.ts): half-open children stay within the
// backlog, a SYN beyond it is answered with a cookie at once, a returned cookie opens the
// connection, spoofed on-link sources do not evict the client's ARP entry. Every fetch, from the
// flood's first second, must succeed without a retransmission timeout (virtual time); each second's
// fetches and latencies are printed. Seeded: WASMIP_FLOOD_SEED=N reruns one seed.
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
const FLOOD = 300_000;
const RATE_PER_MS = 100; // 100,000 SYNs a second of virtual time: 3 s of flood
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

for (const onLink of [false, true]) {
  const where = onLink ? "on-link" : "off-link";
  test(`syn flood: ${FLOOD} SYNs at 100k/s from random ${where} sources while a client keeps fetching; bounded by the backlog, memory unchanged, every fetch succeeds from the first second (seed ${SEED})`, { timeout: 300_000 }, async (t) => {
    const why = (m: string) => `[${where}, seed ${SEED}, WASMIP_FLOOD_SEED=${SEED}] ${m}`;
    const sim = new Simulator({ seed: SEED });
    // On-link: B's subnet is a /16, so the flood's random 10.0.x.y sources are neighbours to resolve.
    const b = sim.addBoard({ name: "B", wasm: appWasm("http"), mac: B_MAC, ip: B_IP, prefix: onLink ? 16 : 24, gateway: R_IP, link: { delay: 0.1 } });
    // No jitter on the client's link: a segment that overtook the handshake's last ACK would find no
    // connection and draw a RST, as on Linux with cookies (RFC 9293 §3.10.7.2): not what this tests.
    const a = sim.addBoard({ name: "A", mac: A_MAC, ip: "10.0.0.1", prefix: 24, link: { delay: 0.1 } });
    const pages = b.memoryPages;
    // The gateway: answers ARP for itself and swallows what B sends to the spoofed sources.
    let synAcksToFlood = 0;
    let arpToFlood = 0;
    let cookieSynAcks = 0;
    const router = sim.attach("R", (f) => {
      const eth = parseEthernet(f);
      if (!eth) return;
      if (eth.type === ETHERTYPE_ARP) {
        const q = parseArp(eth.payload);
        if (q && q.op === ARP_REQUEST && q.tpa === R_IP) router.send(arpReplyFrame({ srcMac: R_MAC, srcIp: R_IP, dstMac: q.sha, dstIp: q.spa }));
        else if (q && q.op === ARP_REQUEST && q.spa === B_IP) arpToFlood++; // who-has a spoofed source: nobody answers
        return;
      }
      const ip = eth.type === ETHERTYPE_IPV4 ? parseIpv4(eth.payload) : undefined;
      const seg = ip?.protocol === IPPROTO_TCP ? parseTcp(ip.payload) : undefined;
      if (seg && (seg.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) synAcksToFlood++;
    }, { delay: 0.1 });

    const rng = new Prng(SEED).fork("flood");
    // Off-link: RFC 2544's benchmarking range, via the gateway. On-link: 10.0.1.0 - 10.0.255.255.
    const base = onLink ? ipToU32("10.0.1.0") : ipToU32("198.18.0.0");
    const span = onLink ? (1 << 16) - 256 : 1 << 17;
    let sent = 0;
    const burst = () => {
      for (let k = 0; k < RATE_PER_MS && sent < FLOOD; k++, sent++) {
        router.send(tcpFrame({
          srcMac: R_MAC, dstMac: B_MAC, src: (base + rng.nextInt(span)) >>> 0, dst: B_IP,
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
    // Per second of the flood (by when the fetch started): fetches that succeeded, failed, slowest.
    const seconds: { ok: number; bad: number; slowest: number }[] = [];
    let flood0 = Infinity;
    const next = () => {
      if (!fetching) return;
      const t0 = sim.now;
      const during = sent > 0 && sent < FLOOD;
      fetchOnce(a, (good, msg) => {
        const ms = sim.now - t0;
        latencyMax = Math.max(latencyMax, ms);
        if (good) ok++;
        else failures.push(`at ${sim.now.toFixed(0)} ms: ${msg}`);
        if (during) {
          duringFlood++;
          const sec = (seconds[Math.floor((t0 - flood0) / 1000)] ??= { ok: 0, bad: 0, slowest: 0 });
          if (good) sec.ok++;
          else sec.bad++;
          sec.slowest = Math.max(sec.slowest, ms);
        }
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
    flood0 = sim.now;
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
        `half-open evicted ${c.tcp_half_open_evicted}, flood mode entered ${c.tcp_syn_floods}; SYN-ACKs to the flood ${synAcksToFlood}, ` +
        `ARP requests for it ${arpToFlood}, arp_queue_drops ${c.arp_queue_drops}, arp_evictions ${c.arp_evictions}; most half-open at once ${worstHalfOpen}`,
    );
    seconds.forEach((s, i) => t.diagnostic(`second ${i + 1} of the flood: ${s.ok} fetches ok, ${s.bad} failed, slowest ${s.slowest.toFixed(1)} ms (virtual)`));
    assert.deepEqual(failures, [], why(`failed fetches\n${detail()}`));
    assert.ok(duringFlood >= 10, why(`only ${duringFlood} fetches completed during the flood`));
    // From the first second on, every second served the client, none needed a retransmission.
    assert.equal(seconds.length, Math.ceil(floodMs / 1000), why(`seconds with fetches: ${JSON.stringify(seconds)}`));
    for (const [i, s] of seconds.entries()) assert.ok(s && s.ok > 0 && s.bad === 0, why(`second ${i + 1}: ${JSON.stringify(s)}`));
    assert.ok(latencyMax < cfg("TCP_RTO_INITIAL_MS"), why(`a fetch took ${latencyMax} ms: a SYN or segment was lost to the flood`));
    assert.ok(worstChildren <= maxChildren, why(`${worstChildren} children at once (TCP_BACKLOG_MAX ${maxChildren})`));
    assert.ok(c.tcp_syn_cookie > 0, why("no SYN was answered with a cookie"));
    // Every flood SYN reached B and was answered or dropped per the policy, counted.
    assert.ok(c.tcp_syn_cookie + c.tcp_backlog_full + c.tcp_no_block + (c.tcp_no_buffers ?? 0) + c.tcp_passive_opens >= FLOOD, why(detail()));
    assert.equal(b.rxAccounted(), c.rx_frames, why("every frame in exactly one receive counter"));
    assert.equal(b.memoryPages, pages, why("memory pages unchanged"));
    // Each cookie SYN-ACK not for the client went to the flood's (spoofed) sources, through the
    // gateway; on-link, B asked for each source's MAC instead (at most ARP_PENDING_MAX at a time).
    cookieSynAcks = c.tcp_syn_cookie - c.tcp_syncookies_ok;
    if (onLink) assert.ok(arpToFlood > 0 && synAcksToFlood === 0, why(`${arpToFlood} ARP requests, ${synAcksToFlood} SYN-ACKs`));
    // Off-link, the first ones wait for the gateway's MAC (cookies start at once): a few are dropped.
    else assert.ok(synAcksToFlood + c.arp_queue_drops >= cookieSynAcks, why(`${synAcksToFlood} SYN-ACKs left for ${cookieSynAcks} cookies`));
    assert.equal(c.tcp_syn_floods, 1, why("flood mode entered once"));
    // The half-open children time out (SYN-ACK retries), TIME-WAIT ends: the table is idle again.
    await sim.runUntilAsync(() => b.tcpTable().every((r) => r.state === "LISTEN"), { timeout: 300_000 });
    assert.deepEqual(b.tcpTable().map((r) => r.state), ["LISTEN"], why(detail()));
  });
}
