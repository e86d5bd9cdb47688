// Ping: send ICMP echo requests and time their replies (like lwIP's ping contrib).
import { MTU, PING_SLOTS } from "../config";
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

/** Sends echo request seq (low 16 bits on the wire) with size payload bytes to dst. */
export function pingSend(dst: u32, seq: u32, size: u32): i32 {
  if (size > PING_MAX_PAYLOAD) return EMSGSIZE;
  if (dst == 0 || isMulticastOrReserved(dst)) return EINVAL;
  seq &= 0xffff;
  const icmp = txBuf + PAYLOAD_OFFSET;
  // Payload: a counting pattern the reply must bring back intact, written a word at a time.
  const payload = icmp + ICMP_LEN;
  let w: u32 = 0x03020100;
  for (let i: u32 = 0; i < size; i += 4) {
    store<u32>(payload + i, w);
    w += 0x04040404;
  }
  tx.type = TYPE_ECHO_REQUEST;
  tx.code = 0;
  tx.ident = ident;
  tx.seq = seq;
  tx.payloadLen = size;
  tx.emit(icmp);
  const s = <usize>(seq % PING_SLOTS) << 2;
  store<u32>(sentSeq + s, seq);
  store<u32>(sentAt + s, now);
  store<i32>(rtt + s, -1);
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
