// TCP header: round trips, checksum, every truncation, bad data offsets and hostile options.
import { WireError } from "../wire/error";
import { TcpRepr, HEADER_LEN, FIN, SYN, RST, PSH, ACK, URG } from "../wire/tcp";
import { put16 } from "../support/bytes";

const SRC: u32 = 0x0a000001;
const DST: u32 = 0x0a000002;
const buf = heap.alloc(512);
const tcp = changetype<TcpRepr>(heap.alloc(offsetof<TcpRepr>()));
const tcp2 = changetype<TcpRepr>(heap.alloc(offsetof<TcpRepr>()));

// RFC 1071 byte-pair reference over the pseudo-header and len bytes at p.
function refChecksum(p: usize, len: u32, src: u32, dst: u32): u32 {
  let s: u32 = (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + 6 + len;
  let i: u32 = 0;
  for (; i + 1 < len; i += 2) s += (<u32>load<u8>(p + i) << 8) | <u32>load<u8>(p + i + 1);
  if (i < len) s += <u32>load<u8>(p + i) << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

function setup(mss: u32, wscale: i32, payload: u32): u32 {
  tcp.srcPort = 49152;
  tcp.dstPort = 80;
  tcp.seq = 0xffffffff;
  tcp.ack = 0xffffffff;
  tcp.flags = SYN | ACK | PSH;
  tcp.window = 0xfedc;
  tcp.urgent = 0x1234;
  tcp.mss = mss;
  tcp.wscale = wscale;
  tcp.payloadLen = payload;
  const hl = tcp.emitLen();
  for (let i: u32 = 0; i < payload; i++) store<u8>(buf + hl + i, <u8>(i * 7 + 3));
  expect(tcp.emit(buf, SRC, DST)).toBe(hl);
  return hl + payload;
}

// A header with data offset `words` and the given option bytes (rest zero), checksum fixed up.
function rawHeader(words: u32, opts: u8[], payload: u32): u32 {
  memory.fill(buf, 0, 128);
  put16(buf, 1000);
  put16(buf + 2, 2000);
  store<u8>(buf + 12, <u8>(words << 4));
  store<u8>(buf + 13, <u8>ACK);
  for (let i = 0; i < opts.length; i++) store<u8>(buf + 20 + i, opts[i]);
  const len = words * 4 + payload;
  put16(buf + 16, refChecksum(buf, len, SRC, DST));
  return len;
}

describe("TCP header", () => {
  it("parses what it emits without options", () => {
    const len = setup(0, -1, 37);
    expect(len).toBe(57);
    expect(refChecksum(buf, len, SRC, DST)).toBe(0);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.srcPort).toBe(49152);
    expect(tcp2.dstPort).toBe(80);
    expect(tcp2.seq).toBe(0xffffffff);
    expect(tcp2.ack).toBe(0xffffffff);
    expect(tcp2.flags).toBe(SYN | ACK | PSH);
    expect(tcp2.window).toBe(0xfedc);
    expect(tcp2.urgent).toBe(0x1234);
    expect(tcp2.headerLen).toBe(HEADER_LEN);
    expect(tcp2.payloadLen).toBe(37);
    expect(tcp2.mss).toBe(0);
    expect(tcp2.wscale).toBe(-1);
    expect(tcp2.sackPermitted).toBe(false);
  });

  it("round trips MSS, window scale and both", () => {
    let len = setup(1460, -1, 0);
    expect(len).toBe(24);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.mss).toBe(1460);
    expect(tcp2.wscale).toBe(-1);
    expect(tcp2.headerLen).toBe(24);
    len = setup(0, 0, 5);
    expect(len).toBe(29);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.mss).toBe(0);
    expect(tcp2.wscale).toBe(0);
    expect(tcp2.payloadLen).toBe(5);
    len = setup(536, 14, 1);
    expect(len).toBe(29);
    expect(refChecksum(buf, len, SRC, DST)).toBe(0);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.mss).toBe(536);
    expect(tcp2.wscale).toBe(14);
    expect(tcp2.headerLen).toBe(28);
    expect(tcp2.payloadLen).toBe(1);
  });

  it("round trips every flag and masks ECE/CWR", () => {
    const all: u32[] = [FIN, SYN, RST, PSH, ACK, URG, 0, 0x3f];
    for (let i = 0; i < all.length; i++) {
      tcp.flags = all[i];
      tcp.mss = 0;
      tcp.wscale = -1;
      tcp.payloadLen = 0;
      tcp.emit(buf, SRC, DST);
      expect(tcp2.parse(buf, 20, SRC, DST)).toBe(WireError.OK);
      expect(tcp2.flags).toBe(all[i]);
    }
    tcp.flags = 0xff; // emit never sends ECE/CWR
    tcp.emit(buf, SRC, DST);
    expect(load<u8>(buf + 13)).toBe(0x3f);
    store<u8>(buf + 13, 0xd0); // CWR|ECE|ACK, checksum now stale: fix it up
    store<u16>(buf + 16, 0);
    put16(buf + 16, refChecksum(buf, 20, SRC, DST));
    expect(tcp2.parse(buf, 20, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.flags).toBe(ACK);
  });

  it("emits the hand-computed bytes", () => {
    tcp.srcPort = 0x1234;
    tcp.dstPort = 80;
    tcp.seq = 0x01020304;
    tcp.ack = 0xfffffffe;
    tcp.flags = SYN | ACK;
    tcp.window = 0xffff;
    tcp.urgent = 0;
    tcp.mss = 1460;
    tcp.wscale = 7;
    tcp.payloadLen = 0;
    memory.fill(buf, 0xaa, 64);
    expect(tcp.emit(buf, SRC, DST)).toBe(28);
    const want: u8[] = [
      0x12, 0x34, 0x00, 0x50, 0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xfe, 0x70, 0x12, 0xff, 0xff,
      0x59, 0x7d, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07,
    ];
    for (let i = 0; i < want.length; i++) expect(load<u8>(buf + i)).toBe(want[i], "byte " + i.toString());
    expect(load<u8>(buf + 28)).toBe(0xaa); // nothing written past the header
    // The checksum independently: sum of everything with it zeroed, then complemented.
    store<u16>(buf + 16, 0);
    expect(refChecksum(buf, 28, SRC, DST)).toBe(0x597d);
  });

  it("writes SACK-permitted and SACK blocks in Linux's layout and parses them back", () => {
    tcp.noOptions();
    tcp.flags = SYN;
    tcp.mss = 1460;
    tcp.sackPermitted = true;
    tcp.wscale = 0;
    tcp.payloadLen = 0;
    expect(tcp.emit(buf, SRC, DST)).toBe(32);
    const syn: u8[] = [0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x00];
    for (let i = 0; i < syn.length; i++) expect(load<u8>(buf + 20 + i)).toBe(syn[i], "SYN option byte " + i.toString());
    expect(tcp2.parse(buf, 32, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.sackPermitted).toBe(true);
    tcp.noOptions();
    tcp.flags = ACK;
    tcp.setSack(0, 0xfffffff0, 0x10); // across the wrap
    tcp.setSack(1, 100, 200);
    tcp.setSack(2, 300, 400);
    tcp.sackCount = 3;
    expect(tcp.emit(buf, SRC, DST)).toBe(20 + 4 + 24);
    expect(load<u32>(buf + 20)).toBe(0x1a050101, "NOP NOP kind 5 length 26 (bytes 01 01 05 1a)");
    expect(tcp2.parse(buf, 48, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.sackCount).toBe(3);
    expect(tcp2.sackMalformed).toBe(false);
    expect(tcp2.sackLeft(0)).toBe(0xfffffff0);
    expect(tcp2.sackRight(0)).toBe(0x10);
    expect(tcp2.sackLeft(2)).toBe(300);
    expect(tcp2.sackRight(2)).toBe(400);
    tcp.noOptions();
  });

  it("rejects a flipped payload bit, a wrong address and every truncation", () => {
    const len = setup(1460, 7, 40);
    store<u8>(buf + 50, load<u8>(buf + 50) ^ 0x10);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.BAD_CHECKSUM);
    setup(1460, 7, 40);
    expect(tcp2.parse(buf, len, SRC, DST + 1)).toBe(WireError.BAD_CHECKSUM);
    for (let n: u32 = 0; n < 20; n++) expect(tcp2.parse(buf, n, SRC, DST)).toBe(WireError.TRUNCATED);
    for (let n: u32 = 20; n < 28; n++) expect(tcp2.parse(buf, n, SRC, DST)).toBe(WireError.BAD_HEADER_LEN);
    // Cut inside the payload: the header is whole but the checksum no longer covers the right bytes.
    for (let n: u32 = 28; n < len; n++) expect(tcp2.parse(buf, n, SRC, DST)).toBe(WireError.BAD_CHECKSUM);
  });

  it("rejects data offsets below 5 and beyond len", () => {
    for (let w: u32 = 0; w < 5; w++) {
      const len = rawHeader(w, [], 40);
      expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.BAD_HEADER_LEN);
      expect(tcp2.parse(buf, 60, SRC, DST)).toBe(WireError.BAD_HEADER_LEN);
    }
    rawHeader(15, [], 0); // 60-byte header in 40 bytes
    expect(tcp2.parse(buf, 40, SRC, DST)).toBe(WireError.BAD_HEADER_LEN);
    expect(tcp2.parse(buf, 59, SRC, DST)).toBe(WireError.BAD_HEADER_LEN);
    expect(tcp2.parse(buf, 60, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.headerLen).toBe(60);
    expect(tcp2.payloadLen).toBe(0);
  });

  it("parses SACK-permitted and skips unknown options", () => {
    // MSS, SACK-permitted, timestamps (kind 8, len 10), NOP, WS.
    const len = rawHeader(10, [2, 4, 0x05, 0xb4, 4, 2, 8, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 3, 3, 9], 3);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.mss).toBe(1460);
    expect(tcp2.sackPermitted).toBe(true);
    expect(tcp2.wscale).toBe(9);
    expect(tcp2.headerLen).toBe(40);
    expect(tcp2.payloadLen).toBe(3);
  });

  it("stops at EOL", () => {
    const len = rawHeader(7, [0, 0, 0, 0, 2, 4, 0x05, 0xb4], 0);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.mss).toBe(0);
  });

  it("survives hostile options", () => {
    // Length 0: would loop forever if trusted. Options after it are ignored.
    let len = rawHeader(7, [1, 8, 0, 2, 4, 5, 0xb4], 0);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.mss).toBe(0);
    // Length 1.
    len = rawHeader(7, [3, 3, 5, 9, 1, 2, 4, 5], 0);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.wscale).toBe(5); // parsed before the bad one
    expect(tcp2.mss).toBe(0);
    // Length 255 runs past the header (and the payload holds a valid-looking MSS).
    len = rawHeader(6, [1, 1, 2, 255], 4);
    store<u8>(buf + 24, 2); store<u8>(buf + 25, 4); store<u8>(buf + 26, 5); store<u8>(buf + 27, 0xb4);
    store<u16>(buf + 16, 0);
    put16(buf + 16, refChecksum(buf, len, SRC, DST));
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.mss).toBe(0);
    expect(tcp2.payloadLen).toBe(4);
    // MSS whose length runs exactly one byte past the header.
    len = rawHeader(6, [1, 2, 4, 5], 1);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.mss).toBe(0);
    // Option kind in the last header byte, its length byte would be payload.
    len = rawHeader(6, [1, 1, 1, 2], 4);
    store<u8>(buf + 24, 4);
    store<u16>(buf + 16, 0);
    put16(buf + 16, refChecksum(buf, len, SRC, DST));
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.mss).toBe(0);
    // Same with no payload at all: the last byte of the segment.
    len = rawHeader(6, [1, 1, 1, 3], 0);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.wscale).toBe(-1);
    // WS shift 15 clamps to 14 (RFC 7323 §2.3), 255 too.
    len = rawHeader(6, [3, 3, 15, 1], 0);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.wscale).toBe(14);
    len = rawHeader(6, [3, 3, 255, 0], 0);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.wscale).toBe(14);
    // MSS with length 3, WS with length 4, SACK-permitted with length 3: ignored, parsing goes on.
    len = rawHeader(9, [2, 3, 5, 3, 4, 1, 2, 4, 3, 0, 2, 4, 0x02, 0x18, 1], 0);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.wscale).toBe(-1);
    expect(tcp2.sackPermitted).toBe(false);
    expect(tcp2.mss).toBe(536);
  });

  it("resets options from a previous parse", () => {
    let len = setup(1460, 7, 0);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    len = rawHeader(5, [], 0);
    expect(tcp2.parse(buf, len, SRC, DST)).toBe(WireError.OK);
    expect(tcp2.mss).toBe(0);
    expect(tcp2.wscale).toBe(-1);
  });
});
