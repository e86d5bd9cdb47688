// The http app's request parser (assembly/apps/httpparse.ts), driven directly: whole, split at
// every byte, pipelined, oversize heads, and garbage.
import {
  M_GET, M_HEAD, M_OTHER, PARSE_BAD, PARSE_BAD_VERSION, PARSE_MORE, PARSE_NOT_IMPLEMENTED, PARSE_TOO_LARGE,
  httpHeadEnd, httpLeadingEmpty, httpParse, reqContentLength, reqKeepAlive, reqMethod, reqMinor, reqTarget, reqTargetLen,
} from "../apps/httpparse";

const MAX: u32 = 768;
const buf = heap.alloc(4096);

/** Put s at the start of buf (ASCII); returns its length. */
function put(s: string, at: u32 = 0): u32 {
  for (let i = 0; i < s.length; i++) store<u8>(buf + at + i, <u8>s.charCodeAt(i));
  return at + <u32>s.length;
}

function parse(s: string): i32 {
  const n = put(s);
  return httpParse(buf, n, MAX, 0);
}

function target(): string {
  let s = "";
  for (let i: u32 = 0; i < reqTargetLen; i++) s += String.fromCharCode(load<u8>(buf + reqTarget + i));
  return s;
}

const SIMPLE = "GET / HTTP/1.1\r\nHost: 10.0.0.2\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\n\r\n";

describe("http parser: complete requests", () => {
  test("a curl GET: head length, method, target, HTTP/1.1 keep-alive", () => {
    expect(parse(SIMPLE)).toBe(SIMPLE.length);
    expect(reqMethod).toBe(M_GET);
    expect(target()).toBe("/");
    expect(reqMinor).toBe(1);
    expect(reqKeepAlive).toBe(true);
    expect(reqContentLength).toBe(0);
  });
  test("HEAD, other methods, targets with a query", () => {
    expect(parse("HEAD /status?x=1 HTTP/1.1\r\nHost: a\r\n\r\n")).toBeGreaterThan(0);
    expect(reqMethod).toBe(M_HEAD);
    expect(target()).toBe("/status?x=1");
    expect(parse("DELETE /x HTTP/1.1\r\nHost: a\r\n\r\n")).toBeGreaterThan(0);
    expect(reqMethod).toBe(M_OTHER);
    expect(parse("get / HTTP/1.1\r\nHost: a\r\n\r\n")).toBeGreaterThan(0);
    expect(reqMethod).toBe(M_OTHER, "methods are case-sensitive");
  });
  test("Connection: close, HTTP/1.0 defaults, keep-alive tokens in a list", () => {
    expect(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")).toBeGreaterThan(0);
    expect(reqKeepAlive).toBe(false);
    expect(parse("GET / HTTP/1.1\r\nHost: a\r\nconnection:  Upgrade, CLOSE \r\n\r\n")).toBeGreaterThan(0);
    expect(reqKeepAlive).toBe(false);
    expect(parse("GET / HTTP/1.0\r\n\r\n")).toBeGreaterThan(0);
    expect(reqMinor).toBe(0);
    expect(reqKeepAlive).toBe(false);
    expect(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n")).toBeGreaterThan(0);
    expect(reqKeepAlive).toBe(true);
  });
  test("bare LF line endings are accepted", () => {
    const s = "GET /a HTTP/1.1\nHost: a\n\n";
    expect(parse(s)).toBe(s.length);
    expect(target()).toBe("/a");
  });
  test("Content-Length is reported so the body can be skipped", () => {
    expect(parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\nhello world!")).toBe(49);
    expect(reqContentLength).toBe(12);
  });
  test("leading empty lines are counted for the caller to drop", () => {
    const n = put("\r\n\r\nGET / HTTP/1.1\r\n");
    expect(httpLeadingEmpty(buf, n)).toBe(4);
    expect(httpLeadingEmpty(buf, 0)).toBe(0);
  });
});

describe("http parser: split requests", () => {
  test("every proper prefix needs more, the whole request parses", () => {
    const n = put(SIMPLE);
    for (let k: u32 = 1; k < n; k++) expect(httpParse(buf, k, MAX, 0)).toBe(PARSE_MORE, "prefix " + k.toString());
    expect(httpParse(buf, n, MAX, 0)).toBe(<i32>n);
  });
  test("the search hint gives the same answers as a search from 0", () => {
    const n = put(SIMPLE);
    let scan: u32 = 0;
    for (let k: u32 = 1; k <= n; k++) {
      const r = httpParse(buf, k, MAX, scan);
      expect(r).toBe(httpParse(buf, k, MAX, 0), "prefix " + k.toString());
      if (r == PARSE_MORE) scan = k > 3 ? k - 3 : 0;
    }
  });
  test("the head end is found across the CR LF CR LF split at any point", () => {
    const n = put("GET / HTTP/1.1\r\nHost: a\r\n\r\n");
    expect(httpHeadEnd(buf, n - 1, 0)).toBe(0);
    expect(httpHeadEnd(buf, n, n - 3)).toBe(n);
  });
});

describe("http parser: pipelining", () => {
  test("three requests back to back parse one after another", () => {
    const a = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    const b = "GET /status HTTP/1.1\r\nHost: a\r\n\r\n";
    const c = "HEAD /nope HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    let n = put(a);
    n = put(b, n);
    n = put(c, n);
    let off: u32 = 0;
    let r = httpParse(buf + off, n - off, MAX, 0);
    expect(r).toBe(a.length);
    expect(reqTargetLen).toBe(1);
    off += <u32>r;
    r = httpParse(buf + off, n - off, MAX, 0);
    expect(r).toBe(b.length);
    expect(reqTargetLen).toBe(7);
    expect(reqKeepAlive).toBe(true);
    off += <u32>r;
    r = httpParse(buf + off, n - off, MAX, 0);
    expect(r).toBe(c.length);
    expect(reqMethod).toBe(M_HEAD);
    expect(reqKeepAlive).toBe(false);
    off += <u32>r;
    expect(off).toBe(n);
  });
  test("a complete request followed by part of the next", () => {
    let n = put(SIMPLE);
    n = put("GET /sta", n);
    expect(httpParse(buf, n, MAX, 0)).toBe(SIMPLE.length);
    expect(httpParse(buf + SIMPLE.length, 8, MAX, 0)).toBe(PARSE_MORE);
  });
});

describe("http parser: oversize heads", () => {
  test("no end of head within max bytes: 431; below max: need more", () => {
    let n = put("GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    while (n < MAX) store<u8>(buf + n++, 120);
    expect(httpParse(buf, MAX - 1, MAX, 0)).toBe(PARSE_MORE);
    expect(httpParse(buf, MAX, MAX, 0)).toBe(PARSE_TOO_LARGE);
  });
  test("a head that ends exactly at max bytes is accepted", () => {
    let n = put("GET / HTTP/1.1\r\nHost: a\r\nX-Big: ");
    while (n < MAX - 4) store<u8>(buf + n++, 120);
    n = put("\r\n\r\n", n);
    expect(n).toBe(MAX);
    expect(httpParse(buf, n, MAX, 0)).toBe(<i32>MAX);
  });
});

describe("http parser: garbage", () => {
  test("binary garbage is rejected at its first byte", () => {
    store<u8>(buf, 0x16);
    store<u8>(buf + 1, 0x03);
    expect(httpParse(buf, 1, MAX, 0)).toBe(PARSE_BAD);
    expect(httpParse(buf, 2, MAX, 0)).toBe(PARSE_BAD);
  });
  test("a method that is not a token, or too long, before the rest arrives", () => {
    expect(parse("GE@T")).toBe(PARSE_BAD);
    expect(parse(" GET / HTTP/1.1")).toBe(PARSE_BAD);
    expect(parse("ABCDEFGHIJKLMNOPQ")).toBe(PARSE_BAD);
    expect(parse("ABCDEFGHIJKLMNOP")).toBe(PARSE_MORE);
  });
  test("a bad request line is rejected once the line is complete", () => {
    expect(parse("GET / FOO\r\n")).toBe(PARSE_BAD);
    expect(parse("GET /\r\n")).toBe(PARSE_BAD);
    expect(parse("GET  / HTTP/1.1\r\n")).toBe(PARSE_BAD);
    expect(parse("GET / HTTP/1.1 \r\n")).toBe(PARSE_BAD);
    expect(parse("GET /\x01 HTTP/1.1\r\n")).toBe(PARSE_BAD);
    expect(parse("GET / HTTP/2.0\r\n")).toBe(PARSE_BAD_VERSION);
    expect(parse("GET / HTTP/1.1\r\n")).toBe(PARSE_MORE);
  });
  test("bad header fields", () => {
    expect(parse("GET / HTTP/1.1\r\nHost a\r\n\r\n")).toBe(PARSE_BAD, "no colon");
    expect(parse("GET / HTTP/1.1\r\nHost : a\r\n\r\n")).toBe(PARSE_BAD, "space before the colon");
    expect(parse("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n")).toBe(PARSE_BAD, "obs-fold");
    expect(parse("GET / HTTP/1.1\r\nHost: a\r\nX: \x01\r\n\r\n")).toBe(PARSE_BAD, "control character");
    expect(parse("GET / HTTP/1.1\r\n\r\n")).toBe(PARSE_BAD, "HTTP/1.1 without Host");
    expect(parse("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n")).toBe(PARSE_BAD, "two Hosts");
    expect(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n")).toBe(PARSE_BAD, "bad length");
    expect(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n")).toBe(PARSE_BAD, "huge length");
    expect(parse("GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n")).toBe(PARSE_BAD, "two lengths");
    expect(parse("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n")).toBe(PARSE_NOT_IMPLEMENTED);
  });
});
