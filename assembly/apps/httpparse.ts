// The HTTP/1.x request parser of the http app (RFC 9112), over bytes in linear memory.
// Stateless apart from its result globals: the caller keeps the request bytes in its own buffer,
// calls httpParse() whenever more have arrived, and gets back "need more", an error status, or the
// length of one complete request head. Nothing here allocates.

export const M_GET: u32 = 1;
export const M_HEAD: u32 = 2;
/** A well-formed method we do not serve (answered 405). */
export const M_OTHER: u32 = 3;

/** httpParse results besides a positive head length. */
export const PARSE_MORE: i32 = 0;
export const PARSE_BAD: i32 = -400;
export const PARSE_TOO_LARGE: i32 = -431;
export const PARSE_NOT_IMPLEMENTED: i32 = -501;
export const PARSE_BAD_VERSION: i32 = -505;

/** Longest method token accepted. */
const METHOD_MAX: u32 = 16;

// The last complete request (valid after httpParse returned > 0).
export let reqMethod: u32 = 0;
/** Offset and length of the request target within the buffer. */
export let reqTarget: u32 = 0;
export let reqTargetLen: u32 = 0;
/** 0 for HTTP/1.0, 1 for HTTP/1.1. */
export let reqMinor: u32 = 0;
export let reqKeepAlive: bool = false;
/** Body bytes that follow the head (Content-Length), to be skipped. */
export let reqContentLength: u32 = 0;

const CR: u32 = 13;
const LF: u32 = 10;
const SP: u32 = 32;
const HT: u32 = 9;

/** RFC 9110 §5.6.2 tchar. */
function isTchar(c: u32): bool {
  if (c >= 48 && c <= 57) return true; // 0-9
  if ((c | 32) >= 97 && (c | 32) <= 122) return true; // A-Z a-z
  // ! # $ % & ' * + - . ^ _ ` | ~
  return c == 33 || (c >= 35 && c <= 39) || c == 42 || c == 43 || c == 45 || c == 46 || c == 94 || c == 95 || c == 96 || c == 124 || c == 126;
}

/** Case-insensitive comparison of len bytes at p with the ASCII literal s. */
function ieq(p: usize, len: u32, s: string): bool {
  if (<i32>len != s.length) return false;
  for (let i: u32 = 0; i < len; i++) {
    let c = <u32>load<u8>(p + i);
    if (c >= 65 && c <= 90) c |= 32;
    if (c != <u32>s.charCodeAt(i)) return false;
  }
  return true;
}

/** Exact comparison of len bytes at p with s. */
function eq(p: usize, len: u32, s: string): bool {
  if (<i32>len != s.length) return false;
  for (let i: u32 = 0; i < len; i++) if (<u32>load<u8>(p + i) != <u32>s.charCodeAt(i)) return false;
  return true;
}

/**
 * Offset just past the empty line that ends the request head (CRLF CRLF, or bare LFs), or 0 if it
 * has not arrived. The search starts at `from` (a hint: where the previous search gave up).
 */
export function httpHeadEnd(buf: usize, len: u32, from: u32): u32 {
  let i = from > 0 ? from : 1;
  for (; i < len; i++) {
    if (load<u8>(buf + i) != LF) continue;
    // The line that this LF ends is empty if the previous byte is LF, or CR preceded by LF.
    const a = <u32>load<u8>(buf + i - 1);
    if (a == LF) return i + 1;
    if (a == CR && i >= 2 && load<u8>(buf + i - 2) == LF) return i + 1;
  }
  return 0;
}

/** Number of leading CR/LF bytes (RFC 9112 §2.2: ignore empty lines before a request line). */
export function httpLeadingEmpty(buf: usize, len: u32): u32 {
  let i: u32 = 0;
  while (i < len) {
    const c = <u32>load<u8>(buf + i);
    if (c != CR && c != LF) break;
    i++;
  }
  return i;
}

/** Validate the request line [0, end) (without its line ending). Sets the method/target/version results. */
function requestLine(buf: usize, end: u32): i32 {
  let i: u32 = 0;
  while (i < end && isTchar(load<u8>(buf + i))) i++;
  if (i == 0 || i > METHOD_MAX || i >= end || load<u8>(buf + i) != SP) return PARSE_BAD;
  const mlen = i;
  reqMethod = eq(buf, mlen, "GET") ? M_GET : eq(buf, mlen, "HEAD") ? M_HEAD : M_OTHER;
  const t = ++i;
  while (i < end) {
    const c = <u32>load<u8>(buf + i);
    if (c == SP) break;
    if (c <= 32 || c >= 127) return PARSE_BAD;
    i++;
  }
  if (i == t || i >= end) return PARSE_BAD;
  reqTarget = t;
  reqTargetLen = i - t;
  i++;
  const v = buf + i;
  if (end - i != 8) return PARSE_BAD;
  if (!eq(v, 5, "HTTP/")) return PARSE_BAD;
  const major = <u32>load<u8>(v + 5) - 48;
  const dot = load<u8>(v + 6);
  const minor = <u32>load<u8>(v + 7) - 48;
  if (major > 9 || minor > 9 || dot != 46) return PARSE_BAD;
  if (major != 1) return PARSE_BAD_VERSION;
  reqMinor = minor == 0 ? 0 : 1;
  return 0;
}

/** The end of the line starting at i (the index of its LF, or len), and its content end (CR stripped). */
let lineContentEnd: u32 = 0;
function lineEnd(buf: usize, i: u32, len: u32): u32 {
  let j = i;
  while (j < len && load<u8>(buf + j) != LF) j++;
  lineContentEnd = j > i && load<u8>(buf + j - 1) == CR ? j - 1 : j;
  return j;
}

/**
 * Parse the request at the start of buf (len bytes received so far, at most max ever).
 * Returns the length of the complete request head (> 0; results in the req* globals), PARSE_MORE
 * while it is incomplete, or a negative HTTP status: PARSE_BAD (400), PARSE_TOO_LARGE (431: no end
 * of head within max bytes), PARSE_NOT_IMPLEMENTED (501: Transfer-Encoding), PARSE_BAD_VERSION (505).
 * A malformed request line is reported as soon as it is complete, or as soon as the method is.
 * `from` is a search hint: where a previous call on the same bytes stopped (0 is always correct).
 */
export function httpParse(buf: usize, len: u32, max: u32, from: u32): i32 {
  if (len == 0) return PARSE_MORE;
  // The method must be a short token followed by a space: reject garbage early.
  const n = len < METHOD_MAX + 1 ? len : METHOD_MAX + 1;
  let k: u32 = 0;
  while (k < n && isTchar(load<u8>(buf + k))) k++;
  if (k < n && (k == 0 || load<u8>(buf + k) != SP)) return PARSE_BAD;
  if (k == METHOD_MAX + 1) return PARSE_BAD;
  const end = httpHeadEnd(buf, len, from);
  if (end == 0) {
    // A complete request line can be checked before the rest of the head arrives.
    const le = lineEnd(buf, 0, len);
    if (le < len) {
      const r = requestLine(buf, lineContentEnd);
      if (r < 0) return r;
    }
    return len >= max ? PARSE_TOO_LARGE : PARSE_MORE;
  }
  // Request line.
  let i = lineEnd(buf, 0, end);
  const r = requestLine(buf, lineContentEnd);
  if (r < 0) return r;
  i++;
  // Header fields (RFC 9112 §5).
  let hasHost = false;
  let closeTok = false;
  let keepTok = false;
  let haveLength = false;
  let length: u32 = 0;
  for (;;) {
    const le = lineEnd(buf, i, end);
    const ce = lineContentEnd;
    if (ce == i) break; // the empty line
    const c0 = <u32>load<u8>(buf + i);
    if (c0 == SP || c0 == HT) return PARSE_BAD; // obs-fold (RFC 9112 §5.2)
    let j = i;
    while (j < ce && isTchar(load<u8>(buf + j))) j++;
    if (j == i || j >= ce || load<u8>(buf + j) != 58) return PARSE_BAD; // name ":"
    const name = buf + i;
    const nameLen = j - i;
    j++;
    // The value without surrounding whitespace.
    while (j < ce && (load<u8>(buf + j) == SP || load<u8>(buf + j) == HT)) j++;
    let ve = ce;
    while (ve > j && (load<u8>(buf + ve - 1) == SP || load<u8>(buf + ve - 1) == HT)) ve--;
    for (let q = j; q < ve; q++) {
      const c = <u32>load<u8>(buf + q);
      if ((c < 32 && c != HT) || c == 127) return PARSE_BAD;
    }
    if (ieq(name, nameLen, "host")) {
      if (hasHost) return PARSE_BAD;
      hasHost = true;
    } else if (ieq(name, nameLen, "content-length")) {
      if (j == ve) return PARSE_BAD;
      let v: u64 = 0;
      for (let q = j; q < ve; q++) {
        const d = <u32>load<u8>(buf + q) - 48;
        if (d > 9) return PARSE_BAD;
        v = v * 10 + d;
        if (v > 0x7fffffff) return PARSE_BAD;
      }
      if (haveLength && <u32>v != length) return PARSE_BAD;
      haveLength = true;
      length = <u32>v;
    } else if (ieq(name, nameLen, "transfer-encoding")) {
      return PARSE_NOT_IMPLEMENTED;
    } else if (ieq(name, nameLen, "connection")) {
      // A comma-separated list of tokens.
      let s = j;
      while (s < ve) {
        while (s < ve && (load<u8>(buf + s) == SP || load<u8>(buf + s) == HT || load<u8>(buf + s) == 44)) s++;
        let e = s;
        while (e < ve && load<u8>(buf + e) != 44) e++;
        let te = e;
        while (te > s && (load<u8>(buf + te - 1) == SP || load<u8>(buf + te - 1) == HT)) te--;
        if (ieq(buf + s, te - s, "close")) closeTok = true;
        else if (ieq(buf + s, te - s, "keep-alive")) keepTok = true;
        s = e;
      }
    }
    i = le + 1;
    if (i >= end) return PARSE_BAD; // cannot happen: the head ends with an empty line
  }
  if (reqMinor == 1 && !hasHost) return PARSE_BAD; // RFC 9112 §3.2
  reqKeepAlive = closeTok ? false : reqMinor == 1 ? true : keepTok;
  reqContentLength = length;
  return <i32>end;
}
