import { C } from "../support/counters";
import { get16, get32, put16 } from "../support/bytes";
import { checksumAdjust, checksumOk } from "../wire/checksum";
import { rxBuf } from "../iface/netif";
import { pingRtt, pingSend } from "../api/ping";
import { setNow } from "../support/clock";
import { OUR_IP, PEER_IP, arpFrame, bringUp, clearSent, ctr, echoRequest, feed, ipHeader, sent, sentCount, sentLen } from "../testing";

function upWithPeer(): void {
  bringUp();
  feed(arpFrame(1, PEER_IP, OUR_IP)); // the peer asks for us first, as a real one does
  clearSent();
}

function expectEchoReply(ident: u32, seq: u32, size: u32): void {
  expect(sentCount()).toBe(1);
  const f = sent(0);
  expect(sentLen(0)).toBe(max<u32>(60, 14 + 20 + 8 + size));
  expect(load<u8>(f + 5)).toBe(2); // to the peer's MAC
  expect(get16(f + 12)).toBe(0x0800);
  const ip = f + 14;
  expect(load<u8>(ip)).toBe(0x45);
  expect(get16(ip + 2)).toBe(20 + 8 + size);
  expect(load<u8>(ip + 9)).toBe(1);
  expect(get32(ip + 12)).toBe(OUR_IP);
  expect(get32(ip + 16)).toBe(PEER_IP);
  expect(checksumOk(ip, 20)).toBe(true);
  const icmp = ip + 20;
  expect(load<u8>(icmp)).toBe(0); // echo reply
  expect(load<u8>(icmp + 1)).toBe(0);
  expect(get16(icmp + 4)).toBe(ident);
  expect(get16(icmp + 6)).toBe(seq);
  expect(checksumOk(icmp, 8 + size)).toBe(true);
  for (let i: u32 = 0; i < size; i++) {
    if (load<u8>(icmp + 8 + i) != <u8>(i * 7 + 3)) {
      expect(i).toBe(size, "payload differs at byte " + i.toString());
      return;
    }
  }
}

describe("ICMP echo", () => {
  it("answers with identifier, sequence and payload intact", () => {
    upWithPeer();
    expect(feed(echoRequest(0x4242, 7, 56))).toBe(C.ICMP_ECHO_ANSWERED);
    expectEchoReply(0x4242, 7, 56);
  });

  it("answers a full-MTU request", () => {
    upWithPeer();
    expect(feed(echoRequest(1, 0xffff, 1472))).toBe(C.ICMP_ECHO_ANSWERED);
    expectEchoReply(1, 0xffff, 1472);
  });

  it("answers with an empty and an odd-sized payload", () => {
    upWithPeer();
    expect(feed(echoRequest(9, 1, 0))).toBe(C.ICMP_ECHO_ANSWERED);
    expectEchoReply(9, 1, 0);
    clearSent();
    expect(feed(echoRequest(9, 2, 101))).toBe(C.ICMP_ECHO_ANSWERED);
    expectEchoReply(9, 2, 101);
  });

  it("answers a request that carried IP options, without them", () => {
    upWithPeer();
    expect(feed(echoRequest(5, 5, 64, OUR_IP, 8))).toBe(C.ICMP_ECHO_ANSWERED);
    expectEchoReply(5, 5, 64);
  });

  it("holds the reply while the asker resolves, then sends it", () => {
    bringUp();
    expect(feed(echoRequest(3, 3, 20))).toBe(C.ICMP_ECHO_ANSWERED);
    expect(sentCount()).toBe(1); // an ARP request, the reply waits
    expect(get16(sent(0) + 12)).toBe(0x0806);
    clearSent();
    feed(arpFrame(2, PEER_IP, OUR_IP, false));
    expectEchoReply(3, 3, 20);
  });

  it("ignores echo to a broadcast address", () => {
    upWithPeer();
    expect(feed(echoRequest(1, 1, 8, 0xffffffff))).toBe(C.ICMP_ECHO_BROADCAST_IGNORED);
    expect(feed(echoRequest(1, 1, 8, 0x0a0000ff))).toBe(C.ICMP_ECHO_BROADCAST_IGNORED);
    expect(sentCount()).toBe(0);
  });

  it("drops a bad ICMP checksum and a truncated message", () => {
    upWithPeer();
    const len = echoRequest(1, 1, 32);
    store<u8>(rxBuf + 14 + 20 + 8 + 3, 0x55);
    expect(feed(len)).toBe(C.ICMP_BAD_CHECKSUM);
    ipHeader(1, PEER_IP, OUR_IP, 4);
    expect(feed(14 + 24)).toBe(C.ICMP_TRUNCATED);
    expect(sentCount()).toBe(0);
  });

  it("times replies to its own requests", () => {
    upWithPeer();
    setNow(2000);
    expect(pingSend(PEER_IP, 300, 16)).toBe(0);
    expect(pingRtt(300)).toBe(-1);
    // Turn our own request into the peer's reply and feed it back.
    const f = sent(0);
    memory.copy(rxBuf, f, sentLen(0));
    memory.copy(rxBuf, f + 6, 6);
    const ip = rxBuf + 14;
    store<u32>(ip + 12, load<u32>(f + 14 + 16));
    store<u32>(ip + 16, load<u32>(f + 14 + 12));
    store<u8>(ip + 20, 0);
    put16(ip + 22, checksumAdjust(get16(ip + 22), 0x0800, 0));
    setNow(2017);
    expect(feed(14 + 20 + 8 + 16)).toBe(C.ICMP_ECHO_REPLY_RECEIVED);
    expect(pingRtt(300)).toBe(17);
    // An echo reply to someone else's identifier is not ours.
    const id = get16(ip + 24);
    put16(ip + 24, id ^ 1);
    put16(ip + 22, checksumAdjust(get16(ip + 22), id, id ^ 1));
    expect(feed(14 + 20 + 8 + 16)).toBe(C.ICMP_ECHO_REPLY_UNMATCHED);
  });
});

describe("IPv4 input", () => {
  it("drops fragments, datagrams for others, bad sources and unknown protocols", () => {
    upWithPeer();
    ipHeader(1, PEER_IP, OUR_IP, 8, 0, 0x2000); // MF
    expect(feed(14 + 28)).toBe(C.IP_FRAGMENT_DROPPED);
    ipHeader(1, PEER_IP, OUR_IP, 8, 0, 0x0001); // offset 8
    expect(feed(14 + 28)).toBe(C.IP_FRAGMENT_DROPPED);
    ipHeader(1, PEER_IP, 0x0a000003, 8);
    expect(feed(14 + 28)).toBe(C.IP_NOT_FOR_US);
    ipHeader(1, 0xffffffff, OUR_IP, 8);
    expect(feed(14 + 28)).toBe(C.IP_BAD_SOURCE);
    ipHeader(1, 0xe0000001, OUR_IP, 8);
    expect(feed(14 + 28)).toBe(C.IP_BAD_SOURCE);
    ipHeader(1, 0x7f000001, OUR_IP, 8);
    expect(feed(14 + 28)).toBe(C.IP_BAD_SOURCE);
    ipHeader(99, PEER_IP, OUR_IP, 8);
    expect(feed(14 + 28)).toBe(C.IP_UNKNOWN_PROTOCOL);
    expect(sentCount()).toBe(0);
  });

  it("accounts for every frame in exactly one rx counter", () => {
    bringUp();
    const before = ctr(C.RX_FRAMES);
    feed(3);
    feed(2000);
    feed(arpFrame(1, PEER_IP, OUR_IP));
    feed(echoRequest(1, 1, 10));
    ipHeader(1, PEER_IP, OUR_IP, 8, 0, 0x2000);
    feed(14 + 28);
    expect(ctr(C.RX_FRAMES)).toBe(before + 5);
    expect(ctr(C.ETH_TOO_SHORT)).toBeGreaterThanOrEqual(1);
    expect(ctr(C.ETH_OVERSIZE)).toBeGreaterThanOrEqual(1);
  });
});
