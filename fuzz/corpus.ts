// Builds the fuzz seed corpus (fuzz/corpus/<target>/) from the real frames in fuzz/captures/*.pcap
// (fuzz/capture.ts), in the input format of fuzz/harness.c. Every frame the kernel or dnsmasq sent
// the board is moved into the targets' world (fuzz/params.h: MACs, addresses; the established
// target's ports): TCP sequence numbers become relative to the flow's ISNs (record 0x03, so the
// harness adds the connection's IRS and ISS), DHCP and DNS replies get their xid, id and port from
// the harness (record 0x03); so do NTP replies (port, origin timestamp). mDNS frames go in as
// they are (their names are the sensor's, as the mdns target's); the broker's segments get sequence
// numbers relative to its ISN and an acknowledgement of all the board sent (the mqtt target's
// client sent other bytes than the captured sensor). Deterministic: the same pcaps give the same files.
//   node --import tsx fuzz/corpus.ts [--check]   (--check: exit 1 if the checked-in corpus differs)
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ipToU32 } from "../host/board/address.ts";
import { ROOT } from "../host/board/board.ts";
import { parsePcap } from "../host/capture/pcap.ts";
import { DEFAULTS } from "../host/devices/tap.ts";
import { internetChecksum } from "../host/sim/frames.ts";

export const FUZZ_TARGETS = ["listen", "established", "dhcp", "dns", "mdns", "mqtt", "sntp"] as const;
export type FuzzTarget = (typeof FUZZ_TARGETS)[number];

/** fuzz/params.h, parsed (the C header is the source of truth). */
export function fuzzParams(): Record<string, number | number[] | string> {
  const text = readFileSync(path.join(ROOT, "fuzz", "params.h"), "utf8");
  const out: Record<string, number | number[] | string> = {};
  for (const m of text.matchAll(/^#define FUZZ_(\w+) (.+?)(?:\s*\/\*.*)?$/gm)) {
    const v = m[2].trim();
    if (v.startsWith("{")) out[m[1]] = v.slice(1, -1).split(",").map((x) => Number(x.trim()));
    else if (v.startsWith('"')) out[m[1]] = JSON.parse(v);
    else out[m[1]] = Number(v.replace(/u$/, ""));
  }
  return out;
}

const P = fuzzParams();
const BOARD_MAC = Uint8Array.from(P.BOARD_MAC as number[]);
const PEER_MAC = Uint8Array.from(P.PEER_MAC as number[]);
const BOARD_IP = P.BOARD_IP as number;
const PEER_IP = P.PEER_IP as number;
const PEER_PORT = P.PEER_PORT as number;
const HTTP_PORT = P.HTTP_PORT as number;

// The capture's world (fuzz/capture.ts).
const CAP_BOARD_MAC = Uint8Array.from(DEFAULTS.mac.split(":").map((x) => parseInt(x, 16)));
const CAP_BOARD_IP = ipToU32("10.213.95.2");
const CAP_PEER_IP = ipToU32("10.213.95.1");

const g16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];
const g32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const p16 = (b: Uint8Array, o: number, v: number) => ((b[o] = (v >>> 8) & 255), (b[o + 1] = v & 255));
const p32 = (b: Uint8Array, o: number, v: number) => (p16(b, o, v >>> 16), p16(b, o + 2, v & 0xffff));
const sameMac = (b: Uint8Array, o: number, m: Uint8Array) => m.every((x, i) => b[o + i] === x);

function mapIp(ip: number): number {
  if (ip === CAP_BOARD_IP) return BOARD_IP;
  if (ip === CAP_PEER_IP) return PEER_IP;
  if (ip === ((CAP_PEER_IP | 0xff) >>> 0)) return (PEER_IP | 0xff) >>> 0;
  return ip;
}

function mapMacAt(b: Uint8Array, o: number, kernelMac: Uint8Array): void {
  if (sameMac(b, o, CAP_BOARD_MAC)) b.set(BOARD_MAC, o);
  else if (sameMac(b, o, kernelMac)) b.set(PEER_MAC, o);
}

/** Every 4-byte capture address and 6-byte board MAC inside a UDP payload (DHCP fields, A records). */
function mapPayload(b: Uint8Array, from: number, to: number, kernelMac: Uint8Array): void {
  for (let o = from; o + 6 <= to; o++) mapMacAt(b, o, kernelMac);
  for (let o = from; o + 4 <= to; o++) {
    const v = g32(b, o);
    const m = mapIp(v);
    if (m !== v) p32(b, o, m);
  }
}

function pseudoSum(ip: Uint8Array, proto: number, len: number): number {
  let s = proto + len;
  for (let o = 12; o < 20; o += 2) s += g16(ip, o);
  return s;
}

/** Recompute the IPv4 header checksum and the TCP/UDP/ICMP checksum of frame f in place. */
export function fixChecksums(f: Uint8Array): void {
  if (f.length < 34 || g16(f, 12) !== 0x0800) return;
  const ip = f.subarray(14);
  const ihl = (ip[0] & 15) * 4;
  const total = g16(ip, 2);
  if (ihl < 20 || total < ihl || total > ip.length) return;
  p16(ip, 10, 0);
  p16(ip, 10, internetChecksum(ip.subarray(0, ihl)));
  const l4 = ip.subarray(ihl, total);
  const proto = ip[9];
  if (proto === 6 && l4.length >= 20) {
    p16(l4, 16, 0);
    p16(l4, 16, internetChecksum(l4, pseudoSum(ip, 6, l4.length)));
  } else if (proto === 17 && l4.length >= 8) {
    p16(l4, 6, 0);
    const c = internetChecksum(l4.subarray(0, g16(l4, 4)), pseudoSum(ip, 17, g16(l4, 4)));
    p16(l4, 6, c === 0 ? 0xffff : c);
  } else if (proto === 1 && l4.length >= 4) {
    p16(l4, 2, 0);
    p16(l4, 2, internetChecksum(l4));
  }
}

interface Frame {
  time: number; // ms since the capture's start
  data: Uint8Array;
  fromBoard: boolean;
}

function loadCapture(name: string): { frames: Frame[]; kernelMac: Uint8Array } {
  const pcap = parsePcap(readFileSync(path.join(ROOT, "fuzz", "captures", name)));
  const t0 = pcap.records.length ? pcap.records[0].timeSec * 1000 + pcap.records[0].timeUsec / 1000 : 0;
  const frames = pcap.records.map((r) => ({
    time: r.timeSec * 1000 + r.timeUsec / 1000 - t0,
    data: r.data,
    fromBoard: sameMac(r.data, 6, CAP_BOARD_MAC),
  }));
  const k = frames.find((f) => !f.fromBoard && f.data.length >= 14);
  return { frames, kernelMac: k ? k.data.slice(6, 12) : new Uint8Array(6) };
}

interface TcpView {
  sport: number;
  dport: number;
  seq: number;
  ack: number;
  flags: number;
}

function tcpOf(f: Uint8Array): TcpView | undefined {
  if (f.length < 54 || g16(f, 12) !== 0x0800 || f[23] !== 6) return undefined;
  const t = 14 + (f[14] & 15) * 4;
  return { sport: g16(f, t), dport: g16(f, t + 2), seq: g32(f, t + 4), ack: g32(f, t + 8), flags: f[t + 13] };
}

interface Retarget {
  /** Rewrite the kernel's port to this. */
  peerPort?: number;
  /** Subtract these from seq / ack (relative numbering). */
  seqBase?: number;
  ackBase?: number;
}

/** A kernel frame moved into the fuzz world (a copy), checksums correct. */
function retarget(src: Uint8Array, kernelMac: Uint8Array, r: Retarget = {}): Uint8Array {
  const f = src.slice();
  if (f.length < 14) return f;
  mapMacAt(f, 0, kernelMac);
  mapMacAt(f, 6, kernelMac);
  const type = g16(f, 12);
  if (type === 0x0806 && f.length >= 42) {
    mapMacAt(f, 22, kernelMac);
    p32(f, 28, mapIp(g32(f, 28)));
    mapMacAt(f, 32, kernelMac);
    p32(f, 38, mapIp(g32(f, 38)));
  } else if (type === 0x0800 && f.length >= 34) {
    p32(f, 26, mapIp(g32(f, 26)));
    p32(f, 30, mapIp(g32(f, 30)));
    const ihl = (f[14] & 15) * 4;
    const end = Math.min(f.length, 14 + g16(f, 16));
    const t = 14 + ihl;
    if (f[23] === 17) mapPayload(f, t + 8, end, kernelMac);
    if (f[23] === 6 && end - t >= 20) {
      if (r.peerPort !== undefined) p16(f, t, r.peerPort);
      if (r.seqBase !== undefined) p32(f, t + 4, (g32(f, t + 4) - r.seqBase) >>> 0);
      if (r.ackBase !== undefined) p32(f, t + 8, (g32(f, t + 8) - r.ackBase) >>> 0);
    }
  }
  fixChecksums(f);
  return f;
}

/** An input: records of fuzz/harness.c. */
class Input {
  private readonly parts: number[] = [];
  frame(f: Uint8Array, fixup: boolean): this {
    this.parts.push(fixup ? 3 : 0, (f.length >>> 8) & 255, f.length & 255, ...f);
    return this;
  }
  /** Records of at most 0x7fff * 100 ms each. */
  advance(ms: number): this {
    while (ms >= 1) {
      const step = Math.min(ms, 0x7fff * 100);
      const v = step < 0x8000 ? Math.round(step) : 0x8000 | Math.round(step / 100);
      this.parts.push(1, v >>> 8, v & 255);
      ms -= step;
    }
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

type Corpus = Map<FuzzTarget, Map<string, Uint8Array>>;

/** The seed inputs of every target, by file name. */
export function buildCorpus(): Corpus {
  const out: Corpus = new Map(FUZZ_TARGETS.map((t) => [t, new Map<string, Uint8Array>()]));
  const contents = new Map<FuzzTarget, Set<string>>(FUZZ_TARGETS.map((t) => [t, new Set<string>()]));
  const add = (t: FuzzTarget, label: string, input: Input) => {
    const m = out.get(t)!;
    const key = Buffer.from(input.bytes()).toString("hex");
    if (input.length === 0 || contents.get(t)!.has(key)) return;
    contents.get(t)!.add(key);
    m.set(`${String(m.size).padStart(3, "0")}-${label.replace(/[^a-z0-9]+/gi, "-").toLowerCase()}`, input.bytes());
  };

  const http = loadCapture("http.pcap");
  const kernel = http.frames.filter((f) => !f.fromBoard);
  const describe = (f: Uint8Array): string => {
    const type = g16(f, 12);
    if (type === 0x0806) return `arp-op${g16(f, 20)}`;
    if (type !== 0x0800) return `ethertype-${type.toString(16)}`;
    const proto = f[23];
    if (proto === 1) return `icmp-type${f[14 + (f[14] & 15) * 4]}-${f.length}`;
    const tcp = tcpOf(f);
    if (tcp) return `tcp-${tcp.dport}-flags${tcp.flags.toString(16)}`;
    return `ip-proto${proto}`;
  };
  // Single frames, as the kernel sent them (checksums correct, absolute numbers): every target.
  for (const t of FUZZ_TARGETS) {
    const seen = new Set<string>();
    for (const f of kernel) {
      const tcp = tcpOf(f.data);
      if (tcp && (tcp.flags & 0x02) === 0) continue; // mid-flow segments only make sense in a flow
      const label = describe(f.data);
      if (seen.has(label)) continue;
      seen.add(label);
      add(t, label, new Input().frame(retarget(f.data, http.kernelMac), false));
    }
  }
  // TCP flows: the kernel's segments in order, relative numbers, with the capture's gaps.
  const flows = new Map<number, Frame[]>();
  for (const f of http.frames) {
    const tcp = tcpOf(f.data);
    if (!tcp) continue;
    const kport = f.fromBoard ? tcp.dport : tcp.sport;
    if (!flows.has(kport)) flows.set(kport, []);
    flows.get(kport)!.push(f);
  }
  let n = 0;
  for (const [, frames] of flows) {
    const syn = frames.find((f) => !f.fromBoard && (tcpOf(f.data)!.flags & 0x12) === 0x02);
    const synAck = frames.find((f) => f.fromBoard && (tcpOf(f.data)!.flags & 0x12) === 0x12);
    if (!syn) continue;
    const kIsn = tcpOf(syn.data)!.seq;
    const bIsn = synAck ? tcpOf(synAck.data)!.seq : 0;
    const fromKernel = frames.filter((f) => !f.fromBoard);
    const label = `flow${n++}-port${tcpOf(syn.data)!.dport}-${fromKernel.length}-segments`;
    // listen: the whole flow, handshake included (the SYN's relative seq 0 becomes the IRS).
    const whole = new Input();
    let last = fromKernel[0].time;
    for (const f of fromKernel) {
      whole.advance(Math.min(5000, f.time - last));
      last = f.time;
      whole.frame(retarget(f.data, http.kernelMac, { seqBase: kIsn, ackBase: bIsn }), true);
    }
    add("listen", label, whole);
    if (!synAck) continue;
    // established: what followed the handshake, on the target's connection (peer port 40000 -> 80).
    // The kernel's ACK of our SYN-ACK completes the handshake; the target is past it.
    const hsAck = fromKernel.find((f) => f !== syn && tcpOf(f.data)!.ack === ((bIsn + 1) >>> 0));
    const after = fromKernel.filter((f) => f !== syn && f !== hsAck);
    if (tcpOf(syn.data)!.dport !== HTTP_PORT || after.length === 0) continue;
    const est = new Input();
    last = after[0].time;
    for (const f of after) {
      est.advance(Math.min(5000, f.time - last));
      last = f.time;
      est.frame(retarget(f.data, http.kernelMac, { peerPort: PEER_PORT, seqBase: kIsn, ackBase: bIsn }), true);
    }
    add("established", label, est);
    // And each of its segments alone.
    for (const f of after) {
      add("established", `segment-flags${tcpOf(f.data)!.flags.toString(16)}-${f.data.length}`,
        new Input().frame(retarget(f.data, http.kernelMac, { peerPort: PEER_PORT, seqBase: kIsn, ackBase: bIsn }), true));
    }
  }

  // DHCP and DNS: dnsmasq's replies, xid / id / port filled in by the harness (record 0x03).
  const dd = loadCapture("dhcp-dns.pcap");
  const udp = dd.frames.filter((f) => !f.fromBoard && f.data.length >= 42 && g16(f.data, 12) === 0x0800 && f.data[23] === 17);
  const dhcp = udp.filter((f) => g16(f.data, 14 + (f.data[14] & 15) * 4) === 67);
  const dns = udp.filter((f) => g16(f.data, 14 + (f.data[14] & 15) * 4) === 53);
  const dhcpType = (f: Uint8Array): number => {
    const o = 14 + (f[14] & 15) * 4 + 8 + 240;
    for (let i = o; i + 2 < f.length; ) {
      if (f[i] === 0) { i++; continue; }
      if (f[i] === 255) break;
      if (f[i] === 53) return f[i + 2];
      i += 2 + f[i + 1];
    }
    return 0;
  };
  // The server's ARP reply: at T1 the board's entry for it has expired, and the unicast REQUEST
  // waits for it (the harness learns the new xid only once the REQUEST is out).
  const arpReply = dd.frames.find((f) => !f.fromBoard && g16(f.data, 12) === 0x0806 && g16(f.data, 20) === 2);
  for (const f of dhcp) {
    const r = retarget(f.data, dd.kernelMac);
    const type = dhcpType(f.data);
    add("dhcp", `dhcp-type${type}`, new Input().frame(r, true));
    // At T1 (half the lease) the client unicasts a REQUEST; the server's ACK renews.
    if (type === 5) {
      const half = ((P.DHCP_LEASE_S as number) * 1000) / 2;
      const renew = new Input().advance(half + 1000);
      if (arpReply) renew.frame(retarget(arpReply.data, dd.kernelMac), false).advance(10);
      add("dhcp", "renew-at-t1-then-ack", renew.frame(r, true));
      add("dhcp", "rebind-at-t2-then-ack", new Input().advance(half + 1000).advance(((P.DHCP_LEASE_S as number) * 1000 * 3) / 8 + 1000).frame(r, true));
    }
  }
  for (const f of dns) add("dns", `dns-reply-${f.data.length}`, new Input().frame(retarget(f.data, dd.kernelMac), true));
  if (dns.length > 1) {
    const seq = new Input();
    for (const f of dns) seq.frame(retarget(f.data, dd.kernelMac), true);
    add("dns", "all-replies", seq);
  }
  add("dns", "timeout-then-retry", new Input().advance(1500).advance(3000));

  // The services: the sensor and chronyd, dig, python3-zeroconf and mosquitto (fuzz/capture.ts).
  const sv = loadCapture("services.pcap");
  const l4At = (f: Uint8Array) => 14 + (f[14] & 15) * 4;
  const isUdp = (f: Uint8Array) => f.length >= 42 && g16(f, 12) === 0x0800 && f[23] === 17;
  const peerSide = sv.frames.filter((f) => !f.fromBoard);
  // SNTP: chronyd's replies, each alone; and a request unanswered.
  for (const f of peerSide.filter((x) => isUdp(x.data) && g16(x.data, l4At(x.data)) === 123)) {
    const r = retarget(f.data, sv.kernelMac);
    add("sntp", `ntp-reply-stratum${r[l4At(r) + 9]}-${r.length}`, new Input().frame(r, true));
  }
  add("sntp", "timeout-then-retry", new Input().advance(20_000).advance(20_000));
  // mDNS: every frame to or from port 5353 (queries, legacy unicast, responses, probes), each alone,
  // and all in order with the capture's gaps (the responder taking the name: the rename).
  const mdns = peerSide.filter((x) => isUdp(x.data) && (g16(x.data, l4At(x.data)) === 5353 || g16(x.data, l4At(x.data) + 2) === 5353));
  const all = new Input();
  let lastT = mdns.length ? mdns[0].time : 0;
  for (const f of mdns) {
    const r = retarget(f.data, sv.kernelMac);
    const from = g16(r, l4At(r)) === 5353 ? "mdns" : "legacy";
    add("mdns", `${from}-${r[l4At(r) + 8 + 2] & 0x80 ? "response" : "query"}-${r.length}`, new Input().frame(r, true));
    all.advance(Math.min(5000, f.time - lastT));
    lastT = f.time;
    all.frame(r, true);
  }
  add("mdns", "all-in-order", all);
  // MQTT: the broker's segments after its CONNACK, on the first connection (by the board's port).
  const synAck = peerSide.find((f) => tcpOf(f.data)?.sport === 1883 && (tcpOf(f.data)!.flags & 0x12) === 0x12);
  if (synAck) {
    const { dport, seq: isn } = tcpOf(synAck.data)!;
    const seg = (f: Frame) => {
      const r = retarget(f.data, sv.kernelMac, { seqBase: isn });
      p32(r, l4At(r) + 8, 0); // the harness acknowledges all the board sent: SND.NXT - 0
      fixChecksums(r);
      return r;
    };
    const dataAt = (f: Uint8Array) => l4At(f) + (f[l4At(f) + 12] >> 4) * 4;
    // The CONNACK (4 bytes at relative 1) is the target's setup: what follows starts at 5.
    const after = peerSide.filter((f) => {
      const t = tcpOf(f.data);
      return t && t.sport === 1883 && t.dport === dport && (t.flags & 0x02) === 0 && ((t.seq - isn) >>> 0) >= 5;
    });
    const whole = new Input();
    let last = after.length ? after[0].time : 0;
    for (const f of after) {
      const n = 14 + g16(f.data, 16) - dataAt(f.data);
      const type = n > 0 ? f.data[dataAt(f.data)] >> 4 : 0;
      add("mqtt", `segment-flags${tcpOf(f.data)!.flags.toString(16)}-type${type}-${n}`, new Input().frame(seg(f), true));
      whole.advance(Math.min(5000, f.time - last));
      last = f.time;
      whole.frame(seg(f), true);
    }
    add("mqtt", `flow-${after.length}-segments`, whole);
  }
  add("mqtt", "keepalive-unanswered", new Input().advance(40_000).advance(40_000));
  add("dhcp", "lease-expiry", new Input().advance(((P.DHCP_LEASE_S as number) + 10) * 1000));
  return out;
}

const DIR = path.join(ROOT, "fuzz", "corpus");

/** Differences between the built corpus and the files in fuzz/corpus (empty when equal). */
export function corpusDiff(built: Corpus = buildCorpus()): string[] {
  const diff: string[] = [];
  for (const [t, files] of built) {
    const dir = path.join(DIR, t);
    const have = existsSync(dir) ? readdirSync(dir).sort() : [];
    for (const name of have) if (!files.has(name)) diff.push(`${t}/${name}: not built any more`);
    for (const [name, bytes] of files) {
      const p = path.join(dir, name);
      if (!existsSync(p)) diff.push(`${t}/${name}: missing`);
      else if (!Buffer.from(readFileSync(p)).equals(Buffer.from(bytes))) diff.push(`${t}/${name}: differs`);
    }
  }
  return diff;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.join(ROOT, "fuzz", "corpus.ts")) {
  const built = buildCorpus();
  if (process.argv.includes("--check")) {
    const d = corpusDiff(built);
    if (d.length) {
      console.error(`fuzz/corpus is not what fuzz/corpus.ts builds from fuzz/captures:\n  ${d.join("\n  ")}`);
      process.exit(1);
    }
  } else {
    for (const [t, files] of built) {
      const dir = path.join(DIR, t);
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      for (const [name, bytes] of files) writeFileSync(path.join(dir, name), bytes);
      console.log(`fuzz/corpus/${t}: ${files.size} inputs`);
    }
  }
}
