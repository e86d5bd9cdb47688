// Small formatting helpers for firmware apps: write ASCII text and numbers into static buffers.
// Nothing here allocates: string literals live in static memory and are read with charCodeAt.

/** Write the ASCII characters of s at dst; returns the number of bytes written. */
export function putStr(dst: usize, s: string): u32 {
  const n = s.length;
  for (let i = 0; i < n; i++) store<u8>(dst + i, <u8>s.charCodeAt(i));
  return <u32>n;
}

/** What the build's ascii-literals transform turns putStr(dst, "...") into: n ASCII bytes at p. */
// @ts-ignore: decorator
@global @inline export function __putAscii(dst: usize, p: usize, n: u32): u32 {
  memory.copy(dst, p, n);
  return n;
}

/** Decimal digits of v. */
export function digitsU32(v: u32): u32 {
  let n: u32 = 1;
  while (v >= 10) {
    v /= 10;
    n++;
  }
  return n;
}

/** Write v in decimal at dst; returns the number of bytes written. */
export function putU32(dst: usize, v: u32): u32 {
  const n = digitsU32(v);
  for (let i = <i32>n - 1; i >= 0; i--) {
    store<u8>(dst + i, <u8>(48 + v % 10));
    v /= 10;
  }
  return n;
}

/** Write an IPv4 address (host order) as A.B.C.D; returns the number of bytes written. */
export function putIp(dst: usize, ip: u32): u32 {
  let n: u32 = 0;
  for (let s = 24; s >= 0; s -= 8) {
    n += putU32(dst + n, (ip >>> s) & 255);
    if (s) store<u8>(dst + n++, 46); // '.'
  }
  return n;
}

/** Pad with spaces from column `from` to column `to` (at least one space); returns the new column. */
export function padTo(base: usize, from: u32, to: u32): u32 {
  if (to <= from) to = from + 1;
  for (let i = from; i < to; i++) store<u8>(base + i, 32);
  return to;
}

/** Length of the NUL-terminated string at p (at most max). */
export function cstrLen(p: usize, max: u32): u32 {
  let n: u32 = 0;
  while (n < max && load<u8>(p + n) != 0) n++;
  return n;
}
