// The MPS2 AN385 board (boards/mps2-an385: Cortex-M3 firmware, LAN9118 Ethernet) emulated by QEMU
// (Debian qemu-system-arm), on a TAP device in a network namespace: the same namespace and tap
// setup as the other boards (native.ts BoardProcessSession). QEMU runs inside the namespace and
// opens the tap by name; the board's UART0 is QEMU's stdout ("[level] message" log lines, "leased
// ...", "ready"), a character on QEMU's stdin is a console command ('s': counters). The address
// and DHCP choice reach the firmware as its configuration block (boards/mps2-an385/config.h),
// which QEMU loads into the image memory at 0x003ff000 (-device loader). With -no-reboot a board
// reset (after a trap or a fault) ends QEMU. stop() ends QEMU by its pid.
//
//   wasmip qemu [--app http] [--netns NAME] [--board-ip A/len | --dhcp] [--peer-ip B/len] [--pcap FILE] ...
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createConnection } from "node:net";
import { crc32 } from "node:zlib";
import { ipToU32, parseCidr, prefixToMask } from "../board/address.ts";
import { APPS } from "../board/apps.ts";
import { ROOT, LOG_LEVELS, type LogLevel } from "../board/board.ts";
import { BoardProcessSession, type BoardCommand, type BoardProcessOptions } from "./native.ts";
import { DEFAULTS } from "./tap.ts";

export const MPS2_DIR = path.join(ROOT, "boards", "mps2-an385");
export const QEMU = "qemu-system-arm";
/** Where the firmware reads its configuration block (boards/mps2-an385/config.h). */
export const CONFIG_ADDR = 0x003ff000;
const CONFIG_MAGIC = 0x6370696d;
const CONFIG_VERSION = 1;
/** The apps `wasmip qemu` runs: those whose behaviour is the image's (host/board/apps.ts). */
export const QEMU_APPS: readonly string[] = APPS.filter((a) => !a.hostOnly).map((a) => a.name);

/**
 * The runtime the firmware image runs on (boards/mps2-an385 `make RUNTIME=...`): wasm2c's C, WAMR's
 * fast or classic interpreter on the .wasm in flash, or WAMR's AOT loader on wamrc's XIP image.
 */
export type Mps2Runtime = "wasm2c" | "wamr-fast" | "wamr-classic" | "wamr-aot";
export const MPS2_RUNTIMES: readonly Mps2Runtime[] = ["wasm2c", "wamr-fast", "wamr-classic", "wamr-aot"];

/** The firmware image (ELF) of an app on a runtime (wasm2c: build/wasmip-<app>.elf, else build/wasmip-<app>-<runtime>.elf). */
export function qemuImage(app: string, runtime: Mps2Runtime = "wasm2c"): string {
  const name = app === "ping" ? "bare" : app;
  if (!/^[a-z0-9_-]+$/.test(name)) throw new Error(`bad app name "${app}"`);
  return path.join(MPS2_DIR, "build", `wasmip-${name}${runtime === "wasm2c" ? "" : `-${runtime}`}.elf`);
}

/** Build the image of app if it is missing or stale (make -C boards/mps2-an385 APP=app RUNTIME=runtime); output to stderr. */
export function buildQemuImage(app: string, runtime: Mps2Runtime = "wasm2c"): string {
  const name = app === "ping" ? "bare" : app;
  const args = ["--no-print-directory", "-s", "-C", MPS2_DIR, `APP=${name}`, `RUNTIME=${runtime}`];
  try {
    execFileSync("make", args, { stdio: ["ignore", process.stderr, process.stderr] });
  } catch (e) {
    throw new Error(`building ${path.relative(ROOT, qemuImage(app, runtime))} failed (make ${args.slice(2).join(" ")}): ${(e as Error).message}`);
  }
  return qemuImage(app, runtime);
}

export interface BoardConfig {
  ip?: string; // "A.B.C.D/len"; ignored with dhcp
  gw?: string;
  dhcp?: boolean;
  /** With dhcp: the prefix printed in "leased A/len". */
  leasePrefix?: number;
  logLevel?: LogLevel;
  mac?: string;
}

/** The firmware's configuration block: 12 little-endian u32 words, the last a CRC-32 of the others. */
export function configBlock(c: BoardConfig): Buffer {
  const b = Buffer.alloc(48);
  const cidr = c.dhcp ? undefined : parseCidr(c.ip ?? DEFAULTS.boardIp);
  const mac = (c.mac ?? DEFAULTS.mac).split(":").map((h) => parseInt(h, 16));
  if (mac.length !== 6 || mac.some((x) => !(x >= 0 && x <= 255))) throw new Error(`bad MAC ${c.mac}`);
  const words = [
    CONFIG_MAGIC,
    CONFIG_VERSION,
    c.dhcp ? 1 : 0,
    cidr ? ipToU32(cidr.ip) : 0,
    cidr ? prefixToMask(cidr.prefix) : 0,
    c.gw ? ipToU32(c.gw) : 0,
    c.leasePrefix ?? 0,
    LOG_LEVELS.indexOf(c.logLevel ?? "info"),
    (mac[0] << 8) | mac[1],
    ((mac[2] << 24) | (mac[3] << 16) | (mac[4] << 8) | mac[5]) >>> 0,
    0,
  ];
  words.forEach((w, i) => b.writeUInt32LE(w >>> 0, 4 * i));
  b.writeUInt32LE(crc32(b.subarray(0, 44)) >>> 0, 44);
  return b;
}

export interface QemuSessionOptions extends BoardProcessOptions {
  /** An image to run instead of qemuImage(app, runtime) (the trap tests). */
  elf?: string;
  /** The runtime of the image (default wasm2c). */
  runtime?: Mps2Runtime;
  logLevel?: LogLevel;
  /** Open QEMU's QMP socket (for setLink: the cable pulled and plugged back). */
  qmp?: boolean;
  /** Run with -icount shift=0 (one instruction per ns of virtual time), so the board's cycle
   * counts ('s', cpu:) count instructions (make bench). */
  icount?: boolean;
}

/** The counters the firmware prints for the 's' console command. */
export interface QemuStats {
  board: Record<string, number>;
  lan9118: Record<string, number>;
  stack: Record<string, number>;
  /** Processor cycles since boot and those spent in WFI (under -icount shift=0, busy cycles x 40 = instructions). */
  cpu: Record<string, number>;
  /** RUNTIME=wamr-*: WAMR's pool (pool_size, pool_used, pool_peak) and the embedded image's size. */
  wamr: Record<string, number>;
  /** Non-zero core counters. */
  core: Record<string, number>;
}

/** The driver's and the board's error counters in a report that are not zero ("lan9118 rx_dropped 3"):
 *  frames the LAN9118 or the frame pool lost, which a healthy run has none of. */
export function statsErrors(st: QemuStats): string[] {
  const bad: string[] = [];
  for (const k of ["rx_errors", "rx_length_errors", "rx_dropped", "rx_fifo_errors", "tx_errors", "tx_fifo_timeouts"]) if (st.lan9118[k] !== 0) bad.push(`lan9118 ${k} ${st.lan9118[k]}`);
  for (const k of ["rx_pool_full", "rx_bad_length", "tx_errors"]) if (st.board[k] !== 0) bad.push(`board ${k} ${st.board[k]}`);
  return bad;
}

export class QemuSession extends BoardProcessSession {
  protected readonly what = "mps2 board";
  protected readonly logStream = "stdout";
  protected override readonly defaultReadyTimeoutMs = 20_000;
  private dir: string | undefined;
  private qmpPath: string | undefined;

  override start(opts: QemuSessionOptions = {}): Promise<this> {
    return super.start(opts);
  }

  private image(opts: QemuSessionOptions): string {
    return opts.elf ?? qemuImage(opts.app ?? "bare", opts.runtime);
  }

  protected preflight(opts: QemuSessionOptions): void {
    const elf = this.image(opts);
    const rt = opts.runtime && opts.runtime !== "wasm2c" ? ` RUNTIME=${opts.runtime}` : "";
    if (!existsSync(elf)) throw new Error(`${path.relative(ROOT, elf)} not found (build it with: make -C boards/mps2-an385 APP=${opts.app ?? "bare"}${rt})`);
  }

  protected command(o: { boardCidr: string; peer: { ip: string; prefix: number }; opts: QemuSessionOptions }): BoardCommand {
    this.dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-qemu-"));
    const cfg = path.join(this.dir, "config.bin");
    writeFileSync(cfg, configBlock({ ip: o.boardCidr, dhcp: o.opts.dhcp, leasePrefix: o.peer.prefix, logLevel: o.opts.logLevel, mac: this.mac }));
    const args = [
      "-M", "mps2-an385",
      "-nodefaults", "-display", "none", "-monitor", "none", "-serial", "stdio",
      "-no-reboot", // a reset (after a trap or a fault) ends QEMU
      "-kernel", this.image(o.opts),
      "-device", `loader,file=${cfg},addr=0x${CONFIG_ADDR.toString(16)},force-raw=on`,
      "-netdev", `tap,id=net0,ifname=${this.tap},script=no,downscript=no`,
      "-net", `nic,netdev=net0,model=lan9118,macaddr=${this.mac}`,
    ];
    if (o.opts.icount) args.push("-icount", "shift=0");
    if (o.opts.pcap) args.push("-object", `filter-dump,id=dump0,netdev=net0,file=${o.opts.pcap}`);
    if (o.opts.qmp) {
      this.qmpPath = path.join(this.dir, "qmp.sock");
      args.push("-qmp", `unix:${this.qmpPath},server=on,wait=off`);
    }
    // setpriv execs QEMU (same pid) with SIGTERM as its parent-death signal: if this process dies
    // before stop() (SIGKILL, a crash), the emulator does not keep running on its own.
    return { cmd: "setpriv", args: ["--pdeathsig", "TERM", QEMU, ...args] };
  }

  /** QEMU ends itself with the signal after its orderly shutdown on SIGTERM. */
  override get stoppedCleanly(): boolean {
    return this.exitCode === 0 || (this.exitSignal === "SIGTERM" && /terminating on signal 15/.test(this.stderr));
  }

  /** The UART (the trap or fault report is there) and QEMU's own messages. */
  protected override diagnostics(): string {
    return `${this.stdout.trim().split("\n").slice(-25).join("\n")}${this.stderr.trim() ? `\n${this.stderr.trim()}` : ""}`;
  }

  protected override cleanup(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }

  /** Run one QMP command (needs the qmp option); resolves with its "return" value. */
  async qmp(execute: string, args?: Record<string, unknown>, timeoutMs = 5000): Promise<unknown> {
    if (!this.qmpPath) throw new Error("QemuSession started without the qmp option");
    const sock = createConnection(this.qmpPath);
    try {
      let buf = "";
      const replies: Record<string, unknown>[] = [];
      sock.setEncoding("utf8").on("data", (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line) replies.push(JSON.parse(line) as Record<string, unknown>);
        }
      });
      const next = async (): Promise<Record<string, unknown>> => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const i = replies.findIndex((r) => "return" in r || "error" in r || "QMP" in r);
          if (i >= 0) return replies.splice(i, 1)[0];
          if (Date.now() > deadline) throw new Error(`no QMP reply to ${execute} within ${timeoutMs} ms`);
          await new Promise((r) => setTimeout(r, 10));
        }
      };
      await new Promise<void>((resolve, reject) => sock.once("connect", resolve).once("error", reject));
      await next(); // the greeting
      sock.write(JSON.stringify({ execute: "qmp_capabilities" }) + "\n");
      await next();
      sock.write(JSON.stringify(args ? { execute, arguments: args } : { execute }) + "\n");
      const r = await next();
      if ("error" in r) throw new Error(`QMP ${execute}: ${JSON.stringify(r.error)}`);
      return r.return;
    } finally {
      sock.destroy();
    }
  }

  /** The link of the board's network device, as if the cable were pulled (false) or plugged in. */
  setLink(up: boolean): Promise<unknown> {
    return this.qmp("set_link", { name: "net0", up });
  }

  /** Ask the firmware for its counters over the UART ('s') and parse the report. */
  async stats(timeoutMs = 5000): Promise<QemuStats> {
    if (!this.proc?.stdin || this.exitCode !== null) throw new Error("mps2 board not running");
    const from = this.stdout.length;
    this.proc.stdin.write("s");
    const deadline = Date.now() + timeoutMs;
    let text = "";
    for (;;) {
      text = this.stdout.slice(from);
      const at = text.indexOf("board:\n");
      if (at >= 0 && /^end$/m.test(text.slice(at))) {
        text = text.slice(at, text.indexOf("\nend\n", at) + 1);
        break;
      }
      if (Date.now() > deadline) throw new Error(`no counters from the board within ${timeoutMs} ms: ${text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const out: QemuStats = { board: {}, lan9118: {}, stack: {}, cpu: {}, wamr: {}, core: {} };
    let section: Record<string, number> | undefined;
    for (const line of text.split("\n")) {
      const h = /^(board|lan9118|stack|cpu|wamr|core):$/.exec(line);
      if (h) {
        section = out[h[1] as keyof QemuStats];
        continue;
      }
      if (!section) continue;
      const f = line.trim().split(/\s+/);
      for (let i = 0; i + 1 < f.length; i += 2) section[f[i]] = Number(f[i + 1]);
    }
    return out;
  }
}
