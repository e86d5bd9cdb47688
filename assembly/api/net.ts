// The interface for apps: network events (lwIP's netif status/link callbacks) and its state.
//
//   onNetEvent((ev: u32): void => {
//     if (ev & NET_EV_ADDRESS) ...      // start services once the interface has an address
//     if (ev & NET_EV_ADDRESS_LOST) ... // sockets bound to it are gone
//   });
//
// The handler runs on the app's turn (before its poll), with every bit raised since its last turn;
// it may call any socket function.
import { takeAppEvents } from "../iface/events";
import { ipAddr, linkUp } from "../iface/netif";
export {
  NET_EV_ADDRESS, NET_EV_ADDRESS_LOST, NET_EV_DNS, NET_EV_LINK_DOWN, NET_EV_LINK_UP, NET_EV_MULTICAST, NET_EV_RENEWED, NET_EV_TIME,
} from "../iface/events";

let handler: ((events: u32) => void) | null = null;

export function onNetEvent(h: ((events: u32) => void) | null): void {
  handler = h;
}

/** The app's turn (app.ts): hand it what happened since the last one. */
export function deliverNetEvents(): void {
  const ev = takeAppEvents();
  const h = handler;
  if (ev != 0 && h) h(ev);
}

export function netLinkUp(): bool {
  return linkUp;
}

/** The interface's IPv4 address (host order), 0 while it has none. */
export function netAddress(): u32 {
  return ipAddr;
}
