// A scripted DHCP server for the client tests: replies crafted into the receive buffer as a board
// would deliver them, and the client's transmitted messages parsed from the captured frames.
import { C } from "../support/counters";
import { setNow, now } from "../support/clock";
import { get16, get32, put16, put32 } from "../support/bytes";
import { rxBuf, setAddress } from "../iface/netif";
import { poll } from "../index";
import { DhcpRepr, MAGIC_COOKIE, OPT_END } from "../wire/dhcp";
import { WireError } from "../wire/error";
import { dhcpStartNamed, dhcpXid } from "../services/dhcp";
import { OUR_MAC_HI, OUR_MAC_LO, PEER_IP, arpFrame, bringUp, clearSent, ctr, feed, ipHeader, sent, sentCount, sentLen } from "../testing";

export const SERVER: u32 = PEER_IP; // 10.0.0.2, MAC 02:00:00:00:00:02
export const SERVER2: u32 = 0x0a000003;
export const LEASED: u32 = 0x0a000032; // 10.0.0.50
export const ROUTER: u32 = 0x0a0000fe;
export const DNS1: u32 = 0x0a000035;
export const DNS2: u32 = 0x08080808;
export const MASK24: u32 = 0xffffff00;

export const msg = changetype<DhcpRepr>(heap.alloc(offsetof<DhcpRepr>()));

/** A stack with no address and the client started as "board1" at time t; capture cleared after. */
export function dhcpUp(t: u32 = 1000): void {
  bringUp(t);
  setAddress(0, 0, 0);
  clearSent();
  expect(dhcpStartNamed("board1")).toBe(0);
}

export function advance(ms: u32): void {
  setNow(now + ms);
  poll(now);
}

/** Index of the last DHCP message the client sent (parsed into `msg`), -1 if none. ARP requests
 *  for the server on the way are answered, as the server would. */
export function lastDhcp(): i32 {
  for (let k = sentCount() - 1; k >= 0; k--) if (parseSent(k)) return k;
  return -1;
}

function answerArp(from: i32): bool {
  let answered = false;
  for (let k = from; k < sentCount(); k++) {
    const f = sent(k);
    if (get16(f + 12) == 0x0806 && get16(f + 20) == 1) {
      const tpa = get32(f + 38);
      if (tpa == SERVER || tpa == SERVER2) {
        feed(arpFrame(2, tpa, get32(f + 28), false));
        answered = true;
      }
    }
  }
  return answered;
}

/** Advances in steps of `step` ms until the client sends a DHCP message or `limit` ms pass
 *  (answering ARP for the servers); returns ms waited. */
export function waitForFrame(limit: u32, step: u32 = 100): u32 {
  let waited: u32 = 0;
  let n0 = sentCount();
  while (waited < limit) {
    advance(step);
    waited += step;
    if (answerArp(n0)) advance(0);
    for (let k = n0; k < sentCount(); k++) if (parseSent(k)) return waited;
    n0 = sentCount();
  }
  return waited;
}

// ---- What the client sent ----------------------------------------------------------------------

/** Parses our k-th captured frame as a DHCP message into `msg`; false if it is not one. */
export function parseSent(k: i32): bool {
  if (k < 0 || k >= sentCount()) return false;
  const f = sent(k);
  if (get16(f + 12) != 0x0800 || load<u8>(f + 23) != 17) return false;
  if (get16(f + 34) != 68 || get16(f + 36) != 67) return false;
  const ulen = get16(f + 38);
  return msg.parse(f + 42, ulen - 8) == WireError.OK;
}
export function parseLast(): bool {
  return parseSent(sentCount() - 1);
}
export function sentDstIp(k: i32): u32 {
  return get32(sent(k) + 30);
}
export function sentSrcIp(k: i32): u32 {
  return get32(sent(k) + 26);
}
/** True if frame k went to the Ethernet broadcast address. */
export function sentEthBroadcast(k: i32): bool {
  return load<u32>(sent(k)) == 0xffffffff && load<u16>(sent(k) + 4) == 0xffff;
}
/** The k-th frame's DHCP options contain `code`: returns the offset of its length byte, or 0. */
export function sentOption(k: i32, code: u32): usize {
  const f = sent(k);
  const end = f + sentLen(k);
  let q = f + 42 + 240;
  while (q < end) {
    const c = <u32>load<u8>(q);
    if (c == 0) { q++; continue; }
    if (c == 255) return 0;
    if (c == code) return q + 1;
    q += 2 + <usize>load<u8>(q + 1);
  }
  return 0;
}
export function lastXid(): u32 {
  expect(lastDhcp()).toBeGreaterThanOrEqual(0, "expected a DHCP message from the client");
  return msg.xid;
}

// ---- Replies ---------------------------------------------------------------------------------

let at: usize = 0;
let start: usize = 0;

/** Starts a BOOTREPLY at p for our MAC. */
export function begin(p: usize, xid: u32, yiaddr: u32, op: u32 = 2): void {
  start = p;
  memory.fill(p, 0, 240);
  store<u8>(p, <u8>op);
  store<u8>(p, 1, 1);
  store<u8>(p, 6, 2);
  put32(p + 4, xid);
  put16(p + 10, 0x8000);
  put32(p + 16, yiaddr);
  put32(p + 20, SERVER);
  // chaddr: our MAC 02:00:00:00:00:01
  store<u8>(p + 28, <u8>(OUR_MAC_HI >> 8));
  store<u8>(p + 29, <u8>OUR_MAC_HI);
  put32(p + 30, OUR_MAC_LO);
  put32(p + 236, MAGIC_COOKIE);
  at = p + 240;
}
export function opt8(code: u32, v: u32): void {
  store<u8>(at, <u8>code);
  store<u8>(at + 1, 1);
  store<u8>(at + 2, <u8>v);
  at += 3;
}
export function opt32(code: u32, v: u32): void {
  store<u8>(at, <u8>code);
  store<u8>(at + 1, 4);
  put32(at + 2, v);
  at += 6;
}
export function optIps(code: u32, a: u32, b: u32): void {
  store<u8>(at, <u8>code);
  store<u8>(at + 1, 8);
  put32(at + 2, a);
  put32(at + 6, b);
  at += 10;
}
export function rawByte(b: u32): void {
  store<u8>(at, <u8>b);
  at++;
}
/** Ends the options with END (unless noEnd); returns the message length. */
export function finish(noEnd: bool = false): u32 {
  if (!noEnd) rawByte(OPT_END);
  return <u32>(at - start);
}

/** A full reply at p of type `type` with the usual options; returns its length. */
export function standard(p: usize, type: u32, xid: u32, yiaddr: u32 = LEASED, sid: u32 = SERVER, lease: u32 = 3600, t1: u32 = 0, t2: u32 = 0): u32 {
  begin(p, xid, type == 6 ? 0 : yiaddr);
  opt8(53, type);
  if (sid) opt32(54, sid);
  if (type != 6) {
    opt32(51, lease);
    if (t1) opt32(58, t1);
    if (t2) opt32(59, t2);
    opt32(1, MASK24);
    opt32(3, ROUTER);
    optIps(6, DNS1, DNS2);
  }
  return finish();
}

/** Where a reply's DHCP message goes in the receive buffer. */
export const RX_DHCP: usize = rxBuf + 42;

/** Wraps the DHCP message of n bytes at RX_DHCP in UDP 67 -> 68 and IP from `src` to `dst`, feeds
 *  it to the stack, then polls (as a board does after input). Returns the frame's counter. */
export function deliver(n: u32, dst: u32 = 0xffffffff, src: u32 = SERVER, srcPort: u32 = 67): C {
  ipHeader(17, src, dst, 8 + n);
  const u = rxBuf + 34;
  put16(u, srcPort);
  put16(u + 2, 68);
  put16(u + 4, 8 + n);
  store<u16>(u + 6, 0); // no checksum
  const c = feed(14 + 20 + 8 + n);
  poll(now);
  return c;
}

/** Replies `type` to the client's current xid (read from its last message). */
export function reply(type: u32, lease: u32 = 3600, t1: u32 = 0, t2: u32 = 0, sid: u32 = SERVER, dst: u32 = 0xffffffff): C {
  const x = dhcpXid();
  return deliver(standard(RX_DHCP, type, x, LEASED, sid, lease, t1, t2), dst, sid != 0 ? sid : SERVER);
}

/** DISCOVER -> OFFER -> REQUEST -> ACK: the client is BOUND to LEASED. */
export function leaseUp(lease: u32 = 3600, t1: u32 = 0, t2: u32 = 0, t: u32 = 1000): void {
  dhcpUp(t);
  reply(2, lease, t1, t2);
  reply(5, lease, t1, t2);
  clearSent();
}

export { C, ctr, sentCount, clearSent, sent, sentLen };
