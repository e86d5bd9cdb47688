// A Board: one instance of a firmware .wasm with the PHY shim ABI (boards/include/wasmip.h)
// implemented in TypeScript. Clock, randomness and the wire are supplied by whoever runs it
// (the emulated switch in virtual time, or a TAP bridge in real time).
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_WASM = path.join(ROOT, "build", "wasmip.wasm");

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const ERRORS: Record<number, string> = {
  [-1]: "EINVAL",
  [-2]: "ENOBUFS",
  [-3]: "EWOULDBLOCK",
  [-4]: "ENOTCONN",
  [-5]: "ECONNREFUSED",
  [-6]: "ECONNRESET",
  [-7]: "ETIMEDOUT",
  [-8]: "EADDRINUSE",
  [-9]: "EHOSTUNREACH",
  [-10]: "EMSGSIZE",
};

export const COUNTER_KIND = { rxDelivered: 0, rxDrop: 1, event: 2 } as const;

export interface BoardOptions {
  name?: string;
  wasm?: string | Uint8Array;
  mac: string; // "02:00:00:00:00:01"
  ip?: string; // "10.0.0.2"
  prefix?: number; // netmask length
  gateway?: string;
  clock: () => number; // milliseconds; only the low 32 bits are passed on
  random: () => number; // u32
  log?: (level: LogLevel, msg: string, board: Board) => void;
  // Where transmitted frames go from the start, so the gratuitous ARP sent by init() is not
  // lost (onTransmit can only be called once the constructor has returned).
  transmit?: (frame: Uint8Array, board: Board) => void;
}

interface Exports {
  memory: WebAssembly.Memory;
  init(macHi: number, macLo: number, ip: number, mask: number, gw: number): number;
  set_ipv4(ip: number, mask: number, gw: number): number;
  rx_buffer(): number;
  rx_buffer_size(): number;
  input(len: number): number;
  poll(now: number): number;
  counter_count(): number;
  counter(id: number): number;
  counter_name(id: number): number;
  counter_kind(id: number): number;
  memory_used(): number;
  ping(dst: number, seq: number, size: number): number;
  ping_rtt(seq: number): number;
}

export class WasmipError extends Error {
  constructor(
    public readonly code: number,
    what: string,
  ) {
    super(`${what}: ${ERRORS[code] ?? "error " + code}`);
  }
}

export function ipToU32(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4) throw new Error(`bad IPv4 address: ${ip}`);
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new Error(`bad IPv4 address: ${ip}`);
    v = v * 256 + n;
  }
  return v >>> 0;
}

export function u32ToIp(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
}

export function prefixToMask(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`bad prefix length: ${prefix}`);
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function parseMac(mac: string): Uint8Array {
  const parts = mac.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`bad MAC address: ${mac}`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(b: Uint8Array): string {
  return Array.from(b.subarray(0, 6), (x) => x.toString(16).padStart(2, "0")).join(":");
}

const moduleCache = new Map<string, WebAssembly.Module>();

function compile(wasm: string | Uint8Array): WebAssembly.Module {
  if (typeof wasm !== "string") return new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
  let m = moduleCache.get(wasm);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(wasm));
    moduleCache.set(wasm, m);
  }
  return m;
}

export class Board {
  readonly name: string;
  readonly mac: Uint8Array;
  ip: number;
  netmask: number;
  gateway: number;
  private readonly ex: Exports;
  private readonly rxPtr: number;
  private readonly rxSize: number;
  private txHandler: (frame: Uint8Array) => void = () => {};
  private readonly counterNames: string[] = [];
  private readonly counterKinds: number[] = [];
  private readonly initialPages: number;
  private readonly opts: BoardOptions;

  constructor(opts: BoardOptions) {
    this.opts = opts;
    if (opts.transmit) {
      const transmit = opts.transmit;
      this.txHandler = (frame) => transmit(frame, this);
    }
    this.name = opts.name ?? "board";
    this.mac = parseMac(opts.mac);
    this.ip = opts.ip ? ipToU32(opts.ip) : 0;
    this.netmask = prefixToMask(opts.prefix ?? 24);
    this.gateway = opts.gateway ? ipToU32(opts.gateway) : 0;
    let ex: Exports | undefined;
    const mem = (): Uint8Array => new Uint8Array(ex!.memory.buffer);
    const ascii = (ptr: number, len: number): string => Buffer.from(mem().subarray(ptr, ptr + len)).toString("latin1");
    const imports = {
      phy: {
        tx: (ptr: number, len: number) => {
          // Copy out: the core reuses its buffer as soon as tx returns.
          this.txHandler(mem().slice(ptr, ptr + len));
        },
        now_ms: () => opts.clock() >>> 0,
        random: () => opts.random() >>> 0,
        panic: (ptr: number, len: number, line: number) => {
          throw new Error(`${this.name}: wasmip panic: ${ascii(ptr, len)} (line ${line})`);
        },
        log: (level: number, ptr: number, len: number) => {
          opts.log?.(LOG_LEVELS[level] ?? "debug", ascii(ptr, len), this);
        },
      },
    };
    const instance = new WebAssembly.Instance(compile(opts.wasm ?? DEFAULT_WASM), imports);
    ex = instance.exports as unknown as Exports;
    this.ex = ex;
    this.rxPtr = ex.rx_buffer();
    this.rxSize = ex.rx_buffer_size();
    const m = this.mac;
    const rc = ex.init((m[0] << 8) | m[1], ((m[2] << 24) | (m[3] << 16) | (m[4] << 8) | m[5]) >>> 0, this.ip, this.netmask, this.gateway);
    if (rc < 0) throw new WasmipError(rc, `${this.name}: init`);
    const n = ex.counter_count();
    for (let i = 0; i < n; i++) {
      const p = ex.counter_name(i);
      const bytes = mem();
      let e = p;
      while (bytes[e] !== 0) e++;
      this.counterNames.push(Buffer.from(bytes.subarray(p, e)).toString("latin1"));
      this.counterKinds.push(ex.counter_kind(i));
    }
    this.initialPages = this.memoryPages;
  }

  /** Where this board's transmitted frames go. */
  onTransmit(handler: (frame: Uint8Array) => void): void {
    this.txHandler = handler;
  }

  /** Deliver one received frame. Returns the name of the counter that accounted for it. */
  input(frame: Uint8Array): string {
    const len = Math.min(frame.length, this.rxSize);
    new Uint8Array(this.ex.memory.buffer, this.rxPtr, len).set(frame.subarray(0, len));
    // An oversize frame is passed with its true length so the core counts it.
    return this.counterNames[this.ex.input(frame.length)];
  }

  /** Run due timers; returns ms until the next deadline. */
  poll(now: number): number {
    return this.ex.poll(now >>> 0);
  }

  setIpv4(ip: string, prefix: number, gateway?: string): void {
    const rc = this.ex.set_ipv4(ipToU32(ip), prefixToMask(prefix), gateway ? ipToU32(gateway) : 0);
    if (rc < 0) throw new WasmipError(rc, `${this.name}: set_ipv4`);
    this.ip = ipToU32(ip);
    this.netmask = prefixToMask(prefix);
    this.gateway = gateway ? ipToU32(gateway) : 0;
  }

  /** Send one ICMP echo request; throws a WasmipError on a negative code. */
  ping(dst: string, seq: number, payloadLen = 56): void {
    const rc = this.ex.ping(ipToU32(dst), seq >>> 0, payloadLen);
    if (rc < 0) throw new WasmipError(rc, `${this.name}: ping ${dst}`);
  }

  /** Round trip of the reply to seq in ms, or -1 while none has arrived. */
  pingRtt(seq: number): number {
    return this.ex.ping_rtt(seq >>> 0);
  }

  counters(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.counterNames.length; i++) out[this.counterNames[i]] = this.ex.counter(i) >>> 0;
    return out;
  }

  counterKind(name: string): number {
    return this.counterKinds[this.counterNames.indexOf(name)];
  }

  /** Sum of the counters that account for received frames (delivered + dropped). */
  rxAccounted(): number {
    let s = 0;
    for (let i = 0; i < this.counterNames.length; i++) if (this.counterKinds[i] !== COUNTER_KIND.event) s += this.ex.counter(i) >>> 0;
    return s;
  }

  get memoryPages(): number {
    return this.ex.memory.buffer.byteLength / 65536;
  }

  get pagesAtInit(): number {
    return this.initialPages;
  }

  get memoryUsed(): number {
    return this.ex.memory_used();
  }

  get ipString(): string {
    return u32ToIp(this.ip);
  }

  get macString(): string {
    return formatMac(this.mac);
  }
}
