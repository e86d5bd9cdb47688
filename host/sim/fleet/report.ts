// The printed report of a fleet run: a line per board, then (unless brief) each board's task runs,
// connection table and counters (board/netstat.ts), the switches, trunks and impaired links, and
// the invariants.
import { formatCounters, formatTcpTable } from "../../board/netstat.ts";
import type { DirectionStats } from "../sim.ts";
import type { FleetRun } from "./invariants.ts";
import type { FleetInvariants, FleetSummary, TaskSummary } from "./summary.ts";

function taskCell(t: TaskSummary): string {
  const done = t.runs.filter((r) => r.end !== undefined);
  if (t.kind === "ping" || t.kind === "udp") {
    if (t.state === "waiting") return `${t.kind} -`;
    return `${t.kind} ${t.received ?? 0}/${t.planned}${t.state === "running" ? "…" : t.ok ? "" : " FAIL"}`;
  }
  const ok = done.filter((r) => r.ok).length;
  return `${t.kind} ${ok}/${t.planned}${t.state === "running" ? "…" : t.state === "waiting" ? " -" : ok === done.length ? "" : " FAIL"}`;
}

function fmtDir(s: DirectionStats & { inFlight: number }): string {
  const extra = (["lost", "duplicated", "reordered", "corrupted", "mtuDropped", "inFlight"] as const)
    .filter((k) => s[k])
    .map((k) => `${s[k]} ${k === "mtuDropped" ? "over mtu" : k === "inFlight" ? "in flight" : k}`);
  return `${s.offered} offered, ${s.delivered} delivered${extra.length ? ", " + extra.join(", ") : ""}`;
}

export function report(s: FleetSummary, fleet: Pick<FleetRun, "boards">, print: (line: string) => void, brief: boolean): void {
  print("");
  const rows = s.boards.map((b) => [
    b.name,
    b.firmware,
    b.switch,
    b.address ?? "-",
    b.upAt === null ? "-" : (b.upAt / 1000).toFixed(3),
    b.tasks.length ? b.tasks.map(taskCell).join(", ") : "-",
    String(b.rxFrames),
    String(b.txFrames),
    String(b.rxDropped),
    String(b.tcp.length),
  ]);
  const head = ["board", "firmware", "switch", "address", "up (s)", "tasks", "rx", "tx", "dropped", "tcp"];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i >= 6 ? c.padStart(w[i]) : c.padEnd(w[i]))).join("  ").trimEnd();
  print(line(head));
  for (const r of rows) print(line(r));

  if (!brief)
    for (const [i, b] of s.boards.entries()) {
      const fb = fleet.boards[i];
      print("");
      print(`--- ${b.name} (${b.firmware} on ${b.switch}, ${b.mac}, ${b.address ?? "no address"}${b.dhcp ? `, DHCP ${b.dhcpState ?? "-"}` : ""}) ---`);
      for (const [ti, t] of b.tasks.entries())
        for (const r of t.runs)
          print(`  do[${ti}] ${t.kind} ${t.target} at ${(r.start / 1000).toFixed(3)} s: ${r.end === undefined ? "still running at the end" : `${r.ok ? "ok" : "FAILED"}, ${r.detail} (${(r.end - r.start).toFixed(0)} ms)`}`);
      if (!fb.board) {
        print("  (never powered on)");
        continue;
      }
      const tcp = formatTcpTable(b.tcp);
      if (tcp.length === 1) print("  (no TCP connections)");
      else for (const l of tcp) print(`  ${l}`);
      for (const l of formatCounters(b.counters)) print(`  ${l}`);
    }

  print("");
  for (const sw of s.switches)
    print(`switch ${sw.name}: ${sw.ports} ports, ${sw.stats.received} frames received, ${sw.stats.forwarded} forwarded, ${sw.stats.flooded} flooded, ${sw.stats.filtered} filtered${sw.stats.runts ? `, ${sw.stats.runts} runts` : ""}`);
  for (const l of s.links.filter((x) => x.kind === "trunk"))
    for (const [d, st] of Object.entries(l.directions)) print(`trunk ${l.name} ${d}: ${fmtDir(st)}`);
  const impaired = s.links.filter((l) => l.kind === "board" && Object.values(l.directions).some((d) => d.lost || d.duplicated || d.reordered || d.corrupted || d.mtuDropped));
  for (const l of impaired) for (const [d, st] of Object.entries(l.directions)) print(`link ${d}: ${fmtDir(st)}`);
  if (s.dhcp) print(`dhcpd ${s.dhcp.server}: ${s.dhcp.leases} leases`);
  if (s.dns) print(`dnsd ${s.dns.server}: ${s.dns.queries} queries`);
  const rate = s.simSecondsPerWallSecond;
  print(`${s.events} events, ${(s.duration / 1000).toFixed(3)} s of virtual time in ${(s.wallMs / 1000).toFixed(2)} s (${Number.isFinite(rate) ? rate.toFixed(1) : "inf"} simulated s per wall s)`);
  print("");
  print("invariants:");
  const inv = s.invariants;
  const names: Record<keyof FleetInvariants, string> = {
    boardsUp: "every board up (leased or static)",
    addressesUnique: "addresses unique",
    dnsNames: "every board's name resolves to its address",
    tasksFinished: "every task finished",
    tasksOk: "every task ok",
    countersConsistent: "counters consistent with the links and switches",
    framesConserved: "frames conserved on every link",
  };
  for (const k of Object.keys(names) as (keyof FleetInvariants)[]) print(`  ${names[k]}: ${inv[k]}`);
  print(s.ok ? "fleet ok" : "fleet FAILED");
}
