// A node:net-shaped API over a Board's TCP socket exports (boards/include/wasmip.h):
// board.net.createServer() / board.net.connect() give a Server and Sockets (stream.Duplex) that
// behave like node's, but whose bytes go through the wasmip core inside the board.
//
// The core is single-threaded and driven by its board's driver (the Simulator in virtual time,
// the TAP runner in real time) through input() and poll(). Board calls pump() after each of
// those, and pump() looks at every socket's level-triggered tcp_events() and acts: accepts,
// emits 'connect', pushes received bytes, resumes a write that was waiting for room, reports
// errors. Everything it does is synchronous: 'connect', 'connection' and 'data' (in flowing mode)
// are emitted from inside the driver's call, so a synchronous `sim.runUntil(predicate)` sees
// them. What node's streams themselves defer with process.nextTick ('end', 'finish', 'close',
// 'error', 'listening') needs the event loop: in the Simulator use the async runners
// (sim.runUntilAsync / sim.runUntilSettled), which yield to it after each event that touched a
// stream (netActivity).
//
// Calls from user code into the core (connect, write, end, destroy, setopt) may send frames or
// arm timers: each is followed by board.kick(), which asks the driver to poll soon.
//
// connect() to a host name resolves it with the board's own resolver (board.dns: its DNS servers,
// its cache), then connects; 'lookup' is emitted in between, as node does. With IPv6 the name's
// AAAA is asked first when the board has a global IPv6 address, then its A (the order
// getaddrinfo's RFC 6724 sort gives node on such a host; node's autoSelectFamily would then race
// the families, this connects to the first address found). An IPv6 address
// ("fe80::1", "fd00::2", a zone after % naming the board's one interface) connects over IPv6 in an
// image built with it (tcp_connect6; ENOSYS otherwise): remoteFamily and address().family are then
// 'IPv6'. A server's listener takes both families, as a node server on "::" does. setTimeout() is an idle
// timer on the board's clock (virtual time in the Simulator): Board.poll() returns no later than
// the nearest one, and the pump emits 'timeout'.
import { EventEmitter } from "node:events";
import { Duplex } from "node:stream";
import { formatIpv6, ipToU32, parseIpv6, u32ToIp } from "./address.ts";
import { codedError, ERRORS } from "./errors.ts";
import { netActivity, type LayerHost } from "./pump.ts";

/** The TCP socket exports (boards/include/wasmip.h, "TCP sockets"), typed. */
export interface TcpExports {
  tcp_socket(): number;
  tcp_bind(fd: number, port: number): number;
  tcp_listen(fd: number, backlog: number): number;
  tcp_accept(fd: number): number;
  tcp_connect(fd: number, ip: number, port: number): number;
  tcp_send(fd: number, ptr: number, len: number): number;
  tcp_recv(fd: number, ptr: number, len: number): number;
  tcp_shutdown(fd: number, how: number): number;
  tcp_close(fd: number): number;
  tcp_abort(fd: number): number;
  tcp_events(fd: number): number;
  tcp_changed(): number;
  tcp_setopt(fd: number, opt: number, value: number): number;
  tcp_state(fd: number): number;
  tcp_local_port(fd: number): number;
  tcp_remote_ip(fd: number): number;
  tcp_remote_port(fd: number): number;
  tcp_table_size(): number;
  tcp_table_row(i: number, ptr: number): number;
  tcp_info(fd: number, ptr: number): number;
  // Images with IPv6 (absent from older images; ENOSYS/0 without the feature).
  tcp_connect6?(fd: number, ptr: number, port: number): number;
  tcp_table_row6?(i: number, ptr: number): number;
  io_buffer(): number;
  io_buffer_size(): number;
}

export const TCP_STATES = [
  "CLOSED",
  "LISTEN",
  "SYN_SENT",
  "SYN_RECEIVED",
  "ESTABLISHED",
  "FIN_WAIT_1",
  "FIN_WAIT_2",
  "CLOSE_WAIT",
  "CLOSING",
  "LAST_ACK",
  "TIME_WAIT",
] as const;
export type TcpStateName = (typeof TCP_STATES)[number];

export const EV_READABLE = 1;
export const EV_WRITABLE = 2;
export const EV_CONNECTED = 4;
export const EV_HUP = 8;
export const EV_ERROR = 16;
export const EV_CLOSED = 32;

export const TCP_OPT_NODELAY = 1;
export const TCP_OPT_KEEPALIVE = 2;
export const TCP_OPT_KEEPIDLE = 3;
export const TCP_OPT_KEEPINTVL = 4;
export const TCP_OPT_KEEPCNT = 5;

const ENOBUFS = -2;
const ERRNO_ENOSYS = -15;
const EWOULDBLOCK = -3;
const ENOTCONN = -4;

/** Our address on a connection to remote: over 127/8 the loopback talks to itself (as the core's
 *  connection table shows it), else the board's address. */
const isIPv4 = (s: string) => /^\d{1,3}(\.\d{1,3}){3}$/.test(s);

function localFor(remote: number, boardIp: string): string {
  return remote >>> 24 === 127 ? u32ToIp(remote) : boardIp;
}

/** An Error shaped like node's system errors: code 'ECONNREFUSED', errno, syscall, address, port. */
export interface NetError extends Error {
  code: string;
  errno: number;
  syscall: string;
  address?: string;
  port?: number;
}

export function netError(code: number | string, syscall: string, address?: string, port?: number): NetError {
  const name = typeof code === "string" ? code : (ERRORS[code] ?? `E${-code}`);
  const where = address !== undefined ? ` ${address}${port !== undefined ? `:${port}` : ""}` : "";
  const e = new Error(`${syscall} ${name}${where}`) as NetError;
  e.code = name;
  e.errno = typeof code === "number" ? code : 0;
  e.syscall = syscall;
  if (address !== undefined) e.address = address;
  if (port !== undefined) e.port = port;
  return e;
}

export interface AddressInfo {
  address: string;
  family: "IPv4" | "IPv6";
  port: number;
}

export interface ConnectOptions {
  host?: string; // dotted quad or a name the board's resolver looks up; default "127.0.0.1": the board's own loopback
  port: number;
  localPort?: number;
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
  timeout?: number; // socket.setTimeout(timeout) before connecting
}

export interface ServerOptions {
  allowHalfOpen?: boolean;
  noDelay?: boolean;
  keepAlive?: boolean;
  keepAliveInitialDelay?: number;
}

export interface ListenOptions {
  port?: number;
  backlog?: number;
}

export interface KeepAliveProbes {
  interval?: number; // ms between unanswered probes (TCP_KEEPINTVL)
  count?: number; // unanswered probes before ETIMEDOUT (TCP_KEEPCNT)
}

/** One board's socket layer: what board.net returns. */
export class Net {
  private readonly sockets = new Map<number, Socket>(); // fd -> socket
  private readonly servers = new Map<number, Server>(); // listener fd -> server
  private readonly timed = new Set<Socket>(); // sockets with an idle timeout set
  private pumping = false;
  private again = false;
  private memView: Uint8Array;
  readonly io: number;
  readonly ioSize: number;

  constructor(readonly board: LayerHost) {
    this.io = this.tcp.io_buffer();
    this.ioSize = this.tcp.io_buffer_size();
    this.memView = board.memoryBytes();
  }

  get tcp(): TcpExports {
    return this.board.exports as unknown as TcpExports;
  }

  /** The module's memory as bytes (re-made if the memory ever grew). */
  mem(): Uint8Array {
    if (this.memView.byteLength === 0) this.memView = this.board.memoryBytes();
    return this.memView;
  }

  createServer(listener?: (socket: Socket) => void): Server;
  createServer(options: ServerOptions, listener?: (socket: Socket) => void): Server;
  createServer(a?: ServerOptions | ((socket: Socket) => void), b?: (socket: Socket) => void): Server {
    const [options, listener] = typeof a === "function" ? [{}, a] : [a ?? {}, b];
    const server = new Server(this, options);
    if (listener) server.on("connection", listener);
    return server;
  }

  connect(options: ConnectOptions, connectListener?: () => void): Socket;
  connect(port: number, host?: string, connectListener?: () => void): Socket;
  connect(a: ConnectOptions | number, b?: string | (() => void), c?: () => void): Socket {
    const options: ConnectOptions = typeof a === "number" ? { port: a, host: typeof b === "string" ? b : undefined } : a;
    const cb = typeof b === "function" ? b : c;
    const socket = new Socket(this, { allowHalfOpen: options.allowHalfOpen });
    if (cb) socket.once("connect", cb);
    socket.connect(options);
    return socket;
  }

  createConnection(options: ConnectOptions, connectListener?: () => void): Socket;
  createConnection(port: number, host?: string, connectListener?: () => void): Socket;
  createConnection(a: ConnectOptions | number, b?: string | (() => void), c?: () => void): Socket {
    return typeof a === "number" ? this.connect(a, b as string | undefined, c) : this.connect(a, b as (() => void) | undefined);
  }

  /** Open sockets and listening servers of this board. */
  get openSockets(): number {
    return this.sockets.size;
  }
  get openServers(): number {
    return this.servers.size;
  }

  /**
   * Look at every socket's events and act. Called by Board after input() and poll(); a no-op
   * without sockets. Returns whether anything was done (Board then re-polls: user callbacks may
   * have armed timers). Reentrant calls (a callback driving the same board) are folded into the
   * running pass.
   */
  pump(): boolean {
    let timedOut = false;
    if (this.timed.size > 0) {
      const now = this.board.now();
      for (const s of [...this.timed]) if (s._checkTimeout(now)) timedOut = true;
      if (timedOut) netActivity.pending = true;
    }
    if (this.sockets.size === 0 && this.servers.size === 0) return timedOut;
    if (this.pumping) {
      this.again = true;
      return false;
    }
    this.pumping = true;
    let did = false;
    try {
      let rounds = 0;
      do {
        this.again = false;
        for (const s of [...this.servers.values()]) if (s._pump()) did = true;
        for (const s of [...this.sockets.values()]) if (s._pump()) did = true;
      } while (this.again && ++rounds < 64);
    } finally {
      this.pumping = false;
    }
    if (did) netActivity.pending = true;
    return did || timedOut;
  }

  /** Ms from now until the nearest socket idle timeout, or undefined without one. */
  nextTimeout(now: number): number | undefined {
    let next: number | undefined;
    for (const s of this.timed) {
      const d = s._timeoutDue();
      if (d !== undefined) next = Math.min(next ?? Infinity, Math.max(0, d - now));
    }
    return next;
  }

  /** @internal */
  _timer(s: Socket, on: boolean): void {
    if (on) this.timed.add(s);
    else this.timed.delete(s);
  }

  /** @internal */
  _register(fd: number, s: Socket): void {
    this.sockets.set(fd, s);
    if (this.pumping) this.again = true;
  }
  /** @internal */
  _unregister(fd: number, s: Socket): void {
    if (this.sockets.get(fd) === s) this.sockets.delete(fd);
  }
  /** @internal */
  _registerServer(fd: number, s: Server): void {
    this.servers.set(fd, s);
    if (this.pumping) this.again = true;
  }
  /** @internal */
  _unregisterServer(fd: number, s: Server): void {
    if (this.servers.get(fd) === s) this.servers.delete(fd);
  }
}

// ---- Server ----------------------------------------------------------------------------------

export class Server extends EventEmitter {
  private fd = -1;
  private port = 0;
  private closing = false;
  private closeEmitted = false;
  private paused = false;
  private readonly connections = new Set<Socket>();

  constructor(
    private readonly net: Net,
    private readonly options: ServerOptions = {},
  ) {
    super();
  }

  get listening(): boolean {
    return this.fd >= 0;
  }

  listen(port?: number, backlog?: number, cb?: () => void): this;
  listen(port: number, cb?: () => void): this;
  listen(options: ListenOptions, cb?: () => void): this;
  listen(a?: number | ListenOptions, b?: number | (() => void), c?: () => void): this {
    const o: ListenOptions = typeof a === "object" ? a : { port: a, backlog: typeof b === "number" ? b : undefined };
    const cb = typeof b === "function" ? b : c;
    if (this.fd >= 0) throw Object.assign(new Error("Listen method has been called more than once without closing."), { code: "ERR_SERVER_ALREADY_LISTEN" });
    const tcp = this.net.tcp;
    const port = o.port ?? 0;
    const backlog = o.backlog ?? 511; // node's default; the core clamps it to TCP_BACKLOG_MAX
    if (cb) this.once("listening", cb);
    const fail = (rc: number, fd: number) => {
      if (fd >= 0) tcp.tcp_close(fd);
      process.nextTick(() => this.emit("error", netError(rc, "listen", "0.0.0.0", port)));
      netActivity.pending = true;
    };
    const fd = tcp.tcp_socket();
    if (fd < 0) return fail(fd, -1), this;
    let rc = tcp.tcp_bind(fd, port);
    if (rc < 0) return fail(rc, fd), this;
    rc = tcp.tcp_listen(fd, backlog);
    if (rc < 0) return fail(rc, fd), this;
    this.fd = fd;
    this.port = tcp.tcp_local_port(fd);
    this.closing = false;
    this.closeEmitted = false;
    this.net._registerServer(fd, this);
    this.net.board.kick();
    process.nextTick(() => this.emit("listening"));
    netActivity.pending = true;
    return this;
  }

  address(): AddressInfo | null {
    return this.fd >= 0 ? { address: "0.0.0.0", family: "IPv4", port: this.port } : null;
  }

  /** Stop accepting (new SYNs are still answered by the core up to the backlog). Not in node. */
  pauseAccepting(): this {
    this.paused = true;
    return this;
  }

  /** Accept again; queued connections are accepted at the next pump. Not in node. */
  resumeAccepting(): this {
    this.paused = false;
    this.net.board.kick();
    return this;
  }

  /** Stop listening: connections not yet accepted are dropped by the core. 'close' follows once
   *  every accepted connection has closed. */
  close(cb?: (err?: Error) => void): this {
    if (cb) {
      if (this.fd < 0 && !this.closing) process.nextTick(() => cb(Object.assign(new Error("Server is not running."), { code: "ERR_SERVER_NOT_RUNNING" })));
      else this.once("close", () => cb());
    }
    if (this.fd >= 0) {
      const fd = this.fd;
      this.fd = -1;
      this.net._unregisterServer(fd, this);
      this.net.tcp.tcp_close(fd);
      this.net.board.kick();
      this.closing = true;
      this.maybeClose();
    }
    return this;
  }

  getConnections(cb: (err: Error | null, count: number) => void): this {
    const n = this.connections.size;
    process.nextTick(() => cb(null, n));
    return this;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** @internal */
  _pump(): boolean {
    if (this.fd < 0 || this.paused) return false;
    const tcp = this.net.tcp;
    if ((tcp.tcp_events(this.fd) & EV_READABLE) === 0) return false;
    let did = false;
    while (this.fd >= 0 && !this.paused) {
      const fd = tcp.tcp_accept(this.fd);
      if (fd < 0) break;
      did = true;
      const s = new Socket(this.net, { allowHalfOpen: this.options.allowHalfOpen, accepted: fd, server: this });
      if (this.options.noDelay) s.setNoDelay(true);
      if (this.options.keepAlive) s.setKeepAlive(true, this.options.keepAliveInitialDelay);
      this.connections.add(s);
      this.emit("connection", s);
    }
    return did;
  }

  /** @internal */
  _connectionClosed(s: Socket): void {
    if (this.connections.delete(s)) this.maybeClose();
  }

  private maybeClose(): void {
    if (!this.closing || this.closeEmitted || this.connections.size > 0) return;
    this.closeEmitted = true;
    this.closing = false;
    netActivity.pending = true;
    process.nextTick(() => this.emit("close"));
  }
}

// ---- Socket ----------------------------------------------------------------------------------

interface PendingWrite {
  chunk: Uint8Array;
  off: number;
  cb: (err?: Error | null) => void;
}

interface SocketInit {
  allowHalfOpen?: boolean;
  accepted?: number; // fd of an accepted connection
  server?: Server;
}

export class Socket extends Duplex {
  connecting = false;
  bytesRead = 0;
  bytesWritten = 0;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  localAddress: string | undefined;
  localPort: number | undefined;
  readonly server: Server | undefined;
  private family: "IPv4" | "IPv6" = "IPv4";
  private fdNum = -1;
  private lastEv = -1;
  private wantRead = true; // like node, start reading at once (up to highWaterMark)
  private reading = false;
  private readAgain = false;
  private eof = false;
  private pendingWrite: PendingWrite | null = null;
  private pendingFinal: ((err?: Error | null) => void) | null = null;
  private resetOnDestroy = false;
  private connectTarget: { host: string; port: number } | undefined;
  private idleMs = 0; // setTimeout(); 0 = off
  private idleSince = 0;
  private idleFired = false;

  constructor(
    private readonly net: Net,
    init: SocketInit = {},
  ) {
    super({ allowHalfOpen: init.allowHalfOpen ?? false, decodeStrings: true });
    this.server = init.server;
    if (init.accepted !== undefined) {
      this.fdNum = init.accepted;
      this.cacheAddresses();
      net._register(this.fdNum, this);
    }
  }

  /** The core's fd, or -1 once released. Not in node. */
  get fd(): number {
    return this.fdNum;
  }

  /** The connection's TCP state as the core sees it ("CLOSED" once the fd is released). Not in node. */
  get state(): TcpStateName {
    return this.fdNum < 0 ? "CLOSED" : TCP_STATES[this.net.tcp.tcp_state(this.fdNum)];
  }

  get pending(): boolean {
    return this.fdNum < 0 || this.connecting;
  }

  get readyState(): "opening" | "open" | "readOnly" | "writeOnly" | "closed" {
    if (this.connecting) return "opening";
    if (this.readable && this.writable) return "open";
    if (this.readable) return "readOnly";
    if (this.writable) return "writeOnly";
    return "closed";
  }

  get remoteFamily(): "IPv4" | "IPv6" | undefined {
    return this.remoteAddress ? this.family : undefined;
  }

  address(): AddressInfo | Record<string, never> {
    if (this.localPort === undefined) return {};
    return { address: this.localAddress ?? (this.family === "IPv6" ? "::" : "0.0.0.0"), family: this.family, port: this.localPort };
  }

  /** Start connecting (net.connect() calls this). */
  connect(options: ConnectOptions, connectListener?: () => void): this {
    if (this.connecting) throw codedError("ERR_SOCKET_CONNECTING", new Error("Socket is already connecting"));
    if (this.fdNum >= 0) throw codedError("EISCONN", new Error("Socket is already connected"));
    const port = options.port;
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      throw codedError("ERR_SOCKET_BAD_PORT", new RangeError(`Port should be > 0 and < 65536. Received ${String(port)}.`));
    }
    if (connectListener) this.once("connect", connectListener);
    const host = options.host ?? "127.0.0.1";
    this.connectTarget = { host, port };
    this.connecting = true;
    if (options.timeout !== undefined) this.setTimeout(options.timeout);
    if (isIPv4(host)) return this.open(options, ipToU32(host));
    if (host === "localhost") return this.open(options, 0x7f000001);
    if (host.includes(":")) {
      let a6: Uint8Array;
      try {
        a6 = parseIpv6(host);
      } catch {
        process.nextTick(() => this.destroy(netError("EINVAL", "connect", host, port)));
        return this;
      }
      return this.open(options, 0, a6);
    }
    // A name: the board's resolver, then connect (node emits 'lookup' in between).
    // AAAA first when the board has a global IPv6 address, else A first (host/board/dns.ts); the
    // first address found is the one connected to (no Happy Eyeballs race to the other family).
    this.net.board.lookupHost(host).then(
      ({ address, family }) => {
        if (this.destroyed) return;
        this.emit("lookup", null, address, family, host);
        if (family === 6) this.open(options, 0, parseIpv6(address));
        else this.open(options, ipToU32(address));
      },
      (err: Error & { code?: string }) => {
        if (this.destroyed) return;
        this.emit("lookup", err, undefined, undefined, host);
        this.destroy(Object.assign(err, { hostname: host }));
      },
    );
    return this;
  }

  /** connect() once the address is known (an IPv6 one: a6). */
  private open(options: ConnectOptions, ip: number, a6?: Uint8Array): this {
    const tcp = this.net.tcp;
    const { host, port } = this.connectTarget!;
    const fd = tcp.tcp_socket();
    if (fd < 0) {
      this.destroy(netError(fd, "connect", host, port));
      return this;
    }
    this.fdNum = fd;
    this.lastEv = -1;
    this.net._register(fd, this);
    if (options.noDelay) this.setNoDelay(true);
    if (options.keepAlive) this.setKeepAlive(true, options.keepAliveInitialDelay);
    let rc = options.localPort ? tcp.tcp_bind(fd, options.localPort) : 0;
    if (rc >= 0 && a6) {
      this.net.mem().set(a6, this.net.io);
      rc = tcp.tcp_connect6 ? tcp.tcp_connect6(fd, this.net.io, port) : ERRNO_ENOSYS;
    } else if (rc >= 0) {
      rc = tcp.tcp_connect(fd, ip, port);
    }
    this.net.board.kick();
    if (rc < 0) {
      this.destroy(netError(rc, "connect", host, port));
      return this;
    }
    if (a6 && tcp.tcp_table_row6?.(fd, this.net.io) === 1) {
      this.family = "IPv6";
      this.localAddress = formatIpv6(this.net.mem().slice(this.net.io, this.net.io + 16));
    } else {
      this.localAddress = localFor(ip, this.net.board.ipString);
    }
    this.localPort = tcp.tcp_local_port(fd);
    return this;
  }

  /** Like node's: 'timeout' after `ms` of inactivity (nothing sent or received) on the board's
   *  clock; 0 turns it off. The socket is not closed: the listener decides. */
  setTimeout(ms: number, callback?: () => void): this {
    if (typeof ms !== "number" || !Number.isFinite(ms) || ms < 0) {
      throw codedError("ERR_OUT_OF_RANGE", new RangeError(`The value of "msecs" is out of range. It must be a non-negative finite number. Received ${String(ms)}`));
    }
    this.idleMs = ms;
    if (callback) {
      if (ms === 0) this.removeListener("timeout", callback);
      else this.once("timeout", callback);
    }
    this.touch();
    this.net._timer(this, ms > 0 && !this.destroyed);
    this.net.board.kick();
    return this;
  }

  /** The idle timeout set by setTimeout(), as node's socket.timeout. */
  get timeout(): number | undefined {
    return this.idleMs > 0 ? this.idleMs : undefined;
  }

  /** Activity: restart the idle timer. */
  private touch(): void {
    this.idleSince = this.net.board.now();
    this.idleFired = false;
  }

  /** @internal When the idle timer fires (board clock), or undefined if it will not. */
  _timeoutDue(): number | undefined {
    return this.idleMs > 0 && !this.idleFired ? this.idleSince + this.idleMs : undefined;
  }

  /** @internal Emit 'timeout' once per idle period; true if it did. */
  _checkTimeout(now: number): boolean {
    const due = this._timeoutDue();
    if (due === undefined || now < due) return false;
    this.idleFired = true;
    this.emit("timeout");
    return true;
  }

  setNoDelay(noDelay = true): this {
    if (this.fdNum >= 0) {
      this.net.tcp.tcp_setopt(this.fdNum, TCP_OPT_NODELAY, noDelay ? 1 : 0);
      this.net.board.kick();
    }
    return this;
  }

  /** Keep-alive: first probe after initialDelay ms idle (0 keeps the current value). The third
   *  argument (not in node) sets the probe interval and count (TCP_KEEPINTVL, TCP_KEEPCNT). */
  setKeepAlive(enable = false, initialDelay = 0, probes: KeepAliveProbes = {}): this {
    if (this.fdNum < 0) return this;
    const tcp = this.net.tcp;
    if (probes.interval) tcp.tcp_setopt(this.fdNum, TCP_OPT_KEEPINTVL, Math.max(1, Math.round(probes.interval)));
    if (probes.count) tcp.tcp_setopt(this.fdNum, TCP_OPT_KEEPCNT, Math.max(1, Math.round(probes.count)));
    tcp.tcp_setopt(this.fdNum, TCP_OPT_KEEPALIVE, enable ? 1 : 0);
    if (enable && initialDelay > 0) tcp.tcp_setopt(this.fdNum, TCP_OPT_KEEPIDLE, Math.round(initialDelay));
    this.net.board.kick();
    return this;
  }

  /** Reset the connection (RST) and destroy the socket, like node's socket.resetAndDestroy(). */
  resetAndDestroy(): this {
    this.resetOnDestroy = true;
    this.destroy();
    return this;
  }

  ref(): this {
    return this;
  }
  unref(): this {
    return this;
  }

  // ---- stream.Duplex implementation ----

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.fdNum < 0 && !this.connecting) {
      cb(netError("EPIPE", "write"));
      return;
    }
    this.pendingWrite = { chunk, off: 0, cb };
    if (!this.connecting) this.flushWrite();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.pendingFinal = cb;
    if (!this.connecting) this.doFinal();
  }

  override _read(): void {
    this.wantRead = true;
    if (!this.connecting && this.fdNum >= 0) this.doRead();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.net._timer(this, false);
    this.release();
    this.pendingWrite = null;
    this.pendingFinal = null;
    this.connecting = false;
    this.server?._connectionClosed(this);
    netActivity.pending = true;
    cb(err);
  }

  // ---- driven by Net.pump() ----

  /** @internal */
  _pump(): boolean {
    const fd = this.fdNum;
    if (fd < 0) return false;
    const ev = this.net.tcp.tcp_events(fd);
    const changed = ev !== this.lastEv;
    this.lastEv = ev;
    if (!changed && !(this.wantRead && ev & EV_READABLE && !this.eof) && !(this.pendingWrite && ev & EV_WRITABLE)) return false;
    if (this.connecting) {
      if (ev & EV_ERROR) {
        const t = this.connectTarget;
        this.destroy(netError(this.pendingError(), "connect", t?.host, t?.port));
        return true;
      }
      if ((ev & EV_CONNECTED) === 0) return false;
      this.connecting = false;
      this.cacheAddresses();
      this.touch();
      this.emit("connect");
      this.emit("ready");
      if (this.fdNum < 0) return true;
    }
    if (ev & EV_ERROR) {
      // Bytes that arrived before the error are still delivered, then the error.
      this.drainForError();
      return true;
    }
    if (this.pendingWrite && ev & EV_WRITABLE) this.flushWrite();
    if (this.pendingFinal && this.fdNum >= 0) this.doFinal();
    if (this.wantRead && ev & EV_READABLE && this.fdNum >= 0) this.doRead();
    return true;
  }

  private pendingError(): number {
    // tcp_send reports the connection's error before anything else, and queues nothing for len 0.
    const rc = this.fdNum >= 0 ? this.net.tcp.tcp_send(this.fdNum, this.net.io, 0) : ENOTCONN;
    return rc < 0 ? rc : ENOTCONN;
  }

  private cacheAddresses(): void {
    const tcp = this.net.tcp;
    const fd = this.fdNum;
    // An fd is its row of the connection table: an IPv6 row has both addresses.
    if (tcp.tcp_table_row6?.(fd, this.net.io) === 1) {
      const b = this.net.mem().slice(this.net.io, this.net.io + 32);
      this.family = "IPv6";
      this.localAddress = formatIpv6(b.subarray(0, 16));
      this.remoteAddress = formatIpv6(b.subarray(16));
      this.remotePort = tcp.tcp_remote_port(fd);
      this.localPort = tcp.tcp_local_port(fd);
      return;
    }
    this.family = "IPv4";
    this.remoteAddress = u32ToIp(tcp.tcp_remote_ip(fd));
    this.remotePort = tcp.tcp_remote_port(fd);
    this.localAddress = localFor(tcp.tcp_remote_ip(fd), this.net.board.ipString);
    this.localPort = tcp.tcp_local_port(fd);
  }

  private flushWrite(): void {
    const p = this.pendingWrite;
    if (!p || this.fdNum < 0) return;
    const { tcp, io, ioSize } = this.net;
    const mem = this.net.mem();
    let sent = false;
    while (p.off < p.chunk.length) {
      const n = Math.min(ioSize, p.chunk.length - p.off);
      mem.set(p.chunk.subarray(p.off, p.off + n), io);
      const r = tcp.tcp_send(this.fdNum, io, n);
      if (r > 0) {
        p.off += r;
        this.bytesWritten += r;
        if (!sent) this.touch();
        sent = true;
        continue;
      }
      if (sent) this.net.board.kick();
      if (r === EWOULDBLOCK) return; // resumed by the pump when the core reports WRITABLE
      this.pendingWrite = null;
      this.destroy(netError(r === ENOTCONN ? "EPIPE" : r, "write"));
      return;
    }
    this.pendingWrite = null;
    this.net.board.kick();
    netActivity.pending = true;
    p.cb();
  }

  private doFinal(): void {
    const cb = this.pendingFinal;
    if (!cb || this.pendingWrite) return;
    this.pendingFinal = null;
    if (this.fdNum >= 0) {
      const rc = this.net.tcp.tcp_shutdown(this.fdNum, 1);
      this.net.board.kick();
      netActivity.pending = true;
      if (rc < 0 && rc !== ENOTCONN) return cb(netError(rc, "shutdown"));
    }
    cb();
  }

  /** Pull what the core has received into the stream, while the consumer wants more. */
  private doRead(): void {
    if (this.reading) {
      this.readAgain = true;
      return;
    }
    this.reading = true;
    try {
      do {
        this.readAgain = false;
        this.readOnce(false);
      } while (this.readAgain && this.wantRead && this.fdNum >= 0 && !this.eof);
    } finally {
      this.reading = false;
    }
  }

  /** One pass: everything the receive ring holds (at most its size), as one chunk. With force
   *  (an error is pending) push regardless of backpressure and leave the error to the caller. */
  private readOnce(force: boolean): void {
    if (this.eof || this.fdNum < 0) return;
    const { tcp, io, ioSize } = this.net;
    const parts: Uint8Array[] = [];
    let total = 0;
    let status = 1; // what ended the loop: 1 (enough for one push), EWOULDBLOCK, 0 (end of stream) or an error
    while (total < 65536) {
      const r = tcp.tcp_recv(this.fdNum, io, ioSize);
      if (r <= 0) {
        status = r;
        break;
      }
      parts.push(this.net.mem().slice(io, io + r));
      total += r;
    }
    if (total > 0) {
      this.net.board.kick(); // reading may have opened the window: a window update goes out
      this.bytesRead += total;
      this.touch();
      netActivity.pending = true;
      const chunk = parts.length === 1 ? Buffer.from(parts[0].buffer, parts[0].byteOffset, total) : Buffer.concat(parts, total);
      if (!this.push(chunk) && !force) this.wantRead = false;
    }
    if (this.fdNum < 0) return; // a 'data' handler destroyed us
    if (status === 0) {
      this.eof = true;
      netActivity.pending = true;
      this.push(null);
      this.read(0); // like node: lets 'end' come even when nobody consumes the (empty) stream
    } else if (status === 1) {
      this.readAgain = true;
    } else if (status !== EWOULDBLOCK && !force) {
      this.destroy(netError(status, "read"));
    }
  }

  private drainForError(): void {
    const code = this.pendingError();
    if (!this.eof) this.readOnce(true);
    if (this.fdNum >= 0 && !this.destroyed) this.destroy(netError(code, "read"));
  }

  /** Give the fd back to the core: a graceful close (FIN after queued data; RST if received data
   *  was left unread) or, after resetAndDestroy(), an abort (RST). */
  private release(): void {
    const fd = this.fdNum;
    if (fd < 0) return;
    this.fdNum = -1;
    this.net._unregister(fd, this);
    if (this.resetOnDestroy) this.net.tcp.tcp_abort(fd);
    else this.net.tcp.tcp_close(fd);
    this.net.board.kick();
  }
}

export { ENOBUFS as WASMIP_ENOBUFS };
