// Raw TCP scripting for tests that work with absolute sequence numbers: the peer (PEER_IP) sends
// segments with every field given; the stack's segments are parsed from the capture. TcpPeer
// (peer.ts) is the relative-number, expectation-style layer over the same frames.
import { C } from "../support/counters";
import { get16, get32, put16, put32 } from "../support/bytes";
import { sumAdd, sumFold, sumPseudo } from "../wire/checksum";
import { WireError } from "../wire/error";
import { ACK, SYN, TcpRepr, setTxTimestamps } from "../wire/tcp";
import { tcpAccept, tcpBind, tcpConnect, tcpListen, tcpSocket, tcpTableRow } from "../api/tcp";
import { arpFrame, feed, ipHeader } from "./frames";
import { ANY, Peer, TcpPeer } from "./peer";
import { OUR_IP, PEER_IP, advance, bringUp, clearSent, sent, sentCount } from "./stack";

export const PEER_PORT: u32 = 40000;
export const OUR_PORT: u32 = 8080;

const peer = changetype<TcpRepr>(heap.alloc(offsetof<TcpRepr>()));
/** The segment parseSent() or last() parsed. */
export const out = changetype<TcpRepr>(heap.alloc(offsetof<TcpRepr>()));

/** A stack with the peer already in its ARP cache, capture cleared. */
export function tcpUp(t: u32 = 1000): void {
  bringUp(t);
  feed(arpFrame(1, PEER_IP, OUR_IP));
  clearSent();
}

/** The peer's next header, without options. */
function peerHeader(flags: u32, seq: u32, ack: u32, window: u32, srcPort: u32, dstPort: u32): void {
  peer.srcPort = srcPort;
  peer.dstPort = dstPort;
  peer.seq = seq;
  peer.ack = ack;
  peer.flags = flags;
  peer.window = window;
  peer.urgent = 0;
  peer.noOptions();
}

/** The peer's segment as set up in `peer`, with len bytes of (seq-indexed) pattern, fed in. */
function sendPeer(seq: u32, len: u32): C {
  peer.payloadLen = len;
  const hl = peer.emitLen();
  const p = ipHeader(6, PEER_IP, OUR_IP, hl + len);
  for (let i: u32 = 0; i < len; i++) store<u8>(p + hl + i, <u8>(seq + i));
  peer.emit(p, PEER_IP, OUR_IP);
  return feed(14 + 20 + hl + len);
}

/** The peer sends a segment; the payload is len bytes of (seq-indexed) pattern: byte i is
 *  <u8>(seq + i). Returns the counter that accounted for it. */
export function seg(flags: u32, seq: u32, ack: u32, len: u32 = 0, window: u32 = 65535, mss: u32 = 0, wscale: i32 = -1, srcPort: u32 = PEER_PORT, dstPort: u32 = OUR_PORT, sackPermitted: bool = false): C {
  peerHeader(flags, seq, ack, window, srcPort, dstPort);
  peer.mss = mss;
  peer.wscale = wscale;
  peer.sackPermitted = sackPermitted;
  return sendPeer(seq, len);
}

/** The peer sends a segment like seg() that carries a timestamps option (RFC 7323 §3) with tsval
 *  and tsecr; a SYN also carries MSS mss. Parsing our segments (parseSent, last) leaves their
 *  values in rxTsVal/rxTsEcr (wire/tcp.ts). */
export function segTs(flags: u32, seq: u32, ack: u32, len: u32, tsval: u32, tsecr: u32, mss: u32 = 0, sackPermitted: bool = false): C {
  peerHeader(flags, seq, ack, 65535, PEER_PORT, OUR_PORT);
  peer.mss = mss;
  peer.sackPermitted = sackPermitted;
  peer.tsPresent = true;
  setTxTimestamps(tsval, tsecr);
  return sendPeer(seq, len);
}

/** The peer sends a pure ACK (flags) carrying SACK blocks: blocks holds (left, right) pairs of
 *  absolute sequence numbers, at most 4 pairs. */
export function segSack(flags: u32, seq: u32, ack: u32, blocks: u32[], window: u32 = 65535): C {
  peerHeader(flags, seq, ack, window, PEER_PORT, OUR_PORT);
  const n = <u32>blocks.length >> 1;
  for (let k: u32 = 0; k < n; k++) peer.setSack(k, blocks[k << 1], blocks[(k << 1) + 1]);
  peer.sackCount = n;
  peer.payloadLen = 0;
  const hl = peer.emitLen();
  const p = ipHeader(6, PEER_IP, OUR_IP, hl);
  peer.emit(p, PEER_IP, OUR_IP);
  return feed(14 + 20 + hl);
}

/** The peer sends a segment without payload whose options are exactly the bytes opts (padded
 *  with EOL to a word), for options emit() would not write (malformed ones). */
export function segOptions(flags: u32, seq: u32, ack: u32, opts: u8[], window: u32 = 65535): C {
  const hl: u32 = 20 + ((<u32>opts.length + 3) & ~3);
  const p = ipHeader(6, PEER_IP, OUR_IP, hl);
  put16(p, PEER_PORT);
  put16(p + 2, OUR_PORT);
  put32(p + 4, seq);
  put32(p + 8, ack);
  store<u8>(p + 12, <u8>((hl >> 2) << 4));
  store<u8>(p + 13, <u8>flags);
  put16(p + 14, window);
  put32(p + 16, 0);
  for (let i: u32 = 20; i < hl; i++) store<u8>(p + i, i - 20 < <u32>opts.length ? opts[i - 20] : 0);
  put16(p + 16, ~sumFold(sumAdd(sumPseudo(PEER_IP, OUR_IP, 6, hl), p, hl)) & 0xffff);
  return feed(14 + 20 + hl);
}

/** Parses our k-th captured frame as TCP into `out`; false if it is not a TCP segment. */
export function parseSent(k: i32): bool {
  if (k < 0 || k >= sentCount()) return false;
  const f = sent(k);
  if (get16(f + 12) != 0x0800 || load<u8>(f + 23) != 6) return false;
  const total = get16(f + 16);
  return out.parse(f + 34, total - 20, get32(f + 26), get32(f + 30)) == WireError.OK;
}

/** Parses the last captured frame; fails the test if there is none. */
export function last(): TcpRepr {
  const ok = parseSent(sentCount() - 1);
  expect(ok).toBe(true, "expected a TCP segment from the stack");
  return out;
}

/** Payload byte i of the k-th captured segment (after parseSent(k)). */
export function payloadByte(k: i32, i: u32): u8 {
  return load<u8>(sent(k) + 34 + out.headerLen + i);
}

/** A listening socket on port (bind and listen must succeed); returns its fd. */
export function listenOn(port: u32 = OUR_PORT, backlog: u32 = 4): i32 {
  const l = tcpSocket();
  expect(tcpBind(l, port)).toBe(0);
  expect(tcpListen(l, backlog)).toBe(0);
  return l;
}

/** A listener on OUR_PORT and one accepted connection from the peer (ISN peerIsn, MSS mss, SACK
 *  permitted if sack), its ACK rttMs after our SYN-ACK (the handshake's RTT sample); returns the
 *  fd. Our ISS is then in acceptedIss. Capture cleared. */
export let acceptedIss: u32 = 0;
export function acceptOne(peerIsn: u32, mss: u32 = 1460, sack: bool = false, rttMs: u32 = 0): i32 {
  tcpUp();
  const l = listenOn(OUR_PORT, 5);
  expect(seg(SYN, peerIsn, 0, 0, 65535, mss, -1, PEER_PORT, OUR_PORT, sack)).toBe(C.TCP_DELIVERED);
  acceptedIss = last().seq;
  if (rttMs) advance(rttMs);
  expect(seg(ACK, peerIsn + 1, acceptedIss + 1)).toBe(C.TCP_DELIVERED);
  const fd = tcpAccept(l);
  clearSent();
  return fd;
}

/** An active open: the stack connects to the peer's port (ISN peerIsn) and its SYN is checked;
 *  returns the fd. The peer, in relative numbers, is then connectedPeer. Nothing answered yet. */
export let connectedPeer: TcpPeer = new Peer().tcp(80, 0);
export function connectOne(peerIsn: u32, port: u32 = 80): i32 {
  tcpUp();
  const fd = tcpSocket();
  expect(tcpConnect(fd, PEER_IP, port)).toBe(0);
  connectedPeer = new Peer().tcp(port, 0, peerIsn);
  expect(connectedPeer.expect(SYN, 0, ANY, 0)).toBe("");
  return fd;
}

const stateRow = heap.alloc(28);
/** The state the connection table shows for the connection to the peer's port, -1 if none (for
 *  an active open, whose local port is ephemeral). */
export function stateTo(remotePort: u32): i32 {
  for (let r: u32 = 0; r < 16; r++) {
    if (tcpTableRow(r, stateRow) && load<u32>(stateRow, 16) == remotePort) return <i32>load<u32>(stateRow);
  }
  return -1;
}
