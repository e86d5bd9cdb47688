// Source checks for AssemblyScript 0.27.37 miscompilations we have met.
//
// A `for (;;)` loop whose body ends with an unconditional `break;` makes asc drop every statement
// after the loop, even unoptimised (found in the http app's drain(): its timeout never ran).
// Write such a loop as a `while` with a condition instead.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../../host/board/board.ts";

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) out.push(...sources(p));
    else if (name.endsWith(".ts")) out.push(p);
  }
  return out;
}

/** Code without comments and string contents, same length (offsets and lines stay). */
function blank(src: string): string {
  return src.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`/g, (m) => m.replace(/[^\n]/g, " "));
}

/** Line numbers of `for (;;)` loops whose body's last statement is `break;`. */
export function loopsEndingInBreak(src: string): number[] {
  const code = blank(src);
  const found: number[] = [];
  const re = /for\s*\(\s*;\s*;\s*\)\s*\{/g;
  for (let m = re.exec(code); m; m = re.exec(code)) {
    let depth = 1;
    let i = m.index + m[0].length;
    for (; i < code.length && depth > 0; i++) {
      if (code[i] === "{") depth++;
      else if (code[i] === "}") depth--;
    }
    const body = code.slice(m.index + m[0].length, i - 1);
    if (/(^|[;{}])\s*break\s*;\s*$/.test(body)) found.push(code.slice(0, m.index).split("\n").length);
  }
  return found;
}

test("as-lint: the pattern check finds a for (;;) loop ending in break, and only that", () => {
  assert.deepEqual(loopsEndingInBreak("function f() {\n  for (;;) {\n    if (x) continue;\n    break;\n  }\n  y();\n}"), [2]);
  assert.deepEqual(loopsEndingInBreak("for (;;) {\n  if (x) break;\n  y();\n}\nfor (;;) { while (a) { break; } z(); }"), []);
  assert.deepEqual(loopsEndingInBreak('for (;;) { // break;\n  s = "break;";\n}'), []);
});

test("as-lint: no for (;;) loop in assembly/ ends with an unconditional break (asc 0.27 drops what follows)", () => {
  const bad: string[] = [];
  for (const f of sources(path.join(ROOT, "assembly"))) {
    for (const line of loopsEndingInBreak(readFileSync(f, "utf8"))) bad.push(`${path.relative(ROOT, f)}:${line}`);
  }
  assert.deepEqual(bad, []);
});
