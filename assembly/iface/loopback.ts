// The loopback interface: datagrams to 127.0.0.0/8 and to our own address are handled inside the
// stack. RFC 1122 §3.2.1.3: 127/8 must never appear on a wire, so these never reach the PHY (and
// 127/8 arriving from the wire is dropped by ipv4Input, as ever).
//
// ipv4Output hands a looped-back datagram here; it waits in the ARP layer's pool of held frames
// (no buffer of its own) until poll() delivers it: copied to rxBuf and run through IPv4 input, as
// if it had been received. Delivery only ever starts from poll(), when no other input, output or
// timer is on the stack, so a reply it provokes (the peer's ACK, the next segment) is simply
// queued behind it: no re-entrancy. A datagram that does not fit in the pool is refused
// (ENOBUFS); TCP treats that as not sent and is asked to try again once a delivery has made room.
import { C, count } from "../support/counters";
import { put16 } from "../support/bytes";
import { ENOBUFS, OK } from "../support/errors";
import { HEADER_LEN as ETH_LEN, TYPE_IPV4, macStore } from "../wire/ethernet";
import { RX_IPV4_OK, RX_L4_OK, setRxChecked } from "../wire/checksum";
import { LOOPBACK_OWNER, arpPoolPut, arpPoolTake, loopbackHeld } from "./arp";
import { ethernetInput } from "./ethernet";
import { setLoopbackInput } from "./ipv4";
import { macW0, macW4, rxBuf } from "./netif";

/** Set by the transport that resends what the pool refused (TCP): called after a delivery. */
let retry: (() => void) | null = null;
let refused = false;

export function setLoopbackRetry(h: (() => void) | null): void {
  retry = h;
}

/** Queues the datagram in the frame at frame (len bytes, Ethernet header space included). */
export function loopbackOutput(frame: usize, len: u32): i32 {
  if (!arpPoolPut(LOOPBACK_OWNER, frame + ETH_LEN, len - ETH_LEN, 0)) {
    count(C.LOOPBACK_NO_BUFFERS);
    refused = true;
    return ENOBUFS;
  }
  count(C.LOOPBACK_SENT);
  return OK;
}

/** Whether datagrams wait for delivery (one comparison). */
// @ts-ignore: decorator
@inline export function loopbackPending(): bool {
  return loopbackHeld != 0;
}

/** Delivers waiting datagrams, oldest first, and what they provoke, up to max; returns how many.
 *  Each counts as a received frame (rx_frames and the counter that accounted for it). Called by
 *  poll() only: nothing else of the stack is running then. */
export function loopbackDrain(max: u32): u32 {
  let n: u32 = 0;
  let len: u32 = 0;
  while (n < max && (len = arpPoolTake(LOOPBACK_OWNER, rxBuf + ETH_LEN)) != 0) {
    n++;
    count(C.LOOPBACK_RECEIVED);
    // Received like a frame from the PHY (same path, same counters), addressed to our MAC.
    macStore(rxBuf, macW0, macW4);
    put16(rxBuf + 12, TYPE_IPV4);
    setLoopbackInput(true);
    // It never left memory: nothing to verify, and under MAC offload (OFFLOAD_TX_*) nothing was
    // filled in (Linux's loopback: CHECKSUM_UNNECESSARY).
    setRxChecked(RX_IPV4_OK | RX_L4_OK);
    ethernetInput(ETH_LEN + len);
    setRxChecked(0);
    setLoopbackInput(false);
    if (refused) {
      refused = false;
      const h = retry;
      if (h) h();
    }
  }
  return n;
}
