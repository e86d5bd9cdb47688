// What a fleet board does, from its topology entry's `do` list: fetch a page by name, a bulk
// transfer to an echo server, pings, UDP datagrams to an echo server or any UDP service, a TCP
// exchange with any service (send bytes, expect bytes: your own app's protocol). Each task drives the
// image's own exports from the board's pump (after every input()/poll()) and the simulator's
// clock, never wall-clock time, and records its runs for the summary.
import { ipToU32, u32ToIp } from "../../board/address.ts";
import type { Board } from "../../board/board.ts";
import { ERRORS } from "../../board/errors.ts";
import type { Prng } from "../prng.ts";
import type { Simulator } from "../sim.ts";
import type { TaskRun, TaskSummary } from "./summary.ts";
import type { BoardSpec, TaskSpec } from "./topology.ts";

const EWOULDBLOCK = -3;
const ENOBUFS = -2;

/** What a task needs of its board in the fleet (FleetBoard, fleet.ts). */
export interface TaskBoard {
  readonly spec: BoardSpec;
  readonly board?: Board;
  readonly ex?: FleetExports;
  readonly fleet: { readonly sim: Simulator; event(fb: TaskBoard, msg: string): void };
  nextPingSeq(): number;
}

export interface FleetExports {
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
  tcp_socket(): number;
  tcp_connect(fd: number, ip: number, port: number): number;
  tcp_send(fd: number, ptr: number, len: number): number;
  tcp_recv(fd: number, ptr: number, len: number): number;
  tcp_events(fd: number): number;
  tcp_close(fd: number): number;
  tcp_abort(fd: number): number;
}

/** The exports a task needs from the board's image. */
export const TASK_EXPORTS: Record<TaskSpec["kind"], string[]> = {
  fetch: ["fetch_start", "fetch_state", "fetch_status"],
  bulk: ["bulk_start", "bulk_state", "dns_resolve"],
  ping: ["ping", "ping_rtt", "dns_resolve"],
  udp: ["udp_socket", "udp_sendto", "udp_recvfrom", "dns_resolve"],
  tcp: ["tcp_socket", "tcp_connect", "tcp_send", "tcp_recv", "tcp_events", "dns_resolve"],
};

const errName = (code: number): string => ERRORS[code] ?? (code === -100 ? "server closed early" : code === -101 ? "not an HTTP reply" : `error ${code}`);

export abstract class TaskRunner {
  running = false;
  started = false;
  readonly runs: TaskRun[] = [];
  protected left: number;
  protected readonly rng: Prng;
  protected current?: TaskRun;

  constructor(
    readonly spec: TaskSpec,
    readonly fb: TaskBoard,
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

  /** While resolving, from pump(): false while pending; else true, after finishing the run on a
   *  failed lookup or calling `then` with the address. */
  protected pumpResolve(then: (ip: number) => void): boolean {
    const a = this.resolved();
    if (a === undefined) return false;
    if (a < 0) this.finish(false, `lookup ${this.spec.host}: ${errName(a)}`);
    else then(a);
    return true;
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
    if (this.phase === "resolve") return this.pumpResolve((a) => this.connect(a));
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
    if (this.resolving)
      return this.pumpResolve((a) => {
        this.resolving = false;
        this.go(a);
      });
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
    return this.spec.send === undefined ? "echoed" : this.spec.expect === undefined ? "answered" : "answered as expected";
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
  /** Datagram k: `send`'s bytes, else "wasmip <board> <k>" padded to size, so an echo is matched to what was sent. */
  private payload(k: number): Buffer {
    if (this.spec.send !== undefined) return Buffer.from(this.spec.send, "latin1");
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
      if (this.spec.send !== undefined) {
        // A service's own answers: each one that holds `expect` (any, without it) counts, up to count.
        const got = Buffer.from(new Uint8Array(ex.memory.buffer, ptr, n));
        if (this.received < this.spec.count && (this.spec.expect === undefined || got.includes(Buffer.from(this.spec.expect, "latin1")))) this.received++;
        continue;
      }
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

const EV_CONNECTED = 4;
const EV_ERROR = 16;
const EV_CLOSED = 32;
/** Bytes of a TCP answer kept (for `expect` and the summary); the rest is read and dropped. */
const TCP_KEEP = 4096;

/** Printable: the bytes as text, others as \xNN, cut at 40. */
function preview(b: Buffer): string {
  const s = [...b.subarray(0, 40)].map((c) => (c >= 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`)).join("");
  return `"${s}"${b.length > 40 ? "..." : ""}`;
}

/** tcp: connect, send `send`, read until `expect` arrives (then close), or the peer closes, or
 *  `wait` from the start passes. Ok when expect came (without one: the bytes were all accepted
 *  and the peer did not reset). */
class TcpTask extends TaskRunner {
  declare readonly spec: Extract<TaskSpec, { kind: "tcp" }>;
  private phase: "resolve" | "connect" | "talk" = "resolve";
  private fd = -1;
  private sent = 0;
  private got = Buffer.alloc(0);
  private gotBytes = 0;
  target(): string {
    return `${this.spec.host}:${this.spec.port}`;
  }
  start(): void {
    this.phase = "resolve";
    this.sent = this.gotBytes = 0;
    this.got = Buffer.alloc(0);
    const run = this.runs.length;
    this.sim.at(this.sim.now + this.spec.wait, () => {
      if (this.running && this.runs.length === run) this.end(false, `no answer within ${this.spec.wait} ms`);
    });
    const a = this.resolveStart(this.spec.host);
    if (a !== undefined) this.connect(a);
  }
  private connect(ip: number): void {
    const ex = this.ex;
    const fd = ex.tcp_socket();
    if (fd < 0) return this.end(false, `tcp_socket: ${errName(fd)}`);
    this.fd = fd;
    const rc = ex.tcp_connect(fd, ip, this.spec.port);
    if (rc < 0 && rc !== EWOULDBLOCK) return this.end(false, `connect: ${errName(rc)}`);
    this.phase = "connect";
    this.board.kick();
  }
  private end(ok: boolean, why: string): void {
    if (this.fd >= 0) {
      if (ok) this.ex.tcp_close(this.fd);
      else this.ex.tcp_abort(this.fd);
      this.board.kick();
    }
    this.fd = -1;
    const detail = `sent ${this.sent} of ${this.spec.send.length} bytes, got ${this.gotBytes}${this.gotBytes ? ` ${preview(this.got)}` : ""}`;
    this.finish(ok, ok ? detail : `${why}; ${detail}`);
  }
  pump(): boolean {
    const ex = this.ex;
    if (this.phase === "resolve") return this.pumpResolve((a) => this.connect(a));
    const ev = ex.tcp_events(this.fd);
    if (this.phase === "connect") {
      if (ev & EV_ERROR) {
        this.end(false, `connect: ${errName(ex.tcp_recv(this.fd, ex.io_buffer(), 1))}`);
        return true;
      }
      if (!(ev & EV_CONNECTED)) return false;
      this.phase = "talk";
    }
    let did = false;
    const ptr = ex.io_buffer();
    if (this.sent < this.spec.send.length) {
      const chunk = Buffer.from(this.spec.send.slice(this.sent, this.sent + ex.io_buffer_size()), "latin1");
      new Uint8Array(ex.memory.buffer).set(chunk, ptr);
      const n = ex.tcp_send(this.fd, ptr, chunk.length);
      if (n > 0) {
        this.sent += n;
        did = true;
        this.board.kick();
      } else if (n < 0 && n !== EWOULDBLOCK) {
        this.end(false, `send: ${errName(n)}`);
        return true;
      }
    }
    for (let i = 0; i < 64; i++) {
      const n = ex.tcp_recv(this.fd, ptr, ex.io_buffer_size());
      if (n === EWOULDBLOCK) break;
      did = true;
      if (n < 0) {
        this.end(false, errName(n));
        return true;
      }
      if (n === 0) {
        // The peer closed its side: what came is the whole answer.
        const ok = this.sent === this.spec.send.length && (this.spec.expect === undefined || this.matched());
        this.end(ok, this.spec.expect === undefined ? "closed before everything was sent" : "closed without the expected bytes");
        return true;
      }
      this.gotBytes += n;
      if (this.got.length < TCP_KEEP) this.got = Buffer.concat([this.got, Buffer.from(new Uint8Array(ex.memory.buffer, ptr, Math.min(n, TCP_KEEP - this.got.length)))]);
      this.board.kick(); // reading opened the window
      if (this.spec.expect !== undefined && this.matched()) {
        this.end(true, "");
        return true;
      }
    }
    if (this.spec.expect === undefined && this.sent === this.spec.send.length && !(ev & EV_CLOSED)) {
      this.end(true, "");
      return true;
    }
    return did;
  }
  private matched(): boolean {
    return this.got.includes(Buffer.from(this.spec.expect!, "latin1"));
  }
}

export function makeTask(t: TaskSpec, fb: TaskBoard, i: number): TaskRunner {
  switch (t.kind) {
    case "fetch":
      return new FetchTask(t, fb, i);
    case "bulk":
      return new BulkTask(t, fb, i);
    case "ping":
      return new PingTask(t, fb, i);
    case "udp":
      return new UdpTask(t, fb, i);
    case "tcp":
      return new TcpTask(t, fb, i);
  }
}
