// UDP over IPv6 (RFC 8200 §8.1, RFC 4443 §3.1): the pseudo-header checksum both ways, a zero
// checksum refused, one socket receiving both families, a connected IPv6 socket's filter, and the
// port unreachable for a closed port (never for a group, rate-limited).
import { udpBind, udpConnect6, udpFrom6, udpFromIp, udpFromPort, udpRecvfrom, udpSendto, udpSendto6, udpSocket } from "../api/udp";
import { ECONNREFUSED, EHOSTUNREACH, EWOULDBLOCK } from "../support/errors";
import { tcpConnect6, tcpSocket } from "../api/tcp";
import { get16, put16 } from "../support/bytes";
import { sumAdd, sumFold, sumPseudo6 } from "../wire/checksum";
import { UdpRepr } from "../wire/udp";
import { WireError } from "../wire/error";
import { ICMP_ERROR_LIMIT } from "../config";
import { rxBuf } from "../iface/netif";
import { C, OUR_IP, PEER_IP, advance, clearSent, ctr, feed, ipHeader, sent, sentCount } from "../testing";
import { ALL_NODES, OURS, PEER6, bringUpPeers6, ll, sendIcmp, sentIcmpType, sentOfType, v6 } from "./ipv6_support";

const buf = heap.alloc(2048);
const from = heap.alloc(16);
const repr = changetype<UdpRepr>(heap.alloc(offsetof<UdpRepr>()));

/** A datagram from fe80::n (sport -> dport, n bytes of pattern) to dst; zeroSum: checksum 0. */
function datagram6(n: u32, sport: u32, dport: u32, len: u32, dst: usize = OURS, zeroSum: bool = false): C {
  const d = heap.alloc(16);
  memory.copy(d, dst, 16);
  const p = v6(ll(n), d, 17, 8 + len, 64);
  heap.free(d);
  for (let i: u32 = 0; i < len; i++) store<u8>(p + 8 + i, <u8>(i + sport));
  repr.srcPort = sport;
  repr.dstPort = dport;
  repr.payloadLen = len;
  repr.emit6(p, rxBuf + 22, rxBuf + 38);
  if (zeroSum) store<u16>(p + 6, 0);
  return feed(14 + 40 + 8 + len);
}

function datagram4(sport: u32, dport: u32, len: u32): C {
  const p = ipHeader(17, PEER_IP, OUR_IP, 8 + len);
  for (let i: u32 = 0; i < len; i++) store<u8>(p + 8 + i, <u8>(i + sport));
  repr.srcPort = sport;
  repr.dstPort = dport;
  repr.payloadLen = len;
  repr.emit(p, PEER_IP, OUR_IP);
  return feed(14 + 20 + 8 + len);
}

describe("UDP over IPv6", () => {
  it("receives a datagram with its IPv6 sender and answers it with a valid pseudo-header checksum", () => {
    bringUpPeers6();
    const fd = udpSocket();
    expect(udpBind(fd, 7)).toBe(0);
    expect(datagram6(2, 5000, 7, 33)).toBe(C.UDP_DELIVERED);
    expect(udpRecvfrom(fd, buf, 100)).toBe(33);
    expect(udpFrom6(fd, from)).toBe(1);
    expect(memory.compare(from, PEER6, 16)).toBe(0);
    expect(udpFromPort(fd)).toBe(5000);
    for (let i = 0; i < 33; i++) expect(load<u8>(buf + i)).toBe(<u8>(i + 5000));
    expect(udpSendto6(fd, buf, 33, from, 5000)).toBe(33);
    expect(sentCount()).toBe(1);
    const f = sent(0);
    expect(get16(f + 12)).toBe(0x86dd);
    expect(load<u8>(f + 20)).toBe(17); // next header
    expect(memory.compare(f + 38, PEER6, 16)).toBe(0);
    expect(memory.compare(f + 22, OURS, 16)).toBe(0);
    expect(get16(f + 54)).toBe(7);
    expect(get16(f + 56)).toBe(5000);
    expect(get16(f + 58)).toBe(41);
    expect(get16(f + 60)).not.toBe(0);
    expect(sumFold(sumAdd(sumPseudo6(f + 22, f + 38, 41, 17), f + 54, 41))).toBe(0xffff);
    expect(repr.parse6(f + 54, 41, f + 22, f + 38)).toBe(WireError.OK);
  });

  it("drops a zero checksum (mandatory over IPv6), a bad one and a lying length, each counted", () => {
    bringUpPeers6();
    const fd = udpSocket();
    udpBind(fd, 9);
    const before = ctr(C.IP6_UDP_NO_CHECKSUM);
    expect(datagram6(2, 1, 9, 10, OURS, true)).toBe(C.IP6_UDP_NO_CHECKSUM);
    expect(ctr(C.IP6_UDP_NO_CHECKSUM)).toBe(before + 1);
    expect(datagram6(2, 1, 9, 10)).toBe(C.UDP_DELIVERED); // then tampered with and fed again
    expect(udpRecvfrom(fd, buf, 100)).toBe(10);
    put16(rxBuf + 54 + 6, get16(rxBuf + 54 + 6) ^ 0x0100);
    expect(feed(14 + 40 + 18)).toBe(C.UDP_BAD_CHECKSUM);
    put16(rxBuf + 54 + 6, get16(rxBuf + 54 + 6) ^ 0x0100);
    put16(rxBuf + 54 + 4, 40);
    expect(feed(14 + 40 + 18)).toBe(C.UDP_BAD_LENGTH);
    expect(udpRecvfrom(fd, buf, 100)).toBe(EWOULDBLOCK);
    expect(sentCount()).toBe(0); // no error about any of them
  });

  it("one socket receives both families, and recvfrom says which", () => {
    bringUpPeers6();
    const fd = udpSocket();
    udpBind(fd, 9);
    expect(datagram4(4000, 9, 3)).toBe(C.UDP_DELIVERED);
    expect(datagram6(2, 6000, 9, 5)).toBe(C.UDP_DELIVERED);
    expect(datagram4(4001, 9, 2)).toBe(C.UDP_DELIVERED);
    expect(udpRecvfrom(fd, buf, 100)).toBe(3);
    expect(udpFrom6(fd, from)).toBe(0);
    expect(udpFromIp(fd)).toBe(PEER_IP);
    expect(udpRecvfrom(fd, buf, 100)).toBe(5);
    expect(udpFrom6(fd, from)).toBe(1);
    expect(udpFromPort(fd)).toBe(6000);
    expect(load<u8>(buf + 4)).toBe(<u8>(6004));
    expect(udpRecvfrom(fd, buf, 100)).toBe(2);
    expect(udpFrom6(fd, from)).toBe(0);
    expect(udpFromPort(fd)).toBe(4001);
    expect(udpRecvfrom(fd, buf, 100)).toBe(EWOULDBLOCK);
  });

  it("a socket connected to [fe80::2]:5000 takes only its datagrams and sends to it by default", () => {
    bringUpPeers6();
    const fd = udpSocket();
    udpBind(fd, 9);
    expect(udpConnect6(fd, PEER6, 5000)).toBe(0);
    expect(datagram6(3, 5000, 9, 4)).toBe(C.UDP_NO_SOCKET);
    expect(datagram6(2, 5001, 9, 4)).toBe(C.UDP_NO_SOCKET);
    expect(datagram4(5000, 9, 4)).toBe(C.UDP_NO_SOCKET);
    expect(datagram6(2, 5000, 9, 4)).toBe(C.UDP_DELIVERED);
    clearSent();
    expect(udpSendto(fd, buf, 12, 0, 0)).toBe(12);
    expect(sentCount()).toBe(1);
    expect(get16(sent(0) + 12)).toBe(0x86dd);
    expect(memory.compare(sent(0) + 38, PEER6, 16)).toBe(0);
    expect(get16(sent(0) + 56)).toBe(5000);
  });

  it("answers a closed port with a port unreachable, never about a group's datagram, at most ICMP_ERROR_LIMIT a second", () => {
    bringUpPeers6();
    expect(datagram6(2, 5000, 4444, 4)).toBe(C.UDP_NO_SOCKET);
    expect(sentCount()).toBe(1);
    expect(sentIcmpType(0)).toBe(1); // destination unreachable
    expect(load<u8>(sent(0) + 55)).toBe(4); // code 4: port unreachable
    expect(memory.compare(sent(0) + 38, PEER6, 16)).toBe(0);
    expect(get16(sent(0) + 54 + 8 + 40 + 2)).toBe(4444); // the quoted datagram
    clearSent();
    expect(datagram6(2, 5000, 4444, 4, ALL_NODES)).toBe(C.UDP_NO_SOCKET);
    expect(sentCount()).toBe(0);
    advance(1000);
    clearSent();
    const limited = ctr(C.ICMP6_ERRORS_LIMITED);
    for (let k: u32 = 0; k < ICMP_ERROR_LIMIT + 5; k++) datagram6(2, 5000, 4444, 4);
    expect(sentOfType(1)).toBe(<i32>ICMP_ERROR_LIMIT);
    expect(ctr(C.ICMP6_ERRORS_LIMITED)).toBe(limited + 5);
  });

  it("a port unreachable about a datagram it sent is ECONNREFUSED on the socket's next call", () => {
    bringUpPeers6();
    const fd = udpSocket();
    udpBind(fd, 9);
    expect(udpSendto6(fd, buf, 20, PEER6, 5000)).toBe(20);
    const m = v6(ll(2), OURS, 58, 8 + 68, 64);
    store<u8>(m, 1);
    store<u8>(m, 4, 1); // port unreachable
    store<u32>(m, 0, 4);
    memory.copy(m + 8, sent(0) + 14, 68);
    const before = ctr(C.ICMP_ERRORS_TO_SOCKETS);
    expect(sendIcmp(8 + 68)).toBe(C.ICMP6_ERROR_RECEIVED);
    expect(ctr(C.ICMP_ERRORS_TO_SOCKETS)).toBe(before + 1);
    expect(udpRecvfrom(fd, buf, 100)).toBe(ECONNREFUSED);
    expect(udpRecvfrom(fd, buf, 100)).toBe(EWOULDBLOCK);
  });

  it("never sends to ::1 or an IPv4-mapped address (no IPv6 loopback): EHOSTUNREACH", () => {
    bringUpPeers6();
    const fd = udpSocket();
    const a = heap.alloc(16);
    memory.fill(a, 0, 16);
    store<u8>(a, 1, 15);
    expect(udpSendto6(fd, buf, 4, a, 7)).toBe(EHOSTUNREACH);
    store<u32>(a, 0xffff0000, 8); // ::ffff:0.0.0.1
    expect(udpSendto6(fd, buf, 4, a, 7)).toBe(EHOSTUNREACH);
    const t = tcpSocket();
    expect(tcpConnect6(t, a, 80)).toBe(EHOSTUNREACH);
    expect(sentCount()).toBe(0);
  });
});
