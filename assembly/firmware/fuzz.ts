// Firmware image for the fuzz targets (fuzz/): the debug core (assertions and debug_check) plus
// the http app, so a listener, its connections and the app's request parser all face the input.
// Built to build/fuzz.debug.wasm; never flashed.
export * from "../debug";
import { setApp } from "../app";
import { httpPoll, httpStart } from "../apps/http";

setApp(httpStart, httpPoll);
