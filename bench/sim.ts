// Figures 4, 6 (emulated PHY) and the trace of figure 7 of `make bench`: two boards running
// build/bench.wasm on the emulated switch (host/sim/sim.ts). Board A runs the bench app's client,
// board B its server; every link direction has a 1 ms delay (RTT 4 ms, as in the TCP tests).
import path from "node:path";
import { ipToU32 } from "../host/board/address.ts";
import { type Board } from "../host/board/board.ts";
import { Simulator } from "../host/sim/sim.ts";
import { runSynFlood } from "../host/sim/synflood.ts";
import { BUILD, MiB, mbit, median, round, type Bench } from "./lib.ts";

const WASM = path.join(BUILD, "bench.wasm");
const PORT = 5001;
const B_IP = "10.0.0.2";
const DELAY_MS = 1;
const JOB = { send: 1, rr: 2, cps: 3 } as const;
/** Goodput against loss: runs per loss rate (issue 18 asks for 20) and the first seed. */
const LOSS_SEEDS = 20;
const LOSS_SEED0 = 7;

interface BenchExports {
  bench_job(kind: number, ip: number, port: number, n: number): number;
  bench_job_state(): number;
  bench_job_done(): number;
  bench_job_fd(): number;
  bench_last_discard(): number;
  bench_served(): number;
}

function twoBoards(seed: number, loss: number) {
  const sim = new Simulator({ seed, wasm: WASM, maxEventsPerRun: 200_000_000 });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24, link: { delay: DELAY_MS } });
  // Loss on B's link only, both directions: every frame (data or ACK) is dropped with probability
  // `loss` exactly once on its way.
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", ip: B_IP, prefix: 24, link: { delay: DELAY_MS, loss } });
  sim.runFor(10); // ARP announcements
  return { sim, a, b, ea: a.exports as unknown as BenchExports, eb: b.exports as unknown as BenchExports };
}

export interface JobRun {
  ok: boolean;
  state: number;
  done: number;
  wallMs: number;
  virtualMs: number;
  events: number;
  pages: { a: [number, number]; b: [number, number] };
  counters: { a: Record<string, number>; b: Record<string, number> };
  lost: number;
}

function nonZero(c: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(c).filter(([k, v]) => v !== 0 && k.startsWith("tcp")));
}

/** Run one bench job from A to B's server; `sample` runs after every simulator event. */
function job(kind: number, n: number, loss: number, seed: number, sample?: (sim: Simulator, a: Board, fd: number) => void): JobRun {
  const { sim, a, b, ea, eb } = twoBoards(seed, loss);
  const pages0 = { a: a.memoryPages, b: b.memoryPages };
  if (sample) sim.afterEvent = () => sample(sim, a, ea.bench_job_fd());
  const v0 = sim.now;
  const t0 = performance.now();
  const rc = ea.bench_job(kind, ipToU32(B_IP), PORT, n);
  if (rc !== 0) throw new Error(`bench_job(${kind}, ${n}) = ${rc}`);
  sim.poke(a);
  // Bounded: at 10% loss a 64 MiB transfer takes well under an hour of virtual time.
  const finished = sim.runUntil(() => ea.bench_job_state() !== 1, { timeout: 3_600_000 * 4 });
  const wallMs = performance.now() - t0;
  const virtualMs = sim.now - v0;
  const state = ea.bench_job_state();
  const done = ea.bench_job_done();
  let ok = finished && state === 2 && done === n;
  if (kind === JOB.send) {
    // The server's count is read after its close: let the last FIN exchange finish.
    sim.runUntil(() => eb.bench_served() > 0, { timeout: 120_000 });
    ok &&= eb.bench_last_discard() === n;
  }
  return {
    ok, state, done, wallMs, virtualMs, events: sim.events,
    pages: { a: [pages0.a, a.memoryPages], b: [pages0.b, b.memoryPages] },
    counters: { a: nonZero(a.counters()), b: nonZero(b.counters()) },
    lost: sim.linkOf(b).totals().lost,
  };
}

export interface TracePoint {
  t: number; // virtual ms since the job started
  cwnd: number;
  ssthresh: number;
  una: number; // bytes since the ISN
  nxt: number;
  wnd: number;
  srtt: number;
  rto: number;
  recovery: boolean;
}

export async function simStep(b: Bench): Promise<{ trace: TracePoint[]; traceLoss: number; goodput: { loss: number; fraction: number }[] }> {
  const bytes = b.quick ? 2 * MiB : 64 * MiB;
  const reps = b.quick ? 1 : 5;
  const runs: JobRun[] = [];
  const growth: Record<string, unknown>[] = [];
  const check = (name: string, r: JobRun) => {
    growth.push({ run: name, a: r.pages.a, b: r.pages.b });
    if (!r.ok) throw new Error(`${name}: job ended in state ${r.state} after ${r.done} (counters ${JSON.stringify(r.counters)})`);
    if (r.pages.a[0] !== r.pages.a[1] || r.pages.b[0] !== r.pages.b[1]) throw new Error(`${name}: linear memory grew: ${JSON.stringify(r.pages)}`);
  };
  // Warm-up (not counted): V8 compiles the module in tiers; the timed runs should see the optimised code.
  check("warm-up", job(JOB.send, 2 * MiB, 0, 2));
  for (let i = 0; i < reps; i++) {
    b.log(`sim: clean ${bytes / MiB} MiB, run ${i + 1}/${reps}`);
    const r = job(JOB.send, bytes, 0, 1);
    check(`clean #${i + 1}`, r);
    runs.push(r);
  }
  const wall = median(runs.map((r) => r.wallMs)) / 1000;
  const clean = runs[0];
  const cleanVirt = mbit(bytes, clean.virtualMs / 1000);
  const how = `build/bench.wasm on two boards of host/sim/sim.ts (the emulated switch, Node ${process.version}), 1 ms delay on each link direction; board A's bench_job sends ${bytes / MiB} MiB from a constant pattern to board B's discard`;
  b.fig("sim.clean.mbit_wall", mbit(bytes, wall), "Mbit/s", `${how}; payload bits per wall-clock second, median of ${reps} run(s) after a 2 MiB warm-up (both boards in one V8 thread)`);
  b.fig("sim.clean.mbit_virtual", cleanVirt, "Mbit/s", `${how}; payload bits per virtual second (window-limited: no bandwidth model, RTT 4 ms)`);
  b.detail("sim.clean", runs.map((r) => ({ wallMs: round(r.wallMs, 1), virtualMs: r.virtualMs, events: r.events, counters: r.counters })));
  // Goodput against loss: LOSS_SEEDS seeded runs per rate, each against a clean run of the same
  // size; the figure is their mean fraction (the worst one is given next to it).
  const seeds = b.quick ? 3 : LOSS_SEEDS;
  const lossBytes = b.quick ? 2 * MiB : 16 * MiB;
  const lossClean = job(JOB.send, lossBytes, 0, 1);
  check("clean (loss reference)", lossClean);
  const goodput = [{ loss: 0, fraction: 1 }];
  const lossRuns: Record<string, unknown> = {};
  for (const loss of [0.01, 0.05, 0.1]) {
    b.log(`sim: ${seeds} x ${lossBytes / MiB} MiB at ${loss * 100}% loss`);
    const fr: number[] = [];
    let wallMs = 0;
    const runsOf: Record<string, unknown>[] = [];
    for (let k = 0; k < seeds; k++) {
      const seed = LOSS_SEED0 + k;
      const r = job(JOB.send, lossBytes, loss, seed);
      check(`loss ${loss} seed ${seed}`, r);
      fr.push(lossClean.virtualMs / r.virtualMs);
      wallMs += r.wallMs;
      runsOf.push({ seed, virtualMs: r.virtualMs, lost: r.lost, timeouts: r.counters.a.tcp_timeouts ?? 0, rackMarks: r.counters.a.tcp_rack_marks ?? 0 });
    }
    const mean = fr.reduce((x, y) => x + y, 0) / fr.length;
    const id = `sim.loss${Math.round(loss * 100)}`;
    const lhow = `${how.replace(`${bytes / MiB} MiB`, `${lossBytes / MiB} MiB`)}; ${loss * 100}% of frames dropped on B's link in each direction; ${seeds} runs, seeds ${LOSS_SEED0}..${LOSS_SEED0 + seeds - 1}`;
    b.fig(`${id}.goodput_fraction`, mean, "fraction of clean", `${lhow}; mean over the runs of the clean run's virtual time divided by the run's`);
    b.fig(`${id}.goodput_fraction_min`, Math.min(...fr), "fraction of clean", `${lhow}; the worst run`);
    b.fig(`${id}.mbit_virtual`, mean * mbit(lossBytes, lossClean.virtualMs / 1000), "Mbit/s", `${lhow}; payload bits per virtual second (mean fraction times the clean run's)`);
    b.fig(`${id}.mbit_wall`, mbit(lossBytes * seeds, wallMs / 1000), "Mbit/s", `${lhow}; payload bits per wall-clock second over all the runs`);
    goodput.push({ loss, fraction: mean });
    lossRuns[id] = runsOf;
  }
  b.detail("sim.loss", lossRuns);

  // Latency and rates, wall clock (the virtual RTT is the link delay by construction).
  const repeat = (what: string, kind: number, n: number, seed: number): JobRun[] =>
    Array.from({ length: reps }, (_, i) => {
      const r = job(kind, n, 0, seed);
      check(`${what} #${i + 1}`, r);
      return r;
    });
  const rrN = b.quick ? 200 : 2000;
  const rrs = repeat("rr", JOB.rr, rrN, 3);
  const rrWall = median(rrs.map((r) => r.wallMs));
  b.fig("sim.rr.us_wall", (rrWall * 1000) / rrN, "µs per round trip", `board A: ${rrN} one-byte request/response round trips over one connection to B's echo (bench_job kind 2), wall-clock time per round trip of the simulation (both boards in V8), median of ${reps} run(s)`);
  b.fig("sim.rr.ms_virtual", rrs[0].virtualMs / rrN, "virtual ms per round trip", "the same in virtual time (4 × 1 ms link delay per round trip)");
  const cpsN = b.quick ? 50 : 500;
  const cpss = repeat("cps", JOB.cps, cpsN, 4);
  const cpsWall = median(cpss.map((r) => r.wallMs));
  b.fig("sim.cps.per_s_wall", cpsN / (cpsWall / 1000), "connections/s", `board A: ${cpsN} times connect, shutdown, wait for B's FIN, close (bench_job kind 3), per wall-clock second, median of ${reps} run(s)`);
  b.detail("sim.latency", { rrWallMs: rrs.map((r) => round(r.wallMs, 2)), rrVirtualMs: rrs[0].virtualMs, cpsWallMs: cpss.map((r) => round(r.wallMs, 2)), cpsVirtualMs: cpss[0].virtualMs, cpsCounters: cpss[0].counters });

  // A client's fetches during a SYN flood: 100,000 spoofed SYNs a second from random on-link
  // sources at the http firmware (host/sim/synflood.ts, as tests/host/flood_sim.test.ts; seed 601).
  const floodSyns = b.quick ? 100_000 : 300_000;
  const fl = await runSynFlood({ seed: 601, onLink: true, count: floodSyns, perMs: 100 });
  const fetchMs = fl.seconds.flatMap((s) => s.ms);
  const fetchOk = fl.seconds.reduce((n, s) => n + s.ok, 0);
  const fhow = `http firmware, ${floodSyns} SYNs at 100,000/s (virtual) from random spoofed on-link sources; client on the same link, 0.1 ms per link direction, one GET / (Connection: close) after another, ${fetchMs.length} started during the flood`;
  b.fig("sim.flood.fetch_ms_virtual", median(fetchMs), "virtual ms", `${fhow}; median virtual ms per fetch, connect to close`);
  b.fig("sim.flood.fetch_max_ms_virtual", Math.max(...fetchMs), "virtual ms", `${fhow}; the slowest fetch (a retransmission timeout would show as 1000+)`);
  b.fig("sim.flood.fetch_ok_fraction", fetchMs.length ? fetchOk / fetchMs.length : null, "fraction", `${fhow}; fetches that returned the page`);
  b.fig("sim.flood.first_second_fetches", fl.seconds[0]?.ok ?? 0, "fetches", `${fhow}; fetches that succeeded among those started in the flood's first second`);
  b.detail("sim.flood", { seconds: fl.seconds.map((s) => ({ ok: s.ok, bad: s.bad, medianMs: median(s.ms), maxMs: Math.max(...s.ms) })), counters: nonZero(fl.b.counters()) });

  // The trace: one transfer with loss, tcp_info of A's connection after every event.
  const traceLoss = 0.05;
  const traceBytes = b.quick ? 512 * 1024 : 2 * MiB;
  const trace: TracePoint[] = [];
  let t0 = -1;
  let iss = 0;
  let last = "";
  const tr = job(JOB.send, traceBytes, traceLoss, 11, (sim, a, fd) => {
    if (fd < 0) return;
    const i = a.tcpInfo(fd);
    if (!i || i.state !== "ESTABLISHED") return;
    if (t0 < 0) {
      t0 = sim.now;
      iss = i.iss;
    }
    const p: TracePoint = {
      t: sim.now - t0, cwnd: i.cwnd, ssthresh: i.ssthresh, una: (i.sndUna - iss) >>> 0, nxt: (i.sndNxt - iss) >>> 0,
      wnd: i.sndWnd, srtt: i.srtt, rto: i.rto, recovery: i.recovery,
    };
    const k = `${p.cwnd},${p.ssthresh},${p.una},${p.nxt},${p.recovery}`;
    if (k !== last) trace.push(p);
    last = k;
  });
  check("trace", tr);
  b.detail("sim.trace", { bytes: traceBytes, loss: traceLoss, points: trace.length, virtualMs: tr.virtualMs, counters: tr.counters });
  b.detail("memory.growth.sim", growth);
  return { trace, traceLoss, goodput };
}
