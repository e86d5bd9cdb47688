// Scripted peers: a host on the link that sends crafted ARP, ICMP, UDP and TCP to the stack and
// checks what the stack sends back. Every expect* method returns "" when the stack's frame matches
// the script and otherwise a description of the difference, for a test to assert on:
//   expect(conn.expect(SYN | ACK, 0, 1)).toBe("");
// TCP sequence numbers are relative: the peer's to its ISN, the stack's to the ISS it chose (learnt
// from its SYN or SYN-ACK), so a script reads like a ladder diagram (seq=0 on the SYN, 1 after).
import { C } from "../support/counters";
import { get16, get32, put16 } from "../support/bytes";
import { checksum } from "../wire/checksum";
import { WireError } from "../wire/error";
import { ACK, FIN, PSH, RST, SYN, TcpRepr } from "../wire/tcp";
import { UdpRepr } from "../wire/udp";
import { arpFrame, echoRequest, feed, ipHeader } from "./frames";
import { OUR_IP, PEER_IP, captureEpoch, ipString, sent, sentCount, sentLen, sentOverflow } from "./stack";

/** Any value: leave this field of an expectation unchecked. */
export const ANY: i64 = -1;

export function flagNames(f: u32): string {
  let s = "";
  if (f & SYN) s += "SYN|";
  if (f & FIN) s += "FIN|";
  if (f & RST) s += "RST|";
  if (f & PSH) s += "PSH|";
  if (f & ACK) s += "ACK|";
  if (f & 0x20) s += "URG|";
  return s.length ? s.slice(0, s.length - 1) : "none";
}

/** Bytes as text for messages: printable ASCII as is, the rest as \xNN, cut after max. */
export function bytesText(p: usize, len: u32, max: u32 = 120): string {
  let s = "";
  const n = min<u32>(len, max);
  for (let i: u32 = 0; i < n; i++) {
    const b = <u32>load<u8>(p + i);
    if (b == 10) s += "\\n";
    else if (b == 13) s += "\\r";
    else if (b >= 32 && b < 127) s += String.fromCharCode(b);
    else s += "\\x" + (b < 16 ? "0" : "") + b.toString(16);
  }
  if (len > max) s += "...(" + len.toString() + " bytes)";
  return s;
}

/** The ASCII bytes of s in a fresh buffer (test code only: it allocates). */
export function ascii(s: string): usize {
  const p = heap.alloc(max<usize>(1, <usize>s.length));
  for (let i = 0; i < s.length; i++) store<u8>(p + i, <u8>s.charCodeAt(i));
  return p;
}

function textAt(p: usize, len: u32): string {
  let s = "";
  for (let i: u32 = 0; i < len; i++) s += String.fromCharCode(load<u8>(p + i));
  return s;
}

function noneLeft(): string {
  return sentOverflow() > 0 ? "nothing (the capture overflowed: clearSent() between steps)" : "nothing";
}

// Frame layout of what the stack sends: Ethernet (14), IPv4 without options (20), then the payload.
function isIpv4(f: usize, proto: u32): bool {
  return get16(f + 12) == 0x0800 && <u32>load<u8>(f + 23) == proto;
}

/** A host on the link: 10.0.0.2 with MAC 02:00:00:00:00:02 unless told otherwise. */
export class Peer {
  ip: u32;
  mac: u32;
  private udpCursor: i32 = 0;
  private icmpCursor: i32 = 0;
  private arpCursor: i32 = 0;
  private epoch: u32 = 0;
  /** The last datagram an expectUdp took: its ports and payload (in the capture). */
  udpSrcPort: u32 = 0;
  udpDstPort: u32 = 0;
  udpPayload: usize = 0;
  udpLen: u32 = 0;
  private udp: UdpRepr = changetype<UdpRepr>(heap.alloc(offsetof<UdpRepr>()));

  constructor(ip: u32 = PEER_IP, mac: u32 = 2) {
    this.ip = ip;
    this.mac = mac;
  }

  private sync(): void {
    if (this.epoch != captureEpoch) {
      this.epoch = captureEpoch;
      this.udpCursor = 0;
      this.icmpCursor = 0;
      this.arpCursor = 0;
    }
  }

  /** An ARP request from this peer for our address: the stack learns the peer and answers. */
  introduce(): C {
    return feed(arpFrame(1, this.ip, OUR_IP, true, this.mac));
  }

  /** An ARP reply from this peer (to the stack's request for it). */
  arpReply(): C {
    return feed(arpFrame(2, this.ip, OUR_IP, false, this.mac));
  }

  /** The stack's next ARP request for this peer's address. */
  expectArpRequest(): string {
    this.sync();
    while (this.arpCursor < sentCount()) {
      const f = sent(this.arpCursor++);
      if (get16(f + 12) == 0x0806 && get16(f + 20) == 1 && get32(f + 38) == this.ip) return "";
    }
    return "expected an ARP request for " + ipString(this.ip) + ", got " + noneLeft();
  }

  /** A TCP connection from this peer's port to the stack's ourPort (0: learnt from the stack's
   *  first segment, for an active open), with the peer's ISN isn. */
  tcp(port: u32, ourPort: u32, isn: u32 = 1000000): TcpPeer {
    return new TcpPeer(this, port, ourPort, isn);
  }

  /** A UDP datagram from this peer's sport to the stack's dport with len bytes from p. */
  udpBytes(sport: u32, dport: u32, p: usize, len: u32, dst: u32 = OUR_IP): C {
    const q = ipHeader(17, this.ip, dst, 8 + len);
    memory.copy(q + 8, p, len);
    const u = this.udp;
    u.srcPort = sport;
    u.dstPort = dport;
    u.payloadLen = len;
    u.emit(q, this.ip, dst);
    return feed(14 + 20 + 8 + len);
  }

  udpSend(sport: u32, dport: u32, text: string, dst: u32 = OUR_IP): C {
    return this.udpBytes(sport, dport, ascii(text), <u32>text.length, dst);
  }

  /** The stack's next UDP datagram to this peer: from its port sport, to dport (ANY: unchecked),
   *  with exactly text as payload (null: unchecked). Takes it: udpPayload/udpLen point at it. */
  expectUdp(sport: i64 = ANY, dport: i64 = ANY, text: string | null = null): string {
    this.sync();
    while (this.udpCursor < sentCount()) {
      const k = this.udpCursor++;
      const f = sent(k);
      if (!isIpv4(f, 17) || get32(f + 30) != this.ip) continue;
      const u = this.udp;
      const ipLen = get16(f + 16);
      if (u.parse(f + 34, ipLen - 20, get32(f + 26), this.ip) != WireError.OK) return "a malformed UDP datagram (frame " + k.toString() + ")";
      this.udpSrcPort = u.srcPort;
      this.udpDstPort = u.dstPort;
      this.udpPayload = f + 42;
      this.udpLen = u.payloadLen;
      const got = "UDP " + u.srcPort.toString() + " -> " + u.dstPort.toString() + " \"" + bytesText(f + 42, u.payloadLen) + "\"";
      let ok = (sport == ANY || <u32>sport == u.srcPort) && (dport == ANY || <u32>dport == u.dstPort);
      if (text != null) ok = ok && textAt(f + 42, u.payloadLen) == text;
      if (ok) return "";
      const want = "UDP " + (sport == ANY ? "*" : sport.toString()) + " -> " + (dport == ANY ? "*" : dport.toString()) +
        (text != null ? " \"" + bytesText(ascii(text), <u32>text.length) + "\"" : "");
      return "expected " + want + ", got " + got;
    }
    return "expected a UDP datagram to " + ipString(this.ip) + ", got " + noneLeft();
  }

  /** The payload of the datagram expectUdp took last, as text. */
  udpText(): string {
    return textAt(this.udpPayload, this.udpLen);
  }

  /** An echo request from this peer (size payload bytes) to dst. */
  ping(ident: u32, seq: u32, size: u32 = 32, dst: u32 = OUR_IP): C {
    return feed(echoRequest(ident, seq, size, dst, 0, this.ip));
  }

  /** The stack's next ICMP message to this peer: type and code (ANY: unchecked). */
  expectIcmp(type: i64, code: i64 = ANY): string {
    this.sync();
    while (this.icmpCursor < sentCount()) {
      const k = this.icmpCursor++;
      const f = sent(k);
      if (!isIpv4(f, 1) || get32(f + 30) != this.ip) continue;
      const t = <u32>load<u8>(f + 34);
      const c = <u32>load<u8>(f + 35);
      if (checksum(f + 34, get16(f + 16) - 20) != 0) return "an ICMP message with a bad checksum (frame " + k.toString() + ")";
      if ((type == ANY || <u32>type == t) && (code == ANY || <u32>code == c)) return "";
      return "expected ICMP type " + type.toString() + " code " + (code == ANY ? "*" : code.toString()) +
        ", got type " + t.toString() + " code " + c.toString();
    }
    return "expected an ICMP message to " + ipString(this.ip) + ", got " + noneLeft();
  }

  /** The stack's echo reply to ping(ident, seq). */
  expectEchoReply(ident: u32, seq: u32): string {
    const r = this.expectIcmp(0, 0);
    if (r.length) return r;
    const f = sent(this.icmpCursor - 1);
    if (get16(f + 38) != ident || get16(f + 40) != seq) {
      return "expected an echo reply id " + ident.toString() + " seq " + seq.toString() + ", got id " + get16(f + 38).toString() +
        " seq " + get16(f + 40).toString();
    }
    return "";
  }
}

/** One TCP connection between a scripted peer and the stack. */
export class TcpPeer {
  peer: Peer;
  /** The peer's port, and the stack's (0 until learnt, for an active open by the stack). */
  port: u32;
  ourPort: u32;
  /** The peer's initial sequence number, and the stack's (known after its SYN or SYN-ACK). */
  isn: u32;
  iss: u32 = 0;
  issKnown: bool = false;
  /** Relative sequence number of the next byte the peer sends (its SYN is 0). */
  nxt: u32 = 0;
  /** Relative sequence number of the next byte expected from the stack: the peer's ACK. */
  rcv: u32 = 0;
  /** The window the peer advertises. */
  window: u32 = 65535;
  /** The stack's FIN has been seen. */
  finSeen: bool = false;
  /** The segment the last expect took (absolute numbers), and where its payload is. */
  got: TcpRepr = changetype<TcpRepr>(heap.alloc(offsetof<TcpRepr>()));
  gotPayload: usize = 0;
  private cursor: i32 = 0;
  private epoch: u32 = 0;
  private tx: TcpRepr = changetype<TcpRepr>(heap.alloc(offsetof<TcpRepr>()));

  constructor(peer: Peer, port: u32, ourPort: u32, isn: u32) {
    this.peer = peer;
    this.port = port;
    this.ourPort = ourPort;
    this.isn = isn;
  }

  // ---- what the peer sends ----

  /** A segment at the peer's next sequence number, ACKing what it has seen of the stack's (with
   *  ACK in flags), carrying len bytes from p. Moves the peer's sequence on; returns the counter. */
  sendBytes(flags: u32, p: usize, len: u32, mss: u32 = 0, wscale: i32 = -1): C {
    const t = this.tx;
    t.srcPort = this.port;
    t.dstPort = this.ourPort;
    t.seq = this.isn + this.nxt;
    t.ack = (flags & ACK) ? this.iss + this.rcv : 0;
    t.flags = flags;
    t.window = this.window;
    t.urgent = 0;
    t.noOptions();
    t.mss = mss;
    t.wscale = wscale;
    t.payloadLen = len;
    const hl = t.emitLen();
    const q = ipHeader(6, this.peer.ip, OUR_IP, hl + len);
    if (len) memory.copy(q + hl, p, len);
    t.emit(q, this.peer.ip, OUR_IP);
    this.nxt += len + ((flags & SYN) ? 1 : 0) + ((flags & FIN) ? 1 : 0);
    return feed(14 + 20 + hl + len);
  }

  /** A segment with text as its payload (see sendBytes). */
  send(flags: u32, text: string = "", mss: u32 = 0, wscale: i32 = -1): C {
    return this.sendBytes(flags, ascii(text), <u32>text.length, mss, wscale);
  }

  /** A segment that goes back to relative sequence number seq first (a retransmission). */
  resend(flags: u32, seq: u32, text: string = ""): C {
    const keep = this.nxt;
    this.nxt = seq;
    const c = this.send(flags, text);
    if (<i32>(keep - this.nxt) > 0) this.nxt = keep;
    return c;
  }

  /** The peer opens a connection to the stack's listener: SYN (with MSS mss), the stack's SYN-ACK,
   *  the peer's ACK. "" when established, else what went wrong. */
  open(mss: u32 = 1460): string {
    this.send(SYN, "", mss);
    const r = this.expect(SYN | ACK, 0, 1, 0);
    if (r.length) return r;
    this.send(ACK);
    return "";
  }

  /** The peer answers the stack's active open: takes its SYN, sends SYN-ACK (MSS mss), takes the
   *  stack's ACK. "" when established. */
  accept(mss: u32 = 1460): string {
    let r = this.expect(SYN, 0, ANY, 0);
    if (r.length) return r;
    this.send(SYN | ACK, "", mss);
    r = this.expect(ACK, 1, 1, 0);
    return r;
  }

  // ---- what the stack sends ----

  /** Takes the stack's next segment to this connection into `got`; false when there is none. */
  take(): bool {
    if (this.epoch != captureEpoch) {
      this.epoch = captureEpoch;
      this.cursor = 0;
    }
    while (this.cursor < sentCount()) {
      const f = sent(this.cursor++);
      if (!isIpv4(f, 6) || get32(f + 30) != this.peer.ip) continue;
      const g = this.got;
      const ipLen = get16(f + 16);
      if (ipLen < 40 || g.parse(f + 34, ipLen - 20, get32(f + 26), this.peer.ip) != WireError.OK) continue;
      if (g.dstPort != this.port || (this.ourPort != 0 && g.srcPort != this.ourPort)) continue;
      if (this.ourPort == 0) this.ourPort = g.srcPort;
      if ((g.flags & SYN) && !this.issKnown) {
        this.iss = g.seq;
        this.issKnown = true;
      }
      this.gotPayload = f + 34 + g.headerLen;
      // What the peer has now seen in order moves its ACK on (a retransmission brings nothing).
      const rel = g.seq - this.iss;
      const end = rel + g.payloadLen + ((g.flags & SYN) ? 1 : 0) + ((g.flags & FIN) ? 1 : 0);
      if (<i32>(rel - this.rcv) <= 0 && <i32>(end - this.rcv) > 0) this.rcv = end;
      if (g.flags & FIN) this.finSeen = true;
      return true;
    }
    return false;
  }

  /** The segment in `got`, relative numbers, as a ladder label: "SYN|ACK seq=0 ack=1 len=0". */
  describeGot(): string {
    const g = this.got;
    return flagNames(g.flags) + " seq=" + (<i32>(g.seq - this.iss)).toString() + " ack=" +
      ((g.flags & ACK) ? (<i32>(g.ack - this.isn)).toString() : "-") + " len=" + g.payloadLen.toString();
  }

  /** The stack's next segment to this connection has exactly these flags and, unless ANY, this
   *  relative seq, relative ack and payload length. Returns "" or the difference. */
  expect(flags: u32, seq: i64 = ANY, ack: i64 = ANY, len: i64 = ANY): string {
    const want = flagNames(flags) + " seq=" + (seq == ANY ? "*" : seq.toString()) + " ack=" + (ack == ANY ? "*" : ack.toString()) +
      " len=" + (len == ANY ? "*" : len.toString());
    if (!this.take()) return "expected " + want + ", got " + noneLeft();
    const g = this.got;
    const ok = g.flags == flags && (seq == ANY || <u32>(g.seq - this.iss) == <u32>seq) &&
      (ack == ANY || ((g.flags & ACK) != 0 && <u32>(g.ack - this.isn) == <u32>ack)) && (len == ANY || g.payloadLen == <u32>len);
    return ok ? "" : "expected " + want + ", got " + this.describeGot();
  }

  /** expect(), and the payload is exactly text. */
  expectText(flags: u32, seq: i64, ack: i64, text: string): string {
    const r = this.expect(flags, seq, ack, text.length);
    if (r.length) return r;
    const got = textAt(this.gotPayload, this.got.payloadLen);
    return got == text ? "" : "expected payload \"" + bytesText(ascii(text), <u32>text.length) + "\", got \"" +
      bytesText(this.gotPayload, this.got.payloadLen) + "\"";
  }

  /** The stack has sent nothing more to this connection. */
  expectNone(): string {
    return this.take() ? "expected nothing, got " + this.describeGot() : "";
  }

  /** Takes every segment the stack has sent to this connection; returns the new in-order payload
   *  bytes as text (what an application on the peer would read). */
  recvText(): string {
    let s = "";
    let before = this.rcv;
    while (this.take()) {
      const g = this.got;
      const rel = g.seq - this.iss;
      // New bytes are those from the old RCV.NXT on (a retransmission brings nothing new).
      if (<i32>(this.rcv - before) > 0 && g.payloadLen > 0) {
        let skip = <i32>(before - rel) - ((g.flags & SYN) ? 1 : 0);
        if (skip < 0) skip = 0;
        if (<u32>skip < g.payloadLen) s += textAt(this.gotPayload + skip, g.payloadLen - <u32>skip);
      }
      before = this.rcv;
    }
    return s;
  }

  /** An ACK of everything seen so far. */
  ack(): C {
    return this.send(ACK);
  }
}
