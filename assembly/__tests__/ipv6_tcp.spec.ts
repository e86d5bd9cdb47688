// TCP over IPv6 with a scripted peer at fe80::2: the pseudo-header checksum both ways, a passive
// and an active open (MSS from the path MTU: 1500 - 40 - 20), data both ways, close, RSTs for a
// closed port and from the peer, TIME-WAIT's ACK, SYN cookies, IPv4 and IPv6 connections side by
// side on one listener, and a Packet Too Big lowering the MSS (RFC 8201 §5.2).
import { ACK, FIN, PSH, RST, SYN, TcpRepr } from "../wire/tcp";
import { WireError } from "../wire/error";
import { get16, get32, put32 } from "../support/bytes";
import { ECONNREFUSED, ECONNRESET, EHOSTUNREACH } from "../support/errors";
import { ADDR_DEPRECATED, ADDR_PREFERRED } from "../iface/ipv6";
import { ipv6AddressAt } from "../iface/ipv6_api";
import { rxBuf } from "../iface/netif";
import {
  tcpAbort, tcpAccept, tcpClose, tcpConnect6, tcpRecv, tcpRemote6, tcpRemoteIp, tcpSend, tcpSocket, tcpState, tcpTableRow, tcpTableRow6,
} from "../api/tcp";
import { CLOSED, CLOSE_WAIT, ESTABLISHED, TIME_WAIT } from "../sockets/tcp/pcb";
import { tcpCheck } from "../sockets/tcp/check";
import { TCP_MSS } from "../config";
import {
  C, OUR_PORT, PEER_PORT, advance, clearSent, ctr, feed, listenOn, PEER_IP, run, seg as seg4, sent, sentCount, last as last4,
} from "../testing";
import { OURS, PEER6, bringUpPeers6, ll, na, ra, sendIcmp, v6 } from "./ipv6_support";

const peer = changetype<TcpRepr>(heap.alloc(offsetof<TcpRepr>()));
const out = changetype<TcpRepr>(heap.alloc(offsetof<TcpRepr>()));
const buf = heap.alloc(4096);
const addr = heap.alloc(32);

/** fe80::2 sends a segment (len bytes of seq-indexed pattern, MSS option mss if not 0). */
function seg(flags: u32, seq: u32, ack: u32, len: u32 = 0, mss: u32 = 0, srcPort: u32 = PEER_PORT, dstPort: u32 = OUR_PORT, dst: usize = OURS): C {
  peer.srcPort = srcPort;
  peer.dstPort = dstPort;
  peer.seq = seq;
  peer.ack = ack;
  peer.flags = flags;
  peer.window = 65535;
  peer.urgent = 0;
  peer.noOptions();
  peer.mss = mss;
  peer.payloadLen = len;
  const hl = peer.emitLen();
  const p = v6(ll(2), dst, 6, hl + len, 64);
  for (let i: u32 = 0; i < len; i++) store<u8>(p + hl + i, <u8>(seq + i));
  peer.emit6(p, rxBuf + 22, rxBuf + 38);
  return feed(14 + 40 + hl + len);
}

/** Our k-th captured frame as TCP over IPv6 to fe80::2 from our address `from` (the link-local
 *  one unless told), its checksum valid, into `out`; false if it is not one. */
function parseSent(k: i32, from: usize = OURS): bool {
  if (k < 0 || k >= sentCount()) return false;
  const f = sent(k);
  if (get16(f + 12) != 0x86dd || load<u8>(f + 20) != 6) return false;
  if (memory.compare(f + 38, PEER6, 16) != 0 || memory.compare(f + 22, from, 16) != 0) return false;
  return out.parse6(f + 54, get16(f + 18), f + 22, f + 38) == WireError.OK;
}

function last(from: usize = OURS, what: string = ""): TcpRepr {
  expect(parseSent(sentCount() - 1, from)).toBe(true, "expected a TCP segment over IPv6 to fe80::2" + what);
  return out;
}

/** Rows of the connection table in TIME-WAIT. */
function timeWaits(): u32 {
  let n: u32 = 0;
  for (let r: u32 = 0; r < 32; r++) if (tcpTableRow(r, buf) && load<u32>(buf) == TIME_WAIT) n++;
  return n;
}

/** A listener on OUR_PORT and one connection from fe80::2 (ISN peerIsn) accepted; our ISS in iss. */
let iss: u32 = 0;
function accept6(peerIsn: u32): i32 {
  bringUpPeers6();
  const l = listenOn(OUR_PORT, 4);
  expect(seg(SYN, peerIsn, 0, 0, 1440)).toBe(C.TCP_DELIVERED);
  const sa = last();
  expect(sa.flags).toBe(SYN | ACK);
  expect(sa.ack).toBe(peerIsn + 1);
  expect(sa.mss).toBe(1440, "the path MTU (1500) less 40 + 20");
  iss = sa.seq;
  expect(seg(ACK, peerIsn + 1, iss + 1)).toBe(C.TCP_DELIVERED);
  const fd = tcpAccept(l);
  expect(fd).toBeGreaterThanOrEqual(0);
  clearSent();
  return fd;
}

/** fe80::2 sends an ICMPv6 error (type, code, with `word`) quoting our k-th captured frame. */
function icmpError(type: u32, code: u32, word: u32, k: i32): C {
  const m = v6(ll(2), OURS, 58, 8 + 60, 64);
  store<u8>(m, <u8>type);
  store<u8>(m, <u8>code, 1);
  put32(m + 4, word);
  memory.copy(m + 8, sent(k) + 14, 60);
  return sendIcmp(8 + 60);
}

describe("TCP over IPv6", () => {
  it("accepts a connection, carries data both ways and closes (passive close)", () => {
    const fd = accept6(1000);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(tcpRemote6(fd, addr)).toBe(1);
    expect(memory.compare(addr, PEER6, 16)).toBe(0);
    expect(tcpRemoteIp(fd)).toBe(0);
    expect(seg(ACK | PSH, 1001, iss + 1, 100)).toBe(C.TCP_DELIVERED);
    expect(tcpRecv(fd, buf, 200)).toBe(100);
    for (let i: u32 = 0; i < 100; i++) expect(load<u8>(buf + i)).toBe(<u8>(1001 + i));
    for (let i: u32 = 0; i < 50; i++) store<u8>(buf + i, <u8>(i * 3));
    expect(tcpSend(fd, buf, 50)).toBe(50);
    advance(0);
    const d = last();
    expect(d.seq).toBe(iss + 1);
    expect(d.ack).toBe(1101);
    expect(d.payloadLen).toBe(50);
    expect(load<u8>(sent(sentCount() - 1) + 54 + d.headerLen + 49)).toBe(<u8>147);
    expect(seg(ACK | FIN, 1101, iss + 51)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(CLOSE_WAIT);
    expect(last().ack).toBe(1102);
    expect(tcpClose(fd)).toBe(0);
    const f = last();
    expect(f.flags & FIN).toBe(FIN);
    expect(seg(ACK, 1102, iss + 52)).toBe(C.TCP_DELIVERED);
    expect(tcpCheck()).toBe(0);
  });

  it("connects to [fe80::2]:80 with the path's MSS, exchanges data and aborts with a RST", () => {
    bringUpPeers6();
    const fd = tcpSocket();
    expect(tcpConnect6(fd, PEER6, 80)).toBe(0);
    const syn = last();
    expect(syn.flags).toBe(SYN);
    expect(syn.mss).toBe(1440);
    const lport = syn.srcPort;
    expect(seg(SYN | ACK, 5000, syn.seq + 1, 0, 1440, 80, lport)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(last().flags).toBe(ACK);
    expect(tcpSend(fd, buf, 3000)).toBe(3000);
    advance(0);
    // Full segments of the peer's MSS (1440), no larger.
    let n = 0;
    for (let k = 0; k < sentCount(); k++) if (parseSent(k) && out.payloadLen > 0) {
      expect(out.payloadLen).toBeLessThanOrEqual(1440);
      n++;
    }
    expect(n).toBeGreaterThanOrEqual(2);
    expect(seg(ACK | PSH, 5001, syn.seq + 1, 10, 0, 80, lport)).toBe(C.TCP_DELIVERED);
    expect(tcpRecv(fd, buf, 100)).toBe(10);
    clearSent();
    expect(tcpAbort(fd)).toBe(0);
    const r = last();
    expect(r.flags & RST).toBe(RST);
    expect(r.dstPort).toBe(80);
  });

  it("answers a SYN to a closed port with a RST over IPv6, and a peer's RST resets the connection", () => {
    bringUpPeers6();
    expect(seg(SYN, 42, 0, 0, 0, PEER_PORT, 9999)).toBe(C.TCP_NO_SOCKET);
    const r = last();
    expect(r.flags).toBe(RST | ACK);
    expect(r.ack).toBe(43);
    expect(sentCount()).toBe(1); // no ICMPv6 error besides
    const fd = accept6(7000);
    expect(seg(RST, 7001, 0)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 10)).toBe(ECONNRESET);
  });

  it("keeps TIME-WAIT for an IPv6 peer and ACKs its retransmitted FIN over IPv6", () => {
    const fd = accept6(100);
    expect(tcpClose(fd)).toBe(0); // FIN-WAIT-1; the block goes once TIME-WAIT starts
    expect(last().flags & FIN).toBe(FIN);
    expect(seg(ACK, 101, iss + 2)).toBe(C.TCP_DELIVERED);
    expect(seg(ACK | FIN, 101, iss + 2)).toBe(C.TCP_DELIVERED);
    expect(last().ack).toBe(102);
    let rows = 0;
    for (let r: u32 = 0; r < 32; r++) {
      if (tcpTableRow(r, buf) && load<u32>(buf) == TIME_WAIT) {
        expect(tcpTableRow6(r, addr)).toBe(1);
        expect(memory.compare(addr + 16, PEER6, 16)).toBe(0);
        expect(memory.compare(addr, OURS, 16)).toBe(0);
        rows++;
      }
    }
    expect(rows).toBe(1);
    clearSent();
    expect(seg(ACK | FIN, 101, iss + 2)).toBe(C.TCP_TIME_WAIT);
    expect(last().ack).toBe(102);
  });

  it("demuxes IPv4 and IPv6 connections with the same ports on one listener", () => {
    bringUpPeers6();
    const l = listenOn(OUR_PORT, 4);
    expect(seg(SYN, 100, 0, 0, 1440)).toBe(C.TCP_DELIVERED);
    const iss6 = last().seq;
    expect(seg4(SYN, 900, 0, 0, 65535, 1460)).toBe(C.TCP_DELIVERED);
    const sa4 = last4();
    expect(sa4.mss).toBe(TCP_MSS);
    expect(seg(ACK, 101, iss6 + 1)).toBe(C.TCP_DELIVERED);
    expect(seg4(ACK, 901, sa4.seq + 1)).toBe(C.TCP_DELIVERED);
    const a = tcpAccept(l);
    const b = tcpAccept(l);
    expect(tcpRemote6(a, addr)).toBe(1);
    expect(tcpRemote6(b, addr)).toBe(0);
    expect(tcpRemoteIp(b)).toBe(PEER_IP);
    expect(seg(ACK | PSH, 101, iss6 + 1, 7)).toBe(C.TCP_DELIVERED);
    expect(seg4(ACK | PSH, 901, sa4.seq + 1, 9)).toBe(C.TCP_DELIVERED);
    expect(tcpRecv(a, buf, 100)).toBe(7);
    expect(tcpRecv(b, buf, 100)).toBe(9);
    expect(tcpCheck()).toBe(0);
  });

  it("answers SYNs with cookies over IPv6 once the backlog is full, and opens on the cookie's ACK", () => {
    bringUpPeers6();
    listenOn(OUR_PORT, 1);
    expect(seg(SYN, 100, 0, 0, 1440, 2000)).toBe(C.TCP_DELIVERED);
    advance(1100); // the child goes stale
    clearSent();
    const before = ctr(C.TCP_SYNCOOKIES_OK);
    expect(seg(SYN, 5000, 0, 0, 1440, 3000)).toBe(C.TCP_SYN_COOKIE);
    const sa = last();
    expect(sa.flags).toBe(SYN | ACK);
    expect(sa.mss).toBe(1440);
    expect(seg(ACK, 5001, sa.seq + 1, 0, 0, 3000)).toBe(C.TCP_DELIVERED);
    expect(ctr(C.TCP_SYNCOOKIES_OK)).toBe(before + 1);
    // The same ACK from another address is no cookie of ours: a RST.
    const p = v6(ll(3), OURS, 6, 20, 64);
    peer.srcPort = 3001;
    peer.payloadLen = 0;
    peer.emit6(p, rxBuf + 22, rxBuf + 38);
    expect(feed(14 + 60)).toBe(C.TCP_BAD_ACK);
  });

  it("fails a connect on an ICMPv6 port unreachable about its SYN, not on one outside the window", () => {
    bringUpPeers6();
    const fd = tcpSocket();
    expect(tcpConnect6(fd, PEER6, 80)).toBe(0);
    const k = sentCount() - 1;
    expect(parseSent(k)).toBe(true);
    // A time exceeded is soft: the connection goes on opening.
    expect(icmpError(1, 3, 0, k)).toBe(C.ICMP6_ERROR_RECEIVED);
    expect(tcpState(fd)).toBe(2); // SYN-SENT
    // A port unreachable quoting another sequence number is not believed (RFC 5927).
    const q = sent(k) + 14 + 40 + 4;
    put32(q, get32(q) + 100000);
    const before = ctr(C.TCP_ICMP_OUT_OF_WINDOW);
    expect(icmpError(1, 1, 4, k)).toBe(C.TCP_ICMP_OUT_OF_WINDOW);
    expect(ctr(C.TCP_ICMP_OUT_OF_WINDOW)).toBe(before + 1);
    put32(q, get32(q) - 100000);
    expect(icmpError(1, 1, 4, k)).toBe(C.ICMP6_ERROR_RECEIVED);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 10)).toBe(ECONNREFUSED);
  });

  it("keeps a deprecated SLAAC address's connection, and fails it when the address expires, sending nothing more from it (RFC 4862 §5.5.4)", () => {
    bringUpPeers6();
    expect(ra(ll(0xfe), 255, 0xc0, 30, 10)).toBe(C.ND_RA_RECEIVED);
    run(2500); // DAD
    const g = heap.alloc(24);
    expect(ipv6AddressAt(1, g)).toBe(ADDR_PREFERRED);
    const l = listenOn(OUR_PORT, 4);
    // fe80::2 connects to the SLAAC address, and from another port to the link-local one.
    expect(seg(SYN, 5000, 0, 0, 1440, PEER_PORT, OUR_PORT, g)).toBe(C.TCP_DELIVERED);
    const gIss = last(g, " a").seq;
    expect(seg(ACK, 5001, gIss + 1, 0, 0, PEER_PORT, OUR_PORT, g)).toBe(C.TCP_DELIVERED);
    const fdG = tcpAccept(l);
    expect(seg(SYN, 9000, 0, 0, 1440, PEER_PORT + 1)).toBe(C.TCP_DELIVERED);
    const lIss = last(OURS, " b").seq;
    expect(seg(ACK, 9001, lIss + 1, 0, 0, PEER_PORT + 1)).toBe(C.TCP_DELIVERED);
    const fdL = tcpAccept(l);
    expect(fdG).toBeGreaterThanOrEqual(0);
    expect(fdL).toBeGreaterThanOrEqual(0);
    // A third to the SLAAC address, closed into TIME-WAIT (2 MSL: it would outlive the address).
    expect(seg(SYN, 7000, 0, 0, 1440, PEER_PORT + 2, OUR_PORT, g)).toBe(C.TCP_DELIVERED);
    const tIss = last(g, " t").seq;
    expect(seg(ACK, 7001, tIss + 1, 0, 0, PEER_PORT + 2, OUR_PORT, g)).toBe(C.TCP_DELIVERED);
    expect(tcpClose(tcpAccept(l))).toBe(0);
    expect(seg(ACK | FIN, 7001, tIss + 2, 0, 0, PEER_PORT + 2, OUR_PORT, g)).toBe(C.TCP_DELIVERED);
    expect(timeWaits()).toBe(1);
    run(10_000);
    expect(ipv6AddressAt(1, g)).toBe(ADDR_DEPRECATED);
    clearSent();
    expect(tcpSend(fdG, buf, 10)).toBe(10); // deprecated: its connections go on
    na(2, OURS, ll(2), 0x60000000, 2); // the answer to NUD's probe (the segment waits for it)
    expect(last(g, " c").payloadLen).toBe(10);
    expect(seg(ACK, 5001, gIss + 11, 0, 0, PEER_PORT, OUR_PORT, g)).toBe(C.TCP_DELIVERED);
    run(20_000);
    expect(ctr(C.ND_ADDRESSES_EXPIRED)).toBe(1);
    expect(tcpState(fdG)).toBe(CLOSED);
    expect(tcpRecv(fdG, buf, 10)).toBe(EHOSTUNREACH);
    expect(tcpState(fdL)).toBe(ESTABLISHED);
    expect(timeWaits()).toBe(0);
    clearSent();
    expect(tcpSend(fdG, buf, 10)).toBeLessThan(0);
    run(5000);
    for (let k = 0; k < sentCount(); k++) expect(memory.compare(sent(k) + 22, g, 16)).not.toBe(0, "a frame from the expired address");
    // The link-local connection still carries data.
    expect(tcpSend(fdL, buf, 5)).toBe(5);
    na(2, OURS, ll(2), 0x60000000, 2);
    expect(last(OURS, " d").payloadLen).toBe(5);
  });

  it("lowers the MSS after a Packet Too Big for the peer (RFC 8201 §5.2)", () => {
    const fd = accept6(300);
    expect(tcpSend(fd, buf, 100)).toBe(100);
    advance(0);
    const k = sentCount() - 1;
    expect(parseSent(k)).toBe(true);
    // A router says 1280: its PTB quotes our packet (IPv6 header first).
    const m = v6(ll(2), OURS, 58, 8 + 140, 64);
    store<u8>(m, 2);
    store<u8>(m, 0, 1);
    put32(m + 4, 1280);
    memory.copy(m + 8, sent(k) + 14, 140);
    expect(sendIcmp(8 + 140)).toBe(C.ICMP6_ERROR_RECEIVED);
    expect(seg(ACK, 301, iss + 101)).toBe(C.TCP_DELIVERED);
    clearSent();
    expect(tcpSend(fd, buf, 3000)).toBe(3000);
    advance(0);
    let n = 0;
    for (let j = 0; j < sentCount(); j++) if (parseSent(j) && out.payloadLen > 0) {
      expect(out.payloadLen).toBeLessThanOrEqual(1220);
      expect(get16(sent(j) + 18) + 40).toBeLessThanOrEqual(1280);
      n++;
    }
    expect(n).toBeGreaterThanOrEqual(2);
  });
});
