// Builders and parsers for the frames wasmip speaks: Ethernet II, ARP, IPv4, ICMP echo, and the
// IPv6 header the simulated services (radvd, dnsd) need.
// Addresses are given as strings ("10.0.0.1", "02:00:00:00:00:01") or raw values; all
// multi-byte fields are network byte order on the wire.
import { ipToU32, parseMac, u32ToIp, formatMac } from "../board/address.ts";

export const ETHERTYPE_IPV4 = 0x0800;
export const ETHERTYPE_ARP = 0x0806;
export const ETHERTYPE_IPV6 = 0x86dd;
export const ETHERTYPE_VLAN = 0x8100;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
export const ARP_REQUEST = 1;
export const ARP_REPLY = 2;
export const ICMP_ECHO_REPLY = 0;
export const ICMP_ECHO_REQUEST = 8;
export const ETH_HEADER = 14;
export const ETH_MIN_FRAME = 60; // without FCS
export const ETH_MAX_FRAME = 1514;

export const BROADCAST_MAC = "ff:ff:ff:ff:ff:ff";

export type Mac = string | Uint8Array;
export type Ip = string | number;

export function macBytes(mac: Mac): Uint8Array {
  return typeof mac === "string" ? parseMac(mac) : mac.slice(0, 6);
}

export function ipNumber(ip: Ip): number {
  return typeof ip === "string" ? ipToU32(ip) : ip >>> 0;
}

/** The Internet checksum (RFC 1071) of `data`, folded and complemented. */
export function internetChecksum(data: Uint8Array, initial = 0): number {
  let sum = initial;
  const n = data.length;
  for (let i = 0; i + 1 < n; i += 2) sum += (data[i] << 8) | data[i + 1];
  if (n & 1) sum += data[n - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return ~sum & 0xffff;
}

function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 255;
  b[off + 1] = v & 255;
}

function put32(b: Uint8Array, off: number, v: number): void {
  put16(b, off, v >>> 16);
  put16(b, off + 2, v & 0xffff);
}

export function get16(b: Uint8Array, off: number): number {
  return (b[off] << 8) | b[off + 1];
}

export function get32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}

export interface EthernetOptions {
  dst: Mac;
  src: Mac;
  type: number;
  payload: Uint8Array;
  pad?: boolean; // pad to the 60-byte minimum (default true)
}

export function ethernet(o: EthernetOptions): Uint8Array {
  const len = ETH_HEADER + o.payload.length;
  const f = new Uint8Array(o.pad === false ? len : Math.max(len, ETH_MIN_FRAME));
  f.set(macBytes(o.dst), 0);
  f.set(macBytes(o.src), 6);
  put16(f, 12, o.type);
  f.set(o.payload, ETH_HEADER);
  return f;
}

export interface ArpOptions {
  op: number;
  sha: Mac;
  spa: Ip;
  tha?: Mac; // default 00:00:00:00:00:00
  tpa: Ip;
  htype?: number; // 1 (Ethernet)
  ptype?: number; // 0x0800
  hlen?: number; // 6
  plen?: number; // 4
}

/** An ARP packet (28 bytes for Ethernet/IPv4). */
export function arp(o: ArpOptions): Uint8Array {
  const p = new Uint8Array(28);
  put16(p, 0, o.htype ?? 1);
  put16(p, 2, o.ptype ?? ETHERTYPE_IPV4);
  p[4] = o.hlen ?? 6;
  p[5] = o.plen ?? 4;
  put16(p, 6, o.op);
  p.set(macBytes(o.sha), 8);
  put32(p, 14, ipNumber(o.spa));
  p.set(o.tha ? macBytes(o.tha) : new Uint8Array(6), 18);
  put32(p, 24, ipNumber(o.tpa));
  return p;
}

export interface Ipv4Options {
  src: Ip;
  dst: Ip;
  protocol: number;
  payload: Uint8Array;
  ttl?: number; // 64
  id?: number;
  tos?: number;
  df?: boolean;
  mf?: boolean;
  fragOffset?: number; // in 8-byte units
  options?: Uint8Array; // padded with zeros to a multiple of 4
}

/** An IPv4 packet with a correct header checksum. */
export function ipv4(o: Ipv4Options): Uint8Array {
  const optLen = o.options ? (o.options.length + 3) & ~3 : 0;
  const hl = 20 + optLen;
  const p = new Uint8Array(hl + o.payload.length);
  p[0] = 0x40 | (hl >>> 2);
  p[1] = o.tos ?? 0;
  put16(p, 2, p.length);
  put16(p, 4, o.id ?? 0);
  put16(p, 6, (o.df ? 0x4000 : 0) | (o.mf ? 0x2000 : 0) | ((o.fragOffset ?? 0) & 0x1fff));
  p[8] = o.ttl ?? 64;
  p[9] = o.protocol;
  put32(p, 12, ipNumber(o.src));
  put32(p, 16, ipNumber(o.dst));
  if (o.options) p.set(o.options, 20);
  p.set(o.payload, hl);
  fixIpv4Checksum(p);
  return p;
}

/** A UDP header and payload (RFC 768), checksum 0: none over IPv4; ipv6() fills it in. */
export function udp(srcPort: number, dstPort: number, payload: Uint8Array): Uint8Array {
  const u = new Uint8Array(8 + payload.length);
  put16(u, 0, srcPort);
  put16(u, 2, dstPort);
  put16(u, 4, u.length);
  u.set(payload, 8);
  return u;
}

/** The link-local address of a MAC: fe80:: and the modified EUI-64 (RFC 4291 appendix A). */
export function linkLocal(mac: Mac): Uint8Array {
  const m = macBytes(mac);
  const a = new Uint8Array(16);
  a.set([0xfe, 0x80], 0);
  a.set([m[0] ^ 2, m[1], m[2], 0xff, 0xfe, m[3], m[4], m[5]], 8);
  return a;
}

export interface Ipv6Options {
  src: Uint8Array;
  dst: Uint8Array;
  next: number; // the payload's protocol: no extension headers
  payload: Uint8Array;
  hopLimit?: number; // 64
}

/** An IPv6 packet (RFC 8200 §3) whose UDP, TCP or ICMPv6 checksum is filled in over the
 *  pseudo-header (§8.1; a UDP sum of 0 goes as 0xffff, RFC 768). */
export function ipv6(o: Ipv6Options): Uint8Array {
  const n = o.payload.length;
  const p = new Uint8Array(40 + n);
  p[0] = 0x60;
  put16(p, 4, n);
  p[6] = o.next;
  p[7] = o.hopLimit ?? 64;
  p.set(o.src.subarray(0, 16), 8);
  p.set(o.dst.subarray(0, 16), 24);
  p.set(o.payload, 40);
  const ck = o.next === IPPROTO_ICMPV6 ? 2 : o.next === IPPROTO_UDP ? 6 : o.next === IPPROTO_TCP ? 16 : -1;
  if (ck >= 0 && n >= ck + 2) {
    put16(p, 40 + ck, 0);
    let pseudo = (n >>> 16) + (n & 0xffff) + o.next;
    for (let i = 8; i < 40; i += 2) pseudo += get16(p, i);
    const sum = internetChecksum(p.subarray(40), pseudo);
    put16(p, 40 + ck, sum === 0 && o.next === IPPROTO_UDP ? 0xffff : sum);
  }
  return p;
}

/** Recompute the header checksum of the IPv4 packet at `off` in `b`, using its IHL as is. */
export function fixIpv4Checksum(b: Uint8Array, off = 0): void {
  const hl = Math.min((b[off] & 15) * 4, b.length - off);
  if (hl < 12) return;
  put16(b, off + 10, 0);
  put16(b, off + 10, internetChecksum(b.subarray(off, off + hl)));
}

export interface IcmpEchoOptions {
  type?: number; // ICMP_ECHO_REQUEST
  code?: number;
  id: number;
  seq: number;
  payload?: Uint8Array | number; // bytes, or a length filled with a pattern
}

/** An ICMP echo request/reply message with a correct checksum. */
export function icmpEcho(o: IcmpEchoOptions): Uint8Array {
  const data = typeof o.payload === "number" ? pattern(o.payload) : (o.payload ?? new Uint8Array(0));
  const m = new Uint8Array(8 + data.length);
  m[0] = o.type ?? ICMP_ECHO_REQUEST;
  m[1] = o.code ?? 0;
  put16(m, 4, o.id);
  put16(m, 6, o.seq);
  m.set(data, 8);
  put16(m, 2, internetChecksum(m));
  return m;
}

/** Recompute the checksum of an ICMP message in place. */
export function fixIcmpChecksum(m: Uint8Array): void {
  if (m.length < 4) return;
  put16(m, 2, 0);
  put16(m, 2, internetChecksum(m));
}

/** Bytes 0x10, 0x11, ... like ping's default payload. */
export function pattern(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (0x10 + i) & 255;
  return b;
}

// ---- Whole-frame conveniences ----------------------------------------------------------------

export function arpRequestFrame(o: { srcMac: Mac; srcIp: Ip; targetIp: Ip; dstMac?: Mac }): Uint8Array {
  return ethernet({
    dst: o.dstMac ?? BROADCAST_MAC,
    src: o.srcMac,
    type: ETHERTYPE_ARP,
    payload: arp({ op: ARP_REQUEST, sha: o.srcMac, spa: o.srcIp, tpa: o.targetIp }),
  });
}

export function arpReplyFrame(o: { srcMac: Mac; srcIp: Ip; dstMac: Mac; dstIp: Ip }): Uint8Array {
  return ethernet({
    dst: o.dstMac,
    src: o.srcMac,
    type: ETHERTYPE_ARP,
    payload: arp({ op: ARP_REPLY, sha: o.srcMac, spa: o.srcIp, tha: o.dstMac, tpa: o.dstIp }),
  });
}

export function icmpEchoFrame(o: {
  srcMac: Mac;
  dstMac: Mac;
  srcIp: Ip;
  dstIp: Ip;
  id: number;
  seq: number;
  payload?: Uint8Array | number;
  type?: number;
  ttl?: number;
}): Uint8Array {
  return ethernet({
    dst: o.dstMac,
    src: o.srcMac,
    type: ETHERTYPE_IPV4,
    payload: ipv4({
      src: o.srcIp,
      dst: o.dstIp,
      protocol: IPPROTO_ICMP,
      ttl: o.ttl,
      payload: icmpEcho({ type: o.type, id: o.id, seq: o.seq, payload: o.payload }),
    }),
  });
}

// ---- Parsers (lenient: they describe what is there, they do not validate) ------------------

export interface EthernetHeader {
  dst: string;
  src: string;
  type: number;
  payload: Uint8Array;
}

export function parseEthernet(f: Uint8Array): EthernetHeader | undefined {
  if (f.length < ETH_HEADER) return undefined;
  return { dst: formatMac(f.subarray(0, 6)), src: formatMac(f.subarray(6, 12)), type: get16(f, 12), payload: f.subarray(ETH_HEADER) };
}

export interface ArpPacket {
  op: number;
  sha: string;
  spa: string;
  tha: string;
  tpa: string;
}

export function parseArp(p: Uint8Array): ArpPacket | undefined {
  if (p.length < 28) return undefined;
  return {
    op: get16(p, 6),
    sha: formatMac(p.subarray(8, 14)),
    spa: u32ToIp(get32(p, 14)),
    tha: formatMac(p.subarray(18, 24)),
    tpa: u32ToIp(get32(p, 24)),
  };
}

export interface Ipv4Packet {
  ihl: number;
  totalLength: number;
  id: number;
  flags: number;
  fragOffset: number;
  ttl: number;
  protocol: number;
  src: string;
  dst: string;
  checksumOk: boolean;
  payload: Uint8Array; // bounded by total length and the buffer
}

export function parseIpv4(p: Uint8Array): Ipv4Packet | undefined {
  if (p.length < 20 || p[0] >>> 4 !== 4) return undefined;
  const ihl = p[0] & 15;
  const total = get16(p, 2);
  const hl = ihl * 4;
  return {
    ihl,
    totalLength: total,
    id: get16(p, 4),
    flags: p[6] >>> 5,
    fragOffset: get16(p, 6) & 0x1fff,
    ttl: p[8],
    protocol: p[9],
    src: u32ToIp(get32(p, 12)),
    dst: u32ToIp(get32(p, 16)),
    checksumOk: hl >= 20 && hl <= p.length && internetChecksum(p.subarray(0, hl)) === 0,
    payload: p.subarray(Math.min(hl, p.length), Math.min(Math.max(total, hl), p.length)),
  };
}

export interface Ipv6Packet {
  next: number;
  hopLimit: number;
  src: Uint8Array;
  dst: Uint8Array;
  payload: Uint8Array; // bounded by the payload length and the buffer
}

export function parseIpv6Packet(p: Uint8Array): Ipv6Packet | undefined {
  if (p.length < 40 || p[0] >>> 4 !== 6) return undefined;
  return { next: p[6], hopLimit: p[7], src: p.subarray(8, 24), dst: p.subarray(24, 40), payload: p.subarray(40, Math.min(p.length, 40 + get16(p, 4))) };
}

export interface IcmpMessage {
  type: number;
  code: number;
  id: number;
  seq: number;
  checksumOk: boolean;
  data: Uint8Array;
}

export function parseIcmp(m: Uint8Array): IcmpMessage | undefined {
  if (m.length < 8) return undefined;
  return { type: m[0], code: m[1], id: get16(m, 4), seq: get16(m, 6), checksumOk: internetChecksum(m) === 0, data: m.subarray(8) };
}

/** A one-line description of a frame, for logs and test failures. */
export function describeFrame(f: Uint8Array): string {
  const eth = parseEthernet(f);
  if (!eth) return `runt (${f.length} bytes)`;
  const head = `${eth.src} > ${eth.dst}`;
  if (eth.type === ETHERTYPE_ARP) {
    const a = parseArp(eth.payload);
    if (!a) return `${head} ARP (truncated)`;
    if (a.op === ARP_REQUEST) return `${head} ARP who-has ${a.tpa} tell ${a.spa}`;
    if (a.op === ARP_REPLY) return `${head} ARP ${a.spa} is-at ${a.sha}`;
    return `${head} ARP op ${a.op}`;
  }
  if (eth.type === ETHERTYPE_IPV4) {
    const ip = parseIpv4(eth.payload);
    if (!ip) return `${head} IPv4 (malformed)`;
    const base = `${head} ${ip.src} > ${ip.dst}`;
    if (ip.protocol === IPPROTO_ICMP) {
      const m = parseIcmp(ip.payload);
      if (m && (m.type === ICMP_ECHO_REQUEST || m.type === ICMP_ECHO_REPLY))
        return `${base} ICMP echo ${m.type === ICMP_ECHO_REQUEST ? "request" : "reply"} id ${m.id} seq ${m.seq} len ${m.data.length}`;
      return `${base} ICMP type ${m?.type ?? "?"}`;
    }
    return `${base} proto ${ip.protocol} len ${ip.totalLength}`;
  }
  return `${head} ethertype 0x${eth.type.toString(16).padStart(4, "0")} len ${f.length}`;
}

// ---- TCP (for crafted segments: the hostile-traffic tests) ---------------------------------

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

export interface TcpOptions {
  src: Ip; // for the pseudo-header checksum
  dst: Ip;
  srcPort: number;
  dstPort: number;
  seq: number;
  ack?: number;
  flags: number;
  window?: number; // 65535
  options?: Uint8Array; // raw option bytes, padded with zeros to a multiple of 4
  payload?: Uint8Array;
  /** Data offset in 32-bit words as written (default: from the options); a lie is not corrected. */
  dataOffset?: number;
  /** Leave the checksum wrong (it is correct by default). */
  badChecksum?: boolean;
}

/** A TCP segment (header, options, payload) with a correct checksum unless asked otherwise. */
export function tcp(o: TcpOptions): Uint8Array {
  const optLen = o.options ? (o.options.length + 3) & ~3 : 0;
  const payload = o.payload ?? new Uint8Array(0);
  const s = new Uint8Array(20 + optLen + payload.length);
  put16(s, 0, o.srcPort);
  put16(s, 2, o.dstPort);
  put32(s, 4, o.seq >>> 0);
  put32(s, 8, (o.ack ?? 0) >>> 0);
  s[12] = ((o.dataOffset ?? (20 + optLen) / 4) & 15) << 4;
  s[13] = o.flags & 0xff;
  put16(s, 14, o.window ?? 65535);
  if (o.options) s.set(o.options, 20);
  s.set(payload, 20 + optLen);
  put16(s, 16, transportChecksum(s, o.src, o.dst, IPPROTO_TCP) ^ (o.badChecksum ? 0x5555 : 0));
  return s;
}

/** The TCP/UDP checksum of segment s (its checksum field taken as zero) from src to dst. */
export function transportChecksum(s: Uint8Array, src: Ip, dst: Ip, proto: number): number {
  const ckOff = proto === IPPROTO_TCP ? 16 : 6;
  const copy = s.slice();
  if (copy.length >= ckOff + 2) put16(copy, ckOff, 0);
  const a = ipNumber(src);
  const b = ipNumber(dst);
  const pseudo = (a >>> 16) + (a & 0xffff) + (b >>> 16) + (b & 0xffff) + proto + s.length;
  return internetChecksum(copy, pseudo);
}

/** A whole frame: Ethernet + IPv4 + TCP. */
export function tcpFrame(o: TcpOptions & { srcMac: Mac; dstMac: Mac; ttl?: number; id?: number }): Uint8Array {
  return ethernet({
    dst: o.dstMac,
    src: o.srcMac,
    type: ETHERTYPE_IPV4,
    payload: ipv4({ src: o.src, dst: o.dst, protocol: IPPROTO_TCP, ttl: o.ttl, id: o.id, payload: tcp(o) }),
  });
}

export interface TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  headerLen: number;
  /** MSS and window-scale options when present. */
  mss?: number;
  wscale?: number;
  payload: Uint8Array;
}

/** Parse a TCP segment (the IP payload); undefined when it is too short. */
export function parseTcp(s: Uint8Array): TcpSegment | undefined {
  if (s.length < 20) return undefined;
  const hl = (s[12] >>> 4) * 4;
  const seg: TcpSegment = {
    srcPort: get16(s, 0),
    dstPort: get16(s, 2),
    seq: get32(s, 4),
    ack: get32(s, 8),
    flags: s[13] & 0x3f,
    window: get16(s, 14),
    headerLen: hl,
    payload: s.subarray(Math.min(hl, s.length)),
  };
  for (let i = 20; i < Math.min(hl, s.length); ) {
    const kind = s[i];
    if (kind === 0) break;
    if (kind === 1) { i++; continue; }
    const len = s[i + 1];
    if (!len || len < 2) break;
    if (kind === 2 && len === 4) seg.mss = get16(s, i + 2);
    if (kind === 3 && len === 3) seg.wscale = s[i + 2];
    i += len;
  }
  return seg;
}
