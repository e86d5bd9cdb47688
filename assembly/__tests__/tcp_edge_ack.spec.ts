// Regression: a pure ACK whose sequence number is exactly the right edge of our receive window
// (RCV.NXT + RCV.WND) must have its ACK processed. A peer that has a full window of data in
// flight, with the first segment lost, sends every later ACK at SEQ = SND.NXT = our right edge;
// refusing those as out-of-window (RFC 9293 §3.10.7.4 read literally) throws away the
// acknowledgements of our own data, so our sender falls back to RTO timeouts. Linux accepts them
// (tcp_sequence: seq not after rcv_nxt + window).
import { ACK, PSH } from "../wire/tcp";
import { tcpSend, tcpTableRow } from "../api/tcp";
import { TCP_RCV_BUF } from "../config";
import { ctr } from "../testing";
import { C, acceptOne, acceptedIss, seg } from "../testing";

const src = heap.alloc(2048);
const row = heap.alloc(28);

describe("a pure ACK at the right edge of our receive window", () => {
  it("acknowledges our data and is not counted out of window", () => {
    const PISN: u32 = 1000000;
    const fd = acceptOne(PISN);
    const iss = acceptedIss;
    expect(tcpSend(fd, src, 100)).toBe(100);
    expect(tcpTableRow(<u32>fd, row)).toBe(1);
    expect(load<u32>(row, 20)).toBe(100, "Send-Q before the ACK");
    // The peer sent a full window (TCP_RCV_BUF bytes) that has not arrived; its ACK of our 100
    // bytes therefore carries SEQ = RCV.NXT + RCV.WND.
    const before = ctr(C.TCP_OUT_OF_WINDOW);
    seg(ACK, PISN + 1 + TCP_RCV_BUF, iss + 1 + 100);
    expect(ctr(C.TCP_OUT_OF_WINDOW)).toBe(before, "counted out of window");
    expect(tcpTableRow(<u32>fd, row)).toBe(1);
    expect(load<u32>(row, 20)).toBe(0, "Send-Q after the ACK: our 100 bytes are acknowledged");
  });
});
