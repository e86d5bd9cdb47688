// Hostile input: well over 100,000 random and mutated frames into board.input(). Whatever the
// bytes, the core must not trap, must account for every frame in exactly one rx counter, must
// not grow its memory, and whatever it sends back must be well formed.
// Reproduce a failure with WASMIP_FUZZ_SEED=<seed printed in the failure>.
import { test } from "node:test";
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { ipToU32 } from "../../host/board/address.ts";
import { Board, COUNTER_KIND } from "../../host/board/board.ts";
import { Prng } from "../../host/sim/prng.ts";
import {
  arp,
  arpReplyFrame,
  arpRequestFrame,
  ethernet,
  fixIcmpChecksum,
  fixIpv4Checksum,
  icmpEcho,
  icmpEchoFrame,
  internetChecksum,
  ipv4,
  describeFrame,
  get16,
  ARP_REPLY,
  ARP_REQUEST,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_VLAN,
  ICMP_ECHO_REPLY,
  IPPROTO_ICMP,
  IPPROTO_TCP,
  IPPROTO_UDP,
} from "../../host/sim/frames.ts";

const SEED = process.env.WASMIP_FUZZ_SEED !== undefined ? Number(process.env.WASMIP_FUZZ_SEED) >>> 0 : randomInt(2 ** 32);
const FRAMES = Number(process.env.WASMIP_FUZZ_FRAMES ?? 120_000);

const DUT_MAC = "02:00:00:00:00:02";
const DUT_IP = "10.0.0.2";
const PEER_MAC = "02:00:00:00:00:01";
const PEER_IP = "10.0.0.1";
const OTHER_MAC = "02:00:00:00:00:99";
const BCAST = "ff:ff:ff:ff:ff:ff";

/** Valid frames addressed to the DUT (or broadcast), the seeds of every mutation. */
function templates(): { name: string; frame: Uint8Array }[] {
  const echo = (payload: number, extra: Partial<Parameters<typeof icmpEchoFrame>[0]> = {}) =>
    icmpEchoFrame({ srcMac: PEER_MAC, dstMac: DUT_MAC, srcIp: PEER_IP, dstIp: DUT_IP, id: 0x1234, seq: 1, payload, ...extra });
  const ip = (protocol: number, payload: Uint8Array, o: Partial<Parameters<typeof ipv4>[0]> = {}, dstMac = DUT_MAC) =>
    ethernet({ dst: dstMac, src: PEER_MAC, type: ETHERTYPE_IPV4, payload: ipv4({ src: PEER_IP, dst: DUT_IP, protocol, payload, ...o }) });
  const unreachable = new Uint8Array(8 + 28);
  unreachable[0] = 3;
  unreachable[1] = 1;
  unreachable.set(ipv4({ src: DUT_IP, dst: "10.0.0.77", protocol: IPPROTO_UDP, payload: new Uint8Array(8) }).subarray(0, 28), 8);
  fixIcmpChecksum(unreachable);
  return [
    { name: "arp request (broadcast)", frame: arpRequestFrame({ srcMac: PEER_MAC, srcIp: PEER_IP, targetIp: DUT_IP }) },
    { name: "arp request (unicast)", frame: arpRequestFrame({ srcMac: PEER_MAC, srcIp: PEER_IP, targetIp: DUT_IP, dstMac: DUT_MAC }) },
    { name: "arp reply", frame: arpReplyFrame({ srcMac: PEER_MAC, srcIp: PEER_IP, dstMac: DUT_MAC, dstIp: DUT_IP }) },
    {
      name: "gratuitous arp",
      frame: ethernet({ dst: BCAST, src: PEER_MAC, type: ETHERTYPE_ARP, payload: arp({ op: ARP_REQUEST, sha: PEER_MAC, spa: PEER_IP, tpa: PEER_IP }) }),
    },
    {
      name: "arp reply claiming the DUT's address",
      frame: ethernet({ dst: BCAST, src: OTHER_MAC, type: ETHERTYPE_ARP, payload: arp({ op: ARP_REPLY, sha: OTHER_MAC, spa: DUT_IP, tha: BCAST, tpa: DUT_IP }) }),
    },
    { name: "echo request 0", frame: echo(0) },
    { name: "echo request 56", frame: echo(56) },
    { name: "echo request 1472 (full MTU)", frame: echo(1472) },
    { name: "echo reply (unmatched)", frame: echo(56, { type: ICMP_ECHO_REPLY }) },
    { name: "echo request, ttl 1", frame: echo(56, { ttl: 1 }) },
    { name: "echo to subnet broadcast", frame: echo(56, { dstIp: "10.0.0.255", dstMac: BCAST }) },
    { name: "echo to limited broadcast", frame: echo(56, { dstIp: "255.255.255.255", dstMac: BCAST }) },
    { name: "echo with IP options", frame: ip(IPPROTO_ICMP, icmpEcho({ id: 7, seq: 9, payload: 32 }), { options: new Uint8Array([1, 1, 1, 0]) }) },
    { name: "echo with 40 bytes of options", frame: ip(IPPROTO_ICMP, icmpEcho({ id: 7, seq: 9, payload: 32 }), { options: new Uint8Array(40).fill(1) }) },
    { name: "icmp unreachable", frame: ip(IPPROTO_ICMP, unreachable) },
    { name: "udp", frame: ip(IPPROTO_UDP, new Uint8Array(20).fill(7)) },
    { name: "tcp", frame: ip(IPPROTO_TCP, new Uint8Array(20).fill(9)) },
    { name: "fragment (MF)", frame: ip(IPPROTO_ICMP, icmpEcho({ id: 1, seq: 1, payload: 64 }), { mf: true }) },
    { name: "fragment (offset)", frame: ip(IPPROTO_ICMP, new Uint8Array(64), { fragOffset: 8 }) },
    { name: "ipv4 to another host", frame: ip(IPPROTO_ICMP, icmpEcho({ id: 1, seq: 1, payload: 8 }), { dst: "10.0.0.3" }) },
    { name: "ipv6", frame: ethernet({ dst: DUT_MAC, src: PEER_MAC, type: ETHERTYPE_IPV6, payload: new Uint8Array(60) }) },
    { name: "vlan", frame: ethernet({ dst: DUT_MAC, src: PEER_MAC, type: ETHERTYPE_VLAN, payload: echo(56).subarray(12) }) },
  ];
}

const EDGE_IPS = ["0.0.0.0", "255.255.255.255", DUT_IP, PEER_IP, "10.0.0.255", "10.0.0.0", "224.0.0.1", "127.0.0.1", "10.0.1.2"].map(ipToU32);

function put16(b: Uint8Array, off: number, v: number): void {
  if (off + 1 < b.length) {
    b[off] = (v >>> 8) & 255;
    b[off + 1] = v & 255;
  }
}

function put32(b: Uint8Array, off: number, v: number): void {
  put16(b, off, v >>> 16);
  put16(b, off + 2, v & 0xffff);
}

/** Set one header field of `f` to an edge value. Returns a label for failure messages. */
function edgeField(rng: Prng, f: Uint8Array): string {
  const type = f.length >= 14 ? get16(f, 12) : 0;
  const L3 = 14;
  if (type === ETHERTYPE_IPV4 && rng.chance(0.85)) {
    const hl = (f[L3] & 15) * 4;
    const ipLen = f.length - L3;
    switch (rng.nextInt(10)) {
      case 0: {
        const v = rng.nextInt(16);
        f[L3] = (v << 4) | (f[L3] & 15);
        return `ip version ${v}`;
      }
      case 1: {
        const v = rng.nextInt(16);
        f[L3] = (f[L3] & 0xf0) | v;
        return `ihl ${v}`;
      }
      case 2: {
        const v = rng.pick([0, 1, 19, 20, 21, hl - 1, hl, ipLen - 1, ipLen, ipLen + 1, 576, 1500, 1501, 0x7fff, 0xffff]);
        put16(f, L3 + 2, v);
        return `total length ${v}`;
      }
      case 3: {
        const v = rng.pick([0x2000, 0x4000, 0x8000, 0x0001, 0x1fff, 0x3fff, 0xffff, 0x6000]);
        put16(f, L3 + 6, v);
        return `flags/fragment 0x${v.toString(16)}`;
      }
      case 4: {
        const v = rng.pick([0, 1, 255]);
        f[L3 + 8] = v;
        return `ttl ${v}`;
      }
      case 5: {
        const v = rng.pick([0, 1, 2, 6, 17, 41, 58, 255]);
        f[L3 + 9] = v;
        return `protocol ${v}`;
      }
      case 6: {
        const v = rng.pick(EDGE_IPS);
        put32(f, L3 + 12, v);
        return `src ip ${v}`;
      }
      case 7: {
        const v = rng.pick(EDGE_IPS);
        put32(f, L3 + 16, v);
        return `dst ip ${v}`;
      }
      case 8: {
        const off = L3 + Math.max(20, hl);
        const t = rng.nextInt(256);
        if (off < f.length) f[off] = t;
        if (off + 1 < f.length) f[off + 1] = rng.pick([0, 1, 3, 255]);
        return `icmp type ${t}`;
      }
      default: {
        put16(f, L3 + 10, rng.pick([0, 0xffff, rng.nextInt(65536)]));
        return "ip checksum";
      }
    }
  }
  if (type === ETHERTYPE_ARP && rng.chance(0.85)) {
    const a = L3;
    switch (rng.nextInt(8)) {
      case 0:
        put16(f, a, rng.pick([0, 2, 6, 0xffff]));
        return "arp htype";
      case 1:
        put16(f, a + 2, rng.pick([0, 0x86dd, 0x0806, 0xffff]));
        return "arp ptype";
      case 2:
        f[a + 4] = rng.pick([0, 1, 5, 7, 16, 255]);
        return "arp hlen";
      case 3:
        f[a + 5] = rng.pick([0, 1, 3, 5, 16, 255]);
        return "arp plen";
      case 4:
        put16(f, a + 6, rng.pick([0, 3, 4, 8, 9, 0xffff]));
        return "arp op";
      case 5:
        put32(f, a + 14, rng.pick(EDGE_IPS));
        return "arp spa";
      case 6:
        put32(f, a + 24, rng.pick(EDGE_IPS));
        return "arp tpa";
      default:
        f.set(Uint8Array.from(rng.pick([[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [1, 0, 0x5e, 0, 0, 1], [0, 0, 0, 0, 0, 0], [2, 0, 0, 0, 0, 2]])), a + 8);
        return "arp sha";
    }
  }
  if (rng.chance(0.5)) {
    const v = rng.pick([0, 0x05dc, 0x0600, ETHERTYPE_IPV4, ETHERTYPE_ARP, ETHERTYPE_IPV6, ETHERTYPE_VLAN, 0x88cc, 0xffff]);
    put16(f, 12, v);
    return `ethertype 0x${v.toString(16)}`;
  }
  const dst = rng.pick([[0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [1, 0, 0x5e, 0, 0, 1], [0x33, 0x33, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0], [2, 0, 0, 0, 0, 3]]);
  f.set(Uint8Array.from(dst).subarray(0, Math.max(0, Math.min(6, f.length))), 0);
  f.set(Uint8Array.from(rng.pick([[2, 0, 0, 0, 0, 2], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], [1, 0, 0x5e, 0, 0, 1]])).subarray(0, Math.max(0, Math.min(6, f.length - 6))), 6);
  return "ethernet addresses";
}

/** Recompute the IPv4 and ICMP checksums so a mutation gets past them to the deeper checks. */
function fixChecksums(f: Uint8Array): void {
  if (f.length < 34 || get16(f, 12) !== ETHERTYPE_IPV4) return;
  const ip = f.subarray(14);
  fixIpv4Checksum(ip);
  const hl = (ip[0] & 15) * 4;
  const end = Math.min(ip.length, Math.max(get16(ip, 2), hl));
  if (ip[9] === IPPROTO_ICMP && hl >= 20 && end - hl >= 4) fixIcmpChecksum(ip.subarray(hl, end));
}

interface Dut {
  board: Board;
  fed: number;
  now: number;
}

test(`hostile frames into board.input(): no trap, every frame accounted, no memory growth (seed ${SEED})`, (t) => {
  t.diagnostic(`seed ${SEED} (set WASMIP_FUZZ_SEED=${SEED} to reproduce), ${FRAMES} frames`);
  const rng = new Prng(SEED);
  const why = (msg: string) => `${msg} [WASMIP_FUZZ_SEED=${SEED}]`;
  const txProblems: string[] = []; // collected, reported at the end: they are not traps
  let lastInput = "";
  const mkDut = (name: string, ip: string | undefined): Dut => {
    const r = rng.fork(name);
    const dut: Dut = { board: undefined as unknown as Board, fed: 0, now: 1_000_000 };
    dut.board = new Board({
      name,
      mac: DUT_MAC,
      ip,
      prefix: 24,
      gateway: ip ? PEER_IP : undefined,
      clock: () => dut.now,
      random: () => r.nextU32(),
      transmit: (f) => {
        const problem = checkTx(f);
        if (problem) txProblems.push(`${problem}\n    in reply to ${lastInput}`);
      },
    });
    return dut;
  };
  const duts = [mkDut("dut", DUT_IP), mkDut("dut-unconfigured", undefined)];
  const rxSize = 1514;
  const tpl = templates();

  let current = "";
  const feed = (f: Uint8Array, what: string) => {
    const dut = duts[rng.chance(0.9) ? 0 : 1];
    current = what;
    lastInput = `${what}: ${hex(f)}`;
    const before = dut.board.rxAccounted();
    let name: string;
    try {
      name = dut.board.input(f);
    } catch (e) {
      assert.fail(why(`${dut.board.name}: input threw on ${what} (${f.length} bytes: ${hex(f)}): ${(e as Error).stack}`));
    }
    dut.fed++;
    if (name === undefined || dut.board.counterKind(name) === COUNTER_KIND.event)
      assert.fail(why(`${dut.board.name}: input returned a non-rx counter '${name}' for ${what}: ${hex(f)}`));
    const after = dut.board.rxAccounted();
    if (after !== before + 1) assert.fail(why(`${dut.board.name}: rx counters moved by ${after - before} for ${what}: ${hex(f)}`));
    if (dut.fed % 256 === 0) {
      dut.now += rng.nextInt(20_000); // let ARP entries and pending requests age and expire
      const sleep = dut.board.poll(dut.now);
      if (sleep > 1000) assert.fail(why(`poll returned ${sleep} ms (> WASMIP_POLL_MAX_SLEEP_MS)`));
    }
  };
  const total = () => duts[0].fed + duts[1].fed;

  // 1. Every template as is, then truncated at every length.
  for (const { name, frame } of tpl) {
    feed(frame, name);
    for (let len = 0; len < frame.length; len++) feed(frame.subarray(0, len), `${name} truncated to ${len}`);
  }
  // 2. Random lengths 0..rxSize+200, random or half-plausible content.
  // 3. Mutations of valid frames: byte and bit flips, edge field values, with and without fixed checksums.
  while (total() < FRAMES) {
    const kind = rng.nextInt(100);
    if (kind < 15) {
      const len = rng.chance(0.1) ? rxSize + rng.nextRange(-2, 200) : rng.nextInt(rxSize + 1);
      const f = rng.bytes(len);
      if (rng.chance(0.7) && len >= 6) f.set(rng.chance(0.5) ? [2, 0, 0, 0, 0, 2] : [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0);
      if (rng.chance(0.7) && len >= 14) put16(f, 12, rng.chance(0.5) ? ETHERTYPE_IPV4 : ETHERTYPE_ARP);
      if (rng.chance(0.5) && len >= 15 && get16(f, 12) === ETHERTYPE_IPV4) f[14] = 0x45;
      if (rng.chance(0.5)) fixChecksums(f);
      feed(f, `random ${len} bytes`);
      continue;
    }
    const base = rng.pick(tpl);
    let f = base.frame.slice();
    let what = base.name;
    if (kind < 45) {
      const n = rng.nextRange(1, 8);
      for (let i = 0; i < n; i++) {
        const off = rng.nextInt(f.length);
        if (rng.chance(0.5)) f[off] ^= 1 << rng.nextInt(8);
        else f[off] = rng.nextInt(256);
      }
      what += ` with ${n} byte/bit flips`;
    } else if (kind < 85) {
      const n = rng.nextRange(1, 3);
      const labels: string[] = [];
      for (let i = 0; i < n; i++) labels.push(edgeField(rng, f));
      what += ` with ${labels.join(", ")}`;
    } else if (kind < 92) {
      const len = rng.nextRange(f.length, rxSize + 300);
      const g = new Uint8Array(len);
      g.set(f);
      if (rng.chance(0.5)) g.set(rng.bytes(len - f.length), f.length);
      f = g;
      what += ` padded to ${len}`;
    } else {
      const other = rng.pick(tpl).frame;
      const cut = rng.nextInt(Math.min(f.length, other.length));
      const g = new Uint8Array(other.length);
      g.set(f.subarray(0, cut));
      g.set(other.subarray(cut), cut);
      f = g;
      what += ` spliced at ${cut}`;
    }
    const fixed = rng.chance(0.5);
    if (fixed) fixChecksums(f);
    if (rng.chance(0.2)) {
      const len = rng.nextInt(f.length + 1);
      f = f.subarray(0, len);
      what += ` truncated to ${len}`;
    }
    feed(f, what + (fixed ? " (checksums fixed)" : ""));
  }

  for (const d of duts) {
    assert.equal(d.board.rxAccounted(), d.fed, why(`${d.board.name}: rx counters vs frames fed (last: ${current})`));
    assert.equal(d.board.memoryPages, d.board.pagesAtInit, why(`${d.board.name}: memory grew`));
  }
  assert.ok(total() >= 100_000, why(`only ${total()} frames`));
  if (txProblems.length) {
    const kinds = new Map<string, number>();
    for (const p of txProblems) kinds.set(p.split(":")[0], (kinds.get(p.split(":")[0]) ?? 0) + 1);
    const summary = [...kinds].map(([k, n]) => `${n} x ${k}`).join(", ");
    assert.fail(why(`${txProblems.length} malformed transmitted frames (${summary}), e.g.\n  ${txProblems.slice(0, 3).join("\n  ")}`));
  }
  const c = duts[0].board.counters();
  t.diagnostic(
    `fed ${duts[0].fed} + ${duts[1].fed}; delivered: ` +
      Object.entries(c)
        .filter(([k, v]) => v && duts[0].board.counterKind(k) === COUNTER_KIND.rxDelivered)
        .map(([k, v]) => `${k}=${v}`)
        .join(" "),
  );
  // The mutations reach past the first checks: echo requests really got answered.
  assert.ok(c.icmp_echo_answered > 1000 && c.arp_request_answered > 1000, why(JSON.stringify(c)));
});

/** What the core transmits must be well formed whatever it received. Returns a problem or undefined. */
function checkTx(f: Uint8Array): string | undefined {
  const d = () => `${describeFrame(f)}: ${hex(f)}`;
  if (f.length < 60 || f.length > 1514) return `length ${f.length}: ${d()}`;
  if (f[6] !== 2 || f[7] !== 0 || f[8] !== 0 || f[9] !== 0 || f[10] !== 0 || f[11] !== 2) return `source MAC is not ours: ${d()}`;
  const type = get16(f, 12);
  if (type === ETHERTYPE_ARP) return undefined;
  if (type !== ETHERTYPE_IPV4) return `ethertype 0x${type.toString(16)}: ${d()}`;
  const ip = f.subarray(14);
  const hl = (ip[0] & 15) * 4;
  const total = get16(ip, 2);
  if (ip[0] >>> 4 !== 4 || hl < 20 || total < hl || total > ip.length) return `bad IPv4 header: ${d()}`;
  if (internetChecksum(ip.subarray(0, hl)) !== 0) return `bad IPv4 checksum: ${d()}`;
  if (ip[9] === IPPROTO_ICMP && internetChecksum(ip.subarray(hl, total)) !== 0) return `bad ICMP checksum: ${d()}`;
  return undefined;
}

function hex(f: Uint8Array): string {
  const s = Buffer.from(f.subarray(0, 128)).toString("hex");
  return f.length > 128 ? `${s}... (${f.length} bytes)` : s;
}

// Found by the fuzzer. An echo request whose ICMP words besides type/checksum are all zero (id 0,
// seq 0, zero payload) carries checksum 0xf7ff. The reply's only change is type 8 -> 0, and the
// incremental update of RFC 1624 eqn. 3 gives 0x0000 for it, where the full checksum of the
// all-zero reply is 0xffff: 0x0000 sums to 0, not to all ones, so receivers drop the reply.
test("echo reply to an all-zero echo request (id 0, seq 0, zero payload) has a valid ICMP checksum", () => {
  const sent: Uint8Array[] = [];
  const board = new Board({ mac: DUT_MAC, ip: DUT_IP, clock: () => 0, random: () => 1, transmit: (f) => sent.push(f) });
  board.input(arpRequestFrame({ srcMac: PEER_MAC, srcIp: PEER_IP, targetIp: DUT_IP })); // learn the peer
  sent.length = 0; // the gratuitous ARP and the ARP reply
  for (const payload of [0, 56]) {
    const req = icmpEchoFrame({ srcMac: PEER_MAC, dstMac: DUT_MAC, srcIp: PEER_IP, dstIp: DUT_IP, id: 0, seq: 0, payload: new Uint8Array(payload) });
    assert.equal(get16(req, 14 + 20 + 2), 0xf7ff);
    assert.equal(board.input(req), "icmp_echo_answered");
    assert.equal(sent.length, 1);
    const reply = sent.pop()!;
    assert.equal(checkTx(reply), undefined, `payload ${payload}: reply ${hex(reply)}`);
  }
});
