// Neighbor Discovery messages (RFC 4861 §4): Router Solicitation and Advertisement, Neighbor
// Solicitation and Advertisement, with the options we use: source/target link-layer address
// (§4.6.1), prefix information (§4.6.2), MTU (§4.6.4) and RDNSS (RFC 8106 §5.1). The ICMPv6 header
// (type, code, checksum) is checked by iface/icmpv6.ts; ndParse() here checks the body and every
// option.
//
// Option walk: each option's length is in units of 8 bytes; a length of 0 makes the whole message
// invalid (§4.6), so every step moves forward by at least 8 bytes and the walk ends at the
// message's end or at an option that would run past it (invalid too).
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

// ndParse() leaves the one option a handler needs in a global (one message is received at a
// time; a global costs less than a struct's field). The fixed fields (an NS's or NA's target, an
// NA's flags, an RA's) are read from the message by its handler, and an RA's options by walking
// them again: they are checked here.
/** The link-layer address option a message may carry (source for RS/RA/NS, target for NA), 0
 *  when absent. */
export let lladdr: usize = 0;

/** Checks the ND message of len bytes at p (the ICMPv6 header included) as the given type. */
export function ndParse(p: usize, len: u32, type: u32): WireError {
  const fixed: u32 = type == 134 ? RA_LEN : type - 135 <= 1 ? NS_LEN : RS_LEN;
  // Options are whole units of 8 bytes (§4.6): a region of another length ends in a truncated one.
  if (len < fixed || ((len - fixed) & 7) != 0) return WireError.TRUNCATED;
  if (fixed == NS_LEN && load<u8>(p, 8) == 0xff) return WireError.BAD_OPTION; // §7.1.1, §7.1.2: a multicast target
  // Only the link-layer option a message may carry counts: SLLA in RS/RA/NS, TLLA in NA (§4.3-4.4).
  const ll = type == 136 ? OPT_TARGET_LLADDR : OPT_SOURCE_LLADDR;
  lladdr = 0;
  let at = p + fixed;
  const end = p + len;
  while (at < end) {
    const olen = <u32>load<u8>(at, 1) << 3; // at + 8 <= end: the region is whole units
    if (olen == 0) return WireError.BAD_OPTION; // §4.6: the packet is discarded
    if (at + olen > end) return WireError.TRUNCATED;
    const otype = <u32>load<u8>(at);
    if (otype == ll) lladdr = at + 2;
    const bad = otype == ll || otype == OPT_MTU
      ? olen != LLADDR_OPT_LEN
      : otype == OPT_PREFIX_INFO
        ? olen != PREFIX_OPT_LEN
        : otype == OPT_RDNSS && (olen < 24 || ((olen - 8) & 15) != 0); // RFC 8106 §5.1: 3 + 2n units
    if (bad) return WireError.BAD_OPTION;
    at += olen;
  }
  return WireError.OK;
}

/** Writes a link-layer address option of the given type (raw MAC words) at p; returns its length. */
export function emitLladdr(p: usize, type: u32, w0: u32, w4: u16): u32 {
  store<u8>(p, <u8>type);
  store<u8>(p, 1, 1);
  store<u32>(p, w0, 2);
  store<u16>(p, w4, 6);
  return LLADDR_OPT_LEN;
}
