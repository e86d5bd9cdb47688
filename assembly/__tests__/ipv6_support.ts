// Crafted IPv6 frames for the ND, SLAAC and ICMPv6 specs: written into rxBuf as a board would,
// from scripted neighbours at fe80::n with MAC 02:00:00:00:00:n (the kit's peerMac).
import { put16, put32 } from "../support/bytes";
import { rxBuf } from "../iface/netif";
import { icmpv6Checksum } from "../wire/icmpv6";
import { C, OUR_IP, PEER_IP, arpFrame, bringUp, clearSent, feed, peerMac, run, sent, sentCount } from "../testing";
import { addr } from "../iface/ipv6";

/** Our link-local address: fe80:: + the modified EUI-64 of 02:00:00:00:00:01 (fe80::ff:fe00:1). */
export const OURS = memory.data<u8>([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 1]);
export const ALL_NODES = memory.data<u8>([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
const scratch = memory.data(16, 8);
const scratch2 = memory.data(16, 8);

/** fe80::n (n < 65536) in a scratch buffer (valid until the next call). */
export function ll(n: u32): usize {
  memory.fill(scratch, 0, 16);
  store<u16>(scratch, 0x80fe);
  store<u8>(scratch, <u8>(n >> 8), 14);
  store<u8>(scratch, <u8>n, 15);
  return scratch;
}

/** The solicited-node group of a (a second scratch buffer). */
export function snm(a: usize): usize {
  memory.fill(scratch2, 0, 16);
  store<u16>(scratch2, 0x02ff);
  store<u8>(scratch2, 1, 11);
  store<u8>(scratch2, 0xff, 12);
  memory.copy(scratch2 + 13, a + 13, 3);
  return scratch2;
}

/** An RA from src (router lifetime 1800 s, hop limit hops) with a prefix fd00:1::/64 (flags,
 *  valid, preferred), an MTU of 1400 and an RDNSS of fd00:1::53. */
export function ra(from: usize, hops: u32, flags: u32, valid: u32, preferred: u32): C {
  const src = memory.data(16, 8);
  memory.copy(src, from, 16);
  const len: u32 = 16 + 8 + 32 + 8 + 24;
  const m = v6(src, ALL_NODES, 58, len, hops);
  memory.fill(m, 0, len);
  store<u8>(m, 134);
  store<u8>(m, 64, 4);
  put16(m + 6, 1800);
  let at = m + 16;
  store<u8>(at, 1); store<u8>(at, 1, 1); store<u8>(at, 2, 2); store<u8>(at, 2, 7); at += 8;
  store<u8>(at, 3); store<u8>(at, 4, 1); store<u8>(at, 64, 2); store<u8>(at, <u8>flags, 3);
  put32(at + 4, valid); put32(at + 8, preferred);
  store<u16>(at + 16, 0x00fd); store<u8>(at + 19, 1); at += 32;
  store<u8>(at, 5); store<u8>(at, 1, 1); put32(at + 4, 1400); at += 8;
  store<u8>(at, 25); store<u8>(at, 3, 1); put32(at + 4, 600);
  store<u16>(at + 8, 0x00fd); store<u8>(at + 11, 1); store<u8>(at + 23, 0x53);
  return sendIcmp(len);
}

/** Ethernet and IPv6 headers in rxBuf from neighbour n's MAC (src address at src) to dst; the
 *  Ethernet destination is dst's 33:33 MAC when multicast, else ours. Returns the payload. */
export function v6(src: usize, dst: usize, nh: u32, plen: u32, hops: u32 = 255, fromMac: u32 = 2): usize {
  if (load<u8>(dst) == 0xff) {
    store<u16>(rxBuf, 0x3333);
    memory.copy(rxBuf + 2, dst + 12, 4);
  } else {
    peerMac(rxBuf, 1);
  }
  peerMac(rxBuf + 6, fromMac);
  put16(rxBuf + 12, 0x86dd);
  const p = rxBuf + 14;
  put32(p, 0x60000000);
  put16(p + 4, plen);
  store<u8>(p, <u8>nh, 6);
  store<u8>(p, <u8>hops, 7);
  memory.copy(p + 8, src, 16);
  memory.copy(p + 24, dst, 16);
  return p + 40;
}

/** Fills in the checksum of the ICMPv6 message of len bytes at the payload and feeds the frame. */
export function sendIcmp(len: u32): C {
  const p = rxBuf + 14;
  const m = p + 40;
  store<u16>(m, 0, 2);
  put16(m + 2, icmpv6Checksum(p + 8, p + 24, m, len));
  return feed(14 + 40 + len);
}

/** An NS from src (neighbour n's MAC, which its SLLA option names unless n is 0) to dst for target. */
export function ns(src: usize, dst: usize, target: usize, n: u32 = 2, hops: u32 = 255): C {
  const s = memory.data(16, 8);
  const d = memory.data(16, 8);
  const t = memory.data(16, 8);
  memory.copy(s, src, 16);
  memory.copy(d, dst, 16);
  memory.copy(t, target, 16);
  const len: u32 = n != 0 ? 32 : 24;
  const m = v6(s, d, 58, len, hops, n != 0 ? n : 2);
  store<u32>(m, 135);
  store<u32>(m, 0, 4);
  memory.copy(m + 8, t, 16);
  if (n != 0) {
    store<u8>(m + 24, 1);
    store<u8>(m + 25, 1);
    peerMac(m + 26, n);
  }
  return sendIcmp(len);
}

/** An NA from neighbour n (fe80::n, MAC n unless mac says otherwise) for target, flags R|S|O as
 *  bits 31..29, with a target link-layer option naming MAC `mac` (0: none). */
export function na(n: u32, dst: usize, target: usize, flags: u32, mac: u32): C {
  const d = memory.data(16, 8);
  const t = memory.data(16, 8);
  memory.copy(d, dst, 16);
  memory.copy(t, target, 16);
  const s = ll(n);
  const len: u32 = mac != 0 ? 32 : 24;
  const m = v6(s, d, 58, len, 255, n);
  store<u32>(m, 136);
  put32(m + 4, flags);
  memory.copy(m + 8, t, 16);
  if (mac != 0) {
    store<u8>(m + 24, 2);
    store<u8>(m + 25, 1);
    peerMac(m + 26, mac);
  }
  return sendIcmp(len);
}

/** A stack with IPv6 whose link-local address has passed DAD (frames cleared after). */
export function bringUp6(): void {
  bringUp(1000, 0x0a000001, 0xffffff00, 0x0a0000fe, true);
  run(4500);
}

/** fe80::2, the scripted neighbour of the TCP and UDP specs. */
export const PEER6 = memory.data<u8>([0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);

/** bringUp6() with fe80::2 in the neighbor cache (its NS put it there) and the IPv4 peer in the ARP
 *  cache; capture cleared. */
export function bringUpPeers6(): void {
  bringUp6();
  ns(PEER6, OURS, OURS, 2);
  feed(arpFrame(1, PEER_IP, OUR_IP));
  clearSent();
}

/** The k-th captured frame's ICMPv6 type, or 0 when it is not ICMPv6 right after the IPv6 header. */
export function sentIcmpType(k: i32): u32 {
  const f = sent(k);
  if (load<u16>(f, 12) != 0xdd86 || load<u8>(f, 20) != 58) return 0;
  return <u32>load<u8>(f, 54);
}

/** How many captured frames are ICMPv6 of type t. */
export function sentOfType(t: u32): i32 {
  let n = 0;
  for (let k = 0; k < sentCount(); k++) if (sentIcmpType(k) == t) n++;
  return n;
}

/** The index of the last captured frame of ICMPv6 type t, or -1. */
export function lastOfType(t: u32): i32 {
  for (let k = sentCount() - 1; k >= 0; k--) if (sentIcmpType(k) == t) return k;
  return -1;
}

export function addrState(i: i32): u32 {
  return addr(i).state;
}
