// Neighbor Discovery (RFC 4861), host side: the neighbor cache, NS and NA both ways, the router
// and prefix lists an RA fills (its prefixes' addresses are iface/slaac.ts's), and the packets
// held while a neighbour resolves (in ARP's pool, iface/arp.ts).
//
// The cache: one state per entry (INCOMPLETE, REACHABLE, STALE, DELAY, PROBE; §7.3.2) and one
// function, step(), that performs every transition of Appendix C, on four events: a packet to
// send, the entry's timer, an NA for it, and a link-layer address named by an NS, RS or RA.
// Message checks (§6.1.2, §7.1.1, §7.1.2): hop limit 255 (the message was not forwarded), code 0,
// lengths, no zero-length option, an RA only from a link-local source, an NS from the
// unspecified address only to a solicited-node group and without a source link-layer option, an
// NA to a multicast address not solicited. An NA without the Override flag never changes a cached
// address (§7.2.5): a REACHABLE entry only goes STALE and is then probed.
//
// Replacement: entries that carried our traffic are never taken for a stranger. An address
// learnt from an NS, RS or RA (which we need not remember: the NA answer goes straight to the
// sender's link-layer address) takes only a free entry or one that never carried traffic, the
// oldest such; when there is none it is not cached. A packet we send takes a free entry, else
// the oldest of those learnt-only entries, else (with ND_INCOMPLETE_MAX entries already
// resolving) the oldest INCOMPLETE one, else the least recently used. A flood of NS from random
// sources therefore recycles learnt-only entries among themselves and the neighbours in use keep
// theirs; NS for targets that are not ours never touch the cache.
import {
  ND_CACHE_SIZE, ND_DELAY_FIRST_PROBE_MS, ND_INCOMPLETE_MAX, ND_MAX_MULTICAST_SOLICIT, ND_MAX_UNICAST_SOLICIT, ND_PREFIXES,
  ND_QUEUE_PER_NEIGHBOUR, ND_RDNSS, ND_REACHABLE_TIME_MS, ND_RETRANS_TIMER_MS, ND_ROUTERS, MTU, POLL_MAX_SLEEP_MS,
} from "../config";
import { due, elapsed, now } from "../support/clock";
import { C, count } from "../support/counters";
import { ENOBUFS } from "../support/errors";
import { phy_random } from "../support/phy";
import { get16, get32 } from "../support/bytes";
import { WireError } from "../wire/error";
import { HEADER_LEN as ETH_LEN, TYPE_IPV6 } from "../wire/ethernet";
import { TYPE_NA, TYPE_NS, TYPE_RA, TYPE_RS, emitIcmpv6 } from "../wire/icmpv6";
import { DST_AT, MIN_MTU, SRC_AT, NH_ICMPV6, addrCopy, addrEq, emitIpv6, isLinkLocal, isMulticast, isUnspecified, linkGroup, prefixMatch, solicitedNode } from "../wire/ipv6";
import {
  NA_OVERRIDE, NA_ROUTER, NA_SOLICITED, NS_LEN, OPT_MTU, OPT_PREFIX_INFO, OPT_RDNSS, OPT_SOURCE_LLADDR, OPT_TARGET_LLADDR,
  PREFIX_AUTONOMOUS, PREFIX_ON_LINK, RA_LEN, RS_LEN, emitLladdr, lladdr, ndParse,
} from "../wire/ndisc";
import { NB_MAC, ND_OWNER, arpPoolCount, arpPoolPut, arpPoolRelease } from "./arp";
import { ethernetSend } from "./ethernet";
import { ND_CTL, ND_GROUP, ND_LISTS, ND_UNSPECIFIED } from "./ipv6_static";
import { macW0, macW4 } from "./netif";
import { ADDR_DUPLICATED, ADDR_TENTATIVE, PAYLOAD_OFFSET6, addr, addrFind, ipv6Output, lifeLeft, setHopLimit, setLinkMtu, sooner, sourceFor } from "./ipv6";
import { slaacDuplicate, slaacPrefix, slaacRaSeen } from "./slaac";

export const FREE: u32 = 0;
export const INCOMPLETE: u32 = 1;
export const REACHABLE: u32 = 2;
export const STALE: u32 = 3;
export const DELAY: u32 = 4;
export const PROBE: u32 = 5;

const EV_SEND: u32 = 0;
const EV_TIMER: u32 = 1;
const EV_NA: u32 = 2;
const EV_LLADDR: u32 = 3;

@unmanaged
class Neighbour {
  a0: u64;
  a8: u64;
  /** When the timer of the state runs out (INCOMPLETE, REACHABLE, DELAY, PROBE). */
  timer: u32;
  /** When created or last sent to (the replacement order). */
  used: u32;
  /** The MAC and the count of held packets where ARP's neighbours have theirs (arpPoolRelease). */
  mac0: u32;
  mac4: u16;
  queued: u16;
  state: u8;
  router: u8;
  probes: u8;
  /** Set once a packet of ours (not an ND answer) went to it: never replaced for a stranger. */
  traffic: u8;
}
const NB_SIZE = offsetof<Neighbour>();
if (offsetof<Neighbour>("mac0") != 24 || offsetof<Neighbour>("queued") != 30) ERROR("nd.ts Neighbour: mac0 and queued at arp.ts NB_MAC, NB_QUEUED");
function table(): usize {
  return memory.data(<i32>NB_SIZE * ND_CACHE_SIZE, 8);
}

function nb(i: i32): Neighbour {
  return changetype<Neighbour>(table() + <usize>i * NB_SIZE);
}

// Default routers, on-link prefixes (§5.1) and RDNSS servers (RFC 8106) in one table of 24-byte
// entries [address or prefix, lifetime in seconds left (INFINITE for ever; 0: free), length (128
// for a router or a server)], one list after the other, so that one loop ages them all.
const LIST_ENTRIES: i32 = ND_ROUTERS + ND_PREFIXES + ND_RDNSS;
function routers(): usize {
  return ND_LISTS; // LIST_ENTRIES
}
// @ts-ignore: decorator
@inline function prefixes(): usize {
  return routers() + ND_ROUTERS * 24;
}
// @ts-ignore: decorator
@inline function rdnss(): usize {
  return prefixes() + ND_PREFIXES * 24;
}
/** Times an RA may set (§6.3.4); reachableMs is the randomized ReachableTime. */
let baseReachableMs: u32 = ND_REACHABLE_TIME_MS;
let reachableMs: u32 = ND_REACHABLE_TIME_MS;
export let retransMs: u32 = ND_RETRANS_TIMER_MS;

// Held packets wait in ARP's pool (arp.ts arpPoolPut), entry i's as owner ND_OWNER | i.
/** ND messages are built here, never in a buffer a caller may be filling. */
const CTL_LEN: u32 = 128;
function ctl(): usize {
  return ND_CTL; // CTL_LEN bytes
}
/** Scratch for a solicited-node group. */
function group(): usize {
  return ND_GROUP;
}

export function ndInit(): void {
  for (let i = 0; i < ND_CACHE_SIZE; i++) release(i, false); // what waits in ARP's pool
  memory.fill(table(), 0, NB_SIZE * ND_CACHE_SIZE);
  memory.fill(routers(), 0, LIST_ENTRIES * 24);
  baseReachableMs = ND_REACHABLE_TIME_MS;
  reachableMs = randomReachable(ND_REACHABLE_TIME_MS);
  retransMs = ND_RETRANS_TIMER_MS;
}

/** §6.3.2: ReachableTime is BaseReachableTime times a random factor in [0.5, 1.5). */
function randomReachable(base: u32): u32 {
  return (base >> 1) + (base > 0 ? phy_random() % base : 0);
}

function find(a: usize): i32 {
  for (let i = 0; i < ND_CACHE_SIZE; i++) if (nb(i).state != FREE && addrEq(changetype<usize>(nb(i)), a)) return i;
  return -1;
}

/** a's entry: the one it has, else a new one (allocate()); -1 when there is none to take. */
function entryFor(a: usize, forSend: bool): i32 {
  const i = find(a);
  return i >= 0 ? i : allocate(a, forSend);
}

/** A FREE entry for a, chosen as the file's comment says (forSend: our packet; else learnt), or -1. */
function allocate(a: usize, forSend: bool): i32 {
  // Each entry's class, in the order of preference: 0 free (the first), 1 learnt only (the oldest),
  // 2 carrying our traffic (the least recently used), 3 resolving (the oldest). A learnt address
  // takes classes 0 and 1 only; our packet any, or only class 3 with ND_INCOMPLETE_MAX resolving.
  let incompletes = 0;
  let victim = -1;
  let best: u32 = 4;
  let bestAge: u32 = 0;
  let resolving = -1; // the oldest of class 3
  let resolvingAge: u32 = 0;
  for (let i = 0; i < ND_CACHE_SIZE; i++) {
    const e = nb(i);
    const st = <u32>e.state;
    const cls: u32 = st == FREE ? 0 : st == INCOMPLETE ? 3 : e.traffic ? 2 : 1;
    const age = elapsed(e.used);
    if (cls == 3) {
      incompletes++;
      if (age >= resolvingAge) {
        resolving = i;
        resolvingAge = age;
      }
    }
    if (!forSend && cls > 1) continue;
    if (cls < best || (cls == best && cls != 0 && age >= bestAge)) {
      victim = i;
      best = cls;
      bestAge = age;
    }
  }
  if (forSend && incompletes >= ND_INCOMPLETE_MAX) victim = resolving;
  if (victim < 0) return -1;
  const e = nb(victim);
  if (e.state != FREE) {
    count(C.ND_EVICTIONS);
    release(victim, false);
  }
  memory.fill(changetype<usize>(e), 0, NB_SIZE);
  addrCopy(changetype<usize>(e), a);
  e.used = now;
  return victim;
}

/**
 * Every state change of entry i (RFC 4861 Appendix C). ll: a link-layer address carried by the
 * event (6 bytes), 0 when none; flags: an NA's R/S/O. Returns false when the event was ignored.
 */
function step(i: i32, ev: u32, ll: usize, flags: u32): bool {
  const e = nb(i);
  const st = <u32>e.state;
  if (ev == EV_SEND) {
    if (st == FREE) {
      probe(e, INCOMPLETE);
    } else if (st == STALE) {
      e.state = <u8>DELAY; // §7.3.3: wait for upper-layer confirmation before probing
      e.timer = now + ND_DELAY_FIRST_PROBE_MS;
    }
    return true;
  }
  if (ev == EV_TIMER) {
    if (st == INCOMPLETE || st == PROBE) {
      if (<u32>e.probes < (st == INCOMPLETE ? ND_MAX_MULTICAST_SOLICIT : ND_MAX_UNICAST_SOLICIT)) {
        solicit(e, st == INCOMPLETE);
      } else {
        count(C.ND_GAVE_UP); // §7.3.3: the entry goes; what waited on it is dropped
        release(i, false);
        e.state = <u8>FREE;
      }
    } else if (st == REACHABLE) {
      e.state = <u8>STALE;
    } else if (st == DELAY) {
      probe(e, PROBE);
    }
    return true;
  }
  const differs = ll != 0 && (load<u32>(ll) != e.mac0 || load<u16>(ll, 4) != e.mac4);
  const na = ev == EV_NA;
  // §7.2.3 (NS), §6.2.6 (RS), §6.3.4 (RA): a new or different address makes the entry STALE;
  // §7.2.5: an NA resolving an INCOMPLETE entry makes it REACHABLE (solicited) or STALE.
  if (st == INCOMPLETE || (!na && (st == FREE || differs))) {
    if (ll == 0) return false;
    setMac(e, ll);
    reachOrStale(e, na && (flags & NA_SOLICITED) != 0);
    if (na) e.router = <u8>((flags & NA_ROUTER) != 0);
    if (st == INCOMPLETE) count(C.ND_RESOLVED);
    if (e.queued) release(i, true);
    return true;
  }
  if (!na) return true;
  // EV_NA (§7.2.5) on an entry with an address
  if ((flags & NA_OVERRIDE) == 0 && differs) {
    if (st == REACHABLE) e.state = <u8>STALE; // and nothing else: probing will tell
    return false;
  }
  if (differs) setMac(e, ll);
  if ((flags & NA_SOLICITED) != 0) reachOrStale(e, true);
  else if (differs) e.state = <u8>STALE;
  e.router = <u8>((flags & NA_ROUTER) != 0);
  return true;
}

/** Enters INCOMPLETE (resolving: multicast NS) or PROBE (unicast NS) and sends the first. */
function probe(e: Neighbour, st: u32): void {
  e.state = <u8>st;
  e.probes = 0;
  solicit(e, st == INCOMPLETE);
}

function setMac(e: Neighbour, ll: usize): void {
  e.mac0 = load<u32>(ll);
  e.mac4 = load<u16>(ll, 4);
}

function reachOrStale(e: Neighbour, reachable: bool): void {
  e.state = <u8>(reachable ? REACHABLE : STALE);
  e.timer = now + reachableMs;
}

/** Takes entry i's held packets out of ARP's pool, oldest first: sent (resolved) or dropped. */
function release(i: i32, send: bool): void {
  arpPoolRelease(ND_OWNER | <u32>i, changetype<usize>(nb(i)), send, C.ND_QUEUE_DROPS);
  if (send && nb(i).state == STALE) step(i, EV_SEND, 0, 0); // they were our traffic: DELAY
}

/** Sends the frame (len bytes, IPv6 header written) to the neighbour hop: at once when its
 *  link-layer address is known, else held while it resolves. 0 or ENOBUFS (not held). */
export function ndResolveAndSend(frame: usize, len: u32, hop: usize): i32 {
  return resolveAndSend(frame, len, hop, true);
}

/** ours: our traffic, which may take any entry; else an ND answer (an NA to an NS without a
 *  source link-layer option), which takes only what a learnt address may (the file's comment). */
function resolveAndSend(frame: usize, len: u32, hop: usize, ours: bool): i32 {
  const i = entryFor(hop, ours);
  if (i < 0) {
    count(C.ND_QUEUE_DROPS);
    return ENOBUFS;
  }
  const e = nb(i);
  e.used = now;
  if (ours) e.traffic = 1;
  let r = 0;
  if (e.state > INCOMPLETE) {
    ethernetSend(frame, len, e.mac0, e.mac4, TYPE_IPV6);
  } else if (<i32>e.queued >= ND_QUEUE_PER_NEIGHBOUR || !arpPoolPut(ND_OWNER | <u32>i, frame, len, TYPE_IPV6)) {
    count(C.ND_QUEUE_DROPS);
    r = ENOBUFS;
  } else {
    // Held before the first NS goes out (step), so the pool is consistent whatever happens then.
    e.queued++;
    count(C.ND_QUEUED);
  }
  step(i, EV_SEND, 0, 0); // FREE: resolve; STALE: DELAY; else nothing
  return r;
}

/** The next NS for e's address (counted in e.probes, the retransmission timer armed): multicast
 *  to its solicited-node group (resolving) or unicast (probing). */
function solicit(e: Neighbour, multicast: bool): void {
  e.probes++;
  e.timer = now + retransMs;
  const target = changetype<usize>(e);
  let dst = target;
  if (multicast) {
    solicitedNode(group(), target);
    dst = group();
  }
  const src = sourceFor(target);
  if (src == 0) return;
  sendNs(src, dst, target, multicast ? 0 : target + NB_MAC); // e.mac0, e.mac4: the MAC as it lies
}

/** Sends an NS from src (0: the unspecified address, DAD) to dst for target; unicast to the MAC
 *  (6 bytes) at mac, or (0) to dst's multicast MAC. */
export function sendNs(src: usize, dst: usize, target: usize, mac: usize): void {
  count(C.ND_NS_SENT);
  sendNd(TYPE_NS, 0, target, src, dst, mac);
}

/** An NA for target (ours) to dst, to the MAC at mac when known (else resolved like any packet). */
function sendNa(target: usize, dst: usize, flags: u32, mac: usize): void {
  count(C.ND_NA_SENT);
  // §7.2.4: the source is the target when answering for it.
  sendNd(TYPE_NA, flags, target, target, dst, mac);
}

/** Sends an unsolicited RS (RFC 4861 §6.3.7) from src (0: unspecified, without SLLA). */
export function sendRs(src: usize): void {
  linkGroup(group(), 2); // ff02::2, all routers
  count(C.ND_RS_SENT);
  sendNd(TYPE_RS, 0, 0, src, group(), 0);
}

/** The unspecified address ::. */
function unspecified(): usize {
  return ND_UNSPECIFIED;
}

/**
 * Builds the ND message in ctl and sends it: type (NS, NA or RS), the first body word (an NA's
 * flags, else reserved), the target (0 for an RS), and our link-layer address option (the target's
 * in an NA, else the source's) unless src is 0: the unspecified address, which carries none
 * (§4.3). To dst; unicast straight to the MAC (6 bytes) at mac when it is not 0.
 */
function sendNd(type: u32, word: u32, target: usize, src: usize, dst: usize, mac: usize): void {
  const m = ctl() + PAYLOAD_OFFSET6;
  let plen = RS_LEN;
  if (target != 0) {
    addrCopy(m + 8, target);
    plen = NS_LEN; // = NA_LEN
  }
  if (src != 0) plen += emitLladdr(m + plen, type == TYPE_NA ? OPT_TARGET_LLADDR : OPT_SOURCE_LLADDR, macW0, macW4);
  else src = unspecified();
  emitIcmpv6(m, type, 0, word, plen, src, dst);
  if (isMulticast(dst) || src == unspecified()) {
    ipv6Output(ctl(), plen, NH_ICMPV6, src, dst, 255);
    return;
  }
  // Unicast to a neighbour: straight to its link-layer address when the message named it, else
  // resolved without displacing a neighbour in use.
  emitIpv6(ctl() + ETH_LEN, plen, NH_ICMPV6, 255, src, dst); // §7.1: hop limit 255, every ND message
  count(C.IP6_SENT);
  if (mac != 0) ethernetSend(ctl(), PAYLOAD_OFFSET6 + plen, load<u32>(mac), load<u16>(mac, 4), TYPE_IPV6);
  else resolveAndSend(ctl(), PAYLOAD_OFFSET6 + plen, dst, false);
}

// ---- Receive ------------------------------------------------------------------------------------

/** An ND message (RS/RA/NS/NA, ICMPv6 header checked) of len bytes at m in the packet at ip (its
 *  IPv6 header). */
export function ndInput(ip: usize, m: usize, len: u32, type: u32): C {
  if (load<u8>(ip, 7) != 255) return C.ND_BAD_HOP_LIMIT; // §6.1, §7.1: it came from off-link
  if (load<u8>(m, 1) != 0 || ndParse(m, len, type) != WireError.OK) return C.ND_MALFORMED;
  if (type == TYPE_NS) return nsInput(ip, m);
  if (type == TYPE_NA) return naInput(ip, m);
  if (type == TYPE_RA) return raInput(m, len, ip);
  return C.ND_IGNORED; // RS (§6.2.6: for routers), redirect
}

/** The NS at m: its target at m + 8 (§4.3). */
function nsInput(ip: usize, m: usize): C {
  const target = m + 8;
  const fromDad = isUnspecified(ip + SRC_AT);
  // §7.1.1: from :: only to a solicited-node group and without a source link-layer address.
  if (fromDad && (lladdr != 0 || load<u8>(ip + DST_AT) != 0xff)) return C.ND_BAD_SOURCE;
  const k = addrFind(target);
  if (k < 0) return C.ND_TARGET_NOT_OURS;
  const a = addr(k);
  if (a.state == ADDR_TENTATIVE) {
    // RFC 4862 §5.4.3: another node's DAD for the same address; a resolution NS is ignored.
    if (fromDad) {
      slaacDuplicate(k);
      return C.ND_DAD_CONFLICT;
    }
    return C.ND_NS_RECEIVED;
  }
  if (a.state == ADDR_DUPLICATED) return C.ND_TARGET_NOT_OURS;
  const ll = lladdr; // 0 from :: (checked above)
  let dst = ip + SRC_AT;
  if (fromDad) {
    // §7.2.4: defend the address to all nodes, not solicited.
    linkGroup(group(), 1); // ff02::1, all nodes
    dst = group();
  } else if (ll != 0) {
    learn(ip + SRC_AT, ll, false);
  }
  sendNa(target, dst, fromDad ? NA_OVERRIDE : NA_SOLICITED | NA_OVERRIDE, ll);
  return C.ND_NS_RECEIVED;
}

/** The NA at m: its flags in the first body word, the target at m + 8 (§4.4). */
function naInput(ip: usize, m: usize): C {
  const target = m + 8;
  // §7.1.2: a solicited NA is never sent to a multicast address.
  const flags = get32(m + 4);
  if ((flags & NA_SOLICITED) != 0 && isMulticast(ip + DST_AT)) return C.ND_MALFORMED;
  const k = addrFind(target);
  if (k >= 0) {
    // RFC 4862 §5.4.4: someone else has our tentative address (or claims one we use: logged, kept).
    if (addr(k).state == ADDR_TENTATIVE) slaacDuplicate(k);
    return C.ND_DAD_CONFLICT;
  }
  const i = find(target);
  if (i < 0) return C.ND_NA_IGNORED; // §7.2.5: no entry, nothing to create
  return step(i, EV_NA, lladdr, flags) ? C.ND_NA_RECEIVED : C.ND_NA_IGNORED;
}

/** A neighbour's link-layer address named by an NS, RS or RA: cached when there is room by the
 *  replacement rule (learnt entries take no entry in use). */
function learn(a: usize, ll: usize, router: bool): void {
  const i = entryFor(a, false);
  if (i < 0) return;
  step(i, EV_LLADDR, ll, 0);
  if (router) nb(i).router = 1;
}

/** The RA of len bytes at m (§4.2: Cur Hop Limit, Router Lifetime, Reachable Time, Retrans Timer;
 *  0: unspecified). */
function raInput(m: usize, len: u32, ip: usize): C {
  if (!isLinkLocal(ip + SRC_AT)) return C.ND_BAD_SOURCE; // §6.1.2
  slaacRaSeen();
  const hops = <u32>load<u8>(m, 4);
  if (hops != 0) setHopLimit(hops);
  const reach = get32(m + 8);
  if (reach != 0 && reach != baseReachableMs) {
    baseReachableMs = min<u32>(reach, 3_600_000); // §6.2.1: at most an hour
    reachableMs = randomReachable(baseReachableMs);
  }
  const retrans = get32(m + 12);
  if (retrans != 0) retransMs = max<u32>(100, min<u32>(retrans, 60_000));
  updateList(routers(), ND_ROUTERS, ip + SRC_AT, get16(m + 6), 128);
  if (lladdr != 0) learn(ip + SRC_AT, lladdr, true);
  // The options, checked by ndParse(): whole units, none of length 0.
  for (let o = m + RA_LEN; o < m + len; o += <usize>load<u8>(o, 1) << 3) {
    const t = <u32>load<u8>(o);
    if (t == OPT_PREFIX_INFO) {
      const plen = <u32>load<u8>(o, 2);
      const flags = <u32>load<u8>(o, 3);
      const valid = get32(o + 4);
      const preferred = get32(o + 8);
      const prefix = o + 16;
      if (plen > 128 || isLinkLocal(prefix)) continue; // §6.3.4: the link-local prefix is ignored
      if ((flags & PREFIX_ON_LINK) != 0) updateList(prefixes(), ND_PREFIXES, prefix, valid, plen);
      if ((flags & PREFIX_AUTONOMOUS) != 0) slaacPrefix(prefix, plen, valid, preferred);
    } else if (t == OPT_MTU) {
      const mtu = get32(o + 4);
      if (mtu - MIN_MTU <= MTU - MIN_MTU) setLinkMtu(mtu); // §6.3.4: MIN_MTU..MTU
    } else if (t == OPT_RDNSS) {
      const life = get32(o + 4);
      const n = ((<u32>load<u8>(o, 1) << 3) - 8) >> 4;
      for (let k: u32 = 0; k < n; k++) updateList(rdnss(), ND_RDNSS, o + 8 + (k << 4), life, 128);
    }
  }
  return C.ND_RA_RECEIVED;
}

/** Entry of list (n entries) for a: refreshed, added or removed (lifetime 0). A full list keeps
 *  what it has (the newest router is no better than the others). Routers and RDNSS servers are
 *  whole addresses (plen 128); prefixes match by their length and its bits. */
function updateList(list: usize, n: i32, a: usize, life: u32, plen: u32): void {
  let free: usize = 0;
  for (let i = 0; i < n; i++) {
    const e = list + <usize>i * 24;
    if (load<u32>(e, 16) != 0 && load<u32>(e, 20) == plen && prefixMatch(e, a, plen)) {
      store<u32>(e, life, 16);
      return;
    }
    if (free == 0 && load<u32>(e, 16) == 0) free = e;
  }
  if (life == 0 || free == 0) return;
  addrCopy(free, a);
  store<u32>(free, life, 16);
  store<u32>(free, plen, 20);
}

/** Is a inside an on-link prefix (§5.2)? */
export function ndOnLink(a: usize): bool {
  for (let i = 0; i < ND_PREFIXES; i++) {
    const e = prefixes() + <usize>i * 24;
    if (load<u32>(e, 16) != 0 && prefixMatch(e, a, load<u32>(e, 20))) return true;
  }
  return false;
}

/** A default router (§6.3.6: one known reachable first, else round the list), or 0. */
export function ndRouter(): usize {
  let any: usize = 0;
  for (let i = 0; i < ND_ROUTERS; i++) {
    const r = routers() + <usize>i * 24;
    if (load<u32>(r, 16) == 0) continue;
    const k = find(r);
    const st = k >= 0 ? <u32>nb(k).state : FREE;
    if (st == REACHABLE || st == DELAY) return r;
    if (any == 0) any = r;
  }
  return any;
}

/** Default router i's address (16 bytes at out) and its lifetime left in s; 0 when none. */
export function ndRouterAt(i: u32, out: usize): u32 {
  return listAt(routers(), ND_ROUTERS, i, out);
}
/** RDNSS server i (RFC 8106), the same way. */
export function ndDnsAt(i: u32, out: usize): u32 {
  return listAt(rdnss(), ND_RDNSS, i, out);
}

function listAt(list: usize, n: i32, i: u32, out: usize): u32 {
  if (i >= <u32>n) return 0;
  const e = list + <usize>i * 24;
  const life = load<u32>(e, 16);
  if (life != 0) addrCopy(out, e);
  return life;
}

/** Neighbour i: its state (FREE 0 ... PROBE 5), with its address (16 bytes) and MAC (6) at out. */
export function ndNeighbour(i: u32, out: usize): u32 {
  if (i >= <u32>ND_CACHE_SIZE) return 0;
  const e = nb(<i32>i);
  if (e.state == FREE) return 0;
  addrCopy(out, changetype<usize>(e));
  store<u32>(out, e.mac0, 16);
  store<u16>(out, e.mac4, 20);
  store<u16>(out, e.router, 22);
  return e.state;
}

/** Timers: neighbour states, then the lifetimes when s seconds went by (ipv6_api.ts's tick; 0:
 *  none). ms to the next neighbour timer. */
export function ndPoll(s: u32): u32 {
  let next = POLL_MAX_SLEEP_MS;
  for (let i = 0; i < ND_CACHE_SIZE; i++) {
    const e = nb(i);
    const st = <u32>e.state;
    if (st == FREE || st == STALE) continue;
    if (due(e.timer)) step(i, EV_TIMER, 0, 0);
    if (e.state != FREE && e.state != STALE) next = sooner(next, e.timer);
  }
  if (s != 0) {
    for (let i = 0; i < LIST_ENTRIES; i++) {
      const e = routers() + <usize>i * 24;
      store<u32>(e, lifeLeft(load<u32>(e, 16), s), 16);
    }
  }
  return next;
}

/** Debug-build invariants (debug_check): 0, or (check << 8) | entry. 1: a bad state; 2: queued
 *  differs from the packets it owns in ARP's pool, exceeds the per-neighbour bound, or is not 0
 *  outside INCOMPLETE. */
export function ndCheck(): u32 {
  for (let i = 0; i < ND_CACHE_SIZE; i++) {
    const e = nb(i);
    const q = <u32>e.queued;
    if (<u32>e.state > PROBE) return (1 << 8) | <u32>i;
    if (arpPoolCount(ND_OWNER | <u32>i) != q || q > <u32>ND_QUEUE_PER_NEIGHBOUR || (q != 0 && e.state != INCOMPLETE)) return (2 << 8) | <u32>i;
  }
  return 0;
}
