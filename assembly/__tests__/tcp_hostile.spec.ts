// Hostile segments at a listening and an established socket: random and mutated headers, flags,
// options, offsets, windows and sequence numbers. Nothing traps, no received byte is lost or
// corrupted, the state stays sane, and memory does not grow.
import { ACK, FIN, PSH, RST, SYN, TcpRepr } from "../wire/tcp";
import { tcpAccept, tcpBind, tcpListen, tcpRecv, tcpSocket, tcpState } from "../api/tcp";
import { ESTABLISHED, LISTEN, pcb, pcbFree, rcvRing, sndRing } from "../sockets/tcp/pcb";
import { TCP_RCV_BUF, TCP_SND_BUF } from "../config";
import { seqLe } from "../sockets/tcp/seq";
import { checksum, sumAdd, sumFold, sumPseudo } from "../wire/checksum";
import { put16 } from "../support/bytes";
import { rxBuf } from "../iface/netif";
import { C, OUR_PORT, PEER_PORT, clearSent, last, seg, tcpUp } from "../testing";
import { OUR_IP, PEER_IP, feed, ipHeader } from "../testing";

let rng: u32 = 0x9e3779b9;
function rand(): u32 {
  rng ^= rng << 13;
  rng ^= rng >>> 17;
  rng ^= rng << 5;
  return rng;
}
function below(n: u32): u32 {
  return rand() % n;
}

const buf = heap.alloc(8192);
const PISN: u32 = 0xfffff000; // the stream crosses the 2^32 wrap

/** A random mutation of a segment from the peer: header bytes, options, lengths, sequence numbers. */
function hostile(rcvNxt: u32, ourUna: u32): void {
  const len = below(64);
  const optLen = below(4) * 4;
  const p = ipHeader(6, PEER_IP, OUR_IP, 20 + optLen + len);
  for (let i: u32 = 0; i < 20 + optLen + len; i++) store<u8>(p + i, <u8>rand());
  put16(p, PEER_PORT);
  put16(p + 2, OUR_PORT);
  // Sequence numbers near the edges that matter, or anywhere.
  const k = below(6);
  const seq = k == 0 ? rcvNxt + below(3) - 1 : k == 1 ? rcvNxt + below(TCP_RCV_BUF * 2) : k == 2 ? rcvNxt - below(100000) : rand();
  store<u32>(p + 4, bswap<u32>(seq));
  const a = below(4);
  const ack = a == 0 ? ourUna : a == 1 ? ourUna + below(3) - 1 : rand();
  store<u32>(p + 8, bswap<u32>(ack));
  // Data offset: mostly right, sometimes absurd.
  const off: u32 = below(5) == 0 ? below(16) : (20 + optLen) >> 2;
  store<u8>(p + 12, <u8>(off << 4));
  // Flags: any combination, but no FIN and never an exact RST: either may legitimately end the
  // stream, and those transitions have their own tests.
  let flags = rand() & 0x3f & ~FIN;
  if ((flags & RST) != 0 && seq == rcvNxt) flags &= ~RST;
  store<u8>(p + 13, <u8>flags);
  // Options: kinds 0..8 with wild lengths. The payload (from the data offset on) carries the
  // stream's own bytes, so whatever a correct stack accepts is still the right data: with a valid
  // checksum and an in-window sequence number, random bytes would be indistinguishable from the
  // peer's, which no receiver can detect.
  const total: u32 = 20 + optLen + len;
  const dataAt = off << 2;
  for (let j: u32 = 20; j < total; j++) {
    if (j >= dataAt) store<u8>(p + j, <u8>(seq + j - dataAt));
    else if (below(3) == 0) store<u8>(p + j, <u8>below(9));
  }
  // Mostly a correct checksum, so the deep paths are reached.
  store<u16>(p + 16, 0);
  if (below(8) != 0) {
    const s = ~sumFold(sumAdd(sumPseudo(PEER_IP, OUR_IP, 6, total), p, total)) & 0xffff;
    put16(p + 16, s);
  }
  const frameLen = 14 + 20 + total;
  feed(below(10) == 0 ? below(frameLen + 1) : frameLen); // sometimes truncated
}

describe("TCP under hostile segments", () => {
  it("keeps an established stream intact", () => {
    tcpUp();
    const l = tcpSocket();
    tcpBind(l, OUR_PORT);
    tcpListen(l, 5);
    seg(SYN, PISN, 0, 0, 65535, 1460);
    const iss = last().seq;
    seg(ACK, PISN + 1, iss + 1);
    const fd = tcpAccept(l);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    const pages = memory.size();
    let next: u32 = PISN + 1; // next byte the peer sends
    let got: u32 = 0; // bytes the application has read
    for (let round = 0; round < 20000; round++) {
      clearSent();
      if (below(3) == 0) {
        const n = 1 + below(600);
        seg(ACK | PSH, next, iss + 1, n);
        // Our side may have accepted fewer if the window was short; follow what it acknowledged.
        next = pcb(fd).rcvNxt;
      } else {
        hostile(pcb(fd).rcvNxt, iss + 1);
      }
      const c = pcb(fd);
      // Checked without expect() each round: its objects would grow the test's own heap and
      // hide whether the core allocates (the memory check below).
      const sane = tcpState(fd) == ESTABLISHED && seqLe(c.sndUna, c.sndNxt) && seqLe(c.sndNxt, c.sndMax) &&
        rcvRing(fd).len <= TCP_RCV_BUF && sndRing(fd).len <= TCP_SND_BUF;
      if (!sane) {
        expect(tcpState(fd)).toBe(ESTABLISHED, "round " + round.toString());
        expect(seqLe(c.sndUna, c.sndNxt) && seqLe(c.sndNxt, c.sndMax)).toBe(true, "send sequence order");
        expect(rcvRing(fd).len <= TCP_RCV_BUF && sndRing(fd).len <= TCP_SND_BUF).toBe(true, "ring bounds");
        return;
      }
      // The application reads everything in order: byte i of the stream is <u8>(PISN + 1 + i).
      for (;;) {
        const r = tcpRecv(fd, buf, 8192);
        if (r <= 0) break;
        for (let i = 0; i < r; i++) {
          if (load<u8>(buf + i) != <u8>(PISN + 1 + got + <u32>i)) {
            expect(got + <u32>i).toBe(0xffffffff, "corrupted byte at stream offset");
            return;
          }
        }
        got += <u32>r;
      }
      next = pcb(fd).rcvNxt;
    }
    expect(got).toBeGreaterThan(100000);
    expect(got).toBe(pcb(fd).rcvNxt - (PISN + 1));
    expect(memory.size()).toBe(pages);
  });

  it("keeps a listener listening, and a real handshake still works afterwards", () => {
    tcpUp();
    const l = tcpSocket();
    tcpBind(l, OUR_PORT);
    tcpListen(l, 3);
    for (let round = 0; round < 20000; round++) {
      hostile(rand(), rand());
      // Half-open children time out or are accepted and dropped; keep the backlog from filling.
      let fd = tcpAccept(l);
      while (fd >= 0) {
        pcbFree(fd); // drop the connection without sending anything
        fd = tcpAccept(l);
      }
      if (round % 1000 == 999) {
        // Let SYN-RECEIVED children expire.
        for (let k = 0; k < 8; k++) {
          const c = pcb(k);
          if (c.parent == l && c.state != LISTEN) pcbFree(k);
        }
      }
    }
    expect(tcpState(l)).toBe(LISTEN);
    for (let k = 0; k < 8; k++) if (k != l) pcbFree(k);
    clearSent();
    expect(seg(SYN, 7777, 0, 0, 65535, 1460, -1, 50000)).toBe(C.TCP_DELIVERED);
    const iss = last().seq;
    expect(seg(ACK, 7778, iss + 1, 0, 65535, 0, -1, 50000)).toBe(C.TCP_DELIVERED);
    expect(tcpAccept(l)).toBeGreaterThanOrEqual(0);
  });
});
