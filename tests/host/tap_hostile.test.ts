// Hostile traffic against a live board over TAP: frames crafted in the harness (host/sim/frames.ts)
// and sent from the kernel's side of the tap by build/pkt-inject (host/devices/inject.ts), inside a
// namespace each test creates and always deletes (every process it started is killed by pid).
// Every flood is bounded in count and rate, and goes only to that tap. The board is the Node
// harness's (its TapRunner shows the counter of every received frame, so each crafted frame is
// checked for the exact counter that accounted for it). Without the prerequisites a test is
// skipped locally and FAILS under CI=true.
//   - blind attacks on a 16 MiB transfer: in-window RSTs and SYNs, out-of-window data, ACKs for
//     data never sent: the transfer completes with sha256 equal, challenge ACKs rate-limited;
//   - malformed frames at every edge: counted drops (or the documented acceptance), no trap,
//     the board keeps serving, an unsolicited ARP reply does not poison the cache;
//   - more connections than the board has room for (blocks and buffer sets), from the kernel;
//   - a SYN flood of 50,000 SYNs from random spoofed on-link sources while the kernel keeps
//     fetching the page: each second of it serves the kernel's fetches (printed per second).
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomInt } from "node:crypto";
import { requirePrereqs } from "./prereqs.ts";
import { ipToU32 } from "../../host/board/address.ts";
import { type Board, appWasm } from "../../host/board/board.ts";
import { netnsList, run, IP } from "../../host/devices/netns.ts";
import { TapSession } from "../../host/devices/tap.ts";
import { INJECT_SRC, Injector } from "../../host/devices/inject.ts";
import { Prng } from "../../host/sim/prng.ts";
import {
  ARP_REPLY, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_VLAN, IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, TCP_ACK,
  TCP_PSH, TCP_RST, TCP_SYN, arp, ethernet, fixIpv4Checksum, get16, icmpEcho, ipv4, parseEthernet, parseIpv4, parseTcp, tcp,
  tcpFrame, transportChecksum,
} from "../../host/sim/frames.ts";
import { formatCounters, formatTcpTable } from "../../host/board/netstat.ts";
import { cfg } from "./config.ts";

const SUBNET = "10.213.89";
const BOARD = `${SUBNET}.2`;
const PEER = `${SUBNET}.1`;
const MAC = "02:77:69:70:00:02";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hex = (f: Uint8Array) => Buffer.from(f).toString("hex");

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

// The attacks' sequence offsets and the flood's sources come from this seed (printed with any
// failure); WASMIP_HOSTILE_SEED=N reruns with it.
const SEED = process.env.WASMIP_HOSTILE_SEED !== undefined ? Number(process.env.WASMIP_HOSTILE_SEED) >>> 0 : randomInt(2 ** 32);

/** Runs fn; a failure's message starts with the seed. */
async function seeded(t: { diagnostic: (msg: string) => void }, fn: () => Promise<void>): Promise<void> {
  t.diagnostic(`seed ${SEED} (WASMIP_HOSTILE_SEED=${SEED} reruns it)`);
  try {
    await fn();
  } catch (e) {
    if (e instanceof Error) e.message = `[seed ${SEED}] ${e.message}`;
    throw e;
  }
}

let nsSeq = 0;
const nsName = () => `wasmip-h${String.fromCharCode(97 + nsSeq++)}${process.pid % 100000}`;

interface Observed {
  /** Counter names input() returned for each received frame, by the frame's bytes. */
  rx: Map<string, string[]>;
  tx: Uint8Array[];
  /** Extra per-frame hooks (the flood counts without keeping every frame). */
  onRx?: (frame: Uint8Array, counter: string) => void;
  onTx?: (frame: Uint8Array) => void;
  keep: boolean;
}

async function withBoard(
  t: { skip: (msg: string) => void; diagnostic: (msg: string) => void },
  app: string,
  tools: string[],
  fn: (s: TapSession, obs: Observed, kernelMac: string) => Promise<void>,
): Promise<void> {
  if (!requirePrereqs(t, tools, [appWasm(app), INJECT_SRC])) return;
  const ns = nsName();
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} exists before the test`);
  const logs: string[] = [];
  const obs: Observed = { rx: new Map(), tx: [], keep: true };
  const s = new TapSession();
  try {
    await s.start({
      netns: ns, boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, app, mac: MAC,
      log: (level, msg) => logs.push(`[${level}] ${msg}`),
      observe: (dir, f, counter) => {
        if (dir === "rx") {
          obs.onRx?.(f, counter!);
          if (obs.keep) {
            const k = hex(f);
            const l = obs.rx.get(k);
            if (l) l.push(counter!);
            else obs.rx.set(k, [counter!]);
          }
        } else {
          obs.onTx?.(f);
          if (obs.keep) obs.tx.push(f);
        }
      },
    });
    assert.ok(await s.waitReachable(10), `the board did not answer ping:\n${logs.join("\n")}`);
    const link = await s.exec(IP, ["-o", "link", "show", s.tap]);
    const m = /link\/ether ([0-9a-f:]{17})/.exec(link.stdout);
    assert.ok(m, `the tap's MAC: ${link.stdout}`);
    // Safety: this namespace holds only lo and our tap, and does not forward, so nothing the
    // board sends to a spoofed address can leave it.
    const links = (await s.exec(IP, ["-o", "link", "show"])).stdout.trim().split("\n");
    assert.equal(links.length, 2, `the namespace has only lo and the tap: ${links.join(" | ")}`);
    const fwd = await s.exec("cat", ["/proc/sys/net/ipv4/ip_forward"], { check: false });
    assert.equal(fwd.stdout.trim(), "0", "IPv4 forwarding is off in the test's namespace");
    await fn(s, obs, m[1]);
    assert.equal(s.error, undefined, `runner error (a trap?): ${s.error?.message}\n${logs.slice(-20).join("\n")}`);
  } finally {
    await s.stop();
    if ((await netnsList()).includes(ns)) {
      await run(IP, ["netns", "del", ns], { check: false });
      assert.fail(`namespace ${ns} was left behind by stop()`);
    }
  }
}

/** The block index (fd) and local port of the board's connection to remotePort. */
function connectionTo(b: Board, remotePort: number): { fd: number; localPort: number } | undefined {
  const ex = b.tcp;
  const ptr = ex.io_buffer();
  for (let i = 0; i < b.config("tcpMaxSockets"); i++) {
    if (!ex.tcp_table_row(i, ptr)) continue;
    const v = new DataView(b.memoryBytes().buffer, ptr, 28);
    if (v.getUint32(0, true) === 4 && v.getUint32(16, true) === remotePort) return { fd: i, localPort: v.getUint32(8, true) };
  }
  return undefined;
}

/** Wait (bounded) until every crafted frame has been seen by the board. */
async function allSeen(obs: Observed, frames: Uint8Array[], ms = 10_000): Promise<void> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms && frames.some((f) => !obs.rx.has(hex(f)))) await sleep(20);
}

// ---- Blind attacks on a transfer -----------------------------------------------------------

// Reads at most 32 KiB every 10 ms (about 3 MiB/s), so the transfer lasts a few seconds of attacks.
const SINK = `
import hashlib, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(1)
print("listening", flush=True)
c, a = s.accept()
h = hashlib.sha256()
n = 0
pace = 0
while True:
    d = c.recv(65536)
    if not d:
        break
    h.update(d)
    n += len(d)
    pace += len(d)
    if pace >= 32768:
        pace = 0
        time.sleep(0.01)
c.close()
print("%d %s" % (n, h.hexdigest()), flush=True)
`;

/** sha256 of the bulk app's pattern (assembly/apps/bulk.ts bulkPattern). */
function bulkSha256(n: number): string {
  const buf = Buffer.allocUnsafe(n);
  for (let w = 0; w * 4 < n; w++) {
    let x = w >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d);
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b);
    x ^= x >>> 16;
    for (let k = 0; k < 4 && w * 4 + k < n; k++) buf[w * 4 + k] = (x >>> (8 * k)) & 255;
  }
  return createHash("sha256").update(buf).digest("hex");
}

test("hostile/blind: in-window RSTs and SYNs, out-of-window data, ACKs for data never sent, during a 16 MiB transfer: it completes, sha256 equal, challenge ACKs rate-limited (RFC 5961)", { timeout: 300_000 }, async (t) => {
  await seeded(t, () => withBoard(t, "bulk", ["python3"], async (s, obs, kmac) => {
    const BYTES = 16 * 1024 * 1024;
    const PORT = 5002;
    const sink = s.spawn("python3", ["-c", SINK, PEER, String(PORT)]);
    let out = "";
    sink.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
    for (let i = 0; i < 100 && !out.includes("listening"); i++) await sleep(50);
    const b = s.board!;
    const ex = b.exports as Record<string, (...a: number[]) => number>;
    assert.equal(ex.bulk_send(ipToU32(PEER), PORT, BYTES), 0);
    b.kick();
    let conn: ReturnType<typeof connectionTo>;
    for (let i = 0; i < 200 && !(conn = connectionTo(b, PORT)); i++) await sleep(10);
    assert.ok(conn, "the board's connection to the sink");
    const inj = new Injector(s);
    const rng = new Prng(SEED);
    const rcvBuf = cfg("TCP_RCV_BUF");
    const attacks: { frame: Uint8Array; want: string; kind: string }[] = [];
    const seg = (o: { seq: number; ack?: number; flags: number; payload?: Uint8Array }) =>
      tcpFrame({ srcMac: kmac, dstMac: MAC, src: PEER, dst: BOARD, srcPort: PORT, dstPort: conn!.localPort, window: 65535, id: rng.nextInt(65536), ...o });
    const t0 = performance.now();
    let bursts = 0;
    const limit = cfg("TCP_CHALLENGE_ACK_LIMIT");
    while (ex.bulk_state() === 1 || (ex.bulk_state() === 2 && ex.bulk_sent() < BYTES - 256 * 1024)) {
      const info = b.tcpInfo(conn.fd);
      if (!info || info.state !== "ESTABLISHED") break;
      // The sink sends no data: RCV.NXT stands still, so "in the window but not RCV.NXT" is certain.
      const inWin = () => (info.rcvNxt + 2 + rng.nextInt(rcvBuf - 2)) >>> 0;
      const burst: { frame: Uint8Array; want: string; kind: string }[] = [];
      for (let k = 0; k < 6; k++) burst.push({ kind: "in-window RST", want: "tcp_rst_challenged", frame: seg({ seq: inWin(), ack: info.sndUna, flags: k & 1 ? TCP_RST | TCP_ACK : TCP_RST }) });
      for (let k = 0; k < 3; k++) burst.push({ kind: "in-window SYN", want: "tcp_syn_challenged", frame: seg({ seq: inWin(), flags: TCP_SYN }) });
      const evil = Buffer.from("EVIL".repeat(25));
      burst.push({ kind: "data beyond the window", want: "tcp_out_of_window", frame: seg({ seq: (info.rcvNxt + 2 ** 30 + rng.nextInt(1000)) >>> 0, ack: info.sndUna, flags: TCP_ACK | TCP_PSH, payload: evil }) });
      burst.push({ kind: "old data", want: "tcp_out_of_window", frame: seg({ seq: (info.rcvNxt - 200_000 - rng.nextInt(1000)) >>> 0, ack: info.sndUna, flags: TCP_ACK | TCP_PSH, payload: evil }) });
      burst.push({ kind: "ACK of data never sent", want: "tcp_ack_challenged", frame: seg({ seq: info.rcvNxt, ack: (info.sndNxt + 2 ** 28 + rng.nextInt(1000)) >>> 0, flags: TCP_ACK }) });
      burst.push({ kind: "ACK far behind SND.UNA", want: "tcp_ack_challenged", frame: seg({ seq: info.rcvNxt, ack: (info.sndUna - 2 ** 28) >>> 0, flags: TCP_ACK }) });
      attacks.push(...burst);
      await inj.send(burst.map((a) => a.frame));
      bursts++;
      await sleep(50);
    }
    const attackS = (performance.now() - t0) / 1000;
    for (let i = 0; i < 6000 && ex.bulk_state() > 0 && ex.bulk_state() < 3; i++) await sleep(20);
    await allSeen(obs, attacks.map((a) => a.frame));
    await inj.close();
    for (let i = 0; i < 200 && !/^\d+ [0-9a-f]{64}$/m.test(out); i++) await sleep(50);
    const c = b.counters();
    t.diagnostic(
      `${attacks.length} attack frames in ${bursts} bursts over ${attackS.toFixed(1)} s: rst_challenged ${c.tcp_rst_challenged}, ` +
        `syn_challenged ${c.tcp_syn_challenged}, ack_challenged ${c.tcp_ack_challenged}, out_of_window ${c.tcp_out_of_window}; ` +
        `challenge ACKs sent ${c.tcp_challenge_acks_sent}, rate-limited ${c.tcp_challenge_acks_limited}; resets received ${c.tcp_resets_received ?? 0}`,
    );
    assert.equal(ex.bulk_state(), 3, `the transfer did not complete: state ${ex.bulk_state()}, sent ${ex.bulk_sent()}\n${formatCounters(b).join(" ")}`);
    assert.equal(ex.bulk_sent(), BYTES);
    assert.equal(ex.bulk_received(), 0, "no injected byte reached the application");
    const m = /^(\d+) ([0-9a-f]{64})$/m.exec(out);
    assert.ok(m, `sink report: ${out}`);
    assert.equal(Number(m[1]), BYTES, "bytes the kernel received");
    assert.equal(m[2], bulkSha256(BYTES), "sha256 of what the kernel received");
    assert.ok(bursts >= 3, `${bursts} bursts during the transfer`);
    // Every attack frame was seen, and accounted for by the counter RFC 5961 calls for.
    const wrong = attacks.filter((a) => obs.rx.get(hex(a.frame))?.[0] !== a.want);
    assert.deepEqual(wrong.map((a) => `${a.kind}: ${obs.rx.get(hex(a.frame)) ?? "not seen"} (want ${a.want})`), []);
    assert.equal(c.tcp_resets_received ?? 0, 0, "no RST was obeyed");
    // Challenge ACKs went out, at most TCP_CHALLENGE_ACK_LIMIT per second; the rest were limited.
    const challengeable = attacks.filter((a) => a.want !== "tcp_out_of_window").length;
    assert.ok(c.tcp_challenge_acks_sent > 0, "challenge ACKs were sent");
    assert.ok(c.tcp_challenge_acks_sent <= limit * (Math.ceil(attackS) + 2), `${c.tcp_challenge_acks_sent} challenge ACKs in ${attackS.toFixed(1)} s`);
    assert.equal(c.tcp_challenge_acks_sent + c.tcp_challenge_acks_limited, challengeable, "every challenge either sent or limited");
    assert.ok(c.tcp_challenge_acks_limited > 0, "the limit was reached");
    // The challenge ACKs on the wire: pure ACKs at our SND.MAX that acknowledge RCV.NXT.
    const pureAcks = obs.tx.filter((f) => {
      const ip = parseEthernet(f)?.type === ETHERTYPE_IPV4 ? parseIpv4(f.subarray(14)) : undefined;
      const sg = ip?.protocol === IPPROTO_TCP ? parseTcp(ip.payload) : undefined;
      return sg !== undefined && sg.dstPort === PORT && sg.flags === TCP_ACK && sg.payload.length === 0;
    }).length;
    assert.ok(pureAcks >= c.tcp_challenge_acks_sent, `${pureAcks} pure ACKs seen for ${c.tcp_challenge_acks_sent} challenges`);
  }));
});

// ---- Malformed frames at every edge, more connections than blocks ---------------------------

interface Crafted {
  name: string;
  frame: Uint8Array;
  /** The counter(s) input() may return for it. */
  want: string[];
}

function crafted(kmac: string): Crafted[] {
  const out: Crafted[] = [];
  const add = (name: string, frame: Uint8Array, ...want: string[]) => out.push({ name, frame, want });
  const eth = (payload: Uint8Array, type = ETHERTYPE_IPV4, dst = MAC) => ethernet({ dst, src: kmac, type, payload });
  const ip = (protocol: number, payload: Uint8Array, o: Partial<Parameters<typeof ipv4>[0]> = {}) =>
    ipv4({ src: PEER, dst: BOARD, protocol, payload, id: out.length, ...o });
  let port = 30000;
  const syn = (o: Partial<Parameters<typeof tcp>[0]> = {}) => tcp({ src: PEER, dst: BOARD, srcPort: port++, dstPort: 80, seq: 1000, flags: TCP_SYN, ...o });
  const echo = () => icmpEcho({ id: 0x4242, seq: out.length, payload: 16 });

  // TCP header edges.
  for (const off of [0, 4]) add(`TCP data offset ${off} (< 5)`, eth(ip(IPPROTO_TCP, syn({ dataOffset: off }))), "tcp_bad_header_len");
  add("TCP data offset 15, beyond a 20-byte segment", eth(ip(IPPROTO_TCP, syn({ dataOffset: 15 }))), "tcp_bad_header_len");
  add("TCP data offset 6, beyond a 20-byte segment", eth(ip(IPPROTO_TCP, syn({ dataOffset: 6 }))), "tcp_bad_header_len");
  add("TCP SYN with a zero-length option", eth(ip(IPPROTO_TCP, syn({ options: Uint8Array.from([2, 0, 5, 180]) }))), "tcp_delivered", "tcp_syn_cookie");
  add("TCP SYN with an overlong option", eth(ip(IPPROTO_TCP, syn({ options: Uint8Array.from([2, 40, 5, 180, 1, 1, 1, 1]) }))), "tcp_delivered", "tcp_syn_cookie");
  add("TCP SYN with an option kind in the last byte", eth(ip(IPPROTO_TCP, syn({ options: Uint8Array.from([1, 1, 1, 3]) }))), "tcp_delivered", "tcp_syn_cookie");
  add("TCP SYN with MSS 0 and window scale 255", eth(ip(IPPROTO_TCP, syn({ options: Uint8Array.from([2, 4, 0, 0, 3, 3, 255, 0]) }))), "tcp_delivered", "tcp_syn_cookie");
  add("TCP with a bad checksum", eth(ip(IPPROTO_TCP, syn({ badChecksum: true }))), "tcp_bad_checksum");
  add("TCP from port 0", eth(ip(IPPROTO_TCP, tcp({ src: PEER, dst: BOARD, srcPort: 0, dstPort: 80, seq: 1, flags: TCP_SYN }))), "tcp_bad_endpoint");
  add("TCP to port 0", eth(ip(IPPROTO_TCP, tcp({ src: PEER, dst: BOARD, srcPort: 4444, dstPort: 0, seq: 1, flags: TCP_SYN }))), "tcp_bad_endpoint");
  add("TCP segment of 10 bytes", eth(ip(IPPROTO_TCP, syn().subarray(0, 10))), "tcp_truncated");
  add("TCP ACK to the listener (no connection)", eth(ip(IPPROTO_TCP, tcp({ src: PEER, dst: BOARD, srcPort: port++, dstPort: 80, seq: 5, ack: 77, flags: TCP_ACK }))), "tcp_bad_ack");
  add("TCP to a closed port", eth(ip(IPPROTO_TCP, tcp({ src: PEER, dst: BOARD, srcPort: port++, dstPort: 81, seq: 5, flags: TCP_SYN }))), "tcp_no_socket");
  add("TCP to the subnet broadcast", eth(ip(IPPROTO_TCP, tcp({ src: PEER, dst: `${SUBNET}.255`, srcPort: port++, dstPort: 80, seq: 5, flags: TCP_SYN }), { dst: `${SUBNET}.255` }), ETHERTYPE_IPV4, "ff:ff:ff:ff:ff:ff"), "tcp_broadcast");

  // IPv4 header edges.
  const withIhl = (v: number) => {
    const p = ip(IPPROTO_ICMP, echo());
    p[0] = 0x40 | v;
    fixIpv4Checksum(p);
    return p;
  };
  for (const v of [0, 1, 4]) add(`IHL ${v} (< 5)`, eth(withIhl(v)), "ip_bad_header_len");
  add("IHL 15 with no options", eth(withIhl(15)), "ip_truncated", "ip_bad_checksum");
  const withTotal = (v: number) => {
    const p = ip(IPPROTO_ICMP, echo());
    p[2] = v >>> 8;
    p[3] = v & 255;
    fixIpv4Checksum(p);
    return p;
  };
  add("total length beyond the frame", eth(withTotal(1400)), "ip_truncated");
  add("total length 65535", eth(withTotal(65535)), "ip_truncated");
  add("total length below the header", eth(withTotal(12)), "ip_bad_total_len");
  add("total length 0", eth(withTotal(0)), "ip_bad_total_len");
  add("total length cutting the ICMP header", eth(withTotal(22)), "icmp_truncated");
  const badSum = ip(IPPROTO_ICMP, echo());
  badSum[10] ^= 0xff;
  add("bad IPv4 header checksum", eth(badSum), "ip_bad_checksum");
  const v6 = ip(IPPROTO_ICMP, echo());
  v6[0] = 0x65;
  fixIpv4Checksum(v6);
  add("version 6 in an IPv4 ethertype", eth(v6), "ip_bad_version");
  // Fragments: dropped whatever they look like (no reassembly, documented in config.ts).
  add("first fragment (MF)", eth(ip(IPPROTO_ICMP, echo(), { mf: true })), "ip_fragment_dropped");
  add("last fragment (offset 185)", eth(ip(IPPROTO_ICMP, new Uint8Array(24), { fragOffset: 185 })), "ip_fragment_dropped");
  add("overlapping fragment (offset 1, MF)", eth(ip(IPPROTO_ICMP, new Uint8Array(64), { fragOffset: 1, mf: true })), "ip_fragment_dropped");
  add("absurd fragment offset 8191", eth(ip(IPPROTO_ICMP, new Uint8Array(64), { fragOffset: 0x1fff })), "ip_fragment_dropped");
  add("fragment of a TCP SYN", eth(ip(IPPROTO_TCP, syn(), { mf: true })), "ip_fragment_dropped");
  // TTL 0: a host does not discard for TTL (RFC 1122 §3.2.1.7): answered.
  add("echo request with TTL 0", eth(ip(IPPROTO_ICMP, echo(), { ttl: 0 })), "icmp_echo_answered");
  // Sources that are not hosts (RFC 1122 §3.2.1.3).
  for (const src of ["255.255.255.255", `${SUBNET}.255`, "224.0.0.1", "240.0.0.1", "127.0.0.1", "0.0.0.0", "0.1.2.3", BOARD])
    add(`echo request from ${src}`, eth(ip(IPPROTO_ICMP, echo(), { src })), "ip_bad_source");
  add("echo request to another host", eth(ip(IPPROTO_ICMP, echo(), { dst: `${SUBNET}.77` })), "ip_not_for_us");
  add("unknown IP protocol 99", eth(ip(99, new Uint8Array(20))), "ip_unknown_protocol");
  const icmpBad = echo();
  icmpBad[2] ^= 1;
  add("ICMP bad checksum", eth(ip(IPPROTO_ICMP, icmpBad)), "icmp_bad_checksum");
  add("ICMP of 3 bytes", eth(ip(IPPROTO_ICMP, echo().subarray(0, 3))), "icmp_truncated");

  // UDP.
  const udp = (dstPort: number, len: number, data = new Uint8Array(8), corrupt = false) => {
    const u = new Uint8Array(8 + data.length);
    u[0] = 0x30; u[1] = 0x39;
    u[2] = dstPort >>> 8; u[3] = dstPort & 255;
    u[4] = len >>> 8; u[5] = len & 255;
    u.set(data, 8);
    const c = transportChecksum(u, PEER, BOARD, IPPROTO_UDP) || 0xffff;
    u[6] = (c >>> 8) ^ (corrupt ? 0x55 : 0); u[7] = c & 255;
    return u;
  };
  add("UDP length beyond the datagram", eth(ip(IPPROTO_UDP, udp(9999, 200))), "udp_bad_length");
  add("UDP length below its header", eth(ip(IPPROTO_UDP, udp(9999, 4))), "udp_bad_length");
  add("UDP bad checksum", eth(ip(IPPROTO_UDP, udp(9999, 16, new Uint8Array(8), true))), "udp_bad_checksum");
  add("UDP to a closed port", eth(ip(IPPROTO_UDP, udp(9999, 16))), "udp_no_socket");
  add("UDP of 5 bytes", eth(ip(IPPROTO_UDP, udp(9999, 16).subarray(0, 5))), "udp_truncated");

  // Ethernet and ARP.
  // (A runt shorter than an Ethernet header cannot be sent through AF_PACKET; the fuzz targets and
  // tests/host/hostile.test.ts feed those.)
  add("frame for another MAC", ethernet({ dst: "02:99:99:99:99:99", src: kmac, type: ETHERTYPE_IPV4, payload: ip(IPPROTO_ICMP, echo()) }), "eth_not_for_us");
  add("IPv6", eth(new Uint8Array(40), ETHERTYPE_IPV6), "eth_ipv6_ignored");
  add("VLAN tag", eth(ip(IPPROTO_ICMP, echo()), ETHERTYPE_VLAN), "eth_unknown_type");
  add("ARP of 20 bytes", ethernet({ dst: MAC, src: kmac, type: ETHERTYPE_ARP, payload: arp({ op: 1, sha: kmac, spa: PEER, tpa: BOARD }).subarray(0, 20), pad: false }), "arp_truncated");
  add("ARP for IPv6 (ptype 0x86dd)", eth(arp({ op: 1, sha: kmac, spa: PEER, tpa: BOARD, ptype: ETHERTYPE_IPV6 }), ETHERTYPE_ARP), "arp_unsupported");
  add("ARP op 9", eth(arp({ op: 9, sha: kmac, spa: PEER, tpa: BOARD }), ETHERTYPE_ARP), "arp_bad_op");
  add("ARP from a broadcast MAC", eth(arp({ op: 1, sha: "ff:ff:ff:ff:ff:ff", spa: PEER, tpa: BOARD }), ETHERTYPE_ARP), "arp_bad_sender");
  add("ARP claiming the board's address", eth(arp({ op: 2, sha: "02:66:66:66:66:66", spa: BOARD, tha: MAC, tpa: BOARD }), ETHERTYPE_ARP, "ff:ff:ff:ff:ff:ff"), "arp_address_conflict");
  // Unsolicited replies: one for an address we never asked about, one that would move the
  // kernel's existing entry to an attacker's MAC. Neither may write the cache.
  add("unsolicited ARP reply for a stranger", eth(arp({ op: ARP_REPLY, sha: "02:66:66:66:66:66", spa: `${SUBNET}.66`, tha: MAC, tpa: BOARD }), ETHERTYPE_ARP), "arp_reply_unsolicited");
  add("unsolicited ARP reply moving the kernel's address", eth(arp({ op: ARP_REPLY, sha: "02:66:66:66:66:66", spa: PEER, tha: MAC, tpa: BOARD }), ETHERTYPE_ARP), "arp_reply_unsolicited");
  return out;
}

const EXHAUST = `
import socket, sys, time, json
host, n = sys.argv[1], int(sys.argv[2])
req = b"GET / HTTP/1.1\\r\\nHost: b\\r\\n\\r\\n"
socks, outcome = [], []
for i in range(n):
    s = socket.socket()
    s.settimeout(3)
    try:
        s.connect((host, 80))
        s.sendall(req)
        d = b""
        while b"</html>" not in d:
            d += s.recv(4096)
        socks.append(s)
        outcome.append("served")
    except socket.timeout:
        outcome.append("timeout")
        s.close()
    except ConnectionRefusedError:
        outcome.append("refused")
        s.close()
    except OSError as e:
        outcome.append("error " + str(e))
        s.close()
print(json.dumps(outcome), flush=True)
for s in socks:
    s.close()
`;

test("hostile/malformed: every header field at its edge, fragments, martians, unsolicited ARP: counted, no trap, no cache poisoning, the board keeps serving; then more connections than blocks", { timeout: 300_000 }, async (t) => {
  await withBoard(t, "http", ["python3", "curl", "ping"], async (s, obs, kmac) => {
    const b = s.board!;
    const pages = b.memoryPages;
    const cases = crafted(kmac);
    const inj = new Injector(s, 2000);
    await inj.send(cases.map((c) => c.frame));
    await allSeen(obs, cases.map((c) => c.frame));
    const sent = await inj.close();
    const wrong = cases.filter((c) => !c.want.includes(obs.rx.get(hex(c.frame))?.[0] ?? "not seen"));
    t.diagnostic(`${cases.length} crafted frames (pkt-inject sent ${sent.sent}, failed ${sent.failed}): ` +
      cases.map((c) => `${c.name}: ${obs.rx.get(hex(c.frame))?.[0]}`).join("; "));
    assert.deepEqual(wrong.map((c) => `${c.name}: ${obs.rx.get(hex(c.frame)) ?? "not seen"} (want ${c.want.join(" or ")})`), []);
    assert.equal(b.rxAccounted(), b.counters().rx_frames, "every frame in exactly one receive counter");
    // No poisoning: the board still sends to the kernel's real MAC.
    obs.tx.length = 0;
    const p = await s.exec("ping", ["-n", "-c", "2", "-W", "2", BOARD], { check: false });
    assert.equal(p.code, 0, `ping after the hostile frames: ${p.stdout}${p.stderr}`);
    const replies = obs.tx.filter((f) => f[12] === 8 && f[13] === 0 && f[23] === IPPROTO_ICMP);
    assert.ok(replies.length >= 2, "echo replies seen");
    for (const f of replies) assert.equal(parseEthernet(f)!.dst, kmac, "the echo reply went to the kernel's MAC, not the attacker's");
    const r = await s.exec("curl", ["--http1.1", "-sS", "-m", "10", `http://${BOARD}/`], { check: false, timeoutMs: 20_000 });
    assert.equal(r.code, 0, `curl after the hostile frames: ${r.stderr}`);
    assert.match(r.stdout, /Hello from wasmip/);

    // More connections than the board has room for: each takes a block and a buffer set (the
    // listener a block only), so min(TCP_MAX_CONNECTIONS, TCP_MAX_SOCKETS - 1) are served and held
    // (keep-alive); the others' SYNs are dropped (tcp_no_buffers or tcp_no_block, no RST), so
    // their connects time out, never refused.
    const blocks = Math.min(b.config("tcpMaxConnections"), b.config("tcpMaxSockets") - 1); // the http image's own sizes
    const dropped = () => (b.counters().tcp_no_block ?? 0) + (b.counters().tcp_no_buffers ?? 0);
    const noBlock0 = dropped();
    const x = await s.exec("python3", ["-c", EXHAUST, BOARD, String(2 * blocks)], { check: false, timeoutMs: 120_000 });
    assert.equal(x.code, 0, x.stderr);
    const outcome = JSON.parse(x.stdout.trim().split("\n").pop()!) as string[];
    t.diagnostic(`${2 * blocks} connections from the kernel with room for ${blocks}: ${outcome.join(", ")}; dropped SYNs +${dropped() - noBlock0}`);
    assert.equal(outcome.filter((o) => o === "served").length, blocks, JSON.stringify(outcome));
    assert.deepEqual(outcome.filter((o) => o !== "served" && o !== "timeout"), [], "only timeouts beyond the room, never refused");
    assert.ok(dropped() > noBlock0);
    // The client closed them all: every block comes back.
    for (let i = 0; i < 300 && b.tcpTable().some((row) => row.state !== "LISTEN" && row.state !== "TIME_WAIT"); i++) await sleep(100);
    assert.deepEqual(b.tcpTable().filter((row) => row.state !== "TIME_WAIT").map((row) => row.state), ["LISTEN"], formatTcpTable(b).join("\n"));
    assert.equal(b.memoryPages, pages, "memory pages unchanged");
  });
});

// ---- SYN flood ----------------------------------------------------------------------------

// One fetch after another for `seconds`; each as [start time, seconds taken, ok or why not].
const FETCHER = `
import http.client, sys, time, json
host, seconds = sys.argv[1], float(sys.argv[2])
fetches, t_end = [], time.time() + seconds
while time.time() < t_end:
    t0 = time.time()
    try:
        c = http.client.HTTPConnection(host, 80, timeout=10)
        c.request("GET", "/", headers={"Connection": "close"})
        r = c.getresponse()
        body = r.read()
        c.close()
        why = "" if r.status == 200 and b"Hello from wasmip" in body else "status %d" % r.status
    except Exception as e:
        why = repr(e)
    fetches.append([t0, time.time() - t0, why])
    time.sleep(0.02)
print(json.dumps(fetches), flush=True)
`;

test("hostile/flood: 50,000 SYNs at 10,000/s from random spoofed on-link sources and ports while the kernel keeps fetching the page: bounded by the backlog, answered per policy, memory unchanged, every fetch succeeds from the flood's first second", { timeout: 400_000 }, async (t) => {
  await seeded(t, () => withBoard(t, "http", ["python3"], async (s, obs, kmac) => {
    // 10,000 a second: what the Node board here takes in on a loaded 2-core machine without the
    // tap's queue dropping frames (25,000 asked: 19,000 sent, 15,500 taken in; 100,000 asked:
    // 35,000 sent, 33,000 taken in on an idle one); the printed rate is what was achieved.
    const FLOOD = 50_000;
    const RATE = 10_000;
    const b = s.board!;
    // A /16 on the board's side: the flood's sources, 10.213.90.0 - 10.213.255.255, are neighbours
    // it must resolve by ARP (nobody answers: the kernel has only .89.1). Its own /24 is unchanged.
    b.setIpv4(BOARD, 16, PEER);
    const pages = b.memoryPages;
    obs.keep = false;
    const first = ipToU32(`${SUBNET.split(".").slice(0, 2).join(".")}.90.0`);
    const isFlood = (ip: number) => ip >= first && ip >>> 16 === first >>> 16;
    const fates: Record<string, number> = {};
    let synAcksOut = 0;
    let arpOut = 0;
    obs.onRx = (f, counter) => {
      if (f.length >= 34 && get16(f, 12) === ETHERTYPE_IPV4 && isFlood(((f[26] << 24) | (f[27] << 16) | (f[28] << 8) | f[29]) >>> 0)) fates[counter] = (fates[counter] ?? 0) + 1;
    };
    obs.onTx = (f) => {
      if (f.length >= 54 && get16(f, 12) === ETHERTYPE_IPV4 && f[23] === IPPROTO_TCP && isFlood(((f[30] << 24) | (f[31] << 16) | (f[32] << 8) | f[33]) >>> 0)) synAcksOut++;
      if (f.length >= 42 && get16(f, 12) === ETHERTYPE_ARP && isFlood(((f[38] << 24) | (f[39] << 16) | (f[40] << 8) | f[41]) >>> 0)) arpOut++;
    };
    let worst = 0;
    const maxChildren = cfg("TCP_BACKLOG_MAX");
    const sampler = setInterval(() => {
      worst = Math.max(worst, b.tcpTable().filter((r) => r.state !== "LISTEN" && r.state !== "TIME_WAIT").length);
    }, 20);
    try {
      const seconds = FLOOD / RATE + 4;
      const fetcher = s.spawn("python3", ["-c", FETCHER, BOARD, String(seconds)]);
      let fout = "";
      fetcher.stdout!.setEncoding("utf8").on("data", (d: string) => (fout += d));
      await sleep(1000);
      // The frames are built before the flood starts, so the harness keeps up with the board.
      const rng = new Prng(SEED).fork("flood");
      const batches: Uint8Array[][] = [];
      for (let k = 0; k < FLOOD; k += 5000) {
        const batch: Uint8Array[] = [];
        for (let j = k; j < Math.min(FLOOD, k + 5000); j++) {
          batch.push(tcpFrame({
            srcMac: kmac, dstMac: MAC, src: (first + rng.nextInt((1 << 16) - (first & 0xffff) - 1)) >>> 0, dst: BOARD, // not the /16 broadcast
            srcPort: rng.nextRange(1024, 65535), dstPort: 80, seq: rng.nextU32(), flags: TCP_SYN, id: rng.nextInt(65536),
            options: Uint8Array.from([2, 4, 5, 0xb4, 1, 3, 3, 7]),
          }));
        }
        batches.push(batch);
      }
      const inj = new Injector(s, RATE);
      const tFlood0 = Date.now() / 1000;
      for (const batch of batches) await inj.send(batch);
      const sent = await inj.close(FLOOD / RATE * 1000 + 60_000);
      const tFlood1 = Date.now() / 1000;
      for (let i = 0; i < 600 && !fout.includes("\n"); i++) await sleep(50);
      const fetches = JSON.parse(fout) as [number, number, string][];
      const bad = fetches.filter((f) => f[2] !== "");
      // Per second of the flood, by when each fetch started.
      const perSecond: { ok: number; bad: number; slowest: number }[] = [];
      for (const [t0, took, why] of fetches) {
        if (t0 < tFlood0 || t0 >= tFlood1) continue;
        const sec = (perSecond[Math.floor(t0 - tFlood0)] ??= { ok: 0, bad: 0, slowest: 0 });
        if (why === "") sec.ok++;
        else sec.bad++;
        sec.slowest = Math.max(sec.slowest, took);
      }
      const reached = Object.values(fates).reduce((n, v) => n + v, 0);
      const c = b.counters();
      const floodS = tFlood1 - tFlood0;
      t.diagnostic(
        `flood: pkt-inject sent ${sent.sent} (failed ${sent.failed}) in ${floodS.toFixed(1)} s (${Math.round(sent.sent / floodS)} SYNs/s), ` +
          `${reached} reached the board (${Math.round(reached / floodS)}/s): ${JSON.stringify(fates)}; SYN-ACKs to the spoofed sources ${synAcksOut}, ` +
          `ARP requests for them ${arpOut}; arp_evictions ${c.arp_evictions}, arp_queue_drops ${c.arp_queue_drops}; flood mode entered ${c.tcp_syn_floods}; ` +
          `most children at once ${worst}; fetches ${fetches.length - bad.length} ok, ${bad.length} failed`,
      );
      for (let i = 0; i < perSecond.length; i++) {
        const p = perSecond[i];
        t.diagnostic(`second ${i + 1} of the flood: ${p ? `${p.ok} fetches ok, ${p.bad} failed, slowest ${(p.slowest * 1000).toFixed(0)} ms` : "no fetch started"}`);
      }
      assert.equal(sent.sent, FLOOD, "every SYN of the flood was sent");
      assert.deepEqual(bad, [], "failed fetches");
      // From the flood's first second on, every second served the kernel.
      assert.ok(perSecond.length >= Math.floor(floodS), `fetches in ${perSecond.length} of ${floodS.toFixed(1)} s`);
      for (let i = 0; i < perSecond.length; i++) assert.ok(perSecond[i]?.ok > 0 && perSecond[i].bad === 0, `second ${i + 1} of the flood: ${JSON.stringify(perSecond[i])}`);
      assert.ok(worst <= maxChildren, `${worst} children at once (TCP_BACKLOG_MAX ${maxChildren})`);
      // Each flood SYN that reached the board: a half-open child, a cookie, or a counted drop.
      const allowed = ["tcp_delivered", "tcp_syn_cookie", "tcp_backlog_full", "tcp_no_block", "tcp_no_buffers"];
      assert.deepEqual(Object.keys(fates).filter((k) => !allowed.includes(k)), [], JSON.stringify(fates));
      // The kernel's tap queue drops some of a flood this fast on a loaded machine (seen: 10%);
      // what matters is that a real flood reached the board.
      assert.ok(reached >= 0.5 * FLOOD, `only ${reached} of ${FLOOD} reached the board (the tap's queue dropped the rest)`);
      assert.ok((fates.tcp_syn_cookie ?? 0) > 0, "cookies were sent");
      assert.ok(arpOut > 0, "the board asked for the spoofed sources' MACs");
      assert.equal(b.rxAccounted(), c.rx_frames, "every frame in exactly one receive counter");
      assert.equal(b.memoryPages, pages, "memory pages unchanged");
      // The half-open children time out (5 SYN-ACK retries, about a minute): every block comes back.
      for (let i = 0; i < 1200 && b.tcpTable().some((r) => r.state !== "LISTEN" && r.state !== "TIME_WAIT"); i++) await sleep(100);
      assert.deepEqual(b.tcpTable().filter((r) => r.state !== "TIME_WAIT").map((r) => r.state), ["LISTEN"], `${formatTcpTable(b).join("\n")}\n${formatCounters(b).join(" ")}`);
    } finally {
      clearInterval(sampler);
    }
  }));
});

after(async () => {
  const left = (await netnsList().catch(() => [] as string[])).filter((n) => n.startsWith("wasmip-h") && n.endsWith(String(process.pid % 100000)));
  for (const n of left) await run(IP, ["netns", "del", n], { check: false });
  assert.deepEqual(left, [], "no namespace left behind");
});
