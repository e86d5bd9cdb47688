// Network byte order access to raw memory. Callers have checked lengths before reading.
// Not @inline: a byte swap is ~20 bytes of wasm at every use, a call 3; compilers of the module
// (wasm2c + gcc, WAMR AOT) inline them back where it pays.

export function get16(p: usize): u32 {
  return <u32>bswap<u16>(load<u16>(p));
}
export function get32(p: usize): u32 {
  return bswap<u32>(load<u32>(p));
}
export function put16(p: usize, v: u32): void {
  store<u16>(p, bswap<u16>(<u16>v));
}
export function put32(p: usize, v: u32): void {
  store<u32>(p, bswap<u32>(v));
}
