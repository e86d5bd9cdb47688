// The SNTP client (RFC 4330; RFC 5905 client mode): a wall clock set from NTP servers.
//
//   sntpSetServers(a, b)     // configured servers; 0, 0: back to those from DHCP option 42
//   sntpSynced()             // true once a sample was taken
//   sntpTime()               // Unix time, 32.32 fixed point (seconds since 1970 . fraction)
//   sntpUnixMs()             // the same in milliseconds
//
// The clock: the board's u32 ms clock extended to 64 bits (tick(), as in dhcp.ts, so its wrap
// every 49.7 days is harmless), plus a correction set by each sample. Until the first sample the
// clock reads 1970 plus uptime, like an unset RTC. Each sample steps the clock (no slewing, no
// frequency correction: SNTP as lwIP does it); between samples it runs on the board's crystal.
//
// Polling: a round asks the server that answered last, then on each timeout (SNTP_TIMEOUT_MS) the
// next usable one, one request per server per round. A sample ends the round; the next starts
// after the poll interval, SNTP_POLL_MIN_MS doubling per sample to SNTP_POLL_MAX_MS. A round
// without an answer waits SNTP_RETRY_MS, doubling per failed round to SNTP_POLL_MAX_MS (RFC 4330
// §10). Each request comes from a fresh random port (RFC 9109) and carries our clock in its
// transmit timestamp, its 16 low bits random: a reply is accepted only from port 123 of the server
// asked, in mode 4, with that exact origin timestamp (RFC 5905 §8: anything else is "bogus").
// A request that had to wait for ARP is stamped early by that wait: its reply is only taken as a
// sign the path is warm, and the same server is asked again at once (a burst of two, as NTP's iburst).
// Kiss-o'-death (stratum 0, RFC 5905 §7.4; RFC 4330 §8), only after the origin check: RATE
// doubles the poll interval; DENY and RSTR retire the server until the servers are set again;
// other codes, like LI 3 or stratum > 15 (unsynchronised), are dropped and the request times out.
import { POLL_MAX_SLEEP_MS, SNTP_POLL_MAX_MS, SNTP_POLL_MIN_MS, SNTP_RETRY_MS, SNTP_TIMEOUT_MS } from "../config";
import { now } from "../support/clock";
import { C, count } from "../support/counters";
import { NET_EV_TIME, netEvent } from "../iface/events";
import { OK } from "../support/errors";
import { INFO, logf } from "../support/log";
import { phy_random } from "../support/phy";
import { WireError } from "../wire/error";
import {
  KISS_DENY, KISS_RATE, KISS_RSTR, LEAP_ALARM, MODE_CLIENT, MODE_SERVER, NtpRepr, PORT, STRATUM_MAX,
  UNIX_EPOCH_NTP, VERSION,
} from "../wire/ntp";
import { arpQueued } from "../iface/arp";
import { ipv4NextHop } from "../iface/ipv4";
import { UDP_TX_PAYLOAD, udpBind, udpClose, udpSendPrepared, udpServiceSocket } from "../api/udp";

/** The parsed reply, and the request being built: kept in the transmit frame buffer past the
 *  48 bytes of our request, free while a reply is handled (no static memory in any image). */
const msg = changetype<NtpRepr>(UDP_TX_PAYLOAD + 64);

/** Until the first sample the clock reads 1970 + uptime (NTP time = local + correction). */
const CORR_UNSET: u64 = UNIX_EPOCH_NTP << 32;

let mono: u64 = 0;
let last: u32 = 0;

let conf0: u32 = 0;
let conf1: u32 = 0;
let dhcp0: u32 = 0;
let dhcp1: u32 = 0;
/** Servers retired by a DENY or RSTR kiss (bit per index), until the servers change. */
let denied: u32 = 0;
/** The server that answered last (asked first in a round). */
let preferred: u32 = 0;

let fd: i32 = -1;
/** Servers asked in this round (bit per index). */
let tried: u32 = 0;
let askedIdx: u32 = 0;
let askedAddr: u32 = 0;
/** Our transmit timestamp in the request in flight: the origin a reply must carry. */
let t1: u64 = 0;
/** The request in flight waited for ARP (its T1 is early). */
let heldByArp = false;
let deadline: u64 = 0;
let nextAt: u64 = 0;
let pollMs: u32 = SNTP_POLL_MIN_MS;
let failures: u32 = 0;

let corr: u64 = CORR_UNSET;
let synced = false;
let offsetFixed: i64 = 0;
let delayFixed: i64 = 0;
let sampleServer: u32 = 0;
let sampleStratum: u32 = 0;

function tick(): void {
  mono += <u64>(now - last);
  last = now;
}

/** Milliseconds as 32.32 fixed point. */
export function msToFixed(ms: u64): u64 {
  return ((ms / 1000) << 32) + (((ms % 1000) << 32) / 1000);
}

/** 32.32 fixed point (signed) as whole microseconds, rounded towards minus infinity. */
export function fixedToUs(f: i64): i64 {
  return (f >> 32) * 1_000_000 + <i64>(((f & 0xffffffff) * 1_000_000) >>> 32);
}

/** Our NTP time now: the extended ms clock plus the correction (modulo 2^64). */
function ntpNow(): u64 {
  return msToFixed(mono) + corr;
}

/** At init(): no servers, no sync; the ms clock starts from the board's. */
export function sntpReset(): void {
  fd = -1; // the socket table was cleared with it
  mono = 0;
  last = now;
  conf0 = conf1 = dhcp0 = dhcp1 = 0;
  serversChanged();
  corr = CORR_UNSET;
  synced = false;
  offsetFixed = delayFixed = 0;
  sampleServer = sampleStratum = 0;
}

// @ts-ignore: decorator
@inline function serverAt(i: u32): u32 {
  return conf0 | conf1 ? (i == 0 ? conf0 : conf1) : i == 0 ? dhcp0 : dhcp1;
}

// @ts-ignore: decorator
@inline function usable(i: u32): bool {
  return i < 2 && serverAt(i) != 0 && (denied & (1 << i)) == 0;
}

/** A new server list: forget the retired ones and poll at once. */
function serversChanged(): void {
  endRequest();
  denied = 0;
  preferred = 0;
  tried = 0;
  failures = 0;
  pollMs = SNTP_POLL_MIN_MS;
  nextAt = mono;
}

function setPair(a: u32, b: u32, dhcp: bool): void {
  if (a == 0) {
    a = b;
    b = 0;
  }
  if (b == a) b = 0;
  if (dhcp) {
    if (a == dhcp0 && b == dhcp1) return;
    dhcp0 = a;
    dhcp1 = b;
    if (conf0 != 0) return; // configured servers take precedence
  } else {
    if (a == conf0 && b == conf1) return;
    conf0 = a;
    conf1 = b;
  }
  tick();
  serversChanged();
}

/** Configured servers, in order; they take precedence over DHCP's. (0, 0): use DHCP's again. */
export function sntpSetServers(a: u32, b: u32): i32 {
  setPair(a, b, false);
  return OK;
}

/** The servers of the DHCP lease (option 42), 0 when none: called by the core on lease changes. */
export function sntpSetDhcpServers(a: u32, b: u32): void {
  setPair(a, b, true);
}

/** Server i (0, 1) in use, 0 when none. */
export function sntpServer(i: u32): u32 {
  return i < 2 ? serverAt(i) : 0;
}

export function sntpSynced(): bool {
  return synced;
}

/** Unix time as 32.32 fixed point: seconds since 1970 (valid 1970..2106) and a binary fraction.
 *  Valid once sntpSynced(); before, 1970 plus uptime. */
export function sntpTime(): u64 {
  tick();
  return ntpNow() - CORR_UNSET;
}

/** Unix time in milliseconds (see sntpTime). */
export function sntpUnixMs(): u64 {
  const t = sntpTime();
  return (t >> 32) * 1000 + (((t & 0xffffffff) * 1000) >> 32);
}

/** The last sample: the clock's offset (what was added to it) and the round-trip delay, as
 *  signed 32.32 fixed point; sntpOffsetUs, sntpDelayUs in µs. */
export function sntpOffset(): i64 {
  return offsetFixed;
}
export function sntpDelay(): i64 {
  return delayFixed;
}
export function sntpOffsetUs(): i64 {
  return fixedToUs(offsetFixed);
}
export function sntpDelayUs(): i64 {
  return fixedToUs(delayFixed);
}
export function sntpSampleServer(): u32 {
  return sampleServer;
}
export function sntpSampleStratum(): u32 {
  return sampleStratum;
}
/** The current poll interval (ms): the wait after the next sample. */
export function sntpPollInterval(): u32 {
  return pollMs;
}

function endRequest(): void {
  if (fd >= 0) udpClose(fd);
  fd = -1;
  askedAddr = 0;
}

/** Ask the next usable server not yet asked in this round; false when none is left. */
function askNext(): bool {
  let idx = preferred;
  if (!usable(idx) || (tried & (1 << idx)) != 0) idx ^= 1;
  if (!usable(idx) || (tried & (1 << idx)) != 0) return false;
  tried |= 1 << idx;
  request(idx);
  return true;
}

/** One request to server idx from a new socket; none when no socket is free (then the server
 *  counts as not answering). */
function request(idx: u32): void {
  const s = udpServiceSocket(datagram, null);
  if (s < 0) return;
  if (udpBind(s, 0) < 0) {
    udpClose(s);
    return;
  }
  fd = s;
  askedIdx = idx;
  askedAddr = serverAt(idx);
  // RFC 4330 §5: a client request carries only VN, mode and (optionally) its transmit timestamp.
  memory.fill(changetype<usize>(msg), 0, offsetof<NtpRepr>());
  msg.version = VERSION;
  msg.mode = MODE_CLIENT;
  t1 = (ntpNow() & ~(<u64>0xffff)) | <u64>(phy_random() & 0xffff);
  msg.transmit = t1;
  const len = msg.emit(UDP_TX_PAYLOAD);
  // A send error (no route, ARP queue full) counts as a lost request: the timeout moves on.
  udpSendPrepared(fd, len, askedAddr, PORT);
  // Held while ARP resolves the next hop: T1 is early by that wait, which would bias the offset
  // by half of it. Its reply only warms the path (see datagram()).
  const hop = ipv4NextHop(askedAddr);
  heldByArp = hop != 0 && arpQueued(hop) != 0;
  count(C.SNTP_REQUESTS);
  deadline = mono + SNTP_TIMEOUT_MS;
}

/** Ask servers until one is asked; the round fails when none is left. */
function advance(): void {
  endRequest();
  while (fd < 0) {
    if (!askNext()) {
      roundFailed();
      return;
    }
  }
}

function roundFailed(): void {
  endRequest();
  failures++;
  const shift = failures - 1 < 16 ? failures - 1 : 16;
  const wait = <u64>SNTP_RETRY_MS << shift;
  nextAt = mono + (wait < <u64>SNTP_POLL_MAX_MS ? wait : <u64>SNTP_POLL_MAX_MS);
}

function roundDone(wait: u32): void {
  endRequest();
  failures = 0;
  nextAt = mono + wait;
}

/** Timers; returns ms until the next one. */
export function sntpPoll(): u32 {
  tick();
  if (!usable(0) && !usable(1)) {
    if (fd >= 0) endRequest();
    return POLL_MAX_SLEEP_MS;
  }
  if (fd >= 0) {
    if (mono >= deadline) {
      count(C.SNTP_TIMEOUTS);
      advance();
    }
  } else if (mono >= nextAt) {
    tried = 0;
    advance();
  }
  const at = fd >= 0 ? deadline : nextAt;
  const d = at > mono ? at - mono : 0;
  return d < <u64>POLL_MAX_SLEEP_MS ? <u32>d : POLL_MAX_SLEEP_MS;
}

function datagram(s: i32, p: usize, len: u32, from: u32, sport: u32): void {
  if (s != fd) return;
  tick();
  if (from != askedAddr || sport != PORT) {
    count(C.SNTP_BAD_SOURCE);
    return;
  }
  if (msg.parse(p, len) != WireError.OK) {
    count(C.SNTP_MALFORMED);
    return;
  }
  if (msg.mode != MODE_SERVER) {
    count(C.SNTP_BAD_MODE);
    return;
  }
  if (msg.origin != t1) {
    count(C.SNTP_BAD_ORIGIN);
    return;
  }
  if (msg.stratum == 0) {
    kiss(msg.refId);
    return;
  }
  if (msg.leap == LEAP_ALARM || msg.stratum > STRATUM_MAX || msg.transmit == 0 || msg.receive == 0) {
    count(C.SNTP_UNSYNCED);
    return;
  }
  if (heldByArp) {
    // The path is warm now: ask the same server again at once for an unbiased sample.
    const idx = askedIdx;
    endRequest();
    request(idx);
    if (fd < 0) advance();
    return;
  }
  sample(ntpNow(), msg.receive, msg.transmit);
}

/** RFC 4330 §5 with timestamps modulo 2^64: delay = (T4 - T1) - (T3 - T2) is small, so the
 *  offset ((T2 - T1) + (T3 - T4)) / 2 is computed as (T3 - T4) + delay / 2, exact whatever the
 *  offset (the first sample's is ~56 years) and across an NTP era. */
function sample(t4: u64, t2: u64, t3: u64): void {
  const delay = <i64>((t4 - t1) - (t3 - t2));
  const offset = (t3 - t4) + <u64>(delay >> 1);
  corr += offset;
  offsetFixed = <i64>offset;
  delayFixed = delay;
  sampleServer = askedAddr;
  sampleStratum = msg.stratum;
  preferred = askedIdx;
  count(C.SNTP_SAMPLES);
  netEvent(NET_EV_TIME);
  const wait = pollMs;
  if (!synced) {
    synced = true;
    logf(INFO, "sntp: synced, %i st %u", askedAddr, msg.stratum);
  }
  pollMs = pollMs < SNTP_POLL_MAX_MS / 2 ? pollMs * 2 : SNTP_POLL_MAX_MS;
  roundDone(wait);
}

function kiss(code: u32): void {
  const rate = code == KISS_RATE;
  if (!rate && code != KISS_DENY && code != KISS_RSTR) {
    count(C.SNTP_UNSYNCED); // other kiss codes: just not a time (RFC 5905 §7.4)
    return;
  }
  count(C.SNTP_KISSES);
  if (rate) {
    // RFC 5905 §7.4: reduce the rate: double the interval and wait it out before asking again.
    pollMs = pollMs < SNTP_POLL_MAX_MS / 2 ? pollMs * 2 : SNTP_POLL_MAX_MS;
    roundDone(pollMs);
  } else {
    denied |= 1 << askedIdx;
    advance();
  }
}
