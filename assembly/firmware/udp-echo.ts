// Firmware image: the wasmip core plus udp-echo (UDP port 7). Built to build/udp-echo.wasm.
export * from "../index";
import { setApp } from "../app";
import { udpEchoCount, udpEchoPoll, udpEchoStart } from "../apps/udpecho";

setApp(udpEchoStart, udpEchoPoll);

/** Datagrams echoed so far. */
export function udp_echo_count(): u32 {
  return udpEchoCount();
}
