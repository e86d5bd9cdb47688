// Regression: out-of-order data held in the receive ring must survive the application reading the
// ring empty. Ring.consume() used to restart an empty ring at offset 0, which moved the origin
// under the out-of-order bytes already stored beyond len (Ring.writeAt), so the stream delivered
// stale bytes once the gap was filled (seen as corrupted data in a lossy 16 MiB transfer).
import { Ring } from "../support/ring";
import { ACK, PSH } from "../wire/tcp";
import { tcpRecv } from "../api/tcp";
import { C, acceptOne, acceptedIss, seg } from "../testing";

const ring = changetype<Ring>(heap.alloc(offsetof<Ring>()));
const mem = heap.alloc(128);
const src = heap.alloc(128);
const dst = heap.alloc(8192);

describe("out-of-order data across a read that empties the ring", () => {
  it("Ring: bytes stored with writeAt stay addressable after the committed bytes are read", () => {
    ring.init(mem, 100);
    for (let i = 0; i < 128; i++) store<u8>(src + i, <u8>i);
    expect(ring.write(src, 10)).toBe(10); // bytes 0..9
    expect(ring.writeAt(10, src + 20, 5)).toBe(5); // bytes 20..24 arrive early (a gap 10..19)
    expect(ring.read(dst, 10)).toBe(10); // the application reads everything in order
    expect(ring.write(src + 10, 10)).toBe(10); // the gap 10..19 arrives
    ring.commit(5); // 20..24 are now contiguous
    expect(ring.read(dst, 15)).toBe(15);
    for (let i = 0; i < 15; i++) expect(load<u8>(dst + i)).toBe(<u8>(10 + i), "byte " + (10 + i).toString());
  });

  it("TCP: a segment held out of order is delivered intact after the app drained the ring", () => {
    const PISN: u32 = 1000000;
    const fd = acceptOne(PISN);
    const iss = acceptedIss;
    // Payload byte i of a segment is (seq + i) & 255 (tcp_support.seg).
    expect(seg(ACK | PSH, PISN + 1, iss + 1, 100)).toBe(C.TCP_DELIVERED); // stream 0..99
    expect(tcpRecv(fd, dst, 50)).toBe(50); // partial read: the ring's head moves to 50
    expect(seg(ACK | PSH, PISN + 1 + 200, iss + 1, 100)).toBe(C.TCP_DELIVERED); // 200..299 early
    expect(tcpRecv(fd, dst, 50)).toBe(50); // the ring is empty (out-of-order bytes beyond it)
    expect(seg(ACK | PSH, PISN + 1 + 100, iss + 1, 100)).toBe(C.TCP_DELIVERED); // the gap 100..199
    expect(tcpRecv(fd, dst, 8192)).toBe(200);
    let bad = 0;
    for (let i: u32 = 0; i < 200; i++) if (load<u8>(dst + i) != <u8>(PISN + 1 + 100 + i)) bad++;
    expect(bad).toBe(0, "bytes of stream 100..299 that differ from what the peer sent");
  });
});
