// A node:dns-shaped resolver over a Board's DNS exports (boards/include/wasmip.h, "DNS resolver"):
//
//   board.dns.setServers(["10.0.0.53"]);
//   const { address, family } = await board.dns.lookup("web.test", { family: 4 });
//
// The lookup runs inside the board (its UDP socket, its retries and cache); the promise settles
// when the board's driver (the Simulator in virtual time, the TAP runner in real time) has run it:
// Board calls pump() after every input() and poll(). In the Simulator, await it with
// sim.runUntilSettled(board.dns.lookup(...)). Errors carry node's codes: ENOTFOUND (NXDOMAIN),
// ENODATA (no A record), ESERVFAIL, ETIMEOUT, EBADRESP (truncated reply), ECONNREFUSED.
//
// IPv6 (an image with dns_resolve6): { family: 6 } asks for the AAAA record, and the address is
// RFC 5952 text. { family: 0 } asks both, one after the other: AAAA first when the board has a
// global IPv6 address (SLAAC) in use, else A first (RFC 6724 §6's rule 1 in spirit: no point
// preferring a family the board cannot route). With `all` it returns what both gave, in that
// order; without, the first answer. NXDOMAIN ends it (the name does not exist for any type,
// RFC 8020); another error moves on to the other family, and the first error is reported when
// neither gave an address. In an IPv4-only image family 0 is A alone.
//
// An IP address as the hostname is answered here at once, whatever the family asked, as node's
// lookup does: the board's resolver takes names (it refuses IPv6 text, EINVAL).
import { isIP } from "node:net";
import { formatIpv6, ipToU32, u32ToIp } from "./address.ts";
import { codedError, ERRORS } from "./errors.ts";
import { netActivity, type LayerHost } from "./pump.ts";

const EWOULDBLOCK = -3;
const ENOBUFS = -2;
const ENXDOMAIN = -11;
const ADDR_PREFERRED = 2;

/** The DNS exports, typed. */
export interface DnsExports {
  memory: WebAssembly.Memory;
  io_buffer(): number;
  io_buffer_size(): number;
  dns_set_servers(a: number, b: number): number;
  dns_server(i: number): number;
  dns_resolve(ptr: number, len: number): number;
  dns_result(handle: number): number;
  dns_address(handle: number): number;
  dns_ttl(handle: number): number;
  dns_release(handle: number): number;
  dns_cache_flush(): void;
  dns_resolve6?(ptr: number, len: number): number;
  dns_address6?(handle: number, ptr: number): number;
  ipv6_address?(i: number, ptr: number): number;
}

/** wasmip error -> node:dns error code. */
const NODE_CODES: Record<number, string> = {
  [-11]: "ENOTFOUND",
  [-14]: "ENODATA",
  [-12]: "ESERVFAIL",
  [-7]: "ETIMEOUT",
  [-13]: "EBADRESP",
  [-5]: "ECONNREFUSED",
  [-9]: "ECONNREFUSED", // no server configured
  [-1]: "EINVAL",
};

export class DnsError extends Error {
  readonly syscall = "getaddrinfo";
  constructor(
    readonly code: string,
    readonly hostname: string,
    /** The wasmip error (WASMIP_E*). */
    readonly errno: number,
  ) {
    super(`getaddrinfo ${code} ${hostname} (${ERRORS[errno] ?? errno})`);
  }
}

export interface LookupAddress {
  address: string;
  family: 4 | 6;
}

export interface LookupOptions {
  family?: 0 | 4 | 6 | "IPv4" | "IPv6";
  all?: boolean;
}

interface Pending {
  hostname: string;
  handle: number; // -1: not started yet (waiting for a slot); -2: failed to start
  all: boolean;
  /** The family being asked, then the ones left. */
  family: 4 | 6;
  next: (4 | 6)[];
  found: LookupAddress[];
  error?: DnsError;
  resolve: (v: LookupAddress | LookupAddress[]) => void;
  reject: (e: Error) => void;
}

export class Dns {
  private readonly ex: DnsExports;
  private readonly pending: Pending[] = [];

  constructor(private readonly board: LayerHost) {
    const ex = board.exports as unknown as DnsExports;
    if (typeof ex.dns_resolve !== "function") throw codedError("ENOSYS", new Error(`${board.name}: this firmware has no DNS resolver (dns_resolve)`));
    this.ex = ex;
  }

  /** Like dns.setServers: at most two IPv4 addresses, in order. */
  setServers(servers: string[]): void {
    if (servers.length > 2) throw codedError("ERR_INVALID_ARG_VALUE", new RangeError("at most two DNS servers"));
    const a = servers[0] ? ipToU32(servers[0]) : 0;
    const b = servers[1] ? ipToU32(servers[1]) : 0;
    this.ex.dns_set_servers(a, b);
  }

  getServers(): string[] {
    const out: string[] = [];
    for (let i = 0; i < 2; i++) {
      const s = this.ex.dns_server(i) >>> 0;
      if (s) out.push(u32ToIp(s));
    }
    return out;
  }

  /** Forget the board's cached answers. */
  flushCache(): void {
    this.ex.dns_cache_flush();
  }

  /** Like dns.promises.lookup: { address, family }, or all of them with all (one per family). */
  lookup(hostname: string, options: LookupOptions & { all: true }): Promise<LookupAddress[]>;
  lookup(hostname: string, options?: LookupOptions | number): Promise<LookupAddress>;
  lookup(hostname: string, options: LookupOptions | number = {}): Promise<LookupAddress | LookupAddress[]> {
    const o: LookupOptions = typeof options === "number" ? { family: options as 0 | 4 | 6 } : options;
    const literal = isIP(hostname);
    if (literal) {
      const r: LookupAddress = { address: hostname, family: literal as 4 | 6 };
      return Promise.resolve(o.all ? [r] : r);
    }
    const f = o.family === "IPv6" ? 6 : o.family === "IPv4" ? 4 : o.family ?? 0;
    const v6 = this.has6();
    if (f === 6 && !v6) return Promise.reject(new DnsError("ENOTFOUND", hostname, ENXDOMAIN));
    const order: (4 | 6)[] = f === 4 ? [4] : f === 6 ? [6] : !v6 ? [4] : this.hasGlobal6() ? [6, 4] : [4, 6];
    return new Promise((resolve, reject) => {
      const p: Pending = { hostname, handle: -1, all: o.all === true, family: order[0], next: order.slice(1), found: [], resolve, reject };
      if (!this.start(p)) this.pending.push(p); // waiting for a free slot
      else if (!this.settle(p)) this.pending.push(p);
      this.board.kick();
    });
  }

  /** Called by Board after input()/poll(): settle the lookups that have finished. */
  pump(): boolean {
    let did = false;
    for (let i = 0; i < this.pending.length; ) {
      const p = this.pending[i];
      if ((p.handle === -1 && !this.start(p)) || !this.settle(p)) {
        i++;
        continue;
      }
      this.pending.splice(i, 1);
      did = true;
    }
    if (did) netActivity.pending = true;
    return did;
  }

  /** The image resolves AAAA (dns_resolve6 exists and is not a stub). */
  private has6(): boolean {
    return typeof this.ex.dns_resolve6 === "function" && this.ex.dns_resolve6(0, 0) !== -15; // EINVAL, not ENOSYS
  }

  /** The board has a preferred global (not fe80::/10) IPv6 address. */
  private hasGlobal6(): boolean {
    const ex = this.ex;
    if (!ex.ipv6_address) return false;
    const ptr = ex.io_buffer();
    for (let i = 0; i < 16; i++) {
      const st = ex.ipv6_address(i, ptr);
      if (st < 0) return false;
      const b = new Uint8Array(ex.memory.buffer, ptr, 2);
      if (st === ADDR_PREFERRED && !(b[0] === 0xfe && (b[1] & 0xc0) === 0x80)) return true;
    }
    return false;
  }

  /** Start the lookup in the board; false if every slot is busy (retried on the next pump). */
  private start(p: Pending): boolean {
    const bytes = Buffer.from(p.hostname, "latin1");
    const ptr = this.ex.io_buffer();
    if (bytes.length > this.ex.io_buffer_size()) {
      p.handle = -2;
      p.reject(new DnsError("EINVAL", p.hostname, -1));
      return true;
    }
    new Uint8Array(this.ex.memory.buffer, ptr, bytes.length).set(bytes);
    const h = p.family === 6 ? this.ex.dns_resolve6!(ptr, bytes.length) : this.ex.dns_resolve(ptr, bytes.length);
    if (h === ENOBUFS) return false;
    if (h < 0) {
      p.handle = -2;
      this.failed(p, h);
      return true;
    }
    p.handle = h;
    return true;
  }

  /** The family asked failed with r: the next one, else settle with what was found. */
  private failed(p: Pending, r: number): void {
    p.error ??= new DnsError(NODE_CODES[r] ?? ERRORS[r] ?? String(r), p.hostname, r);
    this.advance(p, r === ENXDOMAIN);
  }

  /** Ask the next family (handle -1: pump starts it), unless `stop` or done: then settle p. */
  private advance(p: Pending, stop: boolean): void {
    const f = stop ? undefined : p.next.shift();
    if (f !== undefined) {
      p.family = f;
      p.handle = -1;
      return;
    }
    if (p.found.length) p.resolve(p.all ? p.found : p.found[0]);
    else p.reject(p.error!);
  }

  /** True once p has settled (resolved, rejected, or failed to start). */
  private settle(p: Pending): boolean {
    if (p.handle === -2) return true;
    if (p.handle === -1) return false; // the next family, waiting for a slot
    const r = this.ex.dns_result(p.handle);
    if (r === EWOULDBLOCK) return false;
    if (r === 0) {
      let address: string;
      if (p.family === 6) {
        const ptr = this.ex.io_buffer();
        this.ex.dns_address6!(p.handle, ptr);
        address = formatIpv6(new Uint8Array(this.ex.memory.buffer, ptr, 16).slice());
      } else {
        address = u32ToIp(this.ex.dns_address(p.handle) >>> 0);
      }
      this.ex.dns_release(p.handle);
      p.found.push({ address, family: p.family });
      this.advance(p, !p.all);
    } else {
      this.ex.dns_release(p.handle);
      this.failed(p, r);
    }
    return p.handle !== -1 || this.startNext(p);
  }

  /** After advance() chose another family: start it now if a slot is free (true: p settled). */
  private startNext(p: Pending): boolean {
    return this.start(p) && this.settle(p);
  }
}
