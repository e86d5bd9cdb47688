// The DHCP client state machine against a scripted server: every transition and timer.
import { ipAddr, netmask, gateway } from "../iface/netif";
import {
  DHCP_BOUND, DHCP_EV_BOUND, DHCP_EV_LOST, DHCP_REBINDING, DHCP_RENEWING, DHCP_REQUESTING, DHCP_SELECTING, DHCP_STOPPED,
  dhcpAddress, dhcpDns, dhcpLeaseRemaining, dhcpRelease, dhcpRouter, dhcpServer, dhcpState, setDhcpHook,
} from "../services/dhcp";
import { arpFrame, feed } from "../testing";
import {
  C, DNS1, DNS2, LEASED, MASK24, ROUTER, RX_DHCP, SERVER, SERVER2, advance, begin, clearSent, ctr, deliver, dhcpUp, finish,
  lastDhcp, lastXid, leaseUp, msg, opt32, opt8, parseLast, parseSent, reply, sentCount, sentDstIp, sentEthBroadcast, sentOption,
  sentSrcIp, standard, waitForFrame,
} from "./dhcp_support";

let lastEvent: u32 = 0;
let lastEventIp: u32 = 0;
let events: u32 = 0;
function onEvent(ev: u32, ip: u32): void {
  lastEvent = ev;
  lastEventIp = ip;
  events++;
}

/** The server resolves us (an ARP request to the leased address), so unicasts go out at once. */
function serverKnowsUs(): void {
  feed(arpFrame(1, SERVER, LEASED));
  clearSent();
}

describe("DHCP client: acquisition", () => {
  it("broadcasts a DISCOVER from 0.0.0.0 with the BROADCAST flag, our chaddr and host name", () => {
    dhcpUp();
    expect(dhcpState()).toBe(DHCP_SELECTING);
    expect(sentCount()).toBe(1);
    expect(parseSent(0)).toBe(true);
    expect(sentEthBroadcast(0)).toBe(true);
    expect(sentSrcIp(0)).toBe(0);
    expect(sentDstIp(0)).toBe(0xffffffff);
    expect(msg.op).toBe(1);
    expect(msg.msgType).toBe(1);
    expect(msg.flags).toBe(0x8000);
    expect(msg.ciaddr).toBe(0);
    expect(msg.chaddr0).toBe(0x00000002); // 02:00:00:00 as loaded
    const h = sentOption(0, 12);
    expect(h).not.toBe(0);
    expect(load<u8>(h)).toBe(6);
    expect(String.UTF8.decodeUnsafe(h + 1, 6)).toBe("board1");
    expect(sentOption(0, 55)).not.toBe(0);
    expect(sentOption(0, 50)).toBe(0);
    expect(ctr(C.DHCP_DISCOVERS_SENT)).toBe(1);
  });

  it("OFFER -> REQUEST (requested IP, server id, same xid) -> ACK -> BOUND with the lease applied", () => {
    dhcpUp();
    setDhcpHook(onEvent);
    events = 0;
    const xid = lastXid();
    expect(reply(2)).toBe(C.UDP_DELIVERED);
    expect(dhcpState()).toBe(DHCP_REQUESTING);
    expect(sentCount()).toBe(2);
    expect(parseSent(1)).toBe(true);
    expect(msg.msgType).toBe(3);
    expect(msg.xid).toBe(xid);
    expect(msg.flags).toBe(0x8000);
    expect(msg.ciaddr).toBe(0);
    expect(sentDstIp(1)).toBe(0xffffffff);
    expect(msg.requestedIp).toBe(LEASED);
    expect(msg.serverId).toBe(SERVER);
    expect(ipAddr).toBe(0); // not before the ACK
    reply(5, 3600);
    expect(dhcpState()).toBe(DHCP_BOUND);
    expect(ipAddr).toBe(LEASED);
    expect(netmask).toBe(MASK24);
    expect(gateway).toBe(ROUTER);
    expect(dhcpAddress()).toBe(LEASED);
    expect(dhcpServer()).toBe(SERVER);
    expect(dhcpRouter()).toBe(ROUTER);
    expect(dhcpDns(0)).toBe(DNS1);
    expect(dhcpDns(1)).toBe(DNS2);
    expect(dhcpDns(2)).toBe(0);
    expect(dhcpLeaseRemaining()).toBe(3600);
    expect(ctr(C.DHCP_LEASES)).toBe(1);
    expect(ctr(C.DHCP_OFFERS)).toBe(1);
    expect(ctr(C.DHCP_ACKS)).toBe(1);
    expect(ctr(C.ARP_GRATUITOUS_SENT)).toBe(2); // bringUp's and the lease's
    expect(lastEvent).toBe(DHCP_EV_BOUND);
    expect(lastEventIp).toBe(LEASED);
    setDhcpHook(null);
  });

  it("retransmits DISCOVER after 4, 8, 16, 32, 64, 64 s, each within +-1 s, keeping the xid", () => {
    dhcpUp();
    const xid = lastXid();
    let base: u32 = 4000;
    for (let k = 0; k < 6; k++) {
      clearSent();
      const w = waitForFrame(70000, 50);
      expect(sentCount()).toBe(1);
      expect(w).toBeGreaterThanOrEqual(base - 1000);
      expect(w).toBeLessThanOrEqual(base + 1000);
      expect(lastXid()).toBe(xid);
      expect(msg.msgType).toBe(1);
      expect(msg.secs).toBeGreaterThan(0);
      if (base < 64000) base <<= 1;
    }
    expect(ctr(C.DHCP_RETRANSMITS)).toBe(6);
    expect(dhcpState()).toBe(DHCP_SELECTING);
  });

  it("gives up REQUESTING after 4 REQUESTs and starts over with a DISCOVER and a new xid", () => {
    dhcpUp();
    const xid = lastXid();
    reply(2);
    for (let k = 0; k < 3; k++) {
      clearSent();
      waitForFrame(70000);
      expect(lastXid()).toBe(xid);
      expect(msg.msgType).toBe(3);
    }
    clearSent();
    waitForFrame(70000);
    expect(parseLast()).toBe(true);
    expect(msg.msgType).toBe(1);
    expect(msg.xid).not.toBe(xid);
    expect(dhcpState()).toBe(DHCP_SELECTING);
  });

  it("restarts discovery on a NAK in REQUESTING", () => {
    dhcpUp();
    const xid = lastXid();
    reply(2);
    clearSent();
    reply(6);
    expect(ctr(C.DHCP_NAKS)).toBe(1);
    expect(dhcpState()).toBe(DHCP_SELECTING);
    expect(sentCount()).toBe(1);
    expect(parseLast()).toBe(true);
    expect(msg.msgType).toBe(1);
    expect(msg.xid).not.toBe(xid);
    expect(ipAddr).toBe(0);
    // and the next exchange works
    reply(2);
    reply(5);
    expect(dhcpState()).toBe(DHCP_BOUND);
  });
});

describe("DHCP client: renewal, rebinding, expiry", () => {
  it("renews at T1 with a unicast REQUEST (ciaddr, no server id) and a fresh lease from the ACK", () => {
    leaseUp(3600, 1800, 3150);
    serverKnowsUs();
    advance(1799000);
    expect(sentCount()).toBe(0);
    expect(dhcpState()).toBe(DHCP_BOUND);
    expect(waitForFrame(1000, 1000)).toBe(1000); // ARP for the server (entry aged out) answered
    expect(dhcpState()).toBe(DHCP_RENEWING);
    const k = lastDhcp();
    expect(k).toBeGreaterThanOrEqual(0);
    expect(msg.msgType).toBe(3);
    expect(msg.ciaddr).toBe(LEASED);
    expect(msg.flags).toBe(0);
    expect(msg.present & 96).toBe(0); // neither requested IP nor server id (§4.3.2)
    expect(sentDstIp(k)).toBe(SERVER);
    expect(sentSrcIp(k)).toBe(LEASED);
    expect(sentEthBroadcast(k)).toBe(false);
    expect(dhcpLeaseRemaining()).toBe(1800);
    reply(5, 3600, 1800, 3150, SERVER, LEASED); // unicast ACK to us
    expect(dhcpState()).toBe(DHCP_BOUND);
    expect(ctr(C.DHCP_RENEWALS)).toBe(1);
    expect(dhcpLeaseRemaining()).toBe(3600);
    expect(ipAddr).toBe(LEASED);
  });

  it("in RENEWING retransmits after half the time to T2 (at least 60 s), then rebinds at T2 with a broadcast", () => {
    leaseUp(3600, 1800, 3150);
    serverKnowsUs();
    advance(1799000);
    waitForFrame(1000, 1000);
    expect(dhcpState()).toBe(DHCP_RENEWING);
    clearSent();
    // 1350 s to T2: the next try after 675 s
    let w = waitForFrame(700000, 1000);
    expect(w).toBe(675000);
    clearSent();
    w = waitForFrame(700000, 1000);
    expect(w).toBe(338000); // half of the 675 s left (337.5 s), in our 1 s steps
    // ... down to a 60 s minimum, capped at T2
    let total: u32 = 1800000 + 675000 + 338000;
    while (dhcpState() == DHCP_RENEWING) {
      clearSent();
      w = waitForFrame(700000, 1000);
      total += w;
      if (dhcpState() == DHCP_RENEWING) expect(w).toBeGreaterThanOrEqual(60000);
    }
    expect(dhcpState()).toBe(DHCP_REBINDING);
    expect(total).toBe(3150000);
    expect(ctr(C.DHCP_REBINDS)).toBe(1);
    expect(parseLast()).toBe(true);
    expect(msg.msgType).toBe(3);
    expect(msg.ciaddr).toBe(LEASED);
    expect(sentDstIp(sentCount() - 1)).toBe(0xffffffff);
    expect(sentEthBroadcast(sentCount() - 1)).toBe(true);
  });

  it("in REBINDING accepts an ACK from another server and adopts it", () => {
    leaseUp(3600, 1800, 3150);
    advance(3150000);
    expect(dhcpState()).toBe(DHCP_REBINDING);
    reply(5, 3600, 0, 0, SERVER2);
    expect(dhcpState()).toBe(DHCP_BOUND);
    expect(dhcpServer()).toBe(SERVER2);
    expect(dhcpLeaseRemaining()).toBe(3600);
  });

  it("in RENEWING ignores an ACK from another server (counted)", () => {
    leaseUp(3600, 1800, 3150);
    serverKnowsUs();
    advance(1800000);
    reply(5, 3600, 0, 0, SERVER2, LEASED);
    expect(ctr(C.DHCP_WRONG_SERVER)).toBe(1);
    expect(dhcpState()).toBe(DHCP_RENEWING);
  });

  it("drops the address when the lease expires with every server silent, tells the hook, rediscovers", () => {
    leaseUp(600); // T1 300 s, T2 525 s
    setDhcpHook(onEvent);
    events = 0;
    advance(300000);
    expect(dhcpState()).toBe(DHCP_RENEWING);
    advance(225000);
    expect(dhcpState()).toBe(DHCP_REBINDING);
    advance(74000);
    expect(ipAddr).toBe(LEASED);
    expect(dhcpLeaseRemaining()).toBe(1);
    clearSent();
    advance(1000);
    expect(ctr(C.DHCP_EXPIRED)).toBe(1);
    expect(ipAddr).toBe(0);
    expect(dhcpAddress()).toBe(0);
    expect(dhcpLeaseRemaining()).toBe(0);
    expect(dhcpState()).toBe(DHCP_SELECTING);
    expect(lastEvent).toBe(DHCP_EV_LOST);
    expect(lastEventIp).toBe(LEASED);
    expect(parseLast()).toBe(true);
    expect(msg.msgType).toBe(1);
    expect(sentSrcIp(sentCount() - 1)).toBe(0);
    setDhcpHook(null);
  });

  it("drops the address on a NAK while renewing and starts over", () => {
    leaseUp(3600);
    serverKnowsUs();
    advance(1800000);
    expect(dhcpState()).toBe(DHCP_RENEWING);
    clearSent();
    reply(6, 0, 0, 0, SERVER, LEASED);
    expect(ipAddr).toBe(0);
    expect(dhcpState()).toBe(DHCP_SELECTING);
    expect(parseLast()).toBe(true);
    expect(msg.msgType).toBe(1);
  });

  it("uses the default T1 = lease/2 and T2 = 7/8 lease when the server sends none or nonsense", () => {
    leaseUp(1000, 2000, 3000); // T1, T2 beyond the lease: replaced by 500 s and 875 s
    advance(499000);
    expect(dhcpState()).toBe(DHCP_BOUND);
    advance(1000);
    expect(dhcpState()).toBe(DHCP_RENEWING);
    advance(375000);
    expect(dhcpState()).toBe(DHCP_REBINDING);
  });

  it("keeps an infinite lease forever", () => {
    leaseUp(0xffffffff);
    expect(dhcpLeaseRemaining()).toBe(0xffffffff);
    for (let i = 0; i < 30; i++) advance(86400000); // 30 days, across the u32 clock's 24.8-day horizon
    expect(dhcpState()).toBe(DHCP_BOUND);
    expect(ipAddr).toBe(LEASED);
  });

  it("handles a lease longer than the u32 clock's horizon (60 days)", () => {
    leaseUp(60 * 86400);
    for (let i = 0; i < 29; i++) advance(86400000);
    expect(dhcpState()).toBe(DHCP_BOUND);
    advance(86400000);
    expect(dhcpState()).toBe(DHCP_RENEWING);
  });
});

describe("DHCP client: release", () => {
  it("sends DHCPRELEASE unicast to the server, drops the address and stops", () => {
    leaseUp();
    serverKnowsUs();
    expect(dhcpRelease()).toBe(0);
    expect(sentCount()).toBe(1);
    expect(parseSent(0)).toBe(true);
    expect(msg.msgType).toBe(7);
    expect(msg.ciaddr).toBe(LEASED);
    expect(msg.serverId).toBe(SERVER);
    expect(sentDstIp(0)).toBe(SERVER);
    expect(dhcpState()).toBe(DHCP_STOPPED);
    expect(ipAddr).toBe(0);
    expect(ctr(C.DHCP_RELEASES_SENT)).toBe(1);
    expect(dhcpRelease()).toBe(-1);
  });

  it("keeps the address until ARP for the server resolves, so the RELEASE leaves", () => {
    leaseUp();
    expect(dhcpRelease()).toBe(0);
    expect(dhcpState()).not.toBe(DHCP_STOPPED);
    expect(ipAddr).toBe(LEASED);
    feed(arpFrame(2, SERVER, LEASED, false)); // the server's ARP reply flushes the RELEASE
    advance(0);
    expect(dhcpState()).toBe(DHCP_STOPPED);
    expect(ipAddr).toBe(0);
    let found = false;
    for (let k = 0; k < sentCount(); k++) if (parseSent(k) && msg.msgType == 7) found = true;
    expect(found).toBe(true);
  });

  it("stops without a RELEASE when it holds no lease", () => {
    dhcpUp();
    clearSent();
    expect(dhcpRelease()).toBe(0);
    expect(sentCount()).toBe(0);
    expect(dhcpState()).toBe(DHCP_STOPPED);
  });
});

describe("DHCP client: foreign and malformed replies are dropped and counted", () => {
  it("wrong xid, wrong chaddr, BOOTREQUEST, truncated, unexpected type, bad lease", () => {
    dhcpUp();
    const xid = lastXid();
    // wrong xid
    expect(deliver(standard(RX_DHCP, 2, xid ^ 1))).toBe(C.UDP_DELIVERED);
    expect(ctr(C.DHCP_WRONG_XID)).toBe(1);
    // wrong chaddr
    let n = standard(RX_DHCP, 2, xid);
    store<u8>(RX_DHCP + 33, 0x99);
    deliver(n);
    expect(ctr(C.DHCP_WRONG_CHADDR)).toBe(1);
    // op 1 (another client's request echoed to us)
    begin(RX_DHCP, xid, 0, 1);
    opt8(53, 2);
    deliver(finish());
    expect(ctr(C.DHCP_BAD_OP)).toBe(1);
    // truncated: cut inside the options
    n = standard(RX_DHCP, 2, xid);
    deliver(n - 5);
    deliver(100);
    expect(ctr(C.DHCP_MALFORMED)).toBe(2);
    // an ACK while selecting
    deliver(standard(RX_DHCP, 5, xid));
    expect(ctr(C.DHCP_UNEXPECTED)).toBe(1);
    // an OFFER without a server id, an OFFER of 0.0.0.0, of a broadcast address
    deliver(standard(RX_DHCP, 2, xid, LEASED, 0));
    deliver(standard(RX_DHCP, 2, xid, 0));
    deliver(standard(RX_DHCP, 2, xid, 0x0a0000ff));
    deliver(standard(RX_DHCP, 2, xid, 0xe0000001));
    expect(ctr(C.DHCP_BAD_LEASE)).toBe(4);
    expect(dhcpState()).toBe(DHCP_SELECTING);
    expect(ipAddr).toBe(0);
    expect(ctr(C.DHCP_OFFERS)).toBe(0);
  });

  it("in REQUESTING: an ACK or NAK from another server, an ACK for another address, an ACK without a lease", () => {
    dhcpUp();
    reply(2);
    const xid = lastXid();
    deliver(standard(RX_DHCP, 5, xid, LEASED, SERVER2), 0xffffffff, SERVER2);
    deliver(standard(RX_DHCP, 6, xid, 0, SERVER2), 0xffffffff, SERVER2);
    expect(ctr(C.DHCP_WRONG_SERVER)).toBe(2);
    deliver(standard(RX_DHCP, 5, xid, LEASED + 1));
    begin(RX_DHCP, xid, LEASED);
    opt8(53, 5);
    opt32(54, SERVER);
    deliver(finish());
    expect(ctr(C.DHCP_BAD_LEASE)).toBe(2);
    expect(dhcpState()).toBe(DHCP_REQUESTING);
    // a second OFFER is unexpected now
    deliver(standard(RX_DHCP, 2, xid));
    expect(ctr(C.DHCP_UNEXPECTED)).toBe(1);
    reply(5);
    expect(dhcpState()).toBe(DHCP_BOUND);
  });

  it("ignores replies while BOUND, and a router that is not on-link", () => {
    dhcpUp();
    reply(2);
    const xid = lastXid();
    begin(RX_DHCP, xid, LEASED);
    opt8(53, 5);
    opt32(54, SERVER);
    opt32(51, 3600);
    opt32(1, MASK24);
    opt32(3, 0x0b000001); // 11.0.0.1: not on 10.0.0.0/24
    deliver(finish());
    expect(dhcpState()).toBe(DHCP_BOUND);
    expect(gateway).toBe(0);
    deliver(standard(RX_DHCP, 5, xid));
    deliver(standard(RX_DHCP, 6, xid, 0));
    expect(ctr(C.DHCP_UNEXPECTED)).toBe(2);
    expect(dhcpState()).toBe(DHCP_BOUND);
    expect(ipAddr).toBe(LEASED);
  });

  it("survives a flood of random replies with the right xid and chaddr", () => {
    dhcpUp();
    const xid = lastXid();
    let seed: u32 = 0xdecafbad;
    for (let k = 0; k < 500; k++) {
      begin(RX_DHCP, xid, LEASED);
      const n: u32 = 240 + (k % 200);
      for (let i: u32 = 240; i < n; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        store<u8>(RX_DHCP + i, <u8>(seed % 7 == 0 ? 255 : seed % 5 == 0 ? 53 : seed));
      }
      deliver(n);
    }
    expect(dhcpState()).toBeLessThanOrEqual(DHCP_BOUND);
  });
});
