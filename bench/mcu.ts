// Figure 7 of `make bench`: the Cortex-M3 board (boards/mps2-an385 under QEMU) per runtime, wasm2c
// next to WAMR's fast and classic interpreters and its XIP AOT image, in one run:
//   flash  text + rodata (the embedded .wasm or AOT image included) + data, from arm-none-eabi-size;
//   RAM    data + bss + WAMR's pool peak (module, instance, stacks and linear memory: WAMR takes
//          linear memory from the pool) or wasm2c's static linear memory + the thread stack's
//          high-water mark (painted at reset), from the board's 's' report after traffic;
//   instructions per echoed payload byte: QEMU with -icount shift=0 (one instruction per ns of
//          virtual time), the board's busy cycles (SysTick cycles outside WFI, 40 ns each at 25 MHz)
//          x 40 across two echo transfers of different sizes on one boot: the difference over the
//          difference in bytes (each byte crosses the board twice), so the fixed part of a run (the
//          connection, its timers, the console report) cancels out.
// The http and echo images; the board README's table is regenerated from these (full run only).
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ROOT, runCmd, type Bench } from "./lib.ts";
import { MPS2_DIR, MPS2_RUNTIMES, QemuSession, type Mps2Runtime, type QemuStats } from "../host/devices/qemu.ts";
import { ECHO_SHA_CLIENT } from "../host/devices/echo_client.ts";
import { netnsList } from "../host/devices/netns.ts";

export const MCU_APPS = ["http", "echo"] as const;
/** Figure id: mcu.<runtime>.<app>.<what>. */
export const mcuId = (rt: Mps2Runtime, app: string, what: string) => `mcu.${rt}.${app}.${what}`;
export const MCU_WHATS = ["flash_bytes", "ram_bytes", "image_bytes", "static_ram_bytes", "pool_peak_bytes", "linear_bytes", "stack_bytes"] as const;
/** Instructions per cycle of SysTick under -icount shift=0: 1e9 instructions/s over the 25 MHz clock. */
const INSTR_PER_CYCLE = 40;
/** What an ESP32 without PSRAM leaves for the heap (internal SRAM, less in practice: Wi-Fi, tasks). */
const ESP32_HEAP = 320 * 1024;
const BOARD = "10.213.82.2";
const PEER = "10.213.82.1";
const README = path.join(MPS2_DIR, "README.md");

function elf(app: string, rt: Mps2Runtime): string {
  return path.join(MPS2_DIR, "build", `wasmip-${app}${rt === "wasm2c" ? "" : `-${rt}`}.elf`);
}

async function sections(file: string): Promise<Record<string, number>> {
  const r = await runCmd("arm-none-eabi-size", ["-A", file]);
  const out: Record<string, number> = {};
  for (const m of r.stdout.matchAll(/^(\.\S+)\s+(\d+)\s+\d+$/gm)) out[m[1]] = Number(m[2]);
  return out;
}

type Row = { rt: Mps2Runtime; app: string; flash: number; ram: number; image: number; staticRam: number; pool: number; linear: number; stack: number };

let nsSeq = 0;
/** Boot app on rt under -icount, run traffic, return the board's report before it and after each part of it. */
async function measure(rt: Mps2Runtime, app: string, traffic: (s: QemuSession) => Promise<QemuStats[]>): Promise<{ before: QemuStats; after: QemuStats; steps: QemuStats[] }> {
  const ns = `wb${process.pid % 100000}m${nsSeq++}`; // the bench's prefix (kernel.ts), so its test sees a leftover
  const s = new QemuSession();
  try {
    await s.start({ netns: ns, boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, app, runtime: rt, icount: true });
    if (!(await s.waitReachable(10))) throw new Error(`${rt} ${app}: no answer to ping`);
    const before = await s.stats();
    const steps = await traffic(s);
    return { before, steps, after: await s.stats() };
  } finally {
    await s.stop();
    if ((await netnsList()).includes(ns)) throw new Error(`namespace ${ns} left behind`);
  }
}

export async function mcuStep(b: Bench): Promise<void> {
  const echoBytes = b.quick ? 256 * 1024 : 4 << 20;
  const smallBytes = echoBytes / 4;
  const rows: Row[] = [];
  const echoRuns: { rt: Mps2Runtime; smallBytes: number; small: number; echoBytes: number; large: number; perConnection: number }[] = [];
  for (const rt of MPS2_RUNTIMES) {
    for (const app of MCU_APPS) await runCmd("make", ["-s", "-C", MPS2_DIR, "-j2", `RUNTIME=${rt}`, `APP=${app}`]);
    for (const app of MCU_APPS) {
      const sec = await sections(elf(app, rt));
      const z = (k: string) => sec[k] ?? 0;
      const flash = z(".vectors") + z(".text") + z(".rodata") + z(".ARM.exidx") + z(".data");
      const image = rt === "wasm2c" ? 0 : await imageBytes(rt, app);
      let stats: { before: QemuStats; after: QemuStats; steps: QemuStats[] };
      if (app === "echo") {
        stats = await measure(rt, app, async (s) => {
          const out: QemuStats[] = [];
          for (const n of [smallBytes, echoBytes]) {
            const e = await s.exec("python3", ["-c", ECHO_SHA_CLIENT, BOARD, String(n)], { check: false, timeoutMs: 300_000 });
            if (e.stdout.trim() !== `${n} True`) throw new Error(`${rt} echo: ${e.stdout}${e.stderr}`);
            out.push(await s.stats());
          }
          return out;
        });
        const busy = (x: QemuStats) => (x.cpu.cycles - x.cpu.idle_cycles) * INSTR_PER_CYCLE;
        const small = busy(stats.steps[0]) - busy(stats.before);
        const large = busy(stats.steps[1]) - busy(stats.steps[0]);
        const perByte = (large - small) / (echoBytes - smallBytes);
        echoRuns.push({ rt, smallBytes, small, echoBytes, large, perConnection: Math.round(large - perByte * echoBytes) });
        b.fig(mcuId(rt, app, "instr_per_byte"), Math.round(perByte * 10) / 10, "instructions/byte",
          `QEMU -icount shift=0: the board's busy cycles (outside WFI) x ${INSTR_PER_CYCLE}; (echo of ${echoBytes} bytes - echo of ${smallBytes} bytes) / ${echoBytes - smallBytes} bytes, one boot (each byte received and sent back)`);
      } else {
        stats = await measure(rt, app, async (s) => {
          const c = await s.exec("curl", ["-s", "-m", "30", "-o", "/dev/null", "-w", "%{http_code}", `http://${BOARD}/`], { check: false, timeoutMs: 60_000 });
          if (c.stdout !== "200") throw new Error(`${rt} http: curl ${c.stdout} ${c.stderr}`);
          return [];
        });
      }
      const st = stats.after;
      const staticRam = z(".data") + z(".bss");
      const pool = st.wamr.pool_peak ?? 0;
      const linear = rt === "wasm2c" ? z(".wasm_memory") : 0; // WAMR's is inside its pool peak
      const stack = st.stack.high_water;
      const ram = staticRam + pool + linear + stack;
      rows.push({ rt, app, flash, ram, image, staticRam, pool, linear, stack });
      const how = `${path.relative(ROOT, elf(app, rt))}`;
      b.fig(mcuId(rt, app, "flash_bytes"), flash, "bytes", `${how}: .vectors + .text + .rodata + .ARM.exidx + .data (arm-none-eabi-size -A); WAMR's embedded image is in .rodata`);
      b.fig(mcuId(rt, app, "image_bytes"), image, "bytes", rt === "wasm2c" ? "wasm2c: no embedded image (the module is C in .text)" : `${path.relative(ROOT, elf(app, rt))}: the embedded ${rt === "wamr-aot" ? "XIP AOT image (wamrc)" : ".wasm"}, from its wasmip_image symbols (arm-none-eabi-nm)`);
      b.fig(mcuId(rt, app, "static_ram_bytes"), staticRam, "bytes", `${how}: .data + .bss (the 16-slot frame pool is 24.3 KB of it; WAMR's pool section is not counted, its peak is)`);
      b.fig(mcuId(rt, app, "pool_peak_bytes"), pool, "bytes", rt === "wasm2c" ? "wasm2c allocates nothing: its runtime's tables are static (.bss)" : "WAMR's pool high-water mark after the traffic ('s' on the console: wasm_runtime_get_mem_alloc_info), linear memory included");
      b.fig(mcuId(rt, app, "linear_bytes"), linear, "bytes", rt === "wasm2c" ? `${how}: .wasm_memory, the module's maximum` : "inside the pool peak (WAMR allocates linear memory from its pool)");
      b.fig(mcuId(rt, app, "stack_bytes"), stack, "bytes", "thread stack high-water mark after the traffic (painted at reset)");
      b.fig(mcuId(rt, app, "ram_bytes"), ram, "bytes", "static RAM + pool peak + linear memory + stack high-water mark");
    }
  }
  b.detail("mcu", { echoBytes, rows, echoRuns });
  if (!b.quick) writeReadmeTable(b, rows, echoBytes, smallBytes, echoRuns);
}

/** The size of the image rt embeds for app (the .wasm, or the .aot wamrc wrote). */
async function imageBytes(rt: Mps2Runtime, app: string): Promise<number> {
  const sym = await runCmd("arm-none-eabi-nm", ["-S", elf(app, rt)]);
  const a = /^([0-9a-f]+) [A-Za-z] wasmip_image$/m.exec(sym.stdout);
  const e = /^([0-9a-f]+) [A-Za-z] wasmip_image_end$/m.exec(sym.stdout);
  if (!a || !e) throw new Error(`${elf(app, rt)}: no wasmip_image symbols`);
  return parseInt(e[1], 16) - parseInt(a[1], 16);
}

/** The table between the markers of boards/mps2-an385/README.md, from this run. */
function writeReadmeTable(b: Bench, rows: Row[], echoBytes: number, smallBytes: number, echoRuns: { rt: Mps2Runtime; perConnection: number }[]): void {
  const n = (x: number) => x.toLocaleString("en-US");
  const ipb = (rt: Mps2Runtime) => b.results.figures[mcuId(rt, "echo", "instr_per_byte")]?.value;
  const lines = [
    `Measured by \`make bench\` (bench/mcu.ts) on ${new Date().toISOString().slice(0, 10)}; bytes. RAM = static (.data + .bss) + WAMR's pool peak (linear memory included) or wasm2c's linear memory + the thread stack's high-water mark; instructions per byte echoed (QEMU -icount): an echo of ${echoBytes >> 20} MiB less one of ${smallBytes >> 20} MiB on the same boot, over the difference, so the fixed part of each run (the connection, its timers, the console report that ends it: ${echoRuns.map((e) => `${e.rt} ${(e.perConnection / 1e6).toFixed(1)} M`).join(", ")} instructions here) cancels out.`,
    "",
    "| runtime | image | flash | of which the embedded image | static RAM | pool peak | linear memory | stack | = RAM | instructions / echoed byte |",
    "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ...rows.map((r) => `| ${r.rt} | ${r.app} | ${n(r.flash)} | ${r.image ? n(r.image) : "–"} | ${n(r.staticRam)} | ${r.pool ? n(r.pool) : "–"} | ${r.linear ? n(r.linear) : "(in pool)"} | ${n(r.stack)} | **${n(r.ram)}** | ${r.app === "echo" ? (ipb(r.rt) ?? "n/a") : ""} |`),
    "",
    ...rows
      .filter((r) => r.app === "http")
      .map((r) => `- http on ${r.rt}: ${n(r.ram)} bytes (${(r.ram / 1024).toFixed(0)} KiB) of RAM: ${r.ram <= ESP32_HEAP ? `fits the ~320 KiB an ESP32 without PSRAM leaves for the heap, with ${((ESP32_HEAP - r.ram) / 1024).toFixed(0)} KiB to spare before Wi-Fi and the other tasks take theirs` : `does not fit the ~320 KiB an ESP32 without PSRAM leaves for the heap`}.`),
  ];
  const text = readFileSync(README, "utf8");
  const begin = "<!-- BEGIN generated runtime figures";
  const end = "<!-- END generated runtime figures -->";
  const i = text.indexOf(begin);
  const j = text.indexOf(end);
  if (i < 0 || j < i) throw new Error(`${README}: no ${begin} ... ${end} markers`);
  const head = text.slice(0, text.indexOf("\n", i) + 1);
  writeFileSync(README, `${head}${lines.join("\n")}\n${text.slice(j)}`);
  b.log(`wrote the runtime table of ${path.relative(ROOT, README)}`);
}
