// SACK (sockets/tcp/sack.ts): negotiation (RFC 2018 §2), the blocks we report for every shape of
// the out-of-order assembler (§4), the sender's recovery retransmitting exactly the holes (RFC
// 6675), and SACK options we must not trust.
import { ACK, PSH, SYN } from "../wire/tcp";
import { tcpAccept, tcpConnect, tcpSend, tcpSetopt, tcpSocket } from "../api/tcp";
import {
  C, OUR_PORT, PEER_IP, PEER_PORT, acceptOne, acceptedIss, clearSent, ctr, last, listenOn, out, parseSent, seg, segOptions, segSack, sentCount, tcpUp,
} from "../testing";
import { advance, run } from "../testing";
import { F_RECOVERY, F_SACK, pcb, sacked } from "../sockets/tcp/pcb";

const buf = heap.alloc(8192);
const PISN: u32 = 1000000;
let iss: u32 = 0;

/** A passive open whose SYN offers SACK (or not) with MSS mss, an RTT sample of 10 ms; Nagle off. */
function established(sack: bool = true, mss: u32 = 1460): i32 {
  const fd = acceptOne(PISN, mss, sack, 10);
  expect(fd).toBeGreaterThanOrEqual(0);
  iss = acceptedIss;
  tcpSetopt(fd, 1, 1);
  for (let i = 0; i < 8192; i++) store<u8>(buf + i, <u8>i);
  return fd;
}

/** The peer's data at relative sequence number rel (1 = the first byte), len bytes. */
function data(rel: u32, len: u32): void {
  expect(seg(ACK | PSH, PISN + rel, iss + 1, len)).toBe(C.TCP_DELIVERED);
}

/** The SACK blocks of our last segment, relative to the peer's ISN: "[l,r) [l,r)". */
function blocks(): string {
  const s = last();
  let t = "";
  for (let k: u32 = 0; k < s.sackCount; k++) {
    t += (k ? " " : "") + "[" + (s.sackLeft(k) - PISN).toString() + "," + (s.sackRight(k) - PISN).toString() + ")";
  }
  return t;
}

/** Our k-th captured segment, as "seq=REL len=N" in relative numbers. */
function sentAt(k: i32): string {
  if (!parseSent(k)) return "none";
  return "seq=" + (out.seq - iss).toString() + " len=" + out.payloadLen.toString();
}

function sentAll(): string {
  let s = "";
  for (let k = 0; k < sentCount(); k++) s += (k ? ", " : "") + sentAt(k);
  return s;
}

/** Six segments of 536 in flight, relative 1073..4289 (A B C D E F), cwnd 3216. */
function sixInFlight(): i32 {
  const fd = established(true, 536);
  expect(tcpSend(fd, buf, 5840)).toBe(5840);
  seg(ACK, PISN + 1, iss + 537);
  seg(ACK, PISN + 1, iss + 1073);
  expect(pcb(fd).sndMax - iss).toBe(4289);
  expect(pcb(fd).cwnd).toBe(3216);
  clearSent();
  return fd;
}

function rejected(fd: i32, why: string): void {
  expect(ctr(C.TCP_SACK_REJECTED)).toBe(1, why + ": counted");
  expect(sacked(fd).count()).toBe(0, why + ": nothing taken");
  expect(pcb(fd).flags & F_RECOVERY).toBe(0, why + ": no recovery");
}

describe("SACK negotiation (RFC 2018 §2)", () => {
  it("is agreed when both SYNs carry SACK-permitted, offered back only if the SYN did", () => {
    for (let k = 0; k < 2; k++) {
      tcpUp();
      const l = listenOn(OUR_PORT, 5);
      expect(seg(SYN, PISN, 0, 0, 65535, 1460, -1, PEER_PORT, OUR_PORT, k == 0)).toBe(C.TCP_DELIVERED);
      expect(last().sackPermitted).toBe(k == 0);
      expect(seg(ACK, PISN + 1, last().seq + 1)).toBe(C.TCP_DELIVERED);
      expect(pcb(tcpAccept(l)).flags & F_SACK).toBe(k == 0 ? F_SACK : 0);
    }
  });

  it("is offered in our SYN, and agreed only if the SYN-ACK carries it", () => {
    for (let k = 0; k < 2; k++) {
      tcpUp();
      const fd = tcpSocket();
      expect(tcpConnect(fd, PEER_IP, PEER_PORT)).toBe(0);
      const s = last();
      expect(s.sackPermitted).toBe(true);
      expect(seg(SYN | ACK, PISN, s.seq + 1, 0, 65535, 1460, -1, PEER_PORT, s.srcPort, k == 0)).toBe(C.TCP_DELIVERED);
      expect(pcb(fd).flags & F_SACK).toBe(k == 0 ? F_SACK : 0);
    }
  });
});

describe("SACK blocks we report (RFC 2018 §4)", () => {
  it("reports every range, the most recent first, for each shape of the assembler", () => {
    established();
    data(1001, 100);
    expect(blocks()).toBe("[1001,1101)", "one range");
    data(2001, 100);
    expect(blocks()).toBe("[2001,2101) [1001,1101)", "a second above it: the newest first");
    data(501, 100);
    expect(blocks()).toBe("[501,601) [2001,2101) [1001,1101)", "a third below them");
    data(3001, 100);
    expect(blocks()).toBe("[3001,3101) [2001,2101) [1001,1101) [501,601)", "four: all of them");
    data(1101, 900);
    expect(blocks()).toBe("[1001,2101) [3001,3101) [501,601)", "a range that joins two");
    data(1050, 10);
    expect(blocks()).toBe("[1050,1060) [1001,2101) [3001,3101) [501,601)", "a duplicate inside one: D-SACK, then the range holding it");
    data(1, 500);
    expect(blocks()).toBe("[1001,2101) [3001,3101)", "the gap at RCV.NXT filled: that range is delivered");
    expect(last().ack).toBe(PISN + 601);
    data(601, 400);
    expect(blocks()).toBe("[3001,3101)");
    expect(last().ack).toBe(PISN + 2101);
    data(2101, 900);
    expect(last().ack).toBe(PISN + 3101);
    expect(last().sackCount).toBe(0, "in order: no SACK option");
  });

  it("reports a duplicate once, first (D-SACK, RFC 2883 §4): all old, partly old, and held out of order", () => {
    established();
    data(1, 100);
    data(101, 100);
    expect(last().ack).toBe(PISN + 201);
    expect(seg(ACK | PSH, PISN + 1, iss + 1, 100)).toBe(C.TCP_OUT_OF_WINDOW); // all old
    expect(blocks()).toBe("[1,101)", "the duplicate, below the ACK");
    expect(last().ack).toBe(PISN + 201);
    data(151, 100); // partly old: [151,201) again, [201,251) new
    expect(last().ack).toBe(PISN + 251);
    expect(blocks()).toBe("[151,201)", "only the old part");
    data(1001, 100);
    expect(blocks()).toBe("[1001,1101)", "reported once: the next ACK has the ordinary blocks only");
    data(1001, 100);
    expect(blocks()).toBe("[1001,1101) [1001,1101)", "a range held out of order, again: D-SACK, then its range");
    data(2001, 50);
    expect(blocks()).toBe("[2001,2051) [1001,1101)");
  });

  it("sends no D-SACK on a connection without SACK", () => {
    established(false);
    data(1, 100);
    expect(seg(ACK | PSH, PISN + 1, iss + 1, 100)).toBe(C.TCP_OUT_OF_WINDOW);
    expect(last().ack).toBe(PISN + 101);
    expect(last().sackCount).toBe(0);
  });

  it("sends none on a connection without SACK", () => {
    established(false);
    data(1001, 100);
    expect(last().ack).toBe(PISN + 1);
    expect(last().sackCount).toBe(0);
  });

  it("keeps data segments within the peer's MSS: the payload gives way to the blocks", () => {
    const fd = established(true, 1460);
    data(1001, 100);
    data(2001, 100);
    clearSent();
    expect(tcpSend(fd, buf, 1460)).toBe(1460);
    expect(parseSent(0)).toBe(true);
    expect(out.sackCount).toBe(2);
    expect(out.headerLen - 20 + out.payloadLen).toBeLessThanOrEqual(1460, "options and payload in one MSS");
    expect(out.payloadLen).toBe(1460 - 20, "two blocks: 4 + 2 x 8 bytes of options");
    expect(sentCount()).toBe(2, "the rest follows");
  });
});

describe("SACK loss recovery (RFC 6675)", () => {
  it("retransmits exactly the holes, then new data, as the pipe allows", () => {
    const fd = sixInFlight();
    // A (1073) and C (2145) lost: B and D..F are SACKed. IsLost(SND.UNA) at once: no need to
    // wait for a third duplicate ACK.
    segSack(ACK, PISN + 1, iss + 1073, [iss + 2681, iss + 4289, iss + 1609, iss + 2145]);
    expect(pcb(fd).flags & F_RECOVERY).toBe(F_RECOVERY);
    expect(pcb(fd).ssthresh).toBe(1608, "half the flight");
    expect(pcb(fd).cwnd).toBe(1608);
    expect(sentAll()).toBe("seq=1073 len=536, seq=2145 len=536, seq=4289 len=536");
    expect(ctr(C.TCP_FAST_RETRANSMITS)).toBe(1);
    expect(ctr(C.TCP_RETRANSMITS)).toBe(2);
    clearSent();
    // A arrives (B was held): a partial ACK; nothing is lost that was not retransmitted.
    segSack(ACK, PISN + 1, iss + 2145, [iss + 2681, iss + 4825]);
    expect(sentAll()).toBe("seq=4825 len=536, seq=5361 len=480", "new data as the pipe allows, no retransmission");
    expect(sacked(fd).count()).toBe(1);
    clearSent();
    // C arrives: past the recovery point (4289), recovery ends with cwnd at ssthresh.
    seg(ACK, PISN + 1, iss + 4825);
    expect(pcb(fd).flags & F_RECOVERY).toBe(0);
    expect(pcb(fd).cwnd).toBeLessThanOrEqual(1608);
    expect(sacked(fd).count()).toBe(0);
    expect(ctr(C.TCP_FAST_RETRANSMITS)).toBe(1, "one loss event");
  });

  it("waits for the third duplicate ACK while too little is SACKed to call a hole lost", () => {
    const fd = sixInFlight();
    segSack(ACK, PISN + 1, iss + 1073, [iss + 1609, iss + 2145]); // B only: one segment above A
    expect(pcb(fd).flags & F_RECOVERY).toBe(0);
    segSack(ACK, PISN + 1, iss + 1073, [iss + 1609, iss + 2681]);
    expect(pcb(fd).flags & F_RECOVERY).toBe(0, "two segments above: not yet lost (DupThresh 3)");
    expect(ctr(C.TCP_LIMITED_TRANSMITS)).toBe(2, "limited transmit meanwhile");
    clearSent();
    segSack(ACK, PISN + 1, iss + 1073, [iss + 1609, iss + 3217]);
    expect(pcb(fd).flags & F_RECOVERY).toBe(F_RECOVERY);
    expect(sentAt(0)).toBe("seq=1073 len=536", "the hole below the SACKed data first");
  });

  it("forgets the scoreboard at a timeout (RFC 2018 §5.1)", () => {
    const fd = sixInFlight();
    segSack(ACK, PISN + 1, iss + 1073, [iss + 1609, iss + 2145]);
    expect(ctr(C.TCP_SACK_REJECTED)).toBe(0);
    expect(pcb(fd).sndUna - iss).toBe(1073);
    expect(sacked(fd).count()).toBe(1);
    run(2 * pcb(fd).rto + 100); // the loss probe, then the RTO
    expect(ctr(C.TCP_TIMEOUTS)).toBeGreaterThanOrEqual(1);
    expect(sacked(fd).count()).toBe(0);
  });
});

describe("SACK options we do not trust", () => {
  it("ignores an option with a block beyond SND.MAX, straddling SND.UNA, empty or inverted", () => {
    let fd = established(true, 536);
    expect(tcpSend(fd, buf, 2144)).toBe(2144);
    segSack(ACK, PISN + 1, iss + 1, [iss + 537, iss + 1073, iss + 1609, iss + 9999]);
    rejected(fd, "beyond SND.MAX");

    fd = established(true, 536);
    expect(tcpSend(fd, buf, 2144)).toBe(2144);
    seg(ACK, PISN + 1, iss + 537);
    segSack(ACK, PISN + 1, iss + 537, [iss + 1, iss + 1073]);
    rejected(fd, "straddling the ACK");

    fd = established(true, 536);
    expect(tcpSend(fd, buf, 2144)).toBe(2144);
    segSack(ACK, PISN + 1, iss + 1, [iss + 1609, iss + 1073]);
    rejected(fd, "inverted");

    fd = established(true, 536);
    expect(tcpSend(fd, buf, 2144)).toBe(2144);
    segSack(ACK, PISN + 1, iss + 1, [iss + 1073, iss + 1073]);
    rejected(fd, "empty");
  });

  it("ignores an option whose blocks overlap, but takes a D-SACK first block (RFC 2883)", () => {
    let fd = established(true, 536);
    expect(tcpSend(fd, buf, 2144)).toBe(2144);
    segSack(ACK, PISN + 1, iss + 1, [iss + 537, iss + 1609, iss + 1073, iss + 2145]);
    rejected(fd, "overlapping");

    fd = established(true, 536);
    expect(tcpSend(fd, buf, 2144)).toBe(2144);
    seg(ACK, PISN + 1, iss + 537);
    // A duplicate below the ACK, then the real block.
    segSack(ACK, PISN + 1, iss + 537, [iss + 1, iss + 537, iss + 1073, iss + 1609]);
    expect(ctr(C.TCP_SACK_REJECTED)).toBe(0, "D-SACK below the ACK");
    expect(sacked(fd).count()).toBe(1);
    // A duplicate inside the second block.
    segSack(ACK, PISN + 1, iss + 537, [iss + 1073, iss + 1100, iss + 1073, iss + 2145]);
    expect(ctr(C.TCP_SACK_REJECTED)).toBe(0, "D-SACK inside the second block");
    expect(sacked(fd).start(0) - iss).toBe(1073);
    expect(sacked(fd).end(0) - iss).toBe(2145);
  });

  it("ignores malformed SACK options: a length not 2 + 8n, no blocks, more than the header holds", () => {
    const bad: u8[][] = [
      [1, 1, 5, 9, 0, 0, 0, 1, 0, 0, 0, 2, 0], // 9: not 2 + 8n
      [1, 1, 5, 2], // no block
      [1, 1, 5, 42, 0, 0, 0, 1, 0, 0, 0, 2], // five blocks claimed: past the header
    ];
    for (let k = 0; k < bad.length; k++) {
      const fd = established(true, 536);
      expect(tcpSend(fd, buf, 2144)).toBe(2144);
      expect(segOptions(ACK, PISN + 1, iss + 1, bad[k])).toBe(C.TCP_DELIVERED, "the segment itself is processed");
      rejected(fd, "malformed #" + k.toString());
    }
  });
});

describe("a loss right after recovery (RFC 6582 §3.2 step 2)", () => {
  it("starts a new recovery when the first segment past the last recovery point is lost", () => {
    const fd = established(true, 536);
    expect(tcpSend(fd, buf, 2144)).toBe(2144);
    segSack(ACK, PISN + 1, iss + 1, [iss + 537, iss + 2145]); // the first lost
    expect(ctr(C.TCP_FAST_RETRANSMITS)).toBe(1);
    seg(ACK, PISN + 1, iss + 2145); // the full ACK: recovery over, SND.UNA = recover
    expect(pcb(fd).flags & F_RECOVERY).toBe(0);
    clearSent();
    expect(tcpSend(fd, buf, 2144)).toBe(2144);
    expect(sentAt(0)).toBe("seq=2145 len=536");
    // That one is lost; what follows it arrives, each ACK drawing a new segment.
    segSack(ACK, PISN + 1, iss + 2145, [iss + 2681, iss + 3217]);
    segSack(ACK, PISN + 1, iss + 2145, [iss + 2681, iss + 3753]);
    segSack(ACK, PISN + 1, iss + 2145, [iss + 2681, iss + 4289]);
    expect(pcb(fd).flags & F_RECOVERY).toBe(F_RECOVERY, "the ACK covers the old recovery point: a new loss event");
    expect(ctr(C.TCP_FAST_RETRANSMITS)).toBe(2);
    expect(ctr(C.TCP_TIMEOUTS)).toBe(0);
  });
});

describe("time-based loss marking (RACK, RFC 8985 §6)", () => {
  it("calls a hole lost one reordering window after data sent after it is SACKed, short of DupThresh", () => {
    const fd = established(true, 536);
    expect(tcpSend(fd, buf, 2144)).toBe(2144); // four segments, nothing more to send
    seg(ACK, PISN + 1, iss + 537);
    clearSent();
    // The second segment is lost; the last two are SACKed: one short of DupThresh, and no new
    // data for limited transmit to draw a third duplicate.
    segSack(ACK, PISN + 1, iss + 537, [iss + 1073, iss + 2145]);
    expect(pcb(fd).flags & F_RECOVERY).toBe(0);
    expect(sentCount()).toBe(0);
    const reo = max<u32>(pcb(fd).srtt >> 2, 1);
    expect(reo).toBeLessThan(2 * pcb(fd).srtt, "the RACK timer is not the loss probe's");
    advance(reo - 1);
    expect(sentCount()).toBe(0, "not before SRTT / 4");
    advance(1);
    expect(pcb(fd).flags & F_RECOVERY).toBe(F_RECOVERY);
    expect(sentAll()).toBe("seq=537 len=536", "the hole, and only it");
    expect(pcb(fd).ssthresh).toBe(1072, "cwnd halves: a loss event");
    expect(ctr(C.TCP_RACK_MARKS)).toBe(1);
    expect(ctr(C.TCP_LOSS_PROBES)).toBe(0, "no probe: the timer found the loss itself");
    expect(ctr(C.TCP_TIMEOUTS)).toBe(0);
    // Nothing answers: the RTO still runs from the last ACK; the timer never puts it off.
    run(pcb(fd).rto - reo);
    expect(ctr(C.TCP_TIMEOUTS)).toBe(1);
  });

  it("sends a retransmission again one reordering window after data sent after it is SACKed and it is not", () => {
    const fd = sixInFlight();
    segSack(ACK, PISN + 1, iss + 1073, [iss + 1609, iss + 4289]); // A lost
    expect(sentAll()).toBe("seq=1073 len=536, seq=4289 len=536, seq=4825 len=536");
    clearSent();
    // A's retransmission is lost too; the new segment sent after it arrives.
    segSack(ACK, PISN + 1, iss + 1073, [iss + 1609, iss + 4825]);
    expect(sentAll()).toBe("seq=5361 len=480", "new data while the pipe allows, A not yet again");
    clearSent();
    const reo = max<u32>(pcb(fd).srtt >> 2, 1);
    advance(reo - 1);
    expect(sentCount()).toBe(0, "not before SRTT / 4");
    advance(1);
    expect(sentAll()).toBe("seq=1073 len=536", "A again");
    expect(ctr(C.TCP_RACK_MARKS)).toBe(1);
    expect(ctr(C.TCP_FAST_RETRANSMITS)).toBe(1, "still one loss event");
    expect(ctr(C.TCP_TIMEOUTS)).toBe(0);
  });

  it("sends a retransmission again once after a silence, when nothing sent after it can tell", () => {
    const fd = established(true, 536);
    expect(tcpSend(fd, buf, 2144)).toBe(2144);
    segSack(ACK, PISN + 1, iss + 1, [iss + 537, iss + 2145]); // the first lost: IsLost at once
    expect(pcb(fd).flags & F_RECOVERY).toBe(F_RECOVERY);
    clearSent();
    const srtt = pcb(fd).srtt;
    advance(2 * srtt - 1);
    expect(sentCount()).toBe(0, "not before the timer");
    advance(1);
    expect(sentAll()).toBe("seq=1 len=536", "the hole again: its retransmission or that one's ACK was lost");
    expect(ctr(C.TCP_RACK_MARKS)).toBe(1);
    expect(ctr(C.TCP_FAST_RETRANSMITS)).toBe(1, "still one loss event");
    clearSent();
    advance(4 * srtt);
    expect(sentCount()).toBe(0, "once: a second silence is the RTO's");
    run(pcb(fd).rto);
    expect(ctr(C.TCP_TIMEOUTS)).toBe(1);
    expect(sentAt(0)).toBe("seq=1 len=536");
  });

  it("counts an ACK that SACKs new bytes as a duplicate even when the window changed (RFC 6675 §2)", () => {
    const fd = established(true, 536);
    expect(tcpSend(fd, buf, 4000)).toBe(4000);
    // The peer's window grows with every ACK (its application reads), as when a window update
    // before them was lost: each still SACKs a new segment above the lost first one.
    segSack(ACK, PISN + 1, iss + 1, [iss + 537, iss + 1073], 20000);
    segSack(ACK, PISN + 1, iss + 1, [iss + 537, iss + 1609], 21000);
    expect(ctr(C.TCP_LIMITED_TRANSMITS)).toBe(2);
    segSack(ACK, PISN + 1, iss + 1, [iss + 537, iss + 2145], 22000);
    expect(pcb(fd).flags & F_RECOVERY).toBe(F_RECOVERY, "the third duplicate");
  });
});

describe("spurious recoveries (D-SACK, RFC 3708 §3)", () => {
  it("counts a recovery whose one retransmission the peer reports as a duplicate, and keeps cwnd down", () => {
    const fd = sixInFlight();
    const before = pcb(fd).cwnd;
    // A is late, not lost: B..F are SACKed, recovery starts and A goes again.
    segSack(ACK, PISN + 1, iss + 1073, [iss + 1609, iss + 4289]);
    expect(sentAt(0)).toBe("seq=1073 len=536");
    const halved = pcb(fd).ssthresh;
    expect(halved).toBe(before >> 1);
    // The original A arrives: all of the loss event's flight is acknowledged.
    seg(ACK, PISN + 1, iss + 4289);
    expect(pcb(fd).flags & F_RECOVERY).toBe(0);
    expect(ctr(C.TCP_SPURIOUS_RECOVERIES)).toBe(0, "not before the duplicate is reported");
    const cwnd = pcb(fd).cwnd;
    // Then A's retransmission: the peer reports it as a duplicate.
    segSack(ACK, PISN + 1, iss + 4289, [iss + 1073, iss + 1609]);
    expect(ctr(C.TCP_SPURIOUS_RECOVERIES)).toBe(1);
    expect(pcb(fd).cwnd).toBe(cwnd, "the response stands (undoing it measured worse)");
    expect(pcb(fd).ssthresh).toBe(halved);
    // A second report of the same duplicate counts nothing more.
    segSack(ACK, PISN + 1, iss + 4289, [iss + 1073, iss + 1609]);
    expect(ctr(C.TCP_SPURIOUS_RECOVERIES)).toBe(1);
  });

  it("counts nothing until every retransmission of the loss event is reported", () => {
    const fd = sixInFlight();
    // B and D..F SACKed: A and C are both lost (RFC 6675 IsLost) and both go again.
    segSack(ACK, PISN + 1, iss + 1073, [iss + 1609, iss + 2145, iss + 2681, iss + 4289]);
    expect(sentAt(0)).toBe("seq=1073 len=536");
    expect(sentAt(1)).toBe("seq=2145 len=536");
    seg(ACK, PISN + 1, iss + 4289); // the originals were only late
    segSack(ACK, PISN + 1, iss + 4289, [iss + 1073, iss + 1609]);
    expect(ctr(C.TCP_SPURIOUS_RECOVERIES)).toBe(0, "C's retransmission is not reported yet");
    segSack(ACK, PISN + 1, iss + 4289, [iss + 2145, iss + 2681]);
    expect(ctr(C.TCP_SPURIOUS_RECOVERIES)).toBe(1);
  });

  it("counts when recovery ends if every duplicate was reported during it", () => {
    const fd = sixInFlight();
    segSack(ACK, PISN + 1, iss + 1073, [iss + 1609, iss + 2145, iss + 2681, iss + 4289]); // A and C go again
    segSack(ACK, PISN + 1, iss + 2145, [iss + 2681, iss + 4289]); // the original A: a partial ACK
    segSack(ACK, PISN + 1, iss + 2145, [iss + 1073, iss + 1609, iss + 2681, iss + 4289]); // A's duplicate
    expect(pcb(fd).flags & F_RECOVERY).toBe(F_RECOVERY);
    expect(ctr(C.TCP_SPURIOUS_RECOVERIES)).toBe(0, "not while recovery lasts");
    // The ACK of the original C was lost; its retransmission's ACK is the full one and a D-SACK.
    segSack(ACK, PISN + 1, iss + 4289, [iss + 2145, iss + 2681]);
    expect(pcb(fd).flags & F_RECOVERY).toBe(0);
    expect(ctr(C.TCP_SPURIOUS_RECOVERIES)).toBe(1);
  });

  it("does not count a real loss, whatever duplicates of other data come back", () => {
    const fd = sixInFlight();
    segSack(ACK, PISN + 1, iss + 1073, [iss + 1609, iss + 4289]); // A lost
    expect(sentAll()).toBe("seq=1073 len=536, seq=4289 len=536, seq=4825 len=536");
    seg(ACK, PISN + 1, iss + 4825); // A's retransmission repaired it: no duplicate of it comes
    expect(pcb(fd).flags & F_RECOVERY).toBe(0);
    // A duplicate of new data sent during the recovery, not of anything it retransmitted.
    segSack(ACK, PISN + 1, iss + 4825, [iss + 4289, iss + 4825]);
    expect(ctr(C.TCP_SPURIOUS_RECOVERIES)).toBe(0);
  });
});
