// The core's configuration as the tests see it (host/board/config.ts evaluates assembly/config.ts), so a
// test never restates a buffer size, a bound or a timeout that may change.
import { configConstants } from "../../host/board/config.ts";

let cache: Record<string, number | boolean> | undefined;

export function coreConfig(): Record<string, number | boolean> {
  return (cache ??= configConstants());
}

/** A numeric constant of assembly/config.ts. */
export function cfg(name: string): number {
  const v = coreConfig()[name];
  if (typeof v !== "number") throw new Error(`assembly/config.ts has no numeric ${name}`);
  return v;
}
