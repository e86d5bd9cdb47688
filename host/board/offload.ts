// Checksum offload in the emulated board (wasmip.h set_offload, input_checked, phy.checksum): what a
// real board's CPU or MAC does for the core. `sum` is phy.checksum; the MAC side fills the checksums
// the core left 0 in frames it sends, and verifies those of frames it receives, telling the core per
// frame which it found good (a bad or unverifiable frame goes up unmarked: the core checks it).

/** wasmip.h WASMIP_OFFLOAD_* and WASMIP_RX_*. */
export const OFFLOAD = { sum: 1, txIpv4: 2, txL4: 4 } as const;
export const RX_OK = { ipv4: 1, l4: 2 } as const;

/** What the board does instead of the core. */
export interface OffloadOptions {
  /** Sums through phy.checksum (in JS here; a native loop on a board running WAMR). */
  sum?: boolean;
  /** The MAC fills IPv4 header checksums of frames sent. */
  txIpv4?: boolean;
  /** The MAC fills TCP and UDP checksums of frames sent. */
  txL4?: boolean;
  /** The MAC verifies received IPv4, TCP and UDP checksums and vouches for the good ones. */
  rxCheck?: boolean;
}

export function offloadFlags(o: OffloadOptions): number {
  return (o.sum ? OFFLOAD.sum : 0) | (o.txIpv4 ? OFFLOAD.txIpv4 : 0) | (o.txL4 ? OFFLOAD.txL4 : 0);
}

/** RFC 1071 sum of b[off, off+len) (not complemented), added to acc; 16 bits, network order. */
export function sum16(b: Uint8Array, off: number, len: number, acc = 0): number {
  let s = acc;
  const end = off + (len & ~1);
  for (let i = off; i < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (len & 1) s += b[off + len - 1] << 8;
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
  return s;
}

const ETH = 14;

/** The IPv4 datagram in an Ethernet II frame: header length, total length and protocol, or null. */
function ipv4Of(f: Uint8Array): { ihl: number; total: number; proto: number } | null {
  if (f.length < ETH + 20 || f[12] !== 0x08 || f[13] !== 0x00 || f[ETH] >> 4 !== 4) return null;
  const ihl = (f[ETH] & 15) * 4;
  const total = (f[ETH + 2] << 8) | f[ETH + 3];
  if (ihl < 20 || total < ihl || ETH + total > f.length) return null;
  // A fragment's transport header is not all here: a MAC leaves fragments alone.
  if (((f[ETH + 6] << 8) | f[ETH + 7]) & 0x3fff) return { ihl, total, proto: -1 };
  return { ihl, total, proto: f[ETH + 9] };
}

function pseudo(f: Uint8Array, proto: number, len: number): number {
  return sum16(f, ETH + 12, 8, proto + len);
}

/** The sum a transport checksum must make valid (its field included), or -1 for other protocols. */
function l4Sum(f: Uint8Array, ip: { ihl: number; total: number; proto: number }): number {
  if (ip.proto !== 6 && ip.proto !== 17) return -1;
  const off = ETH + ip.ihl;
  let len = ip.total - ip.ihl;
  if (ip.proto === 17) {
    // UDP's own length bounds what its checksum covers (RFC 768).
    const ulen = len >= 8 ? (f[off + 4] << 8) | f[off + 5] : 0;
    if (ulen < 8 || ulen > len) return -1;
    len = ulen;
  }
  return sum16(f, off, len, pseudo(f, ip.proto, len));
}

/** The MAC on the way out: fills the checksums the core left to it (in place). */
export function fillChecksums(f: Uint8Array, flags: number): void {
  const ip = ipv4Of(f);
  if (!ip) return;
  if (flags & OFFLOAD.txIpv4) {
    f[ETH + 10] = f[ETH + 11] = 0;
    const c = ~sum16(f, ETH, ip.ihl) & 0xffff;
    f[ETH + 10] = c >> 8;
    f[ETH + 11] = c & 0xff;
  }
  if (flags & OFFLOAD.txL4 && (ip.proto === 6 || ip.proto === 17)) {
    const at = ETH + ip.ihl + (ip.proto === 6 ? 16 : 6);
    if (at + 2 > ETH + ip.total) return;
    f[at] = f[at + 1] = 0;
    const sum = l4Sum(f, ip);
    if (sum < 0) return;
    let c = ~sum & 0xffff;
    if (ip.proto === 17 && c === 0) c = 0xffff; // RFC 768: 0 means "no checksum"
    f[at] = c >> 8;
    f[at + 1] = c & 0xff;
  }
}

/** The MAC on the way in: RX_OK bits for the checksums of f it verified and found good. */
export function checkChecksums(f: Uint8Array): number {
  const ip = ipv4Of(f);
  if (!ip) return 0;
  if (sum16(f, ETH, ip.ihl) !== 0xffff) return 0;
  let ok = RX_OK.ipv4;
  const off = ETH + ip.ihl;
  // A UDP datagram sent without a checksum (0) has none to verify: the core accepts it either way.
  const noUdpSum = ip.proto === 17 && ip.total - ip.ihl >= 8 && f[off + 6] === 0 && f[off + 7] === 0;
  if (!noUdpSum && l4Sum(f, ip) === 0xffff) ok |= RX_OK.l4;
  return ok;
}
