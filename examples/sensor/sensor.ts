
// The sensor: a template for your own firmware app. It samples a temperature sensor once a second,
// keeps the last HISTORY readings, serves them over HTTP on port 80 (GET /readings as JSON, GET /
// as a line of text), pushes the newest to a UDP collector every interval, and publishes it to an
// MQTT broker with a timestamp from SNTP, taking commands on a topic of its own.
//
// How an app lives with the stack (and fits in the pages the image has):
//  - start() runs once from init(); poll() after every input() and poll() of the core (so at least
//    every POLL_MAX_SLEEP_MS). Nothing blocks; all state is static, sized here.
//  - No buffer per connection: one request is served at a time (the others wait in the listen
//    backlog), its request line read into a 64-byte buffer; the response is built in the transmit
//    frame's payload area (UDP_TX_PAYLOAD), free between sends, and tcpSend copies it into the
//    connection's send ring before anything is transmitted. The UDP push is built there too and
//    sent in place with udpSendPrepared (no copy at all); so is the MQTT payload, which
//    mqttPublish copies into its in-flight slot.
//  - The sensor is read through a function the firmware sets (setSensorSource): a board passes its
//    driver's, a test a fake one. The default is a simulated sensor.
//
// MQTT (services/mqtt.ts, built in with WASMIP_MQTT=1): sensorMqttTo(ip, port, interval), or
// sensorMqttToName(host, ...) which resolves the name first (again every RESOLVE_RETRY_MS until
// it resolves), connects as client id <name> (setSensorName; default "sensor-" and the MAC's
// last three bytes in hex) with a persistent session, and from then on the client keeps it up
// (reconnect with backoff). Its presence is sensors/<name>/status, retained: the CONNECT's will
// says "offline" (QoS 1), which the broker publishes when the sensor vanishes without a DISCONNECT
// (no packet within 1.5 keep-alives, MQTT 3.1.1 §3.1.2.5, §3.1.2.10); after each CONNACK the sensor
// publishes "online" over it (QoS 1), and "offline" itself (QoS 0) before a DISCONNECT of its own
// (sensorMqttTo(0, ...), a new broker). Every interval (a multiple of SAMPLE_MS) the reading just
// taken goes to sensors/<name> at QoS 1:
//     {"seq":12,"mC":21375,"t":1796601612.345}
// t: the SNTP wall clock (seconds since 1970, milliseconds), null until the first sync. A reading
// taken while the broker is away waits in the client's MQTT_INFLIGHT slots; with those full (or
// the client stopped by a refused CONNACK) it is not queued (counted: sensorMqttDropped). The
// app subscribes to sensors/<name>/cmd (QoS 1), whose messages are commands, ASCII:
//     interval_ms=<decimal>   publish every that many ms (in whole readings), SAMPLE_MS .. INTERVAL_MAX_MS
// Anything else is rejected, logged and counted (sensorCommandsRejected).
import { due, elapsed, now } from "../../assembly/support/clock";
import { FEATURE_MDNS } from "../../assembly/config";
import { mdnsAddService, mdnsStart } from "../../assembly/services/mdns";
import { INFO, WARN, logf } from "../../assembly/support/log";
import {
  EV_ERROR, tcpAbort, tcpAccept, tcpBind, tcpClose, tcpEvents, tcpListen, tcpRecv, tcpSend, tcpShutdown, tcpSocket,
} from "../../assembly/api/tcp";
import { UDP_TX_PAYLOAD, udpBind, udpClose, udpSendPrepared, udpSocket } from "../../assembly/api/udp";
import { putStr, putU32 } from "../../assembly/apps/util";
import { EINVAL, ENOSYS, EWOULDBLOCK, OK } from "../../assembly/support/errors";
import { dnsAddress, dnsRelease, dnsResolve, dnsResult } from "../../assembly/services/dns";
import { FEATURE_MQTT } from "../../assembly/config";
import { ConnectFields } from "../../assembly/wire/mqtt";
import { macW0, macW4 } from "../../assembly/iface/netif";
import { sntpSynced, sntpUnixMs } from "../../assembly/services/sntp";
import {
  MQTT_CONNECTED, MQTT_EV_CONNECTED, MQTT_EV_PUBLISHED, MQTT_EV_SUBACK, mqttConnect, mqttDisconnect, mqttFields, mqttOnEvent, mqttOnMessage,
  mqttPublish, mqttState, mqttSubscribe, MQTT_IDLE,
} from "../../assembly/services/mqtt";

export const HTTP_PORT: u32 = 80;
/** UDP port the pushes are sent from. */
export const PUSH_PORT: u32 = 5140;
export const SAMPLE_MS: u32 = 1000;
export const HISTORY: u32 = 8;
/** A client that has not sent its request line by then is dropped. */
export const REQUEST_TIMEOUT_MS: u32 = 5000;
const REQ_MAX: u32 = 64;
/** The MQTT broker's port when sensorMqttTo is given 0. */
export const MQTT_PORT: u32 = 1883;
/** Keep-alive (s) unless setSensorKeepAlive says otherwise: a dead broker or path is noticed within
 *  about twice this, and the broker publishes the will ("offline") 1.5 times this after the last packet. */
export const MQTT_KEEPALIVE_S: u32 = 30;
/** Longest publish interval a command may set (a day). */
export const INTERVAL_MAX_MS: u32 = 86_400_000;
/** A broker name that does not resolve (no DNS server yet, no answer) is asked again this much later. */
export const RESOLVE_RETRY_MS: u32 = 5000;
/** Longest broker host name (sensorMqttToName). */
export const HOST_MAX: u32 = 64;
/** Longest sensor name: it is the MQTT client id (§3.1.3.1 guarantees 23 bytes) and a topic level. */
export const NAME_MAX: u32 = 23;

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

const name = memory.data(<i32>NAME_MAX);
let nameLen: u32 = 0;
// "sensors/<name>" then "/cmd": the topic is the filter's prefix.
const TOPIC_MAX: u32 = 8 + NAME_MAX + 4;
const topic = memory.data(<i32>TOPIC_MAX);
let topicLen: u32 = 0;
// "sensors/<name>/status": the will's topic, and where "online" goes.
const STATUS_MAX: u32 = 8 + NAME_MAX + 7;
const status = memory.data(<i32>STATUS_MAX);
let statusLen: u32 = 0;
let keepAliveS: u32 = MQTT_KEEPALIVE_S;
let mqttOn = false;
const host = memory.data(<i32>HOST_MAX);
let hostLen: u32 = 0;
let brokerPort: u32 = 0;
let resolving = false; // a broker name to resolve, then connect to
let lookup: i32 = -1; // the DNS lookup in progress
let resolveAt: u32 = 0;
let subscribed = false;
let pubEvery: u32 = 0;
let pubSeq: u32 = 0; // the reading to publish next
let published: u32 = 0; // handed to the client
let acked: u32 = 0; // PUBACKed by the broker
let statusId: u32 = 0; // the packet id of "online" while in flight
let statusDue = false; // "online" to publish (connected, waiting for a free slot)
let dropped: u32 = 0; // not published (mqttPublish failed)
let commands: u32 = 0;
let rejected: u32 = 0;

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

/** The name in topics and the MQTT client id: 1 to NAME_MAX characters, no '/', '+', '#' or
 *  spaces. Set before sensorMqttTo; false (unchanged) when invalid. */
export function setSensorName(s: string): bool {
  const n = <u32>s.length;
  if (n == 0 || n > NAME_MAX) return false;
  for (let i = 0; i < <i32>n; i++) if (!nameChar(s.charCodeAt(i))) return false;
  nameLen = putStr(name, s);
  return true;
}

/** Printable ASCII but for space and the topic characters '/', '+' and '#'. */
function nameChar(c: i32): bool {
  return c > 32 && c <= 126 && c != 47 && c != 43 && c != 35;
}

/** The MQTT keep-alive in seconds (1 to 65535; 0 is refused here: the will needs one), for the next
 *  sensorMqttTo. False (unchanged) when out of range. */
export function setSensorKeepAlive(s: u32): bool {
  if (s == 0 || s > 0xffff) return false;
  keepAliveS = s;
  return true;
}

/** "sensor-" and the MAC's last three bytes in hex: unique on the LAN without configuration. */
function defaultName(): void {
  nameLen = putStr(name, "sensor-");
  const b3 = macW0 >>> 24;
  const b45 = <u32>macW4;
  const v = (b3 << 16) | ((b45 & 0xff) << 8) | (b45 >> 8);
  for (let i = 5; i >= 0; i--) {
    const d = (v >> (<u32>(5 - i) << 2)) & 15;
    store<u8>(name + nameLen + <u32>i, <u8>(d < 10 ? 48 + d : 87 + d));
  }
  nameLen += 6;
}

/**
 * Publish the newest reading every interval_ms (0: each reading) to the MQTT broker at ip:port
 * (port 0: 1883), and take commands; ip 0 disconnects. Returns 0 or an error (mqttConnect's;
 * ENOSYS in an image without the client). The client reconnects by itself until stopped.
 */
export function sensorMqttTo(ip: u32, port: u32, intervalMs: u32): i32 {
  mqttStop(intervalMs);
  if (ip == 0) return OK;
  if (!FEATURE_MQTT) return ENOSYS;
  return mqttStart(ip, port);
}

/**
 * sensorMqttTo for the broker named hostName[0..len) (or a dotted quad): resolved on the app's turn
 * (dnsResolve, from DHCP's DNS servers or dnsSetServers), retried every RESOLVE_RETRY_MS until it
 * resolves, then connected to that address for good (the client reconnects to it). 0, EINVAL
 * (empty or longer than HOST_MAX), ENOSYS (no MQTT client in the image).
 */
export function sensorMqttToName(hostName: usize, len: u32, port: u32, intervalMs: u32): i32 {
  if (len == 0 || len > HOST_MAX) return EINVAL;
  if (!FEATURE_MQTT) return ENOSYS;
  mqttStop(intervalMs);
  memory.copy(host, hostName, len);
  hostLen = len;
  brokerPort = port;
  resolving = true;
  resolveAt = now;
  return OK;
}

/**
 * One setting as text, key=value: what a firmware author would otherwise compile in, given at run
 * time by the board (the posix and WAMR boards' --app-config, through the image's app_config export):
 *     broker=HOST[:PORT]   sensorMqttToName(HOST, PORT or 1883), keeping the interval set so far
 *     interval_ms=N        the publish interval, as the command of that name
 *     keepalive=S          setSensorKeepAlive, for the next connect (give it before broker=)
 *     name=NAME            setSensorName, for the next connect (give it before broker=)
 * Returns 0, EINVAL (an unknown key or a bad value, logged) or ENOSYS (broker= without MQTT).
 */
export function sensorConfig(p: usize, n: u32): i32 {
  let r: i32 = EINVAL;
  if (startsWith(p, n, "broker=")) {
    r = brokerSetting(p + 7, n - 7);
  } else if (startsWith(p, n, "interval_ms=")) {
    const ms = command(p, n);
    if (ms != 0) {
      pubEvery = ms;
      pubSeq = readings - 1 + everyReadings();
      r = OK;
    }
  } else if (startsWith(p, n, "keepalive=")) {
    const v = decimal(p + 10, n - 10);
    if (v >= 0 && setSensorKeepAlive(<u32>v)) r = OK;
  } else if (startsWith(p, n, "name=")) {
    const m = n - 5;
    let ok = m > 0 && m <= NAME_MAX;
    for (let i: u32 = 0; ok && i < m; i++) ok = nameChar(load<u8>(p + 5 + i));
    if (ok) {
      memory.copy(name, p + 5, m);
      nameLen = m;
      r = OK;
    }
  }
  if (r == EINVAL) logf(WARN, "sensor: bad setting %s", <u32>p, n);
  return r;
}

/** HOST[:PORT] of broker=: HOST 1 to HOST_MAX bytes (a name or a dotted quad), PORT 1 to 65535. */
function brokerSetting(p: usize, n: u32): i32 {
  let h = n;
  while (h > 0 && load<u8>(p + h - 1) != 58) h--; // after the last ':'
  let port: i32 = 0;
  if (h > 0) {
    port = decimal(p + h, n - h);
    if (port < 1 || port > 0xffff) return EINVAL;
    n = h - 1;
  }
  if (n == 0 || n > HOST_MAX) return EINVAL;
  return sensorMqttToName(p, n, <u32>port, pubEvery);
}

/** Disconnect (the in-flight readings stay for the next broker) and forget a name being resolved. */
function mqttStop(intervalMs: u32): void {
  pubEvery = intervalMs > 0 ? max<u32>(intervalMs, SAMPLE_MS) : SAMPLE_MS;
  pubSeq = readings; // the next one taken
  // Leaving on purpose: the broker discards the will on DISCONNECT (§3.1.2.5), so say it ourselves
  // (QoS 0: it goes in the send ring just ahead of the DISCONNECT).
  if (mqttState() == MQTT_CONNECTED) mqttPublish(status, statusLen, OFFLINE, 7, 0, true);
  if (mqttState() != MQTT_IDLE) mqttDisconnect();
  mqttOn = false;
  subscribed = false;
  statusDue = false;
  resolving = false;
  if (lookup >= 0) dnsRelease(lookup);
  lookup = -1;
}

function mqttStart(ip: u32, port: u32): i32 {
  if (nameLen == 0) defaultName();
  topicLen = putStr(topic, "sensors/");
  memory.copy(topic + topicLen, name, nameLen);
  topicLen += nameLen;
  putStr(topic + topicLen, "/cmd");
  memory.copy(status, topic, topicLen);
  statusLen = topicLen + putStr(status + topicLen, "/status");
  const f = mqttFields;
  memory.fill(changetype<usize>(f), 0, offsetof<ConnectFields>());
  f.keepAlive = keepAliveS;
  f.clean = 0; // the broker keeps the subscription, and commands sent while we were away
  // The CONNECT carries it (copied now): retained, so a subscriber arriving later learns it too.
  f.willTopic = status;
  f.willTopicLen = statusLen;
  f.willPayload = OFFLINE;
  f.willPayloadLen = 7;
  f.willQos = 1;
  f.willRetain = 1;
  mqttOnEvent(onMqttEvent);
  mqttOnMessage(onMqttMessage);
  const r = mqttConnect(ip, port > 0 ? port : MQTT_PORT, f, name, nameLen);
  mqttOn = r == OK;
  return r;
}

/** The broker's name: a lookup started, or its answer taken (then connect, or ask again later). */
function resolve(): void {
  if (lookup < 0) {
    if (!due(resolveAt)) return;
    lookup = dnsResolve(host, hostLen);
    if (lookup < 0) {
      logf(WARN, "sensor: cannot resolve the broker (error -%u)", <u32>-lookup);
      lookup = -1;
      resolveAt = now + RESOLVE_RETRY_MS;
      return;
    }
  }
  const r = dnsResult(lookup);
  if (r == EWOULDBLOCK) return;
  const ip = dnsAddress(lookup);
  dnsRelease(lookup);
  lookup = -1;
  if (r != OK || ip == 0) {
    logf(WARN, "sensor: broker %s not resolved (error -%u)", <u32>host, hostLen, <u32>-r);
    resolveAt = now + RESOLVE_RETRY_MS;
    return;
  }
  resolving = false;
  mqttStart(ip, brokerPort);
}

const OFFLINE = memory.data<u8>([111, 102, 102, 108, 105, 110, 101]); // "offline"
const ONLINE = memory.data<u8>([111, 110, 108, 105, 110, 101]); // "online"

// On the app's turn, from the client.
function onMqttEvent(ev: u32, id: u32, code: i32): void {
  if (ev == MQTT_EV_CONNECTED) {
    // Over the will a previous connection may have left (retained, replaced); with every slot
    // taken by readings waiting from before, as soon as one is free (publishStatus on each poll).
    statusDue = true;
    publishStatus();
    // A session the broker kept has the subscription already (§3.2.2.2).
    if (code == 0 || !subscribed) mqttSubscribe(topic, topicLen + 4, 1);
  } else if (ev == MQTT_EV_SUBACK) {
    subscribed = code != 0x80;
    if (!subscribed) logf(WARN, "sensor: command topic refused");
  } else if (ev == MQTT_EV_PUBLISHED) {
    if (id == statusId) statusId = 0; // not a reading
    else acked++;
  }
}

function publishStatus(): void {
  if (!statusDue || mqttState() != MQTT_CONNECTED) return;
  const r = mqttPublish(status, statusLen, ONLINE, 6, 1, true);
  if (r > 0) {
    statusId = <u32>r;
    statusDue = false;
  }
}

function onMqttMessage(t: usize, tl: u32, p: usize, pl: u32, flags: u32): void {
  if (tl != topicLen + 4 || memory.compare(t, topic, tl) != 0) return; // not ours (a wider subscription)
  const ms = command(p, pl);
  if (ms == 0) {
    rejected++;
    logf(WARN, "sensor: bad command (%u bytes)", pl);
    return;
  }
  commands++;
  pubEvery = ms;
  pubSeq = readings - 1 + everyReadings();
  logf(INFO, "sensor: publishing every %u ms", ms);
}

/** The interval an "interval_ms=<decimal>" command sets (trailing CR/LF allowed), 0 if invalid. */
function command(p: usize, n: u32): u32 {
  while (n > 0 && (load<u8>(p + n - 1) == 10 || load<u8>(p + n - 1) == 13)) n--;
  if (!startsWith(p, n, "interval_ms=")) return 0;
  const v = decimal(p + 12, n - 12);
  return v >= <i32>SAMPLE_MS && v <= <i32>INTERVAL_MAX_MS ? <u32>v : 0;
}

/** The decimal p[0..n), 1 to 8 digits (up to 99_999_999: fits an i32), or -1. */
function decimal(p: usize, n: u32): i32 {
  if (n == 0 || n > 8) return -1;
  let v: i32 = 0;
  for (let i: u32 = 0; i < n; i++) {
    const d = <u32>load<u8>(p + i) - 48;
    if (d > 9) return -1;
    v = v * 10 + <i32>d;
  }
  return v;
}

/** True if p[0..n) starts with s (ASCII). */
function startsWith(p: usize, n: u32, s: string): bool {
  if (n < <u32>s.length) return false;
  for (let i = 0; i < s.length; i++) if (load<u8>(p + i) != <u8>s.charCodeAt(i)) return false;
  return true;
}

/** The interval in readings (counted in readings, not on a timer of its own: a late poll delays a
 *  reading, and a second timer would then skip it). */
function everyReadings(): u32 {
  return max<u32>(1, (pubEvery + SAMPLE_MS / 2) / SAMPLE_MS);
}

function publish(): void {
  pubSeq = readings - 1 + everyReadings();
  const p = UDP_TX_PAYLOAD;
  let n = putReading(p);
  n += putStr(p + n, ",\"t\":");
  if (sntpSynced()) {
    const ms = sntpUnixMs();
    n += putU32(p + n, <u32>(ms / 1000)); // u32 seconds: good until 2106
    const f = <u32>(ms % 1000);
    store<u8>(p + n++, 46); // '.'
    n += put3(p + n, f);
  } else {
    n += putStr(p + n, "null");
  }
  store<u8>(p + n++, 125); // '}'
  const r = mqttPublish(topic, topicLen, p, n, 1, false);
  if (r > 0) published++;
  else dropped++; // ENOBUFS: every slot taken; ENOTCONN: the client stopped (a refused CONNACK)
}

export function sensorMqttPublished(): u32 {
  return published;
}
export function sensorMqttAcked(): u32 {
  return acked;
}
export function sensorMqttDropped(): u32 {
  return dropped;
}
export function sensorCommands(): u32 {
  return commands;
}
export function sensorCommandsRejected(): u32 {
  return rejected;
}
/** The MQTT publish interval in ms. */
export function sensorMqttInterval(): u32 {
  return pubEvery;
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
  mqttOn = false;
  subscribed = false;
  resolving = false;
  lookup = -1;
  published = acked = dropped = commands = rejected = statusId = 0;
  statusDue = false;
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
  if (resolving) resolve();
  publishStatus();
  if (due(nextSample)) {
    sample();
    // Published as it is taken: each publish a new reading, none skipped.
    if (mqttOn && <i32>(readings - 1 - pubSeq) >= 0) publish();
  }
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
  return n + put3(p + n, <u32>v % 1000);
}

/** f (0..999) as three digits. */
function put3(p: usize, f: u32): u32 {
  store<u8>(p, <u8>(48 + f / 100));
  store<u8>(p + 1, <u8>(48 + f / 10 % 10));
  store<u8>(p + 2, <u8>(48 + f % 10));
  return 3;
}

/** The newest reading as the start of a JSON object: {"seq":N,"mC":V (the caller closes it). */
function putReading(p: usize): u32 {
  let n = putStr(p, "{\"seq\":");
  n += putU32(p + n, readings - 1);
  n += putStr(p + n, ",\"mC\":");
  return n + putI32(p + n, newest());
}

function push(): void {
  nextPush += pushEvery;
  if (due(nextPush)) nextPush = now + pushEvery;
  const p = UDP_TX_PAYLOAD;
  let n = putReading(p);
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
  return at <= reqLen && startsWith(req + at, reqLen - at, s);
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
