// The mDNS responder's exports (boards/include/wasmip.h, "mDNS"; an image built with
// --use WASMIP_MULTICAST=1 --use WASMIP_MDNS=1, as build/http.wasm and build/sensor.wasm are):
//
//   board.mdns.setHostname("kitchen");                 // kitchen.local: probed, then announced
//   const h = board.mdns.register({ type: "_http._tcp", port: 80, txt: { path: "/" } });
//   board.mdns.hostname;                               // "kitchen-2.local" after a conflict
//   board.mdns.serviceName(h);                         // "kitchen._http._tcp.local"
//   board.mdns.state;                                  // "probing" ... "running"
//   board.mdns.unregister(h); board.mdns.stop();       // goodbyes (TTL 0)
//
// The responder runs inside the board, driven by its poll(); nothing here runs on a timer. `.local`
// names resolve through board.dns (one-shot mDNS queries) in the same images.
import { codedError } from "./errors.ts";
import type { LayerHost } from "./pump.ts";

/** The mDNS exports, typed. */
export interface MdnsExports {
  memory: WebAssembly.Memory;
  io_buffer(): number;
  mdns_start(name: number, len: number): number;
  mdns_stop(): number;
  mdns_state(): number;
  mdns_conflicts(): number;
  mdns_hostname(out: number): number;
  mdns_add_service(inst: number, il: number, type: number, tl: number, port: number, txt: number, xl: number): number;
  mdns_remove_service(h: number): number;
  mdns_service_name(h: number, out: number): number;
}

export type MdnsState = "idle" | "waiting" | "probing" | "announcing" | "running";
const STATES: MdnsState[] = ["idle", "waiting", "probing", "announcing", "running"];
const ENOSYS = -15;
const ENOBUFS = -2;

export interface MdnsService {
  /** "_http._tcp": `_name` (1-15 letters, digits, '-') and `_tcp` or `_udp` (RFC 6763 §7). */
  type: string;
  port: number;
  /** The instance label (default: the host's label). */
  name?: string;
  /** TXT: key=value pairs (true: the key alone) or ready strings; none is the empty TXT. */
  txt?: Record<string, string | true> | string[];
}

/** TXT strings in wire form (RFC 6763 §6): each a length byte and at most 255 bytes. */
export function encodeTxt(txt: MdnsService["txt"]): Buffer {
  const items = !txt ? [] : Array.isArray(txt) ? txt : Object.entries(txt).map(([k, v]) => (v === true ? k : `${k}=${v}`));
  const parts: Buffer[] = [];
  for (const s of items) {
    const b = Buffer.from(s, "utf8");
    if (b.length > 255) throw codedError("ERR_INVALID_ARG_VALUE", new RangeError(`TXT string longer than 255 bytes: ${s.slice(0, 20)}...`));
    parts.push(Buffer.from([b.length]), b);
  }
  return Buffer.concat(parts);
}

export class Mdns {
  private readonly ex: MdnsExports;

  constructor(private readonly board: LayerHost) {
    const ex = board.exports as unknown as MdnsExports;
    if (typeof ex.mdns_start !== "function") throw codedError("ENOSYS", new Error(`${board.name}: this firmware has no mDNS responder (mdns_start)`));
    this.ex = ex;
  }

  private put(at: number, b: Uint8Array): number {
    new Uint8Array(this.ex.memory.buffer).set(b, this.ex.io_buffer() + at);
    return this.ex.io_buffer() + at;
  }

  private check(r: number, what: string): number {
    if (r === ENOSYS) throw codedError("ENOSYS", new Error(`${this.board.name}: mDNS is left out of this build`));
    if (r === ENOBUFS) throw codedError("ENOBUFS", new Error(`${this.board.name}: ${what}: no room (MDNS_SERVICES, or no socket or group)`));
    if (r < 0) throw codedError("ERR_INVALID_ARG_VALUE", new RangeError(`${this.board.name}: ${what}: invalid`));
    return r;
  }

  /** Start (or restart) as `name`.local; no name: the build's default (MDNS_HOSTNAME-xxxxxx). */
  setHostname(name = ""): void {
    const b = Buffer.from(name, "ascii");
    this.check(this.ex.mdns_start(this.put(0, b), b.length), `host name "${name}"`);
    this.board.kick();
  }

  /** The name in use ("name.local", "name-2.local" after a conflict); "" when stopped. */
  get hostname(): string {
    const out = this.ex.io_buffer();
    const n = this.ex.mdns_hostname(out);
    return Buffer.from(this.ex.memory.buffer, out, n).toString("ascii");
  }

  get state(): MdnsState {
    return STATES[this.ex.mdns_state()] ?? "idle";
  }

  /** Name conflicts since the start (each renamed or probed again). */
  get conflicts(): number {
    return this.ex.mdns_conflicts();
  }

  /** Announce a service; returns its handle. */
  register(svc: MdnsService): number {
    const inst = Buffer.from(svc.name ?? "", "ascii");
    const type = Buffer.from(svc.type, "ascii");
    const txt = encodeTxt(svc.txt);
    if (inst.length > 63 || type.length > 21) throw codedError("ERR_INVALID_ARG_VALUE", new RangeError("instance or type too long"));
    const pi = this.put(0, inst);
    const pt = this.put(64, type);
    const px = this.put(96, txt);
    const h = this.check(this.ex.mdns_add_service(pi, inst.length, pt, type.length, svc.port, px, txt.length), `service ${svc.type}`);
    this.board.kick();
    return h;
  }

  /** Withdraw a service (goodbye: its records with TTL 0). */
  unregister(handle: number): void {
    this.check(this.ex.mdns_remove_service(handle), `service ${handle}`);
    this.board.kick();
  }

  /** The instance name of a service, "inst._http._tcp.local"; "" when none. */
  serviceName(handle: number): string {
    const out = this.ex.io_buffer();
    const n = this.ex.mdns_service_name(handle, out);
    return Buffer.from(this.ex.memory.buffer, out, n).toString("ascii");
  }

  /** Goodbyes for every record, then leave 224.0.0.251. */
  stop(): void {
    this.ex.mdns_stop();
    this.board.kick();
  }
}
