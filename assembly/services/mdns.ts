// The mDNS responder (RFC 6762) and DNS-SD service registration (RFC 6763): the board answers for
// `<name>.local` (A, and AAAA in an image with IPv6) and for its services (PTR, SRV, TXT, and the
// `_services._dns-sd._udp` enumeration), on 224.0.0.251:5353 (and [ff02::fb]:5353 with IPv6).
//
//   mdnsStart(name, len)          // join, probe, announce; len 0: MDNS_HOSTNAME-xxxxxx (MAC's last 3 bytes)
//   mdnsAddService(inst, il, type, tl, port, txt, xl)  // "_http._tcp", port 80, TXT in wire form
//   mdnsHostname(out)             // the name in use ("name-2" after a conflict), dotted
//   mdnsStop()                    // goodbye (TTL 0), leave
//
// States: probing (§8.1: three queries 250 ms apart for every unique name, our records in the
// authority section, the first after 0-250 ms), announcing (§8.3: every record, twice, 1 s apart),
// running. A response holding a record for a name being probed, or a simultaneous probe that wins
// the tie-break (§8.2: compared for the host name's A record), is a conflict: the name is renamed
// `name-2`, `name-3`... (§9) and probed again; 15 conflicts within 10 s make each probing wait 5 s.
// After announcing, a response claiming one of our unique records with other data (cache-flush
// bit set) renames us at once, as avahi does (§9 resets to probing first; see response()). A new
// address or the link coming back starts probing again (§8). Goodbyes (§10.1, TTL 0): on mdnsStop
// and for a removed service; when the address changes or goes, for the A (every record when none
// is left), sent before it goes; none when the carrier is lost (nothing can be sent then).
//
// Answers (§6): a question (type, or ANY) for one of our records is answered with it plus the
// records DNS-SD adds (§12 of 6763: SRV, TXT and A for a PTR; A for an SRV). Known answers in the
// query with at least half our TTL suppress theirs (§7.1). A query from a port other than 5353 is
// legacy unicast (§6.7): answered to its source with its ID and question, TTL 10, no cache-flush
// bit. A QU question (§5.4) or a query sent to our address is answered by unicast to its source;
// the rest by multicast, where a record goes out at most once a second (§6), and an answer with a
// shared record (a PTR) waits 20-120 ms (§6) so answers from several hosts do not collide. TTLs:
// 120 s for records naming a host (A, SRV), 4500 s for the rest (§10). Unique records carry the
// cache-flush bit (§10.2).
//
// IPv6 (FEATURE_IPV6): an AAAA per preferred address of the interface (link-local and SLAAC; not
// tentative ones under DAD, nor deprecated ones), unique, TTL 120 like the A. An A answer carries
// the AAAAs as additionals and the other way round (§6.2), as do PTR and SRV answers (6763 §12).
// They are probed with the A; a new or lost IPv6 address is announced again without probing (§8.4).
// mDNS over IPv6 as well: the socket joins ff02::fb (iface/mld.ts reports it) and takes IPv6
// datagrams; every multicast message goes to both groups (so the rate limit spans both), unicast
// answers to the asker's family. On an IPv6-only link (no IPv4 address, the link-local one
// preferred) it runs over ff02::fb alone, its host name owning only AAAAs.
// Not done: NSEC negative answers, the probe tie-break for service names and on AAAA, truncated
// (TC) multi-packet known answers.
//
// No allocation: names, services and the per-record state live in one static block, present only
// in a build with FEATURE_MDNS (a function's memory.data: not compiled in without it). Messages
// are parsed where they lie in the received frame and answers built in the transmit frame.
import { FEATURE_IPV6, FEATURE_MDNS, IPV6_ADDRS, MDNS_HOSTNAME, MDNS_SERVICES, MDNS_TXT_MAX, POLL_MAX_SLEEP_MS } from "../config";
import { due, now, until } from "../support/clock";
import { C, count } from "../support/counters";
import { EINVAL, ENOBUFS, OK } from "../support/errors";
// Not `logf`: the build's transform would make each format module-level static data, there in
// every image that imports this file, mDNS or not; under another name the text is compiled only
// with the functions that use it (in a build with FEATURE_MDNS).
import { INFO, logf as log } from "../support/log";
import { phy_random } from "../support/phy";
import { get16, get32, put16, put32 } from "../support/bytes";
import {
  CLASS_ANY, CLASS_IN, DnsRecord, FLAG_AA, FLAG_QR, HEADER_LEN, LABEL_MAX, NameWriter, TYPE_A, TYPE_AAAA, TYPE_ANY, TYPE_PTR, TYPE_SRV,
  TYPE_TXT, nameLen, nameMatched, readName,
} from "../wire/dns";
import { WireError } from "../wire/error";
import { ipAddr, isOnLink, linkUp, macW0, macW4 } from "../iface/netif";
import { rxHeader } from "../iface/ipv4";
import { isMulticast } from "../iface/igmp";
import { ADDR_PREFERRED, addr } from "../iface/ipv6";
import {
  UDP6_TX_PAYLOAD, UDP_MAX_PAYLOAD, UDP_TX_PAYLOAD, udpBind, udpClose, udpJoin, udpSendPrepared, udpSendto6, udpServiceSocket, udpSetMulticastTtl,
} from "../api/udp";
import { U_SVC6, udpDest6, udpSock, udpSource6 } from "../sockets/udp";
import { mldJoinService } from "../iface/mld";
import { ndOnLink } from "../iface/nd";
import { addrCopy, isLinkLocal, isMulticast as isMulticast6 } from "../wire/ipv6";

export const MDNS_PORT: u32 = 5353;
export const MDNS_GROUP: u32 = 0xe00000fb; // 224.0.0.251
/** ff02::fb (§3), in an image with IPv6. */
function group6(): usize {
  return memory.data<u8>([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb]);
}
/** The IPv6 source of the query being answered (a unicast answer goes there). */
function peer6(): usize {
  return memory.data(16, 8);
}
const HOST_TTL: u32 = 120; // §10: records that name a host
const OTHER_TTL: u32 = 4500;
const LEGACY_TTL: u32 = 10; // §6.7
const PROBE_MS: u32 = 250;
const ANNOUNCE_MS: u32 = 1000;
const RATE_MS: u32 = 1000; // §6: a record multicast at most once a second
const CACHE_FLUSH: u32 = 0x8000;
const QU: u32 = 0x8000;

// States.
const IDLE: u32 = 0; // not started
const WAITING: u32 = 1; // started, no address or no link
const PROBING: u32 = 2;
const ANNOUNCING: u32 = 3;
const RUNNING: u32 = 4;

// Record numbers: 0 the host's A; service i has 1 + 4i (PTR type -> instance), + 1 SRV, + 2 TXT,
// + 3 (PTR _services._dns-sd._udp -> type); with IPv6, then an AAAA per interface address slot
// (R_AAAA + k for slot k, live while that address is preferred). At most 32, so a set of records
// is a u32 mask.
const R_AAAA: u32 = 1 + 4 * <u32>MDNS_SERVICES;
const RECORDS: u32 = R_AAAA + (FEATURE_IPV6 ? <u32>IPV6_ADDRS : 0);
if (RECORDS > 32) ERROR("config.ts MDNS_SERVICES: at most 7 (with IPv6: (31 - IPV6_ADDRS) / 4)");
/** The host's address records: its A and (IPv6) its AAAAs. */
const HOST_MASK: u32 = FEATURE_IPV6 ? 1 | (((1 << <u32>IPV6_ADDRS) - 1) << R_AAAA) : 1;
const R_PTR: u32 = 0;
const R_SRV: u32 = 1;
const R_TXT: u32 = 2;
const R_ENUM: u32 = 3;

/** The instance label, the service type (two labels) and .local in wire form. */
const SVC_NAME_MAX: u32 = 1 + LABEL_MAX + 40 + 7;
const SVC_TXT = (MDNS_TXT_MAX + 8) & ~3;

@unmanaged
class Service {
  used: u32;
  port: u32;
  nameLen: u32;
  /** Where the type starts in the name (the instance label's length + 1). */
  typeOff: u32;
  txtLen: u32;
  /** Renames so far (the suffix in use: 0 none, else -(n + 1)). */
  renames: u32;
}

const SVC_FIELDS = offsetof<Service>();
const SVC_SIZE: u32 = (<u32>SVC_FIELDS + SVC_NAME_MAX + 1 + LABEL_MAX + 1 + <u32>SVC_TXT + 7) & ~7;
const HOST_NAME_MAX: u32 = 1 + LABEL_MAX + 7;
// The static block.
const O_HOST: u32 = 0; // host.local in wire form
const O_BASE: u32 = 72; // the label asked for (length byte, then the label)
const O_LAST: u32 = 136; // u32 per record: when it was last multicast
const O_TABLE: u32 = O_LAST + 4 * RECORDS; // the compression table
const TABLE_CAP: u32 = 32;
const O_SVC: u32 = (O_TABLE + 2 * TABLE_CAP + 7) & ~7;
const AREA: u32 = O_SVC + SVC_SIZE * <u32>MDNS_SERVICES;

/** The static block; a function, so a build without mDNS has none of it. */
function area(): usize {
  return memory.data(<i32>AREA, 8);
}
function writerBlock(): NameWriter {
  return changetype<NameWriter>(memory.data(offsetof<NameWriter>(), 8));
}
function recordBlock(): DnsRecord {
  return changetype<DnsRecord>(memory.data(offsetof<DnsRecord>(), 8));
}
/** _services._dns-sd._udp.local (RFC 6763 §9). */
function servicesName(): usize {
  return memory.data<u8>([9, 95, 115, 101, 114, 118, 105, 99, 101, 115, 7, 95, 100, 110, 115, 45, 115, 100, 4, 95, 117, 100, 112, 5, 108, 111, 99, 97, 108, 0]);
}
const SERVICES_NAME_LEN: u32 = 30;
/** "local" and the root, the end of every name here. */
function localSuffix(): usize {
  return memory.data<u8>([5, 108, 111, 99, 97, 108, 0]);
}

let state: u32 = IDLE;
let fd: i32 = -1;
let hostLen: u32 = 0;
/** Host renames so far. */
let hostRenames: u32 = 0;
let conflicts: u32 = 0;
/** Conflicts in the 10 s window that started at burstAt (§9: from the 15th, probe every 5 s). */
let burst: u32 = 0;
let burstAt: u32 = 0;
/** Probes sent in this round; announcements sent. */
let sent: u32 = 0;
let nextAt: u32 = 0;
/** The address and link state probing was for; the IPv6 addresses announced (a digest). */
let lastIp: u32 = 0;
let last6: u32 = 0;
let lastLink: bool = false;
/** Multicast answers waiting for their 20-120 ms (§6): records and when. */
let pending: u32 = 0;
let pendingAt: u32 = 0;

// @ts-ignore: decorator
@inline function svc(i: u32): Service {
  return changetype<Service>(area() + O_SVC + <usize>i * SVC_SIZE);
}
// @ts-ignore: decorator
@inline function svcName(i: u32): usize {
  return area() + O_SVC + <usize>i * SVC_SIZE + SVC_FIELDS;
}
// @ts-ignore: decorator
@inline function svcBase(i: u32): usize {
  return svcName(i) + SVC_NAME_MAX;
}
// @ts-ignore: decorator
@inline function svcTxt(i: u32): usize {
  return svcBase(i) + 1 + LABEL_MAX;
}
// @ts-ignore: decorator
@inline function hostName(): usize {
  return area() + O_HOST;
}
// @ts-ignore: decorator
@inline function lastSent(r: u32): usize {
  return area() + O_LAST + (<usize>r << 2);
}

// ---- names ------------------------------------------------------------------------------------

/** The label (base, a length byte then the label) with "-n" when n > 1, then `tail` (tLen bytes
 *  of wire form), written at out; returns the length. The label is cut to fit 63 bytes. */
function composeName(out: usize, base: usize, n: u32, tail: usize, tLen: u32): u32 {
  let l = <u32>load<u8>(base);
  let digits: u32 = 0;
  for (let v = n; v > 0; v /= 10) digits++;
  const suffix: u32 = n > 1 ? 1 + digits : 0;
  if (l + suffix > LABEL_MAX) l = LABEL_MAX - suffix;
  memory.copy(out + 1, base + 1, l);
  if (n > 1) {
    store<u8>(out + 1 + l, 45); // '-'
    for (let k: u32 = 0, v = n; k < digits; k++, v /= 10) store<u8>(out + l + suffix - k, <u8>(48 + v % 10));
  }
  store<u8>(out, <u8>(l + suffix));
  memory.copy(out + 1 + l + suffix, tail, tLen);
  return 1 + l + suffix + tLen;
}

/** A label from ASCII text (1..63 printable bytes, lowercased: names compare as bytes) into
 *  out (a length byte, then the label); false when invalid. Dots are kept: an instance label may
 *  hold them (RFC 6763 §4.3); a host label may not. */
function setLabel(out: usize, p: usize, len: u32, host: bool): bool {
  if (len == 0 || len > LABEL_MAX) return false;
  for (let i: u32 = 0; i < len; i++) {
    let c = <u32>load<u8>(p + i);
    if (c < 32 || c > 126 || (host && (c == 46 || c == 32))) return false;
    if (c - 65 < 26) c |= 32;
    store<u8>(out + 1 + i, <u8>c);
  }
  store<u8>(out, <u8>len);
  return true;
}

function hex(v: u32): u32 {
  return v < 10 ? 48 + v : 87 + v;
}

/** The default label: MDNS_HOSTNAME, '-', the MAC's last three bytes in hex (unique per board, so
 *  a fleet of one firmware does not spend its start renaming). */
function defaultLabel(out: usize): void {
  const name = MDNS_HOSTNAME;
  let n: u32 = 0;
  for (let i = 0; i < name.length && n < LABEL_MAX - 7; i++) store<u8>(out + 1 + n++, <u8>name.charCodeAt(i));
  store<u8>(out + 1 + n++, 45);
  const b3 = macW0 >>> 24; // MAC byte 3, then 4 and 5 (raw words as loaded)
  const b45 = <u32>macW4;
  const tail = (b3 << 16) | ((b45 & 0xff) << 8) | (b45 >>> 8);
  for (let k = 5; k >= 0; k--) store<u8>(out + 1 + n++, <u8>hex((tail >>> (<u32>k << 2)) & 15));
  store<u8>(out, <u8>n);
}

function composeHost(): void {
  hostLen = composeName(hostName(), area() + O_BASE, hostRenames + 1, localSuffix(), 7);
}

function composeService(i: u32, type: usize, typeLen: u32): void {
  const s = svc(i);
  const name = svcName(i);
  s.nameLen = composeName(name, svcBase(i), s.renames + 1, type, typeLen);
  s.typeOff = <u32>load<u8>(name) + 1;
}

// ---- records ----------------------------------------------------------------------------------

// @ts-ignore: decorator
@inline function svcOf(r: u32): u32 {
  return (r - 1) >> 2;
}
// @ts-ignore: decorator
@inline function kindOf(r: u32): u32 {
  return (r - 1) & 3;
}

// Where the record reads an address slot, the test is spelled out: asc drops the branch for a
// constant condition, not for an inlined call, and the slots would be static data without IPv6.
// @ts-ignore: decorator
@inline function isAaaa(r: u32): bool {
  return FEATURE_IPV6 && r >= R_AAAA;
}
// @ts-ignore: decorator
@inline function isHost(r: u32): bool {
  return r == 0 || isAaaa(r);
}

/** An AAAA is live while its address is preferred: not while DAD runs (tentative), and not once
 *  deprecated (RFC 4862 §5.5.4: no new communication to it). */
function recordLive(r: u32): bool {
  if (FEATURE_IPV6 && r >= R_AAAA) return addr(<i32>(r - R_AAAA)).state == ADDR_PREFERRED;
  return r == 0 ? ipAddr != 0 : svc(svcOf(r)).used != 0;
}

/** The link-local address is usable (preferred): mDNS can run over IPv6 (false without IPv6). */
function has6(): bool {
  return FEATURE_IPV6 && recordLive(R_AAAA);
}

/** A digest of the AAAA records' addresses: a change is an address change (§8.4). */
function digest6(): u32 {
  let h: u32 = 0;
  for (let r = R_AAAA; r < RECORDS; r++) {
    if (!recordLive(r)) continue;
    const a = changetype<usize>(addr(<i32>(r - R_AAAA)));
    for (let k: usize = 0; k < 16; k += 4) h = (h ^ load<u32>(a + k)) * 0x01000193;
    h ^= r;
  }
  return h;
}

function recordType(r: u32): u32 {
  if (isAaaa(r)) return TYPE_AAAA;
  if (r == 0) return TYPE_A;
  const k = kindOf(r);
  return k == R_SRV ? TYPE_SRV : k == R_TXT ? TYPE_TXT : TYPE_PTR;
}

/** Unique records (the cache-flush bit, probing): A, AAAA, SRV, TXT; the PTRs are shared. */
function recordUnique(r: u32): bool {
  return isHost(r) || kindOf(r) == R_SRV || kindOf(r) == R_TXT;
}

function recordTtl(r: u32): u32 {
  return isHost(r) || kindOf(r) == R_SRV ? HOST_TTL : OTHER_TTL;
}

/** The record's owner name (its length in ownerLen). */
let ownerLen: u32 = 0;
function owner(r: u32): usize {
  if (isHost(r)) {
    ownerLen = hostLen;
    return hostName();
  }
  const i = svcOf(r);
  const s = svc(i);
  const k = kindOf(r);
  if (k == R_ENUM) {
    ownerLen = SERVICES_NAME_LEN;
    return servicesName();
  }
  if (k == R_PTR) {
    ownerLen = s.nameLen - s.typeOff;
    return svcName(i) + s.typeOff;
  }
  ownerLen = s.nameLen;
  return svcName(i);
}

/** Writes record r at msg + pos (TTL ttl, the cache-flush bit when flush); returns the offset past it. */
function emitRecord(w: NameWriter, pos: u32, r: u32, ttl: u32, flush: bool): u32 {
  const msg = w.msg;
  const name = owner(r);
  pos = w.write(pos, name, ownerLen);
  const type = recordType(r);
  put16(msg + pos, type);
  put16(msg + pos + 2, CLASS_IN | (flush && recordUnique(r) ? CACHE_FLUSH : 0));
  put32(msg + pos + 4, ttl);
  const rd = pos + 10;
  let end = rd;
  if (FEATURE_IPV6 && r >= R_AAAA) {
    memory.copy(msg + rd, changetype<usize>(addr(<i32>(r - R_AAAA))), 16);
    end = rd + 16;
  } else if (r == 0) {
    put32(msg + rd, ipAddr);
    end = rd + 4;
  } else {
    const i = svcOf(r);
    const s = svc(i);
    const k = kindOf(r);
    if (k == R_PTR) end = w.write(rd, svcName(i), s.nameLen);
    else if (k == R_ENUM) end = w.write(rd, svcName(i) + s.typeOff, s.nameLen - s.typeOff);
    else if (k == R_SRV) {
      store<u32>(msg + rd, 0); // priority, weight
      put16(msg + rd + 4, s.port);
      end = w.write(rd + 6, <u32>hostName(), hostLen); // compressed too (RFC 6762 §18.14)
    } else {
      memory.copy(msg + rd, svcTxt(i), s.txtLen);
      end = rd + s.txtLen;
    }
  }
  put16(msg + pos + 8, end - rd);
  return end;
}

/** The most a record takes (names uncompressed). */
const RECORD_MAX: u32 = 2 * SVC_NAME_MAX + 16 + <u32>SVC_TXT;

/** Whether the record rr (in the message at p) holds the same rdata as our record r. */
function sameRdata(r: u32, p: usize, rr: DnsRecord): bool {
  if (FEATURE_IPV6 && r >= R_AAAA) return rr.rdlength == 16 && memory.compare(p + rr.rdata, changetype<usize>(addr(<i32>(r - R_AAAA))), 16) == 0;
  if (r == 0) return rr.rdlength == 4 && get32(p + rr.rdata) == ipAddr;
  const i = svcOf(r);
  const s = svc(i);
  const k = kindOf(r);
  if (k == R_TXT) {
    if (rr.rdlength != s.txtLen) return false;
    return memory.compare(p + rr.rdata, svcTxt(i), s.txtLen) == 0;
  }
  let at = rr.rdata;
  if (k == R_SRV) {
    if (rr.rdlength < 7 || get16(p + at + 4) != s.port || load<u32>(p + at) != 0) return false;
    at += 6;
  }
  const name = k == R_SRV ? hostName() : k == R_PTR ? svcName(i) : svcName(i) + s.typeOff;
  const nLen = k == R_SRV ? hostLen : k == R_PTR ? s.nameLen : s.nameLen - s.typeOff;
  return readName(p, rr.end, at, 0, name, nLen) == <i32>rr.end && nameMatched;
}

/** Records (a mask) whose owner is the name at off and that a question of type `type` asks for. */
function recordsNamed(p: usize, len: u32, off: u32, type: u32): u32 {
  let m: u32 = 0;
  for (let r: u32 = 0; r < RECORDS; r++) {
    if (!recordLive(r) || (type != TYPE_ANY && type != recordType(r))) continue;
    const name = owner(r);
    if (readName(p, len, off, 0, name, ownerLen) >= 0 && nameMatched) m |= 1 << r;
  }
  return m;
}

/** The records DNS-SD adds to these answers (RFC 6763 §12: SRV, TXT and the addresses for a PTR,
 *  the addresses for an SRV), and an A answer's AAAAs and the other way round (RFC 6762 §6.2), less
 *  those already answered. */
function additionals(ans: u32): u32 {
  let add: u32 = FEATURE_IPV6 && (ans & HOST_MASK) != 0 ? HOST_MASK : 0;
  for (let r: u32 = 1; r < R_AAAA; r++) {
    if ((ans & (1 << r)) == 0) continue;
    const k = kindOf(r);
    if (k == R_PTR) add |= (1 << (r + 1)) | (1 << (r + 2)) | HOST_MASK;
    else if (k == R_SRV) add |= HOST_MASK;
  }
  return add & ~ans & liveMask();
}

function liveMask(): u32 {
  let m: u32 = 0;
  for (let r: u32 = 0; r < RECORDS; r++) if (recordLive(r)) m |= 1 << r;
  return m;
}

/** Records owned by unique names being probed: the host's A and AAAAs, each service's SRV and TXT. */
function uniqueMask(): u32 {
  let m: u32 = 0;
  for (let r: u32 = 0; r < RECORDS; r++) if (recordLive(r) && recordUnique(r)) m |= 1 << r;
  return m;
}

// ---- sending ----------------------------------------------------------------------------------

/** A message fits a datagram over either family (IPv6's header is 20 bytes longer). */
const LIMIT: u32 = UDP_MAX_PAYLOAD - (FEATURE_IPV6 ? 20 : 0);

/** (IPv6 images; the others call udpSendPrepared.) Sends the message of len bytes built at
 *  UDP_TX_PAYLOAD from socket s to ip:port, where ip 0 is peer6() over IPv6; to the group, over
 *  IPv6 as well (ff02::fb) once the link-local address is usable. The resolver's `.local` queries
 *  go out here too. */
export function mdnsSend(s: i32, len: u32, ip: u32, port: u32): void {
  if (ip != 0 && ipAddr != 0) udpSendPrepared(s, len, ip, port); // none without an IPv4 address
  if (ip == 0 || ip == MDNS_GROUP) {
    memory.copy(UDP6_TX_PAYLOAD, UDP_TX_PAYLOAD, len); // udpSendto6 then copies nothing
    udpSendto6(s, UDP6_TX_PAYLOAD, len, ip == 0 ? peer6() : group6(), port);
  }
}

/** §11: a datagram from src (0: over IPv6, from udpSource6) came from this link. */
// @ts-ignore: decorator
@inline export function mdnsFromLink(src: u32): bool {
  if (FEATURE_IPV6 && src == 0) return isLinkLocal(udpSource6) || ndOnLink(udpSource6);
  return isOnLink(src);
}

/** A response with the records of `ans` (answers) and `add` (additional), TTL as given (0: goodbye;
 *  0xffffffff: each record's own), to ip:port. Legacy: id and the question at qOff of the query
 *  (p, len) echoed, no cache-flush bit. Returns the records sent. */
function respond(ans: u32, add: u32, ttl: u32, ip: u32, port: u32, id: u32, p: usize, len: u32, qOff: u32): u32 {
  const msg = UDP_TX_PAYLOAD;
  const w = writerBlock();
  w.reset(msg, area() + O_TABLE, TABLE_CAP);
  put16(msg, id);
  put16(msg + 2, FLAG_QR | FLAG_AA);
  store<u64>(msg + 4, 0);
  let pos = HEADER_LEN;
  const legacy = qOff != 0;
  if (legacy) {
    // §6.7: the question repeated (decompressed: its pointers were into the query).
    const e = readName(p, len, qOff, msg + pos);
    if (e < 0 || <u32>e + 4 > len) return 0;
    pos = w.write(pos, msg + pos, nameLen); // in place: only remembered for compression
    memory.copy(msg + pos, p + <u32>e, 4);
    pos += 4;
    put16(msg + 4, 1);
  }
  let nAns: u32 = 0;
  let nAdd: u32 = 0;
  let done: u32 = 0;
  for (let pass = 0; pass < 2; pass++) {
    const set = pass == 0 ? ans : add;
    for (let r: u32 = 0; r < RECORDS; r++) {
      if ((set & (1 << r)) == 0 || !recordLive(r) || pos + RECORD_MAX > LIMIT) continue;
      const t = ttl == 0xffffffff ? (legacy ? min<u32>(recordTtl(r), LEGACY_TTL) : recordTtl(r)) : ttl;
      pos = emitRecord(w, pos, r, t, !legacy);
      done |= 1 << r;
      if (pass == 0) nAns++;
      else nAdd++;
    }
  }
  if (done == 0) return 0;
  put16(msg + 6, nAns);
  put16(msg + 10, nAdd);
  if (FEATURE_IPV6) mdnsSend(fd, pos, ip, port);
  else udpSendPrepared(fd, pos, ip, port);
  count(C.MDNS_RESPONSES_SENT);
  if (ip == MDNS_GROUP) for (let r: u32 = 0; r < RECORDS; r++) if ((done & (1 << r)) != 0) store<u32>(lastSent(r), now);
  return done;
}

/** Multicast the records of `set` not multicast in the last second (§6). */
function multicast(set: u32, add: u32): void {
  let ok: u32 = 0;
  for (let r: u32 = 0; r < RECORDS; r++) if ((set & (1 << r)) != 0 && !recentlySent(r)) ok |= 1 << r;
  if (ok != 0) respond(ok, add & ~ok, 0xffffffff, MDNS_GROUP, MDNS_PORT, 0, 0, 0, 0);
}

function recentlySent(r: u32): bool {
  const t = load<u32>(lastSent(r));
  return t != 0 && now - t < RATE_MS;
}

/** A probe (§8.1): a question (ANY) per unique name, our records for it in the authority section. */
function probe(): void {
  const msg = UDP_TX_PAYLOAD;
  const w = writerBlock();
  w.reset(msg, area() + O_TABLE, TABLE_CAP);
  put16(msg, 0);
  put16(msg + 2, 0);
  store<u64>(msg + 4, 0);
  let pos = HEADER_LEN;
  let nq: u32 = 0;
  const qclass = CLASS_IN | (sent == 0 ? QU : 0); // the first asks for unicast answers (§8.1)
  for (let r: u32 = 0; r < RECORDS; r++) {
    // One question per name: the host's (with an A, or only AAAAs on an IPv6-only link), and each
    // service's instance name (owner of SRV and TXT).
    if (r != 0 && (isAaaa(r) || !recordLive(r) || kindOf(r) != R_SRV)) continue;
    const name = owner(r);
    pos = w.write(pos, name, ownerLen);
    put16(msg + pos, TYPE_ANY);
    put16(msg + pos + 2, qclass);
    pos += 4;
    nq++;
  }
  let ns: u32 = 0;
  const m = uniqueMask();
  for (let r: u32 = 0; r < RECORDS; r++) {
    if ((m & (1 << r)) == 0 || pos + RECORD_MAX > LIMIT) continue;
    pos = emitRecord(w, pos, r, recordTtl(r), false);
    ns++;
  }
  put16(msg + 4, nq);
  put16(msg + 8, ns);
  if (FEATURE_IPV6) mdnsSend(fd, pos, MDNS_GROUP, MDNS_PORT);
  else udpSendPrepared(fd, pos, MDNS_GROUP, MDNS_PORT);
  count(C.MDNS_PROBES_SENT);
}

// ---- the state machine ------------------------------------------------------------------------

/** Probe (again) from the start: after 0-250 ms (§8.1), or 5 s once conflicts pile up (§9). */
function startProbing(): void {
  state = PROBING;
  sent = 0;
  pending = 0;
  nextAt = now + (burst >= 15 ? 5000 : phy_random() % PROBE_MS);
  lastIp = ipAddr;
  lastLink = linkUp;
  if (FEATURE_IPV6) last6 = digest6();
}

/** The records named `name` lost: rename (the host or the service) and probe again. */
function conflict(r: u32): void {
  count(C.MDNS_CONFLICTS);
  conflicts++;
  if (now - burstAt > 10_000) {
    burstAt = now;
    burst = 0;
  }
  burst++;
  if (isHost(r)) {
    hostRenames++;
    composeHost();
    log(INFO, "mdns: name conflict, now %n", <u32>hostName(), hostLen);
  } else {
    const i = svcOf(r);
    const s = svc(i);
    s.renames++;
    const name = svcName(i);
    const typeLen = s.nameLen - s.typeOff;
    // The type moves with the label's length: shift it to the end of the block first.
    memory.copy(name + SVC_NAME_MAX - typeLen, name + s.typeOff, typeLen);
    composeService(i, name + SVC_NAME_MAX - typeLen, typeLen);
    log(INFO, "mdns: service name conflict, now %n", <u32>name, s.nameLen);
  }
  startProbing();
}

/** Start the responder as `name` (len 0: the default). EINVAL: not a valid host label; ENOBUFS:
 *  no socket or group free. Running already: renamed and probed again. */
export function mdnsStart(name: usize, len: u32): i32 {
  if (!FEATURE_MDNS) return EINVAL;
  const base = area() + O_BASE;
  if (len == 0) defaultLabel(base);
  else if (!setLabel(base, name, len, true)) return EINVAL;
  if (fd < 0) {
    const s = udpServiceSocket(datagram, null);
    if (s < 0) return ENOBUFS;
    let r = udpBind(s, MDNS_PORT);
    if (r == OK) r = udpJoin(s, MDNS_GROUP);
    if (r != OK) {
      udpClose(s);
      return r;
    }
    udpSetMulticastTtl(s, 255); // §11 (the hop limit over IPv6 too)
    if (FEATURE_IPV6) {
      udpSock(s).used |= U_SVC6; // IPv6 datagrams too, the source in udpSource6
      mldJoinService(group6());
    }
    fd = s;
  }
  hostRenames = 0;
  conflicts = 0;
  burst = 0;
  composeHost();
  for (let r: u32 = 0; r < RECORDS; r++) store<u32>(lastSent(r), 0);
  state = WAITING;
  lastIp = 0;
  lastLink = false;
  log(INFO, "mdns: %n", <u32>hostName(), hostLen);
  return OK;
}

/** §10.1: the records of m multicast with TTL 0, once, where they were announced and the link
 *  can still carry them (on carrier loss nothing can: peers age them out). */
function goodbye(m: u32): void {
  if (state >= ANNOUNCING && linkUp && (FEATURE_IPV6 || ipAddr != 0)) respond(m, 0, 0, MDNS_GROUP, MDNS_PORT, 0, 0, 0, 0);
}

/** Before the IPv4 address becomes ip (set_ipv4, the DHCP client), while the old one can still
 *  send: a goodbye for the A record it ends, or for every record when no address is left to
 *  answer from. The next poll sees the change: probing at the new address (§8), or waiting. */
export function mdnsAddressChanging(ip: u32): void {
  if (ip != ipAddr) goodbye(ip != 0 || has6() ? 1 : liveMask());
}

/** The link came back (set_link): probe and announce again (§8), even when no poll saw it go. */
export function mdnsLinkUp(): void {
  lastLink = false;
}

/** Goodbye for every record (TTL 0, §10.1), then leave the group. */
export function mdnsStop(): i32 {
  if (fd < 0) return EINVAL;
  goodbye(liveMask());
  udpClose(fd); // leaves 224.0.0.251
  if (FEATURE_IPV6) mldJoinService(0); // and ff02::fb
  fd = -1;
  state = IDLE;
  return OK;
}

/** At init(): nothing started, no services (the socket table was cleared with it). */
export function mdnsReset(): void {
  fd = -1;
  state = IDLE;
  pending = 0;
  hostLen = 0;
  for (let i = 0; i < MDNS_SERVICES; i++) svc(<u32>i).used = 0;
}

/** 0 idle, 1 waiting for an address or the link, 2 probing, 3 announcing, 4 running. */
export function mdnsState(): u32 {
  return state;
}

export function mdnsConflicts(): u32 {
  return conflicts;
}

/** The host name in use, dotted ("name.local"), at out; returns its length (0 when not started). */
export function mdnsHostname(out: usize): u32 {
  if (state == IDLE) return 0;
  return dotted(hostName(), hostLen, out);
}

function dotted(name: usize, nLen: u32, out: usize): u32 {
  let n: u32 = 0;
  let i: u32 = 0;
  while (i + 1 < nLen) {
    const l = <u32>load<u8>(name + i);
    if (n > 0) store<u8>(out + n++, 46);
    memory.copy(out + n, name + i + 1, l);
    n += l;
    i += 1 + l;
  }
  return n;
}

/**
 * Register a service: instance label (ASCII; len 0: the host's label), type ("_http._tcp":
 * two labels, the first a `_name` of 1-15 bytes, the second `_tcp` or `_udp`, RFC 6763 §7), port,
 * TXT in wire form (length-prefixed strings; empty: the single 0 byte of §6.1). Returns a handle
 * (0..MDNS_SERVICES-1), EINVAL or ENOBUFS (MDNS_SERVICES in use). Probed and announced at once.
 */
export function mdnsAddService(inst: usize, instLen: u32, type: usize, typeLen: u32, port: u32, txt: usize, txtLen: u32): i32 {
  if (!FEATURE_MDNS || port == 0 || port > 0xffff || txtLen > MDNS_TXT_MAX) return EINVAL;
  let i: u32 = 0;
  while (i < <u32>MDNS_SERVICES && svc(i).used) i++;
  if (i == <u32>MDNS_SERVICES) return ENOBUFS;
  // The TXT strings must tile the data exactly.
  for (let at: u32 = 0; at < txtLen; at += 1 + <u32>load<u8>(txt + at)) if (at + 1 + <u32>load<u8>(txt + at) > txtLen) return EINVAL;
  const base = svcBase(i);
  if (instLen == 0) memory.copy(base, area() + O_BASE, 1 + <u32>load<u8>(area() + O_BASE));
  else if (!setLabel(base, inst, instLen, false)) return EINVAL;
  // The type: "_x._tcp" (or udp) to wire form at the end of the name block, then .local.
  const tbuf = svcName(i) + SVC_NAME_MAX - 40;
  const dot = typeDot(type, typeLen);
  if (dot < 0) return EINVAL;
  const t1 = <u32>dot;
  const t2 = typeLen - t1 - 1;
  store<u8>(tbuf, <u8>t1);
  for (let k: u32 = 0; k < t1; k++) store<u8>(tbuf + 1 + k, <u8>lowerc(load<u8>(type + k)));
  store<u8>(tbuf + 1 + t1, <u8>t2);
  for (let k: u32 = 0; k < t2; k++) store<u8>(tbuf + 2 + t1 + k, <u8>lowerc(load<u8>(type + t1 + 1 + k)));
  memory.copy(tbuf + 1 + typeLen, localSuffix(), 7);
  const s = svc(i);
  s.renames = 0;
  s.port = port;
  if (txtLen == 0) {
    store<u8>(svcTxt(i), 0);
    s.txtLen = 1;
  } else {
    memory.copy(svcTxt(i), txt, txtLen);
    s.txtLen = txtLen;
  }
  composeService(i, tbuf, typeLen + 1 + 7);
  s.used = 1;
  if (state >= PROBING) startProbing();
  return <i32>i;
}

// @ts-ignore: decorator
@inline function lowerc(c: u8): u32 {
  return <u32>c - 65 < 26 ? <u32>c | 32 : <u32>c;
}

/** The dot of "_name._tcp" / "_name._udp", or -1 when the type is not that shape. */
function typeDot(p: usize, len: u32): i32 {
  if (len < 7 || len > 21) return -1;
  const d = len - 5;
  if (load<u8>(p) != 95 || load<u8>(p + d) != 46 || load<u8>(p + d + 1) != 95) return -1;
  const a = lowerc(load<u8>(p + d + 2));
  const b = lowerc(load<u8>(p + d + 3));
  const c = lowerc(load<u8>(p + d + 4));
  if (!((a == 116 && b == 99 && c == 112) || (a == 117 && b == 100 && c == 112))) return -1;
  for (let k: u32 = 1; k < d; k++) {
    const ch = lowerc(load<u8>(p + k));
    if (!(ch - 97 < 26 || ch - 48 < 10 || ch == 45)) return -1;
  }
  return <i32>d;
}

/** Withdraw a service: goodbyes for its records (§10.1). */
export function mdnsRemoveService(h: i32): i32 {
  if (h < 0 || h >= MDNS_SERVICES || !svc(<u32>h).used) return EINVAL;
  goodbye(15 << (1 + 4 * <u32>h));
  svc(<u32>h).used = 0;
  return OK;
}

/** The instance name of service h, dotted, at out; its length (0: none). */
export function mdnsServiceName(h: i32, out: usize): u32 {
  if (h < 0 || h >= MDNS_SERVICES || !svc(<u32>h).used) return 0;
  return dotted(svcName(<u32>h), svc(<u32>h).nameLen, out);
}

/** Timers: probes, announcements, delayed answers, address and link changes. Returns ms until
 *  the next. */
export function mdnsPoll(): u32 {
  if (state == IDLE) return POLL_MAX_SLEEP_MS;
  const up = linkUp && (ipAddr != 0 || has6());
  // With IPv6 the link-local address may come (its DAD done) or go with no IPv4 change.
  if (ipAddr != lastIp || linkUp != lastLink || (FEATURE_IPV6 && (state == WAITING) == up)) {
    // §8: a new address or the link back: probe and announce again.
    if (up) startProbing();
    else state = WAITING;
    lastIp = ipAddr;
    lastLink = linkUp;
  }
  if (FEATURE_IPV6 && state >= PROBING && digest6() != last6) {
    // §8.4: an IPv6 address came (SLAAC, DAD done) or went: the name is ours already, so announce
    // the records again (twice); the cache-flush bit makes peers drop the AAAAs not in it (§10.2).
    last6 = digest6();
    if (state != PROBING) {
      state = ANNOUNCING;
      sent = 0;
      nextAt = now;
    }
  }
  if (state == WAITING) return POLL_MAX_SLEEP_MS;
  if (due(nextAt)) {
    if (state == PROBING) {
      if (sent < 3) {
        probe();
        sent++;
        nextAt = now + PROBE_MS;
      } else {
        // §8.3: announce every record, twice, a second apart.
        state = ANNOUNCING;
        sent = 0;
        log(INFO, "mdns: %n is ours", <u32>hostName(), hostLen);
      }
    }
    if (state == ANNOUNCING && due(nextAt)) {
      respond(liveMask(), 0, 0xffffffff, MDNS_GROUP, MDNS_PORT, 0, 0, 0, 0);
      sent++;
      nextAt = now + ANNOUNCE_MS;
      if (sent >= 2) state = RUNNING;
    }
  }
  if (pending != 0 && due(pendingAt)) {
    const p = pending;
    pending = 0;
    multicast(p, additionals(p));
  }
  let next = state == RUNNING ? POLL_MAX_SLEEP_MS : until(nextAt);
  if (pending != 0) next = min<u32>(next, until(pendingAt));
  return min<u32>(next, POLL_MAX_SLEEP_MS);
}

// ---- receiving --------------------------------------------------------------------------------

/** Skips count questions from off; the offset past them or -1. */
function skipQuestions(p: usize, len: u32, off: u32, n: u32): i32 {
  for (let k: u32 = 0; k < n; k++) {
    const e = readName(p, len, off, 0);
    if (e < 0 || <u32>e + 4 > len) return -1;
    off = <u32>e + 4;
  }
  return <i32>off;
}

function malformed(): void {
  count(C.MDNS_MALFORMED);
}

/** A message to 5353 (multicast or to our address), where it lies in the received frame; src 0:
 *  over IPv6, from udpSource6. */
function datagram(s: i32, p: usize, len: u32, src: u32, sport: u32): void {
  if (state < PROBING || len < HEADER_LEN) {
    if (len < HEADER_LEN) malformed();
    return;
  }
  // §11: what was not sent to the group must come from this link.
  const toGroup = FEATURE_IPV6 && src == 0 ? isMulticast6(udpDest6) : isMulticast(get32(rxHeader + 16));
  if (!toGroup && !mdnsFromLink(src)) return;
  if (FEATURE_IPV6 && src == 0) addrCopy(peer6(), udpSource6);
  const flags = get16(p + 2);
  if ((flags & 0x7800) != 0) return; // §18.3: opcode other than 0: ignored
  const qd = get16(p + 4);
  const an = get16(p + 6);
  const ns = get16(p + 8);
  const ar = get16(p + 10);
  const e = skipQuestions(p, len, HEADER_LEN, qd);
  if (e < 0) {
    malformed();
    return;
  }
  if ((flags & FLAG_QR) != 0) {
    if (sport == MDNS_PORT && (flags & 15) == 0) response(p, len, <u32>e, an + ns + ar); // §6: responses come from 5353; §18.11
    return;
  }
  query(p, len, qd, <u32>e, an, ns, src, sport, toGroup);
}

/** A response's records (from off, n of them): conflicts with ours (§8.1, §9). */
function response(p: usize, len: u32, off: u32, n: u32): void {
  const rr = recordBlock();
  for (let k: u32 = 0; k < n; k++) {
    if (rr.parse(p, len, off, 0) != WireError.OK) {
      malformed();
      return;
    }
    const at = off;
    off = rr.end;
    if ((rr.klass & 0x7fff) != CLASS_IN) continue;
    const m = recordsNamed(p, len, at, TYPE_ANY) & uniqueMask();
    if (m == 0) continue;
    let sameType: i32 = -1;
    let mine = false;
    for (let r: u32 = 0; r < RECORDS; r++) {
      if ((m & (1 << r)) == 0 || rr.type != recordType(r)) continue;
      sameType = <i32>r;
      if (sameRdata(r, p, rr)) mine = true;
    }
    if (mine) continue; // ours exactly: no conflict (§9)
    if (state == PROBING) {
      // §8.1: any other record for a name being probed.
      conflict(ctz(m));
      return;
    }
    if (sameType >= 0 && rr.ttl != 0 && (rr.klass & CACHE_FLUSH) != 0) {
      // §9: another host claims one of our unique records. The RFC resets to probing, which a
      // defender answers; we rename at once, as avahi does: python-zeroconf, for one, answers no
      // ANY question for a host name, so it would never defend it against a probe. A claim
      // without the cache-flush bit (a stale cache) is ignored.
      conflict(<u32>sameType);
      return;
    }
  }
}

/** A query: answers, or, while probing, another host's probe for our name (§8.2). */
function query(p: usize, len: u32, qd: u32, answersAt: u32, an: u32, ns: u32, src: u32, sport: u32, toGroup: bool): void {
  const legacy = sport != MDNS_PORT;
  if (state == PROBING) {
    if (!legacy && ns > 0) tieBreak(p, len, answersAt, an, ns);
    return;
  }
  let ans: u32 = 0;
  let unicast = legacy || !toGroup;
  let qOff: u32 = 0;
  let off = HEADER_LEN;
  for (let k: u32 = 0; k < qd; k++) {
    const e = readName(p, len, off, 0);
    const qtype = get16(p + <u32>e);
    const qclass = get16(p + <u32>e + 2);
    const c = qclass & 0x7fff;
    if (c == CLASS_IN || c == CLASS_ANY) {
      const m = recordsNamed(p, len, off, qtype);
      if (m != 0 && qOff == 0) qOff = off;
      ans |= m;
      if (m != 0 && (qclass & QU) != 0) unicast = true; // §5.4
    }
    off = <u32>e + 4;
  }
  if (ans == 0) return;
  // §7.1: known answers with at least half our TTL suppress ours.
  const rr = recordBlock();
  for (let k: u32 = 0; k < an; k++) {
    if (rr.parse(p, len, off, 0) != WireError.OK) {
      malformed();
      return;
    }
    const at = off;
    off = rr.end;
    const m = recordsNamed(p, len, at, rr.type) & ans;
    for (let r: u32 = 0; r < RECORDS; r++) {
      if ((m & (1 << r)) != 0 && sameRdata(r, p, rr) && rr.ttl >= recordTtl(r) / 2) {
        ans &= ~(1 << r);
        count(C.MDNS_KNOWN_ANSWERS);
      }
    }
  }
  if (ans == 0) return;
  const add = additionals(ans);
  if (legacy) respond(ans, add, 0xffffffff, src, sport, get16(p), p, len, qOff);
  else if (unicast) respond(ans, add, 0xffffffff, src, sport, 0, 0, 0, 0);
  else if ((ans & ~uniqueMask()) == 0) multicast(ans, add);
  else {
    // §6: an answer with shared records waits 20-120 ms, gathering others meanwhile.
    if (pending == 0) pendingAt = now + 20 + phy_random() % 100;
    pending |= ans;
  }
}

/**
 * §8.2: another host probes for our host name at the same time. Its authority records for the name
 * are compared with ours (class, type, then rdata, as unsigned bytes); the lexicographically later
 * set wins. Losing: wait a second and probe again (the winner's announcement then renames us).
 * Compared on the first record each side has for the host name (ours: the A, or with no IPv4
 * address the link-local AAAA).
 */
function tieBreak(p: usize, len: u32, off: u32, an: u32, ns: u32): void {
  const rr = recordBlock();
  const total = an + ns;
  for (let k: u32 = 0; k < total; k++) {
    if (rr.parse(p, len, off, 0) != WireError.OK) {
      malformed();
      return;
    }
    const at = off;
    off = rr.end;
    if (k < an) continue;
    if (readName(p, len, at, 0, <u32>hostName(), hostLen) < 0 || !nameMatched) continue;
    // Ours: class IN (1), type A (1), our address; on an IPv6-only link AAAA (28), the link-local.
    const six = FEATURE_IPV6 && ipAddr == 0;
    const size: u32 = six ? 16 : 4;
    let cmp: i32 = <i32>CLASS_IN - <i32>(rr.klass & 0x7fff);
    if (cmp == 0) cmp = <i32>(six ? TYPE_AAAA : TYPE_A) - <i32>rr.type;
    if (cmp == 0) {
      const n = min<u32>(rr.rdlength, size);
      for (let b: u32 = 0; b < n && cmp == 0; b++) {
        const ours = six ? <u32>load<u8>(changetype<usize>(addr(0)) + b) : (ipAddr >>> (24 - (b << 3))) & 0xff;
        cmp = <i32>ours - <i32>load<u8>(p + rr.rdata + b);
      }
      if (cmp == 0) cmp = <i32>size - <i32>rr.rdlength;
    }
    if (cmp < 0) {
      // We lose: probe again in a second.
      count(C.MDNS_CONFLICTS);
      state = PROBING;
      sent = 0;
      nextAt = now + 1000;
    }
    return;
  }
}

