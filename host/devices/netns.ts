// Linux network namespaces for real peers (needs root and iproute2).
//
// Safety: the harness only sends traffic to addresses inside namespaces it set up. A Netns
// refuses a namespace that already exists unless the caller asks to reuse it, and a tap that
// already exists in it; on destroy() it kills every process it started (by pid), deletes the
// taps it created, and deletes the namespace only if it created it. destroy() also runs
// (synchronously) when the Node process exits with namespaces still live.
import { spawn, execFileSync, type ChildProcess, type SpawnOptions } from "node:child_process";
import { existsSync } from "node:fs";

export const IP = existsSync("/usr/sbin/ip") ? "/usr/sbin/ip" : existsSync("/sbin/ip") ? "/sbin/ip" : "ip";

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Kill the command (SIGKILL) after this many ms. Default 30 s. */
  timeoutMs?: number;
  input?: string;
  /** Throw when the exit code is not 0. Default true. */
  check?: boolean;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/** Pids of every child started through this module, for emergency cleanup. */
const livePids = new Set<number>();
const liveNamespaces = new Set<Netns>();

function track(child: ChildProcess): ChildProcess {
  const pid = child.pid;
  if (pid !== undefined) {
    livePids.add(pid);
    child.once("exit", () => livePids.delete(pid));
  }
  return child;
}

/** Run a command (no shell), collect its output. */
export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const { timeoutMs = 30_000, check = true } = opts;
  return new Promise((resolve, reject) => {
    const child = track(spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ["pipe", "pipe", "pipe"] }));
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} ${args.join(" ")}: ${e.message}`));
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      const r = { code, signal, stdout, stderr };
      if (check && code !== 0) reject(new Error(`${cmd} ${args.join(" ")} failed (${code ?? signal}): ${stderr.trim().slice(-4000)}`));
      else resolve(r);
    });
    child.stdin!.on("error", () => {});
    child.stdin!.end(opts.input ?? "");
  });
}

export async function netnsList(): Promise<string[]> {
  const r = await run(IP, ["netns", "list"]);
  // Lines look like "name" or "name (id: 3)".
  return r.stdout
    .split("\n")
    .map((l) => l.trim().split(/\s+/)[0])
    .filter((n) => n);
}

export async function netnsExists(name: string): Promise<boolean> {
  return (await netnsList()).includes(name);
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,14}$/;

export function checkName(what: string, name: string): void {
  // Interface names are at most 15 bytes; keep namespace names to the same safe alphabet.
  if (!NAME_RE.test(name)) throw new Error(`bad ${what} name "${name}" (1-15 of A-Z a-z 0-9 _ . -)`);
}

export interface NetnsOptions {
  /** Use the namespace if it already exists (then it is never deleted). Default false: refuse. */
  reuseExisting?: boolean;
}

export class Netns {
  readonly name: string;
  /** True when this object created the namespace (and so deletes it). */
  readonly created: boolean;
  private readonly taps: string[] = [];
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;

  private constructor(name: string, created: boolean) {
    this.name = name;
    this.created = created;
    liveNamespaces.add(this);
  }

  /** Create namespace `name` with lo up. Refuses an existing one unless opts.reuseExisting. */
  static async create(name: string, opts: NetnsOptions = {}): Promise<Netns> {
    checkName("namespace", name);
    if (await netnsExists(name)) {
      if (!opts.reuseExisting) throw new Error(`network namespace ${name} already exists and was not created by this run: refusing to use it`);
      const ns = new Netns(name, false);
      return ns;
    }
    await run(IP, ["netns", "add", name]);
    const ns = new Netns(name, true);
    try {
      await run(IP, ["-n", name, "link", "set", "lo", "up"]);
    } catch (e) {
      await ns.destroy();
      throw e;
    }
    return ns;
  }

  /** Create a persistent tap in the namespace with address `cidr` ("10.0.0.1/24") and bring it up. */
  async addTap(tap: string, cidr: string): Promise<void> {
    checkName("tap", tap);
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr)) throw new Error(`bad address ${cidr} (want A.B.C.D/len)`);
    const exists = await run(IP, ["-n", this.name, "link", "show", "dev", tap], { check: false });
    if (exists.code === 0) throw new Error(`${tap} already exists in namespace ${this.name}: refusing to use it`);
    await run(IP, ["-n", this.name, "tuntap", "add", "dev", tap, "mode", "tap"]);
    this.taps.push(tap);
    await run(IP, ["-n", this.name, "addr", "add", cidr, "dev", tap]);
    await run(IP, ["-n", this.name, "link", "set", tap, "up"]);
  }

  /** The MAC address of an interface in the namespace. */
  async macOf(dev: string): Promise<string> {
    const r = await run(IP, ["-n", this.name, "-br", "link", "show", "dev", dev]);
    const m = /([0-9a-f]{2}(:[0-9a-f]{2}){5})/.exec(r.stdout);
    if (!m) throw new Error(`no MAC for ${dev}: ${r.stdout}`);
    return m[1];
  }

  /** Start a command inside the namespace (`ip netns exec`); it is killed by destroy(). */
  spawn(cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
    if (this.destroyed) throw new Error(`namespace ${this.name} is destroyed`);
    const child = track(spawn(IP, ["netns", "exec", this.name, cmd, ...args], { stdio: ["pipe", "pipe", "pipe"], ...opts }));
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    return child;
  }

  /** Run a command inside the namespace to completion and collect its output. */
  exec(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
    if (this.destroyed) return Promise.reject(new Error(`namespace ${this.name} is destroyed`));
    return run(IP, ["netns", "exec", this.name, cmd, ...args], opts);
  }

  /** Kill our processes, delete our taps, and delete the namespace if we created it. Idempotent. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    const errors: string[] = [];
    for (const c of [...this.children]) await killChild(c);
    for (const tap of this.taps.splice(0)) {
      const r = await run(IP, ["-n", this.name, "link", "del", "dev", tap], { check: false });
      if (r.code !== 0 && !/Cannot find device/.test(r.stderr)) errors.push(r.stderr.trim());
    }
    if (this.created) {
      const r = await run(IP, ["netns", "del", this.name], { check: false });
      if (r.code !== 0) errors.push(r.stderr.trim());
    }
    liveNamespaces.delete(this);
    if (errors.length) throw new Error(`cleanup of namespace ${this.name}: ${errors.join("; ")}`);
  }

  /** Synchronous best-effort cleanup, for process exit. */
  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const c of this.children) if (c.pid !== undefined && c.exitCode === null) tryKill(c.pid, "SIGKILL");
    for (const tap of this.taps.splice(0)) {
      try {
        execFileSync(IP, ["-n", this.name, "link", "del", "dev", tap], { stdio: "ignore" });
      } catch {}
    }
    if (this.created) {
      try {
        execFileSync(IP, ["netns", "del", this.name], { stdio: "ignore" });
      } catch {}
    }
    liveNamespaces.delete(this);
  }
}

function tryKill(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {}
}

/** SIGTERM a child, then SIGKILL it if it has not exited within graceMs. Resolves once it exited. */
export function killChild(child: ChildProcess, graceMs = 1000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const hard = setTimeout(() => child.kill("SIGKILL"), graceMs);
    const give = setTimeout(resolve, graceMs + 2000); // never hang cleanup
    child.once("exit", () => {
      clearTimeout(hard);
      clearTimeout(give);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** Close a child's stdin and wait for it to exit; kill it (by pid) if it does not in time. */
export function closeAndWait(child: ChildProcess, graceMs = 1000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  child.stdin?.end();
  return new Promise((resolve) => {
    const t = setTimeout(() => killChild(child).then(resolve), graceMs);
    child.once("exit", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

process.once("exit", () => {
  for (const ns of [...liveNamespaces]) ns.destroySync();
  for (const pid of livePids) tryKill(pid, "SIGKILL");
});

/** Pings ip from the namespace, one echo at a time and `attempts` at most; true once one is
 *  answered. `failed` reports a board error that makes waiting pointless. */
export async function pingUntilAnswered(
  exec: (cmd: string, args: string[], opts: RunOptions) => Promise<RunResult>,
  ip: string,
  attempts: number,
  failed: () => Error | undefined,
): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    const err = failed();
    if (err) throw err;
    const r = await exec("ping", ["-n", "-c", "1", "-W", "1", ip], { check: false, timeoutMs: 5000 });
    if (r.code === 0) return true;
  }
  return false;
}
