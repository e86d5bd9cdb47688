// What a fleet run returns and `wasmip sim --topology --json` writes: per board its tasks' runs,
// counters and connection table; per link and switch its statistics; the run's invariants.
import type { TcpTableRow } from "../../board/board.ts";
import type { DirectionStats, Switch } from "../sim.ts";
import type { TaskSpec } from "./topology.ts";

export interface TaskRun {
  start: number; // virtual ms
  end?: number;
  ok: boolean;
  detail: string; // "200 OK, 261 bytes", "65536 bytes echoed", "4/4 replies", "ETIMEDOUT" ...
}

export interface TaskSummary {
  kind: TaskSpec["kind"];
  target: string;
  planned: number; // repetitions (fetch, bulk) or packets (ping, udp)
  state: "waiting" | "running" | "finished";
  runs: TaskRun[];
  ok: boolean; // finished and every run ok
  // ping and udp: packets
  sent?: number;
  received?: number;
  notSent?: number; // refused by the core (e.g. ENOBUFS while ARP resolves), counted in the run's detail
}

export interface BoardSummary {
  name: string;
  firmware: string;
  switch: string;
  mac: string;
  dhcp: boolean;
  address: string | null; // null: never up
  upAt: number | null; // virtual ms when it had its address
  dhcpState?: string;
  tasks: TaskSummary[];
  counters: Record<string, number>; // non-zero
  rxFrames: number; // frames its link delivered to it
  txFrames: number; // frames it put on its link
  rxDropped: number; // of the received frames, those the core dropped (counted by reason)
  tcp: TcpTableRow[];
  memoryUsed: number;
  memoryPages: number;
}

export interface LinkSummary {
  name: string;
  kind: "board" | "trunk" | "service";
  directions: Record<string, DirectionStats & { inFlight: number }>;
}

export interface FleetInvariants {
  boardsUp: string; // "all", or what is missing
  addressesUnique: string; // "yes" or the clashes
  dnsNames: string; // "all": every board's name resolves (in dnsd) to its address
  tasksFinished: string; // "all" or the unfinished ones
  tasksOk: string; // "all" or the failed ones
  countersConsistent: string; // "yes": each board's rx counters = frames delivered to it, tx_frames = frames it sent; switch totals add up
  framesConserved: string; // "yes": on every link direction offered + duplicated = delivered + lost + over-MTU + unplugged + in flight
}

export interface FleetSummary {
  file?: string;
  seed: number;
  duration: number;
  boards: BoardSummary[];
  switches: { name: string; ports: number; stats: Switch["stats"] }[];
  links: LinkSummary[];
  dhcp?: { server: string; leases: number };
  dns?: { server: string; zone: string; queries: number };
  events: number;
  wallMs: number;
  simSecondsPerWallSecond: number;
  pcapFrames: number;
  invariants: FleetInvariants;
  ok: boolean;
}
