// `wasmip sim`: the default demo, or a fleet from a topology file (--topology); the flags of each.
import path from "node:path";
import { appImage } from "../board/apps.ts";
import { DEFAULT_WASM, ROOT } from "../board/board.ts";
import { DEMO_IPV6_IMAGES, runDemo, type DemoOptions } from "../sim/demo.ts";
import { CliError, checkImage, checkOutputDir, checkOutputFile, reportErrors } from "./checks.ts";
import { HELP, UsageError, parseFlags } from "./help.ts";

function parseProbability(name: string, s: string): number {
  const pct = s.endsWith("%");
  const v = Number(pct ? s.slice(0, -1) : s);
  const p = pct ? v / 100 : v;
  if (s.trim() === "" || !Number.isFinite(v) || p < 0 || p > 1)
    throw new UsageError(`--${name}: expected a probability in 0..1 or a percentage like 20%, got '${s}'`);
  return p;
}

function parseNumber(name: string, s: string, opts: { integer?: boolean; min?: number; max?: number } = {}): number {
  const v = Number(s);
  const { integer = false, min = 0, max = Number.MAX_SAFE_INTEGER } = opts;
  if (s.trim() === "" || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v < min || v > max)
    throw new UsageError(`--${name}: expected ${integer ? "an integer" : "a number"} in ${min}..${max}, got '${s}'`);
  return v;
}

/** Parse `sim` flags into demo options. Throws UsageError on anything unknown or malformed. */
export function parseSimArgs(args: string[]): DemoOptions & { help: boolean } {
  const { values } = parseFlags(args, {
    seed: { type: "string" },
    count: { type: "string" },
    size: { type: "string" },
    pcap: { type: "string" },
    wasm: { type: "string" },
    loss: { type: "string" },
    dup: { type: "string" },
    reorder: { type: "string" },
    corrupt: { type: "string" },
    delay: { type: "string" },
    jitter: { type: "string" },
    mtu: { type: "string" },
    verbose: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  const o: DemoOptions & { help: boolean } = { help: values.help ?? false, verbose: values.verbose ?? false };
  if (values.seed !== undefined) o.seed = parseNumber("seed", values.seed, { integer: true, max: 0xffffffff });
  if (values.count !== undefined) o.count = parseNumber("count", values.count, { integer: true, max: 65535 });
  if (values.size !== undefined) o.size = parseNumber("size", values.size, { integer: true, max: 65507 });
  if (values.pcap !== undefined) o.pcap = values.pcap;
  if (values.wasm !== undefined) o.wasm = values.wasm;
  if (values.loss !== undefined) o.loss = parseProbability("loss", values.loss);
  if (values.dup !== undefined) o.duplicate = parseProbability("dup", values.dup);
  if (values.reorder !== undefined) o.reorder = parseProbability("reorder", values.reorder);
  if (values.corrupt !== undefined) o.corrupt = parseProbability("corrupt", values.corrupt);
  if (values.delay !== undefined) o.delay = parseNumber("delay", values.delay, { max: 3_600_000 });
  if (values.jitter !== undefined) o.jitter = parseNumber("jitter", values.jitter, { max: 3_600_000 });
  if (values.mtu !== undefined) o.mtu = parseNumber("mtu", values.mtu, { integer: true, max: 65535 });
  return o;
}

export interface FleetArgs {
  topology: string;
  seed?: number;
  duration?: number;
  pcap?: string;
  captureDir?: string;
  capture?: string[];
  json?: string;
  brief: boolean;
  verbose: boolean;
  help: boolean;
}

/** Parse `sim --topology` flags. Throws UsageError on anything unknown or malformed. */
export function parseFleetArgs(args: string[]): FleetArgs {
  let values;
  try {
    ({ values } = parseFlags(args, {
      topology: { type: "string" },
      seed: { type: "string" },
      duration: { type: "string" },
      pcap: { type: "string" },
      "capture-dir": { type: "string" },
      capture: { type: "string" },
      json: { type: "string" },
      brief: { type: "boolean" },
      verbose: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}${/unknown option/.test((e as Error).message) ? " (with --topology, the demo's flags do not apply)" : ""}`);
  }
  if (!values.topology) throw new UsageError("--topology: expected a file");
  const o: FleetArgs = { topology: values.topology, brief: values.brief ?? false, verbose: values.verbose ?? false, help: values.help ?? false };
  if (values.seed !== undefined) o.seed = parseNumber("seed", values.seed, { integer: true, max: 0xffffffff });
  if (values.duration !== undefined) {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(values.duration);
    const v = m ? Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "ms"]! : NaN;
    if (!(v > 0)) throw new UsageError(`--duration: expected a duration like 60s, 500ms or 120000, got '${values.duration}'`);
    o.duration = v;
  }
  if (values.pcap !== undefined) o.pcap = values.pcap;
  if (values["capture-dir"] !== undefined) o.captureDir = values["capture-dir"];
  if (values.capture !== undefined) {
    if (!o.captureDir) throw new UsageError("--capture needs --capture-dir");
    o.capture = values.capture.split(",").map((x) => x.trim().toLowerCase()).filter(Boolean);
  }
  if (values.json !== undefined) o.json = values.json;
  return o;
}

async function fleetCommand(args: string[]): Promise<number> {
  const o = parseFleetArgs(args);
  if (o.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (o.pcap) checkOutputFile(o.pcap, "--pcap");
  if (o.json) checkOutputFile(o.json, "--json");
  if (o.captureDir) checkOutputDir(o.captureDir, "--capture-dir");
  const { loadTopology, checkFirmware, TopologyError } = await import("../sim/fleet/topology.ts");
  const { runFleet } = await import("../sim/fleet/fleet.ts");
  let topo;
  try {
    topo = loadTopology(o.topology);
    checkFirmware(topo);
  } catch (e) {
    if (e instanceof TopologyError) throw new CliError(e.message, 2);
    throw e;
  }
  const unknown = o.capture?.find((n) => !topo.boards.some((b) => b.name === n));
  if (unknown) throw new CliError(`--capture: no board named ${unknown} in ${o.topology}`, 2);
  const summary = runFleet(topo, { seed: o.seed, duration: o.duration, pcap: o.pcap, captureDir: o.captureDir, captureBoards: o.capture, brief: o.brief, verbose: o.verbose });
  if (o.json) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(o.json, JSON.stringify(summary, null, 2) + "\n");
  }
  return summary.ok ? 0 : 1;
}

/** `wasmip sim`: the demo (sim/demo.ts), or with --topology a fleet (sim/fleet/fleet.ts). */
export function simCommand(args: string[]): Promise<number> {
  return reportErrors("sim", async () => {
    if (args.some((a) => a === "--topology" || a.startsWith("--topology="))) return await fleetCommand(args);
    const o = parseSimArgs(args);
    if (o.help) {
      process.stdout.write(HELP);
      return 0;
    }
    if (o.pcap) checkOutputFile(o.pcap, "--pcap");
    checkImage(o.wasm ?? DEFAULT_WASM, o.wasm ? "--wasm" : "the core image", ["ping", "ping_rtt", "dhcp_start", "dns_resolve"]);
    for (const app of ["greeter", "http"]) checkImage(appImage(app), `the ${app} image`);
    for (const image of DEMO_IPV6_IMAGES) checkImage(path.join(ROOT, "build", `${image}.wasm`), `the ${image} image`);
    const summary = await runDemo(o);
    return (summary.received > 0 || summary.transmitted === 0) && summary.tcp.ok && summary.ipv6.ok ? 0 : 1;
  });
}
