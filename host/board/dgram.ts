// A node:dgram-shaped API over a Board's UDP exports (wasmip.h, "UDP sockets"):
// board.dgram.createSocket("udp4") gives a Socket with bind(), connect(), send(), close() and the
// 'message' / 'listening' / 'error' / 'close' events, whose datagrams go through the wasmip core.
//
// Like host/board/net.ts, everything is driven by the board's driver: Board runs pump() after each
// input()/poll(), and pump() drains every socket's queue into 'message' events.
//
// Multicast (images built with WASMIP_MULTICAST=1): addMembership/dropMembership and
// setMulticastTTL as in node; the board never loops its own multicast back to itself, so
// setMulticastLoopback(true) is refused (ENOSYS), and there is one interface.
//
// IPv6 (images built with WASMIP_IPV6=1): send() and connect() take IPv6 text ("fe80::2",
// "fd00::1"), from a "udp4" socket as well as a "udp6" one: every core socket receives both families
// on its port (as node's dual-stack udp6), and rinfo.family says which a datagram came over (an
// IPv4 sender keeps its dotted quad, not the ::ffff: mapped form).
import { EventEmitter } from "node:events";
import { formatIpv6, ipToU32, parseIpv6, u32ToIp } from "./address.ts";
import { codedError, ERRORS } from "./errors.ts";
import { netActivity, type LayerHost } from "./pump.ts";

interface UdpExports {
  memory: WebAssembly.Memory;
  io_buffer(): number;
  io_buffer_size(): number;
  udp_socket(): number;
  udp_bind(fd: number, port: number): number;
  udp_connect(fd: number, ip: number, port: number): number;
  udp_sendto(fd: number, ptr: number, len: number, ip: number, port: number): number;
  udp_recvfrom(fd: number, ptr: number, len: number): number;
  udp_from_ip(fd: number): number;
  udp_from_port(fd: number): number;
  udp_close(fd: number): number;
  udp_local_port(fd: number): number;
  udp_join?(fd: number, group: number): number;
  udp_leave?(fd: number, group: number): number;
  udp_set_multicast_ttl?(fd: number, ttl: number): number;
  udp_connect6?(fd: number, ptr: number, port: number): number;
  udp_sendto6?(fd: number, ptr: number, len: number, addr: number, port: number): number;
  udp_from6?(fd: number, out: number): number;
  config?(id: number): number;
}

const ENOSYS = -15;
const isIpv6 = (a: string) => a.includes(":");

const EWOULDBLOCK = -3;

export interface RemoteInfo {
  address: string;
  family: "IPv4" | "IPv6";
  port: number;
  size: number;
}

function udpError(code: number, syscall: string): Error & { code: string; errno: number; syscall: string } {
  const name = ERRORS[code] ?? `E${-code}`;
  return Object.assign(new Error(`${syscall} ${name}`), { code: name, errno: code, syscall });
}

export class UdpSocket extends EventEmitter {
  fd = -1;
  private closed = false;

  constructor(
    private readonly layer: Dgram,
    readonly type: "udp4" | "udp6" = "udp4",
  ) {
    super();
    const fd = layer.ex.udp_socket();
    if (fd < 0) throw udpError(fd, "socket");
    this.fd = fd;
  }

  /** bind(port = 0, cb): the board's own address; 0 picks an ephemeral port. */
  bind(port = 0, cb?: () => void): this {
    const rc = this.layer.ex.udp_bind(this.fd, port);
    if (rc < 0) throw udpError(rc, "bind");
    if (cb) this.once("listening", cb);
    queueMicrotask(() => this.emit("listening"));
    return this;
  }

  connect(port: number, address: string, cb?: () => void): void {
    const ex = this.layer.ex;
    let rc: number;
    if (isIpv6(address)) {
      new Uint8Array(ex.memory.buffer, ex.io_buffer(), 16).set(parseIpv6(address));
      rc = ex.udp_connect6 ? ex.udp_connect6(this.fd, ex.io_buffer(), port) : ENOSYS;
    } else {
      rc = ex.udp_connect(this.fd, ipToU32(address), port);
    }
    if (rc < 0) throw udpError(rc, "connect");
    if (cb) queueMicrotask(cb);
  }

  /** send(msg, port?, address?, cb?): port and address may be left out on a connected socket. */
  send(msg: Uint8Array | string, port?: number, address?: string, cb?: (err: Error | null, bytes: number) => void): void {
    const data = typeof msg === "string" ? Buffer.from(msg) : msg;
    const ex = this.layer.ex;
    const v6 = address !== undefined && isIpv6(address);
    // Over IPv6 the address goes first in the io buffer, the datagram after it.
    const at = v6 ? 16 : 0;
    if (data.length + at > ex.io_buffer_size()) throw udpError(-10, "send");
    const io = ex.io_buffer();
    new Uint8Array(ex.memory.buffer, io + at, data.length).set(data);
    let rc: number;
    if (v6) {
      new Uint8Array(ex.memory.buffer, io, 16).set(parseIpv6(address));
      rc = ex.udp_sendto6 ? ex.udp_sendto6(this.fd, io + 16, data.length, io, port ?? 0) : ENOSYS;
    } else {
      rc = ex.udp_sendto(this.fd, io, data.length, address ? ipToU32(address) : 0, port ?? 0);
    }
    this.layer.board.kick();
    const err = rc < 0 ? udpError(rc, "send") : null;
    if (cb) queueMicrotask(() => cb(err, rc < 0 ? 0 : rc));
    else if (err) queueMicrotask(() => this.emit("error", err));
  }

  address(): { address: string; family: "IPv4" | "IPv6"; port: number } {
    if (this.type === "udp6") return { address: "::", family: "IPv6", port: this.port };
    return { address: u32ToIp(this.layer.board.ip), family: "IPv4", port: this.port };
  }

  /** Join a multicast group (its datagrams to this socket's port arrive as 'message'). */
  addMembership(multicastAddress: string, multicastInterface?: string): void {
    this.checkInterface(multicastInterface);
    const rc = this.multicast("udp_join")(this.fd, ipToU32(multicastAddress));
    this.layer.board.kick(); // the join's report
    if (rc < 0) throw udpError(rc, "addMembership");
  }

  dropMembership(multicastAddress: string, multicastInterface?: string): void {
    this.checkInterface(multicastInterface);
    const rc = this.multicast("udp_leave")(this.fd, ipToU32(multicastAddress));
    this.layer.board.kick();
    if (rc < 0) throw udpError(rc, "dropMembership");
  }

  setMulticastTTL(ttl: number): number {
    const rc = this.multicast("udp_set_multicast_ttl")(this.fd, ttl);
    if (rc < 0) throw udpError(rc, "setMulticastTTL");
    return ttl;
  }

  /** The board does not deliver its own multicast to itself: only false is accepted. */
  setMulticastLoopback(flag: boolean): boolean {
    if (flag) throw codedError("ENOSYS", new Error("setMulticastLoopback: the board never loops its multicast back to itself"));
    return flag;
  }

  /** The board has one interface: its own address (or none given) is the only one. */
  setMulticastInterface(multicastInterface: string): void {
    this.checkInterface(multicastInterface);
  }

  private checkInterface(iface?: string): void {
    if (iface !== undefined && ipToU32(iface) !== this.layer.board.ip)
      throw codedError("EADDRNOTAVAIL", new Error(`${iface} is not this board's address (${u32ToIp(this.layer.board.ip)})`));
  }

  private multicast(name: "udp_join" | "udp_leave" | "udp_set_multicast_ttl"): (fd: number, v: number) => number {
    const f = this.layer.ex[name];
    if (!f) throw codedError("ENOSYS", new Error(`${name}: this image has no multicast (build it with --use WASMIP_MULTICAST=1)`));
    return f.bind(this.layer.ex);
  }

  /** The bound port (0 before bind or the first send). */
  get port(): number {
    return this.layer.ex.udp_local_port(this.fd);
  }

  close(cb?: () => void): void {
    if (this.closed) return;
    this.closed = true;
    this.layer.ex.udp_close(this.fd);
    this.layer.forget(this);
    if (cb) this.once("close", cb);
    queueMicrotask(() => this.emit("close"));
  }

  /** Drains received datagrams into 'message' events; true if any arrived. */
  drain(): boolean {
    if (this.closed) return false;
    const ex = this.layer.ex;
    const io = ex.io_buffer();
    const size = ex.io_buffer_size();
    let any = false;
    for (let i = 0; i < 64; i++) {
      const n = ex.udp_recvfrom(this.fd, io, size);
      if (n === EWOULDBLOCK) break;
      any = true;
      // Listeners may await promises: an async simulator driver must let the event loop run.
      netActivity.pending = true;
      if (n < 0) {
        this.emit("error", udpError(n, "recvmsg"));
        continue;
      }
      const msg = Buffer.from(new Uint8Array(ex.memory.buffer, io, n));
      const port = ex.udp_from_port(this.fd);
      const rinfo: RemoteInfo = ex.udp_from6?.(this.fd, io) === 1
        ? { address: formatIpv6(new Uint8Array(ex.memory.buffer, io, 16).slice()), family: "IPv6", port, size: n }
        : { address: u32ToIp(ex.udp_from_ip(this.fd)), family: "IPv4", port, size: n };
      this.emit("message", msg, rinfo);
    }
    return any;
  }
}

export class Dgram {
  readonly ex: UdpExports;
  private readonly sockets = new Set<UdpSocket>();

  constructor(readonly board: LayerHost) {
    this.ex = board.exports as unknown as UdpExports;
    board.addPump(() => this.pump());
  }

  createSocket(type: "udp4" | "udp6" = "udp4", onMessage?: (msg: Buffer, rinfo: RemoteInfo) => void): UdpSocket {
    if (type !== "udp4" && type !== "udp6") throw codedError("ERR_SOCKET_BAD_TYPE", new TypeError(`only udp4 and udp6 are supported, not ${type}`));
    // config 14: IPv6 address slots, 0 in an image without IPv6 (wasmip.h WASMIP_CONFIG_IPV6_ADDRS).
    if (type === "udp6" && !this.ex.config?.(14)) throw codedError("ENOSYS", new Error("udp6: this image has no IPv6 (build it with --use WASMIP_IPV6=1)"));
    const s = new UdpSocket(this, type);
    if (onMessage) s.on("message", onMessage);
    this.sockets.add(s);
    return s;
  }

  forget(s: UdpSocket): void {
    this.sockets.delete(s);
  }

  pump(): boolean {
    let did = false;
    for (const s of this.sockets) did = s.drain() || did;
    return did;
  }
}
