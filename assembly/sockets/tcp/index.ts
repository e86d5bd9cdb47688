// TCP: start-up and the hooks the layers below call.
import { PROTO_TCP } from "../../wire/ipv4";
import { setTransport } from "../../iface/ipv4";
import { isnInit } from "./isn";
import { pcbInitAll } from "./pcb";
import { tcpInput } from "./input";
import { outputInit } from "./output";
import { synCookieInit } from "./syncookie";
export { tcpPoll } from "./timers";

export function tcpInit(): void {
  pcbInitAll();
  isnInit();
  outputInit();
  synCookieInit();
  setTransport(PROTO_TCP, tcpInput);
}
