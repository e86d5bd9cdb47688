// host/board/: the Node board and its node-shaped APIs, the bottom of the harness (nothing here
// imports the rest of host/). Bottom-up: errors.ts, address.ts and pump.ts, what the board and
// its socket layers share; net.ts, dgram.ts and dns.ts, node:net, node:dgram and node:dns over
// the core's exports, which see their board only as pump.ts's LayerHost; this file, which
// implements the imports and hands out board.net, board.dgram and board.dns; then what takes a
// Board: dhcp.ts (the DHCP client's exports), netstat.ts (its tables as text), config.ts.
//
// A Board: one instance of a firmware .wasm with the PHY shim ABI (boards/include/wasmip.h)
// implemented in TypeScript. Clock, randomness and the wire are supplied by whoever runs it
// (the emulated switch in virtual time, or a TAP bridge in real time).
import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";
import { formatIpv6, formatMac, ipToU32, parseIpv6, parseMac, prefixToMask, u32ToIp } from "./address.ts";
import { codedError, WasmipError } from "./errors.ts";
import type { LayerHost } from "./pump.ts";
import { Net, TCP_STATES, type TcpExports, type TcpStateName } from "./net.ts";
import { Dgram } from "./dgram.ts";
import { Dns } from "./dns.ts";
import { Mqtt } from "./mqtt.ts";
import { Sntp } from "./sntp.ts";
import { OFFLOAD, RX_OK, checkChecksums, fillChecksums, offloadFlags, sum16, type OffloadOptions } from "./offload.ts";
import { Mdns } from "./mdns.ts";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
export const DEFAULT_WASM = path.join(ROOT, "build", "wasmip.wasm");

/** The firmware image of an app: build/<app>.wasm; ping and bare run the bare core (build/wasmip.wasm). */
export function appWasm(app: string): string {
  if (app === "ping" || app === "bare") return DEFAULT_WASM;
  if (!/^[a-z0-9_-]+$/.test(app)) throw new Error(`bad app name "${app}"`);
  return path.join(ROOT, "build", `${app}.wasm`);
}

export const LOG_LEVELS = ["error", "warn", "info", "debug"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** The core's log modules (wasmip.h WASMIP_LOG_MODULE_*): a line's module is its prefix ("arp: ..."). */
export const LOG_MODULES = ["eth", "arp", "ip", "icmp", "tcp", "udp", "dhcp", "dns", "app"] as const;
export type LogModule = (typeof LOG_MODULES)[number];
/** A level for every module, then overrides per module. */
export interface LogLevels {
  level?: LogLevel;
  modules?: Partial<Record<LogModule, LogLevel>>;
}

/** "debug", or "info,arp=debug,dhcp=warn": a level for every module and per-module overrides. */
export function parseLogLevels(spec: string): LogLevels {
  const out: LogLevels = {};
  for (const part of spec.split(",")) {
    const [k, v] = part.includes("=") ? part.split("=", 2) : [undefined, part];
    if (!(LOG_LEVELS as readonly string[]).includes(v)) throw codedError("ERR_INVALID_ARG_VALUE", new RangeError(`bad log level "${v}" (${LOG_LEVELS.join("|")})`));
    if (k === undefined) out.level = v as LogLevel;
    else if ((LOG_MODULES as readonly string[]).includes(k)) (out.modules ??= {})[k as LogModule] = v as LogLevel;
    else throw codedError("ERR_INVALID_ARG_VALUE", new RangeError(`bad log module "${k}" (${LOG_MODULES.join("|")})`));
  }
  return out;
}

/** wasmip.h WASMIP_NET_EV_* bits (net_events()). */
export const NET_EV = { linkUp: 1, linkDown: 2, address: 4, renewed: 8, addressLost: 16, dns: 32, time: 64, multicast: 128 } as const;

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
  /** What the core logs (default: info from every module). */
  logLevel?: LogLevel | LogLevels;
  // Where transmitted frames go from the start, so the gratuitous ARP sent by init() is not
  // lost (onTransmit can only be called once the constructor has returned).
  transmit?: (frame: Uint8Array, board: Board) => void;
  /** Checksum offload: what this board's CPU and MAC do instead of the core (host/board/offload.ts). */
  offload?: OffloadOptions;
  // Called after a call into the board from outside its driver (a ping, a socket call from user
  // code) so the driver polls soon: the call may have sent frames or armed timers.
  kick?: (board: Board) => void;
}

interface Exports extends TcpExports {
  memory: WebAssembly.Memory;
  init(macHi: number, macLo: number, ip: number, mask: number, gw: number): number;
  set_ipv4(ip: number, mask: number, gw: number): number;
  rx_buffer(): number;
  rx_buffer_size(): number;
  input(len: number): number;
  // Absent from images built before checksum offload.
  input_checked?(len: number, flags: number): number;
  set_offload?(flags: number): number;
  offload?(): number;
  poll(now: number): number;
  counter_count(): number;
  counter(id: number): number;
  counter_name(id: number): number;
  counter_kind(id: number): number;
  memory_used(): number;
  config(id: number): number;
  ipv4_address(): number;
  ping(dst: number, seq: number, size: number): number;
  ping_rtt(seq: number): number;
  set_log_level(level: number): void;
  // Absent from images built before network events (then: no events, no per-module levels).
  set_log_module_level?(module: number, level: number): number;
  set_link?(up: number): void;
  link_up?(): number;
  net_events?(): number;
  dns_server?(i: number): number;
  multicast_mac?(i: number, ptr: number): number;
  // Images built with WASMIP_IPV6=1 (absent from older images; ENOSYS/0 without the feature).
  ipv6_address?(i: number, ptr: number): number;
  ipv6_router?(i: number, ptr: number): number;
  ipv6_dns?(i: number, ptr: number): number;
  ipv6_neighbor?(i: number, ptr: number): number;
  ping6?(ptr: number, seq: number, size: number): number;
  tcp_table_row6?(i: number, ptr: number): number;
  // An app's (the sensor's): one "key=value" setting written at io_buffer (wasmip.h).
  app_config?(ptr: number, len: number): number;
}

/** One of the board's IPv6 addresses, shaped like an os.networkInterfaces() entry, with its
 *  RFC 4862 state (ipv6_address in wasmip.h). */
export interface Ipv6AddressInfo {
  address: string;
  netmask: string;
  family: "IPv6";
  mac: string;
  internal: false;
  cidr: string;
  /** 1 (the board's one interface) for a link-local address, 0 otherwise, as Node reports it. */
  scopeid: number;
  state: "tentative" | "preferred" | "deprecated" | "duplicated";
  /** Seconds left (Infinity: for ever). */
  validLifetime: number;
  preferredLifetime: number;
}

const IPV6_STATES = ["", "tentative", "preferred", "deprecated", "duplicated"] as const;
/** ipv6_neighbor's states (RFC 4861 §7.3.2), as `ip -6 neigh` prints them. */
export const ND_STATES = ["", "INCOMPLETE", "REACHABLE", "STALE", "DELAY", "PROBE"] as const;

/** wasmip.h WASMIP_CONFIG_* ids. */
export const CONFIG_IDS = {
  mtu: 0, tcpMaxSockets: 1, tcpMaxConnections: 2, tcpSndBuf: 3, tcpRcvBuf: 4, tcpBacklogMax: 5,
  tcpBytesPerConnection: 6, tcpBytesPerBlock: 7, udpMaxSockets: 8, udpRcvBuf: 9, arpCacheSize: 10,
  dnsMaxQueries: 11, ioBufferSize: 12,
} as const;
export type ConfigName = keyof typeof CONFIG_IDS;

/** tcp_info of one connection block (wasmip.h WASMIP_TCP_INFO_*); sequence numbers are absolute. */
export interface TcpInfo {
  state: TcpStateName;
  mss: number; cwnd: number; ssthresh: number; srtt: number; rttvar: number; rto: number;
  iss: number; sndUna: number; sndNxt: number; sndWnd: number; irs: number; rcvNxt: number;
  recovery: boolean;
}

/** One row of the connection table (tcp_table_row). A listener has localIp 0 and remote 0:0. */
export interface TcpTableRow {
  state: TcpStateName;
  localIp: number;
  localPort: number;
  remoteIp: number;
  remotePort: number;
  sendQ: number; // bytes in the send ring (unacknowledged + unsent)
  recvQ: number; // bytes received and not yet read
  /** An IPv6 connection's addresses (RFC 5952 text; tcp_table_row6): localIp and remoteIp are then
   *  not addresses. Absent for IPv4 rows and listeners (which take both families). */
  localIp6?: string;
  remoteIp6?: string;
}

const moduleCache = new Map<string, WebAssembly.Module>();

/** A configuration knob of a firmware image, read from the .wasm without running a board (the
 *  same file a native board compiles), e.g. to size a test to the image under test. */
export function imageConfig(wasm: string, name: ConfigName): number {
  const noop = () => 0;
  const inst = new WebAssembly.Instance(compile(wasm), { phy: { tx: noop, now_ms: noop, random: noop, checksum: noop, panic: noop, log: noop } });
  const v = (inst.exports as unknown as Exports).config(CONFIG_IDS[name]) >>> 0;
  if (v === 0xffffffff) throw codedError("ERR_INVALID_ARG_VALUE", new RangeError(`config ${name}: unknown to ${wasm}`));
  return v;
}

function compile(wasm: string | Uint8Array): WebAssembly.Module {
  if (typeof wasm !== "string") return new WebAssembly.Module(wasm as Uint8Array<ArrayBuffer>);
  let m = moduleCache.get(wasm);
  if (!m) {
    m = new WebAssembly.Module(readFileSync(wasm));
    moduleCache.set(wasm, m);
  }
  return m;
}

/**
 * Events (lwIP's netif link and status callbacks), emitted after input()/poll()/setLink() from what
 * the core raised (net_events()):
 *   'link' (up: boolean); 'address' (address: string): an address was set or changed, static or by
 *   DHCP; 'renewed' (address): the lease was renewed or confirmed; 'addressLost' (address: the one
 *   dropped); 'dns' (servers: string[]); 'time' (): SNTP set the wall clock (board.sntp);
 *   'multicast' (macs: string[]): the groups joined changed, and with them the multicast MACs a
 *   receive filter should pass.
 */
export class Board extends EventEmitter implements LayerHost {
  readonly name: string;
  readonly mac: Uint8Array;
  /** The address configured at construction or by setIpv4(); ip reads the core's current one. */
  private configuredIp: number;
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
  private kickHandler?: () => void;
  /** Checksum offload in force: OFFLOAD_TX_* bits the emulated MAC fills, whether it checks input. */
  private txFill = 0;
  private rxCheck = false;
  /** The emulated MAC's receive checks (ethtool -S's rx_csum_*): frames it vouched for, frames it
   *  passed up unmarked (a checksum bad, or not IPv4/TCP/UDP). */
  readonly offloadStats = { rxVouched: 0, rxUnmarked: 0 };
  private driverDepth = 0; // > 0 inside input()/poll(): the driver polls afterwards anyway
  private netLayer?: Net;
  private dnsLayer?: Dns;

  constructor(opts: BoardOptions) {
    super();
    this.opts = opts;
    if (opts.kick) {
      const kick = opts.kick;
      this.kickHandler = () => kick(this);
    }
    if (opts.transmit) {
      const transmit = opts.transmit;
      this.txHandler = (frame) => transmit(frame, this);
    }
    this.name = opts.name ?? "board";
    this.mac = parseMac(opts.mac);
    this.configuredIp = opts.ip ? ipToU32(opts.ip) : 0;
    this.netmask = prefixToMask(opts.prefix ?? 24);
    this.gateway = opts.gateway ? ipToU32(opts.gateway) : 0;
    let ex: Exports | undefined;
    const mem = (): Uint8Array => new Uint8Array(ex!.memory.buffer);
    const ascii = (ptr: number, len: number): string => Buffer.from(mem().subarray(ptr, ptr + len)).toString("latin1");
    const imports = {
      phy: {
        tx: (ptr: number, len: number) => {
          // Copy out: the core reuses its buffer as soon as tx returns.
          const frame = mem().slice(ptr, ptr + len);
          if (this.txFill) fillChecksums(frame, this.txFill);
          this.txHandler(frame);
        },
        now_ms: () => opts.clock() >>> 0,
        random: () => opts.random() >>> 0,
        checksum: (ptr: number, len: number) => sum16(mem(), ptr, len),
        panic: (ptr: number, len: number, line: number) => {
          throw codedError("WASMIP_PANIC", new Error(`${this.name}: wasmip panic: ${ascii(ptr, len)} (line ${line})`));
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
    if (opts.logLevel !== undefined) this.setLogLevel(opts.logLevel);
    if (opts.offload) this.setOffload(opts.offload);
    const m = this.mac;
    const rc = ex.init((m[0] << 8) | m[1], ((m[2] << 24) | (m[3] << 16) | (m[4] << 8) | m[5]) >>> 0, this.configuredIp, this.netmask, this.gateway);
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
    this.lastIp = this.ip;
    this.ex.net_events?.(); // init's own: the address passed to the constructor is no news
  }

  /**
   * What the core logs: one level for every module, or a level and per-module overrides
   * ({ level: "warn", modules: { dhcp: "debug" } }). Lines still go through BoardOptions.log.
   */
  setLogLevel(levels: LogLevel | LogLevels): void {
    const l = typeof levels === "string" ? { level: levels } : levels;
    if (l.level !== undefined) this.ex.set_log_level(LOG_LEVELS.indexOf(l.level));
    for (const [m, v] of Object.entries(l.modules ?? {})) {
      if (!this.ex.set_log_module_level) throw codedError("ENOSYS", new Error(`${this.name}: this image has no per-module log levels`));
      const rc = this.ex.set_log_module_level(LOG_MODULES.indexOf(m as LogModule), LOG_LEVELS.indexOf(v));
      if (rc < 0) throw new WasmipError(rc, `${this.name}: set_log_module_level ${m}`);
    }
  }

  /**
   * The board's carrier (a cable plugged in or pulled, the PHY's link): the core drops what it
   * sends while down, and on the way up flushes its ARP cache and confirms its DHCP lease. The
   * Simulator's setLink() also cuts the cable; call this directly for a board driven otherwise.
   */
  setLink(up: boolean): void {
    if (!this.ex.set_link) throw codedError("ENOSYS", new Error(`${this.name}: this image has no set_link export`));
    this.driverDepth++;
    try {
      this.ex.set_link(up ? 1 : 0);
      this.pumpLayers();
    } finally {
      this.driverDepth--;
    }
    this.kick();
  }

  /** The carrier as the core knows it (true for images without set_link). */
  get linkUp(): boolean {
    return (this.ex.link_up?.() ?? 1) !== 0;
  }

  private lastIp = 0;

  /** Turns what the core raised since the last look into events. */
  private netEvents(): boolean {
    const bits = this.ex.net_events?.() ?? 0;
    if (bits === 0) return false;
    const ip = this.ip;
    if (bits & NET_EV.linkDown) this.emit("link", false);
    if (bits & NET_EV.linkUp) this.emit("link", true);
    if (bits & NET_EV.addressLost && this.lastIp !== 0) this.emit("addressLost", u32ToIp(this.lastIp));
    if (bits & NET_EV.address && ip !== 0) this.emit("address", u32ToIp(ip));
    if (bits & NET_EV.renewed) this.emit("renewed", u32ToIp(ip));
    if (bits & NET_EV.dns) this.emit("dns", this.dnsServers());
    if (bits & NET_EV.time) this.emit("time");
    if (bits & NET_EV.multicast) this.emit("multicast", this.multicastMacs());
    this.lastIp = ip;
    return true;
  }

  /** One setting for the app, "key=value", through the image's app_config export (the sensor's:
   *  broker=HOST[:PORT], interval_ms=N, keepalive=S, name=NAME). Throws a WasmipError when the
   *  app refuses it (EINVAL), ENOSYS when the image takes no settings. */
  appConfig(setting: string): void {
    const ex = this.ex;
    const bytes = new TextEncoder().encode(setting);
    if (!ex.app_config) throw new WasmipError(-15, `app_config ${setting} (this image takes no settings)`);
    if (bytes.length === 0 || bytes.length > ex.io_buffer_size()) throw codedError("ERR_OUT_OF_RANGE", new RangeError(`app_config: 1 to ${ex.io_buffer_size()} bytes, got ${bytes.length}`));
    const ptr = ex.io_buffer();
    new Uint8Array(ex.memory.buffer, ptr, bytes.length).set(bytes);
    const r = ex.app_config(ptr, bytes.length);
    if (r < 0) throw new WasmipError(r, `app_config ${setting}`);
    this.kick();
  }

  /** The multicast MACs the core accepts frames for (its joined groups): a MAC filter's list. */
  multicastMacs(): string[] {
    const ex = this.ex;
    const out: string[] = [];
    if (!ex.multicast_mac) return out;
    const ptr = ex.io_buffer();
    const n = ex.config(13) >>> 0;
    for (let i = 0; i < n && i < 64; i++) if (ex.multicast_mac(i, ptr)) out.push(formatMac(new Uint8Array(ex.memory.buffer, ptr, 6)));
    return out;
  }

  /** The DNS servers the resolver asks (from the lease, or dns_set_servers). */
  dnsServers(): string[] {
    const out: string[] = [];
    for (let i = 0; i < 2; i++) {
      const s = this.ex.dns_server?.(i) ?? 0;
      if (s) out.push(u32ToIp(s >>> 0));
    }
    return out;
  }

  /** Where this board's transmitted frames go. */
  onTransmit(handler: (frame: Uint8Array) => void): void {
    this.txHandler = handler;
  }

  /** Who to tell after a call into the board from outside its driver (see BoardOptions.kick). */
  onKick(handler: () => void): void {
    this.kickHandler = handler;
  }

  /**
   * Tell the driver that user code called into the board (it may have sent frames or armed
   * timers), so it polls soon. A no-op inside input()/poll(): the driver polls after those.
   */
  kick(): void {
    if (this.driverDepth === 0) this.kickHandler?.();
  }

  /**
   * Checksum offload from now on (wasmip.h set_offload): sums through phy.checksum, checksums the
   * emulated MAC fills on the way out, and received frames it verifies and vouches for.
   */
  setOffload(o: OffloadOptions): void {
    if (!this.ex.set_offload || !this.ex.input_checked) throw codedError("ENOSYS", new Error(`${this.name}: this image has no checksum offload`));
    const flags = offloadFlags(o);
    const rc = this.ex.set_offload(flags);
    if (rc < 0) throw new WasmipError(rc, `${this.name}: set_offload`);
    this.txFill = flags & (OFFLOAD.txIpv4 | OFFLOAD.txL4);
    this.rxCheck = !!o.rxCheck;
  }

  /** The offload flags in force (wasmip.h offload(): WASMIP_OFFLOAD_* bits). */
  get offload(): number {
    return this.ex.offload?.() ?? 0;
  }

  /** Deliver one received frame. Returns the name of the counter that accounted for it. */
  input(frame: Uint8Array): string {
    const len = Math.min(frame.length, this.rxSize);
    new Uint8Array(this.ex.memory.buffer, this.rxPtr, len).set(frame.subarray(0, len));
    this.driverDepth++;
    try {
      // An oversize frame is passed with its true length so the core counts it.
      let id: number;
      if (this.rxCheck) {
        const ok = checkChecksums(frame.subarray(0, len));
        if (ok === (RX_OK.ipv4 | RX_OK.l4)) this.offloadStats.rxVouched++;
        else this.offloadStats.rxUnmarked++;
        id = this.ex.input_checked!(frame.length, ok);
      } else id = this.ex.input(frame.length);
      const counter = this.counterNames[id];
      this.pumpLayers();
      return counter;
    } finally {
      this.driverDepth--;
    }
  }

  /** Run due timers (and the socket layer's events); returns ms until the next deadline. */
  poll(now: number): number {
    this.driverDepth++;
    try {
      let ms = this.ex.poll(now >>> 0);
      // User callbacks run by the pump may have queued data or armed timers: poll again so the
      // returned deadline covers them (bounded: a callback storm cannot spin here forever).
      for (let i = 0; i < 8 && this.pumpLayers(); i++) ms = this.ex.poll(now >>> 0);
      // Socket idle timeouts (socket.setTimeout) are host timers on the same clock.
      const idle = this.netLayer?.nextTimeout(now);
      return idle !== undefined ? Math.min(ms >>> 0, idle) : ms;
    } finally {
      this.driverDepth--;
    }
  }

  private readonly extraPumps: (() => boolean)[] = [];

  /** Another socket layer (UDP, DNS) to run after every input()/poll(); it returns true when it did something. */
  addPump(pump: () => boolean): void {
    this.extraPumps.push(pump);
  }

  private pumpLayers(): boolean {
    this.netEvents();
    let did = this.netLayer?.pump() ?? false;
    for (const p of this.extraPumps) did = p() || did;
    return did;
  }

  /** The node:dgram-shaped UDP API over this board's UDP exports (host/board/dgram.ts). */
  get dgram(): Dgram {
    return (this.dgramLayer ??= new Dgram(this));
  }
  private dgramLayer?: Dgram;

  /** The node:net-shaped socket API over this board's TCP exports (host/board/net.ts). */
  get net(): Net {
    return (this.netLayer ??= new Net(this));
  }

  /** The node:dns-shaped resolver over this board's DNS exports (host/board/dns.ts). */
  get dns(): Dns {
    if (!this.dnsLayer) {
      const d = new Dns(this);
      this.dnsLayer = d;
      this.addPump(() => d.pump());
    }
    return this.dnsLayer;
  }

  /** The mqtt.js-shaped MQTT client over this board's MQTT exports (host/board/mqtt.ts). */
  get mqtt(): Mqtt {
    if (!this.mqttLayer) {
      const m = new Mqtt(this);
      this.mqttLayer = m;
      this.addPump(() => m.pump());
    }
    return this.mqttLayer;
  }
  private mqttLayer?: Mqtt;
  /** The SNTP client over this board's exports (host/board/sntp.ts). */
  get sntp(): Sntp {
    return (this.sntpLayer ??= new Sntp(this));
  }
  private sntpLayer?: Sntp;
  /** The mDNS responder and DNS-SD over this board's exports (host/board/mdns.ts). */
  get mdns(): Mdns {
    return (this.mdnsLayer ??= new Mdns(this));
  }
  private mdnsLayer?: Mdns;

  /** Every export of the firmware image, untyped: an app's own exports (build/bulk.wasm's bulk_*). */
  get exports(): Record<string, unknown> {
    return this.ex as unknown as Record<string, unknown>;
  }

  /** The TCP socket exports, typed (see wasmip.h). Prefer board.net; call kick() after using these. */
  get tcp(): TcpExports {
    return this.ex;
  }

  /** The module's linear memory, as bytes (a fresh view: memory could in principle grow). */
  memoryBytes(): Uint8Array {
    return new Uint8Array(this.ex.memory.buffer);
  }

  /** The connection table, like netstat -tn: connection blocks, then TIME-WAIT records. */
  tcpTable(): TcpTableRow[] {
    const ex = this.ex;
    const ptr = ex.io_buffer();
    const rows: TcpTableRow[] = [];
    const n = ex.tcp_table_size();
    for (let i = 0; i < n; i++) {
      if (!ex.tcp_table_row(i, ptr)) continue;
      const v = new DataView(ex.memory.buffer, ptr, 28);
      const u = (k: number) => v.getUint32(k * 4, true);
      const row: TcpTableRow = {
        state: TCP_STATES[u(0)] ?? (`STATE_${u(0)}` as TcpStateName),
        localIp: u(1),
        localPort: u(2),
        remoteIp: u(3),
        remotePort: u(4),
        sendQ: u(5),
        recvQ: u(6),
      };
      if (ex.tcp_table_row6?.(i, ptr) === 1) {
        const b = new Uint8Array(ex.memory.buffer, ptr, 32).slice();
        row.localIp6 = formatIpv6(b.subarray(0, 16));
        row.remoteIp6 = formatIpv6(b.subarray(16));
      }
      rows.push(row);
    }
    return rows;
  }

  /** tcp_info(fd): congestion and sequence state of a connection block, or null if it is free. */
  tcpInfo(fd: number): TcpInfo | null {
    const ex = this.ex;
    const ptr = ex.io_buffer();
    if (!ex.tcp_info(fd, ptr)) return null;
    const v = new DataView(ex.memory.buffer, ptr, 56);
    const u = (k: number) => v.getUint32(k * 4, true);
    return {
      state: TCP_STATES[u(0)] ?? (`STATE_${u(0)}` as TcpStateName),
      mss: u(1), cwnd: u(2), ssthresh: u(3), srtt: u(4), rttvar: u(5), rto: u(6),
      iss: u(7), sndUna: u(8), sndNxt: u(9), sndWnd: u(10), irs: u(11), rcvNxt: u(12),
      recovery: u(13) !== 0,
    };
  }

  setIpv4(ip: string, prefix: number, gateway?: string): void {
    const rc = this.ex.set_ipv4(ipToU32(ip), prefixToMask(prefix), gateway ? ipToU32(gateway) : 0);
    this.kick();
    if (rc < 0) throw new WasmipError(rc, `${this.name}: set_ipv4`);
    this.configuredIp = ipToU32(ip);
    this.netmask = prefixToMask(prefix);
    this.gateway = gateway ? ipToU32(gateway) : 0;
  }

  /** Send one ICMP echo request (ICMPv6 when dst is an IPv6 address); throws a WasmipError on a
   *  negative code. */
  ping(dst: string, seq: number, payloadLen = 56): void {
    let rc: number;
    if (dst.includes(":")) {
      if (!this.ex.ping6) throw codedError("ENOSYS", new Error(`${this.name}: ping ${dst}: this image has no IPv6 (build it with --use WASMIP_IPV6=1)`));
      const ptr = this.ex.io_buffer();
      new Uint8Array(this.ex.memory.buffer, ptr, 16).set(parseIpv6(dst));
      rc = this.ex.ping6(ptr, seq >>> 0, payloadLen);
    } else {
      rc = this.ex.ping(ipToU32(dst), seq >>> 0, payloadLen);
    }
    this.kick();
    if (rc < 0) throw new WasmipError(rc, `${this.name}: ping ${dst}`);
  }

  /** The board's IPv6 addresses (empty without IPv6), like os.networkInterfaces()'s entries. */
  ipv6Addresses(): Ipv6AddressInfo[] {
    const ex = this.ex;
    const out: Ipv6AddressInfo[] = [];
    if (!ex.ipv6_address) return out;
    const ptr = ex.io_buffer();
    for (let i = 0; i < 16; i++) {
      const st = ex.ipv6_address(i, ptr);
      if (st < 0) break; // ENOSYS
      if (st === 0) {
        if (i >= (ex.config(14) >>> 0)) break;
        continue;
      }
      const v = new DataView(ex.memory.buffer, ptr, 24);
      const address = formatIpv6(new Uint8Array(ex.memory.buffer, ptr, 16).slice());
      const life = (x: number) => (x === 0xffffffff ? Infinity : x);
      out.push({
        address, netmask: "ffff:ffff:ffff:ffff::", family: "IPv6", mac: this.macString, internal: false, cidr: `${address}/64`,
        scopeid: address.startsWith("fe80:") ? 1 : 0, state: IPV6_STATES[st] as Ipv6AddressInfo["state"],
        validLifetime: life(v.getUint32(16, true)), preferredLifetime: life(v.getUint32(20, true)),
      });
    }
    return out;
  }

  /** Default routers (from RAs) and RDNSS servers (RFC 8106) with their seconds left. */
  ipv6Routers(): { address: string; lifetime: number }[] {
    return this.ipv6List(this.ex.ipv6_router);
  }
  ipv6DnsServers(): { address: string; lifetime: number }[] {
    return this.ipv6List(this.ex.ipv6_dns);
  }
  private ipv6List(f?: (i: number, ptr: number) => number): { address: string; lifetime: number }[] {
    const out: { address: string; lifetime: number }[] = [];
    if (!f) return out;
    const ptr = this.ex.io_buffer();
    for (let i = 0; i < 8; i++) {
      const life = f(i, ptr) >>> 0;
      if (life) out.push({ address: formatIpv6(new Uint8Array(this.ex.memory.buffer, ptr, 16).slice()), lifetime: life === 0xffffffff ? Infinity : life });
    }
    return out;
  }

  /** The IPv6 neighbor cache, like `ip -6 neigh`. */
  ipv6Neighbors(): { address: string; mac: string; state: string; router: boolean }[] {
    const ex = this.ex;
    const out: { address: string; mac: string; state: string; router: boolean }[] = [];
    if (!ex.ipv6_neighbor) return out;
    const ptr = ex.io_buffer();
    const n = ex.config(15) >>> 0;
    for (let i = 0; i < n; i++) {
      const st = ex.ipv6_neighbor(i, ptr);
      if (st <= 0) continue;
      const b = new Uint8Array(ex.memory.buffer, ptr, 24).slice();
      out.push({ address: formatIpv6(b.subarray(0, 16)), mac: formatMac(b.subarray(16, 22)), state: ND_STATES[st] ?? String(st), router: b[22] !== 0 });
    }
    return out;
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

  /** The image's configuration knob (wasmip.h WASMIP_CONFIG_*), by name. */
  config(name: ConfigName): number {
    const v = this.ex.config(CONFIG_IDS[name]) >>> 0;
    if (v === 0xffffffff) throw codedError("ERR_INVALID_ARG_VALUE", new RangeError(`config ${name}: unknown to this image`));
    return v;
  }

  /** The interface's address now (a DHCP lease may have set or dropped it). */
  get ip(): number {
    return this.ex.ipv4_address() >>> 0;
  }

  get ipString(): string {
    return u32ToIp(this.ip);
  }

  /** The clock this board's core runs on (ms). */
  now(): number {
    return this.opts.clock();
  }

  /** Rejects with code ENOSYS on an image without a resolver. */
  async lookup4(hostname: string): Promise<string> {
    return (await this.dns.lookup(hostname, { family: 4 })).address;
  }

  lookupHost(hostname: string): Promise<{ address: string; family: 4 | 6 }> {
    return this.dns.lookup(hostname, { family: 0 });
  }

  get macString(): string {
    return formatMac(this.mac);
  }
}
