// Firmware image: the wasmip core plus the echo (TCP 7) and discard (TCP 9) apps. Built to build/echo.wasm.
export * from "../index";
import { setApp } from "../app";
import { echoPoll, echoStart } from "../apps/echo";

setApp(echoStart, echoPoll);
