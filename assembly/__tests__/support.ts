// Test support for the core's unit tests: a captured transmit path and frame builders that
// write straight into the receive buffer, as a board would.
import { init } from "../index";
import { setNow } from "../support/clock";
import { counterValue, C } from "../support/counters";
import { put16, put32 } from "../support/bytes";
import { checksum } from "../wire/checksum";
import { rxBuf, setTxHook } from "../iface/netif";
import { ethernetInput } from "../iface/ethernet";

export const OUR_IP: u32 = 0x0a000001; // 10.0.0.1
export const PEER_IP: u32 = 0x0a000002; // 10.0.0.2
export const MASK: u32 = 0xffffff00;
export const GW: u32 = 0x0a0000fe;
// Our MAC 02:00:00:00:00:01, the peer's 02:00:00:00:00:02.
export const OUR_MAC_HI: u32 = 0x0200;
export const OUR_MAC_LO: u32 = 0x00000001;

const MAX_FRAMES = 32;
const captured: usize = heap.alloc(2048 * MAX_FRAMES);
const capturedLen: usize = heap.alloc(4 * MAX_FRAMES);
let nCaptured: i32 = 0;

function capture(p: usize, len: u32): void {
  if (nCaptured >= MAX_FRAMES) return;
  memory.copy(captured + <usize>nCaptured * 2048, p, len);
  store<u32>(capturedLen + (<usize>nCaptured << 2), len);
  nCaptured++;
}

/** A fresh stack at 10.0.0.1/24 via 10.0.0.254 with time t; capture cleared (the GARP dropped). */
export function bringUp(t: u32 = 1000): void {
  setNow(t);
  setTxHook(capture);
  init(OUR_MAC_HI, OUR_MAC_LO, OUR_IP, MASK, GW);
  setNow(t);
  clearSent();
}

export function clearSent(): void {
  nCaptured = 0;
}
export function sentCount(): i32 {
  return nCaptured;
}
export function sent(i: i32): usize {
  return captured + <usize>i * 2048;
}
export function sentLen(i: i32): u32 {
  return load<u32>(capturedLen + (<usize>i << 2));
}

export function ctr(c: C): u32 {
  return counterValue(<u32>c);
}

/** Writes an Ethernet header into rxBuf: to us (or broadcast), from the peer's MAC. */
export function ethHeader(type: u32, broadcast: bool = false): void {
  if (broadcast) {
    store<u32>(rxBuf, 0xffffffff);
    store<u16>(rxBuf, 0xffff, 4);
  } else {
    store<u32>(rxBuf, 0x00000002); // 02:00:00:00
    store<u16>(rxBuf, 0x0100, 4); // 00:01
  }
  peerMac(rxBuf + 6);
  put16(rxBuf + 12, type);
}

export function peerMac(p: usize): void {
  store<u32>(p, 0x00000002);
  store<u16>(p, 0x0200, 4); // 02:00:00:00:00:02
}

/** An ARP packet in rxBuf from spa/sha=peer; returns the frame length. */
export function arpFrame(op: u32, spa: u32, tpa: u32, broadcast: bool = true): u32 {
  ethHeader(0x0806, broadcast);
  const p = rxBuf + 14;
  put32(p, 0x00010800);
  put16(p + 4, 0x0604);
  put16(p + 6, op);
  peerMac(p + 8);
  put32(p + 14, spa);
  if (op == 2) {
    store<u32>(p + 18, 0x00000002);
    store<u16>(p + 22, 0x0100);
  } else {
    store<u32>(p + 18, 0);
    store<u16>(p + 22, 0);
  }
  put32(p + 24, tpa);
  return 42;
}

/** An IPv4 header (20 bytes + optLen option bytes) in rxBuf; returns the offset of its payload. */
export function ipHeader(proto: u32, src: u32, dst: u32, payloadLen: u32, optLen: u32 = 0, frag: u32 = 0): usize {
  ethHeader(0x0800, dst == 0xffffffff);
  const p = rxBuf + 14;
  const ihl = 20 + optLen;
  store<u8>(p, <u8>(0x40 | (ihl >> 2)));
  store<u8>(p + 1, 0);
  put16(p + 2, ihl + payloadLen);
  put16(p + 4, 0x1234);
  put16(p + 6, frag);
  store<u8>(p + 8, 64);
  store<u8>(p + 9, <u8>proto);
  store<u16>(p + 10, 0);
  put32(p + 12, src);
  put32(p + 16, dst);
  for (let i: u32 = 0; i < optLen; i++) store<u8>(p + 20 + i, 1); // NOP options
  put16(p + 10, checksum(p, ihl));
  return p + ihl;
}

/** An ICMP echo request from the peer with a counting payload; returns the frame length. */
export function echoRequest(ident: u32, seq: u32, size: u32, dst: u32 = OUR_IP, optLen: u32 = 0): u32 {
  const icmp = ipHeader(1, PEER_IP, dst, 8 + size, optLen);
  store<u8>(icmp, 8);
  store<u8>(icmp + 1, 0);
  store<u16>(icmp + 2, 0);
  put16(icmp + 4, ident);
  put16(icmp + 6, seq);
  for (let i: u32 = 0; i < size; i++) store<u8>(icmp + 8 + i, <u8>(i * 7 + 3));
  put16(icmp + 2, checksum(icmp, 8 + size));
  return 14 + 20 + optLen + 8 + size;
}

export function feed(len: u32): C {
  return ethernetInput(len);
}
