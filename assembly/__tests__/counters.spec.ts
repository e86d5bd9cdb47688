import { NAMES, NAMES_IPV6, NAMES_MDNS } from "../support/counter_list";
import { C, COUNTERS, countersInit, counterKind, counterNamePtr, KIND_EVENT, KIND_RX_DELIVERED, KIND_RX_DROP } from "../support/counters";

function name(c: C): string {
  const p = counterNamePtr(<u32>c);
  let n = 0;
  while (load<u8>(p + n)) n++;
  return String.UTF8.decodeUnsafe(p, n);
}

describe("counters", () => {
  it("has one name per counter, in enum order", () => {
    expect(countersInit()).toBe(COUNTERS);
    expect(name(C.RX_FRAMES)).toBe("rx_frames");
    expect(name(C.ICMP_ECHO_REQUESTS_SENT)).toBe("icmp_echo_requests_sent");
    expect(name(C.ARP_REQUEST_ANSWERED)).toBe("arp_request_answered");
    expect(name(C.ETH_TOO_SHORT)).toBe("eth_too_short");
    expect(name(C.IP_BAD_CHECKSUM)).toBe("ip_bad_checksum");
    expect(name(C.ICMP_UNKNOWN_TYPE)).toBe("icmp_unknown_type");
    expect(name(C.TCP_DELIVERED)).toBe("tcp_delivered");
    expect(name(C.TCP_ACK_CHALLENGED)).toBe("tcp_ack_challenged");
    expect(name(C.UDP_QUEUE_FULL)).toBe("udp_queue_full");
  });
  it("gives every counter a distinct, non-empty name", () => {
    countersInit();
    const seen = new Set<string>();
    for (let i = 0; i < COUNTERS; i++) {
      const n = name(<C>i);
      expect(n.length).toBeGreaterThan(0, "counter " + i.toString());
      expect(seen.has(n)).toBe(false, n);
      seen.add(n);
    }
  });

  it("serves exactly the NAMES list, kinds included (counter_names.ts is not stale)", () => {
    // The specs are built with WASMIP_MDNS=1 and WASMIP_IPV6=1 (as-pect.asconfig.json): their
    // sections follow, in that order.
    expect(countersInit()).toBe(COUNTERS);
    expect(COUNTERS).toBe(<i32>C.IPV6_END);
    const lines = (NAMES + NAMES_MDNS + NAMES_IPV6).split("\n").filter((l) => l.length > 0);
    expect(lines.length).toBe(COUNTERS);
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i];
      expect(name(<C>i)).toBe(l.slice(1), "counter " + i.toString());
      const k = l.charAt(0) == "+" ? KIND_RX_DELIVERED : l.charAt(0) == "-" ? KIND_RX_DROP : KIND_EVENT;
      expect(counterKind(<u32>i)).toBe(k, l);
    }
    expect(name(<C>COUNTERS)).toBe(""); // out of range: an empty name
  });

  it("knows delivered, dropped and event counters apart", () => {
    expect(counterKind(<u32>C.TX_FRAMES)).toBe(KIND_EVENT);
    expect(counterKind(<u32>C.ICMP_ECHO_ANSWERED)).toBe(KIND_RX_DELIVERED);
    expect(counterKind(<u32>C.IP_FRAGMENT_DROPPED)).toBe(KIND_RX_DROP);
    expect(counterKind(<u32>C.TCP_TIME_WAIT)).toBe(KIND_RX_DELIVERED);
    expect(counterKind(<u32>C.TCP_BACKLOG_FULL)).toBe(KIND_RX_DROP);
    expect(counterKind(<u32>C.TCP_RETRANSMITS)).toBe(KIND_EVENT);
  });
});
