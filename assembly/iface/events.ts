// Network events: what changed on the interface, for the app and the board (lwIP's netif status
// and link callbacks, and its netif_ext_callback reasons). The layers raise a bit where the change
// happens; two consumers each read what accumulated since they last looked, and never miss a bit:
//   - the board through net_events() (index.ts), after input()/poll();
//   - the app through the handler it registers (api/net.ts), called on its turn in runAppPoll(),
//     never from inside a layer, so it may call any socket function.
// Bits, as WASMIP_NET_EV_* in wasmip.h:
export const NET_EV_LINK_UP: u32 = 1;
export const NET_EV_LINK_DOWN: u32 = 2;
/** The interface got an address, or a different one (static, or a DHCP lease). */
export const NET_EV_ADDRESS: u32 = 4;
/** The DHCP lease was renewed (or confirmed after a link change) with the same address. */
export const NET_EV_RENEWED: u32 = 8;
/** The address was dropped (lease expired, DHCPNAK, release, set to 0). */
export const NET_EV_ADDRESS_LOST: u32 = 16;
/** The DNS servers changed. */
export const NET_EV_DNS: u32 = 32;
/** The SNTP client set the wall clock from a server (each sample; the first makes it valid). */
export const NET_EV_TIME: u32 = 64;
/** The multicast groups changed: a board with a MAC filter reads them again (multicast_mac). */
export const NET_EV_MULTICAST: u32 = 128;

let forBoard: u32 = 0;
let forApp: u32 = 0;

export function netEvent(bits: u32): void {
  forBoard |= bits;
  forApp |= bits;
}

/** The bits raised since the last call, for the board (net_events()). */
export function takeBoardEvents(): u32 {
  const b = forBoard;
  forBoard = 0;
  return b;
}

/** The bits raised since the last call, for the app. */
export function takeAppEvents(): u32 {
  const b = forApp;
  forApp = 0;
  return b;
}

export function netEventsInit(): void {
  forBoard = 0;
  forApp = 0;
}
