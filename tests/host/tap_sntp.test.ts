// SNTP against a real server: chronyd (Debian chrony) on a TAP in a namespace this test creates
// (and always deletes; chronyd is killed by pid). chronyd runs with -x (it never touches the
// system clock), in the foreground, serving its local clock at stratum 8 to the namespace's
// subnet, bound to the peer address, with its pid, drift and dump files in a temp dir. The Node
// board (static address) is told the server with board.sntp.setServers, syncs, and its wall clock
// must be within 10 ms of the kernel's (Date.now()). Without the prerequisites the test is
// skipped locally and FAILS under CI=true.
import { test } from "node:test";
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { requirePrereqs } from "./prereqs.ts";
import { netnsList, killChild, run, IP } from "../../host/devices/netns.ts";
import { DEFAULT_WASM } from "../../host/board/board.ts";
import { TapSession } from "../../host/devices/tap.ts";

const NS = `wasmip-t${process.pid}`.slice(0, 15);
const TAP = "wntp0";
const SUBNET = "10.213.123";
const BOARD = `${SUBNET}.2`;
const PEER = `${SUBNET}.1`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

test("tap: the board syncs its wall clock from chronyd, within 10 ms of the kernel's", { timeout: 90_000 }, async (t) => {
  if (!requirePrereqs(t, ["chronyd"], [DEFAULT_WASM])) return;
  assert.ok(!(await netnsList()).includes(NS), `namespace ${NS} exists before the test`);
  const logs: string[] = [];
  const dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-ntp-"));
  const conf = path.join(dir, "chrony.conf");
  writeFileSync(
    conf,
    [
      "local stratum 8",
      `allow ${SUBNET}.0/24`,
      `bindaddress ${PEER}`,
      "port 123",
      "cmdport 0",
      `pidfile ${path.join(dir, "chronyd.pid")}`,
      `driftfile ${path.join(dir, "drift")}`,
      `dumpdir ${path.join(dir, "dump")}`,
      `ntsdumpdir ${path.join(dir, "nts")}`,
      `logdir ${path.join(dir, "log")}`,
      "",
    ].join("\n"),
  );
  const session = new TapSession();
  let chronyd: ChildProcess | undefined;
  try {
    await session.start({ netns: NS, tap: TAP, boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, log: (level, msg) => logs.push(`[${level}] ${msg}`) });
    assert.ok(await session.waitReachable(10), `the board did not answer ping:\n${logs.join("\n")}`);
    // -x: never adjust the system clock; -d: foreground, log to stderr; -u root: keep the temp dir writable.
    chronyd = session.spawn("chronyd", ["-x", "-d", "-u", "root", "-f", conf]);
    let clog = "";
    chronyd.stdout?.on("data", (d: Buffer) => (clog += d.toString()));
    chronyd.stderr?.on("data", (d: Buffer) => (clog += d.toString()));
    for (let i = 0; i < 100 && !/chronyd version/.test(clog); i++) await sleep(50);
    assert.match(clog, /chronyd version/);

    const board = session.board!;
    let timeEvents = 0;
    board.on("time", () => timeEvents++);
    board.sntp.setServers([PEER]);
    session.runner!.kick();
    // chronyd may answer "unsynchronised" for a moment after it starts: the client then backs off 15 s.
    for (let i = 0; i < 600 && !board.sntp.synced; i++) await sleep(100);
    assert.ok(board.sntp.synced, `no sync within 60 s:\n${logs.join("\n")}\nchronyd:\n${clog}`);
    const s = board.sntp.lastSample()!;
    assert.equal(s.server, PEER);
    assert.equal(s.stratum, 8, "chronyd serves its local clock at stratum 8");
    assert.ok(timeEvents >= 1);
    // The board's clock against the kernel's, read back to back, a few times.
    let worst = 0;
    for (let k = 0; k < 5; k++) {
      const before = Date.now();
      const tm = board.sntp.time();
      const after = Date.now();
      const boardMs = tm.seconds * 1000 + (tm.fraction * 1000) / 2 ** 32;
      const diff = boardMs - (before + after) / 2;
      worst = Math.max(worst, Math.abs(diff));
      await sleep(200);
    }
    console.log(`# sntp vs kernel clock: worst ${worst.toFixed(3)} ms; sample: delay ${s.delayMs.toFixed(3)} ms`);
    assert.ok(worst <= 10, `board clock off the kernel's by ${worst.toFixed(3)} ms`);
    const c = board.counters();
    assert.equal(c.sntp_bogus_origin + c.sntp_bad_source + c.sntp_malformed + c.sntp_wrong_mode, 0);
    assert.equal(session.error, undefined, `runner error: ${session.error?.message}`);
  } finally {
    if (chronyd) await killChild(chronyd).catch(() => {});
    await session.stop();
    rmSync(dir, { recursive: true, force: true });
    if ((await netnsList()).includes(NS)) {
      await run(IP, ["netns", "del", NS], { check: false });
      assert.fail(`namespace ${NS} was left behind by stop()`);
    }
  }
});
