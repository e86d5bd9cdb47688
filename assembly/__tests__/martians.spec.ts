// Martian source addresses (RFC 1122 §3.2.1.3): dropped and counted before any protocol sees them.
import { SYN } from "../wire/tcp";
import { tcpBind, tcpListen, tcpSocket } from "../api/tcp";
import { OUR_IP, bringUp, clearSent, ctr, echoRequest, feed, ipHeader, sentCount } from "../testing";
import { C } from "../support/counters";
import { put16 } from "../support/bytes";

/** An echo request (echoRequest()), its IPv4 header rewritten with another source address. */
function fromSource(src: u32): u32 {
  const len = echoRequest(7, 1, 16);
  ipHeader(1, src, OUR_IP, 8 + 16);
  return len;
}

describe("martian sources", () => {
  it("drops an echo request from our own address (a land attack) without answering", () => {
    bringUp();
    clearSent();
    expect(feed(fromSource(OUR_IP))).toBe(C.IP_BAD_SOURCE);
    expect(sentCount()).toBe(0);
  });

  it("drops ICMP and TCP from 0.0.0.0/8, which nothing can answer", () => {
    bringUp();
    const l = tcpSocket();
    tcpBind(l, 80);
    tcpListen(l, 2);
    clearSent();
    expect(feed(fromSource(0))).toBe(C.IP_BAD_SOURCE);
    expect(feed(fromSource(0x00000005))).toBe(C.IP_BAD_SOURCE);
    const tcp = ipHeader(6, 0, OUR_IP, 20);
    put16(tcp, 40000);
    put16(tcp + 2, 80);
    store<u8>(tcp + 12, 0x50);
    store<u8>(tcp + 13, <u8>SYN);
    expect(feed(14 + 40)).toBe(C.IP_BAD_SOURCE);
    expect(sentCount()).toBe(0);
    expect(ctr(C.IP_BAD_SOURCE)).toBe(3);
  });

  it("still takes UDP from 0.0.0.0 (a host initializing, RFC 1122 §3.2.1.3)", () => {
    bringUp();
    const udp = ipHeader(17, 0, 0xffffffff, 8);
    put16(udp, 68);
    put16(udp + 2, 9999);
    put16(udp + 4, 8);
    store<u16>(udp, 0, 6);
    expect(feed(14 + 28)).toBe(C.UDP_NO_SOCKET);
  });
});
