#!/usr/bin/env -S npx tsx
// The `wasmip` command (package.json's bin): it only dispatches. Each command is a small file in
// cli/ that parses its flags, prints its usage and calls into the harness: sim.ts (the demo and
// fleets, sim/), ladder.ts (capture/), tap.ts, qemu.ts and netstat.ts (devices/; tap-options.ts
// has the flags and start tap and qemu share), help.ts (the usage, UsageError). Exit codes: 0 ok,
// 1 failure, 2 a bad command line. Each command's module is imported only when it runs, so
// `wasmip --help` loads help.ts alone. bin/wasmip.mjs (the installed command) runs this file from
// the bundle `make build` writes, or through tsx.
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { HELP, UsageError } from "./cli/help.ts";

/** Run the command line; returns the exit code (0 ok, 1 failure, 2 usage error). */
export async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case undefined:
      case "help":
      case "--help":
      case "-h":
        process.stdout.write(HELP);
        return cmd === undefined ? 2 : 0;
      case "sim": {
        const { simCommand } = await import("./cli/sim.ts");
        return await simCommand(rest);
      }
      case "ladder": {
        const { ladderCommand } = await import("./cli/ladder.ts");
        return ladderCommand(rest);
      }
      case "tap": {
        const { tapCommand } = await import("./cli/tap.ts");
        return await tapCommand(rest);
      }
      case "qemu": {
        const { qemuCommand } = await import("./cli/qemu.ts");
        return await qemuCommand(rest);
      }
      case "netstat": {
        const { netstatCommand } = await import("./cli/netstat.ts");
        return netstatCommand(rest);
      }
      case "build": {
        const { buildCommand } = await import("./cli/build.ts");
        return await buildCommand(rest);
      }
      default:
        throw new UsageError(cmd.startsWith("-") ? `unknown option '${cmd}'` : `unknown command '${cmd}'`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`wasmip: ${e.message}\nRun 'wasmip --help' for usage.\n`);
      return 2;
    }
    throw e;
  }
}

function invokedDirectly(): boolean {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

/** main() on this process's arguments, its result as the exit code (bin/wasmip.mjs calls it). */
export function run(): void {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (e: unknown) => {
      process.stderr.write(`wasmip: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}

if (invokedDirectly()) run();
