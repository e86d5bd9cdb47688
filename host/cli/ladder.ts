// `wasmip ladder FILE.pcap [PEER.pcap] [--conn A:P-B:P] [-o OUT.svg] [--max N]`: a TCP
// connection from one or two captures as a ladder diagram (capture/ladder.ts draws it).
import { writeFileSync } from "node:fs";
import { LadderError, LadderUsageError, ladderFromFiles, parseConn } from "../capture/ladder.ts";
import { CliError, checkOutputFile } from "./checks.ts";
import { UsageError, parseFlags } from "./help.ts";

export const LADDER_USAGE = "usage: wasmip ladder FILE.pcap [PEER.pcap] [--conn A:P-B:P] [-o OUT.svg] [--max N]";

/** The `ladder` command. Returns the exit code (0 ok, 1 bad input, 2 usage). */
export function ladderCommand(args: string[], io: { out?: (s: string) => void; err?: (s: string) => void } = {}): number {
  const out = io.out ?? ((s: string) => process.stdout.write(s));
  const err = io.err ?? ((s: string) => process.stderr.write(s));
  try {
    let parsed;
    try {
      parsed = parseFlags(args, { conn: { type: "string" }, output: { type: "string", short: "o" }, max: { type: "string" }, help: { type: "boolean", short: "h" } }, true);
    } catch (e) {
      throw new LadderUsageError((e as UsageError).message);
    }
    const { values, positionals } = parsed;
    if (values.help) {
      out(`${LADDER_USAGE}\n(see wasmip help)\n`);
      return 0;
    }
    if (positionals.length < 1 || positionals.length > 2) throw new LadderUsageError(positionals.length ? "at most two capture files (one at each endpoint)" : "expected a capture file");
    const conn = values.conn !== undefined ? parseConn(values.conn) : undefined;
    let max: number | undefined;
    if (values.max !== undefined) {
      max = Number(values.max);
      if (!Number.isInteger(max) || max < 1) throw new LadderUsageError(`--max: expected a positive integer, got '${values.max}'`);
    }
    // Before reading the captures: a bad output path is found now, not after the drawing.
    if (values.output) checkOutputFile(values.output, "-o");
    const r = ladderFromFiles(positionals, conn, max);
    for (const w of r.warnings) err(`wasmip ladder: warning: ${w}\n`);
    if (values.output) {
      writeFileSync(values.output, r.svg);
      const rtx = r.arrows.filter((a) => a.retransmission).length;
      const lost = r.arrows.filter((a) => a.lost).length;
      out(`wrote ${values.output}: ${r.left} - ${r.right}, ${r.arrows.length} segments, ${rtx} retransmitted, ${lost} ${positionals.length === 2 ? "lost" : "presumed lost"}\n`);
    } else out(r.svg);
    return 0;
  } catch (e) {
    if (e instanceof LadderUsageError) {
      err(`wasmip ladder: ${e.message} (${LADDER_USAGE})\n`);
      return 2;
    }
    if (e instanceof LadderError || e instanceof CliError) {
      err(`wasmip ladder: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
