// One side of a bulk transfer over a harness socket, shared by the TCP simulation tests and the
// long lossy runs: write n bytes from `next` (respecting backpressure), end, and hash both ways.
import { createHash } from "node:crypto";
import type { Socket } from "../../host/board/net.ts";

export interface BulkSide {
  sent: string; // sha256 of what this side wrote
  received: string; // sha256 of what it read
  bytes: number; // bytes it read
}

/** Writes n bytes taken from next(len) in chunks of at most 64 KiB, then ends; resolves on close. */
export function bulk(s: Socket, n: number, next: (len: number) => Buffer): Promise<BulkSide> {
  const sentHash = createHash("sha256");
  const recvHash = createHash("sha256");
  let bytes = 0;
  let sent = 0;
  s.on("data", (d: Buffer) => {
    recvHash.update(d);
    bytes += d.length;
  });
  const pump = () => {
    while (sent < n) {
      const chunk = next(Math.min(64 * 1024, n - sent));
      sentHash.update(chunk);
      sent += chunk.length;
      if (!s.write(chunk)) return void s.once("drain", pump);
    }
    s.end();
  };
  pump();
  return new Promise((resolve, reject) => {
    s.on("error", reject);
    s.on("close", () => resolve({ sent: sentHash.digest("hex"), received: recvHash.digest("hex"), bytes }));
  });
}
