// An mDNS peer (RFC 6762) on the emulated switch: a host with its own MAC and IP that owns some
// `.local` names (A records for its address) and defends them as a responder does: a query or a
// probe for one of them is answered at once with the A record (multicast, or unicast to the
// asker's port when it asked QU or from a port other than 5353). A board probing a name it owns
// sees the conflict and renames. It also keeps every mDNS response it hears (`heard`: the board's
// probes' answers, announcements and goodbyes) and can ask a question itself (`query`), so a test
// reads what a resolver on the link would. No randomness: it answers in the instant a query
// arrives, so a run is as reproducible as the simulator's seed makes the rest.
import { formatIpv6, ipToU32, u32ToIp } from "../../board/address.ts";
import { get16, get32 } from "../frames.ts";
import { encodeDnsName, readName } from "./dnsd.ts";
import { receiveUdp, replyUdp } from "./udp_host.ts";
import type { SimEndpoint, Simulator } from "../sim.ts";

const GROUP = "224.0.0.251";
const GROUP_MAC = "01:00:5e:00:00:fb";
const PORT = 5353;

export interface MdnsPeerOptions {
  name?: string; // endpoint name, default "mdnsd"
  mac?: string; // default 02:00:00:00:5e:fb
  ip: string;
  /** Names it owns ("kitchen.local"), each an A record for its address. */
  names?: string[];
  ttl?: number; // seconds, default 120
}

/** A resource record heard in a response. */
export interface MdnsRecordHeard {
  time: number;
  from: string;
  name: string;
  type: number;
  ttl: number;
  /** A: the address; PTR: the target; SRV: "port target"; TXT: the strings joined by ';'. */
  data: string;
}

/** Every record of a message (questions skipped), or undefined when malformed. */
export function mdnsRecords(m: Uint8Array): { name: string; type: number; ttl: number; data: string }[] | undefined {
  if (m.length < 12) return undefined;
  let off = 12;
  for (let k = 0; k < get16(m, 4); k++) {
    const q = readName(m, off);
    if (!q) return undefined;
    off = q.end + 4;
  }
  const out = [];
  const n = get16(m, 6) + get16(m, 8) + get16(m, 10);
  for (let k = 0; k < n; k++) {
    const o = readName(m, off);
    if (!o || o.end + 10 > m.length) return undefined;
    const type = get16(m, o.end);
    const ttl = get32(m, o.end + 4);
    const rd = o.end + 10;
    const len = get16(m, o.end + 8);
    if (rd + len > m.length) return undefined;
    let data = "";
    if (type === 1 && len === 4) data = u32ToIp(get32(m, rd));
    else if (type === 28 && len === 16) data = formatIpv6(m.subarray(rd, rd + 16));
    else if (type === 12) data = readName(m, rd)?.name ?? "";
    else if (type === 33) data = `${get16(m, rd + 4)} ${readName(m, rd + 6)?.name ?? ""}`;
    else if (type === 16) {
      const parts: string[] = [];
      for (let i = rd; i < rd + len; i += 1 + m[i]) parts.push(Buffer.from(m.subarray(i + 1, i + 1 + m[i])).toString("latin1"));
      data = parts.join(";");
    }
    out.push({ name: o.name, type, ttl, data });
    off = rd + len;
  }
  return out;
}

export class SimMdnsPeer {
  readonly ip: number;
  readonly mac: string;
  readonly names = new Set<string>();
  readonly heard: MdnsRecordHeard[] = [];
  /** Queries (and probes) it answered: the name asked. */
  readonly defended: string[] = [];
  ttl: number;
  private readonly ep: SimEndpoint;

  constructor(
    private readonly sim: Simulator,
    opts: MdnsPeerOptions,
  ) {
    this.ip = ipToU32(opts.ip);
    this.mac = opts.mac ?? "02:00:00:00:5e:fb";
    this.ttl = opts.ttl ?? 120;
    for (const n of opts.names ?? []) this.names.add(n.toLowerCase());
    this.ep = sim.attach(opts.name ?? "mdnsd", (f) => this.receive(f), { delay: 1 });
  }

  /** Claim a name from now on (it answers for it; it does not probe). */
  claim(name: string): void {
    this.names.add(name.toLowerCase());
  }

  /** A one-shot question from port 5353 to the group (QM); answers land in `heard`. */
  query(name: string, type: number): void {
    const msg = [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, ...encodeDnsName(name), type >>> 8, type & 255, 0, 1];
    this.send(Uint8Array.from(msg));
  }

  /** msg to the group, from 5353 (IP TTL 64: the board does not check it). */
  private send(msg: Uint8Array): void {
    replyUdp(this.ep, this.mac, this.ip, PORT, { payload: msg, src: GROUP, srcPort: PORT, srcMac: GROUP_MAC }, msg);
  }

  private receive(f: Uint8Array): void {
    const req = receiveUdp(f, this.ep, this.mac, this.ip, PORT, ipToU32(GROUP));
    if (!req || req.payload.length < 12) return;
    const m = req.payload;
    const sport = req.srcPort;
    if ((m[2] & 0x80) !== 0) {
      for (const r of mdnsRecords(m) ?? []) this.heard.push({ time: this.sim.now, from: req.src, ...r });
      return;
    }
    // A query or a probe: each question for a name we own, of type A or ANY, gets our A record.
    let off = 12;
    for (let k = 0; k < get16(m, 4); k++) {
      const q = readName(m, off);
      if (!q || q.end + 4 > m.length) return;
      const qtype = get16(m, q.end);
      const qu = (m[q.end + 2] & 0x80) !== 0;
      off = q.end + 4;
      const name = q.name.toLowerCase();
      if (!this.names.has(name) || (qtype !== 1 && qtype !== 255)) continue;
      this.defended.push(name);
      const legacy = sport !== PORT;
      const ttl = legacy ? Math.min(this.ttl, 10) : this.ttl;
      const rr = [...encodeDnsName(name), 0, 1, legacy ? 0 : 0x80, 1, ttl >>> 24, (ttl >>> 16) & 255, (ttl >>> 8) & 255, ttl & 255, 0, 4];
      rr.push(...[24, 16, 8, 0].map((s) => (this.ip >>> s) & 255));
      // Legacy unicast (§6.7): the query's id and its question repeated.
      const head = legacy ? [m[0], m[1], 0x84, 0, 0, 1, 0, 1, 0, 0, 0, 0, ...encodeDnsName(name), qtype >>> 8, qtype & 255, 0, 1] : [0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0];
      const msg = Uint8Array.from([...head, ...rr]);
      if (legacy || qu) replyUdp(this.ep, this.mac, this.ip, PORT, req, msg);
      else this.send(msg);
    }
  }
}
