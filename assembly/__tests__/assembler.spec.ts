// Out-of-order range bookkeeping, checked against a bitmap model of a small window.
import { Assembler, MAX_RANGES } from "../sockets/tcp/assembler";

const asm = changetype<Assembler>(heap.alloc(offsetof<Assembler>()));
const bits = heap.alloc(64); // model: one byte per sequence offset from BASE

function expectRanges(starts: u32[], ends: u32[]): void {
  expect(asm.count()).toBe(starts.length);
  for (let i = 0; i < starts.length && i < asm.count(); i++) {
    expect(asm.start(i)).toBe(starts[i], "start " + i.toString());
    expect(asm.end(i)).toBe(ends[i], "end " + i.toString());
  }
}

// Runs of set bytes in the model, offset by base: must equal the assembler's ranges.
function matchesModel(base: u32, n: u32): bool {
  let k = 0;
  let i: u32 = 0;
  while (i < n) {
    if (load<u8>(bits + i) == 0) { i++; continue; }
    let j = i;
    while (j < n && load<u8>(bits + j) != 0) j++;
    if (k >= asm.count() || asm.start(k) != base + i || asm.end(k) != base + j) return false;
    k++;
    i = j;
  }
  return k == asm.count();
}

function run(base: u32): void {
  asm.clear();
  asm.add(base + 10, base + 20);
  asm.add(base + 30, base + 40);
  expectRanges([base + 10, base + 30], [base + 20, base + 40]);
}

describe("Assembler", () => {
  it("exports its capacity", () => {
    expect(MAX_RANGES).toBe(4);
  });

  it("records in-order data as one range and advances over it", () => {
    asm.clear();
    expect(asm.count()).toBe(0);
    expect(asm.advance(100)).toBe(100);
    expect(asm.add(100, 110)).toBe(true);
    expect(asm.add(110, 120)).toBe(true);
    expectRanges([100], [120]);
    expect(asm.advance(100)).toBe(120);
    expect(asm.count()).toBe(0);
  });

  it("merges overlaps, duplicates and adjacent ranges", () => {
    run(1000);
    expect(asm.add(1010, 1020)).toBe(true); // duplicate
    expectRanges([1010, 1030], [1020, 1040]);
    expect(asm.add(1015, 1018)).toBe(true); // inside
    expectRanges([1010, 1030], [1020, 1040]);
    expect(asm.add(1005, 1012)).toBe(true); // overlaps the front
    expectRanges([1005, 1030], [1020, 1040]);
    expect(asm.add(1038, 1045)).toBe(true); // overlaps the back of the last
    expectRanges([1005, 1030], [1020, 1045]);
    expect(asm.add(1045, 1050)).toBe(true); // adjacent after
    expectRanges([1005, 1030], [1020, 1050]);
    expect(asm.add(1000, 1005)).toBe(true); // adjacent before
    expectRanges([1000, 1030], [1020, 1050]);
    expect(asm.add(1020, 1030)).toBe(true); // exactly fills the gap
    expectRanges([1000], [1050]);
    run(1000);
    expect(asm.add(990, 1060)).toBe(true); // covers everything
    expectRanges([990], [1060]);
    run(1000);
    expect(asm.add(1015, 1035)).toBe(true); // bridges two
    expectRanges([1010], [1040]);
    expect(asm.add(1000, 1000)).toBe(true); // empty: nothing recorded
    expectRanges([1010], [1040]);
  });

  it("rejects a fifth range and records nothing", () => {
    asm.clear();
    expect(asm.add(10, 20)).toBe(true);
    expect(asm.add(50, 60)).toBe(true);
    expect(asm.add(30, 40)).toBe(true);
    expect(asm.add(70, 80)).toBe(true);
    expectRanges([10, 30, 50, 70], [20, 40, 60, 80]);
    expect(asm.add(0, 5)).toBe(false);
    expect(asm.add(22, 25)).toBe(false);
    expect(asm.add(90, 95)).toBe(false);
    expectRanges([10, 30, 50, 70], [20, 40, 60, 80]);
    // Merging still works when full.
    expect(asm.add(20, 30)).toBe(true);
    expectRanges([10, 50, 70], [40, 60, 80]);
    expect(asm.add(90, 95)).toBe(true);
    expectRanges([10, 50, 70, 90], [40, 60, 80, 95]);
    expect(asm.add(5, 100)).toBe(true);
    expectRanges([5], [100]);
  });

  it("fills gaps in every order (all permutations of 5 segments)", () => {
    // Five 4-byte segments at 0..20 from base; with RCV.NXT = base, feed each permutation and
    // advance after every add: RCV.NXT must end at base + 20 and the ranges match the model.
    const bases: u32[] = [0, 0xfffffff0, 0x7ffffffa, 0xfffffffe];
    for (let b = 0; b < bases.length; b++) {
      const base = bases[b];
      for (let perm = 0; perm < 120; perm++) {
        // Decode perm as a Lehmer code.
        let used = 0;
        let p = perm;
        let nxt = base;
        asm.clear();
        memory.fill(bits, 0, 64);
        for (let k = 5; k > 0; k--) {
          let idx = p % k;
          p = p / k;
          let seg = 0;
          for (;; seg++) {
            if ((used & (1 << seg)) != 0) continue;
            if (idx == 0) break;
            idx--;
          }
          used |= 1 << seg;
          const s = base + <u32>seg * 4;
          if (!asm.add(s, s + 4)) { expect(false).toBe(true, "add refused"); return; }
          memory.fill(bits + <usize>seg * 4, 1, 4);
          const before = nxt;
          nxt = asm.advance(nxt);
          // The model: clear everything below nxt.
          memory.fill(bits, 0, <usize>(nxt - base));
          if (!matchesModel(base, 20)) {
            expect(false).toBe(true, "perm " + perm.toString() + " base " + base.toString());
            return;
          }
          if (<i32>(nxt - before) < 0) { expect(false).toBe(true, "went backwards"); return; }
        }
        if (nxt != base + 20) { expect(nxt).toBe(base + 20, "perm " + perm.toString()); return; }
        if (asm.count() != 0) { expect(asm.count()).toBe(0); return; }
      }
    }
  });

  it("matches a bitmap model under random overlapping adds", () => {
    let seed: u32 = 7;
    const base: u32 = 0xffffffe0; // straddles the 2^32 wrap
    for (let round = 0; round < 200; round++) {
      asm.clear();
      memory.fill(bits, 0, 64);
      for (let step = 0; step < 12; step++) {
        seed = seed * 1103515245 + 12345;
        const s = (seed >>> 10) % 60;
        const l = 1 + (seed >>> 20) % 6;
        const e = min(s + l, 64);
        // Snapshot, add, and compare: a refused add must leave things as they were.
        const ok = asm.add(base + s, base + e);
        if (ok) memory.fill(bits + s, 1, e - s);
        if (!matchesModel(base, 64)) {
          expect(false).toBe(true, "round " + round.toString() + " step " + step.toString());
          return;
        }
        if (asm.count() > MAX_RANGES) { expect(asm.count()).toBeLessThanOrEqual(MAX_RANGES); return; }
      }
    }
  });

  it("keeps ranges across the 2^32 wrap in sequence order", () => {
    asm.clear();
    expect(asm.add(5, 10)).toBe(true); // after the wrap
    expect(asm.add(0xfffffff0, 0xfffffff8)).toBe(true); // before it
    expect(asm.add(0xfffffffc, 2)).toBe(true); // across it
    expectRanges([0xfffffff0, 0xfffffffc, 5], [0xfffffff8, 2, 10]);
    expect(asm.add(0xfffffff8, 0xfffffffc)).toBe(true);
    expectRanges([0xfffffff0, 5], [2, 10]);
    expect(asm.add(1, 6)).toBe(true);
    expectRanges([0xfffffff0], [10]);
    expect(asm.advance(0xffffffe0)).toBe(0xffffffe0); // a gap before: nothing absorbed
    expect(asm.advance(0xfffffff0)).toBe(10);
    expect(asm.count()).toBe(0);
  });

  it("advance drops stale ranges and absorbs one reaching RCV.NXT", () => {
    asm.clear();
    asm.add(10, 20);
    asm.add(30, 40);
    asm.add(50, 60);
    asm.add(70, 80);
    expect(asm.advance(5)).toBe(5); // nothing below
    expect(asm.count()).toBe(4);
    expect(asm.advance(45)).toBe(45); // two wholly below, gone; 50 not reached
    expectRanges([50, 70], [60, 80]);
    expect(asm.advance(55)).toBe(60); // starts before, ends after: absorbed
    expectRanges([70], [80]);
    expect(asm.advance(80)).toBe(80); // ends exactly at RCV.NXT: stale
    expect(asm.count()).toBe(0);
    asm.add(100, 110);
    asm.add(120, 130);
    expect(asm.advance(100)).toBe(110); // starts exactly at RCV.NXT
    expectRanges([120], [130]);
    expect(asm.advance(200)).toBe(200); // all stale
    expect(asm.count()).toBe(0);
  });

  it("works at a computed address inside a larger block", () => {
    const block = heap.alloc(256);
    memory.fill(block, 0x5a, 256);
    const a = changetype<Assembler>(block + 36);
    a.clear();
    a.add(1, 2);
    a.add(5, 6);
    expect(a.count()).toBe(2);
    expect(a.start(1)).toBe(5);
    expect(load<u8>(block + 35)).toBe(0x5a);
    expect(load<u8>(block + 36 + offsetof<Assembler>())).toBe(0x5a);
  });
});
