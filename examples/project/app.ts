// A firmware app in your own project: the "hello" service. On TCP 7000 it reads one line (a
// name, at most 32 bytes, ended by \n) and answers "hello, NAME\n", then closes; a UDP datagram
// to port 7000 gets the same answer. `npx wasmip build app.ts -o app.wasm` compiles it with the
// wasmip core into one image. The stack's API comes from the wasmip package ("wasmip/assembly/...").
import { setApp } from "wasmip/assembly/app";
import { EV_ERROR, tcpAbort, tcpAccept, tcpBind, tcpClose, tcpEvents, tcpListen, tcpRecv, tcpSend, tcpSocket } from "wasmip/assembly/api/tcp";
import { udpBind, udpFromIp, udpFromPort, udpRecvfrom, udpSendto, udpSocket } from "wasmip/assembly/api/udp";

export const HELLO_PORT: u32 = 7000;
const NAME_MAX: u32 = 32;
const GREETING = "hello, ";

// All state is static (no allocation per connection): one connection is served at a time, the
// others wait in the listen backlog.
const line = memory.data(<i32>NAME_MAX + 1);
const reply = memory.data(<i32>NAME_MAX + 16);
let lineLen: u32 = 0;
let listener: i32 = -1;
let conn: i32 = -1;
let udp: i32 = -1;
let answered: u32 = 0;

export function helloStart(): void {
  listener = tcpSocket();
  if (listener >= 0 && (tcpBind(listener, HELLO_PORT) < 0 || tcpListen(listener, 2) < 0)) {
    tcpClose(listener);
    listener = -1;
  }
  udp = udpSocket();
  if (udp >= 0 && udpBind(udp, HELLO_PORT) < 0) udp = -1;
}

/** "hello, " + name + "\n" into reply; returns its length. */
function greet(name: usize, len: u32): u32 {
  for (let i = 0; i < GREETING.length; i++) store<u8>(reply + i, <u8>GREETING.charCodeAt(i));
  memory.copy(reply + GREETING.length, name, len);
  store<u8>(reply + GREETING.length + len, 0x0a);
  return GREETING.length + len + 1;
}

export function helloPoll(): void {
  if (conn < 0 && listener >= 0) {
    conn = tcpAccept(listener);
    lineLen = 0;
  }
  if (conn >= 0) serve();
  if (udp >= 0) {
    for (;;) {
      const n = udpRecvfrom(udp, line, NAME_MAX);
      if (n < 0) break;
      const len = <u32>n > 0 && load<u8>(line + n - 1) == 0x0a ? <u32>n - 1 : <u32>n;
      if (udpSendto(udp, reply, greet(line, len), udpFromIp(udp), udpFromPort(udp)) >= 0) answered++;
    }
  }
}

function serve(): void {
  if (tcpEvents(conn) & EV_ERROR) {
    tcpAbort(conn);
    conn = -1;
    return;
  }
  while (lineLen < NAME_MAX) {
    const r = tcpRecv(conn, line + lineLen, 1);
    if (r <= 0) {
      if (r == 0) done(); // closed before a whole line: nothing to answer
      return;
    }
    if (load<u8>(line + lineLen) == 0x0a) break;
    lineLen++;
  }
  tcpSend(conn, reply, greet(line, lineLen));
  answered++;
  done();
}

function done(): void {
  tcpClose(conn);
  conn = -1;
}

setApp(helloStart, helloPoll);

/** Answers sent (TCP and UDP) since init: an export of the image, for the host. */
export function hello_answered(): u32 {
  return answered;
}
