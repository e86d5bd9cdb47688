// `wasmip netstat [--netns NAME]`: the connection table and counters of a running `wasmip tap`,
// read from its status file (devices/status.ts).
import { STATUS_DIR, STATUS_INTERVAL_MS, formatStatus, readStatus } from "../devices/status.ts";
import { DEFAULTS } from "../devices/tap.ts";

const NETSTAT_USAGE = `usage: wasmip netstat [--netns NAME]

Prints the connection table and the non-zero counters of the board that \`wasmip tap --netns NAME\`
is running (read from ${STATUS_DIR}/NAME.json, which it updates at most every ${STATUS_INTERVAL_MS} ms).
  --netns NAME   default ${DEFAULTS.netns}`;

export function netstatCommand(args: string[]): number {
  let netns: string = DEFAULTS.netns;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === "-h" || a === "--help") {
      console.log(NETSTAT_USAGE);
      return 0;
    }
    if (a === "--netns" && args[i + 1] !== undefined) netns = args[++i];
    else if (a.startsWith("--netns=")) netns = a.slice("--netns=".length);
    else {
      console.error(`wasmip netstat: unknown option '${a}' (see wasmip netstat --help)`);
      return 2;
    }
  }
  try {
    const st = readStatus(netns);
    let alive = true;
    try {
      process.kill(st.pid, 0);
    } catch (e) {
      alive = (e as NodeJS.ErrnoException).code === "EPERM";
    }
    if (!alive) console.error(`wasmip netstat: warning: the wasmip tap that wrote this (pid ${st.pid}) is gone; the data is stale`);
    process.stdout.write(formatStatus(st));
    return 0;
  } catch (e) {
    console.error(`wasmip netstat: ${(e as Error).message}`);
    return 1;
  }
}
