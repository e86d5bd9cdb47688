// The greeter: the seed's demo server. Listens on TCP 54321 (backlog 5); for each connection it
// logs "Got connection from ('A.B.C.D', PORT)" at INFO, sends "Thank you for connecting\n" and
// closes. The read side is shut first: what the client sent is dropped, so the close is a FIN,
// not a reset.
import { INFO, logf } from "../support/log";
import { tcpAccept, tcpBind, tcpClose, tcpListen, tcpRemoteIp, tcpRemotePort, tcpSend, tcpShutdown, tcpSocket } from "../api/tcp";
import { putStr } from "./util";

export const GREETER_PORT: u32 = 54321;
const GREETING = "Thank you for connecting\n";

const msg = memory.data(32);
let msgLen: u32 = 0;
let listener: i32 = -1;

export function greeterStart(): void {
  msgLen = putStr(msg, GREETING);
  listener = tcpSocket();
  if (listener < 0) return;
  if (tcpBind(listener, GREETER_PORT) < 0 || tcpListen(listener, 5) < 0) {
    tcpClose(listener);
    listener = -1;
  }
}

export function greeterPoll(): void {
  if (listener < 0) return;
  for (;;) {
    const fd = tcpAccept(listener);
    if (fd < 0) break;
    logf(INFO, "Got connection from ('%i', %u)", tcpRemoteIp(fd), tcpRemotePort(fd));
    // A new connection's send ring is empty, so the short greeting is queued whole.
    tcpSend(fd, msg, msgLen);
    tcpShutdown(fd, 0); // drops what the client sent, and anything it sends later
    tcpClose(fd);
  }
}
