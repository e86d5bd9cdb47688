// Firmware image: the wasmip core plus the bulk client app, driven by the host through the bulk_*
// exports below (start a transfer, then read its progress). Built to build/bulk.wasm.
export * from "../index";
import { setApp } from "../app";
import { setNow } from "../support/clock";
import { phy_now_ms } from "../support/phy";
import {
  bulkEndedAt, bulkFirstBad, bulkMismatches, bulkPoll, bulkReceived, bulkSent, bulkStart, bulkStartedAt, bulkState,
  bulkSumReceived, bulkSumSent,
} from "../apps/bulk";

function bulkInit(): void {}
setApp(bulkInit, bulkPoll);

/** bulk_start(ip, port, bytes) -> 0 | WASMIP_E*: connect to an echo server and send `bytes` bytes. */
export function bulk_start(ip: u32, port: u32, bytes: u32): i32 {
  setNow(phy_now_ms());
  return bulkStart(ip, port, bytes);
}
/** bulk_send(ip, port, bytes): as bulk_start, to a sink (a server that reads and sends nothing). */
export function bulk_send(ip: u32, port: u32, bytes: u32): i32 {
  setNow(phy_now_ms());
  return bulkStart(ip, port, bytes, false);
}
/** 0 idle, 1 connecting, 2 running, 3 done; negative: the error (-100: the server closed early). */
export function bulk_state(): i32 {
  return bulkState;
}
export function bulk_sent(): u32 {
  return bulkSent;
}
export function bulk_received(): u32 {
  return bulkReceived;
}
export function bulk_mismatches(): u32 {
  return bulkMismatches;
}
export function bulk_first_bad(): u32 {
  return bulkFirstBad;
}
export function bulk_sum_sent(): u32 {
  return bulkSumSent;
}
export function bulk_sum_received(): u32 {
  return bulkSumReceived;
}
/** Elapsed board-clock ms from bulk_start to the end (or to now while running). */
export function bulk_elapsed_ms(): u32 {
  if (bulkState == 1 || bulkState == 2) return phy_now_ms() - bulkStartedAt;
  return bulkEndedAt - bulkStartedAt;
}
