// Loss recovery of a small window, driven by a scripted peer that acknowledges exactly what it
// chooses: limited transmit (RFC 3042) and the tail loss probe (RFC 8985 §7).
import { ACK } from "../wire/tcp";
import { tcpSend, tcpSetopt } from "../api/tcp";
import { C, acceptOne, acceptedIss, advance, clearSent, ctr, out, parseSent, seg, sentCount } from "../testing";
import { F_SACK, pcb } from "../sockets/tcp/pcb";

const buf = heap.alloc(8192);
const PISN: u32 = 1000000;
const MSS: u32 = 536;
let iss: u32 = 0;

/** A passive open with the peer's MSS 536 and an RTT sample of 10 ms: the initial window (RFC
 *  3390) is 4 segments of 2144 bytes, while the send ring holds more, so new data waits beyond
 *  cwnd. Nagle off. */
function established(): i32 {
  const fd = acceptOne(PISN, MSS, false, 10);
  expect(fd).toBeGreaterThanOrEqual(0);
  iss = acceptedIss;
  tcpSetopt(fd, 1, 1);
  for (let i = 0; i < 8192; i++) store<u8>(buf + i, <u8>i);
  return fd;
}

/** The peer acknowledges up to relative sequence number rel (1 = nothing of the data). */
function ackTo(rel: u32): C {
  return seg(ACK, PISN + 1, iss + rel);
}

/** Our k-th captured segment, as "seq=REL len=N" in relative numbers. */
function sentAt(k: i32): string {
  if (!parseSent(k)) return "none";
  return "seq=" + (out.seq - iss).toString() + " len=" + out.payloadLen.toString();
}

describe("limited transmit (RFC 3042)", () => {
  it("sends one new segment on each of the first two duplicate ACKs, cwnd unchanged", () => {
    const fd = established();
    expect(tcpSend(fd, buf, 4000)).toBe(4000);
    expect(sentCount()).toBe(4); // the initial window
    expect(sentAt(3)).toBe("seq=1609 len=536");
    const cwnd = pcb(fd).cwnd;
    clearSent();
    ackTo(1);
    expect(sentCount()).toBe(1, "first duplicate ACK");
    expect(sentAt(0)).toBe("seq=2145 len=536");
    ackTo(1);
    expect(sentCount()).toBe(2, "second duplicate ACK");
    expect(sentAt(1)).toBe("seq=2681 len=536");
    expect(pcb(fd).cwnd).toBe(cwnd, "cwnd is not changed by limited transmit");
    expect(ctr(C.TCP_LIMITED_TRANSMITS)).toBe(2);
    // The third: fast retransmit of the first segment, and ssthresh from the flight before the
    // limited transmissions (4 segments: half of 2144), RFC 5681 §3.2 step 2.
    ackTo(1);
    expect(sentCount()).toBe(3, "third duplicate ACK");
    expect(sentAt(2)).toBe("seq=1 len=536");
    expect(pcb(fd).ssthresh).toBe(1072);
    expect(pcb(fd).cwnd).toBe(1072 + 3 * MSS);
    expect(ctr(C.TCP_FAST_RETRANSMITS)).toBe(1);
    expect(ctr(C.TCP_LIMITED_TRANSMITS)).toBe(2, "none on the third");
  });

  it("sends nothing on a duplicate ACK when no new data waits or the peer's window is full", () => {
    const fd = established();
    expect(tcpSend(fd, buf, 2144)).toBe(2144); // exactly the initial window: nothing left
    clearSent();
    ackTo(1);
    ackTo(1);
    expect(sentCount()).toBe(0, "no new data");
    expect(ctr(C.TCP_LIMITED_TRANSMITS)).toBe(0);

    const fd2 = established();
    expect(tcpSend(fd2, buf, 4000)).toBe(4000);
    clearSent();
    // The peer's window (2144) is all in flight: limited transmit stays inside it (RFC 3042 §2).
    seg(ACK, PISN + 1, iss + 1, 0, 2144);
    clearSent();
    seg(ACK, PISN + 1, iss + 1, 0, 2144);
    seg(ACK, PISN + 1, iss + 1, 0, 2144);
    expect(sentCount()).toBe(0, "two duplicates with the peer's window full");
    seg(ACK, PISN + 1, iss + 1, 0, 2144);
    expect(sentAt(0)).toBe("seq=1 len=536", "the third duplicate: fast retransmit, no new data before it");
    expect(ctr(C.TCP_LIMITED_TRANSMITS)).toBe(0);
  });

  it("sends no more new data once a new ACK ends the duplicates", () => {
    const fd = established();
    expect(tcpSend(fd, buf, 8192)).toBeGreaterThan(4000);
    clearSent();
    ackTo(1);
    expect(sentCount()).toBe(1);
    ackTo(537); // one segment acked: cwnd 2680 (slow start), flight 2144 with the limited one
    expect(sentCount()).toBe(2, "one segment within the grown cwnd");
    clearSent();
    ackTo(537);
    ackTo(537);
    expect(sentCount()).toBe(2, "the duplicate count started again: two more limited transmissions");
    ackTo(537);
    expect(sentAt(2)).toBe("seq=537 len=536", "and the third duplicate retransmits");
  });
});

/** established(), with SACK taken as agreed (the tail loss probe needs it, RFC 8985 §7.2). */
function establishedSack(): i32 {
  const fd = established();
  pcb(fd).flags |= F_SACK;
  return fd;
}

describe("tail loss probe (RFC 8985 §7)", () => {
  it("probes once with the last segment at 2 SRTT, then the RTO follows an unanswered probe", () => {
    const fd = establishedSack();
    expect(tcpSend(fd, buf, 1608)).toBe(1608); // three segments, nothing more to send
    clearSent();
    ackTo(537); // the first is acked; the last two are lost
    const pto = 2 * pcb(fd).srtt;
    const rto = pcb(fd).rto;
    expect(pto).toBeLessThan(rto);
    advance(pto - 1);
    expect(sentCount()).toBe(0, "before the PTO");
    advance(1);
    expect(sentCount()).toBe(1, "the probe");
    expect(sentAt(0)).toBe("seq=1073 len=536", "the last segment again: no new data waits");
    expect(ctr(C.TCP_LOSS_PROBES)).toBe(1);
    advance(rto - 1);
    expect(sentCount()).toBe(1, "one probe per flight, and the RTO restarted from it");
    advance(1);
    expect(sentCount()).toBe(2, "the RTO");
    expect(sentAt(1)).toBe("seq=537 len=536");
    expect(ctr(C.TCP_TIMEOUTS)).toBe(1);
    expect(ctr(C.TCP_LOSS_PROBES)).toBe(1);
  });

  it("probes with a new segment beyond cwnd when one waits", () => {
    const fd = establishedSack();
    expect(tcpSend(fd, buf, 4000)).toBe(4000);
    expect(sentCount()).toBe(4); // cwnd
    clearSent();
    advance(2 * pcb(fd).srtt);
    expect(sentCount()).toBe(1);
    expect(sentAt(0)).toBe("seq=2145 len=536");
    expect(ctr(C.TCP_LOSS_PROBES)).toBe(1);
    expect(ctr(C.TCP_RETRANSMITS)).toBe(0);
  });

  it("adds the peer's delayed ACK with one segment in flight, and fires no later than the RTO", () => {
    const fd = establishedSack();
    expect(tcpSend(fd, buf, 536)).toBe(536);
    clearSent();
    // 2 SRTT + 200 ms is beyond the 200 ms RTO: the probe takes the RTO's time, the RTO moves.
    advance(pcb(fd).rto - 1);
    expect(sentCount()).toBe(0);
    advance(1);
    expect(sentCount()).toBe(1);
    expect(sentAt(0)).toBe("seq=1 len=536");
    expect(ctr(C.TCP_LOSS_PROBES)).toBe(1);
    expect(ctr(C.TCP_TIMEOUTS)).toBe(0);
  });

  it("never probes an empty flight, nor without SACK", () => {
    const fd = establishedSack();
    expect(tcpSend(fd, buf, 536)).toBe(536);
    ackTo(537);
    clearSent();
    advance(5000);
    expect(sentCount()).toBe(0, "nothing in flight");
    expect(ctr(C.TCP_LOSS_PROBES)).toBe(0);

    const fd2 = established(); // no SACK
    expect(tcpSend(fd2, buf, 1608)).toBe(1608);
    clearSent();
    ackTo(537);
    advance(pcb(fd2).rto - 1);
    expect(sentCount()).toBe(0, "no probe without SACK");
    advance(1);
    expect(sentAt(0)).toBe("seq=537 len=536", "the RTO");
    expect(ctr(C.TCP_LOSS_PROBES)).toBe(0);
  });

  it("halves cwnd when the probe repaired a loss, not when both copies arrived (§7.4)", () => {
    let fd = establishedSack();
    expect(tcpSend(fd, buf, 1608)).toBe(1608);
    ackTo(537);
    clearSent();
    advance(2 * pcb(fd).srtt);
    expect(sentCount()).toBe(1, "the probe");
    ackTo(1609); // the probe's ACK
    const cwnd = pcb(fd).cwnd;
    ackTo(1609); // and a duplicate: the original arrived too (the probe was a duplicate)
    expect(pcb(fd).cwnd).toBe(cwnd, "no loss");
    expect(ctr(C.TCP_LOSS_PROBE_RECOVERIES)).toBe(0);

    fd = establishedSack();
    expect(tcpSend(fd, buf, 1608)).toBe(1608);
    ackTo(537);
    clearSent();
    advance(2 * pcb(fd).srtt);
    expect(sentCount()).toBe(1, "the probe");
    ackTo(1609);
    const before = pcb(fd).cwnd;
    expect(tcpSend(fd, buf, 536)).toBe(536);
    ackTo(2145); // beyond the probe: it was the only copy to arrive
    const half = max<u32>(before >> 1, 2 * MSS);
    expect(pcb(fd).ssthresh).toBe(half, "halved once");
    // cwnd = ssthresh, then this ACK's own congestion-avoidance step (MSS * MSS / cwnd).
    expect(pcb(fd).cwnd).toBe(half + (MSS * MSS) / half);
    expect(ctr(C.TCP_LOSS_PROBE_RECOVERIES)).toBe(1);
  });
});
