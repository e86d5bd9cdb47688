// The real-time runner of a Board on a TAP device: one Board <-> one build/tap-bridge process,
// which relays the tap's frames over a pipe with a 2-byte big-endian length prefix. The runner
// feeds received frames to input(), writes transmitted ones to the bridge, and re-arms a timer
// for the deadline poll() returns; optionally it captures both directions and drops frames.
import { execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { ROOT, type Board } from "../board/board.ts";
import type { PcapWriter } from "../capture/pcap.ts";
import { Prng } from "../sim/prng.ts";

export const BRIDGE_SRC = path.join(ROOT, "host", "devices", "tap-bridge.c");
export const BRIDGE_BIN = path.join(ROOT, "build", "tap-bridge");

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
