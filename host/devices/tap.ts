// host/devices/: boards on real Linux devices in real time (root), each on a TAP device in a
// network namespace whose kernel is its peer. netns.ts makes namespaces and taps and cleans them
// up. The Node board runs here: tap-runner.ts relays its frames through tap-bridge.c, this file's
// TapSession sets it all up, status.ts keeps the file `wasmip netstat` reads. native.ts runs a
// board as a process of its own (BoardProcessSession: the posix board, and qemu.ts's emulated
// MPS2 AN385); inject.ts sends crafted frames from the kernel's side (pkt-inject.c);
// services/dnsmasq.ts is a real DHCP and DNS server. Of sim/ only prng.ts is used (seeded loss).
//
// A Board on a real Linux TAP device, in real time.
//
// The tap lives in a network namespace this code sets up (see netns.ts); build/tap-bridge relays
// its frames (tap-runner.ts). The kernel inside the namespace is the board's peer: `ping`,
// `ip neigh`, `tshark` run there through TapSession.exec().
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { ipToU32, parseCidr, prefixToMask } from "../board/address.ts";
import { Board, appWasm, type LogLevel, type LogLevels } from "../board/board.ts";
import { dhcpStatus, type DhcpStatus } from "../board/dhcp.ts";
import { PcapWriter } from "../capture/pcap.ts";
import { Netns, closeAndWait, pingUntilAnswered, type RunOptions, type RunResult } from "./netns.ts";
import { StatusFile } from "./status.ts";
import { TapRunner, ensureBridge, type TapRunnerOptions } from "./tap-runner.ts";

export const DEFAULTS = {
  netns: "wasmip0",
  tap: "tap0",
  boardIp: "10.213.0.2/24",
  peerIp: "10.213.0.1/24",
  mac: "02:77:69:70:00:02",
} as const;

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
  /** How the status file names the image (default: its path). */
  imageLabel?: string;
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
  /** What the core logs (Board's logLevel). */
  logLevel?: LogLevel | LogLevels;
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
  /** The image the board runs. */
  wasm = "";
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
    this.wasm = wasm;
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
        logLevel: opts.logLevel,
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
          image: opts.imageLabel ?? `image ${wasm}`,
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
