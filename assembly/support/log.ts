// One log line at a time, assembled in a static buffer and handed to phy.log.
//
//   logf(INFO, "arp: who-has %i tell %i (try %u)", ip, ours, tries);
//
// A format takes at most five u32 arguments: %i an IPv4 address (host order), %u a decimal, %m a
// MAC (a pointer to its 6 bytes), %s ASCII text and %n a DNS name in wire form (each a pointer,
// then a length: two arguments), %% a '%'. One call per line keeps each log site a few bytes of
// code; the level is checked inside, and with LOG_ENABLED off every call compiles to nothing.
// Each line belongs to the module its format names before the ':' ("arp: ..."), and each module has
// its own level (set_log_module_level): any other prefix, an app's, is the module "app".
// The build's ascii-literals transform turns the format literal into bytes (half a string's size).
import { LOG_ENABLED, LOG_LINE_MAX } from "../config";
import { COUNTER_PREFIX_TEXT } from "./counter_names";
import { phy_log } from "./phy";

export const ERROR: u32 = 0;
export const WARN: u32 = 1;
export const INFO: u32 = 2;
export const DEBUG: u32 = 3;

/** Modules (WASMIP_LOG_MODULE_* in wasmip.h): eth 0, arp 1, ip 2, icmp 3, tcp 4, udp 5, dhcp 6,
 *  dns 7, and app 8 for every other prefix. Their names are the counters' name prefixes after rx_
 *  and tx_ (counter_names.ts), stored once. */
export const LOG_MODULES: u32 = 9;
const MODULE_APP: u32 = LOG_MODULES - 1;
/** Two bits of level per module, module m at bit 2m. */
let levels: u32 = INFO * 0x15555;
/** The most verbose module's level: most calls stop at this one comparison. */
let level: u32 = INFO;
const line = memory.data(LOG_LINE_MAX);
let at: i32 = 0;

/** Every module at level l. */
export function setLogLevel(l: u32): void {
  level = min<u32>(l, DEBUG);
  levels = level * 0x15555;
}

/** Module m at level l; false for an unknown module. */
export function setModuleLogLevel(m: u32, l: u32): bool {
  if (m >= LOG_MODULES) return false;
  levels = (levels & ~(3 << (2 * m))) | (min<u32>(l, DEBUG) << (2 * m));
  level = 0;
  for (let i: u32 = 0; i < LOG_MODULES; i++) level = max<u32>(level, moduleLogLevel(i));
  return true;
}

/** Module m's level. */
export function moduleLogLevel(m: u32): u32 {
  return (levels >>> (2 * m)) & 3;
}

// @ts-ignore: decorator
@inline export function logOn(l: u32): bool {
  return LOG_ENABLED && l <= level;
}

/** The module of a format (n bytes at p, a character every `stride`): its text up to ':' matched
 *  against the prefixes ("arp_" for "arp:"). */
function moduleOf(p: usize, n: u32, stride: u32): u32 {
  let k: usize = COUNTER_PREFIX_TEXT + 8; // past "rx_" and "tx_", which name no module
  let i: u32 = 0; // into the format
  let m: u32 = 0;
  while (m < MODULE_APP) {
    let want = <u32>load<u8>(k++);
    if (want == 95 /* _ */) want = 58 /* : */;
    if (i < n && <u32>load<u8>(p + i) == want) {
      if (want == 58) return m;
      i += stride;
      continue;
    }
    while (load<u8>(k) != 0) k++; // the next name
    k++;
    m++;
    i = 0;
  }
  return MODULE_APP;
}

/** Would a line at level l with this format (n bytes at p, a character every `stride`) be logged? */
export function logEnabled(l: u32, p: usize, n: u32, stride: u32): bool {
  return l <= level && l <= moduleLogLevel(moduleOf(p, n, stride));
}

/** One line at level l from a format (see the top of this file). */
// @ts-ignore: decorator
@inline export function logf(l: u32, fmt: string, a: u32 = 0, b: u32 = 0, c: u32 = 0, d: u32 = 0, e: u32 = 0): void {
  if (LOG_ENABLED) logFormat(l, changetype<usize>(fmt), <u32>fmt.length << 1, 2, a, b, c, d, e);
}

/** What the transform turns logf(l, "...", ...) into: the format as n ASCII bytes at p. */
// @ts-ignore: decorator
@global @inline export function __logfBytes(l: u32, p: usize, n: u32, a: u32, b: u32, c: u32, d: u32, e: u32): void {
  if (LOG_ENABLED) logFormat(l, p, n, 1, a, b, c, d, e);
}

/** Formats the n bytes at p (a character every `stride` bytes: 2 for a UTF-16 string). */
function logFormat(l: u32, p: usize, n: u32, stride: u32, a: u32, b: u32, c: u32, d: u32, e: u32): void {
  if (!logEnabled(l, p, n, stride)) return;
  at = 0;
  let k: u32 = 0; // arguments used
  for (let i: u32 = 0; i < n; i += stride) {
    let ch = <u32>load<u8>(p + i);
    if (ch == 37 /* % */ && i + stride < n) {
      i += stride;
      ch = <u32>load<u8>(p + i);
      if (ch != 37) {
        const v = k == 0 ? a : k == 1 ? b : k == 2 ? c : k == 3 ? d : e;
        const w = k == 0 ? b : k == 1 ? c : k == 2 ? d : e; // the length of %s and %n
        k++;
        if (ch == 105 /* i */) logIp(v);
        else if (ch == 117 /* u */) logU32(v);
        else if (ch == 109 /* m */) logMac(<usize>v);
        else if (ch == 115 /* s */ || ch == 110 /* n */) {
          k++;
          if (ch == 115) logAscii(<usize>v, w);
          else logName(<usize>v, w);
        }
        continue;
      }
    }
    putChar(ch);
  }
  phy_log(l, line, at);
}

// @ts-ignore: decorator
@inline function putChar(c: u32): void {
  if (at < LOG_LINE_MAX) store<u8>(line + at++, <u8>c);
}

function logU32(v: u32): void {
  if (v >= 10) logU32(v / 10);
  putChar(48 + v % 10);
}

function logIp(ip: u32): void {
  for (let s: i32 = 24; s >= 0; s -= 8) {
    logU32((ip >>> <u32>s) & 255);
    if (s) putChar(46);
  }
}

/** Six bytes at p as aa:bb:cc:dd:ee:ff. */
function logMac(p: usize): void {
  for (let i = 0; i < 6; i++) {
    if (i) putChar(58);
    const x = <u32>load<u8>(p + i);
    logHexDigit(x >> 4);
    logHexDigit(x & 15);
  }
}

function logHexDigit(d: u32): void {
  putChar(d < 10 ? 48 + d : 87 + d);
}

/** len bytes of ASCII text at p (non-printable bytes as '?'). */
function logAscii(p: usize, len: u32): void {
  for (let i: u32 = 0; i < len; i++) {
    const c = <u32>load<u8>(p + i);
    putChar(c >= 32 && c < 127 ? c : 63);
  }
}

/** A name as length-prefixed labels (DNS wire form) with dots. */
function logName(name: usize, len: u32): void {
  let i: u32 = 0;
  while (i < len) {
    const l = <u32>load<u8>(name + i);
    if (l == 0 || i + 1 + l > len) break;
    if (i) putChar(46);
    logAscii(name + i + 1, l);
    i += 1 + l;
  }
}
