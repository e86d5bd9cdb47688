// Neighbor Discovery (RFC 4861) through the stack: DAD of the link-local address, NS answered,
// resolution with a held packet, the NA override rule (§7.2.5), the hop-limit and source checks
// (§7.1), an NS flood that must not evict the neighbours in use, ICMPv6 echo and errors.
import { rxBuf } from "../iface/netif";
import { ndCheck, ndNeighbour, REACHABLE, STALE, DELAY, INCOMPLETE } from "../iface/nd";
import { arpCheck, arpOutput, arpQueued } from "../iface/arp";
import { ipv6LinkUp } from "../iface/ipv6_api";
import { txBuf } from "../iface/netif";
import { ADDR_DUPLICATED, ADDR_PREFERRED, ADDR_TENTATIVE } from "../iface/ipv6";
import { ping6Send } from "../api/ping";
import { MLD_ROBUSTNESS, ND_CACHE_SIZE } from "../config";
import { mldJoinService } from "../iface/mld";
import { C, Counters, PEER_IP, advance, bringUp, clearSent, counterName, ctr, feed, run, sent, sentCount, sentLen } from "../testing";
import { COUNTERS, KIND_EVENT, counterKind } from "../support/counters";
import {
  ALL_NODES, OURS, addrState, bringUp6, lastOfType, ll, na, ns, sendIcmp, sentIcmpType, sentOfType, snm, v6,
} from "./ipv6_support";

const entry = memory.data(24, 8);
const dst = memory.data(16, 8);

/** The neighbor cache state of fe80::n (0 when absent), its MAC's last byte in lastMac. */
let lastMac: u32 = 0;
function stateOf(n: u32): u32 {
  const a = ll(n);
  for (let i: u32 = 0; i < <u32>ND_CACHE_SIZE; i++) {
    const st = ndNeighbour(i, entry);
    if (st != 0 && memory.compare(entry, a, 16) == 0) {
      lastMac = <u32>load<u8>(entry, 21);
      return st;
    }
  }
  return 0;
}

/** Every frame since `before` ended in one +/- counter. */
function accounted(before: Counters): u32 {
  let sum: u32 = 0;
  for (let i = 0; i < COUNTERS; i++) if (counterKind(<u32>i) != KIND_EVENT) sum += before.delta(<C>i);
  return sum;
}

describe("ipv6 address and DAD", () => {
  it("makes fe80::ff:fe00:1 tentative, probes it from :: and then prefers it", () => {
    bringUp(1000, 0x0a000001, 0xffffff00, 0x0a0000fe, true);
    expect(addrState(0)).toBe(ADDR_TENTATIVE);
    run(4500);
    expect(addrState(0)).toBe(ADDR_PREFERRED);
    const k = lastOfType(135);
    expect(k).toBeGreaterThanOrEqual(0);
    const f = sent(k);
    // The DAD probe: from ::, to the solicited-node group, target ours, no options (24 bytes).
    expect(load<u64>(f, 22) | load<u64>(f, 30)).toBe(0);
    expect(load<u8>(f, 38)).toBe(0xff);
    expect(memory.compare(f + 54 + 8, OURS, 16)).toBe(0);
    expect(load<u8>(f, 21)).toBe(255);
    // MLDv2 reports for the solicited-node group, and a router solicitation after DAD.
    let mld = -1;
    for (let i = 0; i < sentCount(); i++) if (load<u8>(sent(i), 20) == 0 && load<u8>(sent(i), 62) == 143) mld = i;
    expect(mld).toBeGreaterThanOrEqual(0, "an MLDv2 report behind a hop-by-hop header");
    expect(load<u8>(sent(mld), 21)).toBe(1); // hop limit 1
    expect(load<u8>(sent(mld), 56)).toBe(5); // Router Alert
    expect(load<u8>(sent(mld), 62 + 8 + 4 + 12)).toBe(0xff); // the record's group: ff02::1:ff00:1
    expect(load<u8>(sent(mld), 62 + 8 + 4 + 15)).toBe(1);
    expect(ctr(C.MLD_REPORTS_SENT)).toBeGreaterThanOrEqual(2);
    expect(ctr(C.ND_RS_SENT)).toBe(1, "rs");
    expect(ctr(C.ND_ADDRESSES_CONFIGURED)).toBe(1, "configured");
  });

  it("marks the address duplicated when another node probes for it during DAD", () => {
    bringUp(1000, 0x0a000001, 0xffffff00, 0x0a0000fe, true);
    const un = memory.data(16, 8);
    memory.fill(un, 0, 16);
    expect(ns(un, snm(OURS), OURS, 0)).toBe(C.ND_DAD_CONFLICT);
    expect(addrState(0)).toBe(ADDR_DUPLICATED);
    expect(ctr(C.ND_DAD_DUPLICATES)).toBe(1);
    run(10_000);
    expect(addrState(0)).toBe(ADDR_DUPLICATED);
    expect(ctr(C.ND_RS_SENT)).toBe(0); // never used, not even to solicit routers
  });
});

describe("mldv2", () => {
  it("answers a general query with a current-state report within the response delay", () => {
    bringUp6();
    run(5000); // the join's reports are done
    clearSent();
    const before = ctr(C.MLD_REPORTS_SENT);
    // A general query (MLDv2, 28 bytes) from a link-local router to ff02::1, max delay 1000 ms.
    const m = v6(ll(0xfe), ALL_NODES, 58, 28, 1);
    memory.fill(m, 0, 28);
    store<u8>(m, 130);
    store<u8>(m, 0x03, 4);
    store<u8>(m, 0xe8, 5);
    expect(sendIcmp(28)).toBe(C.MLD_RECEIVED);
    run(1100);
    expect(ctr(C.MLD_REPORTS_SENT)).toBe(before + 1);
    let k = -1;
    for (let i = 0; i < sentCount(); i++) if (load<u8>(sent(i), 20) == 0 && load<u8>(sent(i), 62) == 143) k = i;
    expect(k).toBeGreaterThanOrEqual(0);
    expect(load<u8>(sent(k), 62 + 8)).toBe(2); // MODE_IS_EXCLUDE
    expect(load<u8>(sent(k), 0)).toBe(0x33);
    expect(load<u8>(sent(k), 5)).toBe(0x16); // to ff02::16
    // A query from a global source is not taken (RFC 3810 §5.1.14).
    const g = memory.data(16, 8);
    memory.fill(g, 0, 16);
    store<u8>(g, 0x20);
    store<u8>(g, 1, 15);
    const q = v6(g, ALL_NODES, 58, 28, 1);
    memory.fill(q, 0, 28);
    store<u8>(q, 130);
    expect(sendIcmp(28)).toBe(C.MLD_MALFORMED);
  });
});

describe("mldv2 leave", () => {
  it("reports leaving the service's group in every state-change report (RFC 3810 §6.1)", () => {
    bringUp6();
    const g = memory.data(16, 8); // ff02::fb
    memory.fill(g, 0, 16);
    store<u8>(g, 0xff);
    store<u8>(g, 0x02, 1);
    store<u8>(g, 0xfb, 15);
    mldJoinService(g);
    run(5000);
    clearSent();
    mldJoinService(0);
    run(5000);
    let reports = 0;
    let leaves = 0;
    for (let i = 0; i < sentCount(); i++) {
      if (load<u8>(sent(i), 20) != 0 || load<u8>(sent(i), 62) != 143) continue;
      reports++;
      // The second record (after the solicited-node group's): CHANGE_TO_INCLUDE {} for ff02::fb.
      if (load<u8>(sent(i), 62 + 8 + 20) == 3 && load<u8>(sent(i), 62 + 8 + 20 + 4 + 15) == 0xfb) leaves++;
    }
    expect(reports).toBe(<i32>MLD_ROBUSTNESS);
    expect(leaves).toBe(<i32>MLD_ROBUSTNESS);
  });
});

describe("neighbor solicitation and advertisement", () => {
  it("answers an NS for our address with a solicited, override NA to the sender's MAC", () => {
    bringUp6();
    clearSent();
    expect(ns(ll(2), snm(OURS), OURS)).toBe(C.ND_NS_RECEIVED);
    expect(sentCount()).toBe(1);
    const f = sent(0);
    expect(sentIcmpType(0)).toBe(136);
    expect(load<u8>(f, 5)).toBe(2); // to 02:00:00:00:00:02
    expect(load<u8>(f, 58)).toBe(0x60); // S and O, not R
    expect(load<u8>(f, 21)).toBe(255);
    expect(stateOf(2)).toBe(STALE); // §7.2.3: learnt from the NS
  });

  it("ignores ND messages with a hop limit below 255 or code != 0, and NS for other targets", () => {
    bringUp6();
    clearSent();
    expect(ns(ll(2), snm(OURS), OURS, 2, 254)).toBe(C.ND_BAD_HOP_LIMIT);
    expect(ns(ll(2), snm(ll(9)), ll(9))).toBe(C.ETH_NOT_FOR_US); // not our group: the MAC filter
    expect(ns(ll(2), OURS, ll(9))).toBe(C.ND_TARGET_NOT_OURS);
    const un = memory.data(16, 8);
    memory.fill(un, 0, 16);
    expect(ns(un, snm(OURS), OURS, 2)).toBe(C.ND_BAD_SOURCE); // from :: with a link-layer option
    expect(sentCount()).toBe(0);
    expect(stateOf(2)).toBe(0);
  });

  it("resolves a neighbour: holds the packet, multicasts NS, sends it on the NA", () => {
    bringUp6();
    clearSent();
    memory.copy(dst, ll(2), 16);
    expect(ping6Send(dst, 1, 8)).toBe(0);
    expect(sentCount()).toBe(1);
    expect(sentIcmpType(0)).toBe(135);
    expect(stateOf(2)).toBe(INCOMPLETE);
    expect(ctr(C.ND_QUEUED)).toBe(1);
    clearSent();
    expect(na(2, OURS, ll(2), 0x60000000, 2)).toBe(C.ND_NA_RECEIVED);
    expect(stateOf(2)).toBe(REACHABLE);
    expect(sentCount()).toBe(1);
    expect(sentIcmpType(0)).toBe(128);
    expect(load<u8>(sent(0), 5)).toBe(2);
    // An echo reply to it is matched.
    const m = v6(ll(2), OURS, 58, 16, 64);
    memory.copy(m, sent(0) + 54, 16);
    store<u8>(m, 129);
    expect(sendIcmp(16)).toBe(C.ICMP6_ECHO_REPLY_RECEIVED);
  });

  it("holds packets in ARP's pool beside ARP's frames, and drops them when it gives up or the link returns", () => {
    bringUp6();
    memory.copy(dst, ll(2), 16);
    expect(arpOutput(txBuf, 60, PEER_IP, 0x0800)).toBe(0); // an IPv4 frame held too
    const drops = ctr(C.ND_QUEUE_DROPS);
    expect(ping6Send(dst, 1, 8)).toBe(0);
    expect(ping6Send(dst, 2, 8)).toBe(0);
    expect(ping6Send(dst, 3, 8)).not.toBe(0); // ND_QUEUE_PER_NEIGHBOUR
    expect(ctr(C.ND_QUEUE_DROPS)).toBe(drops + 1);
    expect(arpCheck()).toBe(0);
    expect(ndCheck()).toBe(0);
    ipv6LinkUp(); // the neighbours are forgotten: what waited on them is dropped
    expect(ctr(C.ND_QUEUE_DROPS)).toBe(drops + 3);
    expect(arpQueued(PEER_IP)).toBe(1, "ARP's frame stays");
    expect(arpCheck()).toBe(0);
    expect(ndCheck()).toBe(0);
    run(4500); // DAD again
    expect(ping6Send(dst, 4, 8)).toBe(0);
    run(5000); // no NA: the entry goes, its packet with it (§7.3.3)
    expect(ctr(C.ND_GAVE_UP)).toBe(1);
    expect(ctr(C.ND_QUEUE_DROPS)).toBe(drops + 4);
    expect(stateOf(2)).toBe(0);
    expect(arpCheck()).toBe(0);
    expect(ndCheck()).toBe(0);
  });

  it("never lets an NA without Override change a cached address (§7.2.5)", () => {
    bringUp6();
    memory.copy(dst, ll(2), 16);
    ping6Send(dst, 1, 8);
    na(2, OURS, ll(2), 0x60000000, 2);
    expect(stateOf(2)).toBe(REACHABLE);
    // Unsolicited, no override, another MAC: REACHABLE only goes STALE, the MAC stays.
    expect(na(2, ALL_NODES, ll(2), 0, 7)).toBe(C.ND_NA_IGNORED);
    expect(stateOf(2)).toBe(STALE);
    expect(lastMac).toBe(2);
    expect(na(2, ALL_NODES, ll(2), 0x40000000, 7)).toBe(C.ND_MALFORMED); // solicited to multicast
    expect(lastMac).toBe(2);
    // With Override the new address is taken (still STALE: unsolicited).
    expect(na(2, ALL_NODES, ll(2), 0x20000000, 7)).toBe(C.ND_NA_RECEIVED);
    stateOf(2);
    expect(lastMac).toBe(7);
    // An NA for a neighbour we never asked about creates nothing.
    expect(na(5, OURS, ll(5), 0x60000000, 5)).toBe(C.ND_NA_IGNORED);
    expect(stateOf(5)).toBe(0);
  });

  it("goes STALE -> DELAY -> PROBE and gives up on a silent neighbour", () => {
    bringUp6();
    memory.copy(dst, ll(2), 16);
    ping6Send(dst, 1, 8);
    na(2, OURS, ll(2), 0x60000000, 2);
    run(50_000); // past ReachableTime (at most 1.5 x 30 s)
    expect(stateOf(2)).toBe(STALE);
    ping6Send(dst, 2, 8);
    expect(stateOf(2)).toBe(DELAY);
    clearSent();
    run(5_500);
    expect(sentOfType(135)).toBe(1); // the first unicast probe
    expect(load<u8>(sent(lastOfType(135)), 5)).toBe(2);
    run(5_000);
    expect(stateOf(2)).toBe(0);
    expect(ctr(C.ND_GAVE_UP)).toBe(1);
  });

  it("keeps the neighbours in use through a flood of NS from random sources", () => {
    bringUp6();
    memory.copy(dst, ll(2), 16);
    ping6Send(dst, 1, 8);
    na(2, OURS, ll(2), 0x60000000, 2);
    memory.copy(dst, ll(3), 16);
    ping6Send(dst, 2, 8);
    na(3, OURS, ll(3), 0x60000000, 3);
    const before = new Counters();
    for (let i: u32 = 0; i < 200; i++) {
      const n = 100 + i * 7;
      expect(ns(ll(n), snm(OURS), OURS, n & 0xff)).toBe(C.ND_NS_RECEIVED);
      if (i % 10 == 0) advance(100);
    }
    expect(stateOf(2)).toBe(REACHABLE);
    expect(lastMac).toBe(2);
    expect(stateOf(3)).toBe(REACHABLE);
    expect(lastMac).toBe(3);
    expect(accounted(before)).toBe(before.delta(C.RX_FRAMES));
    // Unicast NS without a source link-layer option: the answers resolve their senders, but only
    // in entries that never carried our traffic.
    for (let i: u32 = 0; i < 50; i++) ns(ll(3000 + i), OURS, OURS, 0);
    expect(stateOf(2)).toBe(REACHABLE);
    expect(stateOf(3)).toBe(REACHABLE);
    // NS for random targets never reach the cache at all.
    for (let i: u32 = 0; i < 50; i++) ns(ll(1000 + i), OURS, ll(2000 + i));
    expect(stateOf(2)).toBe(REACHABLE);
  });
});

describe("icmpv6 through the stack", () => {
  it("answers echo to the link-local address and to all-nodes", () => {
    bringUp6();
    na(2, ALL_NODES, ll(2), 0x20000000, 2); // no entry: ignored, so learn it by an NS first
    ns(ll(2), snm(OURS), OURS);
    clearSent();
    let m = v6(ll(2), OURS, 58, 8 + 100, 64);
    store<u32>(m, 128);
    store<u32>(m, 0x01000700, 4);
    for (let i = 0; i < 100; i++) store<u8>(m + 8 + i, <u8>i);
    expect(sendIcmp(108)).toBe(C.ICMP6_ECHO_ANSWERED);
    expect(sentCount()).toBe(1);
    expect(sentIcmpType(0)).toBe(129);
    expect(sentLen(0)).toBe(14 + 40 + 108);
    expect(load<u8>(sent(0), 54 + 8 + 99)).toBe(99);
    m = v6(ll(2), ALL_NODES, 58, 8, 64);
    store<u32>(m, 128);
    store<u32>(m, 0, 4);
    expect(sendIcmp(8)).toBe(C.ICMP6_ECHO_ANSWERED);
    // The reply comes from our unicast address.
    expect(memory.compare(sent(1) + 22, OURS, 16)).toBe(0);
  });

  it("sends Parameter Problem for an unknown next header, never about an error or to multicast", () => {
    bringUp6();
    ns(ll(2), snm(OURS), OURS);
    clearSent();
    v6(ll(2), OURS, 253, 8, 64);
    expect(feed(14 + 48)).toBe(C.IP6_UNKNOWN_NEXT_HEADER);
    expect(sentIcmpType(0)).toBe(4);
    expect(load<u8>(sent(0), 55)).toBe(1); // code 1
    expect(load<u8>(sent(0), 61)).toBe(6); // pointer at the header's Next Header field
    clearSent();
    v6(ll(2), ALL_NODES, 253, 8, 64);
    expect(feed(14 + 48)).toBe(C.IP6_UNKNOWN_NEXT_HEADER);
    expect(sentCount()).toBe(0);
    // UDP with checksum 0 (invalid over IPv6): dropped without an error (the port unreachable and
    // its rate limit: ipv6_udp.spec.ts).
    advance(1000);
    clearSent();
    const u = v6(ll(2), OURS, 17, 8, 64);
    store<u64>(u, 0);
    store<u8>(u, 8, 5); // length 8
    expect(feed(14 + 48)).toBe(C.IP6_UDP_NO_CHECKSUM);
    expect(sentCount()).toBe(0);
    // An extension chain that runs past the packet is dropped and counted.
    const p = v6(ll(2), OURS, 60, 8, 64);
    store<u8>(p, 58);
    store<u8>(p, 4, 1);
    expect(feed(14 + 48)).toBe(C.IP6_EXT_TRUNCATED);
    // A fragment is dropped and counted.
    v6(ll(2), OURS, 44, 8, 64);
    expect(feed(14 + 48)).toBe(C.IP6_FRAGMENT_DROPPED);
    expect(counterName(C.IP6_FRAGMENT_DROPPED)).toBe("ip6_fragment_dropped");
    // Routing type 0 and too many extension headers (iface/ipv6.ts maps Ext to these by offset).
    const r = v6(ll(2), OURS, 43, 8, 64);
    store<u64>(r, 59); // type 0, length 0
    expect(feed(14 + 48)).toBe(C.IP6_ROUTING_DROPPED);
    const d = v6(ll(2), OURS, 60, 8 * 9, 64);
    for (let k = 0; k < 9; k++) store<u64>(d + k * 8, k < 8 ? 60 : 59); // length 0, Pad1 options
    expect(feed(14 + 40 + 72)).toBe(C.IP6_EXT_TOO_MANY);
    // The fixed header's own failures (mapped by offset too): short, version 4, a payload length
    // past what arrived.
    v6(ll(2), OURS, 59, 0, 64);
    expect(feed(14 + 39)).toBe(C.IP6_TRUNCATED);
    store<u8>(rxBuf + 14, 0x40);
    expect(feed(14 + 40)).toBe(C.IP6_BAD_VERSION);
    v6(ll(2), OURS, 59, 8, 64);
    expect(feed(14 + 44)).toBe(C.IP6_BAD_LENGTH);
    expect(counterName(C.IP6_BAD_LENGTH)).toBe("ip6_bad_length");
  });

  it("lowers the path MTU on a Packet Too Big about our packet, and forgets it after 10 minutes", () => {
    bringUp6();
    memory.copy(dst, ll(2), 16);
    ping6Send(dst, 1, 8);
    na(2, OURS, ll(2), 0x60000000, 2);
    clearSent();
    expect(ping6Send(dst, 2, 1400)).toBe(0);
    const echo = sent(0) + 14;
    // The PTB quotes the first 1232 bytes of our packet, with MTU 1280.
    let m = v6(ll(2), OURS, 58, 8 + 1232, 64);
    store<u32>(m, 2);
    store<u32>(m, 0, 4);
    store<u8>(m, 0x05, 6); // 1280 = 0x500
    memory.copy(m + 8, echo, 1232);
    expect(sendIcmp(8 + 1232)).toBe(C.ICMP6_ERROR_RECEIVED);
    expect(ctr(C.ICMP6_PATH_MTU_LOWERED)).toBe(1);
    expect(ping6Send(dst, 3, 1400)).toBe(-10); // EMSGSIZE: we never fragment
    expect(ping6Send(dst, 4, 1280 - 48)).toBe(0);
    // Below the minimum MTU, or about a packet that was not ours: discarded.
    m = v6(ll(2), OURS, 58, 8 + 1232, 64);
    store<u32>(m, 2);
    store<u32>(m, 0, 4);
    store<u8>(m, 0x04, 6);
    memory.copy(m + 8, echo, 1232);
    expect(sendIcmp(8 + 1232)).toBe(C.ICMP6_BAD_ERROR);
    run(600_500);
    expect(ping6Send(dst, 5, 1400)).toBe(0);
  });

  it("counts IPv6 as not for us while IPv6 is off on the interface", () => {
    bringUp();
    v6(ll(2), OURS, 58, 8, 64);
    expect(feed(14 + 48)).toBe(C.IP6_NOT_FOR_US);
    store<u32>(rxBuf, 0); // keep the capture of later specs clean
  });
});
