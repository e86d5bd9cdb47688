// `make bench`: wasmip's size, memory, CPU cost and throughput, next to lwIP and the Linux kernel,
// in one run. A benchmark, not a test: it asserts nothing about time. Prints progress on stderr
// and a table at the end; writes results/latest.json (machine, versions, every figure with its
// unit and how it was measured), latest.txt (the table) and the SVG plots. bench/README.md says
// how each figure is measured.
//
//   node --import tsx bench/bench.ts [--quick] [--out DIR] [--only size,memory,cpu,sim,kernel,lossy,mcu]
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Bench, ROOT, firstLine, round, type Figure } from "./lib.ts";
import { makefileApps, memoryStep, sizeStep } from "./size.ts";
import { expectedFigures, optionalFigure } from "./figures.ts";
import { cpuStep } from "./native.ts";
import { ARCHES, CPU_RUNS, INTERPS, wamrCpuId, wamrCpuStep, wamrImages, wamrMemId, wamrMemoryStep } from "./wamr.ts";
import { simStep } from "./sim.ts";
import { BOARDS, BUDGET_PAIRING, PAIRINGS, cleanupKernel, kernelStep, ratioId } from "./kernel.ts";
import { goodputPlot, tracePlot } from "./svg.ts";
import { mcuStep } from "./mcu.ts";
import { LOSSES, lossyBudget, lossyStep } from "./lossy.ts";

export const STEPS = ["size", "memory", "cpu", "sim", "kernel", "lossy", "mcu"] as const;
type Step = (typeof STEPS)[number];

function parse(argv: string[]): { quick: boolean; out: string; only: Set<Step> } {
  let quick = process.env.BENCH_QUICK === "1";
  let out = path.join(ROOT, "bench", "results");
  let only = new Set<Step>(STEPS);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--quick") quick = true;
    else if (a === "--out" && argv[i + 1]) out = path.resolve(argv[++i]);
    else if (a === "--only" && argv[i + 1]) {
      const want = argv[++i].split(",");
      for (const w of want) if (!(STEPS as readonly string[]).includes(w)) throw new Error(`unknown step ${w} (${STEPS.join(", ")})`);
      only = new Set(want as Step[]);
    } else if (a === "-h" || a === "--help") {
      console.log("usage: bench.ts [--quick] [--out DIR] [--only size,memory,cpu,sim,kernel,lossy,mcu]");
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  return { quick, out, only };
}

function pkgVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "";
  }
}

function describe(b: Bench): void {
  const cpus = os.cpus();
  b.results.machine = {
    cpu: cpus[0]?.model ?? "",
    cores: cpus.length,
    memoryGiB: round(os.totalmem() / 2 ** 30, 1),
    kernel: os.release(),
    arch: os.arch(),
    loadAverageAtStart: os.loadavg().map((x) => round(x, 2)),
  };
  const git = (args: string[]) => firstLine("git", ["-C", ROOT, ...args]);
  b.results.versions = {
    ...b.results.versions,
    wasmip: git(["rev-parse", "HEAD"]) + (git(["status", "--porcelain", "--untracked-files=no"]) ? " (uncommitted changes)" : ""),
    node: process.version,
    assemblyscript: pkgVersion("assemblyscript"),
    binaryen: pkgVersion("binaryen"),
    tsx: pkgVersion("tsx"),
    wasm2c: firstLine("wasm2c", ["--version"]),
    gcc: firstLine("gcc", ["--version"]),
  };
}

// ---- the table ---------------------------------------------------------------------------

function fmtValue(f: Figure): string {
  if (f.value === null) return "n/a";
  const v = f.value;
  const s = Number.isInteger(v) ? v.toLocaleString("en-US") : Math.abs(v) >= 100 ? v.toFixed(1) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(3);
  return s;
}

const SECTION_TITLES: Record<string, string> = {
  size: "1. Size (release .wasm)",
  memory: "2. Memory",
  cpu: "3. CPU, deterministic (callgrind, two boards in one process: wasm2c, then WAMR's interpreters)",
  sim: "4/6. Emulated PHY (Node/V8, two boards)",
  kernel: "5/6. Against the Linux kernel over TAP (and the kernel over veth)",
  lossy: "5b. Random drop (nftables) against the kernel over TAP, and Linux to Linux over veth, at wasmip's window; goodput fraction = lossy / clean",
  mcu: "7. Cortex-M3 (boards/mps2-an385 under QEMU) per runtime: flash, RAM, instructions per echoed byte (-icount)",
};

/** WAMR's memory per image: pool peak / footprint in KiB, per interpreter and build. */
function wamrMemoryTable(b: Bench): string[] {
  const v = (id: string) => b.results.figures[id]?.value ?? null;
  const images = wamrImages().map(([n]) => n).filter((n) => INTERPS.some((i) => ARCHES.some((a) => v(wamrMemId(i, a, n, "footprint_bytes")) !== null)));
  if (!images.length) return [];
  const cols = ARCHES.slice().reverse().flatMap((a) => INTERPS.map((i) => ({ i, a })));
  const kib = (x: number | null) => (x === null ? "n/a" : (x / 1024).toFixed(1));
  const rows = (b.results.details["memory.wamr"] as { name: string; linear_bytes: number }[] | undefined) ?? [];
  const lines = [
    "",
    "  WAMR per image, KiB: pool peak / footprint (= pool peak + linear memory); x86_32 = gcc -m32, WAMR's X86_32 target (nearest to",
    "  an ESP32: what its board is sized from); ids memory.wamr.<interp>.<arch>.<image>.pool_peak_bytes / .footprint_bytes",
    `  ${"image".padEnd(10)} ${"linear".padStart(7)}  ${cols.map((c) => `${c.i} ${c.a}`.padEnd(17)).join(" ")}`,
  ];
  for (const n of images) {
    const lin = rows.find((r) => r.name === n)?.linear_bytes ?? null;
    const cells = cols.map((c) => `${kib(v(wamrMemId(c.i, c.a, n, "pool_peak_bytes")))} / ${kib(v(wamrMemId(c.i, c.a, n, "footprint_bytes")))}`.padEnd(17));
    lines.push(`  ${n.padEnd(10)} ${kib(lin).padStart(7)}  ${cells.join(" ")}`);
  }
  return lines;
}

/** The twin's transfer under each runtime, side by side. */
function runtimeTable(b: Bench): string[] {
  const v = (id: string) => b.results.figures[id]?.value ?? null;
  const list = [
    { name: "wasm2c (gcc -O2)", core: v("cpu.core.instr_per_byte"), process: v("cpu.process.instr_per_byte"), ms: v("cpu.wasm2c.ms_per_mib") },
    ...CPU_RUNS.map((r) => ({ name: `WAMR ${r.interp} interpreter${r.offload ? ", phy.checksum" : ""}`, core: v(wamrCpuId(r.key, "core_instr_per_byte")), process: v(wamrCpuId(r.key, "process_instr_per_byte")), ms: v(wamrCpuId(r.key, "ms_per_mib")) })),
  ];
  if (list.slice(1).every((r) => r.core === null)) return [];
  const f = (x: number | null, d = 2) => (x === null ? "n/a" : x.toFixed(d));
  const base = list[0].core;
  const bytes = (b.results.details["cpu.callgrind"] as { bytes?: number } | undefined)?.bytes;
  return [
    "",
    `  The same twin transfer${bytes ? ` (${bytes / 2 ** 20} MiB)` : ""} per runtime, x86-64: instructions per payload byte (callgrind; core and process as defined in bench/README.md), CPU ms per MiB of bulk_phase (median of 3)`,
    `  ${"runtime".padEnd(26)} ${"core".padStart(8)} ${"process".padStart(8)} ${"CPU ms/MiB".padStart(11)} ${"core/wasm2c".padStart(12)}`,
    ...list.map((r) => `  ${r.name.padEnd(26)} ${f(r.core).padStart(8)} ${f(r.process).padStart(8)} ${f(r.ms).padStart(11)} ${(r.core === null || !base ? "n/a" : `${(r.core / base).toFixed(1)}x`).padStart(12)}`),
  ];
}

interface Budget {
  budget: string;
  value: string;
  met: boolean | null;
  /** Which issue set it: "6" (the default), "wamr" (the follow-up issue on the WAMR boards), "ipv6" (issue 16) or "loss" (issue 18). */
  issue?: string;
}

export function table(b: Bench): string {
  const lines: string[] = [];
  const figs = Object.entries(b.results.figures);
  for (const sec of Object.keys(SECTION_TITLES)) {
    // WAMR's memory per image is a matrix of its own below (72 ids).
    const rows = figs.filter(([id]) => id.split(".")[0] === sec && !id.startsWith("memory.wamr."));
    if (!rows.length) continue;
    lines.push("", SECTION_TITLES[sec]);
    const w = Math.max(...rows.map(([id]) => id.length));
    for (const [id, f] of rows)
      lines.push(f.value === null ? `  ${id.padEnd(w)}  ${"n/a".padStart(14)}  ${f.note ?? ""}` : `  ${id.padEnd(w)}  ${fmtValue(f).padStart(14)}  ${f.unit}`);
    if (sec === "memory") lines.push(...wamrMemoryTable(b));
    if (sec === "cpu") lines.push(...runtimeTable(b));
  }
  const cg = b.results.details["cpu.callgrind"] as { topSelf?: { fn: string; file: string; self: number; pct: number }[]; segments?: { data: number } } | undefined;
  if (cg?.topSelf) {
    lines.push("", "Top functions by own instructions in bulk_phase, % of all but app_digest (callgrind; snd.c = sender, rcv.c = receiver)");
    for (const t of cg.topSelf.slice(0, 15)) lines.push(`  ${String(t.pct).padStart(6)}%  ${t.self.toLocaleString("en-US").padStart(13)}  ${t.file}: ${t.fn}`);
  }
  const buf = b.results.details["kernel.buffers"] as { wasmip: { snd: number; rcv: number }; lwip: { snd: number; wnd: number }; wasmipAtLwip: { snd: number; rcv: number } } | undefined;
  if (PAIRINGS.some((p) => BOARDS.some((bd) => b.results.figures[ratioId(p.board[bd], "rx", p.lwip, "throughput")]))) {
    lines.push("", "Against lwIP over TAP, same run: wasmip / lwIP (throughput, and CPU s/MiB: below 1 is cheaper); rx = kernel to stack, tx = stack to kernel");
    const bufs: Record<string, string> = buf
      ? {
          defaults: `wasmip send ${buf.wasmip.snd} / receive ${buf.wasmip.rcv} B, lwIP send ${buf.lwip.snd} / window ${buf.lwip.wnd} B`,
          lwip_buffers: `both send ${buf.wasmipAtLwip.snd} B, receive ${buf.wasmipAtLwip.rcv} B (wasmip) / window ${buf.lwip.wnd} B (lwIP)`,
          wasmip_buffers: `both send ${buf.wasmip.snd} B, receive ${buf.wasmip.rcv} B`,
        }
      : {};
    const v = (id: string) => {
      const x = b.results.figures[id]?.value;
      return (x === null || x === undefined ? "n/a" : x.toFixed(2)).padStart(6);
    };
    lines.push(`  ${"pairing".padEnd(16)} ${"board".padEnd(6)} ${"rx tput".padStart(7)} ${"tx tput".padStart(7)} ${"rx cpu".padStart(7)} ${"tx cpu".padStart(7)}  buffers`);
    for (const p of PAIRINGS)
      for (const bd of BOARDS) {
        const t = p.board[bd];
        const ids = [ratioId(t, "rx", p.lwip, "throughput"), ratioId(t, "tx", p.lwip, "throughput"), ratioId(t, "rx", p.lwip, "cpu"), ratioId(t, "tx", p.lwip, "cpu")];
        lines.push(`  ${(p.id + (p.id === BUDGET_PAIRING ? "*" : "")).padEnd(16)} ${bd.padEnd(6)}  ${ids.map(v).join("  ")}  ${bufs[p.id] ?? ""}`);
      }
    lines.push(`  (* the pairing of the budget line; ratio ids: kernel.<wasmip target>.<rx|tx>.<throughput|cpu>_vs_<lwIP target>)`);
  }
  const budgets = b.results.details.budgets as Budget[] | undefined;
  for (const [group, title] of [["6", "Issue 6 budgets (as measured here)"], ["wamr", "WAMR budgets, from the follow-up issue (as measured here)"], ["ipv6", "IPv6 budgets, issue 16 (as measured here)"], ["loss", "Loss recovery budgets, issue 18 (as measured here)"]]) {
    const mine = (budgets ?? []).filter((x) => (x.issue ?? "6") === group);
    if (!mine.length) continue;
    lines.push("", title);
    for (const x of mine) lines.push(`  ${x.met === null ? "  ?" : x.met ? " ok" : "MISS"}  ${x.budget}: ${x.value}`);
  }
  if (b.results.errors.length) {
    lines.push("", "Errors");
    for (const e of b.results.errors) lines.push(`  ${e.step}: ${e.error.split("\n")[0]}`);
  }
  return lines.join("\n") + "\n";
}

function budgets(b: Bench): void {
  const f = (id: string) => b.results.figures[id]?.value ?? null;
  const out: Budget[] = [];
  const core = f("size.core.bytes");
  out.push({ budget: "release core (Ethernet, ARP, IPv4, ICMP, UDP, TCP, DHCP, DNS) <= 32 KiB", value: core === null ? "n/a" : `${core} bytes (${(core / 1024).toFixed(1)} KiB; with exactly these features, no log, SYN cookies or loopback: ${f("size.budget_features.bytes") ?? "n/a"} bytes)`, met: core === null ? null : core <= 32768 });
  const m4 = f("memory.core_4_connections.static_bytes");
  out.push({ budget: "4 TCP connections with 4xMSS buffers + packet buffers in one 64 KiB page", value: m4 === null ? "n/a" : `${m4} bytes static with TCP_MAX_CONNECTIONS=4 (pages of build/wasmip.wasm: ${f("memory.core.pages")})`, met: m4 === null ? null : m4 <= 65536 && f("memory.core.pages") === 1 });
  const c = f("cpu.core.instr_per_byte");
  out.push({ budget: "<= 10 instructions per delivered payload byte, both ends", value: c === null ? "n/a" : `${c.toFixed(2)} (whole process without the app check: ${f("cpu.process.instr_per_byte")?.toFixed(2) ?? "n/a"})`, met: c === null ? null : c <= 10 });
  // At equal buffers, wasmip's (4 x MSS): the budget compares stacks, so their buffers must be the
  // same, and these are the sizes the issue's memory budget fixes for wasmip (and lwIP's own
  // opt.h default window, TCP_WND = 4 * TCP_MSS). The other pairings are in the table above.
  const bp = PAIRINGS.find((p) => p.id === BUDGET_PAIRING)!;
  for (const t of BOARDS) {
    for (const d of ["rx", "tx"]) {
      const r = f(ratioId(bp.board[t], d, bp.lwip, "throughput"));
      const others = PAIRINGS.filter((p) => p.id !== bp.id).map((p) => `${p.id} ${f(ratioId(p.board[t], d, p.lwip, "throughput"))?.toFixed(2) ?? "n/a"}`);
      out.push({
        budget: `throughput against the kernel >= lwIP's (pairing ${bp.id}: both at wasmip's send buffer and window): ${t} board, ${d === "rx" ? "kernel to stack" : "stack to kernel"}`,
        value: r === null ? "n/a" : `${r.toFixed(2)} x lwIP (other pairings: ${others.join(", ")})`,
        met: r === null ? null : r >= 1,
      });
    }
  }
  // The follow-up issue's, for the WAMR boards.
  const instr = (interp: "fast" | "classic", max: number) => {
    // Judged as the WAMR boards run: sums through phy.checksum (wasmip_board_set_offload).
    const x = f(wamrCpuId(`${interp}_sum`, "core_instr_per_byte"));
    const own = f(wamrCpuId(interp, "core_instr_per_byte"));
    out.push({
      issue: "wamr",
      budget: `<= ${max} instructions per delivered payload byte under WAMR's ${interp} interpreter (core, twin, x86-64, sums through phy.checksum as the WAMR boards run)`,
      value: x === null ? "n/a" : `${x.toFixed(2)} (${own?.toFixed(2) ?? "n/a"} with the core summing itself; process ${f(wamrCpuId(`${interp}_sum`, "process_instr_per_byte"))?.toFixed(2) ?? "n/a"}; wasm2c core ${c?.toFixed(2) ?? "n/a"}; ${f(wamrCpuId(`${interp}_sum`, "ms_per_mib"))?.toFixed(1) ?? "n/a"} CPU ms/MiB here)`,
      met: x === null ? null : x <= max,
    });
  };
  instr("fast", 30);
  instr("classic", 120);
  const fp = f(wamrMemId("fast", "x86_32", "http", "footprint_bytes"));
  const pp = f(wamrMemId("fast", "x86_32", "http", "pool_peak_bytes"));
  out.push({
    issue: "wamr",
    budget: "the http image's whole WAMR footprint (pool peak + linear memory), 32-bit build, fast interpreter <= 192 KiB",
    value: fp === null ? "n/a" : `${fp} bytes (${(fp / 1024).toFixed(1)} KiB: pool peak ${pp} + linear ${fp - (pp ?? 0)}; classic interpreter ${f(wamrMemId("classic", "x86_32", "http", "footprint_bytes")) ?? "n/a"} bytes)`,
    met: fp === null ? null : fp <= 192 * 1024,
  });
  // Issue 16's: what the IPv6 switch adds to the release core, and the dual-stack core's pages.
  const v6 = f("size.ipv6.added_bytes");
  out.push({
    issue: "ipv6",
    budget: "IPv6 code <= 12 KB of release .wasm (build/ipv6.wasm minus build/wasmip.wasm); the dual-stack core in <= 2 pages",
    value: v6 === null ? "n/a" : `${v6} bytes (${(v6 / 1000).toFixed(1)} KB; code section ${f("size.ipv6.added_code_bytes")}); pages ${f("memory.ipv6.pages") ?? "n/a"}`,
    met: v6 === null ? null : v6 <= 12_000 && (f("memory.ipv6.pages") ?? 99) <= 2,
  });
  // Issue 18's loss recovery: goodput against loss in the emulated PHY (mean of the seeded runs).
  for (const [l, min] of [[1, 0.9], [5, 0.5], [10, 0.25]] as const) {
    const g = f(`sim.loss${l}.goodput_fraction`);
    out.push({
      issue: "loss",
      budget: `goodput at ${l}% loss each way >= ${min} of clean (emulated PHY, default buffers, mean of the seeded runs)`,
      value: g === null ? "n/a" : `${g.toFixed(3)} (worst run ${f(`sim.loss${l}.goodput_fraction_min`)?.toFixed(3) ?? "n/a"})`,
      met: g === null ? null : g >= min,
    });
  }
  // Against real TCP: the same drop, the same window, Linux to Linux over veth next to us.
  for (const l of LOSSES) {
    const x = lossyBudget(f, l);
    out.push({ issue: "loss", budget: `goodput fraction at ${l}% drop each way >= Linux-to-Linux's (kernel over TAP vs veth, nftables, both at wasmip's window; every board, both directions)`, ...x });
  }
  b.detail("budgets", out);
}

// ---- main --------------------------------------------------------------------------------

/** The goodput curve of the run this one replaces (its latest.json), drawn next to the new one. */
function previousGoodput(file: string): { label: string; points: { loss: number; fraction: number }[] } | undefined {
  try {
    const r = JSON.parse(readFileSync(file, "utf8")) as { finished?: string; figures: Record<string, { value: number | null }> };
    const points = [{ loss: 0, fraction: 1 }];
    for (const l of [1, 5, 10]) {
      const v = r.figures[`sim.loss${l}.goodput_fraction`]?.value;
      if (typeof v !== "number") return undefined;
      points.push({ loss: l / 100, fraction: v });
    }
    return { label: `previous run (${r.finished?.slice(0, 10) ?? "undated"})`, points };
  } catch {
    return undefined;
  }
}

async function main(): Promise<number> {
  const opts = parse(process.argv.slice(2));
  const b = new Bench(opts.quick, opts.out);
  mkdirSync(opts.out, { recursive: true });
  const previous = previousGoodput(path.join(opts.out, "latest.json"));
  b.log(`wasmip bench${opts.quick ? " (quick)" : ""}: ${[...opts.only].join(", ")}; results in ${path.relative(process.cwd(), opts.out) || "."}`);
  let finished = false;
  const write = () => {
    b.results.finished = new Date().toISOString();
    b.results.seconds = Math.round((performance.now() - b.t0) / 100) / 10;
    writeFileSync(path.join(opts.out, "latest.json"), JSON.stringify(b.results, null, 2) + "\n");
  };
  // Ctrl-C, a kill or the time bound: remove namespaces and processes, keep what was measured.
  const abort = async (why: string) => {
    if (finished) return;
    finished = true;
    b.log(`stopping: ${why}; cleaning up`);
    b.results.errors.push({ step: "bench", error: why });
    await cleanupKernel().catch(() => {});
    write();
    process.exit(130);
  };
  for (const s of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(s, () => void abort(`signal ${s}`));
  const limitMin = opts.quick ? 10 : 45;
  const watchdog = setTimeout(() => void abort(`time limit of ${limitMin} min reached`), limitMin * 60_000);
  watchdog.unref();

  describe(b);
  const run = async (s: Step, fn: () => Promise<void>, name: string = s) => {
    if (opts.only.has(s)) await b.step(name, fn);
  };
  await run("size", () => sizeStep(b));
  await run("memory", () => memoryStep(b));
  await run("memory", () => wamrMemoryStep(b), "memory.wamr");
  let twin: Awaited<ReturnType<typeof cpuStep>> | undefined;
  await run("cpu", async () => {
    twin = await cpuStep(b);
  });
  // The same transfer under WAMR's interpreters, on the wasm2c twin's image (build/wasmip.wasm
  // itself if the wasm2c step failed before choosing one).
  await run("cpu", () => wamrCpuStep(b, twin?.image ?? path.join(ROOT, "build", "wasmip.wasm"), twin?.plain), "cpu.wamr");
  await run("sim", async () => {
    const { trace, traceLoss, goodput } = await simStep(b);
    const g = "goodput-vs-loss.svg";
    writeFileSync(path.join(opts.out, g), goodputPlot(goodput, `build/bench.wasm, 2 boards, 1 ms per link direction (RTT 4 ms), loss on one link both ways; mean of ${b.quick ? "3 runs of 2" : "20 runs of 16"} MiB per point`, previous));
    const tr = "cwnd-trace.svg";
    writeFileSync(path.join(opts.out, tr), tracePlot(trace, `tcp_info of the sender after every simulator event: ${(b.results.details["sim.trace"] as { bytes: number }).bytes / 1024} KiB at ${traceLoss * 100}% loss each way (seed 11)`));
    b.results.plots.push(g, tr);
  });
  await run("kernel", () => kernelStep(b));
  await run("lossy", () => lossyStep(b));
  await run("mcu", () => mcuStep(b));

  // Proof that linear memory did not grow in any run that could show it.
  const g = b.results.details;
  const sims = (g["memory.growth.sim"] as { a: number[]; b: number[] }[] | undefined) ?? [];
  const nat = g["memory.growth.native"] as { pagesBefore: number[]; pagesAfter: number[] } | undefined;
  const tap = g["memory.growth.node_tap"] as { pagesAtInit: number; pagesAtExit: number } | undefined;
  if (sims.length || nat || tap) {
    let grew = 0;
    for (const r of sims) grew += r.a[1] - r.a[0] + (r.b[1] - r.b[0]);
    if (nat) grew += nat.pagesAfter[0] - nat.pagesBefore[0] + (nat.pagesAfter[1] - nat.pagesBefore[1]);
    if (tap) grew += tap.pagesAtExit - tap.pagesAtInit;
    const where = [sims.length ? `${sims.length} emulated-PHY runs (both boards)` : "", nat ? "the native two-board run (both)" : "", tap ? "the Node boards against the kernel (default image and lwIP-buffer image)" : ""].filter(Boolean).join(", ");
    b.fig("memory.growth.pages", grew, "64 KiB pages", `linear memory size after each run minus before it, summed over ${where} (the posix board's memory is fixed by its Memory section, max = initial)`);
  }
  budgets(b);
  if (opts.only.size === STEPS.length) {
    const missing = expectedFigures(makefileApps()).filter((id) => {
      const f = b.results.figures[id];
      return !f || (f.value === null && !optionalFigure(id));
    });
    if (missing.length) b.results.errors.push({ step: "bench", error: `figures missing: ${missing.join(", ")}` });
  }
  finished = true;
  clearTimeout(watchdog);
  write();
  const t = table(b);
  writeFileSync(path.join(opts.out, "latest.txt"), t);
  process.stdout.write(t);
  b.log(`wrote ${path.join(path.relative(process.cwd(), opts.out), "latest.json")}${b.results.plots.length ? ", " + b.results.plots.join(", ") : ""} in ${b.results.seconds} s`);
  return b.results.errors.length ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(ROOT, "bench", "bench.ts")) {
  main().then(
    (code) => process.exit(code),
    async (e: Error) => {
      console.error(e.stack ?? e.message);
      await cleanupKernel().catch(() => {});
      process.exit(2);
    },
  );
}
