// A small authoritative DNS server (RFC 1035) for the emulated network: an endpoint on a
// simulated switch (sim.attach) with its own MAC and IP, answering ARP for its address and A
// and AAAA queries (a name's IPv6 addresses in the same table, RFC 3596) on UDP port 53 from a
// table of names: A and AAAA records, CNAMEs (followed inside the table and
// put in the answer section, the first owner compressed to the question), NXDOMAIN for names it
// does not know. Test knobs: `silent` (a dead server), `rcode` (answer every query with it, e.g.
// 2 for SERVFAIL), `truncate` (set TC), and a record of the queries it received. With `ip6` it
// also answers over IPv6 at that address (an RDNSS server for radvd.ts to advertise), answering
// neighbor solicitations for it.
import { ipToU32, parseIpv6, u32ToIp } from "../../board/address.ts";
import { get16 } from "../frames.ts";
import { receiveUdp, receiveUdp6, replyUdp, replyUdp6 } from "./udp_host.ts";
import type { SimEndpoint, Simulator } from "../sim.ts";

export interface DnsdOptions {
  name?: string; // endpoint name, default "dnsd"
  mac?: string; // default 02:00:00:00:d0:35
  ip: string;
  /** An IPv6 address to answer at too, e.g. "2001:db8:1::53". */
  ip6?: string;
  /** name -> address(es) */
  records?: Record<string, string | string[]>;
  /** alias -> canonical name */
  cnames?: Record<string, string>;
  ttl?: number; // seconds, default 300
  delay?: number; // link delay in ms, default 1
}

export interface DnsQuerySeen {
  time: number;
  id: number;
  name: string;
  qtype: number;
  src: string;
  srcPort: number;
}

/** A name in wire form (uncompressed). */
export function encodeDnsName(name: string): number[] {
  const out: number[] = [];
  for (const l of name.replace(/\.$/, "").split(".")) {
    if (!l) continue;
    out.push(l.length, ...Buffer.from(l, "latin1"));
  }
  out.push(0);
  return out;
}

/** Reads an uncompressed or compressed name at off (bounded: 16 pointers at most, no loops). */
export function readName(m: Uint8Array, off: number): { name: string; end: number } | undefined {
  const labels: string[] = [];
  let pos = off;
  let end = -1;
  for (let jumps = 0; jumps < 16; ) {
    if (pos >= m.length) return undefined;
    const l = m[pos];
    if ((l & 0xc0) === 0xc0) {
      if (pos + 1 >= m.length) return undefined;
      if (end < 0) end = pos + 2;
      pos = ((l & 0x3f) << 8) | m[pos + 1];
      jumps++;
      continue;
    }
    if (l === 0) return { name: labels.join("."), end: end < 0 ? pos + 1 : end };
    if (l > 63 || pos + 1 + l > m.length) return undefined;
    labels.push(Buffer.from(m.subarray(pos + 1, pos + 1 + l)).toString("latin1"));
    pos += 1 + l;
  }
  return undefined;
}

export class SimDnsServer {
  readonly ip: number;
  readonly ip6: Uint8Array | undefined;
  readonly mac: string;
  /** Ignore every query (a dead server; ARP is still answered unless `deaf`). */
  silent = false;
  /** Answer nothing at all, ARP included (a missing host). */
  deaf = false;
  /** Answer every query with this RCODE and no records (2 SERVFAIL, 5 REFUSED ...). */
  rcode: number | undefined;
  /** Set TC in every answer. */
  truncate = false;
  readonly queries: DnsQuerySeen[] = [];
  readonly records = new Map<string, string[]>();
  readonly cnames = new Map<string, string>();
  ttl: number;
  private readonly ep: SimEndpoint;

  constructor(
    private readonly sim: Simulator,
    opts: DnsdOptions,
  ) {
    this.ip = ipToU32(opts.ip);
    this.ip6 = opts.ip6 !== undefined ? parseIpv6(opts.ip6) : undefined;
    this.mac = opts.mac ?? "02:00:00:00:d0:35";
    this.ttl = opts.ttl ?? 300;
    for (const [k, v] of Object.entries(opts.records ?? {})) this.records.set(k.toLowerCase(), Array.isArray(v) ? v : [v]);
    for (const [k, v] of Object.entries(opts.cnames ?? {})) this.cnames.set(k.toLowerCase(), v.toLowerCase());
    this.ep = sim.attach(opts.name ?? "dnsd", (f) => this.receive(f), { delay: opts.delay ?? 1 });
  }

  private receive(f: Uint8Array): void {
    if (this.deaf) return;
    const req = receiveUdp(f, this.ep, this.mac, this.ip, 53) ?? (this.ip6 && receiveUdp6(f, this.ep, this.mac, this.ip6, 53));
    if (!req) return;
    const m = req.payload;
    if (m.length < 12 || (m[2] & 0x80) !== 0 || get16(m, 4) !== 1) return;
    const q = readName(m, 12);
    if (!q || q.end + 4 > m.length) return;
    const qtype = get16(m, q.end);
    this.queries.push({ time: this.sim.now, id: get16(m, 0), name: q.name, qtype, src: req.src, srcPort: req.srcPort });
    if (this.silent) return;
    const answer = this.answer(m.subarray(0, q.end + 4), q.name.toLowerCase(), qtype);
    if (req.src6) replyUdp6(this.ep, this.mac, this.ip6!, 53, req, answer);
    else replyUdp(this.ep, this.mac, this.ip, 53, req, answer);
  }

  /** The response to a question (header + question bytes as received). */
  private answer(query: Uint8Array, name: string, qtype: number): Uint8Array {
    const out: number[] = [...query];
    const flags = (v: number) => {
      out[2] = 0x80 | 0x04 | (query[2] & 0x01) | (this.truncate ? 0x02 : 0); // QR, AA, RD copied, TC
      out[3] = 0x80 | v; // RA, RCODE
    };
    out[6] = out[7] = out[8] = out[9] = out[10] = out[11] = 0;
    if (this.rcode !== undefined) {
      flags(this.rcode);
      return Uint8Array.from(out);
    }
    const rr: number[][] = [];
    let cur = name;
    let owner: number[] = [0xc0, 12]; // the question name
    for (let hops = 0; hops < 16 && this.cnames.has(cur); hops++) {
      const target = this.cnames.get(cur)!;
      const t = encodeDnsName(target);
      rr.push([...owner, 0, 5, 0, 1, ...u32b(this.ttl), t.length >>> 8, t.length & 255, ...t]);
      owner = t;
      cur = target;
    }
    const addrs = this.records.get(cur);
    if (!addrs && rr.length === 0) {
      flags(3); // NXDOMAIN
      return Uint8Array.from(out);
    }
    for (const a of addrs ?? []) {
      const v6 = a.includes(":");
      if (qtype === 1 && !v6) rr.push([...owner, 0, 1, 0, 1, ...u32b(this.ttl), 0, 4, ...u32b(ipToU32(a))]);
      if (qtype === 28 && v6) rr.push([...owner, 0, 28, 0, 1, ...u32b(this.ttl), 0, 16, ...parseIpv6(a)]); // RFC 3596
    }
    flags(0);
    out[6] = rr.length >>> 8;
    out[7] = rr.length & 255;
    for (const r of rr) out.push(...r);
    return Uint8Array.from(out);
  }

  get ipString(): string {
    return u32ToIp(this.ip);
  }
}

function u32b(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}
