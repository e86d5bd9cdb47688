// Network byte order access to raw memory. Callers have checked lengths before reading.

// @ts-ignore: decorator
@inline export function get16(p: usize): u32 {
  return <u32>bswap<u16>(load<u16>(p));
}
// @ts-ignore: decorator
@inline export function get32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}
// @ts-ignore: decorator
@inline export function put16(p: usize, v: u32): void {
  store<u16>(p, bswap<u16>(<u16>v));
}
// @ts-ignore: decorator
@inline export function put32(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}
