// A small DHCPv4 server (RFC 2131) for the emulated network: an endpoint on a simulated switch
// (sim.attach) that answers ARP for its own address and DHCPDISCOVER / DHCPREQUEST / DHCPRELEASE
// on UDP port 67, so simulated boards boot with no configuration. Test knobs: `silent` (ignore
// everything), `nakRequests` (answer every REQUEST with a NAK), and a record of what it received.
import { ipToU32, u32ToIp, formatMac, prefixToMask } from "../../board/address.ts";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, IPPROTO_UDP, BROADCAST_MAC, arp, ethernet, get16, get32, ipv4, parseArp, parseEthernet, parseIpv4, udp } from "../frames.ts";
import type { SimEndpoint, Simulator } from "../sim.ts";
import type { Board } from "../../board/board.ts";
import { dhcpStart, dhcpStatus, type DhcpStatus } from "../../board/dhcp.ts";

export const DHCP_MSG = { DISCOVER: 1, OFFER: 2, REQUEST: 3, DECLINE: 4, ACK: 5, NAK: 6, RELEASE: 7, INFORM: 8 } as const;
export const DHCP_MSG_NAMES = ["", "DISCOVER", "OFFER", "REQUEST", "DECLINE", "ACK", "NAK", "RELEASE", "INFORM"];
const COOKIE = 0x63825363;

export interface DhcpdOptions {
  name?: string; // endpoint name, default "dhcpd"
  mac?: string; // default 02:00:00:00:d0:01
  ip: string; // the server's address (and server identifier)
  prefix: number;
  router?: string;
  dns?: string[];
  poolStart: string;
  poolEnd: string;
  leaseSecs?: number; // default 3600
  t1Secs?: number; // default: none sent (the client uses lease/2)
  t2Secs?: number;
  /** Extra options appended to every OFFER/ACK: [code, bytes]. */
  extraOptions?: [number, Uint8Array][];
}

/** A parsed client message (what the server saw). */
export interface DhcpSeen {
  time: number;
  type: number;
  typeName: string;
  xid: number;
  mac: string;
  ciaddr: string;
  requestedIp?: string;
  serverId?: string;
  hostName?: string;
  flags: number;
  secs: number;
  ipSrc: string;
  ipDst: string;
  ethDst: string;
}

export interface DhcpLease {
  mac: string;
  ip: string;
  hostName?: string;
  expires: number; // virtual ms
}

/** Parses a DHCP message (the UDP payload); undefined if malformed. Options by code. */
export function parseDhcp(m: Uint8Array): { op: number; xid: number; secs: number; flags: number; ciaddr: number; yiaddr: number; mac: string; options: Map<number, Uint8Array> } | undefined {
  if (m.length < 240 || get32(m, 236) !== COOKIE) return undefined;
  const options = new Map<number, Uint8Array>();
  let i = 240;
  while (i < m.length) {
    const code = m[i];
    if (code === 0) {
      i++;
      continue;
    }
    if (code === 255) break;
    if (i + 2 > m.length) return undefined;
    const len = m[i + 1];
    if (i + 2 + len > m.length) return undefined;
    options.set(code, m.subarray(i + 2, i + 2 + len));
    i += 2 + len;
  }
  return { op: m[0], xid: get32(m, 4), secs: get16(m, 8), flags: get16(m, 10), ciaddr: get32(m, 12), yiaddr: get32(m, 16), mac: formatMac(m.subarray(28, 34)), options };
}

function u32(v: number): Uint8Array {
  return Uint8Array.of((v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255);
}

export class SimDhcpServer {
  readonly ip: number;
  readonly mac: string;
  readonly mask: number;
  /** Ignore every DHCP message (the daemon is down; the host still answers ARP unless `down`). */
  silent = false;
  /** Answer nothing at all, not even ARP (the host is gone). */
  down = false;
  /** Answer every REQUEST with a DHCPNAK. */
  nakRequests = false;
  /** Client messages received, in order. */
  readonly seen: DhcpSeen[] = [];
  readonly leases = new Map<string, DhcpLease>();
  leaseSecs: number;
  t1Secs?: number;
  t2Secs?: number;
  private readonly ep: SimEndpoint;
  private readonly pool: number[];
  private readonly offered = new Map<string, number>();

  constructor(
    private readonly sim: Simulator,
    private readonly opts: DhcpdOptions,
  ) {
    this.ip = ipToU32(opts.ip);
    this.mac = opts.mac ?? "02:00:00:00:d0:01";
    this.mask = prefixToMask(opts.prefix);
    this.leaseSecs = opts.leaseSecs ?? 3600;
    this.t1Secs = opts.t1Secs;
    this.t2Secs = opts.t2Secs;
    const a = ipToU32(opts.poolStart);
    const b = ipToU32(opts.poolEnd);
    this.pool = [];
    for (let x = a; x <= b; x++) this.pool.push(x);
    this.ep = sim.attach(opts.name ?? "dhcpd", (f) => this.receive(f), { delay: 1 });
  }

  /** Lease of a client by MAC, if any (expired ones included until reused). */
  leaseOf(mac: string): DhcpLease | undefined {
    return this.leases.get(mac.toLowerCase());
  }

  private receive(f: Uint8Array): void {
    const eth = parseEthernet(f);
    if (!eth) return;
    if (eth.type === ETHERTYPE_ARP) {
      const a = parseArp(eth.payload);
      if (a && a.op === 1 && ipToU32(a.tpa) === this.ip && !this.down) {
        const reply = arp({ op: 2, sha: this.mac, spa: this.ip, tha: a.sha, tpa: a.spa });
        this.ep.send(ethernet({ dst: a.sha, src: this.mac, type: ETHERTYPE_ARP, payload: reply }));
      }
      return;
    }
    if (eth.type !== ETHERTYPE_IPV4) return;
    const ip = parseIpv4(eth.payload);
    if (this.down) return;
    if (!ip || ip.protocol !== IPPROTO_UDP || ip.payload.length < 8) return;
    const dst = ipToU32(ip.dst);
    if (dst !== 0xffffffff && dst !== this.ip) return;
    const u = ip.payload;
    if (get16(u, 2) !== 67) return;
    const m = parseDhcp(u.subarray(8, get16(u, 4)));
    if (!m || m.op !== 1) return;
    const type = m.options.get(53)?.[0] ?? 0;
    const opt32 = (c: number) => {
      const o = m.options.get(c);
      return o && o.length === 4 ? u32ToIp(get32(o, 0)) : undefined;
    };
    const hn = m.options.get(12);
    this.seen.push({
      time: this.sim.now,
      type,
      typeName: DHCP_MSG_NAMES[type] ?? String(type),
      xid: m.xid,
      mac: m.mac,
      ciaddr: u32ToIp(m.ciaddr),
      requestedIp: opt32(50),
      serverId: opt32(54),
      hostName: hn ? Buffer.from(hn).toString("latin1") : undefined,
      flags: m.flags,
      secs: m.secs,
      ipSrc: ip.src,
      ipDst: ip.dst,
      ethDst: eth.dst,
    });
    if (this.silent || this.down) return;
    const mac = m.mac;
    if (type === DHCP_MSG.DISCOVER) {
      const addr = this.pick(mac);
      if (addr === undefined) return;
      this.offered.set(mac, addr);
      this.reply(DHCP_MSG.OFFER, m.xid, mac, addr, m.flags);
    } else if (type === DHCP_MSG.REQUEST) {
      const sid = opt32(54);
      if (sid !== undefined && ipToU32(sid) !== this.ip) {
        this.offered.delete(mac); // the client chose another server
        return;
      }
      const want = opt32(50) ? ipToU32(opt32(50)!) : m.ciaddr;
      const own = this.leases.get(mac);
      const ok = !this.nakRequests && want !== 0 && (this.offered.get(mac) === want || (own !== undefined && ipToU32(own.ip) === want));
      if (!ok) {
        this.reply(DHCP_MSG.NAK, m.xid, mac, 0, m.flags, m.ciaddr !== 0 && sid === undefined ? m.ciaddr : 0);
        return;
      }
      this.offered.delete(mac);
      this.leases.set(mac, { mac, ip: u32ToIp(want), hostName: hn ? Buffer.from(hn).toString("latin1") : undefined, expires: this.sim.now + this.leaseSecs * 1000 });
      // Renewing (unicast, ciaddr set): answer unicast to ciaddr.
      this.reply(DHCP_MSG.ACK, m.xid, mac, want, m.flags, m.ciaddr);
    } else if (type === DHCP_MSG.RELEASE) {
      const own = this.leases.get(mac);
      if (own && ipToU32(own.ip) === m.ciaddr) this.leases.delete(mac);
    }
  }

  private pick(mac: string): number | undefined {
    const own = this.leases.get(mac);
    if (own) return ipToU32(own.ip);
    const used = new Set<number>();
    for (const l of this.leases.values()) if (l.expires > this.sim.now) used.add(ipToU32(l.ip));
    for (const [m, a] of this.offered) if (m !== mac) used.add(a);
    return this.pool.find((a) => !used.has(a));
  }

  private reply(type: number, xid: number, mac: string, yiaddr: number, flags: number, ciaddr = 0): void {
    const m = new Uint8Array(300);
    m[0] = 2;
    m[1] = 1;
    m[2] = 6;
    m.set(u32(xid), 4);
    m[10] = flags >>> 8;
    m.set(u32(ciaddr), 12);
    m.set(u32(yiaddr), 16);
    m.set(u32(this.ip), 20);
    m.set(mac.split(":").map((x) => parseInt(x, 16)), 28);
    m.set(u32(COOKIE), 236);
    const opts: number[] = [];
    const put = (code: number, v: Uint8Array) => opts.push(code, v.length, ...v);
    put(53, Uint8Array.of(type));
    put(54, u32(this.ip));
    if (type !== DHCP_MSG.NAK) {
      put(51, u32(this.leaseSecs));
      if (this.t1Secs !== undefined) put(58, u32(this.t1Secs));
      if (this.t2Secs !== undefined) put(59, u32(this.t2Secs));
      put(1, u32(this.mask));
      if (this.opts.router) put(3, u32(ipToU32(this.opts.router)));
      if (this.opts.dns?.length) {
        const d = new Uint8Array(4 * this.opts.dns.length);
        this.opts.dns.forEach((s, i) => d.set(u32(ipToU32(s)), 4 * i));
        put(6, d);
      }
      for (const [c, v] of this.opts.extraOptions ?? []) put(c, v);
    }
    opts.push(255);
    m.set(opts, 240);
    // Unicast to a renewing client's address; otherwise broadcast (the client has the BROADCAST
    // flag set and no address yet), like dnsmasq.
    const unicast = ciaddr !== 0;
    const dstIp = unicast ? ciaddr : 0xffffffff;
    const frame = ethernet({
      dst: unicast ? mac : BROADCAST_MAC,
      src: this.mac,
      type: ETHERTYPE_IPV4,
      payload: ipv4({ src: this.ip, dst: dstIp, protocol: IPPROTO_UDP, payload: udp(67, 68, m) }),
    });
    this.ep.send(frame);
  }
}

/** Starts a simulated board's DHCP client and runs the simulation until it is BOUND (throws after
 *  timeoutMs of virtual time). For a demo network whose boards boot with no configuration. */
export function simLease(sim: Simulator, board: Board, hostName: string, timeoutMs = 70_000): DhcpStatus {
  dhcpStart(board, hostName);
  if (!sim.runUntil(() => dhcpStatus(board).state === "BOUND", { timeout: timeoutMs }))
    throw new Error(`${board.name}: no DHCP lease within ${timeoutMs} ms (state ${dhcpStatus(board).state})`);
  return dhcpStatus(board);
}
