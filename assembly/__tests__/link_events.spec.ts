// The link (set_link), network events (net_events and the app's handler) and per-module log levels.
import { link_up, net_events, set_ipv4, set_link } from "../index";
import { arpState, FREE, RESOLVED } from "../iface/arp";
import { ipAddr } from "../iface/netif";
import {
  NET_EV_ADDRESS, NET_EV_ADDRESS_LOST, NET_EV_DNS, NET_EV_LINK_DOWN, NET_EV_LINK_UP, NET_EV_RENEWED, onNetEvent,
} from "../api/net";
import { runAppPoll, setApp } from "../app";
import { dnsSetServers } from "../services/dns";
import {
  DHCP_BOUND, DHCP_REBOOTING, DHCP_RENEWING, DHCP_SELECTING, dhcpAddress, dhcpLeaseRemaining, dhcpState, dhcpXid,
} from "../services/dhcp";
import { DEBUG, ERROR, INFO, WARN, logEnabled, moduleLogLevel, setLogLevel, setModuleLogLevel } from "../support/log";
import { OUR_IP, PEER_IP, arpFrame, bringUp, feed } from "../testing";
import {
  C, DNS1, LEASED, SERVER, SERVER2, advance, clearSent, ctr, deliver, dhcpUp, lastDhcp, leaseUp, msg, reply, sentCount,
  sentDstIp, sentEthBroadcast, sentOption, standard, RX_DHCP, waitForFrame,
} from "./dhcp_support";

describe("set_link", () => {
  it("drops what the stack sends while the link is down, counted in tx_link_down", () => {
    bringUp();
    feed(arpFrame(1, PEER_IP, OUR_IP)); // a request: we answer
    expect(sentCount()).toBe(1);
    clearSent();
    set_link(0);
    expect(link_up()).toBe(0);
    expect(ctr(C.ETH_LINK_DOWNS)).toBe(1);
    feed(arpFrame(1, PEER_IP, OUR_IP));
    expect(sentCount()).toBe(0);
    expect(ctr(C.TX_LINK_DOWN)).toBe(1);
    expect(ctr(C.ARP_REPLIES_SENT)).toBe(2); // built, then dropped at the interface
  });

  it("is a no-op when the state does not change", () => {
    bringUp();
    net_events();
    set_link(1);
    expect(ctr(C.ETH_LINK_UPS)).toBe(0);
    expect(net_events()).toBe(0);
    set_link(0);
    set_link(0);
    expect(ctr(C.ETH_LINK_DOWNS)).toBe(1);
    expect(net_events()).toBe(NET_EV_LINK_DOWN);
  });

  it("on the way up forgets resolved neighbours and announces a static address", () => {
    bringUp();
    feed(arpFrame(1, PEER_IP, OUR_IP));
    expect(arpState(PEER_IP)).toBe(RESOLVED);
    set_link(0);
    clearSent();
    set_link(1);
    expect(link_up()).toBe(1);
    expect(arpState(PEER_IP)).toBe(FREE);
    expect(ctr(C.ARP_FLUSHED)).toBe(1);
    expect(ctr(C.ETH_LINK_UPS)).toBe(1);
    expect(sentCount()).toBe(1); // the gratuitous ARP
    expect(ctr(C.ARP_GRATUITOUS_SENT)).toBe(2); // init's and this one
    expect(net_events()).toBe(NET_EV_ADDRESS | NET_EV_LINK_DOWN | NET_EV_LINK_UP);
  });

  it("init() brings the link up again", () => {
    bringUp();
    set_link(0);
    bringUp();
    expect(link_up()).toBe(1);
  });
});

describe("set_link with a DHCP lease: INIT-REBOOT (RFC 2131 §3.2, §4.3.2)", () => {
  it("broadcasts a REQUEST for the lease's address, without server id or ciaddr; ACK: RENEWED", () => {
    leaseUp();
    const xid0 = dhcpXid();
    net_events();
    set_link(0);
    advance(5000);
    set_link(1);
    expect(dhcpState()).toBe(DHCP_REBOOTING);
    expect(ctr(C.DHCP_REBOOTS)).toBe(1);
    const k = lastDhcp();
    expect(k).toBeGreaterThanOrEqual(0);
    expect(msg.msgType).toBe(3);
    expect(msg.xid).not.toBe(xid0);
    expect(msg.ciaddr).toBe(0);
    expect(msg.flags).toBe(0x8000);
    expect(msg.requestedIp).toBe(LEASED);
    expect(sentOption(k, 54)).toBe(0); // no server identifier
    expect(sentDstIp(k)).toBe(0xffffffff);
    expect(sentEthBroadcast(k)).toBe(true);
    expect(ipAddr).toBe(LEASED); // kept while asking
    net_events();
    reply(5, 3600);
    expect(dhcpState()).toBe(DHCP_BOUND);
    expect(ipAddr).toBe(LEASED);
    expect(dhcpLeaseRemaining()).toBe(3600);
    expect(net_events()).toBe(NET_EV_RENEWED);
  });

  it("accepts the ACK from any server (the link may lead to another one)", () => {
    leaseUp();
    set_link(0);
    set_link(1);
    reply(5, 7200, 0, 0, SERVER2);
    expect(dhcpState()).toBe(DHCP_BOUND);
    expect(dhcpLeaseRemaining()).toBe(7200);
  });

  it("NAK: drops the address and starts discovery", () => {
    leaseUp();
    set_link(0);
    set_link(1);
    net_events();
    clearSent();
    reply(6);
    expect(ipAddr).toBe(0);
    expect(dhcpAddress()).toBe(0);
    expect(dhcpState()).toBe(DHCP_SELECTING);
    expect(lastDhcp()).toBeGreaterThanOrEqual(0);
    expect(msg.msgType).toBe(1); // DISCOVER
    expect(net_events()).toBe(NET_EV_ADDRESS_LOST);
  });

  it("unanswered: a second REQUEST 4 +-1 s later, then after 8 +-1 s the lease is kept, its timers unchanged", () => {
    leaseUp(3600);
    set_link(0);
    set_link(1);
    clearSent();
    const w1 = waitForFrame(6000);
    expect(w1).toBeGreaterThanOrEqual(3000);
    expect(w1).toBeLessThanOrEqual(5000);
    expect(msg.msgType).toBe(3);
    expect(msg.requestedIp).toBe(LEASED);
    clearSent();
    advance(6900);
    expect(dhcpState()).toBe(DHCP_REBOOTING);
    advance(2200);
    expect(dhcpState()).toBe(DHCP_BOUND);
    expect(ipAddr).toBe(LEASED);
    expect(sentCount()).toBe(0);
    // T1 still at half the lease from the original REQUEST: renewal as usual.
    advance(1800 * 1000);
    expect(dhcpState()).toBe(DHCP_RENEWING);
  });

  it("while still selecting, restarts discovery at once with a new xid", () => {
    dhcpUp();
    const xid0 = dhcpXid();
    advance(1000);
    set_link(0);
    set_link(1);
    expect(dhcpState()).toBe(DHCP_SELECTING);
    expect(dhcpXid()).not.toBe(xid0);
    expect(lastDhcp()).toBeGreaterThanOrEqual(0);
    expect(msg.msgType).toBe(1);
    expect(msg.xid).toBe(dhcpXid());
  });

  it("an ACK after the reboot for a different xid is dropped", () => {
    leaseUp();
    set_link(0);
    set_link(1);
    const before = ctr(C.DHCP_WRONG_XID);
    deliver(standard(RX_DHCP, 5, dhcpXid() + 1));
    expect(ctr(C.DHCP_WRONG_XID)).toBe(before + 1);
    expect(dhcpState()).toBe(DHCP_REBOOTING);
  });
});

describe("net_events", () => {
  it("reports a static address, its loss and DNS server changes once each", () => {
    bringUp();
    expect(net_events()).toBe(NET_EV_ADDRESS); // init's address
    expect(net_events()).toBe(0);
    expect(set_ipv4(0, 0, 0)).toBe(0);
    expect(net_events()).toBe(NET_EV_ADDRESS_LOST);
    dnsSetServers(DNS1, 0);
    expect(net_events()).toBe(NET_EV_DNS);
    dnsSetServers(DNS1, 0);
    expect(net_events()).toBe(0);
  });

  it("reports a lease (address and DNS servers) and its renewal at T1", () => {
    dhcpUp();
    net_events();
    reply(2);
    reply(5, 3600);
    expect(net_events()).toBe(NET_EV_ADDRESS | NET_EV_DNS);
    advance(1800 * 1000); // T1: a unicast REQUEST to the server
    expect(dhcpState()).toBe(DHCP_RENEWING);
    feed(arpFrame(2, SERVER, LEASED, false));
    reply(5, 3600, 0, 0, SERVER, LEASED);
    expect(dhcpState()).toBe(DHCP_BOUND);
    expect(net_events()).toBe(NET_EV_RENEWED);
  });
});

let appEvents: u32 = 0;
let appCalls: u32 = 0;
function onEvents(ev: u32): void {
  appEvents |= ev;
  appCalls++;
}
function noApp(): void {}

describe("the app's network event handler", () => {
  it("gets every bit raised since its last turn, once, on its turn", () => {
    bringUp();
    setApp(noApp, noApp);
    onNetEvent(onEvents);
    appEvents = 0;
    appCalls = 0;
    runAppPoll();
    expect(appCalls).toBe(1);
    expect(appEvents).toBe(NET_EV_ADDRESS); // init's, not yet seen by the app
    set_link(0);
    set_link(1);
    expect(appCalls).toBe(1); // not from inside set_link
    appEvents = 0;
    runAppPoll();
    expect(appCalls).toBe(2);
    expect(appEvents).toBe(NET_EV_LINK_DOWN | NET_EV_LINK_UP);
    runAppPoll();
    expect(appCalls).toBe(2); // nothing new
    net_events(); // the board reading its bits takes nothing from the app's
    set_link(0);
    expect(net_events()).toBe(NET_EV_LINK_DOWN);
    runAppPoll();
    expect(appCalls).toBe(3);
    onNetEvent(null);
    setApp(noApp, noApp);
  });
});

describe("per-module log levels", () => {
  it("a line's module is its prefix; other prefixes are the app's", () => {
    setLogLevel(WARN);
    expect(setModuleLogLevel(6, DEBUG)).toBe(true); // dhcp
    const dhcp = "dhcp: offer";
    const arp = "arp: who-has";
    const app = "sensor: up";
    const ipx = "ipx: not ip";
    expect(logEnabled(DEBUG, changetype<usize>(dhcp), dhcp.length << 1, 2)).toBe(true);
    expect(logEnabled(INFO, changetype<usize>(arp), arp.length << 1, 2)).toBe(false);
    expect(logEnabled(WARN, changetype<usize>(arp), arp.length << 1, 2)).toBe(true);
    expect(logEnabled(INFO, changetype<usize>(app), app.length << 1, 2)).toBe(false);
    expect(setModuleLogLevel(8, INFO)).toBe(true); // app
    expect(logEnabled(INFO, changetype<usize>(app), app.length << 1, 2)).toBe(true);
    expect(logEnabled(INFO, changetype<usize>(ipx), ipx.length << 1, 2)).toBe(true); // not "ip": the app's
    expect(moduleLogLevel(2)).toBe(WARN);
    expect(setModuleLogLevel(9, DEBUG)).toBe(false);
    setLogLevel(ERROR);
    expect(logEnabled(DEBUG, changetype<usize>(dhcp), dhcp.length << 1, 2)).toBe(false);
    expect(moduleLogLevel(6)).toBe(ERROR);
    setLogLevel(INFO);
  });

  it("matches ASCII formats (what the build's transform passes) the same way", () => {
    setLogLevel(ERROR);
    setModuleLogLevel(7, INFO); // dns
    const p = memory.data<u8>([100, 110, 115, 58, 32, 120]); // "dns: x"
    const q = memory.data<u8>([100, 110, 58, 32, 120]); // "dn: x"
    expect(logEnabled(INFO, p, 6, 1)).toBe(true);
    expect(logEnabled(INFO, q, 5, 1)).toBe(false);
    setLogLevel(INFO);
  });
});
