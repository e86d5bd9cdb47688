import {
  ARP_CACHE_SIZE, ARP_ENTRY_TTL_MS, ARP_MAX_REQUESTS, ARP_PENDING_MAX, ARP_PENDING_BYTES, ARP_PENDING_PER_NEIGHBOUR, ARP_REFRESH_MS, ARP_REQUEST_INTERVAL_MS,
  FRAME_MAX,
} from "../config";
import { setNow, now } from "../support/clock";
import { C } from "../support/counters";
import { get16, get32 } from "../support/bytes";
import { ENOBUFS, OK } from "../support/errors";
import { arpCheck, arpOutput, arpPoll, arpQueued, arpState, FREE, PENDING, RESOLVED } from "../iface/arp";
import { txBuf } from "../iface/netif";
import { poll } from "../index";
import { OUR_IP, PEER_IP, arpFrame, bringUp, clearSent, ctr, feed, sent, sentCount, sentLen } from "../testing";

/** A len-byte (100 by default) IPv4-typed frame in txBuf whose payload starts with marker. */
function sendMarked(dst: u32, marker: u32, len: u32 = 100): i32 {
  store<u32>(txBuf + 14, marker);
  store<u32>(txBuf + len - 4, ~marker); // and ends with its complement: the whole frame is kept
  return arpOutput(txBuf, len, dst, 0x0800);
}

function expectRequestFor(i: i32, ip: u32): void {
  const f = sent(i);
  expect(load<u32>(f)).toBe(0xffffffff); // broadcast
  expect(get16(f + 12)).toBe(0x0806);
  expect(get16(f + 14 + 6)).toBe(1); // request
  expect(get32(f + 14 + 14)).toBe(OUR_IP); // spa
  expect(get32(f + 14 + 24)).toBe(ip); // tpa
}

/** Entries resolving among the spoofed sources 10.0.0.10 .. 10.0.0.249. */
function pendingSpoofed(): i32 {
  let n = 0;
  for (let h: u32 = 10; h < 250; h++) if (arpState(0x0a000000 | h) == PENDING) n++;
  return n;
}

describe("ARP", () => {
  it("keeps real peers' entries through frames to a flood of spoofed on-link sources; pending ones stay bounded", () => {
    bringUp();
    const REAL2: u32 = 0x0a000003;
    const REAL3: u32 = 0x0a000004;
    expect(feed(arpFrame(1, PEER_IP, OUR_IP))).toBe(C.ARP_REQUEST_ANSWERED); // a real client
    expect(sendMarked(PEER_IP, 1)).toBe(OK);
    // Answering 10 x the cache of spoofed sources (SYN-ACKs to a SYN flood), a millisecond apart.
    for (let k: u32 = 0; k < 10 * <u32>ARP_CACHE_SIZE; k++) {
      setNow(now + 1);
      sendMarked(0x0a000000 | (10 + k % 240), k);
      if (k % 8 == 0) expect(sendMarked(PEER_IP, k)).toBe(OK); // the real client's traffic goes on
    }
    expect(arpState(PEER_IP)).toBe(RESOLVED, "the real client's entry survived");
    expect(pendingSpoofed()).toBe(ARP_PENDING_MAX);
    // Another real peer asks for us mid-flood: it is learnt, and our answer goes straight out.
    expect(feed(arpFrame(1, REAL2, OUR_IP, true, 3))).toBe(C.ARP_REQUEST_ANSWERED);
    expect(arpState(REAL2)).toBe(RESOLVED);
    clearSent();
    expect(sendMarked(REAL2, 7)).toBe(OK);
    expect(sentCount()).toBe(1);
    expect(load<u32>(sent(0) + 14)).toBe(7);
    // A peer we resolve ourselves gets an entry (an old pending one gives way) and its reply lands.
    expect(sendMarked(REAL3, 8)).toBe(OK);
    expect(arpState(REAL3)).toBe(PENDING);
    expect(feed(arpFrame(2, REAL3, OUR_IP, false, 4))).toBe(C.ARP_REPLY_ACCEPTED);
    expect(arpState(REAL3)).toBe(RESOLVED);
    expect(arpCheck()).toBe(0);
    // A cache's worth of new peers asking for us: free and pending entries go first, then the
    // resolved ones, least recently used first.
    setNow(now + 1);
    for (let k: u32 = 0; k < <u32>ARP_CACHE_SIZE; k++) feed(arpFrame(1, 0x0a000100 | k, OUR_IP, true, 5 + k));
    expect(arpState(PEER_IP)).toBe(FREE);
    expect(arpCheck()).toBe(0);
  });

  it("sends a gratuitous ARP at start", () => {
    bringUp();
    // bringUp clears the capture after init; count it instead.
    expect(ctr(C.ARP_GRATUITOUS_SENT)).toBe(1);
  });

  it("answers a request for our address and learns the asker", () => {
    bringUp();
    expect(feed(arpFrame(1, PEER_IP, OUR_IP))).toBe(C.ARP_REQUEST_ANSWERED);
    expect(sentCount()).toBe(1);
    const f = sent(0);
    expect(sentLen(0)).toBe(60); // padded to the Ethernet minimum
    expect(get16(f + 12)).toBe(0x0806);
    expect(get16(f + 14 + 6)).toBe(2); // reply
    expect(get32(f + 14 + 14)).toBe(OUR_IP);
    expect(get32(f + 14 + 24)).toBe(PEER_IP);
    expect(load<u8>(f + 5)).toBe(2); // to the asker's MAC 02:..:02
    expect(load<u8>(f + 11)).toBe(1); // from ours 02:..:01
    expect(arpState(PEER_IP)).toBe(RESOLVED);
  });

  it("ignores requests for other addresses and keeps its cache clean", () => {
    bringUp();
    expect(feed(arpFrame(1, PEER_IP, 0x0a000009))).toBe(C.ARP_NOT_FOR_US);
    expect(sentCount()).toBe(0);
    expect(arpState(PEER_IP)).toBe(FREE);
  });

  it("holds frames while resolving, then sends them in order to the learnt MAC", () => {
    bringUp();
    expect(sendMarked(PEER_IP, 0xaaaa0001)).toBe(OK);
    expect(sendMarked(PEER_IP, 0xaaaa0002)).toBe(OK);
    expect(sentCount()).toBe(1); // one request, not two (rate limit)
    expectRequestFor(0, PEER_IP);
    expect(arpState(PEER_IP)).toBe(PENDING);
    expect(arpQueued(PEER_IP)).toBe(2);
    expect(feed(arpFrame(2, PEER_IP, OUR_IP, false))).toBe(C.ARP_REPLY_ACCEPTED);
    expect(sentCount()).toBe(3);
    expect(load<u32>(sent(1) + 14)).toBe(0xaaaa0001);
    expect(load<u32>(sent(2) + 14)).toBe(0xaaaa0002);
    expect(load<u8>(sent(1) + 5)).toBe(2);
    expect(get16(sent(1) + 12)).toBe(0x0800);
    expect(arpQueued(PEER_IP)).toBe(0);
    // Resolved: the next frame goes straight out.
    clearSent();
    expect(sendMarked(PEER_IP, 0xaaaa0003)).toBe(OK);
    expect(sentCount()).toBe(1);
    expect(load<u32>(sent(0) + 14)).toBe(0xaaaa0003);
  });

  it("bounds the frames held per neighbour", () => {
    bringUp();
    for (let i = 0; i < ARP_PENDING_PER_NEIGHBOUR; i++) expect(sendMarked(PEER_IP, i)).toBe(OK);
    const drops = ctr(C.ARP_QUEUE_DROPS);
    expect(sendMarked(PEER_IP, 99)).toBe(ENOBUFS);
    expect(ctr(C.ARP_QUEUE_DROPS)).toBe(drops + 1);
  });

  it("holds several neighbours' frames in one pool and releases each neighbour's intact", () => {
    bringUp();
    const OTHER: u32 = PEER_IP + 1;
    expect(sendMarked(PEER_IP, 0xbbbb0001, 60)).toBe(OK);
    expect(sendMarked(OTHER, 0xcccc0001, 700)).toBe(OK);
    expect(sendMarked(PEER_IP, 0xbbbb0002, 600)).toBe(OK);
    expect(sendMarked(OTHER, 0xcccc0002, 77)).toBe(OK);
    clearSent();
    // OTHER resolves first: its two frames leave, PEER's stay queued and unharmed.
    feed(arpFrame(2, OTHER, OUR_IP, false));
    expect(sentCount()).toBe(2);
    expect(load<u32>(sent(0) + 14)).toBe(0xcccc0001);
    expect(sentLen(0)).toBe(700);
    expect(load<u32>(sent(0) + 696)).toBe(~0xcccc0001);
    expect(load<u32>(sent(1) + 14)).toBe(0xcccc0002);
    expect(sentLen(1)).toBe(77);
    expect(load<u32>(sent(1) + 73)).toBe(~0xcccc0002);
    expect(arpQueued(PEER_IP)).toBe(2);
    feed(arpFrame(2, PEER_IP, OUR_IP, false));
    expect(sentCount()).toBe(4);
    expect(load<u32>(sent(2) + 14)).toBe(0xbbbb0001);
    expect(load<u32>(sent(2) + 56)).toBe(~0xbbbb0001);
    expect(load<u32>(sent(3) + 14)).toBe(0xbbbb0002);
    expect(sentLen(3)).toBe(600);
    expect(load<u32>(sent(3) + 596)).toBe(~0xbbbb0002);
    expect(arpQueued(PEER_IP)).toBe(0);
  });

  it("bounds the pool in bytes: a full-sized frame that does not fit is dropped and counted", () => {
    bringUp();
    // config.ts: a frame takes its length (at least 60) plus 6, rounded up to 4.
    const FULL: u32 = (6 + FRAME_MAX + 3) & ~3;
    const SMALL: u32 = 68;
    let held: u32 = 0;
    let k: u32 = 0;
    // One full-sized frame per neighbour until the pool is full.
    while (held + FULL <= ARP_PENDING_BYTES) {
      expect(sendMarked(PEER_IP + k, k, FRAME_MAX)).toBe(OK);
      held += FULL;
      k++;
    }
    expect(k).toBeGreaterThanOrEqual(1);
    const drops = ctr(C.ARP_QUEUE_DROPS);
    expect(sendMarked(PEER_IP + k, k, FRAME_MAX)).toBe(ENOBUFS);
    expect(ctr(C.ARP_QUEUE_DROPS)).toBe(drops + 1);
    // What is left still takes small frames, exactly as many as fit.
    while (held + SMALL <= ARP_PENDING_BYTES) {
      k++;
      expect(sendMarked(PEER_IP + k, k, 60)).toBe(OK);
      held += SMALL;
    }
    expect(sendMarked(PEER_IP + k + 1, k, 60)).toBe(ENOBUFS);
  });

  it("re-confirms an entry in use before it expires, by unicast, and the reply renews it", () => {
    bringUp(1000);
    feed(arpFrame(1, PEER_IP, OUR_IP));
    clearSent();
    setNow(1000 + ARP_ENTRY_TTL_MS - ARP_REFRESH_MS - 1);
    expect(sendMarked(PEER_IP, 1)).toBe(OK);
    expect(sentCount()).toBe(1); // not yet due
    setNow(1000 + ARP_ENTRY_TTL_MS - ARP_REFRESH_MS);
    expect(sendMarked(PEER_IP, 2)).toBe(OK);
    expect(sentCount()).toBe(3); // the request, then the frame: no wait
    const q = sent(1);
    expect(get16(q + 12)).toBe(0x0806);
    expect(get16(q + 14 + 6)).toBe(1);
    expect(load<u8>(q)).toBe(2); // unicast, to the neighbour's MAC 02:..:02
    expect(load<u8>(q + 5)).toBe(2);
    expect(get32(q + 14 + 24)).toBe(PEER_IP);
    expect(load<u32>(sent(2) + 14)).toBe(2);
    expect(sendMarked(PEER_IP, 3)).toBe(OK);
    expect(sentCount()).toBe(4); // at most one request per interval
    // The reply confirms the MAC: the entry lives on past its old expiry.
    feed(arpFrame(2, PEER_IP, OUR_IP, false));
    setNow(1000 + ARP_ENTRY_TTL_MS + 10);
    poll(now);
    expect(arpState(PEER_IP)).toBe(RESOLVED);
  });

  it("retries once per interval, then gives up and drops what it held", () => {
    bringUp(5000);
    sendMarked(PEER_IP, 1);
    expect(sentCount()).toBe(1);
    setNow(5000 + ARP_REQUEST_INTERVAL_MS - 1);
    expect(arpPoll()).toBe(1); // next retry in 1 ms
    expect(sentCount()).toBe(1);
    for (let k: u32 = 1; k < ARP_MAX_REQUESTS; k++) {
      setNow(5000 + k * ARP_REQUEST_INTERVAL_MS);
      arpPoll();
      expect(sentCount()).toBe(<i32>k + 1);
      expectRequestFor(<i32>k, PEER_IP);
    }
    const gaveUp = ctr(C.ARP_GAVE_UP);
    const drops = ctr(C.ARP_QUEUE_DROPS);
    setNow(5000 + ARP_MAX_REQUESTS * ARP_REQUEST_INTERVAL_MS);
    arpPoll();
    expect(sentCount()).toBe(<i32>ARP_MAX_REQUESTS);
    expect(ctr(C.ARP_GAVE_UP)).toBe(gaveUp + 1);
    expect(ctr(C.ARP_QUEUE_DROPS)).toBe(drops + 1);
    expect(arpState(PEER_IP)).toBe(FREE);
  });

  it("expires resolved entries and resolves again", () => {
    bringUp(1000);
    feed(arpFrame(1, PEER_IP, OUR_IP));
    expect(arpState(PEER_IP)).toBe(RESOLVED);
    setNow(1000 + ARP_ENTRY_TTL_MS - 1);
    expect(arpState(PEER_IP)).toBe(RESOLVED);
    setNow(1000 + ARP_ENTRY_TTL_MS);
    poll(now);
    expect(arpState(PEER_IP)).toBe(FREE);
    clearSent();
    sendMarked(PEER_IP, 7);
    expect(sentCount()).toBe(1);
    expectRequestFor(0, PEER_IP);
  });

  it("polls between deadlines skip the scan and miss no expiry or retry", () => {
    bringUp(2000);
    feed(arpFrame(1, PEER_IP, OUR_IP));
    expect(arpState(PEER_IP)).toBe(RESOLVED);
    const expired = ctr(C.ARP_EXPIRED);
    for (let ms: u32 = 1; ms < 50; ms++) {
      setNow(2000 + ms);
      poll(now);
    }
    setNow(2000 + ARP_ENTRY_TTL_MS - 1);
    poll(now);
    expect(ctr(C.ARP_EXPIRED)).toBe(expired);
    setNow(2000 + ARP_ENTRY_TTL_MS);
    poll(now); // the poll's scan, not arpState's check, frees it
    expect(ctr(C.ARP_EXPIRED)).toBe(expired + 1);
    // A new resolution asks again after each interval though polls come every ms in between.
    clearSent();
    const t0 = now;
    sendMarked(PEER_IP, 3);
    expect(sentCount()).toBe(1);
    for (let ms: u32 = 1; ms < ARP_REQUEST_INTERVAL_MS; ms++) {
      setNow(t0 + ms);
      expect(arpPoll()).toBe(ARP_REQUEST_INTERVAL_MS - ms);
    }
    expect(sentCount()).toBe(1);
    setNow(t0 + ARP_REQUEST_INTERVAL_MS);
    arpPoll();
    expect(sentCount()).toBe(2);
    expectRequestFor(1, PEER_IP);
  });

  it("keeps time across the wrap of the u32 clock", () => {
    bringUp(0xffffff00);
    sendMarked(PEER_IP, 1);
    setNow(0xffffff00 + ARP_REQUEST_INTERVAL_MS); // wrapped past zero
    arpPoll();
    expect(sentCount()).toBe(2);
    feed(arpFrame(2, PEER_IP, OUR_IP, false));
    expect(arpState(PEER_IP)).toBe(RESOLVED);
    setNow(0xffffff00 + ARP_ENTRY_TTL_MS - 1);
    expect(arpState(PEER_IP)).toBe(RESOLVED);
  });

  it("does not let an unsolicited reply create or change an entry", () => {
    bringUp();
    expect(feed(arpFrame(2, PEER_IP, OUR_IP, false))).toBe(C.ARP_REPLY_UNSOLICITED);
    expect(arpState(PEER_IP)).toBe(FREE);
    feed(arpFrame(1, PEER_IP, OUR_IP)); // learnt from a request to us
    // The same IP now claims another MAC in a reply: rejected, the entry keeps the old MAC.
    const len = arpFrame(2, PEER_IP, OUR_IP, false);
    store<u8>(rxBufSender() + 5, 0x66);
    expect(feed(len)).toBe(C.ARP_REPLY_UNSOLICITED);
    clearSent();
    sendMarked(PEER_IP, 5);
    expect(load<u8>(sent(0) + 5)).toBe(2);
  });

  it("detects another host claiming our address", () => {
    bringUp();
    expect(feed(arpFrame(1, OUR_IP, 0x0a000009))).toBe(C.ARP_ADDRESS_CONFLICT);
  });

  it("rejects broadcast sender hardware addresses", () => {
    bringUp();
    const len = arpFrame(1, PEER_IP, OUR_IP);
    store<u8>(rxBufSender(), 0x01); // multicast sha
    expect(feed(len)).toBe(C.ARP_BAD_SENDER);
    expect(arpState(PEER_IP)).toBe(FREE);
  });
});

import { rxBuf } from "../iface/netif";
function rxBufSender(): usize {
  return rxBuf + 14 + 8;
}

describe("ARP sender checks", () => {
  it("rejects another address claimed at our own MAC", () => {
    bringUp();
    const len = arpFrame(1, PEER_IP, OUR_IP);
    store<u8>(rxBufSender() + 5, 0x01); // sha = 02:00:00:00:00:01, ours
    expect(feed(len)).toBe(C.ARP_BAD_SENDER);
    expect(arpState(PEER_IP)).toBe(FREE);
  });
});
