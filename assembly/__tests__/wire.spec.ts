// Every wire format parses what it emits; truncated and garbled input is rejected, never trapped.
import { WireError } from "../wire/error";
import { EthernetRepr } from "../wire/ethernet";
import { ArpRepr, OP_REPLY } from "../wire/arp";
import { Ipv4Repr } from "../wire/ipv4";
import { IcmpRepr } from "../wire/icmp";
import { checksum } from "../wire/checksum";
import { put16 } from "../support/bytes";

const buf = heap.alloc(256);
const eth = changetype<EthernetRepr>(heap.alloc(offsetof<EthernetRepr>()));
const eth2 = changetype<EthernetRepr>(heap.alloc(offsetof<EthernetRepr>()));
const arp = changetype<ArpRepr>(heap.alloc(offsetof<ArpRepr>()));
const arp2 = changetype<ArpRepr>(heap.alloc(offsetof<ArpRepr>()));
const ip = changetype<Ipv4Repr>(heap.alloc(offsetof<Ipv4Repr>()));
const ip2 = changetype<Ipv4Repr>(heap.alloc(offsetof<Ipv4Repr>()));
const icmp = changetype<IcmpRepr>(heap.alloc(offsetof<IcmpRepr>()));
const icmp2 = changetype<IcmpRepr>(heap.alloc(offsetof<IcmpRepr>()));

function emitIp(): void {
  ip.src = 0xc0a80001;
  ip.dst = 0x0a0000ff;
  ip.proto = 17;
  ip.ttl = 3;
  ip.tos = 0x10;
  ip.ident = 0xbeef;
  ip.dontFragment = true;
  ip.moreFragments = false;
  ip.fragmentOffset = 0;
  ip.payloadLen = 100;
  ip.emit(buf);
}

describe("Ethernet II", () => {
  it("parses what it emits", () => {
    eth.dst0 = 0x33221100;
    eth.dst4 = 0x5544;
    eth.src0 = 0x01020304;
    eth.src4 = 0x0506;
    eth.ethertype = 0x0806;
    eth.emit(buf);
    expect(load<u8>(buf)).toBe(0x00);
    expect(load<u8>(buf + 12)).toBe(0x08);
    expect(load<u8>(buf + 13)).toBe(0x06);
    expect(eth2.parse(buf, 14)).toBe(WireError.OK);
    expect(eth2.dst0).toBe(eth.dst0);
    expect(eth2.dst4).toBe(eth.dst4);
    expect(eth2.src0).toBe(eth.src0);
    expect(eth2.src4).toBe(eth.src4);
    expect(eth2.ethertype).toBe(0x0806);
  });
  it("rejects every truncation", () => {
    for (let n: u32 = 0; n < 14; n++) expect(eth2.parse(buf, n)).toBe(WireError.TRUNCATED);
  });
});

describe("ARP", () => {
  it("parses what it emits", () => {
    arp.op = OP_REPLY;
    arp.sha0 = 0x11223344;
    arp.sha4 = 0x5566;
    arp.spa = 0x0a000001;
    arp.tha0 = 0xaabbccdd;
    arp.tha4 = 0xeeff;
    arp.tpa = 0x0a000002;
    arp.emit(buf);
    expect(arp2.parse(buf, 28)).toBe(WireError.OK);
    expect(arp2.op).toBe(OP_REPLY);
    expect(arp2.sha0).toBe(arp.sha0);
    expect(arp2.sha4).toBe(arp.sha4);
    expect(arp2.spa).toBe(arp.spa);
    expect(arp2.tha0).toBe(arp.tha0);
    expect(arp2.tha4).toBe(arp.tha4);
    expect(arp2.tpa).toBe(arp.tpa);
    expect(load<u8>(buf + 14)).toBe(10); // spa in network order
  });
  it("rejects truncation, other hardware/protocol types and unknown ops", () => {
    for (let n: u32 = 0; n < 28; n++) expect(arp2.parse(buf, n)).toBe(WireError.TRUNCATED);
    store<u8>(buf + 1, 6); // htype 6 (IEEE 802)
    expect(arp2.parse(buf, 28)).toBe(WireError.UNSUPPORTED);
    arp.emit(buf);
    store<u8>(buf + 4, 8); // hlen 8
    expect(arp2.parse(buf, 28)).toBe(WireError.UNSUPPORTED);
    arp.emit(buf);
    put16(buf + 6, 3); // RARP request
    expect(arp2.parse(buf, 28)).toBe(WireError.BAD_OP);
  });
});

describe("IPv4", () => {
  it("parses what it emits, checksum included", () => {
    emitIp();
    expect(checksum(buf, 20)).toBe(0); // a header with its checksum sums to all ones
    expect(ip2.parse(buf, 120)).toBe(WireError.OK);
    expect(ip2.src).toBe(ip.src);
    expect(ip2.dst).toBe(ip.dst);
    expect(ip2.proto).toBe(17);
    expect(ip2.ttl).toBe(3);
    expect(ip2.tos).toBe(0x10);
    expect(ip2.ident).toBe(0xbeef);
    expect(ip2.dontFragment).toBe(true);
    expect(ip2.moreFragments).toBe(false);
    expect(ip2.headerLen).toBe(20);
    expect(ip2.payloadLen).toBe(100);
  });
  it("ignores Ethernet padding after the total length", () => {
    emitIp();
    expect(ip2.parse(buf, 200)).toBe(WireError.OK);
    expect(ip2.payloadLen).toBe(100);
  });
  it("rejects every truncation, including a total length that lies", () => {
    emitIp();
    for (let n: u32 = 0; n < 120; n++) expect(ip2.parse(buf, n)).toBe(WireError.TRUNCATED);
  });
  it("rejects a bad version, IHL, total length and checksum", () => {
    emitIp();
    store<u8>(buf, 0x65);
    expect(ip2.parse(buf, 120)).toBe(WireError.BAD_VERSION);
    for (let ihl: u8 = 0; ihl < 5; ihl++) {
      store<u8>(buf, 0x40 | ihl);
      expect(ip2.parse(buf, 120)).toBe(WireError.BAD_HEADER_LEN);
    }
    store<u8>(buf, 0x4f); // 60-byte header in a 40-byte packet
    expect(ip2.parse(buf, 40)).toBe(WireError.TRUNCATED);
    emitIp();
    put16(buf + 2, 19); // total length below the header
    expect(ip2.parse(buf, 120)).toBe(WireError.BAD_TOTAL_LEN);
    emitIp();
    store<u8>(buf + 8, 4); // TTL changed, checksum not
    expect(ip2.parse(buf, 120)).toBe(WireError.BAD_CHECKSUM);
  });
  it("reads fragment fields", () => {
    ip.moreFragments = true;
    ip.dontFragment = false;
    ip.fragmentOffset = 1480;
    ip.payloadLen = 8;
    ip.emit(buf);
    expect(ip2.parse(buf, 28)).toBe(WireError.OK);
    expect(ip2.moreFragments).toBe(true);
    expect(ip2.fragmentOffset).toBe(1480);
  });
});

describe("ICMP", () => {
  it("parses what it emits, payload checksummed", () => {
    for (let i = 0; i < 33; i++) store<u8>(buf + 8 + i, <u8>(i * 5));
    icmp.type = 8;
    icmp.code = 0;
    icmp.ident = 0x1234;
    icmp.seq = 0xfffe;
    icmp.payloadLen = 33;
    icmp.emit(buf);
    expect(icmp2.parse(buf, 41)).toBe(WireError.OK);
    expect(icmp2.type).toBe(8);
    expect(icmp2.ident).toBe(0x1234);
    expect(icmp2.seq).toBe(0xfffe);
    expect(icmp2.payloadLen).toBe(33);
    store<u8>(buf + 30, load<u8>(buf + 30) ^ 1);
    expect(icmp2.parse(buf, 41)).toBe(WireError.BAD_CHECKSUM);
    for (let n: u32 = 0; n < 8; n++) expect(icmp2.parse(buf, n)).toBe(WireError.TRUNCATED);
  });
});
