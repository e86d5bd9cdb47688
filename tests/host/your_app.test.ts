// Your app in your own repository (docs/your-app.md), end to end, as a firmware author does it: a
// project in a temporary folder outside this checkout (examples/project copied there) depends on
// the checkout (a file: dependency, installed offline), builds its app with `npx wasmip build`,
// tests it under as-pect with the copied config and wasmip's testing kit, and runs it in a
// topology whose client board talks to it with the tcp and udp send/expect tasks. The checkout's
// node_modules is reused for as-pect (the project's devDependency, not installed offline here).
// Also: make rebuilds only the image whose sources changed (build/<image>.d).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { ROOT } from "../../host/board/board.ts";
import { CORE_EXPORTS } from "../../host/board/firmware.ts";
import type { FleetSummary } from "../../host/sim/fleet/summary.ts";

const proj = mkdtempSync(path.join(tmpdir(), "wasmip-your-app-"));
test.after(() => rmSync(proj, { recursive: true, force: true }));

function run(cmd: string, args: string[], cwd = proj, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", maxBuffer: 64 << 20, env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr, all: `${r.stdout}${r.stderr}` };
}

/** The image's linear memory: its pages at start, and whether it can grow (maximum = initial). */
function memoryLimits(wasm: Buffer): { initial: number; maximum?: number } {
  const noop = () => 0;
  const inst = new WebAssembly.Instance(new WebAssembly.Module(new Uint8Array(wasm)), { phy: { tx: noop, now_ms: noop, random: noop, checksum: noop, panic: noop, log: noop } });
  const memory = inst.exports.memory as WebAssembly.Memory;
  const initial = memory.buffer.byteLength / 65536;
  try {
    memory.grow(1);
    return { initial };
  } catch {
    return { initial, maximum: initial }; // pinned: it cannot grow
  }
}

test("your app in your repository: npx wasmip build, as-pect with the copied config, a topology with the custom-service tasks", { timeout: 600_000 }, () => {
  assert.ok(!realpathSync(proj).startsWith(realpathSync(ROOT)), "the project is outside the checkout");
  cpSync(path.join(ROOT, "examples", "project"), proj, { recursive: true });
  const pkg = JSON.parse(readFileSync(path.join(proj, "package.json"), "utf8"));
  pkg.dependencies.wasmip = `file:${ROOT}`;
  delete pkg.devDependencies; // @as-pect/cli: the checkout's, below (no registry here)
  writeFileSync(path.join(proj, "package.json"), JSON.stringify(pkg, null, 2));

  const install = run("npm", ["install", "--offline", "--no-audit", "--no-fund"]);
  assert.equal(install.code, 0, install.all);
  assert.ok(existsSync(path.join(proj, "node_modules", ".bin", "wasmip")), "the bin is linked");

  // Build: core + app, pinned to one page, the app's own export beside the core's.
  const build = run("npx", ["--no", "wasmip", "build", "app.ts", "-o", "app.wasm"]);
  assert.equal(build.code, 0, build.all);
  assert.match(build.out, /^wrote app\.wasm: \d+ bytes, 1 page of linear memory/);
  const wasm = readFileSync(path.join(proj, "app.wasm"));
  const names = WebAssembly.Module.exports(new WebAssembly.Module(new Uint8Array(wasm))).map((e) => e.name);
  for (const n of [...CORE_EXPORTS, "hello_answered", "tcp_socket", "dhcp_start"]) assert.ok(names.includes(n), `app.wasm exports ${n}`);
  assert.deepEqual(memoryLimits(wasm), { initial: 1, maximum: 1 });
  // The same recipe as ours: the core's log text is ASCII bytes here too (the transform ran on the package).
  assert.ok(wasm.includes(Buffer.from("arp: who-has", "latin1")), "log formats as ASCII bytes");

  // as-pect with the copied config: the kit's specs pass, and a wrong expectation fails (SPEC= runs one spec).
  const asp = path.join(ROOT, "node_modules", ".bin", "asp");
  const aspArgs = ["--config", "as-pect.config.js", "--as-config", "node_modules/wasmip/as-pect.asconfig.json", "--no-logo"];
  const specs = run(asp, aspArgs);
  assert.equal(specs.code, 0, specs.all);
  assert.match(specs.out, /Pass: 3 \/ 3/);
  const spec = readFileSync(path.join(proj, "__tests__", "app.spec.ts"), "utf8");
  writeFileSync(path.join(proj, "__tests__", "wrong.spec.ts"), spec.replace('"hello, udp\\n"', '"goodbye, udp\\n"'));
  const wrong = run(asp, aspArgs, proj, { SPEC: "wrong" });
  assert.notEqual(wrong.code, 0, "a failing spec fails the run");
  assert.match(wrong.all, /wrong\.spec\.ts/);
  assert.match(wrong.all, /goodbye, udp/);
  assert.doesNotMatch(wrong.all, /app\.spec\.ts/, "SPEC= runs that spec only");

  // The topology: the app by its path (relative to the topology file), a client board talking to it.
  const sim = run("npx", ["--no", "wasmip", "sim", "--topology", "topology.json", "--brief", "--json", "summary.json"]);
  assert.equal(sim.code, 0, sim.all);
  const s = JSON.parse(readFileSync(path.join(proj, "summary.json"), "utf8")) as FleetSummary;
  const client = s.boards.find((b) => b.name === "client")!;
  const [tcp, udp] = client.tasks;
  assert.equal(tcp.kind, "tcp");
  assert.equal(tcp.runs.length, 3);
  for (const r of tcp.runs) assert.ok(r.ok && r.detail.includes('got 13 "hello, world\\x0a"'), r.detail);
  assert.equal(udp.kind, "udp");
  assert.equal(udp.received, 3, JSON.stringify(udp));
  assert.ok(s.ok);

  // The tasks can fail: an answer that is not the expected one.
  const topo = JSON.parse(readFileSync(path.join(proj, "topology.json"), "utf8"));
  topo.boards[1].do[0].expect = "bye";
  topo.boards[1].do[1].expect = "bye";
  writeFileSync(path.join(proj, "wrong.json"), JSON.stringify(topo));
  const bad = run("npx", ["--no", "wasmip", "sim", "--topology", "wrong.json", "--brief", "--json", "wrong-summary.json"]);
  assert.equal(bad.code, 1, bad.all);
  const b = (JSON.parse(readFileSync(path.join(proj, "wrong-summary.json"), "utf8")) as FleetSummary).boards.find((x) => x.name === "client")!;
  assert.ok(b.tasks[0].runs.every((r) => !r.ok && /closed without the expected bytes/.test(r.detail)), JSON.stringify(b.tasks[0].runs));
  assert.equal(b.tasks[1].received, 0);
});

test("make: touching one app or example rebuilds only its image", () => {
  const images = ["build/sensor.wasm", "build/http.wasm", "build/echo.wasm", "build/wasmip.wasm"];
  const missing = images.filter((f) => !existsSync(path.join(ROOT, f.replace(".wasm", ".d"))));
  assert.deepEqual(missing, [], "make build writes a depfile per image");
  const rebuilt = (changed?: string) => {
    const r = run("make", ["-n", ...(changed ? ["-W", changed] : []), ...images], ROOT);
    assert.equal(r.code, 0, r.all);
    return [...r.out.matchAll(/host\/image\/build\.ts \S+ (build\/\S+\.wasm)/g)].map((m) => m[1]).sort();
  };
  assert.deepEqual(rebuilt(), [], "the images are up to date (make build)");
  assert.deepEqual(rebuilt("examples/sensor/sensor.ts"), ["build/sensor.wasm"]);
  assert.deepEqual(rebuilt("assembly/apps/httpparse.ts"), ["build/http.wasm"]);
  assert.deepEqual(rebuilt("assembly/wire/tcp.ts"), images.slice().sort());
});
