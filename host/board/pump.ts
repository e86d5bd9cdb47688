// The pump: how a board drives its socket layers (net.ts, dgram.ts, dns.ts). Its driver (the
// Simulator in virtual time, a TAP runner in real time) calls input() and poll(); after each,
// the board runs every layer's pump(), which turns the core's level-triggered state into events.
// A call from user code into the core is followed by kick(), so the driver polls soon. A layer
// sees its board only as a LayerHost: board.ts imports the layers, never the other way round.

/** What a socket layer needs of its board (Board implements it). */
export interface LayerHost {
  readonly name: string;
  /** The interface's address now (a DHCP lease may have set or dropped it). */
  readonly ip: number;
  readonly ipString: string;
  /** Every export of the firmware image, untyped: a layer casts to the exports it uses. */
  readonly exports: Record<string, unknown>;
  /** The module's linear memory, as bytes. */
  memoryBytes(): Uint8Array;
  /** Ask the driver to poll soon (a no-op inside input()/poll()). */
  kick(): void;
  /** Run this after every input()/poll(); it returns true when it did something. */
  addPump(pump: () => boolean): void;
  /** The board's clock (ms): virtual time in the Simulator, real time on a TAP. */
  now(): number;
  /** A host name to an IPv4 address through the board's own resolver (its DNS exports), as
   *  node:net resolves through getaddrinfo; rejects with node:dns's codes. */
  lookup4(hostname: string): Promise<string>;
  /** The same for a connect by name: A or AAAA, AAAA first when the board has a global IPv6
   *  address (board.dns.lookup with family 0). */
  lookupHost(hostname: string): Promise<{ address: string; family: 4 | 6 }>;
}

/** Set whenever the net layer emitted something or ran a stream callback: an async driver should
 *  let the event loop run (nextTick and promise jobs) before advancing virtual time. */
export const netActivity = { pending: false };
