// The native posix board run standalone from the host namespace: `wasmip-http --netns NS ...`
// creates the namespace and the tap itself, and on SIGTERM deletes both and exits 0. With --dhcp
// it boots with no address and leases one from a dnsmasq this test starts in the namespace. Each
// test uses a namespace of its own (never an existing one), kills what it started by pid, and
// deletes the namespace even on failure. Without the prerequisites a test is skipped locally and
// FAILS under CI=true.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { requirePrereqs } from "./prereqs.ts";
import { run, netnsList, killChild, IP } from "../../host/devices/netns.ts";
import { nativeBinary } from "../../host/devices/native.ts";
import { Dnsmasq } from "../../host/devices/services/dnsmasq.ts";

const BIN = nativeBinary("http");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Interrupted: exit, so netns.ts's exit hook kills what run() started; the board deletes its own
// namespace on the SIGTERM the test runner forwards (or the finally blocks below do).
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

let seq = 0;
function nsName(): string {
  return `wasmip-n${seq++}${process.pid % 100_000}`; // at most 15 characters
}

interface Board {
  proc: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startBoard(args: string[]): Board {
  const proc = spawn(BIN, args, { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d));
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    proc.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return { proc, out: () => out, err: () => err, exited };
}

async function waitFor(b: Board, re: RegExp, timeoutMs: number): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const m = re.exec(b.out());
    if (m) return m;
    if (b.proc.exitCode !== null || b.proc.signalCode !== null) throw new Error(`board exited (${b.proc.exitCode ?? b.proc.signalCode}): ${b.err()}`);
    if (Date.now() > deadline) throw new Error(`no ${re} within ${timeoutMs} ms: stdout ${JSON.stringify(b.out())}, stderr ${b.err()}`);
    await sleep(20);
  }
}

/** SIGTERM the board by pid and check it exits 0; always deletes the namespace if it is left. */
async function stopBoard(b: Board, ns: string): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let result: { code: number | null; signal: NodeJS.Signals | null } = { code: b.proc.exitCode, signal: b.proc.signalCode };
  try {
    if (b.proc.exitCode === null && b.proc.signalCode === null) {
      await killChild(b.proc, 5000);
      result = await b.exited;
    }
  } finally {
    if ((await netnsList()).includes(ns)) await run(IP, ["netns", "del", ns], { check: false });
  }
  return result;
}

test("posix board --netns: creates its namespace and tap, serves http, removes both on SIGTERM", async (t) => {
  if (!requirePrereqs(t, ["curl"], [BIN])) return;
  const ns = nsName();
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} exists before the test`);
  const b = startBoard(["--netns", ns, "--board-ip", "10.213.91.2/24", "--peer-ip", "10.213.91.1/24"]);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    await waitFor(b, /^ready$/m, 10_000);
    assert.ok((await netnsList()).includes(ns), `the board did not create namespace ${ns}`);
    const r = await run(IP, ["netns", "exec", ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", "http://10.213.91.2/"], {
      check: false,
      timeoutMs: 10_000,
    });
    assert.equal(r.stdout, "200", `curl: ${r.stderr} / board: ${b.err()}`);
  } finally {
    exit = await stopBoard(b, ns);
  }
  assert.equal(exit.code, 0, `exit ${exit.code ?? exit.signal}: ${b.err()}`);
  assert.match(b.out(), /^board:/m, "no counters printed at exit");
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} left behind`);
  assert.match(b.err(), new RegExp(`deleted namespace ${ns}`));
});

test("posix board --netns --dhcp: leases an address from dnsmasq in the namespace", async (t) => {
  if (!requirePrereqs(t, ["curl", "dnsmasq"], [BIN])) return;
  const ns = nsName();
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} exists before the test`);
  const b = startBoard(["--netns", ns, "--dhcp", "--peer-ip", "10.213.92.1/24"]);
  let server: Dnsmasq | undefined;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    // The board creates the tap with the peer address; dnsmasq binds to it once it is there.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const r = await run(IP, ["-n", ns, "addr", "show", "dev", "tap0"], { check: false });
      if (r.code === 0 && r.stdout.includes("10.213.92.1/24")) break;
      if (b.proc.exitCode !== null) throw new Error(`board exited: ${b.err()}`);
      if (Date.now() > deadline) throw new Error(`tap0 not up in ${ns}: ${b.err()}`);
      await sleep(20);
    }
    server = new Dnsmasq(
      { spawn: (cmd, args) => spawn(IP, ["netns", "exec", ns, cmd, ...args], { stdio: ["pipe", "pipe", "pipe"] }) },
      { tap: "tap0", rangeStart: "10.213.92.100", rangeEnd: "10.213.92.199", lease: "12h", router: "10.213.92.1", dns: ["10.213.92.1"] },
    );
    await server.ready();
    const m = await waitFor(b, /^leased (\d+\.\d+\.\d+\.\d+)\/24 gw 10\.213\.92\.1$/m, 30_000);
    await waitFor(b, /^ready$/m, 1000);
    const leased = m[1];
    assert.match(leased, /^10\.213\.92\.1\d\d$/);
    const r = await run(IP, ["netns", "exec", ns, "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "5", `http://${leased}/`], {
      check: false,
      timeoutMs: 10_000,
    });
    assert.equal(r.stdout, "200", `curl: ${r.stderr} / board: ${b.err()}`);
    assert.ok(
      server.leases().some((l) => l.ip === leased && l.hostName === "wasmip-http"),
      `lease file: ${JSON.stringify(server.leases())}`,
    );
  } finally {
    await server?.stop().catch(() => {});
    exit = await stopBoard(b, ns);
  }
  assert.equal(exit.code, 0, `exit ${exit.code ?? exit.signal}: ${b.err()}`);
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} left behind`);
});

// --log-level LEVEL[,MODULE=LEVEL...]: the core filters per module (set_log_module_level); the
// board shows the lines it is given. A warn board with arp at debug logs the ARP exchange of a
// ping (module arp) but not its own "eth: up" (module eth, info).
test("posix board --log-level warn,arp=debug: per-module levels reach the core; a bad spec is refused", async (t) => {
  if (!requirePrereqs(t, ["ping"], [BIN])) return;
  const bad = startBoard(["--netns", nsName(), "--board-ip", "10.213.93.2/24", "--peer-ip", "10.213.93.1/24", "--log-level", "warn,nfs=debug"]);
  const badExit = await bad.exited;
  assert.equal(badExit.code, 2);
  assert.match(bad.err(), /^wasmip: bad --log-level warn,nfs=debug \(LEVEL\[,MODULE=LEVEL\.\.\.\]/m);
  const ns = nsName();
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} exists before the test`);
  const b = startBoard(["--netns", ns, "--board-ip", "10.213.93.2/24", "--peer-ip", "10.213.93.1/24", "--log-level", "warn,arp=debug"]);
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  try {
    await waitFor(b, /^ready$/m, 10_000);
    await run(IP, ["netns", "exec", ns, "ping", "-c", "1", "-W", "2", "10.213.93.2"], { check: false, timeoutMs: 10_000 });
    const deadline = Date.now() + 3000;
    while (!/\[(info|debug)\] arp: /.test(b.err()) && Date.now() < deadline) await sleep(20);
  } finally {
    exit = await stopBoard(b, ns);
  }
  assert.equal(exit.code, 0, `exit ${exit.code ?? exit.signal}: ${b.err()}`);
  assert.match(b.err(), /\[(info|debug)\] arp: /, "no arp lines at debug");
  assert.doesNotMatch(b.err(), /\[info\] eth: up/, "eth is at warn");
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} left behind`);
});
