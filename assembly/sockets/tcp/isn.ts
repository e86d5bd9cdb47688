// Initial sequence numbers (RFC 6528) and ephemeral ports (RFC 6056 §3.3.3, algorithm 3):
// both a keyed hash of the connection's addresses, with keys from the random import at init.
import { phy_random } from "../../support/phy";

let k0: u64 = 0;
let k1: u64 = 0;
let p0: u64 = 0;
let p1: u64 = 0;

export function isnInit(): void {
  k0 = (<u64>phy_random() << 32) | phy_random();
  k1 = (<u64>phy_random() << 32) | phy_random();
  p0 = (<u64>phy_random() << 32) | phy_random();
  p1 = (<u64>phy_random() << 32) | phy_random();
}

// SipHash-2-4 over two 64-bit words (RFC 6528 §3 suggests a keyed cryptographic hash).
let v0: u64 = 0;
let v1: u64 = 0;
let v2: u64 = 0;
let v3: u64 = 0;

// Not @inline: it runs once or twice per connection, and eight copies cost half a kilobyte.
function round(): void {
  v0 += v1; v1 = rotl<u64>(v1, 13); v1 ^= v0; v0 = rotl<u64>(v0, 32);
  v2 += v3; v3 = rotl<u64>(v3, 16); v3 ^= v2;
  v0 += v3; v3 = rotl<u64>(v3, 21); v3 ^= v0;
  v2 += v1; v1 = rotl<u64>(v1, 17); v1 ^= v2; v2 = rotl<u64>(v2, 32);
}

function absorb(m: u64): void {
  v3 ^= m;
  round();
  round();
  v0 ^= m;
}

export function siphash(a: u64, b: u64, key0: u64, key1: u64): u64 {
  v0 = key0 ^ 0x736f6d6570736575;
  v1 = key1 ^ 0x646f72616e646f6d;
  v2 = key0 ^ 0x6c7967656e657261;
  v3 = key1 ^ 0x7465646279746573;
  absorb(a);
  absorb(b);
  absorb(<u64>16 << 56);
  v2 ^= 0xff;
  for (let i = 0; i < 4; i++) round();
  return v0 ^ v1 ^ v2 ^ v3;
}

/** ISN = M + F(4-tuple, key), M a 4 µs clock (RFC 6528 §3); our clock has ms, so M = ms * 250. */
export function isn(nowMs: u32, lip: u32, lport: u32, rip: u32, rport: u32): u32 {
  const f = siphash((<u64>lip << 32) | rip, (<u64>lport << 16) | rport, k0, k1);
  return nowMs * 250 + <u32>f;
}

/** The per-destination offset of RFC 6056 algorithm 3 (the local port left out). */
export function portOffset(lip: u32, rip: u32, rport: u32): u32 {
  return <u32>siphash((<u64>lip << 32) | rip, <u64>rport, p0, p1);
}

/** The keyed hash of SYN cookies (syncookie.ts): the ISN key with a fixed tweak, so no extra
 *  random words are drawn at init and a cookie is never an ISN of the same 4-tuple. */
export function cookieHash(a: u64, b: u64): u64 {
  return siphash(a, b, k0 ^ 0x636f6f6b69652121, k1);
}

/** The 32-bit key of an IPv6 connection's addresses (remote and local, 16 bytes each), keyed
 *  like the ISN: what isn(), portOffset() and the SYN cookie hash take as the peer's address, so
 *  nobody who lacks the key can pick an address that collides with another (a plain fold of the
 *  128 bits could be aimed). Never 0 (no source). */
export function key6(remote: usize, local: usize): u32 {
  const h = siphash(load<u64>(remote), load<u64>(remote, 8), k0, k1);
  const k = <u32>siphash(h ^ load<u64>(local), load<u64>(local, 8), k0, k1);
  return k == 0 ? 1 : k;
}
