// The stack under test: brought up with a virtual clock, its transmitted frames captured instead
// of reaching phy.tx, its connection table and counters readable. For as-pect tests only: this
// module allocates (heap.alloc, strings, arrays), which the core itself never does.
import { init, poll } from "../index";
import { now, setNow } from "../support/clock";
import { C, COUNTERS, counterNamePtr, counterValue } from "../support/counters";
import { setTxHook } from "../iface/netif";
import { ipv6SetEnabled } from "../iface/ipv6_api";
import { tcpTableRow, tcpTableSize } from "../api/tcp";

export const OUR_IP: u32 = 0x0a000001; // 10.0.0.1
export const PEER_IP: u32 = 0x0a000002; // 10.0.0.2
export const MASK: u32 = 0xffffff00;
export const GW: u32 = 0x0a0000fe;
// Our MAC 02:00:00:00:00:01; scripted peers use 02:00:00:00:00:<n> (the default peer n = 2).
export const OUR_MAC_HI: u32 = 0x0200;
export const OUR_MAC_LO: u32 = 0x00000001;
export const LOCALHOST: u32 = 0x7f000001; // 127.0.0.1

// ---- The board's clock ---------------------------------------------------------------------------
// The core reads the board's clock (phy.now_ms) in init() and in the exports; the as-pect config
// answers it with the time set here, so the stack and the test always agree on the time.
// @ts-ignore: decorator
@external("testing", "set_now") declare function hostSetNow(t: u32): void;

/** Sets the virtual clock (the core's and the board's) to t. */
export function setClock(t: u32): void {
  setNow(t);
  hostSetNow(t);
}

// ---- Captured transmit path ---------------------------------------------------------------------
/** Frames the capture keeps between clearSent() calls; what comes after is counted as overflow. */
export const CAPTURE_FRAMES: i32 = 64;
const SLOT: u32 = 1536;
const captured: usize = heap.alloc(<usize>SLOT * CAPTURE_FRAMES);
const capturedLen: usize = heap.alloc(4 * CAPTURE_FRAMES);
let nCaptured: i32 = 0;
let overflowed: u32 = 0;
/** Bumped by clearSent(), so readers with a cursor into the capture (peers) start again. */
export let captureEpoch: u32 = 0;

function capture(p: usize, len: u32): void {
  if (nCaptured >= CAPTURE_FRAMES) {
    overflowed++;
    return;
  }
  memory.copy(captured + <usize>nCaptured * SLOT, p, min<u32>(len, SLOT));
  store<u32>(capturedLen + (<usize>nCaptured << 2), len);
  nCaptured++;
}

/** A fresh stack at ip/mask via gw (10.0.0.1/24 via 10.0.0.254) at time t, transmit captured,
 *  capture cleared (the gratuitous ARP of init dropped); IPv6 (in an image with it) only when asked. Register an app (setApp) before: init
 *  starts it. Returns init's result. */
export function bringUp(t: u32 = 1000, ip: u32 = OUR_IP, mask: u32 = MASK, gw: u32 = GW, ipv6: bool = false): i32 {
  setClock(t);
  setTxHook(capture);
  ipv6SetEnabled(ipv6); // IPv6 images: off unless asked for, so IPv4 tests see only their own frames
  const r = init(OUR_MAC_HI, OUR_MAC_LO, ip, mask, gw);
  clearSent();
  return r;
}

export function clearSent(): void {
  nCaptured = 0;
  overflowed = 0;
  captureEpoch++;
}
/** Frames the stack transmitted since clearSent() (at most CAPTURE_FRAMES are kept). */
export function sentCount(): i32 {
  return nCaptured;
}
/** Frames transmitted beyond what the capture keeps (0 unless a test forgot to clearSent()). */
export function sentOverflow(): u32 {
  return overflowed;
}
/** The k-th captured frame (Ethernet header first). */
export function sent(k: i32): usize {
  return captured + <usize>k * SLOT;
}
export function sentLen(k: i32): u32 {
  return load<u32>(capturedLen + (<usize>k << 2));
}

// ---- Virtual clock ------------------------------------------------------------------------------
export { now };

/** Moves the clock ms forward and polls once (the timers due by then run). */
export function advance(ms: u32): void {
  setClock(now + ms);
  poll(now);
}

/** Polls at the current time until the stack stops asking to be polled again at once (loopback
 *  traffic delivered, apps answered); returns how many polls that took (at most max). */
export function settle(max: u32 = 1000): u32 {
  let n: u32 = 1;
  while (poll(now) == 0 && n < max) n++;
  return n;
}

/** Runs ms of virtual time the way a board does: polls at every deadline poll() returns (again
 *  at once when it returns 0, up to a bound per instant), until ms have passed. Returns the polls. */
export function run(ms: u32): u32 {
  const end = now + ms;
  let polls: u32 = 1;
  let d = poll(now);
  let same: u32 = 0;
  while (<i32>(end - now) > 0) {
    let step = d;
    if (step == 0 && ++same > 1000) step = 1; // a stack that never quiets down still lets time pass
    if (step != 0) same = 0;
    const left = end - now;
    setClock(now + (step < left ? step : left));
    d = poll(now);
    polls++;
  }
  return polls;
}

// ---- Counters -----------------------------------------------------------------------------------
export function ctr(c: C): u32 {
  return counterValue(<u32>c);
}

/** Counter c's name, as a board reads it. */
export function counterName(c: C): string {
  const p = counterNamePtr(<u32>c);
  let n = 0;
  while (load<u8>(p + n)) n++;
  return String.UTF8.decodeUnsafe(p, n);
}

/** A snapshot of every counter, to compare with a later one. */
export class Counters {
  values: StaticArray<u32> = new StaticArray<u32>(COUNTERS);
  constructor() {
    for (let i = 0; i < COUNTERS; i++) this.values[i] = counterValue(<u32>i);
  }
  /** How much counter c has grown since this snapshot. */
  delta(c: C): u32 {
    return counterValue(<u32>c) - this.values[<i32>c];
  }
  /** The counters that changed since, as "name +n" lines (for messages). */
  changes(): string {
    let s = "";
    for (let i = 0; i < COUNTERS; i++) {
      const d = counterValue(<u32>i) - this.values[i];
      if (d != 0) s += counterName(<C>i) + " +" + d.toString() + "\n";
    }
    return s;
  }
}

// ---- The connection table -----------------------------------------------------------------------
export const STATE_NAMES: string[] = [
  "CLOSED", "LISTEN", "SYN_SENT", "SYN_RECEIVED", "ESTABLISHED", "FIN_WAIT_1", "FIN_WAIT_2", "CLOSE_WAIT",
  "CLOSING", "LAST_ACK", "TIME_WAIT",
];

export function stateName(state: u32): string {
  return state < <u32>STATE_NAMES.length ? STATE_NAMES[<i32>state] : "STATE_" + state.toString();
}

export function ipString(ip: u32): string {
  return (ip >>> 24).toString() + "." + ((ip >>> 16) & 255).toString() + "." + ((ip >>> 8) & 255).toString() + "." + (ip & 255).toString();
}

/** One row of the connection table (tcp_table_row), like a line of netstat -tn. */
export class Conn {
  state: u32 = 0;
  localIp: u32 = 0;
  localPort: u32 = 0;
  remoteIp: u32 = 0;
  remotePort: u32 = 0;
  sendQ: u32 = 0;
  recvQ: u32 = 0;

  toString(): string {
    return stateName(this.state) + " " + ipString(this.localIp) + ":" + this.localPort.toString() + " " +
      ipString(this.remoteIp) + ":" + this.remotePort.toString() + " " + this.sendQ.toString() + " " + this.recvQ.toString();
  }
}

const rowBuf = heap.alloc(28);

/** Every row of the connection table: connection blocks, then TIME-WAIT records. */
export function connections(): Conn[] {
  const rows = new Array<Conn>();
  const n = tcpTableSize();
  for (let i: u32 = 0; i < n; i++) {
    if (!tcpTableRow(i, rowBuf)) continue;
    const c = new Conn();
    c.state = load<u32>(rowBuf);
    c.localIp = load<u32>(rowBuf, 4);
    c.localPort = load<u32>(rowBuf, 8);
    c.remoteIp = load<u32>(rowBuf, 12);
    c.remotePort = load<u32>(rowBuf, 16);
    c.sendQ = load<u32>(rowBuf, 20);
    c.recvQ = load<u32>(rowBuf, 24);
    rows.push(c);
  }
  return rows;
}

/** The row with this local and remote port (remotePort 0: the listener), or null. */
export function connection(localPort: u32, remotePort: u32 = 0): Conn | null {
  const rows = connections();
  for (let i = 0; i < rows.length; i++) {
    if (rows[i].localPort == localPort && rows[i].remotePort == remotePort) return rows[i];
  }
  return null;
}

/** Rows in state. */
export function connectionsIn(state: u32): i32 {
  const rows = connections();
  let n = 0;
  for (let i = 0; i < rows.length; i++) if (rows[i].state == state) n++;
  return n;
}

/** The table as text, one row a line (State Local Remote Send-Q Recv-Q), for messages. */
export function netstat(): string {
  const rows = connections();
  let s = "";
  for (let i = 0; i < rows.length; i++) s += rows[i].toString() + "\n";
  return s;
}
