// The debug build's entry (build/wasmip.debug.wasm, the fuzz image): the whole core, plus
// debug_check(), which walks the internal tables and reports the first broken invariant. The
// release images do not contain it.
export * from "./index";
import { tcpCheck } from "./sockets/tcp/check";
import { udpCheck } from "./sockets/udp";
import { arpCheck } from "./iface/arp";
import { ndCheck } from "./iface/nd";
import { FEATURE_IPV6 } from "./config";

/**
 * 0 when every invariant holds, else (area << 24) | (check << 8) | index: area 1 TCP (checks in
 * sockets/tcp/check.ts), 2 UDP (udpCheck), 3 ARP (arpCheck), 4 ND (ndCheck, with IPv6).
 */
export function debug_check(): u32 {
  let r = tcpCheck();
  if (r != 0) return (1 << 24) | r;
  r = udpCheck();
  if (r != 0) return (2 << 24) | r;
  r = arpCheck();
  if (r != 0) return (3 << 24) | r;
  if (FEATURE_IPV6) {
    r = ndCheck();
    if (r != 0) return (4 << 24) | r;
  }
  return 0;
}
