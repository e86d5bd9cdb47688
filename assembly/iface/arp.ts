// ARP (RFC 826): answering for our address, a bounded neighbour cache with expiry, rate-limited
// requests, and a bounded pool of frames waiting for their neighbour to resolve. An entry in use
// is re-confirmed by a unicast request before it expires (RFC 1122 §2.3.2.1), so traffic to a
// known neighbour never stalls waiting for a broadcast request.
//
// Cache policy (what may write an entry):
//  - a request addressed to us creates or refreshes the sender's entry (RFC 826 merge; we are
//    about to answer it, and it will probably talk to us next);
//  - a reply refreshes an entry we are resolving (PENDING) or one whose MAC it confirms;
//  - a reply that would change the MAC of a RESOLVED entry, or a reply we never asked for, is
//    dropped (arp_reply_unsolicited): unsolicited replies cannot poison the cache. A neighbour
//    that really changed its MAC is learnt again when the entry expires.
//  - a packet claiming our own address from another MAC is counted as arp_address_conflict.
//
// Replacement (allocate): a full cache gives up its oldest PENDING entry, and a RESOLVED one (the
// least recently used) only when none is pending; at most ARP_PENDING_MAX entries resolve at once.
// Answering a flood from spoofed on-link sources thus recycles a few pending entries among
// themselves while real peers keep theirs (at most one, the least recently used, gives way when
// the flood starts on a full cache), and a real peer's request always finds room.
import {
  ARP_CACHE_SIZE, ARP_ENTRY_TTL_MS, ARP_MAX_REQUESTS, ARP_PENDING_BYTES, ARP_PENDING_MAX, ARP_PENDING_PER_NEIGHBOUR,
  ARP_REFRESH_MS, ARP_REQUEST_INTERVAL_MS, FEATURE_IPV6, FRAME_MAX, FRAME_MIN, ND_CACHE_SIZE, POLL_MAX_SLEEP_MS,
} from "../config";
import { due, elapsed, now, until } from "../support/clock";
import { C, count } from "../support/counters";
import { ENOBUFS, OK } from "../support/errors";
import { INFO, DEBUG, WARN, logf } from "../support/log";
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
  /** RESOLVED: when the last refresh request went out. */
  asked: u32;
  /** When the entry was made or a frame last went to the neighbour. */
  used: u32;
  mac0: u32;
  mac4: u16;
  queued: u16;
}

// Frames waiting for their neighbour (Ethernet header included, destination still blank) sit in
// one byte pool, oldest first, each behind a 4-byte record: the neighbour's index (u8), unused
// (u8), the frame's length (u16); then the EtherType (u16) and the frame, the whole padded to 4
// bytes and to at least the Ethernet minimum (transmit() pads short frames in place). IPv6's
// neighbours (iface/nd.ts) and the loopback interface hold theirs here too, under owners of their
// own (ND_OWNER | index, LOOPBACK_OWNER).
const REC_HEADER: u32 = 6;

// @ts-ignore: decorator
@inline function recSize(len: u32): u32 {
  return (REC_HEADER + max<u32>(len, FRAME_MIN) + 3) & ~3;
}

const NEIGHBOUR_SIZE = offsetof<Neighbour>();
const table = memory.data(<i32>NEIGHBOUR_SIZE * ARP_CACHE_SIZE, 8);
const pool = memory.data(<i32>ARP_PENDING_BYTES, 16);
let poolUsed: u32 = 0;
/** Records of LOOPBACK_OWNER in the pool. */
export let loopbackHeld: u32 = 0;
/** Requests and replies are built here, never in a buffer a caller may be using. */
const arpFrame = memory.data(64, 16);
const rx = changetype<ArpRepr>(memory.data(offsetof<ArpRepr>()));
const tx = changetype<ArpRepr>(memory.data(offsetof<ArpRepr>()));

// @ts-ignore: decorator
@inline function entry(i: i32): Neighbour {
  return changetype<Neighbour>(table + <usize>i * NEIGHBOUR_SIZE);
}

/** Told the address of a neighbour that never answered, after its frames were dropped: the
 *  transports fail or mark what was waiting on it (set once at init by TCP). */
let gaveUp: ((ip: u32) => void) | null = null;
export function setArpGiveUpHandler(h: ((ip: u32) => void) | null): void {
  gaveUp = h;
}

export function arpInit(): void {
  memory.fill(table, 0, NEIGHBOUR_SIZE * ARP_CACHE_SIZE);
  poolUsed = 0;
  loopbackHeld = 0;
  scanIn = 0;
}

function find(ip: u32): i32 {
  for (let i = 0; i < ARP_CACHE_SIZE; i++) {
    const e = entry(i);
    if (e.state != FREE && e.ip == ip) return i;
  }
  return -1;
}

/** An entry for ip, left FREE for the caller to make PENDING or RESOLVED: a free one while fewer
 *  than maxPending entries are pending, else the oldest pending one, else the resolved one used
 *  least recently (the policy above). */
function allocate(ip: u32, maxPending: i32): i32 {
  let free = -1;
  let victim = -1;
  let pendings = 0;
  let best: u32 = 0;
  for (let i = 0; i < ARP_CACHE_SIZE; i++) {
    const e = entry(i);
    if (e.state == FREE) {
      if (free < 0) free = i; // the first: find() scans from the start on every frame sent
      continue;
    }
    // Pending entries rank above resolved ones, each least recently used first.
    let score = elapsed(e.used);
    if (e.state == PENDING) {
      pendings++;
      score |= 1 << 30; // pending ages are seconds
    }
    if (score >= best) {
      best = score;
      victim = i;
    }
  }
  if (free >= 0 && pendings < maxPending) victim = free;
  if (victim < 0) return -1;
  const e = entry(victim);
  if (e.state != FREE) count(C.ARP_EVICTIONS);
  dropHeld(victim); // a pending entry's frames; none for others
  e.ip = ip;
  e.state = FREE;
  e.tries = 0;
  e.used = now;
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

/** When arpPoll last scanned, and the ms from then to the first deadline it found and to the first
 *  retry (POLL_MAX_SLEEP_MS when none). scanIn 0: scan at the next poll. */
let scanFrom: u32 = 0;
let scanIn: u32 = 0;
let retryIn: u32 = 0;

function request(e: Neighbour): void {
  e.tries++;
  e.time = now;
  scanIn = 0;
  count(C.ARP_REQUESTS_SENT);
  logf(INFO, "arp: who-has %i tell %i (try %u)", e.ip, ipAddr, e.tries);
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
  scanIn = 0;
  if (wasPending) {
    count(C.ARP_RESOLVED);
    logf(INFO, "arp: %i is-at %m", e.ip, <u32>arpMacPtr(e));
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

/** Takes neighbour i's frames out of the pool, oldest first: sent (resolved) or dropped. */
function release(i: i32, send: bool): void {
  arpPoolRelease(i, changetype<usize>(entry(i)), send, C.ARP_QUEUE_DROPS);
}

// Where a neighbour keeps its MAC and its count of held frames, here and in nd.ts (arpPoolRelease).
export const NB_MAC: usize = 24;
export const NB_QUEUED: usize = 30;
if (offsetof<Neighbour>("mac0") != 24 || offsetof<Neighbour>("queued") != 30) ERROR("arp.ts Neighbour: mac0 at NB_MAC, queued at NB_QUEUED");

/** Takes owner's records out of the pool, oldest first: each sent from the pool itself to the MAC
 *  of the neighbour at nb (send), or dropped and counted as drops; nb's queued count is zeroed.
 *  What it sends is not queued here again. */
export function arpPoolRelease(owner: u32, nb: usize, send: bool, drops: C): void {
  let at: u32 = 0;
  while (at < poolUsed) {
    const r = pool + at;
    const len = <u32>load<u16>(r, 2);
    const size = recSize(len);
    if (<u32>load<u8>(r) != owner) {
      at += size;
      continue;
    }
    if (send) ethernetSend(r + REC_HEADER, len, load<u32>(nb, NB_MAC), load<u16>(nb, NB_MAC + 4), <u32>load<u16>(r, 4));
    else count(drops);
    memory.copy(r, r + size, poolUsed - at - size);
    poolUsed -= size;
  }
  store<u16>(nb, 0, NB_QUEUED);
}

// @ts-ignore: decorator
@inline function flush(i: i32): void {
  release(i, true);
}

// @ts-ignore: decorator
@inline function dropHeld(i: i32): void {
  release(i, false);
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
    logf(WARN, "arp: address conflict: %i claimed by %m", ipAddr, <u32>sha);
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
      const j = i >= 0 ? i : allocate(rx.spa, ARP_CACHE_SIZE);
      if (j >= 0) learn(j);
    }
    logf(DEBUG, "arp: %i is-at our MAC, told %i", ipAddr, rx.spa);
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
  if (i >= 0 && entry(i).state == RESOLVED) {
    const e = entry(i);
    const age = elapsed(e.time);
    if (age < ARP_ENTRY_TTL_MS) {
      // In use near the end of its life: ask the neighbour directly, at most once per interval;
      // its reply confirms the MAC and restarts the entry's life (see arpInput).
      if (age >= ARP_ENTRY_TTL_MS - ARP_REFRESH_MS && elapsed(e.asked) >= ARP_REQUEST_INTERVAL_MS) {
        e.asked = now;
        count(C.ARP_REQUESTS_SENT);
        sendArp(OP_REQUEST, e.mac0, e.mac4, 0, 0, e.ip);
      }
      e.used = now;
      ethernetSend(p, len, e.mac0, e.mac4, type);
      return OK;
    }
    // Expired: resolved again in an entry of its own, within the bound on pending ones.
    count(C.ARP_EXPIRED);
    e.state = FREE;
    i = -1;
  }
  if (i < 0) {
    i = allocate(nextHop, ARP_PENDING_MAX);
    if (i < 0) {
      count(C.ARP_QUEUE_DROPS);
      return ENOBUFS;
    }
  }
  const e = entry(i);
  const starting = e.state == FREE;
  if (starting) e.state = PENDING;
  const r = hold(i, p, len, type);
  if (starting) request(e);
  return r;
}

function hold(i: i32, p: usize, len: u32, type: u32): i32 {
  const e = entry(i);
  if (<i32>e.queued >= ARP_PENDING_PER_NEIGHBOUR || !arpPoolPut(i, p, len, type)) {
    count(C.ARP_QUEUE_DROPS);
    return ENOBUFS;
  }
  e.queued++;
  count(C.ARP_QUEUED);
  return OK;
}

// The pool also holds the loopback interface's datagrams (iface/loopback.ts), under this owner,
// and the packets of ND's neighbour i (iface/nd.ts) under ND_OWNER | i.
export const LOOPBACK_OWNER: u32 = 255;
export const ND_OWNER: u32 = 0x80;
if (<u32>ARP_CACHE_SIZE > ND_OWNER || <u32>ND_CACHE_SIZE >= LOOPBACK_OWNER - ND_OWNER) ERROR("arp.ts pool owners: ARP_CACHE_SIZE at most 128, ND_CACHE_SIZE below 127");

/** Appends len bytes at p to the pool for owner (a neighbour's index, ND_OWNER | an ND neighbour's,
 *  or LOOPBACK_OWNER); false when they do not fit. */
export function arpPoolPut(owner: u32, p: usize, len: u32, type: u32): bool {
  const size = recSize(len);
  if (poolUsed + size > ARP_PENDING_BYTES) return false;
  const r = pool + poolUsed;
  store<u8>(r, <u8>owner);
  store<u16>(r, <u16>len, 2);
  store<u16>(r, <u16>type, 4);
  memory.copy(r + REC_HEADER, p, len);
  poolUsed += size;
  if (owner == LOOPBACK_OWNER) loopbackHeld++;
  return true;
}

/** Moves owner's oldest record to dst and closes the pool up; its length, 0 when owner has none. */
export function arpPoolTake(owner: u32, dst: usize): u32 {
  let at: u32 = 0;
  while (at < poolUsed) {
    const r = pool + at;
    const len = <u32>load<u16>(r, 2);
    const size = recSize(len);
    if (<u32>load<u8>(r) == owner) {
      memory.copy(dst, r + REC_HEADER, len);
      memory.copy(r, r + size, poolUsed - at - size);
      poolUsed -= size;
      if (owner == LOOPBACK_OWNER) loopbackHeld--;
      return len;
    }
    at += size;
  }
  return 0;
}

/** Retries and give-ups of pending neighbours, expiry of resolved ones; ms to the next deadline. */
export function arpPoll(): u32 {
  // Between deadlines nothing can change, so the scan is skipped (an interpreter would run it
  // for every frame); request() and learn(), which set deadlines, ask for the next scan.
  const since = elapsed(scanFrom);
  if (since < scanIn) return retryIn == POLL_MAX_SLEEP_MS ? retryIn : retryIn - since; // since < scanIn <= retryIn
  let next = POLL_MAX_SLEEP_MS;
  let soonest = ARP_ENTRY_TTL_MS;
  for (let i = 0; i < ARP_CACHE_SIZE; i++) {
    const e = entry(i);
    if (e.state == RESOLVED) {
      const age = elapsed(e.time);
      if (age >= ARP_ENTRY_TTL_MS) {
        count(C.ARP_EXPIRED);
        e.state = FREE;
      } else if (ARP_ENTRY_TTL_MS - age < soonest) soonest = ARP_ENTRY_TTL_MS - age;
      continue;
    }
    if (e.state != PENDING) continue;
    if (due(e.time + ARP_REQUEST_INTERVAL_MS)) {
      if (e.tries >= ARP_MAX_REQUESTS) {
        count(C.ARP_GAVE_UP);
        logf(INFO, "arp: no answer from %i, dropped %u queued frame(s)", e.ip, e.queued);
        dropHeld(i);
        e.state = FREE;
        const h = gaveUp;
        if (h) h(e.ip);
        continue;
      }
      request(e);
    }
    const d = until(e.time + ARP_REQUEST_INTERVAL_MS);
    if (d < next) next = d;
  }
  scanFrom = now;
  scanIn = min<u32>(next, soonest);
  retryIn = next;
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

/** The link came back up (maybe on another network): forget every resolved neighbour, as if it
 *  had expired. Entries still resolving keep their frames and go on asking. */
export function arpFlush(): void {
  for (let i = 0; i < ARP_CACHE_SIZE; i++) {
    const e = entry(i);
    if (e.state != RESOLVED) continue;
    e.state = FREE;
    count(C.ARP_FLUSHED);
  }
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

/** Records of owner in the pool (debug checks). */
export function arpPoolCount(owner: u32): u32 {
  let n: u32 = 0;
  for (let at: u32 = 0; at + REC_HEADER <= poolUsed; at += recSize(<u32>load<u16>(pool + at, 2))) {
    if (<u32>load<u8>(pool + at) == owner) n++;
  }
  return n;
}

/** Debug-build invariants (debug_check): 0, or (check << 8) | entry. 1: bad state; 2: two entries
 *  for one address; 3: queued differs from the held frames it owns, or exceeds the per-neighbour
 *  bound; 4: a held frame owned by no pending entry (nor the loopback, nor an ND entry), or longer
 *  than a frame; 5: the records do not tile the pool's used bytes, or the loopback's count is off;
 *  6: more than ARP_PENDING_MAX entries pending. */
export function arpCheck(): u32 {
  let pendings = 0;
  for (let i = 0; i < ARP_CACHE_SIZE; i++) {
    const e = entry(i);
    if (e.state > RESOLVED) return (1 << 8) | <u32>i;
    if (e.state == FREE) continue;
    if (e.state == PENDING && ++pendings > ARP_PENDING_MAX) return (6 << 8) | <u32>i;
    for (let j = i + 1; j < ARP_CACHE_SIZE; j++) {
      if (entry(j).state != FREE && entry(j).ip == e.ip) return (2 << 8) | <u32>i;
    }
    if (arpPoolCount(i) != <u32>e.queued || <i32>e.queued > ARP_PENDING_PER_NEIGHBOUR) return (3 << 8) | <u32>i;
  }
  let at: u32 = 0;
  let lo: u32 = 0;
  while (at + REC_HEADER <= poolUsed) {
    const owner = <u32>load<u8>(pool + at);
    const len = <u32>load<u16>(pool + at, 2);
    if (owner == LOOPBACK_OWNER) lo++;
    else if (owner >= ND_OWNER) {
      if (!FEATURE_IPV6 || owner - ND_OWNER >= <u32>ND_CACHE_SIZE) return (4 << 8) | at; // nd.ts ndCheck checks the rest
    } else if (owner >= <u32>ARP_CACHE_SIZE || entry(<i32>owner).state != PENDING) return (4 << 8) | at;
    if (len > FRAME_MAX) return (4 << 8) | at;
    at += recSize(len);
  }
  if (at != poolUsed || poolUsed > ARP_PENDING_BYTES || lo != loopbackHeld) return (5 << 8) | at;
  return 0;
}
