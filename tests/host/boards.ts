// One suite, two boards: the real-peer tests run against the Node harness (TapSession: the
// firmware .wasm in V8 behind build/tap-bridge) and against the native posix board
// (NativeSession: the same .wasm compiled by wasm2c, boards/posix/build/wasmip-<app>), in the same
// kind of namespace with the same tap setup. A behaviour that differs between them is a bug.
import { TapSession, appWasm, type TapSessionOptions } from "../../host/tap.ts";
import { NativeSession, nativeBinary } from "../../host/native.ts";

export type BoardKind = "node" | "posix";
export const BOARD_KINDS: readonly BoardKind[] = ["node", "posix"];
export type PeerSession = TapSession | NativeSession;

/** The file a board of this kind runs for app (the prerequisite to check). */
export function boardFile(kind: BoardKind, app: string): string {
  return kind === "node" ? appWasm(app) : nativeBinary(app);
}

/** The options both sessions understand. */
export type CommonOptions = Pick<TapSessionOptions, "netns" | "tap" | "boardIp" | "peerIp" | "pcap" | "mac" | "app" | "log">;

/** Start a session of this kind; it cleans up after itself when start fails. */
export async function startBoard(kind: BoardKind, opts: CommonOptions): Promise<PeerSession> {
  return kind === "node" ? new TapSession().start(opts) : new NativeSession().start(opts);
}

/** The board's MAC address as ip(8) prints it. */
export function boardMac(s: PeerSession): string {
  return s instanceof TapSession ? s.board!.macString : s.mac;
}
