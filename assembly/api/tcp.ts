// The BSD-style TCP socket API: non-blocking, fds are connection-block indices. The same
// functions are exported flat for C boards (index.ts) and called directly by firmware apps.
import {
  FEATURE_IPV6, TCP_BACKLOG_MAX, TCP_EPHEMERAL_MAX, TCP_EPHEMERAL_MIN, TCP_FIN_WAIT_2_MS, TCP_MAX_SOCKETS,
  TCP_RTO_INITIAL_MS, TCP_TIME_WAIT_SLOTS,
} from "../config";
import { now, setNow } from "../support/clock";
import { phy_now_ms } from "../support/phy";
import { C, count } from "../support/counters";
import { EADDRINUSE, EHOSTUNREACH, EINVAL, ENOBUFS, ENOSYS, ENOTCONN, EWOULDBLOCK, OK } from "../support/errors";
import { sourceFor } from "../iface/ipv6";
import { addrCopy, isMulticast as isMulticast6, isUnspecified } from "../wire/ipv6";
import { ipAddr, localFor } from "../iface/netif";
import { ACK, RST } from "../wire/tcp";
import { closed, fail, initConnection, initialWindow, moveToTimeWait, tcpAddressEvent } from "../sockets/tcp/input";
import { isn, key6, portOffset } from "../sockets/tcp/isn";
import { sendControlFor, sendSyn, tcpOutput, windowUpdateDue } from "../sockets/tcp/output";
import {
  CLOSED, CLOSE_WAIT, ESTABLISHED, FIN_WAIT_1, FIN_WAIT_2, LISTEN, SYN_RECEIVED, SYN_SENT, TIME_WAIT,
  F_ACK_NOW, F_APP, F_CHILD, F_FIN_QUEUED, F_FIN_RCVD, F_KEEPALIVE, F_NODELAY, F_OUTPUT_DUE, F_RD_SHUT, F_RECOVERY, F_SYN_ACKED, F_USED,
  F_V6, TW_V6, addrs6, pcb, pcbAlloc, pcbAttachBuffers, pcbFree, rcvRing, sndRing, tw, twAddrs6,
} from "../sockets/tcp/pcb";

export const EV_READABLE: u32 = 1;
export const EV_WRITABLE: u32 = 2;
export const EV_CONNECTED: u32 = 4;
export const EV_HUP: u32 = 8;
export const EV_ERROR: u32 = 16;
export const EV_CLOSED: u32 = 32;

export const OPT_NODELAY: u32 = 1;
export const OPT_KEEPALIVE: u32 = 2;
export const OPT_KEEPIDLE: u32 = 3;
export const OPT_KEEPINTVL: u32 = 4;
export const OPT_KEEPCNT: u32 = 5;

let ephemeralNext: u32 = 0;

/** The fd as an application-held block, or -1. */
function held(fd: i32): i32 {
  if (fd < 0 || fd >= TCP_MAX_SOCKETS) return -1;
  const c = pcb(fd);
  return (c.flags & (F_USED | F_APP)) == (F_USED | F_APP) ? fd : -1;
}

export function tcpSocket(): i32 {
  const i = pcbAlloc();
  if (i < 0) return ENOBUFS;
  pcb(i).flags |= F_APP;
  initConnection(pcb(i));
  return i;
}

function portBusy(port: u32, self: i32): bool {
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    if (i == self) continue;
    const c = pcb(i);
    if ((c.flags & F_USED) == 0 || c.localPort != port) continue;
    if (c.state == LISTEN || (c.state == CLOSED && (c.flags & F_APP) != 0)) return true;
  }
  return false;
}

function tupleBusy(port: u32, rip: u32, rport: u32): bool {
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    if ((c.flags & F_USED) == 0 || c.localPort != port) continue;
    if (c.state == LISTEN || (c.remoteIp == rip && c.remotePort == rport)) return true;
  }
  for (let t = 0; t < TCP_TIME_WAIT_SLOTS; t++) {
    const s = tw(t);
    if (s.used && s.localPort == port && s.remoteIp == rip && s.remotePort == rport) return true;
  }
  return false;
}

/** RFC 6056 algorithm 3: a per-destination offset plus a counter, skipping ports in use. */
function ephemeralPort(rip: u32, rport: u32, self: i32): u32 {
  const n = TCP_EPHEMERAL_MAX - TCP_EPHEMERAL_MIN + 1;
  const offset = portOffset(ipAddr, rip, rport);
  for (let k: u32 = 0; k < n; k++) {
    const port = TCP_EPHEMERAL_MIN + (offset + ephemeralNext + k) % n;
    if (portBusy(port, self)) continue;
    if (rport != 0 && tupleBusy(port, rip, rport)) continue;
    ephemeralNext += k + 1;
    return port;
  }
  return 0;
}

export function tcpBind(fd: i32, port: u32): i32 {
  if (held(fd) < 0 || port > 0xffff) return EINVAL;
  const c = pcb(fd);
  if (c.state != CLOSED || c.localPort != 0) return EINVAL;
  if (port == 0) {
    port = ephemeralPort(0, 0, fd);
    if (port == 0) return EADDRINUSE;
  } else if (portBusy(port, fd)) {
    return EADDRINUSE;
  }
  c.localPort = port;
  return OK;
}

export function tcpListen(fd: i32, backlog: u32): i32 {
  if (held(fd) < 0) return EINVAL;
  const c = pcb(fd);
  if (c.state == LISTEN) {
    c.backlog = backlog < 1 ? 1 : backlog > TCP_BACKLOG_MAX ? TCP_BACKLOG_MAX : backlog;
    return OK;
  }
  if (c.state != CLOSED || c.remotePort != 0) return EINVAL;
  if (c.localPort == 0) {
    const r = tcpBind(fd, 0);
    if (r < 0) return r;
  }
  c.backlog = backlog < 1 ? 1 : backlog > TCP_BACKLOG_MAX ? TCP_BACKLOG_MAX : backlog;
  c.state = LISTEN;
  return OK;
}

/** The oldest fully established child of listener l, or -1. */
function readyChild(l: i32): i32 {
  let best = -1;
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    if ((c.flags & (F_USED | F_CHILD)) != (F_USED | F_CHILD) || c.parent != l) continue;
    if (c.state == SYN_RECEIVED) continue;
    if (best < 0 || <i32>(c.order - pcb(best).order) < 0) best = i;
  }
  return best;
}

export function tcpAccept(fd: i32): i32 {
  if (held(fd) < 0 || pcb(fd).state != LISTEN) return EINVAL;
  const i = readyChild(fd);
  if (i < 0) return EWOULDBLOCK;
  const c = pcb(i);
  c.flags = (c.flags & ~F_CHILD) | F_APP;
  c.parent = -1;
  return i;
}

export function tcpConnect(fd: i32, ip: u32, port: u32): i32 {
  return open(fd, ip, port, 0);
}

/** tcpConnect to the IPv6 peer [a]:port (16 bytes at a), from the source RFC 6724 picks for it. */
export function tcpConnect6(fd: i32, a: usize, port: u32): i32 {
  if (!FEATURE_IPV6) return ENOSYS;
  return open(fd, 0, port, a);
}

/** The active open to ip:port, or (a6 != 0) over IPv6 to [a6]:port. */
function open(fd: i32, ip: u32, port: u32, a6: usize): i32 {
  if (held(fd) < 0 || port == 0 || port > 0xffff) return EINVAL;
  const c = pcb(fd);
  if (c.state != CLOSED || c.remotePort != 0) return EINVAL;
  let src: usize = 0;
  if (FEATURE_IPV6 && a6 != 0) {
    if (isUnspecified(a6) || isMulticast6(a6)) return EINVAL;
    src = sourceFor(a6);
    if (src == 0) return EHOSTUNREACH; // no usable address of that scope yet
    ip = key6(a6, src); // the addresses' key stands in for the IPv4 peer
  } else {
    if (ip == 0 || ip >= 0xe0000000) return EINVAL;
    if (ipAddr == 0 && localFor(ip) == 0) return EHOSTUNREACH; // no address yet, and not 127/8
  }
  if (c.localPort == 0) {
    const p = ephemeralPort(ip, port, fd);
    if (p == 0) return EADDRINUSE;
    c.localPort = p;
  } else if (tupleBusy(c.localPort, ip, port)) {
    return EADDRINUSE;
  }
  if (!pcbAttachBuffers(fd)) return ENOBUFS;
  if (FEATURE_IPV6 && a6 != 0) {
    c.flags |= F_V6;
    addrCopy(addrs6(fd), a6);
    addrCopy(addrs6(fd) + 16, src);
  }
  c.remoteIp = ip;
  c.remotePort = port;
  c.iss = isn(now, ipAddr, c.localPort, ip, port);
  c.sndUna = c.iss;
  c.sndNxt = c.iss + 1;
  c.sndMax = c.sndNxt;
  c.sndBase = c.sndNxt;
  c.recover = c.iss;
  c.rto = TCP_RTO_INITIAL_MS;
  c.cwnd = initialWindow(c.mss);
  c.state = SYN_SENT;
  c.rttTime = now;
  c.error = 0;
  c.softError = 0;
  count(C.TCP_ACTIVE_OPENS);
  // No route (no gateway, or 127/8 in a build without the loopback): fail now, not after the
  // SYN retries; the fd reports the error like any failed connection.
  if (sendSyn(fd) == EHOSTUNREACH) {
    fail(fd, EHOSTUNREACH);
    return EHOSTUNREACH;
  }
  return OK;
}

// While a firmware app runs (after input and poll), what it sends is only queued, and goes out
// when it returns: several small writes then leave as full segments, as lwIP's tcp_write does
// until tcp_output (a first short segment would otherwise go at once, Nagle allowing it).
let holding = false;
let outputDue = false; // some socket has F_OUTPUT_DUE: spares the scan on most returns

export function tcpHoldOutput(): void {
  holding = true;
}

/** True while output is held (a firmware app's or a service's turn). */
export function tcpHolding(): bool {
  return holding;
}

export function tcpFlushOutput(): void {
  holding = false;
  if (!outputDue) return;
  outputDue = false;
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
    const c = pcb(i);
    if ((c.flags & (F_USED | F_OUTPUT_DUE)) != (F_USED | F_OUTPUT_DUE)) continue;
    c.flags &= ~F_OUTPUT_DUE;
    tcpOutput(i);
  }
}

export function tcpSend(fd: i32, ptr: usize, len: u32): i32 {
  if (held(fd) < 0) return EINVAL;
  const c = pcb(fd);
  if (c.error) return c.error;
  if (c.flags & F_FIN_QUEUED) return ENOTCONN;
  const st = c.state;
  if (st == SYN_SENT || st == SYN_RECEIVED) return EWOULDBLOCK;
  if (st != ESTABLISHED && st != CLOSE_WAIT) return ENOTCONN;
  if (len == 0) return 0;
  const n = sndRing(fd).write(ptr, len);
  if (n == 0) return EWOULDBLOCK;
  if (holding) {
    c.flags |= F_OUTPUT_DUE;
    outputDue = true;
  } else tcpOutput(fd);
  return <i32>n;
}

/** Bytes tcpSend would take now (lwIP's tcp_sndbuf): free send buffer while the connection may
 *  send, else 0. Lets an app move data through without a buffer of its own (read at most this
 *  much, then send it whole). */
export function tcpSendSpace(fd: i32): u32 {
  if (held(fd) < 0) return 0;
  const c = pcb(fd);
  const st = c.state;
  if (c.error || (c.flags & F_FIN_QUEUED) != 0 || (st != ESTABLISHED && st != CLOSE_WAIT)) return 0;
  return sndRing(fd).free();
}

export function tcpRecv(fd: i32, ptr: usize, len: u32): i32 {
  if (held(fd) < 0) return EINVAL;
  const c = pcb(fd);
  if (len == 0) return 0;
  const n = rcvRing(fd).read(ptr, len);
  if (n > 0) {
    // Tell the peer when reading has opened the window by a worthwhile amount.
    if (c.state == ESTABLISHED || c.state == FIN_WAIT_2 || c.state == FIN_WAIT_1) {
      if (windowUpdateDue(fd)) {
        setNow(phy_now_ms()); // the clock only where a read sends (index.ts tcp_recv)
        c.flags |= F_ACK_NOW;
        tcpOutput(fd);
      }
    }
    return <i32>n;
  }
  if (c.flags & (F_FIN_RCVD | F_RD_SHUT)) return 0;
  if (c.error) return c.error;
  if (c.state == CLOSED || c.state == LISTEN) return ENOTCONN;
  return EWOULDBLOCK;
}

export function tcpShutdown(fd: i32, how: u32): i32 {
  if (held(fd) < 0 || how > 2) return EINVAL;
  const c = pcb(fd);
  const st = c.state;
  if (st < SYN_RECEIVED || st == TIME_WAIT) return ENOTCONN;
  if (how != 1) {
    c.flags |= F_RD_SHUT;
    rcvRing(fd).consume(rcvRing(fd).len);
  }
  if (how != 0 && (c.flags & F_FIN_QUEUED) == 0) {
    c.flags |= F_FIN_QUEUED;
    tcpOutput(fd);
  }
  return OK;
}

function resetAndFree(i: i32): void {
  const c = pcb(i);
  sendControlFor(i, c.sndNxt, c.rcvNxt, RST | ACK);
  c.flags &= ~F_APP;
  closed(i);
}

export function tcpClose(fd: i32): i32 {
  if (held(fd) < 0) return EINVAL;
  const c = pcb(fd);
  const st = c.state;
  if (st == CLOSED || st == SYN_SENT) {
    pcbFree(fd);
    return OK;
  }
  if (st == LISTEN) {
    // Connections nobody accepted go with their listener.
    for (let i = 0; i < TCP_MAX_SOCKETS; i++) {
      const k = pcb(i);
      if ((k.flags & (F_USED | F_CHILD)) == (F_USED | F_CHILD) && k.parent == fd) {
        if (k.state == SYN_RECEIVED) pcbFree(i);
        else resetAndFree(i);
      }
    }
    pcbFree(fd);
    return OK;
  }
  if (st == TIME_WAIT) {
    c.flags &= ~F_APP;
    moveToTimeWait(fd);
    return OK;
  }
  // RFC 9293 §3.6 / RFC 2525 §2.17: closing with unread data resets the connection.
  if (rcvRing(fd).len > 0) {
    count(C.TCP_CLOSE_UNREAD_RESETS);
    resetAndFree(fd);
    return OK;
  }
  c.flags &= ~F_APP;
  if (st == FIN_WAIT_2) c.closeAt = now + TCP_FIN_WAIT_2_MS;
  if ((c.flags & F_FIN_QUEUED) == 0) {
    c.flags |= F_FIN_QUEUED;
    tcpOutput(fd);
  }
  return OK;
}

export function tcpAbort(fd: i32): i32 {
  if (held(fd) < 0) return EINVAL;
  const st = pcb(fd).state;
  if (st >= SYN_RECEIVED && st != TIME_WAIT) resetAndFree(fd);
  else pcbFree(fd);
  return OK;
}

export function tcpEvents(fd: i32): u32 {
  if (held(fd) < 0) return 0;
  const c = pcb(fd);
  const st = c.state;
  if (st == LISTEN) return readyChild(fd) >= 0 ? EV_READABLE : 0;
  let ev: u32 = 0;
  if (rcvRing(fd).len > 0 || (c.flags & (F_FIN_RCVD | F_RD_SHUT)) != 0) ev |= EV_READABLE;
  if (c.flags & F_FIN_RCVD) ev |= EV_HUP;
  if ((st == ESTABLISHED || st == CLOSE_WAIT) && (c.flags & F_FIN_QUEUED) == 0 && sndRing(fd).free() > 0) ev |= EV_WRITABLE;
  if (c.flags & F_SYN_ACKED) ev |= EV_CONNECTED;
  if (c.error) ev |= EV_ERROR | EV_READABLE;
  if (st == CLOSED || st == TIME_WAIT) ev |= EV_CLOSED;
  return ev;
}

export function tcpChanged(): u32 {
  let mask: u32 = 0;
  for (let i = 0; i < TCP_MAX_SOCKETS && i < 32; i++) {
    const c = pcb(i);
    if ((c.flags & (F_USED | F_APP)) != (F_USED | F_APP)) continue;
    const ev = tcpEvents(i);
    if (ev != c.reported) {
      c.reported = ev;
      mask |= 1 << i;
    }
  }
  return mask;
}

export function tcpSetopt(fd: i32, opt: u32, value: u32): i32 {
  if (held(fd) < 0) return EINVAL;
  const c = pcb(fd);
  if (opt == OPT_NODELAY) {
    c.flags = value ? c.flags | F_NODELAY : c.flags & ~F_NODELAY;
    if (value) tcpOutput(fd);
  } else if (opt == OPT_KEEPALIVE) {
    c.flags = value ? c.flags | F_KEEPALIVE : c.flags & ~F_KEEPALIVE;
    c.keepAt = now + c.keepIdle;
    c.keepProbes = 0;
  } else if (opt == OPT_KEEPIDLE && value > 0) {
    c.keepIdle = value;
    c.keepAt = now + value;
  } else if (opt == OPT_KEEPINTVL && value > 0) {
    c.keepIntvl = value;
  } else if (opt == OPT_KEEPCNT && value > 0) {
    c.keepCnt = value;
  } else {
    return EINVAL;
  }
  return OK;
}

export function tcpState(fd: i32): u32 {
  return held(fd) < 0 ? CLOSED : pcb(fd).state;
}
export function tcpLocalPort(fd: i32): u32 {
  return held(fd) < 0 ? 0 : pcb(fd).localPort;
}
/** The IPv4 peer (0 for an IPv6 connection: tcpRemote6). */
export function tcpRemoteIp(fd: i32): u32 {
  return held(fd) < 0 || (FEATURE_IPV6 && (pcb(fd).flags & F_V6) != 0) ? 0 : pcb(fd).remoteIp;
}
/** An IPv6 connection's peer address written at out (16 bytes): 1, or 0 for IPv4 or a bad fd. */
export function tcpRemote6(fd: i32, out: usize): u32 {
  if (!FEATURE_IPV6 || held(fd) < 0) return 0;
  const a = rowAddrs6(fd);
  if (a == 0) return 0;
  addrCopy(out, a);
  return 1;
}
export function tcpRemotePort(fd: i32): u32 {
  return held(fd) < 0 ? 0 : pcb(fd).remotePort;
}

/** Rows: every connection block, then every TIME-WAIT record. */
export function tcpTableSize(): u32 {
  return <u32>(TCP_MAX_SOCKETS + TCP_TIME_WAIT_SLOTS);
}

export function tcpTableRow(row: u32, out: usize): i32 {
  if (row < <u32>TCP_MAX_SOCKETS) {
    const c = pcb(<i32>row);
    if ((c.flags & F_USED) == 0 || (c.state == CLOSED && c.localPort == 0)) return 0;
    const listening = c.state == LISTEN || (c.state == CLOSED && c.remotePort == 0);
    store<u32>(out, c.state);
    store<u32>(out, listening ? 0 : localFor(c.remoteIp), 4);
    store<u32>(out, c.localPort, 8);
    store<u32>(out, c.remoteIp, 12);
    store<u32>(out, c.remotePort, 16);
    store<u32>(out, sndRing(<i32>row).len, 20);
    store<u32>(out, rcvRing(<i32>row).len, 24);
    return 1;
  }
  const t = <i32>row - TCP_MAX_SOCKETS;
  if (t >= TCP_TIME_WAIT_SLOTS) return 0;
  const s = tw(t);
  if (!s.used) return 0;
  store<u32>(out, TIME_WAIT);
  store<u32>(out, localFor(s.remoteIp), 4);
  store<u32>(out, s.localPort, 8);
  store<u32>(out, s.remoteIp, 12);
  store<u32>(out, s.remotePort, 16);
  store<u32>(out, 0, 20);
  store<u32>(out, 0, 24);
  return 1;
}


/** Row `row` of tcpTableRow over IPv6: its addresses (local 16 bytes, then remote 16) at out and
 *  1; 0 when the row is IPv4 or empty (tcpTableRow's addresses then). */
export function tcpTableRow6(row: u32, out: usize): i32 {
  if (!FEATURE_IPV6) return 0;
  const a = rowAddrs6(row);
  if (a == 0) return 0;
  addrCopy(out, a + 16);
  addrCopy(out + 16, a);
  return 1;
}

/** Row `row`'s IPv6 addresses (the peer's, then ours), or 0 when it is IPv4 or empty. */
function rowAddrs6(row: u32): usize {
  if (row < <u32>TCP_MAX_SOCKETS) return (pcb(<i32>row).flags & (F_USED | F_V6)) == (F_USED | F_V6) ? addrs6(<i32>row) : 0;
  const t = row - <u32>TCP_MAX_SOCKETS;
  return t < <u32>TCP_TIME_WAIT_SLOTS && (tw(<i32>t).used & TW_V6) != 0 ? twAddrs6(<i32>t) : 0;
}

/** Transmission state of fd for traces and benchmarks (like Linux TCP_INFO): 14 u32 at out, in
 *  the order of WASMIP_TCP_INFO_* in wasmip.h. Returns 1, or 0 for a free block. Works on any
 *  block, held or not (fd = table row). */
export function tcpInfo(fd: i32, out: usize): i32 {
  if (fd < 0 || fd >= TCP_MAX_SOCKETS) return 0;
  const c = pcb(fd);
  if ((c.flags & F_USED) == 0) return 0;
  store<u32>(out, c.state);
  store<u32>(out, c.mss, 4);
  store<u32>(out, c.cwnd, 8);
  store<u32>(out, c.ssthresh, 12);
  store<u32>(out, c.srtt, 16);
  store<u32>(out, c.rttvar, 20);
  store<u32>(out, c.rto, 24);
  store<u32>(out, c.iss, 28);
  store<u32>(out, c.sndUna, 32);
  store<u32>(out, c.sndNxt, 36);
  store<u32>(out, c.sndWnd, 40);
  store<u32>(out, c.irs, 44);
  store<u32>(out, c.rcvNxt, 48);
  store<u32>(out, (c.flags & F_RECOVERY) != 0 ? 1 : 0, 52);
  return 1;
}

/** The interface lost address ip (a DHCP lease ended): every connection that used it fails with
 *  EHOSTUNREACH, without a RST (it could not be sent from that address any more). */
export function tcpAddressLost(ip: u32): void {
  tcpAddressEvent(0, true);
}
