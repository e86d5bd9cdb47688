// Ethernet II header (IEEE 802.3 with an EtherType; RFC 894). MAC addresses are kept as raw
// memory words (w0 = bytes 0..3, w4 = bytes 4..5, as loaded) so copying and comparing them is two
// loads, never a byte loop.
import { get16Inline, put16Inline } from "../support/bytes";
import { WireError } from "./error";

export const HEADER_LEN: u32 = 14;
export const TYPE_IPV4: u32 = 0x0800;
export const TYPE_ARP: u32 = 0x0806;
export const TYPE_IPV6: u32 = 0x86dd;

// @ts-ignore: decorator
@inline export function macIsBroadcast(p: usize): bool {
  return load<u32>(p) == 0xffffffff && load<u16>(p, 4) == 0xffff;
}

/** The I/G bit: multicast (broadcast included). */
// @ts-ignore: decorator
@inline export function macIsMulticast(p: usize): bool {
  return (load<u8>(p) & 1) != 0;
}

// @ts-ignore: decorator
@inline export function macIsZero(p: usize): bool {
  return load<u32>(p) == 0 && load<u16>(p, 4) == 0;
}

// @ts-ignore: decorator
@inline export function macEquals(p: usize, w0: u32, w4: u16): bool {
  return load<u32>(p) == w0 && load<u16>(p, 4) == w4;
}

// @ts-ignore: decorator
@inline export function macStore(p: usize, w0: u32, w4: u16): void {
  store<u32>(p, w0);
  store<u16>(p, w4, 4);
}

@unmanaged
export class EthernetRepr {
  dst0: u32;
  dst4: u16;
  src0: u32;
  src4: u16;
  ethertype: u32;

  /** Checked view: the header must fit in len bytes. */
  parse(p: usize, len: u32): WireError {
    if (len < HEADER_LEN) return WireError.TRUNCATED;
    this.dst0 = load<u32>(p);
    this.dst4 = load<u16>(p, 4);
    this.src0 = load<u32>(p, 6);
    this.src4 = load<u16>(p, 10);
    this.ethertype = get16Inline(p + 12);
    return WireError.OK;
  }

  /** Writes the 14-byte header at p. */
  emit(p: usize): void {
    macStore(p, this.dst0, this.dst4);
    macStore(p + 6, this.src0, this.src4);
    put16Inline(p + 12, this.ethertype);
  }
}
