// The WAMR figures of `make bench`: the firmware under WAMR's interpreter, as a board (the ESP32)
// runs it. bench/README.md says exactly how each is measured.
//   - wamrCpuStep: bench/c/twin.c built against WAMR (fast and classic interpreter, x86-64): the
//     same two-board transfer as the wasm2c twin, counted by callgrind on bulk_phase
//     (cpu.wamr_<interp>.core_instr_per_byte, .process_instr_per_byte) and timed without it
//     (.ms_per_mib); WAMR's per-function call counts over the bulk phase (results/wamr-profile.txt).
//   - wamrMemoryStep: bench/c/wamr_mem.c, the pool peak and linear memory of every image under each
//     interpreter, built for x86-64 and for 32-bit x86 (memory.wamr.<interp>.<arch>.<image>.*).
// The programs are built by bench/c/Makefile (WAMR itself by boards/common/wamr.mk).
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BENCH_BUILD, BUILD, MiB, ROOT, firstLine, median, round, runCmd, type Bench } from "./lib.ts";
import { allImages } from "./size.ts";
import { parseCallgrind, prettyName, runTwin, type FnCost, type TwinResult } from "./native.ts";

const C_DIR = path.join(ROOT, "bench", "c");
export const WAMR_BIN = path.join(BENCH_BUILD, "wamr");
export const INTERPS = ["fast", "classic"] as const;
export const ARCHES = ["x86_64", "x86_32"] as const;
export type Interp = (typeof INTERPS)[number];
export type Arch = (typeof ARCHES)[number];

/** The twin's runs per interpreter: the core summing itself, and with phy.checksum
 *  (WASMIP_OFFLOAD_SUM), as the WAMR boards run it (wasmip_board_set_offload). */
export const CPU_RUNS = INTERPS.flatMap((interp) => [
  { key: interp as string, interp, offload: 0 },
  { key: `${interp}_sum`, interp, offload: 1 },
]);
export type CpuRun = (typeof CPU_RUNS)[number];

/** The ids of the budget lines and the table. */
export const wamrCpuId = (key: string, what: "core_instr_per_byte" | "process_instr_per_byte" | "ms_per_mib") => `cpu.wamr_${key}.${what}`;
export const wamrMemId = (interp: Interp, arch: Arch, image: string, what: "pool_peak_bytes" | "footprint_bytes") => `memory.wamr.${interp}.${arch}.${image}.${what}`;

/** Images a board would run, as `make build` makes them: the bare core, every app, every example. */
export function wamrImages(): [string, string][] {
  return [["core", "wasmip.wasm"], ...allImages().map((a): [string, string] => [a, `${a}.wasm`])].map(([n, f]) => [n, path.join(BUILD, f)]);
}

/** WAMR's wasm stack per instance: the ESP32 board's default (CONFIG_WASMIP_WAMR_STACK_KB = 8). */
const STACK = 8192;

async function make(b: Bench, targets: string[]): Promise<void> {
  b.log(`wamr: make -C bench/c ${targets.map((t) => path.basename(t)).join(" ")} (the first time, WAMR itself: a minute or so per variant)`);
  await runCmd("make", ["-C", C_DIR, "-j2", "--no-print-directory", ...targets], { timeoutMs: 1_800_000 });
}

function wamrVersion(b: Bench): void {
  const r = firstLine("make", ["-C", C_DIR, "-s", "--no-print-directory", "wamr-version"]);
  if (r) b.results.versions.wamr = r;
}

// ---- memory per image ------------------------------------------------------------------------

interface MemRow {
  image: string; ok: boolean; error?: string; image_bytes: number; stack_bytes: number; pool_bytes: number; pool_after_init: number;
  pool_peak: number; pool_in_use: number; pages: number; max_pages: number; linear_bytes: number; footprint_bytes: number; pointer_bits: number;
}

export async function wamrMemoryStep(b: Bench): Promise<void> {
  const images = wamrImages();
  for (const [, f] of images) if (!existsSync(f)) throw new Error(`${path.relative(ROOT, f)} not found: run make build`);
  const variants = INTERPS.flatMap((i) => ARCHES.map((a) => ({ interp: i, arch: a, bin: path.join(WAMR_BIN, `wamr-mem-${i}-${a}`) })));
  await make(b, variants.map((v) => v.bin));
  wamrVersion(b);
  const rows: Record<string, unknown>[] = [];
  for (const v of variants) {
    const args = ["--stack", String(STACK), ...images.map(([, f]) => f)];
    // This kernel runs no 32-bit programs: qemu's user-mode emulator does (allocations are the
    // program's own, whatever runs it).
    const r = v.arch === "x86_32" ? await runCmd("qemu-i386", [v.bin, ...args], { check: false }) : await runCmd(v.bin, args, { check: false });
    const out = r.stdout.trim().split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as MemRow);
    if (r.code !== 0 || out.length !== images.length || out.some((x) => !x.ok))
      throw new Error(`wamr-mem-${v.interp}-${v.arch} failed (exit ${r.code ?? r.signal}): ${r.stdout.slice(-1500)} ${r.stderr.slice(-1500)}`);
    const bits = v.arch === "x86_32" ? 32 : 64;
    if (out.some((x) => x.pointer_bits !== bits)) throw new Error(`wamr-mem-${v.interp}-${v.arch} is not a ${bits}-bit program`);
    images.forEach(([name, file], k) => {
      const x = out[k];
      const how = `WAMR ${v.interp} interpreter, ${v.arch === "x86_32" ? "32-bit x86 build (gcc -m32, WAMR_BUILD_TARGET=X86_32, run under qemu-i386)" : "x86-64 build"}, ${path.relative(ROOT, file)} (${x.image_bytes} bytes) loaded by bench/c/wamr_mem.c through boards/common/wasmip_wamr.c: runtime initialised with Alloc_With_Pool, module loaded and instantiated, exec env with a ${x.stack_bytes}-byte wasm stack, board exports looked up`;
      b.fig(wamrMemId(v.interp, v.arch, name, "pool_peak_bytes"), x.pool_peak, "bytes", `${how}; the pool's highmark (wasm_runtime_get_mem_alloc_info), allocator overhead included; the image buffer itself is not in the pool`);
      b.fig(wamrMemId(v.interp, v.arch, name, "footprint_bytes"), x.footprint_bytes, "bytes", `${how}; pool peak + linear memory (${x.linear_bytes} bytes, which WAMR takes from os_mmap / heap_caps_malloc, not the pool); a board that keeps a RAM copy of the image needs its ${x.image_bytes} bytes on top`);
      rows.push({ interp: v.interp, arch: v.arch, name, ...x, image: path.relative(ROOT, file) });
    });
  }
  b.detail("memory.wamr", rows);
}

// ---- the twin under WAMR ----------------------------------------------------------------------

interface ProfRow { fn: string; calls: number; timeMs: number; childMs: number }

/** WAMR's dump (wasm_runtime_dump_perf_profiling) per side at "start" and "end" of bulk_phase. */
function parseProfile(stdout: string): Map<string, Map<string, ProfRow>> {
  const snaps = new Map<string, Map<string, ProfRow>>();
  let cur: Map<string, ProfRow> | undefined;
  for (const line of stdout.split("\n")) {
    const mark = /^== twin profile: (\w+) (\w+)$/.exec(line);
    if (mark) {
      snaps.set(`${mark[1]} ${mark[2]}`, (cur = new Map()));
      continue;
    }
    const m = /^ {2}func (.*), execution time: ([\d.]+) ms, execution count: (\d+) times, children execution time: ([\d.]+) ms$/.exec(line);
    if (m && cur) cur.set(m[1], { fn: m[1], timeMs: Number(m[2]), calls: Number(m[3]), childMs: Number(m[4]) });
  }
  return snaps;
}

async function wamrProfile(b: Bench, bin: string, image: string, bytes: number, segments: number): Promise<void> {
  const r = await runCmd(bin, ["--bytes", String(bytes), "--image", image, "--stack", String(STACK)], { check: false, timeoutMs: 900_000 });
  const res = JSON.parse(r.stdout.trim().split("\n").pop() ?? "{}") as TwinResult;
  if (r.code !== 0 || !res.ok) throw new Error(`the profiling twin failed (exit ${r.code}): ${r.stdout.slice(-500)} ${r.stderr.slice(-1000)}`);
  // WAMR prints through its os_printf, the markers too: stderr in wamr.mk's build, else stdout.
  const snaps = parseProfile(`${r.stdout}\n${r.stderr}`);
  const rows = new Map<string, { fn: string; snd: number; rcv: number; selfMs: number }>();
  for (const side of ["snd", "rcv"] as const) {
    const a = snaps.get(`start ${side}`);
    const z = snaps.get(`end ${side}`);
    if (!a || !z) throw new Error(`the profiling twin printed no profile for ${side} (is the image's name section there, and WAMR built with WAMR_BUILD_PERF_PROFILING?)`);
    for (const [fn, e] of z) {
      const s = a.get(fn) ?? { fn, calls: 0, timeMs: 0, childMs: 0 };
      const calls = e.calls - s.calls;
      if (calls <= 0) continue;
      const row = rows.get(fn) ?? { fn, snd: 0, rcv: 0, selfMs: 0 };
      row[side] += calls;
      row.selfMs += e.timeMs - e.childMs - (s.timeMs - s.childMs);
      rows.set(fn, row);
    }
  }
  const sorted = [...rows.values()].sort((x, y) => y.snd + y.rcv - (x.snd + x.rcv));
  const total = sorted.reduce((s, x) => s + x.snd + x.rcv, 0);
  if (!total) throw new Error("the profiling twin's profile counted no call in bulk_phase");
  const lines = [
    `WAMR fast interpreter (x86-64, WAMR_BUILD_PERF_PROFILING=1, WAMR_BUILD_CUSTOM_NAME_SECTION=1): calls per wasm function during`,
    `bulk_phase() of bench/c/twin.c, ${bytes / MiB} MiB one way, ${segments} data segments; ${path.relative(ROOT, image)} (the release core with its name section).`,
    `Counts are exact (WAMR's counters at the end of bulk_phase minus at its start, per instance: snd = sender, rcv = receiver);`,
    `"self ms" is WAMR's own timing, inflated by a clock read per call: for ranking only. Host imports (phy.*) appear under their import names.`,
    `${total.toLocaleString("en-US")} calls in all, ${(total / segments).toFixed(1)} per data segment.`,
    "",
    `${"calls snd".padStart(12)} ${"calls rcv".padStart(12)} ${"per seg".padStart(8)} ${"self ms".padStart(9)}  function`,
    ...sorted.map((x) => `${x.snd.toLocaleString("en-US").padStart(12)} ${x.rcv.toLocaleString("en-US").padStart(12)} ${((x.snd + x.rcv) / segments).toFixed(2).padStart(8)} ${x.selfMs.toFixed(1).padStart(9)}  ${x.fn}`),
  ];
  writeFileSync(path.join(b.outDir, "wamr-profile.txt"), lines.join("\n") + "\n");
  b.detail("cpu.wamr_profile", { bytes, segments, totalCalls: total, top: sorted.slice(0, 25).map((x) => ({ fn: x.fn, snd: x.snd, rcv: x.rcv, perSegment: round((x.snd + x.rcv) / segments, 2) })) });
}

/**
 * The twin under WAMR, on the image the wasm2c twin ran (`image`), against that run (`ref`): the
 * transfer must be the same one (digest, byte count and data segments).
 */
export async function wamrCpuStep(b: Bench, image: string, ref: TwinResult | undefined): Promise<void> {
  const bytes = b.quick ? 1 * MiB : 16 * MiB;
  const bins = Object.fromEntries(INTERPS.map((i) => [i, path.join(WAMR_BIN, `twin-${i}-x86_64`)])) as Record<Interp, string>;
  const prof = path.join(WAMR_BIN, "twin-fast-x86_64-prof");
  await make(b, [...Object.values(bins), prof]);
  wamrVersion(b);
  const baseArgs = ["--image", image, "--stack", String(STACK)];
  const same = (r: TwinResult, what: string) => {
    if (!r.ok || r.digest !== r.expected_digest || r.received !== bytes) throw new Error(`${what}: transfer incomplete or wrong: ${JSON.stringify(r).slice(0, 400)}`);
    if (ref && (r.digest !== ref.digest || r.snd.data_segments !== ref.snd.data_segments || r.bytes !== ref.bytes))
      throw new Error(`${what} is not the wasm2c twin's transfer: ${JSON.stringify({ wamr: r.snd, wasm2c: ref.snd })}`);
  };
  const runs: Record<string, unknown> = {};
  for (const { key, interp, offload } of CPU_RUNS) {
    const bin = bins[interp];
    const label = `WAMR ${interp} interpreter${offload ? " with phy.checksum (WASMIP_OFFLOAD_SUM, the WAMR boards' default)" : ", the core summing itself"}`;
    const args = [...baseArgs, ...(offload ? ["--offload", String(offload)] : [])];
    // Time: three runs without valgrind; CPU time of bulk_phase (clock_gettime in the twin).
    b.log(`cpu.wamr: ${key}: ${interp} interpreter, ${bytes / MiB} MiB, 3 timed runs`);
    const timed: TwinResult[] = [];
    for (let k = 0; k < 3; k++) {
      const r = await runTwin(bin, bytes, [], args);
      same(r, label);
      timed.push(r);
    }
    const cpuMs = timed.map((r) => r.bulk_cpu_ns / 1e6 / (bytes / MiB));
    const wallMs = timed.map((r) => r.bulk_wall_ns / 1e6 / (bytes / MiB));

    b.log(`cpu.wamr: ${key} under valgrind --tool=callgrind`);
    const out = path.join(WAMR_BIN, `callgrind.${key}.out`);
    const cg = await runTwin(bin, bytes, ["valgrind", "--tool=callgrind", `--callgrind-out-file=${out}`, "--collect-atstart=no", "--toggle-collect=bulk_phase"], args);
    same(cg, `${label} under callgrind`);
    const { total, fns } = parseCallgrind(readFileSync(out, "utf8"));
    const all = [...fns.values()];
    const incl = (pred: (f: FnCost) => boolean) => all.filter(pred).reduce((s, f) => s + f.incl, 0);
    const digest = incl((f) => f.name === "app_digest");
    const fill = incl((f) => f.name === "app_fill");
    const wire = incl((f) => f.name === "wire_tx_snd" || f.name === "wire_tx_rcv");
    // Every call into the modules (the boards' and the apps'), for comparison with the wasm2c twin's
    // definition of core (the exports' inclusive cost minus the wire).
    const calls = incl((f) => f.name === "wasm_runtime_call_wasm") - wire;
    // The classic interpreter's block-address cache misses (a rescan of the bytecode each): they
    // move with code layout, so a change is judged by the figure without them too (bench/README.md).
    const blockScan = incl((f) => f.name === "wasm_loader_find_block_addr");
    const core = total - digest - fill - wire;
    const n = cg.bytes;
    const how = `valgrind --tool=callgrind instructions (Ir) inside bulk_phase() of bench/c/twin.c built against the ${label} (WAMR ${b.results.versions.wamr ?? ""}, x86-64, software bounds checks): ${n / MiB} MiB one way between two instances of ${path.relative(ROOT, image)} (the wasm2c twin's image and transfer: same digest and segments)`;
    b.fig(wamrCpuId(key, "core_instr_per_byte"), core / n, "instructions/byte",
      `${how}; core = everything in bulk_phase except the apps' helpers (app_digest: the receiver's check, app_fill: the sender's copy of the pattern) and the wire (wire_tx_*: the copy into the other board's pool), all inclusive, divided by the payload bytes. callgrind sees WAMR's interpreter loop as one function, so this is the interpreter running both cores plus WAMR's call and native-call glue, the board code (pools, poll loop) and the harness loop (${((total - digest - fill - wire - calls) / n).toFixed(2)} instructions/byte outside wasm_runtime_call_wasm)`);
    b.fig(wamrCpuId(key, "process_instr_per_byte"), (total - digest) / n, "instructions/byte",
      `${how}; everything in bulk_phase except app_digest() (as cpu.process.instr_per_byte for wasm2c)`);
    b.fig(wamrCpuId(key, "ms_per_mib"), median(cpuMs), "CPU ms/MiB",
      `CPU time (CLOCK_PROCESS_CPUTIME_ID) of bulk_phase() of bench/c/twin.c under the ${label} (x86-64 build, this machine), per MiB of payload, median of 3 runs of ${bytes / MiB} MiB: both boards and both apps (the receiver's per-byte check included); wall ${wallMs.map((x) => x.toFixed(1)).join(", ")} ms/MiB. Noisy on a shared machine: a benchmark, never an assertion`);
    const top = all
      .filter((f) => f.name !== "app_digest")
      .sort((x, y) => y.self - x.self)
      .slice(0, 12)
      .map((f) => ({ fn: prettyName(f.name), file: path.basename(f.file), self: f.self, pct: round((100 * f.self) / (total - digest), 2) }));
    runs[key] = {
      bytes: n, totalIr: total, digestIr: digest, fillIr: fill, wireIr: wire, coreIr: core, callsIr: calls,
      callsInstrPerByte: round(calls / n, 3), blockScanIr: blockScan, blockScanInstrPerByte: round(blockScan / n, 3), segments: cg.snd.data_segments, bulkCpuMsPerMiB: cpuMs.map((x) => round(x, 2)), bulkWallMsPerMiB: wallMs.map((x) => round(x, 2)),
      pool: (cg as TwinResult & { wamr?: unknown }).wamr, topSelf: top,
    };
    copyFileSync(out, path.join(b.outDir, `callgrind-wamr-${key}.out`));
  }
  b.detail("cpu.wamr", runs);

  b.log(`cpu.wamr: per-function call counts (WAMR_BUILD_PERF_PROFILING)`);
  await wamrProfile(b, prof, image, bytes, ref?.snd.data_segments ?? (runs.fast as { segments: number }).segments);
}
