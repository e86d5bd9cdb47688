// Crafted frames from the kernel's side of a TapSession's tap: build/pkt-inject (host/devices/pkt-inject.c)
// run inside the session's namespace, fed length-prefixed frames on its stdin. It sends only what
// it is given, only on that tap, at most `rate` frames a second; close() ends it and waits.
import { execFileSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, statSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../board/board.ts";
import type { TapSession } from "./tap.ts";

export const INJECT_SRC = path.join(ROOT, "host", "devices", "pkt-inject.c");
export const INJECT_BIN = path.join(ROOT, "build", "pkt-inject");

/** Build build/pkt-inject when it is missing or older than its source. */
export function ensureInjector(): string {
  const fresh = existsSync(INJECT_BIN) && statSync(INJECT_BIN).mtimeMs >= statSync(INJECT_SRC).mtimeMs;
  if (!fresh) {
    mkdirSync(path.dirname(INJECT_BIN), { recursive: true });
    execFileSync("gcc", ["-O2", "-Wall", "-o", INJECT_BIN, INJECT_SRC], { stdio: ["ignore", "inherit", "inherit"] });
  }
  return INJECT_BIN;
}

export class Injector {
  private readonly proc: ChildProcess;
  private stderr = "";
  private readonly ready: Promise<void>;

  constructor(session: TapSession, rate = 0) {
    this.proc = session.spawn(ensureInjector(), [session.tap, String(rate)]);
    this.proc.stderr!.setEncoding("utf8").on("data", (d: string) => (this.stderr += d));
    this.proc.stdin!.on("error", () => {});
    this.ready = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`pkt-inject not ready: ${this.stderr}`)), 5000);
      const check = () => {
        if (this.stderr.includes("pkt-inject: ready")) {
          clearTimeout(timer);
          resolve();
        }
      };
      this.proc.stderr!.on("data", check);
      this.proc.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`pkt-inject exited (${code}): ${this.stderr}`));
      });
    });
  }

  /** Queue frames; resolves when the pipe has taken them (not when they are on the wire). */
  async send(frames: Uint8Array | Uint8Array[]): Promise<void> {
    await this.ready;
    const list = Array.isArray(frames) ? frames : [frames];
    const parts: Buffer[] = [];
    for (const f of list) {
      const h = Buffer.allocUnsafe(2);
      h.writeUInt16BE(f.length, 0);
      parts.push(h, Buffer.from(f));
    }
    const ok = this.proc.stdin!.write(Buffer.concat(parts));
    if (!ok) await new Promise((r) => this.proc.stdin!.once("drain", r));
  }

  /** End the input and wait for the process to exit; returns how many frames it sent. */
  async close(timeoutMs = 120_000): Promise<{ sent: number; failed: number }> {
    await this.ready.catch(() => {});
    this.proc.stdin!.end();
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([
      new Promise<boolean>((r) => (this.proc.exitCode !== null ? r(true) : this.proc.once("exit", () => r(true)))),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!exited) this.proc.kill("SIGKILL");
    const m = /pkt-inject: sent (\d+), failed (\d+)/.exec(this.stderr);
    if (!m) throw new Error(`pkt-inject: ${exited ? "no summary" : "killed after " + timeoutMs + " ms"}: ${this.stderr}`);
    return { sent: Number(m[1]), failed: Number(m[2]) };
  }
}
