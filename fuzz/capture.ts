// Records the real frames the fuzz seed corpus is made from (fuzz/corpus.ts): the traffic of the
// TAP tests, replayed against a board on a TAP device in a namespace this script creates (and
// always deletes, killing what it started by pid), captured to fuzz/captures/*.pcap:
//   http.pcap      the http firmware and the kernel: ARP, ping (small and 1400 bytes), curl
//                  keep-alive and Connection: close fetches, /status, 404, POST, HEAD, a closed
//                  port (RST), a raw python client sending pipelined, split and garbage requests
//   dhcp-dns.pcap  a board with no address and dnsmasq: DISCOVER/OFFER/REQUEST/ACK, then A,
//                  CNAME and NXDOMAIN lookups, then DHCPRELEASE
//   services.pcap  the sensor firmware (sensor.local, _http._tcp, MQTT, SNTP) and the real peers:
//                  chronyd's replies; dig's mDNS queries (multicast and legacy unicast) and
//                  python3-zeroconf's (browse, resolve, then a responder taking sensor.local:
//                  probes and announcements that force the rename); mosquitto's CONNACK, SUBACK,
//                  PUBACKs, PINGRESPs and the commands mosquitto_pub sends at QoS 0, 1 and 2
// Needs root and the real-peer prerequisites (scripts/install-deps.sh). Run: make fuzz-capture.
// The pcaps are checked in, so the corpus builds without root; rerun this only to refresh them.
import path from "node:path";
import { ROOT } from "../host/board/board.ts";
import { DEFAULTS, TapSession } from "../host/devices/tap.ts";
import { Dnsmasq } from "../host/devices/services/dnsmasq.ts";
import { dhcpRelease, dhcpStart, dhcpStatus } from "../host/board/dhcp.ts";
import { chronyConf, startChronyd } from "../host/devices/services/chronyd.ts";
import { killChild } from "../host/devices/netns.ts";
import { ipToU32 } from "../host/board/address.ts";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import type { ChildProcess } from "node:child_process";

const OUT = path.join(ROOT, "fuzz", "captures");
const SUBNET = "10.213.95";
const BOARD = `${SUBNET}.2`;
const PEER = `${SUBNET}.1`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

async function withSession(name: string, pcap: string, fn: (s: TapSession) => Promise<void>, addressless = false, app = "http"): Promise<void> {
  const s = new TapSession();
  try {
    await s.start({
      netns: `wasmip-${name}${process.pid % 100000}`.slice(0, 15),
      tap: "tap0",
      boardIp: `${BOARD}/24`,
      peerIp: `${PEER}/24`,
      app,
      addressless,
      pcap: path.join(OUT, pcap),
    });
    await fn(s);
    if (s.error) throw s.error;
  } finally {
    await s.stop();
  }
}

const RAW = `
import socket, sys
host = sys.argv[1]
def talk(chunks):
    s = socket.create_connection((host, 80), timeout=5)
    for c in chunks:
        s.sendall(c)
    out = b""
    while True:
        d = s.recv(65536)
        if not d: break
        out += d
    s.close()
req = b"GET / HTTP/1.1\\r\\nHost: b\\r\\n\\r\\n"
last = b"GET /nope HTTP/1.1\\r\\nHost: b\\r\\nConnection: close\\r\\n\\r\\n"
talk([req + b"HEAD / HTTP/1.1\\r\\nHost: b\\r\\n\\r\\n" + last])
s = socket.create_connection((host, 80), timeout=5)
for b in req[:12]:
    s.send(bytes([b]))
s.close()
talk([b"\\x16\\x03\\x01\\x02\\x00\\x01\\x00\\x01\\xfc\\x03\\x03"])
talk([b"GET / HTTP/1.0\\r\\nX-Big: " + b"x" * 900 + b"\\r\\n\\r\\n"])
`;

async function http(s: TapSession): Promise<void> {
  if (!(await s.waitReachable(10))) throw new Error("the board does not answer ping");
  const run = async (cmd: string, args: string[]) => {
    await s.exec(cmd, args, { check: false, timeoutMs: 20_000 });
    await sleep(50);
  };
  const url = `http://${BOARD}/`;
  await run("ping", ["-n", "-c", "2", "-i", "0.2", BOARD]);
  await run("ping", ["-n", "-c", "1", "-s", "1400", BOARD]);
  await run("curl", ["--http1.1", "-sS", "-m", "5", url, url]);
  await run("curl", ["--http1.1", "-sS", "-m", "5", "-H", "Connection: close", `http://${BOARD}/status`]);
  await run("curl", ["--http1.1", "-sS", "-m", "5", `http://${BOARD}/nope`]);
  await run("curl", ["--http1.1", "-sS", "-m", "5", "-X", "POST", "-d", "x=1&y=2", url]);
  await run("curl", ["--http1.0", "-sS", "-m", "5", "-I", url]);
  await run("curl", ["-sS", "-m", "5", `http://${BOARD}:81/`]);
  await run("python3", ["-c", RAW, BOARD]);
  await sleep(500);
}

async function dhcpDns(s: TapSession): Promise<void> {
  const d = new Dnsmasq(s, {
    tap: "tap0",
    rangeStart: BOARD,
    rangeEnd: BOARD,
    lease: "1h",
    router: PEER,
    dns: [PEER],
    extraArgs: ["--port=53", "--local=/test/", `--host-record=web.test,${PEER}`, "--cname=example.test,web.test"],
  });
  try {
    await d.ready();
    dhcpStart(s.board!, "wasmip-fuzz");
    await s.waitLease(30_000);
    const b = s.board!;
    for (const name of ["example.test", "web.test", "unknown.test"]) {
      b.dns.flushCache();
      await b.dns.lookup(name).catch(() => undefined);
      await sleep(50);
    }
    dhcpRelease(b);
    for (let i = 0; i < 100 && dhcpStatus(b).state !== "STOPPED"; i++) await sleep(10);
    await sleep(200);
  } finally {
    await d.stop().catch(() => {});
  }
}

/** Debian's interpreter, where python3-zeroconf is. */
const PYTHON = "/usr/bin/python3";
const ZEROCONF = `
import socket, sys, time
from zeroconf import Zeroconf, ServiceBrowser, ServiceInfo
zc = Zeroconf(interfaces=["${PEER}"])
found = []
ServiceBrowser(zc, "_http._tcp.local.", handlers=[lambda zeroconf, service_type, name, state_change: found.append(name)])
end = time.time() + 4
while not found and time.time() < end: time.sleep(0.05)
for n in found: zc.get_service_info("_http._tcp.local.", n, timeout=2000)
# A responder that takes sensor.local (the server of a service of its own): the board renames.
info = ServiceInfo("_claim._tcp.local.", "claim._claim._tcp.local.", addresses=[socket.inet_aton("${PEER}")], port=9, server="sensor.local.")
zc.register_service(info)
time.sleep(3)
zc.unregister_service(info)
zc.close()
`;

async function services(s: TapSession): Promise<void> {
  if (!(await s.waitReachable(10))) throw new Error("the board does not answer ping");
  await s.exec("ip", ["route", "add", "224.0.0.0/4", "dev", "tap0"]);
  const dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-capture-"));
  const children: ChildProcess[] = [];
  try {
    // SNTP: chronyd (it may answer "unsynchronised" at first: the client backs off and asks again).
    const chronyd = await startChronyd((c, a) => s.spawn(c, a), chronyConf(dir, SUBNET, PEER));
    children.push(chronyd.proc);
    const b = s.board!;
    b.sntp.setServers([PEER]);
    s.runner!.kick();
    for (let i = 0; i < 400 && !b.sntp.synced; i++) await sleep(100);
    if (!b.sntp.synced) throw new Error(`no SNTP sync: ${chronyd.log()}`);
    // mDNS: dig (multicast, then legacy unicast from its own port), then zeroconf.
    await s.exec("dig", ["-p", "5353", "@224.0.0.251", "sensor.local", "+time=1", "+tries=1"], { check: false, timeoutMs: 10_000 });
    await s.exec("dig", ["-p", "5353", `@${BOARD}`, "sensor.local", "+time=1", "+tries=1"], { check: false, timeoutMs: 10_000 });
    await s.exec("dig", ["-p", "5353", `@${BOARD}`, "_http._tcp.local", "PTR", "+time=1", "+tries=1"], { check: false, timeoutMs: 10_000 });
    await s.exec(PYTHON, ["-c", ZEROCONF], { check: false, timeoutMs: 30_000 });
    // MQTT: mosquitto; the sensor publishes, takes commands at each QoS, then the broker goes.
    const conf = path.join(dir, "mosquitto.conf");
    writeFileSync(conf, `listener 1883 ${PEER}\nallow_anonymous true\npersistence false\n`);
    const broker = s.spawn("mosquitto", ["-c", conf]);
    children.push(broker);
    await sleep(500);
    const to = b.exports.sensor_mqtt_to as (ip: number, port: number, ms: number) => number;
    if (to(ipToU32(PEER), 0, 0) !== 0) throw new Error("sensor_mqtt_to");
    s.runner!.kick();
    await sleep(3000);
    const name = `sensor-${DEFAULTS.mac.split(":").slice(3).join("")}`; // the sensor's default name
    for (const [qos, msg] of [["0", "interval_ms=2000"], ["1", "interval_ms=bad"], ["2", "interval_ms=1000"]]) {
      await s.exec("mosquitto_pub", ["-h", PEER, "-q", qos, "-t", `sensors/${name}/cmd`, "-m", msg], { check: false, timeoutMs: 10_000 });
    }
    await sleep(2000);
    await killChild(broker);
    await sleep(500);
  } finally {
    for (const c of children) await killChild(c).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

mkdirSync(OUT, { recursive: true });
const only = process.argv.slice(2);
if (only.length === 0 || only.includes("http")) await withSession("fh", "http.pcap", http);
if (only.length === 0 || only.includes("dhcp-dns")) await withSession("fd", "dhcp-dns.pcap", dhcpDns, true);
if (only.length === 0 || only.includes("services")) await withSession("fs", "services.pcap", services, false, "sensor");
console.log(`wrote ${path.relative(ROOT, OUT)}/*.pcap`);
