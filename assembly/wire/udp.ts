// UDP header (RFC 768). A zero checksum received means none was computed; one we compute as zero
// is sent as 0xffff. Over IPv6 (RFC 8200 §8.1) the checksum is mandatory: a zero one is refused,
// and it is always summed here (the offload flags cover IPv4 only, wasmip.h set_offload).
import { get16Inline, put16Inline } from "../support/bytes";
import { OFFLOAD_TX_L4, RX_L4_OK, offloadFlags, rxChecked, sumAdd, sumFold, sumPseudo, sumPseudo6 } from "./checksum";
import { WireError } from "./error";

export const HEADER_LEN: u32 = 8;

@unmanaged
export class UdpRepr {
  srcPort: u32;
  dstPort: u32;
  payloadLen: u32;

  /** Checked view of a datagram in len bytes of IP payload from src to dst (host-order IPs). */
  parse(p: usize, len: u32, src: u32, dst: u32): WireError {
    return this.parseFrom(p, len, src, dst, 0, 0);
  }

  /** parse() over IPv6 (16-byte addresses in place): UNSUPPORTED for a zero checksum. */
  parse6(p: usize, len: u32, src: usize, dst: usize): WireError {
    return this.parseFrom(p, len, 0, 0, src, dst);
  }

  /** parse() from src to dst, or parse6() when s6 != 0 (from s6 to d6): the stack's one call
   *  site for both families, so the whole parse is inlined there. */
  parseFrom(p: usize, len: u32, src: u32, dst: u32, s6: usize, d6: usize): WireError {
    const err = this.view(p, len);
    if (err != WireError.OK) return err;
    const ulen = HEADER_LEN + this.payloadLen;
    const v6 = s6 != 0;
    if (load<u16>(p, 6) == 0) return v6 ? WireError.UNSUPPORTED : WireError.OK;
    if ((v6 || (rxChecked & RX_L4_OK) == 0) && sumFold(sumAdd(v6 ? sumPseudo6(s6, d6, ulen, 17) : sumPseudo(src, dst, 17, ulen), p, ulen)) != 0xffff) return WireError.BAD_CHECKSUM;
    return WireError.OK;
  }

  /** Writes the header at p and the checksum over it and the payloadLen bytes after it (0 where
   *  the MAC fills it: OFFLOAD_TX_L4). */
  emit(p: usize, src: u32, dst: u32): void {
    this.emitFrom(p, src, dst, 0, 0);
  }

  /** emit() over IPv6, always summed here. */
  emit6(p: usize, src: usize, dst: usize): void {
    this.emitFrom(p, 0, 0, src, dst);
  }

  /** emit() from src to dst, or emit6() when s6 != 0 (from s6 to d6), as parseFrom. */
  emitFrom(p: usize, src: u32, dst: u32, s6: usize, d6: usize): void {
    const ulen = this.header(p);
    const v6 = s6 != 0;
    if (v6 || (offloadFlags & OFFLOAD_TX_L4) == 0) this.fill(p, v6 ? sumPseudo6(s6, d6, ulen, 17) : sumPseudo(src, dst, 17, ulen), ulen);
  }

  /** The header and its length field, checked against the len bytes that arrived. */
  private view(p: usize, len: u32): WireError {
    if (len < HEADER_LEN) return WireError.TRUNCATED;
    const ulen = get16Inline(p + 4);
    if (ulen < HEADER_LEN || ulen > len) return WireError.BAD_TOTAL_LEN;
    this.srcPort = get16Inline(p);
    this.dstPort = get16Inline(p + 2);
    this.payloadLen = ulen - HEADER_LEN;
    return WireError.OK;
  }

  private header(p: usize): u32 {
    const ulen = HEADER_LEN + this.payloadLen;
    put16Inline(p, this.srcPort);
    put16Inline(p + 2, this.dstPort);
    put16Inline(p + 4, ulen);
    store<u16>(p, 0, 6);
    return ulen;
  }

  private fill(p: usize, pseudo: u64, ulen: u32): void {
    const c = ~sumFold(sumAdd(pseudo, p, ulen)) & 0xffff;
    put16Inline(p + 6, c == 0 ? 0xffff : c);
  }
}
