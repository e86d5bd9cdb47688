// What `wasmip tap` and `wasmip qemu` share: their flags (qemu takes the tap's, less those that
// act on the Node board), their start (usage, bad flags, root) and their stop signals.
import path from "node:path";
import { parseCidr } from "../board/address.ts";
import { APP_NAMES } from "../board/apps.ts";
import { LOG_LEVELS, LOG_MODULES, parseLogLevels, type LogLevel, type LogLevels } from "../board/board.ts";
import { DEFAULTS } from "../devices/tap.ts";
import { CliError, checkImage, checkOutputFile } from "./checks.ts";

/** The apps `wasmip tap` runs: every app of host/board/apps.ts. */
export const TAP_APPS = APP_NAMES;

/** How banners and the status file name an image: its path from here, and the app it is. */
export function imageLabel(file: string, app?: string): string {
  const rel = path.relative(process.cwd(), file);
  return `image ${rel.startsWith("..") ? file : rel}${app ? ` (app ${app})` : ""}`;
}

export interface TapArgs {
  netns: string;
  boardIp: string;
  peerIp: string;
  app: string;
  count: number;
  pcap?: string;
  wasm?: string;
  mac: string;
  tap: string;
  logLevel: LogLevel;
  /** --log-level as given: a level and per-module ones ("info,dhcp=debug"). */
  logLevels: LogLevels;
  loss: number;
  seed: number;
  dhcp?: boolean;
  /** --app-config KEY=VALUE, in order: the app's settings (its app_config export). */
  appConfig: string[];
}

/** Parse `wasmip tap` flags (also `wasmip qemu`'s: host/devices/qemu.ts). Throws on anything malformed. */
export function parseTapArgs(args: string[], apps: readonly string[] = TAP_APPS): TapArgs | "help" {
  const out: TapArgs = { netns: DEFAULTS.netns, boardIp: DEFAULTS.boardIp, peerIp: DEFAULTS.peerIp, app: "bare", count: 4, mac: DEFAULTS.mac, tap: DEFAULTS.tap, logLevel: "info", logLevels: { level: "info" }, loss: 0, seed: 1, appConfig: [] };
  for (let i = 0; i < args.length; i++) {
    let a = args[i];
    let v: string | undefined;
    if (a === "-h" || a === "--help") return "help";
    const eq = a.indexOf("=");
    if (a.startsWith("--") && eq > 0) {
      v = a.slice(eq + 1);
      a = a.slice(0, eq);
    }
    const value = (): string => {
      if (v !== undefined) return v;
      const n = args[++i];
      if (n === undefined) throw new Error(`${a} needs a value`);
      return n;
    };
    switch (a) {
      case "--netns": out.netns = value(); break;
      case "--board-ip": out.boardIp = value(); break;
      case "--peer-ip": out.peerIp = value(); break;
      case "--app": out.app = value(); break;
      case "--count": {
        const c = value();
        if (!/^\d+$/.test(c) || Number(c) < 1 || Number(c) > 1000) throw new Error(`bad --count ${c} (1..1000)`);
        out.count = Number(c);
        break;
      }
      case "--pcap": out.pcap = value(); break;
      case "--loss": {
        const l = value();
        const pct = l.endsWith("%");
        const n = Number(pct ? l.slice(0, -1) : l) / (pct ? 100 : 1);
        if (l.trim() === "" || !Number.isFinite(n) || n < 0 || n > 1) throw new Error(`bad --loss ${l} (0..1 or a percentage like 5%)`);
        out.loss = n;
        break;
      }
      case "--seed": {
        const v2 = value();
        if (!/^\d+$/.test(v2) || Number(v2) > 0xffffffff) throw new Error(`bad --seed ${v2} (0..4294967295)`);
        out.seed = Number(v2);
        break;
      }
      case "--wasm": out.wasm = value(); break;
      case "--dhcp": out.dhcp = true; break;
      case "--app-config": {
        const c = value();
        if (!/^[^=\s]+=/.test(c) || out.appConfig.length === 8) throw new Error(`bad --app-config ${c} (KEY=VALUE, at most 8)`);
        out.appConfig.push(c);
        break;
      }
      case "--mac": out.mac = value(); break;
      case "--tap": out.tap = value(); break;
      case "--log-level": {
        const l = value();
        try {
          out.logLevels = parseLogLevels(l);
        } catch {
          throw new Error(`bad --log-level ${l} (LEVEL or LEVEL,MODULE=LEVEL,...: ${LOG_LEVELS.join("|")}; modules ${LOG_MODULES.join(", ")})`);
        }
        out.logLevel = out.logLevels.level ?? "info";
        break;
      }
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  if (!apps.includes(out.app)) throw new Error(`unknown app "${out.app}": one of ${apps.join(", ")}`);
  parseCidr(out.boardIp);
  parseCidr(out.peerIp);
  // Before any namespace or tap exists (and before the root check): the files it reads and writes.
  if (out.wasm) checkImage(out.wasm, "--wasm");
  if (out.pcap) checkOutputFile(out.pcap, "--pcap");
  return out;
}

/** The start `wasmip tap` and `wasmip qemu` share: the parsed flags, or the exit code after
 *  printing the usage (0), a bad flag (2), a bad file (1) or that root is needed (1). */
export function commandOptions(name: string, usage: string, parse: () => TapArgs | "help"): TapArgs | number {
  let p: TapArgs | "help";
  try {
    p = parse();
  } catch (e) {
    const file = e instanceof CliError;
    console.error(`wasmip ${name}: ${(e as Error).message}${file ? "" : ` (see wasmip ${name} --help)`}`);
    return file ? 1 : 2;
  }
  if (p === "help") {
    console.log(usage);
    return 0;
  }
  if (process.getuid?.() !== 0) {
    console.error(`wasmip ${name}: needs root (network namespaces and TAP devices)`);
    return 1;
  }
  return p;
}

/** SIGINT, SIGTERM and SIGHUP end a command: `done` resolves with the signal's name (or what
 *  wake() was given) and `why` holds it from then on. Installed before anything is created. */
export class StopSignals {
  why: string | undefined;
  readonly done: Promise<string>;
  private resolve: (why: string) => void = () => {};
  private static readonly SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  private readonly onSignal = (sig: NodeJS.Signals) => this.wake(sig);

  constructor() {
    this.done = new Promise<string>((r) => (this.resolve = r));
    void this.done.then((w) => (this.why = w));
    for (const s of StopSignals.SIGNALS) process.on(s, this.onSignal);
  }

  wake(why: string): void {
    this.resolve(why);
  }

  dispose(): void {
    for (const s of StopSignals.SIGNALS) process.off(s, this.onSignal);
  }
}
