// as-pect's instantiate() for specs that run the wasmip core (assembly/testing): the board's
// imports with a virtual clock and a deterministic PRNG. wasmip's own as-pect.config.js and the
// one a firmware author copies into their project (examples/project) both use it, as
// `import { instantiate } from "wasmip/as-pect"`. Plain JavaScript: as-pect loads its config
// with Node alone.
//  - phy.tx throws: the kit captures frames with setTxHook(), so a test that reaches phy.tx has
//    forgotten its hook and fails loudly;
//  - phy.now_ms returns the virtual clock the kit sets (testing.set_now), so init() and the
//    exports read the same time as the test;
//  - phy.random is xorshift32 from a fixed seed: the same run every time.

/** The spec files of `globs` (ending in *.spec.ts); with SPEC=NAME in the environment only those
 *  whose file name contains NAME, to run one spec quickly (as-pect 8 has no such flag). */
export function specs(globs) {
  const only = process.env.SPEC;
  if (!only) return globs;
  if (!/^[\w.-]+$/.test(only)) throw new Error(`SPEC=${only}: a part of a spec's file name (letters, digits, _ . -)`);
  return globs.map((g) => g.replace(/\*\.spec\.ts$/, `*${only}*.spec.ts`));
}

/** as-pect's `instantiate(memory, createImports, instantiate, binary)` hook. */
export function instantiate(memory, createImports, instantiateModule, binary) {
  let seed = 0x12345678;
  let virtualNow = 0;
  let checksumCalls = 0;
  const testing = {
    set_now(t) {
      virtualNow = t >>> 0;
    },
    checksum_calls: () => checksumCalls,
  };
  const phy = {
    tx() {
      throw new Error("phy.tx called in a unit test without a tx hook");
    },
    now_ms: () => virtualNow,
    random() {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return seed >>> 0;
    },
    // The RFC 1071 sum (wasmip.h phy.checksum), for specs that turn on OFFLOAD_SUM.
    checksum(ptr, len) {
      checksumCalls++;
      const b = new Uint8Array(ownMemory.buffer, ptr, len);
      let s = 0;
      for (let i = 0; i + 1 < len; i += 2) s += (b[i] << 8) | b[i + 1];
      if (len & 1) s += b[len - 1] << 8;
      while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
      return s;
    },
    panic(ptr, len, line) {
      throw new Error(`wasmip panic at line ${line}`);
    },
    log() {},
  };
  // The module's own memory (it exports one), known once instantiated.
  let ownMemory = memory;
  const seen = (r) => {
    const ex = r?.exports ?? r?.instance?.exports;
    if (ex?.memory) ownMemory = ex.memory;
    return r;
  };
  const r = instantiateModule(binary, createImports({ env: { memory }, phy, testing }));
  return r && typeof r.then === "function" ? r.then(seen) : seen(r);
}
