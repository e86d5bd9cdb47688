// The native posix board (boards/posix/build/wasmip-<app>: the firmware .wasm compiled to C by
// wasm2c) on a TAP device in a network namespace: the same namespace and tap setup as TapSession
// (netns.ts), with the native binary run inside the namespace in place of the Node board and
// build/tap-bridge. Its log lines ("[level] message" on stderr) go to opts.log; "ready" on stdout
// means it is up; SIGTERM stops it (it prints its counters and exits 0); a trap inside the module
// ends it with status 3 and "wasmip: trap in <export>(): <kind>" on stderr.
import { existsSync } from "node:fs";
import type { ChildProcess } from "node:child_process";
import path from "node:path";
import { ROOT, ipToU32, prefixToMask, LOG_LEVELS, type LogLevel } from "./board.ts";
import { Netns, killChild, pingUntilAnswered, type RunOptions, type RunResult } from "./netns.ts";
import { DEFAULTS, parseCidr } from "./tap.ts";

export const NATIVE_DIR = path.join(ROOT, "boards", "posix", "build");

/** The native binary of an app (bare and ping run the bare core, like appWasm). */
export function nativeBinary(app: string): string {
  const name = app === "ping" ? "bare" : app;
  if (!/^[a-z0-9_-]+$/.test(name)) throw new Error(`bad app name "${app}"`);
  return path.join(NATIVE_DIR, `wasmip-${name}`);
}

export interface NativeSessionOptions {
  netns?: string;
  tap?: string;
  boardIp?: string;
  peerIp?: string;
  pcap?: string;
  mac?: string;
  app?: string;
  /** A binary to run instead of nativeBinary(app) (the trap tests). */
  binary?: string;
  log?: (level: LogLevel, msg: string) => void;
  /** Called when the board exits by itself (a trap, a crash). */
  onError?: (err: Error) => void;
  /** How long to wait for "ready". Default 10 s. */
  readyTimeoutMs?: number;
}

export class NativeSession {
  ns: Netns | undefined;
  proc: ChildProcess | undefined;
  boardIp = "";
  peerIp = "";
  mac = "";
  tap = "";
  /** Set when the board exited while it should have been running. */
  error: Error | undefined;
  /** Everything it wrote: stdout (ready, counters at exit) and stderr lines that are not log lines. */
  stdout = "";
  stderr = "";
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  private exited: Promise<void> = Promise.resolve();
  private stopping = false;
  private stopped = false;

  async start(opts: NativeSessionOptions = {}): Promise<this> {
    if (this.ns) throw new Error("NativeSession already started");
    const board = parseCidr(opts.boardIp ?? DEFAULTS.boardIp);
    const peer = parseCidr(opts.peerIp ?? DEFAULTS.peerIp);
    if (board.ip === peer.ip) throw new Error(`board and peer have the same address ${board.ip}`);
    if (((ipToU32(board.ip) ^ ipToU32(peer.ip)) & prefixToMask(peer.prefix)) !== 0 || board.prefix !== peer.prefix)
      throw new Error(`board ${opts.boardIp} and peer ${opts.peerIp} are not on the same subnet`);
    const bin = opts.binary ?? nativeBinary(opts.app ?? "bare");
    if (!existsSync(bin)) throw new Error(`${path.relative(ROOT, bin)} not found (build the native board with: make boards)`);
    this.boardIp = board.ip;
    this.peerIp = peer.ip;
    this.mac = opts.mac ?? DEFAULTS.mac;
    this.tap = opts.tap ?? DEFAULTS.tap;
    try {
      this.ns = await Netns.create(opts.netns ?? DEFAULTS.netns);
      await this.ns.addTap(this.tap, `${peer.ip}/${peer.prefix}`);
      const args = ["--tap", this.tap, "--board-ip", `${board.ip}/${board.prefix}`, "--mac", this.mac];
      if (opts.pcap) args.push("--pcap", opts.pcap);
      const proc = this.ns.spawn(bin, args);
      this.proc = proc;
      this.exited = new Promise((resolve) =>
        proc.once("exit", (code, sig) => {
          this.exitCode = code;
          this.exitSignal = sig;
          if (!this.stopping) {
            this.error = new Error(`native board exited (${code ?? sig}) while running: ${this.stderr.trim()}`);
            opts.onError?.(this.error);
          }
          resolve();
        }),
      );
      proc.stdout!.setEncoding("utf8").on("data", (d: string) => (this.stdout += d));
      let buf = "";
      proc.stderr!.setEncoding("utf8").on("data", (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          const m = /^\[(error|warn|info|debug)\] (.*)$/.exec(line);
          if (m && (LOG_LEVELS as readonly string[]).includes(m[1])) opts.log?.(m[1] as LogLevel, m[2]);
          else this.stderr += line + "\n";
        }
      });
      await this.waitReady(opts.readyTimeoutMs ?? 10_000);
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
        throw new Error(`native board exited (${this.exitCode ?? this.exitSignal}) before ready: ${this.stderr.trim()}`);
      if (Date.now() > deadline) throw new Error(`native board not ready within ${timeoutMs} ms: ${this.stderr.trim()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Wait (bounded) until the board exits by itself; resolves with its exit code (null: timed out). */
  async waitExit(timeoutMs: number): Promise<number | null> {
    await Promise.race([this.exited, new Promise((r) => setTimeout(r, timeoutMs))]);
    return this.exitCode;
  }

  exec(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    if (!this.ns) return Promise.reject(new Error("NativeSession not started"));
    return this.ns.exec(cmd, args, opts);
  }

  spawn(cmd: string, args: string[]): ChildProcess {
    if (!this.ns) throw new Error("NativeSession not started");
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
        // `ip netns exec` execs the binary, so the pid is the board's own.
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
    if (err) throw err;
  }
}
