// A small NTP server (RFC 5905 server mode, what an SNTP client needs) for the emulated network:
// an endpoint on a simulated switch (sim.attach) with its own MAC and IP, answering ARP for its
// address and mode 3 requests on UDP port 123 with mode 4 replies: origin = the request's
// transmit timestamp, receive and transmit = its own clock, which is `epochMs` + virtual time,
// so a run is reproducible. Processing time is drawn from the simulator's seeded PRNG (a fork of
// its own). Test knobs: `silent` (a dead server), `kiss` (answer with a kiss-o'-death: "RATE",
// "DENY", "RSTR"), `leap` / `stratum` (e.g. LI 3 or stratum 16: unsynchronised), `offsetMs` (step
// the server's clock), and a record of the requests it received.
import { ipToU32, u32ToIp } from "../../board/address.ts";
import { receiveUdp, replyUdp } from "./udp_host.ts";
import type { Prng } from "../prng.ts";
import type { SimEndpoint, Simulator } from "../sim.ts";

/** Seconds from 1900 (NTP) to 1970 (Unix). */
export const NTP_UNIX_OFFSET = 2208988800n;

export interface NtpdOptions {
  name?: string; // endpoint name, default "ntpd"
  mac?: string; // default 02:00:00:00:01:23
  ip: string;
  /** The server's wall clock (Unix ms) at virtual time 0; default 2026-12-07T00:00:00Z. */
  epochMs?: number;
  stratum?: number; // default 2
  /** Processing time between receive and transmit, uniform in [0, processingMs) ms; default 1. */
  processingMs?: number;
  delay?: number; // link delay in ms each way, default 1
}

export interface NtpRequestSeen {
  time: number;
  src: string;
  srcPort: number;
  version: number;
  mode: number;
  transmit: bigint;
}

/** Unix ms (may be fractional) as a 64-bit NTP timestamp (seconds since 1900 mod 2^32, fraction). */
export function unixMsToNtp(ms: number): bigint {
  const us = BigInt(Math.round(ms * 1000));
  const secs = us / 1_000_000n;
  const frac = ((us % 1_000_000n) << 32n) / 1_000_000n;
  return (((secs + NTP_UNIX_OFFSET) & 0xffffffffn) << 32n) | frac;
}

export class SimNtpServer {
  readonly ip: number;
  readonly mac: string;
  silent = false;
  kiss: "RATE" | "DENY" | "RSTR" | undefined;
  leap = 0;
  stratum: number;
  /** Added to the server's clock (ms). */
  offsetMs = 0;
  readonly requests: NtpRequestSeen[] = [];
  readonly epochMs: number;
  private readonly processingMs: number;
  private readonly rng: Prng;
  private readonly ep: SimEndpoint;

  constructor(
    private readonly sim: Simulator,
    opts: NtpdOptions,
  ) {
    this.ip = ipToU32(opts.ip);
    this.mac = opts.mac ?? "02:00:00:00:01:23";
    this.epochMs = opts.epochMs ?? Date.UTC(2026, 11, 7);
    this.stratum = opts.stratum ?? 2;
    this.processingMs = opts.processingMs ?? 1;
    this.rng = sim.prng.fork(`ntpd:${opts.name ?? "ntpd"}`);
    this.ep = sim.attach(opts.name ?? "ntpd", (f) => this.receive(f), { delay: opts.delay ?? 1 });
  }

  /** The server's wall clock now (Unix ms). */
  clockMs(): number {
    return this.epochMs + this.offsetMs + this.sim.now;
  }

  private receive(f: Uint8Array): void {
    const req = receiveUdp(f, this.ep, this.mac, this.ip, 123);
    if (!req || req.payload.length < 48) return;
    const m = req.payload;
    const v = new DataView(m.buffer, m.byteOffset, 48);
    const seen: NtpRequestSeen = {
      time: this.sim.now, src: req.src, srcPort: req.srcPort, version: (m[0] >> 3) & 7, mode: m[0] & 7, transmit: v.getBigUint64(40),
    };
    this.requests.push(seen);
    if (this.silent || seen.mode !== 3) return;
    const received = this.clockMs();
    const proc = this.processingMs > 0 ? this.rng.nextFloat() * this.processingMs : 0;
    const reply = () => {
      const out = new Uint8Array(48);
      const r = new DataView(out.buffer);
      r.setUint8(0, ((this.kiss ? 3 : this.leap) << 6) | (4 << 3) | 4);
      r.setUint8(1, this.kiss ? 0 : this.stratum);
      r.setUint8(2, 6);
      r.setInt8(3, -20);
      r.setUint32(12, this.kiss ? Buffer.from(this.kiss, "latin1").readUInt32BE(0) : 0x7f7f0101);
      r.setBigUint64(16, unixMsToNtp(received - 16_000));
      r.setBigUint64(24, seen.transmit);
      r.setBigUint64(32, unixMsToNtp(received));
      r.setBigUint64(40, unixMsToNtp(this.clockMs() + (proc - Math.floor(proc))));
      replyUdp(this.ep, this.mac, this.ip, 123, req, out);
    };
    // Whole ms of processing in virtual time, the rest as a fraction of the transmit timestamp.
    if (proc >= 1) this.sim.after(Math.floor(proc), reply);
    else reply();
  }

  get ipString(): string {
    return u32ToIp(this.ip);
  }
}
