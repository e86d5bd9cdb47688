// The Internet checksum (RFC 1071), summed 8 bytes at a time.
//
// Words are loaded little-endian, i.e. byte-swapped; RFC 1071 §2(B) makes the ones' complement sum
// byte-order independent, so we sum swapped words and swap once at the end. Carries are folded back
// in as they happen on a 64-bit accumulator (end-around carry), then folded to 16 bits once.
//
// Pieces may be summed separately (pseudo-header, header, payload) as long as every piece but the
// last has even length.
import { swap32 } from "../support/bytes";

/** Adds len bytes at p to a running (swapped-domain) sum. */
export function sumAdd(acc: u64, p: usize, len: u32): u64 {
  let n = <usize>len;
  while (n >= 64) {
    let w = load<u64>(p);
    acc += w; acc += <u64>(acc < w);
    w = load<u64>(p, 8);
    acc += w; acc += <u64>(acc < w);
    w = load<u64>(p, 16);
    acc += w; acc += <u64>(acc < w);
    w = load<u64>(p, 24);
    acc += w; acc += <u64>(acc < w);
    w = load<u64>(p, 32);
    acc += w; acc += <u64>(acc < w);
    w = load<u64>(p, 40);
    acc += w; acc += <u64>(acc < w);
    w = load<u64>(p, 48);
    acc += w; acc += <u64>(acc < w);
    w = load<u64>(p, 56);
    acc += w; acc += <u64>(acc < w);
    p += 64;
    n -= 64;
  }
  while (n >= 8) {
    const w = load<u64>(p);
    acc += w; acc += <u64>(acc < w);
    p += 8;
    n -= 8;
  }
  // Below 8 bytes: each add is < 2^32, so a carry out of 64 bits cannot happen until folded.
  let tail: u64 = 0;
  if (n >= 4) { tail += <u64>load<u32>(p); p += 4; n -= 4; }
  if (n >= 2) { tail += <u64>load<u16>(p); p += 2; n -= 2; }
  if (n) tail += <u64>load<u8>(p); // an odd last byte is the high byte of a network word: low when swapped
  acc += tail; acc += <u64>(acc < tail);
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
