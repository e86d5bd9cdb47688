// The status file of `wasmip tap`: while it runs, /run/wasmip/<netns>.json holds the board's
// connection table and counters, rewritten when they change; `wasmip netstat` reads and prints it
// like netstat -tn and netstat -s.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ipToU32, u32ToIp } from "../board/address.ts";
import type { Board, TcpTableRow } from "../board/board.ts";
import { formatCounters, formatTcpTable } from "../board/netstat.ts";

export const STATUS_DIR = process.env.WASMIP_STATUS_DIR ?? "/run/wasmip";
/** The status file is rewritten at most this often (and only when something changed). */
export const STATUS_INTERVAL_MS = 200;

export function statusPath(netns: string): string {
  return path.join(STATUS_DIR, `${netns}.json`);
}

export interface StatusConnection {
  state: string;
  /** A dotted quad, or an IPv6 connection's address in RFC 5952 text (remoteIp too). */
  localIp: string;
  localPort: number;
  remoteIp: string;
  remotePort: number;
  sendQ: number;
  recvQ: number;
}

export interface TapStatus {
  netns: string;
  /** "image FILE" or "image FILE (app NAME)". */
  image: string;
  board: string;
  peer: string;
  pid: number;
  updated: string;
  connections: StatusConnection[];
  /** Non-zero counters only. */
  counters: Record<string, number>;
}

/** Writes a board's TapStatus to a file whenever it changed, at most every STATUS_INTERVAL_MS. */
export class StatusFile {
  private timer: NodeJS.Timeout | undefined;
  private last = "";
  writes = 0;

  constructor(
    readonly file: string,
    private readonly board: Board,
    private readonly meta: { netns: string; image: string; board: string; peer: string },
  ) {}

  snapshot(): Omit<TapStatus, "updated"> {
    const counters: Record<string, number> = {};
    for (const [k, v] of Object.entries(this.board.counters())) if (v) counters[k] = v;
    return {
      ...this.meta,
      pid: process.pid,
      connections: this.board.tcpTable().map((r) => ({
        state: r.state,
        localIp: r.localIp6 ?? u32ToIp(r.localIp),
        localPort: r.localPort,
        remoteIp: r.remoteIp6 ?? u32ToIp(r.remoteIp),
        remotePort: r.remotePort,
        sendQ: r.sendQ,
        recvQ: r.recvQ,
      })),
      counters,
    };
  }

  /** Write the file now if anything changed since the last write. */
  update(): void {
    const snap = this.snapshot();
    const key = JSON.stringify(snap);
    if (key === this.last) return;
    this.last = key;
    const body = JSON.stringify({ ...snap, updated: new Date().toISOString() }, null, 2) + "\n";
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, body);
    renameSync(tmp, this.file); // readers never see half a file
    this.writes++;
  }

  start(): void {
    this.update();
    this.timer = setInterval(() => {
      try {
        this.update();
      } catch {
        // A full disk must not stop the board; the next tick tries again.
      }
    }, STATUS_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stop updating and remove the file. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    rmSync(this.file, { force: true });
    rmSync(`${this.file}.${process.pid}.tmp`, { force: true });
  }
}

/** Read a status file; throws a readable error when it is missing. */
export function readStatus(netns: string): TapStatus {
  const file = statusPath(netns);
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch {
    throw new Error(`no status for namespace ${netns} (${file}): is \`wasmip tap --netns ${netns}\` running?`);
  }
  return JSON.parse(text) as TapStatus;
}

/** A status as netstat prints it: the connection table (-tn), then the non-zero counters (-s). */
export function formatStatus(st: TapStatus): string {
  const rows: TcpTableRow[] = st.connections.map((c) => {
    const v6 = c.localIp.includes(":");
    return {
      state: c.state as TcpTableRow["state"],
      localIp: v6 ? 0 : ipToU32(c.localIp),
      localPort: c.localPort,
      remoteIp: v6 ? 0 : ipToU32(c.remoteIp),
      remotePort: c.remotePort,
      sendQ: c.sendQ,
      recvQ: c.recvQ,
      ...(v6 ? { localIp6: c.localIp, remoteIp6: c.remoteIp } : {}),
    };
  });
  const lines = [
    `Board ${st.board} (${st.image}) in namespace ${st.netns}, kernel at ${st.peer}; updated ${st.updated}`,
    "Active Internet connections (servers and established)",
    ...formatTcpTable(rows),
    "",
    ...formatCounters(st.counters),
  ];
  return lines.join("\n") + "\n";
}
