// Every figure `make bench` reports, by id (results/latest.json "figures"). The bench checks its
// own output against this list; tests/host/bench.test.ts does too.
import { FEATURES, makefileExamples, makefileImages } from "./size.ts";
import { ARCHES, CPU_RUNS, INTERPS, wamrCpuId, wamrMemId } from "./wamr.ts";
import { BOARDS, PAIRINGS, TARGETS, ratioId } from "./kernel.ts";
import { MCU_APPS, MCU_WHATS, mcuId } from "./mcu.ts";
import { DIRS, LOSSES, LOSSY_TARGETS, lossyId } from "./lossy.ts";
import { MPS2_RUNTIMES } from "../host/devices/qemu.ts";

/** Figures that are null, with a note, while assembly/config.ts lacks their switches. */
export function optionalFigure(id: string): boolean {
  return id === "size.tcp_only.bytes" || id === "size.budget_features.bytes" || id.startsWith("size.feature.");
}

export function expectedFigures(apps: string[]): string[] {
  const ids = ["size.core.bytes", "size.core.code_bytes", "size.core.data_bytes", "size.tcp_only.bytes", "size.budget_features.bytes"];
  const images = [...apps, ...makefileExamples(), ...makefileImages()];
  for (const a of images) ids.push(`size.app.${a}.bytes`);
  ids.push("size.ipv6.added_bytes", "size.ipv6.added_code_bytes");
  for (const f of FEATURES) ids.push(`size.feature.${f.id}.bytes`);
  for (const img of ["core", ...images]) ids.push(`memory.${img}.pages`, `memory.${img}.static_bytes`);
  ids.push(
    "memory.tcp_max_sockets", "memory.tcp_max_connections", "memory.tcp_snd_buf.bytes", "memory.tcp_rcv_buf.bytes",
    "memory.tcp_connection.bytes", "memory.tcp_block.bytes", "memory.tcp_timestamps.bytes_per_connection",
    "memory.core_4_connections.static_bytes", "memory.growth.pages",
  );
  ids.push(
    "cpu.core.instr_per_byte", "cpu.core.tx.instr_per_segment", "cpu.core.rx.instr_per_segment", "cpu.process.instr_per_byte",
    "cpu.app.instr_per_byte", "cpu.wire.instr_per_byte", "cpu.segments", "cpu.wasm2c.ms_per_mib",
  );
  for (const r of CPU_RUNS) ids.push(wamrCpuId(r.key, "core_instr_per_byte"), wamrCpuId(r.key, "process_instr_per_byte"), wamrCpuId(r.key, "ms_per_mib"));
  for (const i of INTERPS) {
    for (const a of ARCHES)
      for (const img of ["core", ...images]) ids.push(wamrMemId(i, a, img, "pool_peak_bytes"), wamrMemId(i, a, img, "footprint_bytes"));
  }
  ids.push("sim.clean.mbit_wall", "sim.clean.mbit_virtual");
  for (const l of [1, 5, 10]) ids.push(`sim.loss${l}.goodput_fraction`, `sim.loss${l}.mbit_virtual`, `sim.loss${l}.mbit_wall`);
  ids.push("sim.rr.us_wall", "sim.rr.ms_virtual", "sim.cps.per_s_wall");
  ids.push("sim.flood.fetch_ms_virtual", "sim.flood.fetch_max_ms_virtual", "sim.flood.fetch_ok_fraction", "sim.flood.first_second_fetches");
  for (const t of TARGETS) {
    ids.push(`kernel.${t}.rr_us`, `kernel.${t}.cps`);
    for (const d of ["rx", "tx"]) {
      ids.push(`kernel.${t}.${d}.mbit`, `kernel.${t}.${d}.cpu_s_per_mib`, `kernel.${t}.${d}.user_s_per_mib`, `kernel.${t}.${d}.peer_cpu_s_per_mib`);
      if (t !== "veth") ids.push(`kernel.${t}.${d}.throughput_vs_veth`);
    }
  }
  for (const p of PAIRINGS)
    for (const board of BOARDS)
      for (const d of ["rx", "tx"]) ids.push(ratioId(p.board[board], d, p.lwip, "throughput"), ratioId(p.board[board], d, p.lwip, "cpu"));
  for (const t of LOSSY_TARGETS) {
    ids.push(`lossy.${t}.rtt_p50_us`);
    for (const d of DIRS) {
      ids.push(lossyId(t, d, 0, "mbit"));
      for (const l of LOSSES) ids.push(lossyId(t, d, l, "mbit"), lossyId(t, d, l, "goodput_fraction"));
    }
  }
  for (const rt of MPS2_RUNTIMES) {
    for (const app of MCU_APPS) for (const w of MCU_WHATS) ids.push(mcuId(rt, app, w));
    ids.push(mcuId(rt, "echo", "instr_per_byte"));
  }
  return ids;
}
