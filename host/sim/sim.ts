// host/sim/: the simulator, in virtual time, above board/ and capture/. This file has the
// switches, links and clock; prng.ts the seeded streams; frames.ts the frame builders and
// parsers of the services (and of tests that craft frames); services/ the DHCP and DNS servers
// on the switch; demo.ts `wasmip sim`; fleet/ `wasmip sim --topology` (topology.ts, summary.ts,
// tasks.ts, invariants.ts, report.ts, fleet.ts, bottom-up). One seed gives one run, byte for byte.
//
// The emulated PHY in virtual time: boards (host/board/board.ts) on learning Ethernet switches,
// connected by impaired links, driven by one deterministic event queue. Nothing sleeps:
// virtual time jumps to the next event. Every random decision comes from a PRNG stream forked
// by name from the simulation seed, so one seed always gives the same event sequence.
import { Board, type BoardOptions, type LogLevel } from "../board/board.ts";
import { Prng } from "./prng.ts";
import { netActivity } from "../board/pump.ts";

/** Let the host event loop run: process.nextTick jobs, promise jobs, then this resolves. */
const yieldToHost = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

// ---- Event queue -----------------------------------------------------------------------------

interface SimEvent {
  time: number;
  seq: number;
  run: () => void;
  cancelled: boolean;
}

/** A binary min-heap ordered by (time, insertion sequence): equal times run in FIFO order. */
class EventQueue {
  private readonly heap: SimEvent[] = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  push(time: number, run: () => void): SimEvent {
    const ev: SimEvent = { time, seq: this.seq++, run, cancelled: false };
    const h = this.heap;
    h.push(ev);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(ev, h[parent])) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = ev;
    return ev;
  }

  /** The earliest live event, without removing it (cancelled ones are discarded on the way). */
  peek(): SimEvent | undefined {
    while (this.heap.length > 0 && this.heap[0].cancelled) this.pop();
    return this.heap[0];
  }

  pop(): SimEvent | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= h.length) break;
        const r = l + 1;
        const c = r < h.length && before(h[r], h[l]) ? r : l;
        if (!before(h[c], last)) break;
        h[i] = h[c];
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function before(a: SimEvent, b: SimEvent): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

// ---- Links -----------------------------------------------------------------------------------

/** Impairments of one direction of a link. Probabilities are 0..1; times are virtual ms. */
export interface Impairments {
  loss?: number; // probability a frame is dropped
  duplicate?: number; // probability a frame is delivered twice
  reorder?: number; // probability a frame is held back by reorderDelay (so later ones overtake it)
  reorderDelay?: number; // ms, default 10
  delay?: number; // ms, fixed propagation delay
  jitter?: number; // ms, uniform extra delay in [0, jitter)
  corrupt?: number; // probability one random bit is flipped (after the Ethernet header)
  mtu?: number; // frames whose payload (length - 14) exceeds this are dropped
}

/** Impairments for both directions, optionally overridden per direction. */
export interface LinkOptions extends Impairments {
  toSwitch?: Impairments; // endpoint -> switch
  fromSwitch?: Impairments; // switch -> endpoint
}

export interface DirectionStats {
  offered: number; // frames put on this direction
  delivered: number; // frames (copies included) that came out of it
  lost: number;
  mtuDropped: number;
  duplicated: number;
  reordered: number;
  corrupted: number;
  unplugged: number; // dropped while the cable was out (Simulator.setLink)
}

function emptyStats(): DirectionStats {
  return { offered: 0, delivered: 0, lost: 0, mtuDropped: 0, duplicated: 0, reordered: 0, corrupted: 0, unplugged: 0 };
}

function checkImpairments(im: Impairments, what: string): Required<Impairments> {
  const out: Required<Impairments> = {
    loss: im.loss ?? 0,
    duplicate: im.duplicate ?? 0,
    reorder: im.reorder ?? 0,
    reorderDelay: im.reorderDelay ?? 10,
    delay: im.delay ?? 0,
    jitter: im.jitter ?? 0,
    corrupt: im.corrupt ?? 0,
    mtu: im.mtu ?? Infinity,
  };
  for (const k of ["loss", "duplicate", "reorder", "corrupt"] as const)
    if (!(out[k] >= 0 && out[k] <= 1)) throw new RangeError(`${what}: ${k} must be a probability in 0..1, got ${out[k]}`);
  for (const k of ["reorderDelay", "delay", "jitter", "mtu"] as const)
    if (!(out[k] >= 0)) throw new RangeError(`${what}: ${k} must be >= 0, got ${out[k]}`);
  return out;
}

/** One direction of a link: applies its impairments and schedules deliveries. */
export class LinkDirection {
  readonly stats: DirectionStats = emptyStats();
  private im: Required<Impairments>;
  private pending = 0;
  /** The cable is out: every frame put on this direction is dropped (stats.unplugged). */
  unplugged = false;

  constructor(
    readonly name: string,
    private readonly sim: Simulator,
    private readonly rng: Prng,
    impairments: Impairments,
    private readonly deliver: (frame: Uint8Array) => void,
  ) {
    this.im = checkImpairments(impairments, name);
  }

  get impairments(): Readonly<Required<Impairments>> {
    return this.im;
  }

  /** Copies scheduled for delivery and not yet delivered. At any moment
   *  offered + duplicated = delivered + lost + mtuDropped + unplugged + inFlight. */
  get inFlight(): number {
    return this.pending;
  }

  set impairments(im: Impairments) {
    this.im = checkImpairments(im, this.name);
  }

  send(frame: Uint8Array): void {
    const im = this.im;
    const s = this.stats;
    s.offered++;
    if (this.unplugged) {
      s.unplugged++;
      return;
    }
    if (frame.length - 14 > im.mtu) {
      s.mtuDropped++;
      return;
    }
    if (this.rng.chance(im.loss)) {
      s.lost++;
      return;
    }
    const copies = this.rng.chance(im.duplicate) ? 2 : 1;
    if (copies === 2) s.duplicated++;
    for (let i = 0; i < copies; i++) {
      let f = frame;
      if (this.rng.chance(im.corrupt)) {
        // Past the Ethernet header: damage a real FCS would catch anyway, placed where the
        // stack's own checksums have to catch it.
        const start = frame.length > 14 ? 14 : 0;
        if (frame.length > 0) {
          f = frame.slice();
          const bit = this.rng.nextInt((f.length - start) * 8);
          f[start + (bit >>> 3)] ^= 1 << (bit & 7);
          s.corrupted++;
        }
      }
      let d = im.delay + this.rng.nextFloat() * im.jitter;
      if (this.rng.chance(im.reorder)) {
        d += im.reorderDelay;
        s.reordered++;
      }
      this.pending++;
      this.sim.at(this.sim.now + d, () => {
        this.pending--;
        s.delivered++;
        this.deliver(f);
      });
    }
  }
}

/** A full-duplex cable between an endpoint (board, test, TAP bridge) and a switch port. A trunk
 *  between two switches is a Link too (see Simulator.addTrunk for which direction is which). */
export class Link {
  readonly toSwitch: LinkDirection;
  readonly fromSwitch: LinkDirection;

  constructor(
    readonly name: string,
    sim: Simulator,
    opts: LinkOptions,
    toSwitch: (frame: Uint8Array) => void,
    fromSwitch: (frame: Uint8Array) => void,
    directionNames: [toSwitch: string, fromSwitch: string] = [`${name}>switch`, `switch>${name}`],
  ) {
    const { toSwitch: up, fromSwitch: down, ...both } = opts;
    this.toSwitch = new LinkDirection(directionNames[0], sim, sim.prng.fork(`link:${name}:toSwitch`), { ...both, ...up }, toSwitch);
    this.fromSwitch = new LinkDirection(directionNames[1], sim, sim.prng.fork(`link:${name}:fromSwitch`), { ...both, ...down }, fromSwitch);
  }

  /** Replace the impairments of both directions (same shape as at creation). */
  setImpairments(opts: LinkOptions): void {
    const { toSwitch: up, fromSwitch: down, ...both } = opts;
    this.toSwitch.impairments = { ...both, ...up };
    this.fromSwitch.impairments = { ...both, ...down };
  }

  /** Plug the cable in or pull it out (both directions; frames already on the wire arrive). */
  setPlugged(plugged: boolean): void {
    this.toSwitch.unplugged = !plugged;
    this.fromSwitch.unplugged = !plugged;
  }

  get plugged(): boolean {
    return !this.toSwitch.unplugged;
  }

  /** Both directions added up. */
  totals(): DirectionStats {
    const t = emptyStats();
    for (const d of [this.toSwitch.stats, this.fromSwitch.stats])
      for (const k of Object.keys(t) as (keyof DirectionStats)[]) t[k] += d[k];
    return t;
  }
}

// ---- Switch ----------------------------------------------------------------------------------

export interface SwitchPort {
  readonly index: number;
  readonly name: string;
  readonly link: Link;
}

export interface SwitchStats {
  received: number; // frames that reached the switch
  forwarded: number; // frames sent to the one learned port
  flooded: number; // broadcast, multicast or unknown unicast sent to every other port
  filtered: number; // destination learned on the ingress port: not forwarded
  runts: number; // shorter than an Ethernet header
}

function macKey(b: Uint8Array, off: number): number {
  return b[off] * 2 ** 40 + b[off + 1] * 2 ** 32 + (((b[off + 2] << 24) | (b[off + 3] << 16) | (b[off + 4] << 8) | b[off + 5]) >>> 0);
}

function formatMacKey(k: number): string {
  return k.toString(16).padStart(12, "0").replace(/(..)(?!$)/g, "$1:");
}

/** A learning Ethernet switch with no forwarding latency and no table aging. */
export class Switch {
  readonly ports: SwitchPort[] = [];
  readonly stats: SwitchStats = { received: 0, forwarded: 0, flooded: 0, filtered: 0, runts: 0 };
  private readonly table = new Map<number, number>(); // MAC -> port index
  private readonly egress: LinkDirection[] = [];

  constructor(
    readonly name: string,
    private readonly sim: Simulator,
  ) {}

  /** Connect an endpoint: `receive` gets the frames that come out of the link at its end. */
  connect(name: string, receive: (frame: Uint8Array) => void, opts: LinkOptions = {}): SwitchPort {
    const index = this.ports.length;
    const link = new Link(name, this.sim, opts, (f) => this.ingress(index, f), receive);
    const port: SwitchPort = { index, name, link };
    this.ports.push(port);
    this.egress.push(link.fromSwitch);
    return port;
  }

  /**
   * Join this switch to `other` with a trunk cable: a port on each. The link's toSwitch direction
   * carries other -> this, fromSwitch carries this -> other. Use Simulator.addTrunk, which refuses
   * loops (these switches run no spanning tree: a loop would flood broadcasts forever).
   */
  trunk(other: Switch, name: string, opts: LinkOptions = {}): [SwitchPort, SwitchPort] {
    if (other === this) throw new Error(`trunk ${name}: a switch cannot be trunked to itself`);
    const here = this.ports.length;
    const there = other.ports.length;
    const link = new Link(name, this.sim, opts, (f) => this.ingress(here, f), (f) => other.ingress(there, f), [
      `${other.name}>${this.name}`,
      `${this.name}>${other.name}`,
    ]);
    const a: SwitchPort = { index: here, name, link };
    const b: SwitchPort = { index: there, name, link };
    this.ports.push(a);
    this.egress.push(link.fromSwitch);
    other.ports.push(b);
    other.egress.push(link.toSwitch);
    return [a, b];
  }

  /** The port a MAC address was learned on, if any. */
  lookup(mac: Uint8Array | string): SwitchPort | undefined {
    const b = typeof mac === "string" ? Uint8Array.from(mac.split(":").map((x) => parseInt(x, 16))) : mac;
    const i = this.table.get(macKey(b, 0));
    return i === undefined ? undefined : this.ports[i];
  }

  /** The learned table as "mac -> port name", sorted by MAC. */
  macTable(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, i] of [...this.table].sort((a, b) => a[0] - b[0])) out.set(formatMacKey(k), this.ports[i].name);
    return out;
  }

  private ingress(port: number, frame: Uint8Array): void {
    const s = this.stats;
    s.received++;
    if (frame.length < 14) {
      s.runts++;
      return;
    }
    if ((frame[6] & 1) === 0) this.table.set(macKey(frame, 6), port); // learn unicast sources only
    const out = (frame[0] & 1) === 0 ? this.table.get(macKey(frame, 0)) : undefined;
    if (out === undefined) {
      s.flooded++;
      for (let i = 0; i < this.egress.length; i++) if (i !== port) this.egress[i].send(frame);
    } else if (out === port) {
      s.filtered++;
    } else {
      s.forwarded++;
      this.egress[out].send(frame);
    }
  }
}

// ---- Simulator -------------------------------------------------------------------------------

export interface SimLogEvent {
  time: number; // virtual ms
  board: string;
  level: LogLevel;
  msg: string;
}

export interface SimOptions {
  seed?: number; // default 1
  startTime?: number; // virtual ms at the start, default 0
  wasm?: string | Uint8Array; // default for boards: build/wasmip.wasm
  log?: (e: SimLogEvent) => void;
  maxEventsPerRun?: number; // guard against event storms, default 10 million
  switchName?: string; // name of the first switch (sim.switch), default "sw0"
}

export interface SimBoardOptions extends Omit<BoardOptions, "clock" | "random" | "log" | "transmit" | "name"> {
  name: string;
  switch?: Switch | null; // default: the simulator's switch; null: not connected
  link?: LinkOptions;
}

/** Anything that records frames: a PcapWriter, or a test's array. */
export interface FrameSink {
  write(frame: Uint8Array, timeMs: number): void;
}

/** An arbitrary endpoint on a switch port (a test, a TAP bridge). */
export interface SimEndpoint extends SwitchPort {
  /** Put a frame on the link towards the switch, at the current virtual time. */
  send(frame: Uint8Array): void;
}

interface BoardState {
  board: Board;
  port?: SwitchPort;
  pollEvent?: SimEvent;
  nic: FrameSink[]; // captures at this board's network interface (captureAt)
}

/** A cable between two switches (Simulator.addTrunk). */
export interface Trunk {
  readonly name: string;
  readonly a: Switch;
  readonly b: Switch;
  readonly link: Link;
  readonly aToB: LinkDirection; // link.fromSwitch
  readonly bToA: LinkDirection; // link.toSwitch
}

export interface RunOptions {
  maxTime?: number; // absolute virtual ms
  timeout?: number; // relative to now; default 60,000 when neither is given
}

export class Simulator {
  readonly prng: Prng;
  readonly switch: Switch;
  readonly switches: Switch[] = [];
  readonly trunks: Trunk[] = [];
  onLog?: (e: SimLogEvent) => void;
  /** Called after every event (a frame delivery, a poll, a scheduled callback): for observers
   *  such as a demo printing the connection table whenever it changes. */
  afterEvent?: (sim: Simulator) => void;
  private time: number;
  private readonly queue = new EventQueue();
  private readonly states = new Map<string, BoardState>();
  private readonly sinks: FrameSink[] = [];
  private readonly nics = new Map<string, FrameSink[]>(); // endpoint name -> captures at its interface
  private readonly wasm?: string | Uint8Array;
  private readonly maxEventsPerRun: number;
  private driving: Board | null = null; // the board inside a sim-driven input/poll
  private eventCount = 0;

  constructor(opts: SimOptions = {}) {
    this.prng = new Prng(opts.seed ?? 1);
    this.time = opts.startTime ?? 0;
    if (!Number.isFinite(this.time) || this.time < 0) throw new RangeError(`bad start time: ${opts.startTime}`);
    this.wasm = opts.wasm;
    this.onLog = opts.log;
    this.maxEventsPerRun = opts.maxEventsPerRun ?? 10_000_000;
    this.switch = this.addSwitch(opts.switchName ?? "sw0");
  }

  /** Virtual time in ms. Boards see `now >>> 0`. */
  get now(): number {
    return this.time;
  }

  /** Total events run so far (cancelled ones excluded). */
  get events(): number {
    return this.eventCount;
  }

  get seed(): number {
    return this.prng.seed;
  }

  addSwitch(name = `sw${this.switches.length}`): Switch {
    if (this.switches.some((s) => s.name === name)) throw new Error(`duplicate switch name: ${name}`);
    const sw = new Switch(name, this);
    this.switches.push(sw);
    return sw;
  }

  /**
   * Join two switches with a trunk link (impairments as for a board's link; `toSwitch` and
   * `fromSwitch` in opts mean b -> a and a -> b). Refuses a trunk that would close a loop: the
   * switches learn but run no spanning tree, so a loop would circulate broadcasts forever.
   */
  addTrunk(a: Switch, b: Switch, opts: LinkOptions = {}, name = `${a.name}-${b.name}`): Trunk {
    for (const sw of [a, b]) if (!this.switches.includes(sw)) throw new Error(`trunk ${name}: switch ${sw.name} is not in this simulation`);
    if (a === b) throw new Error(`trunk ${name}: a switch cannot be trunked to itself`);
    if (this.nameTaken(name)) throw new Error(`duplicate link name: ${name}`);
    const path = this.trunkPath(a, b);
    if (path) throw new Error(`trunk ${name} would close a loop (${[...path.map((s) => s.name), a.name].join(" - ")}): the switches run no spanning tree protocol`);
    const [port] = a.trunk(b, name, opts);
    const link = port.link;
    const t: Trunk = { name, a, b, link, aToB: link.fromSwitch, bToA: link.toSwitch };
    this.trunks.push(t);
    return t;
  }

  /** The switches on the trunk path from a to b (a first, b last), or undefined if not joined. */
  private trunkPath(a: Switch, b: Switch): Switch[] | undefined {
    const prev = new Map<Switch, Switch | null>([[a, null]]);
    const queue = [a];
    while (queue.length) {
      const s = queue.shift()!;
      if (s === b) {
        const path: Switch[] = [];
        for (let x: Switch | null = s; x; x = prev.get(x)!) path.unshift(x);
        return path;
      }
      for (const t of this.trunks) {
        const n = t.a === s ? t.b : t.b === s ? t.a : undefined;
        if (n && !prev.has(n)) {
          prev.set(n, s);
          queue.push(n);
        }
      }
    }
    return undefined;
  }

  /** Create a board clocked by the simulator, with its own PRNG stream, and plug it in. */
  addBoard(opts: SimBoardOptions): Board {
    if (this.nameTaken(opts.name)) throw new Error(`duplicate board name: ${opts.name}`);
    const { switch: sw = this.switch, link, ...boardOpts } = opts;
    const rng = this.prng.fork(`board:${opts.name}`);
    const state = { nic: this.nicSinks(opts.name) } as BoardState;
    // Frames sent before the constructor returns (the gratuitous ARP of init) go out right after.
    const early: Uint8Array[] = [];
    const board = new Board({
      ...boardOpts,
      wasm: boardOpts.wasm ?? this.wasm,
      clock: () => this.time,
      random: () => rng.nextU32(),
      log: (level, msg, b) => this.onLog?.({ time: this.time, board: b.name, level, msg }),
      transmit: (frame) => (state.board ? this.boardTransmit(state, frame) : early.push(frame)),
      // A call from user code (a socket write, a ping): its frames are already out, but it may
      // have armed timers, so poll now rather than at the previously scheduled deadline.
      kick: () => {
        if (state.board && this.driving !== state.board) this.pollAt(state, this.time);
      },
    });
    state.board = board;
    if (sw) state.port = sw.connect(opts.name, (f) => this.deliverToBoard(state, f), link);
    this.states.set(opts.name, state);
    for (const f of early) this.boardTransmit(state, f);
    this.pollAt(state, this.time);
    return board;
  }

  board(name: string): Board {
    const s = this.states.get(name);
    if (!s) throw new Error(`no board named ${name}`);
    return s.board;
  }

  get boards(): Board[] {
    return [...this.states.values()].map((s) => s.board);
  }

  /** The link of a board (or of any endpoint, by name) on its switch. */
  linkOf(board: Board | string): Link {
    const name = typeof board === "string" ? board : board.name;
    const s = this.states.get(name);
    if (s?.port) return s.port.link;
    for (const sw of this.switches) for (const p of sw.ports) if (p.name === name) return p.link;
    throw new Error(`${name} is not connected`);
  }

  /**
   * Pull a board's cable out (up false) or plug it back in, now: frames both ways are dropped while
   * it is out, and the board's core is told (Board.setLink), as a PHY reports its link. Schedule it
   * with sim.at() for a later time.
   */
  setLink(board: Board | string, up: boolean): void {
    const name = typeof board === "string" ? board : board.name;
    this.linkOf(name).setPlugged(up);
    const s = this.states.get(name);
    if (s && s.board.exports.set_link) s.board.setLink(up);
  }

  /** Attach an arbitrary endpoint to a switch port. `receive` is called in virtual time. */
  attach(name: string, receive: (frame: Uint8Array, timeMs: number) => void, opts: LinkOptions = {}, sw: Switch = this.switch): SimEndpoint {
    if (this.nameTaken(name)) throw new Error(`duplicate endpoint name: ${name}`);
    const nic = this.nicSinks(name);
    const port = sw.connect(
      name,
      (f) => {
        for (const s of nic) s.write(f, this.time);
        receive(f.slice(), this.time);
      },
      opts,
    );
    return {
      ...port,
      send: (frame: Uint8Array) => {
        const f = frame.slice();
        this.record(f);
        for (const s of nic) s.write(f, this.time);
        port.link.toSwitch.send(f);
      },
    };
  }

  /** Record every frame put on any link by a board or endpoint. Returns a detach function. */
  capture(sink: FrameSink): () => void {
    this.sinks.push(sink);
    return () => {
      const i = this.sinks.indexOf(sink);
      if (i >= 0) this.sinks.splice(i, 1);
    };
  }

  /**
   * Record what one board or endpoint sees at its network interface, like tcpdump on it: the
   * frames it transmits (when it sends them) and the frames its link delivers to it (when they
   * arrive: after delay, loss and corruption). The name may be one not yet added. Returns a
   * detach function.
   */
  captureAt(name: string, sink: FrameSink): () => void {
    const list = this.nicSinks(name);
    list.push(sink);
    return () => {
      const i = list.indexOf(sink);
      if (i >= 0) list.splice(i, 1);
    };
  }

  private nicSinks(name: string): FrameSink[] {
    let l = this.nics.get(name);
    if (!l) this.nics.set(name, (l = []));
    return l;
  }

  /** Run `fn` at virtual time `time` (not before now). */
  at(time: number, fn: () => void): void {
    if (!(time >= this.time)) throw new RangeError(`cannot schedule at ${time}: now is ${this.time}`);
    this.queue.push(time, fn);
  }

  /** Run `fn` `ms` from now. */
  after(ms: number, fn: () => void): void {
    this.at(this.time + ms, fn);
  }

  /** Poll a board now (e.g. after calling one of its methods directly). */
  poke(board: Board): void {
    const s = this.states.get(board.name);
    if (s) this.pollAt(s, this.time);
  }

  /**
   * Run events up to and including time `t`, then set the clock to `t`; or, with a predicate,
   * until it holds (checked before the first event and after each) or the time limit passes.
   * Returns whether the predicate held (always true for a time target).
   */
  runUntil(target: number | (() => boolean), opts: RunOptions = {}): boolean {
    const pred = typeof target === "function" ? target : undefined;
    const limit = pred ? (opts.maxTime ?? this.time + (opts.timeout ?? 60_000)) : (target as number);
    if (!(limit >= this.time)) throw new RangeError(`cannot run until ${limit}: now is ${this.time}`);
    let budget = this.maxEventsPerRun;
    if (pred?.()) return true;
    for (;;) {
      const ev = this.queue.peek();
      if (!ev || ev.time > limit) break;
      this.queue.pop();
      this.time = ev.time;
      this.eventCount++;
      ev.run();
      this.afterEvent?.(this);
      if (pred?.()) return true;
      if (--budget === 0) throw new Error(`more than ${this.maxEventsPerRun} events in one run at t=${this.time}: event storm?`);
    }
    this.time = limit;
    return !pred;
  }

  /**
   * Like runUntil, but lets the host event loop run (process.nextTick and promise jobs) after
   * each event that touched a socket stream (host/board/net.ts), so stream events that node defers
   * ('end', 'finish', 'close', 'error') and async user code happen at the virtual time they
   * belong to. Virtual time never advances while user code is pending on the event loop.
   */
  async runUntilAsync(target: number | (() => boolean), opts: RunOptions = {}): Promise<boolean> {
    const pred = typeof target === "function" ? target : undefined;
    const limit = pred ? (opts.maxTime ?? this.time + (opts.timeout ?? 60_000)) : (target as number);
    if (!(limit >= this.time)) throw new RangeError(`cannot run until ${limit}: now is ${this.time}`);
    let budget = this.maxEventsPerRun;
    netActivity.pending = false;
    await yieldToHost();
    if (pred?.()) return true;
    for (;;) {
      const ev = this.queue.peek();
      if (!ev || ev.time > limit) {
        // Nothing left before the limit: give deferred stream work one more chance to add events.
        if (!netActivity.pending) break;
        netActivity.pending = false;
        await yieldToHost();
        if (pred?.()) return true;
        continue;
      }
      this.queue.pop();
      this.time = ev.time;
      this.eventCount++;
      ev.run();
      this.afterEvent?.(this);
      if (netActivity.pending) {
        netActivity.pending = false;
        await yieldToHost();
      }
      if (pred?.()) return true;
      if (--budget === 0) throw new Error(`more than ${this.maxEventsPerRun} events in one run at t=${this.time}: event storm?`);
    }
    this.time = limit;
    return !pred;
  }

  /**
   * Run the simulation (yielding to the event loop like runUntilAsync) until `promise` settles;
   * returns its value or throws its error. Throws if it has not settled by the time limit
   * (default: 60,000 virtual ms from now).
   */
  async runUntilSettled<T>(promise: Promise<T>, opts: RunOptions = {}): Promise<T> {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
    promise.then(
      (value) => (outcome = { ok: true, value }),
      (error: unknown) => (outcome = { ok: false, error }),
    );
    const start = this.time;
    await this.runUntilAsync(() => outcome !== undefined, opts);
    if (!outcome) throw new Error(`not settled after ${this.time - start} virtual ms (t=${this.time})`);
    if (!outcome.ok) throw outcome.error;
    return outcome.value;
  }

  runFor(ms: number): void {
    this.runUntil(this.time + ms);
  }

  private nameTaken(name: string): boolean {
    return this.states.has(name) || this.switches.some((s) => s.ports.some((p) => p.name === name));
  }

  private record(frame: Uint8Array): void {
    for (const s of this.sinks) s.write(frame, this.time);
  }

  private boardTransmit(state: BoardState, frame: Uint8Array): void {
    this.record(frame);
    for (const s of state.nic) s.write(frame, this.time);
    state.port?.link.toSwitch.send(frame);
    // Sent from a direct call (ping, set_ipv4): its timers may have changed, so poll soon.
    if (this.driving !== state.board) this.pollAt(state, this.time);
  }

  private deliverToBoard(state: BoardState, frame: Uint8Array): void {
    for (const s of state.nic) s.write(frame, this.time);
    this.driving = state.board;
    try {
      state.board.input(frame);
    } finally {
      this.driving = null;
    }
    this.pollNow(state);
  }

  private pollNow(state: BoardState): void {
    this.driving = state.board;
    let ms: number;
    try {
      ms = state.board.poll(this.time);
    } finally {
      this.driving = null;
    }
    // A 0 would mean "again now"; at least 1 ms keeps a confused core from stalling time.
    this.pollAt(state, this.time + Math.max(1, ms >>> 0));
  }

  /** Keep one pending poll per board, at the earliest time anyone asked for. */
  private pollAt(state: BoardState, time: number): void {
    const pending = state.pollEvent;
    if (pending && !pending.cancelled && pending.time <= time) return;
    if (pending) pending.cancelled = true;
    const ev = this.queue.push(time, () => {
      if (state.pollEvent === ev) state.pollEvent = undefined;
      this.pollNow(state);
    });
    state.pollEvent = ev;
  }
}
