// A Board on a real Linux TAP device, in real time.
//
// The tap lives in a network namespace this code sets up (see netns.ts); build/tap-bridge relays
// its frames over a pipe with a 2-byte big-endian length prefix. The kernel inside the namespace
// is the board's peer: `ping`, `ip neigh`, `tshark` run there through TapSession.exec().
//
//   wasmip tap --netns NAME --board-ip A/len --peer-ip B/len [--app greeter|http|echo|ping|bare] [--pcap FILE]
//   wasmip netstat [--netns NAME]
//
// While it runs, `wasmip tap` keeps /run/wasmip/<netns>.json up to date (the board's connection
// table and counters); `wasmip netstat` prints that file like netstat -tn and netstat -s.
import { dhcpRelease, dhcpStart, dhcpStatus, type DhcpStatus } from "../board/dhcp.ts";
import { Dnsmasq, type Spawner } from "./services/dnsmasq.ts";
import { execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import path from "node:path";
import { ipToU32, prefixToMask, u32ToIp } from "../board/address.ts";
import { Board, ROOT, DEFAULT_WASM, LOG_LEVELS, type LogLevel, type TcpTableRow } from "../board/board.ts";
import { PcapWriter } from "../capture/pcap.ts";
import { Netns, closeAndWait, netnsExists, pingUntilAnswered, type RunOptions, type RunResult } from "./netns.ts";
import { Prng } from "../sim/prng.ts";
import { formatCounters, formatTcpTable } from "../board/netstat.ts";

export const BRIDGE_SRC = path.join(ROOT, "host", "devices", "tap-bridge.c");
export const BRIDGE_BIN = path.join(ROOT, "build", "tap-bridge");

export const DEFAULTS = {
  netns: "wasmip0",
  tap: "tap0",
  boardIp: "10.213.0.2/24",
  peerIp: "10.213.0.1/24",
  mac: "02:77:69:70:00:02",
} as const;

/** Build build/tap-bridge from host/devices/tap-bridge.c when it is missing or older than its source. */
export function ensureBridge(): string {
  const fresh = existsSync(BRIDGE_BIN) && (!existsSync(BRIDGE_SRC) || statSync(BRIDGE_BIN).mtimeMs >= statSync(BRIDGE_SRC).mtimeMs);
  if (fresh) return BRIDGE_BIN;
  mkdirSync(path.dirname(BRIDGE_BIN), { recursive: true });
  try {
    execFileSync("gcc", ["-O2", "-Wall", "-o", BRIDGE_BIN, BRIDGE_SRC], { stdio: ["ignore", "inherit", "inherit"] });
  } catch (e) {
    throw new Error(`cannot build ${path.relative(ROOT, BRIDGE_BIN)} (gcc -O2 -Wall -o build/tap-bridge host/devices/tap-bridge.c): ${(e as Error).message}`);
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
  /** Drop this fraction (0..1) of the frames in each direction, chosen by a PRNG seeded with `seed`. */
  loss?: number;
  seed?: number;
  /** Called when the board throws (a panic) or the bridge dies; the runner has stopped. */
  onError?: (err: Error) => void;
  /** Sees every frame the board receives (with the counter input() returned) and sends. */
  observe?: (dir: "rx" | "tx", frame: Uint8Array, counter?: string) => void;
}

export class TapRunner {
  rxFrames = 0;
  txFrames = 0;
  /** Frames the loss option dropped: kernel -> board, board -> kernel. */
  rxDropped = 0;
  txDropped = 0;
  /** input() results by counter name, like `netstat -s` for what the kernel sent us. */
  readonly rxByCounter: Record<string, number> = {};
  private pending: Buffer = Buffer.alloc(0);
  private timer: NodeJS.Timeout | undefined;
  /** Frames sent during the current job, written to the bridge in one write when it ends. */
  private txq: Buffer[] = [];
  private running = false;
  private readonly clock: () => number;
  private readonly lossIn: Prng | undefined;
  private readonly lossOut: Prng | undefined;

  constructor(
    readonly board: Board,
    private readonly bridge: ChildProcess,
    clock: () => number,
    private readonly opts: TapRunnerOptions = {},
  ) {
    this.clock = clock;
    const loss = opts.loss ?? 0;
    if (!(loss >= 0 && loss <= 1)) throw new Error(`bad loss probability ${loss} (0..1)`);
    if (loss > 0) {
      const root = new Prng(opts.seed ?? 1);
      this.lossIn = root.fork("tap-loss-in");
      this.lossOut = root.fork("tap-loss-out");
    }
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
    if (this.lossOut?.chance(this.opts.loss!)) {
      this.txDropped++;
      return;
    }
    this.txFrames++;
    this.opts.pcap?.write(frame, wallMs());
    this.opts.observe?.("tx", frame);
    const out = Buffer.allocUnsafe(frame.length + 2);
    out.writeUInt16BE(frame.length, 0);
    out.set(frame, 2);
    if (this.txq.push(out) === 1) queueMicrotask(() => this.flush());
  }

  private flush(): void {
    const q = this.txq;
    this.txq = [];
    const w = this.bridge.stdin!;
    // Also after stop(): a frame sent in the job that stopped (a FIN, a RST) still goes out.
    if (q.length === 0 || !w.writable) return;
    w.write(q.length === 1 ? q[0] : Buffer.concat(q));
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
        if (this.lossIn?.chance(this.opts.loss!)) {
          this.rxDropped++;
          continue;
        }
        this.rxFrames++;
        this.opts.pcap?.write(frame, wallMs());
        const counter = this.board.input(frame);
        this.rxByCounter[counter] = (this.rxByCounter[counter] ?? 0) + 1;
        this.opts.observe?.("rx", frame, counter);
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
  /** The firmware app (TAP_APPS); picks build/<app>.wasm unless wasm is given. Default bare. */
  app?: string;
  /** Drop this fraction of frames in each direction (seeded by seed): see TapRunnerOptions. */
  loss?: number;
  seed?: number;
  /** Keep a status file (connection table and counters) at this path while running. */
  statusFile?: string;
  /** Use an existing namespace (never deleted then). Default false: refuse an existing one. */
  reuseNetns?: boolean;
  /** Start the board with no address (for DHCP: dhcpStart(), then waitLease()). boardIp then only
   *  names the subnet check; session.boardIp is set by waitLease(). */
  addressless?: boolean;
  log?: (level: LogLevel, msg: string) => void;
  /** Called if the runner stops on an error (board panic, bridge died). */
  onError?: (err: Error) => void;
  /** Every frame received and sent, for tests (TapRunnerOptions.observe). */
  observe?: TapRunnerOptions["observe"];
}

export class TapSession {
  ns: Netns | undefined;
  board: Board | undefined;
  runner: TapRunner | undefined;
  boardIp = "";
  peerIp = "";
  tap = "";
  error: Error | undefined;
  status: StatusFile | undefined;
  private bridge: ChildProcess | undefined;
  private pcap: PcapWriter | undefined;
  private stopped = false;

  /** Create the namespace (refusing an existing one unless reuseNetns), the tap, the bridge and the board. */
  async start(opts: TapSessionOptions = {}): Promise<this> {
    if (this.ns) throw new Error("TapSession already started");
    const board = parseCidr(opts.boardIp ?? DEFAULTS.boardIp);
    const peer = parseCidr(opts.peerIp ?? DEFAULTS.peerIp);
    const mask = prefixToMask(peer.prefix);
    // With no address (DHCP) the board address is never used: a peer on any subnet is fine.
    if (!opts.addressless && board.ip === peer.ip) throw new Error(`board and peer have the same address ${board.ip}`);
    if (!opts.addressless && (((ipToU32(board.ip) ^ ipToU32(peer.ip)) & mask) !== 0 || board.prefix !== peer.prefix))
      throw new Error(`board ${opts.boardIp} and peer ${opts.peerIp} are not on the same subnet`);
    const wasm = opts.wasm ?? appWasm(opts.app ?? "bare");
    if (!existsSync(wasm)) throw new Error(`${wasm} not found (build the firmware images with: make build)`);
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
        loss: opts.loss,
        seed: opts.seed,
        observe: opts.observe,
        onError: (e) => {
          this.error = e;
          opts.onError?.(e);
        },
      });
      this.runner.start();
      // Socket calls from the host (board.tcp, bulk_start) may send frames or arm timers: poll soon.
      const runner = this.runner;
      this.board.onKick(() => runner.kick());
      if (opts.addressless) this.boardIp = "0.0.0.0";
      else this.board.setIpv4(board.ip, board.prefix);
      if (opts.statusFile) {
        this.status = new StatusFile(opts.statusFile, this.board, {
          netns: this.ns.name,
          app: opts.app ?? "bare",
          board: board.ip,
          peer: peer.ip,
        });
        this.status.start();
      }
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

  /** Wait until the board's DHCP client is BOUND (host/board/dhcp.ts); sets boardIp to the lease. */
  async waitLease(timeoutMs = 30_000): Promise<DhcpStatus> {
    const t0 = performance.now();
    for (;;) {
      if (this.error) throw this.error;
      const st = dhcpStatus(this.board!);
      if (st.state === "BOUND") {
        this.boardIp = st.address;
        return st;
      }
      if (performance.now() - t0 > timeoutMs) throw new Error(`no DHCP lease within ${timeoutMs} ms (state ${st.state})`);
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** Ping the board from the kernel (one echo at a time, `attempts` at most). True once one is answered. */
  async waitReachable(attempts = 10): Promise<boolean> {
    return pingUntilAnswered((c, a, o) => this.exec(c, a, o), this.boardIp, attempts, () => this.error);
  }

  /** Stop the board, close the bridge, write the pcap, delete the tap and (if ours) the namespace. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    let err: unknown;
    try {
      this.status?.stop();
    } catch (e) {
      err = e;
    }
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

export const TAP_APPS = ["greeter", "http", "echo", "udp-echo", "fetch", "ping", "bare"] as const;

/** The firmware image of an app: build/<app>.wasm; ping and bare run the bare core (build/wasmip.wasm). */
export function appWasm(app: string): string {
  if (app === "ping" || app === "bare") return DEFAULT_WASM;
  if (!/^[a-z0-9_-]+$/.test(app)) throw new Error(`bad app name "${app}"`);
  return path.join(ROOT, "build", `${app}.wasm`);
}

// ------------------------------------------------------------------------------------------
// The status file: the board's connection table and counters, for `wasmip netstat`.
// ------------------------------------------------------------------------------------------

export const STATUS_DIR = process.env.WASMIP_STATUS_DIR ?? "/run/wasmip";
/** The status file is rewritten at most this often (and only when something changed). */
export const STATUS_INTERVAL_MS = 200;

export function statusPath(netns: string): string {
  return path.join(STATUS_DIR, `${netns}.json`);
}

export interface StatusConnection {
  state: string;
  localIp: string;
  localPort: number;
  remoteIp: string;
  remotePort: number;
  sendQ: number;
  recvQ: number;
}

export interface TapStatus {
  netns: string;
  app: string;
  board: string;
  peer: string;
  pid: number;
  updated: string;
  connections: StatusConnection[];
  /** Non-zero counters only. */
  counters: Record<string, number>;
}

/** Writes a board's TapStatus to a file whenever it changed, at most every STATUS_INTERVAL_MS. */
export class StatusFile {
  private timer: NodeJS.Timeout | undefined;
  private last = "";
  writes = 0;

  constructor(
    readonly file: string,
    private readonly board: Board,
    private readonly meta: { netns: string; app: string; board: string; peer: string },
  ) {}

  snapshot(): Omit<TapStatus, "updated"> {
    const counters: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.board.counters())) if (v) counters[k] = v;
    return {
      ...this.meta,
      pid: process.pid,
      connections: this.board.tcpTable().map((r) => ({
        state: r.state,
        localIp: u32ToIp(r.localIp),
        localPort: r.localPort,
        remoteIp: u32ToIp(r.remoteIp),
        remotePort: r.remotePort,
        sendQ: r.sendQ,
        recvQ: r.recvQ,
      })),
      counters,
    };
  }

  /** Write the file now if anything changed since the last write. */
  update(): void {
    const snap = this.snapshot();
    const key = JSON.stringify(snap);
    if (key === this.last) return;
    this.last = key;
    const body = JSON.stringify({ ...snap, updated: new Date().toISOString() }, null, 2) + "\n";
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, body);
    renameSync(tmp, this.file); // readers never see half a file
    this.writes++;
  }

  start(): void {
    this.update();
    this.timer = setInterval(() => {
      try {
        this.update();
      } catch {
        // A full disk must not stop the board; the next tick tries again.
      }
    }, STATUS_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stop updating and remove the file. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    rmSync(this.file, { force: true });
    rmSync(`${this.file}.${process.pid}.tmp`, { force: true });
  }
}

/** Read a status file; throws a readable error when it is missing. */
export function readStatus(netns: string): TapStatus {
  const file = statusPath(netns);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new Error(`no status for namespace ${netns} (${file}): is \`wasmip tap --netns ${netns}\` running?`);
  }
  return JSON.parse(text) as TapStatus;
}

/** A status as netstat prints it: the connection table (-tn), then the non-zero counters (-s). */
export function formatStatus(st: TapStatus): string {
  const rows: TcpTableRow[] = st.connections.map((c) => ({
    state: c.state as TcpTableRow["state"],
    localIp: ipToU32(c.localIp),
    localPort: c.localPort,
    remoteIp: ipToU32(c.remoteIp),
    remotePort: c.remotePort,
    sendQ: c.sendQ,
    recvQ: c.recvQ,
  }));
  const lines = [
    `Board ${st.board} (app ${st.app}) in namespace ${st.netns}, kernel at ${st.peer}; updated ${st.updated}`,
    "Active Internet connections (servers and established)",
    ...formatTcpTable(rows),
    "",
    ...formatCounters(st.counters),
  ];
  return lines.join("\n") + "\n";
}

const NETSTAT_USAGE = `usage: wasmip netstat [--netns NAME]

Prints the connection table and the non-zero counters of the board that \`wasmip tap --netns NAME\`
is running (read from ${STATUS_DIR}/NAME.json, which it updates at most every ${STATUS_INTERVAL_MS} ms).
  --netns NAME   default ${DEFAULTS.netns}`;

export function netstatCommand(args: string[]): number {
  let netns: string = DEFAULTS.netns;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-h" || a === "--help") {
      console.log(NETSTAT_USAGE);
      return 0;
    }
    if (a === "--netns" && args[i + 1] !== undefined) netns = args[++i];
    else if (a.startsWith("--netns=")) netns = a.slice("--netns=".length);
    else {
      console.error(`wasmip netstat: unknown option ${a}\n\n${NETSTAT_USAGE}`);
      return 2;
    }
  }
  try {
    const st = readStatus(netns);
    let alive = true;
    try {
      process.kill(st.pid, 0);
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === "EPERM";
    }
    if (!alive) console.error(`wasmip netstat: warning: the wasmip tap that wrote this (pid ${st.pid}) is gone; the data is stale`);
    process.stdout.write(formatStatus(st));
    return 0;
  } catch (e) {
    console.error(`wasmip netstat: ${(e as Error).message}`);
    return 1;
  }
}

const USAGE = `usage: wasmip tap [--netns NAME] [--board-ip A/len] [--peer-ip B/len] [--app greeter|http|echo|ping|bare]
                 [--count N] [--pcap FILE] [--wasm FILE] [--mac MAC] [--tap IFNAME] [--log-level LEVEL]
                 [--loss P] [--seed N] [--dhcp]

Runs the wasmip core on a real TAP device in network namespace NAME (created if absent, and
then deleted on exit), with the kernel at the peer address as its peer. Prints "ready" once the
board answers a ping from the kernel, then runs until SIGINT/SIGTERM.
  --netns NAME       default ${DEFAULTS.netns}
  --board-ip A/len   the board's address, default ${DEFAULTS.boardIp}
  --peer-ip B/len    the kernel's address on the tap, default ${DEFAULTS.peerIp}
  --app NAME         bare (the bare stack: ARP, ICMP echo; the default), ping (as bare,
                     and the board also pings the peer --count times, once a second),
                     greeter (TCP 54321: a greeting, then close), http (an HTTP/1.1 server
                     on TCP 80: / and /status), echo (TCP echo on 7, discard on 9);
                     the apps run build/<app>.wasm (make build)
  --count N          echo requests the ping app sends (1..1000), default 4
  --pcap FILE        capture both directions to a pcap file
  --wasm FILE        the firmware image, default: the app's
  --loss P           drop this fraction of frames (0..1 or N%) in each direction, default 0
  --seed N           seed of the loss PRNG, default 1
  --mac MAC          the board's MAC, default ${DEFAULTS.mac}
  --tap IFNAME       the tap's name inside the namespace, default ${DEFAULTS.tap}
  --log-level LEVEL  error|warn|info|debug: board log lines shown on stderr, default info
  --dhcp             boot the board with no address: dnsmasq (dnsmasq-base) runs in the namespace
                     on the tap (pool .100-.199 of the peer's subnet, router and DNS = the peer),
                     the board leases an address (prints "leased A/len ..."), then "ready";
                     DHCPRELEASE on exit

While running it keeps ${STATUS_DIR}/NAME.json (connection table, counters) for \`wasmip netstat\`.

Try it (another shell): ip netns exec ${DEFAULTS.netns} ping ${DEFAULTS.boardIp.split("/")[0]}
                       ip netns exec ${DEFAULTS.netns} curl http://${DEFAULTS.boardIp.split("/")[0]}/ (with --app http)`;

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
  loss: number;
  seed: number;
  dhcp?: boolean;
}

/** Parse `wasmip tap` flags (also `wasmip qemu`'s: host/devices/qemu.ts). Throws on anything malformed. */
export function parseTapArgs(args: string[], apps: readonly string[] = TAP_APPS): TapArgs | "help" {
  const out: TapArgs = { netns: DEFAULTS.netns, boardIp: DEFAULTS.boardIp, peerIp: DEFAULTS.peerIp, app: "bare", count: 4, mac: DEFAULTS.mac, tap: DEFAULTS.tap, logLevel: "info", loss: 0, seed: 1 };
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
  if (!apps.includes(out.app)) throw new Error(`unknown app "${out.app}": this command runs ${apps.join(", ")} for now`);
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

/** The DHCP server of `--dhcp` (wasmip tap and wasmip qemu): dnsmasq on the tap in the namespace,
 *  pool .100-.199 of the peer's subnet, router and DNS server = the peer, 12 h leases. */
export function dhcpServer(where: Spawner, tap: string, peerCidr: string): Dnsmasq {
  const peer = parseCidr(peerCidr);
  const net = ipToU32(peer.ip) & prefixToMask(peer.prefix);
  const at = (k: number) => u32ToIp((net + k) >>> 0);
  return new Dnsmasq(where, { tap, rangeStart: at(100), rangeEnd: at(199), lease: "12h", router: peer.ip, dns: [peer.ip] });
}

/** --dhcp: dnsmasq on the tap, then the board's DHCP client; prints the lease. */
async function tapDhcp(session: TapSession, opts: TapArgs): Promise<Dnsmasq> {
  const peer = parseCidr(opts.peerIp);
  const server = dhcpServer(session, opts.tap, opts.peerIp);
  try {
    await server.ready();
    const t0 = performance.now();
    dhcpStart(session.board!, "wasmip-board");
    const st = await session.waitLease(60_000);
    const c = session.board!.counters();
    console.log(
      `leased ${st.address}/${peer.prefix} gw ${st.router} dns ${st.dns.join(",") || "-"} from ${st.server}, lease ${st.leaseRemaining} s ` +
        `(${(performance.now() - t0).toFixed(0)} ms, ${c.dhcp_discovers_sent} DISCOVER, ${c.dhcp_requests_sent} REQUEST)`,
    );
  } catch (e) {
    await server.stop().catch(() => {});
    throw e;
  }
  return server;
}

/** The start `wasmip tap` and `wasmip qemu` share: the parsed flags, or the exit code after
 *  printing the usage (0), a bad flag (2) or that root is needed (1). */
export function commandOptions(name: string, usage: string, parse: () => TapArgs | "help"): TapArgs | number {
  let p: TapArgs | "help";
  try {
    p = parse();
  } catch (e) {
    console.error(`wasmip ${name}: ${(e as Error).message}\n\n${usage}`);
    return 2;
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

export async function tapCommand(args: string[]): Promise<number> {
  const parsed = commandOptions("tap", USAGE, () => parseTapArgs(args));
  if (typeof parsed === "number") return parsed;
  const opts = parsed;

  const maxLevel = LOG_LEVELS.indexOf(opts.logLevel);
  const log = (level: LogLevel, msg: string) => {
    if (LOG_LEVELS.indexOf(level) <= maxLevel) process.stderr.write(`[board ${level}] ${msg}\n`);
  };

  const stop = new StopSignals();
  const session = new TapSession();
  let dhcpServer: Dnsmasq | undefined;
  let code = 0;
  try {
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
      app: opts.app,
      loss: opts.loss,
      seed: opts.seed,
      statusFile: statusPath(opts.netns),
      reuseNetns: true,
      addressless: opts.dhcp,
      log,
      onError: (e) => stop.wake(`error: ${e.message}`),
    });
    if (opts.dhcp && !stop.why) dhcpServer = await tapDhcp(session, opts);
    console.error(`wasmip tap: board ${session.boardIp} (${session.board!.macString}, app ${opts.app}) on ${opts.tap} in namespace ${opts.netns}, kernel at ${session.peerIp}`);
    if (opts.loss > 0) console.error(`wasmip tap: dropping ${(opts.loss * 100).toFixed(1)}% of frames each way (seed ${opts.seed})`);
    console.error(`wasmip tap: status in ${statusPath(opts.netns)} (wasmip netstat --netns ${opts.netns})`);
    let ready = false;
    for (let i = 0; i < 10 && !stop.why && !ready; i++) ready = await session.waitReachable(1);
    if (stop.why) {
      // Stopped before ready: fall through to cleanup.
    } else if (!ready) {
      console.error(`wasmip tap: the board did not answer ping from ${session.peerIp}`);
      code = 1;
    } else {
      console.log("ready");
      if (opts.app === "ping") void boardPings(session, opts.count, () => stop.why !== undefined);
      const why = await stop.done;
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
    if (dhcpServer) {
      try {
        dhcpRelease(session.board!);
        for (let i = 0; i < 50 && dhcpStatus(session.board!).state !== "STOPPED"; i++) await new Promise((r) => setTimeout(r, 10));
      } catch {
        // the board is gone: nothing to release
      }
      await dhcpServer.stop().catch(() => {});
    }
    try {
      await session.stop();
    } catch (e) {
      console.error(`wasmip tap: cleanup: ${(e as Error).message}`);
      code = 1;
    }
    stop.dispose();
  }
  return code;
}
