// The default demo of `wasmip sim`: board A (10.0.0.1) pings board B (10.0.0.2) across an
// emulated switch, A's link lossy, everything in virtual time. Prints what ping would print,
// the boards' ARP/ICMP log lines, the link impairment stats and the boards' counters.
import { ERRORS, WasmipError, type Board } from "./board.ts";
import { PcapWriter } from "./pcap.ts";
import { Simulator, type DirectionStats, type Impairments } from "./sim.ts";

export interface DemoOptions {
  seed?: number; // default 1
  count?: number; // pings, default 10
  size?: number; // ICMP payload bytes, default 56
  interval?: number; // virtual ms between pings, default 1000
  wait?: number; // virtual ms to wait for replies after the last ping, default 2000
  // Impairments of the pinger's link (each direction). delay and jitter apply to both links.
  loss?: number; // default 0.2
  duplicate?: number;
  reorder?: number;
  delay?: number; // default 1
  jitter?: number;
  corrupt?: number;
  mtu?: number;
  startTime?: number; // virtual ms, default 0
  pcap?: string;
  wasm?: string;
  verbose?: boolean; // also print debug log lines
  print?: (line: string) => void; // default console.log
}

export interface PingResult {
  seq: number;
  rtt: number | null; // virtual ms, null if lost
  error?: string; // the send failed (e.g. EHOSTUNREACH)
}

export interface DemoSummary {
  seed: number;
  transmitted: number;
  received: number;
  errors: number;
  lossPercent: number;
  results: PingResult[];
  rtt: { min: number; avg: number; max: number } | null;
  links: Record<string, { toSwitch: DirectionStats; fromSwitch: DirectionStats }>;
  counters: Record<string, Record<string, number>>;
  logLines: number;
  pcapFrames: number;
  endTime: number;
}

const fmtTime = (ms: number): string => ms.toFixed(3).padStart(10);

function fmtImpairments(im: Readonly<Required<Impairments>>): string {
  const parts: string[] = [];
  const pct = (p: number) => `${+(p * 100).toFixed(2)}%`;
  if (im.loss) parts.push(`loss ${pct(im.loss)}`);
  if (im.duplicate) parts.push(`dup ${pct(im.duplicate)}`);
  if (im.reorder) parts.push(`reorder ${pct(im.reorder)} (+${im.reorderDelay} ms)`);
  if (im.corrupt) parts.push(`corrupt ${pct(im.corrupt)}`);
  if (im.delay) parts.push(`delay ${im.delay} ms`);
  if (im.jitter) parts.push(`jitter ${im.jitter} ms`);
  if (im.mtu !== Infinity) parts.push(`mtu ${im.mtu}`);
  return parts.length ? parts.join(", ") : "clean";
}

function fmtStats(s: DirectionStats): string {
  return (
    `${s.offered} offered, ${s.delivered} delivered, ${s.lost} lost, ${s.duplicated} duplicated, ` +
    `${s.reordered} reordered, ${s.corrupted} corrupted, ${s.mtuDropped} over mtu`
  );
}

function nonZeroCounters(b: Board): Record<string, number> {
  return Object.fromEntries(Object.entries(b.counters()).filter(([, v]) => v !== 0));
}

export function runDemo(opts: DemoOptions = {}): DemoSummary {
  const print = opts.print ?? ((line: string) => console.log(line));
  const seed = opts.seed ?? 1;
  const count = opts.count ?? 10;
  const size = opts.size ?? 56;
  const interval = opts.interval ?? 1000;
  const wait = opts.wait ?? 2000;
  const delay = opts.delay ?? 1;
  const jitter = opts.jitter ?? 0;
  let logLines = 0;

  const sim = new Simulator({
    seed,
    startTime: opts.startTime,
    wasm: opts.wasm,
    log: (e) => {
      if (e.level === "debug" && !opts.verbose) return;
      logLines++;
      print(`[${fmtTime(e.time)} ms] ${e.board}: ${e.level === "info" ? "" : e.level + ": "}${e.msg}`);
    },
  });
  const pcap = opts.pcap ? new PcapWriter(opts.pcap) : undefined;
  if (pcap) sim.capture(pcap);

  print(`wasmip sim: seed ${seed}, ${count} pings of ${size} bytes from A 10.0.0.1 to B 10.0.0.2, one switch`);
  const linkA = {
    loss: opts.loss ?? 0.2,
    duplicate: opts.duplicate,
    reorder: opts.reorder,
    corrupt: opts.corrupt,
    mtu: opts.mtu,
    delay,
    jitter,
  };
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24, link: linkA });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", ip: "10.0.0.2", prefix: 24, link: { delay, jitter } });
  for (const board of [a, b]) print(`link ${board.name}: ${fmtImpairments(sim.linkOf(board).toSwitch.impairments)} (each direction)`);

  const dst = b.ipString;
  print(`PING ${dst} (${dst}) ${size}(${size + 28}) bytes of data.`);
  const results: PingResult[] = [];
  const outstanding = new Set<number>();
  const checkReplies = (): boolean => {
    for (const seq of outstanding) {
      const rtt = a.pingRtt(seq);
      if (rtt < 0) continue;
      outstanding.delete(seq);
      results[seq - 1].rtt = rtt;
    }
    return outstanding.size === 0;
  };

  const start = sim.now;
  for (let seq = 1; seq <= count; seq++) {
    const sendAt = start + (seq - 1) * interval;
    sim.runUntil(() => (checkReplies(), false), { maxTime: sendAt });
    // The core remembers the last PING_SLOTS (64) seqs; a reply 32 intervals late counts as lost.
    for (const old of outstanding) if (seq - old >= 32) outstanding.delete(old);
    const r: PingResult = { seq, rtt: null };
    results.push(r);
    try {
      a.ping(dst, seq, size);
      outstanding.add(seq);
    } catch (e) {
      if (!(e instanceof WasmipError)) throw e;
      r.error = ERRORS[e.code] ?? `error ${e.code}`;
      print(`[${fmtTime(sim.now)} ms] icmp_seq=${seq}: send failed: ${r.error}`);
    }
  }
  sim.runUntil(checkReplies, { maxTime: start + (count - 1) * interval + wait });

  print("");
  for (const r of results)
    print(`icmp_seq=${r.seq} ${r.rtt !== null ? `${size + 8} bytes from ${dst}: time=${r.rtt} ms` : r.error ? `send failed: ${r.error}` : "lost"}`);

  const rtts = results.filter((r) => r.rtt !== null).map((r) => r.rtt!);
  const errors = results.filter((r) => r.error).length;
  const lossPercent = count ? ((count - rtts.length) / count) * 100 : 0;
  const rtt = rtts.length
    ? { min: Math.min(...rtts), avg: rtts.reduce((x, y) => x + y, 0) / rtts.length, max: Math.max(...rtts) }
    : null;

  print("");
  print(`--- ${dst} ping statistics ---`);
  print(
    `${count} packets transmitted, ${rtts.length} received, ${errors ? `+${errors} errors, ` : ""}` +
      `${+lossPercent.toFixed(1)}% packet loss, time ${Math.max(0, (count - 1) * interval)}ms`,
  );
  if (rtt) print(`rtt min/avg/max = ${rtt.min.toFixed(3)}/${rtt.avg.toFixed(3)}/${rtt.max.toFixed(3)} ms`);

  const links: DemoSummary["links"] = {};
  print("");
  for (const board of [a, b]) {
    const l = sim.linkOf(board);
    links[board.name] = { toSwitch: { ...l.toSwitch.stats }, fromSwitch: { ...l.fromSwitch.stats } };
    print(`link ${board.name} -> switch: ${fmtStats(l.toSwitch.stats)}`);
    print(`link switch -> ${board.name}: ${fmtStats(l.fromSwitch.stats)}`);
  }
  const counters: DemoSummary["counters"] = {};
  for (const board of [a, b]) {
    counters[board.name] = nonZeroCounters(board);
    print(
      `counters ${board.name}: ` +
        Object.entries(counters[board.name])
          .map(([k, v]) => `${k}=${v}`)
          .join(" "),
    );
  }
  let pcapFrames = 0;
  if (pcap) {
    pcapFrames = pcap.frames;
    pcap.close();
    print(`wrote ${pcapFrames} frames to ${pcap.path}`);
  }
  return {
    seed,
    transmitted: count,
    received: rtts.length,
    errors,
    lossPercent,
    results,
    rtt,
    links,
    counters,
    logLines,
    pcapFrames,
    endTime: sim.now,
  };
}
