// A SYN flood in virtual time at the http firmware while a client on the same link keeps fetching
// the page (host/sim/synflood.ts): 100,000 SYNs a second for 3 s from random spoofed sources and
// ports, off-link (through its gateway) and on-link (each one B must resolve by ARP, never
// answered). The policy under test is the core's (assembly/sockets/tcp/syncookie.ts, iface/arp.ts):
// half-open children stay within the backlog, a SYN beyond it is answered with a cookie at once, a
// returned cookie opens the connection, spoofed on-link sources do not evict the client's ARP
// entry. Every fetch, from the flood's first second, must succeed without a retransmission timeout
// (virtual time); each second's fetches and latencies are printed. WASMIP_FLOOD_SEED=N reruns a seed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { runSynFlood } from "../../host/sim/synflood.ts";
import { cfg } from "./config.ts";
import { formatCounters, formatTcpTable } from "../../host/board/netstat.ts";

const SEED = process.env.WASMIP_FLOOD_SEED !== undefined ? Number(process.env.WASMIP_FLOOD_SEED) >>> 0 : 601;
const FLOOD = 300_000;
const PER_MS = 100; // 100,000 SYNs a second of virtual time: 3 s of flood

for (const onLink of [false, true]) {
  const where = onLink ? "on-link" : "off-link";
  test(`syn flood: ${FLOOD} SYNs at 100k/s from random ${where} sources while a client keeps fetching; bounded by the backlog, memory unchanged, every fetch succeeds from the first second (seed ${SEED})`, { timeout: 300_000 }, async (t) => {
    const why = (m: string) => `[${where}, seed ${SEED}, WASMIP_FLOOD_SEED=${SEED}] ${m}`;
    let worstHalfOpen = 0;
    let worstChildren = 0;
    const r = await runSynFlood({
      seed: SEED, onLink, count: FLOOD, perMs: PER_MS,
      sample: (b) => {
        const rows = b.tcpTable();
        worstHalfOpen = Math.max(worstHalfOpen, rows.filter((row) => row.state === "SYN_RECEIVED").length);
        worstChildren = Math.max(worstChildren, rows.filter((row) => row.state !== "LISTEN" && row.state !== "TIME_WAIT").length);
      },
    });
    const { sim, b, seconds } = r;
    const c = b.counters();
    const duringFlood = seconds.reduce((n, s) => n + (s?.ok ?? 0) + (s?.bad ?? 0), 0);
    const detail = () => `${formatTcpTable(b).join("\n")}\n${formatCounters(b).join(" ")}`;
    t.diagnostic(
      `flood of ${FLOOD} SYNs over ${(r.floodMs / 1000).toFixed(1)} s virtual: ${r.ok} fetches succeeded (${duringFlood} during the flood), ` +
        `slowest ${r.latencyMax.toFixed(0)} ms; SYNs answered with a cookie ${c.tcp_syn_cookie}, dropped (backlog full) ${c.tcp_backlog_full}, ` +
        `(no block) ${c.tcp_no_block}; passive opens ${c.tcp_passive_opens}, cookie connections ${c.tcp_syncookies_ok}, ` +
        `half-open evicted ${c.tcp_half_open_evicted}, flood mode entered ${c.tcp_syn_floods}; SYN-ACKs to the flood ${r.synAcksToFlood}, ` +
        `ARP requests from B ${r.arpFromB}, arp_queue_drops ${c.arp_queue_drops}, arp_evictions ${c.arp_evictions}; most half-open at once ${worstHalfOpen}`,
    );
    seconds.forEach((s, i) => t.diagnostic(`second ${i + 1} of the flood: ${s.ok} fetches ok, ${s.bad} failed, slowest ${Math.max(...s.ms).toFixed(1)} ms (virtual)`));
    assert.deepEqual(r.failures, [], why(`failed fetches\n${detail()}`));
    assert.ok(duringFlood >= 10, why(`only ${duringFlood} fetches completed during the flood`));
    // From the first second on, every second served the client, none needed a retransmission.
    assert.equal(seconds.length, Math.ceil(r.floodMs / 1000), why(`seconds with fetches: ${seconds.length}`));
    for (const [i, s] of seconds.entries()) assert.ok(s && s.ok > 0 && s.bad === 0, why(`second ${i + 1}: ${JSON.stringify(s)}`));
    assert.ok(r.latencyMax < cfg("TCP_RTO_INITIAL_MS"), why(`a fetch took ${r.latencyMax} ms: a SYN or segment was lost to the flood`));
    assert.ok(worstChildren <= cfg("TCP_BACKLOG_MAX"), why(`${worstChildren} children at once (TCP_BACKLOG_MAX ${cfg("TCP_BACKLOG_MAX")})`));
    assert.ok(c.tcp_syn_cookie > 0, why("no SYN was answered with a cookie"));
    // Every flood SYN reached B and was answered or dropped per the policy, counted.
    assert.ok(c.tcp_syn_cookie + c.tcp_backlog_full + c.tcp_no_block + (c.tcp_no_buffers ?? 0) + c.tcp_passive_opens >= FLOOD, why(detail()));
    assert.equal(b.rxAccounted(), c.rx_frames, why("every frame in exactly one receive counter"));
    assert.equal(b.memoryPages, r.pagesBefore, why("memory pages unchanged"));
    // Each cookie SYN-ACK not for the client went to the flood's (spoofed) sources, through the
    // gateway (the first few wait for the gateway's MAC, cookies starting at once: some dropped);
    // on-link, B asked for each source's MAC instead (at most ARP_PENDING_MAX at a time).
    const cookieSynAcks = c.tcp_syn_cookie - c.tcp_syncookies_ok;
    if (onLink) assert.ok(r.arpFromB >= cookieSynAcks / 2 && r.synAcksToFlood === 0, why(`${r.arpFromB} ARP requests, ${r.synAcksToFlood} SYN-ACKs`));
    else assert.ok(r.synAcksToFlood + c.arp_queue_drops >= cookieSynAcks, why(`${r.synAcksToFlood} SYN-ACKs left for ${cookieSynAcks} cookies`));
    assert.equal(c.tcp_syn_floods, 1, why("flood mode entered once"));
    // The half-open children time out (SYN-ACK retries), TIME-WAIT ends: the table is idle again.
    await sim.runUntilAsync(() => b.tcpTable().every((row) => row.state === "LISTEN"), { timeout: 300_000 });
    assert.deepEqual(b.tcpTable().map((row) => row.state), ["LISTEN"], why(detail()));
  });
}
