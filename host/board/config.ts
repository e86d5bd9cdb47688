// The core's build configuration as the harness, the tests and the bench see it: the constants of
// assembly/config.ts evaluated in order, so nothing restates a buffer size, a bound or a timeout.
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "./board.ts";

/** assembly/config.ts. */
export const CONFIG_FILE = path.join(ROOT, "assembly", "config.ts");

/**
 * The `export const NAME: TYPE = EXPR;` constants of config.ts, evaluated in order (casts dropped,
 * isDefined(X) true for the names in `defined`). A constant that does not evaluate is left out.
 */
export function configConstants(file: string = CONFIG_FILE, defined: ReadonlySet<string> = new Set()): Record<string, number | boolean> {
  const src = readFileSync(file, "utf8");
  const out: Record<string, number | boolean> = {};
  const re = /^export\s+const\s+([A-Z][A-Z0-9_]*)\s*(?::\s*\w+)?\s*=\s*([^;]+);/gm;
  for (let m; (m = re.exec(src)); ) {
    const name = m[1];
    const expr = m[2]
      .replace(/isDefined\(\s*([A-Za-z_][A-Za-z0-9_]*)\s*\)/g, (_s, n: string) => (defined.has(n) ? "true" : "false"))
      .replace(/<\s*(?:u8|u16|u32|u64|i8|i16|i32|i64|usize|isize|f32|f64|bool)\s*>/g, "");
    if (!/^[\sA-Za-z0-9_+\-*/%()<>=!&|?:.^~]*$/.test(expr)) continue;
    try {
      const names = Object.keys(out);
      const v = new Function(...names, `"use strict"; return (${expr});`)(...names.map((n) => out[n])) as unknown;
      if (typeof v === "number" || typeof v === "boolean") out[name] = v;
    } catch {
      // refers to something we do not model: leave it out
    }
  }
  return out;
}
