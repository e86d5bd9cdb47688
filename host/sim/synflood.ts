// A SYN flood scenario in virtual time, shared by tests/host/flood_sim.test.ts (which asserts) and
// `make bench` (which reports): board B runs the http firmware behind gateway R; `rate` SYNs a
// second from random spoofed sources and ports reach it, off-link (via R, RFC 2544's 198.18/15) or
// on-link (B's subnet is then a /16 and the sources 10.0.1.0 - 10.0.255.255, neighbours nobody
// answers ARP for), while client A on the same link fetches the page over and over, each fetch
// timed and binned by the second of the flood in which it started. Seeded, so a run repeats.
import { Simulator } from "./sim.ts";
import { Prng } from "./prng.ts";
import { appWasm, type Board } from "../board/board.ts";
import { ipToU32 } from "../board/address.ts";
import {
  ARP_REQUEST, ETHERTYPE_ARP, ETHERTYPE_IPV4, IPPROTO_TCP, TCP_ACK, TCP_SYN, arpReplyFrame, parseArp, parseEthernet, parseIpv4, parseTcp,
  tcpFrame,
} from "./frames.ts";
import type { Socket } from "../board/net.ts";

const B_MAC = "02:00:00:00:00:02";
const A_MAC = "02:00:00:00:00:01";
const R_MAC = "02:00:00:00:00:fe";
const B_IP = "10.0.0.2";
const R_IP = "10.0.0.254";

export interface FloodOptions {
  seed: number;
  onLink: boolean;
  count: number;
  /** SYNs per virtual ms. */
  perMs: number;
  /** While the flood runs: called every 7 virtual ms (e.g. to sample B's connection table). */
  sample?: (b: Board) => void;
}

export interface FloodSecond {
  ok: number;
  bad: number;
  /** Virtual ms of each fetch that started in this second. */
  ms: number[];
}

export interface FloodRun {
  sim: Simulator;
  b: Board;
  pagesBefore: number;
  floodMs: number;
  seconds: FloodSecond[];
  ok: number;
  failures: string[];
  latencyMax: number;
  /** SYN-ACKs B sent to the spoofed sources (through R), and ARP requests B broadcast. */
  synAcksToFlood: number;
  arpFromB: number;
}

/** One GET / with Connection: close. */
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

/** Runs the flood and 2 s after it (the client fetching), then 5 s more with the client idle. */
export async function runSynFlood(o: FloodOptions): Promise<FloodRun> {
  const sim = new Simulator({ seed: o.seed });
  const b = sim.addBoard({ name: "B", wasm: appWasm("http"), mac: B_MAC, ip: B_IP, prefix: o.onLink ? 16 : 24, gateway: R_IP, link: { delay: 0.1 } });
  // No jitter on the client's link: a segment that overtook the handshake's last ACK would find no
  // connection and draw a RST, as on Linux with cookies (RFC 9293 §3.10.7.2): not what this runs.
  const a = sim.addBoard({ name: "A", mac: A_MAC, ip: "10.0.0.1", prefix: 24, link: { delay: 0.1 } });
  const run: FloodRun = {
    sim, b, pagesBefore: b.memoryPages, floodMs: 0, seconds: [], ok: 0, failures: [], latencyMax: 0, synAcksToFlood: 0, arpFromB: 0,
  };
  // The gateway: answers ARP for itself and swallows what B sends to the spoofed sources.
  const router = sim.attach("R", (f) => {
    const eth = parseEthernet(f);
    if (!eth) return;
    if (eth.type === ETHERTYPE_ARP) {
      const q = parseArp(eth.payload);
      if (q && q.op === ARP_REQUEST && q.tpa === R_IP) router.send(arpReplyFrame({ srcMac: R_MAC, srcIp: R_IP, dstMac: q.sha, dstIp: q.spa }));
      else if (q && q.op === ARP_REQUEST && q.spa === B_IP) run.arpFromB++;
      return;
    }
    const ip = eth.type === ETHERTYPE_IPV4 ? parseIpv4(eth.payload) : undefined;
    const seg = ip?.protocol === IPPROTO_TCP ? parseTcp(ip.payload) : undefined;
    if (seg && (seg.flags & (TCP_SYN | TCP_ACK)) === (TCP_SYN | TCP_ACK)) run.synAcksToFlood++;
  }, { delay: 0.1 });

  const rng = new Prng(o.seed).fork("flood");
  const base = o.onLink ? ipToU32("10.0.1.0") : ipToU32("198.18.0.0");
  const span = o.onLink ? (1 << 16) - 256 - 1 : 1 << 17; // on-link: not the /16 broadcast
  let sent = 0;
  const burst = () => {
    for (let k = 0; k < o.perMs && sent < o.count; k++, sent++) {
      router.send(tcpFrame({
        srcMac: R_MAC, dstMac: B_MAC, src: (base + rng.nextInt(span)) >>> 0, dst: B_IP,
        srcPort: rng.nextRange(1024, 65535), dstPort: 80, seq: rng.nextU32(), flags: TCP_SYN,
        options: Uint8Array.from([2, 4, 5, 0xb4, 1, 3, 3, 7]),
      }));
    }
    if (sent < o.count) sim.after(1, burst);
  };

  let fetching = true;
  let flood0 = Infinity;
  const next = () => {
    if (!fetching) return;
    const t0 = sim.now;
    const during = sent > 0 && sent < o.count;
    fetchOnce(a, (good, msg) => {
      const ms = sim.now - t0;
      run.latencyMax = Math.max(run.latencyMax, ms);
      if (good) run.ok++;
      else run.failures.push(`at ${sim.now.toFixed(0)} ms: ${msg}`);
      if (during) {
        const sec = (run.seconds[Math.floor((t0 - flood0) / 1000)] ??= { ok: 0, bad: 0, ms: [] });
        if (good) sec.ok++;
        else sec.bad++;
        sec.ms.push(ms);
      }
      sim.after(5, next);
    });
  };
  await sim.runUntilAsync(sim.now + 100);
  const sample = () => {
    o.sample?.(b);
    if (sent < o.count) sim.after(7, sample);
  };
  flood0 = sim.now;
  burst();
  sample();
  next();
  await sim.runUntilAsync(() => sent >= o.count, { timeout: 60_000 });
  run.floodMs = sim.now - flood0;
  await sim.runUntilAsync(sim.now + 2000);
  fetching = false;
  await sim.runUntilAsync(sim.now + 5000);
  return run;
}
