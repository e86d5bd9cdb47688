// One long lossy transfer per seed (tests/host/lossy_long.test.ts runs these in worker processes):
// two simulated boards move MIB mebibytes each way at once over links that lose 10% of frames in
// each direction, reorder, duplicate, delay with jitter and flip bits; each side hashes what it
// sent and what it received. Prints one JSON line per seed:
//   node --import tsx tests/host/lossy_worker.ts MIB SEED...
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Simulator, type LinkOptions } from "../../host/sim/sim.ts";
import type { Board } from "../../host/board/board.ts";
import { bulk, type BulkSide } from "./bulk.ts";

export interface LossyResult {
  seed: number;
  bytes: number; // each way
  ok: boolean;
  problem?: string;
  virtualS: number;
  wallS: number;
  lost: number;
  reordered: number;
  duplicated: number;
  corrupted: number;
  badChecksums: number; // frames the boards dropped for a checksum (IP or TCP)
  retransmits: number;
  timeouts: number;
}

/** The impairments: every direction of both links; bit flips on each board's uplink only, so a
 *  frame is flipped at most once (two flips can cancel in the 16-bit Internet checksum, which no
 *  TCP can detect; a real link's FCS would catch either). */
export const LINK: LinkOptions = {
  loss: 0.1,
  reorder: 0.02,
  reorderDelay: 10,
  duplicate: 0.01,
  delay: 1,
  jitter: 1,
  toSwitch: { corrupt: 0.01 },
};

/** Seeded bytes, fast: 64 KiB at a time from a xorshift128 over 32-bit words. */
class Pattern {
  private s: Uint32Array;
  constructor(seed: number) {
    this.s = Uint32Array.from([seed ^ 0x9e3779b9, seed * 2654435761, 0x85ebca6b ^ seed, 0xc2b2ae35 + seed]);
    for (let i = 0; i < 16; i++) this.word();
  }
  private word(): number {
    const s = this.s;
    let t = s[3];
    const u = s[0];
    s[3] = s[2];
    s[2] = s[1];
    s[1] = u;
    t ^= t << 11;
    t ^= t >>> 8;
    s[0] = t ^ u ^ (u >>> 19);
    return s[0];
  }
  chunk(n: number): Buffer {
    const words = new Uint32Array((n + 3) >>> 2);
    for (let i = 0; i < words.length; i++) words[i] = this.word();
    return Buffer.from(words.buffer, 0, n);
  }
}

const patternOf = (seed: number) => {
  const p = new Pattern(seed);
  return (n: number) => p.chunk(n);
};

export async function runSeed(seed: number, mib: number): Promise<LossyResult> {
  const BYTES = mib * 1024 * 1024;
  const wall0 = performance.now();
  const sim = new Simulator({ seed });
  const mac = (n: number) => `02:00:00:00:00:0${n}`;
  const a = sim.addBoard({ name: "A", mac: mac(1), ip: "10.0.0.1", prefix: 24, link: LINK });
  const b = sim.addBoard({ name: "B", mac: mac(2), ip: "10.0.0.2", prefix: 24, link: LINK });
  const counters = (x: Board, k: string) => x.counters()[k] ?? 0;
  const out = (ok: boolean, problem?: string): LossyResult => {
    const la = sim.linkOf(a).totals();
    const lb = sim.linkOf(b).totals();
    return {
      seed,
      bytes: BYTES,
      ok,
      problem,
      virtualS: sim.now / 1000,
      wallS: (performance.now() - wall0) / 1000,
      lost: la.lost + lb.lost,
      reordered: la.reordered + lb.reordered,
      duplicated: la.duplicated + lb.duplicated,
      corrupted: la.corrupted + lb.corrupted,
      badChecksums: ["ip_bad_checksum", "tcp_bad_checksum"].reduce((n, k) => n + counters(a, k) + counters(b, k), 0),
      retransmits: counters(a, "tcp_retransmits") + counters(b, "tcp_retransmits"),
      timeouts: counters(a, "tcp_timeouts") + counters(b, "tcp_timeouts"),
    };
  };
  try {
    const serverDone = new Promise<BulkSide>((resolve, reject) =>
      b.net.createServer({ allowHalfOpen: true }, (s) => bulk(s, BYTES, patternOf(seed ^ 0xb0b)).then(resolve, reject)).listen(5001),
    );
    const c = a.net.connect({ host: "10.0.0.2", port: 5001, allowHalfOpen: true });
    const clientDone = bulk(c, BYTES, patternOf(seed ^ 0xa11ce));
    const [ca, sb] = await sim.runUntilSettled(Promise.all([clientDone, serverDone]), { timeout: 200_000_000 });
    const problems: string[] = [];
    if (sb.bytes !== BYTES) problems.push(`B received ${sb.bytes} of ${BYTES} bytes`);
    if (ca.bytes !== BYTES) problems.push(`A received ${ca.bytes} of ${BYTES} bytes`);
    if (sb.received !== ca.sent) problems.push(`sha256 A->B: sent ${ca.sent}, received ${sb.received}`);
    if (ca.received !== sb.sent) problems.push(`sha256 B->A: sent ${sb.sent}, received ${ca.received}`);
    const r = out(problems.length === 0, problems.join("; ") || undefined);
    if (r.ok && !(r.lost > 0 && r.reordered > 0 && r.duplicated > 0 && r.corrupted > 0)) {
      r.ok = false;
      r.problem = `the impairments did not all happen: ${JSON.stringify(r)}`;
    }
    // Every flipped bit that reached a board was caught: no frame was accepted with a flip in it
    // (the hashes above), and the boards counted checksum drops.
    if (r.ok && r.badChecksums === 0) {
      r.ok = false;
      r.problem = "no checksum failure was counted although bits were flipped";
    }
    return r;
  } catch (e) {
    return out(false, (e as Error).message);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [mib, ...seeds] = process.argv.slice(2).map(Number);
  for (const seed of seeds) console.log(JSON.stringify(await runSeed(seed, mib)));
}
