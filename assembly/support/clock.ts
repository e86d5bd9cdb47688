// The core's notion of now: a u32 millisecond clock that wraps. Every comparison goes through
// these helpers, modulo 2^32, so a wrap of the board's counter is harmless (intervals < 2^31 ms).

export let now: u32 = 0;

export function setNow(t: u32): void {
  now = t;
}

/** Milliseconds from `since` to now (mod 2^32). */
// @ts-ignore: decorator
@inline export function elapsed(since: u32): u32 {
  return now - since;
}

/** True if deadline `t` has passed. */
// @ts-ignore: decorator
@inline export function due(t: u32): bool {
  return <i32>(now - t) >= 0;
}

/** Milliseconds until `t`, 0 if due. */
// @ts-ignore: decorator
@inline export function until(t: u32): u32 {
  const d = <i32>(t - now);
  return d > 0 ? <u32>d : 0;
}
