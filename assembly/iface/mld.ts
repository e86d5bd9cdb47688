// MLDv2 (RFC 3810), listener side, for the groups IPv6 itself needs: the solicited-node group of
// each of our addresses, so a snooping switch forwards the NS that resolve and defend them
// (RFC 4861 §7.2.1, RFC 4862 §5.4.2), and the group a core service joined (mDNS's ff02::fb).
// All-nodes ff02::1 is never reported (§6). Leaving the service's group sends CHANGE_TO_INCLUDE {}
// (§6.1) in the state-change reports that follow.
//
// One report carries a record per group: the solicited-node group the addresses not duplicated
// share (they have one interface identifier), and the service's. A change (an address added or
// gone) sends one at once and MLD_ROBUSTNESS - 1 more within MLD_UNSOLICITED_MS (§6.1:
// state-change records, CHANGE_TO_EXCLUDE {}); a query schedules a current-state report
// (MODE_IS_EXCLUDE {}) at random within its Maximum Response Delay (§6.2), unless one is due
// sooner. Reports go to ff02::16 with hop limit 1 and the Router Alert option
// (§5), from our link-local address, or from :: while it is tentative (§5.2.13).
import { IPV6_ADDRS, MLD_ROBUSTNESS, MLD_UNSOLICITED_MS, POLL_MAX_SLEEP_MS } from "../config";
import { due, now, until } from "../support/clock";
import { C, count } from "../support/counters";
import { phy_random } from "../support/phy";
import { put32 } from "../support/bytes";
import { HEADER_LEN as ETH_LEN } from "../wire/ethernet";
import {
  CHANGE_TO_EXCLUDE, CHANGE_TO_INCLUDE, MLD_RECORD_LEN, MODE_IS_EXCLUDE, TYPE_MLD_QUERY, TYPE_MLD_V2_REPORT, emitIcmpv6, emitRecord, mldQueryDelay,
} from "../wire/icmpv6";
import { HEADER_LEN, NH_HOP_BY_HOP, SRC_AT, addrCopy, isAllNodes, isLinkLocal, isUnspecified, linkGroup, solicitedNode } from "../wire/ipv6";
import { ADDR_DUPLICATED, ADDR_FREE, ADDR_PREFERRED, ADDR_DEPRECATED, addr, ipv6Output, isOurGroup, serviceGroup, setServiceGroup } from "./ipv6";
import { NET_EV_MULTICAST, netEvent } from "./events";
import { MLD_GROUP } from "./ipv6_static";

const NONE: u32 = 0;
const STATE_CHANGE: u32 = 1;
const CURRENT_STATE: u32 = 2;
let pending: u32 = NONE;
let pendingAt: u32 = 0;
/** State-change reports still to send after the pending one. */
let again: u32 = 0;
/** The service's group just left: reported as CHANGE_TO_INCLUDE {} by the state-change reports. */
let left: bool = false;
function leftGroup(): usize {
  return memory.data(16, 8);
}

const HBH_LEN: u32 = 8;
const FRAME_LEN: i32 = <i32>(ETH_LEN + HEADER_LEN + HBH_LEN + 8 + MLD_RECORD_LEN * 2) + 8;
function frame(): usize {
  return memory.data(FRAME_LEN, 16);
}
function group(): usize {
  return MLD_GROUP;
}
function zero(): usize {
  return memory.data(16, 8);
}

export function mldInit(): void {
  pending = NONE;
  again = 0;
  left = false;
}

/** A core service joins the link-scope group g (16 bytes; 0: leaves the one it joined). */
export function mldJoinService(g: usize): void {
  const had = serviceGroup();
  if (g == 0 && had != 0) {
    addrCopy(leftGroup(), had);
    left = true;
  }
  setServiceGroup(g);
  mldChanged();
  netEvent(NET_EV_MULTICAST);
}

/** Our groups changed: report at once and MLD_ROBUSTNESS - 1 more times within the interval. */
export function mldChanged(): void {
  pending = STATE_CHANGE;
  pendingAt = now;
  again = MLD_ROBUSTNESS - 1;
}

/** A query (type 130) of len bytes at m in the packet at ip (its IPv6 header); other MLD messages
 *  are for routers. */
export function mldInput(ip: usize, m: usize, len: u32, type: u32): C {
  if (type != TYPE_MLD_QUERY) return C.MLD_RECEIVED;
  // §5.1.14: queries come from a link-local source.
  if (!isLinkLocal(ip + SRC_AT)) return C.MLD_MALFORMED;
  const delay = mldQueryDelay(m, len);
  if (delay < 0) return C.MLD_MALFORMED;
  const g = m + 8; // the group queried (all zero: a general query)
  if (!isUnspecified(g) && !isOurs(g)) return C.MLD_RECEIVED;
  const at = now + (delay > 0 ? phy_random() % <u32>delay : 0);
  if (pending == NONE || <i32>(pendingAt - at) > 0) {
    if (pending != STATE_CHANGE) pending = CURRENT_STATE;
    pendingAt = at;
  }
  return C.MLD_RECEIVED;
}

/** Is g one of the groups we report: a solicited-node group of ours or the service's (not
 *  all-nodes, §6)? */
function isOurs(g: usize): bool {
  return !isAllNodes(g) && isOurGroup(g);
}

function send(kind: u32): void {
  const hbh = frame() + ETH_LEN + HEADER_LEN;
  const m = hbh + HBH_LEN;
  let n: u32 = 0;
  const rec = kind == STATE_CHANGE ? CHANGE_TO_EXCLUDE : MODE_IS_EXCLUDE;
  // Every address has our one interface identifier (slaac.ts), so they share one solicited-node
  // group: the first address not free or duplicated names it.
  for (let i = 0; i < IPV6_ADDRS; i++) {
    const a = addr(i);
    if (a.state == ADDR_FREE || a.state == ADDR_DUPLICATED) continue;
    solicitedNode(m + 8 + 4, changetype<usize>(a));
    put32(m + 8, rec << 24);
    n = 1;
    break;
  }
  const sg = serviceGroup();
  if (sg != 0) emitRecord(m + 8 + n++ * MLD_RECORD_LEN, rec, sg);
  else if (left && kind == STATE_CHANGE) emitRecord(m + 8 + n++ * MLD_RECORD_LEN, CHANGE_TO_INCLUDE, leftGroup());
  if (n == 0) return;
  const mlen = 8 + n * MLD_RECORD_LEN;
  // Hop-by-hop: next header ICMPv6, length 0, Router Alert (RFC 2711) value 0 (MLD), PadN of 0.
  store<u64>(hbh, 0x000100000205003a); // 3a 00 05 02 00 00 01 00
  const ll = addr(0);
  const src = ll.state == ADDR_PREFERRED || ll.state == ADDR_DEPRECATED ? changetype<usize>(ll) : zero();
  // ff02::16, all MLDv2-capable routers.
  linkGroup(group(), 0x16);
  emitIcmpv6(m, TYPE_MLD_V2_REPORT, 0, n, mlen, src, group()); // §5.2: the word is reserved 16 bits and n
  count(C.MLD_REPORTS_SENT);
  ipv6Output(frame(), HBH_LEN + mlen, NH_HOP_BY_HOP, src, group(), 1);
}

/** Due reports; ms to the next. */
export function mldPoll(): u32 {
  if (pending == NONE) return POLL_MAX_SLEEP_MS;
  if (due(pendingAt)) {
    const kind = pending;
    pending = NONE;
    send(kind);
    if (kind == STATE_CHANGE) {
      if (again > 0) {
        again--;
        pending = STATE_CHANGE;
        pendingAt = now + 1 + phy_random() % MLD_UNSOLICITED_MS;
      } else left = false; // the last of them carried the leave
    }
    if (pending == NONE) return POLL_MAX_SLEEP_MS;
  }
  return until(pendingAt);
}
