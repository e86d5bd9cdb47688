// Ethernet II: the receive dispatch and the framing of what we send.
import { FEATURE_IPV6, FEATURE_MULTICAST, FRAME_MAX } from "../config";
import { C, count, countN } from "../support/counters";
import { put16Inline } from "../support/bytes";
import { WireError } from "../wire/error";
import { EthernetRepr, HEADER_LEN, TYPE_ARP, TYPE_IPV4, TYPE_IPV6, macEquals, macIsBroadcast, macIsMulticast, macStore } from "../wire/ethernet";
import { igmpAcceptsMac } from "./igmp";
import { arpInput } from "./arp";
import { ipv4Input } from "./ipv4";
import { ipv6AcceptsMac, ipv6Input } from "./ipv6";
import { macW0, macW4, rxBuf, transmit } from "./netif";

const eth = changetype<EthernetRepr>(memory.data(offsetof<EthernetRepr>()));

/** Handles the frame of len bytes in rxBuf and returns the counter it was accounted to. */
export function ethernetInput(len: u32): C {
  countN(C.RX_FRAMES, 1); // countN: @inline, on every frame
  const c = dispatch(len);
  countN(c, 1);
  return c;
}

function dispatch(len: u32): C {
  if (len > FRAME_MAX) return C.ETH_OVERSIZE;
  const p = rxBuf;
  if (eth.parse(p, len) != WireError.OK) return C.ETH_TOO_SHORT;
  if (!macEquals(p, macW0, macW4) && !macIsBroadcast(p)) {
    // The receive filter a MAC would apply: a multicast frame is ours for a joined group.
    if (!macIsMulticast(p)) return C.ETH_NOT_FOR_US;
    const w0 = load<u32>(p);
    const w4 = load<u16>(p, 4);
    if (!(FEATURE_MULTICAST && igmpAcceptsMac(w0, w4)) && !(FEATURE_IPV6 && ipv6AcceptsMac(w0, w4))) return C.ETH_NOT_FOR_US;
  }
  const type = eth.ethertype;
  if (type == TYPE_IPV4) return ipv4Input(p + HEADER_LEN, len - HEADER_LEN);
  if (type == TYPE_ARP) return arpInput(p + HEADER_LEN, len - HEADER_LEN);
  if (type == TYPE_IPV6) return FEATURE_IPV6 ? ipv6Input(p + HEADER_LEN, len - HEADER_LEN) : C.ETH_IPV6_IGNORED;
  return C.ETH_UNKNOWN_TYPE;
}

/** Writes the header of the frame at p (payload already at p + 14) and transmits len bytes. */
export function ethernetSend(p: usize, len: u32, dst0: u32, dst4: u16, type: u32): void {
  macStore(p, dst0, dst4);
  macStore(p + 6, macW0, macW4);
  put16Inline(p + 12, type);
  transmit(p, len);
}
