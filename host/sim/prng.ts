// A small seeded PRNG: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator) seeded via
// splitmix32. Streams are forked by label from the seed alone, never from the current state,
// so a stream's numbers do not depend on how much any other stream has been used.

/** One splitmix32 step: a good 32-bit mixer for deriving seeds. */
export function splitmix32(x: number): number {
  x = (x + 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x21f0aaad);
  x = Math.imul(x ^ (x >>> 15), 0x735a2d97);
  return (x ^ (x >>> 15)) >>> 0;
}

/** FNV-1a over the UTF-16 code units of a label. */
function hashLabel(label: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < label.length; i++) h = Math.imul(h ^ label.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export class Prng {
  readonly seed: number;
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`bad PRNG seed: ${seed}`);
    this.seed = seed >>> 0;
    let s = this.seed;
    s = splitmix32(s);
    this.a = s;
    s = splitmix32(s);
    this.b = s;
    s = splitmix32(s);
    this.c = s;
    s = splitmix32(s);
    this.d = s;
    for (let i = 0; i < 12; i++) this.nextU32(); // discard the warm-up outputs
  }

  /** 32 random bits as an unsigned number. */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of precision. */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n) for 0 < n <= 2^32. */
  nextInt(n: number): number {
    if (!(n > 0 && n <= 4294967296)) throw new Error(`nextInt: bad bound ${n}`);
    return Math.floor(this.nextFloat() * n);
  }

  /** Uniform integer in [lo, hi] (inclusive). */
  nextRange(lo: number, hi: number): number {
    return lo + this.nextInt(hi - lo + 1);
  }

  /** True with probability p. Always draws exactly one number, so the stream stays aligned. */
  chance(p: number): boolean {
    return this.nextFloat() < p;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      let v = this.nextU32();
      for (let j = i; j < Math.min(i + 4, n); j++, v >>>= 8) out[j] = v & 255;
    }
    return out;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.nextInt(items.length)];
  }

  /** An independent stream derived from this stream's seed and a label (deterministic). */
  fork(label: string): Prng {
    return new Prng(splitmix32(this.seed ^ splitmix32(hashLabel(label))));
  }
}
