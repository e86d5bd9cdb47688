// A router advertiser for the emulated network (like radvd, RFC 4861 §6.2): an endpoint that
// multicasts `count` unsolicited RAs to all-nodes, `interval` ms apart, from its link-local
// address, with one prefix (on-link and autonomous: boards form SLAAC addresses, RFC 4862 §5.5)
// and optionally an RDNSS option (RFC 8106). Router lifetime 0: it is not a default router, so
// traffic stays on the link. A bounded number, so a simulation with it still goes idle. It
// answers nothing (router solicitations included: the unsolicited RAs cover them).
import { formatMac, parseIpv6, parseMac } from "../../board/address.ts";
import { ETHERTYPE_IPV6, IPPROTO_ICMPV6, ethernet, ipv6, linkLocal } from "../frames.ts";
import type { SimEndpoint, Simulator } from "../sim.ts";

export interface RadvdOptions {
  name?: string; // endpoint name, default "radvd"
  mac?: string; // default 02:00:00:00:0a:01
  /** The /64 prefix advertised, e.g. "2001:db8:1::". */
  prefix: string;
  /** An RDNSS server to advertise (RFC 8106), IPv6 text. */
  rdnss?: string;
  count?: number; // default 4
  interval?: number; // ms, default 2000; the first goes at once
}

const ALL_NODES = parseIpv6("ff02::1");

export class SimRouterAdvertiser {
  readonly mac: string;
  /** RAs sent so far. */
  sent = 0;
  private readonly ep: SimEndpoint;
  private readonly frame: Uint8Array;

  constructor(sim: Simulator, opts: RadvdOptions) {
    const mac = parseMac(opts.mac ?? "02:00:00:00:0a:01");
    this.mac = formatMac(mac);
    this.ep = sim.attach(opts.name ?? "radvd", () => {});
    this.frame = raFrame(mac, parseIpv6(opts.prefix), opts.rdnss ? parseIpv6(opts.rdnss) : undefined);
    const n = opts.count ?? 4;
    const every = opts.interval ?? 2000;
    for (let k = 0; k < n; k++) {
      sim.after(k * every, () => {
        this.ep.send(this.frame);
        this.sent++;
      });
    }
  }
}

/** An Ethernet frame with the RA: source link-layer address, prefix information, RDNSS. */
function raFrame(mac: Uint8Array, prefix: Uint8Array, rdnss?: Uint8Array): Uint8Array {
  const ra = [134, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]; // hop limit 64, router lifetime 0
  ra.push(1, 1, ...mac); // §4.6.1
  ra.push(3, 4, 64, 0xc0, ...u32b(86400), ...u32b(14400), 0, 0, 0, 0, ...prefix.subarray(0, 8), 0, 0, 0, 0, 0, 0, 0, 0); // §4.6.2, L|A
  if (rdnss) ra.push(25, 3, 0, 0, ...u32b(600), ...rdnss);
  const packet = ipv6({ src: linkLocal(mac), dst: ALL_NODES, next: IPPROTO_ICMPV6, hopLimit: 255, payload: Uint8Array.from(ra) });
  return ethernet({ dst: "33:33:00:00:00:01", src: mac, type: ETHERTYPE_IPV6, payload: packet });
}

function u32b(v: number): number[] {
  return [(v >>> 24) & 255, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
}
