// IPv4 multicast: IGMP membership (RFC 3376, v1/v2 compatibility per RFC 2236) and UDP sockets in
// groups. Built with WASMIP_MULTICAST=1 (as-pect.asconfig.json).
import { get16, get32, put16, put32 } from "../support/bytes";
import { checksum, checksumOk } from "../wire/checksum";
import { rxBuf } from "../iface/netif";
import { NET_EV_MULTICAST } from "../iface/events";
import { multicast_mac, net_events } from "../index";
import {
  udpBind, udpClose, udpJoin, udpLeave, udpRecvfrom, udpSendto, udpSetMulticastTtl, udpSocket, udpFromIp,
} from "../api/udp";
import { EADDRINUSE, EINVAL, ENOBUFS } from "../support/errors";
import { C, OUR_IP, PEER_IP, advance, bringUp, clearSent, ctr, feed, ipHeader, sent, sentCount, sentLen } from "../testing";

const GROUP: u32 = 0xef010203; // 239.1.2.3
const GROUP2: u32 = 0xef010204;
const ALIAS: u32 = 0xef810203; // 239.129.2.3: the same MAC as GROUP (23 bits)
const ALL_SYSTEMS: u32 = 0xe0000001;
const buf = memory.data(64);

/** Writes the multicast MAC of ip as the destination of the frame in rxBuf. */
function toGroupMac(ip: u32): void {
  store<u8>(rxBuf, 0x01);
  store<u8>(rxBuf, 0x00, 1);
  store<u8>(rxBuf, 0x5e, 2);
  store<u8>(rxBuf, <u8>((ip >>> 16) & 0x7f), 3);
  store<u8>(rxBuf, <u8>(ip >>> 8), 4);
  store<u8>(rxBuf, <u8>ip, 5);
}

/** An IGMP message of n bytes (already at the payload) to dst; returns the counter. */
function igmpTo(dst: u32, n: u32): C {
  return feed(14 + 20 + n);
}

/** A query from PEER_IP to dst: v2 (8 bytes, code in 1/10 s) or v3 (12 bytes). */
function query(dst: u32, group: u32, code: u32, v3: bool): C {
  const n: u32 = v3 ? 12 : 8;
  const p = ipHeader(2, PEER_IP, dst, n);
  toGroupMac(dst);
  store<u8>(p, 0x11);
  store<u8>(p, <u8>code, 1);
  store<u16>(p, 0, 2);
  put32(p + 4, group);
  if (v3) {
    store<u32>(p + 8, 0);
  }
  put16(p + 2, checksum(p, n));
  return igmpTo(dst, n);
}

/** A UDP datagram from PEER_IP:5000 to dst:port with `len` bytes of payload. */
function udpTo(dst: u32, port: u32, len: u32): C {
  const p = ipHeader(17, PEER_IP, dst, 8 + len);
  toGroupMac(dst);
  put16(p, 5000);
  put16(p + 2, port);
  put16(p + 4, 8 + len);
  store<u16>(p, 0, 6); // no checksum
  for (let i: u32 = 0; i < len; i++) store<u8>(p + 8 + i, <u8>(65 + i));
  return feed(14 + 20 + 8 + len);
}

/** Frame k is an IGMP report or leave: returns its IGMP message pointer (checked), or 0. */
function igmpSent(k: i32): usize {
  const f = sent(k);
  if (get16(f + 12) != 0x0800 || load<u8>(f + 23) != 2) return 0;
  return f + 14 + ((<u32>load<u8>(f + 14) & 15) << 2);
}

function joined(port: u32, group: u32): i32 {
  const fd = udpSocket();
  expect(udpBind(fd, port)).toBe(0);
  expect(udpJoin(fd, group)).toBe(0);
  return fd;
}

describe("IGMP: joining and leaving", () => {
  it("a join sends a v3 report to 224.0.0.22 at once: TTL 1, Router Alert, CHANGE_TO_EXCLUDE {}", () => {
    bringUp();
    net_events();
    const fd = joined(5353, GROUP);
    expect(net_events() & NET_EV_MULTICAST).toBe(NET_EV_MULTICAST);
    expect(sentCount()).toBe(1);
    const f = sent(0);
    expect(load<u32>(f)).toBe(0x005e0001); // 01:00:5e:00:00:16
    expect(load<u16>(f, 4)).toBe(0x1600);
    expect(load<u8>(f + 14)).toBe(0x46); // IHL 6: one option word
    expect(load<u8>(f + 15)).toBe(0xc0);
    expect(load<u8>(f + 22)).toBe(1); // TTL
    expect(get32(f + 26)).toBe(OUR_IP);
    expect(get32(f + 30)).toBe(0xe0000016);
    expect(get32(f + 34)).toBe(0x94040000); // Router Alert
    expect(checksumOk(f + 14, 24)).toBe(true);
    const m = igmpSent(0);
    expect(load<u8>(m)).toBe(0x22);
    expect(checksumOk(m, 16)).toBe(true);
    expect(get16(m + 6)).toBe(1); // one record
    expect(load<u8>(m + 8)).toBe(4); // CHANGE_TO_EXCLUDE
    expect(get16(m + 10)).toBe(0); // no sources
    expect(get32(m + 12)).toBe(GROUP);
    expect(ctr(C.IGMP_REPORTS_SENT)).toBe(1);
    // Robustness 2: one more within the Unsolicited Report Interval (1 s), then nothing.
    clearSent();
    advance(1000);
    expect(sentCount()).toBe(1);
    expect(load<u8>(igmpSent(0) + 8)).toBe(4);
    clearSent();
    advance(10000);
    expect(sentCount()).toBe(0);
    udpClose(fd);
  });

  it("the last socket to leave sends CHANGE_TO_INCLUDE {}; closing a socket leaves its groups", () => {
    bringUp();
    const a = joined(5000, GROUP);
    const b = joined(5001, GROUP);
    advance(2000);
    clearSent();
    expect(udpLeave(a, GROUP)).toBe(0);
    expect(sentCount()).toBe(0); // b is still in
    net_events();
    expect(udpClose(b)).toBe(0);
    expect(sentCount()).toBe(1);
    const m = igmpSent(0);
    expect(load<u8>(m)).toBe(0x22);
    expect(load<u8>(m + 8)).toBe(3); // CHANGE_TO_INCLUDE
    expect(get32(m + 12)).toBe(GROUP);
    expect(net_events() & NET_EV_MULTICAST).toBe(NET_EV_MULTICAST);
    expect(multicast_mac(0, buf)).toBe(0);
    udpClose(a);
  });

  it("refuses what it cannot do: not a group, joined twice, the table full, leaving what it is not in", () => {
    bringUp();
    const fd = udpSocket();
    expect(udpBind(fd, 6000)).toBe(0);
    expect(udpJoin(fd, PEER_IP)).toBe(EINVAL);
    expect(udpJoin(fd, GROUP)).toBe(0);
    expect(udpJoin(fd, GROUP)).toBe(EADDRINUSE);
    expect(udpJoin(fd, GROUP + 10)).toBe(0);
    expect(udpJoin(fd, GROUP + 11)).toBe(0);
    expect(udpJoin(fd, GROUP + 12)).toBe(0);
    expect(udpJoin(fd, GROUP + 13)).toBe(ENOBUFS); // MCAST_GROUPS = 4
    expect(udpLeave(fd, GROUP2)).toBe(EINVAL);
    expect(udpSetMulticastTtl(fd, 0)).toBe(EINVAL);
    expect(udpSetMulticastTtl(fd, 256)).toBe(EINVAL);
    udpClose(fd);
    expect(udpJoin(udpSocket(), GROUP + 13)).toBe(0); // the close gave the slots back
  });

  it("multicast_mac gives a board the MACs to accept", () => {
    bringUp();
    const fd = joined(5000, GROUP);
    expect(multicast_mac(0, buf)).toBe(1);
    expect(load<u8>(buf)).toBe(0x01); // 01:00:5e:01:02:03
    expect(load<u8>(buf, 1)).toBe(0x00);
    expect(load<u8>(buf, 2)).toBe(0x5e);
    expect(load<u8>(buf, 3)).toBe(0x01);
    expect(load<u8>(buf, 4)).toBe(2);
    expect(load<u8>(buf, 5)).toBe(3);
    expect(multicast_mac(1, buf)).toBe(0);
    expect(multicast_mac(99, buf)).toBe(0);
    udpClose(fd);
  });
});

describe("IGMP: queries", () => {
  it("a v3 general query is answered within its Max Resp Time with MODE_IS_EXCLUDE", () => {
    bringUp();
    const fd = joined(5000, GROUP);
    advance(2000);
    clearSent();
    expect(query(ALL_SYSTEMS, 0, 20, true)).toBe(C.IGMP_RECEIVED); // 2 s
    let waited: u32 = 0;
    while (sentCount() == 0 && waited < 3000) {
      advance(10);
      waited += 10;
    }
    expect(waited).toBeLessThanOrEqual(2000);
    const m = igmpSent(0);
    expect(load<u8>(m)).toBe(0x22);
    expect(load<u8>(m + 8)).toBe(2); // MODE_IS_EXCLUDE
    expect(get32(m + 12)).toBe(GROUP);
    clearSent();
    // A query for another group, sent to that group, does not pass our MAC filter.
    expect(query(GROUP2, GROUP2, 10, true)).toBe(C.ETH_NOT_FOR_US);
    // A query for our group, to it: answered for that group only.
    expect(query(GROUP, GROUP, 10, true)).toBe(C.IGMP_RECEIVED);
    advance(1100);
    expect(sentCount()).toBe(1);
    expect(get32(igmpSent(0) + 12)).toBe(GROUP);
    clearSent();
    advance(2000);
    expect(sentCount()).toBe(0);
    udpClose(fd);
  });

  it("a v2 query switches to v2: a v2 report to the group, suppressed by another member's, a Leave to 224.0.0.2", () => {
    bringUp();
    const fd = joined(5000, GROUP);
    const other = joined(5001, GROUP2);
    advance(2000);
    clearSent();
    expect(query(ALL_SYSTEMS, 0, 50, false)).toBe(C.IGMP_RECEIVED); // v2, 5 s
    // Another host reports GROUP2 first: ours for it is cancelled (RFC 2236 §3).
    const p = ipHeader(2, PEER_IP, GROUP2, 8);
    toGroupMac(GROUP2);
    store<u8>(p, 0x16);
    store<u8>(p, 0, 1);
    store<u16>(p, 0, 2);
    put32(p + 4, GROUP2);
    put16(p + 2, checksum(p, 8));
    expect(feed(14 + 28)).toBe(C.IGMP_RECEIVED);
    advance(6000);
    expect(sentCount()).toBe(1);
    const f = sent(0);
    expect(get32(f + 30)).toBe(GROUP);
    const m = igmpSent(0);
    expect(load<u8>(m)).toBe(0x16);
    expect(get32(m + 4)).toBe(GROUP);
    clearSent();
    udpLeave(fd, GROUP);
    expect(sentCount()).toBe(1);
    expect(get32(sent(0) + 30)).toBe(0xe0000002);
    expect(load<u8>(igmpSent(0))).toBe(0x17);
    // After the Older Version Querier Present Timeout (260 s), v3 again.
    advance(261000);
    clearSent();
    udpClose(other);
    expect(load<u8>(igmpSent(0))).toBe(0x22);
  });

  it("drops and counts malformed IGMP: short, bad checksum, a v3 source list longer than the message", () => {
    bringUp();
    let p = ipHeader(2, PEER_IP, ALL_SYSTEMS, 6);
    toGroupMac(ALL_SYSTEMS);
    store<u64>(p, 0x11);
    expect(feed(14 + 26)).toBe(C.IGMP_MALFORMED);
    expect(query(ALL_SYSTEMS, 0, 10, false)).toBe(C.IGMP_RECEIVED);
    p = ipHeader(2, PEER_IP, ALL_SYSTEMS, 8);
    toGroupMac(ALL_SYSTEMS);
    store<u8>(p, 0x11);
    store<u8>(p, 10, 1);
    store<u16>(p, 0x1234, 2); // wrong checksum
    put32(p + 4, 0);
    expect(feed(14 + 28)).toBe(C.IGMP_BAD_CHECKSUM);
    p = ipHeader(2, PEER_IP, ALL_SYSTEMS, 12);
    toGroupMac(ALL_SYSTEMS);
    memory.fill(p, 0, 12);
    store<u8>(p, 0x11);
    put16(p + 10, 5); // five sources: 20 more bytes that are not there
    put16(p + 2, checksum(p, 12));
    expect(feed(14 + 32)).toBe(C.IGMP_MALFORMED);
  });
});

describe("UDP in groups", () => {
  it("receives a group's datagrams on a socket that joined; others are dropped at the MAC, the IP layer or the socket", () => {
    bringUp();
    const fd = joined(5353, GROUP);
    clearSent();
    expect(udpTo(GROUP, 5353, 5)).toBe(C.UDP_DELIVERED);
    expect(udpRecvfrom(fd, buf, 64)).toBe(5);
    expect(udpFromIp(fd)).toBe(PEER_IP);
    expect(udpTo(GROUP2, 5353, 5)).toBe(C.ETH_NOT_FOR_US); // its MAC is not in the filter
    expect(udpTo(ALIAS, 5353, 5)).toBe(C.IP_MULTICAST_NOT_JOINED); // same MAC, other group
    expect(udpTo(GROUP, 5354, 5)).toBe(C.UDP_NO_SOCKET);
    const other = udpSocket();
    expect(udpBind(other, 6000)).toBe(0);
    expect(udpTo(GROUP, 6000, 5)).toBe(C.UDP_NO_SOCKET); // bound to the port, not in the group
    expect(udpTo(ALL_SYSTEMS, 6000, 3)).toBe(C.UDP_DELIVERED); // 224.0.0.1: every host
    expect(sentCount()).toBe(0); // never an ICMP error about a multicast
    udpClose(fd);
    udpClose(other);
  });

  it("sends to a group at its MAC (no ARP) with the socket's multicast TTL", () => {
    bringUp();
    const fd = udpSocket();
    expect(udpBind(fd, 7000)).toBe(0);
    clearSent();
    store<u32>(buf, 0x61626364);
    expect(udpSendto(fd, buf, 4, GROUP, 7000)).toBe(4);
    expect(sentCount()).toBe(1);
    let f = sent(0);
    expect(load<u8>(f)).toBe(0x01);
    expect(load<u8>(f, 3)).toBe(0x01);
    expect(get32(f + 30)).toBe(GROUP);
    expect(load<u8>(f + 22)).toBe(1); // MCAST_DEFAULT_TTL
    expect(udpSetMulticastTtl(fd, 32)).toBe(0);
    expect(udpSendto(fd, buf, 4, GROUP, 7000)).toBe(4);
    f = sent(1);
    expect(load<u8>(f + 22)).toBe(32);
    expect(sentLen(1)).toBeGreaterThanOrEqual(60);
    expect(ctr(C.ARP_REQUESTS_SENT)).toBe(0);
    udpClose(fd);
  });
});
