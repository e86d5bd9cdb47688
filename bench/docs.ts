// Writes the figures the documentation quotes from one committed `make bench` run, so none is typed
// by hand: docs/benchmarks.md's tables, the size line of README.md and the memory line of
// docs/architecture.md. Only the text between each block's BEGIN/END markers changes.
//
//   node --import tsx bench/docs.ts [results.json] [--check]
//   make figures           (make figures-check: exit 1 when a committed file differs)
//
// The run is RESULTS below (the newest run committed under bench/results/); after committing a new
// run, point RESULTS at it and `make figures`. tests/host/docs.test.ts checks the committed files.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const RESULTS = "bench/results/interp/latest.json";

interface Figure {
  value: number | null;
  unit: string;
  how?: string;
}
interface Results {
  started?: string;
  quick?: boolean;
  versions?: Record<string, string>;
  machine?: { cpu?: string; cores?: number; loadAverageAtStart?: number[] };
  figures: Record<string, Figure>;
}

/** One generated block: the file it lives in and its text for a given run. */
export interface Block {
  file: string;
  name: string;
  render: (r: Results, source: string) => string;
}

const int = (v: number) => Math.round(v).toLocaleString("en-US");
/** Three significant digits, thousands separated. */
const sig = (v: number) => (Math.abs(v) >= 100 ? int(v) : Number(v.toPrecision(3)).toLocaleString("en-US", { maximumFractionDigits: 6 }));

function reader(r: Results) {
  return (id: string, fmt: (v: number) => string = int): string => {
    const v = r.figures[id]?.value;
    return typeof v === "number" ? fmt(v) : "n/a";
  };
}

/** "`make bench` of DATE at COMMIT": which run a quoted figure comes from. */
function when(r: Results): string {
  const commit = r.versions?.wasmip ? ` at ${r.versions.wasmip.slice(0, 7)}` : "";
  return `\`make bench\` of ${(r.started ?? "an unknown date").slice(0, 10)}${commit}`;
}

function provenance(r: Results, source: string): string {
  const commit = r.versions?.wasmip ? ` at commit ${r.versions.wasmip.slice(0, 12)}` : "";
  const m = r.machine;
  const machine = m ? `; ${m.cpu ?? "a CPU"}, ${m.cores ?? "?"} cores, load average ${m.loadAverageAtStart?.[0] ?? "?"} at the start` : "";
  return `From \`${source}\`: \`make bench\`${r.quick ? " (quick)" : ""} of ${(r.started ?? "an unknown date").slice(0, 10)}${commit}${machine}.`;
}

/** The images the bench sized, in its order: the bare core, then each app. */
function images(r: Results): { key: string; file: string }[] {
  const apps = Object.keys(r.figures)
    .map((id) => /^size\.app\.(.+)\.bytes$/.exec(id)?.[1])
    .filter((a): a is string => !!a);
  return [{ key: "core", file: "wasmip.wasm" }, ...apps.map((a) => ({ key: a, file: `${a}.wasm` }))];
}

function tables(r: Results, source: string): string {
  const f = reader(r);
  const out: string[] = [provenance(r, source), ""];
  out.push("### Size and memory", "", "| image | `.wasm` bytes | linear memory (64 KiB pages) | static bytes (`memory_used()`) |", "|---|---:|---:|---:|");
  for (const img of images(r)) {
    const size = img.key === "core" ? "size.core.bytes" : `size.app.${img.key}.bytes`;
    out.push(`| \`build/${img.file}\` | ${f(size)} | ${f(`memory.${img.key}.pages`)} | ${f(`memory.${img.key}.static_bytes`)} |`);
  }
  out.push(
    "",
    `The core with TCP only (no UDP, DHCP, DNS): ${f("size.tcp_only.bytes")} bytes. ` +
      `Code section ${f("size.core.code_bytes")} bytes, data ${f("size.core.data_bytes")}. ` +
      `One TCP connection (block, rings and assembler): ${f("memory.tcp_connection.bytes")} bytes; a block alone ${f("memory.tcp_block.bytes")}; ` +
      `send and receive rings ${f("memory.tcp_snd_buf.bytes")} and ${f("memory.tcp_rcv_buf.bytes")} bytes. ` +
      `Linear memory grown during every run: ${f("memory.growth.pages")} pages.`,
    "",
    "What each feature costs (the core built with and without it):",
    "",
    "| feature | bytes |",
    "|---|---:|",
  );
  for (const id of Object.keys(r.figures)) {
    const m = /^size\.feature\.(.+)\.bytes$/.exec(id);
    if (m && typeof r.figures[id].value === "number") out.push(`| ${m[1]} | ${f(id)} |`);
  }
  out.push(
    "",
    "### CPU per byte (16 MiB between two boards in one process, callgrind, x86-64)",
    "",
    "| runtime | core instructions / byte | process instructions / byte | CPU ms / MiB |",
    "|---|---:|---:|---:|",
    `| wasm2c, gcc -O2 | ${f("cpu.core.instr_per_byte", sig)} | ${f("cpu.process.instr_per_byte", sig)} | ${f("cpu.wasm2c.ms_per_mib", sig)} |`,
  );
  for (const [i, label] of [["fast", "WAMR fast interpreter"], ["classic", "WAMR classic interpreter"]])
    out.push(`| ${label} | ${f(`cpu.wamr_${i}.core_instr_per_byte`, sig)} | ${f(`cpu.wamr_${i}.process_instr_per_byte`, sig)} | ${f(`cpu.wamr_${i}.ms_per_mib`, sig)} |`);
  out.push(
    "",
    `Per data segment (wasm2c): ${f("cpu.core.tx.instr_per_segment", int)} instructions to send, ${f("cpu.core.rx.instr_per_segment", int)} to receive.`,
    "",
    "### The emulated PHY (two Node boards, virtual time)",
    "",
    "| link | goodput, fraction of clean | Mbit/s of virtual time | Mbit/s of wall time |",
    "|---|---:|---:|---:|",
    `| clean | 1 | ${f("sim.clean.mbit_virtual", sig)} | ${f("sim.clean.mbit_wall", sig)} |`,
  );
  for (const l of [1, 5, 10])
    out.push(`| ${l} % loss | ${f(`sim.loss${l}.goodput_fraction`, sig)} | ${f(`sim.loss${l}.mbit_virtual`, sig)} | ${f(`sim.loss${l}.mbit_wall`, sig)} |`);
  out.push(
    "",
    `1-byte round trip: ${f("sim.rr.us_wall", sig)} µs of wall time; ${f("sim.cps.per_s_wall", int)} connections per second.`,
    "",
    "### Against the Linux kernel over TAP (64 MiB each way)",
    "",
    "The kernel sends to the stack (receives) and the stack to the kernel (sends); CPU is the stack's process ([bench/README.md](../bench/README.md) says how each is measured).",
    "",
    "| stack, the kernel's peer | receives, Mbit/s | sends, Mbit/s | CPU s/MiB receiving | CPU s/MiB sending | 1-byte round trip, µs | connections/s |",
    "|---|---:|---:|---:|---:|---:|---:|",
  );
  const targets: [string, string][] = [
    ["node", "Node board"],
    ["posix", "posix board (wasm2c)"],
    ["lwip", "lwIP 2.1.3"],
    ["node_lwipbuf", "Node board, lwIP's buffers"],
    ["posix_lwipbuf", "posix board, lwIP's buffers"],
    ["lwip_wasmipbuf", "lwIP, wasmip's buffers"],
    ["veth", "the kernel itself, over veth"],
  ];
  for (const [t, label] of targets)
    out.push(
      `| ${label} | ${f(`kernel.${t}.rx.mbit`, sig)} | ${f(`kernel.${t}.tx.mbit`, sig)} | ${f(`kernel.${t}.rx.cpu_s_per_mib`, sig)} | ` +
        `${f(`kernel.${t}.tx.cpu_s_per_mib`, sig)} | ${f(`kernel.${t}.rr_us`, sig)} | ${f(`kernel.${t}.cps`, int)} |`,
    );
  const dir = path.dirname(source);
  out.push(
    "",
    `Plots of the same run: [goodput against loss](../${dir}/goodput-vs-loss.svg), [congestion window and sequence numbers of one lossy transfer](../${dir}/cwnd-trace.svg).`,
  );
  return out.join("\n");
}

export const BLOCKS: Block[] = [
  { file: "docs/benchmarks.md", name: "tables", render: tables },
  {
    file: "README.md",
    name: "size",
    render: (r) => {
      const f = reader(r);
      return (
        `The bare core is ${f("size.core.bytes")} bytes of \`.wasm\`; with ${f("memory.tcp_max_connections")} TCP connections ` +
        `it uses ${f("memory.core_4_connections.static_bytes")} bytes of its ${f("memory.core.pages")} × 64 KiB of linear memory ` +
        `(${when(r)}, [docs/benchmarks.md](docs/benchmarks.md)).`
      );
    },
  },
  {
    file: "docs/architecture.md",
    name: "memory",
    render: (r) => {
      const f = reader(r);
      return (
        `${f("memory.tcp_max_connections")} × ${f("memory.tcp_connection.bytes")} bytes of connection buffers (rings, bookkeeping and ` +
        `assembler), ${f("memory.tcp_max_sockets")} connection blocks of ${f("memory.tcp_block.bytes")} bytes (a listener or a socket ` +
        `not yet connected costs only a block): ${f("memory.core_4_connections.static_bytes")} bytes of static data in all ` +
        `(${when(r)}).`
      );
    },
  },
];

const begin = (b: Block) => `<!-- BEGIN generated ${b.name} (make figures, from bench/results; do not edit by hand) -->`;
const end = (b: Block) => `<!-- END generated ${b.name} -->`;

/** The file's text with the block's content replaced; throws when its markers are missing. */
export function fill(text: string, b: Block, content: string): string {
  const i = text.indexOf(begin(b));
  const j = text.indexOf(end(b));
  if (i < 0 || j < i) throw new Error(`${b.file}: no "${begin(b)}" ... "${end(b)}" markers`);
  return text.slice(0, i + begin(b).length) + "\n" + content + "\n" + text.slice(j);
}

export function loadResults(source = RESULTS): Results {
  return JSON.parse(readFileSync(path.join(ROOT, source), "utf8")) as Results;
}

/** Each block's file as the generator writes it for the run at `source`: [file, current, expected]. */
export function generate(source = RESULTS): [string, string, string][] {
  const r = loadResults(source);
  const files = new Map<string, [string, string]>();
  for (const b of BLOCKS) {
    const cur = files.get(b.file)?.[1] ?? readFileSync(path.join(ROOT, b.file), "utf8");
    const before = files.get(b.file)?.[0] ?? cur;
    files.set(b.file, [before, fill(cur, b, b.render(r, source))]);
  }
  return [...files].map(([file, [before, after]]) => [file, before, after]);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const check = args.includes("--check");
  const source = args.find((a) => !a.startsWith("--")) ?? RESULTS;
  let stale = 0;
  for (const [file, before, after] of generate(source)) {
    if (before === after) continue;
    if (check) {
      stale++;
      console.error(`${file}: its generated figures differ from ${source} (run make figures)`);
    } else {
      writeFileSync(path.join(ROOT, file), after);
      console.log(`wrote ${file}`);
    }
  }
  process.exitCode = stale ? 1 : 0;
}
