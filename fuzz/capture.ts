// Records the real frames the fuzz seed corpus is made from (fuzz/corpus.ts): the traffic of the
// TAP tests, replayed against a board on a TAP device in a namespace this script creates (and
// always deletes, killing what it started by pid), captured to fuzz/captures/*.pcap:
//   http.pcap      the http firmware and the kernel: ARP, ping (small and 1400 bytes), curl
//                  keep-alive and Connection: close fetches, /status, 404, POST, HEAD, a closed
//                  port (RST), a raw python client sending pipelined, split and garbage requests
//   dhcp-dns.pcap  a board with no address and dnsmasq: DISCOVER/OFFER/REQUEST/ACK, then A,
//                  CNAME and NXDOMAIN lookups, then DHCPRELEASE
// Needs root and the real-peer prerequisites (scripts/install-deps.sh). Run: make fuzz-capture.
// The pcaps are checked in, so the corpus builds without root; rerun this only to refresh them.
import path from "node:path";
import { mkdirSync } from "node:fs";
import { ROOT } from "../host/board/board.ts";
import { TapSession } from "../host/devices/tap.ts";
import { Dnsmasq } from "../host/devices/services/dnsmasq.ts";
import { dhcpRelease, dhcpStart, dhcpStatus } from "../host/board/dhcp.ts";

const OUT = path.join(ROOT, "fuzz", "captures");
const SUBNET = "10.213.95";
const BOARD = `${SUBNET}.2`;
const PEER = `${SUBNET}.1`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

async function withSession(name: string, pcap: string, fn: (s: TapSession) => Promise<void>, addressless = false): Promise<void> {
  const s = new TapSession();
  try {
    await s.start({
      netns: `wasmip-${name}${process.pid % 100000}`.slice(0, 15),
      tap: "tap0",
      boardIp: `${BOARD}/24`,
      peerIp: `${PEER}/24`,
      app: "http",
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

mkdirSync(OUT, { recursive: true });
await withSession("fh", "http.pcap", http);
await withSession("fd", "dhcp-dns.pcap", dhcpDns, true);
console.log(`wrote ${path.relative(ROOT, OUT)}/http.pcap and dhcp-dns.pcap`);
