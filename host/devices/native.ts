// Boards that run as a process of their own on a TAP device in a network namespace: the native
// posix board (boards/posix/build/wasmip-<app>: the firmware .wasm compiled to C by wasm2c) and
// the emulated MPS2 AN385 (host/devices/qemu.ts: QEMU running the Cortex-M3 firmware). Both get the same
// namespace and tap setup as TapSession (netns.ts); the board process runs inside the namespace.
// Its output protocol is the same: log lines "[level] message" (to opts.log), "leased A/len gw G"
// with DHCP, then "ready" once it is up. stop() ends it by pid (SIGTERM, then SIGKILL) and
// deletes the tap and the namespace.
//
// The posix board logs on stderr, prints "ready" and (on SIGTERM) its counters on stdout, and
// exits with status 3 and "wasmip: trap in <export>(): <kind>" on stderr after a trap.
import { existsSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { ipToU32, prefixToMask, parseCidr } from "../board/address.ts";
import { ROOT, LOG_LEVELS, type LogLevel } from "../board/board.ts";
import { Netns, killChild, pingUntilAnswered, type RunOptions, type RunResult } from "./netns.ts";
import { DEFAULTS } from "./tap.ts";

export const NATIVE_DIR = path.join(ROOT, "boards", "posix", "build");

/** The native binary of an app (bare and ping run the bare core, like appWasm). */
export function nativeBinary(app: string): string {
  const name = app === "ping" ? "bare" : app;
  if (!/^[a-z0-9_-]+$/.test(name)) throw new Error(`bad app name "${app}"`);
  return path.join(NATIVE_DIR, `wasmip-${name}`);
}

export interface BoardProcessOptions {
  netns?: string;
  tap?: string;
  /** The board's address; with dhcp it only names the subnet check (boardIp comes from the lease). */
  boardIp?: string;
  peerIp?: string;
  pcap?: string;
  mac?: string;
  app?: string;
  /** Boot with no address and lease one ("leased A/len gw G" before "ready" sets boardIp). */
  dhcp?: boolean;
  /** Runs once the namespace and the tap exist, before the board starts (e.g. a DHCP server). */
  beforeBoot?: (ns: Netns) => Promise<void>;
  /** Use an existing namespace (never deleted then). Default false: refuse an existing one. */
  reuseNetns?: boolean;
  log?: (level: LogLevel, msg: string) => void;
  /** Every other line the board writes, as it comes. */
  onOutput?: (stream: "stdout" | "stderr", line: string) => void;
  /** Called when the board exits by itself (a trap, a crash, a reset). */
  onError?: (err: Error) => void;
  /** How long to wait for "ready". */
  readyTimeoutMs?: number;
}

/** What a subclass runs inside the namespace. */
export interface BoardCommand {
  cmd: string;
  args: string[];
}

/** A board process on a tap in a namespace of its own (see the file comment). */
export abstract class BoardProcessSession {
  ns: Netns | undefined;
  proc: ChildProcess | undefined;
  boardIp = "";
  peerIp = "";
  mac = "";
  tap = "";
  /** With dhcp: the lease the board printed. */
  lease: { ip: string; prefix: number; gw: string } | undefined;
  /** Set when the board exited while it should have been running. */
  error: Error | undefined;
  /** Everything it wrote on each stream, less the log lines. */
  stdout = "";
  stderr = "";
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  protected exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private stopped = false;

  /** "native board", "mps2 board": for messages. */
  protected abstract readonly what: string;
  /** The stream that carries "[level] message" log lines. */
  protected abstract readonly logStream: "stdout" | "stderr";
  protected readonly defaultReadyTimeoutMs: number = 10_000;
  /** The command to run in the namespace, once the tap exists. */
  protected abstract command(o: { boardCidr: string; peer: { ip: string; prefix: number }; opts: BoardProcessOptions }): BoardCommand;
  /** Checks before anything is created (a missing file). */
  protected abstract preflight(opts: BoardProcessOptions): void;
  /** What to quote when the board fails: its own messages. */
  protected diagnostics(): string {
    return this.stderr.trim();
  }
  /** The flags of a board built on boards/common/posix_host.c (the posix and WAMR boards). */
  protected posixArgs(o: { boardCidr: string; opts: BoardProcessOptions }): string[] {
    const args = ["--tap", this.tap, ...(o.opts.dhcp ? ["--dhcp"] : ["--board-ip", o.boardCidr]), "--mac", this.mac];
    if (o.opts.pcap) args.push("--pcap", o.opts.pcap);
    return args;
  }
  /** Extra cleanup after the board and the namespace are gone. */
  protected cleanup(): void {}

  async start(opts: BoardProcessOptions = {}): Promise<this> {
    if (this.ns) throw new Error(`${this.what} session already started`);
    const board = parseCidr(opts.boardIp ?? DEFAULTS.boardIp);
    const peer = parseCidr(opts.peerIp ?? DEFAULTS.peerIp);
    // With DHCP the board address is never used: a peer on any subnet is fine.
    if (!opts.dhcp && board.ip === peer.ip) throw new Error(`board and peer have the same address ${board.ip}`);
    if (!opts.dhcp && (((ipToU32(board.ip) ^ ipToU32(peer.ip)) & prefixToMask(peer.prefix)) !== 0 || board.prefix !== peer.prefix))
      throw new Error(`board ${opts.boardIp} and peer ${opts.peerIp} are not on the same subnet`);
    this.preflight(opts);
    this.boardIp = opts.dhcp ? "0.0.0.0" : board.ip;
    this.peerIp = peer.ip;
    this.mac = opts.mac ?? DEFAULTS.mac;
    this.tap = opts.tap ?? DEFAULTS.tap;
    try {
      this.ns = await Netns.create(opts.netns ?? DEFAULTS.netns, { reuseExisting: opts.reuseNetns });
      await this.ns.addTap(this.tap, `${peer.ip}/${peer.prefix}`);
      await opts.beforeBoot?.(this.ns);
      const { cmd, args } = this.command({ boardCidr: `${board.ip}/${board.prefix}`, peer, opts });
      const proc = this.ns.spawn(cmd, args);
      this.proc = proc;
      this.exited = new Promise((resolve) =>
        proc.once("exit", (code, sig) => {
          this.exitCode = code;
          this.exitSignal = sig;
          if (!this.stopping) {
            this.error = new Error(`${this.what} exited (${code ?? sig}) while running: ${this.diagnostics()}`);
            opts.onError?.(this.error);
          }
          resolve();
        }),
      );
      for (const stream of ["stdout", "stderr"] as const) {
        let buf = "";
        proc[stream]!.setEncoding("utf8").on("data", (d: string) => {
          buf += d;
          let nl: number;
          while ((nl = buf.indexOf("\n")) >= 0) {
            const line = buf.slice(0, nl).replace(/\r$/, "");
            buf = buf.slice(nl + 1);
            const m = stream === this.logStream ? /^\[(error|warn|info|debug)\] (.*)$/.exec(line) : null;
            if (m && (LOG_LEVELS as readonly string[]).includes(m[1])) opts.log?.(m[1] as LogLevel, m[2]);
            else {
              this[stream] += line + "\n";
              opts.onOutput?.(stream, line);
            }
          }
        });
      }
      await this.waitReady(opts.readyTimeoutMs ?? this.defaultReadyTimeoutMs);
      if (opts.dhcp) {
        const m = /^leased (\d+\.\d+\.\d+\.\d+)\/(\d+) gw (\S+)$/m.exec(this.stdout);
        if (!m) throw new Error(`${this.what} printed ready without a lease: ${this.stdout.trim()}`);
        this.lease = { ip: m[1], prefix: Number(m[2]), gw: m[3] };
        this.boardIp = m[1];
      }
    } catch (e) {
      await this.stop().catch(() => {});
      throw e;
    }
    return this;
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!/^ready$/m.test(this.stdout)) {
      if (this.exitCode !== null || this.exitSignal !== null)
        throw new Error(`${this.what} exited (${this.exitCode ?? this.exitSignal}) before ready: ${this.diagnostics()}`);
      if (Date.now() > deadline) throw new Error(`${this.what} not ready within ${timeoutMs} ms: ${this.diagnostics()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** After stop(): the board shut down on our SIGTERM (the posix board exits 0). */
  get stoppedCleanly(): boolean {
    return this.exitCode === 0;
  }

  /** Wait (bounded) until the board exits by itself; resolves with its exit code (null: timed out). */
  async waitExit(timeoutMs: number): Promise<number | null> {
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, timeoutMs))]);
    return this.exitCode;
  }

  exec(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    if (!this.ns) return Promise.reject(new Error(`${this.what} session not started`));
    return this.ns.exec(cmd, args, opts);
  }

  spawn(cmd: string, args: string[]): ChildProcess {
    if (!this.ns) throw new Error(`${this.what} session not started`);
    return this.ns.spawn(cmd, args);
  }

  async waitReachable(attempts = 10): Promise<boolean> {
    return pingUntilAnswered((c, a, o) => this.exec(c, a, o), this.boardIp, attempts, () => this.error);
  }

  /** SIGTERM the board (SIGKILL after a grace period, by pid), delete the tap and the namespace. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.stopping = true;
    let err: unknown;
    try {
      if (this.proc) {
        // `ip netns exec` execs the board, so the pid is the board's own.
        await killChild(this.proc, 3000);
        await this.exited;
      }
    } catch (e) {
      err = e;
    }
    try {
      await this.ns?.destroy();
    } catch (e) {
      err ??= e;
    }
    try {
      this.cleanup();
    } catch (e) {
      err ??= e;
    }
    if (err) throw err;
  }
}

export interface NativeSessionOptions extends BoardProcessOptions {
  /** A binary to run instead of nativeBinary(app) (the trap tests). */
  binary?: string;
}

export class NativeSession extends BoardProcessSession {
  protected readonly what = "native board";
  protected readonly logStream = "stderr";

  override start(opts: NativeSessionOptions = {}): Promise<this> {
    return super.start(opts);
  }

  private bin(opts: NativeSessionOptions): string {
    return opts.binary ?? nativeBinary(opts.app ?? "bare");
  }

  protected preflight(opts: NativeSessionOptions): void {
    const bin = this.bin(opts);
    if (!existsSync(bin)) throw new Error(`${path.relative(ROOT, bin)} not found (build the native board with: make boards)`);
  }

  protected command(o: { boardCidr: string; opts: NativeSessionOptions }): BoardCommand {
    return { cmd: this.bin(o.opts), args: this.posixArgs(o) };
  }
}
