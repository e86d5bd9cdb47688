// as-pect on the failing fixture only (tests/host/testing_kit.test.ts runs it): the project's
// configuration with other entries.
import base from "../../as-pect.config.js";
export default { ...base, entries: ["tests/aspect/*.spec.ts"] };
