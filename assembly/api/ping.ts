// Ping: send ICMP echo requests and time their replies (like lwIP's ping contrib).
import { FEATURE_IPV6, MTU, PING_SLOTS } from "../config";
import { now } from "../support/clock";
import { C, count } from "../support/counters";
import { EINVAL, EMSGSIZE } from "../support/errors";
import { INFO, logf } from "../support/log";
import { phy_random } from "../support/phy";
import { HEADER_LEN as ICMP_LEN, IcmpRepr, TYPE_ECHO_REQUEST } from "../wire/icmp";
import { HEADER_LEN as IP_LEN, PROTO_ICMP, isMulticastOrReserved } from "../wire/ipv4";
import { setEchoReplyHandler } from "../iface/icmp";
import { PAYLOAD_OFFSET, ipv4Output } from "../iface/ipv4";
import { txBuf } from "../iface/netif";
import { PING6_DST } from "../iface/ipv6_static";
import { PAYLOAD_OFFSET6, hopLimit, ipv6Output, sourceFor } from "../iface/ipv6";
import { TYPE_ECHO_REQUEST as TYPE_ECHO6_REQUEST, emitIcmpv6 } from "../wire/icmpv6";
import { HEADER_LEN as IP6_LEN, NH_ICMPV6, addrCopy, isUnspecified } from "../wire/ipv6";

export const PING_MAX_PAYLOAD: u32 = MTU - IP_LEN - ICMP_LEN;

// Per slot (seq % PING_SLOTS): the 16-bit seq sent, when, and the round trip (-1 = no reply yet).
const sentSeq = memory.data(PING_SLOTS * 4);
const sentAt = memory.data(PING_SLOTS * 4);
const rtt = memory.data(PING_SLOTS * 4);
const tx = changetype<IcmpRepr>(memory.data(offsetof<IcmpRepr>()));
let ident: u32 = 0;

export function pingInit(): void {
  ident = phy_random() & 0xffff;
  memory.fill(sentSeq, 0xff, PING_SLOTS * 4);
  memory.fill(rtt, 0xff, PING_SLOTS * 4);
  setEchoReplyHandler(onReply);
}

function onReply(id: u32, seq: u32, payload: usize, len: u32): bool {
  if (id != ident) return false;
  const s = <usize>(seq % PING_SLOTS) << 2;
  if (load<u32>(sentSeq + s) != seq) return false;
  if (load<i32>(rtt + s) < 0) {
    const t = now - load<u32>(sentAt + s);
    store<i32>(rtt + s, <i32>t);
    logf(INFO, "icmp: echo reply seq=%u bytes=%u time=%u ms", seq, len, t);
  }
  return true;
}

/** Writes the payload (a counting pattern the reply must bring back intact, a word at a time)
 *  and books seq's slot. */
function prepare(payload: usize, seq: u32, size: u32): void {
  let w: u32 = 0x03020100;
  for (let i: u32 = 0; i < size; i += 4) {
    store<u32>(payload + i, w);
    w += 0x04040404;
  }
  const s = <usize>(seq % PING_SLOTS) << 2;
  store<u32>(sentSeq + s, seq);
  store<u32>(sentAt + s, now);
  store<i32>(rtt + s, -1);
}

/** Sends echo request seq (low 16 bits on the wire) with size payload bytes to dst. */
export function pingSend(dst: u32, seq: u32, size: u32): i32 {
  if (size > PING_MAX_PAYLOAD) return EMSGSIZE;
  if (dst == 0 || isMulticastOrReserved(dst)) return EINVAL;
  seq &= 0xffff;
  const icmp = txBuf + PAYLOAD_OFFSET;
  prepare(icmp + ICMP_LEN, seq, size);
  tx.type = TYPE_ECHO_REQUEST;
  tx.code = 0;
  tx.ident = ident;
  tx.seq = seq;
  tx.payloadLen = size;
  tx.emit(icmp);
  logf(INFO, "icmp: echo request to %i seq=%u", dst, seq);
  const r = ipv4Output(txBuf, ICMP_LEN + size, PROTO_ICMP, dst);
  if (r == 0) count(C.ICMP_ECHO_REQUESTS_SENT);
  return r;
}

/** Round trip of the reply to seq in ms, -1 if none (yet). */
export function pingRtt(seq: u32): i32 {
  seq &= 0xffff;
  const s = <usize>(seq % PING_SLOTS) << 2;
  if (load<u32>(sentSeq + s) != seq) return -1;
  return load<i32>(rtt + s);
}

// Inside a function: a top-level memory.data would be in every image, this only in one with IPv6.
function dst6(): usize {
  return PING6_DST;
}

/** Sends ICMPv6 echo request seq with size payload bytes to the 16-byte address at dst; its
 *  round trip is read with pingRtt(seq) like an IPv4 one (one sequence space for both). */
export function ping6Send(dst: usize, seq: u32, size: u32): i32 {
  if (size > MTU - IP6_LEN - ICMP_LEN) return EMSGSIZE;
  const d = dst6();
  addrCopy(d, dst); // dst may be in the board's io buffer (rxBuf)
  if (isUnspecified(d)) return EINVAL;
  seq &= 0xffff;
  const icmp = txBuf + PAYLOAD_OFFSET6;
  prepare(icmp + ICMP_LEN, seq, size);
  const src = sourceFor(d);
  emitIcmpv6(icmp, TYPE_ECHO6_REQUEST, 0, (ident << 16) | seq, ICMP_LEN + size, src != 0 ? src : d, d);
  const r = ipv6Output(txBuf, ICMP_LEN + size, NH_ICMPV6, src, d, hopLimit);
  if (r == 0) count(C.ICMP6_ECHO_REQUESTS_SENT);
  return r;
}
