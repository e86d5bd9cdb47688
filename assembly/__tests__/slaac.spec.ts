// Router advertisements and SLAAC (RFC 4861 §6.3.4, RFC 4862 §5.5): a global address from an RA
// prefix after DAD, its lifetimes and the two-hour rule, the default router and RDNSS kept, and
// the RAs that must be ignored (hop limit < 255, a source that is not link-local).
import { put16, put32 } from "../support/bytes";
import { ADDR_DEPRECATED, ADDR_FREE, ADDR_PREFERRED, ADDR_TENTATIVE, addr, hopLimit, linkMtu } from "../iface/ipv6";
import { ndDnsAt, ndRouterAt } from "../iface/nd";
import { ipv6AddressAt } from "../iface/ipv6_api";
import { ping6Send } from "../api/ping";
import { set_link } from "../index";
import { C, bringUp, clearSent, ctr, run, sent, sentCount } from "../testing";
import { ALL_NODES as ALL, OURS, bringUp6, ll, na, ns, ra, snm } from "./ipv6_support";

const out = memory.data(24, 8);
const src = memory.data(16, 8);

describe("router advertisements", () => {
  it("configure a SLAAC address, the default router, the MTU and RDNSS", () => {
    bringUp6();
    expect(ctr(C.ND_RS_SENT)).toBe(1);
    expect(ra(ll(0xfe), 255, 0xc0, 86400, 14400)).toBe(C.ND_RA_RECEIVED);
    expect(ipv6AddressAt(1, out)).toBe(ADDR_TENTATIVE);
    expect(load<u8>(out)).toBe(0xfd);
    expect(load<u8>(out, 3)).toBe(1);
    expect(memory.compare(out + 8, OURS + 8, 8)).toBe(0); // the same interface identifier
    run(2500); // DAD
    expect(ipv6AddressAt(1, out)).toBe(ADDR_PREFERRED);
    expect(load<u32>(out, 16)).toBeLessThanOrEqual(86400);
    expect(load<u32>(out, 16)).toBeGreaterThan(86390);
    expect(ndRouterAt(0, out)).toBeGreaterThan(1790);
    expect(load<u8>(out, 15)).toBe(0xfe);
    expect(ndDnsAt(0, out)).toBeGreaterThan(590);
    expect(load<u8>(out, 15)).toBe(0x53);
    expect(linkMtu).toBe(1400);
    expect(hopLimit).toBe(64);
    run(20_000);
    expect(ctr(C.ND_RS_SENT)).toBe(1); // the RA ended solicitation
    // Off-link traffic goes to the router's MAC (02:00:00:00:00:02, from the RA's option).
    memory.fill(src, 0, 16);
    store<u8>(src, 0x20);
    store<u8>(src, 1, 15);
    clearSent();
    expect(ping6Send(src, 1, 8)).toBe(0);
    expect(sentCount()).toBe(1);
    expect(load<u8>(sent(0), 5)).toBe(2);
    expect(load<u8>(sent(0), 22)).toBe(0xfd); // from the global address
  });

  it("ignores RAs with a hop limit below 255 or from a non-link-local source (§6.1.2)", () => {
    bringUp6();
    expect(ra(ll(0xfe), 64, 0xc0, 86400, 14400)).toBe(C.ND_BAD_HOP_LIMIT);
    memory.fill(src, 0, 16);
    store<u16>(src, 0x00fd);
    store<u8>(src, 1, 15);
    expect(ra(src, 255, 0xc0, 86400, 14400)).toBe(C.ND_BAD_SOURCE);
    expect(addr(1).state).toBe(ADDR_FREE);
    expect(ndRouterAt(0, out)).toBe(0);
    expect(ndDnsAt(0, out)).toBe(0);
    expect(ctr(C.ND_BAD_HOP_LIMIT)).toBe(1);
    expect(ctr(C.ND_BAD_SOURCE)).toBe(1);
  });

  it("keeps the valid lifetime above two hours against a short one (RFC 4862 §5.5.3 e)", () => {
    bringUp6();
    ra(ll(0xfe), 255, 0xc0, 86400, 14400);
    run(2500);
    ra(ll(0xfe), 255, 0xc0, 60, 0);
    expect(ipv6AddressAt(1, out)).toBe(ADDR_DEPRECATED); // preferred 0: deprecated at once
    expect(load<u32>(out, 16)).toBe(7200);
    ra(ll(0xfe), 255, 0xc0, 10_000, 5000);
    expect(ipv6AddressAt(1, out)).toBe(ADDR_PREFERRED);
    expect(load<u32>(out, 16)).toBe(10_000);
    // Without the A flag no address is made; a preferred lifetime above the valid one is invalid.
    bringUp6();
    ra(ll(0xfe), 255, 0x80, 86400, 14400);
    expect(addr(1).state).toBe(ADDR_FREE);
    ra(ll(0xfe), 255, 0xc0, 100, 200);
    expect(addr(1).state).toBe(ADDR_FREE);
  });

  it("checks its addresses again and solicits routers when the link comes back", () => {
    bringUp6();
    ra(ll(0xfe), 255, 0xc0, 86400, 14400);
    run(2500);
    expect(addr(1).state).toBe(ADDR_PREFERRED);
    set_link(0);
    set_link(1);
    expect(addr(0).state).toBe(ADDR_TENTATIVE);
    expect(addr(1).state).toBe(ADDR_TENTATIVE);
    expect(ndRouterAt(0, out)).toBe(0);
    const rs = ctr(C.ND_RS_SENT);
    run(4500);
    expect(addr(0).state).toBe(ADDR_PREFERRED);
    expect(addr(1).state).toBe(ADDR_PREFERRED);
    expect(ctr(C.ND_RS_SENT)).toBe(rs + 1);
  });

  it("makes no SLAAC address when the link-local one (the same identifier) is duplicated (§5.4.5)", () => {
    bringUp(1000, 0x0a000001, 0xffffff00, 0x0a0000fe, true);
    memory.fill(src, 0, 16);
    expect(ns(src, snm(OURS), OURS, 0)).toBe(C.ND_DAD_CONFLICT);
    expect(addr(0).state).toBe(4);
    expect(ra(ll(0xfe), 255, 0xc0, 86400, 14400)).toBe(C.ND_RA_RECEIVED);
    expect(addr(1).state).toBe(ADDR_FREE);
  });

  it("lets an address expire with its valid lifetime", () => {
    bringUp6();
    ra(ll(0xfe), 255, 0xc0, 30, 10);
    run(2500);
    expect(addr(1).state).toBe(ADDR_PREFERRED);
    run(10_000);
    expect(addr(1).state).toBe(ADDR_DEPRECATED);
    run(20_000);
    expect(addr(1).state).toBe(ADDR_FREE);
    expect(ctr(C.ND_ADDRESSES_EXPIRED)).toBe(1);
  });

  it("marks a SLAAC address duplicated on an NA for it during DAD", () => {
    bringUp6();
    ra(ll(0xfe), 255, 0xc0, 86400, 14400);
    expect(ipv6AddressAt(1, out)).toBe(ADDR_TENTATIVE);
    memory.copy(src, out, 16);
    expect(na(3, ALL, src, 0x20000000, 3)).toBe(C.ND_DAD_CONFLICT);
    expect(addr(1).state).toBe(4);
  });
});
