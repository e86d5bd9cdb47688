// How a firmware image (.wasm) is built, in one place: the Makefile's image rules, `wasmip build`
// (a user's app in their own project) and the bench all come here. An image is the core
// (assembly/index.ts) plus one app, compiled by asc with asconfig.json's release options and the
// ascii-literals transform, then shrunk once more by the newer binaryen of the `binaryen` package
// (about 500 bytes: asc's own is older). Linear memory is pinned (initial = maximum) to the pages
// the image's static data needs (64 KiB each; most images fit in one): see pinMemory().
//
// The entry asc compiles is a two-line module written here (never to disk): `export *` of the core
// and of the app, so an app file holds only the app (its setApp() call and its own exports). The
// core is named the way the app's own imports name it: relatively for a file inside this checkout
// (assembly/firmware/*.ts, examples/*), as the `wasmip` package (node_modules/wasmip/assembly/...)
// for a file outside it; two names would compile two copies of the core. A depfile lists every
// source asc read, so make rebuilds an image only when one of its own files changes.
//
//   node --import tsx host/image/build.ts ENTRY.ts OUT.wasm [--text OUT.wat] [--depfile OUT.d]
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** The transform every image is built with: log text as ASCII bytes, not UTF-16 strings. */
export const ASC_TRANSFORM = ["--transform", path.join(ROOT, "scripts", "ascii-literals.mjs")];
/** The binaryen pass after asc; only features the module already uses are enabled.
 *  --reorder-functions numbers the most called functions first, so that more calls take a
 *  one-byte function index. It breaks ties by name: asconfig.json's release target has `debug`
 *  so that asc always names the functions, and the images (written without -g, so without the
 *  names) keep the order of the named build `make bench` profiles. */
export const WASM_OPT_FLAGS = ["-Oz", "--reorder-functions", "--converge", "--enable-bulk-memory", "--enable-sign-ext", "--enable-mutable-globals"];
export const WASM_OPT = path.join(ROOT, "node_modules", ".bin", "wasm-opt");
/** The name the core has for an app outside this checkout (its imports: "wasmip/assembly/..."). */
export const PACKAGE = "wasmip";

export class BuildError extends Error {}

type AscConfig = { targets: Record<string, Record<string, unknown>>; options: Record<string, unknown> };

/** asconfig.json's options and release target as asc flags (its entries and output paths left
 *  out: the entry is ours, the memory limits are pinMemory's). `corePrefix` is how the core's files
 *  are named to asc, for the abort handler's `use`. A false boolean is asc's default. */
export function ascFlags(corePrefix = "assembly/"): string[] {
  const cfg = JSON.parse(readFileSync(path.join(ROOT, "asconfig.json"), "utf8")) as AscConfig;
  const flags: string[] = [];
  for (const [k, v] of Object.entries({ ...cfg.options, ...cfg.targets.release })) {
    if (["outFile", "textFile", "initialMemory", "maximumMemory"].includes(k)) continue;
    if (k === "use") for (const u of v as string[]) flags.push("--use", u.replace(/=assembly\//, `=${corePrefix}`));
    else if (typeof v === "boolean") {
      if (v) flags.push(`--${k}`);
    } else flags.push(`--${k}`, String(v));
  }
  return flags;
}

export interface ImageOptions {
  /** The app: a module that calls setApp() (or a firmware file that already re-exports the core). */
  app: string;
  out: string;
  text?: string;
  /** Write a make depfile here: `out: every source file asc read`. */
  depfile?: string;
  /** asc --use flags ("WASMIP_MQTT=1"): config.ts features that are off by default
   *  (WASMIP_MULTICAST=1, WASMIP_MQTT=1) and sizes (WASMIP_TCP_RCV_BUF=8192) of this image. */
  use?: string[];
  /** Skip the binaryen pass (asc's output as is). */
  noShrink?: boolean;
  /** asc's diagnostics (default: standard error). */
  log?: (s: string) => void;
}

export interface ImageResult {
  out: string;
  bytes: number;
  pages: number;
  sources: string[];
}

/** Build one image; throws BuildError with asc's diagnostics when it does not compile. */
export async function buildImage(o: ImageOptions): Promise<ImageResult> {
  const app = path.resolve(o.app);
  if (!existsSync(app)) throw new BuildError(`${o.app}: no such file`);
  if (!/\.ts$/.test(app)) throw new BuildError(`${o.app}: expected an AssemblyScript source file (.ts)`);
  const out = path.resolve(o.out);
  const outDir = path.dirname(out);
  if (!existsSync(outDir)) mkdirSync(outDir, { recursive: true });
  const inside = !path.relative(ROOT, app).startsWith("..");
  const baseDir = inside ? ROOT : path.dirname(app);
  const appDir = path.dirname(app);
  const rel = (p: string) => {
    const r = path.relative(appDir, p).split(path.sep).join("/").replace(/\.ts$/, "");
    return r.startsWith(".") ? r : `./${r}`;
  };
  const core = inside ? rel(path.join(ROOT, "assembly", "index.ts")) : `${PACKAGE}/assembly/index`;
  if (!inside && !findUp(appDir, path.join("node_modules", PACKAGE)))
    throw new BuildError(`${o.app}: no node_modules/${PACKAGE} in its folder or above (npm install wasmip in your project)`);
  // A virtual file beside the app, so relative imports and node_modules resolve from there.
  const entry = path.join(appDir, `.${path.basename(app, ".ts")}.wasmip-image.ts`);
  const entryText = `export * from "${core}";\nexport * from "${rel(app)}";\n`;
  const noConfig = path.join(baseDir, ".wasmip-no-asconfig.json");
  const flags = ascFlags(inside ? "assembly/" : `~lib/${PACKAGE}/assembly/`);
  for (const u of o.use ?? [])
    if (!/^WASMIP_[A-Z0-9_]+=[0-9]+$/.test(u)) throw new BuildError(`--use ${u}: expected WASMIP_NAME=NUMBER (assembly/config.ts)`);
  const log = o.log ?? ((s: string) => process.stderr.write(s));
  const { default: asc } = await import("assemblyscript/asc");

  const compile = async () => {
    const sources = new Set<string>();
    const files = new Map<string, Uint8Array | string>();
    let diag = "";
    const sink = { write: (s: string | Uint8Array) => ((diag += typeof s === "string" ? s : Buffer.from(s).toString()), true) };
    const argv = [path.relative(baseDir, entry), "--config", path.relative(baseDir, noConfig), ...flags, ...ASC_TRANSFORM, "--noColors", "-o", "out.wasm"];
    for (const u of o.use ?? []) argv.push("--use", u);
    if (o.text) argv.push("--textFile", "out.wat");
    const r = await asc.main(argv, {
      stdout: sink,
      stderr: sink,
      readFile(filename: string, dir: string) {
        const p = path.resolve(dir, filename);
        if (p === entry) return entryText;
        if (p === noConfig) return null;
        try {
          const text = readFileSync(p, "utf8");
          if (/\.ts$/.test(p)) sources.add(p);
          return text;
        } catch {
          return null;
        }
      },
      writeFile(filename: string, contents: Uint8Array | string) {
        files.set(path.basename(filename), contents);
      },
      listFiles: () => [],
    });
    return { r, diag, files, sources };
  };

  const c = await compile();
  if (c.r.error) {
    log(c.diag.replaceAll(path.relative(baseDir, entry), `(image of ${o.app})`));
    throw new BuildError(`${o.app}: does not compile (asc's messages above)`);
  }
  const wasm = c.files.get("out.wasm");
  if (!wasm) throw new BuildError(`${o.app}: asc wrote no module`);
  const { bytes: pinned, pages } = pinMemory(Buffer.from(wasm));
  writeFileSync(out, pinned);
  if (o.text) writeFileSync(o.text, c.files.get("out.wat") ?? "");
  if (!o.noShrink) execFileSync(WASM_OPT, [out, ...WASM_OPT_FLAGS, "-o", out], { stdio: ["ignore", "inherit", "inherit"] });
  const sources = [...c.sources].sort();
  if (o.depfile) writeFileSync(o.depfile, `${o.out}: ${sources.map((s) => path.relative(process.cwd(), s)).join(" \\\n  ")}\n`);
  return { out, bytes: readFileSync(out).length, pages, sources };
}

/** asc sizes the initial memory to the static data when given no limits; pin the maximum to it
 *  (the memory section's limits: flag 0 = no maximum, 1 = initial and maximum), so linear memory
 *  never grows, as asconfig.json's initialMemory = maximumMemory did for one page. */
export function pinMemory(wasm: Buffer): { bytes: Buffer; pages: number } {
  const leb = (b: Buffer, at: number): [number, number] => {
    let v = 0;
    let shift = 0;
    for (let i = at; ; i++) {
      v += (b[i] & 0x7f) * 2 ** shift;
      shift += 7;
      if (!(b[i] & 0x80)) return [v, i + 1];
    }
  };
  const enc = (v: number): number[] => {
    const out: number[] = [];
    do {
      let byte = v & 0x7f;
      v = Math.floor(v / 128);
      if (v) byte |= 0x80;
      out.push(byte);
    } while (v);
    return out;
  };
  for (let at = 8; at < wasm.length; ) {
    const id = wasm[at];
    const [size, body] = leb(wasm, at + 1);
    if (id === 5) {
      const [count, p] = leb(wasm, body);
      if (count !== 1) break;
      const flags = wasm[p];
      const [initial, after] = leb(wasm, p + 1);
      const pages = Math.max(1, initial);
      if (flags !== 0 && flags !== 1) break;
      const end = flags === 1 ? leb(wasm, after)[1] : after;
      const section = Buffer.from([1, 1, ...enc(pages), ...enc(pages), ...wasm.subarray(end, body + size)]);
      return { bytes: Buffer.concat([wasm.subarray(0, at), Buffer.from([5, ...enc(section.length)]), section, wasm.subarray(body + size)]), pages };
    }
    at = body + size;
  }
  throw new BuildError("the module has no memory section asc would write");
}

function findUp(dir: string, rel: string): string | undefined {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, rel))) return path.join(d, rel);
    if (path.dirname(d) === d) return undefined;
  }
}

// The Makefile's image rules: ENTRY OUT [--text WAT] [--depfile D] [--use NAME=VALUE ...].
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [app, out, ...rest] = process.argv.slice(2);
  const opt = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const use = rest.flatMap((a, i) => (rest[i - 1] === "--use" ? [a] : []));
  buildImage({ app, out, text: opt("--text"), depfile: opt("--depfile"), use }).then(
    (r) => process.stdout.write(`${path.relative(process.cwd(), r.out)}: ${r.bytes} bytes, ${r.pages} page${r.pages > 1 ? "s" : ""}\n`),
    (e: unknown) => {
      process.stderr.write(`${(e as Error).message}\n`);
      process.exitCode = 1;
    },
  );
}
