// IPv4 (RFC 791, RFC 1122 §3.2.1): validation, delivery to the protocols, routing of what we send.
import { FEATURE_ICMP, FEATURE_LOOPBACK, FEATURE_MULTICAST, IP_DEFAULT_TTL, MTU } from "../config";
import { C, count, countN } from "../support/counters";
import { EHOSTUNREACH, EMSGSIZE, OK } from "../support/errors";
import { phy_random } from "../support/phy";
import { WireError } from "../wire/error";
import { HEADER_LEN as ETH_LEN, TYPE_IPV4 } from "../wire/ethernet";
import { HEADER_LEN, Ipv4Repr, PROTO_ICMP, PROTO_TCP, PROTO_UDP, isMulticastOrReserved } from "../wire/ipv4";
import { arpInvalidate, arpOutput } from "./arp";
import { ethernetSend } from "./ethernet";
import { icmpInput } from "./icmp";
import { PROTO_IGMP, igmpInput, igmpMember, isMulticast, macW0Of, macW4Of } from "./igmp";
import { loopbackOutput } from "./loopback";
import { gateway, ipAddr, isBroadcast, isOnLink } from "./netif";

/** Where a datagram's payload starts in a frame buffer (we never emit IP options). */
export const PAYLOAD_OFFSET: u32 = ETH_LEN + HEADER_LEN;

const rx = changetype<Ipv4Repr>(memory.data(offsetof<Ipv4Repr>()));
const tx = changetype<Ipv4Repr>(memory.data(offsetof<Ipv4Repr>()));
let ident: u32 = 0;

/** A transport's input: (payload, length, source, destination, sent to a broadcast address). */
export type TransportInput = (p: usize, len: u32, src: u32, dst: u32, toBroadcast: bool) => C;
// Transports register themselves here, so this layer never imports the one above it.
let tcpHandler: TransportInput | null = null;
let udpHandler: TransportInput | null = null;

/** The datagram being delivered (its IP header), for ICMP errors about it. */
export let rxHeader: usize = 0;
export let rxHeaderLen: u32 = 0;

export function setTransport(proto: u32, h: TransportInput | null): void {
  if (proto == PROTO_TCP) tcpHandler = h;
  else if (proto == PROTO_UDP) udpHandler = h;
}

export function ipv4Init(): void {
  ident = phy_random() & 0xffff;
}

/** Set while the loopback delivers (iface/loopback.ts): 127/8 and any destination are then ours. */
let lo: bool = false;

export function setLoopbackInput(on: bool): void {
  lo = on;
}

/** The datagram at p (len bytes up to the end of the frame) in the frame at frame. */
export function ipv4Input(p: usize, len: u32): C {
  const err = rx.parse(p, len);
  if (err != WireError.OK) {
    if (err == WireError.BAD_VERSION) return C.IP_BAD_VERSION;
    if (err == WireError.BAD_HEADER_LEN) return C.IP_BAD_HEADER_LEN;
    if (err == WireError.BAD_TOTAL_LEN) return C.IP_BAD_TOTAL_LEN;
    if (err == WireError.BAD_CHECKSUM) return C.IP_BAD_CHECKSUM;
    return C.IP_TRUNCATED;
  }
  // No reassembly: every fragment is dropped and counted (documented in config.ts).
  if (rx.moreFragments || rx.fragmentOffset != 0) return C.IP_FRAGMENT_DROPPED;
  const src = rx.src;
  const dst = rx.dst;
  // RFC 1122 §3.2.1.3: a source must be a host address. 127/8 never arrives on a wire, nor does
  // our own address (RFC 1812 §5.3.7 martian filtering; the "land" attack: we would answer
  // ourselves); 0/8 is only a host still initializing (a DHCP client, over UDP), which nothing
  // else can answer. The loopback's own deliveries (lo) come from 127/8 or our address.
  if (isMulticastOrReserved(src) || isBroadcast(src) || ((src >>> 24) == 127 && !lo)) return C.IP_BAD_SOURCE;
  if (!lo && ((src == ipAddr && ipAddr != 0) || ((src >>> 24) == 0 && rx.proto != PROTO_UDP))) return C.IP_BAD_SOURCE;
  if (FEATURE_MULTICAST && isMulticast(dst)) return multicastInput(p, src, dst);
  const bcast = isBroadcast(dst);
  if (!bcast && (dst != ipAddr || ipAddr == 0) && !lo) return C.IP_NOT_FOR_US;
  // A host does not discard a datagram for its TTL (RFC 1122 §3.2.1.7), so TTL is not checked.
  const proto = rx.proto;
  const payload = p + rx.headerLen;
  rxHeader = p;
  rxHeaderLen = rx.headerLen;
  if (proto == PROTO_TCP) {
    const h = tcpHandler;
    if (h) return h(payload, rx.payloadLen, src, dst, bcast);
  } else if (proto == PROTO_UDP) {
    const h = udpHandler;
    if (h) return h(payload, rx.payloadLen, src, dst, bcast);
  } else if (FEATURE_ICMP && proto == PROTO_ICMP) {
    return icmpInput(payload, rx.payloadLen, rx.headerLen, src, bcast);
  } else if (FEATURE_MULTICAST && proto == PROTO_IGMP) {
    return igmpInput(payload, rx.payloadLen, dst);
  }
  return C.IP_UNKNOWN_PROTOCOL;
}

/** A datagram to a multicast group: IGMP, or UDP for a group we are in. Like a broadcast, it never
 *  gets an ICMP error (RFC 1122 §3.2.2), and TCP has no business there. */
function multicastInput(p: usize, src: u32, dst: u32): C {
  const proto = rx.proto;
  const payload = p + rx.headerLen;
  rxHeader = p;
  rxHeaderLen = rx.headerLen;
  if (proto == PROTO_IGMP) return igmpInput(payload, rx.payloadLen, dst);
  if (!igmpMember(dst)) return C.IP_MULTICAST_NOT_JOINED;
  const h = udpHandler;
  if (proto == PROTO_UDP && h) return h(payload, rx.payloadLen, src, dst, true);
  return C.IP_UNKNOWN_PROTOCOL;
}

/** Negative advice from a transport (RFC 1122 §3.3.1.4): datagrams to dst seem lost, so the next
 *  hop towards it is resolved again. */
export function ipv4NegativeAdvice(dst: u32): void {
  const hop = ipv4NextHop(dst);
  if (hop != 0 && !isBroadcast(dst)) arpInvalidate(hop);
}

/** The neighbour a datagram to dst goes to: dst on the link, else the gateway (0: none, or it
 *  stays inside, as 127/8 and our own address do). */
export function ipv4NextHop(dst: u32): u32 {
  if ((dst >>> 24) == 127 || dst == ipAddr) return 0;
  return isOnLink(dst) ? dst : gateway;
}

/**
 * Sends a datagram whose payload (plen bytes) is already at frame + PAYLOAD_OFFSET; the IP and
 * Ethernet headers are written here. Returns OK (sent or waiting for ARP) or an error.
 */
export function ipv4Output(frame: usize, plen: u32, proto: u32, dst: u32, ttl: u32 = IP_DEFAULT_TTL): i32 {
  if (plen > MTU - HEADER_LEN) return EMSGSIZE;
  const mcast = FEATURE_MULTICAST && isMulticast(dst);
  const bcast = mcast || isBroadcast(dst);
  let nextHop = dst;
  let src = ipAddr;
  // RFC 1122 §3.2.1.3: 127/8 never goes on a wire, whatever the netmask: it and our own address
  // are looped back inside (nextHop 0), or refused in a build without the loopback.
  if ((dst >>> 24) == 127) {
    src = dst; // 127.0.0.1 talks to 127.0.0.1 (netif.localFor)
    nextHop = 0;
  } else if (!bcast && !isOnLink(dst)) {
    if (gateway == 0 || ipAddr == 0) {
      count(C.IP_NO_ROUTE);
      return EHOSTUNREACH;
    }
    nextHop = gateway;
  } else if (dst == ipAddr) {
    nextHop = 0;
  }
  if (!FEATURE_LOOPBACK && nextHop == 0) {
    count(C.IP_NO_ROUTE);
    return EHOSTUNREACH;
  }
  tx.src = src;
  tx.dst = dst;
  tx.proto = proto;
  tx.ttl = ttl;
  tx.tos = 0;
  tx.ident = ident;
  ident = (ident + 1) & 0xffff;
  tx.dontFragment = false;
  tx.moreFragments = false;
  tx.fragmentOffset = 0;
  tx.payloadLen = plen;
  tx.emit(frame + ETH_LEN);
  const len = PAYLOAD_OFFSET + plen;
  let r = OK;
  if (mcast) ethernetSend(frame, len, macW0Of(dst), macW4Of(dst), TYPE_IPV4);
  else if (bcast) ethernetSend(frame, len, 0xffffffff, 0xffff, TYPE_IPV4);
  else if (FEATURE_LOOPBACK && nextHop == 0) r = loopbackOutput(frame, len);
  else r = arpOutput(frame, len, nextHop, TYPE_IPV4);
  if (r == OK) countN(C.IP_SENT, 1); // countN: @inline, on every datagram sent
  return r;
}

