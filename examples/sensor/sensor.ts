
// The sensor: a template for your own firmware app. It samples a temperature sensor once a second,
// keeps the last HISTORY readings, serves them over HTTP on port 80 (GET /readings as JSON, GET /
// as a line of text) and pushes each new reading to a UDP collector every interval.
//
// How an app lives with the stack (and fits in the one 64 KiB page the image has):
//  - start() runs once from init(); poll() after every input() and poll() of the core (so at least
//    every POLL_MAX_SLEEP_MS). Nothing blocks; all state is static, sized here.
//  - No buffer per connection: one request is served at a time (the others wait in the listen
//    backlog), its request line read into a 64-byte buffer; the response is built in the transmit
//    frame's payload area (UDP_TX_PAYLOAD), free between sends, and tcpSend copies it into the
//    connection's send ring before anything is transmitted. The UDP push is built there too and
//    sent in place with udpSendPrepared (no copy at all).
//  - The sensor is read through a function the firmware sets (setSensorSource): a board passes its
//    driver's, a test a fake one. The default is a simulated sensor.
import { due, elapsed, now } from "../../assembly/support/clock";
import { FEATURE_MDNS } from "../../assembly/config";
import { mdnsAddService, mdnsStart } from "../../assembly/services/mdns";
import { INFO, WARN, logf } from "../../assembly/support/log";
import {
  EV_ERROR, tcpAbort, tcpAccept, tcpBind, tcpClose, tcpEvents, tcpListen, tcpRecv, tcpSend, tcpShutdown, tcpSocket,
} from "../../assembly/api/tcp";
import { UDP_TX_PAYLOAD, udpBind, udpClose, udpSendPrepared, udpSocket } from "../../assembly/api/udp";
import { putStr, putU32 } from "../../assembly/apps/util";

export const HTTP_PORT: u32 = 80;
/** UDP port the pushes are sent from. */
export const PUSH_PORT: u32 = 5140;
export const SAMPLE_MS: u32 = 1000;
export const HISTORY: u32 = 8;
/** A client that has not sent its request line by then is dropped. */
export const REQUEST_TIMEOUT_MS: u32 = 5000;
const REQ_MAX: u32 = 64;

/** A reading in milli-degrees Celsius. */
export type SensorSource = () => i32;

function simulated(): i32 {
  // 21.000 C, drifting by up to +-0.750 C over a minute: something to look at.
  const t = (now / 1000) % 60;
  return 21000 + <i32>(t < 30 ? t : 60 - t) * 50 - 750;
}

let source: SensorSource = simulated;
const history = memory.data(<i32>HISTORY * 4);
let readings: u32 = 0; // taken so far; the newest is number readings - 1
let nextSample: u32 = 0;

let listener: i32 = -1;
let conn: i32 = -1; // the connection being served
let since: u32 = 0;
const req = memory.data(<i32>REQ_MAX);
let reqLen: u32 = 0;

let pushFd: i32 = -1;
let pushIp: u32 = 0;
let pushPort: u32 = 0;
let pushEvery: u32 = 0;
let nextPush: u32 = 0;
let pushed: u32 = 0;

export function setSensorSource(f: SensorSource): void {
  source = f;
}

/** Push each interval_ms the newest reading to ip:port (ip 0: stop). Returns 0 or an error. */
export function sensorPushTo(ip: u32, port: u32, intervalMs: u32): i32 {
  pushIp = ip;
  pushPort = port;
  pushEvery = intervalMs > 0 ? intervalMs : SAMPLE_MS;
  nextPush = now;
  if (ip == 0 || pushFd >= 0) return 0;
  pushFd = udpSocket();
  if (pushFd < 0) return pushFd;
  const r = udpBind(pushFd, PUSH_PORT);
  if (r < 0) {
    udpClose(pushFd);
    pushFd = -1;
  }
  return r;
}

export function sensorReadings(): u32 {
  return readings;
}
export function sensorPushed(): u32 {
  return pushed;
}

export function sensorStart(): void {
  readings = 0;
  conn = -1;
  pushFd = -1;
  pushIp = 0;
  pushed = 0;
  nextSample = now;
  sample();
  listener = tcpSocket();
  if (listener < 0) return;
  if (tcpBind(listener, HTTP_PORT) < 0 || tcpListen(listener, 4) < 0) {
    tcpClose(listener);
    listener = -1;
    return;
  }
  logf(INFO, "sensor: http on port %u", HTTP_PORT);
  // Findable as sensor.local, its page as an _http._tcp service (with mDNS in the build).
  if (FEATURE_MDNS && mdnsStart(memory.data<u8>([115, 101, 110, 115, 111, 114]), 6) == 0) { // "sensor"
    mdnsAddService(0, 0, memory.data<u8>([95, 104, 116, 116, 112, 46, 95, 116, 99, 112]), 10, HTTP_PORT, 0, 0); // "_http._tcp"
  }
}

export function sensorPoll(): void {
  if (due(nextSample)) sample();
  if (pushIp != 0 && pushFd >= 0 && due(nextPush)) push();
  // Serve connections one after another while each is done at once (bounded per poll).
  let k = 0;
  while (k < 4 && serve()) k++;
}

function sample(): void {
  store<i32>(history + ((readings % HISTORY) << 2), source());
  readings++;
  nextSample += SAMPLE_MS;
  if (due(nextSample)) nextSample = now + SAMPLE_MS; // polled late: no burst of catch-up readings
}

function newest(): i32 {
  return load<i32>(history + (((readings - 1) % HISTORY) << 2));
}

/** v in decimal, with a sign. */
function putI32(p: usize, v: i32): u32 {
  if (v >= 0) return putU32(p, <u32>v);
  store<u8>(p, 45); // '-'
  return 1 + putU32(p + 1, <u32>-v);
}

/** Milli-degrees as degrees with three decimals: 21375 -> 21.375. */
function putMilli(p: usize, v: i32): u32 {
  let n: u32 = 0;
  if (v < 0) {
    store<u8>(p, 45);
    n = 1;
    v = -v;
  }
  n += putU32(p + n, <u32>v / 1000);
  store<u8>(p + n++, 46); // '.'
  const f = <u32>v % 1000;
  store<u8>(p + n++, <u8>(48 + f / 100));
  store<u8>(p + n++, <u8>(48 + f / 10 % 10));
  store<u8>(p + n++, <u8>(48 + f % 10));
  return n;
}

function push(): void {
  nextPush += pushEvery;
  if (due(nextPush)) nextPush = now + pushEvery;
  const p = UDP_TX_PAYLOAD;
  let n = putStr(p, "{\"seq\":");
  n += putU32(p + n, readings - 1);
  n += putStr(p + n, ",\"mC\":");
  n += putI32(p + n, newest());
  n += putStr(p + n, "}\n");
  // Dropped when it cannot go now (ARP still resolving the collector, its queue full): the next
  // one follows in an interval, and a reading is only worth something while it is fresh.
  if (udpSendPrepared(pushFd, n, pushIp, pushPort) >= 0) pushed++;
}

/** Where the request line ends (its '\n'), or -1. */
function lineEnd(): i32 {
  for (let i: u32 = 0; i < reqLen; i++) if (load<u8>(req + i) == 10) return <i32>i;
  return -1;
}

/** Moves the connection being served on; true when it is done (the next may be served now). */
function serve(): bool {
  if (conn < 0) {
    if (listener < 0) return false;
    conn = tcpAccept(listener);
    if (conn < 0) return false;
    reqLen = 0;
    since = now;
  }
  if (tcpEvents(conn) & EV_ERROR) {
    tcpAbort(conn);
    conn = -1;
    return true;
  }
  let r = 1;
  while (r > 0 && reqLen < REQ_MAX && lineEnd() < 0) {
    r = tcpRecv(conn, req + reqLen, REQ_MAX - reqLen);
    if (r > 0) reqLen += <u32>r;
  }
  const end = lineEnd();
  if (end < 0 && reqLen < REQ_MAX) {
    // No request line yet: wait for more, unless the client went away or took too long.
    if (r == 0 || elapsed(since) >= REQUEST_TIMEOUT_MS) {
      if (r != 0) logf(WARN, "sensor: request timed out");
      finish();
      return true;
    }
    return false;
  }
  respond(end);
  finish();
  return true;
}

function finish(): void {
  tcpShutdown(conn, 0); // drop the rest of the request: our close is then a FIN, not a reset
  tcpClose(conn);
  conn = -1;
}

/** True if the request line starts with s at offset at. */
function has(at: u32, s: string): bool {
  if (at + <u32>s.length > reqLen) return false;
  for (let i = 0; i < s.length; i++) if (load<u8>(req + at + i) != <u8>s.charCodeAt(i)) return false;
  return true;
}

/** True if the target starting at offset 4 is exactly path. */
function target(path: string): bool {
  const after: u32 = 4 + <u32>path.length;
  return has(4, path) && after < reqLen && (load<u8>(req + after) == 32 || load<u8>(req + after) == 63); // ' ' or '?'
}

// The response: body first, at BODY in the payload area, then the header in front of it.
const BODY: u32 = 192;

function respond(end: i32): void {
  const body = UDP_TX_PAYLOAD + BODY;
  let n: u32 = 0;
  let status = "200 OK";
  let type = "text/plain";
  if (end < 0) {
    status = "414 URI Too Long";
  } else if (!has(0, "GET ")) {
    status = "405 Method Not Allowed";
  } else if (target("/readings")) {
    type = "application/json";
    n = putStr(body, "{\"sensor\":\"temperature\",\"unit\":\"mC\",\"interval_ms\":");
    n += putU32(body + n, SAMPLE_MS);
    n += putStr(body + n, ",\"seq\":");
    n += putU32(body + n, readings - 1);
    n += putStr(body + n, ",\"readings\":[");
    const k = min<u32>(readings, HISTORY);
    for (let i: u32 = 0; i < k; i++) {
      if (i) store<u8>(body + n++, 44); // ','
      n += putI32(body + n, load<i32>(history + (((readings - k + i) % HISTORY) << 2)));
    }
    n += putStr(body + n, "]}\n");
  } else if (target("/")) {
    n = putStr(body, "temperature ");
    n += putMilli(body + n, newest());
    n += putStr(body + n, " C, reading ");
    n += putU32(body + n, readings - 1);
    store<u8>(body + n++, 10);
  } else {
    status = "404 Not Found";
  }
  const p = UDP_TX_PAYLOAD;
  let h = putStr(p, "HTTP/1.1 ");
  h += putStr(p + h, status);
  h += putStr(p + h, "\r\nContent-Type: ");
  h += putStr(p + h, type);
  h += putStr(p + h, "\r\nContent-Length: ");
  h += putU32(p + h, n);
  h += putStr(p + h, "\r\nConnection: close\r\n\r\n");
  memory.copy(p + h, body, n);
  // A new connection's send ring is empty and larger than any response, so it takes it whole.
  tcpSend(conn, p, h + n);
}
