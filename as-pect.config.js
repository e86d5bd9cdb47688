// as-pect runs the core's unit tests (assembly/__tests__) and the example apps' tests
// (examples/<app>/__tests__). The tests drive the stack through assembly/testing: it captures
// frames with setTxHook(), so a test that reaches phy.tx has forgotten its hook and fails loudly,
// and it sets the virtual clock, which phy.now_ms returns (testing.set_now), so init() and the
// exports read the same time as the test. Copy this file for your own firmware's tests.
export default {
  entries: ["assembly/__tests__/**/*.spec.ts", "examples/*/__tests__/**/*.spec.ts"],
  include: ["assembly/__tests__/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    let seed = 0x12345678;
    let virtualNow = 0;
    const testing = {
      set_now(t) {
        virtualNow = t >>> 0;
      },
    };
    const phy = {
      tx() {
        throw new Error("phy.tx called in a unit test without a tx hook");
      },
      now_ms: () => virtualNow,
      random() {
        // xorshift32: deterministic across runs
        seed ^= seed << 13;
        seed ^= seed >>> 17;
        seed ^= seed << 5;
        return seed >>> 0;
      },
      panic(ptr, len, line) {
        throw new Error(`wasmip panic at line ${line}`);
      },
      log() {},
    };
    return instantiate(binary, createImports({ env: { memory }, phy, testing }));
  },
  outputBinary: false,
};
