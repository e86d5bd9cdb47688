import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT } from "../../host/board/board.ts";
import { parsePcap } from "../../host/capture/pcap.ts";
import { parseSimArgs } from "../../host/cli/sim.ts";
import { UsageError } from "../../host/cli/help.ts";

const CLI = path.join(ROOT, "host", "cli.ts");
const dir = mkdtempSync(path.join(tmpdir(), "wasmip-cli-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

function wasmip(...args: string[]) {
  const r = spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test("cli.ts is executable and starts with the tsx shebang", () => {
  assert.ok(statSync(CLI).mode & 0o111);
  assert.ok(readFileSync(CLI, "utf8").startsWith("#!/usr/bin/env -S npx tsx\n"));
});

test("help lists the commands and sim flags", () => {
  for (const args of [["--help"], ["help"], ["sim", "--help"]]) {
    const r = wasmip(...args);
    assert.equal(r.code, 0);
    for (const word of ["sim", "tap", "ladder", "--topology", "--capture-dir", "--conn", "--seed", "--pcap", "--count", "--size", "--loss", "--dup", "--reorder", "--delay", "--jitter", "--corrupt", "--mtu", "--wasm"])
      assert.ok(r.out.includes(word), `${args}: ${word}`);
  }
});

test("unknown flags, commands and bad values exit with code 2 and a clear message", () => {
  for (const [args, msg] of [
    [["sim", "--bogus"], /^wasmip sim: unknown option '--bogus' \(see wasmip --help\)\n$/],
    [["--bogus"], /unknown option '--bogus'/],
    [["frobnicate"], /unknown command 'frobnicate'/],
    [["sim", "--loss", "150%"], /--loss: expected a probability/],
    [["sim", "--count", "x"], /--count: expected an integer/],
  ] as const) {
    const r = wasmip(...args);
    assert.equal(r.code, 2, `${args}: ${r.err}`);
    assert.match(r.err, msg);
  }
});

test("probabilities accept 0..1 and percentages", () => {
  assert.equal(parseSimArgs(["--loss", "20%"]).loss, 0.2);
  assert.equal(parseSimArgs(["--loss", "0.35"]).loss, 0.35);
  assert.equal(parseSimArgs(["--dup", "100%"]).duplicate, 1);
  assert.throws(() => parseSimArgs(["--corrupt", "2"]), UsageError);
  assert.throws(() => parseSimArgs(["--mtu", "-1"]), UsageError);
  assert.deepEqual(
    { ...parseSimArgs(["--seed", "7", "--count", "3", "--size", "100", "--delay", "2.5", "--jitter", "1", "--mtu", "576", "--reorder", "5%"]) },
    { help: false, verbose: false, seed: 7, count: 3, size: 100, delay: 2.5, jitter: 1, mtu: 576, reorder: 0.05 },
  );
});

test("wasmip sim runs the demo and writes a pcap; the same seed prints the same output and pcap", () => {
  const pcap = path.join(dir, "cli.pcap");
  const r1 = wasmip("sim", "--seed", "3", "--count", "5", "--pcap", pcap);
  assert.equal(r1.code, 0, r1.err);
  assert.match(r1.out, /5 packets transmitted, \d received/);
  assert.match(r1.out, /A: arp: who-has 10\.0\.0\.2 tell 10\.0\.0\.1/);
  assert.match(r1.out, /link A -> switch: \d+ offered/);
  assert.match(r1.out, /counters B: .*icmp_echo_answered=\d/);
  // The IPv6 step: a reply over IPv6 printed, and IPv6 frames carrying TCP in the capture.
  assert.match(r1.out, /\] C: lookup echo\.sim AAAA -> 2001:db8:1::ff:fe00:6\n/);
  assert.match(r1.out, /\n3 packets transmitted, 3 received, 0% packet loss/);
  assert.match(r1.out, /\] C: received "hello over IPv6\\n" \(echoed by E\)\n/);
  const frames = parsePcap(readFileSync(pcap)).records.map((r) => r.data);
  assert.ok(frames.length > 5);
  const tcp6 = frames.filter((f) => f[12] === 0x86 && f[13] === 0xdd && f[14 + 6] === 6); // EtherType, next header TCP
  assert.ok(tcp6.length >= 6, `${tcp6.length} TCP over IPv6 frames`);
  const pcap2 = path.join(dir, "cli2.pcap");
  assert.equal(wasmip("sim", "--seed", "3", "--count", "5", "--pcap", pcap2).out, r1.out.replace(pcap, pcap2));
  assert.ok(readFileSync(pcap2).equals(readFileSync(pcap)), "the same pcap, byte for byte");
  const lossy = wasmip("sim", "--count", "3", "--loss", "100%");
  assert.equal(lossy.code, 1, "no reply at all: exit 1 like ping");
  assert.match(lossy.out, /3 packets transmitted, 0 received, (\+\d errors, )?100% packet loss/);
});

/** One line on stderr, the exit code, and no stack trace: every bad input below. */
function refused(args: string[], code: number, line: string, cwd = ROOT) {
  const r = spawnSync(process.execPath, ["--import", "tsx", CLI, ...args], { cwd, encoding: "utf8" });
  assert.doesNotMatch(r.stderr, /^ {4}at /m, `${args.join(" ")}: a stack trace:\n${r.stderr}`);
  assert.equal(r.stderr, `${line}\n`, args.join(" "));
  assert.equal(r.status, code, `${args.join(" ")}: ${r.stderr}`);
  assert.equal(r.stdout, "", `${args.join(" ")}: nothing runs, nothing is printed`);
}

test("bad inputs: one line on stderr, a non-zero exit, no stack trace, checked before the work starts", () => {
  const junk = path.join(dir, "junk.wasm");
  writeFileSync(junk, "not a module\n");
  const empty = path.join(dir, "empty.wasm"); // a valid module, not a firmware image
  writeFileSync(empty, Buffer.from([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]));
  const topo = (name: string, boards: unknown[]) => {
    const f = path.join(dir, name);
    writeFileSync(f, JSON.stringify({ duration: "5s", boards }));
    return f;
  };
  mkdirSync(path.join(dir, "fleet"), { recursive: true });
  const missing = topo("fleet/missing.json", [{ name: "a", firmware: "fw/mine.wasm", address: "10.0.0.9" }]);
  const fetchOnHttp = topo("fetch.json", [{ name: "web", firmware: "http", address: "10.0.0.80" }, { name: "c", firmware: "http", do: [{ fetch: "http://web.fleet/" }] }]);
  const fine = topo("fine.json", [{ name: "a", firmware: "http", address: "10.0.0.80" }]);
  const typo = topo("typo.json", [{ name: "a", firmware: "sensr" }]);
  const app = path.join(dir, "app.ts");
  writeFileSync(app, "export function x(): i32 { return 1; }\n");

  // The five a new user met, and --count -3.
  refused(["sim", "--pcap", "/nonexistent/dir/x.pcap"], 1, "wasmip sim: --pcap /nonexistent/dir/x.pcap: no such directory /nonexistent/dir");
  refused(["sim", "--wasm", junk], 1, `wasmip sim: --wasm ${junk}: not a WebAssembly module (no \\0asm header)`);
  refused(["sim", "--topology", missing], 2, `wasmip sim: ${missing}: boards[0].firmware: fw/mine.wasm (${path.join(dir, "fleet", "fw", "mine.wasm")}): no such file`);
  refused(["sim", "--topology", fetchOnHttp], 2, `wasmip sim: ${fetchOnHttp}: boards[1].do[0]: a fetch task needs the fetch firmware exporting fetch_start, fetch_state, fetch_status; http does not`);
  refused(["ladder", "x.pcap", "-o", "/nonexistent/x.svg"], 1, "wasmip ladder: -o /nonexistent/x.svg: no such directory /nonexistent");
  refused(["sim", "--count", "-3"], 2, "wasmip sim: --count: expected an integer in 0..65535, got '-3' (see wasmip --help)");
  // And more of the same kinds.
  refused(["sim", "--wasm", empty], 1, `wasmip sim: --wasm ${empty}: not a wasmip firmware image (no memory, init, input, poll, rx_buffer, rx_buffer_size, counter_count exports; build one with wasmip build)`);
  refused(["sim", "--wasm", dir], 1, `wasmip sim: --wasm ${dir}: is a directory, not a firmware image`);
  refused(["sim", "--pcap", dir], 1, `wasmip sim: --pcap ${dir}: is a directory`);
  refused(["sim", "--seed", "4294967296"], 2, "wasmip sim: --seed: expected an integer in 0..4294967295, got '4294967296' (see wasmip --help)");
  refused(["sim", "--pcap"], 2, "wasmip sim: --pcap: expected a value (see wasmip --help)");
  refused(["sim", "--topology", fine, "--json", "/nonexistent/s.json"], 1, "wasmip sim: --json /nonexistent/s.json: no such directory /nonexistent");
  refused(["sim", "--topology", fine, "--capture-dir", path.join(junk, "caps")], 1, `wasmip sim: --capture-dir ${path.join(junk, "caps")}: ${junk} is not a directory`);
  refused(["sim", "--topology", fine, "--capture-dir", dir, "--capture", "b"], 2, `wasmip sim: --capture: no board named b in ${fine}`);
  refused(["sim", "--topology", typo], 2, `wasmip sim: ${typo}: boards[0].firmware: unknown firmware "sensr": one of wasmip, bare, greeter, http, echo, udp-echo, fetch, bulk, sensor, or a path to an image (relative to the topology file)`);
  refused(["ladder", "x.pcap", "--max", "0"], 2, "wasmip ladder: --max: expected a positive integer, got '0' (usage: wasmip ladder FILE.pcap [PEER.pcap] [--conn A:P-B:P] [-o OUT.svg] [--max N])");
  refused(["build", path.join(dir, "none.ts")], 1, `wasmip build: ${path.join(dir, "none.ts")}: no such file`);
  refused(["build", app, "-o", "/nonexistent/app.wasm"], 1, "wasmip build: -o /nonexistent/app.wasm: no such directory /nonexistent");
  refused(["build"], 2, "wasmip build: expected an app file (APP.ts) (see wasmip --help)");
  refused(["tap", "--wasm", junk], 1, `wasmip tap: --wasm ${junk}: not a WebAssembly module (no \\0asm header)`);
  refused(["tap", "--app", "nope"], 2, 'wasmip tap: unknown app "nope": one of bare, ping, greeter, http, echo, udp-echo, fetch, bulk, sensor (see wasmip tap --help)');
  refused(["tap", "--count", "-3"], 2, "wasmip tap: bad --count -3 (1..1000) (see wasmip tap --help)");
  refused(["tap", "--app-config", "broker"], 2, "wasmip tap: bad --app-config broker (KEY=VALUE, at most 8) (see wasmip tap --help)");
  refused(["qemu", "--app-config", "a=b"], 2, "wasmip qemu: --app-config is a flag of wasmip tap only (it acts on the Node board) (see wasmip qemu --help)");
  refused(["qemu", "--app", "ping"], 2, 'wasmip qemu: unknown app "ping": one of bare, greeter, http, echo, udp-echo, fetch, bulk, sensor (see wasmip qemu --help)');
  refused(["netstat", "--bogus"], 2, "wasmip netstat: unknown option '--bogus' (see wasmip netstat --help)");
});

test("tap --help and tap --app name the same apps, one list (host/board/apps.ts)", () => {
  const help = wasmip("tap", "--help");
  assert.equal(help.code, 0);
  const listed = [...help.out.matchAll(/^ {21}(\S+) {2,}/gm)].map((m) => m[1]);
  const refusedWith = /one of ([^(]+) \(/.exec(wasmip("tap", "--app", "nope").err)![1].split(", ").map((s) => s.trim());
  assert.deepEqual(listed, refusedWith);
  assert.ok(listed.includes("sensor") && listed.includes("udp-echo"), listed.join(" "));
});
