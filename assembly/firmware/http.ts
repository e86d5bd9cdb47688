// Firmware image: the wasmip core plus the HTTP/1.1 server app (TCP 80). Built to build/http.wasm.
export * from "../index";
import { setApp } from "../app";
import { httpPoll, httpStart } from "../apps/http";
import { FEATURE_MDNS } from "../config";
import { mdnsAddService, mdnsStart } from "../services/mdns";

// With mDNS in the build (the Makefile's USE_http), the board is `wasmip-xxxxxx.local` (config.ts
// MDNS_HOSTNAME) and announces its server as `_http._tcp` on port 80 (RFC 6763).
function start(): void {
  if (FEATURE_MDNS && mdnsStart(0, 0) == 0) {
    mdnsAddService(0, 0, memory.data<u8>([95, 104, 116, 116, 112, 46, 95, 116, 99, 112]), 10, 80, 0, 0); // "_http._tcp"
  }
  httpStart();
}

setApp(start, httpPoll);

import { httpConnPhase } from "../apps/http";
/** For tests: 0 free, 1 open, 2 draining (after our FIN) for fd. */
export function http_conn_phase(fd: i32): u32 {
  return httpConnPhase(fd);
}
