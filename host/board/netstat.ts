// netstat for a board: the TCP connection table like `netstat -tn`, and the core's counters like
// `netstat -s`. Used by the sim demo and by a `wasmip netstat` command.
import { u32ToIp } from "./address.ts";
import { type Board, type TcpTableRow } from "./board.ts";

export const NETSTAT_HEADER = "Proto Recv-Q Send-Q Local Address           Foreign Address         State";

function endpoint(ip: number, port: number, wildcardPort: boolean): string {
  return `${ip === 0 && wildcardPort ? "*" : u32ToIp(ip)}:${wildcardPort && port === 0 ? "*" : port}`;
}

/** One table row as netstat -tn prints it. A listener shows 0.0.0.0:port and *:* (it takes IPv4
 *  and IPv6); an IPv6 connection is tcp6 with its addresses in RFC 5952 text, bracketed before the
 *  port as RFC 5952 §6 says ([fe80::2]:80). */
export function formatTcpRow(r: TcpTableRow): string {
  const { v6, local, foreign } = tcpEndpoints(r);
  return `${v6 ? "tcp6 " : "tcp  "} ${String(r.recvQ).padStart(6)} ${String(r.sendQ).padStart(6)} ${local.padEnd(23)} ${foreign.padEnd(23)} ${r.state}`;
}

/** A row's two ends as formatTcpRow prints them. */
export function tcpEndpoints(r: TcpTableRow): { v6: boolean; local: string; foreign: string } {
  const listener = r.remotePort === 0 && r.remoteIp === 0;
  const v6 = r.remoteIp6 !== undefined && r.localIp6 !== undefined;
  const local = v6 ? `[${r.localIp6}]:${r.localPort}` : `${u32ToIp(r.localIp)}:${r.localPort}`;
  const foreign = v6 ? `[${r.remoteIp6}]:${r.remotePort}` : listener ? "*:*" : endpoint(r.remoteIp, r.remotePort, false);
  return { v6, local, foreign };
}

/** The connection table of a board (or given rows) as lines, header first, like netstat -tn. */
export function formatTcpTable(rows: Board | TcpTableRow[]): string[] {
  const list = Array.isArray(rows) ? rows : rows.tcpTable();
  return [NETSTAT_HEADER, ...list.map(formatTcpRow)];
}

/** Group titles for counter name prefixes (the text before the first '_'). */
const GROUP_TITLES: Record<string, string> = {
  eth: "Ethernet",
  arp: "Arp",
  ip: "Ip",
  icmp: "Icmp",
  ping: "Ping",
  tcp: "Tcp",
  udp: "Udp",
  tx: "Tx",
  rx: "Rx",
};

/** Counters grouped by prefix, only the non-zero ones, in the core's order. */
export function groupCounters(counters: Record<string, number>): Map<string, [string, number][]> {
  const groups = new Map<string, [string, number][]>();
  for (const [name, value] of Object.entries(counters)) {
    if (!value) continue;
    const i = name.indexOf("_");
    const prefix = i > 0 ? name.slice(0, i) : name;
    const rest = i > 0 ? name.slice(i + 1) : name;
    let g = groups.get(prefix);
    if (!g) groups.set(prefix, (g = []));
    g.push([rest, value]);
  }
  return groups;
}

/** Like netstat -s: a title per prefix, then "    <value> <name in words>", non-zero only. */
export function formatCounters(counters: Board | Record<string, number>): string[] {
  const values = typeof (counters as Board).counters === "function" ? (counters as Board).counters() : (counters as Record<string, number>);
  const out: string[] = [];
  for (const [prefix, entries] of groupCounters(values)) {
    out.push(`${GROUP_TITLES[prefix] ?? prefix[0].toUpperCase() + prefix.slice(1)}:`);
    for (const [name, value] of entries) out.push(`    ${value} ${name.replace(/_/g, " ")}`);
  }
  return out;
}
