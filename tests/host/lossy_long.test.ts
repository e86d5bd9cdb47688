// Long lossy transfers with nothing lost: 256 MiB each way at once between two simulated boards,
// 10% loss in every direction of both links plus reordering, duplication, jitter and bit flips
// (tests/host/lossy_worker.ts has the link), for 20 seeds. Every byte must arrive exactly once, in
// order: byte counts and sha256 of both directions equal. The seeds run in worker processes
// (WASMIP_LOSSY_JOBS, default: up to 2), one node:test subtest each.
// A failing seed is printed; rerun it alone:  WASMIP_LOSSY_SEED=N node --import tsx --test tests/host/lossy_long.test.ts
// WASMIP_LOSSY_MIB changes the size (a quick look: 16).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { ROOT } from "../../host/board/board.ts";
import { runSeed, type LossyResult } from "./lossy_worker.ts";

const MIB = Number(process.env.WASMIP_LOSSY_MIB ?? 256);
const SEEDS = process.env.WASMIP_LOSSY_SEED !== undefined ? [Number(process.env.WASMIP_LOSSY_SEED) >>> 0] : Array.from({ length: 20 }, (_, i) => 1001 + i);
const JOBS = Math.max(1, Number(process.env.WASMIP_LOSSY_JOBS ?? Math.min(2, os.availableParallelism())));
const WORKER = path.join(ROOT, "tests", "host", "lossy_worker.ts");
const t0 = performance.now();

const workers: ChildProcess[] = [];
after(() => {
  for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill("SIGKILL");
});

/** A promise per seed: run here when one seed is asked for, else by JOBS worker processes. */
function schedule(): Map<number, Promise<LossyResult>> {
  const results = new Map<number, Promise<LossyResult>>();
  if (SEEDS.length === 1) {
    results.set(SEEDS[0], runSeed(SEEDS[0], MIB));
    return results;
  }
  const settle = new Map<number, { resolve: (r: LossyResult) => void; reject: (e: Error) => void }>();
  for (const s of SEEDS) results.set(s, new Promise((resolve, reject) => settle.set(s, { resolve, reject })));
  for (let j = 0; j < JOBS; j++) {
    const mine = SEEDS.filter((_, i) => i % JOBS === j);
    if (mine.length === 0) continue;
    const w = spawn(process.execPath, ["--import", "tsx", WORKER, String(MIB), ...mine.map(String)], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    workers.push(w);
    let out = "";
    let err = "";
    w.stdout!.setEncoding("utf8").on("data", (d: string) => {
      out += d;
      let nl: number;
      while ((nl = out.indexOf("\n")) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        const r = JSON.parse(line) as LossyResult;
        settle.get(r.seed)?.resolve(r);
        settle.delete(r.seed);
      }
    });
    w.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
    w.once("exit", (code, sig) => {
      for (const s of mine) settle.get(s)?.reject(new Error(`worker for seeds ${mine.join(",")} exited (${code ?? sig}) before seed ${s}: ${err.slice(-2000)}`));
    });
  }
  return results;
}

const results = schedule();
const done: LossyResult[] = [];

for (const seed of SEEDS) {
  test(`lossy: ${MIB} MiB each way at 10% loss with reordering, duplication, jitter and bit flips, seed ${seed}: every byte once, in order`, { timeout: 3_600_000 }, async (t) => {
    const r = await results.get(seed)!;
    done.push(r);
    t.diagnostic(
      `seed ${seed}: ${r.virtualS.toFixed(0)} s virtual, ${r.wallS.toFixed(1)} s wall; lost ${r.lost}, reordered ${r.reordered}, ` +
        `duplicated ${r.duplicated}, corrupted ${r.corrupted} (checksum drops ${r.badChecksums}); retransmits ${r.retransmits}, timeouts ${r.timeouts}`,
    );
    assert.ok(r.ok, `[seed ${seed}] ${r.problem} (rerun alone: WASMIP_LOSSY_SEED=${seed} node --import tsx --test tests/host/lossy_long.test.ts)`);
  });
}

test("lossy: wall time", (t) => {
  const total = done.reduce((n, r) => n + r.bytes * 2, 0) / 2 ** 20;
  t.diagnostic(`${done.length} seeds, ${total} MiB moved in all, ${JOBS} worker process(es): ${((performance.now() - t0) / 1000).toFixed(1)} s wall`);
  assert.equal(done.length, SEEDS.length);
});
