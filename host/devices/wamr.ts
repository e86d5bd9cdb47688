// The Linux WAMR board (boards/wamr/build/wasmip-wamr, or wasmip-wamr-classic): the firmware .wasm
// itself, loaded at run time into WAMR's interpreter, the runtime of the ESP32 board. Same flags,
// output and exit statuses as the posix board (native.ts), plus --wasm IMAGE; after the counters
// it prints the pool's peak ("wamr_pool_highmark N", "wamr_pool_size N").
import { existsSync } from "node:fs";
import path from "node:path";
import { ROOT, appWasm } from "../board/board.ts";
import { BoardProcessSession, type BoardCommand, type BoardProcessOptions } from "./native.ts";

export const WAMR_DIR = path.join(ROOT, "boards", "wamr", "build");
export type WamrInterp = "fast" | "classic";

/** The board binary of an interpreter. */
export function wamrBinary(interp: WamrInterp = "fast"): string {
  return path.join(WAMR_DIR, interp === "fast" ? "wasmip-wamr" : "wasmip-wamr-classic");
}

export interface WamrSessionOptions extends BoardProcessOptions {
  interp?: WamrInterp;
  /** An image to run instead of appWasm(app). */
  wasm?: string;
}

export class WamrSession extends BoardProcessSession {
  protected readonly what = "wamr board";
  protected readonly logStream = "stderr";

  override start(opts: WamrSessionOptions = {}): Promise<this> {
    return super.start(opts);
  }

  /** After stop(): the pool's peak the board printed (bytes), or undefined. */
  get poolHighmark(): number | undefined {
    const m = /^wamr_pool_highmark (\d+)$/m.exec(this.stdout);
    return m ? Number(m[1]) : undefined;
  }

  private files(opts: WamrSessionOptions): { bin: string; wasm: string } {
    return { bin: wamrBinary(opts.interp), wasm: opts.wasm ?? appWasm(opts.app ?? "bare") };
  }

  protected preflight(opts: WamrSessionOptions): void {
    const { bin, wasm } = this.files(opts);
    if (!existsSync(bin)) throw new Error(`${path.relative(ROOT, bin)} not found (build the WAMR board with: make boards)`);
    if (!existsSync(wasm)) throw new Error(`${path.relative(ROOT, wasm)} not found (build the images with: make build)`);
  }

  protected command(o: { boardCidr: string; opts: WamrSessionOptions }): BoardCommand {
    const { bin, wasm } = this.files(o.opts);
    return { cmd: bin, args: ["--wasm", wasm, ...this.posixArgs(o)] };
  }
}
