// dnsmasq (Debian dnsmasq-base) as the DHCP and DNS server on a TapSession's TAP, inside its
// namespace: no configuration file, bound to the tap only, leases and pid in a temporary
// directory. stop() kills it by pid (TapSession.stop() would kill it too, with the namespace).
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ipToU32, parseCidr, prefixToMask, u32ToIp } from "../../board/address.ts";

export interface DnsmasqOptions {
  tap: string;
  rangeStart: string;
  rangeEnd: string;
  lease?: string; // dnsmasq syntax: "12h", "2m" (its minimum is 2 minutes)
  router?: string;
  dns?: string[];
  /** --address=/name/ip records the DNS side serves. */
  addresses?: [string, string][];
  extraArgs?: string[];
}

export interface DnsmasqLease {
  expires: number; // unix seconds
  mac: string;
  ip: string;
  hostName: string;
}

/** Something that starts a process inside the namespace (TapSession.spawn). */
export interface Spawner {
  spawn(cmd: string, args: string[]): ChildProcess;
}

export class Dnsmasq {
  readonly dir: string;
  readonly leaseFile: string;
  readonly pidFile: string;
  readonly proc: ChildProcess;
  stderr = "";

  constructor(where: Spawner, o: DnsmasqOptions) {
    this.dir = mkdtempSync(path.join(os.tmpdir(), "wasmip-dnsmasq-"));
    this.leaseFile = path.join(this.dir, "leases");
    this.pidFile = path.join(this.dir, "pid");
    const args = [
      "--no-daemon",
      "--conf-file=/dev/null",
      "--user=root", // the lease file lives in our temporary directory
      `--interface=${o.tap}`,
      "--bind-interfaces",
      "--except-interface=lo",
      `--dhcp-range=${o.rangeStart},${o.rangeEnd},${o.lease ?? "12h"}`,
      `--dhcp-leasefile=${this.leaseFile}`,
      `--pid-file=${this.pidFile}`,
      "--log-dhcp",
      "--no-resolv",
      "--no-hosts",
    ];
    if (o.router) args.push(`--dhcp-option=3,${o.router}`);
    if (o.dns?.length) args.push(`--dhcp-option=6,${o.dns.join(",")}`);
    for (const [name, ip] of o.addresses ?? []) args.push(`--address=/${name}/${ip}`);
    args.push(...(o.extraArgs ?? []));
    this.proc = where.spawn("dnsmasq", args);
    this.proc.stderr?.on("data", (d: Buffer) => (this.stderr += d.toString()));
    this.proc.stdout?.on("data", (d: Buffer) => (this.stderr += d.toString()));
  }

  /** Resolves once dnsmasq has bound its DHCP socket (it says so on stderr; with --no-daemon it
   *  writes no pid file, so the process handle's pid is the one stop() kills). */
  async ready(timeoutMs = 5000): Promise<void> {
    const t0 = Date.now();
    while (Date.now() - t0 < timeoutMs) {
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new Error(`dnsmasq exited: ${this.stderr.trim()}`);
      if (/DHCP, (sockets bound|IP range)/.test(this.stderr) && /sockets bound|started/.test(this.stderr)) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error(`dnsmasq not ready after ${timeoutMs} ms: ${this.stderr.trim()}`);
  }

  /** The lease file: "expiry mac ip hostname client-id" per line. */
  leases(): DnsmasqLease[] {
    if (!existsSync(this.leaseFile)) return [];
    return readFileSync(this.leaseFile, "utf8")
      .split("\n")
      .filter((l) => l.trim())
      .map((l) => {
        const [expires, mac, ip, hostName] = l.split(/\s+/);
        return { expires: Number(expires), mac, ip, hostName };
      });
  }

  /** Kill dnsmasq by its pid and wait for it to exit; remove the temporary directory. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (p.exitCode === null && p.signalCode === null && p.pid !== undefined) {
      const exited = new Promise<void>((r) => p.once("exit", () => r()));
      try {
        process.kill(p.pid, "SIGTERM");
      } catch {
        // already gone
      }
      const t = setTimeout(() => {
        try {
          if (p.pid !== undefined) process.kill(p.pid, "SIGKILL");
        } catch {
          // gone
        }
      }, 2000);
      await exited;
      clearTimeout(t);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The DHCP server of `--dhcp` (wasmip tap and wasmip qemu): dnsmasq on the tap in the namespace,
 *  pool .100-.199 of the peer's subnet, router and DNS server = the peer, 12 h leases. */
export function dhcpServer(where: Spawner, tap: string, peerCidr: string): Dnsmasq {
  const peer = parseCidr(peerCidr);
  const net = ipToU32(peer.ip) & prefixToMask(peer.prefix);
  const at = (k: number) => u32ToIp((net + k) >>> 0);
  return new Dnsmasq(where, { tap, rangeStart: at(100), rangeEnd: at(199), lease: "12h", router: peer.ip, dns: [peer.ip] });
}
