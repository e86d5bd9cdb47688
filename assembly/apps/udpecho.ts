// udp-echo: RFC 862 echo over UDP on port 7. Each datagram goes back to its sender, unchanged;
// one that cannot be sent right now (ARP still resolving and its queue full) is dropped, as UDP may.
// Each is read straight into the transmit frame and sent from there: no buffer, no second copy
// (over IPv6, udpSendto6 moves it 20 bytes on, past the longer header).
import { FEATURE_IPV6 } from "../config";
import {
  UDP_MAX_PAYLOAD, UDP_TX_PAYLOAD, udpBind, udpFrom6, udpFromIp, udpFromPort, udpRecvfrom, udpSendPrepared, udpSendto6, udpSocket,
} from "../api/udp";
import { INFO, logf } from "../support/log";

const PORT: u32 = 7;
let fd: i32 = -1;
let echoed: u32 = 0;

export function udpEchoStart(): void {
  fd = udpSocket();
  if (fd < 0 || udpBind(fd, PORT) < 0) return;
  logf(INFO, "udp-echo: listening on port %u", PORT);
}

export function udpEchoPoll(): void {
  if (fd < 0) return;
  for (;;) {
    const n = udpRecvfrom(fd, UDP_TX_PAYLOAD, UDP_MAX_PAYLOAD);
    if (n < 0) break; // EWOULDBLOCK, or an ICMP error about an echo we sent: nothing to do
    let r: i32;
    const from6 = FEATURE_IPV6 ? memory.data(16, 8) : 0;
    if (FEATURE_IPV6 && udpFrom6(fd, from6)) r = udpSendto6(fd, UDP_TX_PAYLOAD, <u32>n, from6, udpFromPort(fd));
    else r = udpSendPrepared(fd, <u32>n, udpFromIp(fd), udpFromPort(fd));
    if (r >= 0) echoed++;
  }
}

export function udpEchoCount(): u32 {
  return echoed;
}
