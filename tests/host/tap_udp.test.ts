// UDP against the Linux kernel over a TAP in a namespace the test creates (and deletes), on every
// board kind: nc -u to the udp-echo firmware gets its datagram back, and a datagram to a closed
// port makes the kernel see ICMP port unreachable (a connected socket's recv fails with
// ECONNREFUSED). Missing
// prerequisites skip locally and fail under CI=true.
import { test } from "node:test";
import assert from "node:assert/strict";
import { requirePrereqs } from "./prereqs.ts";
import { run, netnsList, IP } from "../../host/devices/netns.ts";
import { BOARD_KINDS, boardFile, boardTools, isProcessBoard, startBoard, type PeerSession } from "./boards.ts";

const BOARD = "10.213.91.2";
const PEER = "10.213.91.1";

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

for (const kind of BOARD_KINDS)
test(`tap: UDP echo and port unreachable against the kernel (${kind} board)`, { timeout: 120_000 }, async (t) => {
  if (!requirePrereqs(t, ["nc", "python3", ...boardTools(kind)], [boardFile(kind, "udp-echo")])) return;
  const ns = `wasmip-u${kind[0]}${process.pid % 100_000}`;
  assert.ok(!(await netnsList()).includes(ns), `namespace ${ns} exists before the test`);
  const logs: string[] = [];
  let s: PeerSession | undefined;
  try {
    s = await startBoard(kind, { netns: ns, boardIp: `${BOARD}/24`, peerIp: `${PEER}/24`, app: "udp-echo", log: (l, m) => logs.push(`[${l}] ${m}`) });
    assert.ok(await s.waitReachable(10), `the board did not answer ping:\n${logs.join("\n")}`);

    // netcat-openbsd: send one datagram, print what comes back, give up after 2 s of quiet.
    const msg = "hello from the kernel " + "x".repeat(900);
    const nc = await s.exec("sh", ["-c", `printf '%s' '${msg}' | nc -u -w 2 ${BOARD} 7`], { check: false, timeoutMs: 15_000 });
    assert.equal(nc.stdout, msg, `nc -u got back: ${JSON.stringify(nc.stdout.slice(0, 80))} (stderr ${nc.stderr})`);

    // Python: bounded, with a timeout; prints what recv did.
    const py = [
      "import socket",
      "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)",
      "s.settimeout(3)",
      `s.connect(('${BOARD}', 9999))`,
      "s.send(b'anyone?')",
      "try:",
      "    s.recv(100)",
      "    print('data')",
      "except ConnectionRefusedError:",
      "    print('refused')",
      "except socket.timeout:",
      "    print('timeout')",
    ].join("\n");
    const r = await s.exec("python3", ["-c", py], { check: false, timeoutMs: 15_000 });
    assert.equal(r.stdout.trim(), "refused", `python3: ${r.stdout} ${r.stderr}`);
    assert.equal(s.error, undefined, `board error: ${s.error?.message}`);
  } finally {
    await s?.stop();
    if ((await netnsList()).includes(ns)) {
      await run(IP, ["netns", "del", ns], { check: false });
      assert.fail(`namespace ${ns} was left behind`);
    }
  }
  if (isProcessBoard(s)) assert.ok(s.stoppedCleanly, `${kind} board did not shut down cleanly (${s.exitCode ?? s.exitSignal}): ${s.stderr}`);
});
