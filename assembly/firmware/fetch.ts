// Firmware image: the wasmip core plus the fetch app (an HTTP GET by name), driven by the host
// through the fetch_* exports. Built to build/fetch.wasm. Set the DNS servers first (DHCP does, or
// dns_set_servers), then put the name and the path in memory (io_buffer) and call fetch_start.
export * from "../index";
import { setApp } from "../app";
import { setNow } from "../support/clock";
import { phy_now_ms } from "../support/phy";
import {
  fetchAddress, fetchBodyBytes, fetchCode, fetchLine, fetchLineLen, fetchPoll, fetchStart, fetchState,
} from "../apps/fetch";

function fetchInit(): void {}
setApp(fetchInit, fetchPoll);

/** fetch_start(name_ptr, len, port, path_ptr, path_len) -> 0 | WASMIP_E*: GET http://name:port/path. */
export function fetch_start(namePtr: usize, len: u32, port: u32, pathPtr: usize, pathLen: u32): i32 {
  setNow(phy_now_ms());
  return fetchStart(namePtr, len, port, pathPtr, pathLen);
}
/** The HTTP status code (200, 404 ...) once the status line arrived; 0 while in progress or idle;
 *  a negative WASMIP_E* (or -101: not an HTTP reply) when the fetch failed before it. */
export function fetch_status(): i32 {
  if (fetchCode > 0) return fetchCode;
  return fetchState < 0 ? fetchState : 0;
}
/** 0 idle, 1 resolving, 2 connecting, 3 waiting for the status line, 4 reading the body,
 *  5 done (the server closed); negative: the error. */
export function fetch_state(): i32 {
  return fetchState;
}
/** The address the name resolved to (0 before). */
export function fetch_address(): u32 {
  return fetchAddress;
}
/** Bytes of body received (after the header). */
export function fetch_body_bytes(): u32 {
  return fetchBodyBytes;
}
/** The status line (without CRLF): ptr and length. */
export function fetch_line(): usize {
  return fetchLine;
}
export function fetch_line_len(): u32 {
  return fetchLineLen;
}
