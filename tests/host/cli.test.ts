import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
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
    [["sim", "--bogus"], /unknown option '--bogus'/i],
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

test("wasmip sim runs the demo and writes a pcap; the same seed prints the same output", () => {
  const pcap = path.join(dir, "cli.pcap");
  const r1 = wasmip("sim", "--seed", "3", "--count", "5", "--pcap", pcap);
  assert.equal(r1.code, 0, r1.err);
  assert.match(r1.out, /5 packets transmitted, \d received/);
  assert.match(r1.out, /A: arp: who-has 10\.0\.0\.2 tell 10\.0\.0\.1/);
  assert.match(r1.out, /link A -> switch: \d+ offered/);
  assert.match(r1.out, /counters B: .*icmp_echo_answered=\d/);
  assert.ok(parsePcap(readFileSync(pcap)).records.length > 5);
  assert.equal(wasmip("sim", "--seed", "3", "--count", "5", "--pcap", pcap).out, r1.out);
  const lossy = wasmip("sim", "--count", "3", "--loss", "100%");
  assert.equal(lossy.code, 1, "no reply at all: exit 1 like ping");
  assert.match(lossy.out, /3 packets transmitted, 0 received, (\+\d errors, )?100% packet loss/);
});
