// The testing kit itself (assembly/testing): scripted peers see what the stack really sends, and
// every expectation reports a difference when the stack's frame is not the one scripted.
import { tcpAccept, tcpConnect, tcpRecv, tcpSend, tcpSocket, tcpState } from "../api/tcp";
import { udpBind, udpSendto, udpSocket } from "../api/udp";
import { ESTABLISHED, LISTEN, SYN_SENT } from "../sockets/tcp/pcb";
import { ECONNREFUSED } from "../support/errors";
import { TCP_DELACK_MS, TCP_RTO_INITIAL_MS } from "../config";
import {
  ACK, ANY, C, CAPTURE_FRAMES, Counters, FIN, OUR_IP, PEER_IP, PSH, Peer, RST, SYN, advance, bringUp, clearSent,
  connection, connectionsIn, listenOn, netstat, run, sentCount, sentOverflow,
} from "../testing";

const buf = heap.alloc(2048);

function text(n: i32): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(load<u8>(buf + i));
  return s;
}

describe("testing kit: a scripted TCP peer", () => {
  it("opens, exchanges data and reads the stack's segments with relative numbers", () => {
    bringUp();
    const peer = new Peer();
    expect(peer.introduce()).toBe(C.ARP_REQUEST_ANSWERED);
    const l = listenOn(8080);
    const c = peer.tcp(40000, 8080, 0xfffffff0); // its sequence numbers wrap: relative ones do not care
    expect(c.open()).toBe("");
    const fd = tcpAccept(l);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(c.send(ACK | PSH, "hello")).toBe(C.TCP_DELIVERED);
    expect(tcpRecv(fd, buf, 100)).toBe(5);
    expect(text(5)).toBe("hello");
    expect(c.expectNone()).toBe(""); // the ACK is delayed
    advance(TCP_DELACK_MS);
    expect(c.expect(ACK, 1, 6, 0)).toBe("");
    expect(tcpSend(fd, buf, 5)).toBe(5);
    expect(c.expectText(ACK | PSH, 1, 6, "hello")).toBe("");
    expect(c.rcv).toBe(6);
    // The table and its text form.
    const row = connection(8080, 40000);
    expect(row).not.toBeNull();
    expect(row!.state).toBe(ESTABLISHED);
    expect(row!.toString()).toBe("ESTABLISHED 10.0.0.1:8080 10.0.0.2:40000 5 0");
    expect(netstat()).toBe("LISTEN 0.0.0.0:8080 0.0.0.0:0 0 0\nESTABLISHED 10.0.0.1:8080 10.0.0.2:40000 5 0\n");
    // The peer closes; the stack's application closes too.
    c.ack();
    expect(c.send(FIN | ACK)).toBe(C.TCP_DELIVERED);
    expect(c.expect(ACK, 6, 7, 0)).toBe("");
  });

  it("answers the stack's active open and learns its port and ISS", () => {
    bringUp();
    const peer = new Peer();
    peer.introduce();
    const fd = tcpSocket();
    expect(tcpConnect(fd, PEER_IP, 80)).toBe(0);
    expect(tcpState(fd)).toBe(SYN_SENT);
    const c = peer.tcp(80, 0, 5000);
    expect(c.accept()).toBe("");
    expect(c.ourPort).toBeGreaterThanOrEqual(49152);
    expect(c.iss).toBe(c.got.seq - 1);
    expect(tcpState(fd)).toBe(ESTABLISHED);
    expect(c.recvText()).toBe("");
    for (let i = 0; i < 3; i++) store<u8>(buf + i, <u8>(0x41 + i));
    tcpSend(fd, buf, 3);
    expect(c.expectText(PSH | ACK, 1, 1, "ABC")).toBe("");
  });

  it("collects a response spread over several segments", () => {
    bringUp();
    const peer = new Peer();
    peer.introduce();
    const l = listenOn(80);
    const c = peer.tcp(40001, 80);
    expect(c.open(100)).toBe(""); // MSS 100: the stack cuts its data into 100-byte segments
    const fd = tcpAccept(l);
    let s = "";
    for (let i = 0; i < 250; i++) {
      store<u8>(buf + i, <u8>(65 + i % 26));
      s += String.fromCharCode(65 + i % 26);
    }
    tcpSend(fd, buf, 250);
    expect(c.recvText()).toBe(s.slice(0, 200)); // two full segments; Nagle holds the small rest
    expect(c.rcv).toBe(201);
    c.ack();
    expect(c.recvText()).toBe(s.slice(200, 250));
    expect(c.rcv).toBe(251);
    c.ack();
    tcpSend(fd, buf, 26);
    expect(c.recvText()).toBe(s.slice(0, 26));
    expect(c.recvText()).toBe("");
    expect(c.rcv).toBe(277);
  });

  it("drives timers on the virtual clock: SYN retransmissions with backoff", () => {
    bringUp();
    const peer = new Peer();
    peer.introduce();
    const fd = tcpSocket();
    tcpConnect(fd, PEER_IP, 81);
    const c = peer.tcp(81, 0);
    expect(c.expect(SYN, 0, ANY, 0)).toBe("");
    run(TCP_RTO_INITIAL_MS - 1);
    expect(c.expectNone()).toBe("");
    run(1);
    expect(c.expect(SYN, 0, ANY, 0)).toBe(""); // the same SYN again
    run(2 * TCP_RTO_INITIAL_MS);
    expect(c.expect(SYN, 0, ANY, 0)).toBe("");
    expect(c.send(RST | ACK)).toBe(C.TCP_DELIVERED); // the peer refuses: ECONNREFUSED
    expect(tcpRecv(fd, buf, 1)).toBe(ECONNREFUSED);
  });
});

describe("testing kit: the expectations can fail", () => {
  it("describes a segment with other flags, numbers or length than scripted", () => {
    bringUp();
    const peer = new Peer();
    peer.introduce();
    listenOn(8080);
    const c = peer.tcp(40000, 8080, 1000);
    c.send(SYN, "", 1460);
    expect(c.expect(SYN, 0, 1, 0)).toBe("expected SYN seq=0 ack=1 len=0, got SYN|ACK seq=0 ack=1 len=0");
    clearSent();
    c.resend(SYN, 0);
    expect(c.expect(SYN | ACK, 0, 2, 0)).toBe("expected SYN|ACK seq=0 ack=2 len=0, got SYN|ACK seq=0 ack=1 len=0");
    clearSent();
    c.resend(SYN, 0);
    expect(c.expect(SYN | ACK, 1, 1)).toBe("expected SYN|ACK seq=1 ack=1 len=*, got SYN|ACK seq=0 ack=1 len=0");
    clearSent();
    c.resend(SYN, 0);
    expect(c.expect(SYN | ACK, 0, 1, 4)).toBe("expected SYN|ACK seq=0 ack=1 len=4, got SYN|ACK seq=0 ack=1 len=0");
    expect(c.expect(ACK)).toBe("expected ACK seq=* ack=* len=*, got nothing");
    c.send(ACK);
    expect(c.expectNone()).toBe("");
  });

  it("describes a payload that differs, and a segment where none was scripted", () => {
    bringUp();
    const peer = new Peer();
    peer.introduce();
    const l = listenOn(8080);
    const c = peer.tcp(40000, 8080);
    expect(c.open()).toBe("");
    const fd = tcpAccept(l);
    store<u8>(buf, 0x68);
    store<u8>(buf + 1, 0x69);
    store<u8>(buf + 2, 0x0a);
    tcpSend(fd, buf, 3);
    expect(c.expectText(ACK | PSH, 1, 1, "ho\n")).toBe("expected payload \"ho\\n\", got \"hi\\n\"");
    tcpSend(fd, buf, 1);
    c.ack();
    expect(c.expectNone()).toBe("expected nothing, got PSH|ACK seq=4 ack=1 len=1");
  });

  it("describes UDP, ICMP and ARP that differ from the script", () => {
    bringUp();
    const peer = new Peer();
    peer.introduce();
    const fd = udpSocket();
    udpBind(fd, 5000);
    store<u8>(buf, 0x31);
    udpSendto(fd, buf, 1, PEER_IP, 6000);
    expect(peer.expectUdp(5000, 6001, "1")).toBe("expected UDP 5000 -> 6001 \"1\", got UDP 5000 -> 6000 \"1\"");
    udpSendto(fd, buf, 1, PEER_IP, 6000);
    expect(peer.expectUdp(5000, 6000, "2")).toBe("expected UDP 5000 -> 6000 \"2\", got UDP 5000 -> 6000 \"1\"");
    expect(peer.expectUdp()).toBe("expected a UDP datagram to 10.0.0.2, got nothing");
    expect(peer.ping(7, 1)).toBe(C.ICMP_ECHO_ANSWERED);
    expect(peer.expectEchoReply(7, 2)).toBe("expected an echo reply id 7 seq 2, got id 7 seq 1");
    expect(peer.udpSend(6000, 5999, "x")).toBe(C.UDP_NO_SOCKET);
    expect(peer.expectIcmp(3, 1)).toBe("expected ICMP type 3 code 1, got type 3 code 3");
    expect(peer.expectArpRequest()).toBe("expected an ARP request for 10.0.0.2, got nothing");
    // A peer the stack has never heard of is asked for first.
    const other = new Peer(0x0a000009, 9);
    udpSendto(fd, buf, 1, other.ip, 6000);
    expect(other.expectArpRequest()).toBe("");
    expect(other.expectUdp()).toBe("expected a UDP datagram to 10.0.0.9, got nothing");
    expect(other.arpReply()).toBe(C.ARP_REPLY_ACCEPTED);
    expect(other.expectUdp(5000, 6000, "1")).toBe("");
  });

  it("says so when the capture overflowed instead of reporting a frame as never sent", () => {
    bringUp();
    const peer = new Peer();
    peer.introduce();
    clearSent();
    for (let k = 0; k < CAPTURE_FRAMES + 2; k++) peer.ping(1, k);
    expect(sentCount()).toBe(CAPTURE_FRAMES);
    expect(sentOverflow()).toBe(2);
    for (let k = 0; k < CAPTURE_FRAMES; k++) {
      if (peer.expectEchoReply(1, k) != "") expect(peer.expectEchoReply(1, k)).toBe("", k.toString());
    }
    expect(peer.expectEchoReply(1, CAPTURE_FRAMES)).toBe(
      "expected an ICMP message to 10.0.0.2, got nothing (the capture overflowed: clearSent() between steps)");
  });
});

describe("testing kit: counters and table", () => {
  it("snapshots counters and reports what changed", () => {
    bringUp();
    const before = new Counters();
    const peer = new Peer();
    peer.introduce();
    peer.ping(1, 1);
    expect(before.delta(C.RX_FRAMES)).toBe(2);
    expect(before.delta(C.ICMP_ECHO_ANSWERED)).toBe(1);
    expect(before.changes()).toBe(
      "rx_frames +2\ntx_frames +2\ntx_bytes +134\narp_replies_sent +1\nip_sent +1\narp_request_answered +1\nicmp_echo_answered +1\n");
    expect(connectionsIn(LISTEN)).toBe(0);
    listenOn(1);
    listenOn(2);
    expect(connectionsIn(LISTEN)).toBe(2);
    expect(OUR_IP).toBe(0x0a000001);
  });
});
