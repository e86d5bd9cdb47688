// What a command checks before its work starts, so a bad path or image is one line on stderr and
// an exit code, never a stack trace after a whole run: output paths writable, images valid.
// CliError is such a failure (exit 1); UsageError (help.ts) a malformed command line (exit 2).
import { accessSync, constants, statSync } from "node:fs";
import path from "node:path";
import { FirmwareError, firmwareExports } from "../board/firmware.ts";
import { UsageError } from "./help.ts";

export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 1,
  ) {
    super(message);
  }
}

function kind(p: string): "file" | "dir" | "none" | "other" {
  try {
    const s = statSync(p);
    return s.isDirectory() ? "dir" : s.isFile() ? "file" : "other";
  } catch {
    return "none";
  }
}

function writable(p: string): boolean {
  try {
    accessSync(p, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** A file the command will write (created or replaced): its folder exists and is writable. */
export function checkOutputFile(file: string, flag: string): void {
  const where = `${flag} ${file}`;
  const k = kind(file);
  if (k === "dir") throw new CliError(`${where}: is a directory`);
  if (k === "file" || k === "other") {
    if (!writable(file)) throw new CliError(`${where}: not writable`);
    return;
  }
  const dir = path.dirname(path.resolve(file));
  const d = kind(dir);
  if (d === "none") throw new CliError(`${where}: no such directory ${path.dirname(file)}`);
  if (d !== "dir") throw new CliError(`${where}: ${path.dirname(file)} is not a directory`);
  if (!writable(dir)) throw new CliError(`${where}: directory ${path.dirname(file)} is not writable`);
}

/** A folder the command will create if needed and write into. */
export function checkOutputDir(dir: string, flag: string): void {
  const where = `${flag} ${dir}`;
  let p = path.resolve(dir);
  for (;;) {
    const k = kind(p);
    if (k === "dir") {
      if (!writable(p)) throw new CliError(`${where}: ${p === path.resolve(dir) ? "not writable" : `cannot be created in ${p} (not writable)`}`);
      return;
    }
    if (k !== "none") throw new CliError(`${where}: ${p} is not a directory`);
    p = path.dirname(p);
  }
}

/** A firmware image the command will run: exists, is a wasmip image, exports `need`. */
export function checkImage(file: string, flag: string, need: readonly string[] = []): Set<string> {
  try {
    const names = firmwareExports(file, `${flag} ${file}`);
    const missing = need.filter((n) => !names.has(n));
    if (missing.length) throw new CliError(`${flag} ${file}: the image lacks ${missing.join(", ")}`);
    return names;
  } catch (e) {
    if (e instanceof FirmwareError) throw new CliError(e.message);
    throw e;
  }
}

/** Run a command's body: a CliError or UsageError is printed as one line, `wasmip NAME: message`,
 *  and its code returned (a UsageError's is 2). */
export async function reportErrors(name: string, body: () => Promise<number> | number): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`wasmip ${name}: ${e.message}\n`);
      return e.code;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`wasmip ${name}: ${e.message} (see wasmip --help)\n`);
      return 2;
    }
    throw e;
  }
}
