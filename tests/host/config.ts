// The core's configuration as the tests see it: the constants of assembly/config.ts, evaluated
// (numbers, booleans and arithmetic on earlier constants), so a test never restates a buffer size,
// a bound or a timeout that the lead may change.
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../../host/board.ts";

let cache: Record<string, number | boolean> | undefined;

export function coreConfig(): Record<string, number | boolean> {
  if (cache) return cache;
  const text = readFileSync(path.join(ROOT, "assembly", "config.ts"), "utf8");
  const out: Record<string, number | boolean> = {};
  for (const m of text.matchAll(/^export const (\w+): \w+ = (.+);/gm)) {
    const expr = m[2].replace(/(\d)_(?=\d)/g, "$1").replace(/\b[A-Z][A-Z0-9_]*\b/g, (id) => {
      if (!(id in out)) throw new Error(`assembly/config.ts: ${m[1]} uses ${id} before it is defined`);
      return String(out[id]);
    });
    if (!/^[\d\s+\-*/()<>.truefalse]+$/.test(expr)) throw new Error(`assembly/config.ts: cannot evaluate ${m[1]} = ${m[2]}`);
    out[m[1]] = Function(`return (${expr});`)() as number | boolean;
  }
  return (cache = out);
}

/** A numeric constant of assembly/config.ts. */
export function cfg(name: string): number {
  const v = coreConfig()[name];
  if (typeof v !== "number") throw new Error(`assembly/config.ts has no numeric ${name}`);
  return v;
}
