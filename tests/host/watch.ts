// What a real peer (dnsmasq, mosquitto, ...) prints, for the TAP tests that wait on its log.
import type { ChildProcess } from "node:child_process";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Watch {
  /** Everything the child printed so far (stdout and stderr). */
  out: () => string;
  /** Resolves once the output matches re; throws after ms, or when the child exits first. */
  until: (re: RegExp, ms: number) => Promise<void>;
}

/** Collects a child's stdout and stderr; waits (bounded) for a pattern. */
export function watch(p: ChildProcess): Watch {
  let buf = "";
  p.stdout?.on("data", (d: Buffer) => (buf += d.toString()));
  p.stderr?.on("data", (d: Buffer) => (buf += d.toString()));
  return {
    out: () => buf,
    until: async (re, ms) => {
      const t0 = Date.now();
      while (!re.test(buf)) {
        if (p.exitCode !== null || p.signalCode !== null) throw new Error(`exited (${p.exitCode ?? p.signalCode}): ${buf}`);
        if (Date.now() - t0 > ms) throw new Error(`no ${re} after ${ms} ms: ${buf}`);
        await sleep(20);
      }
    },
  };
}
