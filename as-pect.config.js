// as-pect runs the core's unit tests (assembly/__tests__) and the example apps' tests
// (examples/<app>/__tests__). The tests drive the stack through assembly/testing, with the board's
// imports host/testing/as-pect.js provides (a virtual clock, frames captured by the kit). A
// firmware author's own project copies examples/project/as-pect.config.js instead (docs/your-app.md).
// One spec: SPEC=tcp_close npx asp --config as-pect.config.js (file names containing tcp_close).
import { instantiate, specs } from "./host/testing/as-pect.js";

export default {
  entries: specs(["assembly/__tests__/**/*.spec.ts", "examples/*/__tests__/**/*.spec.ts"]),
  include: ["assembly/__tests__/**/*.include.ts"],
  // examples/project is a project of its own: it imports the core as the wasmip package.
  disclude: [/node_modules/, /examples\/project\//],
  instantiate,
  outputBinary: false,
};
