// What a lease means for the layers above (index.ts onDhcp): the resolver gets the lease's DNS
// servers, the SNTP client its NTP servers (option 42), and when the lease expires the TCP connections that used the address fail.
import { dnsServer } from "../services/dns";
import { tcpConnect, tcpRecv, tcpSocket, tcpState } from "../api/tcp";
import { EHOSTUNREACH } from "../support/errors";
import { CLOSED, SYN_SENT } from "../sockets/tcp/pcb";
import { sntpServer } from "../services/sntp";
import { dhcpNtp, dhcpXid } from "../services/dhcp";
import {
  DNS1, DNS2, LEASED, MASK24, RX_DHCP, SERVER, advance, begin, deliver, dhcpUp, finish, leaseUp, opt32, opt8, optIps, reply,
} from "./dhcp_support";

const buf = heap.alloc(16);

describe("DHCP and the layers above", () => {
  it("hands the lease's DNS servers to the resolver", () => {
    leaseUp();
    expect(dnsServer(0)).toBe(DNS1);
    expect(dnsServer(1)).toBe(DNS2);
  });

  it("hands the lease's NTP servers to the SNTP client, and takes them back when it is lost", () => {
    dhcpUp();
    reply(2);
    begin(RX_DHCP, dhcpXid(), LEASED);
    opt8(53, 5);
    opt32(54, SERVER);
    opt32(51, 20);
    opt32(1, MASK24);
    optIps(42, 0x0a00007b, 0x0a00007c);
    deliver(finish());
    expect(dhcpNtp(0)).toBe(0x0a00007b);
    expect(sntpServer(0)).toBe(0x0a00007b);
    expect(sntpServer(1)).toBe(0x0a00007c);
    for (let k = 0; k < 25; k++) advance(1000); // the lease expires
    expect(sntpServer(0)).toBe(0);
  });

  it("fails connections with EHOSTUNREACH when the lease expires", () => {
    leaseUp(20); // expires before the SYN retries (63 s) run out
    const fd = tcpSocket();
    expect(tcpConnect(fd, 0x0a000063, 80)).toBe(0);
    expect(tcpState(fd)).toBe(SYN_SENT);
    for (let k = 0; k < 25; k++) advance(1000); // past the lease: no server answers
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 16)).toBe(EHOSTUNREACH);
  });
});
