// The default demo of `wasmip sim`, all in virtual time on one emulated switch with a DHCP server
// (dhcpd 10.0.0.254, pool 10.0.0.1-99) and a DNS server (dnsd 10.0.0.53 and 2001:db8:1::53,
// zone "sim"):
// 0. four boards boot with NO static configuration: A and B (the core), G (the `greeter`
//    firmware) and H (the `http` firmware) each lease an address over DHCP, in turn, sending a
//    host name (a, b, greeter, web); the lease carries the DNS server, which the core hands to its
//    resolver. Like dnsmasq, the DNS server then answers for <host name>.sim with the leased
//    address; the lease lines and the records are printed;
// 1. A resolves b.sim and pings B by name, A's link lossy: what ping would print, the boards'
//    ARP/ICMP log lines;
// 2. the seed's story over TCP: A resolves greeter.sim; G (port 54321, listen backlog 5: it logs
//    "Got connection from", greets and closes) is connected to by A, which prints the greeting and
//    closes. The connection tables are printed whenever a state changes, so every state of the
//    handshake and of both closes shows (LISTEN ... TIME_WAIT, CLOSED);
// 3. A resolves web.sim and fetches http://web.sim/ from H, and prints the status line.
// Then A's and B's link stats and counters, and:
// 4. IPv6, next to the IPv4 story rather than in it: two more boards join with no IPv4
//    configuration (no DHCP: the resolver asks RDNSS servers only when it has no IPv4 one),
//    C (build/ipv6.wasm, the core with IPv6) and E (the echo6 firmware). A radvd
//    (services/radvd.ts) advertises 2001:db8:1::/64 and dnsd's IPv6 address as RDNSS; each board
//    forms its link-local address, a SLAAC address from the prefix, and takes the DNS server from
//    the RDNSS option (printed, with the AAAA record dnsd is given: SLAAC has no lease to name
//    it). C resolves echo.sim (AAAA, asked over IPv6), pings it three times, and connects to E's
//    echo port by name (IPv6 first: C has a global address), sends a line and prints the echo,
//    then E's connection table (a tcp6 row). A..H keep their IPv4-only images and the first
//    three steps print and capture exactly what they did before IPv6 was added (the docs'
//    ladder diagram is drawn from that capture); the IPv6 images take two pages where the
//    IPv4 ones take one.
// Then C's and E's counters and the DNS server's queries. The same seed prints the same output
// and writes the same pcap.
// The impairment flags (--loss, --dup, ...) apply to A's link during the pings only: the TCP part
// shows every state of one connection with a line per change, which loss would bury under
// retransmissions (and heavy loss would time it out); the IPv6 step runs on clean links too.
// `sim --topology` impairs every link for the whole run. Compact by default: the boards' DHCP and
// DNS log lines (the demo prints a line per lease and lookup), the connection tables at each state
// change (IPv6 rows too) and E's state changes in the IPv6 step come with --verbose.
import { once } from "node:events";
import path from "node:path";
import { WasmipError } from "../board/errors.ts";
import { ROOT, type Board } from "../board/board.ts";
import { DnsError } from "../board/dns.ts";
import { formatTcpTable, tcpEndpoints } from "../board/netstat.ts";
import { formatIpv6 } from "../board/address.ts";
import { PcapWriter } from "../capture/pcap.ts";
import { linkLocal } from "./frames.ts";
import { Simulator, type DirectionStats, type Impairments } from "./sim.ts";
import { SimDhcpServer, simLease } from "./services/dhcpd.ts";
import { SimDnsServer } from "./services/dnsd.ts";
import { SimRouterAdvertiser } from "./services/radvd.ts";

export interface DemoOptions {
  seed?: number; // default 1
  count?: number; // pings, default 4
  size?: number; // ICMP payload bytes, default 56
  interval?: number; // virtual ms between pings, default 1000
  wait?: number; // virtual ms to wait for replies after the last ping, default 2000
  // Impairments of the pinger's link (each direction) during the pings. delay and jitter apply to
  // every board's link, from boot.
  loss?: number; // default 0.2
  duplicate?: number;
  reorder?: number;
  delay?: number; // default 1
  jitter?: number;
  corrupt?: number;
  mtu?: number;
  startTime?: number; // virtual ms, default 0
  pcap?: string;
  wasm?: string;
  verbose?: boolean; // also print debug log lines, DHCP/DNS log lines and the connection tables
  print?: (line: string) => void; // default console.log
}

export interface PingResult {
  seq: number;
  rtt: number | null; // virtual ms, null if lost
  error?: string; // the send failed (e.g. EHOSTUNREACH)
}

export interface DemoSummary {
  seed: number;
  transmitted: number;
  received: number;
  errors: number;
  lossPercent: number;
  results: PingResult[];
  rtt: { min: number; avg: number; max: number } | null;
  links: Record<string, { toSwitch: DirectionStats; fromSwitch: DirectionStats }>;
  counters: Record<string, Record<string, number>>;
  logLines: number;
  pcapFrames: number;
  endTime: number;
  tcp: TcpStorySummary;
  boot: BootSummary;
  ipv6: Ipv6StorySummary;
  dns: { queries: number }; // queries the DNS server received
}

export interface BootSummary {
  leases: Record<string, string>; // board -> leased address
  dnsServers: Record<string, string[]>; // board -> its resolver's servers after the lease
  resolved: Record<string, string>; // name -> address, as A's resolver answered
}

export interface Ipv6StorySummary {
  addresses: Record<string, string[]>; // board -> its IPv6 addresses (link-local, SLAAC)
  dnsServers: Record<string, string[]>; // board -> RDNSS servers
  resolved: Record<string, string>; // name -> address, as C's resolver answered (AAAA)
  pings: { transmitted: number; received: number };
  connect: { address: string; family: number } | null; // what C's connect by name looked up
  local: string | null; // C's end of the connection, [address]:port
  echoed: string | null; // what came back from E's echo service
  ok: boolean;
  error?: string;
}

export interface TcpStorySummary {
  greeting: string | null; // what the client received from the seed's server
  connectionFrom: string | null; // the server's "Got connection from" peer, "('10.0.0.1', 49152)"
  statesSeen: string[]; // every TCP state that appeared in a connection table, in order of first sight
  httpStatus: string | null; // the status line of the page fetched from H (web.sim) port 80
  httpBodyBytes: number;
  ok: boolean;
  error?: string;
}

const fmtTime = (ms: number): string => ms.toFixed(3).padStart(10);

function fmtImpairments(im: Readonly<Required<Impairments>>): string {
  const parts: string[] = [];
  const pct = (p: number) => `${+(p * 100).toFixed(2)}%`;
  if (im.loss) parts.push(`loss ${pct(im.loss)}`);
  if (im.duplicate) parts.push(`dup ${pct(im.duplicate)}`);
  if (im.reorder) parts.push(`reorder ${pct(im.reorder)} (+${im.reorderDelay} ms)`);
  if (im.corrupt) parts.push(`corrupt ${pct(im.corrupt)}`);
  if (im.delay) parts.push(`delay ${im.delay} ms`);
  if (im.jitter) parts.push(`jitter ${im.jitter} ms`);
  if (im.mtu !== Infinity) parts.push(`mtu ${im.mtu}`);
  return parts.length ? parts.join(", ") : "clean";
}

function fmtStats(s: DirectionStats): string {
  return (
    `${s.offered} offered, ${s.delivered} delivered, ${s.lost} lost, ${s.duplicated} duplicated, ` +
    `${s.reordered} reordered, ${s.corrupted} corrupted, ${s.mtuDropped} over mtu`
  );
}

/** Board log lines the demo summarises in lines of its own (shown with --verbose). */
const QUIET_LOG = /^(dhcp|dns|netif): /;

const DHCPD_IP = "10.0.0.254";
const DNSD_IP = "10.0.0.53";
const DNSD_IP6 = "2001:db8:1::53"; // the same server, advertised as RDNSS (the IPv6 step)
const PREFIX6 = "2001:db8:1::"; // /64, advertised by radvd (RFC 3849's documentation prefix)
const ZONE = "sim";

/** A board's resolver looks a name up through dnsd (A, or AAAA for family 6); prints and records
 *  the answer in `resolved`. Throws on failure. */
async function resolve(sim: Simulator, from: Board, name: string, print: (line: string) => void, resolved: Record<string, string>, family: 4 | 6 = 4): Promise<string> {
  try {
    const { address } = await sim.runUntilSettled(from.dns.lookup(name, { family }), { timeout: 30_000 });
    resolved[name] = address;
    print(`[${fmtTime(sim.now)} ms] ${from.name}: lookup ${name}${family === 6 ? " AAAA" : ""} -> ${address}`);
    return address;
  } catch (e) {
    const why = e instanceof DnsError ? e.code : e instanceof Error ? e.message : String(e);
    print(`[${fmtTime(sim.now)} ms] ${from.name}: lookup ${name} failed: ${why}`);
    throw e;
  }
}

function nonZeroCounters(b: Board): Record<string, number> {
  return Object.fromEntries(Object.entries(b.counters()).filter(([, v]) => v !== 0));
}

export async function runDemo(opts: DemoOptions = {}): Promise<DemoSummary> {
  const print = opts.print ?? ((line: string) => console.log(line));
  const seed = opts.seed ?? 1;
  const count = opts.count ?? 4;
  const size = opts.size ?? 56;
  const interval = opts.interval ?? 1000;
  const wait = opts.wait ?? 2000;
  const delay = opts.delay ?? 1;
  const jitter = opts.jitter ?? 0;
  let logLines = 0;

  const sim = new Simulator({
    seed,
    startTime: opts.startTime,
    wasm: opts.wasm,
    log: (e) => {
      if (!opts.verbose && (e.level === "debug" || QUIET_LOG.test(e.msg))) return;
      logLines++;
      print(`[${fmtTime(e.time)} ms] ${e.board}: ${e.level === "info" ? "" : e.level + ": "}${e.msg}`);
    },
  });
  const pcap = opts.pcap ? new PcapWriter(opts.pcap) : undefined;
  if (pcap) sim.capture(pcap);

  const linkA = {
    loss: opts.loss ?? 0.2,
    duplicate: opts.duplicate,
    reorder: opts.reorder,
    corrupt: opts.corrupt,
    mtu: opts.mtu,
    delay,
    jitter,
  };
  print(`wasmip sim: seed ${seed}, one switch, no static configuration: DHCP and DNS on the network`);
  // The network's services: a DHCP server whose leases name the DNS server, and that DNS server.
  const dhcpd = new SimDhcpServer(sim, {
    ip: DHCPD_IP,
    prefix: 24,
    dns: [DNSD_IP],
    poolStart: "10.0.0.1",
    poolEnd: "10.0.0.99",
    leaseSecs: 3600,
  });
  const dnsd = new SimDnsServer(sim, { ip: DNSD_IP, ip6: DNSD_IP6, ttl: 300 });
  print(`dhcpd ${DHCPD_IP}: pool 10.0.0.1-10.0.0.99/24, dns ${DNSD_IP}, lease ${dhcpd.leaseSecs} s`);
  print(`dnsd ${DNSD_IP}: zone ${ZONE}, names from the DHCP leases' host names`);

  // Every board boots with no address. The servers' firmware (build/greeter.wasm, build/http.wasm)
  // is what users flash; A and B run the core alone.
  const clean = { delay, jitter };
  const boards: { board: Board; host: string }[] = [
    { board: sim.addBoard({ name: "A", mac: "02:00:00:00:00:01", link: clean }), host: "a" },
    { board: sim.addBoard({ name: "B", mac: "02:00:00:00:00:02", link: clean }), host: "b" },
    { board: sim.addBoard({ name: "G", mac: "02:00:00:00:00:03", link: clean, wasm: firmware("greeter") }), host: "greeter" },
    { board: sim.addBoard({ name: "H", mac: "02:00:00:00:00:04", link: clean, wasm: firmware("http") }), host: "web" },
  ];
  const [a, b, g, h] = boards.map((x) => x.board);
  // H's firmware answers mDNS (wasmip-000004.local, _http._tcp): the demo tells the DHCP/DNS story,
  // so the responder is stopped before it has an address to probe (its multicast would share A's
  // lossy link with the pings). tests/host/mdns_sim.test.ts runs it.
  if (typeof h.exports.mdns_stop === "function") h.mdns.stop();
  const boot: BootSummary = { leases: {}, dnsServers: {}, resolved: {} };
  // One after the other, so the pool hands out addresses in board order whatever the seed.
  for (const { board, host } of boards) {
    const st = simLease(sim, board, host);
    boot.leases[board.name] = st.address;
    boot.dnsServers[board.name] = board.dns.getServers();
    const name = `${host}.${ZONE}`;
    // Like dnsmasq: the host name the client sent (option 12) becomes a name in the zone.
    const lease = dhcpd.leaseOf(board.macString);
    if (!lease || lease.ip !== st.address || lease.hostName !== host) throw new Error(`${board.name}: dhcpd has no lease ${st.address} for ${host}`);
    dnsd.records.set(name, [lease.ip]);
    print(
      `[${fmtTime(sim.now)} ms] ${board.name}: DHCP lease ${st.address} from ${st.server} for ${st.leaseRemaining} s, ` +
        `dns ${boot.dnsServers[board.name].join(", ") || "(none)"}; dnsd: ${name} A ${lease.ip}`,
    );
  }

  // A finds B by name (before its link turns lossy: the lookup is not what the pings measure).
  const target = `b.${ZONE}`;
  const dst = await resolve(sim, a, target, print, boot.resolved);
  sim.linkOf(a).setImpairments(linkA);
  print("");
  for (const board of [a, b]) print(`link ${board.name}: ${fmtImpairments(sim.linkOf(board).toSwitch.impairments)} (each direction, during the pings)`);
  const pings = pingRun(sim, a, target, dst, { count, size, interval, wait }, print);

  const tcp = await tcpStory(sim, a, g, h, print, { delay, jitter }, boot, opts.verbose ?? false);

  const links: DemoSummary["links"] = {};
  print("");
  for (const board of [a, b]) {
    const l = sim.linkOf(board);
    links[board.name] = { toSwitch: { ...l.toSwitch.stats }, fromSwitch: { ...l.fromSwitch.stats } };
    print(`link ${board.name} -> switch: ${fmtStats(l.toSwitch.stats)}`);
    print(`link switch -> ${board.name}: ${fmtStats(l.fromSwitch.stats)}`);
  }
  // The IPv4 boards' counters before the IPv6 step, whose multicasts they would count as not for them.
  const counters: DemoSummary["counters"] = {};
  const printCounters = (board: Board) => {
    counters[board.name] = nonZeroCounters(board);
    print(
      `counters ${board.name}: ` +
        Object.entries(counters[board.name])
          .map(([k, v]) => `${k}=${v}`)
          .join(" "),
    );
  };
  for (const board of [a, b]) printCounters(board);

  const ipv6 = await ipv6Story(sim, dnsd, print, clean, opts.verbose ?? false);
  for (const board of sim.boards.slice(boards.length)) printCounters(board);
  const asked = [...new Set(dnsd.queries.map((q) => (q.qtype === 28 ? `${q.name} AAAA` : q.name)))];
  print(`dnsd ${DNSD_IP}, ${DNSD_IP6}: ${dnsd.queries.length} queries (${asked.join(", ")}); dhcpd ${DHCPD_IP}: ${dhcpd.leases.size} leases`);
  let pcapFrames = 0;
  if (pcap) {
    pcapFrames = pcap.frames;
    pcap.close();
    print(`wrote ${pcapFrames} frames to ${pcap.path}`);
  }
  return {
    seed,
    transmitted: count,
    ...pings,
    links,
    counters,
    logLines,
    pcapFrames,
    endTime: sim.now,
    tcp,
    boot,
    ipv6,
    dns: { queries: dnsd.queries.length },
  };
}

/** What pingRun saw. */
interface PingRun {
  results: PingResult[];
  received: number;
  errors: number;
  lossPercent: number;
  rtt: { min: number; avg: number; max: number } | null;
}

/** `count` pings from `from` to `dst` (IPv4 or IPv6 text) `interval` virtual ms apart, then `wait`
 *  ms for late replies; prints what ping would (the lines, then the statistics). */
function pingRun(
  sim: Simulator,
  from: Board,
  target: string,
  dst: string,
  o: { count: number; size: number; interval: number; wait: number },
  print: (line: string) => void,
): PingRun {
  const { count, size, interval, wait } = o;
  print(dst.includes(":") ? `PING ${target} (${dst}) ${size} data bytes` : `PING ${target} (${dst}) ${size}(${size + 28}) bytes of data.`);
  const results: PingResult[] = [];
  const outstanding = new Set<number>();
  const checkReplies = (): boolean => {
    for (const seq of outstanding) {
      const rtt = from.pingRtt(seq);
      if (rtt < 0) continue;
      outstanding.delete(seq);
      results[seq - 1].rtt = rtt;
    }
    return outstanding.size === 0;
  };

  const start = sim.now;
  for (let seq = 1; seq <= count; seq++) {
    const sendAt = start + (seq - 1) * interval;
    sim.runUntil(() => (checkReplies(), false), { maxTime: sendAt });
    // The core remembers the last PING_SLOTS (64) seqs; a reply 32 intervals late counts as lost.
    for (const old of outstanding) if (seq - old >= 32) outstanding.delete(old);
    const r: PingResult = { seq, rtt: null };
    results.push(r);
    try {
      from.ping(dst, seq, size);
      outstanding.add(seq);
    } catch (e) {
      if (!(e instanceof WasmipError)) throw e;
      r.error = e.code;
      print(`[${fmtTime(sim.now)} ms] icmp_seq=${seq}: send failed: ${r.error}`);
    }
  }
  sim.runUntil(checkReplies, { maxTime: start + (count - 1) * interval + wait });

  print("");
  for (const r of results)
    print(`icmp_seq=${r.seq} ${r.rtt !== null ? `${size + 8} bytes from ${dst}: time=${r.rtt} ms` : r.error ? `send failed: ${r.error}` : "lost"}`);

  const rtts = results.filter((r) => r.rtt !== null).map((r) => r.rtt!);
  const errors = results.filter((r) => r.error).length;
  const lossPercent = count ? ((count - rtts.length) / count) * 100 : 0;
  const rtt = rtts.length
    ? { min: Math.min(...rtts), avg: rtts.reduce((x, y) => x + y, 0) / rtts.length, max: Math.max(...rtts) }
    : null;

  print("");
  print(`--- ${target} ping statistics ---`);
  print(
    `${count} packets transmitted, ${rtts.length} received, ${errors ? `+${errors} errors, ` : ""}` +
      `${+lossPercent.toFixed(1)}% packet loss, time ${Math.max(0, (count - 1) * interval)}ms`,
  );
  if (rtt) print(`rtt min/avg/max = ${rtt.min.toFixed(3)}/${rtt.avg.toFixed(3)}/${rtt.max.toFixed(3)} ms`);

  return { results, received: rtts.length, errors, lossPercent, rtt };
}

// ---- The IPv6 part -----------------------------------------------------------------------------

const ECHO_PORT = 7;
/** The IPv6 step's images (C's and E's), built by `make build` like the firmware above. */
export const DEMO_IPV6_IMAGES = ["ipv6", "echo6"] as const;
const V6_PINGS = 3;
const V6_MESSAGE = "hello over IPv6\n";

/**
 * Two IPv6 boards join the switch with no IPv4 configuration at all (no DHCP): C, the core with
 * IPv6 (build/ipv6.wasm), and E, the echo6 firmware. They form link-local addresses, take a SLAAC
 * address and the DNS server from radvd's RAs (prefix, RDNSS), and C finds E by name (AAAA, asked
 * over IPv6), pings it, and connects to its echo service by name.
 */
async function ipv6Story(
  sim: Simulator,
  dnsd: SimDnsServer,
  print: (line: string) => void,
  link: { delay: number; jitter: number },
  verbose: boolean,
): Promise<Ipv6StorySummary> {
  const out: Ipv6StorySummary = { addresses: {}, dnsServers: {}, resolved: {}, pings: { transmitted: 0, received: 0 }, connect: null, local: null, echoed: null, ok: false };
  const t = () => `[${fmtTime(sim.now)} ms]`;
  print("");
  print(`--- IPv6: C (the core with IPv6) and E (firmware echo6) join with no IPv4 configuration ---`);
  const radvd = new SimRouterAdvertiser(sim, { prefix: PREFIX6, rdnss: DNSD_IP6 });
  print(`radvd ${formatIpv6(linkLocal(radvd.mac))}: prefix ${PREFIX6}/64 (on-link, SLAAC), RDNSS ${DNSD_IP6} (dnsd)`);
  const boards = [
    { board: sim.addBoard({ name: "C", mac: "02:00:00:00:00:05", link, wasm: firmware(DEMO_IPV6_IMAGES[0]) }), host: "c" },
    { board: sim.addBoard({ name: "E", mac: "02:00:00:00:00:06", link, wasm: firmware(DEMO_IPV6_IMAGES[1]) }), host: "echo" },
  ];
  const [c, e] = boards.map((x) => x.board);
  const watch = new StateWatcher(sim, verbose ? [c, e] : [c], print);
  watch.tables = verbose;
  const prevAfter = sim.afterEvent;
  try {
    // Configured: a preferred global address (DAD done) and the RDNSS server.
    const global = (b: Board) => b.ipv6Addresses().find((x) => x.state === "preferred" && x.scopeid === 0)?.address;
    for (const { board, host } of boards) {
      if (!sim.runUntil(() => global(board) !== undefined && board.ipv6DnsServers().length > 0, { timeout: 30_000 }))
        throw new Error(`${board.name}: no SLAAC address and RDNSS server within 30 s`);
      out.addresses[board.name] = board.ipv6Addresses().map((x) => x.address);
      out.dnsServers[board.name] = board.ipv6DnsServers().map((x) => x.address);
      const addr = global(board)!;
      const ll = board.ipv6Addresses().find((x) => x.scopeid === 1)?.address ?? "(none)";
      // SLAAC has no lease to learn a name from: the zone gets a host record, as dnsmasq's
      // --host-record would.
      dnsd.records.set(`${host}.${ZONE}`, [addr]);
      print(`${t()} ${board.name}: ${ll} (link-local), ${addr}/64 (SLAAC), dns ${out.dnsServers[board.name].join(", ")} (RDNSS); dnsd: ${host}.${ZONE} AAAA ${addr}`);
    }
    const echoName = `echo.${ZONE}`;
    const eAddr = await resolve(sim, c, echoName, print, out.resolved, 6);
    print("");
    const pings = pingRun(sim, c, echoName, eAddr, { count: V6_PINGS, size: 56, interval: 1000, wait: 2000 }, print);
    out.pings = { transmitted: V6_PINGS, received: pings.received };

    print("");
    print(`${t()} C: connect(('${echoName}', ${ECHO_PORT})): the echo service on E, by name over IPv6`);
    sim.afterEvent = () => watch.check();
    const sock = c.net.connect({ host: echoName, port: ECHO_PORT });
    let echoed = "";
    sock.setEncoding("latin1");
    sock.on("lookup", (err: Error | null, address: string, family: number) => {
      if (!err) out.connect = { address, family };
    });
    sock.on("data", (d: string) => (echoed += d));
    sock.on("connect", () => {
      out.local = `[${sock.localAddress}]:${sock.localPort}`;
      print(`${t()} C: connected from ${out.local} to [${sock.remoteAddress}]:${sock.remotePort} (${sock.remoteFamily}); sending ${JSON.stringify(V6_MESSAGE)}`);
      sock.end(V6_MESSAGE);
    });
    sock.on("end", () => {
      out.echoed = echoed;
      print(`${t()} C: received ${JSON.stringify(echoed)} (echoed by E)`);
    });
    await sim.runUntilSettled(once(sock, "close"), { timeout: 30_000 });
    for (const l of formatTcpTable(e)) print(`    E: ${l}`);
    await sim.runUntilAsync(sim.now + 100);
    out.ok = out.echoed === V6_MESSAGE && pings.received > 0 && out.connect?.family === 6;
  } catch (err) {
    out.error = err instanceof Error ? err.message : String(err);
    print(`${t()} ipv6: failed: ${out.error}`);
  } finally {
    sim.afterEvent = prevAfter;
  }
  return out;
}

// ---- The TCP part ------------------------------------------------------------------------------

const STORY_PORT = 54321;
/** A firmware image built by `make build`: the core plus one app. */
const firmware = (app: string): string => path.join(ROOT, "build", `${app}.wasm`);
const GREETING = "Thank you for connecting\n";

/** Prints a line per connection whose state changed, and (when `tables`) both boards' tables. */
class StateWatcher {
  private last = new Map<string, Map<string, string>>();
  readonly seen: string[] = [];
  tables = true;

  constructor(
    private readonly sim: Simulator,
    private readonly boards: Board[],
    private readonly print: (line: string) => void,
  ) {
    for (const b of boards) this.last.set(b.name, this.snapshot(b));
  }

  private snapshot(b: Board): Map<string, string> {
    const m = new Map<string, string>();
    for (const r of b.tcpTable()) {
      const { local, foreign } = tcpEndpoints(r);
      m.set(`${local} ${foreign}`, r.state);
    }
    return m;
  }

  private see(state: string): void {
    if (!this.seen.includes(state)) this.seen.push(state);
  }

  /** Compare with the last look; print what changed. */
  check(): void {
    const changes: string[] = [];
    for (const b of this.boards) {
      const before = this.last.get(b.name)!;
      const now = this.snapshot(b);
      for (const [k, st] of now) {
        const old = before.get(k);
        if (old !== st) changes.push(`${b.name} ${k.replace(" ", " <-> ")}: ${old ?? "CLOSED"} -> ${st}`);
        if (!old) this.see("CLOSED");
        this.see(st);
      }
      for (const [k, st] of before)
        if (!now.has(k)) {
          changes.push(`${b.name} ${k.replace(" ", " <-> ")}: ${st} -> CLOSED`);
          this.see("CLOSED");
        }
      this.last.set(b.name, now);
    }
    if (changes.length === 0) return;
    for (const c of changes) this.print(`[${fmtTime(this.sim.now)} ms] tcp: ${c}`);
    if (this.tables)
      for (const b of this.boards) {
        const lines = formatTcpTable(b);
        if (lines.length === 1) this.print(`    ${b.name}: (no connections)`);
        else for (const [i, l] of lines.entries()) this.print(`    ${i === 0 ? `${b.name}:` : "  "} ${l}`);
      }
  }
}

async function tcpStory(
  sim: Simulator,
  a: Board,
  g: Board,
  h: Board,
  print: (line: string) => void,
  link: { delay: number; jitter: number },
  boot: BootSummary,
  tables: boolean,
): Promise<TcpStorySummary> {
  const out: TcpStorySummary = { greeting: null, connectionFrom: null, statesSeen: [], httpStatus: null, httpBodyBytes: 0, ok: false };
  const t = () => `[${fmtTime(sim.now)} ms]`;
  print("");
  // The story is about TCP's states, not about loss: A's link is clean from here on.
  sim.linkOf(a).setImpairments(link);
  const greeterName = `greeter.${ZONE}`;
  const webName = `web.${ZONE}`;
  print(`--- TCP: the seed's server (firmware greeter) on G ${greeterName}:${STORY_PORT}, a client on A ---`);
  print(`links A, G, H: ${fmtImpairments(sim.linkOf(a).toSwitch.impairments)} (each direction) for the TCP part`);
  const watch = new StateWatcher(sim, [a, g], print);
  watch.tables = tables;
  sim.afterEvent = () => watch.check();
  const prevLog = sim.onLog;
  sim.onLog = (e) => {
    const m = /^Got connection from (\('[\d.]+', \d+\))$/.exec(e.msg);
    if (e.board === "G" && m) out.connectionFrom = m[1];
    prevLog?.(e);
  };
  try {
    watch.check(); // G's listener (the app listens at start)
    const gIp = await resolve(sim, a, greeterName, print, boot.resolved);
    print(`${t()} A: connect(('${gIp}', ${STORY_PORT}))`);
    const c = a.net.connect({ host: gIp, port: STORY_PORT });
    watch.check();
    let greeting = "";
    c.setEncoding("latin1");
    c.on("data", (d: string) => (greeting += d));
    c.on("connect", () => print(`${t()} A: connected from ${boot.leases[a.name]}:${c.localPort}`));
    c.on("end", () => {
      out.greeting = greeting;
      print(`${t()} A: received ${JSON.stringify(greeting)}; closing`);
    });
    await sim.runUntilSettled(once(c, "close"), { timeout: 30_000 });
    // The side that closed first (the server) waits 2 MSL in TIME-WAIT; run until it is gone
    // and only the listener is left.
    await sim.runUntilAsync(() => a.tcpTable().length === 0 && g.tcpTable().every((r) => r.state === "LISTEN"), { timeout: 120_000 });
    watch.check();

    print("");
    print(`--- HTTP: A fetches http://${webName}/ from the firmware http app on H ---`);
    watch.tables = false;
    const hIp = await resolve(sim, a, webName, print, boot.resolved);
    const hc = a.net.connect({ host: hIp, port: 80 });
    let response = "";
    hc.setEncoding("latin1");
    hc.on("data", (d: string) => (response += d));
    hc.write(`GET / HTTP/1.1\r\nHost: ${webName}\r\nUser-Agent: wasmip-demo\r\nConnection: close\r\n\r\n`);
    await sim.runUntilSettled(once(hc, "close"), { timeout: 30_000 });
    const headEnd = response.indexOf("\r\n\r\n");
    out.httpStatus = response.slice(0, response.indexOf("\r\n"));
    out.httpBodyBytes = headEnd >= 0 ? response.length - headEnd - 4 : 0;
    print(`${t()} A: ${out.httpStatus} (${out.httpBodyBytes} bytes of body)`);
    for (const l of formatTcpTable(h)) print(`    H: ${l}`);
    await sim.runUntilAsync(sim.now + 100);
    out.ok = out.greeting === GREETING && out.httpStatus === "HTTP/1.1 200 OK" && out.connectionFrom !== null;
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
    print(`${t()} tcp: failed: ${out.error}`);
  } finally {
    sim.afterEvent = undefined;
    sim.onLog = prevLog;
  }
  out.statesSeen = watch.seen;
  print(`TCP states seen: ${watch.seen.join(" ")}`);
  return out;
}
