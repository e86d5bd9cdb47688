// IPv6 start, poll and what the exports read: the layers of iface/ipv6.ts, nd.ts, slaac.ts and
// mld.ts together, so index.ts calls one function each.
import { IPV6_ADDRS, POLL_MAX_SLEEP_MS } from "../config";
import { addrCopy } from "../wire/ipv6";
import { due, elapsed, now } from "../support/clock";
import { ADDR_FREE, ADDR_DUPLICATED, addr, ipv6AddrInit, serviceGroup, sooner } from "./ipv6";
import { mldInit, mldPoll } from "./mld";
import { ndInit, ndPoll } from "./nd";
import { slaacInit, slaacLinkUp, slaacPoll } from "./slaac";

/** IPv6 runs on the interface (ipv6_enable; Linux's disable_ipv6 the other way round). Off: no
 *  address, so every IPv6 packet is not for us, and nothing is sent. */
let enabled: bool = true;
/** The one-second tick of every lifetime (addresses, routers, prefixes, RDNSS servers). */
let tickAt: u32 = 0;

export function ipv6SetEnabled(on: bool): void {
  enabled = on;
}

export function ipv6Start(): void {
  tickAt = now + 1000;
  ndInit();
  mldInit();
  if (enabled) slaacInit(); // the link-local address, tentative: DAD and the first RS follow from poll()
  else ipv6AddrInit();
}

/** set_link(1): neighbours, routers and prefixes are forgotten, addresses checked again. */
export function ipv6LinkUp(): void {
  if (!enabled) return;
  ndInit();
  slaacLinkUp();
}

export function ipv6Poll(): u32 {
  if (!enabled) return POLL_MAX_SLEEP_MS;
  let s: u32 = 0;
  if (due(tickAt)) {
    s = 1 + elapsed(tickAt) / 1000;
    tickAt += s * 1000;
  }
  const next = min<u32>(slaacPoll(s), ndPoll(s));
  return sooner(min<u32>(next, mldPoll()), tickAt);
}

/** Address slot i's state, with the address and its lifetimes at out. */
export function ipv6AddressAt(i: u32, out: usize): u32 {
  if (i >= <u32>IPV6_ADDRS) return ADDR_FREE;
  const a = addr(<i32>i);
  if (a.state == ADDR_FREE) return ADDR_FREE;
  addrCopy(out, changetype<usize>(a));
  store<u32>(out, a.validS, 16);
  store<u32>(out, a.preferredS, 20);
  return a.state;
}

/** The multicast MAC of IPv6 group slot i (0: all-nodes, 1 + k: address k's solicited-node
 *  group, 1 + IPV6_ADDRS: the group a core service joined) at out, for a board's receive filter;
 *  false when the slot has none. */
export function ipv6GroupMac(i: u32, out: usize): bool {
  if (i > <u32>IPV6_ADDRS + 1) return false;
  store<u16>(out, 0x3333);
  if (i == <u32>IPV6_ADDRS + 1) {
    const g = serviceGroup();
    if (g == 0) return false;
    store<u32>(out, load<u32>(g, 12), 2);
    return true;
  }
  if (i == 0) {
    store<u32>(out, 0x01000000, 2); // 33:33:00:00:00:01
    return true;
  }
  const a = addr(<i32>i - 1);
  if (a.state == ADDR_FREE || a.state == ADDR_DUPLICATED) return false;
  store<u32>(out, (load<u32>(changetype<usize>(a), 12) & 0xffffff00) | 0xff, 2);
  return true;
}

