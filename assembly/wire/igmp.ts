// IGMP (RFC 2236 v2, RFC 3376 v3): what a host receives (queries, other hosts' v1/v2 reports) and
// what it sends (v2 reports and leaves, v3 reports with one group record).
//
// A query's version follows from its length (RFC 3376 §7.1): 8 bytes with Max Resp Code 0 is v1,
// 8 bytes otherwise v2, 12 bytes or more v3 (its source list must fit the length); any other length
// is ignored. The checksum covers the whole IGMP message (the IP payload).
import { get16Inline, get32Inline, put16Inline, put32Inline } from "../support/bytes";
import { checksum, checksumOk } from "./checksum";
import { WireError } from "./error";

export const TYPE_QUERY: u32 = 0x11;
export const TYPE_V1_REPORT: u32 = 0x12;
export const TYPE_V2_REPORT: u32 = 0x16;
export const TYPE_LEAVE: u32 = 0x17;
export const TYPE_V3_REPORT: u32 = 0x22;
/** v3 group record types (RFC 3376 §4.2.12). */
export const MODE_IS_EXCLUDE: u32 = 2;
export const CHANGE_TO_INCLUDE: u32 = 3;
export const CHANGE_TO_EXCLUDE: u32 = 4;

export const V2_LEN: u32 = 8;
/** A v3 report with one record and no sources. */
export const V3_REPORT_LEN: u32 = 16;

@unmanaged
export class IgmpRepr {
  type: u32;
  /** Queries: 1, 2 or 3. */
  version: u32;
  /** Queries: the maximum response time in ms (v1: 10 s). */
  maxRespMs: u32;
  /** Queries: 0 for a general query; reports and leaves: the group. */
  group: u32;

  /** Checked view of the len-byte IGMP message at p. */
  parse(p: usize, len: u32): WireError {
    if (len < V2_LEN) return WireError.TRUNCATED;
    if (!checksumOk(p, len)) return WireError.BAD_CHECKSUM;
    const type = <u32>load<u8>(p);
    const code = <u32>load<u8>(p, 1);
    this.type = type;
    this.group = get32Inline(p + 4);
    this.version = 0;
    this.maxRespMs = 0;
    if (type != TYPE_QUERY) return WireError.OK;
    if (len == V2_LEN) {
      this.version = code == 0 ? 1 : 2;
      this.maxRespMs = code == 0 ? 10000 : code * 100;
      return WireError.OK;
    }
    if (len < 12) return WireError.BAD_TOTAL_LEN;
    const sources = get16Inline(p + 10);
    if (len < 12 + sources * 4) return WireError.BAD_TOTAL_LEN;
    this.version = 3;
    // §4.1.1: a code of 128 or more is a float: mantissa 0x10 | low 4 bits, shifted by exp + 3.
    const tenths = code < 128 ? code : ((code & 15) | 16) << (((code >> 4) & 7) + 3);
    this.maxRespMs = tenths * 100;
    return WireError.OK;
  }
}

/** An 8-byte v2 report or leave for group at p. */
export function emitV2(p: usize, type: u32, group: u32): void {
  store<u8>(p, <u8>type);
  store<u8>(p, 0, 1);
  store<u16>(p, 0, 2);
  put32Inline(p + 4, group);
  put16Inline(p + 2, checksum(p, V2_LEN));
}

/** A v3 report at p with one record (recordType) for group, no sources. */
export function emitV3(p: usize, recordType: u32, group: u32): void {
  store<u64>(p, 0);
  store<u8>(p, <u8>TYPE_V3_REPORT);
  put16Inline(p + 6, 1); // one record
  store<u32>(p + 8, 0);
  store<u8>(p + 8, <u8>recordType);
  put32Inline(p + 12, group);
  put16Inline(p + 2, checksum(p, V3_REPORT_LEN));
}
