// Addresses between their text form and what crosses the ABI: IPv4 as a u32 in host order
// (10.0.0.2 = 0x0A000002), a prefix length as a mask, a MAC as 6 bytes. The board, its APIs,
// the simulator and the device runners all convert, so this sits below all of them.
import { codedError } from "./errors.ts";

const badIp = (ip: string) => codedError("ERR_INVALID_IP_ADDRESS", new TypeError(`bad IPv4 address: ${ip}`));
const badArg = (msg: string) => codedError("ERR_INVALID_ARG_VALUE", new TypeError(msg));

export function ipToU32(ip: string): number {
  const parts = ip.split(".");
  if (parts.length !== 4) throw badIp(ip);
  let v = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw badIp(ip);
    v = v * 256 + n;
  }
  return v >>> 0;
}

export function u32ToIp(v: number): string {
  return [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255].join(".");
}

export function prefixToMask(prefix: number): number {
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw badArg(`bad prefix length: ${prefix}`);
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function parseMac(mac: string): Uint8Array {
  const parts = mac.split(":");
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw badArg(`bad MAC address: ${mac}`);
  return Uint8Array.from(parts.map((p) => parseInt(p, 16)));
}

export function formatMac(b: Uint8Array): string {
  return Array.from(b.subarray(0, 6), (x) => x.toString(16).padStart(2, "0")).join(":");
}

/** Parse "A.B.C.D/len". */
export function parseCidr(s: string): { ip: string; prefix: number } {
  const m = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(s);
  if (!m) throw badArg(`bad address "${s}" (want A.B.C.D/len)`);
  const prefix = Number(m[2]);
  ipToU32(m[1]); // validates
  prefixToMask(prefix); // validates
  if (prefix < 1 || prefix > 30) throw badArg(`bad prefix length in "${s}" (1..30)`);
  return { ip: m[1], prefix };
}

/** An IPv6 address in text (RFC 4291 §2.2, with :: and a trailing dotted quad) as 16 bytes. */
export function parseIpv6(s: string): Uint8Array {
  const bad = () => codedError("EINVAL", new Error(`not an IPv6 address: ${s}`));
  let text = s.replace(/%.*$/, ""); // a zone (fe80::1%tap0) names our only interface
  const out = new Uint8Array(16);
  const m = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  const words: number[] = [];
  if (m) {
    const v4 = ipToU32(m[2]);
    text = m[1] + (v4 >>> 16).toString(16) + ":" + (v4 & 0xffff).toString(16);
  }
  const halves = text.split("::");
  if (halves.length > 2) throw bad();
  const part = (h: string) => (h === "" ? [] : h.split(":").map((w) => {
    if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw bad();
    return parseInt(w, 16);
  }));
  const head = part(halves[0]);
  const tail = halves.length === 2 ? part(halves[1]) : [];
  if (halves.length === 1 ? head.length !== 8 : head.length + tail.length > 7) throw bad();
  words.push(...head, ...new Array(8 - head.length - tail.length).fill(0), ...tail);
  words.forEach((w, i) => { out[2 * i] = w >> 8; out[2 * i + 1] = w & 255; });
  return out;
}

/** 16 bytes as RFC 5952 text (lower case, the longest run of two or more zero words as ::). */
export function formatIpv6(b: Uint8Array): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[2 * i] << 8) | b[2 * i + 1]);
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(":");
  if (best < 0) return hex(w);
  return hex(w.slice(0, best)) + "::" + hex(w.slice(best + bestLen));
}
