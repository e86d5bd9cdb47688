// AAAA lookups (RFC 3596): the wire parse of AAAA answers (a wrong rdlength ignored, one past the
// message refused), the resolver asking AAAA over an IPv4 server and over an IPv6 RDNSS server
// (RFC 8106), the cache kept per type, and the answers that end a lookup as for A (an ICMPv6
// port unreachable from the IPv6 server included).
import { poll } from "../index";
import { C } from "../support/counters";
import { ECONNREFUSED, EINVAL, ENODATA, ENXDOMAIN, EWOULDBLOCK, OK } from "../support/errors";
import { get16 } from "../support/bytes";
import {
  dnsAddress, dnsAddress6, dnsReset, dnsResolve, dnsResolve6, dnsResult, dnsSetServers, dnsTtl,
} from "../services/dns";
import { DnsResponse, FLAG_QR, FLAG_RD, HEADER_LEN, TYPE_AAAA, encodeName } from "../wire/dns";
import { WireError } from "../wire/error";
import { UdpRepr } from "../wire/udp";
import { rxBuf } from "../iface/netif";
import { arpFrame, clearSent, ctr, feed, sent, sentCount, OUR_IP } from "../testing";
import {
  at, b16, b32, begin, cnameRecord, header, lastQuery, msgBuf, queryDst, queryId, querySrcPort, question, replyFrame, rrFixed, str,
} from "./dns_support";
import { OURS, PEER6, bringUpPeers6, ll, sendIcmp, v6 } from "./ipv6_support";

const DNS1: u32 = 0x0a000035; // 10.0.0.53
const RESP: u32 = FLAG_QR | FLAG_RD | 0x80;
const resp = changetype<DnsResponse>(heap.alloc(offsetof<DnsResponse>()));
const asked = heap.alloc(256);
const target = heap.alloc(256);
const out = heap.alloc(16);
const repr = changetype<UdpRepr>(heap.alloc(offsetof<UdpRepr>()));
/** 2001:db8::7 */
const ADDR = memory.data<u8>([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);

/** ADDR as rdata. */
function addr16(): void {
  for (let k = 0; k < 8; k++) b16((<u32>load<u8>(ADDR + 2 * k) << 8) | <u32>load<u8>(ADDR + 2 * k + 1));
}

function parse(name: string): WireError {
  const n = encodeName(str(name), name.length, asked);
  return resp.parse(msgBuf, at, asked, <u32>n, target, TYPE_AAAA);
}

describe("AAAA answers (wire)", () => {
  it("takes the 16-byte address through a CNAME, the smallest TTL", () => {
    begin();
    header(1, RESP, 1, 2);
    question("www.test", TYPE_AAAA);
    const t = cnameRecord(12, 600, "web.test");
    b16(0xc000 | t);
    rrFixed(TYPE_AAAA, 120, 16);
    addr16();
    expect(parse("www.test")).toBe(WireError.OK);
    expect(resp.found).toBe(true);
    expect(resp.cnames).toBe(1);
    expect(resp.ttl).toBe(120);
    expect(memory.compare(msgBuf + resp.address, ADDR, 16)).toBe(0);
  });

  it("ignores an AAAA record whose rdlength is not 16, and an A record", () => {
    begin();
    header(1, RESP, 1, 2);
    question("web.test", TYPE_AAAA);
    b16(0xc00c);
    rrFixed(TYPE_AAAA, 60, 4);
    b32(0x01020304);
    b16(0xc00c);
    rrFixed(1, 60, 4); // an A record answers no AAAA question
    b32(0x01020304);
    expect(parse("web.test")).toBe(WireError.OK);
    expect(resp.found).toBe(false);
  });

  it("refuses an AAAA record whose rdlength runs past the message", () => {
    begin();
    header(1, RESP, 1, 1);
    question("web.test", TYPE_AAAA);
    b16(0xc00c);
    rrFixed(TYPE_AAAA, 60, 16);
    b32(0x20010db8); // 4 of the 16 bytes
    expect(parse("web.test")).toBe(WireError.TRUNCATED);
  });
});

let t: u32 = 10_000;

/** A stack with IPv6 (fe80::2 a known neighbour), no DNS server unless v4 (10.0.0.53). */
function up(v4: bool): void {
  bringUpPeers6();
  t = 10_000;
  dnsReset();
  if (v4) {
    feed(arpFrame(1, DNS1, OUR_IP));
    dnsSetServers(DNS1, 0);
  }
  clearSent();
}

describe("AAAA lookups", () => {
  it("asks AAAA over an IPv4 server and writes the 16-byte answer; the cache keeps A and AAAA apart", () => {
    up(true);
    const h = dnsResolve6(str("web.test"), 8);
    expect(dnsResult(h)).toBe(EWOULDBLOCK);
    const i = lastQuery();
    expect(i).toBeGreaterThanOrEqual(0);
    const m = sent(i) + 42;
    expect(get16(m + HEADER_LEN + 10)).toBe(TYPE_AAAA); // after "\3web\4test\0"
    expect(answer6over4("web.test")).toBe(C.UDP_DELIVERED);
    expect(dnsResult(h)).toBe(OK);
    expect(dnsAddress6(h, out)).toBe(1);
    expect(memory.compare(out, ADDR, 16)).toBe(0);
    expect(dnsAddress(h)).toBe(0);
    expect(dnsTtl(h)).toBe(300);
    // Cached as AAAA: no query; an A lookup of the same name is not answered from it.
    clearSent();
    const h2 = dnsResolve6(str("web.test"), 8);
    expect(dnsResult(h2)).toBe(OK);
    expect(dnsAddress6(h2, out)).toBe(1);
    expect(memory.compare(out, ADDR, 16)).toBe(0);
    expect(ctr(C.DNS_CACHE_HITS)).toBe(1);
    const h3 = dnsResolve(str("web.test"), 8);
    expect(dnsResult(h3)).toBe(EWOULDBLOCK);
    expect(lastQuery()).toBeGreaterThanOrEqual(0);
    expect(dnsAddress6(h3, out)).toBe(0);
  });

  it("drops an A answer to an AAAA question; no-data and NXDOMAIN end the lookup as for A", () => {
    up(true);
    const h = dnsResolve6(str("v4only.test"), 11);
    let i = lastQuery();
    begin();
    header(queryId(i), RESP, 1, 0);
    question("v4only.test", 1);
    feed(replyFrame(DNS1, 53, querySrcPort(i)));
    expect(ctr(C.DNS_BAD_QUESTION)).toBe(1);
    expect(dnsResult(h)).toBe(EWOULDBLOCK);
    begin();
    header(queryId(i), RESP, 1, 0);
    question("v4only.test", TYPE_AAAA);
    feed(replyFrame(DNS1, 53, querySrcPort(i)));
    expect(dnsResult(h)).toBe(ENODATA);
    const h2 = dnsResolve6(str("none.test"), 9);
    i = lastQuery();
    begin();
    header(queryId(i), RESP | 3, 1, 0);
    question("none.test", TYPE_AAAA);
    feed(replyFrame(DNS1, 53, querySrcPort(i)));
    expect(dnsResult(h2)).toBe(ENXDOMAIN);
  });

  it("ends a dotted quad's AAAA lookup at once with ENODATA", () => {
    up(true);
    const h = dnsResolve6(str("10.0.0.9"), 8);
    expect(dnsResult(h)).toBe(ENODATA);
    expect(lastQuery()).toBe(-1);
  });

  it("refuses IPv6 text without a query: no host name has a colon (wire/ipv6.ts parseIpv6Text reads it)", () => {
    up(true);
    const text = ["2001:db8::7", "::", "::ffff:10.0.0.9", "fe80::1%1", "1::2::3", "web:test"];
    for (let k = 0; k < text.length; k++) {
      expect(dnsResolve6(str(text[k]), text[k].length)).toBe(EINVAL, text[k]);
      expect(dnsResolve(str(text[k]), text[k].length)).toBe(EINVAL, text[k]);
    }
    expect(lastQuery()).toBe(-1);
  });

  it("asks the RDNSS server over IPv6 when no IPv4 server is set, and takes its answer only", () => {
    up(false);
    expect(dnsResolve6(str("web.test"), 8)).toBeLessThan(0); // no server at all
    rdnssAdvert();
    clearSent();
    const h = dnsResolve6(str("web.test"), 8);
    expect(h).toBeGreaterThanOrEqual(0);
    const k = lastQuery6();
    expect(k).toBeGreaterThanOrEqual(0);
    const f = sent(k);
    expect(memory.compare(f + 38, PEER6, 16)).toBe(0);
    const sport = get16(f + 54);
    const id = get16(f + 62);
    expect(get16(f + 62 + HEADER_LEN + 10)).toBe(TYPE_AAAA);
    // From another neighbour: dropped.
    expect(reply6(3, sport, id)).toBe(C.UDP_DELIVERED);
    expect(ctr(C.DNS_BAD_SOURCE)).toBe(1);
    expect(dnsResult(h)).toBe(EWOULDBLOCK);
    expect(reply6(2, sport, id)).toBe(C.UDP_DELIVERED);
    expect(dnsResult(h)).toBe(OK);
    expect(dnsAddress6(h, out)).toBe(1);
    expect(memory.compare(out, ADDR, 16)).toBe(0);
  });

  it("takes an ICMPv6 port unreachable from the RDNSS server as ECONNREFUSED", () => {
    up(false);
    rdnssAdvert();
    clearSent();
    const h = dnsResolve6(str("web.test"), 8);
    const k = lastQuery6();
    expect(k).toBeGreaterThanOrEqual(0);
    const m = v6(ll(2), OURS, 58, 8 + 68, 64);
    store<u8>(m, 1);
    store<u8>(m, 4, 1); // port unreachable
    store<u32>(m, 0, 4);
    memory.copy(m + 8, sent(k) + 14, 68);
    expect(sendIcmp(8 + 68)).toBe(C.ICMP6_ERROR_RECEIVED);
    poll(t);
    expect(dnsResult(h)).toBe(ECONNREFUSED);
  });
});

function answer6over4(qname: string): C {
  const i = lastQuery();
  begin();
  header(queryId(i), RESP, 1, 1);
  question(qname, TYPE_AAAA);
  b16(0xc00c);
  rrFixed(TYPE_AAAA, 300, 16);
  addr16();
  const c = feed(replyFrame(queryDst(i), 53, querySrcPort(i)));
  poll(t);
  return c;
}

/** An RA from fe80::2 (router lifetime 0: no default router) naming fe80::2 as RDNSS server. */
function rdnssAdvert(): void {
  const len: u32 = 16 + 24;
  const m = v6(PEER6, memory.data<u8>([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 58, len, 255);
  memory.fill(m, 0, len);
  store<u8>(m, 134);
  store<u8>(m, 64, 4);
  const o = m + 16;
  store<u8>(o, 25); // RDNSS, 3 units of 8 bytes
  store<u8>(o, 3, 1);
  store<u32>(o + 4, bswap<u32>(600));
  memory.copy(o + 8, PEER6, 16);
  expect(sendIcmp(len)).toBe(C.ND_RA_RECEIVED);
}

/** The last captured IPv6 UDP datagram to port 53, or -1. */
function lastQuery6(): i32 {
  for (let i = sentCount() - 1; i >= 0; i--) {
    const f = sent(i);
    if (get16(f + 12) == 0x86dd && load<u8>(f + 20) == 17 && get16(f + 56) == 53) return i;
  }
  return -1;
}

/** An AAAA reply for web.test from [fe80::n]:53 to our port dport over IPv6. */
function reply6(n: u32, dport: u32, id: u32): C {
  begin();
  header(id, RESP, 1, 1);
  question("web.test", TYPE_AAAA);
  b16(0xc00c);
  rrFixed(TYPE_AAAA, 300, 16);
  addr16();
  const p = v6(ll(n), OURS, 17, 8 + at, 64);
  memory.copy(p + 8, msgBuf, at);
  repr.srcPort = 53;
  repr.dstPort = dport;
  repr.payloadLen = at;
  repr.emit6(p, rxBuf + 22, rxBuf + 38);
  const c = feed(14 + 40 + 8 + at);
  poll(t);
  return c;
}
