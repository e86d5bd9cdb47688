// IPv6 header (RFC 8200 §3) and the walk over its extension headers (§4). Addresses stay where
// they are, 16 bytes in network order; the helpers below compare and classify them in place.
//
// The walk (ipv6Walk()) decides what the interface does with each extension header:
//  - hop-by-hop (only right after the fixed header, §4.3) and destination options (§4.6): options
//    skipped; an unknown option's type says what to do (§4.2: its two high bits, 00 skip, 01
//    discard, 10 discard and send a Parameter Problem, 11 the same unless to a multicast address);
//  - routing (§4.4): segments left 0 is skipped; type 0 (deprecated by RFC 5095) is dropped,
//    others with segments left send a Parameter Problem at the type field;
//  - fragment (§4.5): not reassembled, dropped and counted;
//  - anything else is the upper layer (or No Next Header, 59).
// Termination: each step moves `at` forward by at least 8 bytes (a header is (len + 1) * 8), the
// walk stops when a header would end past the payload, and it takes EXT_MAX steps at most.
import { get16Inline, put16Inline } from "../support/bytes";
import { WireError } from "./error";
import { parseIpv4Text } from "./ipv4";

export const HEADER_LEN: u32 = 40;
/** Where the source and destination addresses are in the header. */
export const SRC_AT: usize = 8;
export const DST_AT: usize = 24;
export const ADDR_LEN: u32 = 16;
export const NH_HOP_BY_HOP: u32 = 0;
export const NH_TCP: u32 = 6;
export const NH_UDP: u32 = 17;
export const NH_ROUTING: u32 = 43;
export const NH_FRAGMENT: u32 = 44;
export const NH_ICMPV6: u32 = 58;
export const NH_NONE: u32 = 59;
export const NH_DEST_OPTIONS: u32 = 60;
/** Extension headers walked per packet at most; a longer chain is dropped (ip6_ext_too_many). */
export const EXT_MAX: u32 = 8;
/** The minimum link MTU (§5): ICMPv6 errors are cut to fit in it. */
export const MIN_MTU: u32 = 1280;

const OPT_PAD1: u32 = 0;

/** What ipv6Walk() found. TRUNCATED .. HOP_BY_HOP_LATE are in the order of their drop counters
 *  (counter_list.ts ip6_ext_truncated .. ip6_unknown_next_header: iface/ipv6.ts maps by offset). */
export const enum Ext {
  /** The upper layer: nextHeader at offset upperAt. */
  UPPER,
  /** A header runs past the payload. */
  TRUNCATED,
  TOO_MANY,
  FRAGMENT,
  /** Routing type 0, or another type with segments left (errorPointer set). */
  ROUTING,
  /** An option whose type says discard; sendError: also a Parameter Problem (code 2). */
  BAD_OPTION,
  /** Hop-by-hop not first: a Parameter Problem code 1 at errorPointer (§4.1). */
  HOP_BY_HOP_LATE,
}

// The packet being received, as ipv6Parse() and ipv6Walk() found it. Module state rather than a
// struct: one packet is received at a time, and a global costs less to write and read than a
// field. The other header fields are read where they lie: the addresses at SRC_AT and DST_AT,
// the hop limit at byte 7.
/** The payload length. */
export let payloadLen: u32 = 0;
/** ipv6Walk(): the upper-layer header's offset from the start of the IPv6 header and its protocol. */
export let upperAt: u32 = 0;
export let upperProto: u32 = 0;
/** ipv6Walk(): the offset of the Next Header field that named the upper layer. */
export let nhFieldAt: u32 = 0;
/** ipv6Walk(): for a Parameter Problem, the offset of the offending byte and whether to send it. */
export let errorPointer: u32 = 0;
export let errorCode: u32 = 0;
export let sendError: bool = false;

/** Checked view of the fixed header in len bytes: version 6, payload length within what arrived
 *  (Ethernet padding after it is ignored). */
export function ipv6Parse(p: usize, len: u32): WireError {
  if (len < HEADER_LEN) return WireError.TRUNCATED;
  if (<u32>load<u8>(p) >> 4 != 6) return WireError.BAD_VERSION;
  const plen = get16Inline(p + 4);
  // A jumbogram (payload length 0 with a hop-by-hop option, RFC 2675) never fits an Ethernet frame.
  if (plen + HEADER_LEN > len) return WireError.BAD_TOTAL_LEN;
  payloadLen = plen;
  return WireError.OK;
}

/** Walks the extension headers of the packet at p, which ipv6Parse() checked (the file's comment). */
export function ipv6Walk(p: usize): Ext {
  const end = HEADER_LEN + payloadLen;
  let nh = <u32>load<u8>(p, 6);
  let at = HEADER_LEN;
  let prevNhAt: u32 = 6; // where the field naming the current header is (a Parameter Problem points there)
  sendError = false;
  errorCode = 0;
  for (let steps: u32 = 0; ; steps++) {
    if (nh != NH_HOP_BY_HOP && nh != NH_DEST_OPTIONS && nh != NH_ROUTING && nh != NH_FRAGMENT) {
      upperAt = at;
      upperProto = nh;
      nhFieldAt = prevNhAt;
      return Ext.UPPER;
    }
    if (steps >= EXT_MAX) return Ext.TOO_MANY;
    if (nh == NH_HOP_BY_HOP && at != HEADER_LEN) {
      errorPointer = prevNhAt;
      errorCode = 1;
      sendError = true;
      return Ext.HOP_BY_HOP_LATE;
    }
    if (at + 8 > end) return Ext.TRUNCATED;
    if (nh == NH_FRAGMENT) return Ext.FRAGMENT; // 8 bytes
    const hlen = (<u32>load<u8>(p + at, 1) + 1) << 3;
    if (at + hlen > end) return Ext.TRUNCATED;
    if (nh == NH_ROUTING) {
      const type = <u32>load<u8>(p + at, 2);
      const left = <u32>load<u8>(p + at, 3);
      if (type == 0) return Ext.ROUTING; // RFC 5095 §3: never processed
      if (left != 0) {
        errorPointer = at + 2; // §4.4: unrecognized type with segments left
        sendError = true;
        return Ext.ROUTING;
      }
    } else {
      const r = options(p, at + 2, at + hlen);
      if (r != Ext.UPPER) return r;
    }
    prevNhAt = at;
    nh = <u32>load<u8>(p + at);
    at += hlen;
  }
  return unreachable(); // the loop only leaves by a return (EXT_MAX bounds it)
}

/** The options in [from, to) of a hop-by-hop or destination options header (§4.2). */
function options(p: usize, from: u32, to: u32): Ext {
  let at = from;
  while (at < to) {
    const type = <u32>load<u8>(p + at);
    if (type == OPT_PAD1) {
      at++;
      continue;
    }
    if (at + 2 > to) return Ext.TRUNCATED;
    const olen = 2 + <u32>load<u8>(p + at, 1);
    if (at + olen > to) return Ext.TRUNCATED;
    // PadN (1), Router Alert (5) and unknown types 00xxxxxx are skipped alike.
    const action = type >> 6;
    if (action != 0) {
      errorPointer = at;
      errorCode = 2;
      // 10: always report; 11: unless the destination was multicast (§4.2).
      sendError = action == 2 || (action == 3 && !isMulticast(p + DST_AT));
      return Ext.BAD_OPTION;
    }
    at += olen;
  }
  return Ext.UPPER;
}

/** Writes a 40-byte header at p (traffic class and flow label 0: we set neither), copying the
 *  addresses from src and dst (which may not overlap it). */
export function emitIpv6(p: usize, plen: u32, nh: u32, hops: u32, src: usize, dst: usize): void {
  store<u32>(p, 0x60); // version 6 (bytes 60 00 00 00)
  put16Inline(p + 4, plen);
  store<u8>(p, <u8>nh, 6);
  store<u8>(p, <u8>hops, 7);
  addrCopy(p + 8, src);
  addrCopy(p + 24, dst);
}

// ---- Addresses (RFC 4291) ----------------------------------------------------------------------

export function addrCopy(d: usize, s: usize): void {
  store<u64>(d, load<u64>(s));
  store<u64>(d, load<u64>(s, 8), 8);
}

export function addrEq(a: usize, b: usize): bool {
  return load<u64>(a) == load<u64>(b) && load<u64>(a, 8) == load<u64>(b, 8);
}

/** Two address pairs (32 bytes each: a TCP connection's peer and ours). A call, where
 *  memory.compare would be inlined as a byte loop at each site. */
export function addrPairEq(a: usize, b: usize): bool {
  return addrEq(a, b) && addrEq(a + 16, b + 16);
}

export function isMulticast(a: usize): bool {
  return load<u8>(a) == 0xff;
}

export function isUnspecified(a: usize): bool {
  return (load<u64>(a) | load<u64>(a, 8)) == 0;
}

/** fe80::/10 (§2.5.6). */
export function isLinkLocal(a: usize): bool {
  return load<u8>(a) == 0xfe && (load<u8>(a, 1) & 0xc0) == 0x80;
}

/** ::1 and the IPv4-mapped ::ffff:0:0/96 are never valid sources on a link (RFC 4291 §2.5.3, §2.5.5.2). */
export function isBadSource(a: usize): bool {
  if (isMulticast(a)) return true;
  if (load<u64>(a) != 0) return false;
  const hi = load<u32>(a, 8);
  const lo = load<u32>(a, 12);
  return (hi == 0 && lo == 0x01000000) || hi == 0xffff0000;
}

/** Do the first len bits of a and b agree? */
export function prefixMatch(a: usize, b: usize, len: u32): bool {
  let i: u32 = 0;
  for (; i + 8 <= len; i += 8) if (load<u8>(a + (i >> 3)) != load<u8>(b + (i >> 3))) return false;
  if (i == len) return true;
  const mask = <u32>(0xff00 >> (len - i)) & 0xff;
  return ((<u32>load<u8>(a + (i >> 3)) ^ <u32>load<u8>(b + (i >> 3))) & mask) == 0;
}

/** The solicited-node group of a (ff02::1:ffXX:XXXX, §2.7.1) written at out. */
export function solicitedNode(out: usize, a: usize): void {
  store<u64>(out, 0x02ff);
  store<u32>(out, 0x01000000, 8);
  store<u32>(out, (load<u32>(a, 12) & 0xffffff00) | 0xff, 12);
}

/** The link-scope group ff02::n written at out (n < 256: 1 all nodes, 2 all routers, 0x16 MLDv2). */
export function linkGroup(out: usize, n: u32): void {
  store<u64>(out, 0x02ff);
  store<u64>(out, <u64>n << 56, 8);
}

/** Is a a solicited-node group (ff02::1:ff00:0/104)? */
export function isSolicitedNode(a: usize): bool {
  return load<u64>(a) == 0x02ff && load<u32>(a, 8) == 0x01000000 && load<u8>(a, 12) == 0xff;
}

/** ff02::1, all nodes (§2.7.1). */
export function isAllNodes(a: usize): bool {
  return load<u64>(a) == 0x02ff && load<u64>(a, 8) == 0x0100000000000000;
}

/** RFC 4291 §2.2 text ("2001:db8::1", "::", "::ffff:10.0.0.1"; no zone index) as the 16 bytes at
 *  out: true, else false (out's bytes then undefined). One pass, as BSD's inet_pton6. In an image
 *  only when called: the resolver takes names, not addresses. */
export function parseIpv6Text(p: usize, len: u32, out: usize): bool {
  if (len == 0) return false;
  let i: u32 = 0;
  if (load<u8>(p) == 58) {
    // A leading colon only as the first of "::".
    if (len < 2 || load<u8>(p + 1) != 58) return false;
    i = 1;
  }
  let n: u32 = 0; // 16-bit groups written
  let gap: i32 = -1; // where "::" stands, in groups
  let v: u32 = 0;
  let digits: u32 = 0;
  let tok = i; // where the current group began
  while (i < len) {
    const c = <u32>load<u8>(p + i++);
    const x = c - 48 < 10 ? c - 48 : (c | 32) - 97 < 6 ? (c | 32) - 87 : 16;
    if (x < 16) {
      if (++digits > 4) return false;
      v = (v << 4) | x;
    } else if (c == 58) {
      tok = i;
      if (digits == 0) {
        if (gap >= 0) return false;
        gap = <i32>n;
      } else {
        if (i == len || n == 8) return false;
        store<u16>(out + (n++ << 1), <u16>((v >> 8) | (v << 8))); // network order
        v = 0;
        digits = 0;
      }
    } else if (c == 46 && n < 7) {
      // The last 32 bits as a dotted quad (§2.2 form 3).
      const v4 = parseIpv4Text(p + tok, len - tok);
      if (v4 == 0) return false;
      store<u32>(out + (n << 1), bswap<u32>(v4));
      n += 2;
      digits = 0;
      break;
    } else return false;
  }
  if (digits != 0) {
    if (n == 8) return false;
    store<u16>(out + (n++ << 1), <u16>((v >> 8) | (v << 8)));
  }
  if (gap < 0) return n == 8;
  if (n > 7) return false;
  // The groups after "::" go to the end; zeros fill the gap.
  const tail = n - <u32>gap;
  memory.copy(out + ((8 - tail) << 1), out + (<u32>gap << 1), tail << 1);
  memory.fill(out + (<u32>gap << 1), 0, (8 - n) << 1);
  return true;
}
