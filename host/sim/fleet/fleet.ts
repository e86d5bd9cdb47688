// `wasmip sim --topology FILE`: a fleet of simulated boards from a topology file (host/sim/fleet/topology.ts)
// on several learning switches joined by trunk links, with the simulated DHCP and DNS servers on
// the first switch. Each board runs its firmware image; what it does (fetch a page by name, a bulk
// transfer to an echo server, pings, UDP datagrams to an echo server) is driven through the
// image's exports from the board's pump (after every input()/poll()), never by wall-clock time,
// so a seed gives the same run and the same capture, byte for byte. At the end: a line per
// board, per-board connection tables and counters (host/board/netstat.ts), link and switch statistics,
// and the run's invariants (every board up, every task finished ok, counters consistent).
import { mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ERRORS } from "../../board/errors.ts";
import { u32ToIp, ipToU32 } from "../../board/address.ts";
import { COUNTER_KIND, type Board, type TcpTableRow } from "../../board/board.ts";
import { DHCP_STATES, dhcpStart } from "../../board/dhcp.ts";
import { formatCounters, formatTcpTable } from "../../board/netstat.ts";
import { PcapWriter } from "../../capture/pcap.ts";
import { Prng } from "../prng.ts";
import { Simulator, type DirectionStats, type Link, type Switch } from "../sim.ts";
import { SimDhcpServer } from "../services/dhcpd.ts";
import { SimDnsServer } from "../services/dnsd.ts";
import type { BoardSpec, TaskSpec, Topology } from "./topology.ts";

const EWOULDBLOCK = -3;
const ENOBUFS = -2;
const DHCP_BOUND = DHCP_STATES.indexOf("BOUND");
const DHCP_LEASED = new Set(["BOUND", "RENEWING", "REBINDING"].map((s) => DHCP_STATES.indexOf(s as (typeof DHCP_STATES)[number])));

export interface FleetOptions {
  seed?: number; // overrides the file's
  duration?: number; // virtual ms, overrides the file's
  pcap?: string; // every frame any board or service transmits (classic pcap)
  captureDir?: string; // one pcap per board, at its interface (what it sent and what reached it)
  captureBoards?: string[]; // with captureDir: only these boards (default all)
  print?: (line: string) => void; // default console.log
  brief?: boolean; // no per-board tables and counters
  verbose?: boolean; // board log lines and task events as they happen
  progress?: (virtualMs: number) => void; // after each virtual second
}

export interface TaskRun {
  start: number; // virtual ms
  end?: number;
  ok: boolean;
  detail: string; // "200 OK, 261 bytes", "65536 bytes echoed", "4/4 replies", "ETIMEDOUT" ...
}

export interface TaskSummary {
  kind: TaskSpec["kind"];
  target: string;
  planned: number; // repetitions (fetch, bulk) or packets (ping, udp)
  state: "waiting" | "running" | "finished";
  runs: TaskRun[];
  ok: boolean; // finished and every run ok
  // ping and udp: packets
  sent?: number;
  received?: number;
  notSent?: number; // refused by the core (e.g. ENOBUFS while ARP resolves), counted in the run's detail
}

export interface BoardSummary {
  name: string;
  firmware: string;
  switch: string;
  mac: string;
  dhcp: boolean;
  address: string | null; // null: never up
  upAt: number | null; // virtual ms when it had its address
  dhcpState?: string;
  tasks: TaskSummary[];
  counters: Record<string, number>; // non-zero
  rxFrames: number; // frames its link delivered to it
  txFrames: number; // frames it put on its link
  rxDropped: number; // of the received frames, those the core dropped (counted by reason)
  tcp: TcpTableRow[];
  memoryUsed: number;
  memoryPages: number;
}

export interface LinkSummary {
  name: string;
  kind: "board" | "trunk" | "service";
  directions: Record<string, DirectionStats & { inFlight: number }>;
}

export interface FleetInvariants {
  boardsUp: string; // "all", or what is missing
  addressesUnique: string; // "yes" or the clashes
  dnsNames: string; // "all": every board's name resolves (in dnsd) to its address
  tasksFinished: string; // "all" or the unfinished ones
  tasksOk: string; // "all" or the failed ones
  countersConsistent: string; // "yes": each board's rx counters = frames delivered to it, tx_frames = frames it sent; switch totals add up
  framesConserved: string; // "yes": on every link direction offered + duplicated = delivered + lost + over-MTU + in flight
}

export interface FleetSummary {
  file?: string;
  seed: number;
  duration: number;
  boards: BoardSummary[];
  switches: { name: string; ports: number; stats: Switch["stats"] }[];
  links: LinkSummary[];
  dhcp?: { server: string; leases: number };
  dns?: { server: string; zone: string; queries: number };
  events: number;
  wallMs: number;
  simSecondsPerWallSecond: number;
  pcapFrames: number;
  invariants: FleetInvariants;
  ok: boolean;
}

interface FleetExports {
  memory: WebAssembly.Memory;
  io_buffer(): number;
  io_buffer_size(): number;
  dhcp_state(): number;
  dns_set_servers(a: number, b: number): number;
  dns_resolve(ptr: number, len: number): number;
  dns_result(h: number): number;
  dns_address(h: number): number;
  dns_release(h: number): number;
  fetch_start(namePtr: number, len: number, port: number, pathPtr: number, pathLen: number): number;
  fetch_state(): number;
  fetch_status(): number;
  fetch_body_bytes(): number;
  fetch_line(): number;
  fetch_line_len(): number;
  bulk_start(ip: number, port: number, bytes: number): number;
  bulk_state(): number;
  bulk_received(): number;
  bulk_mismatches(): number;
  udp_socket(): number;
  udp_bind(fd: number, port: number): number;
  udp_sendto(fd: number, ptr: number, len: number, ip: number, port: number): number;
  udp_recvfrom(fd: number, ptr: number, len: number): number;
  udp_close(fd: number): number;
}

/** The exports a task needs from the board's image. */
const TASK_EXPORTS: Record<TaskSpec["kind"], string[]> = {
  fetch: ["fetch_start", "fetch_state", "fetch_status"],
  bulk: ["bulk_start", "bulk_state", "dns_resolve"],
  ping: ["ping", "ping_rtt", "dns_resolve"],
  udp: ["udp_socket", "udp_sendto", "udp_recvfrom", "dns_resolve"],
};

const errName = (code: number): string => ERRORS[code] ?? (code === -100 ? "server closed early" : code === -101 ? "not an HTTP reply" : `error ${code}`);
const fmtMs = (ms: number): string => ms.toFixed(3).padStart(11);

/** A board of the fleet while it runs. */
class FleetBoard {
  board?: Board;
  ex?: FleetExports;
  upAt?: number;
  tasks: TaskRunner[] = [];
  private pingSeq = 0;

  constructor(
    readonly spec: BoardSpec,
    readonly fleet: Fleet,
  ) {
    this.tasks = spec.tasks.map((t, i) => makeTask(t, this, i));
  }

  nextPingSeq(): number {
    this.pingSeq = (this.pingSeq % 0xffff) + 1;
    return this.pingSeq;
  }

  powerOn(): void {
    const { sim, topo } = this.fleet;
    const s = this.spec;
    const b = sim.addBoard({
      name: s.name,
      mac: s.mac,
      wasm: s.wasm,
      ip: s.address === "dhcp" ? undefined : u32ToIp(s.address),
      prefix: topo.subnet.prefix,
      switch: sim.switches.find((x) => x.name === s.switch)!,
      link: s.link,
    });
    this.board = b;
    this.ex = b.exports as unknown as FleetExports;
    b.addPump(() => this.pump());
    if (s.address === "dhcp") {
      dhcpStart(b, s.name);
    } else {
      if (topo.dns && typeof this.ex.dns_set_servers === "function") this.ex.dns_set_servers(topo.dns.server, 0);
      this.up();
    }
  }

  private up(): void {
    const { sim } = this.fleet;
    this.upAt = sim.now;
    this.fleet.boardUp(this);
    for (const t of this.tasks) t.schedule(sim.now);
  }

  /** After every input()/poll() of the board. True if it did something (the board polls again). */
  private pump(): boolean {
    if (this.upAt === undefined) {
      if (this.ex!.dhcp_state() !== DHCP_BOUND) return false;
      this.up();
    }
    let did = false;
    for (const t of this.tasks) if (t.running) did = t.pump() || did;
    return did;
  }
}

abstract class TaskRunner {
  running = false;
  started = false;
  readonly runs: TaskRun[] = [];
  protected left: number;
  protected readonly rng: Prng;
  protected current?: TaskRun;

  constructor(
    readonly spec: TaskSpec,
    readonly fb: FleetBoard,
    readonly index: number,
  ) {
    this.left = this.repetitions();
    this.rng = fb.fleet.sim.prng.fork(`fleet:task:${fb.spec.name}:${index}`);
  }

  /** Repetitions of start() (fetch, bulk: count; ping, udp: one run of count packets). */
  protected repetitions(): number {
    return this.spec.count;
  }

  get sim(): Simulator {
    return this.fb.fleet.sim;
  }
  get board(): Board {
    return this.fb.board!;
  }
  get ex(): FleetExports {
    return this.fb.ex!;
  }

  abstract target(): string;

  /** The board is up: first start after `at` plus this board's share of `spread`. */
  schedule(now: number): void {
    const t = now + this.spec.at + this.rng.nextFloat() * this.spec.spread;
    this.sim.at(t, () => this.begin());
  }

  private begin(): void {
    this.started = true;
    this.running = true;
    this.current = { start: this.sim.now, ok: false, detail: "" };
    this.runs.push(this.current);
    this.fb.fleet.event(this.fb, `${this.spec.kind} ${this.target()}: start`);
    this.start();
    this.sim.poke(this.board);
  }

  /** Called when a run ends; starts the next after `every` (from the previous start) if any are left. */
  protected finish(ok: boolean, detail: string): void {
    const r = this.current!;
    r.end = this.sim.now;
    r.ok = ok;
    r.detail = detail;
    this.running = false;
    this.current = undefined;
    this.fb.fleet.event(this.fb, `${this.spec.kind} ${this.target()}: ${ok ? "ok" : "FAILED"}: ${detail}`);
    if (--this.left > 0) this.sim.at(Math.max(this.sim.now, r.start + this.spec.every), () => this.begin());
  }

  abstract start(): void;
  /** While running, after each input()/poll(); true if it did something. */
  abstract pump(): boolean;

  summary(): TaskSummary {
    const finished = this.left === 0 && !this.running;
    return {
      kind: this.spec.kind,
      target: this.target(),
      planned: this.spec.count,
      state: finished ? "finished" : this.started ? "running" : "waiting",
      runs: this.runs.map((r) => ({ ...r })),
      ok: finished && this.runs.every((r) => r.ok),
    };
  }

  // ---- helpers: the board's own resolver (its DNS exports), for a name or an address
  private handle = -1; // >= 0 while a lookup is in flight
  private lookupName?: string; // set while resolving
  private lookupError = 0; // dns_resolve refused to start (not ENOBUFS)

  /** Start resolving; returns the address now for a literal, else undefined (see resolved()). */
  protected resolveStart(host: string): number | undefined {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) return ipToU32(host);
    this.lookupName = host;
    this.handle = -1;
    this.lookupError = 0;
    this.tryResolve();
    return undefined;
  }

  private tryResolve(): void {
    const ex = this.ex;
    const name = Buffer.from(this.lookupName!, "latin1");
    const ptr = ex.io_buffer();
    new Uint8Array(ex.memory.buffer, ptr, name.length).set(name);
    const h = ex.dns_resolve(ptr, name.length);
    if (h === ENOBUFS) return; // every query slot is busy: again on the next pump
    if (h < 0) this.lookupError = h;
    else this.handle = h;
  }

  /** undefined while pending; else the address (u32), or a negative WASMIP_E* code. */
  protected resolved(): number | undefined {
    if (this.lookupName === undefined) return undefined;
    if (this.handle < 0 && this.lookupError === 0) this.tryResolve();
    if (this.lookupError !== 0) {
      this.lookupName = undefined;
      return this.lookupError;
    }
    if (this.handle < 0) return undefined;
    const r = this.ex.dns_result(this.handle);
    if (r === EWOULDBLOCK) return undefined;
    const a = r === 0 ? this.ex.dns_address(this.handle) >>> 0 : r;
    this.ex.dns_release(this.handle);
    this.lookupName = undefined;
    this.handle = -1;
    return a;
  }
}

class FetchTask extends TaskRunner {
  declare readonly spec: Extract<TaskSpec, { kind: "fetch" }>;
  target(): string {
    return this.spec.url;
  }
  start(): void {
    const ex = this.ex;
    const name = Buffer.from(this.spec.host, "latin1");
    const p = Buffer.from(this.spec.path, "latin1");
    const ptr = ex.io_buffer();
    const mem = new Uint8Array(ex.memory.buffer);
    mem.set(name, ptr);
    mem.set(p, ptr + name.length);
    const rc = ex.fetch_start(ptr, name.length, this.spec.port, ptr + name.length, p.length);
    if (rc < 0) this.finish(false, `fetch_start: ${errName(rc)}`);
  }
  pump(): boolean {
    const st = this.ex.fetch_state();
    if (st > 0 && st < 5) return false;
    const status = this.ex.fetch_status();
    if (st === 5 && status > 0) {
      const line = Buffer.from(new Uint8Array(this.ex.memory.buffer, this.ex.fetch_line(), this.ex.fetch_line_len())).toString("latin1");
      const body = this.ex.fetch_body_bytes();
      this.finish(status >= 200 && status < 300, `${line.replace(/^HTTP\/\d\.\d /, "")}, ${body} bytes`);
    } else {
      this.finish(false, errName(st < 0 ? st : status));
    }
    return true;
  }
}

class BulkTask extends TaskRunner {
  declare readonly spec: Extract<TaskSpec, { kind: "bulk" }>;
  private phase: "resolve" | "transfer" = "resolve";
  target(): string {
    return `${this.spec.host}:${this.spec.port}`;
  }
  start(): void {
    this.phase = "resolve";
    const a = this.resolveStart(this.spec.host);
    if (a !== undefined) this.connect(a);
  }
  private connect(ip: number): void {
    this.phase = "transfer";
    const rc = this.ex.bulk_start(ip, this.spec.port, this.spec.bytes);
    if (rc < 0) this.finish(false, `bulk_start: ${errName(rc)}`);
  }
  pump(): boolean {
    if (this.phase === "resolve") {
      const a = this.resolved();
      if (a === undefined) return false;
      if (a < 0) this.finish(false, `lookup ${this.spec.host}: ${errName(a)}`);
      else this.connect(a);
      return true;
    }
    const st = this.ex.bulk_state();
    if (st === 1 || st === 2) return false;
    const got = this.ex.bulk_received() >>> 0;
    const bad = this.ex.bulk_mismatches() >>> 0;
    if (st === 3) this.finish(got === this.spec.bytes && bad === 0, `${got} of ${this.spec.bytes} bytes echoed${bad ? `, ${bad} wrong` : ""}`);
    else this.finish(false, `${errName(st)} after ${got} of ${this.spec.bytes} bytes`);
    return true;
  }
}

/** ping and udp: one run of `count` packets, one every `every` ms, then `wait` for the last answers. */
abstract class PacketTask extends TaskRunner {
  declare readonly spec: Extract<TaskSpec, { kind: "ping" | "udp" }>;
  protected dst = 0;
  protected sent = 0;
  protected sendErrors = 0;
  protected received = 0;
  private resolving = false;
  protected repetitions(): number {
    return 1;
  }
  start(): void {
    this.sent = this.received = this.sendErrors = 0;
    const a = this.resolveStart(this.spec.host);
    this.resolving = a === undefined;
    if (a !== undefined) this.go(a);
  }
  private go(ip: number): void {
    this.dst = ip;
    if (!this.open()) return;
    const t0 = this.sim.now;
    for (let k = 0; k < this.spec.count; k++)
      this.sim.at(t0 + k * this.spec.every, () => {
        if (this.running) this.send(k);
      });
    this.sim.at(t0 + (this.spec.count - 1) * this.spec.every + this.spec.wait, () => {
      if (!this.running) return;
      this.close();
      const errs = this.sendErrors ? `, ${this.sendErrors} not sent` : "";
      this.finish(this.received > 0, `${this.received}/${this.spec.count} ${this.unit()}${errs}`);
    });
  }
  pump(): boolean {
    if (this.resolving) {
      const a = this.resolved();
      if (a === undefined) return false;
      this.resolving = false;
      if (a < 0) this.finish(false, `lookup ${this.spec.host}: ${errName(a)}`);
      else this.go(a);
      return true;
    }
    return this.receive();
  }
  protected abstract unit(): string;
  protected abstract open(): boolean;
  protected abstract send(k: number): void;
  protected abstract receive(): boolean;
  protected abstract close(): void;
  summary(): TaskSummary {
    return { ...super.summary(), sent: this.sent, received: this.received, notSent: this.sendErrors };
  }
}

class PingTask extends PacketTask {
  private seqs: number[] = [];
  private answered = new Set<number>();
  target(): string {
    return this.spec.host;
  }
  protected unit(): string {
    return "replies";
  }
  protected open(): boolean {
    this.seqs = [];
    this.answered.clear();
    return true;
  }
  protected send(): void {
    const seq = this.fb.nextPingSeq();
    try {
      this.board.ping(u32ToIp(this.dst), seq, this.spec.size);
      this.seqs.push(seq);
      this.sent++;
    } catch {
      this.sendErrors++;
    }
  }
  protected receive(): boolean {
    for (const s of this.seqs)
      if (!this.answered.has(s) && this.board.pingRtt(s) >= 0) {
        this.answered.add(s);
        this.received++;
      }
    return false;
  }
  protected close(): void {
    this.receive();
  }
}

class UdpTask extends PacketTask {
  declare readonly spec: Extract<TaskSpec, { kind: "udp" }>;
  private fd = -1;
  private got = new Set<number>();
  target(): string {
    return `${this.spec.host}:${this.spec.port}`;
  }
  protected unit(): string {
    return "echoed";
  }
  protected open(): boolean {
    this.got.clear();
    const fd = this.ex.udp_socket();
    if (fd < 0 || this.ex.udp_bind(fd, 0) < 0) {
      if (fd >= 0) this.ex.udp_close(fd);
      this.finish(false, `udp_socket: ${errName(fd < 0 ? fd : -1)}`);
      return false;
    }
    this.fd = fd;
    return true;
  }
  /** Datagram k: "wasmip <board> <k>" padded to size, so an echo is matched to what was sent. */
  private payload(k: number): Buffer {
    const b = Buffer.alloc(this.spec.size, 0x2e);
    b.write(`wasmip ${this.fb.spec.name} ${k} `, "latin1");
    return b;
  }
  protected send(k: number): void {
    const ex = this.ex;
    const ptr = ex.io_buffer();
    new Uint8Array(ex.memory.buffer).set(this.payload(k), ptr);
    const rc = ex.udp_sendto(this.fd, ptr, this.spec.size, this.dst, this.spec.port);
    this.board.kick();
    if (rc < 0) this.sendErrors++;
    else this.sent++;
  }
  protected receive(): boolean {
    if (this.fd < 0) return false;
    const ex = this.ex;
    const ptr = ex.io_buffer();
    let did = false;
    for (let i = 0; i < 64; i++) {
      const n = ex.udp_recvfrom(this.fd, ptr, ex.io_buffer_size());
      if (n === EWOULDBLOCK) break;
      did = true;
      if (n < 0) continue; // an ICMP error about a datagram we sent: counted by the core
      const m = /^wasmip (\S+) (\d+) /.exec(Buffer.from(new Uint8Array(ex.memory.buffer, ptr, Math.min(n, 64))).toString("latin1"));
      if (m && m[1] === this.fb.spec.name && n === this.spec.size) {
        const k = Number(m[2]);
        if (!this.got.has(k) && k < this.spec.count) {
          this.got.add(k);
          this.received++;
        }
      }
    }
    return did;
  }
  protected close(): void {
    this.receive();
    if (this.fd >= 0) this.ex.udp_close(this.fd);
    this.fd = -1;
  }
}

function makeTask(t: TaskSpec, fb: FleetBoard, i: number): TaskRunner {
  switch (t.kind) {
    case "fetch":
      return new FetchTask(t, fb, i);
    case "bulk":
      return new BulkTask(t, fb, i);
    case "ping":
      return new PingTask(t, fb, i);
    case "udp":
      return new UdpTask(t, fb, i);
  }
}

/** Check each image exists and exports what its boards' tasks need, before anything runs. */
function checkFirmware(topo: Topology): void {
  const cache = new Map<string, Set<string>>();
  for (const b of topo.boards) {
    let ex = cache.get(b.wasm);
    if (!ex) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(b.wasm);
      } catch {
        throw new Error(`${b.name}: firmware ${path.relative(process.cwd(), b.wasm) || b.wasm} not found${b.wasm.includes(`${path.sep}build${path.sep}`) ? " (make build)" : ""}`);
      }
      ex = new Set(WebAssembly.Module.exports(new WebAssembly.Module(new Uint8Array(bytes))).map((e) => e.name));
      cache.set(b.wasm, ex);
    }
    const need = new Set<string>();
    if (b.address === "dhcp") need.add("dhcp_start");
    for (const t of b.tasks) for (const n of TASK_EXPORTS[t.kind]) need.add(n);
    const missing = [...need].filter((n) => !ex!.has(n));
    if (missing.length)
      throw new Error(
        `${b.name}: firmware ${b.firmware} lacks ${missing.join(", ")}` +
          (missing.some((m) => m.startsWith("fetch_")) ? " (fetch tasks need the fetch firmware)" : missing.some((m) => m.startsWith("bulk_")) ? " (bulk tasks need the bulk firmware)" : ""),
      );
  }
}

class Fleet {
  readonly sim: Simulator;
  readonly boards: FleetBoard[];
  readonly dhcpd?: SimDhcpServer;
  readonly dnsd?: SimDnsServer;

  constructor(
    readonly topo: Topology,
    readonly seed: number,
    private readonly print: (line: string) => void,
    private readonly verbose: boolean,
  ) {
    this.sim = new Simulator({
      seed,
      switchName: topo.switches[0],
      // Run in 1 s steps: a boot storm of thousands of boards (each broadcast reaches every board)
      // is tens of millions of events in a second, and still not a runaway.
      maxEventsPerRun: 200_000_000,
      log: verbose ? (e) => print(`[${fmtMs(e.time)} ms] ${e.board}: ${e.level === "info" ? "" : e.level + ": "}${e.msg}`) : undefined,
    });
    const sim = this.sim;
    for (const s of topo.switches.slice(1)) sim.addSwitch(s);
    const sw = (n: string) => sim.switches.find((s) => s.name === n)!;
    for (const t of topo.trunks) sim.addTrunk(sw(t.a), sw(t.b), t.link, t.name);
    if (topo.dhcp)
      this.dhcpd = new SimDhcpServer(sim, {
        ip: u32ToIp(topo.dhcp.server),
        prefix: topo.subnet.prefix,
        dns: topo.dns ? [u32ToIp(topo.dns.server)] : [],
        poolStart: u32ToIp(topo.dhcp.poolStart),
        poolEnd: u32ToIp(topo.dhcp.poolEnd),
        leaseSecs: topo.dhcp.leaseSecs,
      });
    if (topo.dns) this.dnsd = new SimDnsServer(sim, { ip: u32ToIp(topo.dns.server), ttl: topo.dns.ttl });
    this.boards = topo.boards.map((b) => new FleetBoard(b, this));
    // Static boards are in the zone from the start, like hosts an administrator registered.
    if (this.dnsd) for (const b of topo.boards) if (b.address !== "dhcp") this.dnsd.records.set(`${b.name}.${topo.dns!.zone}`, [u32ToIp(b.address)]);
  }

  event(fb: FleetBoard, msg: string): void {
    if (this.verbose) this.print(`[${fmtMs(this.sim.now)} ms] ${fb.spec.name}: ${msg}`);
  }

  /** A DHCP board is bound: like dnsmasq, its lease's host name becomes a name in the zone. */
  boardUp(fb: FleetBoard): void {
    const b = fb.board!;
    if (fb.spec.address === "dhcp" && this.dnsd && this.topo.dns) {
      const lease = this.dhcpd?.leaseOf(b.macString);
      if (lease?.hostName) this.dnsd.records.set(`${lease.hostName.toLowerCase()}.${this.topo.dns.zone}`, [lease.ip]);
    }
    this.event(fb, `up, ${b.ipString}${fb.spec.address === "dhcp" ? " (DHCP)" : ""}`);
  }
}

function linkSummary(name: string, kind: LinkSummary["kind"], link: Link): LinkSummary {
  const d = (x: Link["toSwitch"]) => ({ ...x.stats, inFlight: x.inFlight });
  return { name, kind, directions: { [link.toSwitch.name]: d(link.toSwitch), [link.fromSwitch.name]: d(link.fromSwitch) } };
}

function safeFile(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, "_");
}

/** Run a fleet; prints as it goes (see FleetOptions) and returns the summary. */
export function runFleet(topo: Topology, opts: FleetOptions = {}): FleetSummary {
  const print = opts.print ?? ((l: string) => console.log(l));
  const seed = opts.seed ?? topo.seed;
  const duration = opts.duration ?? topo.duration;
  checkFirmware(topo);
  const fleet = new Fleet(topo, seed, print, opts.verbose ?? false);
  const { sim } = fleet;

  const pcap = opts.pcap ? new PcapWriter(opts.pcap) : undefined;
  if (pcap) sim.capture(pcap);
  const nicPcaps: PcapWriter[] = [];
  if (opts.captureDir) {
    mkdirSync(opts.captureDir, { recursive: true });
    const names = opts.captureBoards ?? topo.boards.map((b) => b.name);
    for (const n of names) {
      if (!topo.boards.some((b) => b.name === n)) throw new Error(`--capture: no board named ${n}`);
      const w = new PcapWriter(path.join(opts.captureDir, `${safeFile(n)}.pcap`));
      sim.captureAt(n, w);
      nicPcaps.push(w);
    }
  }

  const dhcpBoards = topo.boards.filter((b) => b.address === "dhcp").length;
  print(
    `wasmip sim: ${topo.file ?? "topology"}: ${topo.boards.length} boards (${dhcpBoards} by DHCP), ${topo.switches.length} switch${topo.switches.length === 1 ? "" : "es"}, ` +
      `${topo.trunks.length} trunk link${topo.trunks.length === 1 ? "" : "s"}; seed ${seed}; ${duration / 1000} s of virtual time`,
  );
  if (topo.description) print(topo.description);
  for (const w of topo.warnings) print(`warning: ${w}`);
  if (topo.dhcp) print(`dhcpd ${u32ToIp(topo.dhcp.server)} on ${topo.switches[0]}: pool ${u32ToIp(topo.dhcp.poolStart)}-${u32ToIp(topo.dhcp.poolEnd)}/${topo.subnet.prefix}, lease ${topo.dhcp.leaseSecs} s`);
  if (topo.dns) print(`dnsd ${u32ToIp(topo.dns.server)} on ${topo.switches[0]}: zone ${topo.dns.zone}, names <board>.${topo.dns.zone}`);

  // Power-on times from each board's own stream, so adding a board does not move the others.
  for (const fb of fleet.boards) {
    const s = fb.spec;
    const t = s.boot + (s.bootSpread ? sim.prng.fork(`fleet:boot:${s.name}`).nextFloat() * s.bootSpread : 0);
    sim.at(t, () => fb.powerOn());
  }
  const wall0 = process.hrtime.bigint();
  // In steps of a virtual second: the simulator's event-storm guard then bounds one second's events.
  for (let t = Math.min(1000, duration); ; t = Math.min(t + 1000, duration)) {
    sim.runUntil(t);
    opts.progress?.(t);
    if (t >= duration) break;
  }
  const wallMs = Number(process.hrtime.bigint() - wall0) / 1e6;

  const summary = summarize(fleet, seed, duration, wallMs);
  let pcapFrames = 0;
  if (pcap) {
    pcapFrames = pcap.frames;
    pcap.close();
  }
  for (const w of nicPcaps) w.close();
  summary.pcapFrames = pcapFrames;
  report(summary, fleet, print, opts.brief ?? false);
  if (pcap) print(`wrote ${pcapFrames} frames to ${pcap.path}`);
  if (nicPcaps.length) print(`wrote ${nicPcaps.length} per-board captures to ${opts.captureDir}/`);
  return summary;
}

function summarize(fleet: Fleet, seed: number, duration: number, wallMs: number): FleetSummary {
  const { sim, topo } = fleet;
  const boards: BoardSummary[] = fleet.boards.map((fb) => {
    const b = fb.board;
    const tasks = fb.tasks.map((t) => t.summary());
    if (!b)
      return {
        name: fb.spec.name, firmware: fb.spec.firmware, switch: fb.spec.switch, mac: fb.spec.mac, dhcp: fb.spec.address === "dhcp",
        address: null, upAt: null, tasks, counters: {}, rxFrames: 0, txFrames: 0, rxDropped: 0, tcp: [], memoryUsed: 0, memoryPages: 0,
      };
    const link = sim.linkOf(b);
    const all = b.counters();
    let rxDropped = 0;
    for (const [k, v] of Object.entries(all)) if (b.counterKind(k) === COUNTER_KIND.rxDrop) rxDropped += v;
    const ex = b.exports as unknown as FleetExports;
    return {
      name: b.name,
      firmware: fb.spec.firmware,
      switch: fb.spec.switch,
      mac: b.macString,
      dhcp: fb.spec.address === "dhcp",
      address: fb.upAt === undefined ? null : b.ipString,
      upAt: fb.upAt ?? null,
      dhcpState: fb.spec.address === "dhcp" ? DHCP_STATES[ex.dhcp_state()] : undefined,
      tasks,
      counters: Object.fromEntries(Object.entries(all).filter(([, v]) => v !== 0)),
      rxFrames: link.fromSwitch.stats.delivered,
      txFrames: link.toSwitch.stats.offered,
      rxDropped,
      tcp: b.tcpTable(),
      memoryUsed: b.memoryUsed,
      memoryPages: b.memoryPages,
    };
  });
  const links: LinkSummary[] = [];
  for (const fb of fleet.boards) if (fb.board) links.push(linkSummary(fb.spec.name, "board", sim.linkOf(fb.board)));
  for (const t of sim.trunks) links.push(linkSummary(t.name, "trunk", t.link));
  for (const n of ["dhcpd", "dnsd"]) if ((n === "dhcpd" && fleet.dhcpd) || (n === "dnsd" && fleet.dnsd)) links.push(linkSummary(n, "service", sim.linkOf(n)));

  const s: FleetSummary = {
    file: topo.file,
    seed,
    duration,
    boards,
    switches: sim.switches.map((sw) => ({ name: sw.name, ports: sw.ports.length, stats: { ...sw.stats } })),
    links,
    dhcp: fleet.dhcpd ? { server: u32ToIp(fleet.dhcpd.ip), leases: fleet.dhcpd.leases.size } : undefined,
    dns: fleet.dnsd ? { server: fleet.dnsd.ipString, zone: topo.dns!.zone, queries: fleet.dnsd.queries.length } : undefined,
    events: sim.events,
    wallMs,
    simSecondsPerWallSecond: wallMs > 0 ? duration / wallMs : Infinity,
    pcapFrames: 0,
    invariants: checkInvariants(fleet, boards),
    ok: false,
  };
  s.ok = Object.values(s.invariants).every((v) => v === "all" || v === "yes");
  return s;
}

/** "all" / "yes", or a short list of what broke (at most 8 named, then a count). */
function verdict(bad: string[], good: "all" | "yes"): string {
  if (bad.length === 0) return good;
  return `${bad.length} failed: ${bad.slice(0, 8).join("; ")}${bad.length > 8 ? `; and ${bad.length - 8} more` : ""}`;
}

function checkInvariants(fleet: Fleet, boards: BoardSummary[]): FleetInvariants {
  const { sim, topo } = fleet;
  const notUp: string[] = [];
  const byAddr = new Map<string, string[]>();
  const dnsBad: string[] = [];
  const unfinished: string[] = [];
  const failed: string[] = [];
  const counters: string[] = [];
  const frames: string[] = [];
  for (const [i, b] of boards.entries()) {
    const fb = fleet.boards[i];
    if (b.address === null) notUp.push(`${b.name} not up${b.dhcpState ? ` (DHCP ${b.dhcpState})` : fb.board ? "" : " (never powered on)"}`);
    else if (b.dhcp) {
      const a = ipToU32(b.address);
      const lease = fleet.dhcpd?.leaseOf(b.mac);
      if (!DHCP_LEASED.has(DHCP_STATES.indexOf(b.dhcpState as (typeof DHCP_STATES)[number]))) notUp.push(`${b.name} lost its lease (DHCP ${b.dhcpState})`);
      else if (!lease || lease.ip !== b.address || a < topo.dhcp!.poolStart || a > topo.dhcp!.poolEnd) notUp.push(`${b.name} has ${b.address}, which is not its lease`);
    }
    if (b.address !== null) byAddr.set(b.address, [...(byAddr.get(b.address) ?? []), b.name]);
    if (b.address !== null && fleet.dnsd && topo.dns) {
      const rec = fleet.dnsd.records.get(`${b.name}.${topo.dns.zone}`);
      if (!rec || rec.length !== 1 || rec[0] !== b.address) dnsBad.push(`${b.name}.${topo.dns.zone} -> ${rec?.join(",") ?? "nothing"}, board has ${b.address}`);
    }
    for (const [ti, t] of b.tasks.entries()) {
      const label = `${b.name} do[${ti}] ${t.kind} ${t.target}`;
      if (t.state !== "finished") unfinished.push(`${label}: ${t.state}${t.runs.length ? ` (${t.runs.filter((r) => r.end !== undefined).length}/${t.kind === "ping" || t.kind === "udp" ? 1 : t.planned} runs)` : ""}`);
      else if (!t.ok) failed.push(`${label}: ${t.runs.filter((r) => !r.ok).map((r) => r.detail).join(", ")}`);
    }
    const board = fb.board;
    if (board) {
      const link = sim.linkOf(board);
      const rx = board.rxAccounted();
      if (rx !== link.fromSwitch.stats.delivered) counters.push(`${b.name}: rx counters ${rx} != ${link.fromSwitch.stats.delivered} frames delivered`);
      const tx = board.counters().tx_frames;
      if (tx !== undefined && tx !== link.toSwitch.stats.offered) counters.push(`${b.name}: tx_frames ${tx} != ${link.toSwitch.stats.offered} frames sent`);
    }
  }
  const clashes = [...byAddr].filter(([, n]) => n.length > 1).map(([a, n]) => `${a}: ${n.join(", ")}`);
  // Every frame a switch received came out of one of its links, and was forwarded, flooded, filtered or a runt.
  for (const sw of sim.switches) {
    let inbound = 0;
    for (const p of sw.ports) {
      const t = sim.trunks.find((x) => x.link === p.link);
      inbound += t ? (t.a === sw ? t.bToA : t.aToB).stats.delivered : p.link.toSwitch.stats.delivered;
    }
    const st = sw.stats;
    if (inbound !== st.received) counters.push(`switch ${sw.name}: received ${st.received} != ${inbound} frames its links delivered`);
    if (st.received !== st.forwarded + st.flooded + st.filtered + st.runts) counters.push(`switch ${sw.name}: received != forwarded + flooded + filtered + runts`);
  }
  for (const sw of sim.switches)
    for (const p of sw.ports) {
      const t = sim.trunks.find((x) => x.link === p.link);
      if (t && t.b === sw) continue; // each trunk once
      for (const d of [p.link.toSwitch, p.link.fromSwitch]) {
        const s = d.stats;
        if (s.offered + s.duplicated !== s.delivered + s.lost + s.mtuDropped + d.inFlight) frames.push(`${d.name}: ${s.offered} + ${s.duplicated} dup != ${s.delivered} + ${s.lost} lost + ${s.mtuDropped} mtu + ${d.inFlight} in flight`);
      }
    }
  return {
    boardsUp: verdict(notUp, "all"),
    addressesUnique: verdict(clashes, "yes"),
    dnsNames: fleet.dnsd ? verdict(dnsBad, "all") : "all",
    tasksFinished: verdict(unfinished, "all"),
    tasksOk: verdict(failed, "all"),
    countersConsistent: verdict(counters, "yes"),
    framesConserved: verdict(frames, "yes"),
  };
}

function taskCell(t: TaskSummary): string {
  const done = t.runs.filter((r) => r.end !== undefined);
  if (t.kind === "ping" || t.kind === "udp") {
    if (t.state === "waiting") return `${t.kind} -`;
    return `${t.kind} ${t.received ?? 0}/${t.planned}${t.state === "running" ? "…" : t.ok ? "" : " FAIL"}`;
  }
  const ok = done.filter((r) => r.ok).length;
  return `${t.kind} ${ok}/${t.planned}${t.state === "running" ? "…" : t.state === "waiting" ? " -" : ok === done.length ? "" : " FAIL"}`;
}

function fmtDir(s: DirectionStats & { inFlight: number }): string {
  const extra = (["lost", "duplicated", "reordered", "corrupted", "mtuDropped", "inFlight"] as const)
    .filter((k) => s[k])
    .map((k) => `${s[k]} ${k === "mtuDropped" ? "over mtu" : k === "inFlight" ? "in flight" : k}`);
  return `${s.offered} offered, ${s.delivered} delivered${extra.length ? ", " + extra.join(", ") : ""}`;
}

function report(s: FleetSummary, fleet: Fleet, print: (line: string) => void, brief: boolean): void {
  print("");
  const rows = s.boards.map((b) => [
    b.name,
    b.firmware,
    b.switch,
    b.address ?? "-",
    b.upAt === null ? "-" : (b.upAt / 1000).toFixed(3),
    b.tasks.length ? b.tasks.map(taskCell).join(", ") : "-",
    String(b.rxFrames),
    String(b.txFrames),
    String(b.rxDropped),
    String(b.tcp.length),
  ]);
  const head = ["board", "firmware", "switch", "address", "up (s)", "tasks", "rx", "tx", "dropped", "tcp"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 6 ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ").trimEnd();
  print(line(head));
  for (const r of rows) print(line(r));

  if (!brief)
    for (const [i, b] of s.boards.entries()) {
      const fb = fleet.boards[i];
      print("");
      print(`--- ${b.name} (${b.firmware} on ${b.switch}, ${b.mac}, ${b.address ?? "no address"}${b.dhcp ? `, DHCP ${b.dhcpState ?? "-"}` : ""}) ---`);
      for (const [ti, t] of b.tasks.entries())
        for (const r of t.runs)
          print(`  do[${ti}] ${t.kind} ${t.target} at ${(r.start / 1000).toFixed(3)} s: ${r.end === undefined ? "still running at the end" : `${r.ok ? "ok" : "FAILED"}, ${r.detail} (${(r.end - r.start).toFixed(0)} ms)`}`);
      if (!fb.board) {
        print("  (never powered on)");
        continue;
      }
      const tcp = formatTcpTable(b.tcp);
      if (tcp.length === 1) print("  (no TCP connections)");
      else for (const l of tcp) print(`  ${l}`);
      for (const l of formatCounters(b.counters)) print(`  ${l}`);
    }

  print("");
  for (const sw of s.switches)
    print(`switch ${sw.name}: ${sw.ports} ports, ${sw.stats.received} frames received, ${sw.stats.forwarded} forwarded, ${sw.stats.flooded} flooded, ${sw.stats.filtered} filtered${sw.stats.runts ? `, ${sw.stats.runts} runts` : ""}`);
  for (const l of s.links.filter((x) => x.kind === "trunk"))
    for (const [d, st] of Object.entries(l.directions)) print(`trunk ${l.name} ${d}: ${fmtDir(st)}`);
  const impaired = s.links.filter((l) => l.kind === "board" && Object.values(l.directions).some((d) => d.lost || d.duplicated || d.reordered || d.corrupted || d.mtuDropped));
  for (const l of impaired) for (const [d, st] of Object.entries(l.directions)) print(`link ${d}: ${fmtDir(st)}`);
  if (s.dhcp) print(`dhcpd ${s.dhcp.server}: ${s.dhcp.leases} leases`);
  if (s.dns) print(`dnsd ${s.dns.server}: ${s.dns.queries} queries`);
  const rate = s.simSecondsPerWallSecond;
  print(`${s.events} events, ${(s.duration / 1000).toFixed(3)} s of virtual time in ${(s.wallMs / 1000).toFixed(2)} s (${Number.isFinite(rate) ? rate.toFixed(1) : "inf"} simulated s per wall s)`);
  print("");
  print("invariants:");
  const inv = s.invariants;
  const names: Record<keyof FleetInvariants, string> = {
    boardsUp: "every board up (leased or static)",
    addressesUnique: "addresses unique",
    dnsNames: "every board's name resolves to its address",
    tasksFinished: "every task finished",
    tasksOk: "every task ok",
    countersConsistent: "counters consistent with the links and switches",
    framesConserved: "frames conserved on every link",
  };
  for (const k of Object.keys(names) as (keyof FleetInvariants)[]) print(`  ${names[k]}: ${inv[k]}`);
  print(s.ok ? "fleet ok" : "fleet FAILED");
}
