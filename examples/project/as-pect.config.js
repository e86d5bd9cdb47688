// as-pect for your app's tests (copy this file into your project): wasmip's testing kit needs the
// board's imports with a virtual clock, which wasmip/as-pect provides. Run every spec with
// `npm test`, one with `SPEC=app npm test` (the specs whose file name contains "app").
import { instantiate, specs } from "wasmip/as-pect";

export default {
  entries: specs(["__tests__/**/*.spec.ts"]),
  include: [],
  disclude: [/node_modules/],
  instantiate,
  outputBinary: false,
};
