// What the simulated UDP servers (dnsd.ts, ntpd.ts) share: a host's receive path that answers ARP
// for its address and picks out the datagrams to its port, and the reply back to the sender.
import { ipToU32 } from "../../board/address.ts";
import { ETHERTYPE_ARP, ETHERTYPE_IPV4, IPPROTO_UDP, arp, ethernet, get16, ipv4, parseArp, parseEthernet, parseIpv4 } from "../frames.ts";
import type { SimEndpoint } from "../sim.ts";

/** A datagram received: its payload (cut to the UDP length) and where to answer. */
export interface UdpRequest {
  payload: Uint8Array;
  src: string;
  srcPort: number;
  srcMac: string;
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
  const udp = new Uint8Array(8 + payload.length);
  udp[0] = port >>> 8;
  udp[1] = port & 255;
  udp[2] = to.srcPort >>> 8;
  udp[3] = to.srcPort & 255;
  udp[4] = udp.length >>> 8;
  udp[5] = udp.length & 255;
  udp.set(payload, 8);
  const pkt = ipv4({ src: ip, dst: to.src, protocol: IPPROTO_UDP, payload: udp });
  ep.send(ethernet({ dst: to.srcMac, src: mac, type: ETHERTYPE_IPV4, payload: pkt }));
}
