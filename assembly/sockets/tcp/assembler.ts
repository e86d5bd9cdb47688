// Out-of-order bookkeeping for a TCP receive window (the idea of smoltcp's Assembler): the ranges
// of sequence space beyond RCV.NXT that have arrived, as absolute sequence numbers. Sequence numbers
// wrap at 2^32, so order is by signed difference (RFC 9293 §3.4: comparisons are modulo 2^32); all
// ranges sit inside one receive window (< 2^30 with window scaling), so this is well defined.
//
// Ranges are kept sorted, disjoint and non-adjacent (adjacent ones are merged), in plain fields so
// the struct can live at any address inside a connection block. The same structure is the SACK
// sender's scoreboard (sack.ts): the ranges of SND.UNA..SND.MAX the peer has reported.

export const MAX_RANGES: i32 = 4;

// @ts-ignore: decorator
@inline function lt(a: u32, b: u32): bool {
  return <i32>(a - b) < 0;
}

@unmanaged
export class Assembler {
  // MAX_RANGES (start, end) pairs, indexed as words from s0; then the count.
  s0: u32; e0: u32;
  s1: u32; e1: u32;
  s2: u32; e2: u32;
  s3: u32; e3: u32;
  n: i32;
  /** Start of the range added last (the most recent arrival, reported first by SACK). */
  last: u32;

  clear(): void {
    this.n = 0;
  }

  /** The range that holds seq, -1 if none. */
  find(seq: u32): i32 {
    for (let k = 0; k < this.n; k++) if (!lt(seq, this.start(k)) && lt(seq, this.end(k))) return k;
    return -1;
  }

  /** Forgets everything below seq: ranges wholly below go, one that spans it starts at it. */
  trim(seq: u32): void {
    let k = 0;
    const n = this.n;
    while (k < n && !lt(seq, this.end(k))) k++;
    if (k > 0) {
      memory.copy(this.slot(0), this.slot(k), <usize>(n - k) << 3);
      this.n = n - k;
    }
    if (this.n > 0 && lt(this.start(0), seq)) store<u32>(this.slot(0), seq);
  }

  count(): i32 {
    return this.n;
  }

  /** Start of range i (sorted by sequence from RCV.NXT). */
  start(i: i32): u32 {
    return load<u32>(this.slot(i));
  }

  /** End (exclusive) of range i. */
  end(i: i32): u32 {
    return load<u32>(this.slot(i), 4);
  }

  /**
   * Records [start, end) (end > start, mod 2^32), merging with overlapping or adjacent ranges.
   * Returns false (and records nothing) if it would need more than MAX_RANGES ranges.
   */
  add(start: u32, end: u32): bool {
    if (!lt(start, end)) return true; // empty: nothing to record
    this.last = start;
    const n = this.n;
    // lo: first range that ends at or after start (touches or follows the new one).
    let lo = 0;
    while (lo < n && lt(this.end(lo), start)) lo++;
    // hi: first range at or after lo that starts strictly after end (does not touch).
    let hi = lo;
    while (hi < n && !lt(end, this.start(hi))) hi++;
    if (lo == hi) {
      // Touches nothing: insert at lo.
      if (n >= MAX_RANGES) return false;
      const at = this.slot(lo);
      memory.copy(at + 8, at, <usize>(n - lo) << 3);
      store<u32>(at, start);
      store<u32>(at, end, 4);
      this.n = n + 1;
      return true;
    }
    // Ranges lo..hi-1 merge with the new one into slot lo; later ranges close the gap.
    const s = this.start(lo);
    const e = this.end(hi - 1);
    const at = this.slot(lo);
    store<u32>(at, lt(s, start) ? s : start);
    store<u32>(at, lt(end, e) ? e : end, 4);
    const gone = hi - lo - 1;
    if (gone > 0) {
      memory.copy(at + 8, this.slot(hi), <usize>(n - hi) << 3);
      this.n = n - gone;
    }
    return true;
  }

  /**
   * Given RCV.NXT, drops ranges wholly below it and returns the new RCV.NXT after absorbing a range
   * that starts at or before it (the caller then commits newNxt - rcvNxt bytes).
   */
  advance(rcvNxt: u32): u32 {
    let nxt = rcvNxt;
    let k = 0;
    const n = this.n;
    // Sorted, so every range starting at or before nxt is at the front.
    while (k < n && !lt(nxt, this.start(k))) {
      const e = this.end(k);
      if (lt(nxt, e)) nxt = e;
      k++;
    }
    if (k > 0) {
      memory.copy(this.slot(0), this.slot(k), <usize>(n - k) << 3);
      this.n = n - k;
    }
    return nxt;
  }

  // @ts-ignore: decorator
  @inline private slot(i: i32): usize {
    return changetype<usize>(this) + offsetof<Assembler>("s0") + (<usize>i << 3);
  }
}
