// An asc transform: log text literals as ASCII bytes instead of UTF-16 strings.
//
// An AssemblyScript string literal is UTF-16 with a 20-byte header, in the .wasm and in RAM. The
// core's log lines are ASCII, so `logStart("arp: ")` and `logStr(" tell ")` with a literal are
// rewritten to `__logStartBytes(P, n)` and `__logBytes(P, n)` (globals in support/log.ts), where
// P is a module-level
// `memory.data<u8>([...])` shared by every use of the same text in that file. Both forms log the
// same bytes, so a build without this transform (as-pect's) behaves identically, only larger.
//
// Used by the Makefile's asc invocations: --transform ./scripts/ascii-literals.mjs
import { Transform } from "assemblyscript/transform";
import { Node, NodeKind, LiteralKind, CommonFlags } from "assemblyscript";

const REWRITE = { logStart: "__logStartBytes", logStr: "__logBytes" };

function isNode(v) {
  return v !== null && typeof v === "object" && typeof v.kind === "number" && "range" in v;
}

function asciiOf(node) {
  if (node.kind !== NodeKind.Literal || node.literalKind !== LiteralKind.String) return null;
  const s = node.value;
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 126 || s.charCodeAt(i) < 32) return null;
  return s;
}

export default class AsciiLiterals extends Transform {
  afterParse(parser) {
    for (const source of parser.sources) {
      if (source.internalPath.startsWith("~lib/")) continue;
      const consts = new Map(); // text -> identifier name
      const rewrite = (node) => {
        if (node.kind !== NodeKind.Call || node.expression.kind !== NodeKind.Identifier) return false;
        const to = REWRITE[node.expression.text];
        if (!to || node.args.length !== 1) return false;
        const text = asciiOf(node.args[0]);
        if (text === null) return false;
        const range = node.args[0].range;
        let name = consts.get(text);
        if (!name) {
          name = `__ascii_${consts.size}`;
          consts.set(text, name);
        }
        node.expression = Node.createIdentifierExpression(to, node.expression.range);
        node.args = [
          Node.createIdentifierExpression(name, range),
          Node.createIntegerLiteralExpression(i64_new(text.length, 0), range),
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
