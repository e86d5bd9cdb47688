// Network byte order access to raw memory. Callers have checked lengths before reading.
//
// Under an interpreter (WAMR on a board) a wasm call costs far more than the few instructions of
// a swap, and AssemblyScript's bswap<T> is itself a function (wasm has no byte-swap instruction),
// so the swap is written out here. 16-bit fields go byte by byte (two loads or stores, no swap);
// 32-bit ones are one load or store and a rotate-and-mask swap.
//
// Two forms of each: the *Inline ones for the per-segment path (the Ethernet, IPv4, TCP and UDP
// headers), where a call per field is a large part of an interpreted segment's cost; the plain
// functions everywhere else (DHCP, DNS, ARP, ICMP...), where ~20 bytes of wasm at each of a
// hundred sites would cost more image than the calls cost time.

// @ts-ignore: decorator
@inline export function get16Inline(p: usize): u32 {
  return (<u32>load<u8>(p) << 8) | <u32>load<u8>(p, 1);
}
// @ts-ignore: decorator
@inline export function get32Inline(p: usize): u32 {
  return swap32(load<u32>(p));
}
// @ts-ignore: decorator
@inline export function put16Inline(p: usize, v: u32): void {
  store<u8>(p, <u8>(v >> 8));
  store<u8>(p, <u8>v, 1);
}
// @ts-ignore: decorator
@inline export function put32Inline(p: usize, v: u32): void {
  store<u32>(p, swap32(v));
}
/** A 32-bit byte swap in five wasm instructions (AssemblyScript's bswap<u32>, inlined). */
// @ts-ignore: decorator
@inline export function swap32(v: u32): u32 {
  return rotl<u32>(v & 0xff00ff00, 8) | rotr<u32>(v & 0x00ff00ff, 8);
}

export function get16(p: usize): u32 {
  return get16Inline(p);
}
export function get32(p: usize): u32 {
  return get32Inline(p);
}
export function put16(p: usize, v: u32): void {
  put16Inline(p, v);
}
export function put32(p: usize, v: u32): void {
  put32Inline(p, v);
}
