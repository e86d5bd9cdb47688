// DNS messages (wire/dns.ts): query emit, names with compression (loops and out-of-bounds
// pointers rejected), response parse with CNAME chains, truncated packets.
import { get16 } from "../support/bytes";
import { WireError } from "../wire/error";
import {
  DnsResponse, FLAG_QR, FLAG_RD, FLAG_TC, HEADER_LEN, RCODE_NXDOMAIN, emitQuery, encodeName, nameLen, readName,
} from "../wire/dns";
import { aRecord, at, begin, cnameRecord, header, msgBuf, name, question, rrFixed, str, b16, b32, b8 } from "./dns_support";

const out: usize = heap.alloc(512);
const t: usize = heap.alloc(256);
const qn: usize = heap.alloc(256);
const resp = changetype<DnsResponse>(heap.alloc(offsetof<DnsResponse>()));

function enc(s: string): i32 {
  return encodeName(str(s), s.length, qn);
}

/** Decompressed name at off as dotted text, or "ERR<n>". */
function dotted(off: u32, len: u32 = at): string {
  const r = readName(msgBuf, len, off, out);
  if (r < 0) return "ERR" + (-r).toString();
  let s = "";
  let i: u32 = 0;
  while (load<u8>(out + i) != 0) {
    const l = <u32>load<u8>(out + i);
    if (i) s += ".";
    s += String.UTF8.decodeUnsafe(out + i + 1, l);
    i += 1 + l;
  }
  return s;
}

function parse(qname: string): WireError {
  const n = enc(qname);
  return resp.parse(msgBuf, at, qn, <u32>n, t);
}

const RESP: u32 = FLAG_QR | FLAG_RD | 0x80;

describe("DNS names", () => {
  it("encodes dotted names to wire form, lowercased, a trailing dot allowed", () => {
    expect(enc("Web.Test")).toBe(10);
    expect(load<u8>(qn)).toBe(3);
    expect(load<u8>(qn + 1)).toBe(119); // 'w'
    expect(load<u8>(qn + 4)).toBe(4);
    expect(load<u8>(qn + 9)).toBe(0);
    expect(enc("web.test.")).toBe(10);
    expect(enc("a")).toBe(3);
  });

  it("refuses empty labels, long labels, long names and odd bytes", () => {
    expect(enc("")).toBe(-1);
    expect(enc(".")).toBe(-1);
    expect(enc("a..b")).toBe(-1);
    expect(enc(".a")).toBe(-1);
    expect(enc("a b")).toBe(-1);
    expect(enc("x".repeat(63) + ".t")).toBe(67);
    expect(enc("x".repeat(64) + ".t")).toBe(-1);
    // 4 labels of 63: 4 * 64 + 1 = 257 > 255; 3 of 63 and one of 61: 255 exactly.
    const l63 = "x".repeat(63);
    expect(enc(l63 + "." + l63 + "." + l63 + "." + "x".repeat(61))).toBe(255);
    expect(enc(l63 + "." + l63 + "." + l63 + "." + "x".repeat(62))).toBe(-1);
  });

  it("reads plain and compressed names", () => {
    begin();
    header(1, RESP, 1, 0);
    question("www.Example.com"); // at 12
    name("mail", 16); // "mail" + pointer to "example.com" (offset 12 + 4)
    expect(dotted(12)).toBe("www.example.com");
    expect(readName(msgBuf, at, 12, 0)).toBe(12 + 17);
    expect(nameLen).toBe(17);
    expect(dotted(33)).toBe("mail.example.com");
    expect(readName(msgBuf, at, 33, 0)).toBe(<i32>at); // just past the pointer
  });

  it("rejects a pointer to itself and a pointer loop", () => {
    begin();
    header(1, RESP, 1, 0);
    b16(0xc000 | 12); // at 12: a pointer to itself
    expect(dotted(12)).toBe("ERR" + (<i32>WireError.BAD_POINTER).toString());
    begin();
    header(1, RESP, 1, 0);
    name("a", 20); // at 12: "a" -> 20
    b8(0);
    b8(0);
    b8(0);
    b8(0); // padding to 20
    name("b", 12); // at 20: "b" -> 12 (forward then back: a loop)
    expect(dotted(12)).toBe("ERR" + (<i32>WireError.BAD_POINTER).toString());
    expect(dotted(20)).toBe("ERR" + (<i32>WireError.BAD_POINTER).toString());
  });

  it("rejects out-of-bounds pointers, pointers into the header and forward pointers", () => {
    begin();
    header(1, RESP, 1, 0);
    name("x", 0x3fff);
    expect(dotted(12)).toBe("ERR" + (<i32>WireError.BAD_POINTER).toString());
    begin();
    header(1, RESP, 1, 0);
    name("x", 2);
    expect(dotted(12)).toBe("ERR" + (<i32>WireError.BAD_POINTER).toString());
    begin();
    header(1, RESP, 1, 0);
    name("x", 17); // a pointer past itself
    name("y");
    expect(dotted(12)).toBe("ERR" + (<i32>WireError.BAD_POINTER).toString());
  });

  it("bounds the number of pointers", () => {
    // A chain of 20 pointers, each to the one before it: strictly backwards, but too many.
    begin();
    header(1, RESP, 1, 0);
    name("end"); // at 12
    let prev: u32 = 12;
    for (let i = 0; i < 20; i++) {
      const here = at;
      b16(0xc000 | prev);
      prev = here;
    }
    expect(dotted(prev)).toBe("ERR" + (<i32>WireError.BAD_POINTER).toString());
    // 10 are fine.
    begin();
    header(1, RESP, 1, 0);
    name("end");
    prev = 12;
    for (let i = 0; i < 10; i++) {
      const here = at;
      b16(0xc000 | prev);
      prev = here;
    }
    expect(dotted(prev)).toBe("end");
  });

  it("rejects reserved label types, truncation and names over 255 bytes", () => {
    begin();
    header(1, RESP, 1, 0);
    b8(0x41); // 0x40: extended label type
    expect(dotted(12)).toBe("ERR" + (<i32>WireError.BAD_NAME).toString());
    begin();
    header(1, RESP, 1, 0);
    name("abc");
    expect(dotted(12, at - 1)).toBe("ERR" + (<i32>WireError.TRUNCATED).toString()); // the root missing
    expect(dotted(12, 14)).toBe("ERR" + (<i32>WireError.TRUNCATED).toString()); // inside the label
    begin();
    header(1, RESP, 1, 0);
    b8(0xc0); // half a pointer at the end
    expect(dotted(12)).toBe("ERR" + (<i32>WireError.TRUNCATED).toString());
    // Labels of 63 through pointers: each piece is fine; 3 make 193 bytes, 4 make 257.
    begin();
    header(1, RESP, 1, 0);
    const l63 = "y".repeat(63);
    const a = at;
    name(l63);
    const b = at;
    name(l63, a);
    const c = at;
    name(l63, b);
    const d = at;
    name(l63, c);
    expect(dotted(c).length).toBe(3 * 63 + 2);
    expect(dotted(d)).toBe("ERR" + (<i32>WireError.BAD_NAME).toString());
  });
});

describe("DNS messages", () => {
  it("emits a standard query", () => {
    const n = enc("web.test");
    const len = emitQuery(msgBuf, 0xbeef, qn, <u32>n, 1);
    expect(len).toBe(12 + 10 + 4);
    expect(get16(msgBuf)).toBe(0xbeef);
    expect(get16(msgBuf + 2)).toBe(FLAG_RD);
    expect(get16(msgBuf + 4)).toBe(1);
    expect(get16(msgBuf + 6)).toBe(0);
    expect(get16(msgBuf + 10)).toBe(0);
    expect(load<u8>(msgBuf + 12)).toBe(3);
    expect(get16(msgBuf + 22)).toBe(1);
    expect(get16(msgBuf + 24)).toBe(1);
  });

  it("matches the question and the owners in place: ASCII case ignored, pointers followed", () => {
    begin();
    header(9, RESP, 1, 2);
    question("WeB.TeSt");
    name("Mail", 16); // "mail" + a pointer to "TeSt" inside the question: mail.test, not asked
    rrFixed(1, 60, 4);
    b32(0x0a000007);
    aRecord(12, 60, 0x0a000008); // owner: a pointer to the question, web.test
    expect(parse("web.test")).toBe(WireError.OK);
    expect(resp.qnameMatches).toBe(true);
    expect(resp.address).toBe(0x0a000008);
    expect(parse("mail.test")).toBe(WireError.OK);
    expect(resp.qnameMatches).toBe(false); // the question is web.test
    expect(resp.address).toBe(0x0a000007); // mail.test's owner matched through its pointer
    expect(parse("web.tes")).toBe(WireError.OK);
    expect(resp.qnameMatches).toBe(false);
    expect(resp.found).toBe(false);
    expect(parse("eb.test")).toBe(WireError.OK);
    expect(resp.qnameMatches).toBe(false);
  });

  it("parses an answer with an A record", () => {
    begin();
    header(0x1234, RESP, 1, 1);
    question("web.test");
    aRecord(12, 300, 0x0a000001);
    expect(parse("web.test")).toBe(WireError.OK);
    expect(resp.id).toBe(0x1234);
    expect(resp.rcode).toBe(0);
    expect(resp.truncated).toBe(false);
    expect(resp.qtype).toBe(1);
    expect(resp.qnameMatches).toBe(true);
    expect(resp.found).toBe(true);
    expect(resp.address).toBe(0x0a000001);
    expect(resp.ttl).toBe(300);
    expect(resp.cnames).toBe(0);
  });

  it("follows a CNAME chain to the A record, with the smallest TTL", () => {
    begin();
    header(7, RESP, 1, 3);
    question("www.test");
    const t1 = cnameRecord(12, 600, "alias.test");
    const t2 = cnameRecord(t1, 60, "real.test");
    aRecord(t2, 900, 0x0a000009);
    expect(parse("www.test")).toBe(WireError.OK);
    expect(resp.found).toBe(true);
    expect(resp.cnames).toBe(2);
    expect(resp.address).toBe(0x0a000009);
    expect(resp.ttl).toBe(60);
  });

  it("follows a chain whose records come in any order, and skips unrelated records", () => {
    begin();
    header(7, RESP, 1, 4);
    question("www.test"); // 12
    // An A record for another name first.
    name("other.test");
    rrFixed(1, 5, 4);
    b32(0x01010101);
    // Placeholders would need offsets in order; write the A for the target before the CNAME.
    const aAt = at;
    name("real.test");
    rrFixed(1, 100, 4);
    b32(0x0a00000a);
    cnameRecord(12, 50, "real.test");
    // A TXT record (type 16) for the question name.
    b16(0xc000 | 12);
    rrFixed(16, 5, 2);
    b8(1);
    b8(65);
    expect(parse("www.test")).toBe(WireError.OK);
    expect(aAt).toBeGreaterThan(12);
    expect(resp.found).toBe(true);
    expect(resp.address).toBe(0x0a00000a);
    expect(resp.cnames).toBe(1);
    expect(resp.ttl).toBe(50);
  });

  it("ends a CNAME loop at the bound, not found", () => {
    begin();
    header(7, RESP, 1, 2);
    question("a.test");
    const tb = cnameRecord(12, 60, "b.test");
    cnameRecord(tb, 60, "a.test");
    expect(parse("a.test")).toBe(WireError.OK);
    expect(resp.found).toBe(false);
    expect(resp.cnames).toBe(8);
  });

  it("reports a chain that leaves the message", () => {
    begin();
    header(7, RESP, 1, 1);
    question("www.test");
    cnameRecord(12, 60, "elsewhere.example");
    expect(parse("www.test")).toBe(WireError.OK);
    expect(resp.found).toBe(false);
    expect(resp.cnames).toBe(1);
    expect(resp.targetLen).toBe(19);
  });

  it("reads RCODE and TC", () => {
    begin();
    header(9, RESP | RCODE_NXDOMAIN, 1, 0);
    question("nope.test");
    expect(parse("nope.test")).toBe(WireError.OK);
    expect(resp.rcode).toBe(3);
    expect(resp.found).toBe(false);
    begin();
    header(9, RESP | 2, 1, 0);
    question("x.test");
    expect(parse("x.test")).toBe(WireError.OK);
    expect(resp.rcode).toBe(2);
    begin();
    header(9, RESP | FLAG_TC, 1, 2);
    question("x.test");
    aRecord(12, 10, 0x0a000001);
    b16(0xc000 | 12); // the second record cut off
    expect(parse("x.test")).toBe(WireError.OK);
    expect(resp.truncated).toBe(true);
  });

  it("rejects queries, other opcodes, question counts other than one", () => {
    begin();
    header(1, FLAG_RD, 1, 0);
    question("x.test");
    expect(parse("x.test")).toBe(WireError.BAD_OP);
    begin();
    header(1, RESP | 0x2000, 1, 0); // opcode 4 (NOTIFY)
    question("x.test");
    expect(parse("x.test")).toBe(WireError.BAD_OP);
    begin();
    header(1, RESP, 0, 0);
    expect(parse("x.test")).toBe(WireError.UNSUPPORTED);
    begin();
    header(1, RESP, 2, 0);
    question("x.test");
    question("y.test");
    expect(parse("x.test")).toBe(WireError.UNSUPPORTED);
  });

  it("rejects every truncation of a valid answer without trapping", () => {
    begin();
    header(7, RESP, 1, 2);
    question("www.test");
    const t1 = cnameRecord(12, 600, "alias.test");
    aRecord(t1, 900, 0x0a000009);
    const full = at;
    const qlen = <u32>enc("www.test");
    expect(resp.parse(msgBuf, full, qn, qlen, t)).toBe(WireError.OK);
    for (let n: u32 = 0; n < full; n++) {
      expect(resp.parse(msgBuf, n, qn, qlen, t)).not.toBe(WireError.OK, "length " + n.toString());
    }
  });

  it("rejects a CNAME whose target runs outside its rdata, and a bad name in an answer", () => {
    begin();
    header(7, RESP, 1, 1);
    question("www.test");
    b16(0xc000 | 12);
    rrFixed(5, 60, 3); // rdlength 3, but the name is longer
    name("long.test");
    expect(parse("www.test")).toBe(WireError.TRUNCATED);
    begin();
    header(7, RESP, 1, 1);
    question("www.test");
    b16(0xc000 | 12);
    rrFixed(5, 60, 13); // rdlength 13, the name 11: junk after it
    name("long.test");
    b16(0);
    expect(parse("www.test")).toBe(WireError.BAD_NAME);
    begin();
    header(7, RESP, 1, 1);
    question("www.test");
    b16(0xc000 | 40); // a forward pointer as the owner
    rrFixed(1, 60, 4);
    b32(1);
    expect(parse("www.test")).toBe(WireError.BAD_POINTER);
  });

  it("survives random bytes", () => {
    let seed: u32 = 0x9e3779b9;
    for (let round = 0; round < 2000; round++) {
      begin();
      header(7, RESP, 1, 3);
      question("www.test");
      const n = 12 + (round % 120);
      while (at < <u32>n) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        b8(seed & 255);
      }
      // Whatever it returns, it returns (no trap, no read past the buffer).
      const r = resp.parse(msgBuf, at, qn, <u32>enc("www.test"), t);
      expect(r == WireError.OK || r != WireError.OK).toBe(true);
    }
    expect(HEADER_LEN).toBe(12);
  });
});
