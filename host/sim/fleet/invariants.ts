// The invariants of a finished fleet run: every board up with its own address (its lease, for a
// DHCP board) and its name in the zone, every task finished and ok, every board's counters equal
// to what its link delivered and took, switch totals that add up, and frames conserved on every
// link direction. Each is "all"/"yes" or a short list of what broke.
import { ipToU32 } from "../../board/address.ts";
import type { Board } from "../../board/board.ts";
import { DHCP_STATES } from "../../board/dhcp.ts";
import type { SimDhcpServer } from "../services/dhcpd.ts";
import type { SimDnsServer } from "../services/dnsd.ts";
import type { Simulator } from "../sim.ts";
import type { BoardSummary, FleetInvariants } from "./summary.ts";
import type { Topology } from "./topology.ts";

const DHCP_LEASED = new Set(["BOUND", "RENEWING", "REBINDING"].map((s) => DHCP_STATES.indexOf(s as (typeof DHCP_STATES)[number])));

/** What the checks read of a finished run (Fleet, fleet.ts). */
export interface FleetRun {
  readonly sim: Simulator;
  readonly topo: Topology;
  readonly boards: readonly { readonly board?: Board }[];
  readonly dhcpd?: SimDhcpServer;
  readonly dnsd?: SimDnsServer;
}

/** "all" / "yes", or a short list of what broke (at most 8 named, then a count). */
function verdict(bad: string[], good: "all" | "yes"): string {
  if (bad.length === 0) return good;
  return `${bad.length} failed: ${bad.slice(0, 8).join("; ")}${bad.length > 8 ? `; and ${bad.length - 8} more` : ""}`;
}

export function checkInvariants(fleet: FleetRun, boards: BoardSummary[]): FleetInvariants {
  const { sim, topo } = fleet;
  const notUp: string[] = [];
  const byAddr = new Map<string, string[]>();
  const dnsBad: string[] = [];
  const unfinished: string[] = [];
  const failed: string[] = [];
  const counters: string[] = [];
  const frames: string[] = [];
  for (const [i, b] of boards.entries()) {
    const fb = fleet.boards[i];
    if (b.address === null) notUp.push(`${b.name} not up${b.dhcpState ? ` (DHCP ${b.dhcpState})` : fb.board ? "" : " (never powered on)"}`);
    else if (b.dhcp) {
      const a = ipToU32(b.address);
      const lease = fleet.dhcpd?.leaseOf(b.mac);
      if (!DHCP_LEASED.has(DHCP_STATES.indexOf(b.dhcpState as (typeof DHCP_STATES)[number]))) notUp.push(`${b.name} lost its lease (DHCP ${b.dhcpState})`);
      else if (!lease || lease.ip !== b.address || a < topo.dhcp!.poolStart || a > topo.dhcp!.poolEnd) notUp.push(`${b.name} has ${b.address}, which is not its lease`);
    }
    if (b.address !== null) byAddr.set(b.address, [...(byAddr.get(b.address) ?? []), b.name]);
    if (b.address !== null && fleet.dnsd && topo.dns) {
      const rec = fleet.dnsd.records.get(`${b.name}.${topo.dns.zone}`);
      if (!rec || rec.length !== 1 || rec[0] !== b.address) dnsBad.push(`${b.name}.${topo.dns.zone} -> ${rec?.join(",") ?? "nothing"}, board has ${b.address}`);
    }
    for (const [ti, t] of b.tasks.entries()) {
      const label = `${b.name} do[${ti}] ${t.kind} ${t.target}`;
      if (t.state !== "finished") unfinished.push(`${label}: ${t.state}${t.runs.length ? ` (${t.runs.filter((r) => r.end !== undefined).length}/${t.kind === "ping" || t.kind === "udp" ? 1 : t.planned} runs)` : ""}`);
      else if (!t.ok) failed.push(`${label}: ${t.runs.filter((r) => !r.ok).map((r) => r.detail).join(", ")}`);
    }
    const board = fb.board;
    if (board) {
      const link = sim.linkOf(board);
      const rx = board.rxAccounted();
      if (rx !== link.fromSwitch.stats.delivered) counters.push(`${b.name}: rx counters ${rx} != ${link.fromSwitch.stats.delivered} frames delivered`);
      const tx = board.counters().tx_frames;
      if (tx !== undefined && tx !== link.toSwitch.stats.offered) counters.push(`${b.name}: tx_frames ${tx} != ${link.toSwitch.stats.offered} frames sent`);
    }
  }
  const clashes = [...byAddr].filter(([, n]) => n.length > 1).map(([a, n]) => `${a}: ${n.join(", ")}`);
  // Every frame a switch received came out of one of its links, and was forwarded, flooded, filtered or a runt.
  for (const sw of sim.switches) {
    let inbound = 0;
    for (const p of sw.ports) {
      const t = sim.trunks.find((x) => x.link === p.link);
      inbound += t ? (t.a === sw ? t.bToA : t.aToB).stats.delivered : p.link.toSwitch.stats.delivered;
    }
    const st = sw.stats;
    if (inbound !== st.received) counters.push(`switch ${sw.name}: received ${st.received} != ${inbound} frames its links delivered`);
    if (st.received !== st.forwarded + st.flooded + st.filtered + st.runts) counters.push(`switch ${sw.name}: received != forwarded + flooded + filtered + runts`);
  }
  for (const sw of sim.switches)
    for (const p of sw.ports) {
      const t = sim.trunks.find((x) => x.link === p.link);
      if (t && t.b === sw) continue; // each trunk once
      for (const d of [p.link.toSwitch, p.link.fromSwitch]) {
        const s = d.stats;
        if (s.offered + s.duplicated !== s.delivered + s.lost + s.mtuDropped + s.unplugged + d.inFlight) frames.push(`${d.name}: ${s.offered} + ${s.duplicated} dup != ${s.delivered} + ${s.lost} lost + ${s.mtuDropped} mtu + ${s.unplugged} unplugged + ${d.inFlight} in flight`);
      }
    }
  return {
    boardsUp: verdict(notUp, "all"),
    addressesUnique: verdict(clashes, "yes"),
    dnsNames: fleet.dnsd ? verdict(dnsBad, "all") : "all",
    tasksFinished: verdict(unfinished, "all"),
    tasksOk: verdict(failed, "all"),
    countersConsistent: verdict(counters, "yes"),
    framesConserved: verdict(frames, "yes"),
  };
}
