// The SNTP client (services/sntp.ts, wire/ntp.ts) against a scripted server: the request's bytes,
// offset and delay from crafted timestamps (across the NTP era and the ms clock's wrap), the
// checks on replies (source, length, mode, origin, unsynchronised), kiss-o'-death, the poll
// interval and the backoff without replies.
import { poll } from "../index";
import { C } from "../support/counters";
import {
  fixedToUs, msToFixed, sntpDelay, sntpOffset, sntpPollInterval, sntpReset, sntpSampleServer, sntpSampleStratum,
  sntpServer, sntpSetDhcpServers, sntpSetServers, sntpSynced, sntpTime, sntpUnixMs,
} from "../services/sntp";
import { SNTP_POLL_MAX_MS, SNTP_POLL_MIN_MS, SNTP_RETRY_MS, SNTP_TIMEOUT_MS } from "../config";
import { get16, get32 } from "../support/bytes";
import { NtpRepr, UNIX_EPOCH_NTP, get64 } from "../wire/ntp";
import { WireError } from "../wire/error";
import { OUR_IP, arpFrame, bringUp, clearSent, ctr, feed, now, sent, sentCount, sentLen, setClock } from "../testing";
import { at, b32, b8, begin, msgBuf, replyFrame } from "./dns_support";

const S1: u32 = 0x0a00007b; // 10.0.0.123
const S2: u32 = 0x0a00007c; // 10.0.0.124
const UNIX: u64 = UNIX_EPOCH_NTP << 32;
const RATE: u32 = 0x52415445;
const DENY: u32 = 0x44454e59;

function up(t: u32 = 1000): void {
  bringUp(t);
  sntpReset();
  feed(arpFrame(1, S1, OUR_IP));
  feed(arpFrame(1, S2, OUR_IP));
  clearSent();
}

/** Time passes; the servers' ARP entries are kept fresh (they announce themselves), so every
 *  request leaves at once rather than waiting on ARP. */
function tick(ms: u32): void {
  setClock(now + ms);
  if (ms >= 1000) {
    feed(arpFrame(1, S1, OUR_IP));
    feed(arpFrame(1, S2, OUR_IP));
  }
  poll(now);
}

/** Captured frames that are UDP to port 123. */
function requests(): i32 {
  let n = 0;
  for (let i = 0; i < sentCount(); i++) if (isRequest(i)) n++;
  return n;
}
function isRequest(i: i32): bool {
  const f = sent(i);
  return sentLen(i) >= 42 && get16(f + 12) == 0x0800 && load<u8>(f + 23) == 17 && get16(f + 36) == 123;
}
function lastRequest(): i32 {
  for (let i = sentCount() - 1; i >= 0; i--) if (isRequest(i)) return i;
  return -1;
}
function reqDst(i: i32): u32 {
  return get32(sent(i) + 30);
}
function reqPort(i: i32): u32 {
  return get16(sent(i) + 34);
}
function reqTransmit(i: i32): u64 {
  return get64(sent(i) + 42 + 40);
}

function b64(v: u64): void {
  b32(<u32>(v >> 32));
  b32(<u32>v);
}

/** A server reply to the last request: header fields, then origin/receive/transmit. Returns the
 *  counter that took the frame (UDP_DELIVERED: it reached the client). */
function reply(t2: u64, t3: u64, origin: u64 = 0, stratum: u32 = 2, first: u32 = 0x24, refId: u32 = 0x7f7f0101,
  src: u32 = 0, sport: u32 = 123, len: u32 = 48): C {
  const i = lastRequest();
  begin();
  b8(first);
  b8(stratum);
  b8(6);
  b8(0xec);
  b32(0x10);
  b32(0x20);
  b32(refId);
  b64(t3 - (<u64>16 << 32));
  b64(origin ? origin : reqTransmit(i));
  b64(t2);
  b64(t3);
  while (at < len) b8(0);
  const c = feed(replyFrame(src ? src : reqDst(i), sport, reqPort(i)));
  // A short packet: cut the datagram (UDP length) after `len` bytes.
  return c;
}

/** Our NTP clock now (what the client uses as T4). */
function ntpNow(): u64 {
  return sntpTime() + UNIX;
}

/**
 * One exchange with a server whose clock is `delta` ahead of ours: 5 ms each way, `proc` of
 * processing. Checks offset and delay against the RFC 4330 §5 formulas evaluated here.
 */
function exchange(delta: u64, procMs: u32 = 10): void {
  const i = lastRequest();
  const t1 = reqTransmit(i);
  const d = msToFixed(5);
  const t2 = t1 + delta + d;
  const t3 = t2 + msToFixed(procMs);
  tick(10 + procMs);
  const t4 = ntpNow();
  expect(reply(t2, t3)).toBe(C.UDP_DELIVERED);
  const delay = <i64>((t4 - t1) - (t3 - t2));
  expect(sntpDelay()).toBe(delay);
  // ((T2 - T1) + (T3 - T4)) / 2 with both halves small: as i64, relative to delta.
  const a = <i64>(t2 - t1 - delta);
  const b = <i64>(t3 - t4 - delta);
  expect(<i64>(<u64>sntpOffset() - delta)).toBe((a + b) >> 1);
}

describe("NTP header", () => {
  it("parses 48 bytes and refuses fewer or version 0", () => {
    const m = changetype<NtpRepr>(heap.alloc(offsetof<NtpRepr>()));
    memory.fill(msgBuf, 0, 64);
    store<u8>(msgBuf, 0x24);
    expect(m.parse(msgBuf, 47)).toBe(WireError.TRUNCATED);
    expect(m.parse(msgBuf, 48)).toBe(WireError.OK);
    expect(m.mode).toBe(4);
    expect(m.version).toBe(4);
    store<u8>(msgBuf, 0x04);
    expect(m.parse(msgBuf, 60)).toBe(WireError.BAD_VERSION);
    store<u8>(msgBuf, 0x2c);
    expect(m.parse(msgBuf, 48)).toBe(WireError.BAD_VERSION);
  });
});

describe("SNTP client", () => {
  it("is idle without servers", () => {
    up();
    tick(100_000);
    expect(requests()).toBe(0);
    expect(sntpSynced()).toBe(false);
    // Before a sync the clock reads 1970 + uptime.
    expect(sntpUnixMs()).toBe(100_000);
  });

  it("sends a version 4 client request with its clock as transmit timestamp, from a random port", () => {
    up();
    tick(1500);
    sntpSetServers(S1, S2);
    expect(sntpServer(0)).toBe(S1);
    tick(0);
    expect(requests()).toBe(1);
    const i = lastRequest();
    expect(reqDst(i)).toBe(S1);
    expect(reqPort(i)).toBeGreaterThanOrEqual(49152);
    expect(get16(sent(i) + 38)).toBe(8 + 48); // UDP length: the bare header
    const p = sent(i) + 42;
    expect(load<u8>(p)).toBe(0x23); // LI 0, VN 4, mode 3
    for (let k = 1; k < 40; k++) expect(load<u8>(p + k)).toBe(0);
    // The transmit timestamp is our clock (1970 + 1.5 s uptime) with 16 random low bits.
    expect(reqTransmit(i) >> 16).toBe((UNIX + msToFixed(1500)) >> 16);
    expect(ctr(C.SNTP_REQUESTS)).toBe(1);
  });

  it("computes offset and delay exactly and sets the wall clock", () => {
    up();
    sntpSetServers(S1, 0);
    tick(0);
    // 2026-12-07 00:00:00 UTC in NTP seconds, and a fraction that is no whole number of ms.
    const server: u64 = (<u64>3974140800 << 32) | 0x12345678;
    const delta = server - reqTransmit(lastRequest());
    exchange(delta);
    expect(sntpSynced()).toBe(true);
    expect(ctr(C.SNTP_SAMPLES)).toBe(1);
    expect(sntpSampleServer()).toBe(S1);
    expect(sntpSampleStratum()).toBe(2);
    expect(fixedToUs(sntpDelay())).toBeGreaterThanOrEqual(9_984); // 20 ms less 10 ms processing,
    expect(fixedToUs(sntpDelay())).toBeLessThanOrEqual(10_000); // less the random low bits of T1
    // Our clock now reads the server's transmit time plus the 5 ms back, to the µs.
    const want = server + msToFixed(20) - UNIX;
    const got = sntpTime();
    const diff = <i64>(got - want);
    expect(fixedToUs(diff < 0 ? -diff : diff)).toBeLessThanOrEqual(16);
    expect(sntpUnixMs() / 1000).toBe(<u64>(3974140800 - 2208988800));
    // It runs on the board's ms clock.
    const before = sntpUnixMs();
    tick(1234);
    expect(sntpUnixMs() - before).toBe(1234);
  });

  it("crosses the NTP era: a server in 2036 after the wrap of NTP seconds", () => {
    up();
    sntpSetServers(S1, 0);
    tick(0);
    // Era 1, second 4096: 2036-02-07 07:36:32 UTC = Unix 2085982592.
    const server: u64 = <u64>4096 << 32;
    exchange(server - reqTransmit(lastRequest()));
    expect(sntpSynced()).toBe(true);
    expect(<u32>((sntpTime() + msToFixed(1)) >> 32)).toBe(2085982592);
    // A second sample, the server 250 ms ahead of us now: the offset is small and exact.
    tick(SNTP_POLL_MIN_MS);
    expect(requests()).toBe(2);
    const ahead = msToFixed(250);
    exchange(ahead);
    expect(fixedToUs(sntpOffset())).toBeGreaterThanOrEqual(249_990);
    expect(fixedToUs(sntpOffset())).toBeLessThanOrEqual(250_010);
  });

  it("takes a sample across the wrap of the ms clock and keeps time through it", () => {
    up(0xffffff00);
    sntpSetServers(S1, 0);
    tick(0);
    const server: u64 = <u64>3974140800 << 32;
    const t2 = server + msToFixed(100);
    const t3 = t2 + msToFixed(76);
    setClock(0x00000014); // 276 ms later, past the wrap
    expect(reply(t2, t3)).toBe(C.UDP_DELIVERED);
    expect(sntpSynced()).toBe(true);
    expect(fixedToUs(sntpDelay())).toBeGreaterThanOrEqual(200_000 - 16);
    expect(fixedToUs(sntpDelay())).toBeLessThanOrEqual(200_000);
    // Then a whole turn of the u32 ms clock (49.7 days) and more, polled once a minute; the
    // server gone, so the clock free-runs.
    sntpSetServers(0, 0);
    sntpSetDhcpServers(0, 0);
    const start = sntpUnixMs();
    let total: u64 = 0;
    for (let k = 0; k < 72_000; k++) {
      tick(60_000);
      total += 60_000;
    }
    expect(total).toBeGreaterThan(<u64>0x100000000);
    expect(sntpUnixMs() - start).toBe(total);
    expect(sntpSynced()).toBe(true);
  });

  it("drops replies from elsewhere, short, of the wrong mode, with a bogus origin or unsynchronised", () => {
    up();
    sntpSetServers(S1, 0);
    tick(0);
    const t1 = reqTransmit(lastRequest());
    const t2 = t1 + msToFixed(1);
    reply(t2, t2, 0, 2, 0x24, 0, S2);
    expect(ctr(C.SNTP_BAD_SOURCE)).toBe(1);
    reply(t2, t2, 0, 2, 0x24, 0, 0, 124);
    expect(ctr(C.SNTP_BAD_SOURCE)).toBe(2); // the server's address, another port
    reply(t2, t2, 0, 2, 0x25); // mode 5, broadcast
    expect(ctr(C.SNTP_BAD_MODE)).toBe(1);
    reply(t2, t2, t1 ^ 0x10000); // origin not what we sent
    expect(ctr(C.SNTP_BAD_ORIGIN)).toBe(1);
    reply(t2, t2, 0, 2, 0xe4); // LI 3: the server is not synchronised
    reply(t2, t2, 0, 16); // stratum 16
    reply(t2, 0); // no transmit timestamp
    expect(ctr(C.SNTP_UNSYNCED)).toBe(3);
    expect(sntpSynced()).toBe(false);
    expect(ctr(C.SNTP_SAMPLES)).toBe(0);
    // The request is still open: a good reply is taken.
    expect(reply(t2, t2)).toBe(C.UDP_DELIVERED);
    expect(sntpSynced()).toBe(true);
    // The socket closed with it: a duplicate finds none.
    expect(reply(t2, t2)).toBe(C.UDP_NO_SOCKET);
  });

  it("drops a short packet without reading past it", () => {
    up();
    sntpSetServers(S1, 0);
    tick(0);
    const t2 = reqTransmit(lastRequest());
    begin();
    for (let k = 0; k < 47; k++) b8(k == 0 ? 0x24 : 0);
    expect(feed(replyFrame(S1, 123, reqPort(lastRequest())))).toBe(C.UDP_DELIVERED);
    expect(ctr(C.SNTP_MALFORMED)).toBe(1);
    expect(reply(t2, t2)).toBe(C.UDP_DELIVERED);
    expect(sntpSynced()).toBe(true);
  });

  it("polls again after the poll interval, doubling it to the maximum", () => {
    up();
    sntpSetServers(S1, 0);
    tick(0);
    let interval = SNTP_POLL_MIN_MS;
    for (let k = 0; k < 6; k++) {
      const t = reqTransmit(lastRequest());
      reply(t, t);
      expect(sntpSynced()).toBe(true);
      clearSent();
      tick(interval - 1);
      expect(requests()).toBe(0);
      tick(1);
      expect(requests()).toBe(1);
      interval = interval * 2 < SNTP_POLL_MAX_MS ? interval * 2 : SNTP_POLL_MAX_MS;
    }
    expect(sntpPollInterval()).toBe(SNTP_POLL_MAX_MS);
  });

  it("asks the next server on a timeout, then backs off exponentially without replies", () => {
    up();
    sntpSetServers(S1, S2);
    tick(0);
    expect(reqDst(lastRequest())).toBe(S1);
    tick(SNTP_TIMEOUT_MS);
    expect(requests()).toBe(2);
    expect(reqDst(lastRequest())).toBe(S2);
    expect(ctr(C.SNTP_TIMEOUTS)).toBe(1);
    tick(SNTP_TIMEOUT_MS); // the round failed
    expect(ctr(C.SNTP_TIMEOUTS)).toBe(2);
    let wait = SNTP_RETRY_MS;
    for (let k = 0; k < 9; k++) {
      clearSent();
      tick(wait - 1);
      expect(requests()).toBe(0);
      tick(1);
      expect(requests()).toBe(1);
      expect(reqDst(lastRequest())).toBe(S1);
      tick(SNTP_TIMEOUT_MS);
      tick(SNTP_TIMEOUT_MS);
      expect(requests()).toBe(2);
      wait = wait * 2 < SNTP_POLL_MAX_MS ? wait * 2 : SNTP_POLL_MAX_MS;
    }
    expect(wait).toBe(SNTP_POLL_MAX_MS);
  });

  it("honours a RATE kiss: no sample, the poll interval doubles and is waited out", () => {
    up();
    sntpSetServers(S1, S2);
    tick(0);
    const t = reqTransmit(lastRequest());
    reply(t, t, 0, 0, 0x24, RATE);
    expect(ctr(C.SNTP_KISSES)).toBe(1);
    expect(sntpSynced()).toBe(false);
    expect(sntpPollInterval()).toBe(SNTP_POLL_MIN_MS * 2);
    clearSent();
    tick(SNTP_POLL_MIN_MS * 2 - 1);
    expect(requests()).toBe(0);
    tick(1);
    expect(requests()).toBe(1);
  });

  it("ignores a kiss with a bogus origin, and stops asking a server that kisses DENY", () => {
    up();
    sntpSetServers(S1, S2);
    tick(0);
    const t = reqTransmit(lastRequest());
    reply(t, t, t ^ 0x10000, 0, 0x24, DENY);
    expect(ctr(C.SNTP_BAD_ORIGIN)).toBe(1);
    expect(ctr(C.SNTP_KISSES)).toBe(0);
    reply(t, t, 0, 0, 0x24, DENY);
    expect(ctr(C.SNTP_KISSES)).toBe(1);
    // The other server is asked at once, and only it from then on.
    expect(requests()).toBe(2);
    expect(reqDst(lastRequest())).toBe(S2);
    const u = reqTransmit(lastRequest());
    reply(u, u);
    expect(sntpSampleServer()).toBe(S2);
    clearSent();
    tick(SNTP_POLL_MIN_MS);
    expect(requests()).toBe(1);
    expect(reqDst(lastRequest())).toBe(S2);
    // A DENY from the last server: the client goes quiet.
    reply(reqTransmit(lastRequest()), 1, 0, 0, 0x24, DENY);
    clearSent();
    tick(SNTP_POLL_MAX_MS * 2);
    expect(requests()).toBe(0);
    // New servers: asked again.
    sntpSetServers(S1, 0);
    tick(0);
    expect(requests()).toBe(1);
  });

  it("asks again at once when the request waited for ARP: its T1 is early by that wait", () => {
    bringUp(1000);
    sntpReset();
    sntpSetServers(S1, 0);
    tick(0); // held: S1 is not resolved yet
    expect(requests()).toBe(0);
    tick(5);
    feed(arpFrame(2, S1, OUR_IP, false)); // the ARP reply: the request leaves
    expect(requests()).toBe(1);
    const t = reqTransmit(lastRequest());
    expect(reply(t, t)).toBe(C.UDP_DELIVERED);
    expect(sntpSynced()).toBe(false);
    expect(requests()).toBe(2);
    const u = reqTransmit(lastRequest());
    expect(u).not.toBe(t);
    reply(u, u);
    expect(sntpSynced()).toBe(true);
    expect(ctr(C.SNTP_REQUESTS)).toBe(2);
  });

  it("uses DHCP's servers unless servers are configured", () => {
    up();
    sntpSetDhcpServers(S2, 0);
    tick(0);
    expect(reqDst(lastRequest())).toBe(S2);
    sntpSetServers(S1, 0);
    tick(0);
    expect(reqDst(lastRequest())).toBe(S1);
    sntpSetServers(0, 0);
    expect(sntpServer(0)).toBe(S2);
  });
});
