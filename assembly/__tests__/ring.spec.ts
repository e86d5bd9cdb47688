// Ring buffer against a trivially correct model (an unbounded byte array with a read index).
import { Ring } from "../support/ring";

const ring = changetype<Ring>(heap.alloc(offsetof<Ring>()));
const store_ = heap.alloc(256);
const src = heap.alloc(512);
const dst = heap.alloc(512);
const model = heap.alloc(1 << 16); // every byte ever written, in order
let mHead: u32 = 0; // model read position
let mTail: u32 = 0; // model write position
let seed: u32 = 1;

function rnd(n: u32): u32 {
  seed = seed * 1103515245 + 12345;
  return (seed >>> 8) % n;
}

function fillSrc(n: u32, tag: u32): void {
  for (let i: u32 = 0; i < n; i++) store<u8>(src + i, <u8>(tag * 31 + i * 13 + 5));
}

function reset(cap: u32): void {
  ring.init(store_ + 7, cap); // an odd address too
  mHead = 0;
  mTail = 0;
}

function check(what: string): bool {
  const len = mTail - mHead;
  if (ring.len != len) {
    expect(ring.len).toBe(len, what + ": len");
    return false;
  }
  memory.fill(dst, 0xee, 512);
  const got = ring.peek(dst, 0, 512);
  if (got != len) {
    expect(got).toBe(len, what + ": peek count");
    return false;
  }
  for (let i: u32 = 0; i < len; i++) {
    if (load<u8>(dst + i) != load<u8>(model + mHead + i)) {
      expect(load<u8>(dst + i)).toBe(load<u8>(model + mHead + i), what + ": byte " + i.toString());
      return false;
    }
  }
  return true;
}

describe("Ring", () => {
  it("starts empty and handles zero capacity", () => {
    reset(0);
    expect(ring.free()).toBe(0);
    expect(ring.write(src, 5)).toBe(0);
    expect(ring.read(dst, 5)).toBe(0);
    expect(ring.writeAt(0, src, 5)).toBe(0);
    reset(10);
    expect(ring.free()).toBe(10);
    expect(ring.len).toBe(0);
    expect(ring.read(dst, 3)).toBe(0);
    expect(ring.peek(dst, 0, 3)).toBe(0);
  });

  it("fills to capacity exactly and clips writes", () => {
    reset(10);
    fillSrc(20, 1);
    expect(ring.write(src, 7)).toBe(7);
    expect(ring.write(src + 7, 7)).toBe(3);
    expect(ring.free()).toBe(0);
    expect(ring.write(src, 1)).toBe(0);
    expect(ring.peek(dst, 0, 100)).toBe(10);
    for (let i: u32 = 0; i < 10; i++) expect(load<u8>(dst + i)).toBe(load<u8>(src + i));
    expect(ring.peek(dst, 10, 1)).toBe(0);
    expect(ring.peek(dst, 9, 5)).toBe(1);
    expect(ring.read(dst, 100)).toBe(10);
    expect(ring.len).toBe(0);
    expect(ring.head).toBe(0); // 10 bytes read from a 10-byte ring: back at 0 by wrapping
  });

  it("matches the model across the wrap for many capacities and sizes", () => {
    const caps: u32[] = [1, 2, 3, 7, 10, 13, 64, 100, 255];
    for (let c = 0; c < caps.length; c++) {
      const cap = caps[c];
      reset(cap);
      for (let step = 0; step < 400; step++) {
        const op = rnd(4);
        const n = rnd(cap + 3);
        if (op < 2) {
          fillSrc(n, <u32>step);
          const want = min(n, cap - (mTail - mHead));
          const got = ring.write(src, n);
          if (got != want) { expect(got).toBe(want, "write"); return; }
          memory.copy(model + mTail, src, got);
          mTail += got;
        } else if (op == 2) {
          const want = min(n, mTail - mHead);
          const got = ring.read(dst, n);
          if (got != want) { expect(got).toBe(want, "read"); return; }
          for (let i: u32 = 0; i < got; i++) {
            if (load<u8>(dst + i) != load<u8>(model + mHead + i)) {
              expect(load<u8>(dst + i)).toBe(load<u8>(model + mHead + i), "read byte");
              return;
            }
          }
          mHead += got;
        } else {
          // Peek at an offset, then consume.
          const len = mTail - mHead;
          const off = rnd(cap + 2);
          const want = off >= len ? 0 : min(n, len - off);
          const got = ring.peek(dst, off, n);
          if (got != want) { expect(got).toBe(want, "peek at offset"); return; }
          for (let i: u32 = 0; i < got; i++) {
            if (load<u8>(dst + i) != load<u8>(model + mHead + off + i)) {
              expect(load<u8>(dst + i)).toBe(load<u8>(model + mHead + off + i), "peek byte");
              return;
            }
          }
          const k = rnd(len + 2);
          ring.consume(k);
          mHead += min(k, len);
        }
        if (ring.head >= cap && cap > 0) { expect(ring.head).toBeLessThan(cap, "head in range"); return; }
        if (!check("cap " + cap.toString() + " step " + step.toString())) return;
        if (mTail > 60000) { // keep the model in bounds
          memory.copy(model, model + mHead, mTail - mHead);
          mTail -= mHead;
          mHead = 0;
        }
      }
    }
  });

  it("writes every size at every head position", () => {
    const cap: u32 = 13;
    for (let h: u32 = 0; h < cap; h++) {
      for (let n: u32 = 0; n <= cap; n++) {
        reset(cap);
        fillSrc(cap, 99);
        ring.write(src, h);
        ring.consume(h); // empties; the head stays at h
        expect(ring.head).toBe(h);
        // Move the head on with one byte kept.
        ring.write(src, h + 1 > cap ? cap : h + 1);
        ring.consume(h);
        memory.copy(model, src + h, 1);
        mHead = 0;
        mTail = ring.len;
        fillSrc(n, n + h);
        const got = ring.write(src, n);
        expect(got).toBe(min(n, cap - mTail));
        memory.copy(model + mTail, src, got);
        mTail += got;
        if (!check("h " + h.toString() + " n " + n.toString())) return;
      }
    }
  });

  it("writeAt places out-of-order data that commit makes readable", () => {
    const cap: u32 = 11;
    for (let h: u32 = 0; h < cap; h++) {
      reset(cap);
      fillSrc(cap, 1);
      ring.write(src, h + 1 > cap ? cap : h + 1);
      ring.consume(h); // one byte committed at head h
      const base = ring.len;
      fillSrc(20, 7 + h);
      // The gap of 2 bytes first, then 4 bytes after it, then fill the gap.
      expect(ring.writeAt(2, src + 2, 4)).toBe(4);
      expect(ring.len).toBe(base);
      expect(ring.writeAt(0, src, 2)).toBe(2);
      ring.commit(6);
      expect(ring.len).toBe(base + 6);
      memory.fill(dst, 0, 32);
      expect(ring.peek(dst, base, 20)).toBe(6);
      for (let i: u32 = 0; i < 6; i++) expect(load<u8>(dst + i)).toBe(load<u8>(src + i));
      // Clipped to the capacity; nothing beyond it.
      const room = cap - ring.len;
      expect(ring.writeAt(1, src, 100)).toBe(room - 1);
      expect(ring.writeAt(room, src, 1)).toBe(0);
      expect(ring.writeAt(0xffffffff, src, 1)).toBe(0);
      expect(ring.len).toBe(base + 6);
      ring.commit(1000); // clipped: the ring is full, not overflowed
      expect(ring.len).toBe(cap);
      expect(ring.free()).toBe(0);
      expect(ring.peek(dst, 0, 100)).toBe(cap);
      expect(load<u8>(dst + base + 7)).toBe(load<u8>(src + 0));
    }
  });

  it("consume beyond len empties", () => {
    reset(9);
    fillSrc(9, 3);
    ring.write(src, 9);
    ring.consume(4);
    expect(ring.head).toBe(4);
    ring.write(src, 3);
    ring.consume(100);
    expect(ring.len).toBe(0);
    expect(ring.head).toBe(3); // (4 + 8) mod 9: consumed up to the end, never reset
    expect(ring.free()).toBe(9);
  });
});
