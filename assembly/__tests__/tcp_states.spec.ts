// The RFC 9293 connection machine driven by crafted segments from a scripted peer.
import { ACK, FIN, PSH, RST, SYN } from "../wire/tcp";
import {
  tcpAccept, tcpClose, tcpConnect, tcpEvents, tcpRecv, tcpSend, tcpShutdown, tcpSocket, tcpState,
  tcpTableRow, tcpSetopt, EV_CONNECTED, EV_ERROR, EV_HUP, EV_READABLE, OPT_KEEPALIVE, OPT_KEEPIDLE, OPT_KEEPINTVL, OPT_KEEPCNT,
} from "../api/tcp";
import { ECONNREFUSED, ECONNRESET, ETIMEDOUT, EWOULDBLOCK } from "../support/errors";
import { ctr, PEER_IP, OUR_IP, arpFrame, feed } from "../testing";
import { C, OUR_PORT, PEER_PORT, advance, clearSent, last, listenOn, out, parseSent, payloadByte, seg, sentCount, tcpUp } from "../testing";
import {
  CLOSED, CLOSE_WAIT, CLOSING, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, LAST_ACK, LISTEN, SYN_SENT, TIME_WAIT,
} from "../sockets/tcp/pcb";
import {
  TCP_ADVICE_RETRIES, TCP_MSL_MS, TCP_MSS, TCP_RTO_INITIAL_MS, TCP_SYN_RETRIES, TCP_DELACK_MS, TCP_CHALLENGE_ACK_LIMIT,
  TCP_MAX_CONNECTIONS, TCP_MAX_SOCKETS,
} from "../config";

const buf = heap.alloc(8192);
const PISN: u32 = 1000000;

function listener(backlog: u32 = 5): i32 {
  return listenOn(OUR_PORT, backlog);
}

/** Passive open through the three-way handshake; returns the accepted fd. Our ISS in `iss`. */
let iss: u32 = 0;
function established(peerIsn: u32 = PISN, wscale: i32 = -1): i32 {
  tcpUp();
  const l = listener();
  expect(seg(SYN, peerIsn, 0, 0, 65535, 1460, wscale)).toBe(C.TCP_DELIVERED);
  const s = last();
  expect(s.flags).toBe(SYN | ACK);
  iss = s.seq;
  expect(seg(ACK, peerIsn + 1, iss + 1)).toBe(C.TCP_DELIVERED);
  const fd = tcpAccept(l);
  expect(fd).toBeGreaterThanOrEqual(0);
  expect(tcpState(fd)).toBe(ESTABLISHED);
  clearSent();
  return fd;
}

/** Active open; returns the fd in ESTABLISHED. */
function connected(): i32 {
  tcpUp();
  const fd = tcpSocket();
  expect(tcpConnect(fd, PEER_IP, PEER_PORT)).toBe(0);
  const s = last();
  iss = s.seq;
  const lport = s.srcPort;
  expect(seg(SYN | ACK, PISN, iss + 1, 0, 65535, 1460, -1, PEER_PORT, lport)).toBe(C.TCP_DELIVERED);
  expect(tcpState(fd)).toBe(ESTABLISHED);
  clearSent();
  ourPort = lport;
  return fd;
}
let ourPort: u32 = 0;

describe("TCP opening", () => {
  it("passive open: LISTEN -> SYN-RECEIVED -> ESTABLISHED, SYN-ACK carries MSS", () => {
    tcpUp();
    const l = listener();
    expect(tcpState(l)).toBe(LISTEN);
    expect(seg(SYN, PISN, 0, 0, 65535, 1460)).toBe(C.TCP_DELIVERED);
    const s = last();
    expect(s.flags).toBe(SYN | ACK);
    expect(s.ack).toBe(PISN + 1);
    expect(s.mss).toBe(TCP_MSS);
    expect(s.wscale).toBe(-1); // the peer offered none (RFC 7323 §2.2)
    expect(tcpAccept(l)).toBe(EWOULDBLOCK); // not yet established
    expect(seg(ACK, PISN + 1, s.seq + 1)).toBe(C.TCP_DELIVERED);
    expect(tcpEvents(l) & EV_READABLE).toBe(EV_READABLE);
    const fd = tcpAccept(l);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(tcpEvents(fd) & EV_CONNECTED).toBe(EV_CONNECTED);
  });

  it("active open: SYN with MSS and window scale, SYN-ACK -> ESTABLISHED with an ACK", () => {
    tcpUp();
    const fd = tcpSocket();
    expect(tcpConnect(fd, PEER_IP, 80)).toBe(0);
    expect(tcpState(fd)).toBe(SYN_SENT);
    const s = last();
    expect(s.flags).toBe(SYN);
    expect(s.mss).toBe(TCP_MSS);
    expect(s.wscale).toBe(0);
    expect(s.srcPort).toBeGreaterThanOrEqual(49152); // RFC 6056 range
    const mySeq = s.seq;
    const port = s.srcPort;
    expect(seg(SYN | ACK, PISN, mySeq + 1, 0, 65535, 1000, 2, 80, port)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    const a = last();
    expect(a.flags).toBe(ACK);
    expect(a.seq).toBe(mySeq + 1);
    expect(a.ack).toBe(PISN + 1);
  });

  it("simultaneous open: SYN-SENT + SYN -> SYN-RECEIVED -> ESTABLISHED", () => {
    tcpUp();
    const fd = tcpSocket();
    tcpConnect(fd, PEER_IP, 80);
    const mySeq = last().seq;
    const port = last().srcPort;
    expect(seg(SYN, PISN, 0, 0, 65535, 1460, -1, 80, port)).toBe(C.TCP_DELIVERED);
    const s = last();
    expect(s.flags).toBe(SYN | ACK);
    expect(s.seq).toBe(mySeq); // the same ISS
    expect(s.ack).toBe(PISN + 1);
    clearSent();
    expect(seg(SYN | ACK, PISN, mySeq + 1, 0, 65535, 1460, -1, 80, port)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(last().flags).toBe(ACK);
    expect(last().ack).toBe(PISN + 1);
    expect(seg(ACK, PISN + 1, mySeq + 1, 0, 65535, 0, -1, 80, port)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(ESTABLISHED);
  });

  it("answers a SYN to a closed port with RST/ACK, an ACK with RST, a RST with nothing", () => {
    tcpUp();
    expect(seg(SYN, 5000, 0, 0)).toBe(C.TCP_NO_SOCKET);
    let r = last();
    expect(r.flags).toBe(RST | ACK);
    expect(r.ack).toBe(5001);
    expect(r.seq).toBe(0);
    clearSent();
    expect(seg(ACK, 5000, 777, 10)).toBe(C.TCP_NO_SOCKET);
    r = last();
    expect(r.flags).toBe(RST);
    expect(r.seq).toBe(777);
    clearSent();
    expect(seg(RST, 5000, 0)).toBe(C.TCP_NO_SOCKET);
    expect(sentCount()).toBe(0);
  });

  it("connect fails with ECONNREFUSED on a RST/ACK", () => {
    tcpUp();
    const fd = tcpSocket();
    tcpConnect(fd, PEER_IP, 81);
    const s = last();
    expect(seg(RST | ACK, 0, s.seq + 1, 0, 0, 0, -1, 81, s.srcPort)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpEvents(fd) & EV_ERROR).toBe(EV_ERROR);
    expect(tcpRecv(fd, buf, 10)).toBe(ECONNREFUSED);
  });

  it("a SYN-SENT socket ignores a RST without ACK and answers a bad ACK with RST", () => {
    tcpUp();
    const fd = tcpSocket();
    tcpConnect(fd, PEER_IP, 81);
    const mySeq = last().seq;
    const port = last().srcPort;
    expect(seg(RST, 0, 0, 0, 0, 0, -1, 81, port)).toBe(C.TCP_RST_IGNORED);
    clearSent();
    expect(seg(SYN | ACK, PISN, mySeq + 99, 0, 0, 0, -1, 81, port)).toBe(C.TCP_BAD_ACK);
    expect(last().flags).toBe(RST);
    expect(last().seq).toBe(mySeq + 99);
    expect(tcpState(fd)).toBe(SYN_SENT);
  });

  it("retransmits SYN with exponential backoff and gives up with ETIMEDOUT", () => {
    tcpUp(10000);
    const fd = tcpSocket();
    tcpConnect(fd, PEER_IP, 81);
    let rto = TCP_RTO_INITIAL_MS;
    for (let k: u32 = 1; k <= TCP_SYN_RETRIES; k++) {
      clearSent();
      advance(rto - 1);
      expect(sentCount()).toBe(0);
      advance(1);
      expect(last().flags).toBe(SYN);
      rto *= 2;
    }
    advance(rto);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 1)).toBe(ETIMEDOUT);
  });

  it("bounds listen(backlog): with the accept queue full, extra SYNs are dropped silently", () => {
    tcpUp();
    const l = listener(2);
    expect(seg(SYN, 100, 0, 0, 65535, 1460, -1, 1001)).toBe(C.TCP_DELIVERED);
    expect(seg(ACK, 101, last().seq + 1, 0, 65535, 0, -1, 1001)).toBe(C.TCP_DELIVERED);
    expect(seg(SYN, 200, 0, 0, 65535, 1460, -1, 1002)).toBe(C.TCP_DELIVERED);
    expect(seg(ACK, 201, last().seq + 1, 0, 65535, 0, -1, 1002)).toBe(C.TCP_DELIVERED);
    clearSent();
    expect(seg(SYN, 300, 0, 0, 65535, 1460, -1, 1003)).toBe(C.TCP_BACKLOG_FULL);
    expect(sentCount()).toBe(0); // no RST: the peer retries later
    expect(ctr(C.TCP_BACKLOG_FULL)).toBeGreaterThanOrEqual(1);
  });
});

describe("TCP data", () => {
  it("delivers in-order data, ACKs every second segment, delays a lone ACK", () => {
    const fd = established();
    expect(seg(ACK | PSH, PISN + 1, iss + 1, 100)).toBe(C.TCP_DELIVERED);
    expect(sentCount()).toBe(0); // delayed
    expect(seg(ACK | PSH, PISN + 101, iss + 1, 100)).toBe(C.TCP_DELIVERED);
    expect(sentCount()).toBe(1);
    expect(last().ack).toBe(PISN + 201);
    expect(tcpRecv(fd, buf, 8192)).toBe(200);
    for (let i = 0; i < 200; i++) expect(load<u8>(buf + i)).toBe(<u8>(PISN + 1 + i));
    clearSent();
    seg(ACK, PISN + 201, iss + 1, 10);
    advance(TCP_DELACK_MS - 1);
    expect(sentCount()).toBe(0);
    advance(1);
    expect(last().ack).toBe(PISN + 211);
  });

  it("keeps out-of-order data, ACKs at once, and delivers when the gap fills", () => {
    const fd = established();
    expect(seg(ACK, PISN + 101, iss + 1, 100)).toBe(C.TCP_DELIVERED);
    expect(last().ack).toBe(PISN + 1); // duplicate ACK at once
    expect(tcpRecv(fd, buf, 100)).toBe(EWOULDBLOCK);
    clearSent();
    seg(ACK, PISN + 1, iss + 1, 100);
    expect(last().ack).toBe(PISN + 201); // gap filled: ACK at once
    expect(tcpRecv(fd, buf, 8192)).toBe(200);
    for (let i = 0; i < 200; i++) expect(load<u8>(buf + i)).toBe(<u8>(PISN + 1 + i));
  });

  it("keeps a FIN that arrives beyond a gap and takes it when the gap fills", () => {
    const fd = established();
    clearSent();
    expect(seg(ACK | FIN, PISN + 101, iss + 1, 100)).toBe(C.TCP_DELIVERED);
    expect(last().ack).toBe(PISN + 1); // out of order: a duplicate ACK, the FIN not yet taken
    expect(tcpState(fd)).toBe(ESTABLISHED);
    clearSent();
    seg(ACK, PISN + 1, iss + 1, 100); // the gap: data and FIN complete, no retransmission needed
    expect(last().ack).toBe(PISN + 202);
    expect(tcpState(fd)).toBe(CLOSE_WAIT);
    expect(tcpRecv(fd, buf, 8192)).toBe(200);
    expect(tcpRecv(fd, buf, 8192)).toBe(0); // end of stream
  });

  it("trims duplicates and overlaps", () => {
    const fd = established();
    seg(ACK, PISN + 1, iss + 1, 50);
    seg(ACK, PISN + 1, iss + 1, 80); // overlaps the first 50
    expect(tcpRecv(fd, buf, 8192)).toBe(80);
    for (let i = 0; i < 80; i++) expect(load<u8>(buf + i)).toBe(<u8>(PISN + 1 + i));
    clearSent();
    seg(ACK, PISN + 1, iss + 1, 80); // all old
    expect(last().ack).toBe(PISN + 81);
  });

  it("receives across the 2^32 sequence wrap", () => {
    const start: u32 = 0xffffff00;
    const fd = established(start);
    let seq = start + 1;
    for (let k = 0; k < 4; k++) {
      expect(seg(ACK, seq, iss + 1, 100)).toBe(C.TCP_DELIVERED);
      seq += 100;
    }
    expect(tcpRecv(fd, buf, 8192)).toBe(400);
    for (let i: u32 = 0; i < 400; i++) expect(load<u8>(buf + i)).toBe(<u8>(start + 1 + i));
    advance(TCP_DELACK_MS);
    expect(last().ack).toBe(start + 401);
  });

  it("sends at most the peer's MSS per segment and retransmits after RTO", () => {
    tcpUp();
    const l = listener();
    seg(SYN, PISN, 0, 0, 65535, 536);
    iss = last().seq;
    seg(ACK, PISN + 1, iss + 1);
    const fd = tcpAccept(l);
    tcpSetopt(fd, 1, 1); // no delay
    clearSent();
    for (let i = 0; i < 2000; i++) store<u8>(buf + i, <u8>i);
    expect(tcpSend(fd, buf, 2000)).toBe(2000);
    expect(sentCount()).toBeGreaterThanOrEqual(2);
    expect(parseSent(0)).toBe(true);
    expect(out.payloadLen).toBe(536);
    expect(out.seq).toBe(iss + 1);
    const n = sentCount();
    clearSent();
    advance(TCP_RTO_INITIAL_MS);
    expect(sentCount()).toBe(1); // cwnd back to one segment
    expect(parseSent(0)).toBe(true);
    expect(out.seq).toBe(iss + 1);
    expect(out.payloadLen).toBe(536);
    expect(payloadByte(0, 5)).toBe(5);
    expect(n).toBeGreaterThan(0);
  });

  it("fast-retransmits on the third duplicate ACK", () => {
    const fd = established();
    tcpSetopt(fd, 1, 1);
    for (let i = 0; i < 4000; i++) store<u8>(buf + i, <u8>i);
    tcpSend(fd, buf, 4000); // three segments in the initial window
    clearSent();
    seg(ACK, PISN + 1, iss + 1);
    seg(ACK, PISN + 1, iss + 1);
    expect(sentCount()).toBe(0);
    seg(ACK, PISN + 1, iss + 1);
    expect(ctr(C.TCP_FAST_RETRANSMITS)).toBeGreaterThanOrEqual(1);
    expect(parseSent(0)).toBe(true);
    expect(out.seq).toBe(iss + 1);
  });

  it("honours the peer's window scale, and advertises none unless both agreed", () => {
    const fd = established(PISN, 7);
    // Our SYN-ACK echoed a window scale option because the peer's SYN had one.
    tcpSetopt(fd, 1, 1);
    for (let i = 0; i < 4000; i++) store<u8>(buf + i, <u8>i);
    // The peer's window field 4 means 4 << 7 = 512 bytes, not 4.
    seg(ACK, PISN + 1, iss + 1, 0, 4);
    clearSent();
    tcpSend(fd, buf, 4000);
    let total: u32 = 0;
    for (let k = 0; k < sentCount(); k++) if (parseSent(k)) total += out.payloadLen;
    expect(total).toBe(512);
  });

  it("probes a zero window and resumes when it opens", () => {
    const fd = established();
    seg(ACK, PISN + 1, iss + 1, 0, 0); // window closed
    clearSent();
    expect(tcpSend(fd, buf, 100)).toBe(100);
    expect(sentCount()).toBe(0);
    advance(TCP_RTO_INITIAL_MS);
    expect(ctr(C.TCP_WINDOW_PROBES)).toBeGreaterThanOrEqual(1);
    const probe = last();
    expect(probe.seq).toBe(iss); // SND.UNA - 1: no data, answered with the window
    expect(probe.payloadLen).toBe(0);
    clearSent();
    seg(ACK, PISN + 1, iss + 1, 0, 1000);
    expect(parseSent(0)).toBe(true);
    expect(out.payloadLen).toBe(100);
    expect(tcpState(fd)).toBe(ESTABLISHED);
  });
});

describe("TCP closing", () => {
  it("active close: FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> gone after 2 MSL", () => {
    const fd = established();
    expect(tcpClose(fd)).toBe(0);
    let s = last();
    expect(s.flags).toBe(FIN | ACK);
    expect(s.seq).toBe(iss + 1);
    seg(ACK, PISN + 1, iss + 2);
    seg(FIN | ACK, PISN + 1, iss + 2);
    s = last();
    expect(s.flags).toBe(ACK);
    expect(s.ack).toBe(PISN + 2);
    const row = heap.alloc(28);
    let found = false;
    for (let r: u32 = 0; r < 16; r++) if (tcpTableRow(r, row) && load<u32>(row) == TIME_WAIT) found = true;
    expect(found).toBe(true);
    // A retransmitted FIN is ACKed again.
    clearSent();
    expect(seg(FIN | ACK, PISN + 1, iss + 2)).toBe(C.TCP_TIME_WAIT);
    expect(last().ack).toBe(PISN + 2);
    // RFC 1337: a RST does not end TIME-WAIT.
    expect(seg(RST, PISN + 2, 0)).toBe(C.TCP_TIME_WAIT);
    advance(2 * TCP_MSL_MS);
    found = false;
    for (let r: u32 = 0; r < 16; r++) if (tcpTableRow(r, row) && load<u32>(row) == TIME_WAIT) found = true;
    expect(found).toBe(false);
  });

  it("keeps a held fd in FIN-WAIT-1/2 states visible", () => {
    const fd = established();
    tcpShutdown(fd, 1);
    expect(tcpState(fd)).toBe(FIN_WAIT_1);
    seg(ACK, PISN + 1, iss + 2);
    expect(tcpState(fd)).toBe(FIN_WAIT_2);
    // Half-close: still receiving.
    seg(ACK, PISN + 1, iss + 2, 30);
    expect(tcpRecv(fd, buf, 100)).toBe(30);
    seg(FIN | ACK, PISN + 31, iss + 2);
    expect(tcpState(fd)).toBe(TIME_WAIT);
    expect(tcpRecv(fd, buf, 100)).toBe(0);
  });

  it("passive close: CLOSE-WAIT -> LAST-ACK -> CLOSED", () => {
    const fd = established();
    seg(FIN | ACK, PISN + 1, iss + 1);
    expect(tcpState(fd)).toBe(CLOSE_WAIT);
    expect(tcpEvents(fd) & EV_HUP).toBe(EV_HUP);
    expect(tcpRecv(fd, buf, 10)).toBe(0);
    expect(last().ack).toBe(PISN + 2);
    // We may still send in CLOSE-WAIT.
    expect(tcpSend(fd, buf, 10)).toBe(10);
    tcpShutdown(fd, 1);
    const fin = last();
    expect(fin.flags & FIN).toBe(FIN);
    expect(tcpState(fd)).toBe(LAST_ACK);
    seg(ACK, PISN + 2, fin.seq + 1);
    expect(tcpState(fd)).toBe(CLOSED);
  });

  it("simultaneous close: FIN-WAIT-1 + FIN -> CLOSING -> TIME-WAIT", () => {
    const fd = established();
    tcpShutdown(fd, 1);
    seg(FIN | ACK, PISN + 1, iss + 1); // the peer's FIN crosses ours
    expect(tcpState(fd)).toBe(CLOSING);
    seg(ACK, PISN + 2, iss + 2);
    expect(tcpState(fd)).toBe(TIME_WAIT);
  });

  it("close with unread data sends RST (RFC 9293 §3.6)", () => {
    const fd = established();
    seg(ACK, PISN + 1, iss + 1, 10);
    clearSent();
    tcpClose(fd);
    expect(last().flags & RST).toBe(RST);
    expect(ctr(C.TCP_CLOSE_UNREAD_RESETS)).toBeGreaterThanOrEqual(1);
  });
});

describe("TCP resets and RFC 5961", () => {
  it("an exact RST resets; an in-window one is challenged; an out-of-window one is dropped", () => {
    let fd = established();
    expect(seg(RST, PISN + 100, 0)).toBe(C.TCP_RST_CHALLENGED);
    expect(last().flags).toBe(ACK);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    clearSent();
    expect(seg(RST, PISN + 1000000, 0)).toBe(C.TCP_OUT_OF_WINDOW);
    expect(sentCount()).toBe(0);
    expect(seg(RST, PISN + 1, 0)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 1)).toBe(ECONNRESET);
  });

  it("a RST in SYN-RECEIVED returns the listener to LISTEN", () => {
    tcpUp();
    const l = listener();
    seg(SYN, PISN, 0, 0, 65535, 1460);
    seg(RST, PISN + 1, 0);
    expect(tcpAccept(l)).toBe(EWOULDBLOCK);
    expect(tcpState(l)).toBe(LISTEN);
    clearSent();
    seg(ACK, PISN + 1, last_iss_plus(1)); // the half-open connection is gone
    expect(last().flags).toBe(RST);
  });

  it("resets in CLOSE-WAIT, FIN-WAIT-1 and LAST-ACK", () => {
    let fd = established();
    seg(FIN | ACK, PISN + 1, iss + 1);
    expect(seg(RST, PISN + 2, 0)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(CLOSED);
    fd = established();
    tcpShutdown(fd, 1);
    expect(seg(RST, PISN + 1, 0)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(CLOSED);
    fd = established();
    seg(FIN | ACK, PISN + 1, iss + 1);
    tcpShutdown(fd, 1);
    expect(tcpState(fd)).toBe(LAST_ACK);
    expect(seg(RST, PISN + 2, 0)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(CLOSED);
  });

  it("challenges a SYN in ESTABLISHED and rate-limits challenge ACKs", () => {
    const fd = established();
    advance(2000);
    const sentBefore = ctr(C.TCP_CHALLENGE_ACKS_SENT);
    for (let k: u32 = 0; k < TCP_CHALLENGE_ACK_LIMIT + 5; k++) expect(seg(SYN, PISN + 500, 0)).toBe(C.TCP_SYN_CHALLENGED);
    expect(ctr(C.TCP_CHALLENGE_ACKS_SENT) - sentBefore).toBe(TCP_CHALLENGE_ACK_LIMIT);
    expect(ctr(C.TCP_CHALLENGE_ACKS_LIMITED)).toBeGreaterThanOrEqual(5);
    expect(tcpState(fd)).toBe(ESTABLISHED);
  });

  it("challenges an ACK for data never sent", () => {
    const fd = established();
    advance(2000);
    clearSent();
    expect(seg(ACK, PISN + 1, iss + 100000)).toBe(C.TCP_ACK_CHALLENGED);
    expect(last().flags).toBe(ACK);
    expect(tcpState(fd)).toBe(ESTABLISHED);
  });

  it("applies the four acceptability cases (RFC 9293 §3.10.7.4)", () => {
    const fd = established();
    // Zero-length segment, open window: SEQ inside the window is acceptable, outside is not.
    expect(seg(ACK, PISN + 1, iss + 1)).toBe(C.TCP_DELIVERED);
    expect(seg(ACK, PISN - 10, iss + 1)).toBe(C.TCP_OUT_OF_WINDOW);
    // Data overlapping the left edge is acceptable (its end is in the window).
    expect(seg(ACK, PISN - 10, iss + 1, 20)).toBe(C.TCP_DELIVERED);
    // Data entirely beyond the window is not.
    expect(seg(ACK, PISN + 100000, iss + 1, 20)).toBe(C.TCP_OUT_OF_WINDOW);
    expect(tcpRecv(fd, buf, 100)).toBe(9); // PISN + 1 .. PISN + 9 were new
  });
});

describe("TCP keep-alive", () => {
  it("probes an idle peer and fails with ETIMEDOUT when it never answers", () => {
    const fd = established();
    expect(tcpSetopt(fd, OPT_KEEPALIVE, 1)).toBe(0);
    tcpSetopt(fd, OPT_KEEPIDLE, 10000);
    tcpSetopt(fd, OPT_KEEPINTVL, 1000);
    tcpSetopt(fd, OPT_KEEPCNT, 3);
    clearSent();
    advance(10000);
    expect(last().seq).toBe(iss); // SND.UNA - 1
    for (let k = 0; k < 3; k++) advance(1000);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 1)).toBe(ETIMEDOUT);
  });

  it("keeps a connection whose peer answers", () => {
    const fd = established();
    tcpSetopt(fd, OPT_KEEPALIVE, 1);
    tcpSetopt(fd, OPT_KEEPIDLE, 10000);
    tcpSetopt(fd, OPT_KEEPINTVL, 1000);
    tcpSetopt(fd, OPT_KEEPCNT, 2);
    for (let k = 0; k < 5; k++) {
      advance(10000);
      seg(ACK, PISN + 1, iss + 1); // the answer
    }
    expect(tcpState(fd)).toBe(ESTABLISHED);
  });
});

function last_iss_plus(n: u32): u32 {
  return iss + n;
}

import { rttSample } from "../sockets/tcp/input";
import { Pcb } from "../sockets/tcp/pcb";
import { TCP_RTO_MIN_MS, TCP_RTO_MAX_MS, TCP_MAX_RETRIES } from "../config";

describe("TCP retransmission timer (RFC 6298)", () => {
  it("computes SRTT, RTTVAR and RTO from samples, within the bounds", () => {
    const c = changetype<Pcb>(heap.alloc(offsetof<Pcb>()));
    memory.fill(changetype<usize>(c), 0, offsetof<Pcb>());
    rttSample(c, 400); // first: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR
    expect(c.srtt).toBe(400);
    expect(c.rttvar).toBe(200);
    expect(c.rto).toBe(1200);
    rttSample(c, 200); // RTTVAR = 3/4 200 + 1/4 |400-200| = 200; SRTT = 7/8 400 + 1/8 200 = 375
    expect(c.rttvar).toBe(200);
    expect(c.srtt).toBe(375);
    expect(c.rto).toBe(1175);
    for (let k = 0; k < 50; k++) rttSample(c, 1);
    expect(c.rto).toBe(TCP_RTO_MIN_MS);
    for (let k = 0; k < 50; k++) rttSample(c, 100000);
    expect(c.rto).toBe(TCP_RTO_MAX_MS);
  });

  it("backs off data retransmissions and gives up with ETIMEDOUT and a RST", () => {
    const fd = established();
    tcpSend(fd, buf, 100);
    let rto = TCP_RTO_INITIAL_MS;
    for (let k: u32 = 0; k < TCP_MAX_RETRIES; k++) {
      feed(arpFrame(1, PEER_IP, OUR_IP)); // the peer keeps its ARP entry fresh over the minutes
      clearSent();
      advance(rto);
      // From TCP_ADVICE_RETRIES on, each timeout has ARP resolve the peer again: it answers.
      if (k + 1 >= TCP_ADVICE_RETRIES) feed(arpFrame(2, PEER_IP, OUR_IP, false));
      expect(sentCount()).toBe(k + 1 >= TCP_ADVICE_RETRIES ? 2 : 1);
      expect(last().payloadLen).toBe(100);
      rto = min<u32>(rto * 2, TCP_RTO_MAX_MS);
    }
    feed(arpFrame(1, PEER_IP, OUR_IP));
    clearSent();
    advance(rto);
    feed(arpFrame(2, PEER_IP, OUR_IP, false));
    expect(last().flags & RST).toBe(RST);
    expect(tcpRecv(fd, buf, 1)).toBe(ETIMEDOUT);
  });

  it("answers a retransmitted SYN in SYN-RECEIVED with the same SYN-ACK", () => {
    tcpUp();
    listener();
    seg(SYN, PISN, 0, 0, 65535, 1460);
    const first = last().seq;
    clearSent();
    expect(seg(SYN, PISN, 0, 0, 65535, 1460)).toBe(C.TCP_DELIVERED);
    expect(last().flags).toBe(SYN | ACK);
    expect(last().seq).toBe(first);
  });
});

import { isn } from "../sockets/tcp/isn";
import { TCP_DEFAULT_MSS, TCP_FIN_WAIT_2_MS } from "../config";
import { tcpLocalPort } from "../api/tcp";

describe("TCP details", () => {
  it("holds a second small segment while one is unacknowledged (Nagle), unless NODELAY", () => {
    const fd = established();
    expect(tcpSend(fd, buf, 10)).toBe(10);
    expect(sentCount()).toBe(1);
    expect(tcpSend(fd, buf, 10)).toBe(10);
    expect(sentCount()).toBe(1); // waits for the ACK
    seg(ACK, PISN + 1, iss + 11);
    expect(sentCount()).toBe(2);
    expect(last().payloadLen).toBe(10);
    clearSent();
    tcpSetopt(fd, 1, 1);
    tcpSend(fd, buf, 10);
    tcpSend(fd, buf, 10);
    expect(sentCount()).toBe(2);
  });

  it("assumes an MSS of 536 when the SYN carries none (RFC 9293 §3.7.1)", () => {
    tcpUp();
    const l = listener();
    seg(SYN, PISN, 0, 0, 65535, 0);
    const mine = last().seq;
    seg(ACK, PISN + 1, mine + 1);
    const fd = tcpAccept(l);
    clearSent();
    tcpSend(fd, buf, 2000);
    expect(parseSent(0)).toBe(true);
    expect(out.payloadLen).toBe(TCP_DEFAULT_MSS);
  });

  it("ends a FIN-WAIT-2 whose application closed and whose peer never sends FIN", () => {
    const fd = established();
    tcpClose(fd);
    seg(ACK, PISN + 1, iss + 2);
    const row = heap.alloc(28);
    let fw2 = false;
    for (let r: u32 = 0; r < 16; r++) if (tcpTableRow(r, row) && load<u32>(row) == FIN_WAIT_2) fw2 = true;
    expect(fw2).toBe(true);
    advance(TCP_FIN_WAIT_2_MS);
    fw2 = false;
    for (let r: u32 = 0; r < 16; r++) if (tcpTableRow(r, row) && load<u32>(row) == FIN_WAIT_2) fw2 = true;
    expect(fw2).toBe(false);
  });

  it("derives ISNs from the clock and a keyed hash of the 4-tuple (RFC 6528)", () => {
    tcpUp();
    const a = isn(1000, 1, 2, 3, 4);
    expect(isn(1001, 1, 2, 3, 4) - a).toBe(250); // M: 4 µs ticks
    const b = isn(1000, 1, 2, 3, 5);
    const c = isn(1000, 1, 3, 3, 4);
    expect(b - a == c - a).toBe(false); // not a counter or a constant offset
    expect(a == b).toBe(false);
  });

  it("picks distinct ephemeral ports for connections to one destination", () => {
    tcpUp();
    const ports = new Set<u32>();
    const fds = new Array<i32>();
    for (let k = 0; k < TCP_MAX_CONNECTIONS; k++) {
      const fd = tcpSocket();
      expect(tcpConnect(fd, PEER_IP, 80)).toBe(0);
      const p = tcpLocalPort(fd);
      expect(p >= 49152 && p <= 65535).toBe(true);
      expect(ports.has(p)).toBe(false);
      ports.add(p);
      fds.push(fd);
    }
    // Every buffer set is taken: one more connect is ENOBUFS; closing one gives its set back.
    const extra = tcpSocket();
    expect(extra).toBeGreaterThanOrEqual(0);
    expect(tcpConnect(extra, PEER_IP, 80)).toBe(-2);
    expect(tcpClose(fds[0])).toBe(0);
    expect(tcpConnect(extra, PEER_IP, 80)).toBe(0);
    for (let k = 1; k < fds.length; k++) expect(tcpLocalPort(extra)).not.toBe(tcpLocalPort(fds[k]));
    // Blocks without buffers are still there for listeners and unconnected sockets, until all are used.
    for (let k = TCP_MAX_CONNECTIONS; k < TCP_MAX_SOCKETS; k++) expect(tcpSocket()).toBeGreaterThanOrEqual(0);
    expect(tcpSocket()).toBe(-2); // ENOBUFS: every block in use
  });
});

describe("TCP after a retransmission timeout", () => {
  it("sends pure ACKs from SND.MAX, not the rewound SND.NXT", () => {
    const fd = established();
    tcpSetopt(fd, 1, 1);
    tcpSend(fd, buf, 3000); // several segments in flight
    const max = iss + 1 + 3000;
    advance(TCP_RTO_INITIAL_MS); // timeout: SND.NXT goes back to SND.UNA
    clearSent();
    seg(ACK, PISN + 1, iss + 1, 100); // data from the peer, acknowledged at once (2nd segment rule off)
    seg(ACK, PISN + 101, iss + 1, 100);
    const a = last();
    expect(a.payloadLen).toBe(0);
    expect(a.seq).toBe(max);
    expect(a.ack).toBe(PISN + 201);
  });
});

describe("TCP resets in the closing states", () => {
  it("resets in FIN-WAIT-2 and CLOSING", () => {
    let fd = established();
    tcpShutdown(fd, 1);
    seg(ACK, PISN + 1, iss + 2);
    expect(tcpState(fd)).toBe(FIN_WAIT_2);
    expect(seg(RST, PISN + 1, 0)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 1)).toBe(ECONNRESET);
    fd = established();
    tcpShutdown(fd, 1);
    seg(FIN | ACK, PISN + 1, iss + 1);
    expect(tcpState(fd)).toBe(CLOSING);
    expect(seg(RST, PISN + 5, 0)).toBe(C.TCP_RST_CHALLENGED); // in window, not exact
    expect(tcpState(fd)).toBe(CLOSING);
    expect(seg(RST, PISN + 2, 0)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(CLOSED);
  });
});

// The same machine through the kit's scripted peer (assembly/testing TcpPeer): sequence numbers
// relative to each side's ISN, one expectation per arrow of the ladder.
import { ANY, Peer } from "../testing";
import { tcpSocket as socketFd } from "../api/tcp";

function rowState(lport: u32, rport: u32): i32 {
  const row = heap.alloc(28);
  for (let r: u32 = 0; r < 16; r++) {
    if (tcpTableRow(r, row) && load<u32>(row, 8) == lport && load<u32>(row, 16) == rport) return <i32>load<u32>(row);
  }
  return -1;
}

describe("TCP as a ladder (TcpPeer)", () => {
  it("passive open, data both ways, passive close", () => {
    tcpUp();
    const l = listener();
    const c = new Peer().tcp(PEER_PORT, OUR_PORT, PISN);
    c.send(SYN, "", 1460);
    expect(c.expect(SYN | ACK, 0, 1, 0)).toBe("");
    expect(c.got.mss).toBe(TCP_MSS);
    c.send(ACK);
    const fd = tcpAccept(l);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    c.send(ACK | PSH, "ping");
    expect(c.expectNone()).toBe(""); // a lone segment's ACK is delayed
    c.send(ACK | PSH, "pong");
    expect(c.expect(ACK, 1, 9, 0)).toBe(""); // every second segment at once
    expect(tcpRecv(fd, buf, 100)).toBe(8);
    c.send(FIN | ACK);
    expect(c.expect(ACK, 1, 10, 0)).toBe("");
    expect(tcpState(fd)).toBe(CLOSE_WAIT);
    for (let i = 0; i < 3; i++) store<u8>(buf + i, <u8>"bye".charCodeAt(i));
    expect(tcpSend(fd, buf, 3)).toBe(3);
    expect(c.expectText(PSH | ACK, 1, 10, "bye")).toBe("");
    expect(tcpClose(fd)).toBe(0);
    expect(c.expect(FIN | ACK, 4, 10, 0)).toBe("");
    expect(rowState(OUR_PORT, PEER_PORT)).toBe(<i32>LAST_ACK);
    c.send(ACK);
    expect(rowState(OUR_PORT, PEER_PORT)).toBe(-1); // gone
    expect(c.expectNone()).toBe("");
  });

  it("active open, active close: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT", () => {
    tcpUp();
    const fd = socketFd();
    expect(tcpConnect(fd, PEER_IP, 80)).toBe(0);
    const c = new Peer().tcp(80, 0, PISN);
    expect(c.accept()).toBe("");
    expect(tcpShutdown(fd, 1)).toBe(0);
    expect(c.expect(FIN | ACK, 1, 1, 0)).toBe("");
    expect(tcpState(fd)).toBe(FIN_WAIT_1);
    c.send(ACK);
    expect(tcpState(fd)).toBe(FIN_WAIT_2);
    c.send(ACK | PSH, "tail");
    expect(tcpRecv(fd, buf, 100)).toBe(4);
    c.send(FIN | ACK);
    expect(c.expect(ACK, 2, 6, 0)).toBe("");
    expect(tcpState(fd)).toBe(TIME_WAIT);
  });

  it("answers a SYN to a closed port with RST|ACK", () => {
    tcpUp();
    const c = new Peer().tcp(PEER_PORT, 9999, PISN);
    expect(c.send(SYN)).toBe(C.TCP_NO_SOCKET);
    expect(c.expect(RST | ACK, ANY, 1, 0)).toBe("");
    expect(c.got.seq).toBe(0);
  });
});

import { EHOSTUNREACH } from "../support/errors";
import { bringUp, MASK } from "../testing";

describe("TCP connect without a route", () => {
  it("fails at once with EHOSTUNREACH (no gateway), the fd reports it, and a new one works", () => {
    bringUp(1000, OUR_IP, MASK, 0);
    const fd = socketFd();
    expect(tcpConnect(fd, 0x08080808, 80)).toBe(EHOSTUNREACH);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 1)).toBe(EHOSTUNREACH);
    expect(ctr(C.IP_NO_ROUTE)).toBe(1);
    expect(sentCount()).toBe(0);
    expect(tcpClose(fd)).toBe(0);
    feed(arpFrame(1, PEER_IP, OUR_IP));
    const ok = socketFd();
    expect(tcpConnect(ok, PEER_IP, 80)).toBe(0);
    expect(last().flags).toBe(SYN);
  });
});
