// as-pect runs the core's unit tests (assembly/__tests__). The tests drive the stack directly:
// they set the clock with setNow() and capture frames with setTxHook(), so the phy imports here
// only have to exist. A test that reaches phy.tx has forgotten its hook: that fails loudly.
export default {
  entries: ["assembly/__tests__/**/*.spec.ts"],
  include: ["assembly/__tests__/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    let seed = 0x12345678;
    const phy = {
      tx() {
        throw new Error("phy.tx called in a unit test without a tx hook");
      },
      now_ms: () => 0,
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
    return instantiate(binary, createImports({ env: { memory }, phy }));
  },
  outputBinary: false,
};
