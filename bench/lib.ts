// Shared pieces of `make bench`: the results object, progress lines, subprocesses, CPU time of
// process trees, and small numeric helpers. See bench/README.md for what each figure means.
import { execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../host/board/board.ts";
import { run, type RunOptions, type RunResult } from "../host/devices/netns.ts";

export { ROOT };
export const BUILD = path.join(ROOT, "build");
export const BENCH_BUILD = path.join(BUILD, "bench");
export const MiB = 1 << 20;

/** asc's transform and the binaryen pass after it, as every release image is built
 *  (host/image/build.ts): every variant the bench builds goes through the same steps. */
export { ASC_TRANSFORM, WASM_OPT, WASM_OPT_FLAGS } from "../host/image/build.ts";

/** One measured number: value (null when not available), its unit, and how it was measured. */
export interface Figure {
  value: number | null;
  unit: string;
  how: string;
  note?: string;
}

export interface Results {
  schema: 1;
  quick: boolean;
  started: string;
  finished?: string;
  seconds?: number;
  machine: Record<string, unknown>;
  versions: Record<string, string>;
  config: Record<string, unknown>;
  figures: Record<string, Figure>;
  details: Record<string, unknown>;
  plots: string[];
  errors: { step: string; error: string }[];
}

export class Bench {
  readonly t0 = performance.now();
  readonly results: Results;

  constructor(
    readonly quick: boolean,
    readonly outDir: string,
  ) {
    this.results = {
      schema: 1,
      quick,
      started: new Date().toISOString(),
      machine: {},
      versions: {},
      config: {},
      figures: {},
      details: {},
      plots: [],
      errors: [],
    };
  }

  /** A progress line on stderr, with the time since the start. */
  log(msg: string): void {
    const s = ((performance.now() - this.t0) / 1000).toFixed(1).padStart(6);
    process.stderr.write(`[bench ${s}s] ${msg}\n`);
  }

  fig(id: string, value: number | null, unit: string, how: string, note?: string): void {
    const f: Figure = { value: value === null || Number.isFinite(value) ? value : null, unit, how };
    if (note) f.note = note;
    this.results.figures[id] = f;
  }

  detail(key: string, value: unknown): void {
    this.results.details[key] = value;
  }

  /** Run a step; an error is recorded (and printed) and the bench goes on with the next step. */
  async step(name: string, fn: () => Promise<void> | void): Promise<boolean> {
    const t = performance.now();
    this.log(`${name} ...`);
    try {
      await fn();
      this.log(`${name}: done in ${((performance.now() - t) / 1000).toFixed(1)} s`);
      return true;
    } catch (e) {
      const msg = e instanceof Error ? (e.stack ?? e.message) : String(e);
      this.results.errors.push({ step: name, error: msg });
      this.log(`${name}: FAILED: ${msg}`);
      return false;
    }
  }
}

/** Run a command to completion (no shell), bounded in time (10 minutes unless told); throws when
 *  check and it fails. host/devices/netns.ts's run, with a bench-sized default timeout. */
export function runCmd(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return run(cmd, args, { timeoutMs: 600_000, ...opts });
}

/** The first line of a command's output, or "" (for versions). */
export function firstLine(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).split("\n")[0].trim();
  } catch {
    return "";
  }
}

// ---- CPU time of a process tree ---------------------------------------------------------------

/** Children of every pid, from /proc/<pid>/stat. */
function childrenMap(): Map<number, number[]> {
  const m = new Map<number, number[]>();
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      const list = m.get(ppid) ?? [];
      list.push(Number(d));
      m.set(ppid, list);
    } catch {
      // gone meanwhile
    }
  }
  return m;
}

/** A pid and all its descendants. */
export function processTree(pid: number): number[] {
  const kids = childrenMap();
  const out: number[] = [];
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop()!;
    out.push(p);
    for (const c of kids.get(p) ?? []) todo.push(c);
  }
  return out;
}

export interface CpuSample {
  /** On-CPU seconds from schedstat, summed over every thread of every process (ns resolution). */
  cpu: number;
  /** utime and stime from /proc/<pid>/stat (clock ticks: 10 ms resolution here). */
  user: number;
  sys: number;
  pids: number[];
}

const CLK_TCK = 100;

/** CPU time consumed so far by the processes in `pids` (threads included). */
export function cpuOf(pids: number[]): CpuSample {
  let ns = 0;
  let ticksU = 0;
  let ticksS = 0;
  for (const pid of pids) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        try {
          ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
        } catch {
          // thread gone
        }
      }
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticksU += Number(f[11]);
      ticksS += Number(f[12]);
    } catch {
      // process gone
    }
  }
  return { cpu: ns / 1e9, user: ticksU / CLK_TCK, sys: ticksS / CLK_TCK, pids };
}

export function cpuDelta(a: CpuSample, b: CpuSample): { cpu: number; user: number; sys: number } {
  return { cpu: b.cpu - a.cpu, user: b.user - a.user, sys: b.sys - a.sys };
}

// ---- numbers -------------------------------------------------------------------------------

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export const mbit = (bytes: number, seconds: number): number => (bytes * 8) / seconds / 1e6;

export function round(x: number | null | undefined, digits = 3): number | null {
  if (x === null || x === undefined || !Number.isFinite(x)) return null;
  const p = 10 ** digits;
  return Math.round(x * p) / p;
}

/** Wait for a line matching re on a child's stdout (bounded). */
export function waitLine(child: ChildProcess, re: RegExp, timeoutMs: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = "";
    let err = "";
    const timer = setTimeout(() => done(new Error(`${what}: no "${re.source}" within ${timeoutMs} ms: ${err.trim().slice(-2000)}`)), timeoutMs);
    const onOut = (d: Buffer) => {
      buf += d.toString();
      const m = buf.split("\n").find((l) => re.test(l));
      if (m !== undefined) done(undefined, m);
    };
    const onErr = (d: Buffer) => (err += d.toString());
    const onExit = (code: number | null, sig: string | null) => done(new Error(`${what}: exited (${code ?? sig}) before ready: ${err.trim().slice(-2000)}`));
    function done(e?: Error, line?: string) {
      clearTimeout(timer);
      child.stdout?.off("data", onOut);
      child.stderr?.off("data", onErr);
      child.off("exit", onExit);
      if (e) reject(e);
      else resolve(line!);
    }
    child.stdout?.on("data", onOut);
    child.stderr?.on("data", onErr);
    child.once("exit", onExit);
  });
}

export function exists(p: string): boolean {
  return existsSync(p);
}
