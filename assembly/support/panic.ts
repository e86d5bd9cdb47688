// Replaces AssemblyScript's env.abort (asconfig "use": abort=...) so a C board can implement it.
import { phy_panic } from "./phy";

const PANIC_MAX: i32 = 120;
const panicBuf = memory.data(PANIC_MAX);

// Strings are UTF-16 in the module; the board gets ASCII without any allocation.
function put(at: i32, s: string | null): i32 {
  if (s === null) return at;
  const n = s.length;
  for (let i = 0; i < n && at < PANIC_MAX; i++) store<u8>(panicBuf + at++, <u8>s.charCodeAt(i));
  return at;
}

export function abort(message: string | null, fileName: string | null, line: u32, column: u32): void {
  let at = put(0, fileName);
  at = put(at, ": ");
  at = put(at, message);
  phy_panic(panicBuf, at, line);
  unreachable();
}
