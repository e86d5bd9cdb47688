// UDP sockets: send and receive, connect filtering, broadcast, checksums, a bounded queue,
// ICMP port unreachable, and ICMP errors reported to the socket that caused them.
import { udpBind, udpClose, udpConnect, udpEvents, udpFromIp, udpFromPort, udpRecvfrom, udpSendto, udpSocket } from "../api/udp";
import { EV_READABLE } from "../api/tcp";
import { ECONNREFUSED, EMSGSIZE, EWOULDBLOCK, EADDRINUSE } from "../support/errors";
import { get16, get32, put16 } from "../support/bytes";
import { checksumOk, sumAdd, sumFold, sumPseudo } from "../wire/checksum";
import { UdpRepr } from "../wire/udp";
import { WireError } from "../wire/error";
import { UDP_RCV_BUF } from "../config";
import { OUR_IP, PEER_IP, arpFrame, bringUp, clearSent, ctr, feed, ipHeader, sent, sentCount, sentLen } from "../testing";
import { C } from "../support/counters";

const buf = heap.alloc(2048);
const repr = changetype<UdpRepr>(heap.alloc(offsetof<UdpRepr>()));

function up(): void {
  bringUp();
  feed(arpFrame(1, PEER_IP, OUR_IP));
  clearSent();
}

/** A datagram from the peer (sport -> dport) with n pattern bytes; zeroSum: no checksum. */
function datagram(sport: u32, dport: u32, n: u32, dst: u32 = OUR_IP, zeroSum: bool = false, src: u32 = PEER_IP): C {
  const p = ipHeader(17, src, dst, 8 + n);
  for (let i: u32 = 0; i < n; i++) store<u8>(p + 8 + i, <u8>(i + sport));
  repr.srcPort = sport;
  repr.dstPort = dport;
  repr.payloadLen = n;
  repr.emit(p, src, dst);
  if (zeroSum) store<u16>(p + 6, 0);
  return feed(14 + 20 + 8 + n);
}

describe("UDP", () => {
  it("receives a datagram with its sender, and sends one with a valid checksum", () => {
    up();
    const fd = udpSocket();
    expect(udpBind(fd, 7)).toBe(0);
    expect(udpRecvfrom(fd, buf, 100)).toBe(EWOULDBLOCK);
    expect(datagram(5000, 7, 33)).toBe(C.UDP_DELIVERED);
    expect(udpEvents(fd) & EV_READABLE).toBe(EV_READABLE);
    expect(udpRecvfrom(fd, buf, 100)).toBe(33);
    expect(udpFromIp(fd)).toBe(PEER_IP);
    expect(udpFromPort(fd)).toBe(5000);
    for (let i = 0; i < 33; i++) expect(load<u8>(buf + i)).toBe(<u8>(i + 5000));
    expect(udpSendto(fd, buf, 33, PEER_IP, 5000)).toBe(33);
    const f = sent(0);
    expect(load<u8>(f + 23)).toBe(17);
    expect(get32(f + 30)).toBe(PEER_IP);
    expect(get16(f + 34)).toBe(7);
    expect(get16(f + 36)).toBe(5000);
    expect(get16(f + 38)).toBe(41);
    expect(sumFold(sumAdd(sumPseudo(OUR_IP, PEER_IP, 17, 41), f + 34, 41))).toBe(0xffff);
    expect(repr.parse(f + 34, 41, OUR_IP, PEER_IP)).toBe(WireError.OK);
  });

  it("accepts a zero checksum (none), rejects a bad one and a lying length", () => {
    up();
    const fd = udpSocket();
    udpBind(fd, 9);
    expect(datagram(1, 9, 10, OUR_IP, true)).toBe(C.UDP_DELIVERED);
    const p = ipHeader(17, PEER_IP, OUR_IP, 18);
    put16(p, 1);
    put16(p + 2, 9);
    put16(p + 4, 18);
    put16(p + 6, 0x1234);
    expect(feed(14 + 20 + 18)).toBe(C.UDP_BAD_CHECKSUM);
    put16(p + 4, 40);
    expect(feed(14 + 20 + 18)).toBe(C.UDP_BAD_LENGTH);
    expect(feed(14 + 20 + 5)).toBe(C.IP_TRUNCATED);
  });

  it("cuts a datagram longer than the buffer and keeps datagram boundaries", () => {
    up();
    const fd = udpSocket();
    udpBind(fd, 9);
    datagram(1, 9, 100);
    datagram(2, 9, 5);
    expect(udpRecvfrom(fd, buf, 10)).toBe(10);
    expect(udpRecvfrom(fd, buf, 100)).toBe(5);
    expect(udpFromPort(fd)).toBe(2);
  });

  it("bounds the receive queue and counts what does not fit", () => {
    up();
    const fd = udpSocket();
    udpBind(fd, 9);
    let delivered: u32 = 0;
    for (let k = 0; k < 10; k++) if (datagram(1, 9, 500) == C.UDP_DELIVERED) delivered++;
    expect(delivered).toBe(UDP_RCV_BUF / 508);
    expect(ctr(C.UDP_QUEUE_FULL)).toBeGreaterThanOrEqual(10 - delivered);
  });

  it("answers a closed port with ICMP port unreachable, but never a broadcast", () => {
    up();
    expect(datagram(1234, 4444, 12)).toBe(C.UDP_NO_SOCKET);
    expect(sentCount()).toBe(1);
    const f = sent(0);
    expect(load<u8>(f + 23)).toBe(1); // ICMP
    expect(load<u8>(f + 34)).toBe(3); // destination unreachable
    expect(load<u8>(f + 35)).toBe(3); // port
    expect(get32(f + 34 + 8 + 16)).toBe(OUR_IP); // the quoted header
    expect(get16(f + 34 + 8 + 22)).toBe(4444);
    expect(checksumOk(f + 34, sentLen(0) - 34)).toBe(true);
    clearSent();
    expect(datagram(1234, 4444, 12, 0xffffffff)).toBe(C.UDP_NO_SOCKET);
    expect(sentCount()).toBe(0);
  });

  it("filters by the connected peer, and reports port unreachable to the sender", () => {
    up();
    const fd = udpSocket();
    expect(udpConnect(fd, PEER_IP, 53)).toBe(0);
    expect(udpSendto(fd, buf, 4, 0, 0)).toBe(4);
    const lport = get16(sent(0) + 34);
    expect(lport >= 49152).toBe(true);
    // From another port: not for this socket.
    expect(datagram(54, lport, 3)).toBe(C.UDP_NO_SOCKET);
    expect(datagram(53, lport, 3)).toBe(C.UDP_DELIVERED);
    // The peer answers our datagram with port unreachable.
    const q = ipHeader(1, PEER_IP, OUR_IP, 8 + 28);
    store<u8>(q, 3);
    store<u8>(q + 1, 3);
    store<u32>(q + 4, 0);
    memory.copy(q + 8, sent(0) + 14, 28);
    store<u16>(q + 2, 0);
    const c = ~sumFold(sumAdd(0, q, 36)) & 0xffff;
    put16(q + 2, c);
    expect(feed(14 + 20 + 36)).toBe(C.ICMP_ERROR_RECEIVED);
    expect(udpRecvfrom(fd, buf, 10)).toBe(3); // queued data first
    expect(udpRecvfrom(fd, buf, 10)).toBe(ECONNREFUSED);
    expect(udpRecvfrom(fd, buf, 10)).toBe(EWOULDBLOCK); // reported once
  });

  it("sends broadcasts as link broadcasts, from 0.0.0.0 without an address", () => {
    bringUp();
    const fd = udpSocket();
    udpBind(fd, 68);
    expect(udpSendto(fd, buf, 10, 0xffffffff, 67)).toBe(10);
    expect(load<u32>(sent(0))).toBe(0xffffffff);
    expect(udpSendto(fd, buf, 1473, PEER_IP, 67)).toBe(EMSGSIZE);
    const fd2 = udpSocket();
    expect(udpBind(fd2, 68)).toBe(EADDRINUSE);
    udpClose(fd2);
    // Received broadcasts reach a bound socket.
    expect(datagram(67, 68, 20, 0xffffffff)).toBe(C.UDP_DELIVERED);
  });
});
