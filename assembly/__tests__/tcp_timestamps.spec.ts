// TCP timestamps (RFC 7323 §3-5, TCP_TIMESTAMPS, compiled into the as-pect build): negotiation,
// the option on every segment, RTT samples from the echo, PAWS and TS.Recent's update rule.
import { C } from "../support/counters";
import { ACK, PSH, RST, SYN, rxTsEcr, rxTsVal } from "../wire/tcp";
import { tcpAccept, tcpConnect, tcpRecv, tcpSend, tcpSetopt, tcpSocket } from "../api/tcp";
import { OUR_PORT, last, listenOn, out, parseSent, seg, segTs, tcpUp } from "../testing/tcp";
import { PEER_IP, advance, clearSent, ctr, now, sentCount } from "../testing/stack";
import { F_SACK, F_TS, pcb } from "../sockets/tcp/pcb";

const PISN: u32 = 5000000;
const buf = heap.alloc(8192);
let iss: u32 = 0;

/** A passive open whose SYN carries timestamps (TSval tsval), its ACK rttMs later; Nagle off. */
function accepted(tsval: u32, rttMs: u32 = 10, sack: bool = false): i32 {
  tcpUp();
  const l = listenOn(OUR_PORT, 5);
  expect(segTs(SYN, PISN, 0, 0, tsval, 0, 1460, sack)).toBe(C.TCP_DELIVERED);
  const synAck = last();
  iss = synAck.seq;
  expect(synAck.tsPresent).toBe(true, "the SYN-ACK answers the offer");
  expect(rxTsEcr).toBe(tsval, "and echoes the SYN's TSval");
  const ours = rxTsVal;
  advance(rttMs);
  expect(segTs(ACK, PISN + 1, iss + 1, 0, tsval + 1, ours)).toBe(C.TCP_DELIVERED);
  const fd = tcpAccept(l);
  expect(fd).toBeGreaterThanOrEqual(0);
  tcpSetopt(fd, 1, 1);
  clearSent();
  return fd;
}

describe("timestamps negotiation (RFC 7323 §3.2)", () => {
  it("offers timestamps on an active open's SYN, with TSecr 0", () => {
    tcpUp();
    const fd = tcpSocket();
    expect(tcpConnect(fd, PEER_IP, 80)).toBe(0);
    const syn = last();
    expect(syn.flags).toBe(SYN);
    expect(syn.tsPresent).toBe(true);
    expect(rxTsVal).toBe(now);
    expect(rxTsEcr).toBe(0);
  });

  it("agrees when both SYNs carry the option, and then every segment carries it", () => {
    const fd = accepted(777);
    expect(pcb(fd).flags & F_TS).toBe(F_TS);
    expect(tcpSend(fd, buf, 100)).toBe(100);
    const d = last();
    expect(d.tsPresent).toBe(true);
    expect(rxTsVal).toBe(now, "TSval is our ms clock");
    expect(rxTsEcr).toBe(778, "TSecr is TS.Recent: the ACK's TSval");
  });

  it("leaves timestamps out when the peer's SYN did not carry them", () => {
    tcpUp();
    const l = listenOn(OUR_PORT, 5);
    expect(seg(SYN, PISN, 0, 0, 65535, 1460)).toBe(C.TCP_DELIVERED);
    expect(last().tsPresent).toBe(false, "no option on the SYN-ACK");
    iss = last().seq;
    expect(seg(ACK, PISN + 1, iss + 1)).toBe(C.TCP_DELIVERED);
    const fd = tcpAccept(l);
    expect(pcb(fd).flags & F_TS).toBe(0);
    expect(tcpSend(fd, buf, 100)).toBe(100);
    expect(last().tsPresent).toBe(false);
  });

  it("takes 12 bytes of each full segment for the option (RFC 6691: MSS excludes options)", () => {
    const fd = accepted(1);
    expect(tcpSend(fd, buf, 3000)).toBe(3000);
    expect(parseSent(0)).toBe(true);
    expect(out.headerLen).toBe(32);
    expect(out.payloadLen).toBe(1448, "MSS 1460 less the 12-byte option");
  });
});

describe("RTT from the echo (RFC 7323 §4)", () => {
  it("samples the round trip from TSecr on an ACK of new data, a retransmission's too", () => {
    const fd = accepted(100, 10);
    const srtt0 = pcb(fd).srtt;
    expect(srtt0).toBe(10, "the handshake's sample");
    expect(tcpSend(fd, buf, 500)).toBe(500);
    last();
    const t0 = rxTsVal;
    // The RTO resends it (Karn's rule would forbid timing it without timestamps).
    advance(pcb(fd).rto);
    expect(sentCount()).toBe(2);
    parseSent(1);
    const t1 = rxTsVal;
    expect(t1).toBeGreaterThan(t0);
    advance(40);
    // The ACK echoes the retransmission's TSval: a 40 ms sample.
    expect(segTs(ACK, PISN + 1, iss + 501, 0, 200, t1)).toBe(C.TCP_DELIVERED);
    expect(pcb(fd).srtt).toBe((7 * srtt0 + 40) >> 3);
  });
});

describe("PAWS (RFC 7323 §5)", () => {
  it("drops a segment whose TSval is older than TS.Recent, ACKs it, and delivers nothing", () => {
    const fd = accepted(1000);
    expect(segTs(ACK | PSH, PISN + 1, iss + 1, 50, 1010, 0)).toBe(C.TCP_DELIVERED);
    clearSent();
    // In window by sequence number, old by its timestamp: an old duplicate from a wrapped sequence space.
    expect(segTs(ACK | PSH, PISN + 51, iss + 1, 50, 1005, 0)).toBe(C.TCP_OUT_OF_WINDOW);
    expect(sentCount()).toBe(1, "an ACK");
    expect(last().ack).toBe(PISN + 51, "nothing taken");
    expect(tcpRecv(fd, buf, 200)).toBe(50);
  });

  it("compares timestamps modulo 2^32: a TSval past the wrap is newer", () => {
    const fd = accepted(0xfffffff0);
    expect(segTs(ACK | PSH, PISN + 1, iss + 1, 10, 0x00000005, 0)).toBe(C.TCP_DELIVERED);
    expect(tcpRecv(fd, buf, 200)).toBe(10);
    expect(segTs(ACK | PSH, PISN + 11, iss + 1, 10, 0xfffffff8, 0)).toBe(C.TCP_OUT_OF_WINDOW, "older again, across the wrap");
  });

  it("never drops a RST for its timestamp", () => {
    const fd = accepted(5000);
    expect(segTs(RST, PISN + 1, 0, 0, 10, 0)).toBe(C.TCP_DELIVERED);
    expect(ctr(C.TCP_RESETS_RECEIVED)).toBe(1, "taken, though its TSval is old");
    expect(fd).toBeGreaterThanOrEqual(0);
  });
});

describe("TS.Recent (RFC 7323 §4.3)", () => {
  it("is taken from segments that cover our last ACK, not from out-of-order ones", () => {
    const fd = accepted(300);
    // Out of order (a hole before it): its TSval must not become the echo.
    expect(segTs(ACK | PSH, PISN + 101, iss + 1, 100, 400, 0)).toBe(C.TCP_DELIVERED);
    clearSent();
    expect(tcpSend(fd, buf, 10)).toBe(10);
    last();
    expect(rxTsEcr).toBe(301, "still the in-order ACK's TSval");
    // The hole filled: its TSval is echoed.
    expect(segTs(ACK | PSH, PISN + 1, iss + 1, 100, 350, 0)).toBe(C.TCP_DELIVERED);
    clearSent();
    expect(tcpSend(fd, buf, 10)).toBe(10);
    last();
    expect(rxTsEcr).toBe(350);
  });
});

describe("SACK beside timestamps", () => {
  it("reports at most 3 blocks, so both fit 40 bytes of options", () => {
    const fd = accepted(1, 10, true);
    expect(pcb(fd).flags & F_SACK).toBe(F_SACK);
    for (let k: u32 = 0; k < 4; k++) segTs(ACK | PSH, PISN + 101 + k * 200, iss + 1, 100, 2, 0);
    const a = last();
    expect(a.tsPresent).toBe(true);
    expect(a.sackCount).toBe(3);
    expect(a.headerLen).toBeLessThanOrEqual(60);
  });
});
