// Fleet benchmark: how many boards one process holds, and how fast the simulation runs.
//
//   node --import tsx bench/fleet.ts                       # 10, 50 and 200 boards
//   node --import tsx bench/fleet.ts --boards 10,50,200,500 --duration 60s
//   node --import tsx bench/fleet.ts --max 8000             # double from 200 until a run fails or N > 8000
//
// Each size runs in a child process of its own (so its RSS is its own). The fleet is generated:
// one edge switch per 25 boards, trunked to a core switch (delay 1 ms) that holds the DHCP and DNS
// servers; on each edge switch an http server, an echo server and a udp-echo collector (static
// addresses), and sensors that boot by DHCP over 2 s: 60% fetch http://web-<edge>.fleet/ every
// 10 s, 20% send a 32-byte UDP datagram a second to their edge's collector, and 20% run a 16 KiB
// bulk transfer to their edge's echo server every 20 s. A size counts as failed unless the run keeps its invariants
// (every board leased, addresses unique, counters consistent, frames conserved) and no fetch,
// datagram run or transfer that ended failed (the tasks repeat until the run ends).
// Rates are virtual seconds per wall-clock second of the run (after the images are compiled);
// they depend on the machine and its load, so compare sizes measured in one invocation.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { ipToU32, u32ToIp } from "../host/board/address.ts";
import { parseTopology } from "../host/sim/fleet/topology.ts";
import { runFleet } from "../host/sim/fleet/fleet.ts";

const SELF = fileURLToPath(import.meta.url);
/** Boards per edge switch: its three servers then talk to at most 14 sensors each, inside the
 *  core's ARP cache (16 today), so replies are not preceded by a broadcast ARP request each
 *  (the core learns neighbours only from ARP: see docs/benchmarks.md, "Fleet scale"). --per-edge changes it. */
let PER_EDGE = 25;

export function fleetTopology(n: number, duration: string): unknown {
  const edges = Math.max(1, Math.ceil(n / PER_EDGE));
  const switches = ["core", ...Array.from({ length: edges }, (_, e) => `edge${e + 1}`)];
  const boards: unknown[] = [];
  let left = n;
  for (let e = 1; e <= edges && left > 0; e++) {
    const here = Math.min(left, PER_EDGE);
    left -= here;
    const sensors = Math.max(0, here - 3);
    const fetchers = Math.round(sensors * 0.6);
    const pushers = Math.round(sensors * 0.2);
    const loggers = sensors - fetchers - pushers;
    const sw = `edge${e}`;
    // Static addresses in the lower half of 10.0.0.0/16, four per edge from 10.0.0.16 (the DHCP pool is the upper half).
    const at = (k: number) => u32ToIp(ipToU32("10.0.0.16") + 4 * e + k);
    boards.push({ name: `web-${e}`, firmware: "http", switch: sw, address: at(0) });
    if (here > 1) boards.push({ name: `echo-${e}`, firmware: "echo", switch: sw, address: at(1) });
    if (here > 2) boards.push({ name: `collector-${e}`, firmware: "udp-echo", switch: sw, address: at(2) });
    if (fetchers)
      boards.push({ name: `f${e}-{i}`, count: fetchers, firmware: "fetch", switch: sw, bootSpread: "2s",
        do: [{ fetch: `http://web-${e}.fleet/`, at: "1s", spread: "10s", every: "10s", count: 1000 }] });
    if (pushers)
      boards.push({ name: `u${e}-{i}`, count: pushers, firmware: "fetch", switch: sw, bootSpread: "2s",
        do: [{ udp: `collector-${e}.fleet:7`, at: "1s", spread: "1s", every: "1s", count: 1000, size: 32 }] });
    if (loggers)
      boards.push({ name: `b${e}-{i}`, count: loggers, firmware: "bulk", switch: sw, bootSpread: "2s",
        do: [{ bulk: `echo-${e}.fleet:7`, bytes: 16384, at: "1s", spread: "10s", every: "20s", count: 1000 }] });
  }
  return {
    seed: 1,
    duration,
    network: { subnet: "10.0.0.0/16", dhcp: { server: "10.0.0.2", pool: "10.0.128.1-10.0.255.254" }, dns: { server: "10.0.0.3", zone: "fleet" } },
    switches,
    links: switches.slice(1).map((s) => ({ between: ["core", s], delay: "1ms" })),
    boards,
  };
}

interface Result {
  boards: number;
  ok: boolean;
  simSeconds: number;
  wallSeconds: number;
  rate: number;
  events: number;
  rssMiB: number;
  heapMiB: number;
  externalMiB: number;
  failures?: string;
}

/** One size, in this process: print a JSON line with the result. */
function one(n: number, duration: string): void {
  const topo = parseTopology(fleetTopology(n, duration));
  // Tasks repeat until the end of the run: a task still running then is fine for the benchmark.
  const s = runFleet(topo, { print: () => {}, brief: true });
  const inv = s.invariants;
  const failedRuns = s.boards.flatMap((b) => b.tasks.flatMap((t) => t.runs.filter((r) => r.end !== undefined && !r.ok).map((r) => `${b.name} ${t.kind}: ${r.detail}`)));
  const m = process.memoryUsage();
  const r: Result = {
    boards: topo.boards.length,
    ok: inv.boardsUp === "all" && inv.addressesUnique === "yes" && inv.countersConsistent === "yes" && inv.framesConserved === "yes" && failedRuns.length === 0,
    simSeconds: s.duration / 1000,
    wallSeconds: s.wallMs / 1000,
    rate: s.simSecondsPerWallSecond,
    events: s.events,
    rssMiB: m.rss / 2 ** 20,
    heapMiB: m.heapUsed / 2 ** 20,
    externalMiB: m.external / 2 ** 20, // includes the boards' linear memories
  };
  if (!r.ok) r.failures = [inv.boardsUp, inv.countersConsistent, inv.framesConserved, ...failedRuns.slice(0, 5)].join(" | ");
  process.stdout.write(JSON.stringify(r) + "\n");
}

function runChild(n: number, duration: string, timeoutS: number): Result | { boards: number; ok: false; failures: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", SELF, "--one", String(n), "--duration", duration, "--per-edge", String(PER_EDGE)], {
    encoding: "utf8",
    timeout: timeoutS * 1000,
    maxBuffer: 1 << 20,
  });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line) as Result;
  } catch {
    return { boards: n, ok: false, failures: r.error ? String(r.error.message) : `exit ${r.status ?? r.signal}: ${r.stderr.trim().split("\n").slice(-3).join(" ")}` };
  }
}

function row(r: Result | { boards: number; ok: false; failures: string }): string {
  if (!("rate" in r)) return `${String(r.boards).padStart(6)}  FAILED: ${r.failures}`;
  return (
    `${String(r.boards).padStart(6)}  ${r.simSeconds.toFixed(0).padStart(5)}  ${r.wallSeconds.toFixed(2).padStart(8)}  ${r.rate.toFixed(1).padStart(8)}  ` +
    `${String(r.events).padStart(10)}  ${r.rssMiB.toFixed(0).padStart(7)}  ${r.heapMiB.toFixed(0).padStart(8)}  ${r.externalMiB.toFixed(0).padStart(12)}  ${r.ok ? "ok" : `FAILED: ${r.failures}`}`
  );
}

function main(): void {
  const { values } = parseArgs({
    options: {
      one: { type: "string" },
      boards: { type: "string" },
      duration: { type: "string" },
      max: { type: "string" },
      timeout: { type: "string" },
      "per-edge": { type: "string" },
    },
  });
  const duration = values.duration ?? "60s";
  if (values["per-edge"]) PER_EDGE = Number(values["per-edge"]);
  if (values.one) {
    one(Number(values.one), duration);
  } else {
    const timeout = Number(values.timeout ?? 1800);
    console.log(`fleet benchmark: ${duration} of virtual time per run, ${PER_EDGE} boards per edge switch; node ${process.version}`);
    console.log(" boards  sim s    wall s  sim s/s      events  RSS MiB  heap MiB  external MiB");
    if (values.max) {
      const limit = Number(values.max);
      let best: Result | undefined;
      for (let n = 200; n <= limit; n *= 2) {
        const r = runChild(n, duration, timeout);
        console.log(row(r));
        if (!("rate" in r) || !r.ok) break;
        best = r;
      }
      if (best) console.log(`largest fleet run: ${best.boards} boards, RSS ${best.rssMiB.toFixed(0)} MiB, ${best.rate.toFixed(2)} simulated s per wall s`);
    } else {
      for (const n of (values.boards ?? "10,50,200").split(",").map(Number)) console.log(row(runChild(n, duration, timeout)));
    }
  }
}

import { realpathSync } from "node:fs";
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(SELF)) main();
