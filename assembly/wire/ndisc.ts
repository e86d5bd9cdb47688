// Neighbor Discovery messages (RFC 4861 §4): Router Solicitation and Advertisement, Neighbor
// Solicitation and Advertisement, with the options we use: source/target link-layer address
// (§4.6.1), prefix information (§4.6.2), MTU (§4.6.4) and RDNSS (RFC 8106 §5.1). The ICMPv6 header
// (type, code, checksum) is Icmpv6Repr's; parse() here reads the body and checks every option.
//
// Option walk: each option's length is in units of 8 bytes; a length of 0 makes the whole message
// invalid (§4.6), so every step moves forward by at least 8 bytes and the walk ends at the
// message's end or at an option that would run past it (invalid too).
import { get16, get32 } from "../support/bytes";
import { WireError } from "./error";

export const RS_LEN: u32 = 8;
export const RA_LEN: u32 = 16;
export const NS_LEN: u32 = 24;
export const NA_LEN: u32 = 24;
export const OPT_SOURCE_LLADDR: u32 = 1;
export const OPT_TARGET_LLADDR: u32 = 2;
export const OPT_PREFIX_INFO: u32 = 3;
export const OPT_MTU: u32 = 5;
export const OPT_RDNSS: u32 = 25;
/** Link-layer address options for Ethernet are 8 bytes (RFC 2464 §8). */
export const LLADDR_OPT_LEN: u32 = 8;
export const PREFIX_OPT_LEN: u32 = 32;
/** NA flags (§4.4), in the first body word. */
export const NA_ROUTER: u32 = 0x80000000;
export const NA_SOLICITED: u32 = 0x40000000;
export const NA_OVERRIDE: u32 = 0x20000000;
/** Prefix information flags (§4.6.2). */
export const PREFIX_ON_LINK: u32 = 0x80;
export const PREFIX_AUTONOMOUS: u32 = 0x40;

@unmanaged
export class NdRepr {
  /** The ICMPv6 type this body was parsed as. */
  type: u32;
  /** NS/NA: the target address, inside the message. */
  target: usize;
  /** NA: the R, S, O flags (NA_*). */
  flags: u32;
  /** RA fields (§4.2); times in ms as sent (0: unspecified). */
  curHopLimit: u32;
  routerLifetimeS: u32;
  reachableMs: u32;
  retransMs: u32;
  /** Link-layer address options found (source for RS/RA/NS, target for NA), 0 when absent. */
  lladdr: usize;
  /** MTU option value, 0 when absent. */
  mtu: u32;
  /** Options region [optFrom, optTo) for nextOption(). */
  optFrom: usize;
  optTo: usize;

  /** Checked view of the ND message body of len bytes at p (the ICMPv6 header included). */
  parse(p: usize, len: u32, type: u32): WireError {
    let fixed: u32 = RS_LEN;
    if (type == 134) fixed = RA_LEN;
    else if (type == 135) fixed = NS_LEN;
    else if (type == 136) fixed = NA_LEN;
    if (len < fixed) return WireError.TRUNCATED;
    this.type = type;
    this.target = type == 135 || type == 136 ? p + 8 : 0;
    this.flags = type == 136 ? get32(p + 4) : 0;
    if (type == 134) {
      this.curHopLimit = <u32>load<u8>(p, 4);
      this.routerLifetimeS = get16(p + 6);
      this.reachableMs = get32(p + 8);
      this.retransMs = get32(p + 12);
    }
    this.lladdr = 0;
    this.mtu = 0;
    this.optFrom = p + fixed;
    this.optTo = p + len;
    let at = p + fixed;
    const end = p + len;
    while (at < end) {
      if (at + 2 > end) return WireError.TRUNCATED;
      const olen = <u32>load<u8>(at, 1) << 3;
      if (olen == 0) return WireError.BAD_OPTION; // §4.6: the packet is discarded
      if (at + olen > end) return WireError.TRUNCATED;
      const otype = <u32>load<u8>(at);
      if (otype == OPT_SOURCE_LLADDR || otype == OPT_TARGET_LLADDR) {
        // Only the one a message may carry counts: SLLA in RS/RA/NS, TLLA in NA (§4.3-4.4).
        if ((otype == OPT_TARGET_LLADDR) == (type == 136)) {
          if (olen != LLADDR_OPT_LEN) return WireError.BAD_OPTION;
          this.lladdr = at + 2;
        }
      } else if (otype == OPT_PREFIX_INFO) {
        if (olen != PREFIX_OPT_LEN) return WireError.BAD_OPTION;
      } else if (otype == OPT_MTU) {
        if (olen != 8) return WireError.BAD_OPTION;
        this.mtu = get32(at + 4);
      } else if (otype == OPT_RDNSS) {
        if (olen < 24 || ((olen - 8) & 15) != 0) return WireError.BAD_OPTION; // RFC 8106 §5.1: 3 + 2n units
      }
      at += olen;
    }
    return WireError.OK;
  }
}

/** The option at `at` within a parsed message's region, or 0 past the end (options already checked). */
export function nextOption(r: NdRepr, at: usize): usize {
  const next = at == 0 ? r.optFrom : at + (<usize>load<u8>(at, 1) << 3);
  return next < r.optTo ? next : 0;
}

/** Writes a link-layer address option of the given type (raw MAC words) at p; returns its length. */
export function emitLladdr(p: usize, type: u32, w0: u32, w4: u16): u32 {
  store<u8>(p, <u8>type);
  store<u8>(p, 1, 1);
  store<u32>(p, w0, 2);
  store<u16>(p, w4, 6);
  return LLADDR_OPT_LEN;
}
