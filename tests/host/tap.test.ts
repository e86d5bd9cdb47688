// The core on a real TAP device, with the Linux kernel as its peer, in a network namespace this
// test creates (and always deletes). Needs root, iproute2, /dev/net/tun, ping, tshark, gcc (for
// build/tap-bridge) and build/wasmip.wasm: scripts/install-deps.sh installs the packages.
// Without them the test is skipped locally and FAILS when CI=true.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { onPath, requirePrereqs } from "./prereqs.ts";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DEFAULT_WASM, ROOT } from "../../host/board/board.ts";
import { run, netnsList, IP } from "../../host/devices/netns.ts";
import { BOARD_KINDS, boardFile, boardMac, boardTools, startBoard, type BoardKind, type PeerSession } from "./boards.ts";
import { QEMU, qemuImage } from "../../host/devices/qemu.ts";

const NS = `wasmip-t${process.pid}`; // at most 15 characters
const CLI_NS = `wasmip-c${process.pid}`;
const QEMU_CLI_NS = `wasmip-k${process.pid}`;
const BOARD = "10.213.77.2";
const PEER = "10.213.77.1";
const PING_COUNT = 20;
const PING_SIZE = 1400; // ICMP payload: the IP datagram is 1428 bytes
const PCAP_OF = (kind: BoardKind) => path.join(os.tmpdir(), `wasmip-tap-${kind}-${process.pid}.pcap`);
/** The namespace of the ping test for each board kind (at most 15 characters). */
const NS_OF = (kind: BoardKind) => (kind === "node" ? NS : `wasmip-${{ posix: "p", mps2: "q", wamr: "w" }[kind]}${process.pid}`);

// Interrupted (Ctrl-C, a CI timeout): exit, so netns.ts's exit hook kills our processes and
// deletes the namespace synchronously.
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** tshark fields of the capture, one array per packet (Ethernet errors, checksums verified). */
async function tsharkFields(PCAP: string, filter: string, fields: string[]): Promise<string[][]> {
  const args = ["-r", PCAP, "-n", "-o", "ip.check_checksum:TRUE", "-Y", filter, "-T", "fields", "-E", "separator=\t"];
  for (const f of fields) args.push("-e", f);
  const r = await run("tshark", args, { timeoutMs: 60_000 });
  return r.stdout
    .split("\n")
    .filter((l) => l.length > 0)
    .map((l) => l.split("\t"));
}

for (const kind of BOARD_KINDS)
test(`tap: the Linux kernel pings the board over a real TAP (${kind} board)`, { timeout: 120_000 }, async (t) => {
  if (!requirePrereqs(t, ["ping", "tshark", ...boardTools(kind)], [kind === "node" ? DEFAULT_WASM : boardFile(kind, "bare")])) return;
  const NS = NS_OF(kind);
  const PCAP = PCAP_OF(kind);
  assert.ok(!(await netnsList()).includes(NS), `namespace ${NS} exists before the test`);

  const logs: string[] = [];
  let s: PeerSession | undefined;
  let rtt = "";
  try {
    s = await startBoard(kind, {
      netns: NS,
      boardIp: `${BOARD}/24`,
      peerIp: `${PEER}/24`,
      pcap: PCAP,
      log: (level, msg) => logs.push(`[${level}] ${msg}`),
    });
    const mac = boardMac(s);

    await t.test(`kernel ping -c ${PING_COUNT} -s ${PING_SIZE} gets every reply`, async () => {
      const r = await s!.exec("ping", ["-n", "-c", String(PING_COUNT), "-s", String(PING_SIZE), "-i", "0.05", "-W", "2", BOARD], {
        check: false,
        timeoutMs: 30_000,
      });
      const m = /rtt min\/avg\/max\/mdev = ([\d./]+) ms/.exec(r.stdout);
      if (m) {
        rtt = m[1];
        t.diagnostic(`kernel -> board RTT min/avg/max/mdev = ${rtt} ms`);
      }
      assert.equal(s!.error, undefined, `runner error: ${s!.error?.message}`);
      assert.match(r.stdout, new RegExp(`${PING_COUNT} packets transmitted, ${PING_COUNT} received`), `ping output:\n${r.stdout}${r.stderr}\nboard log:\n${logs.join("\n")}`);
    });

    await t.test("the kernel's neighbour entry for the board is REACHABLE with the board's MAC", async () => {
      // Right after the pings the entry is REACHABLE; if the kernel moved it to DELAY/PROBE,
      // a few more single pings (bounded) let it confirm the board again.
      let show = "";
      for (let i = 0; i < 6; i++) {
        show = (await s!.exec(IP, ["-n", NS, "neigh", "show", BOARD])).stdout.trim();
        if (/\bREACHABLE\b/.test(show)) break;
        await s!.exec("ping", ["-n", "-c", "1", "-W", "1", BOARD], { check: false, timeoutMs: 5000 });
        await sleep(300);
      }
      assert.match(show, /\bREACHABLE\b/, `ip neigh show ${BOARD}: ${show}`);
      assert.match(show, new RegExp(`lladdr ${mac}\\b`), `ip neigh show ${BOARD}: ${show}`);
    });
  } finally {
    await s?.stop();
  }
  assert.ok(!(await netnsList()).includes(NS), `namespace ${NS} still exists after stop()`);

  await t.test("the harness pcap: no malformed packet, no bad checksum, 20 requests and 20 matching replies", async () => {
    assert.ok(existsSync(PCAP), "pcap written");
    const all = await tsharkFields(PCAP, "frame", ["frame.number", "eth.type", "_ws.col.Protocol", "_ws.col.Info"]);
    assert.ok(all.length >= 2 * PING_COUNT, `only ${all.length} frames captured`);
    const bad = await tsharkFields(
      PCAP,
      "_ws.malformed || _ws.expert.severity >= 0x00800000 || ip.checksum.status == 0 || icmp.checksum.status == 0 || eth.fcs.status == 0",
      ["frame.number", "ip.checksum.status", "icmp.checksum.status", "_ws.expert.message", "_ws.col.Info"],
    );
    assert.deepEqual(bad, [], `bad packets:\n${bad.map((l) => l.join(" | ")).join("\n")}`);

    const len = String(PING_SIZE + 28);
    const requests = await tsharkFields(PCAP, `icmp.type == 8 && ip.src == ${PEER} && ip.dst == ${BOARD} && ip.len == ${len}`, ["icmp.seq", "icmp.ident", "data.data"]);
    const replies = await tsharkFields(PCAP, `icmp.type == 0 && ip.src == ${BOARD} && ip.dst == ${PEER} && ip.len == ${len} && icmp.resp_to`, [
      "icmp.seq",
      "icmp.ident",
      "data.data",
    ]);
    assert.equal(requests.length, PING_COUNT, "echo requests in the capture");
    assert.equal(replies.length, PING_COUNT, "echo replies (matched to a request) in the capture");
    const key = (f: string[]) => `${f[0]}/${f[1]}/${f[2]}`;
    assert.deepEqual(replies.map(key).sort(), requests.map(key).sort(), "each reply echoes its request's id, sequence and data");
  });
});

/** Run host/cli.ts with args; returns the child and its collected output. */
function cli(args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "host", "cli.ts"), ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const out = { stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (d: string) => (out.stdout += d));
  child.stderr.setEncoding("utf8").on("data", (d: string) => (out.stderr += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  return { child, out, exited };
}

/** After a CLI test, even a failed one: the CLI killed if it still runs, its namespace (this
 *  run's own name) deleted if it left it behind. */
async function endCli(child: ReturnType<typeof cli>["child"], exited: Promise<number | null>, ns: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL");
    await exited;
  }
  if ((await netnsList()).includes(ns)) await run(IP, ["netns", "del", ns], { check: false });
}

test("tap: wasmip tap rejects an unknown --app with a clear error", { timeout: 60_000 }, async () => {
  const { out, exited } = cli(["tap", "--app", "http-server"]);
  assert.equal(await exited, 2);
  assert.match(out.stderr, /^wasmip tap: unknown app "http-server": one of bare, ping, greeter, .*sensor \(see wasmip tap --help\)\n$/);
});

// A user's own image (--wasm) is named by its path in the banner and in wasmip netstat, not as "app bare".
test("tap: wasmip tap --wasm names the image it runs in its banner and in wasmip netstat", { timeout: 60_000 }, async (t) => {
  const sensor = path.join(ROOT, "build", "sensor.wasm");
  if (!requirePrereqs(t, ["ping"], [sensor])) return;
  assert.ok(!(await netnsList()).includes(CLI_NS), `namespace ${CLI_NS} exists before the test`);
  const dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-tap-image-"));
  const mine = path.join(dir, "mything.wasm");
  copyFileSync(sensor, mine);
  const { child, out, exited } = cli(["tap", "--netns", CLI_NS, "--wasm", mine]);
  try {
    const deadline = Date.now() + 20_000;
    while (!out.stdout.includes("ready") && child.exitCode === null && Date.now() < deadline) await sleep(50);
    assert.match(out.stdout, /^ready$/m, `no "ready" from wasmip tap:\n${out.stdout}${out.stderr}`);
    assert.ok(out.stderr.includes(`(02:77:69:70:00:02, image ${mine}) on tap0`), out.stderr);
    let status = "";
    for (let i = 0; i < 50 && !status.includes("Board"); i++) {
      const r = await run(process.execPath, ["--import", "tsx", path.join(ROOT, "host", "cli.ts"), "netstat", "--netns", CLI_NS], { check: false, cwd: ROOT });
      status = r.stdout;
      if (!status.includes("Board")) await sleep(100);
    }
    assert.match(status, new RegExp(`^Board 10\\.213\\.0\\.2 \\(image ${mine.replace(/[.]/g, "\\.")}\\) in namespace ${CLI_NS}`, "m"), status);
    assert.match(status, /LISTEN/, "the sensor's HTTP listener is in the table");
    child.kill("SIGTERM");
    assert.equal(await exited, 0, out.stderr);
  } finally {
    await endCli(child, exited, CLI_NS);
    rmSync(dir, { recursive: true, force: true });
  }
});

test("tap: wasmip tap prints ready, and SIGTERM removes the namespace it created", { timeout: 60_000 }, async (t) => {
  if (!requirePrereqs(t, ["ping", "tshark"], [DEFAULT_WASM])) return;
  assert.ok(!(await netnsList()).includes(CLI_NS), `namespace ${CLI_NS} exists before the test`);
  const { child, out, exited } = cli(["tap", "--netns", CLI_NS]);
  try {
    const deadline = Date.now() + 20_000;
    while (!out.stdout.includes("ready") && child.exitCode === null && Date.now() < deadline) await sleep(50);
    assert.match(out.stdout, /^ready$/m, `no "ready" from wasmip tap:\n${out.stdout}${out.stderr}`);
    assert.ok((await netnsList()).includes(CLI_NS), "the namespace exists while wasmip tap runs");
    child.kill("SIGTERM");
    assert.equal(await exited, 0, out.stderr);
    assert.ok(!(await netnsList()).includes(CLI_NS), `wasmip tap left ${CLI_NS} behind`);
  } finally {
    // The name is this run's own: never leave it behind, even when the CLI failed to clean up.
    await endCli(child, exited, CLI_NS);
  }
});

// Regression: with --dhcp the default board address was still checked against --peer-ip, so any
// other subnet was refused ("not on the same subnet").
test("tap: wasmip tap --dhcp with a peer on another subnet than the default leases an address and prints ready", { timeout: 60_000 }, async (t) => {
  if (!requirePrereqs(t, ["ping", "dnsmasq"], [DEFAULT_WASM])) return;
  assert.ok(!(await netnsList()).includes(CLI_NS), `namespace ${CLI_NS} exists before the test`);
  const { child, out, exited } = cli(["tap", "--dhcp", "--netns", CLI_NS, "--peer-ip", "10.213.76.1/24"]);
  try {
    const deadline = Date.now() + 30_000;
    while (!out.stdout.includes("ready") && child.exitCode === null && Date.now() < deadline) await sleep(50);
    assert.match(out.stdout, /^leased 10\.213\.76\.1\d\d\/24 gw 10\.213\.76\.1 /m, `no lease from wasmip tap --dhcp:\n${out.stdout}${out.stderr}`);
    assert.match(out.stdout, /^ready$/m);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, out.stderr);
  } finally {
    await endCli(child, exited, CLI_NS);
  }
});

test("qemu: wasmip qemu --app http prints ready, serves curl, and SIGTERM stops QEMU by pid and removes the namespace", { timeout: 120_000 }, async (t) => {
  if (!requirePrereqs(t, ["curl", QEMU], [qemuImage("http")])) return;
  assert.ok(!(await netnsList()).includes(QEMU_CLI_NS), `namespace ${QEMU_CLI_NS} exists before the test`);
  const { child, out, exited } = cli(["qemu", "--app", "http", "--netns", QEMU_CLI_NS, "--board-ip", "10.213.78.2/24", "--peer-ip", "10.213.78.1/24"]);
  let qemuPid = 0;
  try {
    const deadline = Date.now() + 60_000;
    while (!out.stdout.includes("ready") && child.exitCode === null && Date.now() < deadline) await sleep(50);
    assert.match(out.stdout, /^ready$/m, `no "ready" from wasmip qemu:\n${out.stdout}${out.stderr}`);
    const m = /QEMU pid (\d+)/.exec(out.stderr);
    assert.ok(m, `no QEMU pid reported: ${out.stderr}`);
    qemuPid = Number(m[1]);
    assert.match(readFileSync(`/proc/${qemuPid}/cmdline`, "utf8"), /^qemu-system-arm\0/, "the reported pid is QEMU");
    assert.match(out.stderr, /\[board\] wasmip: mps2-an385 board \(Cortex-M3\), app http/, "the board's UART is shown");
    assert.match(out.stderr, /, image boards\/mps2-an385\/build\/wasmip-http\.elf \(app http\)\) on tap0/, "the banner names the image");
    const r = await run(IP, ["netns", "exec", QEMU_CLI_NS, "curl", "-s", "-m", "10", "-o", "/dev/null", "-w", "%{http_code}", "http://10.213.78.2/"], { check: false, timeoutMs: 20_000 });
    assert.equal(r.stdout, "200", `curl: ${r.stderr}`);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, out.stderr);
    assert.ok(!existsSync(`/proc/${qemuPid}`), `QEMU (pid ${qemuPid}) still runs after wasmip qemu exited`);
    assert.match(out.stderr, /terminating on signal 15/, "QEMU was stopped by SIGTERM");
    assert.ok(!(await netnsList()).includes(QEMU_CLI_NS), `wasmip qemu left ${QEMU_CLI_NS} behind`);
  } finally {
    if (qemuPid && existsSync(`/proc/${qemuPid}`)) process.kill(qemuPid, "SIGKILL");
    await endCli(child, exited, QEMU_CLI_NS);
  }
});

test("qemu: wasmip qemu --dhcp starts dnsmasq on the tap, the board prints its lease, then ready, and answers at the leased address", { timeout: 120_000 }, async (t) => {
  if (!requirePrereqs(t, ["ping", "dnsmasq", QEMU], [qemuImage("bare")])) return;
  assert.ok(!(await netnsList()).includes(QEMU_CLI_NS), `namespace ${QEMU_CLI_NS} exists before the test`);
  const { child, out, exited } = cli(["qemu", "--dhcp", "--netns", QEMU_CLI_NS, "--peer-ip", "10.213.78.1/24"]);
  try {
    const deadline = Date.now() + 60_000;
    while (!out.stdout.includes("ready") && child.exitCode === null && Date.now() < deadline) await sleep(50);
    const m = /^leased (10\.213\.78\.1\d\d)\/24 gw 10\.213\.78\.1\nready$/m.exec(out.stdout);
    assert.ok(m, `no lease then ready from wasmip qemu --dhcp:\n${out.stdout}${out.stderr}`);
    const r = await run(IP, ["netns", "exec", QEMU_CLI_NS, "ping", "-n", "-c", "1", "-W", "2", m[1]], { check: false, timeoutMs: 10_000 });
    assert.equal(r.code, 0, `ping ${m[1]}: ${r.stdout}`);
    child.kill("SIGTERM");
    assert.equal(await exited, 0, out.stderr);
    assert.ok(!(await netnsList()).includes(QEMU_CLI_NS), `wasmip qemu left ${QEMU_CLI_NS} behind`);
  } finally {
    await endCli(child, exited, QEMU_CLI_NS);
  }
});

test("qemu: wasmip qemu rejects the Node board's flags and the ping app with a clear error", { timeout: 60_000 }, async () => {
  let c = cli(["qemu", "--loss", "5%"]);
  assert.equal(await c.exited, 2);
  assert.match(c.out.stderr, /--loss is a flag of wasmip tap only/);
  c = cli(["qemu", "--app", "ping"]);
  assert.equal(await c.exited, 2);
  assert.match(c.out.stderr, /unknown app "ping": one of bare, greeter, http, /);
});

test("tap: no namespace left behind", async (t) => {
  if (process.getuid?.() !== 0 || !onPath(IP)) {
    t.skip("needs root and ip");
    return;
  }
  const left = await netnsList();
  assert.ok(!left.includes(NS), `ip netns list still shows ${NS}`);
  assert.ok(!left.includes(CLI_NS), `ip netns list still shows ${CLI_NS}`);
  for (const kind of BOARD_KINDS) assert.ok(!left.includes(NS_OF(kind)), `ip netns list still shows ${NS_OF(kind)}`);
  assert.ok(!left.includes(QEMU_CLI_NS), `ip netns list still shows ${QEMU_CLI_NS}`);
});

after(() => {
  // WASMIP_KEEP_PCAP=1 keeps the capture for a look in Wireshark.
  for (const kind of BOARD_KINDS) {
    if (process.env.WASMIP_KEEP_PCAP) console.error(`pcap kept: ${PCAP_OF(kind)}`);
    else rmSync(PCAP_OF(kind), { force: true });
  }
});
