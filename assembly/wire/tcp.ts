// TCP header (RFC 9293 §3.1) with the options we use: MSS (RFC 9293 §3.7.1, RFC 6691), window
// scale (RFC 7323 §2), SACK-permitted and SACK (RFC 2018 §2-3). Other options are skipped.
// Emitted in Linux's layout: MSS, NOP NOP SACK-permitted, NOP window scale; NOP NOP SACK.
// Over IPv6 (parse6, emit6) the pseudo-header is RFC 8200 §8.1's and the checksum is always summed
// here: the offload flags cover IPv4 only (wasmip.h set_offload).
import { TCP_TIMESTAMPS } from "../config";
import { get16Inline, get32Inline, put16Inline, put32Inline } from "../support/bytes";
import { OFFLOAD_TX_L4, RX_L4_OK, offloadFlags, rxChecked, sumAdd, sumFold, sumPseudo, sumPseudo6 } from "./checksum";
import { WireError } from "./error";
import { PROTO_TCP } from "./ipv4";

export const HEADER_LEN: u32 = 20;
export const FIN: u32 = 0x01;
export const SYN: u32 = 0x02;
export const RST: u32 = 0x04;
export const PSH: u32 = 0x08;
export const ACK: u32 = 0x10;
export const URG: u32 = 0x20;

const FLAGS_MASK: u32 = 0x3f;
const OPT_EOL: u32 = 0;
const OPT_NOP: u32 = 1;
const OPT_MSS: u32 = 2;
const OPT_WS: u32 = 3;
const OPT_SACK_PERMITTED: u32 = 4;
const OPT_SACK: u32 = 5;
const OPT_TS: u32 = 8;
/** SACK blocks an option can hold: 4 fill 34 of the 40 option bytes (RFC 2018 §3). */
export const SACK_MAX_BLOCKS: u32 = 4;
/** RFC 7323 §2.3: a shift above 14 is treated as 14. */
const WS_MAX: u32 = 14;
/** parseFrom's pseudo-header sum when the MAC vouched for the checksum (no real sum is this large). */
const NO_SUM: u64 = 0xffffffffffffffff;

/** The timestamps option's values, beside TcpRepr rather than in it: two wasm globals cost no
 *  linear memory, and every TcpRepr instance would (three are static). parse() sets rxTsVal and
 *  rxTsEcr when it finds the option; emit() writes txTsVal and txTsEcr when tsPresent. */
export let rxTsVal: u32 = 0;
export let rxTsEcr: u32 = 0;
export let txTsVal: u32 = 0;
export let txTsEcr: u32 = 0;

/** Sets the values the next emit() with tsPresent writes. */
export function setTxTimestamps(val: u32, ecr: u32): void {
  txTsVal = val;
  txTsEcr = ecr;
}

@unmanaged
export class TcpRepr {
  srcPort: u32;
  dstPort: u32;
  seq: u32;
  ack: u32;
  /** The low 6 flag bits (ECE/CWR ignored on input, never sent). */
  flags: u32;
  /** Raw 16-bit field (unscaled). */
  window: u32;
  urgent: u32;
  /** Data offset * 4 (set by parse; emit computes it). */
  headerLen: u32;
  /** MSS option value, 0 = absent. */
  mss: u32;
  /** Window-scale shift, -1 = absent. */
  wscale: i32;
  /** SACK-permitted (a SYN's option). */
  sackPermitted: bool;
  /** A SACK option whose length is not 2 + 8n with n in 1..4 (its blocks are not read). */
  sackMalformed: bool;
  /** A timestamps option (RFC 7323 §3): its values are in tsVal/tsEcr below (parse), or taken from
   *  them (emit). */
  tsPresent: bool;
  /** SACK blocks (RFC 2018 §3): how many, then (left edge, right edge) pairs from sack0. */
  sackCount: u32;
  sack0: u32; sack0e: u32;
  sack1: u32; sack1e: u32;
  sack2: u32; sack2e: u32;
  sack3: u32; sack3e: u32;
  payloadLen: u32;

  /** No options: what every emitter starts from before setting the ones it sends. */
  noOptions(): void {
    this.mss = 0;
    this.wscale = -1;
    this.sackPermitted = false;
    this.sackCount = 0;
    this.tsPresent = false;
  }

  /** Left edge of SACK block k (k < sackCount). */
  sackLeft(k: u32): u32 {
    return load<u32>(this.sackSlot(k));
  }

  /** Right edge (the first sequence number after the block) of SACK block k. */
  sackRight(k: u32): u32 {
    return load<u32>(this.sackSlot(k), 4);
  }

  /** Sets SACK block k to [left, right). */
  setSack(k: u32, left: u32, right: u32): void {
    store<u32>(this.sackSlot(k), left);
    store<u32>(this.sackSlot(k), right, 4);
  }

  // @ts-ignore: decorator
  @inline private sackSlot(k: u32): usize {
    return changetype<usize>(this) + offsetof<TcpRepr>("sack0") + (<usize>k << 3);
  }

  /**
   * Checked view of the segment of len bytes (the IP payload) from src to dst (host-order IPs).
   * Malformed options end option parsing without rejecting the segment: the header itself is sound.
   */
  parse(p: usize, len: u32, src: u32, dst: u32): WireError {
    return this.parseFrom(p, len, src, dst, 0, 0);
  }

  /** parse() over IPv6 (16-byte addresses in place). */
  parse6(p: usize, len: u32, src: usize, dst: usize): WireError {
    return this.parseFrom(p, len, 0, 0, src, dst);
  }

  /** parse() from src to dst, or parse6() when s6 != 0 (from s6 to d6): the stack's one call site
   *  for both families, so the whole parse is inlined there. */
  parseFrom(p: usize, len: u32, src: u32, dst: u32, s6: usize, d6: usize): WireError {
    const pseudo = s6 != 0 ? sumPseudo6(s6, d6, len, PROTO_TCP) : (rxChecked & RX_L4_OK) != 0 ? NO_SUM : sumPseudo(src, dst, PROTO_TCP, len);
    if (len < HEADER_LEN) return WireError.TRUNCATED;
    const hl = (<u32>load<u8>(p, 12) >> 4) << 2;
    if (hl < HEADER_LEN || hl > len) return WireError.BAD_HEADER_LEN;
    // One pass over the whole segment; the pseudo-header length is the TCP length (RFC 9293 §3.1).
    if (pseudo != NO_SUM && sumFold(sumAdd(pseudo, p, len)) != 0xffff) return WireError.BAD_CHECKSUM;
    this.srcPort = get16Inline(p);
    this.dstPort = get16Inline(p + 2);
    this.seq = get32Inline(p + 4);
    this.ack = get32Inline(p + 8);
    this.flags = <u32>load<u8>(p, 13) & FLAGS_MASK;
    this.window = get16Inline(p + 14);
    this.urgent = get16Inline(p + 18);
    this.headerLen = hl;
    this.payloadLen = len - hl;
    this.mss = 0;
    this.wscale = -1;
    this.sackPermitted = false;
    this.sackMalformed = false;
    this.sackCount = 0;
    this.tsPresent = false;
    if (hl > HEADER_LEN) this.parseOptions(p, hl);
    return WireError.OK;
  }

  // Walks options in [20, hl). Every read is checked against hl, and each step advances by at
  // least 1 (NOP) or by a length >= 2, so the loop terminates.
  private parseOptions(p: usize, hl: u32): void {
    let i = HEADER_LEN;
    while (i < hl) {
      const kind = <u32>load<u8>(p + i);
      if (kind == OPT_EOL) break;
      if (kind == OPT_NOP) { i++; continue; }
      if (i + 1 >= hl) break; // kind in the last byte: no length
      const olen = <u32>load<u8>(p + i + 1);
      if (olen < 2 || olen > hl - i) {
        if (kind == OPT_SACK) this.sackMalformed = true; // e.g. more blocks than the header holds
        break;
      }
      // A known option with the wrong length is ignored (RFC 9293 §3.7.1 MUST be robust to it).
      if (kind == OPT_MSS) {
        if (olen == 4) this.mss = get16Inline(p + i + 2);
      } else if (kind == OPT_WS) {
        if (olen == 3) this.wscale = <i32>min(<u32>load<u8>(p + i + 2), WS_MAX);
      } else if (kind == OPT_SACK_PERMITTED) {
        if (olen == 2) this.sackPermitted = true;
      } else if (TCP_TIMESTAMPS && kind == OPT_TS) {
        if (olen == 10) {
          this.tsPresent = true;
          rxTsVal = get32Inline(p + i + 2);
          rxTsEcr = get32Inline(p + i + 6);
        }
      } else if (kind == OPT_SACK) {
        const n = (olen - 2) >> 3;
        if ((olen - 2) & 7 || n == 0 || n > SACK_MAX_BLOCKS) {
          this.sackMalformed = true;
        } else {
          for (let k: u32 = 0; k < n; k++) this.setSack(k, get32Inline(p + i + 2 + (k << 3)), get32Inline(p + i + 6 + (k << 3)));
          this.sackCount = n;
        }
      }
      i += olen;
    }
  }

  /** Header length emit() will write: 20, + 4 if mss != 0, + 4 (NOP NOP + 2) if sackPermitted,
   *  + 4 (NOP + 3-byte WS) if wscale >= 0, + 12 (NOP NOP + 10) for timestamps, + 4 + 8 per block
   *  (NOP NOP, kind, length) for SACK. */
  // @ts-ignore: decorator
  @inline emitLen(): u32 {
    return HEADER_LEN + (this.mss != 0 ? 4 : 0) + (this.sackPermitted ? 4 : 0) + (this.wscale >= 0 ? 4 : 0) +
      (TCP_TIMESTAMPS && this.tsPresent ? 12 : 0) +
      (this.sackCount ? 4 + (min<u32>(this.sackCount, SACK_MAX_BLOCKS) << 3) : 0);
  }

  /**
   * Writes the header (+ options) at p and the checksum over header + payloadLen bytes that the
   * caller has already placed at p + emitLen() (0 where the MAC fills it: OFFLOAD_TX_L4). Returns
   * the header length.
   */
  emit(p: usize, src: u32, dst: u32): u32 {
    return this.emitFrom(p, src, dst, 0, 0);
  }

  /** emit() over IPv6 (16-byte addresses), always summed here. */
  emit6(p: usize, src: usize, dst: usize): u32 {
    return this.emitFrom(p, 0, 0, src, dst);
  }

  /** emit() from src to dst, or emit6() when s6 != 0 (from s6 to d6), as parseFrom. */
  emitFrom(p: usize, src: u32, dst: u32, s6: usize, d6: usize): u32 {
    const hl = this.header(p);
    const total = hl + this.payloadLen;
    const v6 = s6 != 0;
    if (v6 || (offloadFlags & OFFLOAD_TX_L4) == 0) {
      const pseudo = v6 ? sumPseudo6(s6, d6, total, PROTO_TCP) : sumPseudo(src, dst, PROTO_TCP, total);
      put16Inline(p + 16, ~sumFold(sumAdd(pseudo, p, total)) & 0xffff);
    }
    return hl;
  }

  /** The header and options at p, checksum 0; returns the header length. */
  private header(p: usize): u32 {
    const hl = this.emitLen();
    put32Inline(p, (this.srcPort << 16) | (this.dstPort & 0xffff));
    put32Inline(p + 4, this.seq);
    put32Inline(p + 8, this.ack);
    put32Inline(p + 12, ((hl >> 2) << 28) | ((this.flags & FLAGS_MASK) << 16) | (this.window & 0xffff));
    put32Inline(p + 16, this.urgent & 0xffff); // checksum 0 while summing
    let o = p + HEADER_LEN;
    if (this.mss != 0) {
      put32Inline(o, (OPT_MSS << 24) | (4 << 16) | (this.mss & 0xffff));
      o += 4;
    }
    if (this.sackPermitted) {
      put32Inline(o, (OPT_NOP << 24) | (OPT_NOP << 16) | (OPT_SACK_PERMITTED << 8) | 2);
      o += 4;
    }
    if (this.wscale >= 0) {
      // NOP pads the 3-byte option to a word (RFC 7323 §2.2 layout).
      put32Inline(o, (OPT_NOP << 24) | (OPT_WS << 16) | (3 << 8) | (<u32>this.wscale & 0xff));
      o += 4;
    }
    if (TCP_TIMESTAMPS && this.tsPresent) {
      put32Inline(o, (OPT_NOP << 24) | (OPT_NOP << 16) | (OPT_TS << 8) | 10);
      put32Inline(o + 4, txTsVal);
      put32Inline(o + 8, txTsEcr);
      o += 12;
    }
    const n = min<u32>(this.sackCount, SACK_MAX_BLOCKS);
    if (n) {
      put32Inline(o, (OPT_NOP << 24) | (OPT_NOP << 16) | (OPT_SACK << 8) | (2 + (n << 3)));
      for (let k: u32 = 0; k < n; k++) {
        put32Inline(o + 4 + (k << 3), this.sackLeft(k));
        put32Inline(o + 8 + (k << 3), this.sackRight(k));
      }
    }
    return hl;
  }
}
