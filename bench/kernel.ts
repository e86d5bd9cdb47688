// Figures 5 and 6 (against the kernel) of `make bench`: the Linux kernel as the peer of each stack
// over a TAP device in a namespace this code creates (and always removes): the Node board
// (bench/tapboard.ts), the posix board (boards/posix/build/wasmip-bench) and lwIP
// (bench/c/lwip_bench.c), all serving the bench protocol on TCP 5001; and the kernel talking to
// itself over a veth pair between two namespaces (bench/c/peer.c on both ends), the ceiling of
// this machine. The kernel side is always bench/c/peer.c. Traffic stays inside the namespaces.
//
// Each stack runs as configured by default, and at equal buffers both ways (PAIRINGS): wasmip
// built with lwIP's send buffer and window, and lwIP limited to wasmip's. Every target is started
// first, each in its own namespace, and the runs are interleaved (one run of every target, then
// the next round), so a change of load on this shared machine falls on all of them alike.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { IP, Netns, killChild, pingUntilAnswered, run } from "../host/devices/netns.ts";
import { ASC_TRANSFORM, BENCH_BUILD, BUILD, MiB, ROOT, WASM_OPT, WASM_OPT_FLAGS, cpuDelta, cpuOf, firstLine, mbit, processTree, round, runCmd, waitLine, type Bench } from "./lib.ts";
import { configConstants, moduleConfig, staticBytes } from "./wasm.ts";

const CDIR = path.join(BENCH_BUILD, "c");
const KDIR = path.join(BENCH_BUILD, "kernel");
export const PEER = path.join(CDIR, "peer");
export const LWIP = path.join(CDIR, "lwip-bench");
export const POSIX = path.join(ROOT, "boards", "posix", "build", "wasmip-bench");
/** The bench image built with lwIP's buffers, and its posix board. */
export const LWIPBUF_WASM = path.join(KDIR, "bench-lwipbuf.wasm");
export const POSIX_LWIPBUF = path.join(ROOT, "boards", "posix", "build", "wasmip-bench-lwipbuf");
const BENCH_WASM = path.join(BUILD, "bench.wasm");
const ASC = path.join(ROOT, "node_modules", ".bin", "asc");
export const PORT = "5001";
export const PEER_CIDR = "10.215.0.1/24";
const STACK_IP = "10.215.0.2";
/** The stack closes a tx connection first, so it holds it in TIME-WAIT (lwIP for 2 x TCP_MSL, 2
 *  min): a later connect from the same port would meet that (lwIP answers the SYN with an ACK of
 *  the old connection and ignores the kernel's RST, until the connect times out; it happened once
 *  in a full run). So each tx run binds a port of its own, TX_PORT + round, outside the client
 *  namespace's ephemeral range, which ends below it. */
export const TX_PORT = 61000;
const EPHEMERAL = "32768 60999";
/** Our window scale is 0 (assembly/config.ts: TCP_RCV_BUF at most 65535). */
const MAX_RCV_RING = 65535;

export async function buildPeers(): Promise<void> {
  mkdirSync(CDIR, { recursive: true });
  await runCmd("gcc", ["-O2", "-Wall", "-Wextra", "-o", PEER, path.join(ROOT, "bench", "c", "peer.c")]);
  const cflags = (await runCmd("pkg-config", ["--cflags", "lwip"])).stdout.trim().split(/\s+/).filter(Boolean);
  const libs = (await runCmd("pkg-config", ["--libs", "lwip"])).stdout.trim().split(/\s+/).filter(Boolean);
  await runCmd("gcc", ["-O2", "-Wall", "-Wextra", ...cflags, "-o", LWIP, path.join(ROOT, "bench", "c", "lwip_bench.c"), ...libs, "-pthread"]);
}

/** lwIP's TCP settings: its headers' values and those a fresh pcb of the library gets. */
export interface LwipInfo {
  lwip: string;
  TCP_MSS: number;
  TCP_WND: number;
  TCP_SND_BUF: number;
  new_pcb_rcv_wnd: number;
  new_pcb_snd_buf: number;
  [k: string]: unknown;
}

/** The buffers of every configuration measured (bytes). */
export interface Buffers {
  wasmip: { snd: number; rcv: number; from: string };
  lwip: { snd: number; wnd: number; from: string };
  wasmipAtLwip: { snd: number; rcv: number; pages: number; staticBytes: number; flags: string[] };
  lwipAtWasmip: { snd: number; wnd: number; how: string };
}

/** The bench image with lwIP's send buffer and (the largest whole number of MSS under 65535 of)
 *  its window, in as many pinned pages as its static data needs; and its posix board. */
async function buildLwipBuffers(b: Bench, lw: LwipInfo): Promise<Buffers> {
  const def = moduleConfig(BENCH_WASM);
  const cfg = configConstants(path.join(ROOT, "assembly", "config.ts"));
  const mss = typeof cfg.TCP_MSS === "number" ? cfg.TCP_MSS : def.mtu - 40;
  const snd = lw.new_pcb_snd_buf;
  const rcv = Math.floor(Math.min(lw.new_pcb_rcv_wnd, MAX_RCV_RING) / mss) * mss;
  const flags = [`WASMIP_TCP_SND_BUF=${snd}`, `WASMIP_TCP_RCV_BUF=${rcv}`];
  mkdirSync(KDIR, { recursive: true });
  // As the Makefile builds build/bench.wasm (bench/lib.ts: the same transform, the same wasm-opt pass).
  const asc = async (pages: number) => {
    const args = [path.join("assembly", "firmware", "bench.ts"), "--target", "release", "-o", LWIPBUF_WASM, ...ASC_TRANSFORM];
    for (const f of flags) args.push("--use", f);
    args.push("--initialMemory", String(pages), "--maximumMemory", String(pages));
    await runCmd(ASC, args, { cwd: ROOT, timeoutMs: 300_000 });
    await runCmd(WASM_OPT, [LWIPBUF_WASM, ...WASM_OPT_FLAGS, "-o", LWIPBUF_WASM]);
  };
  // Once with room to spare to learn the static size, then pinned to the pages it needs.
  await asc(64);
  const used = staticBytes(LWIPBUF_WASM).used;
  const pages = Math.ceil(used / 65536);
  await asc(pages);
  const got = moduleConfig(LWIPBUF_WASM);
  if (got.tcpSndBuf !== snd || got.tcpRcvBuf !== rcv) throw new Error(`${LWIPBUF_WASM}: config() says snd ${got.tcpSndBuf} rcv ${got.tcpRcvBuf}, built for ${snd}/${rcv}`);
  b.log(`kernel: bench image at lwIP's buffers: --use ${flags.join(" --use ")}, ${pages} pages (${used} bytes static)`);
  await runCmd("make", ["-C", path.join(ROOT, "boards", "posix"), "build/wasmip-bench-lwipbuf", `WASM_bench-lwipbuf=${LWIPBUF_WASM}`], { timeoutMs: 600_000 });
  return {
    wasmip: { snd: def.tcpSndBuf, rcv: def.tcpRcvBuf, from: "config() of build/bench.wasm (assembly/config.ts as configured)" },
    lwip: { snd: lw.new_pcb_snd_buf, wnd: lw.new_pcb_rcv_wnd, from: "a fresh tcp_new() pcb of Debian's liblwip (tcp_sndbuf, rcv_wnd); headers: TCP_SND_BUF " + lw.TCP_SND_BUF + ", TCP_WND " + lw.TCP_WND },
    wasmipAtLwip: { snd, rcv, pages, staticBytes: used, flags },
    lwipAtWasmip: {
      snd: def.tcpSndBuf,
      wnd: def.tcpRcvBuf,
      how: "lwip-bench --wnd/--snd-buf: tcp_recved() credit withheld until the window is down to the cap (after the first rcv_wnd - cap bytes), unacknowledged + unsent data capped in the glue",
    },
  };
}

// ---- cleanup of everything this module starts ---------------------------------------------

const live = new Set<Netns>();
const procs = new Set<ChildProcess>();

/** Kill every process we started and every process still inside our namespaces (by pid), then
 *  delete the namespaces. Idempotent; safe to call on any failure or signal. */
export async function cleanupKernel(): Promise<void> {
  for (const c of [...procs]) {
    await killChild(c, 3000);
    procs.delete(c);
  }
  for (const ns of [...live]) {
    const r = await run(IP, ["netns", "pids", ns.name], { check: false });
    for (const pid of r.stdout.split(/\s+/).filter(Boolean).map(Number)) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // gone
      }
    }
    await ns.destroy().catch(() => {});
    live.delete(ns);
  }
}

/** A namespace of ours (cleanupKernel deletes it), its ephemeral ports below TX_PORT. */
export async function newNs(name: string): Promise<Netns> {
  const ns = await Netns.create(name); // refuses an existing namespace: never someone else's
  live.add(ns);
  // Namespaced: the kernel's peers here pick ephemeral ports below TX_PORT.
  await ns.exec("sysctl", ["-q", "-w", `net.ipv4.ip_local_port_range=${EPHEMERAL}`]);
  return ns;
}

async function dropNs(ns: Netns): Promise<void> {
  const r = await run(IP, ["netns", "pids", ns.name], { check: false });
  for (const pid of r.stdout.split(/\s+/).filter(Boolean).map(Number)) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  await ns.destroy();
  live.delete(ns);
}

// ---- one target --------------------------------------------------------------------------

export interface PeerResult {
  mode: string;
  ok: boolean;
  error: string;
  n: number;
  done: number;
  bytes: number;
  seconds: number;
  cpu_s: number;
  user_s: number;
  sys_s: number;
  rtt_mean_us?: number;
  rtt_p50_us?: number;
  rtt_p99_us?: number;
  /** The kernel's side of a bulk connection at its end (TCP_INFO). */
  tcpi_total_retrans?: number;
  tcpi_sack?: number;
  tcpi_timestamps?: number;
}

export interface Measured {
  peer: PeerResult;
  stack: { cpu: number; user: number; sys: number };
}

export type Target = "node" | "posix" | "lwip" | "node_lwipbuf" | "posix_lwipbuf" | "lwip_wasmipbuf" | "veth";
export const TARGETS: Target[] = ["node", "posix", "lwip", "node_lwipbuf", "posix_lwipbuf", "lwip_wasmipbuf", "veth"];
/** The wasmip boards, and the lwIP targets they are compared with. */
export const BOARDS = ["node", "posix"] as const;

/**
 * Each pairing: which wasmip target of each board goes against which lwIP target. The ratio
 * figures are kernel.<wasmip target>.<dir>.throughput_vs_<lwIP target> (and cpu_vs_...).
 */
export const PAIRINGS = [
  { id: "defaults", lwip: "lwip", board: { node: "node", posix: "posix" }, what: "each stack as configured by default" },
  { id: "lwip_buffers", lwip: "lwip", board: { node: "node_lwipbuf", posix: "posix_lwipbuf" }, what: "equal buffers, lwIP's: wasmip built with lwIP's send buffer and window" },
  { id: "wasmip_buffers", lwip: "lwip_wasmipbuf", board: { node: "node", posix: "posix" }, what: "equal buffers, wasmip's: lwIP limited to wasmip's send buffer and window" },
] as const satisfies readonly { id: string; lwip: Target; board: Record<(typeof BOARDS)[number], Target>; what: string }[];
/** The pairing the budget line uses (bench/README.md says why). */
export const BUDGET_PAIRING = "wasmip_buffers";

function labels(buf: Buffers | undefined): Record<Target, string> {
  const w = buf ? `send ${buf.wasmip.snd} B, receive ${buf.wasmip.rcv} B` : "as configured";
  const l = buf ? `send buffer ${buf.lwip.snd} B, window ${buf.lwip.wnd} B` : "Debian's build";
  const wl = buf ? `built with send ${buf.wasmipAtLwip.snd} B, receive ${buf.wasmipAtLwip.rcv} B (lwIP's)` : "at lwIP's buffers";
  const lw = buf ? `limited to send ${buf.lwipAtWasmip.snd} B, window ${buf.lwipAtWasmip.wnd} B (wasmip's)` : "at wasmip's buffers";
  return {
    node: `wasmip, Node board (V8 + tap-bridge), ${w}`,
    posix: `wasmip, posix board (wasm2c, gcc -O2), ${w}`,
    lwip: `lwIP 2.1.3 (Debian liblwip-dev, raw API), ${l}`,
    node_lwipbuf: `wasmip, Node board, ${wl}`,
    posix_lwipbuf: `wasmip, posix board, ${wl}`,
    lwip_wasmipbuf: `lwIP 2.1.3, ${lw}`,
    veth: "Linux kernel to itself over veth",
  };
}

export interface Running {
  client: Netns; // where the kernel's peer runs
  host: string; // the stack's address as seen from there
  stackPids: () => number[];
  stop: () => Promise<Record<string, unknown> | undefined>;
}

/** Start one target in namespace(s) named from nsBase (buf: only the lwIP targets need it;
 *  serverArgs: options of the veth pair's server, bench/c/peer.c's -w, -b, -c). */
export async function start(b: Bench, t: Target, nsBase: string, buf: Buffers | undefined, serverArgs: string[] = []): Promise<Running> {
  if (t === "veth") {
    const a = await newNs(`${nsBase}a`);
    const s = await newNs(`${nsBase}b`);
    await run(IP, ["-n", a.name, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", s.name]);
    await run(IP, ["-n", a.name, "addr", "add", PEER_CIDR, "dev", "va"]);
    await run(IP, ["-n", s.name, "addr", "add", `${STACK_IP}/24`, "dev", "vb"]);
    await run(IP, ["-n", a.name, "link", "set", "va", "up"]);
    await run(IP, ["-n", s.name, "link", "set", "vb", "up"]);
    const srv = s.spawn(PEER, [...serverArgs, "server", PORT]);
    await waitLine(srv, /^ready$/, 10_000, "peer server");
    return {
      client: a,
      host: STACK_IP,
      stackPids: () => (srv.pid ? [srv.pid] : []),
      stop: async () => {
        await killChild(srv);
        await dropNs(s);
        await dropNs(a);
        return undefined;
      },
    };
  }
  const ns = await newNs(nsBase);
  let child: ChildProcess;
  if (t === "node" || t === "node_lwipbuf") {
    const image = t === "node" ? BENCH_WASM : LWIPBUF_WASM;
    child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "bench", "tapboard.ts"), ns.name, "tap0", `${STACK_IP}/24`, PEER_CIDR, image], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    procs.add(child);
  } else {
    await ns.addTap("tap0", PEER_CIDR);
    if (t === "posix" || t === "posix_lwipbuf") child = ns.spawn(t === "posix" ? POSIX : POSIX_LWIPBUF, ["--tap", "tap0", "--board-ip", `${STACK_IP}/24`, "--log-level", "warn"]);
    else {
      if (t === "lwip_wasmipbuf" && !buf) throw new Error("lwip_wasmipbuf needs the buffers");
      const cap = t === "lwip_wasmipbuf" ? ["--wnd", String(buf!.lwipAtWasmip.wnd), "--snd-buf", String(buf!.lwipAtWasmip.snd)] : [];
      child = ns.spawn(LWIP, ["--tap", "tap0", "--ip", `${STACK_IP}/24`, ...cap]);
    }
  }
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  let err = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  await waitLine(child, /^ready$/, 30_000, t);
  if (!(await pingUntilAnswered((c, a, o) => ns.exec(c, a, o), STACK_IP, 20, () => undefined))) throw new Error(`${t}: no answer to ping`);
  return {
    client: ns,
    host: STACK_IP,
    stackPids: () => (child.pid ? processTree(child.pid) : []),
    stop: async () => {
      await killChild(child, 5000);
      procs.delete(child);
      if (err.trim()) b.log(`${t}: stderr: ${err.trim().split("\n").slice(-3).join(" | ")}`);
      await dropNs(ns);
      const last = out.trim().split("\n").pop() ?? "";
      try {
        return last.startsWith("{") ? (JSON.parse(last) as Record<string, unknown>) : undefined;
      } catch {
        return undefined;
      }
    },
  };
}

/** One run of the kernel's peer (bench/c/peer.c) against a target; opts go before the mode. */
export async function peer(r: Running, mode: string, n: number, timeoutMs: number, localPort?: number, opts: string[] = []): Promise<Measured> {
  const before = cpuOf(r.stackPids());
  const out = await r.client.exec(PEER, [...opts, mode, r.host, PORT, String(n), ...(localPort ? [String(localPort)] : [])], { check: false, timeoutMs });
  const after = cpuOf(before.pids);
  const line = out.stdout.trim().split("\n").pop() ?? "";
  let p: PeerResult;
  try {
    p = JSON.parse(line) as PeerResult;
  } catch {
    throw new Error(`peer ${mode}: no result (exit ${out.code ?? out.signal}): ${out.stderr.slice(-1000)}`);
  }
  if (!p.ok) throw new Error(`peer ${mode} ${n}: ${p.error} (${line})`);
  return { peer: p, stack: cpuDelta(before, after) };
}

type Tput = Record<string, Record<string, { mbit: number; cpu: number; user: number; peerCpu: number }>>;

export async function kernelStep(b: Bench): Promise<void> {
  await buildPeers();
  const lwOut = await runCmd(LWIP, ["--info"], { timeoutMs: 30_000 });
  const lw = JSON.parse(lwOut.stdout) as LwipInfo;
  b.detail("kernel.lwip_config", lw);
  b.results.versions.lwip = lw.lwip;
  b.results.versions.lwip_package = firstLine("dpkg-query", ["-W", "-f=${Version}", "liblwip-dev"]);
  const buf = await buildLwipBuffers(b, lw);
  b.detail("kernel.buffers", buf);
  const LABEL = labels(buf);
  const bytes = b.quick ? 2 * MiB : 64 * MiB;
  const reps = b.quick ? 1 : 5;
  const rrN = b.quick ? 200 : 2000;
  const cpsN = b.quick ? 50 : 500;
  const base = `wb${process.pid % 100000}`;
  const raw: Record<string, unknown> = {};
  const tput: Tput = {};
  const started = new Map<Target, Running>();
  const dead = new Set<Target>(); // failed once: no more runs, but stopped (and its stderr logged) at the end
  const running = () => [...started].filter(([t]) => !dead.has(t));
  const failed = (t: Target, what: string, e: unknown) => {
    const msg = `${t}: ${what}: ${e instanceof Error ? e.message : String(e)}`;
    b.results.errors.push({ step: "kernel", error: msg });
    b.log(`kernel: FAILED ${msg}`);
    dead.add(t);
  };
  const rr: Partial<Record<Target, Measured[]>> = {};
  const cps: Partial<Record<Target, Measured[]>> = {};
  const bulk: Partial<Record<string, Measured[]>> = {};
  try {
    for (const [i, t] of TARGETS.entries()) {
      b.log(`kernel: starting ${LABEL[t]}`);
      try {
        started.set(t, await start(b, t, `${base}${String.fromCharCode(97 + i)}`, buf));
      } catch (e) {
        failed(t, "start", e);
      }
    }
    for (let k = 0; k < reps; k++) {
      for (const [dir, mode] of [["rx", "send"], ["tx", "recv"]] as const) {
        for (const [t, r] of running()) {
          try {
            const m = await peer(r, mode, bytes, 600_000, mode === "recv" ? TX_PORT + k : undefined);
            (bulk[`${t}.${dir}`] ??= []).push(m);
            b.log(`kernel: round ${k + 1}/${reps}: ${t} ${dir} ${bytes / MiB} MiB: ${mbit(bytes, m.peer.seconds).toFixed(1)} Mbit/s, ${((m.stack.cpu / bytes) * MiB * 1000).toFixed(2)} CPU ms/MiB`);
          } catch (e) {
            failed(t, `${dir} run`, e);
          }
        }
      }
    }
    // Latency and rate, interleaved the same way.
    for (let k = 0; k < reps; k++) {
      for (const [t, r] of running()) {
        try {
          (rr[t] ??= []).push(await peer(r, "rr", rrN, 120_000));
          (cps[t] ??= []).push(await peer(r, "cps", cpsN, 120_000));
        } catch (e) {
          failed(t, "rr/cps run", e);
        }
      }
    }
  } finally {
    for (const t of TARGETS) {
      const r = started.get(t);
      if (!r) continue;
      const exit = await r.stop().catch(() => undefined);
      if (exit) raw[`${t}.exit`] = exit;
    }
    await cleanupKernel();
  }
  const nodeExits = ["node", "node_lwipbuf"].map((t) => raw[`${t}.exit`] as { pagesAtInit?: number; pages?: number } | undefined).filter((x) => x);
  if (nodeExits.length)
    b.detail("memory.growth.node_tap", { pagesAtInit: nodeExits.reduce((s, x) => s + (x!.pagesAtInit ?? 0), 0), pagesAtExit: nodeExits.reduce((s, x) => s + (x!.pages ?? 0), 0), runs: nodeExits.length });

  const mib = bytes / MiB;
  for (const t of TARGETS) {
    for (const dir of ["rx", "tx"] as const) {
      const ms = bulk[`${t}.${dir}`];
      if (!ms?.length) continue;
      // The median run by throughput, with its own CPU figures.
      const med = [...ms].sort((x, y) => x.peer.seconds - y.peer.seconds)[ms.length >> 1];
      (tput[t] ??= {})[dir] = { mbit: mbit(bytes, med.peer.seconds), cpu: med.stack.cpu / mib, user: med.stack.user / mib, peerCpu: med.peer.cpu_s / mib };
      raw[`${t}.${dir}`] = ms.map((m) => ({ seconds: m.peer.seconds, stack: m.stack, peer: { cpu: m.peer.cpu_s, user: m.peer.user_s, sys: m.peer.sys_s } }));
    }
    const rrs = rr[t] ?? [];
    const cpss = cps[t] ?? [];
    const rrMed = rrs.length ? [...rrs].sort((x, y) => (x.peer.rtt_mean_us ?? 0) - (y.peer.rtt_mean_us ?? 0))[rrs.length >> 1] : undefined;
    const cpsMed = cpss.length ? [...cpss].sort((x, y) => x.peer.seconds - y.peer.seconds)[cpss.length >> 1] : undefined;
    b.fig(`kernel.${t}.rr_us`, rrMed?.peer.rtt_mean_us ?? null, "µs per round trip",
      `${LABEL[t]}: the kernel's peer (bench/c/peer.c rr) sends 1 byte and waits for the echo, ${rrN} times on one connection (TCP_NODELAY); mean wall-clock round trip, median run of ${reps} (its p50 ${round(rrMed?.peer.rtt_p50_us ?? NaN, 1)}, p99 ${round(rrMed?.peer.rtt_p99_us ?? NaN, 1)} µs)`);
    b.fig(`kernel.${t}.cps`, cpsMed ? cpsN / cpsMed.peer.seconds : null, "connections/s",
      `${LABEL[t]}: the kernel's peer connects, shuts down its side, waits for the stack's FIN and closes, ${cpsN} times; connections per wall-clock second, median run of ${reps}`);
    if (rrs.length) raw[`${t}.rr`] = rrs.map((m) => m.peer);
    if (cpss.length) raw[`${t}.cps`] = cpss.map((m) => ({ seconds: m.peer.seconds, stack: m.stack }));
  }
  b.detail("kernel.runs", raw);
  b.detail("kernel.order", `every target started first (one namespace each), then ${reps} round(s) of: rx of each target, tx of each; then ${reps} round(s) of rr + cps of each`);

  // Figures and ratios, in the same run.
  for (const t of TARGETS) {
    for (const dir of ["rx", "tx"] as const) {
      const x = tput[t]?.[dir];
      const what = dir === "rx" ? `the kernel sends ${mib} MiB to the stack (peer send: "D\\n" then data, until the stack's close)` : `the stack sends ${mib} MiB to the kernel (peer recv: "S n\\n", read to EOF, pattern checked)`;
      const who = t === "veth" ? "the receiving/sending kernel side's server process (bench/c/peer.c server)" : "the stack's process(es)";
      b.fig(`kernel.${t}.${dir}.mbit`, x?.mbit ?? null, "Mbit/s", `${LABEL[t]}: ${what}; payload bits per wall-clock second from before connect to the end, median of ${reps} run(s), MTU 1500`);
      b.fig(`kernel.${t}.${dir}.cpu_s_per_mib`, x?.cpu ?? null, "CPU s/MiB",
        `${LABEL[t]}: on-CPU time (schedstat, all threads: user + system, including kernel work done in their system calls) of ${who} during the median run, per MiB`);
      b.fig(`kernel.${t}.${dir}.user_s_per_mib`, x?.user ?? null, "CPU s/MiB", `${LABEL[t]}: user time only (/proc/<pid>/stat utime, 10 ms ticks) of ${who}, per MiB`);
      b.fig(`kernel.${t}.${dir}.peer_cpu_s_per_mib`, x?.peerCpu ?? null, "CPU s/MiB", `${LABEL[t]}: on-CPU time of the kernel's peer process (bench/c/peer.c client), per MiB`);
      if (t !== "veth") {
        const ve = tput.veth?.[dir];
        b.fig(`kernel.${t}.${dir}.throughput_vs_veth`, x && ve ? x.mbit / ve.mbit : null, "ratio", `kernel.${t}.${dir}.mbit / kernel.veth.${dir}.mbit (same run)`);
      }
    }
  }
  for (const p of PAIRINGS) {
    for (const board of BOARDS) {
      const t = p.board[board];
      for (const dir of ["rx", "tx"] as const) {
        const x = tput[t]?.[dir];
        const lw = tput[p.lwip]?.[dir];
        const name = `pairing "${p.id}" (${p.what})`;
        b.fig(ratioId(t, dir, p.lwip, "throughput"), x && lw ? x.mbit / lw.mbit : null, "ratio", `kernel.${t}.${dir}.mbit / kernel.${p.lwip}.${dir}.mbit (same run; ${name})`);
        b.fig(ratioId(t, dir, p.lwip, "cpu"), x && lw ? x.cpu / lw.cpu : null, "ratio", `kernel.${t}.${dir}.cpu_s_per_mib / kernel.${p.lwip}.${dir}.cpu_s_per_mib (same run; ${name})`);
      }
    }
  }
}

/** kernel.<wasmip target>.<dir>.<throughput|cpu>_vs_<lwIP target> */
export function ratioId(t: string, dir: string, lwip: string, what: "throughput" | "cpu"): string {
  return `kernel.${t}.${dir}.${what}_vs_${lwip}`;
}
