// Firmware image: the wasmip core with IPv6 plus TCP echo and discard (7, 9) and UDP echo (7),
// for both families: what tests/host/tap_ipv6.test.ts serves the Linux kernel over IPv6. Built to
// build/echo6.wasm (Makefile: --use WASMIP_IPV6=1).
export * from "../index";
import { setApp } from "../app";
import { echoPoll, echoStart } from "../apps/echo";
import { udpEchoCount, udpEchoPoll, udpEchoStart } from "../apps/udpecho";

function start(): void {
  echoStart();
  udpEchoStart();
}

function poll(): void {
  echoPoll();
  udpEchoPoll();
}

setApp(start, poll);

/** Datagrams echoed so far. */
export function udp_echo_count(): u32 {
  return udpEchoCount();
}
