// TCP: start-up and the hooks the layers below call.
import { PROTO_TCP } from "../../wire/ipv4";
import { setTransport } from "../../iface/ipv4";
import { isnInit } from "./isn";
import { pcbInitAll } from "./pcb";
import { tcpAddressEvent, tcpIcmpError, tcpInput, tcpInput6, tcpNeighbourLost } from "./input";
import { outputInit, tcpOutput } from "./output";
import { synCookieInit } from "./syncookie";
import { FEATURE_ICMP, FEATURE_IPV6, FEATURE_LOOPBACK, TCP_MAX_SOCKETS } from "../../config";
import { setAddressHandler6, setTransport6 } from "../../iface/ipv6";
import { NH_TCP } from "../../wire/ipv6";
import { setIcmpErrorHandler } from "../../iface/icmp";
import { setLoopbackRetry } from "../../iface/loopback";
import { setArpGiveUpHandler } from "../../iface/arp";
import { ESTABLISHED, F_USED, pcb } from "./pcb";
export { tcpPoll } from "./timers";

export function tcpInit(): void {
  pcbInitAll();
  isnInit();
  outputInit();
  synCookieInit();
  setTransport(PROTO_TCP, tcpInput);
  if (FEATURE_IPV6) {
    setTransport6(NH_TCP, tcpInput6);
    setAddressHandler6(tcpAddressEvent);
  }
  if (FEATURE_ICMP) setIcmpErrorHandler(PROTO_TCP, tcpIcmpError);
  if (FEATURE_LOOPBACK) setLoopbackRetry(retryAll);
  setArpGiveUpHandler(tcpNeighbourLost);
}

/** The loopback made room after refusing a segment: every connection sends what it may now. */
function retryAll(): void {
  for (let i = 0; i < TCP_MAX_SOCKETS; i++) if ((pcb(i).flags & F_USED) != 0 && pcb(i).state >= ESTABLISHED) tcpOutput(i);
}
