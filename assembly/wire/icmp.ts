// ICMP (RFC 792): the 8-byte header; the payload stays where it is in the buffer.
import { get16, put16 } from "../support/bytes";
import { checksum, checksumOk } from "./checksum";
import { WireError } from "./error";

export const HEADER_LEN: u32 = 8;
export const TYPE_ECHO_REPLY: u32 = 0;
export const TYPE_DEST_UNREACHABLE: u32 = 3;
export const TYPE_SOURCE_QUENCH: u32 = 4;
export const TYPE_REDIRECT: u32 = 5;
export const TYPE_ECHO_REQUEST: u32 = 8;
export const TYPE_TIME_EXCEEDED: u32 = 11;
export const TYPE_PARAMETER_PROBLEM: u32 = 12;

// @ts-ignore: decorator
@inline export function isError(type: u32): bool {
  return type == TYPE_DEST_UNREACHABLE || type == TYPE_SOURCE_QUENCH || type == TYPE_REDIRECT ||
    type == TYPE_TIME_EXCEEDED || type == TYPE_PARAMETER_PROBLEM;
}

@unmanaged
export class IcmpRepr {
  type: u32;
  code: u32;
  /** Echo: identifier; other types: the high half of the second header word. */
  ident: u32;
  /** Echo: sequence number; other types: the low half. */
  seq: u32;
  payloadLen: u32;

  /** Checked view of an ICMP message of len bytes (checksum over all of it). */
  parse(p: usize, len: u32): WireError {
    if (len < HEADER_LEN) return WireError.TRUNCATED;
    if (!checksumOk(p, len)) return WireError.BAD_CHECKSUM;
    this.type = <u32>load<u8>(p);
    this.code = <u32>load<u8>(p, 1);
    this.ident = get16(p + 4);
    this.seq = get16(p + 6);
    this.payloadLen = len - HEADER_LEN;
    return WireError.OK;
  }

  /** Writes the header at p and the checksum over it and the payloadLen bytes after it. */
  emit(p: usize): void {
    store<u8>(p, <u8>this.type);
    store<u8>(p, <u8>this.code, 1);
    store<u16>(p, 0, 2);
    put16(p + 4, this.ident);
    put16(p + 6, this.seq);
    put16(p + 2, checksum(p, HEADER_LEN + this.payloadLen));
  }
}
