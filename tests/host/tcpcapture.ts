// Crafted TCP captures for the ladder tests: segments with correct checksums, written as the
// harness writes them (classic pcap, little-endian, µs), as big-endian nanosecond pcap, and as
// pcapng with two interfaces (Ethernet and raw IPv4) and nanosecond timestamps.
import { ethernet, internetChecksum, ipv4, ETHERTYPE_IPV4, IPPROTO_TCP } from "../../host/sim/frames.ts";
import { ipToU32 } from "../../host/board/address.ts";
import { PcapWriter } from "../../host/capture/pcap.ts";

export const F = { FIN: 1, SYN: 2, RST: 4, PSH: 8, ACK: 16 } as const;

export interface Seg {
  t: number; // ms
  from: "a" | "b";
  seq: number;
  ack?: number; // sets ACK
  flags?: number; // besides ACK
  len?: number;
  win: number;
  mss?: number;
  ws?: number;
  sackPerm?: boolean;
  sack?: [number, number][];
}

export const EP = {
  a: { ip: "10.9.0.1", port: 40000, mac: "02:00:00:00:09:01" },
  b: { ip: "10.9.0.2", port: 80, mac: "02:00:00:00:09:02" },
};

/** The IPv4 packet of one segment (TCP checksum over the pseudo header, RFC 9293 §3.1). */
export function tcpPacket(s: Seg, id: number): Uint8Array {
  const src = EP[s.from];
  const dst = EP[s.from === "a" ? "b" : "a"];
  const opts: number[] = [];
  if (s.mss !== undefined) opts.push(2, 4, s.mss >> 8, s.mss & 255);
  if (s.ws !== undefined) opts.push(1, 3, 3, s.ws);
  if (s.sackPerm) opts.push(1, 1, 4, 2);
  if (s.sack) {
    opts.push(1, 1, 5, 2 + 8 * s.sack.length);
    for (const [l, r] of s.sack) opts.push(l >>> 24, (l >>> 16) & 255, (l >>> 8) & 255, l & 255, r >>> 24, (r >>> 16) & 255, (r >>> 8) & 255, r & 255);
  }
  while (opts.length % 4) opts.push(0);
  const len = s.len ?? 0;
  const t = new Uint8Array(20 + opts.length + len);
  const dv = new DataView(t.buffer);
  dv.setUint16(0, src.port);
  dv.setUint16(2, dst.port);
  dv.setUint32(4, s.seq >>> 0);
  dv.setUint32(8, (s.ack ?? 0) >>> 0);
  t[12] = ((20 + opts.length) / 4) << 4;
  t[13] = (s.flags ?? 0) | (s.ack !== undefined ? F.ACK : 0);
  dv.setUint16(14, s.win);
  t.set(opts, 20);
  for (let i = 0; i < len; i++) t[20 + opts.length + i] = (i * 7) & 255;
  const pseudo = new Uint8Array(12 + t.length);
  const pv = new DataView(pseudo.buffer);
  pv.setUint32(0, ipToU32(src.ip));
  pv.setUint32(4, ipToU32(dst.ip));
  pv.setUint16(8, IPPROTO_TCP);
  pv.setUint16(10, t.length);
  pseudo.set(t, 12);
  dv.setUint16(16, internetChecksum(pseudo));
  return ipv4({ src: src.ip, dst: dst.ip, protocol: IPPROTO_TCP, payload: t, id, df: true });
}

export function ethFrame(s: Seg, id: number): Uint8Array {
  const src = EP[s.from];
  const dst = EP[s.from === "a" ? "b" : "a"];
  return ethernet({ src: src.mac, dst: dst.mac, type: ETHERTYPE_IPV4, payload: tcpPacket(s, id) });
}

/** The harness's own format (host/capture/pcap.ts). */
export function writeHarnessPcap(file: string, segs: Seg[]): void {
  const w = new PcapWriter(file);
  segs.forEach((s, i) => w.write(ethFrame(s, i + 1), s.t));
  w.close();
}

/** Classic pcap, big-endian, nanosecond timestamps (magic a1b23c4d written big-endian). */
export function bigEndianNanoPcap(segs: Seg[]): Uint8Array {
  const parts: Uint8Array[] = [];
  const h = new DataView(new ArrayBuffer(24));
  h.setUint32(0, 0xa1b23c4d);
  h.setUint16(4, 2);
  h.setUint16(6, 4);
  h.setUint32(16, 65535);
  h.setUint32(20, 1);
  parts.push(new Uint8Array(h.buffer));
  segs.forEach((s, i) => {
    const f = ethFrame(s, i + 1);
    const r = new DataView(new ArrayBuffer(16));
    const ns = Math.round(s.t * 1e6);
    r.setUint32(0, Math.floor(ns / 1e9));
    r.setUint32(4, ns % 1e9);
    r.setUint32(8, f.length);
    r.setUint32(12, f.length);
    parts.push(new Uint8Array(r.buffer), f);
  });
  return concat(parts);
}

/** pcapng: a section, two interfaces (0 Ethernet, 1 raw IPv4; both if_tsresol 9 = ns), segments
 *  alternating between them, and a name-resolution block in between (to be skipped). */
export function pcapng(segs: Seg[]): Uint8Array {
  const blocks: Uint8Array[] = [];
  const block = (type: number, body: Uint8Array) => {
    const padded = (body.length + 3) & ~3;
    const b = new Uint8Array(12 + padded);
    const v = new DataView(b.buffer);
    v.setUint32(0, type, true);
    v.setUint32(4, b.length, true);
    b.set(body, 8);
    v.setUint32(b.length - 4, b.length, true);
    blocks.push(b);
  };
  const shb = new DataView(new ArrayBuffer(16));
  shb.setUint32(0, 0x1a2b3c4d, true);
  shb.setUint16(4, 1, true);
  shb.setBigInt64(8, -1n, true);
  block(0x0a0d0d0a, new Uint8Array(shb.buffer));
  for (const linktype of [1, 101]) {
    const idb = new DataView(new ArrayBuffer(20));
    idb.setUint16(0, linktype, true);
    idb.setUint32(4, 65535, true);
    idb.setUint16(8, 9, true); // if_tsresol
    idb.setUint16(10, 1, true);
    idb.setUint8(12, 9);
    // then opt_endofopt (4 zero bytes)
    block(1, new Uint8Array(idb.buffer));
  }
  block(4, new Uint8Array(8)); // name resolution block with only nrb_record_end
  segs.forEach((s, i) => {
    const iface = i % 2;
    const data = iface === 0 ? ethFrame(s, i + 1) : tcpPacket(s, i + 1);
    const body = new Uint8Array(20 + ((data.length + 3) & ~3));
    const v = new DataView(body.buffer);
    const ns = BigInt(Math.round(s.t * 1e6)) + 1_700_000_000_000_000_000n; // an absolute epoch time
    v.setUint32(0, iface, true);
    v.setUint32(4, Number(ns >> 32n), true);
    v.setUint32(8, Number(ns & 0xffffffffn), true);
    v.setUint32(12, data.length, true);
    v.setUint32(16, data.length, true);
    body.set(data, 20);
    block(6, body);
  });
  return concat(blocks);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const A0 = 1000;
const B0 = 5000;
/** A connection with a lost segment recovered by fast retransmit, a spurious retransmission,
 *  window scaling (a: shift 2, b: shift 1), SACK, and a close. */
export const LOSSY: Seg[] = [
  { t: 0, from: "a", seq: A0, flags: F.SYN, win: 8000, mss: 1000, ws: 2, sackPerm: true },
  { t: 10, from: "b", seq: B0, ack: A0 + 1, flags: F.SYN, win: 6000, mss: 1000, ws: 1, sackPerm: true },
  { t: 20, from: "a", seq: A0 + 1, ack: B0 + 1, win: 2000 },
  { t: 30, from: "a", seq: A0 + 1, ack: B0 + 1, flags: F.PSH, len: 1000, win: 2000 }, // 4: lost
  { t: 31, from: "a", seq: A0 + 1001, ack: B0 + 1, len: 1000, win: 2000 },
  { t: 32, from: "a", seq: A0 + 2001, ack: B0 + 1, len: 1000, win: 2000 },
  { t: 33, from: "a", seq: A0 + 3001, ack: B0 + 1, len: 1000, win: 2000 },
  { t: 41, from: "b", seq: B0 + 1, ack: A0 + 1, win: 3000, sack: [[A0 + 1001, A0 + 2001]] },
  { t: 42, from: "b", seq: B0 + 1, ack: A0 + 1, win: 3000, sack: [[A0 + 1001, A0 + 3001]] }, // dup ack #1
  { t: 43, from: "b", seq: B0 + 1, ack: A0 + 1, win: 3000, sack: [[A0 + 1001, A0 + 4001]] }, // dup ack #2
  { t: 44, from: "b", seq: B0 + 1, ack: A0 + 1, win: 3000, sack: [[A0 + 1001, A0 + 4001]] }, // dup ack #3
  { t: 50, from: "a", seq: A0 + 1, ack: B0 + 1, flags: F.PSH, len: 1000, win: 2000 }, // 12: fast retransmission
  { t: 60, from: "b", seq: B0 + 1, ack: A0 + 4001, win: 3000 },
  { t: 70, from: "a", seq: A0 + 3001, ack: B0 + 1, len: 1000, win: 2000 }, // 14: spurious retransmission
  { t: 80, from: "a", seq: A0 + 4001, ack: B0 + 1, flags: F.FIN, win: 2000 },
  { t: 90, from: "b", seq: B0 + 1, ack: A0 + 4002, flags: F.FIN, win: 3000 },
  { t: 100, from: "a", seq: A0 + 4002, ack: B0 + 2, win: 2000 },
];
