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
import { ipToU32, u32ToIp } from "./address.ts";
import { codedError, ERRORS } from "./errors.ts";
import { netActivity, type LayerHost } from "./pump.ts";

const EWOULDBLOCK = -3;
const ENOBUFS = -2;

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
  family: 4;
}

export interface LookupOptions {
  family?: 0 | 4 | 6 | "IPv4" | "IPv6";
  all?: boolean;
}

interface Pending {
  hostname: string;
  handle: number; // -1: not started yet (waiting for a slot); -2: failed to start
  all: boolean;
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

  /** Like dns.promises.lookup (IPv4 only): { address, family: 4 }, or all of them ([one]) with all. */
  lookup(hostname: string, options: LookupOptions & { all: true }): Promise<LookupAddress[]>;
  lookup(hostname: string, options?: LookupOptions | number): Promise<LookupAddress>;
  lookup(hostname: string, options: LookupOptions | number = {}): Promise<LookupAddress | LookupAddress[]> {
    const o: LookupOptions = typeof options === "number" ? { family: options as 0 | 4 | 6 } : options;
    if (o.family === 6 || o.family === "IPv6") return Promise.reject(new DnsError("ENOTFOUND", hostname, -11));
    return new Promise((resolve, reject) => {
      const p: Pending = { hostname, handle: -1, all: o.all === true, resolve, reject };
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
    const h = this.ex.dns_resolve(ptr, bytes.length);
    if (h === ENOBUFS) return false;
    if (h < 0) {
      p.handle = -2;
      p.reject(new DnsError(NODE_CODES[h] ?? ERRORS[h] ?? String(h), p.hostname, h));
      return true;
    }
    p.handle = h;
    return true;
  }

  /** True once p has settled (resolved, rejected, or failed to start). */
  private settle(p: Pending): boolean {
    if (p.handle === -2) return true;
    const r = this.ex.dns_result(p.handle);
    if (r === EWOULDBLOCK) return false;
    if (r === 0) {
      const a: LookupAddress = { address: u32ToIp(this.ex.dns_address(p.handle) >>> 0), family: 4 };
      this.ex.dns_release(p.handle);
      p.resolve(p.all ? [a] : a);
    } else {
      this.ex.dns_release(p.handle);
      p.reject(new DnsError(NODE_CODES[r] ?? ERRORS[r] ?? String(r), p.hostname, r));
    }
    return true;
  }
}
