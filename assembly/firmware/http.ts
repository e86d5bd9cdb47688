// Firmware image: the wasmip core plus the HTTP/1.1 server app (TCP 80). Built to build/http.wasm.
export * from "../index";
import { setApp } from "../app";
import { httpPoll, httpStart } from "../apps/http";

setApp(httpStart, httpPoll);

import { httpConnPhase } from "../apps/http";
/** For tests: 0 free, 1 open, 2 draining (after our FIN) for fd. */
export function http_conn_phase(fd: i32): u32 {
  return httpConnPhase(fd);
}
