// The one Ethernet interface: its addresses, its frame buffers and the transmit path.
import { FEATURE_LOOPBACK, FRAME_MAX, FRAME_MIN } from "../config";
import { C, count, countN } from "../support/counters";
import { phy_tx } from "../support/phy";
import { NET_EV_ADDRESS, NET_EV_ADDRESS_LOST, netEvent } from "./events";

/** Our MAC as raw memory words (bytes 0..3 and 4..5 as loaded). */
export let macW0: u32 = 0;
export let macW4: u16 = 0;
export let ipAddr: u32 = 0;
export let netmask: u32 = 0;
export let gateway: u32 = 0;
/** The board's carrier (set_link). While down, frames are dropped here and counted (tx_link_down). */
export let linkUp: bool = true;
/** ip | ~netmask, or 0xffffffff where a /31 or /32 has no directed broadcast (RFC 3021). */
export let directedBroadcast: u32 = 0xffffffff;

/** Frame buffers have a few bytes of slack so word-wide writes may run past a frame's end. */
export const FRAME_BUF: i32 = (<i32>FRAME_MAX + 8) & ~7;
/** The board copies each received frame here, then calls input(len). */
export const rxBuf: usize = memory.data(FRAME_BUF, 16);
/** Frames the stack originates are built here. */
export const txBuf: usize = memory.data(FRAME_BUF, 16);

/** Tests capture transmitted frames here instead of the phy.tx import. */
export let txHook: ((p: usize, len: u32) => void) | null = null;

export function setTxHook(h: ((p: usize, len: u32) => void) | null): void {
  txHook = h;
}

export function setMac(w0: u32, w4: u16): void {
  macW0 = w0;
  macW4 = w4;
}

export function setLinkUp(up: bool): void {
  linkUp = up;
}

export function setAddress(ip: u32, mask: u32, gw: u32): void {
  if (ip != ipAddr) netEvent(ip != 0 ? NET_EV_ADDRESS : NET_EV_ADDRESS_LOST);
  ipAddr = ip;
  netmask = mask;
  gateway = gw;
  directedBroadcast = mask >= 0xfffffffe || ip == 0 ? 0xffffffff : ip | ~mask;
}

// @ts-ignore: decorator
@inline export function isBroadcast(ip: u32): bool {
  return ip == 0xffffffff || ip == directedBroadcast;
}

/** Our address as seen from dst: a loopback address talks to itself (127.0.0.1 to 127.0.0.1), so
 *  checksums, replies and the connection table agree with what loopback delivers. */
// @ts-ignore: decorator
@inline export function localFor(dst: u32): u32 {
  return FEATURE_LOOPBACK && (dst >>> 24) == 127 ? dst : ipAddr;
}

// @ts-ignore: decorator
@inline export function isOnLink(ip: u32): bool {
  return ipAddr != 0 && ((ip ^ ipAddr) & netmask) == 0;
}

/** Hands one complete frame to the PHY, zero-padding it to the Ethernet minimum. */
export function transmit(p: usize, len: u32): void {
  if (!linkUp) {
    count(C.TX_LINK_DOWN);
    return;
  }
  if (len < FRAME_MIN) {
    memory.fill(p + len, 0, FRAME_MIN - len);
    len = FRAME_MIN;
  }
  countN(C.TX_FRAMES, 1); // countN: @inline, on every frame
  countN(C.TX_BYTES, len);
  const h = txHook;
  if (h) h(p, len);
  else phy_tx(p, len);
}
