// Stateless address autoconfiguration (RFC 4862) and router solicitation (RFC 4861 §6.3.7).
//
// - The interface identifier is the modified EUI-64 of the MAC (RFC 4291 Appendix A: ff:fe in
//   the middle, the universal/local bit inverted). Chosen over RFC 7217's stable opaque
//   identifiers for now: no hash function or secret in the image, and `ping -6` to a board is
//   predictable from its MAC. The price (RFC 7721): the identifier is the same on every network,
//   so a device can be tracked across them; RFC 7217 is the planned alternative behind a knob.
// - Link-local fe80::/64 + IID at start; every address is tentative until DAD (§5.4): one NS from
//   :: to its solicited-node group after a random delay up to 1 s (§5.4.2), then RetransTimer of
//   silence. An NS from :: or an NA for it marks it duplicated (counted; never used; §5.4.5).
// - After the link-local address is preferred: up to 3 RSs, 4 s apart, until an RA arrives.
// - A prefix with the A flag and length 64 (our IID's) makes an address (§5.5.3): valid and
//   preferred lifetimes as sent, a known one refreshed under the two-hour rule (e).
// Lifetimes are seconds left, decremented by a one-second tick.
import { IPV6_ADDRS, IPV6_DAD_TRANSMITS, ND_MAX_RTR_SOLICITATIONS, ND_MAX_RTR_SOLICITATION_DELAY_MS, ND_RTR_SOLICITATION_INTERVAL_MS, POLL_MAX_SLEEP_MS } from "../config";
import { due, now } from "../support/clock";
import { C, count } from "../support/counters";
import { phy_random } from "../support/phy";
import { solicitedNode } from "../wire/ipv6";
import { NET_EV_ADDRESS, NET_EV_MULTICAST, netEvent } from "./events";
import { ADDR_DEPRECATED, ADDR_DUPLICATED, ADDR_FREE, ADDR_PREFERRED, ADDR_TENTATIVE, Addr, INFINITE, addr, addressEvent6, ipv6AddrInit, lifeLeft, sooner } from "./ipv6";
import { SLAAC_GROUP } from "./ipv6_static";
import { mldChanged } from "./mld";
import { macW0, macW4 } from "./netif";
import { retransMs, sendNs, sendRs } from "./nd";

const TWO_HOURS_S: u32 = 7200;
let rsLeft: u32 = 0;
let rsAt: u32 = 0;
function group(): usize {
  return SLAAC_GROUP;
}

/** Modified EUI-64 (RFC 4291 Appendix A) as the u64 of bytes 8..15, as loaded. */
function iid(): u64 {
  const b0 = (macW0 & 0xff) ^ 0x02; // the universal/local bit, inverted
  const lo = b0 | (macW0 & 0xffff00) | (0xff << 24); // bytes 8, 9, 10, then ff
  const hi: u32 = 0xfe | ((macW0 >>> 24) << 8) | (<u32>macW4 << 16); // fe, mac[3], mac[4], mac[5]
  return <u64>lo | (<u64>hi << 32);
}

export function slaacInit(): void {
  ipv6AddrInit();
  const ll = addr(0);
  ll.a0 = 0x80fe; // fe80::/64
  ll.a8 = iid();
  ll.validS = INFINITE;
  ll.preferredS = INFINITE;
  tentative(ll);
  rsLeft = ND_MAX_RTR_SOLICITATIONS;
  rsAt = 0;
}

/** Starts DAD on a after a random delay (RFC 4862 §5.4.2), or makes it usable at once without DAD. */
function tentative(a: Addr): void {
  a.state = ADDR_TENTATIVE;
  a.dadLeft = IPV6_DAD_TRANSMITS;
  a.dadAt = now + phy_random() % ND_MAX_RTR_SOLICITATION_DELAY_MS;
  mldChanged(); // §5.4.2: join the solicited-node group (an MLD report) before the NS
  netEvent(NET_EV_MULTICAST);
}

/** The link came back (it may lead elsewhere now): every address is checked again by DAD and
 *  routers are solicited again (RFC 4862 §5.4, RFC 4861 §6.3.7). */
export function slaacLinkUp(): void {
  for (let k = 0; k < IPV6_ADDRS; k++) {
    const a = addr(k);
    if (a.state != ADDR_FREE && a.state != ADDR_DUPLICATED) tentative(a);
  }
  rsLeft = ND_MAX_RTR_SOLICITATIONS;
}

/** The address in slot k is someone else's (RFC 4862 §5.4.5). */
export function slaacDuplicate(k: i32): void {
  const a = addr(k);
  a.state = ADDR_DUPLICATED;
  count(C.ND_DAD_DUPLICATES);
  netEvent(NET_EV_MULTICAST);
}

/** An RA arrived: solicitation is over. */
export function slaacRaSeen(): void {
  rsLeft = 0;
}

/** A prefix information option with the A flag (RFC 4862 §5.5.3). */
export function slaacPrefix(prefix: usize, plen: u32, validS: u32, preferredS: u32): void {
  if (plen != 64 || preferredS > validS) return; // (c), and our IID is 64 bits (§5.5.3 (d))
  // §5.4.5: the link-local address (of the same EUI-64 identifier) is someone else's: no more.
  if (addr(0).state == ADDR_DUPLICATED) return;
  let free = -1;
  for (let i = 1; i < IPV6_ADDRS; i++) {
    const a = addr(i);
    if (a.state == ADDR_FREE) {
      if (free < 0) free = i;
      continue;
    }
    if (a.a0 != load<u64>(prefix)) continue; // the same /64
    if (a.state == ADDR_DUPLICATED) return;
    // (e): the preferred lifetime as sent; the valid one not cut below two hours by an RA.
    a.preferredS = preferredS;
    const left = a.validS;
    if (validS > TWO_HOURS_S || validS > left) a.validS = validS;
    else if (left > TWO_HOURS_S) a.validS = TWO_HOURS_S;
    if (a.state == ADDR_PREFERRED && preferredS == 0) a.state = ADDR_DEPRECATED;
    else if (a.state == ADDR_DEPRECATED && preferredS != 0) a.state = ADDR_PREFERRED;
    return;
  }
  if (validS == 0 || free < 0) return; // (d): a new prefix with valid lifetime 0 is ignored
  const a = addr(free);
  a.a0 = load<u64>(prefix);
  a.a8 = iid();
  a.validS = validS;
  a.preferredS = preferredS;
  tentative(a);
}

function dadStep(k: i32, a: Addr): void {
  if (a.dadLeft > 0) {
    a.dadLeft--;
    a.dadAt = now + retransMs;
    solicitedNode(group(), changetype<usize>(a));
    sendNs(0, group(), changetype<usize>(a), 0);
    return;
  }
  // RetransTimer of silence after the last probe: the address is ours.
  a.state = a.preferredS != 0 ? ADDR_PREFERRED : ADDR_DEPRECATED;
  count(C.ND_ADDRESSES_CONFIGURED);
  netEvent(NET_EV_ADDRESS);
  if (k == 0 && rsLeft > 0) rsAt = now + phy_random() % ND_MAX_RTR_SOLICITATION_DELAY_MS;
}

/** DAD, solicitations, and address lifetimes when s seconds went by (ipv6_api.ts's tick; 0:
 *  none); ms to the next DAD or RS step. The link-local address's lifetimes are INFINITE. */
export function slaacPoll(s: u32): u32 {
  let next = POLL_MAX_SLEEP_MS;
  for (let k = 0; k < IPV6_ADDRS; k++) {
    const a = addr(k);
    if (a.state == ADDR_FREE) continue;
    if (s != 0) {
      a.preferredS = lifeLeft(a.preferredS, s);
      a.validS = lifeLeft(a.validS, s);
      if (a.validS == 0) {
        a.state = ADDR_FREE; // §5.5.4: invalid, and never again a source or a destination
        count(C.ND_ADDRESSES_EXPIRED);
        addressEvent6(changetype<usize>(a), true); // its 16 bytes are still there
        netEvent(NET_EV_MULTICAST);
        mldChanged();
        continue;
      }
      if (a.preferredS == 0 && a.state == ADDR_PREFERRED) a.state = ADDR_DEPRECATED;
    }
    if (a.state != ADDR_TENTATIVE) continue;
    if (due(a.dadAt)) dadStep(k, a);
    if (a.state == ADDR_TENTATIVE) next = sooner(next, a.dadAt);
  }
  if (rsLeft > 0 && addr(0).state == ADDR_PREFERRED) {
    if (due(rsAt)) {
      rsLeft--;
      rsAt = now + ND_RTR_SOLICITATION_INTERVAL_MS;
      sendRs(changetype<usize>(addr(0)));
    }
    if (rsLeft > 0) next = sooner(next, rsAt);
  }
  return next;
}
