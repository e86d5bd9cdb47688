// Firmware image: the wasmip core plus the HTTP/1.1 server app (TCP 80). Built to build/http.wasm.
export * from "../index";
import { setApp } from "../app";
import { httpPoll, httpStart } from "../apps/http";

setApp(httpStart, httpPoll);
