// Negative advice (RFC 1122 §4.2.3.5, §2.3.2.1 (4)): after TCP_ADVICE_RETRIES retransmissions of
// one segment, the next hop's ARP entry is dropped and resolved again, so a MAC learnt wrong
// (a damaged ARP reply passes no checksum) stops blackholing the connection.
import { tcpSend, tcpState } from "../api/tcp";
import { arpState, PENDING, RESOLVED } from "../iface/arp";
import { ESTABLISHED } from "../sockets/tcp/pcb";
import { TCP_ADVICE_RETRIES, TCP_RTO_MAX_MS } from "../config";
import { get16 } from "../support/bytes";
import { C, acceptOne, acceptedIss, advance, clearSent, seg, sentCount } from "../testing";
import { OUR_IP, PEER_IP, arpFrame, ctr, feed, sent } from "../testing";
import { ACK } from "../wire/tcp";

const buf = heap.alloc(1024);
const PISN: u32 = 3000000;

function arpRequestsSent(): i32 {
  let n = 0;
  for (let k = 0; k < sentCount(); k++) if (get16(sent(k) + 12) == 0x0806) n++;
  return n;
}

describe("negative advice", () => {
  it("re-resolves the peer's MAC after TCP_ADVICE_RETRIES retransmissions, and keeps the connection", () => {
    const fd = acceptOne(PISN);
    expect(arpState(PEER_IP)).toBe(RESOLVED);
    expect(tcpSend(fd, buf, 100)).toBe(100);
    clearSent();
    for (let k: u32 = 0; k < TCP_ADVICE_RETRIES - 1; k++) advance(TCP_RTO_MAX_MS);
    expect(arpState(PEER_IP)).toBe(RESOLVED, "not before the threshold");
    expect(arpRequestsSent()).toBe(0);
    advance(TCP_RTO_MAX_MS);
    expect(ctr(C.ARP_INVALIDATED)).toBe(1);
    // The retransmission that crossed the threshold went out after the advice: it waits for ARP.
    expect(arpState(PEER_IP)).toBe(PENDING);
    expect(arpRequestsSent()).toBe(1);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    // Still no answer: each further timeout asks again, as a reply learnt wrong may have come back.
    feed(arpFrame(2, PEER_IP, OUR_IP, false));
    expect(arpState(PEER_IP)).toBe(RESOLVED);
    advance(TCP_RTO_MAX_MS);
    expect(ctr(C.ARP_INVALIDATED)).toBe(2);
    // The peer answers at last: the connection goes on, and the advice stops.
    feed(arpFrame(2, PEER_IP, OUR_IP, false));
    seg(ACK, PISN + 1, acceptedIss + 101);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    advance(TCP_RTO_MAX_MS);
    expect(ctr(C.ARP_INVALIDATED)).toBe(2);
  });
});
