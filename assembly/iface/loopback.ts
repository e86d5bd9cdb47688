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
import { C, count, counterValue } from "../support/counters";
import { ENOBUFS, OK } from "../support/errors";
import { HEADER_LEN as ETH_LEN } from "../wire/ethernet";
import { LOOPBACK_OWNER, arpPoolPut, arpPoolTake } from "./arp";
import { ipv4Input } from "./ipv4";
import { rxBuf } from "./netif";

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

/** Whether datagrams wait for delivery: every one queued is delivered (the pool drops none of
 *  ours), and init() zeroes the counters with the pool. */
export function loopbackPending(): bool {
  return counterValue(C.LOOPBACK_SENT) != counterValue(C.LOOPBACK_RECEIVED);
}

/** Delivers waiting datagrams, oldest first, and what they provoke, up to max; returns how many.
 *  Each counts as a received frame (rx_frames and the counter that accounted for it). */
export function loopbackDrain(max: u32): u32 {
  let n: u32 = 0;
  let len: u32 = 0;
  while (n < max && (len = arpPoolTake(LOOPBACK_OWNER, rxBuf + ETH_LEN)) != 0) {
    n++;
    count(C.RX_FRAMES);
    count(C.LOOPBACK_RECEIVED);
    count(ipv4Input(rxBuf + ETH_LEN, len, true));
    if (refused) {
      refused = false;
      const h = retry;
      if (h) h();
    }
  }
  return n;
}
