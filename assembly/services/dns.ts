// The DNS resolver (RFC 1035, RFC 1123 §6.1.3): A lookups over UDP, non-blocking, like a
// getaddrinfo() that returns at once.
//
//   const h = dnsResolve(name, len);   // a handle >= 0, or an error (EINVAL, ENOBUFS, EHOSTUNREACH)
//   ... after input()/poll():
//   dnsResult(h)                       // EWOULDBLOCK while pending; 0: dnsAddress(h) is the address;
//                                      // or ENXDOMAIN / ESERVFAIL / ETRUNCATED / ENODATA / ETIMEDOUT /
//                                      // ECONNREFUSED (every server answered port unreachable)
//   dnsRelease(h)                      // frees the slot (cancels a pending lookup)
//
// A finished lookup keeps its slot until released, or until a new lookup needs a slot and it is
// the oldest finished one (then its handle reads EINVAL). A dotted quad ("10.0.0.1") resolves at
// once without a query, and a cached answer too; IPv6 text ("2001:db8::1") is EINVAL: it is no
// name (wire/ipv6.ts parseIpv6Text gives its 16 bytes; the Node host's lookup answers it itself).
//
// Queries go to the servers set with dnsSetServers (by the DHCP client, or the board): the first
// transmission to the first server, then on each timeout the next server, the timeout doubling after
// each pass (DNS_TIMEOUT_MS, DNS_TRIES passes). A server that answers SERVFAIL, REFUSED or another
// error, or whose host sends ICMP port unreachable, is skipped for the rest of the lookup.
// NXDOMAIN is final. Each lookup has its own UDP socket on a random ephemeral port and a random
// query id; a reply is accepted only from port 53 of a server this lookup queried, with the id and
// the question (name, type A or AAAA, class IN) it asked; anything else is dropped and counted.
// CNAMEs are followed in the reply, and by querying the target when the reply stops at a CNAME,
// DNS_MAX_CNAME in all. A name under `.local` (with FEATURE_MDNS) is asked by one-shot
// multicast DNS instead (RFC 6762 §5.1): to 224.0.0.251:5353 (and [ff02::fb]:5353 with IPv6,
// for A and AAAA alike), the answer taken from any responder on the link. Answers are cached
// (DNS_CACHE_SLOTS) for their TTL (at most DNS_CACHE_MAX_TTL_S; TTL 0 is not cached) under the
// name asked.
//
// IPv6 (FEATURE_IPV6): dnsResolve6 asks for the AAAA record (RFC 3596) the same way, CNAMEs, TTLs,
// cache and errors as for A; dnsAddress6 writes the 16 bytes. With no IPv4 server set, queries go
// to the RDNSS servers of the router advertisements (RFC 8106, iface/nd.ts), the first two, over
// IPv6. What IPv6 needs per lookup and per cache entry lies in side tables (q6(), c6()) that exist
// only in an image with IPv6, so the IPv4-only image keeps its static memory.
import {
  FEATURE_IPV6, FEATURE_MDNS, ND_RDNSS, DNS_CACHE_MAX_TTL_S, DNS_CACHE_NAME_MAX, DNS_CACHE_SLOTS, DNS_MAX_CNAME, DNS_MAX_QUERIES, DNS_MSG_MAX, DNS_TIMEOUT_MS, DNS_TRIES,
  POLL_MAX_SLEEP_MS,
} from "../config";
import { due, now, until } from "../support/clock";
import { C, count } from "../support/counters";
import { NET_EV_DNS, netEvent } from "../iface/events";
import {
  EHOSTUNREACH, EINVAL, ENOBUFS, ENODATA, ENOSYS, ENXDOMAIN, ESERVFAIL, ETIMEDOUT, ETRUNCATED, EWOULDBLOCK, OK,
} from "../support/errors";
import { INFO, logf } from "../support/log";
import { phy_random } from "../support/phy";
import { get16 } from "../support/bytes";
import {
  CLASS_IN, DnsResponse, HEADER_LEN, NAME_MAX, PORT, RCODE_NOERROR, RCODE_NXDOMAIN, TYPE_A, TYPE_AAAA, emitQuery, encodeName,
  nameEquals,
} from "../wire/dns";
import { parseIpv4Text } from "../wire/ipv4";
import { WireError } from "../wire/error";
import {
  UDP6_TX_PAYLOAD, UDP_TX_PAYLOAD, udpBind, udpClose, udpSendPrepared, udpSendto6, udpServiceSocket,
} from "../api/udp";
import { U_SVC6, udpSock, udpSource6 } from "../sockets/udp";
import { ndDnsAt } from "../iface/nd";
import { addrCopy, addrEq, isUnspecified } from "../wire/ipv6";
import { MDNS_GROUP, MDNS_PORT, mdnsFromLink, mdnsSend } from "./mdns";

/** Query.server of a `.local` lookup: asked by multicast DNS (RFC 6762 §5.1), not a server. */
const MDNS_LOOKUP: u32 = 2;

const FREE: u32 = 0;
const PENDING: u32 = 1;
const DONE: u32 = 2;

const NAME_BUF: i32 = 256;

@unmanaged
class Query {
  state: u32;
  gen: u32;
  fd: i32;
  id: u32;
  result: i32;
  address: u32;
  ttl: u32;
  /** Transmissions of the current question so far. */
  attempt: u32;
  deadline: u32;
  /** Servers (bit per index) that failed this lookup. */
  failed: u32;
  /** The address each server index was last sent to (0: not queried). */
  sent0: u32;
  sent1: u32;
  /** The index of the last transmission's server. */
  server: u32;
  cnames: u32;
  origLen: u32;
  curLen: u32;
  doneAt: u32;
}

@unmanaged
class CacheEntry {
  /** 0: free; else the kind: A_KIND or AAAA_KIND (its address in c6()). */
  used: u32;
  address: u32;
  expires: u32;
  nameLen: u32;
}

const QSIZE = offsetof<Query>();
const queries = memory.data(<i32>QSIZE * DNS_MAX_QUERIES);
const origNames = memory.data(NAME_BUF * DNS_MAX_QUERIES);
const curNames = memory.data(NAME_BUF * DNS_MAX_QUERIES);
const CSIZE = offsetof<CacheEntry>();
const cache = memory.data(<i32>CSIZE * DNS_CACHE_SLOTS);
const cacheNames = memory.data(<i32>DNS_CACHE_NAME_MAX * DNS_CACHE_SLOTS);
const target = memory.data(NAME_BUF);
const resp = changetype<DnsResponse>(memory.data(offsetof<DnsResponse>()));

let server0: u32 = 0;
let server1: u32 = 0;
let nServers: u32 = 0;
let genNext: u32 = 1;

const A_KIND: u32 = 1;
const AAAA_KIND: u32 = 2;
/** IPv6 only, per lookup: the type asked (u32 at 0), the AAAA answer (16 bytes at Q6_ADDR), the
 *  IPv6 servers last sent to (16 bytes each at Q6_SENT). */
const Q6 = 52;
const Q6_ADDR: usize = 4;
const Q6_SENT: usize = 20;
function q6(i: i32): usize {
  return memory.data(Q6 * DNS_MAX_QUERIES, 8) + <usize>i * Q6;
}
/** IPv6 only: cache entry i's AAAA address. */
function c6(i: i32): usize {
  return memory.data(16 * DNS_CACHE_SLOTS, 8) + <usize>i * 16;
}
// @ts-ignore: decorator
@inline function qtypeOf(i: i32): u32 {
  return FEATURE_IPV6 ? load<u32>(q6(i)) : TYPE_A;
}

// @ts-ignore: decorator
@inline function q(i: i32): Query {
  return changetype<Query>(queries + <usize>i * QSIZE);
}
// @ts-ignore: decorator
@inline function ce(i: i32): CacheEntry {
  return changetype<CacheEntry>(cache + <usize>i * CSIZE);
}
// @ts-ignore: decorator
@inline function serverAt(i: u32): u32 {
  return i == 0 ? server0 : server1;
}

/** Forget every lookup, the cache and the servers (at init: the UDP sockets are gone too). */
export function dnsReset(): void {
  memory.fill(queries, 0, <usize>QSIZE * DNS_MAX_QUERIES);
  memory.fill(cache, 0, <usize>CSIZE * DNS_CACHE_SLOTS);
  server0 = 0;
  server1 = 0;
  nServers = 0;
}

/** The servers to ask, in order (0: none). The DHCP client calls this with what the lease says. */
export function dnsSetServers(a: u32, b: u32): i32 {
  if (a == 0) {
    a = b;
    b = 0;
  }
  if (b == a) b = 0;
  if (a != server0 || b != server1) netEvent(NET_EV_DNS);
  server0 = a;
  server1 = b;
  nServers = a == 0 ? 0 : b == 0 ? 1 : 2;
  if (b) logf(INFO, "dns: servers %i, %i", a, b);
  else logf(INFO, "dns: servers %i", a);
  return OK;
}

export function dnsServer(i: u32): u32 {
  return i < 2 ? serverAt(i) : 0;
}

export function dnsCacheFlush(): void {
  memory.fill(cache, 0, <usize>CSIZE * DNS_CACHE_SLOTS);
}

// ---- the cache -------------------------------------------------------------------------------

function cacheFind(name: usize, len: u32, kind: u32): i32 {
  for (let i = 0; i < DNS_CACHE_SLOTS; i++) {
    const e = ce(i);
    if (e.used == kind && !due(e.expires) && nameEquals(name, len, cacheNames + <usize>i * DNS_CACHE_NAME_MAX, e.nameLen)) return i;
  }
  return -1;
}

/** Caches an A answer (address), or an AAAA one (kind AAAA_KIND: 16 bytes at a6). */
function cacheInsert(name: usize, len: u32, address: u32, ttl: u32, kind: u32, a6: usize): void {
  if (ttl == 0 || len > DNS_CACHE_NAME_MAX) return;
  if (ttl > DNS_CACHE_MAX_TTL_S) ttl = DNS_CACHE_MAX_TTL_S;
  let slot = -1;
  for (let i = 0; i < DNS_CACHE_SLOTS && slot < 0; i++) {
    const e = ce(i);
    if (e.used == kind && nameEquals(name, len, cacheNames + <usize>i * DNS_CACHE_NAME_MAX, e.nameLen)) slot = i;
  }
  for (let i = 0; i < DNS_CACHE_SLOTS && slot < 0; i++) if (!ce(i).used || due(ce(i).expires)) slot = i;
  if (slot < 0) {
    // Full: replace the entry that expires first.
    slot = 0;
    for (let i = 1; i < DNS_CACHE_SLOTS; i++) if (<i32>(ce(i).expires - ce(slot).expires) < 0) slot = i;
  }
  const e = ce(slot);
  e.used = kind;
  e.address = address;
  if (FEATURE_IPV6 && kind == AAAA_KIND) addrCopy(c6(slot), a6);
  e.expires = now + ttl * 1000;
  e.nameLen = len;
  memory.copy(cacheNames + <usize>slot * DNS_CACHE_NAME_MAX, name, len);
}

// ---- lookups ---------------------------------------------------------------------------------

function handleOf(i: i32): i32 {
  return <i32>((q(i).gen << 4) | <u32>i);
}

function slotOf(handle: i32): i32 {
  if (handle < 0) return -1;
  const i = handle & 15;
  if (i >= DNS_MAX_QUERIES || q(i).state == FREE || q(i).gen != (<u32>handle >> 4)) return -1;
  return i;
}

/** A free slot, else the oldest finished one; -1 if all are pending. */
function allocSlot(): i32 {
  let oldest = -1;
  for (let i = 0; i < DNS_MAX_QUERIES; i++) {
    const s = q(i);
    if (s.state == FREE) return i;
    if (s.state == DONE && (oldest < 0 || <i32>(s.doneAt - q(oldest).doneAt) < 0)) oldest = i;
  }
  return oldest;
}

function finish(i: i32, result: i32): void {
  const s = q(i);
  if (s.state == PENDING && s.fd >= 0) udpClose(s.fd);
  s.fd = -1;
  s.state = DONE;
  s.result = result;
  s.doneAt = now;
  if (result == ETIMEDOUT) count(C.DNS_TIMEOUTS);
  const name = <u32>(origNames + <usize>i * NAME_BUF);
  const len = s.origLen;
  // An AAAA answer is not logged: a log format costs static memory in every image (the IPv6
  // code logs nothing), and the log has no IPv6 conversion.
  if (result == OK) {
    if (qtypeOf(i) == TYPE_A) logf(INFO, "dns: %n -> %i ttl %u", name, len, s.address, s.ttl);
  } else if (result == ENXDOMAIN) logf(INFO, "dns: %n: NXDOMAIN", name, len);
  else if (result == ESERVFAIL) logf(INFO, "dns: %n: SERVFAIL", name, len);
  else if (result == ETRUNCATED) logf(INFO, "dns: %n: truncated reply", name, len);
  else if (result == ENODATA) logf(INFO, "dns: %n: no address", name, len);
  else if (result == ETIMEDOUT) logf(INFO, "dns: %n: timed out", name, len);
  else logf(INFO, "dns: %n: error %u", name, len, <u32>-result);
}

/** Send the current question to the next server that has not failed; false if none is left. */
function transmit(i: i32): bool {
  const s = q(i);
  if (FEATURE_MDNS && s.server == MDNS_LOOKUP) return transmitLocal(i);
  const n = serverCount();
  if (n == 0) return false;
  let k: u32 = 0;
  let idx = s.attempt % n;
  while (k < n && (s.failed & (1 << idx)) != 0) {
    idx = (idx + 1) % n;
    k++;
  }
  if (k == n) return false;
  // A send error (no route, ARP queue full) counts as a lost query: the timeout moves on.
  const v6 = FEATURE_IPV6 && nServers == 0;
  const len = emitQuery(v6 ? UDP6_TX_PAYLOAD : UDP_TX_PAYLOAD, s.id, curNames + <usize>i * NAME_BUF, s.curLen, qtypeOf(i));
  if (v6) {
    const a = q6(i) + Q6_SENT + (<usize>idx << 4);
    server6(idx, a);
    udpSendto6(s.fd, UDP6_TX_PAYLOAD, len, a, PORT);
  } else {
    const addr = serverAt(idx);
    udpSendPrepared(s.fd, len, addr, PORT);
    if (idx == 0) s.sent0 = addr;
    else s.sent1 = addr;
  }
  s.server = idx;
  count(s.attempt == 0 ? C.DNS_QUERIES_SENT : C.DNS_RETRANSMITS);
  s.deadline = now + (DNS_TIMEOUT_MS << (s.attempt / n));
  s.attempt++;
  return true;
}

/** A one-shot mDNS query (RFC 6762 §5.1) from the lookup's own port (not 5353): responders
 *  answer it as legacy unicast (§6.7), to that port, with our id and question. Sent DNS_TRIES
 *  times, the timeout doubling. */
function transmitLocal(i: i32): bool {
  const s = q(i);
  if (s.attempt >= DNS_TRIES) return false;
  const len = emitQuery(UDP_TX_PAYLOAD, s.id, curNames + <usize>i * NAME_BUF, s.curLen, qtypeOf(i));
  // With IPv6, to ff02::fb as well: a responder may listen on either family (the first answer
  // ends the lookup, whatever record it asked for).
  if (FEATURE_IPV6) mdnsSend(s.fd, len, MDNS_GROUP, MDNS_PORT);
  else udpSendPrepared(s.fd, len, MDNS_GROUP, MDNS_PORT);
  count(s.attempt == 0 ? C.DNS_QUERIES_SENT : C.DNS_RETRANSMITS);
  s.deadline = now + (DNS_TIMEOUT_MS << s.attempt);
  s.attempt++;
  return true;
}

/** A name in wire form ends in `local` (RFC 6762 §3). */
function isLocal(name: usize, len: u32): bool {
  if (len < 8) return false;
  const p = name + len - 7;
  return load<u8>(p) == 5 && load<u32>(p + 1) == 0x61636f6c && load<u16>(p + 5) == 0x006c; // "loca", "l\0"
}

/** Start (or restart, after a CNAME) the question in curNames[i]: a fresh id. */
function ask(i: i32): void {
  const s = q(i);
  s.id = phy_random() & 0xffff;
  s.attempt = 0;
  s.failed = 0;
  s.sent0 = 0;
  s.sent1 = 0;
  if (FEATURE_IPV6) memory.fill(q6(i) + Q6_SENT, 0, 32);
  if (!transmit(i)) finish(i, EHOSTUNREACH);
}

/** The servers a query may go to: the IPv4 ones, else (IPv6) the first two RDNSS servers. */
function serverCount(): u32 {
  if (FEATURE_IPV6 && nServers == 0) return server6(2, scratch6());
  return nServers;
}

function scratch6(): usize {
  return memory.data(16, 8);
}

/** The idx-th (0 or 1) of the first two RDNSS servers with a lifetime left, written at out; with
 *  idx 2, how many there are. */
function server6(idx: u32, out: usize): u32 {
  let n: u32 = 0;
  for (let k: u32 = 0; k < <u32>ND_RDNSS && n < 2; k++) {
    if (ndDnsAt(k, out) != 0) {
      if (n == idx) break;
      n++;
    }
  }
  return n;
}

/**
 * Start a lookup of the A record of name[0..len) (ASCII, dots between labels). Returns a handle
 * >= 0, or EINVAL (not a valid name), ENOBUFS (every slot pending, or no UDP socket),
 * EHOSTUNREACH (no server configured and not cached).
 */
export function dnsResolve(name: usize, len: u32): i32 {
  return start(name, len, TYPE_A);
}

/** dnsResolve for the AAAA record (RFC 3596); ENOSYS without IPv6. A dotted quad ends at once
 *  with ENODATA (no IPv6 address); IPv6 text is EINVAL, as for dnsResolve. */
export function dnsResolve6(name: usize, len: u32): i32 {
  if (FEATURE_IPV6) return start(name, len, TYPE_AAAA);
  return ENOSYS;
}

function start(name: usize, len: u32, qtype: u32): i32 {
  if (len > 1024) return EINVAL;
  const i = allocSlot();
  if (i < 0) return ENOBUFS;
  const orig = origNames + <usize>i * NAME_BUF;
  const lit = parseIpv4Text(name, len);
  // No host name has a colon (RFC 1123 §2.1): IPv6 text is refused, not looked up (an address
  // is no name to resolve; wire/ipv6.ts parseIpv6Text turns it into its 16 bytes).
  if (FEATURE_IPV6) for (let k: u32 = 0; k < len; k++) if (load<u8>(name + k) == 58) return EINVAL;
  const n = lit ? 0 : encodeName(name, len, orig);
  if (!lit && n < 0) return EINVAL;
  const s = q(i);
  // The slot may have held a finished lookup: from here on, its old handle is gone.
  memory.fill(changetype<usize>(s), 0, QSIZE);
  s.gen = genNext;
  genNext = genNext >= 0x7ffffff ? 1 : genNext + 1;
  s.fd = -1;
  s.origLen = <u32>n;
  s.ttl = 0xffffffff;
  s.doneAt = now;
  if (FEATURE_IPV6) {
    memory.fill(q6(i), 0, Q6);
    store<u32>(q6(i), qtype);
  }
  if (lit) {
    s.state = DONE;
    if (FEATURE_IPV6 && qtype == TYPE_AAAA) s.result = ENODATA;
    else s.address = lit;
    s.ttl = 0;
    return handleOf(i);
  }
  const c = cacheFind(orig, s.origLen, qtype == TYPE_A ? A_KIND : AAAA_KIND);
  if (c >= 0) {
    count(C.DNS_CACHE_HITS);
    s.state = DONE;
    if (FEATURE_IPV6 && qtype == TYPE_AAAA) addrCopy(q6(i) + Q6_ADDR, c6(c));
    s.address = ce(c).address;
    s.ttl = (ce(c).expires - now) / 1000;
    return handleOf(i);
  }
  const local = FEATURE_MDNS && isLocal(orig, s.origLen);
  if (serverCount() == 0 && !local) {
    s.state = FREE;
    return EHOSTUNREACH;
  }
  const fd = udpServiceSocket(datagram, icmpError);
  if (fd < 0) {
    s.state = FREE;
    return ENOBUFS;
  }
  const b = udpBind(fd, 0); // a random ephemeral port
  if (b < 0) {
    udpClose(fd);
    s.state = FREE;
    return b;
  }
  if (FEATURE_IPV6) udpSock(fd).used |= U_SVC6;
  s.fd = fd;
  s.state = PENDING;
  if (local) s.server = MDNS_LOOKUP;
  memory.copy(curNames + <usize>i * NAME_BUF, orig, s.origLen);
  s.curLen = s.origLen;
  ask(i);
  return handleOf(i);
}

/** EWOULDBLOCK while pending; OK (dnsAddress has the address); a negative error; EINVAL: no such handle. */
export function dnsResult(handle: i32): i32 {
  const i = slotOf(handle);
  if (i < 0) return EINVAL;
  const s = q(i);
  return s.state == PENDING ? EWOULDBLOCK : s.result;
}

/** The address of a successful lookup (host order), else 0. */
export function dnsAddress(handle: i32): u32 {
  const i = slotOf(handle);
  if (i < 0) return 0;
  const s = q(i);
  return s.state == DONE && s.result == OK ? s.address : 0;
}

/** The AAAA answer of a successful dnsResolve6 lookup, written at out (16 bytes): 1, else 0. */
export function dnsAddress6(handle: i32, out: usize): u32 {
  if (!FEATURE_IPV6) return 0;
  const i = slotOf(handle);
  if (i < 0 || q(i).state != DONE || q(i).result != OK || qtypeOf(i) != TYPE_AAAA) return 0;
  addrCopy(out, q6(i) + Q6_ADDR);
  return 1;
}

/** Seconds the answer stays valid (the smallest TTL along the CNAME chain). */
export function dnsTtl(handle: i32): u32 {
  const i = slotOf(handle);
  return i < 0 || q(i).state != DONE || q(i).result != OK ? 0 : q(i).ttl;
}

/** Free a lookup's slot; a pending one is cancelled (its socket closed). */
export function dnsRelease(handle: i32): i32 {
  const i = slotOf(handle);
  if (i < 0) return EINVAL;
  const s = q(i);
  if (s.state == PENDING && s.fd >= 0) udpClose(s.fd);
  s.state = FREE;
  s.fd = -1;
  return OK;
}

/** One failed server: ask the next one at once, or finish with `err` when none is left. */
function serverFailed(i: i32, idx: u32, err: i32): void {
  const s = q(i);
  s.failed |= 1 << idx;
  if (!transmit(i)) finish(i, err);
}

/** The pending lookup whose socket is fd, or -1. */
function lookupOf(fd: i32): i32 {
  for (let i = 0; i < DNS_MAX_QUERIES; i++) if (q(i).state == PENDING && q(i).fd == fd) return i;
  return -1;
}

/** A datagram to a lookup's socket, where it lies in the received frame. Longer than a UDP DNS
 *  message may be (RFC 1035 §4.2.1, no EDNS0 sent): only its first DNS_MSG_MAX bytes are read. */
function datagram(fd: i32, p: usize, len: u32, from: u32, sport: u32): void {
  const i = lookupOf(fd);
  if (i >= 0) reply(i, p, len < DNS_MSG_MAX ? len : DNS_MSG_MAX, from, sport);
}

/** ICMP unreachable for the server last asked. */
function icmpError(fd: i32, err: i32): void {
  const i = lookupOf(fd);
  if (i >= 0) serverFailed(i, q(i).server, err);
}

/** Which of the servers lookup i asked sent a datagram from `from` (0: an IPv6 source, in
 *  udpSource6): 0 or 1, or -1 for none of them. */
function serverIndex(i: i32, from: u32): i32 {
  const s = q(i);
  if (FEATURE_IPV6 && from == 0) {
    const a = udpSource6;
    if (isUnspecified(a)) return -1;
    if (addrEq(a, q6(i) + Q6_SENT)) return 0;
    if (addrEq(a, q6(i) + Q6_SENT + 16)) return 1;
    return -1;
  }
  if (from == 0) return -1;
  return from == s.sent0 ? 0 : from == s.sent1 ? 1 : -1;
}

/** One reply of len bytes at msg from (from, sport), to lookup i. */
function reply(i: i32, msg: usize, len: u32, from: u32, sport: u32): void {
  const s = q(i);
  if (FEATURE_MDNS && s.server == MDNS_LOOKUP) {
    // Any responder on the link may answer, from 5353 (RFC 6762 §6.7, §11).
    if (sport != MDNS_PORT || !mdnsFromLink(from)) {
      count(C.DNS_BAD_SOURCE);
      return;
    }
  } else if (sport != PORT || serverIndex(i, from) < 0) {
    count(C.DNS_BAD_SOURCE);
    return;
  }
  if (len < HEADER_LEN) {
    count(C.DNS_MALFORMED);
    return;
  }
  if (get16(msg) != s.id) {
    count(C.DNS_BAD_ID);
    return;
  }
  const e = resp.parse(msg, len, curNames + <usize>i * NAME_BUF, s.curLen, target, qtypeOf(i));
  if (e != WireError.OK) {
    count(C.DNS_MALFORMED);
    return;
  }
  if (resp.qtype != qtypeOf(i) || resp.qclass != CLASS_IN ||
      !resp.qnameMatches) {
    count(C.DNS_BAD_QUESTION);
    return;
  }
  count(C.DNS_REPLIES_ACCEPTED);
  const idx = <u32>serverIndex(i, from);
  if (resp.truncated) {
    finish(i, ETRUNCATED);
    return;
  }
  if (resp.rcode == RCODE_NXDOMAIN) {
    finish(i, ENXDOMAIN);
    return;
  }
  if (resp.rcode != RCODE_NOERROR) {
    serverFailed(i, idx, ESERVFAIL);
    return;
  }
  s.cnames += resp.cnames;
  if (resp.cnames > 0 && resp.ttl < s.ttl) s.ttl = resp.ttl;
  if (resp.found) {
    if (resp.ttl < s.ttl) s.ttl = resp.ttl;
    if (FEATURE_IPV6 && qtypeOf(i) == TYPE_AAAA) {
      addrCopy(q6(i) + Q6_ADDR, msg + resp.address);
      cacheInsert(origNames + <usize>i * NAME_BUF, s.origLen, 0, s.ttl, AAAA_KIND, q6(i) + Q6_ADDR);
    } else {
      s.address = resp.address;
      cacheInsert(origNames + <usize>i * NAME_BUF, s.origLen, s.address, s.ttl, A_KIND, 0);
    }
    finish(i, OK);
    return;
  }
  if (s.cnames >= DNS_MAX_CNAME) {
    finish(i, ESERVFAIL); // a CNAME loop or a chain too long
    return;
  }
  if (resp.cnames > 0) {
    // The reply stopped at a CNAME: ask for its target.
    memory.copy(curNames + <usize>i * NAME_BUF, target, resp.targetLen);
    s.curLen = resp.targetLen;
    ask(i);
    return;
  }
  finish(i, ENODATA);
}

/** Timers and replies of every lookup; returns ms until the next deadline. */
export function dnsPoll(): u32 {
  let next: u32 = POLL_MAX_SLEEP_MS;
  for (let i = 0; i < DNS_MAX_QUERIES; i++) {
    const s = q(i);
    if (s.state != PENDING) continue;
    if (due(s.deadline)) {
      const tries = FEATURE_MDNS && s.server == MDNS_LOOKUP ? DNS_TRIES : DNS_TRIES * serverCount();
      if (s.attempt >= tries || !transmit(i)) {
        finish(i, ETIMEDOUT);
        continue;
      }
    }
    const d = until(s.deadline);
    if (d < next) next = d;
  }
  return next;
}
