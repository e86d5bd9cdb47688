// `wasmip ladder`: the demo's handshake parsed back out of the SVG, --conn (and a wrong one),
// crafted captures in three file formats, agreement with tshark's own TCP analysis (on a crafted
// capture, on the demo converted to pcapng by tshark, and on a real Linux connection captured by
// tshark on loopback in a namespace this test creates), and two captures from a lossy simulation
// where the link statistics say exactly what was lost and duplicated.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ipToU32 } from "../../host/board/address.ts";
import { ROOT } from "../../host/board/board.ts";
import { runDemo } from "../../host/sim/demo.ts";
import { readCapture } from "../../host/capture/capture.ts";
import { ladderCommand } from "../../host/cli/ladder.ts";
import { ladderFromFiles, type LadderArrow } from "../../host/capture/ladder.ts";
import { PcapWriter } from "../../host/capture/pcap.ts";
import { Simulator } from "../../host/sim/sim.ts";
import { Netns, run } from "../../host/devices/netns.ts";
import { requirePrereqs } from "./prereqs.ts";
import { LOSSY, bigEndianNanoPcap, pcapng, writeHarnessPcap, EP } from "./tcpcapture.ts";

const dir = mkdtempSync(path.join(tmpdir(), "wasmip-ladder-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));
const CLI = path.join(ROOT, "host", "cli.ts");
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

type Attrs = Record<string, string>;

/** The segment arrows of an SVG: the attributes of each <g class="seg ...">, in document order. */
function arrowsOf(svg: string): Attrs[] {
  const out: Attrs[] = [];
  for (const m of svg.matchAll(/<g class="seg[^"]*"([^>]*)>/g)) {
    const a: Attrs = {};
    for (const kv of m[1].matchAll(/([\w-]+)="([^"]*)"/g)) a[kv[1]] = kv[2];
    out.push(a);
  }
  return out;
}

function ladder(args: string[]) {
  let out = "";
  let err = "";
  const code = ladderCommand(args, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

function wasmip(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, encoding: "utf8", maxBuffer: 64 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const DEMO_PCAP = path.join(dir, "demo.pcap");
let demo: Awaited<ReturnType<typeof runDemo>> | undefined;
async function demoCapture() {
  demo ??= await runDemo({ pcap: DEMO_PCAP, print: () => {} });
  return demo;
}

test("the demo's three-way handshake: SYN, SYN-ACK, ACK in order, directions and relative seq/ack 0/1, then the greeting and both FINs", async () => {
  const d = await demoCapture();
  assert.ok(d.tcp.ok, d.tcp.error);
  const r = ladder([DEMO_PCAP]);
  assert.equal(r.code, 0, r.err);
  const svg = r.out;
  assert.ok(svg.startsWith("<?xml") && svg.trimEnd().endsWith("</svg>"));
  assert.equal((svg.match(/<g[ >]/g) ?? []).length, (svg.match(/<\/g>/g) ?? []).length, "balanced groups");
  // The client A (its leased address and the port the greeter logged) is on the left, G's port 54321 on the right.
  const clientPort = /^\('([\d.]+)', (\d+)\)$/.exec(d.tcp.connectionFrom!)!;
  const A = `${d.boot.leases.A}:${clientPort[2]}`;
  const G = `${d.boot.leases.G}:54321`;
  assert.equal(clientPort[1], d.boot.leases.A);
  assert.match(svg, new RegExp(`data-left="${A}" data-right="${G}"`));
  const s = arrowsOf(svg);
  assert.deepEqual(
    s.slice(0, 3).map((a) => [a["data-flags"], a["data-dir"], a["data-src"], a["data-dst"], a["data-seq"], a["data-ack"]]),
    [
      ["SYN", "right", A, G, "0", undefined],
      ["SYN,ACK", "left", G, A, "0", "1"],
      ["ACK", "right", A, G, "1", "1"],
    ],
  );
  assert.ok(Number(s[0]["data-time-us"]) < Number(s[1]["data-time-us"]) && Number(s[1]["data-time-us"]) < Number(s[2]["data-time-us"]));
  assert.ok(s.every((a) => a["data-notes"] === ""), "a clean link: nothing retransmitted or lost");
  // "Thank you for connecting\n" from G, then G's FIN (it closes first), A's FIN, G's last ACK.
  // G sends and closes in one poll, so its FIN may ride on the greeting's segment; either way the
  // FIN's own sequence number (seq + len) comes right after the greeting's last byte.
  const greeting = s.find((a) => a["data-len"] !== "0")!;
  assert.deepEqual([greeting["data-dir"], greeting["data-len"], greeting["data-seq"]], ["left", String(d.tcp.greeting!.length), "1"]);
  const fins = s.filter((a) => a["data-flags"].split(",").includes("FIN"));
  const finSeq = (a: Attrs) => String(Number(a["data-seq"]) + Number(a["data-len"]));
  assert.deepEqual(fins.map((a) => [a["data-dir"], finSeq(a)]), [["left", String(1 + d.tcp.greeting!.length)], ["right", "1"]]);
  assert.deepEqual([s.at(-1)!["data-flags"], s.at(-1)!["data-dir"], s.at(-1)!["data-ack"]], ["ACK", "left", "2"]);
  // Labels as Wireshark writes them.
  assert.match(svg, /\[SYN\] Seq=0 Len=0 Win=\d+ MSS=\d+/);
  assert.match(svg, /\[SYN, ACK\] Seq=0 Ack=1 Len=0 Win=\d+/);
});

test("--conn picks the connection and the side drawn left; a wrong or malformed --conn, a non-capture and a capture without TCP are clear errors", async () => {
  const d = await demoCapture();
  const G = `${d.boot.leases.G}:54321`;
  const A = arrowsOf(ladder([DEMO_PCAP]).out)[0]["data-src"];
  const swapped = arrowsOf(ladder([DEMO_PCAP, "--conn", `${G}-${A}`]).out);
  assert.deepEqual(swapped.slice(0, 3).map((a) => a["data-dir"]), ["left", "right", "left"]);
  // The second connection of the demo: A fetches from H port 80.
  const H = `${d.boot.leases.H}:80`;
  const http = ladder([DEMO_PCAP, "--conn", `${d.boot.leases.A}:1-${H}`]);
  assert.equal(http.code, 1);
  assert.match(http.err, new RegExp(`no TCP segments between ${d.boot.leases.A}:1 and ${H}`.replace(/\./g, "\\.")));
  assert.match(http.err, /The capture has 2 TCP connections:/);
  assert.ok(http.err.includes(`${A}-${G} (`) && new RegExp(`${d.boot.leases.A.replace(/\./g, "\\.")}:\\d+-${H.replace(/\./g, "\\.")} \\(\\d+ segments\\)`).test(http.err), http.err);
  const port = /:(\d+)-/.exec(/\S+:\d+-\S+:80/.exec(http.err)![0])![1];
  const web = arrowsOf(ladder([DEMO_PCAP, "--conn", `${d.boot.leases.A}:${port}-${H}`]).out);
  assert.deepEqual(web[0]["data-flags"], "SYN");
  assert.ok(web.some((a) => a["data-dir"] === "left" && Number(a["data-len"]) > 100), "the HTTP response");

  for (const bad of ["nonsense", "10.0.0.1:80", "10.0.0.1:80-10.0.0.300:1", "10.0.0.1:70000-10.0.0.2:1"]) {
    const r = ladder([DEMO_PCAP, "--conn", bad]);
    assert.equal(r.code, 2, bad);
    assert.match(r.err, /--conn: expected A\.B\.C\.D:PORT-E\.F\.G\.H:PORT/);
  }
  const junk = path.join(dir, "junk.pcap");
  writeFileSync(junk, "hello, not a capture");
  assert.match(ladder([junk]).err, /junk\.pcap: not a pcap or pcapng file \(starts with 0x6c6c6568\)/);
  assert.match(ladder([path.join(dir, "none.pcap")]).err, /none\.pcap: no such file/);
  const arpOnly = path.join(dir, "arp.pcap");
  const w = new PcapWriter(arpOnly);
  w.write(new Uint8Array(60).fill(0xff).fill(8, 12, 13).fill(6, 13, 14), 0);
  w.close();
  const r = ladder([arpOnly]);
  assert.equal(r.code, 1);
  assert.match(r.err, /arp\.pcap: no TCP segments over IPv4 in 1 frames/);
  assert.equal(ladder([]).code, 2);
  // The command line: exit codes and -o.
  const out = path.join(dir, "demo.svg");
  const c = wasmip("ladder", DEMO_PCAP, "-o", out);
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /^wrote .*demo\.svg: \S+ - \S+, \d+ segments, 0 retransmitted, 0 presumed lost\n$/);
  assert.deepEqual(arrowsOf(readFileSync(out, "utf8")), arrowsOf(ladder([DEMO_PCAP]).out));
  assert.equal(wasmip("ladder", DEMO_PCAP, "--conn", "1.2.3.4:5-6.7.8.9:10").code, 1);
  assert.equal(wasmip("ladder", DEMO_PCAP, "--conn", "x").code, 2);
  assert.match(wasmip("help").out, /ladder FILE\.pcap \[PEER\.pcap\] \[--conn A:P-B:P\] \[-o OUT\.svg\]/);
});

const summary = (s: Attrs[]) => s.map((a) => `${a["data-dir"]} ${a["data-flags"]} seq=${a["data-seq"]} ack=${a["data-ack"] ?? "-"} len=${a["data-len"]} win=${a["data-win"]} t=${a["data-time-us"]} [${a["data-notes"]}]`);

test("a crafted lossy exchange: presumed loss, dup ACKs, fast and spurious retransmission, window scaling; the same from pcap (LE µs), pcap (BE ns) and pcapng (two interfaces)", () => {
  const le = path.join(dir, "craft.pcap");
  writeHarnessPcap(le, LOSSY);
  const be = path.join(dir, "craft-be-ns.pcap");
  writeFileSync(be, bigEndianNanoPcap(LOSSY));
  const ng = path.join(dir, "craft.pcapng");
  writeFileSync(ng, pcapng(LOSSY));
  assert.equal(readCapture(readFileSync(ng)).format, "pcapng");
  const s = arrowsOf(ladder([le]).out);
  const notes = s.map((a) => a["data-notes"]);
  assert.deepEqual(notes, ["", "", "", "presumed lost", "", "", "", "", "dup ack #1", "dup ack #2", "dup ack #3", "fast retransmission", "", "spurious retransmission", "", "", ""]);
  assert.deepEqual(s.slice(0, 4).map((a) => a["data-win"]), ["8000", "6000", "8000", "8000"], "SYN windows unscaled; a's later windows x4 (shift 2)");
  assert.equal(s[8]["data-win"], "6000", "b's 3000 x2 (shift 1)");
  assert.deepEqual(s.map((a) => a["data-seq"]), ["0", "0", "1", "1", "1001", "2001", "3001", "1", "1", "1", "1", "1", "1", "3001", "4001", "1", "4002"]);
  const svg = ladder([le]).out;
  assert.match(svg, /<g class="seg lost"[^>]*data-frame="4"/);
  assert.match(svg, /\[PSH, ACK\] Seq=1 Ack=1 Len=1000 Win=8000 \(presumed lost\)/);
  assert.match(svg, /\[SYN\] Seq=0 Len=0 Win=8000 MSS=1000 WS=4 SACK_PERM/);
  assert.match(svg, /17 segments, 2 retransmitted, 1 presumed lost\./);
  // Other file formats: the same arrows (times: the pcapng's are absolute, so compare relative).
  const rel = (x: Attrs[]) => summary(x.map((a) => ({ ...a, "data-time-us": String(Number(a["data-time-us"]) - Number(x[0]["data-time-us"])) })));
  assert.deepEqual(rel(arrowsOf(ladder([be]).out)), rel(s));
  assert.deepEqual(rel(arrowsOf(ladder([ng]).out)), rel(s));
  // A capture cut short mid-record still draws what it has, with a warning.
  const cut = path.join(dir, "cut.pcap");
  const bytes = readFileSync(le);
  writeFileSync(cut, bytes.subarray(0, bytes.length - 10));
  const r = ladder([cut]);
  assert.equal(r.code, 0);
  assert.match(r.err, /truncated record/);
  assert.equal(arrowsOf(r.out).length, LOSSY.length - 1);
});

/** tshark's view of a conversation: relative seq/ack, length, calculated window, retransmission kinds, dup ack number. */
function tsharkView(file: string, filter: string): string[][] {
  const r = spawnSync(
    "tshark",
    ["-r", file, "-n", "-Y", filter, "-T", "fields", "-E", "separator=\t", ...["tcp.flags.str", "tcp.seq", "tcp.ack", "tcp.len", "tcp.window_size", "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission", "tcp.analysis.duplicate_ack_num"].flatMap((f) => ["-e", f])],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.split("\n").filter((l) => l).map((l) => l.split("\t"));
}

/** Compare our arrows with tshark's dissection of the same segments, field by field. */
function agreeWithTshark(ours: Attrs[], theirs: string[][], what: string): void {
  assert.equal(ours.length, theirs.length, `${what}: segment count`);
  ours.forEach((a, i) => {
    const [flags, seq, ack, len, win, rtx, fast, spurious, dup] = theirs[i];
    const where = `${what}: segment ${i + 1} (${summary([a])[0]} vs tshark ${theirs[i].join(" ")})`;
    assert.equal(a["data-seq"], seq, where);
    if (flags.includes("A")) assert.equal(a["data-ack"], ack, where);
    assert.equal(a["data-len"], len, where);
    assert.equal(a["data-win"], win, where);
    const n = a["data-notes"];
    assert.equal(/retransmission/.test(n), rtx === "1", `${where}: retransmission`);
    assert.equal(/fast retransmission/.test(n), fast === "1", `${where}: fast`);
    assert.equal(/spurious/.test(n), spurious === "1", `${where}: spurious`);
    assert.equal(/dup ack #(\d+)/.exec(n)?.[1] ?? "", dup, `${where}: dup ack`);
  });
}

test("tshark agrees: the crafted capture's analysis, and the demo converted to pcapng by tshark draws the same ladder", async (t) => {
  if (!requirePrereqs(t, ["tshark"], [])) return;
  const le = path.join(dir, "craft2.pcap");
  writeHarnessPcap(le, LOSSY);
  agreeWithTshark(arrowsOf(ladder([le]).out), tsharkView(le, "tcp"), "crafted");
  await demoCapture();
  const ng = path.join(dir, "demo-by-tshark.pcapng");
  const conv = spawnSync("tshark", ["-r", DEMO_PCAP, "-w", ng], { encoding: "utf8", timeout: 60_000 });
  assert.equal(conv.status, 0, conv.stderr);
  assert.equal(readCapture(readFileSync(ng)).format, "pcapng", "tshark writes pcapng by default");
  assert.deepEqual(summary(arrowsOf(ladder([ng]).out)), summary(arrowsOf(ladder([DEMO_PCAP]).out)));
  const first = arrowsOf(ladder([DEMO_PCAP]).out)[0];
  const [ip1, p1] = first["data-src"].split(":");
  const [ip2, p2] = first["data-dst"].split(":");
  agreeWithTshark(arrowsOf(ladder([DEMO_PCAP]).out), tsharkView(DEMO_PCAP, `ip.addr==${ip1} && ip.addr==${ip2} && tcp.port==${p1} && tcp.port==${p2}`), "demo");
});

test("a real Linux TCP connection (curl and python3 http.server on loopback in a namespace), captured by tshark: the ladder agrees with tshark", { timeout: 90_000 }, async (t) => {
  if (!requirePrereqs(t, ["tshark", "curl", "python3", "ss"], [])) return;
  const ns = await Netns.create(`wasmip-l${process.pid}`.slice(0, 15));
  const file = path.join(dir, "lo.pcapng");
  const PORT = 8765;
  try {
    const server = ns.spawn("python3", ["-m", "http.server", String(PORT), "--bind", "127.0.0.1", "--directory", ROOT]);
    server.stdout?.resume();
    server.stderr?.resume();
    let listening = false;
    for (let i = 0; i < 100 && !listening; i++) {
      listening = (await ns.exec("ss", ["-Hltn", `sport = :${PORT}`])).stdout.includes(`:${PORT}`);
      if (!listening) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(listening, "http.server listens");
    const cap = ns.spawn("tshark", ["-n", "-i", "lo", "-f", `tcp port ${PORT}`, "-w", file]);
    let capErr = "";
    cap.stdout?.resume();
    const started = new Promise<void>((resolve) =>
      cap.stderr!.setEncoding("utf8").on("data", (d: string) => {
        capErr += d;
        if (/Capturing on/.test(capErr)) resolve();
      }),
    );
    await Promise.race([started, new Promise((r) => setTimeout(r, 20_000))]);
    assert.match(capErr, /Capturing on/, capErr);
    await new Promise((r) => setTimeout(r, 1000)); // dumpcap says so a moment before its filter is attached
    // Two connections: should the first SYN still have beaten the capture, the second is whole.
    for (let i = 0; i < 2; i++) {
      const c = await ns.exec("curl", ["-sS", "-o", "/dev/null", "-w", "%{http_code}", `http://127.0.0.1:${PORT}/README.md`], { timeoutMs: 20_000 });
      assert.equal(c.stdout, "200");
      await new Promise((r) => setTimeout(r, 500)); // let the close finish and dumpcap write it
    }
    await ns.destroy();
  } finally {
    await ns.destroy();
  }
  // curl's connection: the one that starts with a SYN (in case the capture caught anything before it).
  const { decodeTcp, listConnections } = await import("../../host/capture/ladder.ts");
  const segs = readCapture(readFileSync(file)).frames.map(decodeTcp).filter((x) => x !== undefined);
  const syn = segs.find((x) => x.flags === 2);
  assert.ok(syn, `no SYN captured: ${JSON.stringify(listConnections(segs))}`);
  const r = ladder([file, "--conn", `${syn.src}-${syn.dst}`]);
  assert.equal(r.code, 0, r.err);
  const s = arrowsOf(r.out);
  assert.deepEqual(s.slice(0, 3).map((a) => [a["data-flags"], a["data-dir"], a["data-seq"], a["data-ack"]]), [
    ["SYN", "right", "0", undefined],
    ["SYN,ACK", "left", "0", "1"],
    ["ACK", "right", "1", "1"],
  ]);
  assert.equal(s[0]["data-dst"], `127.0.0.1:${PORT}`);
  assert.match(r.out, /\[SYN\] Seq=0 Len=0 Win=\d+ MSS=\d+ WS=\d+ SACK_PERM/, "Linux's SYN options");
  assert.ok(Number(s[2]["data-win"]) > 65535 || /WS=1 /.test(r.out), "the window is scaled once both SYNs agreed");
  assert.ok(s.some((a) => a["data-dir"] === "left" && Number(a["data-len"]) > 1000), "the README came back");
  const [ip, sport] = s[0]["data-src"].split(":");
  agreeWithTshark(s, tsharkView(file, `ip.addr==${ip} && tcp.port==${sport} && tcp.port==${PORT}`), "loopback");
});

/** The sequence space of a drawn arrow. */
const space = (a: LadderArrow) => a.seg.len + (a.seg.flags & 2 ? 1 : 0) + (a.seg.flags & 1 ? 1 : 0);

test("two captures (one per board) from a lossy, duplicating link: lost and duplicated segments match the link's own counts; one capture point presumes every real data loss", () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const sim = new Simulator({ seed });
    const files = { A: path.join(dir, `A${seed}.pcap`), B: path.join(dir, `B${seed}.pcap`), net: path.join(dir, `net${seed}.pcap`) };
    const w = { A: new PcapWriter(files.A), B: new PcapWriter(files.B), net: new PcapWriter(files.net) };
    sim.captureAt("A", w.A);
    sim.captureAt("B", w.B);
    sim.capture(w.net);
    const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", wasm: path.join(ROOT, "build", "bulk.wasm"), link: { delay: 2 } });
    sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", ip: "10.0.0.2", wasm: path.join(ROOT, "build", "echo.wasm"), link: { delay: 1 } });
    const ex = a.exports as { bulk_start(ip: number, port: number, n: number): number; bulk_state(): number };
    sim.runFor(10);
    assert.equal(ex.bulk_start(ipToU32("10.0.0.2"), 7, 30_000), 0);
    sim.poke(a);
    // Once connected (ARP resolved and cached for minutes), impair A's link: from then on every
    // frame on it is TCP, so its loss and duplication counts are the ladder's ground truth.
    assert.ok(sim.runUntil(() => ex.bulk_state() === 2, { timeout: 10_000 }), `seed ${seed}: connected`);
    const link = sim.linkOf(a);
    const before = link.totals();
    link.setImpairments({ delay: 2, loss: 0.08, duplicate: 0.05 });
    assert.ok(sim.runUntil(() => ex.bulk_state() === 3, { timeout: 300_000 }), `seed ${seed}: bulk state ${ex.bulk_state()}`);
    sim.runFor(2000);
    for (const x of Object.values(w)) x.close();
    const after = link.totals();
    const lost = after.lost - before.lost;
    const duplicated = after.duplicated - before.duplicated;
    const two = ladderFromFiles([files.B, files.A]); // either order: the file at each end is found from the times
    const where = `seed ${seed}`;
    assert.equal(two.left, "10.0.0.1:" + two.left.split(":")[1], `${where}: the initiator A is drawn left`);
    assert.equal(two.arrows.filter((x) => x.lost).length, lost, `${where}: lost`);
    assert.equal(two.arrows.filter((x) => x.duplicate).length, duplicated, `${where}: duplicated`);
    assert.ok(lost > 0 && duplicated > 0, `${where}: the link did lose and duplicate (${lost}, ${duplicated})`);
    for (const x of two.arrows) if (!x.lost) assert.ok(x.rxTime! >= x.txTime + 1, `${where}: arrow ${x.n} arrives after it was sent`);
    assert.match(two.svg, /lost = sent, never arrived/);
    // One capture point (the network capture, at each sender): every data segment really lost and
    // later sent again is presumed lost there.
    const one = ladderFromFiles([files.net]);
    const presumed = new Set(one.arrows.filter((x) => x.lost).map((x) => `${x.seg.key}@${x.txTime}`));
    for (const x of two.arrows) {
      if (!x.lost || space(x) === 0) continue;
      const resent = two.arrows.some((y) => y.dir === x.dir && y.retransmission && y.txTime > x.txTime && y.seg.seq === x.seg.seq);
      if (resent) assert.ok(presumed.has(`${x.seg.key}@${x.txTime}`), `${where}: ${x.seg.src} seq ${x.relSeq} len ${x.seg.len} lost at ${x.txTime} µs, not presumed lost from one point`);
    }
  }
});

test("the endpoint order in the crafted capture does not depend on which side's segment comes first", () => {
  const file = path.join(dir, "mid.pcap");
  writeHarnessPcap(file, LOSSY.slice(7)); // starts mid-connection with b's ACK: no SYN seen
  const s = arrowsOf(ladder([file]).out);
  assert.equal(s[0]["data-src"], `${EP.b.ip}:${EP.b.port}`);
  assert.equal(s[0]["data-dir"], "right", "no SYN: the first segment's sender is drawn left");
  assert.equal(s[0]["data-seq"], "0", "relative to the first sequence number seen");
});

test("docs/handshake.svg (make docs, shown in the README) is a ladder of the demo's handshake", () => {
  const svg = readFileSync(path.join(ROOT, "docs", "handshake.svg"), "utf8");
  assert.match(readFileSync(path.join(ROOT, "README.md"), "utf8"), /!\[[^\]]*\]\(docs\/handshake\.svg\)/);
  assert.match(svg, /<title>TCP \S+ - \S+:54321 \(demo\.pcap\)<\/title>/);
  assert.deepEqual(arrowsOf(svg).slice(0, 3).map((a) => [a["data-flags"], a["data-dir"], a["data-seq"], a["data-ack"]]), [
    ["SYN", "right", "0", undefined],
    ["SYN,ACK", "left", "0", "1"],
    ["ACK", "right", "1", "1"],
  ]);
});
