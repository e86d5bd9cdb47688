// curl against the http app (assembly/apps/http.ts), shared by the real-peer tests: the page it
// serves, and the transfers of one curl run that wrote CURL_WRITE_OUT after each.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../../host/board/board.ts";

/** The index page as assembly/apps/http.ts defines it (one string literal, JSON-compatible escapes). */
export function expectedIndex(): string {
  const src = readFileSync(path.join(ROOT, "assembly", "apps", "http.ts"), "utf8");
  const m = /const INDEX_HTML = ("(?:[^"\\]|\\.)*");/.exec(src);
  assert.ok(m, "INDEX_HTML literal in assembly/apps/http.ts");
  return JSON.parse(m[1]) as string;
}

const MARK = "\n@@wasmip@@";
/** curl's -w after each transfer: what curlTransfers splits on. */
export const CURL_WRITE_OUT = `${MARK}%{num_connects} %{http_code} %{size_download}\\n`;

export interface CurlTransfer {
  body: string;
  connects: number;
  code: number;
  size: number;
}

/** Split the output of a curl run with `-w CURL_WRITE_OUT` into its transfers. */
export function curlTransfers(out: string): CurlTransfer[] {
  const parts = out.split(MARK);
  const res: CurlTransfer[] = [];
  let body = parts[0];
  for (let i = 1; i < parts.length; i++) {
    const nl = parts[i].indexOf("\n");
    const [connects, code, size] = parts[i].slice(0, nl).split(" ").map(Number);
    res.push({ body, connects, code, size });
    body = parts[i].slice(nl + 1);
  }
  return res;
}
