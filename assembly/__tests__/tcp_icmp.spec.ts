// Issue 19 item 1: TCP acts on ICMP errors (RFC 1122 §4.2.3.9, RFC 5461, RFC 5927).
import { tcpRecv, tcpSend, tcpState } from "../api/tcp";
import { CLOSED, ESTABLISHED, SYN_SENT } from "../sockets/tcp/pcb";
import { ECONNREFUSED, EHOSTUNREACH, ETIMEDOUT, EWOULDBLOCK } from "../support/errors";
import { get32, put16, put32 } from "../support/bytes";
import { sumAdd, sumFold } from "../wire/checksum";
import { ACK, ANY, C, OUR_IP, PEER_IP, PSH, SYN, advance, connectOne, connectedPeer, ctr, feed, ipHeader, run, sent, sentCount } from "../testing";

const PISN: u32 = 1000000;
const buf = heap.alloc(64);
/** A copy of the stack's last segment: IP header and TCP header, as an ICMP error quotes it. */
const last = heap.alloc(64);

function connecting(): i32 {
  const fd = connectOne(PISN);
  memory.copy(last, sent(sentCount() - 1) + 14, 40);
  return fd;
}

/** The router (or the peer) answers the stack's last segment with ICMP type/code, quoting qlen
 *  bytes of it, its sequence number moved by seqDelta. */
function icmpError(type: u32, code: u32, qlen: u32 = 28, seqDelta: u32 = 0): C {
  const q = ipHeader(1, PEER_IP, OUR_IP, 8 + qlen);
  store<u8>(q, <u8>type);
  store<u8>(q + 1, <u8>code);
  store<u32>(q + 4, 0);
  memory.copy(q + 8, last, qlen);
  if (qlen >= 28) put32(q + 8 + 24, get32(last + 24) + seqDelta);
  store<u16>(q + 2, 0);
  put16(q + 2, ~sumFold(sumAdd(0, q, 8 + qlen)) & 0xffff);
  return feed(14 + 20 + 8 + qlen);
}

describe("RFC 1122 §4.2.3.9 / RFC 5461: hard ICMP errors while connecting", () => {
  it("port unreachable for the SYN: connect fails with ECONNREFUSED, no more SYNs", () => {
    const fd = connecting();
    expect(icmpError(3, 3)).toBe(C.ICMP_ERROR_RECEIVED);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 1)).toBe(ECONNREFUSED);
    expect(ctr(C.TCP_ICMP_ABORTS)).toBe(1);
    advance(3000);
    expect(connectedPeer.expectNone()).toBe("");
  });

  it("protocol unreachable for the SYN: ECONNREFUSED as well", () => {
    const fd = connecting();
    expect(icmpError(3, 2)).toBe(C.ICMP_ERROR_RECEIVED);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 1)).toBe(ECONNREFUSED);
  });

  it("fragmentation needed (code 4) does not abort: we send without DF (RFC 1191)", () => {
    const fd = connecting();
    expect(icmpError(3, 4)).toBe(C.ICMP_ERROR_RECEIVED);
    expect(tcpState(fd)).toBe(SYN_SENT);
  });

  it("a quoted sequence number outside SND.UNA..SND.MAX is dropped (RFC 5927)", () => {
    const fd = connecting();
    expect(icmpError(3, 3, 28, 1)).toBe(C.TCP_ICMP_OUT_OF_WINDOW);
    expect(icmpError(3, 3, 28, 0xffffffff)).toBe(C.TCP_ICMP_OUT_OF_WINDOW);
    expect(tcpState(fd)).toBe(SYN_SENT);
    expect(tcpRecv(fd, buf, 1)).toBe(EWOULDBLOCK);
  });

  it("another 4-tuple is dropped as unmatched; a short quote never traps", () => {
    const fd = connecting();
    store<u16>(last + 22, 81 << 8); // the quoted destination port: 81, not 80
    expect(icmpError(3, 3)).toBe(C.TCP_ICMP_UNMATCHED);
    store<u8>(last, 0x4f); // a quoted IP header of 60 bytes, only 28 quoted
    expect(icmpError(3, 3)).toBe(C.TCP_ICMP_UNMATCHED);
    expect(icmpError(3, 3, 20)).toBe(C.ICMP_ERROR_RECEIVED); // under 28: not passed on
    expect(tcpState(fd)).toBe(SYN_SENT);
  });

  it("in a synchronized state port unreachable does not abort (RFC 5461)", () => {
    const fd = connecting();
    expect(connectedPeer.send(SYN | ACK, "", 1460)).toBe(C.TCP_DELIVERED);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(connectedPeer.expect(ACK, 1, ANY, 0)).toBe("");
    expect(tcpSend(fd, buf, 5)).toBe(5);
    expect(connectedPeer.expect(ACK | PSH, 1, ANY, 5)).toBe("");
    memory.copy(last, sent(sentCount() - 1) + 14, 40);
    expect(icmpError(3, 3)).toBe(C.ICMP_ERROR_RECEIVED);
    expect(tcpState(fd)).toBe(ESTABLISHED);
  });
});

/** Established, with 5 bytes sent and not yet acknowledged (quoted in `last`). */
function established(): i32 {
  const fd = connecting();
  expect(connectedPeer.send(SYN | ACK, "", 1460)).toBe(C.TCP_DELIVERED);
  expect(connectedPeer.expect(ACK, 1, ANY, 0)).toBe("");
  expect(tcpSend(fd, buf, 5)).toBe(5);
  expect(connectedPeer.expect(ACK | PSH, 1, ANY, 5)).toBe("");
  memory.copy(last, sent(sentCount() - 1) + 14, 40);
  return fd;
}

describe("RFC 1122 §4.2.3.9: soft ICMP errors are reported on timeout", () => {
  it("host unreachable for the SYN: the SYN retries go on, then connect fails with EHOSTUNREACH", () => {
    const fd = connecting();
    expect(icmpError(3, 1)).toBe(C.ICMP_ERROR_RECEIVED);
    expect(tcpState(fd)).toBe(SYN_SENT);
    run(200000);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 1)).toBe(EHOSTUNREACH);
  });

  it("time exceeded for data in flight, nothing since: the timeout reports EHOSTUNREACH", () => {
    const fd = established();
    expect(icmpError(11, 0)).toBe(C.ICMP_ERROR_RECEIVED);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    run(2000000);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 1)).toBe(EHOSTUNREACH);
  });

  it("port unreachable when synchronized is remembered as ECONNREFUSED for the timeout", () => {
    const fd = established();
    expect(icmpError(3, 3)).toBe(C.ICMP_ERROR_RECEIVED);
    run(2000000);
    expect(tcpRecv(fd, buf, 1)).toBe(ECONNREFUSED);
  });

  it("progress (the data acknowledged) clears it: a later timeout is ETIMEDOUT", () => {
    const fd = established();
    expect(icmpError(3, 1)).toBe(C.ICMP_ERROR_RECEIVED);
    expect(connectedPeer.ack()).toBe(C.TCP_DELIVERED);
    expect(tcpSend(fd, buf, 5)).toBe(5);
    run(2000000);
    expect(tcpState(fd)).toBe(CLOSED);
    expect(tcpRecv(fd, buf, 1)).toBe(ETIMEDOUT);
  });

  it("source quench is ignored (RFC 6633): ETIMEDOUT", () => {
    const fd = established();
    expect(icmpError(4, 0)).toBe(C.ICMP_ERROR_RECEIVED);
    run(2000000);
    expect(tcpRecv(fd, buf, 1)).toBe(ETIMEDOUT);
  });
});
