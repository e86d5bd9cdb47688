// The loss step of `make bench` (issue 18, "against real TCP"): goodput under random drop, as a
// fraction of the same path's clean goodput, for wasmip against the Linux kernel over a TAP and for
// Linux against Linux over veth, in one run. Both are bench/kernel.ts's targets (node, posix,
// veth), the kernel side is bench/c/peer.c, and every kernel socket of the step is clamped to
// wasmip's buffers (-w receive window, -b send buffer), so Linux-to-Linux runs with our window.
//
// Loss: the kernel's peer moves to a namespace of its own, joined by a veth pair to a bridge in the
// target's namespace, where the tap (or the veth to the Linux server) is the bridge's other port.
// nftables rules on the bridge's forward hook drop N% of the connection's segments each way
// (`numgen random mod 100 < N`; this kernel has no netem); SYNs are spared, so a lost handshake
// (1 s initial RTO on both stacks) does not dominate a few-second run. A drop in the forward path
// is a real loss to both ends: one on a host's own output hook is not (the kernel's TCP sees the
// send fail and simply sends again, nothing counted as lost). The kernel's veths send one segment
// per frame (gso_max_segs 1), so a drop is one segment, not a GSO burst. The rules count what
// they see and drop; the drop rate measured is reported with each point.
//
// Every run lasts `seconds` (peer.c -t): the kernel sends until then and waits for the close (rx),
// or reads until then and closes (tx, the board sees a reset), so a collapse at 10% costs no more
// time than a clean run. Runs are interleaved: every series at one loss rate, `reps` rounds, then
// the next rate. Every run and the whole step are bounded in time.
import { moduleConfig } from "./wasm.ts";
import { BUILD, MiB, mbit, type Bench } from "./lib.ts";
import { IP, pingUntilAnswered, run } from "../host/devices/netns.ts";
import { PEER_CIDR, PORT, TX_PORT, buildPeers, cleanupKernel, newNs, peer, start, type Measured, type Running, type Target } from "./kernel.ts";
import path from "node:path";

export const LOSSES = [1, 5, 10] as const;
export const LOSSY_TARGETS = ["node", "posix", "veth"] as const satisfies readonly Target[];
export const WASMIP_TARGETS = ["node", "posix"] as const;
export const DIRS = ["rx", "tx"] as const;
/** The congestion control of every kernel socket here: upstream Linux's default, whatever this
 *  machine's own default (net.ipv4.tcp_congestion_control) is. */
const CONG = "cubic";
const TABLE = "wbloss";
/** What three full runs of the step showed (2026-12-07, load average 4.5-5.8 on 2 cores), quoted in
 *  every fraction's description: rerun and update it when the step or the stack changes. */
const NOISE =
  "noise seen in three full runs of the step (2026-12-07, load 4.5-5.8 on 2 cores): a fraction moved by up to 3-4x between runs for the Node board " +
  "(its clean rate alone 110-300 Mbit/s; under load it drops frames itself: the kernel retransmitted 43-79 times in clean 2 s runs) and up to 2.6x for posix and veth; " +
  "wasmip's fraction was above Linux's at every point of every run, by at least 1.9x";

/** lossy.<target>.<rx|tx>.loss<N>.<mbit|goodput_fraction> (loss0 has mbit only). */
export function lossyId(t: string, dir: string, loss: number, what: "mbit" | "goodput_fraction"): string {
  return `lossy.${t}.${dir}.loss${loss}.${what}`;
}

const LABEL: Record<(typeof LOSSY_TARGETS)[number], string> = {
  node: "wasmip's Node board (V8 + tap-bridge) and the kernel over TAP",
  posix: "wasmip's posix board (wasm2c) and the kernel over TAP",
  veth: "Linux and Linux over veth (two namespaces)",
};

/** The drop rules on the bridge, replaced whole (declare, delete, define: valid whether the table
 *  exists). "toStack": from the kernel's peer to the stack (or the Linux server). */
function ruleset(loss: number): string {
  const rules = (dir: string, match: string) => `    ${match} counter comment "${dir}Seen"
    ${match} tcp flags & syn == 0 numgen random mod 100 < ${loss} counter drop comment "${dir}Dropped"`;
  return `table bridge ${TABLE}\ndelete table bridge ${TABLE}\ntable bridge ${TABLE} {
  chain drop_some {
    type filter hook forward priority 0; policy accept;
${rules("toStack", `tcp dport ${PORT}`)}
${rules("fromStack", `tcp sport ${PORT}`)}
  }
}
`;
}

interface Drops {
  toStackSeen: number;
  toStackDropped: number;
  fromStackSeen: number;
  fromStackDropped: number;
}

async function readDrops(l: Lossy): Promise<Drops> {
  const out = await l.bridge.exec("nft", ["-j", "list", "table", "bridge", TABLE]);
  const d: Drops = { toStackSeen: 0, toStackDropped: 0, fromStackSeen: 0, fromStackDropped: 0 };
  const list = (JSON.parse(out.stdout) as { nftables: { rule?: { comment?: string; expr: { counter?: { packets: number } }[] } }[] }).nftables;
  for (const x of list) {
    const packets = x.rule?.expr.find((e) => e.counter)?.counter?.packets;
    if (x.rule?.comment && x.rule.comment in d && packets !== undefined) d[x.rule.comment as keyof Drops] = packets;
  }
  return d;
}

/** A target re-plumbed for loss: `run` is the target with the kernel's peer in a namespace of its
 *  own; `bridge` the namespace whose bridge forwards (and drops) between them. */
interface Lossy {
  run: Running;
  bridge: Running["client"];
}

/** Move the kernel's end of a started target behind a bridge: the target's namespace keeps its
 *  device (tap0, or the veth to the Linux server) as a port of br0, without an address; a new
 *  namespace takes the peer's address on a veth whose other end is br0's second port. */
async function bridged(r: Running, t: Target, nsBase: string): Promise<Lossy> {
  const br = r.client;
  const dev = t === "veth" ? "va" : "tap0";
  const k = await newNs(`${nsBase}k`);
  const inBr = (...a: string[]) => run(IP, ["-n", br.name, ...a]);
  await inBr("link", "add", "br0", "type", "bridge"); // STP off: ports forward at once
  await inBr("addr", "del", PEER_CIDR, "dev", dev);
  await inBr("link", "set", dev, "master", "br0");
  await inBr("link", "add", "vk", "type", "veth", "peer", "name", "vc", "netns", k.name);
  await inBr("link", "set", "vk", "master", "br0");
  await inBr("link", "set", "vk", "up");
  await inBr("link", "set", "br0", "up");
  await run(IP, ["-n", k.name, "link", "set", "vc", "gso_max_segs", "1"]);
  await run(IP, ["-n", k.name, "addr", "add", PEER_CIDR, "dev", "vc"]);
  await run(IP, ["-n", k.name, "link", "set", "vc", "up"]);
  // The Linux server's end (bench/kernel.ts start(): namespaces <base>a and <base>b).
  if (t === "veth") await run(IP, ["-n", `${nsBase}b`, "link", "set", "vb", "gso_max_segs", "1"]);
  if (!(await pingUntilAnswered((c, a, o) => k.exec(c, a, o), r.host, 20, () => undefined))) throw new Error(`${t}: no answer to ping across the bridge`);
  return { run: { ...r, client: k }, bridge: br };
}

interface Point {
  bytes: number;
  seconds: number;
  mbit: number;
  drops: Drops;
  retrans: number | null;
}

export async function lossyStep(b: Bench): Promise<void> {
  await buildPeers();
  const probe = await run("nft", ["--version"], { check: false }).catch(() => undefined);
  if (!probe || probe.code !== 0) throw new Error("nft (Debian nftables) is missing: scripts/install-deps.sh installs it");
  const cfg = moduleConfig(path.join(BUILD, "bench.wasm"));
  const wnd = cfg.tcpRcvBuf;
  const snd = cfg.tcpSndBuf;
  const clampArgs = ["-w", String(wnd), "-b", String(snd), "-c", CONG];
  const seconds = b.quick ? 0.4 : 2;
  const reps = b.quick ? 1 : 2;
  const rrN = b.quick ? 100 : 500;
  const stepDeadline = performance.now() + (b.quick ? 90_000 : 240_000);
  const runLimitMs = b.quick ? 20_000 : 45_000;
  b.detail("lossy.config", {
    window_bytes: wnd, send_buffer_bytes: snd, congestion_control: CONG, seconds_per_run: seconds, reps,
    peer_options: `bench/c/peer.c ${clampArgs.join(" ")} on every kernel socket (TCP_WINDOW_CLAMP with SO_RCVBUF = 2 x window; SO_SNDBUF; TCP_CONGESTION)`,
    rules: ruleset(5).replace(/< 5 /g, "< N "),
  });
  const base = `wb${process.pid % 100000}l`; // wb<pid>: the prefix tests/host/bench.test.ts checks is gone
  const started = new Map<(typeof LOSSY_TARGETS)[number], Running>();
  const plumbed = new Map<(typeof LOSSY_TARGETS)[number], Lossy>();
  const points = new Map<string, Point[]>(); // `${t}.${dir}.${loss}` -> runs
  const dead = new Set<string>(); // series that failed once: no more runs
  const txPort = new Map<string, number>();
  const rtt = new Map<string, number | null>();
  const fail = (what: string, e: unknown) => {
    const msg = `${what}: ${e instanceof Error ? e.message : String(e)}`;
    b.results.errors.push({ step: "lossy", error: msg });
    b.log(`lossy: FAILED ${msg}`);
  };
  // One run of a series at a loss rate; `record` false for the warm-up.
  const once = async (t: (typeof LOSSY_TARGETS)[number], dir: (typeof DIRS)[number], loss: number, secs: number, record: boolean) => {
    const l = plumbed.get(t)!;
    const key = `${t}.${dir}`;
    const left = stepDeadline - performance.now();
    if (left < 5000) throw new Error(`step time limit reached before ${key} at ${loss}%`);
    await l.bridge.exec("nft", ["-f", "-"], { input: ruleset(loss) });
    // The stack closes a tx connection first and keeps it in TIME-WAIT: a port of its own per run.
    const port = dir === "tx" ? (txPort.get(key) ?? TX_PORT) : undefined;
    if (port) txPort.set(key, port + 1);
    // The caps: more than `secs` moves at these speeds (the bench app's count is 32-bit).
    const cap = dir === "rx" ? 1e12 : 4e9;
    const m: Measured = await peer(l.run, dir === "rx" ? "send" : "recv", cap, Math.min(runLimitMs, left), port, [...clampArgs, "-t", String(secs)]);
    const bytes = m.peer.bytes;
    const p: Point = { bytes, seconds: m.peer.seconds, mbit: mbit(bytes, m.peer.seconds), drops: await readDrops(l), retrans: m.peer.tcpi_total_retrans ?? null };
    if (record) {
      const k = `${key}.${loss}`;
      points.set(k, [...(points.get(k) ?? []), p]);
    }
    b.log(`lossy: ${key} ${loss}%${record ? "" : " (warm-up)"}: ${(bytes / MiB).toFixed(1)} MiB in ${p.seconds.toFixed(2)} s, ${p.mbit.toFixed(1)} Mbit/s; dropped ${p.drops.toStackDropped}/${p.drops.toStackSeen} to the stack, ${p.drops.fromStackDropped}/${p.drops.fromStackSeen} from it`);
  };
  try {
    for (const [i, t] of LOSSY_TARGETS.entries()) {
      try {
        const name = `${base}${String.fromCharCode(97 + i)}`;
        const r = await start(b, t, name, undefined, clampArgs);
        started.set(t, r);
        plumbed.set(t, await bridged(r, t, name));
      } catch (e) {
        fail(`${t}: start`, e);
        for (const d of DIRS) dead.add(`${t}.${d}`);
      }
    }
    const series = () => LOSSY_TARGETS.flatMap((t) => DIRS.map((d) => ({ t, d, key: `${t}.${d}` }))).filter((s) => !dead.has(s.key));
    for (const s of series()) {
      try {
        await once(s.t, s.d, 0, seconds / 4, false);
      } catch (e) {
        fail(`${s.key} warm-up`, e);
        dead.add(s.key);
      }
    }
    // The round trip of each path, clean: what the fractions depend on besides the stacks (a
    // timer's cost in goodput scales with the clean rate).
    for (const [t, l] of plumbed) {
      try {
        await l.bridge.exec("nft", ["-f", "-"], { input: ruleset(0) });
        const m = await peer(l.run, "rr", rrN, 30_000, undefined, clampArgs);
        rtt.set(t, m.peer.rtt_p50_us ?? null);
      } catch (e) {
        fail(`${t} rr`, e);
      }
    }
    for (const loss of [0, ...LOSSES])
      for (let k = 0; k < reps; k++)
        for (const s of series()) {
          try {
            await once(s.t, s.d, loss, seconds, true);
          } catch (e) {
            fail(`${s.key} at ${loss}%`, e);
            dead.add(s.key);
          }
        }
  } finally {
    // The Node board's exit line (its non-zero counters: where it dropped frames, if it did).
    const exits: Record<string, unknown> = {};
    for (const [t, r] of started) exits[t] = await r.stop().catch(() => undefined);
    b.detail("lossy.exit", exits);
    await cleanupKernel();
  }

  // Goodput of a point: all its bytes over all its seconds (the runs are sized alike).
  const goodput = (ps: Point[] | undefined) => (ps?.length ? mbit(ps.reduce((x, p) => x + p.bytes, 0), ps.reduce((x, p) => x + p.seconds, 0)) : null);
  const runs = (ps: Point[] | undefined) => (ps ?? []).map((p) => p.mbit.toFixed(1)).join(", ");
  const raw: Record<string, unknown> = {};
  for (const t of LOSSY_TARGETS) {
    b.fig(`lossy.${t}.rtt_p50_us`, rtt.get(t) ?? null, "µs",
      `${LABEL[t]}: median of ${rrN} one-byte round trips (bench/c/peer.c rr, TCP_NODELAY) with the drop rules in place at 0%, before the transfers`);
    for (const dir of DIRS) {
      const what = dir === "rx" ? (t === "veth" ? "the client kernel sends to the server kernel" : "the kernel sends to the board") : t === "veth" ? "the server kernel sends to the client kernel" : "the board sends to the kernel";
      const clean = points.get(`${t}.${dir}.0`);
      const g0 = goodput(clean);
      b.fig(lossyId(t, dir, 0, "mbit"), g0, "Mbit/s",
        `${LABEL[t]}, ${what} (bench protocol, bench/c/peer.c), window ${wnd} B and send buffer ${snd} B on every side, kernel congestion control ${CONG}, no drop (the rules in place, counting): payload bytes moved in ${seconds} s (peer.c -t: rx, sent until then, then until the close; tx, received until then) per wall second from before connect, ${reps} interleaved run(s) pooled (${runs(clean)} Mbit/s)`);
      raw[`${t}.${dir}.0`] = clean;
      for (const loss of LOSSES) {
        const ps = points.get(`${t}.${dir}.${loss}`);
        raw[`${t}.${dir}.${loss}`] = ps;
        const g = goodput(ps);
        const seen = (ps ?? []).reduce((x, p) => x + p.drops.toStackSeen + p.drops.fromStackSeen, 0);
        const dropped = (ps ?? []).reduce((x, p) => x + p.drops.toStackDropped + p.drops.fromStackDropped, 0);
        const retrans = dir === "rx" ? `; the sending kernel's retransmissions per run (TCP_INFO): ${(ps ?? []).map((p) => p.retrans ?? "?").join(", ")}` : "";
        const rounds = (ps ?? []).map((p, k) => (clean?.[k] ? (p.mbit / clean[k].mbit).toFixed(3) : "?")).join(", ");
        b.fig(lossyId(t, dir, loss, "mbit"), g, "Mbit/s", `as ${lossyId(t, dir, 0, "mbit")}, with nftables on the bridge between the kernel's peer and the stack dropping ${loss}% of the connection's segments but SYNs, each way (${runs(ps)} Mbit/s)`);
        b.fig(lossyId(t, dir, loss, "goodput_fraction"), g !== null && g0 ? g / g0 : null, "fraction",
          `${lossyId(t, dir, loss, "mbit")} / ${lossyId(t, dir, 0, "mbit")} (same run, runs interleaved; round by round: ${rounds}); measured drop ${seen ? ((100 * dropped) / seen).toFixed(1) : "?"}% of ${seen} segments${retrans}; ${NOISE}`);
      }
    }
  }
  b.detail("lossy.runs", raw);
}

/** The values a budget line of the loss group shows: every wasmip series next to Linux's. */
export function lossyBudget(f: (id: string) => number | null, loss: number): { value: string; met: boolean | null } {
  const v = (x: number | null) => x?.toFixed(3) ?? "n/a";
  const parts: string[] = [];
  let met: boolean | null = true;
  for (const dir of DIRS) {
    const linux = f(lossyId("veth", dir, loss, "goodput_fraction"));
    const ours = WASMIP_TARGETS.map((t) => ({ t, x: f(lossyId(t, dir, loss, "goodput_fraction")) }));
    // The rates at that loss too: a timer's cost as a fraction grows with the path's clean rate.
    const at = (t: string) => f(lossyId(t, dir, loss, "mbit"))?.toFixed(1) ?? "n/a";
    parts.push(`${dir}: ${ours.map((o) => `${o.t} ${v(o.x)} (${at(o.t)} Mbit/s)`).join(", ")}; Linux ${v(linux)} (${at("veth")} Mbit/s)`);
    for (const o of ours) {
      if (o.x === null || linux === null) met = null;
      else if (met !== null && o.x < linux) met = false;
    }
  }
  return { value: parts.join(" | "), met };
}
