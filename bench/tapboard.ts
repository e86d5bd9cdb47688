// The Node board of `make bench`'s kernel runs, in a process of its own so its CPU time can be
// measured apart from the bench: build/bench.wasm in a TapSession (host/devices/tap.ts: the board in V8,
// build/tap-bridge to the tap) in an existing namespace the bench created.
//   node --import tsx bench/tapboard.ts NETNS TAP BOARD_CIDR PEER_CIDR [IMAGE.wasm]
// (the image defaults to build/bench.wasm).
// Prints "ready" once the kernel's ping is answered; on SIGTERM prints one JSON line (memory pages
// at init and now, non-zero counters), removes its tap and exits 0.
import path from "node:path";
import { TapSession } from "../host/devices/tap.ts";
import { ROOT } from "../host/board/board.ts";

const [netns, tap, boardIp, peerIp, image] = process.argv.slice(2);
if (!peerIp) {
  console.error("usage: tapboard.ts NETNS TAP BOARD_CIDR PEER_CIDR [IMAGE.wasm]");
  process.exit(2);
}
const session = new TapSession();
let stopping = false;
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  const bd = session.board;
  if (bd) {
    const counters = Object.fromEntries(Object.entries(bd.counters()).filter(([, v]) => v !== 0));
    console.log(JSON.stringify({ pagesAtInit: bd.pagesAtInit, pages: bd.memoryPages, rx: session.runner?.rxFrames, tx: session.runner?.txFrames, counters }));
  }
  await session.stop().catch((e: Error) => console.error(`tapboard: cleanup: ${e.message}`));
  process.exit(code);
}
for (const s of ["SIGTERM", "SIGINT", "SIGHUP"] as const) process.on(s, () => void stop(0));
try {
  await session.start({
    netns, tap, boardIp, peerIp, reuseNetns: true, wasm: image ? path.resolve(image) : path.join(ROOT, "build", "bench.wasm"),
    log: (level, msg) => {
      if (level === "error" || level === "warn") console.error(`[board ${level}] ${msg}`);
    },
    onError: (e) => {
      console.error(`tapboard: ${e.message}`);
      void stop(1);
    },
  });
  if (!(await session.waitReachable(20))) throw new Error("the board does not answer ping");
  console.log("ready");
} catch (e) {
  console.error(`tapboard: ${(e as Error).message}`);
  await stop(1);
}
