// Crafted frames, written straight into the receive buffer as a board would, then delivered.
import { runAppPoll } from "../app";
import { C } from "../support/counters";
import { put16, put32 } from "../support/bytes";
import { checksum } from "../wire/checksum";
import { rxBuf } from "../iface/netif";
import { ethernetInput } from "../iface/ethernet";
import { OUR_IP, PEER_IP } from "./stack";

/** The MAC 02:00:00:00:00:n at p (the default scripted peer is n = 2, we are n = 1). */
export function peerMac(p: usize, n: u32 = 2): void {
  store<u32>(p, 0x00000002);
  store<u16>(p, <u16>((n & 255) << 8), 4);
}

/** Writes an Ethernet header into rxBuf: to us (or broadcast), from peer n's MAC. */
export function ethHeader(type: u32, broadcast: bool = false, fromMac: u32 = 2): void {
  if (broadcast) {
    store<u32>(rxBuf, 0xffffffff);
    store<u16>(rxBuf, 0xffff, 4);
  } else {
    peerMac(rxBuf, 1);
  }
  peerMac(rxBuf + 6, fromMac);
  put16(rxBuf + 12, type);
}

/** An ARP packet in rxBuf from spa at peer MAC n, asking for (op 1) or answering to (op 2) tpa;
 *  returns the frame length. */
export function arpFrame(op: u32, spa: u32, tpa: u32, broadcast: bool = true, fromMac: u32 = 2): u32 {
  ethHeader(0x0806, broadcast, fromMac);
  const p = rxBuf + 14;
  put32(p, 0x00010800);
  put16(p + 4, 0x0604);
  put16(p + 6, op);
  peerMac(p + 8, fromMac);
  put32(p + 14, spa);
  if (op == 2) peerMac(p + 18, 1);
  else {
    store<u32>(p + 18, 0);
    store<u16>(p + 22, 0);
  }
  put32(p + 24, tpa);
  return 42;
}

/** An IPv4 header (20 bytes + optLen option bytes) in rxBuf; returns the address of its payload. */
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

/** An ICMP echo request from src with a counting payload; returns the frame length. */
export function echoRequest(ident: u32, seq: u32, size: u32, dst: u32 = OUR_IP, optLen: u32 = 0, src: u32 = PEER_IP): u32 {
  const icmp = ipHeader(1, src, dst, 8 + size, optLen);
  store<u8>(icmp, 8);
  store<u8>(icmp + 1, 0);
  store<u16>(icmp + 2, 0);
  put16(icmp + 4, ident);
  put16(icmp + 6, seq);
  for (let i: u32 = 0; i < size; i++) store<u8>(icmp + 8 + i, <u8>(i * 7 + 3));
  put16(icmp + 2, checksum(icmp, 8 + size));
  return 14 + 20 + optLen + 8 + size;
}

/** Delivers the len bytes in rxBuf as a received frame, then runs the app (as input() does, but on
 *  the virtual clock); returns the counter that accounted for the frame. */
export function feed(len: u32): C {
  const c = ethernetInput(len);
  runAppPoll();
  return c;
}
