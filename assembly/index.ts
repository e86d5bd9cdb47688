// The wasmip core: the exports of the PHY shim ABI (boards/include/wasmip.h).
// Firmware images re-export this module and add their apps.
import { FRAME_MAX, POLL_MAX_SLEEP_MS } from "./config";
import { setNow } from "./support/clock";
import "./iface/ipv6_static";
import { C, COUNTERS, count, counterKind, counterNamePtr, counterValue, countersInit } from "./support/counters";
import { EINVAL, ENOSYS, EWOULDBLOCK, OK } from "./support/errors";
import { NET_EV_ADDRESS, NET_EV_LINK_DOWN, NET_EV_LINK_UP, NET_EV_MULTICAST, netEvent, netEventsInit, takeBoardEvents } from "./iface/events";
import { INFO, logf, setLogLevel, setModuleLogLevel } from "./support/log";
import { phy_now_ms } from "./support/phy";
import { isMulticastOrReserved } from "./wire/ipv4";
import { OFFLOAD_ALL, RX_IPV4_OK, RX_L4_OK, offloadFlags, setOffload, setRxChecked } from "./wire/checksum";
import { arpAnnounce, arpFlush, arpInit, arpPoll } from "./iface/arp";
import { ethernetInput } from "./iface/ethernet";
import { ipv4Init } from "./iface/ipv4";
import { loopbackDrain, loopbackPending } from "./iface/loopback";
import { ipAddr, linkUp, rxBuf, setAddress, setLinkUp, setMac } from "./iface/netif";
import { pingInit, pingRtt, pingSend } from "./api/ping";
import {
  tcpAbort, tcpAccept, tcpBind, tcpChanged, tcpClose, tcpConnect, tcpEvents, tcpListen, tcpLocalPort,
  tcpInfo, tcpRecv, tcpRemoteIp, tcpSendSpace, tcpRemotePort, tcpSend, tcpSetopt, tcpShutdown, tcpSocket, tcpState, tcpTableRow, tcpTableSize,
} from "./api/tcp";
import { tcpInit, tcpPoll } from "./sockets/tcp/index";
import { udpInit } from "./sockets/udp";
import {
  udpBind, udpClose, udpConnect, udpEvents, udpFromIp, udpFromPort, udpJoin, udpLeave, udpLocalPort, udpRecvfrom, udpSendto, udpSetMulticastTtl,
  udpSocket,
} from "./api/udp";
import { igmpGroupMac, igmpInit, igmpPoll } from "./iface/igmp";
import { runAppPoll, runAppStart } from "./app";
import {
  FEATURE_DHCP, FEATURE_DNS, FEATURE_ICMP, FEATURE_LOOPBACK, FEATURE_MDNS, FEATURE_MQTT, FEATURE_MULTICAST, FEATURE_SNTP, FEATURE_TCP, FEATURE_UDP,
  LOOPBACK_POLL_MAX, MCAST_GROUPS,
  ARP_CACHE_SIZE, DNS_MAX_QUERIES, FRAME_MAX, MTU, TCP_BACKLOG_MAX, TCP_MAX_CONNECTIONS, TCP_MAX_SOCKETS,
  TCP_RCV_BUF, TCP_SND_BUF, UDP_MAX_SOCKETS, UDP_RCV_BUF,
} from "./config";
import { BYTES_PER_BLOCK, BYTES_PER_CONNECTION } from "./sockets/tcp/pcb";
import "./support/panic";
import {
  DHCP_EV_BOUND, DHCP_EV_LOST, dhcpAddress, dhcpInit, dhcpDns, dhcpNtp, dhcpLeaseRemaining, dhcpLinkUp, dhcpPoll, dhcpRelease, dhcpRouter,
  dhcpServer, dhcpStart, dhcpState, setDhcpHook,
} from "./services/dhcp";
import { dnsReset } from "./services/dns";
import { tcpAddressLost } from "./api/tcp";

function validAddress(ip: u32, mask: u32, gw: u32): bool {
  // Contiguous netmask: the host part plus one is a power of two.
  const host = ~mask;
  if ((host & (host + 1)) != 0) return false;
  if (ip == 0) return gw == 0;
  if (isMulticastOrReserved(ip) || (ip >>> 24) == 0 || (ip >>> 24) == 127) return false;
  if (mask < 0xfffffffe && ((ip & host) == 0 || (ip & host) == host)) return false; // network or broadcast
  if (gw != 0 && (((gw ^ ip) & mask) != 0 || gw == ip)) return false; // the gateway must be on-link
  return true;
}

export function init(macHi: u32, macLo: u32, ip: u32, mask: u32, gw: u32): i32 {
  // MAC words as they sit in memory: bytes 0..3 little-endian-loaded, then bytes 4..5.
  const w0 = bswap<u32>((macHi << 16) | (macLo >>> 16));
  const w4 = bswap<u16>(<u16>macLo);
  if ((macHi & 0x0100) != 0 || (macHi == 0 && macLo == 0) || macHi > 0xffff) return EINVAL; // multicast or zero
  if (!validAddress(ip, mask, gw)) return EINVAL;
  setNow(phy_now_ms());
  countersInit();
  netEventsInit();
  setLinkUp(true);
  setMac(w0, w4);
  setAddress(ip, mask, gw);
  if (ip != 0) netEvent(NET_EV_ADDRESS); // also when re-initialised with the address it had
  arpInit();
  ipv4Init();
  if (FEATURE_ICMP) pingInit();
  if (FEATURE_TCP) tcpInit();
  if (FEATURE_UDP) udpInit();
  if (FEATURE_MULTICAST) igmpInit();
  if (FEATURE_IPV6) ipv6Start();
  if (FEATURE_DHCP) {
    dhcpInit();
    setDhcpHook(onDhcp);
  }
  if (FEATURE_DNS) dnsReset();
  if (FEATURE_SNTP) sntpReset();
  if (FEATURE_MDNS) mdnsReset();
  logf(INFO, "eth: up, %i/%u gw %i", ip, popcnt(mask), gw);
  arpAnnounce();
  runAppStart();
  return OK;
}

export function set_ipv4(ip: u32, mask: u32, gw: u32): i32 {
  if (!validAddress(ip, mask, gw)) return EINVAL;
  setNow(phy_now_ms());
  if (FEATURE_MDNS) mdnsAddressChanging(ip); // its goodbye goes out from the old address
  setAddress(ip, mask, gw);
  arpAnnounce();
  return OK;
}

/**
 * set_link(up): the board's carrier changed (cable, PHY autonegotiation, Wi-Fi association). Down:
 * frames sent are dropped and counted (tx_link_down), connections and the lease are kept. Up: the
 * ARP cache forgets resolved neighbours (the link may lead elsewhere now), then the DHCP client
 * confirms its lease (INIT-REBOOT) or restarts discovery; a static address is announced again.
 */
export function set_link(up: u32): void {
  setNow(phy_now_ms());
  const u = up != 0;
  if (u == linkUp) return;
  setLinkUp(u);
  if (!u) {
    count(C.ETH_LINK_DOWNS);
    logf(INFO, "eth: link down");
    netEvent(NET_EV_LINK_DOWN);
    return;
  }
  count(C.ETH_LINK_UPS);
  logf(INFO, "eth: link up");
  netEvent(NET_EV_LINK_UP);
  arpFlush();
  if (FEATURE_IPV6) ipv6LinkUp();
  if (FEATURE_MDNS) mdnsLinkUp();
  if (FEATURE_DHCP && dhcpState() != 0) dhcpLinkUp();
  else if (ipAddr != 0) arpAnnounce();
}

export function link_up(): u32 {
  return linkUp ? 1 : 0;
}

/** net_events() -> WASMIP_NET_EV_* bits raised since the last call (then cleared). */
export function net_events(): u32 {
  return takeBoardEvents();
}

/** The interface's address now (0 without one; DHCP may change it). */
export function ipv4_address(): u32 {
  return ipAddr;
}

export function rx_buffer(): usize {
  return rxBuf;
}

export function rx_buffer_size(): u32 {
  return FRAME_MAX;
}

export function input(len: u32): u32 {
  setNow(phy_now_ms());
  const c = <u32>ethernetInput(len);
  runAppPoll();
  return c;
}

/**
 * input_checked(len, flags): input() for a MAC that verifies checksums itself: flags (RX_IPV4_OK,
 * RX_L4_OK) say which of this frame's checksums it found good; those are not summed again.
 */
export function input_checked(len: u32, flags: u32): u32 {
  setNow(phy_now_ms());
  setRxChecked(flags & (RX_IPV4_OK | RX_L4_OK));
  const c = <u32>ethernetInput(len);
  setRxChecked(0);
  runAppPoll();
  return c;
}

/**
 * set_offload(flags) -> 0 | EINVAL (an unknown bit): what the board does instead of the core
 * (OFFLOAD_SUM: phy.checksum sums; OFFLOAD_TX_IPV4, OFFLOAD_TX_L4: its MAC fills those checksums
 * in frames it sends). offload() -> the flags in force (0 at start: the core does all).
 */
export function set_offload(flags: u32): i32 {
  if (flags & ~OFFLOAD_ALL) return EINVAL;
  setOffload(flags);
  return OK;
}

export function offload(): u32 {
  return offloadFlags;
}

export function poll(now: u32): u32 {
  setNow(now);
  if (FEATURE_LOOPBACK && loopbackPending()) deliverLoopback();
  let next = arpPoll();
  if (FEATURE_MULTICAST) next = min<u32>(next, igmpPoll());
  if (FEATURE_IPV6) next = min<u32>(next, ipv6Poll());
  if (FEATURE_TCP) next = min<u32>(next, tcpPoll());
  if (FEATURE_DNS) next = min<u32>(next, dnsPoll());
  if (FEATURE_SNTP) next = min<u32>(next, sntpPoll());
  if (FEATURE_MDNS) next = min<u32>(next, mdnsPoll());
  if (FEATURE_DHCP) next = min<u32>(next, dhcpPoll()); // 0xffffffff while the client is stopped
  runAppPoll();
  if (FEATURE_MQTT) next = min<u32>(next, mqttNextTimer());
  if (FEATURE_LOOPBACK && loopbackPending()) next = 0; // more to deliver: poll again now
  return next < POLL_MAX_SLEEP_MS ? next : POLL_MAX_SLEEP_MS;
}

/** Loopback traffic is delivered from poll(), where nothing else is running; the app sees each
 *  batch (and may answer it) before the next. poll's timers come after, so they cover what the
 *  deliveries armed. */
function deliverLoopback(): void {
  let budget = LOOPBACK_POLL_MAX;
  while (budget > 0 && loopbackPending()) {
    budget -= loopbackDrain(budget);
    runAppPoll();
  }
}

/** What a lease means for the layers above: its DNS servers for the resolver; losing the
 *  address fails the TCP connections that used it (RFC 2131 §4.4.5: the address is gone). */
function onDhcp(event: u32, ip: u32): void {
  if (event == DHCP_EV_BOUND) {
    if (FEATURE_DNS) dnsSetServers(dhcpDns(0), dhcpDns(1));
    if (FEATURE_SNTP) sntpSetDhcpServers(dhcpNtp(0), dhcpNtp(1));
  } else if (event == DHCP_EV_LOST) {
    if (FEATURE_TCP) tcpAddressLost(ip);
    if (FEATURE_SNTP) sntpSetDhcpServers(0, 0);
  }
}

export function counter_count(): u32 {
  return <u32>COUNTERS;
}

export function counter(id: u32): u32 {
  return counterValue(id);
}

export function counter_name(id: u32): usize {
  return counterNamePtr(id);
}

export function counter_kind(id: u32): u32 {
  return counterKind(id);
}

export function memory_used(): usize {
  return __heap_base;
}

/** config(id): the build's knobs, numbered as WASMIP_CONFIG_* in wasmip.h. */
export function config(id: u32): u32 {
  switch (id) {
    case 0: return MTU;
    case 1: return TCP_MAX_SOCKETS;
    case 2: return TCP_MAX_CONNECTIONS;
    case 3: return TCP_SND_BUF;
    case 4: return TCP_RCV_BUF;
    case 5: return TCP_BACKLOG_MAX;
    case 6: return BYTES_PER_CONNECTION;
    case 7: return BYTES_PER_BLOCK;
    case 8: return UDP_MAX_SOCKETS;
    case 9: return UDP_RCV_BUF;
    case 10: return ARP_CACHE_SIZE;
    case 11: return DNS_MAX_QUERIES;
    case 12: return FRAME_MAX;
    case 13: return (FEATURE_MULTICAST ? <u32>MCAST_GROUPS : 0) + (FEATURE_IPV6 ? 2 + <u32>IPV6_ADDRS : 0);
    case 14: return FEATURE_IPV6 ? <u32>IPV6_ADDRS : 0;
    case 15: return FEATURE_IPV6 ? <u32>ND_CACHE_SIZE : 0;
  }
  return 0xffffffff;
}

export function set_log_level(level: u32): void {
  setLogLevel(level);
}

/** set_log_module_level(module, level) -> 0 | EINVAL (no such module: WASMIP_LOG_MODULE_*). */
export function set_log_module_level(module: u32, level: u32): i32 {
  return setModuleLogLevel(module, level) ? OK : EINVAL;
}

export function ping(dst: u32, seq: u32, size: u32): i32 {
  if (FEATURE_ICMP) {
    setNow(phy_now_ms());
    return pingSend(dst, seq, size);
  }
  return ENOSYS;
}

export function ping_rtt(seq: u32): i32 {
  if (FEATURE_ICMP) return pingRtt(seq);
  return ENOSYS;
}

// ---- TCP sockets (wasmip.h) -------------------------------------------------------------------
// Entry points refresh the clock first: timers armed here are relative to it.

export function tcp_socket(): i32 {
  if (FEATURE_TCP) return tcpSocket();
  return ENOSYS;
}
export function tcp_bind(fd: i32, port: u32): i32 {
  if (FEATURE_TCP) return tcpBind(fd, port);
  return ENOSYS;
}
export function tcp_listen(fd: i32, backlog: u32): i32 {
  if (FEATURE_TCP) return tcpListen(fd, backlog);
  return ENOSYS;
}
export function tcp_accept(fd: i32): i32 {
  if (FEATURE_TCP) return tcpAccept(fd);
  return ENOSYS;
}
export function tcp_connect(fd: i32, ip: u32, port: u32): i32 {
  if (FEATURE_TCP) {
    setNow(phy_now_ms());
    return tcpConnect(fd, ip, port);
  }
  return ENOSYS;
}
export function tcp_send(fd: i32, ptr: usize, len: u32): i32 {
  if (FEATURE_TCP) {
    setNow(phy_now_ms());
    return tcpSend(fd, ptr, len);
  }
  return ENOSYS;
}
export function tcp_send_space(fd: i32): u32 {
  if (FEATURE_TCP) return tcpSendSpace(fd);
  return 0;
}
export function tcp_recv(fd: i32, ptr: usize, len: u32): i32 {
  if (FEATURE_TCP) {
    // No clock read here: a read sends only for a window update, and tcpRecv reads the clock
    // then. The commonest call, an empty read, costs an interpreter no host call.
    return tcpRecv(fd, ptr, len);
  }
  return ENOSYS;
}
export function tcp_shutdown(fd: i32, how: u32): i32 {
  if (FEATURE_TCP) {
    setNow(phy_now_ms());
    return tcpShutdown(fd, how);
  }
  return ENOSYS;
}
export function tcp_close(fd: i32): i32 {
  if (FEATURE_TCP) {
    setNow(phy_now_ms());
    return tcpClose(fd);
  }
  return ENOSYS;
}
export function tcp_abort(fd: i32): i32 {
  if (FEATURE_TCP) {
    setNow(phy_now_ms());
    return tcpAbort(fd);
  }
  return ENOSYS;
}
export function tcp_events(fd: i32): u32 {
  if (FEATURE_TCP) return tcpEvents(fd);
  return 0;
}
export function tcp_changed(): u32 {
  if (FEATURE_TCP) return tcpChanged();
  return 0;
}
export function tcp_setopt(fd: i32, opt: u32, value: u32): i32 {
  if (FEATURE_TCP) {
    setNow(phy_now_ms());
    return tcpSetopt(fd, opt, value);
  }
  return ENOSYS;
}
export function tcp_state(fd: i32): u32 {
  if (FEATURE_TCP) return tcpState(fd);
  return 0;
}
export function tcp_local_port(fd: i32): u32 {
  if (FEATURE_TCP) return tcpLocalPort(fd);
  return 0;
}
export function tcp_remote_ip(fd: i32): u32 {
  if (FEATURE_TCP) return tcpRemoteIp(fd);
  return 0;
}
export function tcp_remote_port(fd: i32): u32 {
  if (FEATURE_TCP) return tcpRemotePort(fd);
  return 0;
}
export function tcp_table_size(): u32 {
  if (FEATURE_TCP) return tcpTableSize();
  return 0;
}
export function tcp_table_row(i: u32, out: usize): i32 {
  if (FEATURE_TCP) return tcpTableRow(i, out);
  return ENOSYS;
}
export function tcp_info(fd: i32, out: usize): i32 {
  if (FEATURE_TCP) return tcpInfo(fd, out);
  return ENOSYS;
}
// ---- UDP sockets (wasmip.h) -------------------------------------------------------------------

export function udp_socket(): i32 {
  if (FEATURE_UDP) return udpSocket();
  return ENOSYS;
}
export function udp_bind(fd: i32, port: u32): i32 {
  if (FEATURE_UDP) return udpBind(fd, port);
  return ENOSYS;
}
export function udp_connect(fd: i32, ip: u32, port: u32): i32 {
  if (FEATURE_UDP) return udpConnect(fd, ip, port);
  return ENOSYS;
}
export function udp_sendto(fd: i32, ptr: usize, len: u32, ip: u32, port: u32): i32 {
  if (FEATURE_UDP) {
    setNow(phy_now_ms());
    return udpSendto(fd, ptr, len, ip, port);
  }
  return ENOSYS;
}
export function udp_recvfrom(fd: i32, ptr: usize, len: u32): i32 {
  if (FEATURE_UDP) return udpRecvfrom(fd, ptr, len);
  return ENOSYS;
}
export function udp_from_ip(fd: i32): u32 {
  if (FEATURE_UDP) return udpFromIp(fd);
  return 0;
}
export function udp_from_port(fd: i32): u32 {
  if (FEATURE_UDP) return udpFromPort(fd);
  return 0;
}
export function udp_local_port(fd: i32): u32 {
  if (FEATURE_UDP) return udpLocalPort(fd);
  return 0;
}
export function udp_close(fd: i32): i32 {
  if (FEATURE_UDP) return udpClose(fd);
  return ENOSYS;
}
export function udp_events(fd: i32): u32 {
  if (FEATURE_UDP) return udpEvents(fd);
  return 0;
}

// ---- IPv4 multicast (iface/igmp.ts) ----------------------------------------------------------

export function udp_join(fd: i32, group: u32): i32 {
  if (FEATURE_UDP) {
    setNow(phy_now_ms());
    return udpJoin(fd, group);
  }
  return ENOSYS;
}
export function udp_leave(fd: i32, group: u32): i32 {
  if (FEATURE_UDP) {
    setNow(phy_now_ms());
    return udpLeave(fd, group);
  }
  return ENOSYS;
}
export function udp_set_multicast_ttl(fd: i32, ttl: u32): i32 {
  if (FEATURE_UDP) return udpSetMulticastTtl(fd, ttl);
  return ENOSYS;
}
/** multicast_mac(i, ptr) -> 1 (the 6-byte MAC of group slot i written at ptr) | 0 (slot free). */
export function multicast_mac(i: u32, ptr: usize): u32 {
  const n: u32 = FEATURE_MULTICAST ? <u32>MCAST_GROUPS : 0;
  if (FEATURE_MULTICAST && i < n) return igmpGroupMac(i, ptr) ? 1 : 0;
  if (FEATURE_IPV6) return ipv6GroupMac(i - n, ptr) ? 1 : 0; // after IGMP's slots (config 13 counts both)
  return 0;
}

/** The board's scratch for data it passes in and out (tcp_send/tcp_recv, udp_sendto/udp_recvfrom,
 *  names): the receive frame buffer, free between frames. What a board leaves there is overwritten
 *  by the next frame it copies to rx_buffer(), and by poll() delivering loopback traffic, so it
 *  reads results out before that. Sharing it saves a frame's worth of RAM; nothing in the core
 *  uses rx_buffer() outside input() and poll(). */
export function io_buffer(): usize {
  return rxBuf;
}
export function io_buffer_size(): u32 {
  return FRAME_MAX;
}

// ---- DHCPv4 client (services/dhcp.ts) ---------------------------------------------------------
// Boot with init(mac, 0, 0, 0), then dhcp_start; poll() runs the client. States: 0 stopped,
// 2 selecting, 3 requesting, 4 bound, 5 renewing, 6 rebinding, 7 releasing, 8 rebooting (INIT-REBOOT after the link came back).

/** dhcp_start(host_name_ptr, len) -> 0 | EINVAL (already running) | ENOBUFS/EADDRINUSE (no socket). */
export function dhcp_start(hostPtr: usize, len: u32): i32 {
  if (FEATURE_DHCP) {
    setNow(phy_now_ms());
    return dhcpStart(hostPtr, len);
  }
  return ENOSYS;
}
/** dhcp_release() -> 0 | EINVAL: DHCPRELEASE if leased, then stop (see dhcp_state). */
export function dhcp_release(): i32 {
  if (FEATURE_DHCP) {
    setNow(phy_now_ms());
    return dhcpRelease();
  }
  return ENOSYS;
}
export function dhcp_state(): u32 {
  if (FEATURE_DHCP) return dhcpState();
  return 0;
}
export function dhcp_address(): u32 {
  if (FEATURE_DHCP) return dhcpAddress();
  return 0;
}
/** Seconds left on the lease (0xffffffff infinite, 0 none). */
export function dhcp_lease_remaining(): u32 {
  if (FEATURE_DHCP) {
    setNow(phy_now_ms());
    return dhcpLeaseRemaining();
  }
  return 0;
}
export function dhcp_server(): u32 {
  if (FEATURE_DHCP) return dhcpServer();
  return 0;
}
export function dhcp_router(): u32 {
  if (FEATURE_DHCP) return dhcpRouter();
  return 0;
}
/** DNS server i (0..2) from the lease, 0 when none. */
export function dhcp_dns(i: u32): u32 {
  if (FEATURE_DHCP) return dhcpDns(i);
  return 0;
}

// ---- DNS resolver (services/dns.ts; wasmip.h "DNS") -------------------------------------------
// dns_resolve(ptr, len) -> handle | EINVAL | ENOBUFS | EHOSTUNREACH; poll() runs lookups;
// dns_result(h) -> EWOULDBLOCK while pending, 0 with dns_address(h), or ENXDOMAIN / ESERVFAIL /
// ETRUNCATED / ENODATA / ETIMEDOUT / ECONNREFUSED; dns_release(h) frees the slot.
// dns_resolve6 / dns_address6(h, out): the same for AAAA (IPv6 images; else ENOSYS / 0).
import {
  dnsAddress, dnsAddress6, dnsResolve6, dnsCacheFlush, dnsPoll, dnsRelease, dnsResolve, dnsResult, dnsServer, dnsSetServers, dnsTtl,
} from "./services/dns";

export function dns_set_servers(a: u32, b: u32): i32 {
  if (FEATURE_DNS) return dnsSetServers(a, b);
  return ENOSYS;
}
export function dns_server(i: u32): u32 {
  if (FEATURE_DNS) return dnsServer(i);
  return 0;
}
export function dns_resolve(ptr: usize, len: u32): i32 {
  if (FEATURE_DNS) {
    setNow(phy_now_ms());
    return dnsResolve(ptr, len);
  }
  return ENOSYS;
}
export function dns_result(handle: i32): i32 {
  if (FEATURE_DNS) return dnsResult(handle);
  return ENOSYS;
}
export function dns_address(handle: i32): u32 {
  if (FEATURE_DNS) return dnsAddress(handle);
  return 0;
}
export function dns_resolve6(ptr: usize, len: u32): i32 {
  if (FEATURE_DNS && FEATURE_IPV6) {
    setNow(phy_now_ms());
    return dnsResolve6(ptr, len);
  }
  return ENOSYS;
}
export function dns_address6(handle: i32, out: usize): u32 {
  if (FEATURE_DNS && FEATURE_IPV6) return dnsAddress6(handle, out);
  return 0;
}
export function dns_ttl(handle: i32): u32 {
  if (FEATURE_DNS) return dnsTtl(handle);
  return 0;
}
export function dns_release(handle: i32): i32 {
  if (FEATURE_DNS) {
    setNow(phy_now_ms());
    return dnsRelease(handle);
  }
  return ENOSYS;
}
export function dns_cache_flush(): void {
  if (FEATURE_DNS) {
    dnsCacheFlush();
  }
}

// ---- MQTT 3.1.1 client (services/mqtt.ts; wasmip.h "MQTT") -------------------------------------
// Built in with --use WASMIP_MQTT=1 (config.ts FEATURE_MQTT); otherwise ENOSYS (or 0).
import {
  mqttConnack, mqttConnect, mqttDisconnect, mqttEvent, mqttInflight, mqttMessage, mqttMessageDone, mqttNextTimer,
  mqttFields, mqttPublish, mqttState, mqttSubscribe, mqttUnsubscribe,
} from "./services/mqtt";

/** mqtt_connect(ip, port, cfg, cfg_len): cfg as WASMIP_MQTT_CFG_* in wasmip.h (keep-alive, flags,
 *  five lengths, then client id, will topic, will message, user name, password). */
export function mqtt_connect(ip: u32, port: u32, cfg: usize, len: u32): i32 {
  if (FEATURE_MQTT) {
    setNow(phy_now_ms());
    if (len < 28 || <u64>cfg + len > (<u64>memory.size() << 16)) return EINVAL;
    const flags = load<u32>(cfg, 4);
    const f = mqttFields;
    f.keepAlive = load<u32>(cfg);
    f.clean = flags & 1;
    const idLen = load<u32>(cfg, 8);
    f.willTopicLen = load<u32>(cfg, 12);
    f.willPayloadLen = load<u32>(cfg, 16);
    f.usernameLen = load<u32>(cfg, 20);
    f.passwordLen = load<u32>(cfg, 24);
    const sum = <u64>idLen + f.willTopicLen + f.willPayloadLen + f.usernameLen + f.passwordLen;
    if (<u64>28 + sum > <u64>len) return EINVAL;
    const id = cfg + 28;
    f.willTopic = (flags & 2) ? id + idLen : 0;
    f.willPayload = id + idLen + f.willTopicLen;
    f.willQos = (flags >> 2) & 3;
    f.willRetain = (flags >> 4) & 1;
    f.hasUsername = (flags >> 5) & 1;
    f.username = f.willPayload + f.willPayloadLen;
    f.hasPassword = (flags >> 6) & 1;
    f.password = f.username + f.usernameLen;
    return mqttConnect(ip, port, f, id, idLen);
  }
  return ENOSYS;
}
/** mqtt_publish(topic, topic_len, payload, payload_len, flags: qos | retain << 2) -> 0 (QoS 0) |
 *  packet id | EINVAL | ENOTCONN | ENOBUFS | EMSGSIZE. */
export function mqtt_publish(topic: usize, tl: u32, payload: usize, pl: u32, flags: u32): i32 {
  if (FEATURE_MQTT) {
    setNow(phy_now_ms());
    return mqttPublish(topic, tl, payload, pl, flags & 3, (flags & 4) != 0);
  }
  return ENOSYS;
}
export function mqtt_subscribe(filter: usize, len: u32, qos: u32): i32 {
  if (FEATURE_MQTT) {
    setNow(phy_now_ms());
    return mqttSubscribe(filter, len, qos);
  }
  return ENOSYS;
}
export function mqtt_unsubscribe(filter: usize, len: u32): i32 {
  if (FEATURE_MQTT) {
    setNow(phy_now_ms());
    return mqttUnsubscribe(filter, len);
  }
  return ENOSYS;
}
export function mqtt_disconnect(): i32 {
  if (FEATURE_MQTT) {
    setNow(phy_now_ms());
    return mqttDisconnect();
  }
  return ENOSYS;
}
export function mqtt_state(): i32 {
  if (FEATURE_MQTT) return mqttState();
  return ENOSYS;
}
export function mqtt_connack(): u32 {
  if (FEATURE_MQTT) return mqttConnack();
  return 0;
}
export function mqtt_inflight(): u32 {
  if (FEATURE_MQTT) return mqttInflight();
  return 0;
}
/** mqtt_event(out) -> 1 with { type, id, code } (3 x u32) at out, or 0. */
export function mqtt_event(out: usize): i32 {
  if (FEATURE_MQTT) return mqttEvent(out);
  return 0;
}
/** mqtt_message(out) -> 1 with { topic, topic_len, payload, payload_len, flags } (5 x u32) at out,
 *  or 0; the message stays until mqtt_message_done(). */
export function mqtt_message(out: usize): i32 {
  if (FEATURE_MQTT) return mqttMessage(out);
  return 0;
}
export function mqtt_message_done(): i32 {
  if (FEATURE_MQTT) {
    setNow(phy_now_ms());
    return mqttMessageDone();
  }
  return ENOSYS;
}

// ---- SNTP client (services/sntp.ts; wasmip.h "SNTP") ------------------------------------------
// Runs from poll() once it has a server (sntp_set_servers, or DHCP option 42).
import {
  sntpDelayUs, sntpOffsetUs, sntpPoll, sntpReset, sntpSampleServer, sntpSampleStratum, sntpServer, sntpSetDhcpServers,
  sntpSetServers, sntpSynced, sntpTime,
} from "./services/sntp";

export function sntp_set_servers(a: u32, b: u32): i32 {
  if (FEATURE_SNTP) {
    setNow(phy_now_ms());
    return sntpSetServers(a, b);
  }
  return ENOSYS;
}
export function sntp_server(i: u32): u32 {
  if (FEATURE_SNTP) return sntpServer(i);
  return 0;
}
export function sntp_synced(): u32 {
  if (FEATURE_SNTP) return sntpSynced() ? 1 : 0;
  return 0;
}
/** sntp_time(out) -> 0 | EWOULDBLOCK (not synced yet: 1970 + uptime) | ENOSYS; writes two u32 at
 *  out: Unix seconds and the binary fraction of a second. */
export function sntp_time(out: usize): i32 {
  if (FEATURE_SNTP) {
    setNow(phy_now_ms());
    const t = sntpTime();
    store<u32>(out, <u32>(t >> 32));
    store<u32>(out, <u32>t, 4);
    return sntpSynced() ? OK : EWOULDBLOCK;
  }
  return ENOSYS;
}
/** sntp_sample(out) -> 0 | EWOULDBLOCK (no sample yet) | ENOSYS; writes five u32 at out: the
 *  offset applied in µs (i64, low then high word), the round-trip delay in µs, the server, its stratum. */
export function sntp_sample(out: usize): i32 {
  if (FEATURE_SNTP) {
    const o = sntpOffsetUs();
    const d = sntpDelayUs();
    store<u32>(out, <u32>o);
    store<u32>(out, <u32>(o >> 32), 4);
    store<u32>(out, d < 0 ? 0 : d > 0xffffffff ? 0xffffffff : <u32>d, 8);
    store<u32>(out, sntpSampleServer(), 12);
    store<u32>(out, sntpSampleStratum(), 16);
    return sntpSynced() ? OK : EWOULDBLOCK;
  }
  return ENOSYS;
}

// ---- IPv6 (iface/ipv6.ts, nd.ts, slaac.ts; wasmip.h "IPv6") -------------------------------------
// Built in with --use WASMIP_IPV6=1 (config.ts FEATURE_IPV6); otherwise ENOSYS (or 0). Addresses
// are 16 bytes in network order, through memory (the board's io_buffer).
import { ipv6AddressAt, ipv6GroupMac, ipv6LinkUp, ipv6Poll, ipv6SetEnabled, ipv6Start } from "./iface/ipv6_api";
import { ndDnsAt, ndNeighbour, ndRouterAt } from "./iface/nd";
import { ping6Send } from "./api/ping";
import { udpConnect6, udpFrom6, udpSendto6 } from "./api/udp";
import { tcpConnect6, tcpRemote6, tcpTableRow6 } from "./api/tcp";
import { FEATURE_IPV6, IPV6_ADDRS, ND_CACHE_SIZE } from "./config";

/** ipv6_enable(on): IPv6 on the interface (on by default in an image with it); turning it on
 *  again starts over (a new link-local address, DAD, router solicitation). */
export function ipv6_enable(on: u32): i32 {
  if (FEATURE_IPV6) {
    setNow(phy_now_ms());
    ipv6SetEnabled(on != 0);
    ipv6Start();
    netEvent(NET_EV_MULTICAST);
    return OK;
  }
  return ENOSYS;
}
/** ipv6_address(i, out) -> state of address slot i (0 free, 1 tentative, 2 preferred,
 *  3 deprecated, 4 duplicated); out: the address (16 bytes), valid and preferred seconds left
 *  (u32 each, 0xffffffff infinite). Slot 0 is the link-local address. */
export function ipv6_address(i: u32, out: usize): i32 {
  if (FEATURE_IPV6) return <i32>ipv6AddressAt(i, out); // the lifetimes left are kept by poll's tick
  return ENOSYS;
}
/** ipv6_router(i, out) -> seconds the default router i stays one (0: none), its address at out. */
export function ipv6_router(i: u32, out: usize): u32 {
  if (FEATURE_IPV6) return ndRouterAt(i, out);
  return 0;
}
/** ipv6_dns(i, out) -> seconds the RDNSS server i (RFC 8106) stays valid (0: none), its address at out. */
export function ipv6_dns(i: u32, out: usize): u32 {
  if (FEATURE_IPV6) return ndDnsAt(i, out);
  return 0;
}
/** ipv6_neighbor(i, out) -> state of neighbor cache entry i (0 free, 1 INCOMPLETE, 2 REACHABLE,
 *  3 STALE, 4 DELAY, 5 PROBE); out: address (16), MAC (6), is-router (u16). */
export function ipv6_neighbor(i: u32, out: usize): u32 {
  if (FEATURE_IPV6) return ndNeighbour(i, out);
  return 0;
}
/** ping6(ptr, seq, size): echo request seq to the 16-byte address at ptr; ping_rtt(seq) reads it. */
export function ping6(ptr: usize, seq: u32, size: u32): i32 {
  if (FEATURE_IPV6 && FEATURE_ICMP) {
    setNow(phy_now_ms());
    return ping6Send(ptr, seq, size);
  }
  return ENOSYS;
}

/** tcp_connect6(fd, ptr, port): tcp_connect to the IPv6 peer at ptr (16 bytes), from the source
 *  address RFC 6724 picks (link-local for a link-local peer); EHOSTUNREACH without one. */
export function tcp_connect6(fd: i32, ptr: usize, port: u32): i32 {
  if (FEATURE_IPV6 && FEATURE_TCP) {
    setNow(phy_now_ms());
    return tcpConnect6(fd, ptr, port);
  }
  return ENOSYS;
}
/** tcp_remote6(fd, out) -> 1 with the IPv6 peer of fd at out (16 bytes) | 0: IPv4 (tcp_remote_ip). */
export function tcp_remote6(fd: i32, out: usize): u32 {
  if (FEATURE_IPV6 && FEATURE_TCP) return tcpRemote6(fd, out);
  return 0;
}
/** tcp_table_row6(i, out) -> 1 with row i's local and remote IPv6 addresses (16 bytes each) at
 *  out | 0: the row is IPv4 or empty (tcp_table_row has its addresses). */
export function tcp_table_row6(i: u32, out: usize): i32 {
  if (FEATURE_IPV6 && FEATURE_TCP) return tcpTableRow6(i, out);
  return 0;
}
/** udp_connect6(fd, ptr, port): udp_connect to the IPv6 peer at ptr (16 bytes). */
export function udp_connect6(fd: i32, ptr: usize, port: u32): i32 {
  if (FEATURE_IPV6 && FEATURE_UDP) return udpConnect6(fd, ptr, port);
  return ENOSYS;
}
/** udp_sendto6(fd, ptr, len, addr, port): udp_sendto over IPv6 to the 16 bytes at addr (:: and
 *  port 0: the connected peer). */
export function udp_sendto6(fd: i32, ptr: usize, len: u32, addr: usize, port: u32): i32 {
  if (FEATURE_IPV6 && FEATURE_UDP) {
    setNow(phy_now_ms());
    return udpSendto6(fd, ptr, len, addr, port);
  }
  return ENOSYS;
}
/** udp_from6(fd, out) -> 1 with the IPv6 source of the datagram the last udp_recvfrom returned
 *  at out (16 bytes) | 0: it came over IPv4 (udp_from_ip). */
export function udp_from6(fd: i32, out: usize): u32 {
  if (FEATURE_IPV6 && FEATURE_UDP) return udpFrom6(fd, out);
  return 0;
}

// ---- mDNS responder and DNS-SD (services/mdns.ts; wasmip.h "mDNS") -------------------------------
// Built in with --use WASMIP_MULTICAST=1 --use WASMIP_MDNS=1 (config.ts FEATURE_MDNS); otherwise
// ENOSYS (or 0). Names and TXT are passed in the board's scratch (io_buffer()).
import {
  mdnsAddService, mdnsAddressChanging, mdnsConflicts, mdnsHostname, mdnsLinkUp, mdnsPoll, mdnsRemoveService, mdnsReset,
  mdnsServiceName, mdnsStart, mdnsState, mdnsStop,
} from "./services/mdns";

/** mdns_start(name, len) -> 0 | EINVAL (not a host label) | ENOBUFS (no socket or group); len 0:
 *  the default name (config.ts MDNS_HOSTNAME and the MAC's last three bytes). */
export function mdns_start(name: usize, len: u32): i32 {
  if (FEATURE_MDNS) {
    setNow(phy_now_ms());
    return mdnsStart(name, len);
  }
  return ENOSYS;
}
/** mdns_stop() -> 0 | EINVAL (not started): goodbyes (TTL 0), then the group is left. */
export function mdns_stop(): i32 {
  if (FEATURE_MDNS) {
    setNow(phy_now_ms());
    return mdnsStop();
  }
  return ENOSYS;
}
/** 0 idle, 1 waiting for an address or the link, 2 probing, 3 announcing, 4 running. */
export function mdns_state(): u32 {
  if (FEATURE_MDNS) return mdnsState();
  return 0;
}
/** Name conflicts seen since mdns_start (each a rename or a new probing). */
export function mdns_conflicts(): u32 {
  if (FEATURE_MDNS) return mdnsConflicts();
  return 0;
}
/** mdns_hostname(out) -> length of the name in use, dotted ("name-2.local"), written at out. */
export function mdns_hostname(out: usize): u32 {
  if (FEATURE_MDNS) return mdnsHostname(out);
  return 0;
}
/** mdns_add_service(inst, inst_len, type, type_len, port, txt, txt_len) -> handle | EINVAL |
 *  ENOBUFS: type "_http._tcp", TXT in wire form (length-prefixed strings), inst_len 0: the host label. */
export function mdns_add_service(inst: usize, il: u32, type: usize, tl: u32, port: u32, txt: usize, xl: u32): i32 {
  if (FEATURE_MDNS) {
    setNow(phy_now_ms());
    return mdnsAddService(inst, il, type, tl, port, txt, xl);
  }
  return ENOSYS;
}
export function mdns_remove_service(h: i32): i32 {
  if (FEATURE_MDNS) {
    setNow(phy_now_ms());
    return mdnsRemoveService(h);
  }
  return ENOSYS;
}
/** mdns_service_name(h, out) -> length of the instance name ("inst._http._tcp.local") at out, 0: none. */
export function mdns_service_name(h: i32, out: usize): u32 {
  if (FEATURE_MDNS) return mdnsServiceName(h, out);
  return 0;
}
