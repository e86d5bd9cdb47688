// The MQTT 3.1.1 client: one connection to a broker over the core's own TCP API, non-blocking,
// run on every turn of the app loop (app.ts) and by poll()'s timers (index.ts), in static memory.
//
//   mqttConnect(ip, port, fields, id, idLen)  // starts; reconnects with backoff until mqttDisconnect
//   mqttOnMessage((topic, topicLen, payload, payloadLen, flags) => ...)   // flags: qos | retain << 2 | dup << 3
//   mqttOnEvent((event, id, code) => ...)     // MQTT_EV_*; without a handler they queue for mqttEvent()
//   mqttPublish(topic, tl, payload, pl, qos, retain)   // 0 (QoS 0) or the packet id; ENOBUFS when full
//   mqttSubscribe(filter, len, qos) / mqttUnsubscribe(filter, len)  // the packet id; SUBACK as an event
//
// QoS 1 and 2 messages wait in MQTT_INFLIGHT slots, each the encoded PUBLISH, from mqttPublish
// until PUBACK / PUBCOMP: the in-flight window and the queue at once (sent in order when the
// connection has room). When a connection ends, every slot not completed is sent again on the
// next one, PUBLISH with DUP set, PUBREL as it was (§4.4). Incoming QoS 2 follows §4.3.3's method
// B: delivered at once, its id kept until PUBREL so a re-sent PUBLISH is acknowledged only.
// A received packet is read whole into an MQTT_RX_BUF buffer; without a message handler it stays
// there until the board takes it (mqttMessageDone), and nothing more is read meanwhile (TCP's
// window holds the broker back). Every packet is checked (wire/mqtt.ts); a malformed one closes
// the connection and counts (mqtt_malformed), never traps.
import {
  FEATURE_MQTT, MQTT_CONNECT_MAX, MQTT_CONNECT_TIMEOUT_MS, MQTT_EVENTS, MQTT_INFLIGHT, MQTT_MSG_MAX, MQTT_QOS2_RX_MAX,
  MQTT_RECONNECT_MAX_MS, MQTT_RECONNECT_MIN_MS, MQTT_RX_BUF,
} from "../config";
import { due, elapsed, now, until } from "../support/clock";
import { C, count } from "../support/counters";
import {
  ECONNREFUSED, ECONNRESET, EINVAL, EMSGSIZE, ENOBUFS, ENOTCONN, ETIMEDOUT, EWOULDBLOCK, OK,
} from "../support/errors";
import { phy_random } from "../support/phy";
import { get16 } from "../support/bytes";
import { WireError } from "../wire/error";
import {
  CONNACK, ConnectFields, DUP, MqttIn, PINGREQ, PINGRESP, PUBACK, PUBCOMP, PUBLISH, PUBREC, PUBREL, SUBACK, SUBSCRIBE,
  UNSUBACK, UNSUBSCRIBE, DISCONNECT, checkFlags, connectLen, emitAck, emitConnect, emitEmpty, emitHeader, emitPublish, hdrLen, hdrRemaining,
  hdrType, hdrFlags, parseBody, parseHeader, publishLen, subscribeLen, validFilter, validTopic,
} from "../wire/mqtt";
import {
  EV_CONNECTED, EV_CLOSED, EV_ERROR, tcpAbort, tcpClose, tcpConnect, tcpEvents, tcpFlushOutput, tcpHoldOutput, tcpHolding, tcpRecv,
  tcpSend, tcpSendSpace, tcpSocket,
} from "../api/tcp";

// Client states (mqtt_state); a stopped client with an error reads as that error (< 0).
export const MQTT_IDLE: i32 = 0;
export const MQTT_CONNECTING: i32 = 1; // TCP handshake
export const MQTT_WAIT_CONNACK: i32 = 2;
export const MQTT_CONNECTED: i32 = 3;
export const MQTT_BACKOFF: i32 = 4; // waiting to reconnect

// Events (mqtt_event, mqttOnEvent).
export const MQTT_EV_CONNECTED: u32 = 1; // code: session present (0/1)
export const MQTT_EV_CLOSED: u32 = 2; // code: why (0 after mqttDisconnect, else a WASMIP_E*)
export const MQTT_EV_PUBLISHED: u32 = 3; // id: a QoS 1/2 message completed (PUBACK / PUBCOMP)
export const MQTT_EV_SUBACK: u32 = 4; // id; code: the granted QoS, or 0x80 (refused)
export const MQTT_EV_UNSUBACK: u32 = 5; // id

// Message flags (handler, mqtt_message).
export const MQTT_MSG_RETAIN: u32 = 4;
export const MQTT_MSG_DUP: u32 = 8;

// In-flight slot states.
const FREE: u32 = 0;
const QUEUED: u32 = 1; // PUBLISH to send (first time, or again with DUP)
const WAIT_PUBACK: u32 = 2;
const WAIT_PUBREC: u32 = 3;
const QUEUED_PUBREL: u32 = 4; // PUBREL to send (again)
const WAIT_PUBCOMP: u32 = 5;

@unmanaged
class Slot {
  state: u32;
  id: u32;
  seq: u32;
  len: u32;
  /** Set when the connection it was sent on ended: the next sending is a retransmission. */
  again: u32;
}

// One static area, carved up below; none in a build without the client (this file is imported by
// every image: it must cost the others nothing).
const SLOT_SIZE = offsetof<Slot>();
const AT_SLOT_BUFS: usize = <usize>SLOT_SIZE * MQTT_INFLIGHT;
const AT_CONNECT: usize = AT_SLOT_BUFS + <usize>MQTT_MSG_MAX * MQTT_INFLIGHT;
const AT_RX: usize = AT_CONNECT + ((<usize>MQTT_CONNECT_MAX + 3) & ~3);
const AT_QOS2: usize = AT_RX + ((<usize>MQTT_RX_BUF + 3) & ~3);
const AT_EVENTS: usize = AT_QOS2 + ((2 * <usize>MQTT_QOS2_RX_MAX + 3) & ~3);
const AT_SCRATCH: usize = AT_EVENTS + 8 * <usize>MQTT_EVENTS;
const AT_IN: usize = AT_SCRATCH + 16;
const AT_FIELDS: usize = AT_IN + offsetof<MqttIn>();
const AREA: i32 = <i32>(AT_FIELDS + offsetof<ConnectFields>());
const area: usize = FEATURE_MQTT ? memory.data(AREA, 4) : 0;
const slots = area;
const slotBufs = area + AT_SLOT_BUFS;
const connectPkt = area + AT_CONNECT;
const rx = area + AT_RX;
const qos2Ids = area + AT_QOS2;
const events = area + AT_EVENTS;
const scratch = area + AT_SCRATCH;
const inPkt = changetype<MqttIn>(area + AT_IN);
/** Where the exports build mqttConnect's fields from the board's configuration block. */
export const mqttFields = changetype<ConnectFields>(area + AT_FIELDS);
/** Bytes of static memory the client takes (the report's figure). */
export const MQTT_STATIC_BYTES: u32 = <u32>AREA;

let state: i32 = MQTT_IDLE;
let lastError: i32 = 0;
let connackCode: u32 = 0;
let fd: i32 = -1;
let brokerIp: u32 = 0;
let brokerPort: u32 = 0;
let connectPktLen: u32 = 0;
let cleanSession = false;
let keepAliveMs: u32 = 0;
let deadline: u32 = 0; // connect timeout, or the next reconnect
let backoff: u32 = MQTT_RECONNECT_MIN_MS;
let lastSent: u32 = 0;
let pingSentAt: u32 = 0;
let pingOutstanding = false;
let rxLen: u32 = 0;
let skip: u32 = 0; // bytes of an over-long PUBLISH still to discard
let msgPending = false; // a PUBLISH waits in rx for the board (mqttMessageDone)
let msgTotal: u32 = 0;
let nextId: u32 = 0;
let seqNext: u32 = 0;
let evHead: u32 = 0;
let evCount: u32 = 0;

let messageHandler: ((topic: usize, topicLen: u32, payload: usize, payloadLen: u32, flags: u32) => void) | null = null;
let eventHandler: ((event: u32, id: u32, code: i32) => void) | null = null;

// @ts-ignore: decorator
@inline function slot(i: i32): Slot {
  return changetype<Slot>(slots + <usize>i * SLOT_SIZE);
}
// @ts-ignore: decorator
@inline function slotBuf(i: i32): usize {
  return slotBufs + <usize>i * MQTT_MSG_MAX;
}

/** Forget everything (init: the TCP sockets are gone too). */
export function mqttInit(): void {
  memory.fill(slots, 0, <usize>SLOT_SIZE * MQTT_INFLIGHT);
  memory.fill(qos2Ids, 0, 2 * MQTT_QOS2_RX_MAX);
  state = MQTT_IDLE;
  lastError = 0;
  fd = -1;
  rxLen = 0;
  skip = 0;
  msgPending = false;
  evHead = 0;
  evCount = 0;
  nextId = 0;
  seqNext = 0;
}

// Called by the board outside the app's turn, an entry point holds TCP output while it writes
// (a packet in pieces, several packets) so that it leaves in whole segments, not split by Nagle.
// hold() returns whether it started holding (nested calls do not), for release().
function hold(): bool {
  if (tcpHolding()) return false;
  tcpHoldOutput();
  return true;
}
function release(held: bool): void {
  if (held) tcpFlushOutput();
}

export function mqttOnMessage(h: ((topic: usize, topicLen: u32, payload: usize, payloadLen: u32, flags: u32) => void) | null): void {
  messageHandler = h;
}

export function mqttOnEvent(h: ((event: u32, id: u32, code: i32) => void) | null): void {
  eventHandler = h;
}

function emit(ev: u32, id: u32, code: i32): void {
  const h = eventHandler;
  if (h) {
    h(ev, id, code);
    return;
  }
  if (evCount == <u32>MQTT_EVENTS) {
    count(C.MQTT_EVENTS_LOST);
    evHead = (evHead + 1) % <u32>MQTT_EVENTS;
    evCount--;
  }
  const e = events + <usize>((evHead + evCount) % <u32>MQTT_EVENTS) * 8;
  store<u32>(e, ev | (id << 16));
  store<i32>(e, code, 4);
  evCount++;
}

/** The oldest queued event into out (type, id, code: 3 x u32); 0 when there is none. */
export function mqttEvent(out: usize): i32 {
  if (evCount == 0) return 0;
  const e = events + <usize>evHead * 8;
  const w = load<u32>(e);
  store<u32>(out, w & 0xffff);
  store<u32>(out, w >> 16, 4);
  store<i32>(out, load<i32>(e, 4), 8);
  evHead = (evHead + 1) % <u32>MQTT_EVENTS;
  evCount--;
  return 1;
}

/** MQTT_IDLE ... MQTT_BACKOFF, or the error that stopped the client (ECONNREFUSED: see mqttConnack). */
export function mqttState(): i32 {
  return state == MQTT_IDLE && lastError < 0 ? lastError : state;
}

/** The last CONNACK's return code (§3.2.2.3: 1 bad protocol, 2 identifier rejected, 3 server
 *  unavailable, 4 bad user name or password, 5 not authorized). */
export function mqttConnack(): u32 {
  return connackCode;
}

// ---- connecting --------------------------------------------------------------------------------

/**
 * Connect to the broker at ip:port as client id[0..idLen) with f's keep-alive (seconds), clean
 * session, will and credentials, and stay connected: after the broker goes away the client
 * reconnects with backoff until mqttDisconnect. 0, or EINVAL (running already, or a field
 * invalid: §3.1.2.9 a password needs a user name, §3.1.3.1 an empty id needs a clean session),
 * EMSGSIZE (the CONNECT is longer than MQTT_CONNECT_MAX).
 */
export function mqttConnect(ip: u32, port: u32, f: ConnectFields, id: usize, idLen: u32): i32 {
  if (state != MQTT_IDLE) return EINVAL;
  if (ip == 0 || port == 0 || port > 0xffff || f.keepAlive > 0xffff || f.willQos > 2) return EINVAL;
  if (f.hasPassword && !f.hasUsername) return EINVAL;
  if (idLen == 0 && !f.clean) return EINVAL;
  if (f.willTopic && !validTopic(f.willTopic, f.willTopicLen)) return EINVAL;
  if (idLen > MQTT_CONNECT_MAX || f.willTopicLen > MQTT_CONNECT_MAX || f.willPayloadLen > MQTT_CONNECT_MAX ||
      f.usernameLen > MQTT_CONNECT_MAX || f.passwordLen > MQTT_CONNECT_MAX) return EMSGSIZE;
  if (connectLen(f, idLen) > MQTT_CONNECT_MAX) return EMSGSIZE;
  connectPktLen = emitConnect(connectPkt, f, id, idLen);
  brokerIp = ip;
  brokerPort = port;
  keepAliveMs = f.keepAlive * 1000;
  cleanSession = f.clean != 0;
  // §3.1.2.4: a clean session starts from nothing, on the server and here.
  if (cleanSession) {
    memory.fill(slots, 0, <usize>SLOT_SIZE * MQTT_INFLIGHT);
    memory.fill(qos2Ids, 0, 2 * MQTT_QOS2_RX_MAX);
  }
  lastError = 0;
  connackCode = 0;
  backoff = MQTT_RECONNECT_MIN_MS;
  attempt();
  return OK;
}

function attempt(): void {
  deadline = now + MQTT_CONNECT_TIMEOUT_MS;
  state = MQTT_CONNECTING;
  fd = tcpSocket();
  if (fd < 0) {
    lost(ENOBUFS, false);
    return;
  }
  const r = tcpConnect(fd, brokerIp, brokerPort);
  if (r < 0) lost(r, false);
}

/** The connection (or the attempt) ended with err: close it, then stop or try again later. */
function lost(err: i32, stop: bool): void {
  if (fd >= 0) {
    if (err == OK) tcpClose(fd);
    else tcpAbort(fd);
    fd = -1;
  }
  pingOutstanding = false;
  skip = 0;
  rxLen = msgPending ? msgTotal : 0; // a message the board has not taken yet stays
  // What was in flight goes again on the next connection (§4.4).
  for (let i = 0; i < MQTT_INFLIGHT; i++) {
    const s = slot(i);
    if (s.state == WAIT_PUBACK || s.state == WAIT_PUBREC) {
      s.state = QUEUED;
      s.again = 1;
      store<u8>(slotBuf(i), load<u8>(slotBuf(i)) | <u8>DUP);
    } else if (s.state == WAIT_PUBCOMP) {
      s.state = QUEUED_PUBREL;
      s.again = 1;
    }
  }
  if (stop) {
    state = MQTT_IDLE;
    lastError = err;
  } else {
    state = MQTT_BACKOFF;
    deadline = now + backoff + phy_random() % (backoff / 4 + 1);
    backoff = backoff >= MQTT_RECONNECT_MAX_MS / 2 ? MQTT_RECONNECT_MAX_MS : backoff * 2;
  }
  emit(MQTT_EV_CLOSED, 0, err);
}

/** Send DISCONNECT (§3.14: the will is not published) and stop. The in-flight messages stay for
 *  the next mqttConnect without a clean session. */
export function mqttDisconnect(): i32 {
  if (state == MQTT_IDLE) return ENOTCONN;
  if (state == MQTT_CONNECTED && tcpSendSpace(fd) >= 2) tcpSend(fd, scratch, emitEmpty(scratch, DISCONNECT));
  lost(OK, true);
  return OK;
}

// ---- sending -----------------------------------------------------------------------------------

/** The whole of len bytes at p, or ENOBUFS (nothing sent) when the send buffer lacks room. */
function sendRaw(p: usize, len: u32): i32 {
  if (fd < 0 || tcpSendSpace(fd) < len) return ENOBUFS;
  tcpSend(fd, p, len);
  lastSent = now;
  return OK;
}

function idInUse(id: u32): bool {
  for (let i = 0; i < MQTT_INFLIGHT; i++) if (slot(i).state != FREE && slot(i).id == id) return true;
  return false;
}

/** A packet id no in-flight message holds (§2.3.1), 1 to 65535. */
function newId(): u32 {
  do nextId = nextId >= 0xffff ? 1 : nextId + 1;
  while (idInUse(nextId));
  return nextId;
}

/** Send what waits in the slots, oldest first, while the connection has room (§4.6: in order). */
function flushQueued(): void {
  while (state == MQTT_CONNECTED) {
    let best = -1;
    for (let i = 0; i < MQTT_INFLIGHT; i++) {
      const st = slot(i).state;
      if ((st == QUEUED || st == QUEUED_PUBREL) && (best < 0 || <i32>(slot(i).seq - slot(best).seq) < 0)) best = i;
    }
    if (best < 0) return;
    const s = slot(best);
    const b = slotBuf(best);
    if (s.state == QUEUED_PUBREL) {
      if (sendRaw(scratch, emitAck(scratch, PUBREL, s.id)) < 0) return;
      s.state = WAIT_PUBCOMP;
    } else {
      if (sendRaw(b, s.len) < 0) return;
      s.state = ((<u32>load<u8>(b) >> 1) & 3) == 1 ? WAIT_PUBACK : WAIT_PUBREC;
    }
    if (s.again) count(C.MQTT_RETRANSMITS);
    s.again = 0;
  }
}

/**
 * Publish payload[0..pl) to topic[0..tl). QoS 0: sent now or not at all (ENOTCONN while not
 * connected, ENOBUFS when the send buffer is full); returns 0. QoS 1/2: kept in a slot until
 * acknowledged, also while disconnected; returns the packet id (MQTT_EV_PUBLISHED with it when
 * done), or ENOBUFS (every slot taken). EINVAL: a topic with wildcards or empty, QoS > 2, or the
 * client was never started; EMSGSIZE: the packet is longer than MQTT_MSG_MAX.
 */
export function mqttPublish(topic: usize, tl: u32, payload: usize, pl: u32, qos: u32, retain: bool): i32 {
  const h = hold();
  const r = publish(topic, tl, payload, pl, qos, retain);
  release(h);
  return r;
}

function publish(topic: usize, tl: u32, payload: usize, pl: u32, qos: u32, retain: bool): i32 {
  if (qos > 2 || !validTopic(topic, tl)) return EINVAL;
  if (state == MQTT_IDLE) return ENOTCONN;
  if (tl > MQTT_MSG_MAX || pl > MQTT_MSG_MAX || publishLen(tl, pl, qos) > MQTT_MSG_MAX) return EMSGSIZE;
  if (qos == 0) {
    if (state != MQTT_CONNECTED) return ENOTCONN;
    if (tcpSendSpace(fd) < publishLen(tl, pl, 0)) return ENOBUFS;
    // In three writes: no copy of the payload (held output leaves as one segment).
    let n = emitHeader(scratch, (PUBLISH << 4) | (retain ? 1 : 0), 2 + tl + pl);
    store<u8>(scratch + n++, <u8>(tl >> 8));
    store<u8>(scratch + n++, <u8>tl);
    sendRaw(scratch, n);
    sendRaw(topic, tl);
    sendRaw(payload, pl);
    return 0;
  }
  let free = -1;
  for (let i = 0; i < MQTT_INFLIGHT && free < 0; i++) if (slot(i).state == FREE) free = i;
  if (free < 0) return ENOBUFS;
  const s = slot(free);
  s.id = newId();
  s.seq = seqNext++;
  s.len = emitPublish(slotBuf(free), topic, tl, payload, pl, qos, retain, s.id);
  s.state = QUEUED;
  s.again = 0;
  flushQueued();
  return <i32>s.id;
}

/** SUBSCRIBE (qos 0..2) or, qos < 0, UNSUBSCRIBE of one filter: the packet id (the answer comes as
 *  MQTT_EV_SUBACK / MQTT_EV_UNSUBACK), ENOTCONN, EINVAL (not a valid filter, §4.7.1), EMSGSIZE, or
 *  ENOBUFS (the send buffer is full). Not kept across a reconnect: subscribe again on
 *  MQTT_EV_CONNECTED when the session is not present. */
function subscribeOrNot(filter: usize, len: u32, qos: i32): i32 {
  if (qos > 2 || !validFilter(filter, len)) return EINVAL;
  if (state != MQTT_CONNECTED) return ENOTCONN;
  if (len > MQTT_MSG_MAX) return EMSGSIZE;
  if (tcpSendSpace(fd) < subscribeLen(len, qos < 0)) return ENOBUFS;
  const id = newId();
  let n = emitHeader(scratch, ((qos < 0 ? UNSUBSCRIBE : SUBSCRIBE) << 4) | 2, 4 + len + (qos < 0 ? 0 : 1));
  store<u8>(scratch + n++, <u8>(id >> 8));
  store<u8>(scratch + n++, <u8>id);
  store<u8>(scratch + n++, <u8>(len >> 8));
  store<u8>(scratch + n++, <u8>len);
  sendRaw(scratch, n);
  sendRaw(filter, len);
  if (qos >= 0) {
    store<u8>(scratch, <u8>qos);
    sendRaw(scratch, 1);
  }
  return <i32>id;
}

export function mqttSubscribe(filter: usize, len: u32, qos: u32): i32 {
  const h = hold();
  const r = subscribeOrNot(filter, len, qos > 2 ? 3 : <i32>qos);
  release(h);
  return r;
}

export function mqttUnsubscribe(filter: usize, len: u32): i32 {
  const h = hold();
  const r = subscribeOrNot(filter, len, -1);
  release(h);
  return r;
}

// ---- receiving ---------------------------------------------------------------------------------

function qos2Find(id: u32): i32 {
  for (let i = 0; i < MQTT_QOS2_RX_MAX; i++) if (<u32>load<u16>(qos2Ids + (<usize>i << 1)) == id) return i;
  return -1;
}

/** The PUBLISH in inPkt: acknowledge it (§4.3) and tell whether to deliver it (false: a QoS 2
 *  duplicate). ENOBUFS: no room to remember a QoS 2 id. */
function acceptPublish(): i32 {
  const m = inPkt;
  if (m.qos == 1) sendRaw(scratch, emitAck(scratch, PUBACK, m.id));
  if (m.qos != 2) return 1;
  // §4.3.3 method B: the id is remembered from PUBREC until PUBREL; a re-sent PUBLISH is not new.
  let deliver = 0;
  if (qos2Find(m.id) < 0) {
    const k = qos2Find(0);
    if (k < 0) return ENOBUFS;
    store<u16>(qos2Ids + (<usize>k << 1), <u16>m.id);
    deliver = 1;
  }
  sendRaw(scratch, emitAck(scratch, PUBREC, m.id));
  return deliver;
}

function findSlot(id: u32, st: u32): i32 {
  for (let i = 0; i < MQTT_INFLIGHT; i++) if (slot(i).state == st && slot(i).id == id) return i;
  return -1;
}

function completed(i: i32): void {
  slot(i).state = FREE;
  emit(MQTT_EV_PUBLISHED, slot(i).id, 0);
}

/** Protocol violation: count it and drop the connection (§4.8: the client closes it). */
function violation(c: C): void {
  count(c);
  lost(ECONNRESET, false);
}

/** One whole packet at rx (hdr* set). Returns false while it must stay in rx (a message waiting
 *  for the board), true once consumed. */
function packet(): bool {
  const m = inPkt;
  const e = parseBody(m, rx + hdrLen, hdrType, hdrFlags, hdrRemaining);
  if (e == WireError.UNSUPPORTED) {
    violation(C.MQTT_UNEXPECTED);
    return true;
  }
  if (e != WireError.OK) {
    violation(C.MQTT_MALFORMED);
    return true;
  }
  // §3.2: the first packet from the server is CONNACK, and only the first.
  if ((state == MQTT_WAIT_CONNACK) != (m.type == CONNACK)) {
    violation(C.MQTT_UNEXPECTED);
    return true;
  }
  const t = m.type;
  if (t == CONNACK) {
    connackCode = m.code;
    if (m.code != 0) {
      // Only "server unavailable" may pass; the others need a change on our side.
      lost(ECONNREFUSED, m.code != 3);
      return true;
    }
    state = MQTT_CONNECTED;
    backoff = MQTT_RECONNECT_MIN_MS;
    pingOutstanding = false;
    lastSent = now;
    // §3.2.2.2: without a session on the server, the QoS 2 ids it might re-send are none.
    if (!m.sessionPresent) memory.fill(qos2Ids, 0, 2 * MQTT_QOS2_RX_MAX);
    emit(MQTT_EV_CONNECTED, 0, m.sessionPresent);
    flushQueued();
    return true;
  }
  if (t == PUBLISH) {
    const a = acceptPublish();
    if (a < 0) {
      lost(a, false);
      return true;
    }
    if (a == 0) return true;
    const flags = m.qos | ((m.flags & 1) ? MQTT_MSG_RETAIN : 0) | ((m.flags & DUP) ? MQTT_MSG_DUP : 0);
    const h = messageHandler;
    if (h) {
      h(m.topic, m.topicLen, m.payload, m.payloadLen, flags);
      return true;
    }
    m.flags = flags;
    msgPending = true;
    msgTotal = hdrLen + hdrRemaining;
    return false;
  }
  if (t == PUBACK) {
    const i = findSlot(m.id, WAIT_PUBACK);
    if (i < 0) count(C.MQTT_UNEXPECTED);
    else completed(i);
  } else if (t == PUBREC) {
    let i = findSlot(m.id, WAIT_PUBREC);
    if (i < 0) i = findSlot(m.id, WAIT_PUBCOMP); // a PUBREC again: our PUBREL again
    if (i < 0) {
      count(C.MQTT_UNEXPECTED);
    } else {
      slot(i).state = QUEUED_PUBREL;
      flushQueued();
    }
  } else if (t == PUBREL) {
    const k = qos2Find(m.id);
    if (k >= 0) store<u16>(qos2Ids + (<usize>k << 1), 0);
    sendRaw(scratch, emitAck(scratch, PUBCOMP, m.id)); // also for an id we do not know (§4.3.3)
  } else if (t == PUBCOMP) {
    const i = findSlot(m.id, WAIT_PUBCOMP);
    if (i < 0) count(C.MQTT_UNEXPECTED);
    else completed(i);
  } else if (t == SUBACK) {
    emit(MQTT_EV_SUBACK, m.id, m.code);
  } else if (t == UNSUBACK) {
    emit(MQTT_EV_UNSUBACK, m.id, 0);
  } else if (t == PINGRESP) {
    pingOutstanding = false;
  }
  return true;
}

function consume(n: u32): void {
  rxLen -= n;
  if (rxLen) memory.copy(rx, rx + n, rxLen);
}

/** A PUBLISH longer than MQTT_RX_BUF, its start at rx: acknowledged from its variable header, then
 *  discarded. false while that header is not all here yet. */
function tooLong(): bool {
  if (hdrType != PUBLISH || !checkFlags(PUBLISH, hdrFlags)) {
    violation(C.MQTT_MALFORMED); // nothing else a server sends is this long
    return true;
  }
  const qos = (hdrFlags >> 1) & 3;
  if (rxLen < hdrLen + 2) return false;
  const need = hdrLen + 2 + get16(rx + hdrLen) + (qos ? 2 : 0);
  if (need > MQTT_RX_BUF) {
    violation(C.MQTT_TOO_LONG); // not even its packet id fits: it cannot be acknowledged
    return true;
  }
  if (rxLen < need) return false;
  count(C.MQTT_TOO_LONG);
  inPkt.qos = qos;
  inPkt.id = get16(rx + need - 2);
  if (qos && inPkt.id == 0) {
    violation(C.MQTT_MALFORMED);
    return true;
  }
  const a = acceptPublish();
  if (a < 0) {
    lost(a, false);
    return true;
  }
  skip = hdrLen + hdrRemaining - rxLen;
  rxLen = 0;
  return true;
}

/** Read and handle whole packets while the connection lasts and the board keeps up. */
function receive(): void {
  while (state == MQTT_WAIT_CONNACK || state == MQTT_CONNECTED) {
    if (msgPending) return;
    if (skip == 0 && rxLen > 0) {
      const h = parseHeader(rx, rxLen);
      if (h < 0) {
        violation(C.MQTT_MALFORMED);
        return;
      }
      if (h > 0) {
        const total = hdrLen + hdrRemaining;
        // Room for the acks a packet may cause (4 bytes): else read nothing more for now.
        if (tcpSendSpace(fd) < 8) return;
        if (total <= rxLen) {
          // A packet that ended the connection has had rx reset with it.
          if (packet() && (state == MQTT_WAIT_CONNACK || state == MQTT_CONNECTED)) consume(total);
          continue;
        }
        if (total > MQTT_RX_BUF) {
          if (tooLong()) continue;
        }
      }
    }
    const room = skip > 0 ? (skip < MQTT_RX_BUF ? skip : MQTT_RX_BUF) : MQTT_RX_BUF - rxLen;
    const n = tcpRecv(fd, skip > 0 ? rx : rx + rxLen, room);
    if (n == EWOULDBLOCK) return;
    if (n <= 0) {
      lost(n == 0 ? ECONNRESET : n, false); // the broker closed (FIN), or the connection failed
      return;
    }
    if (skip > 0) skip -= <u32>n;
    else rxLen += <u32>n;
  }
}

/** The client's turn (app.ts, after every input() and poll()). */
export function mqttRun(): void {
  if (state == MQTT_IDLE) return;
  if (state == MQTT_BACKOFF) {
    if (!due(deadline)) return;
    attempt();
  }
  if (state == MQTT_CONNECTING) {
    const ev = tcpEvents(fd);
    if (ev & EV_CONNECTED) {
      state = MQTT_WAIT_CONNACK;
      sendRaw(connectPkt, connectPktLen);
    } else {
      if (ev & (EV_ERROR | EV_CLOSED)) {
        const r = tcpRecv(fd, scratch, 1); // the connection's error
        lost(r < 0 && r != EWOULDBLOCK ? r : ECONNREFUSED, false);
      } else if (due(deadline)) lost(ETIMEDOUT, false);
      return;
    }
  }
  receive();
  if (state == MQTT_WAIT_CONNACK && due(deadline)) lost(ETIMEDOUT, false);
  if (state != MQTT_CONNECTED) return;
  // §3.1.2.10: a control packet at least every keep-alive (the server waits 1.5 times that before
  // it drops us); PINGREQ when there was none. No PINGRESP within another keep-alive: the broker
  // (or the path) is gone.
  if (keepAliveMs) {
    if (pingOutstanding) {
      if (elapsed(pingSentAt) >= keepAliveMs) {
        count(C.MQTT_PING_TIMEOUTS);
        lost(ETIMEDOUT, false);
        return;
      }
    } else if (elapsed(lastSent) >= keepAliveMs && sendRaw(scratch, emitEmpty(scratch, PINGREQ)) == OK) {
      pingOutstanding = true;
      pingSentAt = now;
    }
  }
  flushQueued();
}

/** Milliseconds until the client's next timer (poll's sleep), 0xffffffff with none. Called after
 *  mqttRun, so a timer still due is a PINGREQ that found the send buffer full: try again soon, not
 *  at once (poll() returning 0 would spin). */
export function mqttNextTimer(): u32 {
  let t: u32 = 0xffffffff;
  if (state == MQTT_BACKOFF || state == MQTT_CONNECTING || state == MQTT_WAIT_CONNACK) t = until(deadline);
  else if (state == MQTT_CONNECTED && keepAliveMs != 0) t = until((pingOutstanding ? pingSentAt : lastSent) + keepAliveMs);
  return t < 10 ? 10 : t;
}

// ---- the message waiting for the board (no message handler) -------------------------------------

/** The PUBLISH waiting in the receive buffer into out (topic ptr, topic len, payload ptr,
 *  payload len, flags: 5 x u32); 0 when there is none. */
export function mqttMessage(out: usize): i32 {
  if (!msgPending) return 0;
  const m = inPkt;
  store<u32>(out, <u32>m.topic);
  store<u32>(out, m.topicLen, 4);
  store<u32>(out, <u32>m.payload, 8);
  store<u32>(out, m.payloadLen, 12);
  store<u32>(out, m.flags, 16);
  return 1;
}

/** The board has taken the message: its bytes go, the next packets are read. */
export function mqttMessageDone(): i32 {
  if (!msgPending) return EINVAL;
  msgPending = false;
  consume(msgTotal);
  const h = hold();
  mqttRun();
  release(h);
  return OK;
}

/** QoS 1/2 messages not yet completed (in flight or queued). */
export function mqttInflight(): u32 {
  let n: u32 = 0;
  for (let i = 0; i < MQTT_INFLIGHT; i++) if (slot(i).state != FREE) n++;
  return n;
}
