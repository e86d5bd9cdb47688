// Firmware image: the wasmip core plus the greeter app (TCP 54321). Built to build/greeter.wasm.
export * from "../index";
import { setApp } from "../app";
import { greeterPoll, greeterStart } from "../apps/greeter";

setApp(greeterStart, greeterPoll);
