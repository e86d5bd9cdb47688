// Classic libpcap capture files (not pcapng): magic 0xa1b2c3d4 written little-endian, version
// 2.4, microsecond timestamps, linktype 1 (Ethernet). Records are buffered in memory and the
// file is written once at close, so identical inputs give byte-identical files.
import { writeFileSync } from "node:fs";

export const PCAP_MAGIC = 0xa1b2c3d4;
export const PCAP_SNAPLEN = 65535;
export const LINKTYPE_ETHERNET = 1;

export class PcapWriter {
  readonly path: string;
  private readonly chunks: Uint8Array[] = [];
  private closed = false;
  private count = 0;

  constructor(path: string) {
    this.path = path;
    const h = new DataView(new ArrayBuffer(24));
    h.setUint32(0, PCAP_MAGIC, true);
    h.setUint16(4, 2, true); // version major
    h.setUint16(6, 4, true); // version minor
    h.setInt32(8, 0, true); // thiszone: timestamps are UTC
    h.setUint32(12, 0, true); // sigfigs
    h.setUint32(16, PCAP_SNAPLEN, true);
    h.setUint32(20, LINKTYPE_ETHERNET, true);
    this.chunks.push(new Uint8Array(h.buffer));
  }

  /** Append one frame captured at `timeMs` (milliseconds since the epoch of the capture's clock). */
  write(frame: Uint8Array, timeMs: number): void {
    if (this.closed) throw new Error(`pcap ${this.path}: write after close`);
    // Integer microseconds first, so the second/microsecond split never rounds to 1e6 µs.
    const us = Math.max(0, Math.round(timeMs * 1000));
    const sec = Math.floor(us / 1e6);
    const incl = Math.min(frame.length, PCAP_SNAPLEN);
    const rec = new Uint8Array(16 + incl);
    const v = new DataView(rec.buffer);
    v.setUint32(0, sec >>> 0, true);
    v.setUint32(4, us - sec * 1e6, true);
    v.setUint32(8, incl, true);
    v.setUint32(12, frame.length, true);
    rec.set(frame.subarray(0, incl), 16);
    this.chunks.push(rec);
    this.count++;
  }

  /** Number of records written so far. */
  get frames(): number {
    return this.count;
  }

  /** The file's bytes as they would be written now. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of this.chunks) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }

  /** Write the file. Further close() calls do nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    writeFileSync(this.path, this.bytes());
    this.chunks.length = 0;
  }
}

export interface PcapRecord {
  timeSec: number;
  timeUsec: number;
  origLen: number;
  data: Uint8Array;
}

export interface PcapFile {
  magic: number;
  versionMajor: number;
  versionMinor: number;
  thiszone: number;
  sigfigs: number;
  snaplen: number;
  linktype: number;
  records: PcapRecord[];
}

/** Parse a little-endian classic pcap file (what PcapWriter writes). Throws on malformed input. */
export function parsePcap(buf: Uint8Array): PcapFile {
  if (buf.length < 24) throw new Error("pcap: short global header");
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const magic = v.getUint32(0, true);
  if (magic !== PCAP_MAGIC) throw new Error(`pcap: bad magic 0x${magic.toString(16)}`);
  const file: PcapFile = {
    magic,
    versionMajor: v.getUint16(4, true),
    versionMinor: v.getUint16(6, true),
    thiszone: v.getInt32(8, true),
    sigfigs: v.getUint32(12, true),
    snaplen: v.getUint32(16, true),
    linktype: v.getUint32(20, true),
    records: [],
  };
  let off = 24;
  while (off < buf.length) {
    if (off + 16 > buf.length) throw new Error(`pcap: short record header at ${off}`);
    const incl = v.getUint32(off + 8, true);
    if (off + 16 + incl > buf.length) throw new Error(`pcap: short record at ${off}`);
    const data = new Uint8Array(incl);
    data.set(buf.subarray(off + 16, off + 16 + incl));
    file.records.push({
      timeSec: v.getUint32(off, true),
      timeUsec: v.getUint32(off + 4, true),
      origLen: v.getUint32(off + 12, true),
      data,
    });
    off += 16 + incl;
  }
  return file;
}
