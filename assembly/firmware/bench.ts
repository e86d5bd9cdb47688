// Firmware image: the wasmip core plus the bench app (assembly/apps/bench.ts): a bench server on
// TCP 5001 and a client driven through the bench_* exports. Built to build/bench.wasm; `make bench`
// runs it in the emulated PHY, on the posix board and in the Node board against the kernel.
export * from "../index";
import { setApp } from "../app";
import { setNow } from "../support/clock";
import { phy_now_ms } from "../support/phy";
import { benchDiscardTotal, benchJob, benchLastDiscard, benchPoll, benchServed, benchStart, jobDone, jobFd, jobState } from "../apps/bench";

setApp(benchStart, benchPoll);

/** bench_job(kind, ip, port, n) -> 0 | WASMIP_E*: 1 send n bytes, 2 n one-byte round trips,
 *  3 n connect/close cycles, against a bench server at ip:port. */
export function bench_job(kind: u32, ip: u32, port: u32, n: u32): i32 {
  setNow(phy_now_ms());
  return benchJob(kind, ip, port, n);
}
/** 0 idle, 1 running, 2 done; negative: the error that ended the job (-100: bad echo). */
export function bench_job_state(): i32 {
  return jobState;
}
/** Bytes sent, round trips or connections completed by the current job. */
export function bench_job_done(): u32 {
  return jobDone;
}
/** The job's connection (for tcp_info), or -1. */
export function bench_job_fd(): i32 {
  return jobFd;
}
/** The server side: bytes discarded by the connection that finished last, in all, and connections served. */
export function bench_last_discard(): u32 {
  return benchLastDiscard;
}
export function bench_discard_total(): u32 {
  return benchDiscardTotal;
}
export function bench_served(): u32 {
  return benchServed;
}
