// Two simulated boards on one emulated switch: B runs a TCP echo server written against
// `board.net` (shaped like node:net), A connects, sends a line and reads it back. Everything runs in
// virtual time from one seed; `--pcap FILE` writes the frames for Wireshark or `wasmip ladder`.
//
//   make build && node --import tsx examples/node/echo.ts [--pcap echo.pcap]
//
// tests/host/examples.test.ts runs this file, so it stays in step with the harness.
import { once } from "node:events";
import { PcapWriter } from "../../host/capture/pcap.ts";
import { Simulator } from "../../host/sim/sim.ts";

export async function echoExample(opts: { seed?: number; pcap?: string } = {}): Promise<string> {
  // The default firmware is build/wasmip.wasm, the bare stack, as a board would run it.
  const sim = new Simulator({ seed: opts.seed ?? 1 });
  const pcap = opts.pcap ? new PcapWriter(opts.pcap) : undefined;
  if (pcap) sim.capture(pcap);
  const link = { delay: 1, loss: 0.05 }; // 1 ms each way, 5 % of frames lost
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", ip: "10.0.0.1", prefix: 24, link });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", ip: "10.0.0.2", prefix: 24, link });

  // B: an echo server on port 7 with a backlog of 5.
  const server = b.net.createServer((socket) => socket.pipe(socket));
  server.listen(7, 5);

  // A: connect, write, half-close, collect what comes back.
  const client = a.net.connect({ host: "10.0.0.2", port: 7 });
  let reply = "";
  client.setEncoding("utf8");
  client.on("data", (chunk: string) => (reply += chunk));
  client.end("hello from A\n");

  // Nothing moves until the simulator runs: run it until the client's socket has closed.
  await sim.runUntilSettled(once(client, "close"), { timeout: 30_000 });
  console.log(`A got ${JSON.stringify(reply)} at t=${sim.now} ms (virtual)`);
  console.log(`B's counters: tcp_delivered=${b.counters().tcp_delivered}, rx_frames=${b.counters().rx_frames}`);
  pcap?.close();
  return reply;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf("--pcap");
  await echoExample({ pcap: i > 0 ? process.argv[i + 1] : undefined });
}
