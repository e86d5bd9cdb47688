// The NTP packet header (RFC 5905 §7.3), all an SNTP client uses (RFC 4330 §4): 48 bytes,
// big-endian, then optional extension fields and a MAC that we neither send nor read.
//
//   0: LI (2 bits) | VN (3) | Mode (3)    1: stratum    2: poll    3: precision
//   4: root delay    8: root dispersion    12: reference id
//   16: reference timestamp  24: origin  32: receive  40: transmit   (64-bit NTP timestamps)
//
// A timestamp is seconds since 1900-01-01 (high 32 bits) and a binary fraction (low 32): the
// seconds wrap every 136 years (the next era begins 2036-02-07); only differences are ever used,
// modulo 2^64 (RFC 5905 §6), so the era needs no special case.
import { get32, put32 } from "../support/bytes";
import { WireError } from "./error";

export const HEADER_LEN: u32 = 48;
export const PORT: u32 = 123;
export const VERSION: u32 = 4;
export const MODE_CLIENT: u32 = 3;
export const MODE_SERVER: u32 = 4;
/** LI 3: the server's clock is not synchronised. */
export const LEAP_ALARM: u32 = 3;
/** Stratum 16 and above: unsynchronised (RFC 5905 §7.3). */
export const STRATUM_MAX: u32 = 15;
// Kiss codes (stratum 0, the reference id in ASCII; RFC 5905 §7.4).
export const KISS_RATE: u32 = 0x52415445;
export const KISS_DENY: u32 = 0x44454e59;
export const KISS_RSTR: u32 = 0x52535452;
/** Seconds from the NTP epoch (1900) to the Unix epoch (1970). */
export const UNIX_EPOCH_NTP: u64 = 2208988800;

@unmanaged
export class NtpRepr {
  leap: u32;
  version: u32;
  mode: u32;
  stratum: u32;
  poll: u32;
  precision: u32;
  rootDelay: u32;
  rootDispersion: u32;
  refId: u32;
  reference: u64;
  origin: u64;
  receive: u64;
  transmit: u64;

  /** Checked parse of len bytes of UDP payload; what follows the header is ignored. */
  parse(p: usize, len: u32): WireError {
    if (len < HEADER_LEN) return WireError.TRUNCATED;
    const b = <u32>load<u8>(p);
    const vn = (b >> 3) & 7;
    if (vn == 0 || vn > VERSION) return WireError.BAD_VERSION;
    this.leap = b >> 6;
    this.version = vn;
    this.mode = b & 7;
    this.stratum = <u32>load<u8>(p, 1);
    this.poll = <u32>load<u8>(p, 2);
    this.precision = <u32>load<u8>(p, 3);
    this.rootDelay = get32(p + 4);
    this.rootDispersion = get32(p + 8);
    this.refId = get32(p + 12);
    this.reference = get64(p + 16);
    this.origin = get64(p + 24);
    this.receive = get64(p + 32);
    this.transmit = get64(p + 40);
    return WireError.OK;
  }

  /** Writes the 48-byte header at p; returns its length. */
  emit(p: usize): u32 {
    store<u8>(p, <u8>((this.leap << 6) | (this.version << 3) | this.mode));
    store<u8>(p, <u8>this.stratum, 1);
    store<u8>(p, <u8>this.poll, 2);
    store<u8>(p, <u8>this.precision, 3);
    put32(p + 4, this.rootDelay);
    put32(p + 8, this.rootDispersion);
    put32(p + 12, this.refId);
    put64(p + 16, this.reference);
    put64(p + 24, this.origin);
    put64(p + 32, this.receive);
    put64(p + 40, this.transmit);
    return HEADER_LEN;
  }
}

export function get64(p: usize): u64 {
  return (<u64>get32(p) << 32) | <u64>get32(p + 4);
}

export function put64(p: usize, v: u64): void {
  put32(p, <u32>(v >> 32));
  put32(p + 4, <u32>v);
}
