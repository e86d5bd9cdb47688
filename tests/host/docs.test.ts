// The documentation cannot rot: README.md and docs/*.md link only to files (and headings) that
// exist inside the repository, carry no figure the generator would write differently from the
// committed bench run (bench/docs.ts), quote code that is in the sources, and the Node example
// and the `wasmip` launcher run. The README stays a five-minute read.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../../host/board/board.ts";
import { generate } from "../../bench/docs.ts";
import { echoExample } from "../../examples/node/echo.ts";
import { runDemo } from "../../host/sim/demo.ts";

const DOCS = ["README.md", ...readdirSync(path.join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`)];
const read = (f: string) => readFileSync(path.join(ROOT, f), "utf8");

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens. */
const slug = (h: string) =>
  h
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, "")
    .replace(/ /g, "-");

function anchors(file: string): Set<string> {
  const text = read(file).replace(/```[\s\S]*?```/g, "");
  return new Set([...text.matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1])));
}

test("README.md is at most 250 lines", () => {
  const n = read("README.md").split("\n").length;
  assert.ok(n <= 250, `${n} lines`);
});

test("README.md and docs/*.md link only inside the repository, to files and headings that exist", () => {
  const bad: string[] = [];
  for (const file of DOCS) {
    const text = read(file).replace(/```[\s\S]*?```/g, "");
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const href = m[1];
      if (/^(https?:|mailto:)/.test(href)) continue;
      const [p, anchor] = href.split("#");
      const target = p === "" ? path.join(ROOT, file) : path.resolve(path.dirname(path.join(ROOT, file)), p);
      const rel = path.relative(ROOT, target);
      if (rel.startsWith("..") || path.isAbsolute(rel)) bad.push(`${file}: ${href} leaves the repository`);
      else if (!existsSync(target)) bad.push(`${file}: ${href} does not exist`);
      else if (anchor && rel.endsWith(".md") && !anchors(rel).has(anchor)) bad.push(`${file}: ${href}: no heading #${anchor} in ${rel}`);
    }
  }
  assert.deepEqual(bad, []);
});

test("the docs carry no internal notes: no 'issue N', no ../shared paths", () => {
  for (const file of DOCS) {
    const text = read(file);
    assert.doesNotMatch(text, /\bissues? \d+/i, file);
    assert.doesNotMatch(text, /\.\.\/shared\//, file);
  }
});

test("the figures in README.md and docs/ are what bench/docs.ts writes from the committed run (make figures)", () => {
  const files = generate();
  assert.ok(files.length >= 3, "the generator knows its blocks");
  for (const [file, current, expected] of files) assert.equal(current, expected, `${file} is stale: run make figures`);
});

test("the README's code is the code of the files it names", () => {
  const sources = ["examples/node/echo.ts", "assembly/apps/greeter.ts"].map(read).join("\n");
  const have = new Set(sources.split("\n").map((l) => l.trim()));
  const blocks = [...read("README.md").matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
  assert.ok(blocks.length >= 2, "a Node example and a firmware example");
  for (const b of blocks)
    for (const line of b.split("\n").map((l) => l.trim()).filter(Boolean)) assert.ok(have.has(line), `not in the sources: ${line}`);
});

test("the excerpts of make run's output in the README and docs/ipv6.md are what the demo prints", async () => {
  const lines = new Set<string>();
  await runDemo({ print: (l) => lines.add(l) });
  for (const file of ["README.md", "docs/ipv6.md"]) {
    const excerpt = /Abridged:\n\n```\n([\s\S]*?)```/.exec(read(file))?.[1];
    assert.ok(excerpt, `an abridged demo output in ${file}`);
    for (const l of excerpt.split("\n").filter(Boolean)) assert.ok(lines.has(l), `${file}: not printed by the demo: ${l}`);
  }
});

test("examples/node/echo.ts: B echoes what A sends over a lossy emulated link", async () => {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => lines.push(a.join(" "));
  try {
    assert.equal(await echoExample({ seed: 3 }), "hello from A\n");
  } finally {
    console.log = log;
  }
  assert.match(lines.join("\n"), /A got "hello from A\\n" at t=\d+ ms/);
  const r = spawnSync(process.execPath, ["--import", "tsx", "examples/node/echo.ts"], { cwd: ROOT, encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /A got "hello from A\\n"/);
});

test("bin/wasmip.mjs runs the command from make build's bundle, and from the sources without it", () => {
  const bundle = path.join(ROOT, "build", "cli", "cli.mjs");
  assert.ok(existsSync(bundle), "build/cli/cli.mjs: run make build");
  const run = (args: string[], env: Record<string, string> = {}) =>
    spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
  for (const env of [{}, { WASMIP_NO_BUNDLE: "1" }] as Record<string, string>[]) {
    const r = run(["bin/wasmip.mjs", "--help"], env);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^usage: wasmip <command>/);
    assert.match(r.stdout, /qemu/);
    assert.equal(run(["bin/wasmip.mjs", "nope"], env).status, 2);
  }
  // The bundle finds build/ and the firmware images from its own location.
  const sim = run([bundle, "sim", "--count", "1", "--loss", "0"]);
  assert.equal(sim.status, 0, sim.stderr);
  assert.match(sim.stdout, /1 packets transmitted, 1 received/);
  assert.match(sim.stdout, /A: HTTP\/1\.1 200 OK/);
});

test("make build compiles nothing Linux-only (make run works without a TAP device); the TAP targets build the helpers", () => {
  const dry = (target: string) => spawnSync("make", ["-n", "-B", target], { cwd: ROOT, encoding: "utf8" });
  const build = dry("build");
  assert.equal(build.status, 0, build.stderr);
  assert.match(build.stdout, /esbuild host\/cli\.ts/);
  assert.doesNotMatch(build.stdout, /\bgcc\b|tap-bridge|pkt-inject/);
  for (const t of ["tap", "test-host"]) assert.match(dry(t).stdout, /gcc .*-o build\/tap-bridge/, t);
});
