// The fuzz seed corpus (fuzz/corpus) must be what fuzz/corpus.ts builds from the checked-in
// captures, so a change to the captures, the targets' addresses (fuzz/params.h) or the builder
// cannot leave stale seeds behind. (The fuzz run itself is `make fuzz-smoke`, part of make test.)
import { test } from "node:test";
import assert from "node:assert/strict";
import { FUZZ_TARGETS, buildCorpus, corpusDiff, fuzzParams } from "../../fuzz/corpus.ts";

test("fuzz: the checked-in seed corpus is what fuzz/corpus.ts builds from fuzz/captures", () => {
  const built = buildCorpus();
  for (const t of FUZZ_TARGETS) assert.ok(built.get(t)!.size >= 5, `${t}: ${built.get(t)!.size} seeds`);
  assert.deepEqual(corpusDiff(built), [], "run make fuzz-corpus and commit fuzz/corpus");
});

test("fuzz: fuzz/params.h parses (MACs, addresses, ports, ISN)", () => {
  const p = fuzzParams();
  assert.deepEqual(p.BOARD_MAC, [2, 0, 0, 0, 0, 2]);
  assert.equal(p.BOARD_IP, 0x0a000002);
  assert.equal(p.PEER_IP, 0x0a000001);
  assert.equal(p.PEER_PORT, 40000);
  assert.equal(typeof p.DNS_NAME, "string");
});
