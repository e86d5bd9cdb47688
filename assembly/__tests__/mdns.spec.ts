// The mDNS responder and DNS-SD (services/mdns.ts) against a scripted peer on the link: name
// compression on emit, probing, announcing, conflicts and renaming, answers (multicast, QU, legacy
// unicast), known-answer suppression, the rate limit, malformed messages, `.local` lookups in
// the resolver, and the AAAA records of an image with IPv6. Built with WASMIP_MULTICAST=1 WASMIP_MDNS=1 (as-pect.asconfig.json).
import { get16, get32, put16 } from "../support/bytes";
import { rxBuf } from "../iface/netif";
import { EWOULDBLOCK, OK } from "../support/errors";
import {
  mdnsAddService, mdnsConflicts, mdnsHostname, mdnsRemoveService, mdnsServiceName, mdnsStart, mdnsState, mdnsStop,
} from "../services/mdns";
import { dnsAddress, dnsAddress6, dnsReset, dnsResolve, dnsResolve6, dnsResult } from "../services/dns";
import { DnsRecord, NameWriter, nameLen, readName } from "../wire/dns";
import { WireError } from "../wire/error";
import { C, GW, MASK, OUR_IP, PEER_IP, arpFrame, bringUp, clearSent, ctr, feed, ipHeader, run, sent, sentCount, sentLen } from "../testing";
import { at, b16, b32, b8, begin, header, msgBuf, name, question, rrFixed, str } from "./dns_support";
import { OURS, bringUp6, ll, ns, ra, v6 } from "./ipv6_support";
import { UdpRepr } from "../wire/udp";
import { ipv6GroupMac } from "../iface/ipv6_api";
import { IPV6_ADDRS } from "../config";
import { set_ipv4, set_link } from "../index";
import { LEASED, SERVER, leaseUp, reply as dhcpReply } from "./dhcp_support";
import { DHCP_RENEWING, dhcpState } from "../services/dhcp";

const GROUP: u32 = 0xe00000fb;
const PEER2: u32 = 0x0a000003;
const HTTP = "_http._tcp";
const out = memory.data(300);

function hostname(): string {
  const n = mdnsHostname(out);
  return String.UTF8.decodeUnsafe(out, n);
}

/** A running responder "board" (10.0.0.1) with `_http._tcp` "web" on port 80, TXT "a=1". */
function running(withService: bool = true): void {
  bringUp();
  dnsReset();
  expect(mdnsStart(str("Board"), 5)).toBe(OK);
  if (withService) {
    const txt = memory.data<u8>([3, 97, 61, 49]);
    expect(mdnsAddService(str("web"), 3, typeStr(), 10, 80, txt, 4)).toBe(0);
  }
  run(2000); // probes (0-250 ms, then 250 ms apart), first announcement
  run(2500); // second announcement, and a second since (§6 rate limit)
  expect(mdnsState()).toBe(4);
  feed(arpFrame(1, PEER_IP, OUR_IP));
  clearSent();
}

const typeBuf = memory.data(16);
function typeStr(): usize {
  for (let i = 0; i < HTTP.length; i++) store<u8>(typeBuf + i, <u8>HTTP.charCodeAt(i));
  return typeBuf;
}

/** The message written with dns_support from src:sport to dst:5353 (the group's MAC for a group). */
function deliver(src: u32, sport: u32, dst: u32 = GROUP, dport: u32 = 5353): C {
  const udp = ipHeader(17, src, dst, 8 + at);
  if (dst == GROUP) {
    store<u32>(rxBuf, 0x5e0001); // 01:00:5e:00:00:fb
    store<u16>(rxBuf, 0xfb00, 4);
  }
  put16(udp, sport);
  put16(udp + 2, dport);
  put16(udp + 4, 8 + at);
  store<u16>(udp + 6, 0);
  memory.copy(udp + 8, msgBuf, at);
  return feed(14 + 20 + 8 + at);
}

/** A response from PEER2 claiming `owner` A `addr` (class IN, cache-flush unless klass says). */
function claimA(owner: string, addr: u32, klass: u32 = 0x8001): C {
  begin();
  header(0, 0x8400, 0, 1);
  name(owner);
  rrFixed(1, 120, 4, klass);
  b32(addr);
  return deliver(PEER2, 5353);
}

/** A probe from PEER2 for board.local proposing A `addr` (§8.2 tie-break). */
function probeFrom(addr: u32): void {
  begin();
  header(0, 0, 1, 0, 1);
  question("board.local", 255, 0x8001);
  name("board.local");
  rrFixed(1, 120, 4);
  b32(addr);
  deliver(PEER2, 5353);
}

/** A PTR browse for _http._tcp.local with "web._http._tcp.local" as a known answer of `ttl`. */
function browseKnowing(ttl: u32): void {
  const ptrAt: u32 = 12;
  begin();
  header(0, 0, 1, 1);
  question("_http._tcp.local", 12, 1);
  b16(0xc000 | ptrAt);
  rrFixed(12, ttl, 4 + 2);
  name("web", ptrAt);
  deliver(PEER_IP, 5353);
}

/** Captured UDP datagrams to port 5353 or from 5353: their indexes. */
function mdnsFrames(): i32[] {
  const r: i32[] = [];
  for (let i = 0; i < sentCount(); i++) {
    const f = sent(i);
    if (sentLen(i) >= 54 && get16(f + 12) == 0x0800 && load<u8>(f + 23) == 17 && (get16(f + 36) == 5353 || get16(f + 34) == 5353)) r.push(i);
  }
  return r;
}
/** Is captured frame i IPv6? (Its message then starts 20 bytes later.) */
function isV6(i: i32): bool {
  return get16(sent(i) + 12) == 0x86dd;
}
function msgOf(i: i32): usize {
  return sent(i) + (isV6(i) ? 62 : 42);
}
function msgLen(i: i32): u32 {
  return get16(sent(i) + (isV6(i) ? 58 : 38)) - 8;
}
/** Captured UDP datagrams over IPv6 to or from port 5353: their indexes. */
function mdns6Frames(): i32[] {
  const r: i32[] = [];
  for (let i = 0; i < sentCount(); i++) {
    const f = sent(i);
    if (sentLen(i) >= 74 && isV6(i) && load<u8>(f + 20) == 17 && (get16(f + 56) == 5353 || get16(f + 54) == 5353)) r.push(i);
  }
  return r;
}
/** Whether captured frame i holds the n bytes at a anywhere past offset from. */
function frameHas(i: i32, a: usize, n: u32, from: u32 = 0): bool {
  for (let k = from; k + n <= sentLen(i); k++) if (memory.compare(sent(i) + k, a, n) == 0) return true;
  return false;
}
function dstOf(i: i32): u32 {
  return get32(sent(i) + 30);
}
function dportOf(i: i32): u32 {
  return get16(sent(i) + 36);
}

/** The records of message i as "name type ttl" lines (sections concatenated), names decompressed. */
function records(i: i32): string {
  const m = msgOf(i);
  const len = msgLen(i);
  let off: u32 = 12;
  const qd = get16(m + 4);
  for (let k: u32 = 0; k < qd; k++) off = <u32>readName(m, len, off, 0) + 4;
  const n = get16(m + 6) + get16(m + 8) + get16(m + 10);
  const rr = changetype<DnsRecord>(memory.data(offsetof<DnsRecord>()));
  const nb = memory.data(256);
  let s = "";
  for (let k: u32 = 0; k < n; k++) {
    expect(rr.parse(m, len, off, nb)).toBe(WireError.OK);
    s += dotted(nb) + " " + rr.type.toString() + " " + rr.ttl.toString() + ((rr.klass & 0x8000) ? " flush" : "") + "\n";
    off = rr.end;
  }
  expect(off).toBe(len, "message length");
  return s;
}

function dotted(p: usize): string {
  let s = "";
  let i: u32 = 0;
  while (load<u8>(p + i) != 0) {
    const l = <u32>load<u8>(p + i);
    if (s.length) s += ".";
    s += String.UTF8.decodeUnsafe(p + i + 1, l);
    i += 1 + l;
  }
  return s;
}

describe("mDNS: names written with compression", () => {
  it("points at a suffix already in the message, and reads back the same name", () => {
    const msg = memory.data(128);
    const table = memory.data(32);
    const w = changetype<NameWriter>(memory.data(offsetof<NameWriter>()));
    w.reset(msg, table, 16);
    begin();
    name("board.local");
    const a = at;
    name("web._http._tcp.local");
    memory.copy(msg + 12, msgBuf, a);
    let pos = w.write(12, msgBuf, a); // the first: whole
    expect(pos).toBe(12 + a);
    pos = w.write(pos, msgBuf + a, at - a); // "web._http._tcp" then a pointer to "local"
    expect(pos).toBe(12 + a + 15 + 2);
    expect(get16(msg + pos - 2)).toBe(0xc000 | (12 + 6));
    const again = w.write(pos, msgBuf + a, at - a); // all of it is there now: one pointer
    expect(again).toBe(pos + 2);
    const nb = memory.data(256);
    expect(readName(msg, again, pos, nb)).toBe(<i32>again);
    expect(dotted(nb)).toBe("web._http._tcp.local");
  });
});

describe("mDNS: probing and announcing", () => {
  it("probes three times 250 ms apart (QU first), then announces every record twice, 1 s apart", () => {
    bringUp();
    expect(mdnsStart(str("Board"), 5)).toBe(OK);
    expect(hostname()).toBe("board.local");
    run(251);
    let f = mdnsFrames();
    expect(f.length).toBe(1, "the first probe within 250 ms");
    const m = msgOf(f[0]);
    expect(dstOf(f[0])).toBe(GROUP);
    expect(load<u8>(sent(f[0]) + 22)).toBe(255, "IP TTL 255 (§11)");
    expect(get16(m + 2)).toBe(0, "a query");
    expect(get16(m + 4)).toBe(1);
    expect(get16(m + 8)).toBe(1, "our A in the authority section");
    expect(get16(m + 12 + 13)).toBe(255, "ANY");
    expect(get16(m + 12 + 15)).toBe(0x8001, "QU, IN");
    expect(records(f[0])).toBe("board.local 1 120\n");
    clearSent();
    run(500);
    f = mdnsFrames();
    expect(f.length).toBe(2);
    expect(get16(msgOf(f[1]) + 12 + 15)).toBe(1, "later probes: QM");
    expect(mdnsState()).toBe(2);
    clearSent();
    run(300);
    f = mdnsFrames();
    expect(f.length).toBe(1, "the first announcement");
    expect(get16(msgOf(f[0]) + 2)).toBe(0x8400, "QR AA");
    expect(records(f[0])).toBe("board.local 1 120 flush\n");
    expect(mdnsState()).toBe(3);
    clearSent();
    run(1000);
    expect(mdnsFrames().length).toBe(1, "the second announcement");
    expect(mdnsState()).toBe(4);
    expect(ctr(C.MDNS_PROBES_SENT)).toBe(3);
  });

  it("announces a service: PTR, SRV, TXT and the _services._dns-sd._udp enumeration", () => {
    bringUp();
    mdnsStart(str("board"), 5);
    const h = mdnsAddService(0, 0, typeStr(), 10, 8080, 0, 0);
    expect(h).toBe(0);
    const n = mdnsServiceName(h, out);
    expect(String.UTF8.decodeUnsafe(out, n)).toBe("board._http._tcp.local", "instance: the host label");
    run(1200);
    const f = mdnsFrames();
    const last = f[f.length - 1];
    expect(records(last)).toBe(
      "board.local 1 120 flush\n_http._tcp.local 12 4500\nboard._http._tcp.local 33 120 flush\n" +
      "board._http._tcp.local 16 4500 flush\n_services._dns-sd._udp.local 12 4500\n");
    // The empty TXT is the single 0 byte (RFC 6763 §6.1); the SRV names the host, port 8080.
    expect(sentLen(last)).toBeGreaterThan(0);
  });

  it("probes again after an address change", () => {
    running(false);
    const p = ctr(C.MDNS_PROBES_SENT);
    bringUp(5000, OUR_IP + 1); // init resets everything: start again at the new address
    mdnsStart(str("board"), 5);
    run(1000);
    expect(ctr(C.MDNS_PROBES_SENT)).toBe(3);
    expect(p).toBe(3);
  });

  it("refuses a bad host label, type or TXT", () => {
    bringUp();
    expect(mdnsStart(str("a.b"), 3)).toBeLessThan(0);
    expect(mdnsStart(str("ok"), 2)).toBe(OK);
    expect(mdnsAddService(0, 0, str("http._tcp"), 9, 80, 0, 0)).toBeLessThan(0);
    expect(mdnsAddService(0, 0, str("_http._sctp"), 11, 80, 0, 0)).toBeLessThan(0);
    expect(mdnsAddService(0, 0, typeStr(), 10, 80, memory.data<u8>([5, 97]), 2)).toBeLessThan(0, "TXT string past its end");
    expect(mdnsAddService(0, 0, typeStr(), 10, 0, 0, 0)).toBeLessThan(0, "port 0");
    expect(mdnsAddService(0, 0, typeStr(), 10, 80, 0, 0)).toBe(0);
    expect(mdnsAddService(0, 0, typeStr(), 10, 81, 0, 0)).toBe(1);
    expect(mdnsAddService(0, 0, typeStr(), 10, 82, 0, 0)).toBeLessThan(0, "MDNS_SERVICES in use");
  });
});

describe("mDNS: conflicts", () => {
  it("renames to name-2 when a response claims the name being probed, then name-3", () => {
    bringUp();
    mdnsStart(str("board"), 5);
    run(260);
    expect(claimA("BOARD.local", PEER2)).toBe(C.UDP_DELIVERED); // case does not matter
    expect(hostname()).toBe("board-2.local");
    expect(mdnsConflicts()).toBe(1);
    clearSent();
    run(260);
    const f = mdnsFrames();
    expect(records(f[0])).toBe("board-2.local 1 120\n", "probing the new name");
    claimA("board-2.local", PEER2);
    expect(hostname()).toBe("board-3.local");
    run(3000);
    expect(mdnsState()).toBe(4);
    expect(ctr(C.MDNS_CONFLICTS)).toBe(2);
  });

  it("15 conflicts within 10 s: probing then waits 5 s (§9)", () => {
    bringUp();
    mdnsStart(str("board"), 5);
    for (let k = 0; k < 15; k++) {
      run(260);
      claimA(hostname(), PEER2);
    }
    expect(hostname()).toBe("board-16.local");
    const p = ctr(C.MDNS_PROBES_SENT);
    run(4900);
    expect(ctr(C.MDNS_PROBES_SENT)).toBe(p);
    run(200);
    expect(ctr(C.MDNS_PROBES_SENT)).toBe(p + 1);
  });

  it("our own record coming back is no conflict", () => {
    bringUp();
    mdnsStart(str("board"), 5);
    run(260);
    claimA("board.local", OUR_IP);
    expect(hostname()).toBe("board.local");
    expect(mdnsConflicts()).toBe(0);
  });

  it("a simultaneous probe with later data wins the tie-break: we wait a second and probe again (§8.2)", () => {
    bringUp();
    mdnsStart(str("board"), 5);
    run(260);
    const p = ctr(C.MDNS_PROBES_SENT);
    probeFrom(0x0a0000ff); // 10.0.0.255 > 10.0.0.1: theirs is later
    run(900);
    expect(ctr(C.MDNS_PROBES_SENT)).toBe(p, "no probe for a second");
    run(200);
    expect(ctr(C.MDNS_PROBES_SENT)).toBe(p + 1);
    // An earlier one loses: ignored.
    probeFrom(0x0a000000);
    run(3000);
    expect(mdnsState()).toBe(4);
    expect(hostname()).toBe("board.local");
  });

  it("renames a service instance whose name is taken (its SRV)", () => {
    bringUp();
    mdnsStart(str("board"), 5);
    mdnsAddService(str("web"), 3, typeStr(), 10, 80, 0, 0);
    run(260);
    begin();
    header(0, 0x8400, 0, 1);
    name("web._http._tcp.local");
    rrFixed(33, 120, 6 + 7, 0x8001);
    b32(0);
    b16(81);
    name("other");
    deliver(PEER2, 5353);
    const n = mdnsServiceName(0, out);
    expect(String.UTF8.decodeUnsafe(out, n)).toBe("web-2._http._tcp.local");
    expect(hostname()).toBe("board.local");
  });

  it("after announcing, a claim on our A (cache-flush set) renames us; one without the bit does not", () => {
    running(false);
    claimA("board.local", PEER2, 1);
    expect(mdnsState()).toBe(4, "a shared-looking record: a stale cache, ignored");
    claimA("board.local", PEER2);
    expect(mdnsState()).toBe(2);
    expect(hostname()).toBe("board-2.local");
  });
});

describe("mDNS: answers", () => {
  it("answers an A query by multicast, at most once a second per record (§6)", () => {
    running();
    begin();
    header(0, 0, 1, 0);
    question("board.local", 1, 1);
    deliver(PEER_IP, 5353);
    let f = mdnsFrames();
    expect(f.length).toBe(1);
    expect(dstOf(f[0])).toBe(GROUP);
    expect(records(f[0])).toBe("board.local 1 120 flush\n");
    clearSent();
    deliver(PEER_IP, 5353);
    expect(mdnsFrames().length).toBe(0, "rate limited");
    run(1001);
    deliver(PEER_IP, 5353);
    expect(mdnsFrames().length).toBe(1);
  });

  it("answers a QU question by unicast to the asker's port 5353", () => {
    running();
    begin();
    header(0, 0, 1, 0);
    question("board.local", 255, 0x8001);
    deliver(PEER_IP, 5353);
    const f = mdnsFrames();
    expect(f.length).toBe(1);
    expect(dstOf(f[0])).toBe(PEER_IP);
    expect(dportOf(f[0])).toBe(5353);
  });

  it("answers legacy unicast (port != 5353): id and question echoed, TTL 10, no cache-flush (§6.7)", () => {
    running();
    begin();
    header(0xbeef, 0x0100, 1, 0);
    question("Board.Local", 1, 1);
    deliver(PEER_IP, 40000);
    const f = mdnsFrames();
    expect(f.length).toBe(1);
    expect(dstOf(f[0])).toBe(PEER_IP);
    expect(dportOf(f[0])).toBe(40000);
    const m = msgOf(f[0]);
    expect(get16(m)).toBe(0xbeef);
    expect(get16(m + 4)).toBe(1, "the question");
    expect(records(f[0])).toBe("board.local 1 10\n");
    expect(get32(m + msgLen(f[0]) - 4)).toBe(OUR_IP);
  });

  it("answers a PTR browse with the instance, and SRV, TXT and A as additionals; enumerates types", () => {
    running();
    begin();
    header(0, 0, 1, 0);
    question("_http._tcp.local", 12, 1);
    deliver(PEER_IP, 5353);
    expect(mdnsFrames().length).toBe(0, "a shared answer waits 20-120 ms");
    run(130);
    let f = mdnsFrames();
    expect(f.length).toBe(1);
    const m = msgOf(f[0]);
    expect(get16(m + 6)).toBe(1);
    expect(get16(m + 10)).toBe(3);
    expect(records(f[0])).toBe(
      "_http._tcp.local 12 4500\nboard.local 1 120 flush\nweb._http._tcp.local 33 120 flush\nweb._http._tcp.local 16 4500 flush\n");
    clearSent();
    begin();
    header(0, 0, 1, 0);
    question("_services._dns-sd._udp.local", 12, 1);
    deliver(PEER_IP, 5353);
    run(130);
    f = mdnsFrames();
    expect(records(f[0])).toBe("_services._dns-sd._udp.local 12 4500\n");
  });

  it("leaves out known answers with at least half our TTL (§7.1)", () => {
    running();
    browseKnowing(3000);
    run(200);
    expect(mdnsFrames().length).toBe(0);
    expect(ctr(C.MDNS_KNOWN_ANSWERS)).toBe(1);
    // Less than half the TTL left: answered.
    browseKnowing(2000);
    run(200);
    expect(mdnsFrames().length).toBe(1);
  });

  it("says goodbye (TTL 0) for a removed service and on stop", () => {
    running();
    expect(mdnsRemoveService(0)).toBe(OK);
    let f = mdnsFrames();
    expect(f.length).toBe(1);
    expect(records(f[0])).toBe(
      "_http._tcp.local 12 0\nweb._http._tcp.local 33 0 flush\nweb._http._tcp.local 16 0 flush\n_services._dns-sd._udp.local 12 0\n");
    clearSent();
    expect(mdnsStop()).toBe(OK);
    f = mdnsFrames();
    expect(records(f[0])).toBe("board.local 1 0 flush\n");
    expect(mdnsState()).toBe(0);
  });

  it("does not answer for names that are not ours, nor while probing", () => {
    running();
    begin();
    header(0, 0, 1, 0);
    question("other.local", 1, 1);
    deliver(PEER_IP, 5353);
    run(200);
    expect(mdnsFrames().length).toBe(0);
  });
});

describe("mDNS: goodbyes and link changes (§10.1, §8)", () => {
  it("a new address: a goodbye for the old A, sent from it, then probing at the new one", () => {
    running();
    expect(set_ipv4(OUR_IP + 1, MASK, GW)).toBe(OK);
    let f = mdnsFrames();
    expect(f.length).toBe(1, "the goodbye, at once");
    expect(records(f[0])).toBe("board.local 1 0 flush\n");
    expect(get32(sent(f[0]) + 26)).toBe(OUR_IP, "from the old address");
    expect(get32(msgOf(f[0]) + msgLen(f[0]) - 4)).toBe(OUR_IP, "its rdata");
    clearSent();
    const p = ctr(C.MDNS_PROBES_SENT);
    run(4000);
    expect(ctr(C.MDNS_PROBES_SENT)).toBe(p + 3);
    expect(mdnsState()).toBe(4);
    f = mdnsFrames();
    expect(get32(msgOf(f[f.length - 1]) + 12 + 13 + 10)).toBe(OUR_IP + 1, "the A announced is the new address");
  });

  it("the address lost: a goodbye for every record, quiet until one comes back, then probing", () => {
    running();
    expect(set_ipv4(0, 0, 0)).toBe(OK);
    let f = mdnsFrames();
    expect(f.length).toBe(1);
    expect(records(f[0])).toBe(
      "board.local 1 0 flush\n_http._tcp.local 12 0\nweb._http._tcp.local 33 0 flush\n" +
      "web._http._tcp.local 16 0 flush\n_services._dns-sd._udp.local 12 0\n");
    clearSent();
    run(5000);
    expect(mdnsFrames().length).toBe(0);
    expect(mdnsState()).toBe(1);
    set_ipv4(OUR_IP, MASK, GW);
    run(4000);
    expect(mdnsState()).toBe(4);
    expect(mdnsFrames().length).toBe(5, "3 probes, 2 announcements");
  });

  it("a DHCP NAK while renewing takes the address: the goodbye goes out from it first", () => {
    leaseUp(3600);
    expect(mdnsStart(str("Board"), 5)).toBe(OK);
    run(4500);
    expect(mdnsState()).toBe(4);
    feed(arpFrame(1, SERVER, LEASED));
    run(1800000); // T1: renewing
    expect(dhcpState()).toBe(DHCP_RENEWING);
    clearSent();
    dhcpReply(6, 0, 0, 0, SERVER, LEASED);
    const f = mdnsFrames();
    expect(f.length).toBe(1);
    expect(get32(sent(f[0]) + 26)).toBe(LEASED);
    expect(records(f[0])).toBe("board.local 1 0 flush\n");
    run(3000);
    expect(mdnsState()).toBe(1);
  });

  it("carrier lost: nothing sent (no goodbye can go out); back: probing and announcing again, after a flap no poll saw too", () => {
    running();
    const down = ctr(C.TX_LINK_DOWN);
    set_link(0);
    run(3000);
    expect(ctr(C.TX_LINK_DOWN)).toBe(down, "not even tried");
    expect(mdnsState()).toBe(1);
    for (let flap = 0; flap < 2; flap++) {
      // The second time, down and up at once: no poll in between sees the link go.
      if (flap == 1) set_link(0);
      const p = ctr(C.MDNS_PROBES_SENT);
      set_link(1);
      run(4000);
      expect(ctr(C.MDNS_PROBES_SENT)).toBe(p + 3);
      expect(mdnsState()).toBe(4);
    }
  });

  it("no goodbye for records never announced (stopped or readdressed while probing)", () => {
    bringUp();
    mdnsStart(str("board"), 5);
    run(260);
    set_ipv4(OUR_IP + 1, MASK, GW);
    mdnsStop();
    let n = 0;
    const f = mdnsFrames();
    for (let k = 0; k < f.length; k++) if (get16(msgOf(f[k]) + 2) != 0) n++;
    expect(n).toBe(0, "only probes went out");
  });
});

/** running(false) with IPv6 on: the link-local address preferred before mDNS starts. */
function running6(): void {
  bringUp6();
  expect(mdnsStart(str("Board"), 5)).toBe(OK);
  run(2000);
  run(2500);
  expect(mdnsState()).toBe(4);
  feed(arpFrame(1, PEER_IP, OUR_IP));
  clearSent();
}

/** A query for board.local of type qtype from PEER_IP:5353; the mDNS frames sent. */
function ask(qtype: u32): i32[] {
  begin();
  header(0, 0, 1, 0);
  question("board.local", qtype, 1);
  deliver(PEER_IP, 5353);
  return mdnsFrames();
}

/** Whether message i holds the 16 bytes at a (an AAAA's rdata). */
function carries(i: i32, a: usize): bool {
  return frameHas(i, a, 16, <u32>(msgOf(i) - sent(i)) + 12);
}

/** fd00:1::ff:fe00:1, the SLAAC address ra()'s prefix gives the board. */
const GLOBAL6 = memory.data<u8>([0xfd, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xfe, 0, 0, 1]);

describe("mDNS: AAAA records (IPv6)", () => {
  it("probes and announces the link-local address as an AAAA with the A", () => {
    bringUp6();
    mdnsStart(str("Board"), 5);
    run(260);
    let f = mdnsFrames();
    expect(f.length).toBeGreaterThan(0);
    expect(records(f[0])).toBe("board.local 1 120\nboard.local 28 120\n", "both in the probe's authority section");
    expect(get16(msgOf(f[0]) + 4)).toBe(1, "one question for the name");
    run(1000);
    f = mdnsFrames();
    const last = f[f.length - 1];
    expect(records(last)).toBe("board.local 1 120 flush\nboard.local 28 120 flush\n");
    expect(carries(last, OURS)).toBe(true);
  });

  it("answers AAAA with the A as additional, A with the AAAA as additional, ANY with both (§6.2)", () => {
    running6();
    let f = ask(28);
    expect(f.length).toBe(1);
    expect(get16(msgOf(f[0]) + 6)).toBe(1);
    expect(get16(msgOf(f[0]) + 10)).toBe(1);
    expect(records(f[0])).toBe("board.local 28 120 flush\nboard.local 1 120 flush\n");
    expect(carries(f[0], OURS)).toBe(true);
    run(1001);
    clearSent();
    f = ask(1);
    expect(records(f[0])).toBe("board.local 1 120 flush\nboard.local 28 120 flush\n");
    expect(get16(msgOf(f[0]) + 10)).toBe(1, "the AAAA additional");
    run(1001);
    clearSent();
    f = ask(255);
    expect(get16(msgOf(f[0]) + 6)).toBe(2);
    expect(get16(msgOf(f[0]) + 10)).toBe(0);
  });

  it("a SLAAC address: not while DAD runs, then announced with the rest, without probing (§8.4)", () => {
    running6();
    const probes = ctr(C.MDNS_PROBES_SENT);
    expect(ra(ll(0xfe), 255, 0xc0, 86400, 14400)).toBe(C.ND_RA_RECEIVED);
    clearSent();
    let f = ask(28);
    expect(records(f[0])).toBe("board.local 28 120 flush\nboard.local 1 120 flush\n", "the tentative one left out");
    expect(carries(f[0], GLOBAL6)).toBe(false);
    clearSent();
    run(3500); // DAD (up to 1 s of delay, 1 s of silence), then two announcements 1 s apart
    f = mdnsFrames();
    expect(f.length).toBe(2);
    for (let k = 0; k < 2; k++) {
      expect(records(f[k])).toBe("board.local 1 120 flush\nboard.local 28 120 flush\nboard.local 28 120 flush\n");
      expect(carries(f[k], GLOBAL6)).toBe(true);
      expect(carries(f[k], OURS)).toBe(true);
    }
    expect(ctr(C.MDNS_PROBES_SENT)).toBe(probes);
    expect(mdnsState()).toBe(4);
  });

  it("a response claiming our AAAA with another address (cache-flush) renames us; our own does not", () => {
    running6();
    begin();
    header(0, 0x8400, 0, 1);
    name("board.local");
    rrFixed(28, 120, 16, 0x8001);
    for (let k = 0; k < 16; k++) b8(load<u8>(OURS + k));
    deliver(PEER2, 5353);
    expect(hostname()).toBe("board.local");
    store<u8>(msgBuf + at - 1, 2); // fe80::ff:fe00:2
    deliver(PEER2, 5353);
    expect(hostname()).toBe("board-2.local");
    expect(mdnsState()).toBe(2);
  });
});

const GROUP6 = memory.data<u8>([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb]);

/** The message written with dns_support over IPv6 from fe80::2, port sport, to dst:dport. */
function deliver6(sport: u32, dst: usize = GROUP6, dport: u32 = 5353): C {
  const d = memory.data(16, 8);
  memory.copy(d, dst, 16);
  const p = v6(ll(2), d, 17, 8 + at, 255);
  memory.copy(p + 8, msgBuf, at);
  const u = changetype<UdpRepr>(memory.data(offsetof<UdpRepr>()));
  u.srcPort = sport;
  u.dstPort = dport;
  u.payloadLen = at;
  u.emit6(p, rxBuf + 22, rxBuf + 38);
  return feed(14 + 40 + 8 + at);
}

/** An AAAA query for board.local from fe80::2:5353 to ff02::fb (delivered); the IPv6 mDNS frames sent. */
function ask6(): i32[] {
  begin();
  header(0, 0, 1, 0);
  question("board.local", 28, 1);
  expect(deliver6(5353)).toBe(C.UDP_DELIVERED);
  return mdns6Frames();
}

describe("mDNS over IPv6 (ff02::fb)", () => {
  it("joins ff02::fb (an MLD record, the board's filter), probes and announces over both families", () => {
    bringUp6();
    mdnsStart(str("Board"), 5);
    expect(ipv6GroupMac(1 + <u32>IPV6_ADDRS, out)).toBe(true);
    expect(load<u32>(out, 2)).toBe(0xfb000000, "33:33:00:00:00:fb");
    run(20);
    let mld = 0;
    for (let i = 0; i < sentCount(); i++) if (load<u8>(sent(i), 62) == 143 && frameHas(i, GROUP6, 16, 70)) mld++;
    expect(mld).toBe(1, "a report naming ff02::fb");
    run(4500);
    expect(mdnsState()).toBe(4);
    const f = mdns6Frames();
    expect(f.length).toBe(5, "3 probes and 2 announcements");
    expect(mdnsFrames().length).toBe(5);
    const last = f[f.length - 1];
    expect(frameHas(last, GROUP6, 16)).toBe(true);
    expect(load<u8>(sent(last), 21)).toBe(255, "hop limit 255 (§11)");
    expect(records(last)).toBe("board.local 1 120 flush\nboard.local 28 120 flush\n");
  });

  it("answers a query to ff02::fb on both groups, and a legacy one by unicast to its IPv6 source", () => {
    running6();
    ns(ll(2), OURS, OURS, 2); // fe80::2 in the neighbour cache
    clearSent();
    const f = ask6();
    expect(f.length).toBe(1);
    expect(frameHas(f[0], GROUP6, 16)).toBe(true);
    expect(records(f[0])).toBe("board.local 28 120 flush\nboard.local 1 120 flush\n");
    expect(mdnsFrames().length).toBe(1, "and to 224.0.0.251");
    clearSent();
    begin();
    header(0x1234, 0, 1, 0);
    question("board.local", 28, 1);
    deliver6(40000, OURS);
    const u = mdns6Frames();
    expect(u.length).toBe(1);
    expect(get16(sent(u[0]) + 56)).toBe(40000);
    expect(memory.compare(sent(u[0]) + 38, ll(2), 16)).toBe(0, "to fe80::2");
    expect(get16(msgOf(u[0]))).toBe(0x1234);
    expect(records(u[0])).toBe("board.local 28 10\nboard.local 1 10\n");
    expect(mdnsFrames().length).toBe(0);
  });

  it("leaves ff02::fb on stop (CHANGE_TO_INCLUDE {})", () => {
    running6();
    mdnsStop();
    expect(ipv6GroupMac(1 + <u32>IPV6_ADDRS, out)).toBe(false);
    run(20);
    const rec = memory.data<u8>([3, 0, 0, 0, 0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfb]);
    let k = 0;
    for (let i = 0; i < sentCount(); i++) if (load<u8>(sent(i), 62) == 143 && frameHas(i, rec, 20, 70)) k++;
    expect(k).toBe(1);
    clearSent();
    begin();
    header(0, 0, 1, 0);
    question("board.local", 28, 1);
    expect(deliver6(5353)).toBe(C.ETH_NOT_FOR_US, "the 33:33:00:00:00:fb frame");
  });
});

describe("mDNS: malformed messages are counted and survived", () => {
  it("a compression loop, counts past the end, a truncated record, a short header", () => {
    running();
    const before = ctr(C.MDNS_MALFORMED);
    // A question name pointing at itself.
    begin();
    header(0, 0, 1, 0);
    b16(0xc000 | 12);
    b16(1);
    b16(1);
    expect(deliver(PEER_IP, 5353)).toBe(C.UDP_DELIVERED);
    // 60000 questions in a 17-byte message.
    begin();
    header(0, 0, 60000, 0);
    question("a", 1, 1);
    deliver(PEER_IP, 5353);
    // An answer whose rdata runs past the end.
    begin();
    header(0, 0x8400, 0, 1);
    name("board.local");
    rrFixed(1, 120, 40, 1);
    b32(PEER2);
    deliver(PEER2, 5353);
    // A known answer cut short.
    begin();
    header(0, 0, 1, 3);
    question("board.local", 1, 1);
    b16(0xc00c);
    b16(1);
    deliver(PEER_IP, 5353);
    // Five bytes.
    begin();
    b32(0);
    b8(0);
    deliver(PEER_IP, 5353);
    expect(ctr(C.MDNS_MALFORMED)).toBe(before + 5);
    expect(hostname()).toBe("board.local");
    expect(mdnsState()).toBe(4);
  });
});

describe("mDNS: .local names in the resolver", () => {
  it("asks 224.0.0.251:5353 from its own port and takes the legacy unicast answer", () => {
    running(false);
    const h = dnsResolve(str("printer.local"), 13);
    expect(h).toBeGreaterThanOrEqual(0, "no DNS server needed");
    expect(dnsResult(h)).toBe(EWOULDBLOCK);
    let q = -1;
    for (let i = 0; i < sentCount(); i++) if (get32(sent(i) + 30) == GROUP && get16(sent(i) + 36) == 5353) q = i;
    expect(q).toBeGreaterThanOrEqual(0);
    const sport = get16(sent(q) + 34);
    expect(sport).not.toBe(5353);
    const id = get16(msgOf(q));
    begin();
    header(id, 0x8400, 1, 1);
    question("printer.local", 1, 1);
    b16(0xc00c);
    rrFixed(1, 10, 4);
    b32(PEER2);
    deliver(PEER2, 5353, OUR_IP, sport);
    expect(dnsResult(h)).toBe(OK);
    expect(dnsAddress(h)).toBe(PEER2);
    expect(nameLen).toBeGreaterThan(0);
  });

  it("times out after DNS_TRIES queries when nobody answers", () => {
    running(false);
    const h = dnsResolve(str("nobody.local"), 12);
    run(10000);
    expect(dnsResult(h)).toBeLessThan(0);
    expect(ctr(C.DNS_QUERIES_SENT)).toBe(1);
    expect(ctr(C.DNS_RETRANSMITS)).toBe(2);
  });
});

/** The resolver's query to [ff02::fb]:5353 among the captured frames, or -1. */
function query6(): i32 {
  const f = mdns6Frames();
  for (let k = 0; k < f.length; k++) if (get16(sent(f[k]) + 56) == 5353 && frameHas(f[k], GROUP6, 16)) return f[k];
  return -1;
}

describe("mDNS: .local AAAA lookups over IPv6", () => {
  it("asks [ff02::fb]:5353 (and 224.0.0.251) from its own port, takes the legacy answer from fe80::2", () => {
    running6();
    const h = dnsResolve6(str("printer.local"), 13);
    expect(h).toBeGreaterThanOrEqual(0);
    const q = query6();
    expect(q).toBeGreaterThanOrEqual(0, "a query to ff02::fb");
    expect(mdnsFrames().length).toBe(1, "and one to 224.0.0.251");
    const sport = get16(sent(q) + 54);
    expect(sport).not.toBe(5353);
    const m = msgOf(q);
    expect(get16(m + 12 + 15)).toBe(28, "AAAA");
    begin();
    header(get16(m), 0x8400, 1, 1);
    question("printer.local", 28, 1);
    b16(0xc00c);
    rrFixed(28, 10, 16);
    for (let k = 0; k < 16; k++) b8(load<u8>(GLOBAL6 + k));
    expect(deliver6(5353, OURS, sport)).toBe(C.UDP_DELIVERED);
    expect(dnsResult(h)).toBe(OK);
    expect(dnsAddress6(h, out)).toBe(1);
    expect(memory.compare(out, GLOBAL6, 16)).toBe(0);
  });

  it("an answer over IPv6 from another port than 5353 is refused (§6.7, §11)", () => {
    running6();
    const h = dnsResolve6(str("printer.local"), 13);
    const q = query6();
    const sport = get16(sent(q) + 54);
    const before = ctr(C.DNS_BAD_SOURCE);
    begin();
    header(get16(msgOf(q)), 0x8400, 1, 1);
    question("printer.local", 28, 1);
    b16(0xc00c);
    rrFixed(28, 10, 16);
    for (let k = 0; k < 16; k++) b8(load<u8>(GLOBAL6 + k));
    deliver6(5354, OURS, sport);
    expect(ctr(C.DNS_BAD_SOURCE)).toBe(before + 1);
    expect(dnsResult(h)).toBe(EWOULDBLOCK);
  });
});

/** A stack with IPv6 and no IPv4 address, its link-local address through DAD, mDNS started. */
function start6only(): void {
  bringUp(1000, 0, 0, 0, true);
  run(4500);
  expect(mdnsStart(str("Board"), 5)).toBe(OK);
}

/** A probe from fe80::2 for board.local proposing the AAAA fe80::ff:fe00:last (§8.2). */
function probe6From(last: u8): void {
  begin();
  header(0, 0, 1, 0, 1);
  question("board.local", 255, 0x8001);
  name("board.local");
  rrFixed(28, 120, 16);
  for (let k = 0; k < 15; k++) b8(load<u8>(OURS + k));
  b8(last);
  deliver6(5353);
}

describe("mDNS on an IPv6-only link (no IPv4 address)", () => {
  it("waits for the link-local address, then probes and announces its AAAA over ff02::fb alone", () => {
    bringUp(1000, 0, 0, 0, true);
    expect(mdnsStart(str("Board"), 5)).toBe(OK);
    run(500);
    expect(mdnsState()).toBe(1, "the link-local address still tentative");
    run(8000);
    expect(mdnsState()).toBe(4);
    expect(ctr(C.MDNS_PROBES_SENT)).toBe(3);
    expect(mdnsFrames().length).toBe(0, "nothing over IPv4");
    const f = mdns6Frames();
    expect(f.length).toBe(5, "three probes, two announcements");
    expect(get16(msgOf(f[0]) + 4)).toBe(1, "a question for the host name");
    expect(records(f[0])).toBe("board.local 28 120\n");
    expect(records(f[4])).toBe("board.local 28 120 flush\n");
    expect(carries(f[4], OURS)).toBe(true);
  });

  it("answers a query to ff02::fb over IPv6 only", () => {
    start6only();
    run(4500);
    expect(mdnsState()).toBe(4);
    clearSent();
    const f = ask6();
    expect(f.length).toBe(1);
    expect(records(f[0])).toBe("board.local 28 120 flush\n");
    expect(mdnsFrames().length).toBe(0);
  });

  it("the tie-break compares the link-local AAAA: a later one wins (we wait), an earlier one loses", () => {
    start6only();
    run(260);
    let p = ctr(C.MDNS_PROBES_SENT);
    probe6From(2); // fe80::ff:fe00:2 > ours
    run(900);
    expect(ctr(C.MDNS_PROBES_SENT)).toBe(p, "no probe for a second");
    run(200);
    expect(ctr(C.MDNS_PROBES_SENT)).toBe(p + 1);
    p = ctr(C.MDNS_PROBES_SENT);
    probe6From(0); // fe80::ff:fe00:0 < ours: ignored
    run(600);
    expect(ctr(C.MDNS_PROBES_SENT)).toBe(p + 2, "probing goes on");
    run(3000);
    expect(mdnsState()).toBe(4);
    expect(hostname()).toBe("board.local");
  });

  it("IPv4 lost while IPv6 stays: a goodbye for the A alone, then probing over IPv6", () => {
    running6();
    expect(set_ipv4(0, 0, 0)).toBe(OK);
    expect(mdns6Frames().length).toBe(1);
    const f = mdnsFrames();
    expect(f.length).toBe(1);
    expect(records(f[0])).toBe("board.local 1 0 flush\n");
    clearSent();
    run(4500);
    expect(mdnsState()).toBe(4);
    const a = mdns6Frames();
    expect(records(a[a.length - 1])).toBe("board.local 28 120 flush\n");
    expect(mdnsFrames().length).toBe(0);
  });
});
