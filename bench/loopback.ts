// Loopback benchmark (a benchmark: it asserts nothing about time). One board runs a client and a
// server over 127.0.0.1 and sends N MiB one way through the node:net-shaped API; the same
// transfer then runs between two boards on a clean emulated link, in the same process, so the
// two wall-clock rates are comparable (time on these shared machines is noisy: compare ratios).
// Each runs twice, alternating (the first run also warms up the JIT).
//
//   node --import tsx bench/loopback.ts [--mib 64] [--wasm build/wasmip.wasm]   (make bench-loopback)
//
// Reported per run: wall-clock MiB/s of payload, segments sent, and for the
// loopback how many datagrams the pool refused (TCP sent them again when it had room).
import { parseArgs } from "node:util";
import { once } from "node:events";
import { Simulator } from "../host/sim/sim.ts";
import type { Board } from "../host/board/board.ts";

const { values } = parseArgs({ options: { mib: { type: "string", default: "64" }, wasm: { type: "string" } } });
const MIB = Number(values.mib);
const size = MIB * 1024 * 1024;
const chunk = Buffer.alloc(64 * 1024, 0x5a);

async function run(kind: "loopback" | "link"): Promise<void> {
  const sim = new Simulator({ seed: 1, wasm: values.wasm });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24 });
  const b: Board = kind === "link" ? sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", ip: "10.0.0.2", prefix: 24, link: {} }) : a;
  let received = 0;
  b.net.createServer((s) => s.on("data", (d: Buffer) => (received += d.length))).listen(5001);
  const c = a.net.connect({ host: kind === "link" ? "10.0.0.2" : "127.0.0.1", port: 5001 });
  await sim.runUntilSettled(once(c, "connect"));
  const t0 = process.hrtime.bigint();
  let sent = 0;
  const pump = (): void => {
    while (sent < size) {
      sent += chunk.length;
      if (!c.write(chunk)) return void c.once("drain", pump);
    }
  };
  pump();
  await sim.runUntilAsync(() => received >= size, { timeout: 3_600_000 });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const k = a.counters();
  const extra = kind === "loopback" ? `, loopback datagrams ${k.loopback_received}, refused by the pool ${k.loopback_no_buffers}` : "";
  console.log(
    `${kind.padEnd(8)} ${MIB} MiB: ${(MIB / wall).toFixed(1)} MiB/s wall (${wall.toFixed(2)} s), ` +
      `segments sent ${k.tcp_segments_sent + (b === a ? 0 : b.counters().tcp_segments_sent)}, retransmits ${k.tcp_retransmits}${extra}`,
  );
  if (received !== size) throw new Error(`${kind}: received ${received} of ${size}`);
}

for (let i = 0; i < 2; i++) {
  await run("loopback");
  await run("link");
}
