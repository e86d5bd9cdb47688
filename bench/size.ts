// Figures 1 and 2 of `make bench`: image sizes, the size of each feature (built with it left out,
// where assembly/config.ts has the switch), and the memory of each image.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ASC_TRANSFORM, BENCH_BUILD, BUILD, ROOT, WASM_OPT, WASM_OPT_FLAGS, runCmd, type Bench } from "./lib.ts";
import { configConstants, staticBytes, wasmInfo } from "./wasm.ts";

const ASC = path.join(ROOT, "node_modules", ".bin", "asc");
const CONFIG = path.join(ROOT, "assembly", "config.ts");

/**
 * Each feature: the --use flags that leave it out, and the flags of the build it is compared with
 * (UDP is measured with DHCP and DNS already out, since both need it). A feature whose flags are
 * not all in config.ts is reported as not configurable yet.
 */
export const FEATURES: { name: string; id: string; flags: string[]; baseline: string[] }[] = [
  { name: "ARP", id: "arp", flags: ["WASMIP_NO_ARP"], baseline: [] },
  { name: "IPv4", id: "ipv4", flags: ["WASMIP_NO_IPV4"], baseline: [] },
  { name: "ICMP", id: "icmp", flags: ["WASMIP_NO_ICMP"], baseline: [] },
  { name: "UDP", id: "udp", flags: ["WASMIP_NO_UDP"], baseline: ["WASMIP_NO_DHCP", "WASMIP_NO_DNS", "WASMIP_NO_SNTP"] },
  { name: "TCP", id: "tcp", flags: ["WASMIP_NO_TCP"], baseline: [] },
  { name: "DHCP", id: "dhcp", flags: ["WASMIP_NO_DHCP"], baseline: [] },
  { name: "DNS", id: "dns", flags: ["WASMIP_NO_DNS"], baseline: [] },
  { name: "SNTP", id: "sntp", flags: ["WASMIP_NO_SNTP"], baseline: [] },
  { name: "log", id: "log", flags: ["WASMIP_NO_LOG"], baseline: [] },
  { name: "SYN cookies", id: "syn_cookies", flags: ["WASMIP_NO_SYN_COOKIES"], baseline: [] },
  { name: "SACK", id: "sack", flags: ["WASMIP_NO_SACK"], baseline: [] },
  { name: "loopback", id: "loopback", flags: ["WASMIP_NO_LOOPBACK"], baseline: [] },
];
/** The core with TCP only: no UDP, DHCP, DNS or SNTP (Ethernet, ARP, IPv4, ICMP echo and TCP stay). */
export const TCP_ONLY = ["WASMIP_NO_UDP", "WASMIP_NO_DHCP", "WASMIP_NO_DNS", "WASMIP_NO_SNTP"];

/** The core with exactly the budget's features (Ethernet, ARP, IPv4, ICMP, UDP, TCP, DHCP, DNS):
 *  the extras that are not on that list (logging, SYN cookies, the loopback interface, SNTP) left out. */
export const BUDGET_ONLY = ["WASMIP_NO_LOG", "WASMIP_NO_SYN_COOKIES", "WASMIP_NO_LOOPBACK", "WASMIP_NO_SNTP"];

/** The firmware apps of the Makefile (APPS := ...). */
export function makefileApps(): string[] {
  const m = /^APPS\s*:=\s*(.*)$/m.exec(readFileSync(path.join(ROOT, "Makefile"), "utf8"));
  if (!m) throw new Error("no APPS := line in the Makefile");
  return m[1].trim().split(/\s+/);
}

/** The example apps of the Makefile (EXAMPLES := ...): images built from examples/<app>/. */
export function makefileExamples(): string[] {
  const m = /^EXAMPLES\s*:=\s*(.*)$/m.exec(readFileSync(path.join(ROOT, "Makefile"), "utf8"));
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

/** The other images `make build` writes (its build: line's build/<name>.wasm beyond the core, its
 *  debug build, APPS and EXAMPLES): mqtt, and the IPv6 ones (ipv6: the core with WASMIP_IPV6=1). */
export function makefileImages(): string[] {
  const m = /^build:(.*)$/m.exec(readFileSync(path.join(ROOT, "Makefile"), "utf8"));
  if (!m) throw new Error("no build: line in the Makefile");
  const skip = new Set(["wasmip", "wasmip.debug", ...makefileApps(), ...makefileExamples()]);
  return [...m[1].matchAll(/build\/([\w.-]+)\.wasm/g)].map((x) => x[1]).filter((n) => !skip.has(n));
}

/** Every firmware image but the core: the apps, the examples and the other images. */
export function allImages(): string[] {
  return [...makefileApps(), ...makefileExamples(), ...makefileImages()];
}

/** Flags of config.ts: every isDefined(NAME) it mentions (the switches that exist). */
export function configSwitches(): Set<string> {
  const src = readFileSync(CONFIG, "utf8");
  return new Set([...src.matchAll(/isDefined\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)/g)].map((m) => m[1]));
}

/** Build the core (or another entry) with these --use flags; returns the .wasm path. */
async function buildVariant(name: string, flags: string[], opts: { cwd?: string; entry?: string; pages?: number } = {}): Promise<string> {
  const dir = path.join(BENCH_BUILD, "size");
  mkdirSync(dir, { recursive: true });
  const out = path.join(dir, `${name}.wasm`);
  const args = [opts.entry ?? "assembly/index.ts", "--target", "release", "-o", out, "--textFile", path.join(dir, `${name}.wat`)];
  for (const f of flags) args.push("--use", `${f}=1`);
  args.push(...ASC_TRANSFORM); // as the Makefile builds
  if (opts.pages) args.push("--initialMemory", String(opts.pages), "--maximumMemory", String(opts.pages));
  await runCmd(ASC, args, { cwd: opts.cwd ?? ROOT, timeoutMs: 300_000 });
  await runCmd(WASM_OPT, [out, ...WASM_OPT_FLAGS, "-o", out]);
  return out;
}

/** Run async jobs two at a time (the machine has two cores). */
async function pool<T>(jobs: (() => Promise<T>)[], width = 2): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, jobs.length) }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]();
      }
    }),
  );
  return out;
}

export async function sizeStep(b: Bench): Promise<void> {
  const core = path.join(BUILD, "wasmip.wasm");
  const ci = wasmInfo(core);
  const how = "bytes of the release .wasm (asc --target release: -O3z --converge --noAssert, stub runtime, the ascii-literals transform; then wasm-opt -Oz --converge of the binaryen package)";
  b.fig("size.core.bytes", ci.bytes, "bytes", `${how}: build/wasmip.wasm, the bare core (every feature, no app)`);
  b.fig("size.core.code_bytes", ci.sections.code ?? 0, "bytes", "Code section of build/wasmip.wasm");
  b.fig("size.core.data_bytes", ci.sections.data ?? 0, "bytes", "Data section (static data initialisers) of build/wasmip.wasm");
  b.detail("size.core.sections", ci.sections);
  for (const app of allImages()) {
    const f = path.join(BUILD, `${app}.wasm`);
    b.fig(`size.app.${app}.bytes`, wasmInfo(f).bytes, "bytes", `${how}: build/${app}.wasm (${app === "ipv6" ? "the core with WASMIP_IPV6=1" : `core + the ${app} app`})`);
  }
  // IPv6 is off by default: what switching it on adds to the core (issue 16's budget, <= 12 KB).
  const v6 = wasmInfo(path.join(BUILD, "ipv6.wasm"));
  b.fig("size.ipv6.added_bytes", v6.bytes - ci.bytes, "bytes", "build/ipv6.wasm (the core with --use WASMIP_IPV6=1) minus build/wasmip.wasm");
  b.fig("size.ipv6.added_code_bytes", (v6.sections.code ?? 0) - (ci.sections.code ?? 0), "bytes", "Code section of build/ipv6.wasm minus that of build/wasmip.wasm");

  const have = configSwitches();
  const missing = (flags: string[]) => flags.filter((f) => !have.has(f));
  b.detail("size.switches_in_config", [...have].sort());
  // Every distinct flag set to build, once.
  const want = new Map<string, string[]>();
  const key = (flags: string[]) => (flags.length ? [...flags].sort().join("+") : "full");
  const need = (flags: string[]) => {
    if (flags.length && missing(flags).length === 0) want.set(key(flags), flags);
  };
  need(TCP_ONLY);
  need(BUDGET_ONLY);
  for (const f of FEATURES) {
    need(f.baseline);
    need([...f.baseline, ...f.flags]);
  }
  const names = [...want.keys()];
  b.log(`size: ${names.length} variant build(s)${names.length ? ": " + names.join(", ") : ""}`);
  const built = await pool(names.map((n) => () => buildVariant(n.replace(/\W+/g, "_"), want.get(n)!)));
  const sizeOf = new Map<string, number>([["full", ci.bytes]]);
  names.forEach((n, i) => sizeOf.set(n, wasmInfo(built[i]).bytes));

  const tcpMissing = missing(TCP_ONLY);
  b.fig(
    "size.tcp_only.bytes",
    tcpMissing.length ? null : sizeOf.get(key(TCP_ONLY))!,
    "bytes",
    `${how}, built with ${TCP_ONLY.map((f) => `--use ${f}=1`).join(" ")}: Ethernet, ARP, IPv4, ICMP echo and TCP`,
    tcpMissing.length ? `n/a (not configurable yet: ${tcpMissing.join(", ")} not in assembly/config.ts)` : undefined,
  );
  const budgetMissing = missing(BUDGET_ONLY);
  b.fig(
    "size.budget_features.bytes",
    budgetMissing.length ? null : sizeOf.get(key(BUDGET_ONLY))!,
    "bytes",
    `${how}, built with ${BUDGET_ONLY.map((f) => `--use ${f}=1`).join(" ")}: exactly the features of the size budget (Ethernet, ARP, IPv4, ICMP, UDP, TCP, DHCP, DNS), without logging, SYN cookies and loopback`,
    budgetMissing.length ? `n/a (not configurable yet: ${budgetMissing.join(", ")} not in assembly/config.ts)` : undefined,
  );
  for (const f of FEATURES) {
    const miss = missing([...f.baseline, ...f.flags]);
    const base = sizeOf.get(key(f.baseline));
    const without = sizeOf.get(key([...f.baseline, ...f.flags]));
    const value = miss.length || base === undefined || without === undefined ? null : base - without;
    const against = f.baseline.length ? `the core built with ${f.baseline.map((x) => `--use ${x}=1`).join(" ")}` : "the full core";
    b.fig(
      `size.feature.${f.id}.bytes`,
      value,
      "bytes",
      `${f.name}: bytes of ${against} minus the same built with ${f.flags.map((x) => `--use ${x}=1`).join(" ")} as well`,
      miss.length ? `n/a (not configurable yet: ${miss.join(", ")} not in assembly/config.ts)` : undefined,
    );
  }
}

/** A copy of assembly/ with one config.ts constant replaced, built to measure static memory. */
async function configVariant(name: string, constant: string, expr: (old: string) => string): Promise<number> {
  const dir = path.join(BENCH_BUILD, "variants", name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  cpSync(path.join(ROOT, "assembly"), path.join(dir, "assembly"), { recursive: true, filter: (s) => !s.includes("__tests__") });
  cpSync(path.join(ROOT, "asconfig.json"), path.join(dir, "asconfig.json"));
  const cfg = path.join(dir, "assembly", "config.ts");
  const src = readFileSync(cfg, "utf8");
  const re = new RegExp(`(export\\s+const\\s+${constant}\\s*(?::\\s*\\w+)?\\s*=\\s*)([^;]+);`);
  const m = re.exec(src);
  if (!m) throw new Error(`${constant} not found in assembly/config.ts`);
  writeFileSync(cfg, src.replace(re, `$1${expr(m[2])};`));
  // A generous fixed memory: only the static layout (memory_used) is of interest here.
  const out = await buildVariant(`cfg-${name}`, [], { cwd: dir, pages: 64 });
  return staticBytes(out).used;
}

export async function memoryStep(b: Bench): Promise<void> {
  const images: [string, string][] = [
    ["core", path.join(BUILD, "wasmip.wasm")],
    ...allImages().map((a): [string, string] => [a, path.join(BUILD, `${a}.wasm`)]),
  ];
  const table: Record<string, unknown>[] = [];
  for (const [name, file] of images) {
    const info = wasmInfo(file);
    const { used, pages } = staticBytes(file);
    const mem = info.memory;
    b.fig(`memory.${name}.pages`, mem?.initial ?? null, "64 KiB pages", `Memory section of ${path.relative(ROOT, file)}: initial pages (maximum ${mem?.maximum ?? "none"})`);
    b.fig(`memory.${name}.static_bytes`, used, "bytes", `memory_used() (= __heap_base: all static data and buffers) of ${path.relative(ROOT, file)}`);
    table.push({ image: name, initial: mem?.initial, maximum: mem?.maximum, instantiated_pages: pages, static_bytes: used });
  }
  b.detail("memory.images", table);

  const cfg = configConstants(CONFIG);
  b.results.config = cfg;
  const n = cfg.TCP_MAX_SOCKETS;
  if (typeof n !== "number") throw new Error("TCP_MAX_SOCKETS not found in assembly/config.ts");
  b.fig("memory.tcp_max_sockets", n, "connection blocks", "TCP_MAX_SOCKETS in assembly/config.ts (listeners and unconnected sockets included)");
  const nc = cfg.TCP_MAX_CONNECTIONS;
  if (typeof nc !== "number") throw new Error("TCP_MAX_CONNECTIONS not found in assembly/config.ts");
  b.fig("memory.tcp_max_connections", nc, "connections", "TCP_MAX_CONNECTIONS in assembly/config.ts (connections with send and receive buffers at once)");
  for (const k of ["TCP_SND_BUF", "TCP_RCV_BUF"] as const) {
    const v = cfg[k];
    b.fig(`memory.${k.toLowerCase()}.bytes`, typeof v === "number" ? v : null, "bytes", `${k} in assembly/config.ts, evaluated (the ring of each connection)`);
  }
  const base = staticBytes(path.join(BUILD, "wasmip.wasm")).used;
  const [plus1, blockPlus1, at4, ts] = await Promise.all([
    configVariant("connections-plus-1", "TCP_MAX_CONNECTIONS", (old) => `(${old}) + 1`),
    configVariant("sockets-plus-1", "TCP_MAX_SOCKETS", (old) => `(${old}) + 1`),
    configVariant("connections-4", "TCP_MAX_CONNECTIONS", () => "4"),
    configVariant("timestamps", "TCP_TIMESTAMPS", () => "true"),
  ]);
  b.fig(
    "memory.tcp_timestamps.bytes_per_connection",
    (ts - base) / nc,
    "bytes",
    "memory_used() of the core built with TCP_TIMESTAMPS = true minus that of the core as configured, over TCP_MAX_CONNECTIONS (TS.Recent and Last.ACK.sent per connection, RFC 7323; the switch off keeps an 8-byte placeholder, alignment included)",
  );
  b.fig(
    "memory.tcp_connection.bytes",
    plus1 - base,
    "bytes",
    "memory_used() of the core built with TCP_MAX_CONNECTIONS + 1 minus that of the core as configured (a connection's send and receive rings, their bookkeeping and out-of-order assembler, alignment included)",
  );
  b.fig(
    "memory.tcp_block.bytes",
    blockPlus1 - base,
    "bytes",
    "memory_used() of the core built with TCP_MAX_SOCKETS + 1 minus that of the core as configured (one connection block: what a listener or an unconnected socket costs)",
  );
  b.fig(
    "memory.core_4_connections.static_bytes",
    at4,
    "bytes",
    "memory_used() of the core built with TCP_MAX_CONNECTIONS = 4, everything else as configured (the issue's budget: one 64 KiB page)",
  );
}
