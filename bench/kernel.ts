// Figures 5 and 6 (against the kernel) of `make bench`: the Linux kernel as the peer of each stack
// over a TAP device in a namespace this code creates (and always removes): the Node board
// (bench/tapboard.ts), the posix board (boards/posix/build/wasmip-bench) and lwIP
// (bench/c/lwip_bench.c), all serving the bench protocol on TCP 5001; and the kernel talking to
// itself over a veth pair between two namespaces (bench/c/peer.c on both ends), the ceiling of
// this machine. The kernel side is always bench/c/peer.c. Traffic stays inside the namespaces.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { IP, Netns, killChild, pingUntilAnswered, run } from "../host/netns.ts";
import { BENCH_BUILD, MiB, ROOT, cpuDelta, cpuOf, firstLine, mbit, median, processTree, round, runCmd, waitLine, type Bench } from "./lib.ts";

const CDIR = path.join(BENCH_BUILD, "c");
export const PEER = path.join(CDIR, "peer");
export const LWIP = path.join(CDIR, "lwip-bench");
export const POSIX = path.join(ROOT, "boards", "posix", "build", "wasmip-bench");
const PORT = "5001";
const PEER_CIDR = "10.215.0.1/24";
const STACK_IP = "10.215.0.2";

export async function buildPeers(): Promise<void> {
  mkdirSync(CDIR, { recursive: true });
  await runCmd("gcc", ["-O2", "-Wall", "-Wextra", "-o", PEER, path.join(ROOT, "bench", "c", "peer.c")]);
  const cflags = (await runCmd("pkg-config", ["--cflags", "lwip"])).stdout.trim().split(/\s+/).filter(Boolean);
  const libs = (await runCmd("pkg-config", ["--libs", "lwip"])).stdout.trim().split(/\s+/).filter(Boolean);
  await runCmd("gcc", ["-O2", "-Wall", "-Wextra", ...cflags, "-o", LWIP, path.join(ROOT, "bench", "c", "lwip_bench.c"), ...libs, "-pthread"]);
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

async function newNs(name: string): Promise<Netns> {
  const ns = await Netns.create(name); // refuses an existing namespace: never someone else's
  live.add(ns);
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

interface PeerResult {
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
}

interface Measured {
  peer: PeerResult;
  stack: { cpu: number; user: number; sys: number };
}

type Target = "node" | "posix" | "lwip" | "veth";
export const TARGETS: Target[] = ["node", "posix", "lwip", "veth"];
const LABEL: Record<Target, string> = {
  node: "wasmip, Node board (V8 + tap-bridge)",
  posix: "wasmip, posix board (wasm2c, gcc -O2)",
  lwip: "lwIP 2.1.3 (Debian liblwip-dev, raw API)",
  veth: "Linux kernel to itself over veth",
};

interface Running {
  client: Netns; // where the kernel's peer runs
  host: string; // the stack's address as seen from there
  stackPids: () => number[];
  stop: () => Promise<Record<string, unknown> | undefined>;
}

async function start(b: Bench, t: Target, nsBase: string): Promise<Running> {
  if (t === "veth") {
    const a = await newNs(`${nsBase}a`);
    const s = await newNs(`${nsBase}b`);
    await run(IP, ["-n", a.name, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", s.name]);
    await run(IP, ["-n", a.name, "addr", "add", PEER_CIDR, "dev", "va"]);
    await run(IP, ["-n", s.name, "addr", "add", `${STACK_IP}/24`, "dev", "vb"]);
    await run(IP, ["-n", a.name, "link", "set", "va", "up"]);
    await run(IP, ["-n", s.name, "link", "set", "vb", "up"]);
    const srv = s.spawn(PEER, ["server", PORT]);
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
  if (t === "node") {
    child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "bench", "tapboard.ts"), ns.name, "tap0", `${STACK_IP}/24`, PEER_CIDR], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    procs.add(child);
  } else {
    await ns.addTap("tap0", PEER_CIDR);
    child = t === "posix" ? ns.spawn(POSIX, ["--tap", "tap0", "--board-ip", `${STACK_IP}/24`, "--log-level", "warn"]) : ns.spawn(LWIP, ["--tap", "tap0", "--ip", `${STACK_IP}/24`]);
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

async function peer(r: Running, mode: string, n: number, timeoutMs: number): Promise<Measured> {
  const before = cpuOf(r.stackPids());
  const out = await r.client.exec(PEER, [mode, r.host, PORT, String(n)], { check: false, timeoutMs });
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

export async function kernelStep(b: Bench): Promise<void> {
  await buildPeers();
  const lw = await runCmd(LWIP, ["--info"]);
  b.detail("kernel.lwip_config", JSON.parse(lw.stdout));
  b.results.versions.lwip = (JSON.parse(lw.stdout) as { lwip: string }).lwip;
  b.results.versions.lwip_package = firstLine("dpkg-query", ["-W", "-f=${Version}", "liblwip-dev"]);
  const bytes = b.quick ? 2 * MiB : 64 * MiB;
  const reps = b.quick ? 1 : 5;
  const rrN = b.quick ? 200 : 2000;
  const cpsN = b.quick ? 50 : 500;
  const base = `wb${process.pid % 100000}`;
  const raw: Record<string, unknown> = {};
  const tput: Record<string, Record<string, { mbit: number; cpu: number; user: number; peerCpu: number }>> = {};
  try {
    for (const [i, t] of TARGETS.entries()) {
      b.log(`kernel: ${LABEL[t]}`);
      const r = await start(b, t, `${base}${String.fromCharCode(97 + i)}`);
      let exit: Record<string, unknown> | undefined;
      try {
        tput[t] = {};
        for (const [dir, mode] of [["rx", "send"], ["tx", "recv"]] as const) {
          const ms: Measured[] = [];
          for (let k = 0; k < reps; k++) {
            const m = await peer(r, mode, bytes, 600_000);
            ms.push(m);
            b.log(`kernel: ${t} ${dir} ${bytes / MiB} MiB: ${mbit(bytes, m.peer.seconds).toFixed(1)} Mbit/s`);
          }
          // The median run by throughput, with its own CPU figures.
          const sorted = [...ms].sort((x, y) => x.peer.seconds - y.peer.seconds);
          const med = sorted[sorted.length >> 1];
          const mib = bytes / MiB;
          tput[t][dir] = { mbit: mbit(bytes, med.peer.seconds), cpu: med.stack.cpu / mib, user: med.stack.user / mib, peerCpu: med.peer.cpu_s / mib };
          raw[`${t}.${dir}`] = ms.map((m) => ({ seconds: m.peer.seconds, stack: m.stack, peer: { cpu: m.peer.cpu_s, user: m.peer.user_s, sys: m.peer.sys_s } }));
        }
        // Latency and rate: the median of `reps` runs each.
        const rrs: Measured[] = [];
        const cpss: Measured[] = [];
        for (let k = 0; k < reps; k++) {
          rrs.push(await peer(r, "rr", rrN, 120_000));
          cpss.push(await peer(r, "cps", cpsN, 120_000));
        }
        const rr = [...rrs].sort((x, y) => (x.peer.rtt_mean_us ?? 0) - (y.peer.rtt_mean_us ?? 0))[rrs.length >> 1];
        const cps = [...cpss].sort((x, y) => x.peer.seconds - y.peer.seconds)[cpss.length >> 1];
        b.fig(`kernel.${t}.rr_us`, rr.peer.rtt_mean_us ?? null, "µs per round trip",
          `${LABEL[t]}: the kernel's peer (bench/c/peer.c rr) sends 1 byte and waits for the echo, ${rrN} times on one connection (TCP_NODELAY); mean wall-clock round trip, median run of ${reps} (its p50 ${round(rr.peer.rtt_p50_us ?? NaN, 1)}, p99 ${round(rr.peer.rtt_p99_us ?? NaN, 1)} µs)`);
        b.fig(`kernel.${t}.cps`, cpsN / cps.peer.seconds, "connections/s",
          `${LABEL[t]}: the kernel's peer connects, shuts down its side, waits for the stack's FIN and closes, ${cpsN} times; connections per wall-clock second, median run of ${reps}`);
        raw[`${t}.rr`] = rrs.map((m) => m.peer);
        raw[`${t}.cps`] = cpss.map((m) => ({ seconds: m.peer.seconds, stack: m.stack }));
      } finally {
        exit = await r.stop();
      }
      if (exit) raw[`${t}.exit`] = exit;
      if (t === "node" && exit) b.detail("memory.growth.node_tap", { pagesAtInit: exit.pagesAtInit, pagesAtExit: exit.pages });
    }
  } finally {
    await cleanupKernel();
  }
  b.detail("kernel.runs", raw);
  // Figures and ratios, in the same run.
  const mib = bytes / MiB;
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
      const lw = tput.lwip?.[dir];
      const ve = tput.veth?.[dir];
      if (t !== "lwip" && t !== "veth") {
        b.fig(`kernel.${t}.${dir}.throughput_vs_lwip`, x && lw ? x.mbit / lw.mbit : null, "ratio", `kernel.${t}.${dir}.mbit / kernel.lwip.${dir}.mbit (same run)`);
        b.fig(`kernel.${t}.${dir}.cpu_vs_lwip`, x && lw ? x.cpu / lw.cpu : null, "ratio", `kernel.${t}.${dir}.cpu_s_per_mib / kernel.lwip.${dir}.cpu_s_per_mib (same run)`);
      }
      if (t !== "veth") b.fig(`kernel.${t}.${dir}.throughput_vs_veth`, x && ve ? x.mbit / ve.mbit : null, "ratio", `kernel.${t}.${dir}.mbit / kernel.veth.${dir}.mbit (same run)`);
    }
  }
}
