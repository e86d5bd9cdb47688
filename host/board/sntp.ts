// The SNTP client's exports (boards/include/wasmip.h, "SNTP client") as a small clock API:
//
//   board.sntp.setServers(["10.0.0.123"]);   // or none: the servers of the DHCP lease (option 42)
//   board.on("time", () => ...);              // each sample (WASMIP_NET_EV_TIME)
//   board.sntp.synced; board.sntp.now();      // a Date from the board's wall clock
//   board.sntp.lastSample();                  // { offsetMs, delayMs, server, stratum }
//
// The client runs inside the board, driven by its poll(); nothing here runs on a timer.
import { ipToU32, u32ToIp } from "./address.ts";
import { codedError } from "./errors.ts";
import type { LayerHost } from "./pump.ts";

/** The SNTP exports, typed. */
export interface SntpExports {
  memory: WebAssembly.Memory;
  io_buffer(): number;
  sntp_set_servers(a: number, b: number): number;
  sntp_server(i: number): number;
  sntp_synced(): number;
  sntp_time(out: number): number;
  sntp_sample(out: number): number;
}

export interface SntpSample {
  /** What the sample added to the board's clock (ms, fractional; the first is the whole time). */
  offsetMs: number;
  /** Round-trip delay (ms, fractional). */
  delayMs: number;
  server: string;
  stratum: number;
}

export class Sntp {
  private readonly ex: SntpExports;

  constructor(private readonly board: LayerHost) {
    const ex = board.exports as unknown as SntpExports;
    if (typeof ex.sntp_time !== "function") throw codedError("ENOSYS", new Error(`${board.name}: this firmware has no SNTP client (sntp_time)`));
    this.ex = ex;
  }

  /** At most two IPv4 addresses, in order; [] goes back to the lease's servers. */
  setServers(servers: string[]): void {
    if (servers.length > 2) throw codedError("ERR_INVALID_ARG_VALUE", new RangeError("at most two NTP servers"));
    const r = this.ex.sntp_set_servers(servers[0] ? ipToU32(servers[0]) : 0, servers[1] ? ipToU32(servers[1]) : 0);
    if (r < 0) throw codedError("ENOSYS", new Error(`${this.board.name}: SNTP is left out of this build`));
    this.board.kick();
  }

  getServers(): string[] {
    const out: string[] = [];
    for (let i = 0; i < 2; i++) {
      const s = this.ex.sntp_server(i) >>> 0;
      if (s) out.push(u32ToIp(s));
    }
    return out;
  }

  /** True once a sample set the clock. */
  get synced(): boolean {
    return this.ex.sntp_synced() !== 0;
  }

  /** The wall clock: Unix seconds and the binary fraction (/ 2^32). Before a sync, 1970 + uptime. */
  time(): { seconds: number; fraction: number } {
    const out = this.ex.io_buffer();
    this.ex.sntp_time(out);
    const v = new DataView(this.ex.memory.buffer, out, 8);
    return { seconds: v.getUint32(0, true), fraction: v.getUint32(4, true) };
  }

  /** The wall clock as a Date (ms resolution); null before the first sync. */
  now(): Date | null {
    if (!this.synced) return null;
    const { seconds, fraction } = this.time();
    return new Date(seconds * 1000 + Math.floor((fraction * 1000) / 2 ** 32));
  }

  /** The last sample, null before the first. */
  lastSample(): SntpSample | null {
    const out = this.ex.io_buffer();
    if (this.ex.sntp_sample(out) < 0) return null;
    const v = new DataView(this.ex.memory.buffer, out, 20);
    const offsetUs = v.getBigInt64(0, true);
    return {
      offsetMs: Number(offsetUs) / 1000,
      delayMs: v.getUint32(8, true) / 1000,
      server: u32ToIp(v.getUint32(12, true)),
      stratum: v.getUint32(16, true),
    };
  }
}
