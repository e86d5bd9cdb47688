// ICMPv6 (RFC 4443 §2-4) and the MLDv2 messages it carries (RFC 3810 §5). The checksum covers
// the IPv6 pseudo-header (RFC 8200 §8.1): both addresses, the upper-layer length and next header 58.
import { get16, put16, put32 } from "../support/bytes";
import { sumAdd, sumFold, sumPseudo6 } from "./checksum";
import { NH_ICMPV6, addrCopy } from "./ipv6";

export const HEADER_LEN: u32 = 8;
export const TYPE_DEST_UNREACHABLE: u32 = 1;
export const TYPE_PACKET_TOO_BIG: u32 = 2;
export const TYPE_TIME_EXCEEDED: u32 = 3;
export const TYPE_PARAMETER_PROBLEM: u32 = 4;
export const TYPE_ECHO_REQUEST: u32 = 128;
export const TYPE_ECHO_REPLY: u32 = 129;
export const TYPE_MLD_QUERY: u32 = 130;
export const TYPE_MLD_V1_REPORT: u32 = 131;
export const TYPE_MLD_V1_DONE: u32 = 132;
export const TYPE_RS: u32 = 133;
export const TYPE_RA: u32 = 134;
export const TYPE_NS: u32 = 135;
export const TYPE_NA: u32 = 136;
export const TYPE_REDIRECT: u32 = 137;
export const TYPE_MLD_V2_REPORT: u32 = 143;
/** Destination Unreachable codes (§3.1) and Parameter Problem codes (§3.4). */
export const CODE_PORT_UNREACHABLE: u32 = 4;
export const CODE_UNRECOGNIZED_NEXT_HEADER: u32 = 1;

/** Error messages are types 0-127 (§2.1). */
// @ts-ignore: decorator
@inline export function isError(type: u32): bool {
  return type < 128;
}

/** The checksum field's value (network order) for the message of len bytes at p, field zeroed. */
export function icmpv6Checksum(src: usize, dst: usize, p: usize, len: u32): u32 {
  return ~sumFold(sumAdd(sumPseudo6(src, dst, len, NH_ICMPV6), p, len)) & 0xffff;
}

/** Writes the header (type, code, the second word) of the len-byte message at p and its checksum
 *  from src to dst. One function for every message the stack builds (echo, errors, ND, MLD). */
export function emitIcmpv6(p: usize, type: u32, code: u32, word: u32, len: u32, src: usize, dst: usize): void {
  store<u16>(p, <u16>(type | (code << 8)));
  store<u16>(p, 0, 2);
  put32(p + 4, word);
  put16(p + 2, icmpv6Checksum(src, dst, p, len));
}

// ---- MLDv2 (RFC 3810) ---------------------------------------------------------------------------
/** An MLDv1 query is 24 bytes, an MLDv2 query at least 28 (§8.1). */
export const MLD_V1_QUERY_LEN: u32 = 24;
export const MLD_V2_QUERY_LEN: u32 = 28;
/** A report's record: type, aux length, source count, the group (§5.2.4); no sources here. */
export const MLD_RECORD_LEN: u32 = 20;
export const MODE_IS_EXCLUDE: u32 = 2;
export const CHANGE_TO_INCLUDE: u32 = 3;
export const CHANGE_TO_EXCLUDE: u32 = 4;

/** The Maximum Response Delay in ms of the query of len bytes at p (checksum already checked by
 *  iface/icmpv6.ts; its group is at p + 8), or -1 when it is truncated. */
export function mldQueryDelay(p: usize, len: u32): i32 {
  if (len < MLD_V1_QUERY_LEN) return -1;
  let code = get16(p + 4);
  if (len >= MLD_V2_QUERY_LEN) {
    if (MLD_V2_QUERY_LEN + (get16(p + 26) << 4) > len) return -1; // its sources
    // §5.1.3: 1 | exp (3 bits) | mant (12 bits) = (mant | 0x1000) << (exp + 3)
    if (code >= 0x8000) code = ((code & 0xfff) | 0x1000) << (((code >> 12) & 7) + 3);
  }
  return <i32>code;
}

/** One record with no sources for group at p. */
export function emitRecord(p: usize, type: u32, group: usize): void {
  put32(p, type << 24);
  addrCopy(p + 4, group);
}
