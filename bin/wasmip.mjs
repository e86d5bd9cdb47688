#!/usr/bin/env node
// The `wasmip` command (package.json's bin). It runs host/cli.ts from the bundle `make build`
// writes (build/cli/, esbuild), which starts in a fraction of the time tsx needs to compile the
// TypeScript on every run; when the bundle is missing or older than any .ts file under host/ (an edit
// since the last build), or WASMIP_NO_BUNDLE=1, it runs the sources through tsx instead.
// The bundle sits two directories below the root, as host/cli.ts does: the harness finds build/
// and the firmware images from its own location (ROOT in host/board/board.ts).
import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bundle = path.join(root, "build", "cli", "cli.mjs");

/** The newest modification time of a .ts file under dir (ms), 0 when there is none. */
function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newest(p));
    else if (e.name.endsWith(".ts")) t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

function bundleIsFresh() {
  if (process.env.WASMIP_NO_BUNDLE === "1") return false;
  try {
    return statSync(bundle).mtimeMs >= newest(path.join(root, "host"));
  } catch {
    return false;
  }
}

let cli;
if (bundleIsFresh()) cli = await import(pathToFileURL(bundle).href);
else {
  const { register } = await import("tsx/esm/api");
  register();
  cli = await import(pathToFileURL(path.join(root, "host", "cli.ts")).href);
}
cli.run();
