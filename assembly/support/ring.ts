// A byte ring buffer over caller-provided (static) memory. Any capacity works, not only powers of
// two: positions wrap by one conditional subtraction. Each operation is at most two memory.copy
// calls, one each side of the wrap point.

@unmanaged
export class Ring {
  buf: usize;
  cap: u32;
  /** Read offset. */
  head: u32;
  /** Committed bytes. */
  len: u32;

  init(buf: usize, cap: u32): void {
    this.buf = buf;
    this.cap = cap;
    this.head = 0;
    this.len = 0;
  }

  // @ts-ignore: decorator
  @inline free(): u32 {
    return this.cap - this.len;
  }

  /** Appends up to n bytes from src (at most free()); returns bytes copied. */
  write(src: usize, n: u32): u32 {
    n = min(n, this.cap - this.len);
    this.copyIn(this.len, src, n);
    this.len += n;
    return n;
  }

  /**
   * Copies n bytes from src to position len + offset (beyond the committed end, for out-of-order
   * data) without changing len; clipped to the capacity; returns bytes copied.
   */
  writeAt(offset: u32, src: usize, n: u32): u32 {
    const room = this.cap - this.len;
    if (offset >= room) return 0;
    n = min(n, room - offset);
    this.copyIn(this.len + offset, src, n);
    return n;
  }

  /** Extends len by n (after out-of-order data became contiguous); clipped to the capacity. */
  commit(n: u32): void {
    this.len += min(n, this.cap - this.len);
  }

  /** Copies up to n bytes starting offset bytes after head to dst without consuming; returns bytes copied. */
  peek(dst: usize, offset: u32, n: u32): u32 {
    const len = this.len;
    if (offset >= len) return 0;
    n = min(n, len - offset);
    const pos = this.wrap(offset);
    const first = min(n, this.cap - pos);
    memory.copy(dst, this.buf + pos, first);
    if (n > first) memory.copy(dst + first, this.buf, n - first);
    return n;
  }

  /** Drops n bytes from the front (at most len). */
  consume(n: u32): void {
    n = min(n, this.len);
    this.len -= n;
    // The head never jumps back to 0 on empty: out-of-order bytes may already sit beyond len
    // (writeAt), addressed relative to it.
    this.head = this.wrap(n);
  }

  /** peek(dst, 0, n) then consume. */
  read(dst: usize, n: u32): u32 {
    n = this.peek(dst, 0, n);
    this.consume(n);
    return n;
  }

  /** Buffer offset of the byte `rel` bytes after head (rel < cap); no u32 overflow for any cap. */
  // @ts-ignore: decorator
  @inline private wrap(rel: u32): u32 {
    const toEnd = this.cap - this.head;
    return rel >= toEnd ? rel - toEnd : this.head + rel;
  }

  /** Copies n bytes from src to `rel` bytes after head; the caller has checked rel + n <= cap. */
  private copyIn(rel: u32, src: usize, n: u32): void {
    const pos = this.wrap(rel);
    const first = min(n, this.cap - pos);
    memory.copy(this.buf + pos, src, first);
    if (n > first) memory.copy(this.buf, src + first, n - first);
  }
}
