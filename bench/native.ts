// Figure 3 of `make bench`: CPU instructions per payload byte and per segment, counted by
// valgrind's callgrind in bench/c/twin.c (two wasm2c-compiled boards in one process, frames in
// memory, a virtual clock). See bench/README.md for exactly what is counted.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ASC_TRANSFORM, BENCH_BUILD, BUILD, MiB, ROOT, WASM_OPT, WASM_OPT_FLAGS, firstLine, median, round, runCmd, type Bench } from "./lib.ts";

const WABT_RT = "/usr/share/wabt/wasm2c";
const DIR = path.join(BENCH_BUILD, "native");
export const TWIN = path.join(DIR, "twin");

/** The module without its custom sections (names, source map URL): the code and data proper. */
function withoutCustomSections(file: string): Buffer {
  const b = readFileSync(file);
  const keep: Buffer[] = [b.subarray(0, 8)];
  let pos = 8;
  while (pos < b.length) {
    const start = pos;
    const id = b[pos++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const x = b[pos++];
      size += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) break;
    }
    pos += size;
    if (id !== 0) keep.push(b.subarray(start, pos));
  }
  return Buffer.concat(keep);
}

/** Release build of the core with its name section (for function names), checked to be the
 *  release build byte for byte once the names are stripped. */
async function namedCore(b: Bench): Promise<string> {
  mkdirSync(DIR, { recursive: true });
  const named = path.join(DIR, "core.names.wasm");
  await runCmd(path.join(ROOT, "node_modules", ".bin", "asc"), ["assembly/index.ts", "--target", "release", "--debug", ...ASC_TRANSFORM, "-o", named, "--textFile", path.join(DIR, "core.names.wat")], { cwd: ROOT });
  await runCmd(WASM_OPT, [named, ...WASM_OPT_FLAGS, "-g", "-o", named]); // -g: keep the names
  const same = Buffer.compare(withoutCustomSections(named), withoutCustomSections(path.join(BUILD, "wasmip.wasm"))) === 0;
  b.detail("cpu.image", { named: path.relative(ROOT, named), sameCodeAndDataAsRelease: same });
  if (same) return named;
  // Never profile other code than the release build: fall back to it, without function names.
  b.log("cpu: the --debug build's code differs from build/wasmip.wasm: profiling build/wasmip.wasm itself (no function names)");
  return path.join(BUILD, "wasmip.wasm");
}

/** Build bench/c/twin.c against a core image (wasm2c twice: modules snd and rcv); returns the
 *  program and the image it runs. */
export async function buildTwin(b: Bench, wasm?: string): Promise<{ bin: string; image: string }> {
  const image = wasm ?? (await namedCore(b));
  mkdirSync(DIR, { recursive: true });
  await Promise.all(["snd", "rcv"].map((m) => runCmd("wasm2c", [image, "-n", m, "-o", path.join(DIR, `${m}.c`)])));
  const cflags = ["-O2", "-g", "-std=gnu11"];
  await Promise.all(
    ["snd", "rcv"].map((m) => runCmd("gcc", [...cflags, "-w", `-I${DIR}`, `-I${WABT_RT}`, "-c", path.join(DIR, `${m}.c`), "-o", path.join(DIR, `${m}.o`)], { timeoutMs: 600_000 })),
  );
  await runCmd("gcc", [
    ...cflags, "-Wall", "-Wextra", "-Wno-unused-parameter", "-DWASMIP_RXQ_SLOTS=64u",
    `-I${path.join(ROOT, "boards", "include")}`, `-I${path.join(ROOT, "boards", "common")}`, `-I${DIR}`, `-I${WABT_RT}`,
    "-o", TWIN, path.join(ROOT, "bench", "c", "twin.c"), path.join(ROOT, "boards", "common", "wasmip_board.c"),
    path.join(DIR, "snd.o"), path.join(DIR, "rcv.o"), path.join(WABT_RT, "wasm-rt-impl.c"), "-lm",
  ]);
  return { bin: TWIN, image };
}

export interface TwinSide {
  frames: number; tcp: number; data_segments: number; full_segments: number; pure_acks: number; payload: number;
  pages: number; polls: number; rx_pool_full: number; counters: Record<string, number>;
}
export interface TwinResult {
  ok: boolean; bytes: number; sent: number; received: number; mismatches: number; digest: string; expected_digest: string;
  mss: number; bulk_virtual_ms: number; memory_used: number; pages_before: number[]; pages_after: number[];
  runtime: string; bulk_cpu_ns: number; bulk_wall_ns: number;
  snd: TwinSide; rcv: TwinSide; trap?: number | string;
}

/** Run a twin (under `wrap`, e.g. valgrind) for `bytes`; `extra`: more arguments (the WAMR twin's --image). */
export async function runTwin(bin: string, bytes: number, wrap: string[] = [], extra: string[] = []): Promise<TwinResult> {
  const own = [bin, "--bytes", String(bytes), ...extra];
  const cmd = wrap.length ? wrap[0] : bin;
  const args = wrap.length ? [...wrap.slice(1), ...own] : own.slice(1);
  const r = await runCmd(cmd, args, { check: false, timeoutMs: 900_000 });
  const line = r.stdout.trim().split("\n").pop() ?? "";
  let res: TwinResult;
  try {
    res = JSON.parse(line) as TwinResult;
  } catch {
    throw new Error(`twin printed no result (exit ${r.code ?? r.signal}): ${r.stdout.slice(-500)} ${r.stderr.slice(-2000)}`);
  }
  if (r.code !== 0 || !res.ok) throw new Error(`twin failed (exit ${r.code}): ${line}\n${r.stderr.slice(-2000)}`);
  return res;
}

// ---- callgrind.out ---------------------------------------------------------------------------

export interface FnCost {
  file: string;
  name: string;
  self: number;
  incl: number;
}

/** Self and inclusive Ir per function (file:name) from a callgrind output file. */
export function parseCallgrind(text: string): { total: number; fns: Map<string, FnCost> } {
  const files = new Map<string, string>();
  const names = new Map<string, string>();
  const fns = new Map<string, FnCost>();
  const deref = (map: Map<string, string>, v: string): string => {
    const m = /^\((\d+)\)(?:\s+(.*))?$/.exec(v.trim());
    if (!m) return v.trim();
    if (m[2] !== undefined) map.set(m[1], m[2]);
    return map.get(m[1]) ?? `?${m[1]}`;
  };
  let fl = "";
  let cur: FnCost | undefined;
  let pendingCall = false;
  let total = 0;
  const fnOf = (file: string, name: string): FnCost => {
    const k = `${file}:${name}`;
    let f = fns.get(k);
    if (!f) fns.set(k, (f = { file, name, self: 0, incl: 0 }));
    return f;
  };
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const c = line.charCodeAt(0);
    const isCost = (c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42; // digit + - *
    if (isCost) {
      const parts = line.trim().split(/\s+/);
      const ir = parts.length > 1 ? Number(parts[1]) : 0;
      if (!cur) continue;
      if (pendingCall) {
        cur.incl += ir;
        pendingCall = false;
      } else {
        cur.self += ir;
        cur.incl += ir;
        total += ir;
      }
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) continue;
    const key = line.slice(0, eq);
    const val = line.slice(eq + 1);
    switch (key) {
      case "fl":
        fl = deref(files, val);
        break;
      case "fi":
      case "fe":
      case "cfi":
      case "cfl":
        deref(files, val); // records the name; inlined code still belongs to the current function
        break;
      case "fn":
        cur = fnOf(fl, deref(names, val));
        break;
      case "cfn":
        deref(names, val);
        break;
      case "calls":
        pendingCall = true;
        break;
      default:
        break;
    }
  }
  return { total, fns };
}

/** "w2c_assembly_sockets_tcp_input_tcpInput" -> "sockets/tcp/input: tcpInput" (best effort). */
export function prettyName(name: string): string {
  return name.replace(/^w2c_/, "").replace(/^assembly_/, "");
}

/** The wasm2c twin: figures cpu.core.*, cpu.process.*, ... Returns the image it ran and its plain
 *  run, for the WAMR twin (bench/wamr.ts), which runs the same transfer. */
export async function cpuStep(b: Bench): Promise<{ image: string; plain: TwinResult }> {
  const bytes = b.quick ? 1 * MiB : 16 * MiB;
  const { bin, image } = await buildTwin(b);
  b.log(`cpu: native run, ${bytes / MiB} MiB`);
  const plain = await runTwin(bin, bytes);
  b.detail("cpu.native_run", plain);
  const out = path.join(DIR, "callgrind.out");
  b.log(`cpu: the same under valgrind --tool=callgrind`);
  const cg = await runTwin(bin, bytes, ["valgrind", "--tool=callgrind", `--callgrind-out-file=${out}`, "--collect-atstart=no", "--toggle-collect=bulk_phase"]);
  // The callgrind run must be the same transfer (deterministic: same segments, same digest).
  if (cg.digest !== plain.digest || cg.snd.data_segments !== plain.snd.data_segments)
    throw new Error(`the callgrind run differs from the native run: ${JSON.stringify({ plain: plain.snd, cg: cg.snd })}`);
  const { total, fns } = parseCallgrind(readFileSync(out, "utf8"));
  const all = [...fns.values()];
  const incl = (pred: (f: FnCost) => boolean) => all.filter(pred).reduce((s, f) => s + f.incl, 0);
  const digest = incl((f) => f.name === "app_digest");
  const wireSnd = incl((f) => f.name === "wire_tx_snd");
  const wireRcv = incl((f) => f.name === "wire_tx_rcv");
  // The end-of-run check calls tcp_info: harness, not transfer.
  const exportsOf = (m: string) => incl((f) => f.name.startsWith(`Z_${m}Z_`) && !f.name.endsWith("_tcp_info") && !f.name.endsWith("_memory"));
  const coreSnd = exportsOf("snd") - wireSnd;
  const coreRcv = exportsOf("rcv") - wireRcv;
  const segs = cg.snd.data_segments;
  const full = cg.snd.full_segments;
  const n = cg.bytes;
  const how = `valgrind --tool=callgrind instructions (Ir) inside bulk_phase() of bench/c/twin.c: ${n / MiB} MiB one way between two wasm2c builds of build/wasmip.wasm (gcc -O2), from both ends ESTABLISHED until every byte is read and acknowledged`;
  b.fig("cpu.core.instr_per_byte", coreSnd + coreRcv ? (coreSnd + coreRcv) / n : null, "instructions/byte",
    `${how}; core = inclusive cost of the exports both boards call (input, poll, tcp_send, tcp_recv) minus the board's copy of each transmitted frame into the other board's pool (wire_tx_*), divided by the payload bytes delivered`);
  b.fig("cpu.core.tx.instr_per_segment", coreSnd / segs, "instructions/segment",
    `${how}; the sender's core cost (tcp_send, input of ACKs, poll, output) divided by the data segments it sent (${full} of ${segs} full-sized, MSS ${cg.mss})`);
  b.fig("cpu.core.rx.instr_per_segment", coreRcv / segs, "instructions/segment",
    `${how}; the receiver's core cost (input of data segments, ACKs sent, poll, tcp_recv into io_buffer) divided by the data segments it received`);
  b.fig("cpu.process.instr_per_byte", (total - digest) / n, "instructions/byte",
    `${how}; everything in bulk_phase except the receiver's pattern check and digest: the core, the board code (boards/common: frame pools, poll loop), the frame copies and the harness loop`);
  b.fig("cpu.app.instr_per_byte", digest / n, "instructions/byte", `${how}; app_digest() alone (the receiver checks every byte against the pattern and folds it into FNV-1a): not part of any other figure`);
  b.fig("cpu.wire.instr_per_byte", (wireSnd + wireRcv) / n, "instructions/byte", `${how}; wire_tx_*(): counting each frame and copying it into the other board's receive pool (the driver's part)`);
  b.fig("cpu.segments", segs, "segments", `data segments the sender transmitted during bulk_phase (${full} full-sized)`);
  // Time: the plain run and two more, without valgrind (bulk_phase's CPU time, measured by the twin).
  const timed = [plain, await runTwin(bin, bytes), await runTwin(bin, bytes)];
  const cpuMs = timed.map((r) => r.bulk_cpu_ns / 1e6 / (bytes / MiB));
  b.fig("cpu.wasm2c.ms_per_mib", median(cpuMs), "CPU ms/MiB",
    `CPU time (CLOCK_PROCESS_CPUTIME_ID) of bulk_phase() of bench/c/twin.c (the wasm2c twin, gcc -O2, this machine), per MiB of payload, median of 3 runs of ${bytes / MiB} MiB: both boards and both apps (the receiver's per-byte check included: cpu.app.instr_per_byte); wall ${timed.map((r) => (r.bulk_wall_ns / 1e6 / (bytes / MiB)).toFixed(2)).join(", ")} ms/MiB. Noisy on a shared machine: a benchmark, never an assertion`);
  const bySide = (file: string) =>
    all
      .filter((f) => f.file.endsWith(file))
      .sort((x, y) => y.self - x.self)
      .slice(0, 12)
      .map((f) => ({ fn: prettyName(f.name), self: f.self, selfPerSegment: round(f.self / segs, 1), inclusive: f.incl }));
  const top = all
    .filter((f) => f.name !== "app_digest")
    .sort((x, y) => y.self - x.self)
    .slice(0, 20)
    .map((f) => ({ fn: prettyName(f.name), file: path.basename(f.file), self: f.self, pct: round((100 * f.self) / (total - digest), 2) }));
  b.detail("cpu.callgrind", {
    bytes: n, totalIr: total, digestIr: digest, wireIr: { snd: wireSnd, rcv: wireRcv }, coreIr: { snd: coreSnd, rcv: coreRcv },
    otherIr: total - digest - wireSnd - wireRcv - coreSnd - coreRcv, segments: { data: segs, full, acks: cg.rcv.pure_acks },
    counters: { snd: cg.snd.counters, rcv: cg.rcv.counters }, bulkVirtualMs: cg.bulk_virtual_ms,
    topSelf: top, topSender: bySide("snd.c"), topReceiver: bySide("rcv.c"),
  });
  // Keep the profile and callgrind_annotate's view of it next to the results.
  mkdirSync(b.outDir, { recursive: true });
  copyFileSync(out, path.join(b.outDir, "callgrind.out"));
  const ann = await runCmd("callgrind_annotate", ["--inclusive=no", "--auto=no", out], { check: false });
  writeFileSync(path.join(b.outDir, "callgrind-annotate.txt"), ann.stdout);
  const annIncl = await runCmd("callgrind_annotate", ["--inclusive=yes", "--auto=no", out], { check: false });
  writeFileSync(path.join(b.outDir, "callgrind-annotate-inclusive.txt"), annIncl.stdout);
  b.results.versions.valgrind = firstLine("valgrind", ["--version"]);
  b.detail("memory.growth.native", { pagesBefore: cg.pages_before, pagesAfter: cg.pages_after });
  return { image, plain };
}
