// One log line at a time, assembled in a static buffer and handed to phy.log. Callers guard with
// `if (logOn(level))` so a disabled level costs one comparison and no formatting.
import { LOG_ENABLED, LOG_LINE_MAX } from "../config";
import { phy_log } from "./phy";

export const ERROR: u32 = 0;
export const WARN: u32 = 1;
export const INFO: u32 = 2;
export const DEBUG: u32 = 3;

let level: u32 = INFO;
const line = memory.data(LOG_LINE_MAX);
let at: i32 = 0;

export function setLogLevel(l: u32): void {
  level = l;
}

// @ts-ignore: decorator
@inline export function logOn(l: u32): bool {
  return LOG_ENABLED && l <= level;
}

export function logStart(s: string): void {
  at = 0;
  logStr(s);
}

export function logStr(s: string): void {
  const n = s.length;
  for (let i = 0; i < n && at < LOG_LINE_MAX; i++) store<u8>(line + at++, <u8>s.charCodeAt(i));
}

// What the build's ascii-literals transform turns logStart("...") and logStr("...") into: the
// same text as bytes, half the size of a string literal. Global, so rewritten files need no import.
// @ts-ignore: decorator
@global export function __logStartBytes(p: usize, n: u32): void {
  at = 0;
  __logBytes(p, n);
}

// @ts-ignore: decorator
@global export function __logBytes(p: usize, n: u32): void {
  const k = min<u32>(n, <u32>(LOG_LINE_MAX - at));
  memory.copy(line + at, p, k);
  at += <i32>k;
}

export function logU32(v: u32): void {
  if (v >= 10) logU32(v / 10);
  if (at < LOG_LINE_MAX) store<u8>(line + at++, <u8>(48 + v % 10));
}

export function logIp(ip: u32): void {
  logU32(ip >>> 24);
  logStr(".");
  logU32((ip >>> 16) & 255);
  logStr(".");
  logU32((ip >>> 8) & 255);
  logStr(".");
  logU32(ip & 255);
}

/** Six bytes at p as aa:bb:cc:dd:ee:ff. */
export function logMac(p: usize): void {
  for (let i = 0; i < 6; i++) {
    if (i) logStr(":");
    const b = load<u8>(p + i);
    logHexDigit(b >> 4);
    logHexDigit(b & 15);
  }
}

function logHexDigit(d: u32): void {
  if (at < LOG_LINE_MAX) store<u8>(line + at++, <u8>(d < 10 ? 48 + d : 87 + d));
}

export function logEnd(l: u32): void {
  if (LOG_ENABLED) phy_log(l, line, at);
}

/** len bytes of ASCII text at p (non-printable bytes as '?'). */
export function logAscii(p: usize, len: u32): void {
  for (let i: u32 = 0; i < len && at < LOG_LINE_MAX; i++) {
    const c = load<u8>(p + i);
    store<u8>(line + at++, c >= 32 && c < 127 ? c : 63);
  }
}
