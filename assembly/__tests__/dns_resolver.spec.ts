// The resolver (services/dns.ts) against crafted server replies: matching (id, question, server,
// port), retry to the second server, timeouts with backoff, the TTL cache, CNAME re-queries,
// NXDOMAIN / SERVFAIL / TC.
import { poll } from "../index";
import { C } from "../support/counters";
import { EHOSTUNREACH, EINVAL, ENOBUFS, ENXDOMAIN, ESERVFAIL, ETIMEDOUT, ETRUNCATED, EWOULDBLOCK, ENODATA, OK } from "../support/errors";
import { DNS_MAX_QUERIES } from "../config";
import {
  dnsAddress, dnsRelease, dnsReset, dnsResolve, dnsResult, dnsSetServers, dnsTtl,
} from "../services/dns";
import { FLAG_QR, FLAG_RD, FLAG_TC } from "../wire/dns";
import { OUR_IP, arpFrame, bringUp, clearSent, ctr, feed } from "../testing";
import {
  aRecord, begin, cnameRecord, header, lastQuery, queryCount, queryDst, queryId, querySrcPort, question, replyFrame, str,
} from "./dns_support";

const DNS1: u32 = 0x0a000035; // 10.0.0.53
const DNS2: u32 = 0x0a000036; // 10.0.0.54
const RESP: u32 = FLAG_QR | FLAG_RD | 0x80;
const T0: u32 = 1000;

let t: u32 = T0;

function tick(ms: u32): void {
  t += ms;
  poll(t);
}

/** A stack at 10.0.0.1 with both servers known to ARP (unless `dead1`: the first never answers). */
function up(dead1: bool = false): void {
  t = T0;
  bringUp(T0);
  dnsReset();
  if (!dead1) feed(arpFrame(1, DNS1, OUR_IP));
  feed(arpFrame(1, DNS2, OUR_IP));
  clearSent();
  dnsSetServers(DNS1, DNS2);
}

function resolve(name: string): i32 {
  return dnsResolve(str(name), name.length);
}

/** Answer the last query with an A record (or rcode/flags), from `src` port 53 unless told otherwise. */
function answer(qname: string, addr: u32, ttl: u32 = 300, flags: u32 = RESP, src: u32 = 0, sport: u32 = 53, idDelta: u32 = 0): C {
  const i = lastQuery();
  begin();
  header(queryId(i) ^ idDelta, flags, 1, addr ? 1 : 0);
  question(qname);
  if (addr) aRecord(12, ttl, addr);
  const c = feed(replyFrame(src ? src : queryDst(i), sport, querySrcPort(i)));
  poll(t);
  return c;
}

describe("DNS resolver", () => {
  it("sends a query to the first server from a random port and returns the address", () => {
    up();
    const h = resolve("Web.Test");
    expect(h).toBeGreaterThanOrEqual(0);
    expect(dnsResult(h)).toBe(EWOULDBLOCK);
    const i = lastQuery();
    expect(i).toBeGreaterThanOrEqual(0);
    expect(queryDst(i)).toBe(DNS1);
    expect(querySrcPort(i)).toBeGreaterThanOrEqual(49152);
    expect(ctr(C.DNS_QUERIES_SENT)).toBe(1);
    expect(answer("web.test", 0x0a000007)).toBe(C.UDP_DELIVERED);
    expect(dnsResult(h)).toBe(OK);
    expect(dnsAddress(h)).toBe(0x0a000007);
    expect(dnsTtl(h)).toBe(300);
    expect(ctr(C.DNS_REPLIES_ACCEPTED)).toBe(1);
    expect(dnsRelease(h)).toBe(OK);
    expect(dnsResult(h)).toBe(EINVAL);
  });

  it("uses a different id and port for each lookup", () => {
    up();
    resolve("a.test");
    const i1 = lastQuery();
    const id1 = queryId(i1);
    const p1 = querySrcPort(i1);
    resolve("b.test");
    const i2 = lastQuery();
    expect(i2).not.toBe(i1);
    expect(queryId(i2) != id1 || querySrcPort(i2) != p1).toBe(true);
    expect(querySrcPort(i2)).not.toBe(p1);
  });

  it("drops replies with a wrong id, port, server or question, and counts them", () => {
    up();
    const h = resolve("web.test");
    answer("web.test", 0x01010101, 300, RESP, 0, 53, 0x0100); // wrong id
    expect(ctr(C.DNS_BAD_ID)).toBe(1);
    answer("web.test", 0x01010101, 300, RESP, 0, 5353); // wrong source port
    answer("web.test", 0x01010101, 300, RESP, 0x0a000063); // a server we did not ask
    expect(ctr(C.DNS_BAD_SOURCE)).toBe(2);
    answer("evil.test", 0x01010101); // wrong question
    expect(ctr(C.DNS_BAD_QUESTION)).toBe(1);
    answer("web.test", 0x01010101, 300, RESP & ~FLAG_QR); // not a response
    expect(ctr(C.DNS_MALFORMED)).toBe(1);
    expect(dnsResult(h)).toBe(EWOULDBLOCK);
    answer("WEB.test", 0x0a000008); // case differs: still the question
    expect(dnsResult(h)).toBe(OK);
    expect(dnsAddress(h)).toBe(0x0a000008);
  });

  it("moves to the second server when the first is dead, with the timeout doubling per pass", () => {
    up(true);
    const h = resolve("web.test");
    expect(queryCount()).toBe(0); // waiting for ARP of the first server
    tick(999);
    expect(queryCount()).toBe(0);
    tick(1);
    expect(queryCount()).toBe(1);
    expect(queryDst(lastQuery())).toBe(DNS2);
    expect(ctr(C.DNS_RETRANSMITS)).toBe(1);
    answer("web.test", 0x0a000009);
    expect(dnsResult(h)).toBe(OK);
    expect(dnsAddress(h)).toBe(0x0a000009);
  });

  it("times out after DNS_TRIES passes over both servers (1+1+2+2+4+4 s)", () => {
    up();
    const h = resolve("slow.test");
    const sends: u32[] = [0];
    let last = queryCount();
    for (let ms: u32 = 0; ms < 20000 && dnsResult(h) == EWOULDBLOCK; ms += 100) {
      tick(100);
      const n = queryCount();
      if (n != last) {
        sends.push(t - T0);
        last = n;
      }
    }
    expect(dnsResult(h)).toBe(ETIMEDOUT);
    expect(sends.length).toBe(6);
    expect(sends[1]).toBe(1000);
    expect(sends[2]).toBe(2000);
    expect(sends[3]).toBe(4000);
    expect(sends[4]).toBe(6000);
    expect(sends[5]).toBe(10000);
    expect(t - T0).toBe(14000);
    expect(ctr(C.DNS_TIMEOUTS)).toBe(1);
  });

  it("caches answers for their TTL", () => {
    up();
    const h = resolve("web.test");
    answer("web.test", 0x0a000007, 5);
    expect(dnsResult(h)).toBe(OK);
    clearSent();
    const h2 = resolve("WEB.test.");
    expect(dnsResult(h2)).toBe(OK);
    expect(dnsAddress(h2)).toBe(0x0a000007);
    expect(queryCount()).toBe(0);
    expect(ctr(C.DNS_CACHE_HITS)).toBe(1);
    tick(4999);
    const h3 = resolve("web.test");
    expect(dnsResult(h3)).toBe(OK);
    tick(1);
    const h4 = resolve("web.test");
    expect(dnsResult(h4)).toBe(EWOULDBLOCK);
    expect(queryCount()).toBe(1);
  });

  it("does not cache a TTL of 0", () => {
    up();
    resolve("zero.test");
    answer("zero.test", 0x0a000007, 0);
    clearSent();
    expect(dnsResult(resolve("zero.test"))).toBe(EWOULDBLOCK);
    expect(queryCount()).toBe(1);
  });

  it("reports NXDOMAIN, TC and an empty answer as distinct errors", () => {
    up();
    const h = resolve("nope.test");
    answer("nope.test", 0, 0, RESP | 3);
    expect(dnsResult(h)).toBe(ENXDOMAIN);
    const h2 = resolve("big.test");
    answer("big.test", 0, 0, RESP | FLAG_TC);
    expect(dnsResult(h2)).toBe(ETRUNCATED);
    const h3 = resolve("mx-only.test");
    answer("mx-only.test", 0);
    expect(dnsResult(h3)).toBe(ENODATA);
  });

  it("asks the second server after a SERVFAIL, and fails when both do", () => {
    up();
    const h = resolve("broken.test");
    answer("broken.test", 0, 0, RESP | 2);
    expect(dnsResult(h)).toBe(EWOULDBLOCK);
    expect(queryDst(lastQuery())).toBe(DNS2);
    answer("broken.test", 0, 0, RESP | 2);
    expect(dnsResult(h)).toBe(ESERVFAIL);
  });

  it("follows a CNAME by asking for its target, and caches under the name asked", () => {
    up();
    const h = resolve("www.test");
    const i = lastQuery();
    const id1 = queryId(i);
    begin();
    header(id1, RESP, 1, 1);
    question("www.test");
    cnameRecord(12, 120, "cdn.example");
    feed(replyFrame(DNS1, 53, querySrcPort(i)));
    poll(t);
    expect(dnsResult(h)).toBe(EWOULDBLOCK);
    expect(queryCount()).toBe(2);
    answer("cdn.example", 0x0a00000b, 600);
    expect(dnsResult(h)).toBe(OK);
    expect(dnsAddress(h)).toBe(0x0a00000b);
    expect(dnsTtl(h)).toBe(120);
    clearSent();
    const h2 = resolve("www.test");
    expect(dnsAddress(h2)).toBe(0x0a00000b);
    expect(queryCount()).toBe(0);
  });

  it("gives up on a CNAME loop across queries", () => {
    up();
    const h = resolve("a.test");
    // Each answer is a CNAME to the other name: a.test -> b.test -> a.test ...
    for (let k = 0; k < 12 && dnsResult(h) == EWOULDBLOCK; k++) {
      const i = lastQuery();
      begin();
      header(queryId(i), RESP, 1, 1);
      const q1 = (k & 1) == 0 ? "a.test" : "b.test";
      question(q1);
      cnameRecord(12, 60, (k & 1) == 0 ? "b.test" : "a.test");
      feed(replyFrame(DNS1, 53, querySrcPort(i)));
      poll(t);
    }
    expect(dnsResult(h)).toBe(ESERVFAIL);
  });

  it("answers dotted quads at once, refuses bad names, needs a server", () => {
    up();
    const h = resolve("192.168.1.20");
    expect(dnsResult(h)).toBe(OK);
    expect(dnsAddress(h)).toBe(0xc0a80114);
    expect(resolve("a..b")).toBe(EINVAL);
    expect(resolve("")).toBe(EINVAL);
    dnsSetServers(0, 0);
    expect(resolve("web.test")).toBe(EHOSTUNREACH);
  });

  it("runs several lookups at once and reuses the oldest finished slot", () => {
    up();
    const hs: i32[] = [];
    const N = DNS_MAX_QUERIES;
    for (let k = 0; k < N; k++) hs.push(resolve("n" + k.toString() + ".test"));
    for (let k = 0; k < N; k++) expect(hs[k]).toBeGreaterThanOrEqual(0);
    // Every slot is pending: one more lookup has none.
    expect(resolve("nx.test")).toBe(ENOBUFS);
    const lastName = "n" + (N - 1).toString() + ".test";
    answer(lastName, 0x0a000003);
    expect(dnsResult(hs[N - 1])).toBe(OK);
    const h5 = resolve("n5.test");
    expect(h5).toBeGreaterThanOrEqual(0);
    expect(dnsResult(hs[N - 1])).toBe(EINVAL); // its slot went to n5
  });
});
