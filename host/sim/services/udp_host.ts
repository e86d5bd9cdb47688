// What the simulated UDP servers (dnsd.ts, ntpd.ts) share: a host's receive path that answers ARP
// for its address and picks out the datagrams to its port, and the reply back to the sender; and
// the same over IPv6 (neighbor solicitations answered instead of ARP) for a server with an IPv6
// address.
import { formatIpv6, ipToU32 } from "../../board/address.ts";
import {
  ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, IPPROTO_ICMPV6, IPPROTO_UDP, arp, ethernet, get16, ipv4, ipv6, macBytes, parseArp, parseEthernet, parseIpv4,
  parseIpv6Packet, udp,
} from "../frames.ts";
import type { SimEndpoint } from "../sim.ts";

/** A datagram received: its payload (cut to the UDP length) and where to answer. */
export interface UdpRequest {
  payload: Uint8Array;
  src: string;
  srcPort: number;
  srcMac: string;
  src6?: Uint8Array; // the sender's IPv6 address (src is its text) when it came over IPv6
}

/** Answers an ARP request for `ip`; returns a UDP datagram to ip:port (or to `group`:port),
 *  else undefined. */
export function receiveUdp(f: Uint8Array, ep: SimEndpoint, mac: string, ip: number, port: number, group?: number): UdpRequest | undefined {
  const eth = parseEthernet(f);
  if (!eth) return undefined;
  if (eth.type === ETHERTYPE_ARP) {
    const a = parseArp(eth.payload);
    if (a && a.op === 1 && ipToU32(a.tpa) === ip) {
      const reply = arp({ op: 2, sha: mac, spa: ip, tha: a.sha, tpa: a.spa });
      ep.send(ethernet({ dst: a.sha, src: mac, type: ETHERTYPE_ARP, payload: reply }));
    }
    return undefined;
  }
  if (eth.type !== ETHERTYPE_IPV4) return undefined;
  const p = parseIpv4(eth.payload);
  if (!p || p.protocol !== IPPROTO_UDP || p.payload.length < 8 || (ipToU32(p.dst) !== ip && ipToU32(p.dst) !== group)) return undefined;
  const u = p.payload;
  if (get16(u, 2) !== port) return undefined;
  return { payload: u.subarray(8, Math.min(u.length, get16(u, 4))), src: p.src, srcPort: get16(u, 0), srcMac: eth.src };
}

/** `payload` from ip:port back to the request's sender (no UDP checksum). */
export function replyUdp(ep: SimEndpoint, mac: string, ip: number, port: number, to: UdpRequest, payload: Uint8Array): void {
  const pkt = ipv4({ src: ip, dst: to.src, protocol: IPPROTO_UDP, payload: udp(port, to.srcPort, payload) });
  ep.send(ethernet({ dst: to.srcMac, src: mac, type: ETHERTYPE_IPV4, payload: pkt }));
}

const ND_NS = 135;
const ND_NA = 136;

/** The IPv6 side of receiveUdp: answers a neighbor solicitation for `ip6` (RFC 4861 §7.2.4; not
 *  a DAD probe, whose source is unspecified), returns a datagram to [ip6]:port, else undefined. */
export function receiveUdp6(f: Uint8Array, ep: SimEndpoint, mac: string, ip6: Uint8Array, port: number): UdpRequest | undefined {
  const eth = parseEthernet(f);
  if (!eth || eth.type !== ETHERTYPE_IPV6) return undefined;
  const p = parseIpv6Packet(eth.payload);
  if (!p) return undefined;
  const m = p.payload;
  if (p.next === IPPROTO_ICMPV6 && m.length >= 24 && m[0] === ND_NS && m[1] === 0 && p.hopLimit === 255 && same(m.subarray(8, 24), ip6) && p.src.some((x) => x !== 0)) {
    // Solicited and override, with our link-layer address (§4.4).
    const na = Uint8Array.from([ND_NA, 0, 0, 0, 0x60, 0, 0, 0, ...ip6, 2, 1, ...macBytes(mac)]);
    ep.send(ethernet({ dst: eth.src, src: mac, type: ETHERTYPE_IPV6, payload: ipv6({ src: ip6, dst: p.src, next: IPPROTO_ICMPV6, hopLimit: 255, payload: na }) }));
    return undefined;
  }
  if (p.next !== IPPROTO_UDP || m.length < 8 || !same(p.dst, ip6) || get16(m, 2) !== port) return undefined;
  const src6 = p.src.slice();
  return { payload: m.subarray(8, Math.min(m.length, get16(m, 4))), src: formatIpv6(src6), srcPort: get16(m, 0), srcMac: eth.src, src6 };
}

/** `payload` from [ip6]:port back to the sender of a request that came over IPv6 (with the UDP
 *  checksum, which IPv6 requires: RFC 8200 §8.1). */
export function replyUdp6(ep: SimEndpoint, mac: string, ip6: Uint8Array, port: number, to: UdpRequest, payload: Uint8Array): void {
  if (!to.src6) throw new Error("replyUdp6: the request came over IPv4");
  const pkt = ipv6({ src: ip6, dst: to.src6, next: IPPROTO_UDP, payload: udp(port, to.srcPort, payload) });
  ep.send(ethernet({ dst: to.srcMac, src: mac, type: ETHERTYPE_IPV6, payload: pkt }));
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
