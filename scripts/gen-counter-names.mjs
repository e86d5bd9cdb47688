#!/usr/bin/env node
// Writes assembly/support/counter_names.ts from the NAMES list in assembly/support/counter_list.ts:
// the names as ASCII bytes in static data (an AssemblyScript string literal would be UTF-16 and
// take twice the bytes, in the .wasm and in RAM). Checks that NAMES and the enum agree.
// Usage: node scripts/gen-counter-names.mjs [--check]  (--check: exit 1 if the file is stale)
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const src = readFileSync(path.join(root, "assembly/support/counters.ts"), "utf8") + readFileSync(path.join(root, "assembly/support/counter_list.ts"), "utf8");
const out = path.join(root, "assembly/support/counter_names.ts");

const enumBody = src.match(/export const enum C \{([\s\S]*?)\n\}/)?.[1];
const namesBody = src.match(/const NAMES = `\n([\s\S]*?)`;/)?.[1];
if (!enumBody || !namesBody) throw new Error("counters.ts: enum C or NAMES not found");
// Members up to COUNT are NAMES; after it, each feature's section in turn (NAMES_<FEATURE>, its
// members from `X = <the end before>` to <FEATURE>_END): its names are static data only in a build
// that counts them.
const all = enumBody.split("\n").map((l) => l.replace(/\/\/.*$/, "").trim().replace(/,$/, "").replace(/\s*=.*$/, "")).filter((l) => l);
const members = all.slice(0, all.indexOf("COUNT"));
const sections = [...src.matchAll(/const NAMES_([A-Z0-9]+) = `\n([\s\S]*?)`;/g)].map(([, feature, body]) => {
  const end = all.indexOf(`${feature}_END`);
  if (end < 0) throw new Error(`counters.ts: NAMES_${feature} without ${feature}_END in enum C`);
  let start = end - 1;
  while (start >= 0 && all[start] !== "COUNT" && !all[start].endsWith("_END")) start--;
  return { feature, body, members: all.slice(start + 1, end) };
});
const check = (body, members, what) => {
  const lines = body.split("\n").filter((l) => l.length > 0);
  if (members.length !== lines.length) throw new Error(`counters.ts: ${members.length} enum members, ${lines.length} ${what}`);
  lines.forEach((l, i) => {
    if (!"+-.".includes(l[0])) throw new Error(`counters.ts: name ${i} "${l}" has no kind (+, - or .)`);
    if (l.slice(1) !== members[i].toLowerCase()) throw new Error(`counters.ts: name ${i} "${l.slice(1)}" is not enum member ${members[i]}`);
  });
  return lines;
};
const lines = check(namesBody, members, "names");
// A name's leading "layer_" is stored as a number: every name starts with one of these.
const PREFIXES = ["rx_", "tx_", "eth_", "arp_", "ip_", "icmp_", "tcp_", "udp_", "dhcp_", "dns_", "mqtt_", "sntp_", "igmp_"];
// A section may have prefixes of its own (a table of its own, in the image only with it).
const SECTION_PREFIXES = { IPV6: ["ip6_", "icmp6_", "nd_", "mld_"] };
// A section may also have words of its own: byte 0x80 | k in a name stands for its (k)th word, a
// u16 (offset | (length - 1) << 12) naming bytes of the core's name text (COUNTER_NAME_TEXT, which
// every image has). chooseWords() picks them greedily for the fewest bytes; counterNamePtr()
// expands them.
const SECTION_WORDS = { IPV6: true };
const KINDS = "+-.";
// The cheapest encoding of s with these words (1 byte each, as a literal is): [bytes, parse].
const parse = (s, words) => {
  const cost = new Array(s.length + 1).fill(Infinity);
  const how = new Array(s.length + 1).fill(-1);
  cost[s.length] = 0;
  for (let i = s.length - 1; i >= 0; i--) {
    cost[i] = 1 + cost[i + 1];
    words.forEach((w, k) => {
      if (s.startsWith(w, i) && 1 + cost[i + w.length] < cost[i]) {
        cost[i] = 1 + cost[i + w.length];
        how[i] = k;
      }
    });
  }
  return [cost[0], how];
};
const chooseWords = (rests, base) => {
  const cands = new Set();
  for (const r of rests) for (let i = 0; i < r.length; i++) for (let j = i + 2; j <= Math.min(r.length, i + 16); j++) cands.add(r.slice(i, j));
  const sorted = [...cands].filter((w) => base.includes(w)).sort();
  let words = [];
  const total = (ws) => rests.reduce((t, r) => t + parse(r, ws)[0], 0) + 2 * ws.length;
  while (words.length < 127) {
    let pick = null;
    for (const w of sorted) {
      if (words.includes(w)) continue;
      const touched = rests.filter((r) => r.includes(w));
      const before = touched.reduce((t, r) => t + parse(r, words)[0], 0);
      const after = touched.reduce((t, r) => t + parse(r, [...words, w])[0], 0);
      const gain = before - after - 2;
      if (gain > 0 && (!pick || gain > pick.gain)) pick = { w, gain };
    }
    if (!pick) break;
    words.push(pick.w);
    // Drop words the others made useless (a table entry saved).
    for (let again = true; again; ) {
      again = false;
      for (const w of words) {
        const ws = words.filter((x) => x !== w);
        if (total(ws) < total(words)) {
          words = ws;
          again = true;
          break;
        }
      }
    }
  }
  return words;
};
const encode = (lines, prefixes = PREFIXES, words = []) => {
  if (words.length > 127) throw new Error("at most 127 words");
  if (prefixes.length > 15) throw new Error("at most 15 prefixes: the entry byte keeps 4 bits for them");
  const bytes = [];
  for (const l of lines) {
    const name = l.slice(1);
    const k = prefixes.findIndex((p) => name.startsWith(p));
    bytes.push((KINDS.indexOf(l[0]) << 4) | (k + 1));
    const rest = k >= 0 ? name.slice(prefixes[k].length) : name;
    const [, how] = parse(rest, words);
    for (let i = 0; i < rest.length; ) {
      if (how[i] >= 0) {
        bytes.push(0x80 | how[i]);
        i += words[how[i]].length;
      } else {
        if (rest.charCodeAt(i) >= 0x80) throw new Error(`counter name ${name}: not ASCII`);
        bytes.push(rest.charCodeAt(i++));
      }
    }
    bytes.push(0);
  }
  return bytes;
};
const bytes = encode(lines);
const prefixBlob = (prefixes) => {
  const out = [];
  for (const p of prefixes) {
    for (const ch of p) out.push(ch.charCodeAt(0));
    out.push(0);
  }
  return out;
};
const prefixBytes = prefixBlob(PREFIXES);
const rows = (b) => {
  const out = [];
  for (let i = 0; i < b.length; i += 24) out.push("  " + b.slice(i, i + 24).join(", ") + ",");
  return out.join("\n");
};
const text = `// Generated by scripts/gen-counter-names.mjs from NAMES in counter_list.ts: do not edit.
// Each counter in enum order: a byte (kind << 4 | prefix), the rest of its name, a NUL. Kind 0 a
// frame delivered, 1 a frame dropped, 2 an event; prefix k > 0 is the (k-1)th NUL-terminated string
// of COUNTER_PREFIX_TEXT (${PREFIXES.join(" ")}), 0 none.
export const COUNTER_NAME_BYTES: i32 = ${bytes.length};
export const COUNTER_NAME_TEXT: usize = memory.data<u8>([
${rows(bytes)}
]);
export const COUNTER_PREFIX_TEXT: usize = memory.data<u8>([
${rows(prefixBytes)}
]);
${sections.map(({ feature, body, members }) => {
  const own = SECTION_PREFIXES[feature];
  const named = check(body, members, `names in NAMES_${feature}`);
  // The core's names as plain text: kind bytes and NULs never match a word.
  const base = String.fromCharCode(...bytes.map((b) => (b < 32 ? 1 : b)));
  const rests = named.map((l) => {
    const name = l.slice(1);
    const k = (own ?? PREFIXES).findIndex((p) => name.startsWith(p));
    return k >= 0 ? name.slice((own ?? PREFIXES)[k].length) : name;
  });
  const words = SECTION_WORDS[feature] ? chooseWords(rests, base) : null;
  const b = encode(named, own, words ?? []);
  const table = [];
  for (const w of words ?? []) {
    const at = base.indexOf(w);
    if (at < 0 || at > 0xfff || w.length > 16) throw new Error(`word ${w}: not in the core's names, or past the u16's fields`);
    const v = at | ((w.length - 1) << 12);
    table.push(v & 0xff, v >> 8);
  }
  const f = feature[0] + feature.slice(1).toLowerCase();
  return `
// FEATURE_${feature}'s counters (NAMES_${feature}), numbered on from the section before: a function,
// so the text is static data only in a build that calls it.${own ? ` Prefixes of its own: ${own.join(" ")}.` : ""}${words ? `
// Words of its own (byte 0x80 | k: the kth): ${words.map((w) => JSON.stringify(w)).join(" ")}.` : ""}
export const COUNTER_${feature}_NAME_BYTES: i32 = ${b.length};
export function counterNames${f}(): usize {
  return memory.data<u8>([
${rows(b).replace(/^/gm, "  ")}
  ]);
}
${own ? `export function counterPrefixes${f}(): usize {
  return memory.data<u8>([
${rows(prefixBlob(own)).replace(/^/gm, "  ")}
  ]);
}
` : ""}${words ? `/** A u16 per word: offset | (length - 1) << 12, in COUNTER_NAME_TEXT. */
export function counterWords${f}(): usize {
  return memory.data<u8>([
${rows(table).replace(/^/gm, "  ")}
  ]);
}
` : ""}`;
}).join("")}`;
if (process.argv.includes("--check")) {
  let have = "";
  try { have = readFileSync(out, "utf8"); } catch {}
  if (have !== text) {
    console.error("assembly/support/counter_names.ts is stale: run node scripts/gen-counter-names.mjs");
    process.exit(1);
  }
} else {
  writeFileSync(out, text);
}
