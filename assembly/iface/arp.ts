// ARP (RFC 826): answering for our address, a bounded neighbour cache with expiry, rate-limited
// requests, and a bounded queue of frames waiting for their neighbour to resolve.
//
// Cache policy (what may write an entry):
//  - a request addressed to us creates or refreshes the sender's entry (RFC 826 merge; we are
//    about to answer it, and it will probably talk to us next);
//  - a reply refreshes an entry we are resolving (PENDING) or one whose MAC it confirms;
//  - a reply that would change the MAC of a RESOLVED entry, or a reply we never asked for, is
//    dropped (arp_reply_unsolicited): unsolicited replies cannot poison the cache. A neighbour
//    that really changed its MAC is learnt again when the entry expires.
//  - a packet claiming our own address from another MAC is counted as arp_address_conflict.
import {
  ARP_CACHE_SIZE, ARP_ENTRY_TTL_MS, ARP_MAX_REQUESTS, ARP_PENDING_PER_NEIGHBOUR, ARP_PENDING_SLOTS,
  ARP_REQUEST_INTERVAL_MS, FRAME_MAX, POLL_MAX_SLEEP_MS,
} from "../config";
import { due, elapsed, now, until } from "../support/clock";
import { C, count } from "../support/counters";
import { ENOBUFS, OK } from "../support/errors";
import { INFO, DEBUG, WARN, logEnd, logIp, logMac, logOn, logStart, logStr, logU32 } from "../support/log";
import { ArpRepr, OP_REPLY, OP_REQUEST, PACKET_LEN } from "../wire/arp";
import { WireError } from "../wire/error";
import { HEADER_LEN, TYPE_ARP, macIsMulticast, macIsZero } from "../wire/ethernet";
import { isMulticastOrReserved } from "../wire/ipv4";
import { ethernetSend } from "./ethernet";
import { ipAddr, isBroadcast, macW0, macW4 } from "./netif";

export const FREE: u32 = 0;
export const PENDING: u32 = 1;
export const RESOLVED: u32 = 2;

@unmanaged
class Neighbour {
  ip: u32;
  state: u32;
  /** RESOLVED: when last confirmed. PENDING: when the last request went out. */
  time: u32;
  tries: u32;
  mac0: u32;
  mac4: u16;
  queued: u16;
}

/** A frame (Ethernet header included, destination still blank) waiting for its neighbour. */
@unmanaged
class Held {
  /** Index of the neighbour + 1; 0 = free. */
  owner: i32;
  len: u32;
  seq: u32;
  type: u32;
}

const NEIGHBOUR_SIZE = offsetof<Neighbour>();
const HELD_SIZE = offsetof<Held>();
const table = memory.data(<i32>NEIGHBOUR_SIZE * ARP_CACHE_SIZE, 8);
const held = memory.data(<i32>HELD_SIZE * ARP_PENDING_SLOTS, 8);
const heldFrames = memory.data(<i32>FRAME_MAX * ARP_PENDING_SLOTS, 16);
/** Requests and replies are built here, never in a buffer a caller may be using. */
const arpFrame = memory.data(64, 16);
const rx = changetype<ArpRepr>(memory.data(offsetof<ArpRepr>()));
const tx = changetype<ArpRepr>(memory.data(offsetof<ArpRepr>()));
let heldSeq: u32 = 0;

// @ts-ignore: decorator
@inline function entry(i: i32): Neighbour {
  return changetype<Neighbour>(table + <usize>i * NEIGHBOUR_SIZE);
}

// @ts-ignore: decorator
@inline function slot(i: i32): Held {
  return changetype<Held>(held + <usize>i * HELD_SIZE);
}

// @ts-ignore: decorator
@inline function slotFrame(i: i32): usize {
  return heldFrames + <usize>i * FRAME_MAX;
}

export function arpInit(): void {
  memory.fill(table, 0, NEIGHBOUR_SIZE * ARP_CACHE_SIZE);
  memory.fill(held, 0, HELD_SIZE * ARP_PENDING_SLOTS);
}

function find(ip: u32): i32 {
  for (let i = 0; i < ARP_CACHE_SIZE; i++) {
    const e = entry(i);
    if (e.state != FREE && e.ip == ip) return i;
  }
  return -1;
}

/** A free entry, or the oldest resolved one with nothing queued; -1 when all are resolving. */
function allocate(ip: u32): i32 {
  let victim = -1;
  let oldest: u32 = 0;
  for (let i = 0; i < ARP_CACHE_SIZE; i++) {
    const e = entry(i);
    if (e.state == FREE) { victim = i; break; }
    if (e.state == RESOLVED && e.queued == 0 && elapsed(e.time) >= oldest) {
      oldest = elapsed(e.time);
      victim = i;
    }
  }
  if (victim < 0) return -1;
  const e = entry(victim);
  if (e.state != FREE) count(C.ARP_EVICTIONS);
  e.ip = ip;
  e.state = FREE;
  e.tries = 0;
  e.queued = 0;
  return victim;
}

function sendArp(op: u32, dst0: u32, dst4: u16, tha0: u32, tha4: u16, tpa: u32): void {
  tx.op = op;
  tx.sha0 = macW0;
  tx.sha4 = macW4;
  tx.spa = ipAddr;
  tx.tha0 = tha0;
  tx.tha4 = tha4;
  tx.tpa = tpa;
  tx.emit(arpFrame + HEADER_LEN);
  ethernetSend(arpFrame, HEADER_LEN + PACKET_LEN, dst0, dst4, TYPE_ARP);
}

function request(e: Neighbour): void {
  e.tries++;
  e.time = now;
  count(C.ARP_REQUESTS_SENT);
  if (logOn(INFO)) {
    logStart("arp: who-has ");
    logIp(e.ip);
    logStr(" tell ");
    logIp(ipAddr);
    logStr(" (try ");
    logU32(e.tries);
    logStr(")");
    logEnd(INFO);
  }
  sendArp(OP_REQUEST, 0xffffffff, 0xffff, 0, 0, e.ip);
}

/** Gratuitous ARP (RFC 5227 §3 announcement): a request for our own address. */
export function arpAnnounce(): void {
  if (ipAddr == 0) return;
  count(C.ARP_GRATUITOUS_SENT);
  sendArp(OP_REQUEST, 0xffffffff, 0xffff, 0, 0, ipAddr);
}

function learn(i: i32): void {
  const e = entry(i);
  const wasPending = e.state == PENDING;
  e.mac0 = rx.sha0;
  e.mac4 = rx.sha4;
  e.state = RESOLVED;
  e.time = now;
  e.tries = 0;
  if (wasPending) {
    count(C.ARP_RESOLVED);
    if (logOn(INFO)) {
      logStart("arp: ");
      logIp(e.ip);
      logStr(" is-at ");
      logMac(arpMacPtr(e));
      logEnd(INFO);
    }
  }
  if (e.queued) flush(i);
}

// The MAC words as bytes for logging.
const macScratch = memory.data(8);
function arpMacPtr(e: Neighbour): usize {
  store<u32>(macScratch, e.mac0);
  store<u16>(macScratch, e.mac4, 4);
  return macScratch;
}

/** Sends the frames held for neighbour i, oldest first. */
function flush(i: i32): void {
  const e = entry(i);
  while (e.queued) {
    let best = -1;
    for (let s = 0; s < ARP_PENDING_SLOTS; s++) {
      const h = slot(s);
      if (h.owner == i + 1 && (best < 0 || <i32>(h.seq - slot(best).seq) < 0)) best = s;
    }
    if (best < 0) break;
    const h = slot(best);
    h.owner = 0;
    e.queued--;
    ethernetSend(slotFrame(best), h.len, e.mac0, e.mac4, h.type);
  }
  e.queued = 0;
}

function dropHeld(i: i32): void {
  for (let s = 0; s < ARP_PENDING_SLOTS; s++) {
    const h = slot(s);
    if (h.owner == i + 1) {
      h.owner = 0;
      count(C.ARP_QUEUE_DROPS);
    }
  }
  entry(i).queued = 0;
}

export function arpInput(p: usize, len: u32): C {
  const err = rx.parse(p, len);
  if (err == WireError.TRUNCATED) return C.ARP_TRUNCATED;
  if (err == WireError.UNSUPPORTED) return C.ARP_UNSUPPORTED;
  if (err != WireError.OK) return C.ARP_BAD_OP;
  const sha = p + 8;
  if (macIsMulticast(sha) || macIsZero(sha) || isMulticastOrReserved(rx.spa) || isBroadcast(rx.spa)) {
    return C.ARP_BAD_SENDER;
  }
  const ourMac = rx.sha0 == macW0 && rx.sha4 == macW4;
  if (ipAddr != 0 && rx.spa == ipAddr) {
    if (ourMac) return C.ARP_NOT_FOR_US; // our own, looped back
    if (logOn(WARN)) {
      logStart("arp: address conflict: ");
      logIp(ipAddr);
      logStr(" claimed by ");
      logMac(sha);
      logEnd(WARN);
    }
    return C.ARP_ADDRESS_CONFLICT;
  }
  // Another address at our MAC would make us send frames to ourselves.
  if (ourMac) return C.ARP_BAD_SENDER;
  const forUs = ipAddr != 0 && rx.tpa == ipAddr;
  const i = rx.spa != 0 ? find(rx.spa) : -1;

  if (rx.op == OP_REQUEST) {
    if (!forUs) return C.ARP_NOT_FOR_US;
    // A probe (spa 0, RFC 5227) is answered but teaches us nothing.
    if (rx.spa != 0) {
      const j = i >= 0 ? i : allocate(rx.spa);
      if (j >= 0) learn(j);
    }
    if (logOn(DEBUG)) {
      logStart("arp: ");
      logIp(ipAddr);
      logStr(" is-at our MAC, told ");
      logIp(rx.spa);
      logEnd(DEBUG);
    }
    count(C.ARP_REPLIES_SENT);
    sendArp(OP_REPLY, rx.sha0, rx.sha4, rx.sha0, rx.sha4, rx.spa);
    return C.ARP_REQUEST_ANSWERED;
  }

  // A reply.
  if (i < 0) return forUs ? C.ARP_REPLY_UNSOLICITED : C.ARP_NOT_FOR_US;
  const e = entry(i);
  if (e.state == PENDING || (e.mac0 == rx.sha0 && e.mac4 == rx.sha4)) {
    learn(i);
    return C.ARP_REPLY_ACCEPTED;
  }
  return C.ARP_REPLY_UNSOLICITED;
}

/**
 * Sends the frame at p (len bytes, Ethernet header included; its addresses are filled here) to the
 * on-link neighbour nextHop, resolving it first if needed. Returns OK when sent or queued.
 */
export function arpOutput(p: usize, len: u32, nextHop: u32, type: u32): i32 {
  let i = find(nextHop);
  if (i >= 0) {
    const e = entry(i);
    if (e.state == RESOLVED && elapsed(e.time) < ARP_ENTRY_TTL_MS) {
      ethernetSend(p, len, e.mac0, e.mac4, type);
      return OK;
    }
    if (e.state == RESOLVED) {
      count(C.ARP_EXPIRED);
      e.state = FREE;
    }
  } else {
    i = allocate(nextHop);
    if (i < 0) {
      count(C.ARP_QUEUE_DROPS);
      return ENOBUFS;
    }
  }
  const e = entry(i);
  const starting = e.state == FREE;
  if (starting) {
    e.state = PENDING;
    e.tries = 0;
  }
  const r = hold(i, p, len, type);
  if (starting) request(e);
  return r;
}

function hold(i: i32, p: usize, len: u32, type: u32): i32 {
  const e = entry(i);
  if (<i32>e.queued >= ARP_PENDING_PER_NEIGHBOUR) {
    count(C.ARP_QUEUE_DROPS);
    return ENOBUFS;
  }
  for (let s = 0; s < ARP_PENDING_SLOTS; s++) {
    const h = slot(s);
    if (h.owner != 0) continue;
    h.owner = i + 1;
    h.len = len;
    h.seq = heldSeq++;
    h.type = type;
    memory.copy(slotFrame(s), p, len);
    e.queued++;
    count(C.ARP_QUEUED);
    return OK;
  }
  count(C.ARP_QUEUE_DROPS);
  return ENOBUFS;
}

/** Retries and give-ups of pending neighbours, expiry of resolved ones; ms to the next deadline. */
export function arpPoll(): u32 {
  let next = POLL_MAX_SLEEP_MS;
  for (let i = 0; i < ARP_CACHE_SIZE; i++) {
    const e = entry(i);
    if (e.state == RESOLVED) {
      if (elapsed(e.time) >= ARP_ENTRY_TTL_MS) {
        count(C.ARP_EXPIRED);
        e.state = FREE;
      }
      continue;
    }
    if (e.state != PENDING) continue;
    if (due(e.time + ARP_REQUEST_INTERVAL_MS)) {
      if (e.tries >= ARP_MAX_REQUESTS) {
        count(C.ARP_GAVE_UP);
        if (logOn(INFO)) {
          logStart("arp: no answer from ");
          logIp(e.ip);
          logStr(", dropped ");
          logU32(e.queued);
          logStr(" queued frame(s)");
          logEnd(INFO);
        }
        dropHeld(i);
        e.state = FREE;
        continue;
      }
      request(e);
    }
    const d = until(e.time + ARP_REQUEST_INTERVAL_MS);
    if (d < next) next = d;
  }
  return next;
}

/** Higher-layer advice (RFC 1122 §2.3.2.1 (4)): delivery to ip seems to fail, so forget its MAC;
 *  the next frame for it resolves it again. Entries still resolving are left alone. */
export function arpInvalidate(ip: u32): void {
  const i = find(ip);
  if (i < 0 || entry(i).state != RESOLVED) return;
  count(C.ARP_INVALIDATED);
  entry(i).state = FREE;
}

/** The state of the entry for ip (FREE when absent), for tests and status. */
export function arpState(ip: u32): u32 {
  const i = find(ip);
  if (i < 0) return FREE;
  const e = entry(i);
  if (e.state == RESOLVED && elapsed(e.time) >= ARP_ENTRY_TTL_MS) return FREE;
  return e.state;
}

/** Frames queued for ip. */
export function arpQueued(ip: u32): u32 {
  const i = find(ip);
  return i < 0 ? 0 : <u32>entry(i).queued;
}

/** Debug-build invariants (debug_check): 0, or (check << 8) | entry. 1: bad state; 2: two entries
 *  for one address; 3: queued differs from the held frames it owns, or exceeds the per-neighbour
 *  bound; 4: a held frame owned by no pending entry, or longer than a frame. */
export function arpCheck(): u32 {
  for (let i = 0; i < ARP_CACHE_SIZE; i++) {
    const e = entry(i);
    if (e.state > RESOLVED) return (1 << 8) | <u32>i;
    if (e.state == FREE) continue;
    for (let j = i + 1; j < ARP_CACHE_SIZE; j++) {
      if (entry(j).state != FREE && entry(j).ip == e.ip) return (2 << 8) | <u32>i;
    }
    let owned: u32 = 0;
    for (let s = 0; s < ARP_PENDING_SLOTS; s++) if (slot(s).owner == i + 1) owned++;
    if (owned != <u32>e.queued || <i32>e.queued > ARP_PENDING_PER_NEIGHBOUR) return (3 << 8) | <u32>i;
  }
  for (let s = 0; s < ARP_PENDING_SLOTS; s++) {
    const h = slot(s);
    if (h.owner == 0) continue;
    if (h.owner < 0 || h.owner > ARP_CACHE_SIZE || entry(h.owner - 1).state != PENDING || h.len > FRAME_MAX) {
      return (4 << 8) | <u32>s;
    }
  }
  return 0;
}
