// One suite, four boards: the real-peer tests run against the Node harness (TapSession: the
// firmware .wasm in V8 behind build/tap-bridge), against the native posix board (NativeSession:
// the same .wasm compiled by wasm2c, boards/posix/build/wasmip-<app>), against the emulated
// MPS2 AN385 (QemuSession: the same .wasm compiled by wasm2c for a Cortex-M3 behind a LAN9118
// driver, boards/mps2-an385/build/wasmip-<app>.elf in qemu-system-arm) and against the WAMR board
// (WamrSession: the same .wasm in WAMR's fast interpreter, the ESP32's runtime, behind the posix
// board's Linux port), in the same kind of namespace with the same tap setup. A behaviour that
// differs between them is a bug.
import { appWasm } from "../../host/board/board.ts";
import { TapSession, type TapSessionOptions } from "../../host/devices/tap.ts";
import { NativeSession, nativeBinary, BoardProcessSession } from "../../host/devices/native.ts";
import { QemuSession, qemuImage, QEMU, type Mps2Runtime } from "../../host/devices/qemu.ts";
import { WamrSession, wamrBinary } from "../../host/devices/wamr.ts";
import type { Netns } from "../../host/devices/netns.ts";

export type BoardKind = "node" | "posix" | "mps2" | "wamr";
export const BOARD_KINDS: readonly BoardKind[] = ["node", "posix", "mps2", "wamr"];
export type PeerSession = TapSession | NativeSession | QemuSession | WamrSession;
type ProcessKind = Exclude<BoardKind, "node">;

/** The file a board of this kind runs for app (the prerequisite to check; the WAMR board loads appWasm(app), which make build always writes). */
export function boardFile(kind: BoardKind, app: string, runtime?: Mps2Runtime): string {
  switch (kind) {
    case "node":
      return appWasm(app);
    case "posix":
      return nativeBinary(app);
    case "mps2":
      return qemuImage(app, runtime);
    case "wamr":
      return wamrBinary();
  }
}

function processSession(kind: ProcessKind): NativeSession | QemuSession | WamrSession {
  return kind === "posix" ? new NativeSession() : kind === "mps2" ? new QemuSession() : new WamrSession();
}

/** Tools a board of this kind needs besides the test's own. */
export function boardTools(kind: BoardKind): string[] {
  return kind === "mps2" ? [QEMU] : [];
}

/** The options every session understands (runtime: the mps2 board's, ignored by the others). */
export type CommonOptions = Pick<TapSessionOptions, "netns" | "tap" | "boardIp" | "peerIp" | "pcap" | "mac" | "app" | "log"> & { runtime?: Mps2Runtime };

/** Start a session of this kind; it cleans up after itself when start fails. */
export async function startBoard(kind: BoardKind, opts: CommonOptions): Promise<PeerSession> {
  if (kind === "node") return new TapSession().start(tapOptions(opts));
  return processSession(kind).start(opts);
}

function tapOptions(opts: CommonOptions): TapSessionOptions {
  const { runtime: _runtime, ...rest } = opts;
  return rest;
}

/**
 * Start a board of this kind with no address that leases one (its host name "wasmip-<app>") from
 * the DHCP server `server(ns)` starts in the namespace once the tap exists. Resolves when BOUND;
 * session.boardIp is then the lease.
 */
export async function startDhcpBoard(kind: BoardKind, opts: CommonOptions, server: (ns: Netns) => Promise<void>): Promise<PeerSession> {
  if (kind === "node") {
    const { dhcpStart } = await import("../../host/board/dhcp.ts");
    const s = await new TapSession().start({ ...tapOptions(opts), addressless: true });
    try {
      await server(s.ns!);
      dhcpStart(s.board!, `wasmip-${opts.app ?? "bare"}`);
      await s.waitLease(30_000);
    } catch (e) {
      await s.stop().catch(() => {});
      throw e;
    }
    return s;
  }
  const o = { ...opts, dhcp: true, beforeBoot: server, readyTimeoutMs: 30_000 };
  return processSession(kind).start(o);
}

/** The board's MAC address as ip(8) prints it. */
export function boardMac(s: PeerSession): string {
  return s instanceof TapSession ? s.board!.macString : s.mac;
}

/** A board that is a process of its own (posix, mps2, wamr): it must exit 0 when stopped. */
export function isProcessBoard(s: PeerSession | undefined): s is NativeSession | QemuSession | WamrSession {
  return s instanceof BoardProcessSession;
}
