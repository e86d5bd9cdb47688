// SYN cookies (RFC 4987 §3.6): a SYN-ACK whose ISN encodes, under a keyed hash, what the
// connection needs later, so the listener keeps no state until the peer's ACK returns it.
//
// Policy (listenInput), Linux's with tcp_syncookies=1: a passive open's ISN is the RFC 6528
// keyed hash (isn.ts), as for active opens, while a child can be kept. A SYN that finds the
// backlog full or no free block starts flood mode at once (tcp_syn_floods), so a SYN never finds
// nothing to answer with: every SYN is answered with a cookie and nothing is kept (tcp_syn_cookie),
// so the flood cannot refill the blocks it holds. Flood mode ends after a second in which no more
// SYNs arrived than TCP_BACKLOG_MAX. An ACK that returns a valid cookie opens the connection
// (tcp_syncookies_ok); if the backlog or the blocks are full it takes the place of the oldest
// half-open child (tcp_half_open_evicted) -- outside flood mode only of one whose SYN-ACK went
// unanswered for the initial RTO: a peer that completed a round trip beats one that may not
// exist, and in a flood the young children are the flood's own first SYNs. The evicted child's
// ISN was no cookie, so if its peer was real after all (a burst of real clients beyond the
// backlog), its ACK draws a RST and it must connect again. Waiting instead for the child to age
// would cost the real client more than a round trip: its data or FIN after the dropped ACK fails
// the cookie check and draws a RST anyway. With no child to evict, the cookie ACK is dropped (the
// peer retransmits, the cookie stays valid). The accept queue is never bypassed: with
// `backlog` established connections waiting for accept(), SYNs and cookie ACKs are dropped.
// A segment that overtakes the handshake's last ACK finds no connection and draws a RST
// (RFC 9293 §3.10.7.2), as with Linux's cookies.
//
// The ISN (32 bits): the period's parity (1 bit: ms clock / 65536; ACKs are accepted in this
// period and the one before, so for 65 to 131 s, and the parity tells the two apart), SACK
// permitted (1 bit: the SYN offered it, RFC 2018 §2, so a cookie connection keeps SACK as Linux's
// does only with timestamps), MSS (2 bits: an index for cookieMss()), the peer's window shift
// (4 bits, 15 = none), then 24 bits of SipHash-2-4 over the 4-tuple, our address, the peer's ISN,
// the full period and the 7 bits before. A blind guess succeeds once in 2^24. What a cookie cannot
// carry: the exact MSS (rounded down to the table) and our SYN-ACK's retransmissions (the peer
// retransmits its SYN instead).
//
// IPv6: the 4-tuple's address is the keyed hash of both 16-byte addresses (isn.ts key6), so
// cookies cover IPv6 connections the same way; the SYN-ACK goes out over IPv6 (ctl6).
import { FEATURE_IPV6, TCP_BACKLOG_MAX, TCP_MSS, TCP_RCV_BUF } from "../../config";
import { now } from "../../support/clock";
import { C, count } from "../../support/counters";
import { ipAddr } from "../../iface/netif";
import { ACK, SYN, TcpRepr } from "../../wire/tcp";
import { cookieHash } from "./isn";
import { mss6, sendOut } from "./output";
import { ctl6 } from "./pcb";

const PERIOD_SHIFT: u32 = 16; // 65.536 s

const out = changetype<TcpRepr>(memory.data(offsetof<TcpRepr>()));
const FLOOD_WINDOW_MS: u32 = 1000;
let flood = false;
let windowStart: u32 = 0;
let windowSyns: u32 = 0;

export function synCookieInit(): void {
  flood = false;
  windowStart = now;
  windowSyns = 0;
}

/** Every SYN at a listener: counts the rate that keeps flood mode on. */
export function synSeen(): void {
  if (now - windowStart >= FLOOD_WINDOW_MS) {
    if (flood && windowSyns <= TCP_BACKLOG_MAX) flood = false;
    windowStart = now;
    windowSyns = 0;
  }
  windowSyns++;
}

/** A SYN found the backlog full or no block: answer every SYN with a cookie. */
export function synFloodStart(): void {
  if (!flood) count(C.TCP_SYN_FLOODS);
  flood = true;
}

export function synFlood(): bool {
  return flood;
}

/** MSS values a cookie can carry (index 0..3), ascending, none above TCP_MSS. */
export function cookieMss(index: u32): u32 {
  const v: u32 = index == 0 ? 64 : index == 1 ? 536 : index == 2 ? 1220 : TCP_MSS;
  return v < TCP_MSS ? v : TCP_MSS;
}

function mac(rip: u32, lport: u32, rport: u32, peerIsn: u32, period: u32, meta: u32): u32 {
  const tuple = cookieHash((<u64>rip << 32) | <u64>ipAddr, (<u64>peerIsn << 32) | (<u64>lport << 16) | <u64>rport);
  return <u32>cookieHash(tuple, (<u64>(period & 0xffff) << 8) | <u64>(meta & 0x7f)) & 0xffffff;
}

/** A cookie's meta bits: SACK permitted. */
export const COOKIE_SACK: u32 = 0x40;

/** The ISN for a SYN from (rip, rport) to lport with sequence number peerIsn, MSS option mss
 *  (0 = none), window scale wscale (-1 = none) and SACK permitted (only kept when we do SACK). */
export function synCookie(rip: u32, lport: u32, rport: u32, peerIsn: u32, mss: u32, wscale: i32, sack: bool): u32 {
  const eff: u32 = mss == 0 ? 536 : mss;
  let idx: u32 = 3;
  while (idx > 0 && cookieMss(idx) > eff) idx--;
  const meta = (sack ? COOKIE_SACK : 0) | (idx << 4) | (wscale < 0 ? 15 : <u32>wscale & 15);
  const period = now >>> PERIOD_SHIFT;
  return ((period & 1) << 31) | (meta << 24) | mac(rip, lport, rport, peerIsn, period, meta);
}

/** If iss is a cookie we issued for this SYN, its meta bits (COOKIE_SACK | MSS index << 4 |
 *  shift, 15 = no window scaling); else -1. */
export function synCookieCheck(iss: u32, rip: u32, lport: u32, rport: u32, peerIsn: u32): i32 {
  const meta = (iss >>> 24) & 0x7f;
  const cur = now >>> PERIOD_SHIFT;
  for (let back: u32 = 0; back < 2; back++) {
    const period = (cur - back) & 0xffff;
    if ((period & 1) != iss >>> 31) continue;
    if (mac(rip, lport, rport, peerIsn, period, meta) == (iss & 0xffffff)) return <i32>meta;
  }
  return -1;
}

/** The stateless SYN-ACK: our MSS, our window shift (ourShift, or -1 when the SYN offered no
 *  scaling), SACK permitted if sack, the window a fresh receive ring would offer. */
export function sendCookieSynAck(lport: u32, rip: u32, rport: u32, iss: u32, ack: u32, ourShift: i32, sack: bool): void {
  out.srcPort = lport;
  out.dstPort = rport;
  out.seq = iss;
  out.ack = ack;
  out.flags = SYN | ACK;
  out.window = TCP_RCV_BUF > 0xffff ? 0xffff : TCP_RCV_BUF;
  out.urgent = 0;
  out.noOptions();
  out.mss = FEATURE_IPV6 && ctl6 != 0 ? mss6(ctl6) : TCP_MSS;
  out.wscale = ourShift;
  out.sackPermitted = sack;
  out.payloadLen = 0;
  const hl = out.emitLen();
  count(C.TCP_SEGMENTS_SENT);
  sendOut(out, rip, FEATURE_IPV6 ? ctl6 : 0, hl);
}
