// `wasmip sim --topology FILE`: a fleet of simulated boards from a topology file (topology.ts)
// on several learning switches joined by trunk links, with the simulated DHCP and DNS servers on
// the first switch. Each board runs its firmware image; what it does (tasks.ts: fetch a page by
// name, a bulk transfer to an echo server, pings, UDP datagrams to an echo server) is driven
// through the image's exports from the board's pump (after every input()/poll()), never by
// wall-clock time, so a seed gives the same run and the same capture, byte for byte. At the end:
// the summary (summary.ts), the run's invariants (invariants.ts: every board up, every task
// finished ok, counters consistent) and the report (report.ts).
import { mkdirSync } from "node:fs";
import path from "node:path";
import { u32ToIp } from "../../board/address.ts";
import { COUNTER_KIND, type Board } from "../../board/board.ts";
import { DHCP_STATES, dhcpStart } from "../../board/dhcp.ts";
import { PcapWriter } from "../../capture/pcap.ts";
import { Simulator, type Link } from "../sim.ts";
import { SimDhcpServer } from "../services/dhcpd.ts";
import { SimDnsServer } from "../services/dnsd.ts";
import { checkInvariants } from "./invariants.ts";
import { report } from "./report.ts";
import type { BoardSummary, FleetSummary, LinkSummary } from "./summary.ts";
import { makeTask, type FleetExports, type TaskBoard, type TaskRunner } from "./tasks.ts";
import { checkFirmware, type BoardSpec, type Topology } from "./topology.ts";

const DHCP_BOUND = DHCP_STATES.indexOf("BOUND");

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

const fmtMs = (ms: number): string => ms.toFixed(3).padStart(11);

/** A board of the fleet while it runs. */
class FleetBoard implements TaskBoard {
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
