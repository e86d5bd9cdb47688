// The Internet checksum (RFC 1071), summed 4 bytes at a time, 32 bytes per loop iteration.
//
// Words are loaded little-endian, i.e. byte-swapped; RFC 1071 §2(B) makes the ones' complement sum
// byte-order independent, so we sum swapped words and swap once at the end. Each 32-bit word is
// added to a 64-bit sum with no carry handling (2^32 words before it could overflow, far more than
// any frame); the carries are folded back in at the end (RFC 1071 §4.1's deferred carries). Under
// an interpreter that is two wasm instructions per 4 bytes (i64.load32_u, i64.add), where 64-bit
// words with an end-around carry after each add took five per 8 bytes and a local.tee each.
//
// Pieces may be summed separately (pseudo-header, header, payload) as long as every piece but the
// last has even length.
import { CHECKSUM_NATIVE_MIN } from "../config";
import { swap32 } from "../support/bytes";
import { phy_checksum } from "../support/phy";

// Checksum offload (wasmip.h set_offload and input_checked; lwIP's CHECKSUM_GEN_* and
// CHECKSUM_CHECK_*). What the board's MAC or CPU does instead of the core: kept here, below every
// layer that sums, so the wire formats consult it without reaching up.
/** Sums of CHECKSUM_NATIVE_MIN bytes or more go to phy.checksum (a native loop, where the core
 *  runs in an interpreter). */
export const OFFLOAD_SUM: u32 = 1;
/** The MAC fills the IPv4 header checksum of every frame it sends: the core leaves it 0. */
export const OFFLOAD_TX_IPV4: u32 = 2;
/** The MAC fills TCP and UDP checksums (pseudo-header included) on the way out: the core leaves 0. */
export const OFFLOAD_TX_L4: u32 = 4;
export const OFFLOAD_ALL: u32 = OFFLOAD_SUM | OFFLOAD_TX_IPV4 | OFFLOAD_TX_L4;
/** input_checked's per-frame flags: the MAC verified this frame's IPv4 header checksum / its TCP
 *  or UDP checksum, and found it good. Only a frame vouched for is not summed again: a board that
 *  declares offload but passes a frame without these is checked in full. */
export const RX_IPV4_OK: u32 = 1;
export const RX_L4_OK: u32 = 2;

export let offloadFlags: u32 = 0;
/** RX_* for the frame being received (0 outside input_checked and loopback delivery). */
export let rxChecked: u32 = 0;

export function setOffload(flags: u32): void {
  offloadFlags = flags;
}

export function setRxChecked(flags: u32): void {
  rxChecked = flags;
}

/** Adds len bytes at p to a running (swapped-domain) sum. */
export function sumAdd(acc: u64, p: usize, len: u32): u64 {
  let n = <usize>len;
  let s: u64 = 0;
  if ((offloadFlags & OFFLOAD_SUM) != 0 && len >= CHECKSUM_NATIVE_MIN) {
    const x = phy_checksum(p, len);
    s = <u64>(((x & 0xff) << 8) | (x >> 8)); // network order into the swapped domain
    n = 0;
  }
  while (n >= 32) {
    s += ((<u64>load<u32>(p) + <u64>load<u32>(p, 4)) + (<u64>load<u32>(p, 8) + <u64>load<u32>(p, 12)))
       + ((<u64>load<u32>(p, 16) + <u64>load<u32>(p, 20)) + (<u64>load<u32>(p, 24) + <u64>load<u32>(p, 28)));
    p += 32;
    n -= 32;
  }
  while (n >= 8) {
    s += <u64>load<u32>(p) + <u64>load<u32>(p, 4);
    p += 8;
    n -= 8;
  }
  if (n >= 4) { s += <u64>load<u32>(p); p += 4; n -= 4; }
  if (n >= 2) { s += <u64>load<u16>(p); p += 2; n -= 2; }
  if (n) s += <u64>load<u8>(p); // an odd last byte is the high byte of a network word: low when swapped
  // The running sum may already be near 2^64: one end-around carry.
  acc += s; acc += <u64>(acc < s);
  return acc;
}

/** sumAdd(0, p, 20), straight-line: an IPv4 header without options, five 32-bit words (their sum
 *  cannot carry out of 64 bits). @inline: one per frame each way, where the loop and call cost more
 *  than the five loads. */
// @ts-ignore: decorator
@inline export function sum20(p: usize): u64 {
  return (<u64>load<u32>(p) + <u64>load<u32>(p, 4)) + (<u64>load<u32>(p, 8) + <u64>load<u32>(p, 12)) + <u64>load<u32>(p, 16);
}

/** Sum of the IPv4 pseudo-header (RFC 793 §3.1, RFC 768) for TCP/UDP; addresses in host order. */
// @ts-ignore: decorator
@inline export function sumPseudo(src: u32, dst: u32, proto: u32, len: u32): u64 {
  return <u64>swap32(src) + <u64>swap32(dst) + <u64>swap32((proto << 16) | len);
}

/** Sum of the IPv6 pseudo-header (RFC 8200 §8.1) for len bytes of protocol nh between src and dst
 *  (16-byte addresses in place): ICMPv6, and TCP and UDP over IPv6. */
export function sumPseudo6(src: usize, dst: usize, len: u32, nh: u32): u64 {
  let s = sumAdd(0, src, 16);
  s = sumAdd(s, dst, 16);
  // The 32-bit length and the next header, as network-order words in the swapped domain.
  return s + <u64>bswap<u32>(len) + <u64>bswap<u32>(nh);
}

/** Folds a running sum to the 16-bit ones' complement sum, in network order. */
// @ts-ignore: decorator
@inline export function sumFold(acc: u64): u32 {
  let s = (acc & 0xffffffff) + (acc >> 32);
  s = (s & 0xffffffff) + (s >> 32);
  let t = <u32>s;
  t = (t & 0xffff) + (t >> 16);
  t = (t & 0xffff) + (t >> 16);
  return ((t & 0xff) << 8) | (t >> 8); // t < 2^16: swapped back to network order
}

/** The checksum to store in a header (network-order value): the complement of the sum. */
export function checksum(p: usize, len: u32): u32 {
  return ~sumFold(sumAdd(0, p, len)) & 0xffff;
}

/** True if the bytes, checksum field included, sum to all ones (a valid checksum). */
export function checksumOk(p: usize, len: u32): bool {
  return sumFold(sumAdd(0, p, len)) == 0xffff;
}

/**
 * Incremental update (RFC 1624 eqn. 3): HC' = ~(~HC + ~m + m'), all 16-bit network-order values.
 * Eqn. 3 yields 0x0000 where the data sums to +0 (all zero), which a receiver's sum check rejects;
 * 0xffff is the same ones' complement value and always verifies, so it is returned instead.
 */
export function checksumAdjust(hc: u32, oldWord: u32, newWord: u32): u32 {
  let s: u32 = (~hc & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff);
  s = (s & 0xffff) + (s >> 16);
  s = (s & 0xffff) + (s >> 16);
  const r = ~s & 0xffff;
  return r == 0 ? 0xffff : r;
}
