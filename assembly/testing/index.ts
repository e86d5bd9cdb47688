// wasmip's testing kit for as-pect: the real stack with a virtual clock and a captured transmit
// path, scripted peers that send crafted ARP, ICMP, UDP and TCP and check what the stack sends
// back, and the connection table and counters. Firmware authors import it in their as-pect tests
// (examples/sensor/__tests__ shows how); the core's own unit tests use the same helpers.
//
//   bringUp();                                   // 10.0.0.1/24, clock at 1000 ms
//   const peer = new Peer();                     // 10.0.0.2
//   peer.introduce();                            // ARP: the stack learns the peer
//   const c = peer.tcp(40000, 80);
//   expect(c.open()).toBe("");                   // SYN, SYN-ACK (seq=0 ack=1), ACK
//   c.send(ACK | PSH, "GET / HTTP/1.0\r\n\r\n");
//   advance(0);                                  // poll: timers, loopback, the app
//   expect(c.expect(ACK | PSH, 1, 19, ANY)).toBe("");
//
// Everything here allocates freely (test code); nothing of it is linked into a firmware image.
export * from "./stack";
export * from "./frames";
export * from "./peer";
export * from "./tcp";
export { C } from "../support/counters";
export { ACK, FIN, PSH, RST, SYN } from "../wire/tcp";
