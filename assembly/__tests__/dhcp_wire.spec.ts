// DHCP messages: emit/parse round trips and option parsing robustness (never a trap).
import { WireError } from "../wire/error";
import { DhcpRepr, EMIT_MAX, HAS_LEASE, HAS_MASK, HAS_REQUESTED_IP, HAS_ROUTER, HAS_SERVER_ID, HAS_T1, HAS_T2 } from "../wire/dhcp";
import { put32 } from "../support/bytes";
import { begin, finish, opt32, opt8, optIps, rawByte, standard } from "./dhcp_support";

const buf = heap.alloc(1024);
const name = heap.alloc(80);
const a = changetype<DhcpRepr>(heap.alloc(offsetof<DhcpRepr>()));
const b = changetype<DhcpRepr>(heap.alloc(offsetof<DhcpRepr>()));

function client(type: u32): u32 {
  a.op = 1;
  a.hops = 0;
  a.xid = 0xdeadbeef;
  a.secs = 7;
  a.flags = 0x8000;
  a.ciaddr = 0x0a000005;
  a.yiaddr = 0;
  a.siaddr = 0;
  a.giaddr = 0;
  a.chaddr0 = 0x44332211;
  a.chaddr4 = 0x6655;
  a.msgType = type;
  a.present = HAS_REQUESTED_IP | HAS_SERVER_ID;
  a.requestedIp = 0x0a000032;
  a.serverId = 0x0a000002;
  for (let i = 0; i < 6; i++) store<u8>(name + i, <u8>"board1".charCodeAt(i));
  a.hostPtr = name;
  a.hostLen = 6;
  a.paramRequest = true;
  a.maxMsgSize = 576;
  a.clientId = true;
  return a.emit(buf);
}

describe("DHCP wire", () => {
  it("parses the client messages it emits", () => {
    const n = client(3);
    expect(n).toBe(300); // padded to the BOOTP minimum
    expect(b.parse(buf, n)).toBe(WireError.OK);
    expect(b.op).toBe(1);
    expect(b.xid).toBe(0xdeadbeef);
    expect(b.secs).toBe(7);
    expect(b.flags).toBe(0x8000);
    expect(b.ciaddr).toBe(0x0a000005);
    expect(b.chaddr0).toBe(0x44332211);
    expect(b.chaddr4).toBe(0x6655);
    expect(b.msgType).toBe(3);
    expect(b.requestedIp).toBe(0x0a000032);
    expect(b.serverId).toBe(0x0a000002);
    expect(b.present).toBe(HAS_REQUESTED_IP | HAS_SERVER_ID);
    expect(load<u8>(buf + 236)).toBe(0x63);
    expect(load<u8>(buf + 239)).toBe(0x63);
  });

  it("caps the host name at 63 bytes and never writes past EMIT_MAX", () => {
    client(1);
    a.hostLen = 200;
    memory.fill(buf, 0xee, 1024);
    const n = a.emit(buf);
    expect(n).toBe(EMIT_MAX);
    expect(load<u8>(buf + EMIT_MAX)).toBe(0xee);
    expect(b.parse(buf, n)).toBe(WireError.OK);
  });

  it("parses a server reply with every option the client uses", () => {
    const n = standard(buf, 5, 0x1234, 0x0a000032, 0x0a000002, 7200, 3000, 6000);
    expect(b.parse(buf, n)).toBe(WireError.OK);
    expect(b.op).toBe(2);
    expect(b.msgType).toBe(5);
    expect(b.yiaddr).toBe(0x0a000032);
    expect(b.present).toBe(HAS_SERVER_ID | HAS_LEASE | HAS_T1 | HAS_T2 | HAS_MASK | HAS_ROUTER);
    expect(b.leaseTime).toBe(7200);
    expect(b.t1).toBe(3000);
    expect(b.t2).toBe(6000);
    expect(b.subnetMask).toBe(0xffffff00);
    expect(b.router).toBe(0x0a0000fe);
    expect(b.dnsCount).toBe(2);
    expect(b.dns0).toBe(0x0a000035);
    expect(b.dns1).toBe(0x08080808);
  });

  it("rejects every truncation of a reply", () => {
    const n = standard(buf, 5, 0x1234);
    for (let k: u32 = 0; k < n; k++) expect(b.parse(buf, k)).not.toBe(WireError.OK, k.toString());
    expect(b.parse(buf, n)).toBe(WireError.OK);
  });

  it("rejects a bad op, hardware type, hlen and cookie", () => {
    const n = standard(buf, 5, 1);
    store<u8>(buf, 3);
    expect(b.parse(buf, n)).toBe(WireError.BAD_OP);
    standard(buf, 5, 1);
    store<u8>(buf + 1, 6);
    expect(b.parse(buf, n)).toBe(WireError.UNSUPPORTED);
    standard(buf, 5, 1);
    store<u8>(buf + 2, 16);
    expect(b.parse(buf, n)).toBe(WireError.UNSUPPORTED);
    standard(buf, 5, 1);
    store<u8>(buf + 239, 0);
    expect(b.parse(buf, n)).toBe(WireError.UNSUPPORTED);
  });

  it("rejects an option running past the end, a missing END, and invalid lengths", () => {
    begin(buf, 1, 0x0a000032);
    opt8(53, 5);
    rawByte(51);
    rawByte(200); // length far past the end
    rawByte(0);
    expect(b.parse(buf, finish())).toBe(WireError.TRUNCATED);
    begin(buf, 1, 0x0a000032);
    opt8(53, 5);
    expect(b.parse(buf, finish(true))).toBe(WireError.TRUNCATED); // no END
    begin(buf, 1, 0x0a000032);
    opt8(53, 5);
    rawByte(51); // a code as the last byte, no length
    expect(b.parse(buf, finish(true))).toBe(WireError.TRUNCATED);
    const bad: u32[] = [53, 1, 3, 6, 42, 51, 54, 58, 59];
    for (let i = 0; i < bad.length; i++) {
      begin(buf, 1, 0x0a000032);
      rawByte(bad[i]);
      rawByte(bad[i] == 53 ? 2 : bad[i] == 3 || bad[i] == 6 || bad[i] == 42 ? 6 : 3);
      for (let k = 0; k < 6; k++) rawByte(1);
      expect(b.parse(buf, finish())).toBe(WireError.BAD_OPTION, bad[i].toString());
    }
    begin(buf, 1, 0x0a000032);
    rawByte(3);
    rawByte(0); // an empty router list
    expect(b.parse(buf, finish())).toBe(WireError.BAD_OPTION);
  });

  it("skips pad and unknown options, keeps at most 3 DNS servers", () => {
    begin(buf, 1, 0x0a000032);
    rawByte(0);
    rawByte(0);
    rawByte(43); // vendor specific, 3 bytes
    rawByte(3);
    rawByte(1);
    rawByte(2);
    rawByte(3);
    opt8(53, 2);
    rawByte(6);
    rawByte(16);
    for (let k: u32 = 1; k <= 4; k++) {
      rawByte(9);
      rawByte(9);
      rawByte(9);
      rawByte(k);
    }
    expect(b.parse(buf, finish())).toBe(WireError.OK);
    expect(b.msgType).toBe(2);
    expect(b.dnsCount).toBe(3);
    expect(b.dns2).toBe(0x09090903);
  });

  it("asks for NTP servers (option 42) and keeps the first two", () => {
    const n = client(1);
    expect(b.parse(buf, n)).toBe(WireError.OK);
    let p = buf + 240;
    while (load<u8>(p) != 55) p += 2 + <usize>load<u8>(p + 1);
    expect(load<u8>(p + 1)).toBe(7);
    expect(load<u8>(p + 5)).toBe(42);
    begin(buf, 1, 0x0a000032);
    opt8(53, 5);
    rawByte(42);
    rawByte(12);
    for (let k: u32 = 1; k <= 3; k++) {
      rawByte(10);
      rawByte(0);
      rawByte(0);
      rawByte(k);
    }
    expect(b.parse(buf, finish())).toBe(WireError.OK);
    expect(b.ntp0).toBe(0x0a000001);
    expect(b.ntp1).toBe(0x0a000002);
    begin(buf, 1, 0x0a000032);
    opt8(53, 5);
    optIps(42, 0x0a000007, 0);
    expect(b.parse(buf, finish())).toBe(WireError.OK);
    expect(b.ntp0).toBe(0x0a000007);
  });

  it("reads options overloaded into file and sname (option 52), once each", () => {
    begin(buf, 1, 0x0a000032);
    opt8(53, 5);
    opt8(52, 3);
    const n = finish();
    // file (offset 108): lease time; sname (offset 44): server id
    store<u8>(buf + 108, 51);
    store<u8>(buf + 109, 4);
    put32(buf + 110, 999);
    store<u8>(buf + 114, 255);
    store<u8>(buf + 44, 54);
    store<u8>(buf + 45, 4);
    put32(buf + 46, 0x0a000002);
    store<u8>(buf + 50, 255);
    expect(b.parse(buf, n)).toBe(WireError.OK);
    expect(b.overload).toBe(3);
    expect(b.leaseTime).toBe(999);
    expect(b.serverId).toBe(0x0a000002);
    // an overload option inside the file area (a loop attempt) is rejected
    store<u8>(buf + 114, 52);
    store<u8>(buf + 115, 1);
    store<u8>(buf + 116, 3);
    store<u8>(buf + 117, 255);
    expect(b.parse(buf, n)).toBe(WireError.BAD_OPTION);
    // a file area without END, an option running past the file area's end
    memory.fill(buf + 108, 0, 128);
    expect(b.parse(buf, n)).toBe(WireError.TRUNCATED);
    store<u8>(buf + 108 + 126, 51);
    store<u8>(buf + 108 + 127, 4);
    expect(b.parse(buf, n)).toBe(WireError.TRUNCATED);
    // overload values other than 1..3, and a wrong length
    for (let v: u32 = 0; v < 256; v += 4) {
      begin(buf, 1, 0x0a000032);
      opt8(52, v);
      if (v >= 1 && v <= 3) continue;
      expect(b.parse(buf, finish())).toBe(WireError.BAD_OPTION);
    }
    begin(buf, 1, 0x0a000032);
    opt32(52, 1);
    expect(b.parse(buf, finish())).toBe(WireError.BAD_OPTION);
  });

  it("never traps on random option bytes (a 20000-message fuzz)", () => {
    let seed: u32 = 0x9e3779b9;
    let ok = 0;
    for (let k = 0; k < 20000; k++) {
      begin(buf, 1, 0x0a000032);
      const n: u32 = 240 + (k % 300);
      for (let i: u32 = 240; i < n; i++) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        store<u8>(buf + i, <u8>((seed & 31) == 0 ? 255 : (seed & 7) == 1 ? 52 : seed));
      }
      // overload areas filled with noise too
      for (let i: u32 = 44; i < 236; i++) store<u8>(buf + i, <u8>(seed + i * 7));
      if (b.parse(buf, n) == WireError.OK) ok++;
    }
    expect(ok).toBeGreaterThan(0);
  });
});
