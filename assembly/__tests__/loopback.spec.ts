// The loopback interface: a server and a client in one module over 127.0.0.1 and over the
// board's own address, through the socket API; nothing reaches the PHY; every frame accounted for.
import {
  OPT_NODELAY, tcpAccept, tcpBind, tcpClose, tcpConnect, tcpListen, tcpLocalPort, tcpRecv, tcpSend, tcpSetopt, tcpSocket, tcpState,
} from "../api/tcp";
import { udpBind, udpFromIp, udpFromPort, udpRecvfrom, udpSendto, udpSocket } from "../api/udp";
import { pingRtt, pingSend } from "../api/ping";
import { ECONNREFUSED, ENOBUFS, EWOULDBLOCK } from "../support/errors";
import { COUNTERS, KIND_EVENT, counterKind } from "../support/counters";
import { CLOSED, ESTABLISHED, LISTEN, TIME_WAIT } from "../sockets/tcp/pcb";
import { ARP_PENDING_BYTES, TCP_SND_BUF } from "../config";
import {
  C, Counters, LOCALHOST, OUR_IP, PEER_IP, bringUp, connection, ctr, echoRequest, feed, ipHeader, netstat, sentCount, settle,
} from "../testing";

const buf = heap.alloc(65536);
const data = heap.alloc(65536);

function text(p: usize, n: i32): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(load<u8>(p + i));
  return s;
}
function put(p: usize, s: string): u32 {
  for (let i = 0; i < s.length; i++) store<u8>(p + i, <u8>s.charCodeAt(i));
  return <u32>s.length;
}

/** Received frames, delivered or dropped: the counters of those kinds grew by exactly rx_frames. */
function accounted(before: Counters): bool {
  let sum: u32 = 0;
  for (let i = 0; i < COUNTERS; i++) if (counterKind(<u32>i) != KIND_EVENT) sum += before.delta(<C>i);
  return sum == before.delta(C.RX_FRAMES);
}

/** A listener on port, a client connected to it at ip, the server's end accepted: [client, server]. */
function pair(ip: u32, port: u32): StaticArray<i32> {
  const l = tcpSocket();
  expect(tcpBind(l, port)).toBe(0);
  expect(tcpListen(l, 4)).toBe(0);
  const c = tcpSocket();
  expect(tcpConnect(c, ip, port)).toBe(0);
  settle();
  expect(tcpState(c)).toBe(ESTABLISHED);
  const s = tcpAccept(l);
  expect(s).toBeGreaterThanOrEqual(0);
  tcpClose(l);
  const r = new StaticArray<i32>(2);
  r[0] = c;
  r[1] = s;
  return r;
}

function exchange(ip: u32, port: u32): void {
  bringUp();
  const before = new Counters();
  const fds = pair(ip, port);
  const c = fds[0];
  const s = fds[1];
  const cport = tcpLocalPort(c);
  // The table shows both ends, with the loopback address as the local one.
  const server = connection(port, cport);
  const client = connection(cport, port);
  expect(server).not.toBeNull(netstat());
  expect(client).not.toBeNull(netstat());
  expect(server!.state).toBe(ESTABLISHED);
  expect(server!.localIp).toBe(ip);
  expect(server!.remoteIp).toBe(ip);
  expect(client!.state).toBe(ESTABLISHED);
  expect(client!.localIp).toBe(ip);
  expect(client!.remoteIp).toBe(ip);
  // Data both ways.
  expect(tcpSend(c, data, put(data, "hello, server"))).toBe(13);
  expect(tcpRecv(s, buf, 100)).toBe(EWOULDBLOCK); // delivered by poll(), not inside send
  settle();
  expect(text(buf, tcpRecv(s, buf, 100))).toBe("hello, server");
  expect(tcpSend(s, data, put(data, "hello, client"))).toBe(13);
  settle();
  expect(text(buf, tcpRecv(c, buf, 100))).toBe("hello, client");
  // The client closes first: it ends in TIME-WAIT, the server's end goes away.
  expect(tcpClose(c)).toBe(0);
  settle();
  expect(tcpRecv(s, buf, 100)).toBe(0); // end of stream
  expect(tcpClose(s)).toBe(0);
  settle();
  const tw = connection(cport, port);
  expect(tw).not.toBeNull(netstat());
  expect(tw!.state).toBe(TIME_WAIT);
  expect(tw!.localIp).toBe(ip);
  expect(connection(port, cport)).toBeNull(netstat());
  // Nothing went to the PHY; every datagram sent over the loopback was received and accounted for.
  expect(sentCount()).toBe(0);
  expect(before.delta(C.TX_FRAMES)).toBe(0);
  expect(before.delta(C.LOOPBACK_SENT)).toBeGreaterThan(8);
  expect(before.delta(C.LOOPBACK_RECEIVED)).toBe(before.delta(C.LOOPBACK_SENT));
  expect(before.delta(C.RX_FRAMES)).toBe(before.delta(C.LOOPBACK_RECEIVED));
  expect(accounted(before)).toBe(true, before.changes());
  expect(before.delta(C.TCP_DELIVERED)).toBe(before.delta(C.LOOPBACK_RECEIVED), before.changes());
}

describe("loopback: TCP", () => {
  it("connects a client to a server over 127.0.0.1, both ends in the table, nothing on the PHY", () => {
    exchange(LOCALHOST, 8080);
  });

  it("does the same over the board's own address", () => {
    exchange(OUR_IP, 8081);
  });

  it("works on any 127/8 address and before the board has an address", () => {
    bringUp(1000, 0, 0, 0);
    const fds = pair(0x7f000005, 9000); // 127.0.0.5
    expect(tcpSend(fds[0], data, put(data, "x"))).toBe(1);
    settle();
    expect(tcpRecv(fds[1], buf, 10)).toBe(1);
    expect(connection(9000, tcpLocalPort(fds[0]))!.localIp).toBe(0x7f000005);
    expect(sentCount()).toBe(0);
  });

  it("resends a refused segment as soon as a delivery makes room, without waiting for a timer", () => {
    bringUp();
    const fds = pair(LOCALHOST, 5000);
    tcpSetopt(fds[0], OPT_NODELAY, 1);
    const before = new Counters();
    // A full send buffer at once: the pool takes one full segment, refuses the next; after the
    // first is delivered (its ACK delayed: the first segment of a pair) only the retry sends on.
    for (let i: u32 = 0; i < TCP_SND_BUF; i++) store<u8>(data + i, <u8>i);
    expect(tcpSend(fds[0], data, TCP_SND_BUF)).toBe(<i32>TCP_SND_BUF);
    expect(before.delta(C.LOOPBACK_NO_BUFFERS)).toBeGreaterThan(0);
    settle(); // no time passes: no delayed ACK, no retransmission timer
    expect(tcpRecv(fds[1], buf, 65536)).toBe(<i32>TCP_SND_BUF, before.changes());
    expect(before.delta(C.TCP_RETRANSMITS)).toBe(0);
  });

  it("completes a transfer much larger than the pool: TCP resends what the pool refused", () => {
    bringUp();
    const before = new Counters();
    const fds = pair(LOCALHOST, 5001);
    const c = fds[0];
    const s = fds[1];
    const total: u32 = 256 * 1024;
    expect(total).toBeGreaterThan(ARP_PENDING_BYTES * 16);
    let sentB: u32 = 0;
    let got: u32 = 0;
    let bad: u32 = 0;
    let rounds = 0;
    while (got < total && rounds < 100000) {
      rounds++;
      if (sentB < total) {
        const n = min<u32>(total - sentB, TCP_SND_BUF);
        for (let i: u32 = 0; i < n; i++) store<u8>(data + i, <u8>((sentB + i) % 251));
        const r = tcpSend(c, data, n);
        if (r > 0) sentB += <u32>r;
      }
      settle();
      let r = tcpRecv(s, buf, 65536);
      while (r > 0) {
        for (let i = 0; i < r; i++) if (load<u8>(buf + i) != <u8>((got + <u32>i) % 251)) bad++;
        got += <u32>r;
        r = tcpRecv(s, buf, 65536);
      }
    }
    expect(got).toBe(total);
    expect(bad).toBe(0);
    // The pool (ARP_PENDING_BYTES) holds about one full segment: it refused many, and each was
    // sent again; none was lost, nothing timed out.
    expect(before.delta(C.LOOPBACK_NO_BUFFERS)).toBeGreaterThan(0);
    expect(before.delta(C.TCP_TIMEOUTS)).toBe(0, before.changes());
    expect(before.delta(C.LOOPBACK_RECEIVED)).toBe(before.delta(C.LOOPBACK_SENT));
    expect(accounted(before)).toBe(true, before.changes());
    expect(sentCount()).toBe(0);
    expect(tcpClose(c)).toBe(0);
    expect(tcpClose(s)).toBe(0);
    settle();
    expect(tcpState(s)).toBe(CLOSED);
  });
});

describe("loopback: UDP and ICMP", () => {
  it("delivers a datagram with its loopback source, and refuses one the pool cannot hold (ENOBUFS)", () => {
    bringUp();
    const a = udpSocket();
    const b = udpSocket();
    expect(udpBind(a, 7000)).toBe(0);
    expect(udpBind(b, 7001)).toBe(0);
    expect(udpSendto(b, data, put(data, "reading 42"), LOCALHOST, 7000)).toBe(10);
    settle();
    expect(text(buf, udpRecvfrom(a, buf, 100))).toBe("reading 42");
    expect(udpFromIp(a)).toBe(LOCALHOST);
    expect(udpFromPort(a)).toBe(7001);
    // Two large datagrams before a poll: the second does not fit beside the first.
    const big: u32 = ARP_PENDING_BYTES / 2 + 100;
    const before = ctr(C.LOOPBACK_NO_BUFFERS);
    expect(udpSendto(b, data, big, LOCALHOST, 7000)).toBe(<i32>big);
    expect(udpSendto(b, data, big, LOCALHOST, 7000)).toBe(ENOBUFS);
    expect(ctr(C.LOOPBACK_NO_BUFFERS)).toBe(before + 1);
    settle();
    expect(udpRecvfrom(a, buf, 2048)).toBe(<i32>big);
    expect(udpRecvfrom(a, buf, 2048)).toBe(EWOULDBLOCK);
    expect(sentCount()).toBe(0);
  });

  it("answers a closed port with ICMP port unreachable, reported to the sender", () => {
    bringUp();
    const b = udpSocket();
    expect(udpBind(b, 7001)).toBe(0);
    expect(udpSendto(b, data, 4, OUR_IP, 7999)).toBe(4);
    settle();
    expect(ctr(C.ICMP_PORT_UNREACHABLE_SENT)).toBe(1);
    expect(udpRecvfrom(b, buf, 100)).toBe(ECONNREFUSED);
    expect(sentCount()).toBe(0);
  });

  it("pings 127.0.0.1 and its own address", () => {
    bringUp();
    expect(pingSend(LOCALHOST, 1, 56)).toBe(0);
    expect(pingSend(OUR_IP, 2, 1400)).toBe(0);
    expect(pingRtt(1)).toBe(-1);
    settle();
    expect(pingRtt(1)).toBe(0);
    expect(pingRtt(2)).toBe(0);
    expect(ctr(C.ICMP_ECHO_ANSWERED)).toBe(2);
    expect(sentCount()).toBe(0);
  });

  it("never puts 127/8 on the wire, even with a netmask that covers it", () => {
    expect(bringUp(1000, OUR_IP, 0, 0)).toBe(0); // 10.0.0.1/0: everything is on-link
    const b = udpSocket();
    const a = udpSocket();
    udpBind(a, 7000);
    expect(udpSendto(b, data, 3, 0x7f000009, 7000)).toBe(3);
    settle();
    expect(udpRecvfrom(a, buf, 10)).toBe(3);
    expect(udpFromIp(a)).toBe(0x7f000009);
    expect(sentCount()).toBe(0);
  });

  it("still drops 127/8 arriving from the wire (RFC 1122 §3.2.1.3), and its own address as a source", () => {
    bringUp();
    ipHeader(17, LOCALHOST, OUR_IP, 8);
    expect(feed(14 + 28)).toBe(C.IP_BAD_SOURCE);
    ipHeader(17, PEER_IP, LOCALHOST, 8);
    expect(feed(14 + 28)).toBe(C.IP_NOT_FOR_US);
    // A spoofed echo request "from" the board itself would make it answer itself over the loopback.
    expect(feed(echoRequest(1, 1, 8, OUR_IP, 0, OUR_IP))).toBe(C.IP_BAD_SOURCE);
    settle();
    expect(ctr(C.LOOPBACK_SENT)).toBe(0);
  });
});

describe("loopback: the listener side", () => {
  it("refuses a connection to a closed port with a RST (ECONNREFUSED)", () => {
    bringUp();
    const c = tcpSocket();
    expect(tcpConnect(c, LOCALHOST, 4444)).toBe(0);
    settle();
    expect(tcpState(c)).toBe(CLOSED);
    expect(tcpRecv(c, buf, 1)).toBe(ECONNREFUSED);
    expect(ctr(C.TCP_NO_SOCKET)).toBe(1);
  });

  it("keeps a listener listening after serving loopback clients", () => {
    bringUp();
    const l = tcpSocket();
    tcpBind(l, 80);
    tcpListen(l, 2);
    for (let k = 0; k < 3; k++) {
      const c = tcpSocket();
      expect(tcpConnect(c, LOCALHOST, 80)).toBe(0);
      settle();
      const s = tcpAccept(l);
      expect(s).toBeGreaterThanOrEqual(0);
      tcpClose(s);
      tcpClose(c);
      settle();
    }
    expect(tcpState(l)).toBe(LISTEN);
  });
});
