// IPv6 wire formats: the fixed header, the extension-header walk (RFC 8200 §4), ICMPv6's checksum
// (RFC 4443 §2.3) and ND's option checks (RFC 4861 §4.6). The specs build with WASMIP_IPV6=1
// (as-pect.asconfig.json), but these parsers need no feature: they are plain functions.
import { put16 } from "../support/bytes";
import { WireError } from "../wire/error";
import {
  Ext, HEADER_LEN, errorCode, errorPointer, ipv6Parse, ipv6Walk, isBadSource, isLinkLocal, nhFieldAt, parseIpv6Text, payloadLen, prefixMatch, sendError,
  solicitedNode, upperAt, upperProto,
} from "../wire/ipv6";
import { emitIcmpv6, icmpv6Checksum, mldQueryDelay } from "../wire/icmpv6";
import { lladdr, ndParse } from "../wire/ndisc";

const buf = memory.data(256, 8);

/** A fixed header at buf: next header nh, payload plen, fe80::2 -> dst (last byte dstLast; 0xff02 prefix when mcast). */
function header(nh: u32, plen: u32, mcast: bool = false): void {
  memory.fill(buf, 0, 256);
  store<u8>(buf, 0x60);
  put16(buf + 4, plen);
  store<u8>(buf, <u8>nh, 6);
  store<u8>(buf, 64, 7);
  store<u16>(buf + 8, 0x80fe);
  store<u8>(buf + 23, 2);
  if (mcast) store<u16>(buf + 24, 0x02ff);
  else store<u16>(buf + 24, 0x80fe);
  store<u8>(buf + 39, 1);
}

/** An options header (hop-by-hop or destination) at off: next nh, 8 bytes, one option of type t. */
function optionsHeader(off: u32, nh: u32, t: u32): void {
  store<u8>(buf + off, <u8>nh);
  store<u8>(buf + off + 1, 0);
  store<u8>(buf + off + 2, <u8>t);
  store<u8>(buf + off + 3, 4); // 4 bytes of option data: 2 + 2 + 4 = 8
}

describe("ipv6 header", () => {
  it("rejects short, wrong-version and over-long packets", () => {
    header(59, 0);
    expect(ipv6Parse(buf, 39)).toBe(WireError.TRUNCATED);
    store<u8>(buf, 0x40);
    expect(ipv6Parse(buf, 40)).toBe(WireError.BAD_VERSION);
    header(59, 20);
    expect(ipv6Parse(buf, 59)).toBe(WireError.BAD_TOTAL_LEN); // payload length past what arrived
    expect(ipv6Parse(buf, 64)).toBe(WireError.OK); // Ethernet padding after it is ignored
    expect(payloadLen).toBe(20);
  });

  it("walks hop-by-hop and destination options to the upper layer", () => {
    header(0, 16 + 8);
    optionsHeader(40, 60, 1); // PadN
    optionsHeader(48, 58, 0x05); // Router Alert: known
    expect(ipv6Parse(buf, 64)).toBe(WireError.OK);
    expect(ipv6Walk(buf)).toBe(Ext.UPPER);
    expect(upperProto).toBe(58);
    expect(upperAt).toBe(56);
    expect(nhFieldAt).toBe(48);
  });

  it("acts on an unknown option by its two high bits (§4.2)", () => {
    header(60, 8);
    optionsHeader(40, 58, 0x1e); // 00: skip
    ipv6Parse(buf, 48);
    expect(ipv6Walk(buf)).toBe(Ext.UPPER);
    optionsHeader(40, 58, 0x5e); // 01: discard quietly
    expect(ipv6Walk(buf)).toBe(Ext.BAD_OPTION);
    expect(sendError).toBe(false);
    optionsHeader(40, 58, 0x9e); // 10: discard, Parameter Problem code 2 at the option
    expect(ipv6Walk(buf)).toBe(Ext.BAD_OPTION);
    expect(sendError).toBe(true);
    expect(errorCode).toBe(2);
    expect(errorPointer).toBe(42);
    optionsHeader(40, 58, 0xde); // 11: the same unless to a multicast address
    expect(ipv6Walk(buf)).toBe(Ext.BAD_OPTION);
    expect(sendError).toBe(true);
    header(60, 8, true);
    optionsHeader(40, 58, 0xde);
    ipv6Parse(buf, 48);
    expect(ipv6Walk(buf)).toBe(Ext.BAD_OPTION);
    expect(sendError).toBe(false);
  });

  it("drops routing type 0, fragments and a hop-by-hop header that is not first", () => {
    header(43, 8);
    store<u8>(buf + 40, 58);
    store<u8>(buf + 42, 0); // type 0
    store<u8>(buf + 43, 1);
    ipv6Parse(buf, 48);
    expect(ipv6Walk(buf)).toBe(Ext.ROUTING);
    store<u8>(buf + 42, 4);
    store<u8>(buf + 43, 0); // another type, no segments left: skipped
    expect(ipv6Walk(buf)).toBe(Ext.UPPER);
    store<u8>(buf + 43, 2); // with segments left: Parameter Problem at the type field
    expect(ipv6Walk(buf)).toBe(Ext.ROUTING);
    expect(errorPointer).toBe(42);
    header(44, 16);
    ipv6Parse(buf, 56);
    expect(ipv6Walk(buf)).toBe(Ext.FRAGMENT);
    header(60, 16);
    optionsHeader(40, 0, 1);
    optionsHeader(48, 58, 1);
    ipv6Parse(buf, 56);
    expect(ipv6Walk(buf)).toBe(Ext.HOP_BY_HOP_LATE);
    expect(errorPointer).toBe(40);
  });

  it("stops at a chain that runs past the packet, and at a chain too long", () => {
    header(60, 8);
    optionsHeader(40, 60, 1);
    store<u8>(buf + 41, 3); // claims 32 bytes in an 8-byte payload
    ipv6Parse(buf, 48);
    expect(ipv6Walk(buf)).toBe(Ext.TRUNCATED);
    header(60, 8);
    optionsHeader(40, 60, 1); // the next header named but absent
    ipv6Parse(buf, 48);
    expect(ipv6Walk(buf)).toBe(Ext.TRUNCATED);
    header(60, 9 * 8);
    for (let k: u32 = 0; k < 9; k++) optionsHeader(40 + k * 8, 60, 1);
    ipv6Parse(buf, 40 + 72);
    expect(ipv6Walk(buf)).toBe(Ext.TOO_MANY);
    // An option that runs past its header.
    header(60, 8);
    optionsHeader(40, 58, 1);
    store<u8>(buf + 43, 9);
    ipv6Parse(buf, 48);
    expect(ipv6Walk(buf)).toBe(Ext.TRUNCATED);
  });

  it("classifies addresses", () => {
    header(59, 0);
    expect(isLinkLocal(buf + 8)).toBe(true);
    expect(isBadSource(buf + 8)).toBe(false);
    const a = memory.data(16, 8);
    memory.fill(a, 0, 16);
    store<u8>(a, 1, 15); // ::1
    expect(isBadSource(a)).toBe(true);
    store<u8>(a, 0xff);
    expect(isBadSource(a)).toBe(true);
    const g = memory.data(16, 8);
    store<u32>(buf + 24 + 12, 0x44332211);
    solicitedNode(g, buf + 24);
    expect(load<u8>(g)).toBe(0xff);
    expect(load<u8>(g, 1)).toBe(0x02);
    expect(load<u8>(g, 11)).toBe(0x01);
    expect(load<u8>(g, 12)).toBe(0xff);
    expect(load<u8>(g, 13)).toBe(0x22);
    expect(load<u8>(g, 15)).toBe(0x44);
    expect(prefixMatch(buf + 8, buf + 24, 10)).toBe(true);
    expect(prefixMatch(buf + 8, buf + 24, 127)).toBe(false);
  });
});

describe("address text", () => {
  it("reads RFC 4291 §2.2's three forms, and refuses text that is none of them", () => {
    const t = memory.data(64);
    const out = memory.data(16, 8);
    const cases = [
      "2001:db8:0:0:0:0:0:7", "2001:DB8::7", "::", "::1", "fe80::", "1:2:3:4:5:6:7::", "::ffff:10.0.0.9", "64:ff9b::10.0.0.9",
    ];
    const want = [
      "20010db8000000000000000000000007", "20010db8000000000000000000000007", "00000000000000000000000000000000",
      "00000000000000000000000000000001", "fe800000000000000000000000000000", "00010002000300040005000600070000",
      "00000000000000000000ffff0a000009", "0064ff9b00000000000000000a000009",
    ];
    for (let k = 0; k < cases.length; k++) {
      for (let j = 0; j < cases[k].length; j++) store<u8>(t + j, <u8>cases[k].charCodeAt(j));
      memory.fill(out, 0xaa, 16);
      expect(parseIpv6Text(t, cases[k].length, out)).toBe(true, cases[k]);
      let hex = "";
      for (let j = 0; j < 16; j++) {
        const b = <u32>load<u8>(out + j);
        hex += (b < 16 ? "0" : "") + b.toString(16);
      }
      expect(hex).toBe(want[k], cases[k]);
    }
    const bad = [
      "", ":", "1::2::3", "12345::1", "1:2:3:4:5:6:7:8:9", ":1::", "1:", "1:2:3:4:5:6:7", "::g", "::1.2.3", "1:2:3:4:5:6:7:1.2.3.4",
      "fe80::1%1", "10.0.0.9", "web.test", "1:2:3:4:5:6::7:8",
    ];
    for (let k = 0; k < bad.length; k++) {
      for (let j = 0; j < bad[k].length; j++) store<u8>(t + j, <u8>bad[k].charCodeAt(j));
      expect(parseIpv6Text(t, bad[k].length, out)).toBe(false, bad[k]);
    }
  });
});

describe("icmpv6", () => {
  it("checks the checksum over the pseudo-header", () => {
    header(58, 12);
    const m = buf + HEADER_LEN;
    store<u32>(m + 8, 0xdeadbeef);
    emitIcmpv6(m, 128, 0, 0x12340001, 12, buf + 8, buf + 24);
    expect(icmpv6Checksum(buf + 8, buf + 24, m, 12)).toBe(0);
    expect(load<u32>(m, 4)).toBe(0x01003412);
    // Another destination: the pseudo-header differs, so the checksum fails.
    store<u8>(buf + 39, 3);
    expect(icmpv6Checksum(buf + 8, buf + 24, m, 12)).not.toBe(0);
  });

  it("reads an MLDv2 query's exponential Maximum Response Code (RFC 3810 §5.1.3)", () => {
    memory.fill(buf, 0, 64);
    put16(buf + 4, 1000);
    expect(mldQueryDelay(buf, 28)).toBe(1000);
    put16(buf + 4, 0x8000 | (1 << 12) | 0x10); // exp 1, mant 0x10
    expect(mldQueryDelay(buf, 28)).toBe((0x1010) << 4);
    expect(mldQueryDelay(buf, 24)).toBe(0x8000 | (1 << 12) | 0x10); // MLDv1: the code as it is
    put16(buf + 26, 2); // two sources claimed, none there
    expect(mldQueryDelay(buf, 28)).toBe(-1);
    expect(mldQueryDelay(buf, 23)).toBe(-1);
  });
});

describe("neighbor discovery options", () => {
  it("reads an RA with prefix, MTU, RDNSS and source link-layer options", () => {
    memory.fill(buf, 0, 256);
    const m = buf;
    store<u8>(m, 134);
    store<u8>(m, 64, 4);
    put16(m + 6, 1800);
    let at: u32 = 16;
    store<u8>(m + at, 1); store<u8>(m + at, 1, 1); store<u8>(m + at + 2, 0x02); at += 8;
    store<u8>(m + at, 3); store<u8>(m + at, 4, 1); store<u8>(m + at, 64, 2); store<u8>(m + at, 0xc0, 3); at += 32;
    store<u8>(m + at, 5); store<u8>(m + at, 1, 1); put16(m + at + 6, 1400); at += 8;
    store<u8>(m + at, 25); store<u8>(m + at, 3, 1); at += 24;
    expect(ndParse(m, at, 134)).toBe(WireError.OK);
    expect(lladdr).toBe(m + 18);
    // RDNSS of even length (4 units) is invalid (RFC 8106 §5.1: 3 + 2n).
    store<u8>(m + at - 24, 4, 1);
    expect(ndParse(m, at + 8, 134)).toBe(WireError.BAD_OPTION);
  });

  it("rejects an option of length 0 and one running past the message (§4.6)", () => {
    memory.fill(buf, 0, 256);
    store<u8>(buf + 24, 1);
    store<u8>(buf + 25, 0);
    expect(ndParse(buf, 32, 135)).toBe(WireError.BAD_OPTION);
    store<u8>(buf + 25, 2); // 16 bytes in 8
    expect(ndParse(buf, 32, 135)).toBe(WireError.TRUNCATED);
    expect(ndParse(buf, 23, 135)).toBe(WireError.TRUNCATED);
    store<u8>(buf + 25, 1);
    expect(ndParse(buf, 32, 135)).toBe(WireError.OK);
    expect(lladdr).toBe(buf + 26);
    // A source link-layer option in an NA is not its target option: not taken.
    expect(ndParse(buf, 32, 136)).toBe(WireError.OK);
    expect(lladdr).toBe(0);
    // Options are whole units of 8 bytes; an NS or NA target is never multicast (§7.1.1, §7.1.2).
    expect(ndParse(buf, 31, 135)).toBe(WireError.TRUNCATED);
    store<u8>(buf + 8, 0xff);
    expect(ndParse(buf, 32, 135)).toBe(WireError.BAD_OPTION);
  });
});
