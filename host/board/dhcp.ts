// The DHCP client exports of a board (index.ts "DHCPv4 client"), typed, with the status as strings.
import { u32ToIp } from "./address.ts";
import { codedError, WasmipError } from "./errors.ts";
import { type Board } from "./board.ts";

export const DHCP_STATES = ["STOPPED", "INIT", "SELECTING", "REQUESTING", "BOUND", "RENEWING", "REBINDING", "RELEASING", "REBOOTING"] as const;
export type DhcpStateName = (typeof DHCP_STATES)[number];

interface DhcpExports {
  memory: WebAssembly.Memory;
  io_buffer(): number;
  dhcp_start(ptr: number, len: number): number;
  dhcp_release(): number;
  dhcp_state(): number;
  dhcp_address(): number;
  dhcp_lease_remaining(): number;
  dhcp_server(): number;
  dhcp_router(): number;
  dhcp_dns(i: number): number;
}

function ex(board: Board): DhcpExports {
  const e = board.exports as unknown as DhcpExports;
  if (typeof e.dhcp_start !== "function") throw codedError("ENOSYS", new Error(`${board.name}: this firmware has no DHCP client`));
  return e;
}

/** Starts the board's DHCP client with a host name (option 12). */
export function dhcpStart(board: Board, hostName: string): void {
  const e = ex(board);
  const name = Buffer.from(hostName, "latin1");
  const ptr = e.io_buffer();
  new Uint8Array(e.memory.buffer, ptr, name.length).set(name);
  const rc = e.dhcp_start(ptr, name.length);
  board.kick();
  if (rc < 0) throw new WasmipError(rc, `${board.name}: dhcp_start`);
}

/** DHCPRELEASE (if leased) and stop. */
export function dhcpRelease(board: Board): void {
  const rc = ex(board).dhcp_release();
  board.kick();
  if (rc < 0) throw new WasmipError(rc, `${board.name}: dhcp_release`);
}

export interface DhcpStatus {
  state: DhcpStateName;
  address: string; // "0.0.0.0" when none
  router: string;
  server: string;
  dns: string[];
  leaseRemaining: number; // seconds; 0xffffffff infinite
}

export function dhcpStatus(board: Board): DhcpStatus {
  const e = ex(board);
  const dns: string[] = [];
  for (let i = 0; i < 3; i++) {
    const d = e.dhcp_dns(i) >>> 0;
    if (d) dns.push(u32ToIp(d));
  }
  return {
    state: DHCP_STATES[e.dhcp_state()] ?? "STOPPED",
    address: u32ToIp(e.dhcp_address() >>> 0),
    router: u32ToIp(e.dhcp_router() >>> 0),
    server: u32ToIp(e.dhcp_server() >>> 0),
    dns,
    leaseRemaining: e.dhcp_lease_remaining() >>> 0,
  };
}
