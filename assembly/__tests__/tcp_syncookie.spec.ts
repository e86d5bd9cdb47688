// SYN cookies (sockets/tcp/syncookie.ts): the policy against a SYN flood filling the backlog.
import { ACK, PSH, RST, SYN } from "../wire/tcp";
import { tcpAccept, tcpBind, tcpListen, tcpRecv, tcpSocket, tcpState, tcpTableRow } from "../api/tcp";
import { TCP_BACKLOG_MAX, TCP_MAX_SOCKETS, TCP_MSS, TCP_RTO_INITIAL_MS, TCP_RTO_MIN_MS } from "../config";
import { ESTABLISHED, F_SACK, pcb } from "../sockets/tcp/pcb";
import { tcpCheck } from "../sockets/tcp/check";
import { cookieMss, synCookieCheck } from "../sockets/tcp/syncookie";
import { isn } from "../sockets/tcp/isn";
import { now } from "../support/clock";
import { C, OUR_IP, OUR_PORT, PEER_IP, advance, clearSent, last, seg, sentCount, tcpUp } from "../testing";
import { ctr } from "../testing";

const row = heap.alloc(28);
const buf = heap.alloc(4096);

/** Connection blocks in use (listener included), and of those, in SYN-RECEIVED. */
function blocks(): i32 {
  let n = 0;
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) if (tcpTableRow(<u32>i, row)) n++;
  return n;
}
function halfOpen(): i32 {
  let n = 0;
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) if (tcpTableRow(<u32>i, row) && load<u32>(row) == 3) n++;
  return n;
}

function listener(backlog: u32): i32 {
  tcpUp();
  const l = tcpSocket();
  tcpBind(l, OUR_PORT);
  tcpListen(l, backlog);
  clearSent();
  return l;
}

/** SYNs from ports 2000.. that nobody will answer, then one RTO: the children go stale. */
function staleBacklog(n: u32): void {
  for (let k: u32 = 0; k < n; k++) expect(seg(SYN, 5000 * k, 0, 0, 65535, 1460, -1, 2000 + k)).toBe(C.TCP_DELIVERED);
  advance(TCP_RTO_INITIAL_MS + 10); // each retransmits its SYN-ACK once: retries 1
  expect(halfOpen()).toBe(<i32>n);
  clearSent();
}

describe("SYN cookies", () => {
  it("answers a SYN with a cookie once half-open children fill the backlog, keeping nothing", () => {
    listener(2);
    staleBacklog(2);
    const used = blocks();
    expect(seg(SYN, 777000, 0, 0, 65535, 1460, 7, 3000)).toBe(C.TCP_SYN_COOKIE);
    expect(blocks()).toBe(used, "no block for the cookie SYN");
    const sa = last();
    expect(sa.flags).toBe(SYN | ACK);
    expect(sa.ack).toBe(777001);
    expect(sa.mss).toBe(TCP_MSS);
    expect(sa.wscale).toBe(0, "window scaling offered back (our shift 0)");
    expect(seg(SYN, 888000, 0, 0, 65535, 1460, -1, 3001)).toBe(C.TCP_SYN_COOKIE);
    expect(last().wscale).toBe(-1, "no scaling when the SYN offered none");
    expect(tcpCheck()).toBe(0);
  });

  it("stays in flood mode, cookies only, while SYNs keep coming faster than the backlog; then leaves it", () => {
    const l = listener(2);
    staleBacklog(2);
    expect(seg(SYN, 1, 0, 0, 65535, 1460, -1, 3000)).toBe(C.TCP_SYN_COOKIE);
    expect(ctr(C.TCP_SYN_FLOODS)).toBe(1);
    // A block frees up (a half-open child times out, here: the peer resets it); still cookies.
    expect(seg(RST, 1, 0, 0, 65535, 0, -1, 2000)).toBe(C.TCP_DELIVERED);
    expect(halfOpen()).toBe(1);
    const used = blocks();
    for (let k: u32 = 0; k < TCP_BACKLOG_MAX + 1; k++) expect(seg(SYN, 7 * k, 0, 0, 65535, 1460, -1, 4000 + k)).toBe(C.TCP_SYN_COOKIE);
    expect(blocks()).toBe(used, "no child while the flood goes on");
    // A second with more SYNs than the backlog keeps the mode; a quiet second ends it.
    advance(1100);
    expect(seg(SYN, 11, 0, 0, 65535, 1460, -1, 5000)).toBe(C.TCP_SYN_COOKIE);
    advance(1100);
    expect(seg(SYN, 12, 0, 0, 65535, 1460, -1, 5001)).toBe(C.TCP_DELIVERED, "a child again");
    expect(ctr(C.TCP_SYN_FLOODS)).toBe(1);
    expect(l).toBeGreaterThanOrEqual(0);
    expect(tcpCheck()).toBe(0);
  });

  it("answers a real client with a cookie while the flood's first SYNs hold the backlog: it connects in one round trip", () => {
    const l = listener(2);
    // The flood's first SYNs, a millisecond ago: young half-open children fill the backlog.
    expect(seg(SYN, 100, 0, 0, 65535, 1460, -1, 2000)).toBe(C.TCP_DELIVERED);
    expect(seg(SYN, 200, 0, 0, 65535, 1460, -1, 2001)).toBe(C.TCP_DELIVERED);
    advance(1);
    clearSent();
    expect(seg(SYN, 300, 0, 0, 65535, 1460, -1, 3000)).toBe(C.TCP_SYN_COOKIE, "flood mode at once, not after an RTO");
    expect(ctr(C.TCP_SYN_FLOODS)).toBe(1);
    const sa = last();
    expect(sa.flags).toBe(SYN | ACK);
    expect(sa.ack).toBe(301);
    // The client's ACK, with its request, one round trip later: the oldest young child makes room.
    expect(seg(ACK | PSH, 301, sa.seq + 1, 10, 65535, 0, -1, 3000)).toBe(C.TCP_DELIVERED);
    expect(ctr(C.TCP_HALF_OPEN_EVICTED)).toBe(1);
    const fd = tcpAccept(l);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(tcpRecv(fd, buf, 100)).toBe(10);
    expect(tcpCheck()).toBe(0);
  });

  it("opens the connection when the cookie comes back, in place of the oldest half-open child", () => {
    const l = listener(2);
    staleBacklog(2);
    expect(seg(SYN, 777000, 0, 0, 65535, 1460, 7, 3000)).toBe(C.TCP_SYN_COOKIE);
    const iss = last().seq;
    clearSent();
    // The peer scales its window by 2^7: 100 means 12800 bytes.
    expect(seg(ACK | PSH, 777001, iss + 1, 10, 100, 0, -1, 3000)).toBe(C.TCP_DELIVERED);
    expect(ctr(C.TCP_SYNCOOKIES_OK)).toBe(1);
    expect(ctr(C.TCP_HALF_OPEN_EVICTED)).toBe(1);
    expect(halfOpen()).toBe(1, "the oldest half-open child made room");
    const fd = tcpAccept(l);
    expect(fd).toBeGreaterThanOrEqual(0);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(pcb(fd).remotePort).toBe(3000);
    expect(pcb(fd).mss).toBe(cookieMss(3));
    expect(pcb(fd).sndWnd).toBe(100 << 7, "the peer's shift came back in the cookie");
    expect(tcpRecv(fd, buf, 100)).toBe(10, "the data on the ACK was kept");
    expect(load<u8>(buf)).toBe(<u8>777001);
    expect(tcpCheck()).toBe(0);
  });

  it("keeps SACK-permitted in the cookie: offered back, and agreed when the cookie returns", () => {
    for (let k = 0; k < 2; k++) {
      const l = listener(2);
      staleBacklog(2);
      const sack = k == 0;
      expect(seg(SYN, 777000, 0, 0, 65535, 1460, -1, 3000, OUR_PORT, sack)).toBe(C.TCP_SYN_COOKIE);
      expect(last().sackPermitted).toBe(sack, "the cookie SYN-ACK offers SACK only if the SYN did");
      const iss = last().seq;
      expect(seg(ACK, 777001, iss + 1, 0, 65535, 0, -1, 3000)).toBe(C.TCP_DELIVERED);
      expect(ctr(C.TCP_SYNCOOKIES_OK)).toBe(1);
      const fd = tcpAccept(l);
      expect(fd).toBeGreaterThanOrEqual(0);
      expect(pcb(fd).flags & F_SACK).toBe(sack ? F_SACK : 0);
      expect(pcb(fd).mss).toBe(cookieMss(3), "the MSS bits unchanged beside the SACK bit");
    }
  });

  it("gives a passive open the RFC 6528 ISN outside flood mode, not a cookie", () => {
    listener(2);
    expect(seg(SYN, 1000, 0, 0, 65535, 1460, -1, 2000)).toBe(C.TCP_DELIVERED);
    const iss = last().seq;
    expect(iss).toBe(isn(now, OUR_IP, OUR_PORT, PEER_IP, 2000), "M + F(4-tuple, key), RFC 6528 §3");
    expect(synCookieCheck(iss, PEER_IP, OUR_PORT, 2000, 1000)).toBe(-1, "no cookie");
    // The same 4-tuple a second later (the peer reset the first): the clock part moved on.
    expect(seg(RST, 1001, 0, 0, 65535, 0, -1, 2000)).toBe(C.TCP_DELIVERED);
    advance(1000);
    expect(seg(SYN, 9000, 0, 0, 65535, 1460, -1, 2000)).toBe(C.TCP_DELIVERED);
    expect(last().seq - iss).toBe(250_000);
  });

  it("evicts a young child in flood mode only; its peer's late ACK then draws a RST", () => {
    const l = listener(2);
    expect(seg(SYN, 1000, 0, 0, 65535, 1460, -1, 2000)).toBe(C.TCP_DELIVERED);
    const slowIss = last().seq;
    expect(seg(SYN, 2000, 0, 0, 65535, 1460, -1, 2001)).toBe(C.TCP_DELIVERED);
    expect(seg(SYN, 3000, 0, 0, 65535, 1460, -1, 2002)).toBe(C.TCP_SYN_COOKIE);
    const cookie = last().seq;
    expect(seg(ACK, 3001, cookie + 1, 0, 65535, 0, -1, 2002)).toBe(C.TCP_DELIVERED); // evicts port 2000's child
    expect(ctr(C.TCP_HALF_OPEN_EVICTED)).toBe(1);
    expect(tcpAccept(l)).toBeGreaterThanOrEqual(0);
    clearSent();
    expect(seg(ACK, 1001, slowIss + 1, 0, 65535, 0, -1, 2000)).toBe(C.TCP_BAD_ACK);
    expect(last().flags & RST).toBe(RST, "the slow peer learns at once and connects again");
    expect(tcpCheck()).toBe(0);
  });

  it("outside flood mode a returned cookie waits for a stale child rather than evict a young one", () => {
    const l = listener(2);
    expect(seg(SYN, 1000, 0, 0, 65535, 1460, -1, 2000)).toBe(C.TCP_DELIVERED);
    expect(seg(SYN, 2000, 0, 0, 65535, 1460, -1, 2001)).toBe(C.TCP_DELIVERED);
    expect(seg(SYN, 3000, 0, 0, 65535, 1460, -1, 2002)).toBe(C.TCP_SYN_COOKIE);
    const cookie = last().seq;
    // Both peers reset their children; a quiet second ends flood mode; two new young children.
    expect(seg(RST, 1001, 0, 0, 65535, 0, -1, 2000)).toBe(C.TCP_DELIVERED);
    expect(seg(RST, 2001, 0, 0, 65535, 0, -1, 2001)).toBe(C.TCP_DELIVERED);
    advance(1100);
    expect(seg(SYN, 4000, 0, 0, 65535, 1460, -1, 2003)).toBe(C.TCP_DELIVERED);
    expect(seg(SYN, 5000, 0, 0, 65535, 1460, -1, 2004)).toBe(C.TCP_DELIVERED);
    advance(TCP_RTO_MIN_MS + 10); // would be old enough in flood mode
    clearSent();
    expect(seg(ACK, 3001, cookie + 1, 0, 65535, 0, -1, 2002)).toBe(C.TCP_BACKLOG_FULL, "no young child evicted");
    expect(sentCount()).toBe(0, "no RST: the peer retransmits, the cookie stays valid");
    expect(halfOpen()).toBe(2);
    advance(TCP_RTO_INITIAL_MS + 10); // the children's SYN-ACKs go unanswered: stale
    expect(seg(ACK, 3001, cookie + 1, 0, 65535, 0, -1, 2002)).toBe(C.TCP_DELIVERED);
    expect(ctr(C.TCP_HALF_OPEN_EVICTED)).toBe(1);
    expect(tcpAccept(l)).toBeGreaterThanOrEqual(0);
    expect(tcpCheck()).toBe(0);
  });

  it("refuses forged and expired cookies with a RST, keeping nothing", () => {
    listener(2);
    staleBacklog(2);
    expect(seg(SYN, 5000, 0, 0, 65535, 1460, -1, 3000)).toBe(C.TCP_SYN_COOKIE);
    const iss = last().seq;
    const used = blocks();
    clearSent();
    expect(seg(ACK, 5001, iss + 2, 0, 65535, 0, -1, 3000)).toBe(C.TCP_BAD_ACK);
    expect(last().flags & RST).toBe(RST);
    expect(seg(ACK, 5002, iss + 1, 0, 65535, 0, -1, 3000)).toBe(C.TCP_BAD_ACK, "another peer ISN");
    expect(seg(ACK, 5001, iss + 1, 0, 65535, 0, -1, 3001)).toBe(C.TCP_BAD_ACK, "another port");
    expect(blocks()).toBe(used);
    // Two periods (2 x 65.536 s) later the same cookie is stale.
    advance(140_000);
    expect(seg(ACK, 5001, iss + 1, 0, 65535, 0, -1, 3000)).toBe(C.TCP_BAD_ACK);
    expect(ctr(C.TCP_SYNCOOKIES_OK)).toBe(0);
  });

  it("never bypasses the accept queue: a cookie ACK waits while backlog connections wait for accept()", () => {
    const l = listener(2);
    expect(seg(SYN, 1000, 0, 0, 65535, 1460, -1, 2000)).toBe(C.TCP_DELIVERED);
    const isA = last().seq;
    expect(seg(SYN, 2000, 0, 0, 65535, 1460, -1, 2001)).toBe(C.TCP_DELIVERED);
    const isB = last().seq;
    advance(TCP_RTO_INITIAL_MS + 10);
    expect(seg(SYN, 3000, 0, 0, 65535, 1460, -1, 2002)).toBe(C.TCP_SYN_COOKIE);
    const cookie = last().seq;
    // Both half-open peers complete: the accept queue (2) is full.
    expect(seg(ACK, 1001, isA + 1, 0, 65535, 0, -1, 2000)).toBe(C.TCP_DELIVERED);
    expect(seg(ACK, 2001, isB + 1, 0, 65535, 0, -1, 2001)).toBe(C.TCP_DELIVERED);
    clearSent();
    expect(seg(ACK, 3001, cookie + 1, 0, 65535, 0, -1, 2002)).toBe(C.TCP_BACKLOG_FULL);
    expect(sentCount()).toBe(0, "no RST: the peer retransmits");
    expect(seg(SYN, 4000, 0, 0, 65535, 1460, -1, 2003)).toBe(C.TCP_BACKLOG_FULL);
    expect(tcpAccept(l)).toBeGreaterThanOrEqual(0);
    expect(seg(ACK, 3001, cookie + 1, 0, 65535, 0, -1, 2002)).toBe(C.TCP_DELIVERED, "after accept()");
    expect(tcpCheck()).toBe(0);
  });
});
