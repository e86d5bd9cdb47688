// DNS test support: a byte writer for crafted messages (names, pointers, records), and crafted
// replies from a server into rxBuf.
import { get16, get32, put16, put32 } from "../support/bytes";
import { rxBuf } from "../iface/netif";
import { OUR_IP, ipHeader, sent, sentCount, sentLen } from "../testing";

export const msgBuf: usize = heap.alloc(2048);
export let at: u32 = 0;

export function begin(): void {
  at = 0;
}
export function b8(v: u32): void {
  store<u8>(msgBuf + at, <u8>v);
  at += 1;
}
export function b16(v: u32): void {
  put16(msgBuf + at, v);
  at += 2;
}
export function b32(v: u32): void {
  put32(msgBuf + at, v);
  at += 4;
}
/** Labels of a dotted name, then the root (0) unless `ptr` >= 0: then a pointer to ptr. */
export function name(s: string, ptr: i32 = -1): void {
  if (s.length) {
    const parts = s.split(".");
    for (let i = 0; i < parts.length; i++) {
      const l = parts[i];
      b8(l.length);
      for (let k = 0; k < l.length; k++) b8(l.charCodeAt(k));
    }
  }
  if (ptr >= 0) b16(0xc000 | <u32>ptr);
  else b8(0);
}
export function header(id: u32, flags: u32, qd: u32, an: u32, ns: u32 = 0, ar: u32 = 0): void {
  b16(id);
  b16(flags);
  b16(qd);
  b16(an);
  b16(ns);
  b16(ar);
}
export function question(qname: string, qtype: u32 = 1, qclass: u32 = 1): void {
  name(qname);
  b16(qtype);
  b16(qclass);
}
/** A record's fixed part after its owner name (write the name first). */
export function rrFixed(type: u32, ttl: u32, rdlen: u32, klass: u32 = 1): void {
  b16(type);
  b16(klass);
  b32(ttl);
  b16(rdlen);
}
/** An A record whose owner is a pointer to `ownerAt`. */
export function aRecord(ownerAt: u32, ttl: u32, addr: u32): void {
  b16(0xc000 | ownerAt);
  rrFixed(1, ttl, 4);
  b32(addr);
}
/** A CNAME record: owner a pointer to ownerAt, target `t` uncompressed. Returns the target's offset. */
export function cnameRecord(ownerAt: u32, ttl: u32, t: string): u32 {
  b16(0xc000 | ownerAt);
  let len: u32 = 1;
  const parts = t.split(".");
  for (let i = 0; i < parts.length; i++) len += 1 + <u32>parts[i].length;
  rrFixed(5, ttl, len);
  const off = at;
  name(t);
  return off;
}

/** A reply: the message written so far, from src:srcPort to our dstPort, in rxBuf. Frame length. */
export function replyFrame(src: u32, srcPort: u32, dstPort: u32): u32 {
  const udp = ipHeader(17, src, OUR_IP, 8 + at);
  put16(udp, srcPort);
  put16(udp + 2, dstPort);
  put16(udp + 4, 8 + at);
  store<u16>(udp + 6, 0); // no checksum
  memory.copy(udp + 8, msgBuf, at);
  return 14 + 20 + 8 + at;
}

/** The index of the last captured frame that is a UDP datagram to port 53, or -1. */
export function lastQuery(): i32 {
  for (let i = sentCount() - 1; i >= 0; i--) {
    const f = sent(i);
    if (sentLen(i) >= 42 && get16(f + 12) == 0x0800 && load<u8>(f + 23) == 17 && get16(f + 36) == 53) return i;
  }
  return -1;
}
export function queryCount(): i32 {
  let n = 0;
  for (let i = 0; i < sentCount(); i++) {
    const f = sent(i);
    if (sentLen(i) >= 42 && get16(f + 12) == 0x0800 && load<u8>(f + 23) == 17 && get16(f + 36) == 53) n++;
  }
  return n;
}
export function queryDst(i: i32): u32 {
  return get32(sent(i) + 30);
}
export function querySrcPort(i: i32): u32 {
  return get16(sent(i) + 34);
}
export function queryId(i: i32): u32 {
  return get16(sent(i) + 42);
}
/** Pointer to the DNS message of captured frame i. */
export function queryMsg(i: i32): usize {
  return sent(i) + 42;
}

export function rx(): usize {
  return rxBuf;
}

/** A string's ASCII bytes in a scratch buffer (for dnsResolve). */
const strBuf: usize = heap.alloc(1100);
export function str(s: string): usize {
  for (let i = 0; i < s.length; i++) store<u8>(strBuf + i, <u8>s.charCodeAt(i));
  return strBuf;
}
