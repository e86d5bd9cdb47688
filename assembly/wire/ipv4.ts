// IPv4 header (RFC 791). Options are accepted and skipped on input, never emitted.
import { get16Inline, get32Inline, put16Inline, put32Inline } from "../support/bytes";
import { OFFLOAD_TX_IPV4, RX_IPV4_OK, offloadFlags, rxChecked, sum20, sumAdd, sumFold } from "./checksum";
import { WireError } from "./error";

export const HEADER_LEN: u32 = 20;
export const PROTO_ICMP: u32 = 1;
export const PROTO_TCP: u32 = 6;
export const PROTO_UDP: u32 = 17;
export const BROADCAST: u32 = 0xffffffff;

const FLAG_DF: u32 = 0x4000;
const FLAG_MF: u32 = 0x2000;
const OFFSET_MASK: u32 = 0x1fff;

@unmanaged
export class Ipv4Repr {
  src: u32;
  dst: u32;
  proto: u32;
  ttl: u32;
  tos: u32;
  ident: u32;
  dontFragment: bool;
  moreFragments: bool;
  /** In bytes. */
  fragmentOffset: u32;
  /** On parse: IHL * 4. emit always writes 20. */
  headerLen: u32;
  payloadLen: u32;

  /**
   * Checked view of an IPv4 header in len bytes: version, IHL, total length against what arrived,
   * and the header checksum. Bytes after total length (Ethernet padding) are ignored.
   */
  parse(p: usize, len: u32): WireError {
    if (len < HEADER_LEN) return WireError.TRUNCATED;
    const vihl = <u32>load<u8>(p);
    if (vihl >> 4 != 4) return WireError.BAD_VERSION;
    const ihl = (vihl & 15) << 2;
    if (ihl < HEADER_LEN) return WireError.BAD_HEADER_LEN;
    if (ihl > len) return WireError.TRUNCATED;
    const total = get16Inline(p + 2);
    if (total < ihl) return WireError.BAD_TOTAL_LEN;
    if (total > len) return WireError.TRUNCATED;
    if ((rxChecked & RX_IPV4_OK) == 0 && sumFold(ihl == HEADER_LEN ? sum20(p) : sumAdd(0, p, ihl)) != 0xffff) return WireError.BAD_CHECKSUM;
    this.tos = <u32>load<u8>(p, 1);
    this.ident = get16Inline(p + 4);
    const frag = get16Inline(p + 6);
    this.dontFragment = (frag & FLAG_DF) != 0;
    this.moreFragments = (frag & FLAG_MF) != 0;
    this.fragmentOffset = (frag & OFFSET_MASK) << 3;
    this.ttl = <u32>load<u8>(p, 8);
    this.proto = <u32>load<u8>(p, 9);
    this.src = get32Inline(p + 12);
    this.dst = get32Inline(p + 16);
    this.headerLen = ihl;
    this.payloadLen = total - ihl;
    return WireError.OK;
  }

  /** Writes a 20-byte header with its checksum at p (0 where the MAC fills it: OFFLOAD_TX_IPV4). */
  emit(p: usize): void {
    store<u8>(p, 0x45);
    store<u8>(p, <u8>this.tos, 1);
    put16Inline(p + 2, HEADER_LEN + this.payloadLen);
    put16Inline(p + 4, this.ident);
    put16Inline(p + 6, (this.dontFragment ? FLAG_DF : 0) | (this.moreFragments ? FLAG_MF : 0) | ((this.fragmentOffset >> 3) & OFFSET_MASK));
    store<u8>(p, <u8>this.ttl, 8);
    store<u8>(p, <u8>this.proto, 9);
    store<u16>(p, 0, 10);
    put32Inline(p + 12, this.src);
    put32Inline(p + 16, this.dst);
    if ((offloadFlags & OFFLOAD_TX_IPV4) == 0) put16Inline(p + 10, ~sumFold(sum20(p)) & 0xffff);
  }
}

/** Class D (224.0.0.0/4) or class E and the limited broadcast (240.0.0.0/4). */
// @ts-ignore: decorator
@inline export function isMulticastOrReserved(ip: u32): bool {
  return ip >= 0xe0000000;
}

/** "A.B.C.D" in decimal (RFC 1123 §2.1's dotted quad; no leading-zero octal, no short forms): the
 *  address (host order), or 0 for other text (0.0.0.0 is no address to reach anyway). */
export function parseIpv4Text(p: usize, len: u32): u32 {
  let v: u32 = 0;
  let part: u32 = 0;
  let digits: u32 = 0;
  let dots: u32 = 0;
  for (let i: u32 = 0; i <= len; i++) {
    const c = i < len ? <u32>load<u8>(p + i) : 46;
    if (c == 46) {
      if (digits == 0 || part > 255) return 0;
      v = (v << 8) | part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c - 48 < 10 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
    } else return 0;
  }
  return dots == 4 ? v : 0;
}
