import {
  OFFLOAD_SUM, OFFLOAD_TX_IPV4, OFFLOAD_TX_L4, RX_IPV4_OK, RX_L4_OK,
  checksum, checksumAdjust, checksumOk, setOffload, setRxChecked, sumAdd, sumFold, sumPseudo,
} from "../wire/checksum";
import { CHECKSUM_NATIVE_MIN } from "../config";
import { WireError } from "../wire/error";
import { Ipv4Repr } from "../wire/ipv4";
import { UdpRepr } from "../wire/udp";

/** How often the host's phy.checksum ran (host/testing/as-pect.js). */
@external("testing", "checksum_calls")
declare function checksumCalls(): u32;

const buf = heap.alloc(512);

// The obvious byte-pair loop of RFC 1071, as the reference.
function reference(p: usize, len: u32): u32 {
  let s: u32 = 0;
  let i: u32 = 0;
  for (; i + 1 < len; i += 2) s += (<u32>load<u8>(p + i) << 8) | <u32>load<u8>(p + i + 1);
  if (i < len) s += <u32>load<u8>(p + i) << 8;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return ~s & 0xffff;
}

function fill(pattern: u32, len: u32): void {
  let x = pattern;
  for (let i: u32 = 0; i < len; i++) {
    x = x * 1103515245 + 12345;
    store<u8>(buf + i, <u8>(x >> 16));
  }
}

/** checksum() equals the reference for every length 0..300 at alignments 0..offsets-1. */
function matchesReference(offsets: u32): void {
  for (let off: u32 = 0; off < offsets; off++) {
    fill(off * 31 + 7, 310);
    for (let len: u32 = 0; len <= 300; len++) {
      const got = checksum(buf + off, len);
      const want = reference(buf + off, len);
      if (got != want) {
        expect(got).toBe(want, "len " + len.toString() + " off " + off.toString());
        return;
      }
    }
  }
}

describe("Internet checksum (RFC 1071)", () => {
  it("matches the RFC 1071 §3 example", () => {
    const bytes: u8[] = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    for (let i = 0; i < 8; i++) store<u8>(buf + i, bytes[i]);
    expect(sumFold(sumAdd(0, buf, 8))).toBe(0xddf2);
    expect(checksum(buf, 8)).toBe(0x220d);
  });

  it("handles all zeros and all ones", () => {
    memory.fill(buf, 0, 64);
    expect(checksum(buf, 64)).toBe(0xffff);
    expect(checksum(buf, 0)).toBe(0xffff);
    memory.fill(buf, 0xff, 64);
    expect(checksum(buf, 64)).toBe(0);
    expect(checksum(buf, 63)).toBe(0x00ff); // odd: 0xff00 is the last word
    expect(checksumOk(buf, 64)).toBe(true); // 0xffff sums are the negative zero
  });

  it("equals the byte-pair reference for every length 0..300 and every alignment", () => {
    matchesReference(8);
  });

  it("carries correctly over many all-ones words (deferred carries)", () => {
    memory.fill(buf, 0xff, 512);
    store<u8>(buf + 100, 0xfe);
    expect(checksum(buf, 512)).toBe(reference(buf, 512));
    expect(checksum(buf, 511)).toBe(reference(buf, 511));
  });

  it("verifies a stored checksum, and notices one flipped bit", () => {
    fill(99, 40);
    store<u16>(buf + 10, 0);
    const c = checksum(buf, 40);
    store<u8>(buf + 10, <u8>(c >> 8));
    store<u8>(buf + 11, <u8>c);
    expect(checksumOk(buf, 40)).toBe(true);
    store<u8>(buf + 17, load<u8>(buf + 17) ^ 0x10);
    expect(checksumOk(buf, 40)).toBe(false);
  });

  it("sums a pseudo-header like the same bytes in memory", () => {
    // 10.0.0.1 -> 10.0.0.2, proto 6, length 0x1234 as 12 bytes in network order
    const b: u8[] = [10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0x12, 0x34];
    for (let i = 0; i < 12; i++) store<u8>(buf + i, b[i]);
    expect(sumFold(sumPseudo(0x0a000001, 0x0a000002, 6, 0x1234))).toBe(sumFold(sumAdd(0, buf, 12)));
  });

  it("adjusts an all-zero message to a checksum that verifies", () => {
    // An echo request with id 0, seq 0 and no payload: checksum 0xf7ff; as a reply all words are 0.
    memory.fill(buf, 0, 8);
    store<u8>(buf, 8);
    const req = checksum(buf, 8);
    expect(req).toBe(0xf7ff);
    store<u8>(buf, 0);
    const adjusted = checksumAdjust(req, 0x0800, 0);
    store<u8>(buf + 2, <u8>(adjusted >> 8));
    store<u8>(buf + 3, <u8>adjusted);
    expect(checksumOk(buf, 8)).toBe(true);
  });

  it("adjusts incrementally like a recomputation (RFC 1624)", () => {
    for (let k: u32 = 0; k < 50; k++) {
      fill(k, 64);
      store<u16>(buf + 2, 0);
      const old = checksum(buf, 64);
      const oldWord = (<u32>load<u8>(buf) << 8) | load<u8>(buf + 1);
      const newWord = (oldWord * 7 + k) & 0xffff;
      store<u8>(buf, <u8>(newWord >> 8));
      store<u8>(buf + 1, <u8>newWord);
      const adjusted = checksumAdjust(old, oldWord, newWord);
      store<u8>(buf + 2, <u8>(adjusted >> 8));
      store<u8>(buf + 3, <u8>adjusted);
      expect(checksumOk(buf, 64)).toBe(true);
    }
  });
});

/** A 4-byte UDP datagram from 10.0.0.1 to 10.0.0.2 in an IPv4 header, at buf (32 bytes). */
function emitUdp(): void {
  const ip = new Ipv4Repr();
  ip.src = 0x0a000001;
  ip.dst = 0x0a000002;
  ip.proto = 17;
  ip.ttl = 64;
  ip.payloadLen = 12;
  const udp = new UdpRepr();
  udp.srcPort = 1000;
  udp.dstPort = 2000;
  udp.payloadLen = 4;
  store<u32>(buf + 28, 0xdeadbeef);
  ip.emit(buf);
  udp.emit(buf + 20, ip.src, ip.dst);
}

describe("checksum offload (wasmip.h set_offload, input_checked)", () => {
  afterEach(() => {
    setOffload(0);
    setRxChecked(0);
  });

  it("sums through phy.checksum (OFFLOAD_SUM) like the core for every length and alignment", () => {
    setOffload(OFFLOAD_SUM);
    const before = checksumCalls();
    matchesReference(4);
    // Only the long sums went to the host: lengths CHECKSUM_NATIVE_MIN..300 at 4 alignments.
    expect(checksumCalls() - before).toBe(4 * (301 - CHECKSUM_NATIVE_MIN));
    // A running sum continues across a native piece (pseudo-header, then the segment).
    fill(99, 200);
    setOffload(0);
    const pure = sumFold(sumAdd(sumPseudo(0x0a000001, 0x0a000002, 6, 200), buf, 200));
    setOffload(OFFLOAD_SUM);
    expect(sumFold(sumAdd(sumPseudo(0x0a000001, 0x0a000002, 6, 200), buf, 200))).toBe(pure);
  });

  it("leaves the IPv4 and UDP checksums 0 for the MAC (OFFLOAD_TX_*), and fills them without", () => {
    setOffload(OFFLOAD_TX_IPV4 | OFFLOAD_TX_L4);
    emitUdp();
    expect(load<u16>(buf + 10)).toBe(0);
    expect(load<u16>(buf + 26)).toBe(0);
    setOffload(0);
    emitUdp();
    expect(checksumOk(buf, 20)).toBe(true);
    expect(load<u16>(buf + 26)).not.toBe(0);
  });

  it("skips only the checks a received frame was vouched for (RX_IPV4_OK, RX_L4_OK)", () => {
    emitUdp();
    // Damage both: the header checksum and the datagram's payload.
    store<u8>(buf + 11, load<u8>(buf + 11) ^ 0x40);
    store<u8>(buf + 29, load<u8>(buf + 29) ^ 0x01);
    const rx = new Ipv4Repr();
    const urx = new UdpRepr();
    expect(rx.parse(buf, 32)).toBe(WireError.BAD_CHECKSUM);
    expect(urx.parse(buf + 20, 12, 0x0a000001, 0x0a000002)).toBe(WireError.BAD_CHECKSUM);
    setRxChecked(RX_L4_OK); // the transport vouched for, not the header
    expect(rx.parse(buf, 32)).toBe(WireError.BAD_CHECKSUM);
    expect(urx.parse(buf + 20, 12, 0x0a000001, 0x0a000002)).toBe(WireError.OK);
    setRxChecked(RX_IPV4_OK);
    expect(rx.parse(buf, 32)).toBe(WireError.OK);
    expect(urx.parse(buf + 20, 12, 0x0a000001, 0x0a000002)).toBe(WireError.BAD_CHECKSUM);
  });
});
