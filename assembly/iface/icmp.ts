// ICMP (RFC 792, RFC 1122 §3.2.2): echo replies built in place in the receive buffer, echo
// replies to our own requests handed to whoever registered for them.
import { ICMP_ECHO_BROADCAST, ICMP_ERROR_LIMIT } from "../config";
import { C, count } from "../support/counters";
import { now } from "../support/clock";
import { get16, put16 } from "../support/bytes";
import { DEBUG, logf } from "../support/log";
import { checksumAdjust } from "../wire/checksum";
import { WireError } from "../wire/error";
import { HEADER_LEN as ETH_LEN } from "../wire/ethernet";
import { HEADER_LEN as IP_LEN, PROTO_ICMP, PROTO_TCP, PROTO_UDP } from "../wire/ipv4";
import { IcmpRepr, TYPE_DEST_UNREACHABLE, TYPE_ECHO_REPLY, TYPE_ECHO_REQUEST, isError } from "../wire/icmp";
import { ipv4Output, rxHeader, rxHeaderLen, PAYLOAD_OFFSET } from "./ipv4";
import { rxBuf, txBuf } from "./netif";
import { get32 } from "../support/bytes";

/** Receives an ICMP error for a transport: (type, code, the quoted datagram, its length) -> the
 *  counter the frame ends in. */
export type IcmpErrorHandler = (type: u32, code: u32, quoted: usize, len: u32) => C;

/** One slot per transport, chosen by the quoted datagram's protocol (RFC 1122 §3.2.2: ICMP
 *  errors go to the transport that sent the datagram), set once at init: no allocation. ICMPv6
 *  (iface/icmpv6.ts) hands its errors to the same handlers, which tell the families apart by the
 *  quoted header's version. */
export let udpErrorHandler: IcmpErrorHandler | null = null;
export let tcpErrorHandler: IcmpErrorHandler | null = null;

/** Registers h for errors about datagrams of proto (PROTO_UDP or PROTO_TCP). */
export function setIcmpErrorHandler(proto: u32, h: IcmpErrorHandler | null): void {
  if (proto == PROTO_TCP) tcpErrorHandler = h;
  else udpErrorHandler = h;
}

const tx = changetype<IcmpRepr>(memory.data(offsetof<IcmpRepr>()));
let limitSecond: u32 = 0;
let limitCount: u32 = 0;

/**
 * Destination unreachable (RFC 792, RFC 1122 §3.2.2.1) about the datagram being delivered:
 * its IP header and first 8 payload bytes, back to its source. The caller has checked it was not
 * sent to a broadcast address; ICMP errors are never sent about ICMP errors (UDP callers only).
 * At most ICMP_ERROR_LIMIT a second.
 */
export function icmpUnreachable(code: u32): void {
  if (rxHeader == 0) return;
  if (now - limitSecond >= 1000) {
    limitSecond = now;
    limitCount = 0;
  }
  if (limitCount >= ICMP_ERROR_LIMIT) {
    count(C.ICMP_ERRORS_LIMITED);
    return;
  }
  limitCount++;
  const src = get32(rxHeader + 12);
  const quoted = rxHeaderLen + 8;
  const out = txBuf + PAYLOAD_OFFSET;
  memory.copy(out + 8, rxHeader, quoted);
  tx.type = TYPE_DEST_UNREACHABLE;
  tx.code = code;
  tx.ident = 0;
  tx.seq = 0;
  tx.payloadLen = quoted;
  tx.emit(out);
  count(C.ICMP_PORT_UNREACHABLE_SENT);
  ipv4Output(txBuf, 8 + quoted, PROTO_ICMP, src);
}

const rx = changetype<IcmpRepr>(memory.data(offsetof<IcmpRepr>()));

/** Receives echo replies: (identifier, sequence, payload, payload length) -> true if it was ours;
 *  ICMPv6's too (payload 0). */
export let echoReplyHandler: ((ident: u32, seq: u32, payload: usize, len: u32) => bool) | null = null;

export function setEchoReplyHandler(h: ((ident: u32, seq: u32, payload: usize, len: u32) => bool) | null): void {
  echoReplyHandler = h;
}

/** The ICMP message at p (len bytes) of a datagram received in rxBuf with an IP header of ihl. */
export function icmpInput(p: usize, len: u32, ihl: u32, src: u32, toBroadcast: bool): C {
  const err = rx.parse(p, len);
  if (err == WireError.TRUNCATED) return C.ICMP_TRUNCATED;
  if (err != WireError.OK) return C.ICMP_BAD_CHECKSUM;
  const type = rx.type;
  if (type == TYPE_ECHO_REQUEST) {
    if (toBroadcast && !ICMP_ECHO_BROADCAST) return C.ICMP_ECHO_BROADCAST_IGNORED;
    logf(DEBUG, "icmp: echo request from %i seq=%u len=%u", src, rx.seq, len);
    // Reply in place: identifier, sequence and payload stay as they are (RFC 792).
    const out = rxBuf + ETH_LEN + IP_LEN;
    if (ihl != IP_LEN) memory.copy(out, p, len); // drop the request's IP options
    store<u8>(out, <u8>TYPE_ECHO_REPLY);
    put16(out + 2, checksumAdjust(get16(out + 2), (TYPE_ECHO_REQUEST << 8) | rx.code, (TYPE_ECHO_REPLY << 8) | rx.code));
    return ipv4Output(rxBuf, len, PROTO_ICMP, src) < 0 ? C.ICMP_ECHO_REPLY_FAILED : C.ICMP_ECHO_ANSWERED;
  }
  if (type == TYPE_ECHO_REPLY) {
    const h = echoReplyHandler;
    if (h && h(rx.ident, rx.seq, p + 8, rx.payloadLen)) return C.ICMP_ECHO_REPLY_RECEIVED;
    return C.ICMP_ECHO_REPLY_UNMATCHED;
  }
  if (isError(type)) {
    // The quoted datagram: at least a 20-byte IP header and 8 bytes of its payload (RFC 792).
    if (rx.payloadLen < 28) return C.ICMP_ERROR_RECEIVED;
    const proto = <u32>load<u8>(p, 8 + 9);
    const h = proto == PROTO_TCP ? tcpErrorHandler : proto == PROTO_UDP ? udpErrorHandler : null;
    if (h) return h(type, rx.code, p + 8, rx.payloadLen);
    return C.ICMP_ERROR_RECEIVED;
  }
  return C.ICMP_UNKNOWN_TYPE;
}
