// The thread-safe C API (boards/common/wasmip_api.h) on the posix board against the kernel: the
// test program boards/posix/test/threads.c (build/wasmip-threads) runs the stack task on its main
// thread and calls it from many others at once: 4 TCP connections to a kernel echo server (a sender
// and a receiver thread each, 256 KiB of distinct bytes compared on return), 2 threads of UDP
// echoes, a DNS lookup from dnsmasq, listen/accept over the core's loopback, timeouts, a recv
// woken by a shutdown from another thread, a full request ring and a call after the stop. It runs
// three times: as built, built with ThreadSanitizer over every object (a reported race exits 66
// and fails), and over WAMR (boards/wamr/build/wasmip-threads-wamr, the same program). Peers live
// in a namespace this test creates and always deletes, killed by pid. Without the prerequisites
// the test is skipped locally and FAILS under CI=true.
import { test } from "node:test";
import assert from "node:assert/strict";
import path from "node:path";
import { requirePrereqs } from "./prereqs.ts";
import { Netns } from "../../host/devices/netns.ts";
import { Dnsmasq } from "../../host/devices/services/dnsmasq.ts";
import { ROOT } from "../../host/board/board.ts";

const BUILD = path.join(ROOT, "boards", "posix", "build");
const TAP = "wcapi0";
const ECHO_PORT = 7007;
const UDP_PORT = 7008;
const NAME = "capi.test";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.once(sig, () => process.exit(130));

// The kernel's peer: a TCP echo (a thread per connection, closes after the client's FIN) and a UDP
// echo, on every address of the namespace.
const ECHO_PY = `
import socket, sys, threading
def conn(c):
    with c:
        while True:
            d = c.recv(65536)
            if not d: break
            c.sendall(d)
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", ${UDP_PORT}))
    while True:
        d, a = u.recvfrom(65536); u.sendto(d, a)
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", ${ECHO_PORT})); s.listen(64)
threading.Thread(target=udp, daemon=True).start()
print("listening", flush=True)
while True:
    c, _ = s.accept(); threading.Thread(target=conn, args=(c,), daemon=True).start()
`;

async function runThreads(bin: string, subnet: string, extra: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  const ns = await Netns.create(`wasmip-c${subnet.split(".")[2]}${process.pid % 10_000}`);
  let dns: Dnsmasq | undefined;
  try {
    await ns.addTap(TAP, `${subnet}.1/24`);
    const echo = ns.spawn("python3", ["-c", ECHO_PY]);
    let echoOut = "";
    echo.stdout!.on("data", (d: Buffer) => (echoOut += d.toString()));
    echo.stderr!.on("data", (d: Buffer) => (echoOut += d.toString()));
    dns = new Dnsmasq(ns, { tap: TAP, rangeStart: `${subnet}.100`, rangeEnd: `${subnet}.199`, addresses: [[NAME, `${subnet}.99`]] });
    await dns.ready();
    for (const t0 = Date.now(); !echoOut.includes("listening"); await sleep(20))
      if (Date.now() - t0 > 10_000 || echo.exitCode !== null) throw new Error(`echo server: ${echoOut}`);
    const args = ["--tap", TAP, "--board-ip", `${subnet}.2/24`, "--peer", `${subnet}.1`, "--echo-port", `${ECHO_PORT}`, "--udp-port", `${UDP_PORT}`];
    args.push("--dns-name", NAME, "--dns-ip", `${subnet}.99`, "--log-level", "warn", ...extra);
    const p = ns.spawn(bin, args, { env: { ...process.env, ...env } });
    let out = "";
    p.stdout!.on("data", (d: Buffer) => (out += d.toString()));
    p.stderr!.on("data", (d: Buffer) => (out += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => p.kill("SIGKILL"), 45_000);
      p.once("exit", (c, sig) => {
        clearTimeout(timer);
        resolve(c ?? (sig ? -1 : null));
      });
    });
    return { code, out };
  } finally {
    await dns?.stop().catch(() => {});
    await ns.destroy();
  }
}

function check(r: { code: number | null; out: string }, t: { diagnostic: (s: string) => void }): void {
  assert.doesNotMatch(r.out, /ThreadSanitizer/, r.out);
  assert.doesNotMatch(r.out, /^FAIL/m, r.out);
  assert.equal(r.code, 0, r.out);
  for (const line of [
    /^ok queue full: call 17 refused with WASMIP_EQUEUEFULL, the 16 queued completed$/m,
    /^ok round trip: /m,
    /^ok connect to a closed port: ECONNREFUSED$/m,
    /^ok recvfrom timeout: EWOULDBLOCK/m,
    /^ok shutdown from another thread: the blocked recv returns 0/m,
    /^ok loopback: /m,
    /^ok load: 4 TCP connections x 262144 bytes echoed \(2 threads each\), 2 UDP threads 200 datagrams echoed/m,
    /^ok dns: capi\.test resolved/m,
    /^ok after stop: WASMIP_ESTOPPED$/m,
    /^PASSED$/m,
  ])
    assert.match(r.out, line, r.out);
  for (const l of r.out.split("\n")) if (/^ok (round trip|load)|^api:/.test(l)) t.diagnostic(l);
}

test("C API: threads call the posix board at once (TCP echo, UDP, DNS, loopback accept, timeouts)", { timeout: 60_000 }, async (t) => {
  const bin = path.join(BUILD, "wasmip-threads");
  if (!requirePrereqs(t, ["python3", "dnsmasq"], [bin])) return;
  check(await runThreads(bin, "10.213.120", [], {}), t);
});

test("C API: the same under ThreadSanitizer reports no race", { timeout: 60_000 }, async (t) => {
  const bin = path.join(BUILD, "wasmip-threads-tsan");
  if (!requirePrereqs(t, ["python3", "dnsmasq"], [bin])) return;
  // halt_on_error: the first race ends the run with TSan's exit code (66).
  check(await runThreads(bin, "10.213.121", ["--calls", "2000"], { TSAN_OPTIONS: "halt_on_error=1 exitcode=66" }), t);
});

test("C API: the same over WAMR's fast interpreter (the ESP32's runtime; calls by export name)", { timeout: 60_000 }, async (t) => {
  const bin = path.join(ROOT, "boards", "wamr", "build", "wasmip-threads-wamr");
  const wasm = path.join(ROOT, "build", "wasmip.wasm");
  if (!requirePrereqs(t, ["python3", "dnsmasq"], [bin, wasm])) return;
  check(await runThreads(bin, "10.213.122", ["--wasm", wasm], {}), t);
});
