#!/usr/bin/env node
// Writes every figure of boards/esp32/README.md's memory table, and the WAMR pool defaults of
// main/Kconfig.projbuild, from a `make bench` result (bench/results/latest.json), so none is typed
// by hand. Only the text between the BEGIN/END markers changes.
//
//   node boards/esp32/gen-figures.mjs [latest.json] [--check]
//   make -C boards/esp32 figures            (figures-check: exit 1 if either file is stale)
//
// Figure ids read (a missing one shows as "n/a" in the table and leaves its Kconfig line alone):
//   size.core.bytes, size.app.<app>.bytes                     .wasm sizes (the apps: every size.app.*)
//   memory.core.pages, memory.<app>.pages                     linear memory, 64 KiB pages
//   memory.core.static_bytes, memory.<app>.static_bytes       memory_used()
//   memory.wamr.<interp>.x86_32.<image>.pool_peak_bytes       WAMR pool peak, interp fast|classic, 32-bit
//   memory.wamr.<interp>.x86_32.<image>.footprint_bytes       pool peak + linear memory, same build
// The bench loads the image from a buffer outside the pool; this board copies it into the pool
// (WAMR may patch it), so the board's pool is the peak plus the image's bytes, and the Kconfig
// default is that for http plus POOL_MARGIN.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const README = path.join(here, "README.md");
const KCONFIG = path.join(here, "main/Kconfig.projbuild");
/** The pool default is the http image's measured peak plus this fraction, rounded up to a KiB. */
const POOL_MARGIN = 0.1;
/** The image the pool is sized for: the largest app of the repository. */
const POOL_IMAGE = "http";
const MODES = ["fast", "classic"];

const args = process.argv.slice(2);
const check = args.includes("--check");
const input = path.resolve(args.find((a) => !a.startsWith("--")) ?? path.join(root, "bench/results/latest.json"));

let results;
try {
  results = JSON.parse(readFileSync(input, "utf8"));
} catch (e) {
  console.error(`gen-figures: cannot read ${path.relative(process.cwd(), input)} (${e.code ?? e.message}): run \`make bench\` at the top first`);
  process.exit(2);
}
const figures = results.figures ?? {};
const read = new Set();
const missing = new Set();

/** The figure's value, or null (recorded as missing) when latest.json has none. */
function fig(id) {
  const f = figures[id];
  if (f && typeof f.value === "number") {
    read.add(id);
    return f.value;
  }
  missing.add(id);
  return null;
}
const how = (id) => figures[id]?.how;
const n = (v) => (v === null ? "n/a" : v.toLocaleString("en-US"));
const kib = (v) => (v === null ? "n/a" : `${n(v)} (${(v / 1024).toFixed(1)} KiB)`);
const wamrId = (mode, image, what) => `memory.wamr.${mode}.x86_32.${image}.${what}`;
/** ceil((peak + the image's bytes) x (1 + margin)) in KiB: the pool this board needs, with margin. */
const poolKiB = (peak, image) => Math.ceil(((peak + image) * (1 + POOL_MARGIN)) / 1024);

// The images: the bare core, then every app the bench sized, in its order.
const apps = Object.keys(figures)
  .map((id) => /^size\.app\.(.+)\.bytes$/.exec(id)?.[1])
  .filter(Boolean);
const wamrOnly = [
  ...new Set(
    Object.keys(figures)
      .map((id) => /^memory\.wamr\.[^.]+\.x86_32\.(.+)\.(?:pool_peak|footprint)_bytes$/.exec(id)?.[1])
      .filter((n) => n && n !== "core" && !apps.includes(n)),
  ),
];
const images = [{ key: "core", file: "wasmip.wasm", label: "core alone" }, ...[...apps, ...wamrOnly].map((a) => ({ key: a, file: `${a}.wasm`, label: a }))];
const sizeId = (key) => (key === "core" ? "size.core.bytes" : `size.app.${key}.bytes`);

const lines = [];
const started = results.started ? results.started.slice(0, 10) : "an unknown date";
const commit = results.versions?.wasmip ? ` at ${String(results.versions.wasmip).replace(/^([0-9a-f]{12})[0-9a-f]*/, "$1")}` : "";
lines.push(`From \`${path.relative(root, input)}\`: \`make bench\`${results.quick ? " (quick)" : ""} of ${started}${commit}.`, "");
lines.push(
  "| image | `.wasm` (bytes) | linear memory: pages × 64 KiB (bytes), from the IDF heap | `memory_used()` (bytes) |",
  "|---|---:|---:|---:|",
);
const linear = {};
for (const img of images) {
  if (wamrOnly.includes(img.key)) continue; /* no size/memory figures of its own in the bench */
  const size = fig(sizeId(img.key));
  const pages = fig(`memory.${img.key}.pages`);
  const stat = fig(`memory.${img.key}.static_bytes`);
  linear[img.key] = pages === null ? null : pages * 65536;
  lines.push(`| ${img.label}: \`build/${img.file}\` | ${n(size)} | ${pages === null ? "n/a" : `${pages} (${n(pages * 65536)})`} | ${n(stat)} |`);
}
lines.push(
  "",
  "Under WAMR, 32-bit build. The bench's pool peak excludes the image, which this board copies into the pool (WAMR's loader may patch it); linear memory is not in the pool but one block from the IDF heap:",
  "",
  "| image | interpreter | pool peak, bench (bytes) | + the image = this board's pool (bytes) | linear memory (bytes) | pool + linear memory |",
  "|---|---|---:|---:|---:|---:|",
);
let wamrRows = 0;
for (const img of images)
  for (const mode of MODES) {
    const peak = fig(wamrId(mode, img.key, "pool_peak_bytes"));
    const foot = fig(wamrId(mode, img.key, "footprint_bytes"));
    if (peak === null && foot === null) continue;
    wamrRows++;
    const bytes = figures[sizeId(img.key)]?.value ?? null;
    const pool = peak === null || bytes === null ? null : peak + bytes;
    const lin = peak === null || foot === null ? null : foot - peak; /* footprint = pool peak + linear memory */
    const sum = pool === null || lin === null ? null : pool + lin;
    lines.push(`| ${img.label} | ${mode} | ${n(peak)} | ${n(pool)} | ${n(lin)} | ${kib(sum)} |`);
  }
if (!wamrRows) lines.push("| (none: this latest.json has no `memory.wamr.*.x86_32.*` figures) | | | | | |");
lines.push("");
// What the WAMR figures mean, in the bench's own words (the first image that has each).
for (const what of ["pool_peak_bytes", "footprint_bytes"])
  for (const mode of MODES) {
    const id = images.map((i) => wamrId(mode, i.key, what)).find((i) => how(i));
    if (id) lines.push(`- \`${id}\`: ${how(id)}`);
  }
const kconfigNow = readFileSync(KCONFIG, "utf8");
/** The Kconfig default in the tree now: fast = the `if WAMR_INTERP_FAST` line, else the plain one. */
const keptDefault = (mode) =>
  (mode === "fast" ? /^\s*default (\d+) if WAMR_INTERP_FAST\s*$/m : /^\s*default (\d+)\s*$/m).exec(
    kconfigNow.slice(kconfigNow.indexOf("# BEGIN generated pool defaults")),
  )?.[1] ?? "?";
/** The generated default for one interpreter: { kib, line } or null when latest.json lacks a figure. */
function poolDefault(mode) {
  const id = wamrId(mode, POOL_IMAGE, "pool_peak_bytes");
  const peak = fig(id);
  const image = fig(sizeId(POOL_IMAGE));
  if (peak === null || image === null) return null;
  const kib = poolKiB(peak, image);
  return {
    kib,
    line: `- ${mode} interpreter: (\`${id}\` ${n(peak)} + \`${sizeId(POOL_IMAGE)}\` ${n(image)}) × ${1 + POOL_MARGIN} = ${n(Math.ceil((peak + image) * (1 + POOL_MARGIN)))} bytes → \`CONFIG_WASMIP_WAMR_POOL_KB\` default **${kib}** KiB.`,
  };
}
const poolLines = MODES.map(
  (mode) =>
    poolDefault(mode)?.line ??
    `- ${mode} interpreter: no \`${wamrId(mode, POOL_IMAGE, "pool_peak_bytes")}\` (or \`${sizeId(POOL_IMAGE)}\`) in this latest.json: its Kconfig default was left as it was (${keptDefault(mode)} KiB), not generated.`,
);
lines.push("", `The pool defaults: the ${POOL_IMAGE} image's pool peak plus its own bytes (the copy), plus ${POOL_MARGIN * 100}%, rounded up to a KiB:`, "", ...poolLines);
const missingWamr = [...missing].filter((i) => i.startsWith("memory.wamr."));
const missingOther = [...missing].filter((i) => !i.startsWith("memory.wamr."));
if (missingOther.length) lines.push("", `Not in this latest.json (n/a above): ${missingOther.map((i) => `\`${i}\``).join(", ")}.`);
if (missingWamr.length && wamrRows) lines.push("", `Not in this latest.json: ${missingWamr.map((i) => `\`${i}\``).join(", ")}.`);
const table = lines.join("\n").replace(/\n{3,}/g, "\n\n");

// Kconfig: `default N if WAMR_INTERP_FAST` (fast), then the plain `default M` (classic, the other mode).
function kconfigBlock(old) {
  const kept = (re) => re.exec(old)?.[1] ?? "0";
  const f = poolDefault("fast")?.kib ?? kept(/^\s*default (\d+) if WAMR_INTERP_FAST\s*$/m);
  const c = poolDefault("classic")?.kib ?? kept(/^\s*default (\d+)\s*$/m);
  return `        default ${f} if WAMR_INTERP_FAST\n        default ${c}\n`;
}

function replaceBetween(text, begin, end, make, file) {
  const b = text.indexOf(begin);
  const e = text.indexOf(end, b + 1);
  if (b < 0 || e < 0) {
    console.error(`gen-figures: ${path.relative(root, file)} lacks the markers "${begin}" ... "${end}"`);
    process.exit(2);
  }
  const start = text.indexOf("\n", b) + 1;
  const lineStart = text.lastIndexOf("\n", e) + 1;
  return text.slice(0, start) + make(text.slice(start, lineStart)) + text.slice(lineStart);
}

let stale = 0;
for (const [file, begin, end, make] of [
  [README, "<!-- BEGIN generated figures", "<!-- END generated figures", () => `${table}\n`],
  [KCONFIG, "# BEGIN generated pool defaults", "# END generated pool defaults", kconfigBlock],
]) {
  const old = readFileSync(file, "utf8");
  const next = replaceBetween(old, begin, end, make, file);
  if (next === old) continue;
  stale++;
  if (check) console.error(`gen-figures: ${path.relative(root, file)} is stale: run \`make -C boards/esp32 figures\``);
  else writeFileSync(file, next);
}
console.error(`gen-figures: read ${read.size} figures from ${path.relative(root, input)}: ${[...read].join(", ")}`);
if (missingOther.length) console.error(`gen-figures: missing (n/a): ${missingOther.join(", ")}`);
if (missingWamr.length)
  console.error(
    wamrRows
      ? `gen-figures: missing (n/a): ${missingWamr.join(", ")}`
      : `gen-figures: no memory.wamr.<fast|classic>.x86_32.<image>.{pool_peak,footprint}_bytes in this latest.json: the WAMR table is empty and the Kconfig pool defaults were kept`,
  );
if (!check) console.error(stale ? `gen-figures: rewrote ${stale} file(s)` : "gen-figures: up to date");
process.exit(check && stale ? 1 : 0);
