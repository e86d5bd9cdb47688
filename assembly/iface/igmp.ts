// IPv4 multicast membership (IGMPv3, RFC 3376, host side; v1 and v2 queriers per RFC 2236 and
// RFC 3376 §7): the groups the interface is in (a fixed table, MCAST_GROUPS, shared by every
// socket with a reference count), the reports that tell routers and snooping switches, and the MAC
// filter multicast frames are accepted by.
//
// - Joining a group sends an unsolicited report at once and IGMP_ROBUSTNESS - 1 more at random
//   times within IGMP_UNSOLICITED_MS (§5.1); leaving the last reference sends one leave (v3:
//   CHANGE_TO_INCLUDE {}, v2: Leave Group to 224.0.0.2). A lost leave is covered by the querier's
//   group-specific queries and membership timeout (§6.4).
// - A query schedules a report per group it covers at a random time within its Max Resp Time,
//   unless one is due sooner (§5.2). A v3 report holds one record per group here (one report per
//   group: valid, a little chattier than one report for all).
// - A v1 or v2 query puts the interface in that compatibility mode for IGMP_OLDER_QUERIER_MS (§7.2.1):
//   reports are then v1/v2 and another host's report for a group cancels ours (v2 suppression).
// - Reports go to 224.0.0.22 (v3), the group (v1/v2) or 224.0.0.2 (v2 leave), TTL 1, with the IP
//   Router Alert option (RFC 2113) and Internetwork Control precedence, never to 224.0.0.1, which
//   every host is always in and never reports (§5).
import { FEATURE_MULTICAST, IGMP_OLDER_QUERIER_MS, IGMP_ROBUSTNESS, IGMP_UNSOLICITED_MS, MCAST_GROUPS, POLL_MAX_SLEEP_MS } from "../config";
import { due, now, until } from "../support/clock";
import { C, count } from "../support/counters";
import { ENOBUFS } from "../support/errors";
import { phy_random } from "../support/phy";
import { put16Inline, put32Inline } from "../support/bytes";
import { checksum } from "../wire/checksum";
import { WireError } from "../wire/error";
import { HEADER_LEN as ETH_LEN, TYPE_IPV4 } from "../wire/ethernet";
import {
  CHANGE_TO_EXCLUDE, CHANGE_TO_INCLUDE, IgmpRepr, MODE_IS_EXCLUDE, TYPE_LEAVE, TYPE_QUERY, TYPE_V1_REPORT, TYPE_V2_REPORT,
  V2_LEN, V3_REPORT_LEN, emitV2, emitV3,
} from "../wire/igmp";
import { ethernetSend } from "./ethernet";
import { NET_EV_MULTICAST, netEvent } from "./events";
import { ipAddr } from "./netif";

export const ALL_SYSTEMS: u32 = 0xe0000001; // 224.0.0.1
const ALL_ROUTERS: u32 = 0xe0000002; // 224.0.0.2
const V3_ROUTERS: u32 = 0xe0000016; // 224.0.0.22
export const PROTO_IGMP: u32 = 2;

// @ts-ignore: decorator
@inline export function isMulticast(ip: u32): bool {
  return (ip >>> 28) == 14; // 224.0.0.0/4
}

// What a group's pending report is.
const NONE: u32 = 0;
const STATE_CHANGE: u32 = 1; // after a join (v3 CHANGE_TO_EXCLUDE)
const CURRENT_STATE: u32 = 2; // answering a query (v3 MODE_IS_EXCLUDE)

@unmanaged
class Group {
  addr: u32;
  refs: u32;
  pending: u32;
  at: u32;
  /** Unsolicited reports still to send after the pending one (join). */
  again: u32;
}

const GROUP_SIZE = offsetof<Group>();
// Static memory only in a build with the feature (a module's memory.data is kept even when unused).
const table = memory.data(FEATURE_MULTICAST ? <i32>GROUP_SIZE * MCAST_GROUPS : 8, 8);
const rx = changetype<IgmpRepr>(memory.data(FEATURE_MULTICAST ? offsetof<IgmpRepr>() : 8));
/** Reports are built here: Ethernet, a 24-byte IP header with Router Alert, the message. */
const IP_LEN: u32 = 24;
const frame = memory.data(FEATURE_MULTICAST ? <i32>(ETH_LEN + IP_LEN + V3_REPORT_LEN) + 8 : 8, 16);
let ident: u32 = 0;
/** Until when a v1 / v2 querier is present (valid while the flag is set). */
let v1Until: u32 = 0;
let v2Until: u32 = 0;
let v1Seen: bool = false;
let v2Seen: bool = false;

// @ts-ignore: decorator
@inline function group(i: i32): Group {
  return changetype<Group>(table + <usize>i * GROUP_SIZE);
}

export function igmpInit(): void {
  memory.fill(table, 0, GROUP_SIZE * MCAST_GROUPS);
  v1Seen = false;
  v2Seen = false;
  ident = phy_random() & 0xffff;
}

/** The version reports go out in: 3 unless an older querier was heard lately. */
function mode(): u32 {
  if (v1Seen && !due(v1Until)) return 1;
  if (v2Seen && !due(v2Until)) return 2;
  return 3;
}

function find(addr: u32): i32 {
  for (let i = 0; i < MCAST_GROUPS; i++) if (group(i).refs != 0 && group(i).addr == addr) return i;
  return -1;
}

/** Is the interface in group addr (224.0.0.1 always)? */
export function igmpMember(addr: u32): bool {
  return addr == ALL_SYSTEMS || find(addr) >= 0;
}

/** The slot of group addr, -1 when not joined. */
export function igmpSlot(addr: u32): i32 {
  return find(addr);
}

/** Is a frame to the multicast MAC at p (raw words w0, w4) one of ours (224.0.0.1 or a group's)? */
export function igmpAcceptsMac(w0: u32, w4: u16): bool {
  if (w0 == macW0Of(ALL_SYSTEMS) && w4 == macW4Of(ALL_SYSTEMS)) return true;
  for (let i = 0; i < MCAST_GROUPS; i++) {
    const g = group(i);
    if (g.refs != 0 && w0 == macW0Of(g.addr) && w4 == macW4Of(g.addr)) return true;
  }
  return false;
}

/** The MAC a group maps to (RFC 1112 §6.4: 01:00:5e and the low 23 bits), as raw memory words. */
// @ts-ignore: decorator
@inline export function macW0Of(ip: u32): u32 {
  return 0x5e0001 | (((ip >>> 16) & 0x7f) << 24);
}
// @ts-ignore: decorator
@inline export function macW4Of(ip: u32): u16 {
  return <u16>(((ip >>> 8) & 255) | ((ip & 255) << 8));
}

/** One more reference to group addr (a socket joined it): its slot, or ENOBUFS when the table is full. */
export function igmpJoin(addr: u32): i32 {
  let i = find(addr);
  if (i >= 0) {
    group(i).refs++;
    return i;
  }
  for (let k = 0; k < MCAST_GROUPS; k++) {
    if (group(k).refs == 0) {
      i = k;
      break;
    }
  }
  if (i < 0) return ENOBUFS;
  const g = group(i);
  g.addr = addr;
  g.refs = 1;
  netEvent(NET_EV_MULTICAST);
  if (addr == ALL_SYSTEMS) return i; // never reported
  // §5.1: report at once, then Robustness - 1 more within the Unsolicited Report Interval.
  send(g, STATE_CHANGE);
  g.again = IGMP_ROBUSTNESS - 1;
  schedule(g, STATE_CHANGE, IGMP_UNSOLICITED_MS);
  return i;
}

/** One reference fewer to the group in slot i; the last one leaves it. */
export function igmpLeave(i: i32): void {
  if (i < 0 || i >= MCAST_GROUPS) return;
  const g = group(i);
  if (g.refs == 0 || --g.refs != 0) return;
  g.pending = NONE;
  netEvent(NET_EV_MULTICAST);
  if (g.addr == ALL_SYSTEMS) return;
  const m = mode();
  if (m == 1) return; // v1 has no leave
  count(C.IGMP_REPORTS_SENT);
  if (m == 2) output(ALL_ROUTERS, TYPE_LEAVE, 0, g.addr);
  else output(V3_ROUTERS, 0, CHANGE_TO_INCLUDE, g.addr);
}

/** A report for g within the next `within` ms, unless one of the same kind is due sooner. */
function schedule(g: Group, kind: u32, within: u32): void {
  const at = now + (within > 0 ? phy_random() % within : 0);
  if (g.pending != NONE && (<i32>(g.at - at)) <= 0) return;
  g.pending = kind;
  g.at = at;
}

function send(g: Group, kind: u32): void {
  const m = mode();
  count(C.IGMP_REPORTS_SENT);
  if (m == 3) output(V3_ROUTERS, 0, kind == STATE_CHANGE ? CHANGE_TO_EXCLUDE : MODE_IS_EXCLUDE, g.addr);
  else output(g.addr, m == 1 ? TYPE_V1_REPORT : TYPE_V2_REPORT, 0, g.addr);
}

/** Sends a v1/v2 message (type) or, with type 0, a v3 report with one record, to dst. */
function output(dst: u32, type: u32, record: u32, addr: u32): void {
  const ip = frame + ETH_LEN;
  const msg = ip + IP_LEN;
  const mlen = type != 0 ? V2_LEN : V3_REPORT_LEN;
  if (type != 0) emitV2(msg, type, addr);
  else emitV3(msg, record, addr);
  store<u8>(ip, 0x46); // version 4, 6 words: the Router Alert option
  store<u8>(ip, 0xc0, 1); // precedence: Internetwork Control (RFC 3376 §4)
  put16Inline(ip + 2, IP_LEN + mlen);
  put16Inline(ip + 4, ident);
  ident = (ident + 1) & 0xffff;
  store<u16>(ip, 0, 6);
  store<u8>(ip, 1, 8); // TTL 1
  store<u8>(ip, <u8>PROTO_IGMP, 9);
  store<u16>(ip, 0, 10);
  put32Inline(ip + 12, ipAddr); // 0.0.0.0 before an address (RFC 3376 §4.2.13)
  put32Inline(ip + 16, dst);
  put32Inline(ip + 20, 0x94040000); // Router Alert (RFC 2113)
  put16Inline(ip + 10, checksum(ip, IP_LEN));
  ethernetSend(frame, ETH_LEN + IP_LEN + mlen, macW0Of(dst), macW4Of(dst), TYPE_IPV4);
}

/** An IGMP message of len bytes at p, sent to dst (a group, 224.0.0.1, or us). */
export function igmpInput(p: usize, len: u32, dst: u32): C {
  const err = rx.parse(p, len);
  if (err == WireError.BAD_CHECKSUM) return C.IGMP_BAD_CHECKSUM;
  if (err != WireError.OK) return C.IGMP_MALFORMED;
  const type = rx.type;
  if (type == TYPE_QUERY) {
    // A group-specific query goes to its group (§4.1.12); a general one to 224.0.0.1.
    const addr = rx.group;
    if (addr != 0 && (!isMulticast(addr) || (dst != addr && dst != ALL_SYSTEMS))) return C.IGMP_MALFORMED;
    if (rx.version == 1) {
      v1Seen = true;
      v1Until = now + IGMP_OLDER_QUERIER_MS;
    } else if (rx.version == 2) {
      v2Seen = true;
      v2Until = now + IGMP_OLDER_QUERIER_MS;
    }
    const within = rx.maxRespMs;
    for (let i = 0; i < MCAST_GROUPS; i++) {
      const g = group(i);
      if (g.refs == 0 || g.addr == ALL_SYSTEMS || (addr != 0 && g.addr != addr)) continue;
      schedule(g, CURRENT_STATE, within);
    }
    return C.IGMP_RECEIVED;
  }
  if (type == TYPE_V1_REPORT || type == TYPE_V2_REPORT) {
    // v1/v2 report suppression (RFC 2236 §3): another member answered for the group.
    const i = find(rx.group);
    if (i >= 0 && mode() != 3 && group(i).pending == CURRENT_STATE) group(i).pending = NONE;
  }
  // Other v3 reports (to 224.0.0.22, which hosts do not join) and leaves are for routers.
  return C.IGMP_RECEIVED;
}

/** Due reports; ms to the next. */
export function igmpPoll(): u32 {
  let next = POLL_MAX_SLEEP_MS;
  for (let i = 0; i < MCAST_GROUPS; i++) {
    const g = group(i);
    if (g.refs == 0 || g.pending == NONE) continue;
    if (due(g.at)) {
      const kind = g.pending;
      g.pending = NONE;
      send(g, kind);
      if (kind == STATE_CHANGE && g.again > 1) {
        g.again--;
        schedule(g, STATE_CHANGE, IGMP_UNSOLICITED_MS);
      } else if (kind == STATE_CHANGE) {
        g.again = 0;
      }
      if (g.pending == NONE) continue;
    }
    const d = until(g.at);
    if (d < next) next = d;
  }
  return next;
}

/** The MAC of the group in slot i (6 bytes at out) for a board's receive filter; false when free. */
export function igmpGroupMac(i: u32, out: usize): bool {
  if (i >= <u32>MCAST_GROUPS || group(<i32>i).refs == 0) return false;
  const a = group(<i32>i).addr;
  store<u32>(out, macW0Of(a));
  store<u16>(out, macW4Of(a), 4);
  return true;
}

/** The group in slot i, 0 when free. */
export function igmpGroup(i: u32): u32 {
  return i < <u32>MCAST_GROUPS && group(<i32>i).refs != 0 ? group(<i32>i).addr : 0;
}
