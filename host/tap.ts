// A Board on a real Linux TAP device, in real time.
//
// The tap lives in a network namespace this code sets up (see netns.ts); build/tap-bridge relays
// its frames over a pipe with a 2-byte big-endian length prefix. The kernel inside the namespace
// is the board's peer: `ping`, `ip neigh`, `tshark` run there through TapSession.exec().
//
//   wasmip tap --netns NAME --board-ip A/len --peer-ip B/len [--app ping|bare] [--pcap FILE] [--wasm FILE]
import { execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { Board, ROOT, DEFAULT_WASM, ipToU32, prefixToMask, LOG_LEVELS, type LogLevel } from "./board.ts";
import { PcapWriter } from "./pcap.ts";
import { Netns, closeAndWait, netnsExists, type RunOptions, type RunResult } from "./netns.ts";

export const BRIDGE_SRC = path.join(ROOT, "host", "tap-bridge.c");
export const BRIDGE_BIN = path.join(ROOT, "build", "tap-bridge");

export const DEFAULTS = {
  netns: "wasmip0",
  tap: "tap0",
  boardIp: "10.213.0.2/24",
  peerIp: "10.213.0.1/24",
  mac: "02:77:69:70:00:02",
} as const;

/** Build build/tap-bridge from host/tap-bridge.c when it is missing or older than its source. */
export function ensureBridge(): string {
  const fresh = existsSync(BRIDGE_BIN) && (!existsSync(BRIDGE_SRC) || statSync(BRIDGE_BIN).mtimeMs >= statSync(BRIDGE_SRC).mtimeMs);
  if (fresh) return BRIDGE_BIN;
  mkdirSync(path.dirname(BRIDGE_BIN), { recursive: true });
  try {
    execFileSync("gcc", ["-O2", "-Wall", "-o", BRIDGE_BIN, BRIDGE_SRC], { stdio: ["ignore", "inherit", "inherit"] });
  } catch (e) {
    throw new Error(`cannot build ${path.relative(ROOT, BRIDGE_BIN)} (gcc -O2 -Wall -o build/tap-bridge host/tap-bridge.c): ${(e as Error).message}`);
  }
  return BRIDGE_BIN;
}

/** Wall-clock milliseconds with sub-millisecond resolution, for capture timestamps. */
const wallMs = (): number => performance.timeOrigin + performance.now();

/** Parse "A.B.C.D/len". */
export function parseCidr(s: string): { ip: string; prefix: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(s);
  if (!m) throw new Error(`bad address "${s}" (want A.B.C.D/len)`);
  const prefix = Number(m[2]);
  ipToU32(m[1]); // validates
  prefixToMask(prefix); // validates
  if (prefix < 1 || prefix > 30) throw new Error(`bad prefix length in "${s}" (1..30)`);
  return { ip: m[1], prefix };
}

// ------------------------------------------------------------------------------------------
// The real-time runner: one Board <-> one bridge process.
// ------------------------------------------------------------------------------------------

export interface TapRunnerOptions {
  pcap?: PcapWriter;
  /** Called when the board throws (a panic) or the bridge dies; the runner has stopped. */
  onError?: (err: Error) => void;
}

export class TapRunner {
  rxFrames = 0;
  txFrames = 0;
  /** input() results by counter name, like `netstat -s` for what the kernel sent us. */
  readonly rxByCounter: Record<string, number> = {};
  private pending: Buffer = Buffer.alloc(0);
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly clock: () => number;

  constructor(
    readonly board: Board,
    private readonly bridge: ChildProcess,
    clock: () => number,
    private readonly opts: TapRunnerOptions = {},
  ) {
    this.clock = clock;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.board.onTransmit((f) => this.transmit(f));
    this.bridge.stdout!.on("data", (d: Buffer) => this.onData(d));
    this.bridge.once("exit", (code, sig) => {
      if (this.running) this.fail(new Error(`tap-bridge exited (${code ?? sig}) while the board was running`));
    });
    this.bridge.stdin!.on("error", (e) => {
      if (this.running) this.fail(new Error(`tap-bridge stdin: ${e.message}`));
    });
    this.tick();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.board.onTransmit(() => {});
  }

  /** Re-run poll() now: after a call into the board from outside (ping()), so new timers count. */
  kick(): void {
    this.tick();
  }

  get isRunning(): boolean {
    return this.running;
  }

  private transmit(frame: Uint8Array): void {
    if (!this.running) return;
    this.txFrames++;
    this.opts.pcap?.write(frame, wallMs());
    const out = Buffer.allocUnsafe(frame.length + 2);
    out.writeUInt16BE(frame.length, 0);
    out.set(frame, 2);
    this.bridge.stdin!.write(out);
  }

  private onData(d: Buffer): void {
    if (!this.running) return;
    this.pending = this.pending.length ? Buffer.concat([this.pending, d]) : d;
    let off = 0;
    try {
      while (this.pending.length - off >= 2) {
        const len = this.pending.readUInt16BE(off);
        if (this.pending.length - off < 2 + len) break;
        const frame = new Uint8Array(this.pending.subarray(off + 2, off + 2 + len));
        off += 2 + len;
        this.rxFrames++;
        this.opts.pcap?.write(frame, wallMs());
        const counter = this.board.input(frame);
        this.rxByCounter[counter] = (this.rxByCounter[counter] ?? 0) + 1;
        if (!this.running) return;
      }
      this.pending = off === this.pending.length ? Buffer.alloc(0) : this.pending.subarray(off);
      this.tick();
    } catch (e) {
      this.fail(e as Error);
    }
  }

  /** Run due timers and re-arm the timer for the deadline poll() returns. */
  private tick(): void {
    if (!this.running) return;
    if (this.timer) clearTimeout(this.timer);
    let delay: number;
    try {
      delay = this.board.poll(this.clock());
    } catch (e) {
      this.fail(e as Error);
      return;
    }
    this.timer = setTimeout(() => this.tick(), Math.min(Math.max(delay, 1), 1000));
  }

  private fail(err: Error): void {
    this.stop();
    this.opts.onError?.(err);
  }
}

// ------------------------------------------------------------------------------------------
// TapSession: namespace + tap + bridge + board, and cleanup of all of it.
// ------------------------------------------------------------------------------------------

export interface TapSessionOptions {
  netns?: string;
  tap?: string;
  boardIp?: string; // "A/len"
  peerIp?: string; // "B/len", the kernel's address on the tap
  pcap?: string;
  mac?: string;
  wasm?: string;
  /** Use an existing namespace (never deleted then). Default false: refuse an existing one. */
  reuseNetns?: boolean;
  log?: (level: LogLevel, msg: string) => void;
  /** Called if the runner stops on an error (board panic, bridge died). */
  onError?: (err: Error) => void;
}

export class TapSession {
  ns: Netns | undefined;
  board: Board | undefined;
  runner: TapRunner | undefined;
  boardIp = "";
  peerIp = "";
  tap = "";
  error: Error | undefined;
  private bridge: ChildProcess | undefined;
  private pcap: PcapWriter | undefined;
  private stopped = false;

  /** Create the namespace (refusing an existing one unless reuseNetns), the tap, the bridge and the board. */
  async start(opts: TapSessionOptions = {}): Promise<this> {
    if (this.ns) throw new Error("TapSession already started");
    const board = parseCidr(opts.boardIp ?? DEFAULTS.boardIp);
    const peer = parseCidr(opts.peerIp ?? DEFAULTS.peerIp);
    const mask = prefixToMask(peer.prefix);
    if (board.ip === peer.ip) throw new Error(`board and peer have the same address ${board.ip}`);
    if (((ipToU32(board.ip) ^ ipToU32(peer.ip)) & mask) !== 0 || board.prefix !== peer.prefix)
      throw new Error(`board ${opts.boardIp} and peer ${opts.peerIp} are not on the same subnet`);
    const wasm = opts.wasm ?? DEFAULT_WASM;
    if (!existsSync(wasm)) throw new Error(`${wasm} not found (build it with: npx asc assembly/index.ts --target release)`);
    const bridgeBin = ensureBridge();
    this.boardIp = board.ip;
    this.peerIp = peer.ip;
    this.tap = opts.tap ?? DEFAULTS.tap;
    try {
      this.ns = await Netns.create(opts.netns ?? DEFAULTS.netns, { reuseExisting: opts.reuseNetns });
      await this.ns.addTap(this.tap, `${peer.ip}/${peer.prefix}`);
      // Its own process group: a Ctrl-C at the terminal reaches us, and we close the bridge in order.
      this.bridge = this.ns.spawn(bridgeBin, [this.tap], { detached: true });
      await waitAttached(this.bridge, opts.log);

      const t0 = performance.now();
      const clock = () => Math.floor(performance.now() - t0);
      this.board = new Board({
        name: "board",
        wasm,
        mac: opts.mac ?? DEFAULTS.mac,
        // The address is set after the transmit handler is attached, so the gratuitous ARP goes out.
        prefix: board.prefix,
        clock,
        random: () => randomBytes(4).readUInt32BE(0),
        log: (level, msg) => opts.log?.(level, msg),
      });
      if (opts.pcap) this.pcap = new PcapWriter(opts.pcap);
      this.runner = new TapRunner(this.board, this.bridge, clock, {
        pcap: this.pcap,
        onError: (e) => {
          this.error = e;
          opts.onError?.(e);
        },
      });
      this.runner.start();
      this.board.setIpv4(board.ip, board.prefix);
    } catch (e) {
      await this.stop().catch(() => {});
      throw e;
    }
    return this;
  }

  /** Run a command inside the namespace (a peer: ping, ip, tshark ...) and collect its output. */
  exec(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    if (!this.ns) return Promise.reject(new Error("TapSession not started"));
    return this.ns.exec(cmd, args, opts);
  }

  /** Start a long-running command inside the namespace; stop() kills it. */
  spawn(cmd: string, args: string[]): ChildProcess {
    if (!this.ns) throw new Error("TapSession not started");
    return this.ns.spawn(cmd, args);
  }

  /** Ping the board from the kernel (one echo at a time, `attempts` at most). True once one is answered. */
  async waitReachable(attempts = 10): Promise<boolean> {
    for (let i = 0; i < attempts; i++) {
      if (this.error) throw this.error;
      const r = await this.exec("ping", ["-n", "-c", "1", "-W", "1", this.boardIp], { check: false, timeoutMs: 5000 });
      if (r.code === 0) return true;
    }
    return false;
  }

  /** Stop the board, close the bridge, write the pcap, delete the tap and (if ours) the namespace. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    let err: unknown;
    try {
      this.runner?.stop();
      if (this.bridge) await closeAndWait(this.bridge);
    } catch (e) {
      err = e;
    }
    try {
      this.pcap?.close();
    } catch (e) {
      err ??= e;
    }
    try {
      await this.ns?.destroy();
    } catch (e) {
      err ??= e;
    }
    if (err) throw err;
  }
}

/** Wait for the bridge's "attached" line on stderr; later stderr lines go to log. */
function waitAttached(bridge: ChildProcess, log?: (level: LogLevel, msg: string) => void, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    let buf = "";
    let attached = false;
    const timer = setTimeout(() => reject(new Error(`tap-bridge did not attach within ${timeoutMs} ms: ${buf.trim()}`)), timeoutMs);
    bridge.stderr!.setEncoding("utf8").on("data", (d: string) => {
      buf += d;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (!attached && line.startsWith("tap-bridge: attached")) {
          attached = true;
          clearTimeout(timer);
          resolve();
        } else if (attached) {
          log?.("warn", line);
        } else {
          buf = line + "\n" + buf; // keep it for the error message
          break;
        }
      }
    });
    bridge.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`tap-bridge: ${e.message}`));
    });
    bridge.once("exit", (code, sig) => {
      if (attached) return;
      clearTimeout(timer);
      reject(new Error(`tap-bridge exited (${code ?? sig}) before attaching: ${buf.trim()}`));
    });
  });
}

// ------------------------------------------------------------------------------------------
// The CLI: wasmip tap ...
// ------------------------------------------------------------------------------------------

export const TAP_APPS = ["ping", "bare"] as const;

const USAGE = `usage: wasmip tap [--netns NAME] [--board-ip A/len] [--peer-ip B/len] [--app ping|bare]
                 [--count N] [--pcap FILE] [--wasm FILE] [--mac MAC] [--tap IFNAME] [--log-level LEVEL]

Runs the wasmip core on a real TAP device in network namespace NAME (created if absent, and
then deleted on exit), with the kernel at the peer address as its peer. Prints "ready" once the
board answers a ping from the kernel, then runs until SIGINT/SIGTERM.
  --netns NAME       default ${DEFAULTS.netns}
  --board-ip A/len   the board's address, default ${DEFAULTS.boardIp}
  --peer-ip B/len    the kernel's address on the tap, default ${DEFAULTS.peerIp}
  --app NAME         bare (the bare stack: ARP, ICMP echo; the default) or ping (as bare,
                     and the board also pings the peer --count times, once a second)
  --count N          echo requests the ping app sends (1..1000), default 4
  --pcap FILE        capture both directions to a pcap file
  --wasm FILE        default build/wasmip.wasm
  --mac MAC          the board's MAC, default ${DEFAULTS.mac}
  --tap IFNAME       the tap's name inside the namespace, default ${DEFAULTS.tap}
  --log-level LEVEL  error|warn|info|debug: board log lines shown on stderr, default info

Try it (another shell): ip netns exec ${DEFAULTS.netns} ping ${DEFAULTS.boardIp.split("/")[0]}`;

interface TapArgs {
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
}

function parseTapArgs(args: string[]): TapArgs | "help" {
  const out: TapArgs = { netns: DEFAULTS.netns, boardIp: DEFAULTS.boardIp, peerIp: DEFAULTS.peerIp, app: "bare", count: 4, mac: DEFAULTS.mac, tap: DEFAULTS.tap, logLevel: "info" };
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
      case "--wasm": out.wasm = value(); break;
      case "--mac": out.mac = value(); break;
      case "--tap": out.tap = value(); break;
      case "--log-level": {
        const l = value();
        if (!(LOG_LEVELS as readonly string[]).includes(l)) throw new Error(`bad --log-level ${l} (${LOG_LEVELS.join("|")})`);
        out.logLevel = l as LogLevel;
        break;
      }
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  if (!(TAP_APPS as readonly string[]).includes(out.app))
    throw new Error(`unknown app "${out.app}": wasmip tap runs ${TAP_APPS.join(", ")} for now`);
  parseCidr(out.boardIp);
  parseCidr(out.peerIp);
  return out;
}

/** The ping app: the board pings the kernel `count` times, one a second, printing like ping(8). */
async function boardPings(session: TapSession, count: number, stopped: () => boolean): Promise<void> {
  const board = session.board!;
  const size = 56;
  let received = 0;
  console.log(`PING ${session.peerIp} from ${session.boardIp}: ${size} data bytes`);
  for (let seq = 1; seq <= count && !stopped() && !session.error; seq++) {
    const t0 = performance.now();
    try {
      board.ping(session.peerIp, seq, size);
      session.runner!.kick();
      let rtt = -1;
      while (rtt < 0 && performance.now() - t0 < 1000 && !stopped()) {
        await new Promise((r) => setTimeout(r, 5));
        rtt = board.pingRtt(seq);
      }
      if (rtt >= 0) {
        received++;
        console.log(`${size + 8} bytes from ${session.peerIp}: icmp_seq=${seq} time=${rtt} ms`);
      } else if (!stopped()) console.log(`no reply from ${session.peerIp}: icmp_seq=${seq}`);
    } catch (e) {
      console.log(`ping ${session.peerIp}: icmp_seq=${seq}: ${(e as Error).message}`);
    }
    const left = 1000 - (performance.now() - t0);
    if (seq < count && left > 0 && !stopped()) await new Promise((r) => setTimeout(r, left));
  }
  console.log(`--- ${session.peerIp}: ${received} of ${count} answered; the board keeps running (Ctrl-C stops) ---`);
}

export async function tapCommand(args: string[]): Promise<number> {
  let opts: TapArgs;
  try {
    const p = parseTapArgs(args);
    if (p === "help") {
      console.log(USAGE);
      return 0;
    }
    opts = p;
  } catch (e) {
    console.error(`wasmip tap: ${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (process.getuid?.() !== 0) {
    console.error("wasmip tap: needs root (network namespaces and TAP devices)");
    return 1;
  }

  const maxLevel = LOG_LEVELS.indexOf(opts.logLevel);
  const log = (level: LogLevel, msg: string) => {
    if (LOG_LEVELS.indexOf(level) <= maxLevel) process.stderr.write(`[board ${level}] ${msg}\n`);
  };

  // Signals: stop and clean up. Installed before anything is created.
  let wake: (why: string) => void = () => {};
  const done = new Promise<string>((r) => (wake = r));
  const onSignal = (sig: NodeJS.Signals) => wake(sig);
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const s of signals) process.on(s, onSignal);

  const session = new TapSession();
  let code = 0;
  try {
    let interrupted: string | undefined;
    void done.then((w) => (interrupted = w));
    const reused = await netnsExists(opts.netns);
    if (reused) console.error(`wasmip tap: using the existing namespace ${opts.netns} (it will not be deleted)`);
    await session.start({
      netns: opts.netns,
      tap: opts.tap,
      boardIp: opts.boardIp,
      peerIp: opts.peerIp,
      pcap: opts.pcap,
      mac: opts.mac,
      wasm: opts.wasm,
      reuseNetns: true,
      log,
      onError: (e) => wake(`error: ${e.message}`),
    });
    console.error(`wasmip tap: board ${session.boardIp} (${session.board!.macString}) on ${opts.tap} in namespace ${opts.netns}, kernel at ${session.peerIp}`);
    let ready = false;
    for (let i = 0; i < 10 && !interrupted && !ready; i++) ready = await session.waitReachable(1);
    if (interrupted) {
      // Stopped before ready: fall through to cleanup.
    } else if (!ready) {
      console.error(`wasmip tap: the board did not answer ping from ${session.peerIp}`);
      code = 1;
    } else {
      console.log("ready");
      if (opts.app === "ping") void boardPings(session, opts.count, () => interrupted !== undefined);
      const why = await done;
      if (why.startsWith("error")) {
        console.error(`wasmip tap: ${why}`);
        code = 1;
      }
    }
    if (session.runner) console.error(`wasmip tap: ${session.runner.rxFrames} frames in, ${session.runner.txFrames} out`);
  } catch (e) {
    console.error(`wasmip tap: ${(e as Error).message}`);
    code = 1;
  } finally {
    try {
      await session.stop();
    } catch (e) {
      console.error(`wasmip tap: cleanup: ${(e as Error).message}`);
      code = 1;
    }
    for (const s of signals) process.off(s, onSignal);
  }
  return code;
}
