// The node:net-shaped API's newer parts in virtual time: connect by host name through the board's
// own resolver (host/sim/services/dnsd.ts answers), socket.setTimeout as an idle timer on the
// board's clock, and node-style codes on every error the API throws.
import { test } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { Simulator } from "../../host/sim/sim.ts";
import { SimDnsServer } from "../../host/sim/services/dnsd.ts";
import type { NetError, Socket } from "../../host/board/net.ts";
import { ipToU32, parseMac } from "../../host/board/address.ts";

function setup() {
  const sim = new Simulator({ seed: 11 });
  const a = sim.addBoard({ name: "A", mac: "02:00:00:00:00:0a", ip: "10.0.0.2", prefix: 24 });
  const b = sim.addBoard({ name: "B", mac: "02:00:00:00:00:0b", ip: "10.0.0.3", prefix: 24 });
  const ns = new SimDnsServer(sim, { name: "ns1", mac: "02:00:00:00:d0:35", ip: "10.0.0.53", records: { "b.test": "10.0.0.3" }, ttl: 60 });
  a.dns.setServers(["10.0.0.53"]);
  return { sim, a, b, ns };
}

const errorOf = (s: Socket) => new Promise<NetError & { hostname?: string }>((resolve) => s.once("error", (e) => resolve(e as NetError)));

test("connect by host name: the board's resolver, 'lookup', then the connection", async () => {
  const { sim, a, b, ns } = setup();
  const got: Buffer[] = [];
  b.net.createServer((s) => s.on("data", (d: Buffer) => s.end(Buffer.concat([Buffer.from("re:"), d])))).listen(7);
  const lookups: unknown[][] = [];
  const c = a.net.connect(7, "b.test");
  c.on("lookup", (...args: unknown[]) => lookups.push(args));
  assert.equal(c.connecting, true);
  c.write("hi"); // queued until connected, as node does during a lookup
  c.on("data", (d: Buffer) => got.push(d));
  await sim.runUntilSettled(once(c, "end"), { timeout: 10_000 });
  assert.deepEqual(lookups, [[null, "10.0.0.3", 4, "b.test"]]);
  assert.equal(Buffer.concat(got).toString(), "re:hi");
  assert.equal(c.remoteAddress, "10.0.0.3");
  assert.equal(ns.queries.length, 1);
  assert.equal(ns.queries[0].name, "b.test");
});

test("connect to a name nobody has: ENOTFOUND from getaddrinfo, no socket left", async () => {
  const { sim, a } = setup();
  const c = a.net.connect({ host: "nobody.test", port: 80 });
  const e = await sim.runUntilSettled(errorOf(c), { timeout: 10_000 });
  assert.equal(e.code, "ENOTFOUND");
  assert.equal(e.syscall, "getaddrinfo");
  assert.equal(e.hostname, "nobody.test");
  assert.equal(c.destroyed, true);
  assert.equal(a.net.openSockets, 0);
  assert.equal(a.tcpTable().length, 0);
});

test("setTimeout: 'timeout' after the idle time on the board's clock, re-armed by traffic, off with 0", async () => {
  const { sim, a, b } = setup();
  let peer: Socket | undefined;
  b.net.createServer((s) => (peer = s)).listen(9);
  const c = a.net.connect({ host: "10.0.0.3", port: 9, timeout: 5000 });
  assert.equal(c.timeout, 5000);
  await sim.runUntilSettled(once(c, "connect"), { timeout: 5000 });
  const connectedAt = sim.now;
  const fired: number[] = [];
  c.on("timeout", () => fired.push(sim.now));
  await sim.runUntilAsync(connectedAt + 4900);
  assert.deepEqual(fired, [], "not before the idle time");
  await sim.runUntilAsync(connectedAt + 5100);
  assert.equal(fired.length, 1);
  assert.ok(fired[0] >= connectedAt + 5000 && fired[0] <= connectedAt + 5001, `fired at +${fired[0] - connectedAt} ms`);
  assert.equal(c.destroyed, false, "a timeout does not close the socket");
  await sim.runUntilAsync(sim.now + 20_000);
  assert.equal(fired.length, 1, "once per idle period");
  // Traffic from the peer restarts the timer.
  peer!.write("x");
  await sim.runUntilSettled(once(c, "data"), { timeout: 1000 });
  const dataAt = sim.now;
  await sim.runUntilAsync(dataAt + 5100);
  assert.equal(fired.length, 2);
  assert.ok(fired[1] >= dataAt + 5000 && fired[1] <= dataAt + 5001, `fired at +${fired[1] - dataAt} ms after data`);
  c.setTimeout(0);
  assert.equal(c.timeout, undefined);
  await sim.runUntilAsync(sim.now + 20_000);
  assert.equal(fired.length, 2, "off after setTimeout(0)");
  c.destroy();
  await sim.runUntilAsync(sim.now + 10);
});

test("errors thrown by the API carry node's codes", () => {
  const { a } = setup();
  const code = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      return (e as { code?: string }).code;
    }
    return "no error";
  };
  assert.equal(code(() => a.net.connect({ port: 70000, host: "10.0.0.3" })), "ERR_SOCKET_BAD_PORT");
  assert.equal(code(() => a.net.connect({ port: 0, host: "10.0.0.3" })), "ERR_SOCKET_BAD_PORT");
  assert.equal(code(() => a.net.connect({ port: 80, host: "10.0.0.300" })), "ERR_INVALID_IP_ADDRESS");
  const s = a.net.connect({ port: 80, host: "10.0.0.3" });
  assert.equal(code(() => s.connect({ port: 80, host: "10.0.0.3" })), "ERR_SOCKET_CONNECTING");
  assert.equal(code(() => s.setTimeout(-1)), "ERR_OUT_OF_RANGE");
  s.destroy();
  assert.equal(code(() => ipToU32("1.2.3")), "ERR_INVALID_IP_ADDRESS");
  assert.equal(code(() => parseMac("02:00")), "ERR_INVALID_ARG_VALUE");
  assert.equal(code(() => a.dns.setServers(["10.0.0.1", "10.0.0.2", "10.0.0.3"])), "ERR_INVALID_ARG_VALUE");
  assert.equal(code(() => a.dgram.createSocket("udp5" as "udp4")), "ERR_SOCKET_BAD_TYPE");
  assert.equal(code(() => a.dgram.createSocket("udp6")), "ENOSYS"); // an image without IPv6
  assert.equal(code(() => a.ping("10.0.0.300", 1)), "ERR_INVALID_IP_ADDRESS");
});
