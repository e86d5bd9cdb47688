// The DHCPv4 client (RFC 2131 §4.4): INIT -> SELECTING -> REQUESTING -> BOUND -> RENEWING ->
// REBINDING, and INIT-REBOOT (REBOOTING) when the link comes back with a lease (§3.2, §4.4.2), over a
// UDP socket on port 68. Driven by dhcpPoll(), which the core calls from poll():
// it drains the socket, then runs the timers (retransmission, T1, T2, expiry).
//
// Choices: the first acceptable OFFER is taken (no collection window); no random 1-10 s delay before
// the first DISCOVER (boot speed; RFC 2131 §4.4.1 says SHOULD); the BROADCAST flag is set while we
// have no address; after a DHCPNAK discovery restarts at once with a new xid; an INIT-REBOOT nobody
// answers (DHCP_REBOOT_TRIES requests) keeps the lease it had, as §3.2 allows (the link may lead to
// the same network with the server down); the RFC 5227 ARP probe is not implemented. Replies are never trusted: a wrong op, xid, chaddr or
// server, a malformed message or an unusable lease is dropped and counted (counters dhcp_*).
//
// Time: a private 64-bit millisecond clock advanced from the core's wrapping u32 clock at every
// entry, so leases longer than the 24.8 days a u32 comparison allows work (0xffffffff = infinite).
import {
  DHCP_MSG_MAX, DHCP_REBOOT_TRIES, DHCP_RELEASE_LINGER_MS, DHCP_RENEW_RETRY_MIN_MS, DHCP_REQUEST_TRIES, DHCP_RETRY_JITTER_MS,
  DHCP_RETRY_MAX_MS, DHCP_RETRY_MIN_MS, FEATURE_MDNS,
} from "../config";
import { now } from "../support/clock";
import { C, count } from "../support/counters";
import { EINVAL, OK } from "../support/errors";
import { INFO, logf } from "../support/log";
import { phy_random } from "../support/phy";
import { WireError } from "../wire/error";
import { isMulticastOrReserved } from "../wire/ipv4";
import {
  CLIENT_PORT, DHCPACK, DHCPDISCOVER, DHCPNAK, DHCPOFFER, DHCPRELEASE, DHCPREQUEST, DhcpRepr, FLAG_BROADCAST,
  HAS_LEASE, HAS_MASK, HAS_REQUESTED_IP, HAS_ROUTER, HAS_SERVER_ID, HAS_T1, HAS_T2, HOST_NAME_MAX, OP_REPLY, OP_REQUEST,
  SERVER_PORT,
} from "../wire/dhcp";
import { arpAnnounce, arpQueued } from "../iface/arp";
import { ipAddr, macW0, macW4, setAddress } from "../iface/netif";
import { mdnsAddressChanging } from "./mdns";
import { NET_EV_RENEWED, netEvent } from "../iface/events";
import { UDP_TX_PAYLOAD, udpBind, udpClose, udpSendPrepared, udpServiceSocket } from "../api/udp";

// States (dhcp_state()).
export const DHCP_STOPPED: u32 = 0;
export const DHCP_INIT: u32 = 1;
export const DHCP_SELECTING: u32 = 2;
export const DHCP_REQUESTING: u32 = 3;
export const DHCP_BOUND: u32 = 4;
export const DHCP_RENEWING: u32 = 5;
export const DHCP_REBINDING: u32 = 6;
export const DHCP_RELEASING: u32 = 7;
/** INIT-REBOOT: the link came back; asking to keep the lease's address (RFC 2131 §3.2). */
export const DHCP_REBOOTING: u32 = 8;

// Events for the hook.
/** A lease was obtained or renewed; ip is the address. */
export const DHCP_EV_BOUND: u32 = 1;
/** The address was dropped (lease expired, DHCPNAK, a different address, release); ip is the old one. */
export const DHCP_EV_LOST: u32 = 2;

export type DhcpHook = (event: u32, ip: u32) => void;
let hook: DhcpHook | null = null;

/** Who to tell when the address changes (sockets bound to a lost address). */
export function setDhcpHook(h: DhcpHook | null): void {
  hook = h;
}

const NEVER: u64 = 0xffffffffffffffff;
const INFINITE: u32 = 0xffffffff;

const hostName = memory.data(<i32>HOST_NAME_MAX);
let hostLen: u32 = 0;
const rx = changetype<DhcpRepr>(memory.data(offsetof<DhcpRepr>(), 8));
const tx = changetype<DhcpRepr>(memory.data(offsetof<DhcpRepr>(), 8));

let state: u32 = DHCP_STOPPED;
let fd: i32 = -1;
let xid: u32 = 0;
let tries: u32 = 0;
// The private clock and deadlines on it.
let mono: u64 = 0;
let last: u32 = 0;
let nextTx: u64 = NEVER;
let exchangeStart: u64 = 0;
let requestSent: u64 = 0;
let t1At: u64 = NEVER;
let t2At: u64 = NEVER;
let leaseEnd: u64 = NEVER;
// The lease (or the offer while REQUESTING).
let address: u32 = 0;
let offered: u32 = 0;
let server: u32 = 0;
let mask: u32 = 0;
let router: u32 = 0;
let leaseSecs: u32 = 0;
let dnsCount: u32 = 0;
let dns0: u32 = 0;
let dns1: u32 = 0;
let dns2: u32 = 0;
let ntp0: u32 = 0;
let ntp1: u32 = 0;

/** At init(): the client is stopped (the socket table was just cleared). */
export function dhcpInit(): void {
  state = DHCP_STOPPED;
  fd = -1;
  address = 0;
  nextTx = NEVER;
  t1At = NEVER;
  t2At = NEVER;
  leaseEnd = NEVER;
  server = 0;
  dnsCount = 0;
}

function tick(): void {
  mono += <u64>(now - last);
  last = now;
}

/** Starts the client: a UDP socket on port 68, then DISCOVER. hostLen bytes at host (option 12). */
export function dhcpStart(host: usize, len: u32): i32 {
  if (state != DHCP_STOPPED) return EINVAL;
  if (len > HOST_NAME_MAX) len = HOST_NAME_MAX;
  const s = udpServiceSocket(datagram, null); // ICMP errors: the retransmission timers cover them
  if (s < 0) return s;
  const r = udpBind(s, CLIENT_PORT);
  if (r < 0) {
    udpClose(s);
    return r;
  }
  fd = s;
  memory.copy(hostName, host, len);
  hostLen = len;
  last = now;
  mono = 0;
  address = 0;
  init();
  return OK;
}

/** Host name from an AssemblyScript string (ASCII), for firmware. */
export function dhcpStartNamed(name: string): i32 {
  const n = <u32>name.length;
  const k = n < HOST_NAME_MAX ? n : HOST_NAME_MAX;
  for (let i: u32 = 0; i < k; i++) store<u8>(hostName + i, <u8>name.charCodeAt(i));
  return dhcpStart(hostName, k);
}

/** INIT: a new exchange, DISCOVER at once. */
function init(): void {
  state = DHCP_SELECTING;
  xid = phy_random();
  tries = 0;
  exchangeStart = mono;
  offered = 0;
  t1At = NEVER;
  t2At = NEVER;
  leaseEnd = NEVER;
  sendDiscover();
}

/** RFC 2131 §4.1: 4 s, 8 s, ... 64 s, each randomized by +-1 s. */
function backoff(k: u32): u64 {
  let base = DHCP_RETRY_MIN_MS;
  for (let i: u32 = 0; i < k && base < DHCP_RETRY_MAX_MS; i++) base <<= 1;
  if (base > DHCP_RETRY_MAX_MS) base = DHCP_RETRY_MAX_MS;
  return <u64>(base - DHCP_RETRY_JITTER_MS + phy_random() % (2 * DHCP_RETRY_JITTER_MS + 1));
}

function header(type: u32): void {
  tx.op = OP_REQUEST;
  tx.hops = 0;
  tx.xid = xid;
  const s = (mono - exchangeStart) / 1000;
  tx.secs = s > 0xffff ? 0xffff : <u32>s;
  tx.flags = 0;
  tx.ciaddr = 0;
  tx.yiaddr = 0;
  tx.siaddr = 0;
  tx.giaddr = 0;
  tx.chaddr0 = macW0;
  tx.chaddr4 = macW4;
  tx.msgType = type;
  tx.present = 0;
  tx.hostPtr = hostName;
  tx.hostLen = hostLen;
  tx.paramRequest = true;
  tx.maxMsgSize = DHCP_MSG_MAX;
  tx.clientId = false;
}

function send(dst: u32): void {
  // Built in the transmit frame. A failure (no route, ARP queue full) is like a lost datagram:
  // retransmission covers it.
  udpSendPrepared(fd, tx.emit(UDP_TX_PAYLOAD), dst, SERVER_PORT);
}

function sendDiscover(): void {
  if (tries > 0) count(C.DHCP_RETRANSMITS);
  header(DHCPDISCOVER);
  tx.flags = FLAG_BROADCAST;
  send(0xffffffff);
  count(C.DHCP_DISCOVERS_SENT);
  nextTx = mono + backoff(tries);
  tries++;
  if (tries == 1) logf(INFO, "dhcp: discover");
}

/** REQUEST for the state we are in: selecting (broadcast, 50 + 54), renewing (unicast), rebinding. */
function sendRequest(): void {
  if (tries > 0) count(C.DHCP_RETRANSMITS);
  header(DHCPREQUEST);
  let dst: u32 = 0xffffffff;
  if (state == DHCP_REQUESTING) {
    tx.flags = FLAG_BROADCAST;
    tx.requestedIp = offered;
    tx.serverId = server;
    tx.present = HAS_REQUESTED_IP | HAS_SERVER_ID;
  } else if (state == DHCP_REBOOTING) {
    // §4.3.2 INIT-REBOOT: broadcast, 'requested IP address' set, no server identifier, ciaddr 0.
    tx.flags = FLAG_BROADCAST;
    tx.requestedIp = address;
    tx.present = HAS_REQUESTED_IP;
  } else {
    tx.ciaddr = address;
    if (state == DHCP_RENEWING) dst = server;
  }
  requestSent = mono;
  send(dst);
  count(C.DHCP_REQUESTS_SENT);
  if (state == DHCP_REQUESTING || state == DHCP_REBOOTING) {
    nextTx = mono + backoff(tries);
  } else {
    // §4.4.5: half the time left until T2 (renewing) or expiry (rebinding), at least 60 s.
    const target = state == DHCP_RENEWING ? t2At : leaseEnd;
    let wait: u64 = target > mono ? (target - mono) / 2 : 0;
    if (wait < <u64>DHCP_RENEW_RETRY_MIN_MS) wait = DHCP_RENEW_RETRY_MIN_MS;
    nextTx = target != NEVER && mono + wait > target ? target : mono + wait;
  }
  tries++;
}

/** The clock of the last poll: what dhcpPoll needs when the core refreshed `now` (input()). */
export function dhcpPoll(): u32 {
  if (state == DHCP_STOPPED) return INFINITE;
  tick();
  timers();
  return nextDeadline();
}

function timers(): void {
  const s = state;
  if (s == DHCP_SELECTING) {
    if (mono >= nextTx) sendDiscover();
  } else if (s == DHCP_REQUESTING) {
    if (mono >= nextTx) {
      if (tries >= DHCP_REQUEST_TRIES) init();
      else sendRequest();
    }
  } else if (s == DHCP_BOUND || s == DHCP_RENEWING || s == DHCP_REBINDING) {
    if (mono >= leaseEnd) {
      expire();
    } else if (mono >= t2At && s != DHCP_REBINDING) {
      state = DHCP_REBINDING;
      xid = phy_random();
      tries = 0;
      if (s == DHCP_BOUND) exchangeStart = mono;
      count(C.DHCP_REBINDS);
      logf(INFO, "dhcp: T2, rebinding %i", address);
      sendRequest();
    } else if (mono >= t1At && s == DHCP_BOUND) {
      state = DHCP_RENEWING;
      xid = phy_random();
      tries = 0;
      exchangeStart = mono;
      logf(INFO, "dhcp: T1, renewing %i with %i", address, server);
      sendRequest();
    } else if (s != DHCP_BOUND && mono >= nextTx) {
      sendRequest();
    }
  } else if (s == DHCP_REBOOTING) {
    if (mono >= leaseEnd) {
      expire();
    } else if (mono >= nextTx) {
      if (tries < DHCP_REBOOT_TRIES) {
        sendRequest();
      } else {
        // No answer: keep the lease until its own timers renew it (§3.2 step 2 allows it).
        state = DHCP_BOUND;
        nextTx = NEVER;
        logf(INFO, "dhcp: reboot unanswered, keeping %i", address);
      }
    }
  } else if (s == DHCP_RELEASING) {
    if (mono >= nextTx || arpQueued(server) == 0) stop();
  }
}

/**
 * The link came back up (set_link): it may lead to another network. With a lease, INIT-REBOOT: ask
 * to keep its address (RFC 2131 §3.2; a DHCPNAK restarts discovery); while still looking for
 * one, start over at once rather than wait out the backoff (what lwIP's dhcp_network_changed does).
 */
export function dhcpLinkUp(): void {
  const s = state;
  if (s == DHCP_STOPPED || s == DHCP_RELEASING) return;
  tick();
  if (s == DHCP_SELECTING || s == DHCP_REQUESTING) {
    init();
    return;
  }
  state = DHCP_REBOOTING;
  xid = phy_random();
  tries = 0;
  exchangeStart = mono;
  count(C.DHCP_REBOOTS);
  logf(INFO, "dhcp: reboot %i", address);
  sendRequest();
}

function nextDeadline(): u32 {
  let d: u64 = NEVER;
  const s = state;
  if (s == DHCP_SELECTING || s == DHCP_REQUESTING || s == DHCP_RENEWING || s == DHCP_REBINDING || s == DHCP_RELEASING || s == DHCP_REBOOTING) d = nextTx;
  if (s == DHCP_BOUND) d = t1At;
  if (s == DHCP_BOUND || s == DHCP_RENEWING) d = d < t2At ? d : t2At;
  if (s == DHCP_BOUND || s == DHCP_RENEWING || s == DHCP_REBINDING || s == DHCP_REBOOTING) d = d < leaseEnd ? d : leaseEnd;
  if (s == DHCP_RELEASING) return 100; // until the ARP queue for the server drains
  if (d <= mono) return 0;
  const w = d - mono;
  return w > 0x7fffffff ? 0x7fffffff : <u32>w;
}

function validLeaseAddress(ip: u32, m: u32): bool {
  if (ip == 0 || isMulticastOrReserved(ip) || (ip >>> 24) == 0 || (ip >>> 24) == 127) return false;
  const host = ~m;
  if (m < 0xfffffffe && ((ip & host) == 0 || (ip & host) == host)) return false;
  return true;
}

function contiguous(m: u32): bool {
  const host = ~m;
  return m != 0 && (host & (host + 1)) == 0;
}

/** The mask the server gave, or the classful one (RFC 1122 §3.3.1.6 leaves it to us). */
function leaseMask(ip: u32): u32 {
  if ((rx.present & HAS_MASK) != 0 && contiguous(rx.subnetMask)) return rx.subnetMask;
  const a = ip >>> 24;
  return a < 128 ? 0xff000000 : a < 192 ? 0xffff0000 : 0xffffff00;
}

/** A datagram to port 68, where it lies in the received frame. */
function datagram(_fd: i32, p: usize, n: u32, from: u32, _sport: u32): void {
  tick();
  input(p, n, from);
}

/** One datagram from port 67 (what the socket saw): checks, then the state machine. */
function input(p: usize, n: u32, from: u32): void {
  const err = rx.parse(p, n);
  if (err == WireError.BAD_OP || (err == WireError.OK && rx.op != OP_REPLY)) {
    count(C.DHCP_BAD_OP);
    return;
  }
  if (err != WireError.OK) {
    count(C.DHCP_MALFORMED);
    return;
  }
  if (rx.xid != xid) {
    count(C.DHCP_WRONG_XID);
    return;
  }
  if (rx.chaddr0 != macW0 || rx.chaddr4 != macW4) {
    count(C.DHCP_WRONG_CHADDR);
    return;
  }
  const s = state;
  const type = rx.msgType;
  const sid = (rx.present & HAS_SERVER_ID) != 0 ? rx.serverId : 0;
  if (type == DHCPOFFER) {
    if (s != DHCP_SELECTING) {
      count(C.DHCP_UNEXPECTED);
      return;
    }
    const ip = rx.yiaddr;
    if (sid == 0 || !validLeaseAddress(ip, leaseMask(ip))) {
      count(C.DHCP_BAD_LEASE);
      return;
    }
    count(C.DHCP_OFFERS);
    offered = ip;
    server = sid;
    logf(INFO, "dhcp: offer %i from %i", ip, sid);
    state = DHCP_REQUESTING;
    tries = 0;
    sendRequest();
    return;
  }
  if (type == DHCPACK || type == DHCPNAK) {
    if (s != DHCP_REQUESTING && s != DHCP_RENEWING && s != DHCP_REBINDING && s != DHCP_REBOOTING) {
      count(C.DHCP_UNEXPECTED);
      return;
    }
    // In REQUESTING and RENEWING only the chosen server may answer; in REBINDING and REBOOTING any.
    const anyServer = s == DHCP_REBINDING || s == DHCP_REBOOTING;
    if (!anyServer && sid != 0 && sid != server) {
      count(C.DHCP_WRONG_SERVER);
      return;
    }
    if (!anyServer && sid == 0 && from != server) {
      count(C.DHCP_WRONG_SERVER);
      return;
    }
    if (type == DHCPNAK) {
      count(C.DHCP_NAKS);
      logf(INFO, "dhcp: NAK from %i", sid != 0 ? sid : from);
      dropAddress();
      init();
      return;
    }
    bind(sid != 0 ? sid : from);
    return;
  }
  count(C.DHCP_UNEXPECTED);
}

/** A DHCPACK: take the lease. */
function bind(sid: u32): void {
  const ip = rx.yiaddr;
  const m = leaseMask(ip);
  const lease = rx.leaseTime;
  if ((rx.present & HAS_LEASE) == 0 || lease == 0 || !validLeaseAddress(ip, m) || (state == DHCP_REQUESTING && ip != offered)) {
    count(C.DHCP_BAD_LEASE);
    return;
  }
  let t1 = (rx.present & HAS_T1) != 0 ? rx.t1 : 0;
  let t2 = (rx.present & HAS_T2) != 0 ? rx.t2 : 0;
  if (lease != INFINITE) {
    // Defaults 0.5 and 0.875 of the lease (RFC 2131 §4.4.5); inconsistent values are replaced.
    if (t2 == 0 || t2 >= lease) t2 = <u32>((<u64>lease * 7) / 8);
    if (t1 == 0 || t1 >= t2) t1 = lease / 2 < t2 ? lease / 2 : t2;
  }
  let gw: u32 = 0;
  if ((rx.present & HAS_ROUTER) != 0) {
    const r = rx.router;
    if (r != ip && ((r ^ ip) & m) == 0 && validLeaseAddress(r, m)) gw = r;
  }
  const renewal = state != DHCP_REQUESTING;
  const old = address;
  if (old != 0 && old != ip) dropAddress();
  address = ip;
  server = sid;
  mask = m;
  router = gw;
  leaseSecs = lease;
  dnsCount = rx.dnsCount;
  dns0 = rx.dns0;
  dns1 = rx.dns1;
  dns2 = rx.dns2;
  ntp0 = rx.ntp0;
  ntp1 = rx.ntp1;
  // The lease runs from when the REQUEST was sent (§4.4.1).
  const start = requestSent;
  if (lease == INFINITE) {
    t1At = NEVER;
    t2At = NEVER;
    leaseEnd = NEVER;
  } else {
    t1At = start + <u64>t1 * 1000;
    t2At = start + <u64>t2 * 1000;
    leaseEnd = start + <u64>lease * 1000;
  }
  state = DHCP_BOUND;
  tries = 0;
  nextTx = NEVER;
  count(renewal ? C.DHCP_RENEWALS : C.DHCP_LEASES);
  count(C.DHCP_ACKS);
  if (ipAddr != ip || old != ip) {
    if (FEATURE_MDNS) mdnsAddressChanging(ip); // its goodbye goes out from the old address
    setAddress(ip, m, gw);
    arpAnnounce();
  }
  if (renewal && old == ip) netEvent(NET_EV_RENEWED);
  if (renewal) logf(INFO, "dhcp: renewed %i/%u gw %i from %i, lease %u s", ip, popcnt(m), gw, sid, lease);
  else logf(INFO, "dhcp: bound to %i/%u gw %i from %i, lease %u s", ip, popcnt(m), gw, sid, lease);
  const h = hook;
  if (h) h(DHCP_EV_BOUND, ip);
}

function dropAddress(): void {
  const old = address;
  if (old == 0) return;
  address = 0;
  if (ipAddr == old) {
    if (FEATURE_MDNS) mdnsAddressChanging(0);
    setAddress(0, 0, 0);
  }
  const h = hook;
  if (h) h(DHCP_EV_LOST, old);
}

function expire(): void {
  count(C.DHCP_EXPIRED);
  logf(INFO, "dhcp: lease of %i expired, address dropped", address);
  dropAddress();
  init();
}

function stop(): void {
  dropAddress();
  if (fd >= 0) udpClose(fd);
  fd = -1;
  state = DHCP_STOPPED;
  nextTx = NEVER;
  t1At = NEVER;
  t2At = NEVER;
  leaseEnd = NEVER;
  server = 0;
  router = 0;
  mask = 0;
  leaseSecs = 0;
  dnsCount = 0;
}

/**
 * DHCPRELEASE (unicast to the server) if we hold a lease, then the client stops. The address is
 * kept until the RELEASE has left (ARP for the server may be pending), at most
 * DHCP_RELEASE_LINGER_MS; dhcpState() is DHCP_STOPPED after that. Without a lease it stops at once.
 */
export function dhcpRelease(): i32 {
  if (state == DHCP_STOPPED) return EINVAL;
  tick();
  if (state != DHCP_BOUND && state != DHCP_RENEWING && state != DHCP_REBINDING && state != DHCP_REBOOTING) {
    stop();
    return OK;
  }
  xid = phy_random();
  exchangeStart = mono;
  header(DHCPRELEASE);
  tx.ciaddr = address;
  tx.serverId = server;
  tx.present = HAS_SERVER_ID;
  tx.hostLen = 0;
  tx.paramRequest = false;
  send(server);
  count(C.DHCP_RELEASES_SENT);
  logf(INFO, "dhcp: released %i", address);
  state = DHCP_RELEASING;
  nextTx = mono + DHCP_RELEASE_LINGER_MS;
  if (arpQueued(server) == 0) stop();
  return OK;
}

// ---- Status ---------------------------------------------------------------------------------

export function dhcpState(): u32 {
  return state;
}
/** The leased address, 0 when none. */
export function dhcpAddress(): u32 {
  return address;
}
export function dhcpServer(): u32 {
  return address != 0 || state == DHCP_REQUESTING ? server : 0;
}
export function dhcpRouter(): u32 {
  return address != 0 ? router : 0;
}
export function dhcpNetmask(): u32 {
  return address != 0 ? mask : 0;
}
/** DNS server i (0..2) from the lease, 0 when none. */
export function dhcpDns(i: u32): u32 {
  if (address == 0 || i >= dnsCount) return 0;
  return i == 0 ? dns0 : i == 1 ? dns1 : dns2;
}
/** NTP server i (0, 1) from the lease (option 42), 0 when none. */
export function dhcpNtp(i: u32): u32 {
  return address == 0 || i > 1 ? 0 : i == 0 ? ntp0 : ntp1;
}
/** Lease length in seconds as granted (0xffffffff infinite), 0 when none. */
export function dhcpLeaseTime(): u32 {
  return address != 0 ? leaseSecs : 0;
}
/** Seconds until the lease expires (0xffffffff infinite), 0 when none. As of the last poll. */
export function dhcpLeaseRemaining(): u32 {
  if (address == 0) return 0;
  tick();
  if (leaseEnd == NEVER) return INFINITE;
  return leaseEnd > mono ? <u32>((leaseEnd - mono) / 1000) : 0;
}
/** The transaction id of the current exchange (tests, diagnostics). */
export function dhcpXid(): u32 {
  return xid;
}
