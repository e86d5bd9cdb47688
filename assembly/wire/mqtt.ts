// MQTT 3.1.1 control packets (OASIS mqtt-v3.1.1, §2 and §3): the fixed header with its
// remaining-length varint, what a client emits and the packets it receives. Every read is checked
// against the bytes at hand; the varint is at most 4 bytes (§2.2.3), the flags of each type are
// checked (§2.2.2), and a packet whose variable header does not match its length is malformed.
import { get16, put16 } from "../support/bytes";
import { WireError } from "./error";

export const CONNECT: u32 = 1;
export const CONNACK: u32 = 2;
export const PUBLISH: u32 = 3;
export const PUBACK: u32 = 4;
export const PUBREC: u32 = 5;
export const PUBREL: u32 = 6;
export const PUBCOMP: u32 = 7;
export const SUBSCRIBE: u32 = 8;
export const SUBACK: u32 = 9;
export const UNSUBSCRIBE: u32 = 10;
export const UNSUBACK: u32 = 11;
export const PINGREQ: u32 = 12;
export const PINGRESP: u32 = 13;
export const DISCONNECT: u32 = 14;

/** PUBLISH fixed-header flags (§3.3.1). */
export const DUP: u32 = 8;
export const RETAIN: u32 = 1;
/** Largest remaining length the 4-byte varint holds (§2.2.3). */
export const REMAINING_MAX: u32 = 268_435_455;
/** SUBACK return code of a refused subscription (§3.9.3). */
export const SUBACK_FAILURE: u32 = 0x80;

// CONNECT flags (§3.1.2.3).
const CF_CLEAN: u32 = 0x02;
const CF_WILL: u32 = 0x04;
const CF_WILL_RETAIN: u32 = 0x20;
const CF_PASSWORD: u32 = 0x40;
const CF_USERNAME: u32 = 0x80;

/** The fixed header parseHeader found. */
export let hdrType: u32 = 0;
export let hdrFlags: u32 = 0;
export let hdrRemaining: u32 = 0;
/** Bytes of the fixed header (2 to 5). */
export let hdrLen: u32 = 0;

/**
 * The fixed header at p (avail bytes at hand): 1 (complete: hdr* set), 0 (needs more bytes), or
 * -1 (malformed: a fifth length byte, §2.2.3, or a type 0 / 15, §2.2.1). Type-specific flag
 * checks are checkFlags'.
 */
export function parseHeader(p: usize, avail: u32): i32 {
  if (avail < 2) return 0;
  const b0 = <u32>load<u8>(p);
  let v: u32 = 0;
  for (let i: u32 = 0; i < 4; i++) {
    if (1 + i >= avail) return 0;
    const b = <u32>load<u8>(p + 1 + i);
    v |= (b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      hdrType = b0 >> 4;
      hdrFlags = b0 & 15;
      hdrRemaining = v;
      hdrLen = 2 + i;
      return hdrType == 0 || hdrType == 15 ? -1 : 1;
    }
  }
  return -1;
}

/** §2.2.2: the reserved flags of each type; a PUBLISH may not have QoS 3 (§3.3.1.2). */
export function checkFlags(type: u32, flags: u32): bool {
  if (type == PUBLISH) return (flags & 6) != 6;
  if (type == PUBREL || type == SUBSCRIBE || type == UNSUBSCRIBE) return flags == 2;
  return flags == 0;
}

/** Bytes the varint of n takes (n <= REMAINING_MAX). */
export function varintLen(n: u32): u32 {
  return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

/** A fixed header at p: returns its length. */
export function emitHeader(p: usize, byte0: u32, remaining: u32): u32 {
  store<u8>(p, <u8>byte0);
  let n: u32 = 1;
  do {
    let b = remaining & 0x7f;
    remaining >>= 7;
    if (remaining) b |= 0x80;
    store<u8>(p + n++, <u8>b);
  } while (remaining);
  return n;
}

function putString(p: usize, s: usize, len: u32): u32 {
  put16(p, len);
  memory.copy(p + 2, s, len);
  return 2 + len;
}

/** What a CONNECT carries besides the client id (§3.1.3): null pointers leave a field out. */
@unmanaged
export class ConnectFields {
  keepAlive: u32;
  clean: u32;
  willTopic: usize;
  willTopicLen: u32;
  willPayload: usize;
  willPayloadLen: u32;
  willQos: u32;
  willRetain: u32;
  /** Present when hasUsername / hasPassword (an empty string is a value, §3.1.3.4). */
  hasUsername: u32;
  username: usize;
  usernameLen: u32;
  hasPassword: u32;
  password: usize;
  passwordLen: u32;
}

function connectRem(f: ConnectFields, idLen: u32): u32 {
  let rem: u32 = 10 + 2 + idLen;
  if (f.willTopic) rem += 4 + f.willTopicLen + f.willPayloadLen;
  if (f.hasUsername) rem += 2 + f.usernameLen;
  if (f.hasPassword) rem += 2 + f.passwordLen;
  return rem;
}

/** The CONNECT packet's length for these fields and a client id of idLen bytes. */
export function connectLen(f: ConnectFields, idLen: u32): u32 {
  const rem = connectRem(f, idLen);
  return 1 + varintLen(rem) + rem;
}

/** CONNECT (§3.1) at p, protocol level 4; returns its length (connectLen's). A password without a
 *  username is the caller's to refuse (§3.1.2.9). */
export function emitConnect(p: usize, f: ConnectFields, id: usize, idLen: u32): u32 {
  let n = emitHeader(p, CONNECT << 4, connectRem(f, idLen));
  n += putString(p + n, memory.data<u8>([0x4d, 0x51, 0x54, 0x54]), 4); // "MQTT"
  store<u8>(p + n++, 4);
  let flags: u32 = f.clean ? CF_CLEAN : 0;
  if (f.willTopic) flags |= CF_WILL | ((f.willQos & 3) << 3) | (f.willRetain ? CF_WILL_RETAIN : 0);
  if (f.hasUsername) flags |= CF_USERNAME;
  if (f.hasPassword) flags |= CF_PASSWORD;
  store<u8>(p + n++, <u8>flags);
  put16(p + n, f.keepAlive);
  n += 2;
  n += putString(p + n, id, idLen);
  if (f.willTopic) {
    n += putString(p + n, f.willTopic, f.willTopicLen);
    n += putString(p + n, f.willPayload, f.willPayloadLen);
  }
  if (f.hasUsername) n += putString(p + n, f.username, f.usernameLen);
  if (f.hasPassword) n += putString(p + n, f.password, f.passwordLen);
  return n;
}

/** The PUBLISH packet's length (§3.3): a packet id only at QoS 1 and 2. */
export function publishLen(topicLen: u32, payloadLen: u32, qos: u32): u32 {
  const rem = 2 + topicLen + (qos ? 2 : 0) + payloadLen;
  return 1 + varintLen(rem) + rem;
}

export function emitPublish(p: usize, topic: usize, topicLen: u32, payload: usize, payloadLen: u32, qos: u32, retain: bool, id: u32): u32 {
  const rem = 2 + topicLen + (qos ? 2 : 0) + payloadLen;
  let n = emitHeader(p, (PUBLISH << 4) | (qos << 1) | (retain ? RETAIN : 0), rem);
  n += putString(p + n, topic, topicLen);
  if (qos) {
    put16(p + n, id);
    n += 2;
  }
  memory.copy(p + n, payload, payloadLen);
  return n + payloadLen;
}

/** PUBACK, PUBREC, PUBREL (flags 2, §3.6.1), PUBCOMP, UNSUBACK: 4 bytes. */
export function emitAck(p: usize, type: u32, id: u32): u32 {
  store<u8>(p, <u8>((type << 4) | (type == PUBREL ? 2 : 0)));
  store<u8>(p + 1, 2);
  put16(p + 2, id);
  return 4;
}

/** SUBSCRIBE (§3.8) or UNSUBSCRIBE (§3.10) of one filter. */
export function subscribeLen(filterLen: u32, unsubscribe: bool): u32 {
  const rem = 2 + 2 + filterLen + (unsubscribe ? 0 : 1);
  return 1 + varintLen(rem) + rem;
}

/** PINGREQ (§3.12) or DISCONNECT (§3.14): 2 bytes. */
export function emitEmpty(p: usize, type: u32): u32 {
  store<u8>(p, <u8>(type << 4));
  store<u8>(p + 1, 0);
  return 2;
}

/** A received packet's variable header, as parseBody found it. */
@unmanaged
export class MqttIn {
  type: u32;
  flags: u32;
  /** Packet identifier (acks, PUBLISH at QoS > 0, SUBACK). */
  id: u32;
  /** CONNACK: return code and session present; SUBACK: the (first) return code. */
  code: u32;
  sessionPresent: u32;
  qos: u32;
  topic: usize;
  topicLen: u32;
  payload: usize;
  payloadLen: u32;
}

/**
 * The packet of hdrLen + rem bytes at p (the whole packet at hand; parseHeader read its header)
 * into m. §2.2.2 flags, §3.2 CONNACK (2 bytes, reserved bits 0, codes 0 to 5), §3.3 PUBLISH (topic
 * of at least one byte without wildcards, §4.7.3; a non-zero id at QoS > 0, §2.3.1), the 2-byte
 * acks, §3.9 SUBACK (one code of 0, 1, 2 or 0x80: we subscribe one filter at a time), PINGRESP
 * (empty). A type a server never sends to a client is UNSUPPORTED; a length that does not match
 * is BAD_TOTAL_LEN; a field out of range is BAD_OP.
 */
export function parseBody(m: MqttIn, p: usize, type: u32, flags: u32, rem: u32): WireError {
  m.type = type;
  m.flags = flags;
  m.id = 0;
  m.code = 0;
  m.sessionPresent = 0;
  m.qos = 0;
  m.topicLen = 0;
  m.payloadLen = 0;
  if (!checkFlags(type, flags)) return WireError.BAD_OP;
  if (type == CONNACK) {
    if (rem != 2) return WireError.BAD_TOTAL_LEN;
    const ack = <u32>load<u8>(p);
    m.code = <u32>load<u8>(p + 1);
    if ((ack & 0xfe) != 0 || m.code > 5) return WireError.BAD_OP;
    m.sessionPresent = ack & 1;
    return WireError.OK;
  }
  if (type == PUBLISH) {
    m.qos = (flags >> 1) & 3;
    if (rem < 2) return WireError.BAD_TOTAL_LEN;
    const tl = get16(p);
    const idLen: u32 = m.qos ? 2 : 0;
    if (<u64>2 + tl + idLen > <u64>rem) return WireError.BAD_TOTAL_LEN;
    if (!validTopic(p + 2, tl)) return WireError.BAD_OP;
    m.topic = p + 2;
    m.topicLen = tl;
    if (m.qos) {
      m.id = get16(p + 2 + tl);
      if (m.id == 0) return WireError.BAD_OP;
    }
    m.payload = p + 2 + tl + idLen;
    m.payloadLen = rem - 2 - tl - idLen;
    return WireError.OK;
  }
  if (type == PUBACK || type == PUBREC || type == PUBREL || type == PUBCOMP || type == UNSUBACK) {
    if (rem != 2) return WireError.BAD_TOTAL_LEN;
    m.id = get16(p);
    return m.id == 0 ? WireError.BAD_OP : WireError.OK;
  }
  if (type == SUBACK) {
    if (rem != 3) return WireError.BAD_TOTAL_LEN;
    m.id = get16(p);
    m.code = <u32>load<u8>(p + 2);
    if (m.id == 0 || (m.code > 2 && m.code != SUBACK_FAILURE)) return WireError.BAD_OP;
    return WireError.OK;
  }
  if (type == PINGRESP) return rem == 0 ? WireError.OK : WireError.BAD_TOTAL_LEN;
  return WireError.UNSUPPORTED; // CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT (§3.14: client to server)
}

/** A topic name (§4.7.3): 1 to 65535 bytes, no wildcard ('#', '+'), no U+0000 (§1.5.3). */
export function validTopic(p: usize, len: u32): bool {
  if (len == 0 || len > 0xffff) return false;
  for (let i: u32 = 0; i < len; i++) {
    const c = load<u8>(p + i);
    if (c == 0x23 || c == 0x2b || c == 0) return false;
  }
  return true;
}

/** A topic filter we may subscribe to (§4.7.1): '#' only last and alone in its level, '+' alone
 *  in its level. */
export function validFilter(p: usize, len: u32): bool {
  if (len == 0 || len > 0xffff) return false;
  for (let i: u32 = 0; i < len; i++) {
    const c = load<u8>(p + i);
    if (c == 0) return false;
    if (c != 0x23 && c != 0x2b) continue;
    const startOk = i == 0 || load<u8>(p + i - 1) == 0x2f;
    const endOk = i + 1 == len || load<u8>(p + i + 1) == 0x2f;
    if (!startOk || !endOk || (c == 0x23 && i + 1 != len)) return false;
  }
  return true;
}
