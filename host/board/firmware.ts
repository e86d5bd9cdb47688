// Is a file a firmware image a board can run? Checked before a command starts its work, so a
// wrong path or a stray file is one clear line, not a CompileError or a LinkError from deep in a
// run: the file exists, is a WebAssembly module, imports only the PHY shim (boards/include/wasmip.h)
// and exports the core's entry points.
import { readFileSync, statSync } from "node:fs";

export class FirmwareError extends Error {}

/** The exports every image has: the core's PHY shim ABI. */
export const CORE_EXPORTS = ["memory", "init", "input", "poll", "rx_buffer", "rx_buffer_size", "counter_count"] as const;
const PHY_IMPORTS = new Set(["tx", "now_ms", "random", "checksum", "panic", "log"]);

const checked = new Map<string, Set<string>>();

/** The image's export names; throws FirmwareError (`what`: how to name the file) when it is no image. */
export function firmwareExports(file: string, what = file): Set<string> {
  const hit = checked.get(file);
  if (hit) return hit;
  let bytes: Buffer;
  try {
    if (statSync(file).isDirectory()) throw new FirmwareError(`${what}: is a directory, not a firmware image`);
    bytes = readFileSync(file);
  } catch (e) {
    if (e instanceof FirmwareError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    throw new FirmwareError(`${what}: ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (e as Error).message}`);
  }
  let mod: WebAssembly.Module;
  try {
    mod = new WebAssembly.Module(new Uint8Array(bytes));
  } catch (e) {
    const magic = bytes.subarray(0, 4).toString("latin1") === "\0asm";
    throw new FirmwareError(`${what}: ${magic ? `not a valid WebAssembly module (${(e as Error).message.replace(/^WebAssembly\.Module\(\): /, "")})` : "not a WebAssembly module (no \\0asm header)"}`);
  }
  const names = new Set(WebAssembly.Module.exports(mod).map((e) => e.name));
  const missing = CORE_EXPORTS.filter((n) => !names.has(n));
  if (missing.length) throw new FirmwareError(`${what}: not a wasmip firmware image (no ${missing.join(", ")} export${missing.length > 1 ? "s" : ""}; build one with wasmip build)`);
  const foreign = WebAssembly.Module.imports(mod).filter((i) => i.module !== "phy" || !PHY_IMPORTS.has(i.name));
  if (foreign.length) throw new FirmwareError(`${what}: imports ${foreign.map((i) => `${i.module}.${i.name}`).join(", ")}, which no board provides (only phy.${[...PHY_IMPORTS].join(", phy.")})`);
  checked.set(file, names);
  return names;
}
