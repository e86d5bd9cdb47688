// Reading a firmware image and assembly/config.ts without running the stack: section sizes and
// the Memory section of a .wasm, memory_used() of an instance, and the configured constants.
import { readFileSync } from "node:fs";

export interface WasmInfo {
  bytes: number;
  sections: Record<string, number>; // section name -> bytes (id and size fields included)
  memory?: { initial: number; maximum: number | null };
}

const SECTION_NAMES = ["custom", "type", "import", "function", "table", "memory", "global", "export", "start", "element", "code", "data", "datacount"];

function leb(b: Uint8Array, pos: number): [number, number] {
  let v = 0;
  let shift = 0;
  for (;;) {
    const x = b[pos++];
    v += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if ((x & 0x80) === 0) return [v, pos];
  }
}

export function wasmInfo(file: string): WasmInfo {
  const b = new Uint8Array(readFileSync(file));
  if (b.length < 8 || b[0] !== 0 || b[1] !== 0x61 || b[2] !== 0x73 || b[3] !== 0x6d) throw new Error(`${file}: not a wasm module`);
  const info: WasmInfo = { bytes: b.length, sections: {} };
  let pos = 8;
  while (pos < b.length) {
    const start = pos;
    const id = b[pos++];
    const [size, body] = leb(b, pos);
    pos = body + size;
    const name = SECTION_NAMES[id] ?? `section${id}`;
    info.sections[name] = (info.sections[name] ?? 0) + (pos - start);
    if (id === 5) {
      let [count, p] = leb(b, body);
      if (count >= 1) {
        const flags = b[p++];
        let initial: number;
        let maximum: number | null = null;
        [initial, p] = leb(b, p);
        if (flags & 1) [maximum, p] = leb(b, p);
        info.memory = { initial, maximum };
      }
    }
  }
  return info;
}

/** An instance of the module with every imported function answering 0 (init is not run). */
function inertInstance(file: string): WebAssembly.Instance {
  const mod = new WebAssembly.Module(readFileSync(file));
  const imports: Record<string, Record<string, () => number>> = {};
  for (const imp of WebAssembly.Module.imports(mod)) {
    if (imp.kind !== "function") continue;
    (imports[imp.module] ??= {})[imp.name] = () => 0;
  }
  return new WebAssembly.Instance(mod, imports as WebAssembly.Imports);
}

/** Read memory_used() and the memory size of an inert instance (no init needed). */
export function staticBytes(file: string): { used: number; pages: number } {
  const inst = inertInstance(file);
  const ex = inst.exports as { memory: WebAssembly.Memory; memory_used: () => number };
  return { used: ex.memory_used(), pages: ex.memory.buffer.byteLength / 65536 };
}

/** The build's knobs as the module itself reports them (its config(id) export; ids as
 *  WASMIP_CONFIG_* in boards/include/wasmip.h). */
export function moduleConfig(file: string): { mtu: number; tcpMaxConnections: number; tcpSndBuf: number; tcpRcvBuf: number } {
  const inst = inertInstance(file);
  const config = (inst.exports as { config?: (id: number) => number }).config;
  if (!config) throw new Error(`${file}: no config() export`);
  return { mtu: config(0) >>> 0, tcpMaxConnections: config(2) >>> 0, tcpSndBuf: config(3) >>> 0, tcpRcvBuf: config(4) >>> 0 };
}

export { configConstants } from "../host/board/config.ts";
