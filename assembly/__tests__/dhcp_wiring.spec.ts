// What a lease means for the layers above (index.ts onDhcp): the resolver gets the lease's DNS
// servers, and when the lease expires the TCP connections that used the address fail.
import { dnsServer } from "../services/dns";
import { tcpConnect, tcpRecv, tcpSocket, tcpState } from "../api/tcp";
import { EHOSTUNREACH } from "../support/errors";
import { CLOSED, SYN_SENT } from "../sockets/tcp/pcb";
import { DNS1, DNS2, advance, leaseUp } from "./dhcp_support";

const buf = heap.alloc(16);

describe("DHCP and the layers above", () => {
  it("hands the lease's DNS servers to the resolver", () => {
    leaseUp();
    expect(dnsServer(0)).toBe(DNS1);
    expect(dnsServer(1)).toBe(DNS2);
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
