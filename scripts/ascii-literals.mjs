// An asc transform: log text literals as ASCII bytes instead of UTF-16 strings.
//
// An AssemblyScript string literal is UTF-16 with a 20-byte header, in the .wasm and in RAM. The
// core's log formats are ASCII, so `logf(level, "arp: who-has %i", ip)` is rewritten to
// `__logfBytes(level, P, n, ip, 0, 0, 0, 0)` (a global in support/log.ts, every argument given),
// where P is a module-level `memory.data<u8>([...])` shared by every use of the same text in that
// file. Both forms log the same bytes, so a build without this transform (as-pect's) behaves
// identically, only larger. The apps' `putStr(dst, "...")` (apps/util.ts) is rewritten the same way,
// to `__putAscii(dst, P, n)`: a copy of n bytes.
//
// Used by every image build (host/image/build.ts) and the Makefile's debug builds.
import { Transform } from "assemblyscript/transform";
import { Node, NodeKind, LiteralKind, CommonFlags } from "assemblyscript";

// callee -> [its replacement, the index of the literal, the arguments after it (padded with 0)]
const REWRITE = { logf: ["__logfBytes", 1, 5], putStr: ["__putAscii", 1, 0] };

function isNode(v) {
  return v !== null && typeof v === "object" && typeof v.kind === "number" && "range" in v;
}

function asciiOf(node) {
  if (node.kind !== NodeKind.Literal || node.literalKind !== LiteralKind.String) return null;
  const s = node.value;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c > 126 || (c < 32 && c !== 9 && c !== 10 && c !== 13)) return null; // printable, tab, CR, LF
  }
  return s;
}

export default class AsciiLiterals extends Transform {
  afterParse(parser) {
    for (const source of parser.sources) {
      // The standard library is left alone; the core is rewritten also where it is the wasmip
      // package of a firmware author's project (~lib/wasmip/..., host/image/build.ts).
      if (source.internalPath.startsWith("~lib/") && !source.internalPath.startsWith("~lib/wasmip/")) continue;
      const consts = new Map(); // text -> identifier name
      const rewrite = (node) => {
        if (node.kind !== NodeKind.Call || node.expression.kind !== NodeKind.Identifier) return false;
        const how = REWRITE[node.expression.text];
        if (!how) return false;
        const [to, at, rest] = how;
        if (node.args.length <= at || node.args.length > at + 1 + rest) return false;
        const text = asciiOf(node.args[at]);
        if (text === null) return false;
        const range = node.args[at].range;
        let name = consts.get(text);
        if (!name) {
          name = `__ascii_${consts.size}`;
          consts.set(text, name);
        }
        node.expression = Node.createIdentifierExpression(to, node.expression.range);
        const after = node.args.slice(at + 1);
        while (after.length < rest) after.push(Node.createIntegerLiteralExpression(i64_new(0, 0), range));
        node.args = [
          ...node.args.slice(0, at),
          Node.createIdentifierExpression(name, range),
          Node.createIntegerLiteralExpression(i64_new(text.length, 0), range),
          ...after,
        ];
        return true;
      };
      const seen = new Set();
      const walk = (node) => {
        if (seen.has(node)) return;
        seen.add(node);
        for (const key of Object.keys(node)) {
          if (key === "range") continue;
          const v = node[key];
          if (Array.isArray(v)) {
            for (const x of v) if (isNode(x)) { rewrite(x); walk(x); }
          } else if (isNode(v)) {
            rewrite(v);
            walk(v);
          }
        }
      };
      for (const st of source.statements) walk(st);
      if (consts.size === 0) continue;
      // const __ascii_N: usize = memory.data<u8>([...]) at the top of the file.
      const range = source.range;
      const decls = [];
      for (const [text, name] of consts) {
        const bytes = Array.from(text, (c) => Node.createIntegerLiteralExpression(i64_new(c.charCodeAt(0), 0), range));
        const data = Node.createCallExpression(
          Node.createPropertyAccessExpression(
            Node.createIdentifierExpression("memory", range),
            Node.createIdentifierExpression("data", range),
            range,
          ),
          [Node.createNamedType(Node.createSimpleTypeName("u8", range), null, false, range)],
          [Node.createArrayLiteralExpression(bytes, range)],
          range,
        );
        const type = Node.createNamedType(Node.createSimpleTypeName("usize", range), null, false, range);
        decls.push(Node.createVariableDeclaration(Node.createIdentifierExpression(name, range), null, CommonFlags.Const, type, data, range));
      }
      source.statements.unshift(Node.createVariableStatement(null, decls, range));
    }
  }
}
