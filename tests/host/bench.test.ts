// `make bench BENCH_QUICK=1` end to end, for what can fail functionally (never timing): the
// two-board native process delivers every byte with the right digest, under callgrind too; the
// emulated-PHY transfers complete; lwIP, the posix board, the Node board and the veth pair answer
// the bench protocol from the kernel; the results file has every figure with a unit and a
// description; linear memory never grows; the plots are written; no namespace or process is left.
// Needs root and the Debian packages of scripts/install-deps.sh: skipped locally without them,
// FAILS under CI=true.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { requirePrereqs } from "./prereqs.ts";
import { ROOT } from "../../host/board/board.ts";
import { netnsList } from "../../host/devices/netns.ts";
import { expectedFigures, optionalFigure } from "../../bench/figures.ts";
import { allImages, makefileApps } from "../../bench/size.ts";
import { POSIX, TARGETS, type Buffers } from "../../bench/kernel.ts";
import type { Results } from "../../bench/lib.ts";

test("make bench, quick mode: every figure present, transfers complete and correct, memory fixed, nothing left behind", { timeout: 900_000 }, async (t) => {
  const files = [path.join(ROOT, "build", "bench.wasm"), path.join(ROOT, "build", "wasmip.wasm"), POSIX];
  if (!requirePrereqs(t, ["valgrind", "callgrind_annotate", "wasm2c", "gcc", "pkg-config", "ping", "/usr/include/lwip/lwip/tcp.h", "cmake", "qemu-i386", "qemu-system-arm", "arm-none-eabi-size", "nft"], files)) return;
  const out = mkdtempSync(path.join(os.tmpdir(), "wasmip-bench-"));
  try {
    const child = spawn(process.execPath, ["--import", "tsx", path.join(ROOT, "bench", "bench.ts"), "--quick", "--out", out], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
    const nsPrefix = `wb${child.pid! % 100000}`;
    assert.deepEqual((await netnsList()).filter((n) => n.startsWith(nsPrefix)), [], "the bench left a namespace behind");
    assert.equal(code, 0, `bench exited ${code}:\n${stderr.slice(-6000)}`);
    const r = JSON.parse(readFileSync(path.join(out, "latest.json"), "utf8")) as Results;
    assert.deepEqual(r.errors, []);
    assert.equal(r.quick, true);
    for (const k of ["node", "assemblyscript", "wasm2c", "gcc", "valgrind", "lwip"]) assert.ok(r.versions[k], `version of ${k} missing`);
    assert.ok(r.machine.cpu && r.machine.cores, "machine description missing");

    for (const id of expectedFigures(makefileApps())) {
      const f = r.figures[id];
      assert.ok(f, `figure ${id} missing`);
      assert.ok(f.unit && f.how.length > 20, `figure ${id} lacks a unit or a description`);
      if (f.value === null) assert.ok(optionalFigure(id) && /^n\/a \(not configurable yet/.test(f.note ?? ""), `figure ${id} is null: ${f.note}`);
      else assert.ok(Number.isFinite(f.value), `figure ${id} = ${f.value}`);
    }
    // The size of a feature, once its switch exists, is a real difference of two builds.
    for (const [id, f] of Object.entries(r.figures)) if (id.startsWith("size.feature.") && f.value !== null) assert.ok(f.value > 0, `${id} = ${f.value}`);

    // IPv6's cost is a real difference of two images (the switch adds code).
    assert.ok((r.figures["size.ipv6.added_code_bytes"].value ?? 0) > 0 && (r.figures["size.ipv6.added_bytes"].value ?? 0) > 0, "IPv6 adds nothing: the figure measures nothing");

    // The native two-board process: every byte, in order, digest as expected, with and without callgrind.
    const nat = r.details["cpu.native_run"] as { ok: boolean; bytes: number; received: number; mismatches: number; digest: string; expected_digest: string; snd: { data_segments: number; rx_pool_full: number }; rcv: { rx_pool_full: number } };
    assert.equal(nat.ok, true);
    assert.equal(nat.received, nat.bytes);
    assert.equal(nat.mismatches, 0);
    assert.equal(nat.digest, nat.expected_digest);
    assert.equal(nat.snd.rx_pool_full + nat.rcv.rx_pool_full, 0, "the native run dropped frames at a full pool");
    const cg = r.details["cpu.callgrind"] as { segments: { data: number }; coreIr: { snd: number; rcv: number } };
    assert.equal(cg.segments.data, nat.snd.data_segments, "the callgrind run is not the same transfer");
    assert.ok(cg.coreIr.snd > 0 && cg.coreIr.rcv > 0, "no core instructions attributed to a side");
    assert.ok(existsSync(path.join(out, "callgrind.out")) && readFileSync(path.join(out, "callgrind-annotate.txt"), "utf8").includes("Ir"));

    // Memory: the Memory section pins every image; nothing grew in any run.
    assert.equal(r.figures["memory.growth.pages"].value, 0);
    for (const img of ["core", ...allImages()]) assert.ok((r.figures[`memory.${img}.static_bytes`].value ?? 0) <= (r.figures[`memory.${img}.pages`].value ?? 0) * 65536, `${img}: static data exceeds its pages`);
    assert.ok((r.figures["memory.tcp_connection.bytes"].value ?? 0) >= (r.figures["memory.tcp_snd_buf.bytes"].value ?? 0) + (r.figures["memory.tcp_rcv_buf.bytes"].value ?? 0), "a connection block is smaller than its two rings");
    assert.ok((r.figures["memory.tcp_timestamps.bytes_per_connection"].value ?? 0) > 0, "timestamps cost no memory per connection: the figure measures nothing");

    // Every peer answered (the runs throw on a short or corrupt stream; these are the records).
    const runs = r.details["kernel.runs"] as Record<string, unknown>;
    for (const target of TARGETS) for (const k of ["rx", "tx", "rr", "cps"]) assert.ok(runs[`${target}.${k}`], `no ${k} run against ${target}`);

    // Equal buffers: wasmip rebuilt with lwIP's send buffer and window (a whole number of MSS, at
    // most 65535: no window scaling), and lwIP capped to wasmip's, as its live connection saw.
    const buf = r.details["kernel.buffers"] as Buffers;
    const lwCfg = r.details["kernel.lwip_config"] as { new_pcb_snd_buf: number; new_pcb_rcv_wnd: number };
    assert.equal(buf.lwip.snd, lwCfg.new_pcb_snd_buf);
    assert.equal(buf.wasmipAtLwip.snd, buf.lwip.snd);
    const mss = r.config.TCP_MSS as number;
    assert.ok(mss > 0, "TCP_MSS not in the results' config");
    const top = Math.min(buf.lwip.wnd, 65535);
    assert.ok(buf.wasmipAtLwip.rcv <= top && buf.wasmipAtLwip.rcv > top - mss && buf.wasmipAtLwip.rcv % mss === 0, `receive ring ${buf.wasmipAtLwip.rcv}`);
    assert.ok(buf.wasmipAtLwip.staticBytes <= buf.wasmipAtLwip.pages * 65536 && buf.wasmipAtLwip.staticBytes > (buf.wasmipAtLwip.pages - 1) * 65536, "the lwIP-buffer image is not pinned to the pages it needs");
    assert.deepEqual([buf.lwipAtWasmip.snd, buf.lwipAtWasmip.wnd], [buf.wasmip.snd, buf.wasmip.rcv]);
    const capped = runs["lwip_wasmipbuf.exit"] as { wnd_cap: number; snd_buf_cap: number; accepted: number; at_accept: { rcv_wnd: number; withheld: number } };
    assert.equal(capped.wnd_cap, buf.wasmip.rcv);
    assert.equal(capped.snd_buf_cap, buf.wasmip.snd);
    assert.ok(capped.accepted > 0, "lwIP saw no connection");
    assert.equal(capped.at_accept.withheld, capped.at_accept.rcv_wnd - capped.wnd_cap, "lwIP's window was not capped");
    const uncapped = runs["lwip.exit"] as { wnd_cap: number; at_accept: { withheld: number } };
    assert.deepEqual([uncapped.wnd_cap, uncapped.at_accept.withheld], [0, 0]);

    for (const p of ["goodput-vs-loss.svg", "cwnd-trace.svg"]) {
      assert.ok(r.plots.includes(p), `plot ${p} not listed`);
      const svg = readFileSync(path.join(out, p), "utf8");
      assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
      assert.match(svg, /<(path d="M|polyline points=")/, `${p} has no data`);
    }
    assert.match(stdout, /1\. Size/);
    assert.match(stdout, /Issue 6 budgets/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
