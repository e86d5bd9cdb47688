// Topology files for `wasmip sim --topology FILE`: a JSON description of a fleet (boards, switches,
// the trunk links between switches, impairments, the DHCP/DNS services, what each board does, the
// run length). parseTopology() validates it completely before anything runs and expands board
// groups ("count"), so a typo is a clear error with its path, never a silently ignored key.
// The format is documented in examples/README.md.
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { ipToU32, u32ToIp, prefixToMask } from "../../board/address.ts";
import { APPS, appImage } from "../../board/apps.ts";
import { DEFAULT_WASM } from "../../board/board.ts";
import { FirmwareError, firmwareExports } from "../../board/firmware.ts";
import type { Impairments, LinkOptions } from "../sim.ts";
import { TASK_EXPORTS } from "./tasks.ts";

export class TopologyError extends Error {}

/** Firmware images `make build` writes (build/<name>.wasm, host/board/apps.ts); "wasmip" is the bare core. */
export const KNOWN_FIRMWARE: readonly string[] = ["wasmip", ...APPS.filter((a) => !a.hostOnly).map((a) => a.name)];

export interface SubnetSpec {
  network: number; // u32
  prefix: number;
  mask: number;
  broadcast: number;
}

export interface DhcpSpec {
  server: number;
  poolStart: number;
  poolEnd: number;
  leaseSecs: number;
}

export interface DnsSpec {
  server: number;
  zone: string;
  ttl: number;
}

export interface TrunkSpec {
  name: string;
  a: string;
  b: string;
  link: LinkOptions; // toSwitch = b -> a, fromSwitch = a -> b (Simulator.addTrunk)
}

interface TaskBase {
  at: number; // ms after the board is up (leased, or booted with a static address)
  spread: number; // ms: each board adds a uniform random [0, spread) to `at`, from its own PRNG stream
  count: number;
  every: number; // ms between starts (fetch, bulk) or between packets (ping, udp)
}

export type TaskSpec =
  | (TaskBase & { kind: "fetch"; host: string; port: number; path: string; url: string })
  | (TaskBase & { kind: "bulk"; host: string; port: number; bytes: number })
  | (TaskBase & { kind: "ping"; host: string; size: number; wait: number })
  | (TaskBase & { kind: "udp"; host: string; port: number; size: number; wait: number; send?: string; expect?: string })
  | (TaskBase & { kind: "tcp"; host: string; port: number; send: string; expect?: string; wait: number });

export interface BoardSpec {
  name: string; // also its DHCP host name and DNS label
  where: string; // its entry in the file, for messages: "boards[2]" or "boards[2] (sensor-03)"
  firmware: string; // the image's short name or the path given
  wasm: string; // absolute path of the image
  switch: string;
  mac: string;
  address: number | "dhcp"; // static address (u32) or DHCP
  link: LinkOptions; // toSwitch = board -> switch ("up"), fromSwitch = switch -> board ("down")
  boot: number; // ms of virtual time when it powers on
  bootSpread: number; // plus a uniform random [0, bootSpread) from its own PRNG stream
  tasks: TaskSpec[];
}

export interface Topology {
  file?: string;
  description?: string;
  seed: number;
  duration: number; // virtual ms
  subnet: SubnetSpec;
  dhcp?: DhcpSpec;
  dns?: DnsSpec;
  switches: string[]; // the first one also holds the DHCP and DNS servers
  trunks: TrunkSpec[];
  boards: BoardSpec[];
  warnings: string[];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Obj = { [k: string]: Json };

const fail = (where: string, msg: string): never => {
  throw new TopologyError(`${where}: ${msg}`);
};

function isObj(v: Json | undefined): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function obj(v: Json | undefined, where: string): Obj {
  if (!isObj(v)) fail(where, `expected an object, got ${describe(v)}`);
  return v as Obj;
}

function describe(v: Json | undefined): string {
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  if (v === null) return "null";
  return typeof v === "string" ? `"${v}"` : typeof v === "object" ? "an object" : String(v);
}

/** Refuse keys outside `allowed` ("comment" is always allowed and ignored). */
function keys(o: Obj, where: string, allowed: readonly string[]): void {
  for (const k of Object.keys(o))
    if (k !== "comment" && !allowed.includes(k)) fail(where, `unknown key "${k}" (allowed: ${allowed.join(", ")})`);
}

function str(v: Json | undefined, where: string): string {
  if (typeof v !== "string" || v === "") fail(where, `expected a non-empty string, got ${describe(v)}`);
  return v as string;
}

function int(v: Json | undefined, where: string, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) fail(where, `expected an integer in ${min}..${max}, got ${describe(v)}`);
  return v as number;
}

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/** A duration: a number of ms, or a string with a unit: "250ms", "2s", "1.5m", "1h". */
export function parseDuration(v: Json | undefined, where: string): number {
  if (typeof v === "number" && Number.isFinite(v) && v >= 0) return v;
  if (typeof v === "string") {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?\s*$/.exec(v);
    if (m) return Number(m[1]) * UNITS[m[2] ?? "ms"];
  }
  return fail(where, `expected a duration (ms, or a string like "500ms", "2s", "1.5m", "1h"), got ${describe(v)}`);
}

/** A probability: 0..1, or a percentage string like "5%". */
function probability(v: Json | undefined, where: string): number {
  let p = NaN;
  if (typeof v === "number") p = v;
  else if (typeof v === "string" && /^\s*\d+(\.\d+)?\s*%\s*$/.test(v)) p = Number(v.trim().slice(0, -1)) / 100;
  if (!(p >= 0 && p <= 1)) fail(where, `expected a probability in 0..1 or a percentage like "5%", got ${describe(v)}`);
  return p;
}

function ip(v: Json | undefined, where: string): number {
  const s = str(v, where);
  try {
    return ipToU32(s);
  } catch {
    return fail(where, `expected an IPv4 address like 10.0.0.2, got "${s}"`);
  }
}

const IMPAIRMENT_KEYS = ["loss", "duplicate", "reorder", "reorderDelay", "delay", "jitter", "corrupt", "mtu"] as const;

function impairments(o: Obj, where: string): Impairments {
  const im: Impairments = {};
  for (const k of ["loss", "duplicate", "reorder", "corrupt"] as const) if (o[k] !== undefined) im[k] = probability(o[k], `${where}.${k}`);
  for (const k of ["reorderDelay", "delay", "jitter"] as const) if (o[k] !== undefined) im[k] = parseDuration(o[k], `${where}.${k}`);
  if (o.mtu !== undefined) im.mtu = int(o.mtu, `${where}.mtu`, 68, 65535);
  return im;
}

/** A link's impairments, both directions, with per-direction overrides under `dirs`. */
function linkOptions(v: Json | undefined, where: string, dirs: [toSwitch: string, fromSwitch: string], extra: readonly string[] = []): LinkOptions {
  if (v === undefined) return { delay: 1 };
  const o = obj(v, where);
  keys(o, where, [...IMPAIRMENT_KEYS, ...dirs, ...extra]);
  const both = impairments(o, where);
  const out: LinkOptions = { delay: 1, ...both };
  const [up, down] = dirs;
  if (o[up] !== undefined) {
    const d = obj(o[up], `${where}.${up}`);
    keys(d, `${where}.${up}`, IMPAIRMENT_KEYS);
    out.toSwitch = impairments(d, `${where}.${up}`);
  }
  if (o[down] !== undefined) {
    const d = obj(o[down], `${where}.${down}`);
    keys(d, `${where}.${down}`, IMPAIRMENT_KEYS);
    out.fromSwitch = impairments(d, `${where}.${down}`);
  }
  return out;
}

function subnet(v: Json | undefined, where: string): SubnetSpec {
  const s = str(v, where);
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(s);
  if (!m) fail(where, `expected a subnet like 10.0.0.0/16, got "${s}"`);
  const prefix = Number(m![2]);
  if (prefix < 8 || prefix > 30) fail(where, `prefix length must be 8..30, got /${prefix}`);
  const mask = prefixToMask(prefix);
  const network = (ip(m![1], where) & mask) >>> 0;
  if (network !== ipToU32(m![1])) fail(where, `${m![1]} is not the network address of a /${prefix} (did you mean ${u32ToIp(network)}/${prefix}?)`);
  return { network, prefix, mask, broadcast: (network | ~mask) >>> 0 };
}

function inSubnet(sn: SubnetSpec, a: number): boolean {
  return ((a & sn.mask) >>> 0) === sn.network && a !== sn.network && a !== sn.broadcast;
}

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const SWITCH_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}$/;

function target(v: Json | undefined, where: string, withPort: boolean, defPort?: number): { host: string; port: number } {
  const s = str(v, where);
  const m = /^([^:\s]+)(?::(\d+))?$/.exec(s);
  if (!m || (!withPort && m[2] !== undefined)) fail(where, `expected ${withPort ? "NAME[:PORT]" : "a name or address"}, got "${s}"`);
  const port = m![2] !== undefined ? Number(m![2]) : defPort;
  if (withPort && (port === undefined || port < 1 || port > 65535)) fail(where, `expected a port 1..65535 in "${s}" (NAME:PORT)`);
  return { host: m![1].toLowerCase(), port: port ?? 0 };
}

function parseUrl(v: Json | undefined, where: string): { host: string; port: number; path: string; url: string } {
  const s = str(v, where);
  const m = /^http:\/\/([^/:\s]+)(?::(\d+))?(\/[^\s]*)?$/.exec(s);
  if (!m) fail(where, `expected a URL like http://web.fleet/ (http only, no user or fragment), got "${s}"`);
  const port = m![2] ? Number(m![2]) : 80;
  if (port < 1 || port > 65535) fail(where, `bad port in "${s}"`);
  return { host: m![1].toLowerCase(), port, path: m![3] ?? "/", url: s };
}

const TASK_KINDS = ["fetch", "bulk", "ping", "udp", "tcp"] as const;

/** `send`/`expect` bytes: a JSON string, each character one byte (\u0000-\u00ff for any byte). */
function bytes(v: Json | undefined, where: string, max: number): string {
  if (typeof v !== "string" || v === "") fail(where, `expected a non-empty string (\\u00XX escapes for any byte), got ${describe(v)}`);
  const s = v as string;
  if ([...s].some((ch) => ch.charCodeAt(0) > 0xff)) fail(where, "one byte per character: use \\u0000-\\u00ff (UTF-8 text as its bytes)");
  if (s.length > max) fail(where, `at most ${max} bytes, got ${s.length}`);
  return s;
}

function task(v: Json | undefined, where: string): TaskSpec {
  const o = obj(v, where);
  const kinds = TASK_KINDS.filter((k) => o[k] !== undefined);
  if (kinds.length !== 1) fail(where, `a task names exactly one of ${TASK_KINDS.join(", ")} (got ${kinds.length ? kinds.join(" and ") : "none"})`);
  const kind = kinds[0];
  const common = ["at", "spread", "count", "every"];
  const base: TaskBase = {
    at: o.at === undefined ? 0 : parseDuration(o.at, `${where}.at`),
    spread: o.spread === undefined ? 0 : parseDuration(o.spread, `${where}.spread`),
    count: o.count === undefined ? (kind === "ping" || kind === "udp" ? 4 : 1) : int(o.count, `${where}.count`, 1, 1_000_000),
    every: o.every === undefined ? 1000 : parseDuration(o.every, `${where}.every`),
  };
  if (base.every <= 0 && base.count > 1) fail(`${where}.every`, "must be > 0 when count > 1");
  switch (kind) {
    case "fetch": {
      keys(o, where, ["fetch", ...common]);
      return { kind, ...base, ...parseUrl(o.fetch, `${where}.fetch`) };
    }
    case "bulk": {
      keys(o, where, ["bulk", "bytes", ...common]);
      const t = target(o.bulk, `${where}.bulk`, true, 7);
      return { kind, ...base, ...t, bytes: o.bytes === undefined ? 65536 : int(o.bytes, `${where}.bytes`, 1, 0xffffffff) };
    }
    case "ping": {
      keys(o, where, ["ping", "size", "wait", ...common]);
      const t = target(o.ping, `${where}.ping`, false);
      return {
        kind, ...base, host: t.host,
        size: o.size === undefined ? 56 : int(o.size, `${where}.size`, 0, 1472),
        wait: o.wait === undefined ? 2000 : parseDuration(o.wait, `${where}.wait`),
      };
    }
    case "udp": {
      keys(o, where, ["udp", "size", "wait", "send", "expect", ...common]);
      const t = target(o.udp, `${where}.udp`, true, 7);
      if (o.expect !== undefined && o.send === undefined) fail(`${where}.expect`, "needs send (what the service answers)");
      if (o.send !== undefined && o.size !== undefined) fail(`${where}.size`, "the datagram is send's bytes: leave size out");
      const send = o.send === undefined ? undefined : bytes(o.send, `${where}.send`, 1472);
      return {
        kind, ...base, ...t,
        size: send !== undefined ? send.length : o.size === undefined ? 32 : int(o.size, `${where}.size`, 16, 1472),
        wait: o.wait === undefined ? 2000 : parseDuration(o.wait, `${where}.wait`),
        send,
        expect: o.expect === undefined ? undefined : bytes(o.expect, `${where}.expect`, 1472),
      };
    }
    case "tcp": {
      keys(o, where, ["tcp", "send", "expect", "wait", ...common]);
      const t = target(o.tcp, `${where}.tcp`, true);
      return {
        kind, ...base, ...t,
        send: bytes(o.send, `${where}.send`, 4096),
        expect: o.expect === undefined ? undefined : bytes(o.expect, `${where}.expect`, 4096),
        wait: o.wait === undefined ? 5000 : parseDuration(o.wait, `${where}.wait`),
      };
    }
  }
}

/** "sensor-{i}" or "s{i:3}" for board i of a group (1-based). */
function expandName(tpl: string, i: number): string {
  return tpl.replace(/\{i(?::(\d+))?\}/g, (_, w: string | undefined) => String(i).padStart(w ? Number(w) : 0, "0"));
}

/** A known image's name, or any other string as a path relative to the topology file. */
function firmwarePath(name: string, baseDir: string): string {
  if (name === "wasmip") return DEFAULT_WASM;
  if (KNOWN_FIRMWARE.includes(name)) return appImage(name);
  if (!/[/.]/.test(name)) throw new TopologyError(`unknown firmware "${name}": one of ${KNOWN_FIRMWARE.join(", ")}, or a path to an image (relative to the topology file)`);
  return path.resolve(baseDir, name);
}

/** The MAC of board n (0-based) when the file gives none: locally administered, 02:fe:<n as 32 bits>. */
export function autoMac(n: number): string {
  return ["02", "fe", ...[24, 16, 8, 0].map((s) => ((n >>> s) & 255).toString(16).padStart(2, "0"))].join(":");
}

/** Validate and expand a parsed topology file. `baseDir` resolves firmware paths. */
export function parseTopology(json: unknown, baseDir = process.cwd(), file?: string): Topology {
  const top = obj(json as Json, "topology");
  keys(top, "topology", ["description", "seed", "duration", "network", "switches", "links", "boards"]);
  const warnings: string[] = [];
  const seed = top.seed === undefined ? 1 : int(top.seed, "seed", 0, 0xffffffff);
  if (top.duration === undefined) fail("duration", "the run length in virtual time is required (e.g. \"60s\")");
  const duration = parseDuration(top.duration, "duration");
  if (duration <= 0 || duration > 7 * 24 * 3_600_000) fail("duration", `must be more than 0 and at most a week, got ${duration} ms`);

  // ---- network
  const net = top.network === undefined ? {} : obj(top.network, "network");
  keys(net, "network", ["subnet", "dhcp", "dns"]);
  const sn = subnet(net.subnet ?? "10.0.0.0/16", "network.subnet");
  const hostAt = (k: number) => (sn.network + k) >>> 0;
  const half = (sn.broadcast - sn.network + 1) / 2;
  let dhcp: DhcpSpec | undefined;
  if (net.dhcp !== false) {
    const d = net.dhcp === undefined ? {} : obj(net.dhcp, "network.dhcp");
    keys(d, "network.dhcp", ["server", "pool", "lease"]);
    const server = d.server === undefined ? hostAt(2) : ip(d.server, "network.dhcp.server");
    let poolStart = (sn.network + half) >>> 0;
    let poolEnd = (sn.broadcast - 1) >>> 0;
    if (d.pool !== undefined) {
      const p = str(d.pool, "network.dhcp.pool");
      const m = /^\s*(\S+)\s*-\s*(\S+)\s*$/.exec(p);
      if (!m) fail("network.dhcp.pool", `expected FIRST-LAST like 10.0.128.1-10.0.255.254, got "${p}"`);
      poolStart = ip(m![1], "network.dhcp.pool");
      poolEnd = ip(m![2], "network.dhcp.pool");
    }
    if (!inSubnet(sn, poolStart) || !inSubnet(sn, poolEnd) || poolEnd < poolStart) fail("network.dhcp.pool", `${u32ToIp(poolStart)}-${u32ToIp(poolEnd)} is not a range of host addresses inside ${u32ToIp(sn.network)}/${sn.prefix}`);
    if (!inSubnet(sn, server)) fail("network.dhcp.server", `${u32ToIp(server)} is not a host address in ${u32ToIp(sn.network)}/${sn.prefix}`);
    if (server >= poolStart && server <= poolEnd) fail("network.dhcp.server", `${u32ToIp(server)} is inside the pool`);
    const leaseSecs = d.lease === undefined ? 3600 : Math.round(parseDuration(d.lease, "network.dhcp.lease") / 1000);
    if (leaseSecs < 10) fail("network.dhcp.lease", "must be at least 10 s");
    dhcp = { server, poolStart, poolEnd, leaseSecs };
  }
  let dns: DnsSpec | undefined;
  if (net.dns !== false) {
    const d = net.dns === undefined ? {} : obj(net.dns, "network.dns");
    keys(d, "network.dns", ["server", "zone", "ttl"]);
    const server = d.server === undefined ? hostAt(3) : ip(d.server, "network.dns.server");
    if (!inSubnet(sn, server)) fail("network.dns.server", `${u32ToIp(server)} is not a host address in ${u32ToIp(sn.network)}/${sn.prefix}`);
    if (dhcp && (server === dhcp.server || (server >= dhcp.poolStart && server <= dhcp.poolEnd))) fail("network.dns.server", `${u32ToIp(server)} is taken by the DHCP server or pool`);
    const zone = d.zone === undefined ? "fleet" : str(d.zone, "network.dns.zone").toLowerCase();
    if (!zone.split(".").every((l) => LABEL.test(l))) fail("network.dns.zone", `"${zone}" is not a domain name`);
    dns = { server, zone, ttl: d.ttl === undefined ? 300 : int(d.ttl, "network.dns.ttl", 0, 86400) };
  }

  // ---- switches and trunks
  let switches: string[] = ["sw0"];
  if (top.switches !== undefined) {
    if (!Array.isArray(top.switches) || top.switches.length === 0) fail("switches", "expected a non-empty array of switch names");
    switches = (top.switches as Json[]).map((s, i) => {
      const n = str(s, `switches[${i}]`);
      if (!SWITCH_NAME.test(n)) fail(`switches[${i}]`, `"${n}" is not a switch name (letters, digits, _ . -; at most 32)`);
      return n;
    });
    const dup = switches.find((s, i) => switches.indexOf(s) !== i);
    if (dup) fail("switches", `duplicate switch "${dup}"`);
  }
  const trunks: TrunkSpec[] = [];
  if (top.links !== undefined) {
    if (!Array.isArray(top.links)) fail("links", "expected an array of trunk links");
    (top.links as Json[]).forEach((l, i) => {
      const where = `links[${i}]`;
      const o = obj(l, where);
      const between = o.between;
      if (!Array.isArray(between) || between.length !== 2) fail(`${where}.between`, "expected two switch names");
      const [a, b] = (between as Json[]).map((s, j) => str(s, `${where}.between[${j}]`));
      for (const s of [a, b]) if (!switches.includes(s)) fail(`${where}.between`, `no switch "${s}" (switches: ${switches.join(", ")})`);
      if (a === b) fail(`${where}.between`, "a link joins two different switches");
      const name = o.name === undefined ? `${a}-${b}` : str(o.name, `${where}.name`);
      if (trunks.some((t) => t.name === name)) fail(`${where}.name`, `duplicate link name "${name}"`);
      const rest: Obj = { ...o };
      delete rest.between;
      delete rest.name;
      // "forward" is a -> b (the sim's fromSwitch), "back" is b -> a (toSwitch).
      trunks.push({ name, a, b, link: linkOptions(rest, where, ["back", "forward"]) });
    });
  }
  // A loop would flood forever (no spanning tree); Simulator.addTrunk refuses it too, but say it here with the file's words.
  const parent = new Map(switches.map((s) => [s, s]));
  const root = (s: string): string => (parent.get(s) === s ? s : root(parent.get(s)!));
  for (const t of trunks) {
    const ra = root(t.a);
    const rb = root(t.b);
    if (ra === rb) fail("links", `link ${t.name} closes a loop between the switches: the emulated switches run no spanning tree, so remove one link of the loop`);
    parent.set(ra, rb);
  }
  const islands = new Set(switches.map(root));
  if (islands.size > 1) warnings.push(`the switches form ${islands.size} separate networks (not joined by links): boards on a switch not joined to ${switches[0]} reach neither DHCP nor DNS`);

  // ---- boards
  if (!Array.isArray(top.boards) || top.boards.length === 0) fail("boards", "expected a non-empty array of boards");
  const boards: BoardSpec[] = [];
  const groups = top.boards as Json[];
  groups.forEach((g, gi) => {
    const where = `boards[${gi}]`;
    const o = obj(g, where);
    keys(o, where, ["name", "count", "firmware", "switch", "address", "mac", "link", "boot", "bootSpread", "do"]);
    const tpl = str(o.name, `${where}.name`);
    const count = o.count === undefined ? 1 : int(o.count, `${where}.count`, 1, 100_000);
    if (count > 1 && !/\{i(:\d+)?\}/.test(tpl)) fail(`${where}.name`, `a group of ${count} boards needs {i} in its name, like "sensor-{i}" or "s{i:3}"`);
    if (count > 1 && o.mac !== undefined) fail(`${where}.mac`, "a group of boards cannot share one MAC (leave it out: MACs are assigned)");
    const firmware = o.firmware === undefined ? "wasmip" : str(o.firmware, `${where}.firmware`);
    let wasm = "";
    try {
      wasm = firmwarePath(firmware, baseDir);
    } catch (e) {
      fail(`${where}.firmware`, (e as Error).message);
    }
    const sw = o.switch === undefined ? switches[0] : str(o.switch, `${where}.switch`);
    if (!switches.includes(sw)) fail(`${where}.switch`, `no switch "${sw}" (switches: ${switches.join(", ")})`);
    let first: number | "dhcp" = "dhcp";
    if (o.address !== undefined && o.address !== "dhcp") {
      first = ip(o.address, `${where}.address`);
    }
    const link = linkOptions(o.link, `${where}.link`, ["up", "down"]);
    const boot = o.boot === undefined ? 0 : parseDuration(o.boot, `${where}.boot`);
    const bootSpread = o.bootSpread === undefined ? 0 : parseDuration(o.bootSpread, `${where}.bootSpread`);
    if (boot + bootSpread >= duration) fail(`${where}.boot`, `the board would power on after the end of the run (${duration} ms)`);
    let tasks: TaskSpec[] = [];
    if (o.do !== undefined) {
      if (!Array.isArray(o.do)) fail(`${where}.do`, "expected an array of tasks");
      tasks = (o.do as Json[]).map((t, ti) => task(t, `${where}.do[${ti}]`));
      // The fetch and bulk apps run one transfer at a time (use count and every to repeat).
      for (const k of ["fetch", "bulk"] as const)
        if (tasks.filter((t) => t.kind === k).length > 1) fail(`${where}.do`, `at most one ${k} task per board (the ${k} firmware runs one at a time: repeat it with count and every)`);
    }
    let mac: string | undefined;
    if (o.mac !== undefined) {
      mac = str(o.mac, `${where}.mac`).toLowerCase();
      if (!/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac)) fail(`${where}.mac`, `expected a MAC like 02:00:00:00:00:01, got "${mac}"`);
      if (parseInt(mac.slice(0, 2), 16) & 1) fail(`${where}.mac`, `${mac} is a multicast address`);
    }
    for (let i = 1; i <= count; i++) {
      const name = expandName(tpl, i).toLowerCase();
      const w = count > 1 ? `${where} (${name})` : where;
      if (!LABEL.test(name)) fail(`${w}.name`, `"${name}" is not a host name (letters, digits and inner hyphens, at most 63): it is the board's DHCP host name and DNS label`);
      const address = first === "dhcp" ? "dhcp" : ((first + i - 1) >>> 0);
      boards.push({ name, where: w, firmware, wasm, switch: sw, mac: mac ?? autoMac(boards.length + 1), address, link, boot, bootSpread, tasks });
    }
  });

  // ---- cross checks
  const byName = new Map<string, BoardSpec>();
  for (const b of boards) {
    if (byName.has(b.name)) fail("boards", `two boards are named "${b.name}"`);
    byName.set(b.name, b);
  }
  const macs = new Map<string, string>();
  const reserved = new Map<number, string>();
  if (dhcp) reserved.set(dhcp.server, "the DHCP server");
  if (dns) reserved.set(dns.server, "the DNS server");
  for (const b of boards) {
    const other = macs.get(b.mac);
    if (other) fail("boards", `${b.name} and ${other} have the same MAC ${b.mac}`);
    macs.set(b.mac, b.name);
    if (b.address === "dhcp") {
      if (!dhcp) fail(`boards: ${b.name}`, "uses DHCP but network.dhcp is false");
      continue;
    }
    const a = b.address;
    if (!inSubnet(sn, a)) fail(`boards: ${b.name}`, `address ${u32ToIp(a)} is not a host address in ${u32ToIp(sn.network)}/${sn.prefix}`);
    if (dhcp && a >= dhcp.poolStart && a <= dhcp.poolEnd) fail(`boards: ${b.name}`, `static address ${u32ToIp(a)} is inside the DHCP pool ${u32ToIp(dhcp.poolStart)}-${u32ToIp(dhcp.poolEnd)}`);
    const taken = reserved.get(a);
    if (taken) fail(`boards: ${b.name}`, `address ${u32ToIp(a)} is already used by ${taken}`);
    reserved.set(a, b.name);
  }
  if (dhcp) {
    const want = boards.filter((b) => b.address === "dhcp").length;
    const size = dhcp.poolEnd - dhcp.poolStart + 1;
    if (want > size) fail("network.dhcp.pool", `${want} boards use DHCP but the pool has ${size} addresses`);
  }
  for (const b of boards)
    b.tasks.forEach((t, ti) => {
      const where = `boards: ${b.name}: do[${ti}] (${t.kind})`;
      let dst: BoardSpec | undefined;
      if (/^\d+\.\d+\.\d+\.\d+$/.test(t.host)) {
        ip(t.host, where);
      } else {
        if (!dns) fail(where, `${t.host} is a name but network.dns is false: give an address`);
        const suffix = `.${dns!.zone}`;
        const label = t.host.endsWith(suffix) ? t.host.slice(0, -suffix.length) : undefined;
        dst = label === undefined ? undefined : byName.get(label);
        if (!dst) fail(where, `${t.host} is not a board of this topology (names are <board>${suffix})`);
      }
      if (dst === b) warnings.push(`${where}: ${b.name} targets itself (over its loopback, never on a link)`);
      // Our images say what they serve; your own may serve anything.
      const known: { tcp?: number[]; udp?: number[] } | undefined = dst && (dst.firmware === "wasmip" ? {} : APPS.find((a) => a.name === dst.firmware));
      if (dst && known && (t.kind === "fetch" || t.kind === "bulk" || t.kind === "tcp") && !known.tcp?.includes(t.port))
        warnings.push(`${where}: ${dst.name} runs ${dst.firmware}, which does not listen on TCP ${t.port}`);
      if (dst && known && t.kind === "udp" && !known.udp?.includes(t.port))
        warnings.push(`${where}: ${dst.name} runs ${dst.firmware}, which does not answer UDP ${t.port}`);
    });
  return {
    file,
    description: top.description === undefined ? undefined : str(top.description, "description"),
    seed,
    duration,
    subnet: sn,
    dhcp,
    dns,
    switches,
    trunks,
    boards,
    warnings,
  };
}

/** Each board's image is a firmware image exporting what its tasks need (fetch tasks: the fetch
 *  image's fetch_start ...); checked before anything runs. Paths are shown as the file gave them. */
export function checkFirmware(topo: Topology): void {
  const prefix = topo.file ? `${topo.file}: ` : "";
  for (const b of topo.boards) {
    let ex: Set<string>;
    try {
      const where = `${prefix}${b.where}.firmware: ${b.firmware}${path.isAbsolute(b.firmware) || KNOWN_FIRMWARE.includes(b.firmware) ? "" : ` (${b.wasm})`}`;
      ex = firmwareExports(b.wasm, where);
    } catch (e) {
      if (!(e instanceof FirmwareError)) throw e;
      throw new TopologyError(`${e.message}${KNOWN_FIRMWARE.includes(b.firmware) && / no such file$/.test(e.message) ? " (make build writes it)" : ""}`);
    }
    b.tasks.forEach((t, i) => {
      const missing = TASK_EXPORTS[t.kind].filter((n) => !ex.has(n));
      if (missing.length)
        throw new TopologyError(
          `${prefix}${b.where}.do[${i}]: a ${t.kind} task needs ${t.kind === "fetch" || t.kind === "bulk" ? `the ${t.kind} firmware` : "an image"} exporting ${missing.join(", ")}; ${b.firmware} does not`,
        );
    });
    if (b.address === "dhcp" && !ex.has("dhcp_start")) throw new TopologyError(`${prefix}${b.where}: boots by DHCP, but ${b.firmware} has no DHCP client (dhcp_start): give it an address`);
  }
}

/** Read and validate a topology file (JSON). Errors name the file and the path inside it. */
export function loadTopology(file: string): Topology {
  if (!existsSync(file)) throw new TopologyError(`${file}: no such file`);
  const text = readFileSync(file, "utf8");
  if (/\.ya?ml$/i.test(file)) throw new TopologyError(`${file}: topology files are JSON (see examples/fleet.json); YAML is not supported`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TopologyError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  try {
    return parseTopology(json, path.dirname(path.resolve(file)), file);
  } catch (e) {
    if (e instanceof TopologyError) throw new TopologyError(`${file}: ${e.message}`);
    throw e;
  }
}
