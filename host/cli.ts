#!/usr/bin/env -S npx tsx
// The `wasmip` command: run the simulated demo, or bridge a board to a TAP interface.
import { parseArgs } from "node:util";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { runDemo, type DemoOptions } from "./sim/demo.ts";

const HELP = `usage: wasmip <command> [flags]

commands:
  sim         boards on an emulated switch in virtual time, with no static configuration: they
              lease addresses from a simulated DHCP server and find each other by name through a
              simulated DNS server (zone sim); A pings B (b.sim), connects to the greeter firmware
              on G (greeter.sim:54321) and fetches http://web.sim/ from the http firmware on H
  sim --topology FILE
              a fleet from a topology file (JSON, see examples/README.md): boards running their
              firmware images on several switches joined by impaired links, DHCP and DNS, what
              each board does; prints every board's counters and connection table and the run's
              invariants at the end (exit 1 if one fails)
  ladder      draw a TCP exchange from a capture as a sequence (ladder) diagram, SVG
  tap         bridge a board to a Linux TAP interface (see: wasmip tap --help)
  qemu        the firmware on an emulated Cortex-M3 board (QEMU mps2-an385, LAN9118 Ethernet)
              on a Linux TAP interface (see: wasmip qemu --help)
  netstat     connection table and counters of a running \`wasmip tap\` (--netns NAME)
  help        show this help

sim flags:
  --seed N        PRNG seed; the same seed gives the same run and pcap (default 1)
  --count N       echo requests to send, one per second of virtual time (default 4)
  --size N        ICMP payload bytes (default 56)
  --pcap FILE     write every transmitted frame to FILE (classic pcap, Ethernet)
  --wasm FILE     firmware of A and B (default build/wasmip.wasm; G and H run greeter, http)
  --verbose       also print debug log lines
impairments of A's link during the pings, each direction (probabilities: 0..1 or a percentage like 20%):
  --loss P        drop probability (default 20%)
  --dup P         duplication probability (default 0)
  --reorder P     probability a frame is held back 10 ms so later ones overtake it (default 0)
  --corrupt P     probability one bit after the Ethernet header is flipped (default 0)
  --mtu N         drop frames whose payload exceeds N bytes (default: no limit)
  --delay MS      propagation delay, every board's link (default 1)
  --jitter MS     uniform extra delay in [0, MS), every board's link (default 0)

sim --topology flags:
  --topology FILE    the fleet (JSON); its seed and duration unless given below
  --seed N           PRNG seed (default: the file's, else 1); the same seed gives the same pcap
  --duration D       virtual run length (ms, or 500ms, 60s, 2m, 1h), instead of the file's
  --pcap FILE        every frame any board or service transmits (classic pcap, Ethernet)
  --capture-dir DIR  one pcap per board at its interface: what it sent and what reached it
  --capture NAMES    with --capture-dir: only these boards (comma-separated)
  --json FILE        write the summary (boards, tasks, counters, links, invariants) as JSON
  --brief            one line per board; no per-board tables and counters
  --verbose          board log lines and task events as they happen

ladder FILE.pcap [PEER.pcap] [--conn A:P-B:P] [-o OUT.svg] [--max N]
  One arrow per TCP segment between two endpoints, labelled with its flags, relative seq/ack,
  length and window; retransmissions and losses marked. Classic pcap or pcapng (tshark,
  tcpdump, the harness), Ethernet, Linux cooked, raw IP or loopback link types; IPv4.
  --conn A:P-B:P     the connection (either order; A is drawn on the left); default: the first
                     TCP connection in the file
  -o FILE            write the SVG to FILE (default: standard output)
  --max N            draw at most N segments (default 1000)
  PEER.pcap          a capture at the other endpoint (e.g. two files of sim --capture-dir):
                     arrows then go from send time to arrival time, and a segment sent but never
                     received is drawn as lost for certain
`;

export class UsageError extends Error {}

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
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
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
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
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
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
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
      },
    }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message}${/Unknown option/i.test((e as Error).message) ? " (with --topology, the demo's flags do not apply)" : ""}`);
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
  const { loadTopology, TopologyError } = await import("./sim/fleet/topology.ts");
  const { runFleet } = await import("./sim/fleet/fleet.ts");
  let topo;
  try {
    topo = loadTopology(o.topology);
  } catch (e) {
    if (e instanceof TopologyError) {
      process.stderr.write(`wasmip: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const summary = runFleet(topo, { seed: o.seed, duration: o.duration, pcap: o.pcap, captureDir: o.captureDir, captureBoards: o.capture, brief: o.brief, verbose: o.verbose });
  if (o.json) {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(o.json, JSON.stringify(summary, null, 2) + "\n");
  }
  return summary.ok ? 0 : 1;
}

/** Run the command line; returns the exit code (0 ok, 1 failure, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(HELP);
        return cmd === undefined ? 2 : 0;
      case "sim": {
        if (rest.some((a) => a === "--topology" || a.startsWith("--topology="))) return await fleetCommand(rest);
        const o = parseSimArgs(rest);
        if (o.help) {
          process.stdout.write(HELP);
          return 0;
        }
        const summary = await runDemo(o);
        return (summary.received > 0 || summary.transmitted === 0) && summary.tcp.ok ? 0 : 1;
      }
      case "ladder": {
        const { ladderCommand } = await import("./capture/ladder.ts");
        return ladderCommand(rest);
      }
      case "tap": {
        const { tapCommand } = await import("./cli/tap.ts");
        return await tapCommand(rest);
      }
      case "qemu": {
        const { qemuCommand } = await import("./cli/qemu.ts");
        return await qemuCommand(rest);
      }
      case "netstat": {
        const { netstatCommand } = await import("./cli/netstat.ts");
        return netstatCommand(rest);
      }
      default:
        throw new UsageError(cmd.startsWith("-") ? `unknown option '${cmd}'` : `unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`wasmip: ${e.message}\nRun 'wasmip --help' for usage.\n`);
      return 2;
    }
    throw e;
  }
}

function invokedDirectly(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`wasmip: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
