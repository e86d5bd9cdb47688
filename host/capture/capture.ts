// host/capture/: captures, pure TypeScript that imports nothing else of host/. pcap.ts writes and
// parses the harness's own classic pcap (the simulator's and the TAP runner's); this file reads
// what anyone writes; ladder.ts draws a TCP connection from one or two captures.
//
// Reading captures written by anyone: classic libpcap files (either byte order, microsecond or
// nanosecond timestamps) and pcapng (what tshark and dumpcap write by default: section header,
// interface description with its timestamp resolution and offset, enhanced / simple / obsolete
// packet blocks; several sections and interfaces). host/capture/pcap.ts writes and parses only the
// harness's own format; this reads what tshark, tcpdump and the harness produce.
// Link layers: Ethernet (with 802.1Q/802.1ad tags), Linux cooked v1 and v2 (tcpdump -i any),
// raw IP, BSD loopback (null, loop). Anything else is reported, never guessed.

export const LINKTYPE = { NULL: 0, ETHERNET: 1, RAW_OLD: 12, RAW_OPENBSD: 14, RAW: 101, LOOP: 108, LINUX_SLL: 113, IPV4: 228, LINUX_SLL2: 276 } as const;

const LINKTYPE_NAMES: Record<number, string> = {
  0: "null (BSD loopback)",
  1: "Ethernet",
  12: "raw IP",
  14: "raw IP",
  101: "raw IP",
  108: "OpenBSD loopback",
  113: "Linux cooked (SLL)",
  228: "raw IPv4",
  276: "Linux cooked v2 (SLL2)",
};

export function linktypeName(t: number): string {
  return LINKTYPE_NAMES[t] ?? `link type ${t}`;
}

export interface CapturedFrame {
  index: number; // 1-based, in file order (what Wireshark calls the frame number)
  time: number; // microseconds since the epoch (fractions kept for nanosecond files)
  linktype: number;
  data: Uint8Array;
  origLen: number;
}

export interface Capture {
  format: "pcap" | "pcapng";
  frames: CapturedFrame[];
  warnings: string[]; // e.g. a truncated last record
}

export class CaptureError extends Error {}

/** Read a capture file's bytes. Throws CaptureError for something that is not a capture. */
export function readCapture(buf: Uint8Array, name = "capture"): Capture {
  if (buf.length < 4) throw new CaptureError(`${name}: empty or too short to be a capture (${buf.length} bytes)`);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const m = v.getUint32(0, true);
  if (m === 0x0a0d0d0a) return readPcapng(buf, v, name);
  const classic: Record<number, [littleEndian: boolean, nanos: boolean]> = {
    0xa1b2c3d4: [true, false],
    0xd4c3b2a1: [false, false],
    0xa1b23c4d: [true, true],
    0x4d3cb2a1: [false, true],
  };
  const c = classic[m];
  if (!c) throw new CaptureError(`${name}: not a pcap or pcapng file (starts with 0x${m.toString(16).padStart(8, "0")})`);
  return readPcap(buf, v, name, c[0], c[1]);
}

function readPcap(buf: Uint8Array, v: DataView, name: string, le: boolean, nanos: boolean): Capture {
  if (buf.length < 24) throw new CaptureError(`${name}: short pcap header`);
  // The link type field's upper bits may carry FCS information (libpcap's LT_FCS_*): keep the type.
  const linktype = v.getUint32(20, le) & 0x03ffffff;
  const frames: CapturedFrame[] = [];
  const warnings: string[] = [];
  let off = 24;
  while (off < buf.length) {
    if (off + 16 > buf.length) {
      warnings.push(`${name}: truncated record header at byte ${off} (the capture was cut short): ignored`);
      break;
    }
    const sec = v.getUint32(off, le);
    const frac = v.getUint32(off + 4, le);
    const incl = v.getUint32(off + 8, le);
    const orig = v.getUint32(off + 12, le);
    if (off + 16 + incl > buf.length) {
      warnings.push(`${name}: truncated record at byte ${off} (the capture was cut short): ignored`);
      break;
    }
    frames.push({
      index: frames.length + 1,
      time: sec * 1e6 + (nanos ? frac / 1000 : frac),
      linktype,
      data: buf.subarray(off + 16, off + 16 + incl),
      origLen: orig,
    });
    off += 16 + incl;
  }
  return { format: "pcap", frames, warnings };
}

interface Interface {
  linktype: number;
  unitsPerSecond: bigint;
  offsetSeconds: bigint;
}

function readPcapng(buf: Uint8Array, v: DataView, name: string): Capture {
  const frames: CapturedFrame[] = [];
  const warnings: string[] = [];
  let le = true;
  let ifaces: Interface[] = [];
  let lastTime = 0;
  let off = 0;
  while (off < buf.length) {
    if (off + 12 > buf.length) {
      warnings.push(`${name}: truncated block at byte ${off}: ignored`);
      break;
    }
    let type = v.getUint32(off, le);
    if (v.getUint32(off, true) === 0x0a0d0d0a) {
      // A section header: its byte-order magic says how to read this section.
      type = 0x0a0d0d0a;
      const bom = v.getUint32(off + 8, true);
      if (bom === 0x1a2b3c4d) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new CaptureError(`${name}: pcapng section at byte ${off} has a bad byte-order magic`);
      ifaces = [];
    }
    const len = v.getUint32(off + 4, le);
    if (len < 12 || len % 4 !== 0 || off + len > buf.length) {
      if (off + len > buf.length && len >= 12) warnings.push(`${name}: truncated block at byte ${off} (the capture was cut short): ignored`);
      else throw new CaptureError(`${name}: malformed pcapng block at byte ${off} (length ${len})`);
      break;
    }
    const body = off + 8;
    const bodyEnd = off + len - 4;
    switch (type) {
      case 0x0a0d0d0a:
        break;
      case 1: {
        // Interface description: link type, snaplen, options (if_tsresol 9, if_tsoffset 14).
        const iface: Interface = { linktype: v.getUint16(body, le), unitsPerSecond: 1_000_000n, offsetSeconds: 0n };
        for (let o = body + 8; o + 4 <= bodyEnd; ) {
          const code = v.getUint16(o, le);
          const olen = v.getUint16(o + 2, le);
          if (code === 0) break;
          if (o + 4 + olen > bodyEnd) break;
          if (code === 9 && olen >= 1) {
            const r = buf[o + 4];
            iface.unitsPerSecond = r & 0x80 ? 1n << BigInt(r & 0x7f) : 10n ** BigInt(r);
          } else if (code === 14 && olen >= 8) {
            iface.offsetSeconds = v.getBigInt64(o + 4, le);
          }
          o += 4 + ((olen + 3) & ~3);
        }
        ifaces.push(iface);
        break;
      }
      case 6:
      case 2: {
        // Enhanced packet block (6), or the obsolete packet block (2: 16-bit interface id).
        const ifId = type === 6 ? v.getUint32(body, le) : v.getUint16(body, le);
        const iface = ifaces[ifId];
        if (!iface) throw new CaptureError(`${name}: packet at byte ${off} names interface ${ifId}, which was not described`);
        const ts = (BigInt(v.getUint32(body + 4, le)) << 32n) | BigInt(v.getUint32(body + 8, le));
        const incl = v.getUint32(body + 12, le);
        const orig = v.getUint32(body + 16, le);
        if (body + 20 + incl > bodyEnd) throw new CaptureError(`${name}: packet at byte ${off} is longer than its block`);
        const whole = ts * 1_000_000n;
        const us = Number(whole / iface.unitsPerSecond) + Number(whole % iface.unitsPerSecond) / Number(iface.unitsPerSecond) + Number(iface.offsetSeconds) * 1e6;
        lastTime = us;
        frames.push({ index: frames.length + 1, time: us, linktype: iface.linktype, data: buf.subarray(body + 20, body + 20 + incl), origLen: orig });
        break;
      }
      case 3: {
        // Simple packet block: interface 0, no timestamp (we reuse the previous one).
        const iface = ifaces[0];
        if (!iface) throw new CaptureError(`${name}: simple packet block at byte ${off} before any interface`);
        const orig = v.getUint32(body, le);
        const incl = Math.min(orig, bodyEnd - body - 4);
        frames.push({ index: frames.length + 1, time: lastTime, linktype: iface.linktype, data: buf.subarray(body + 4, body + 4 + incl), origLen: orig });
        break;
      }
      default:
        break; // name resolution, statistics, custom blocks: not needed
    }
    off += len;
  }
  return { format: "pcapng", frames, warnings };
}

/** The IPv4 packet inside a captured frame, or undefined (another protocol, or too short). */
export function ipv4Payload(f: CapturedFrame): Uint8Array | undefined {
  const d = f.data;
  let off: number;
  switch (f.linktype) {
    case LINKTYPE.ETHERNET: {
      if (d.length < 14) return undefined;
      off = 12;
      let type = (d[off] << 8) | d[off + 1];
      // 802.1Q / 802.1ad tags: 4 bytes each before the real EtherType.
      while ((type === 0x8100 || type === 0x88a8) && off + 6 <= d.length) {
        off += 4;
        type = (d[off] << 8) | d[off + 1];
      }
      if (type !== 0x0800) return undefined;
      off += 2;
      break;
    }
    case LINKTYPE.LINUX_SLL:
      if (d.length < 16 || ((d[14] << 8) | d[15]) !== 0x0800) return undefined;
      off = 16;
      break;
    case LINKTYPE.LINUX_SLL2:
      if (d.length < 20 || ((d[0] << 8) | d[1]) !== 0x0800) return undefined;
      off = 20;
      break;
    case LINKTYPE.RAW:
    case LINKTYPE.RAW_OLD:
    case LINKTYPE.RAW_OPENBSD:
    case LINKTYPE.IPV4:
      off = 0;
      break;
    case LINKTYPE.NULL:
    case LINKTYPE.LOOP: {
      if (d.length < 4) return undefined;
      // The address family (AF_INET = 2): host order for null, network order for loop.
      const le = d[0] | (d[1] << 8) | (d[2] << 16) | (d[3] << 24);
      const be = (d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3];
      if ((f.linktype === LINKTYPE.NULL ? (le === 2 || be === 2) : be === 2) === false) return undefined;
      off = 4;
      break;
    }
    default:
      return undefined;
  }
  const p = d.subarray(off);
  return p.length >= 20 && p[0] >> 4 === 4 ? p : undefined;
}
