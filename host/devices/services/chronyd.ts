// chronyd (Debian chrony) as an NTP server inside a test's namespace: it serves its local clock at
// stratum 8 on the peer address to the subnet, runs in the foreground (-d), never adjusts the
// system clock (-x), as root (-u root: its temp dir stays writable), with its pid, drift and dump
// files in a directory the caller owns. The caller kills the process by pid (killChild).
import type { ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";

/** chronyd's configuration in dir: serve the local clock at stratum 8 on `peer` to `subnet`.0/24. */
export function chronyConf(dir: string, subnet: string, peer: string): string {
  const conf = path.join(dir, "chrony.conf");
  writeFileSync(
    conf,
    [
      "local stratum 8",
      `allow ${subnet}.0/24`,
      `bindaddress ${peer}`,
      "port 123",
      "cmdport 0",
      `pidfile ${path.join(dir, "chronyd.pid")}`,
      `driftfile ${path.join(dir, "drift")}`,
      `dumpdir ${path.join(dir, "dump")}`,
      `ntsdumpdir ${path.join(dir, "nts")}`,
      `logdir ${path.join(dir, "log")}`,
      "",
    ].join("\n"),
  );
  return conf;
}

/** Starts chronyd with conf through spawnIn (inside the namespace); resolves once it has started,
 *  throws if it has not said so within 5 s (the process is then the caller's to kill). */
export async function startChronyd(
  spawnIn: (cmd: string, args: string[]) => ChildProcess,
  conf: string,
): Promise<{ proc: ChildProcess; log: () => string }> {
  const proc = spawnIn("chronyd", ["-x", "-d", "-u", "root", "-f", conf]);
  let log = "";
  proc.stdout?.on("data", (d: Buffer) => (log += d.toString()));
  proc.stderr?.on("data", (d: Buffer) => (log += d.toString()));
  for (let i = 0; i < 100 && !/chronyd version/.test(log); i++) await new Promise((r) => setTimeout(r, 50));
  if (!/chronyd version/.test(log)) {
    const e = new Error(`chronyd did not start: ${log}`) as Error & { proc?: ChildProcess };
    e.proc = proc;
    throw e;
  }
  return { proc, log: () => log };
}
