import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { PcapWriter, parsePcap } from "../../host/capture/pcap.ts";
import { Simulator } from "../../host/sim/sim.ts";

const dir = mkdtempSync(path.join(tmpdir(), "wasmip-pcap-"));
test.after(() => rmSync(dir, { recursive: true, force: true }));

const frame = (n: number, fill: number) => new Uint8Array(n).fill(fill);

test("global header: magic a1b2c3d4 (little-endian), v2.4, snaplen 65535, Ethernet", () => {
  const file = path.join(dir, "empty.pcap");
  const w = new PcapWriter(file);
  w.close();
  const buf = readFileSync(file);
  assert.equal(buf.length, 24);
  assert.deepEqual(
    [...buf],
    [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 1, 0, 0, 0],
  );
  const p = parsePcap(buf);
  assert.equal(p.magic, 0xa1b2c3d4);
  assert.equal(p.versionMajor, 2);
  assert.equal(p.versionMinor, 4);
  assert.equal(p.thiszone, 0);
  assert.equal(p.sigfigs, 0);
  assert.equal(p.snaplen, 65535);
  assert.equal(p.linktype, 1);
  assert.equal(p.records.length, 0);
});

test("record headers: timestamps from ms, lengths, data, snaplen truncation", () => {
  const file = path.join(dir, "records.pcap");
  const w = new PcapWriter(file);
  const frames: [Uint8Array, number][] = [
    [frame(60, 0xaa), 0],
    [frame(98, 0xbb), 1234.5678], // 1 s 234568 µs
    [frame(1514, 0xcc), 999.9999], // rounds to exactly 1 s, never to 1e6 µs
    [frame(42, 0xdd), 2 ** 32 - 1], // a u32 ms clock about to wrap: 4294967.295 s
    [frame(70000, 0xee), 5e9], // longer than the snaplen
  ];
  for (const [f, t] of frames) w.write(f, t);
  assert.equal(w.frames, 5);
  w.close();
  w.close(); // idempotent
  assert.throws(() => w.write(frame(60, 0), 0), /after close/);

  const buf = readFileSync(file);
  assert.equal(buf.length, 24 + frames.reduce((s, [f]) => s + 16 + Math.min(f.length, 65535), 0));
  const p = parsePcap(buf);
  assert.equal(p.records.length, frames.length);
  const expectTimes = [
    [0, 0],
    [1, 234568],
    [1, 0],
    [4294967, 295000],
    [5000000, 0],
  ];
  p.records.forEach((r, i) => {
    const [f] = frames[i];
    assert.deepEqual([r.timeSec, r.timeUsec], expectTimes[i], `record ${i} time`);
    assert.ok(r.timeUsec < 1e6);
    assert.equal(r.origLen, f.length, `record ${i} orig_len`);
    assert.equal(r.data.length, Math.min(f.length, 65535), `record ${i} incl_len`);
    assert.deepEqual(r.data, f.subarray(0, r.data.length), `record ${i} data`);
  });
  // First record header, byte by byte: ts_sec, ts_usec, incl_len, orig_len (all little-endian).
  assert.deepEqual([...buf.subarray(24, 40)], [0, 0, 0, 0, 0, 0, 0, 0, 60, 0, 0, 0, 60, 0, 0, 0]);
});

test("parsePcap rejects a bad magic and a truncated record", () => {
  const w = new PcapWriter(path.join(dir, "unused.pcap"));
  w.write(frame(60, 1), 10);
  const good = w.bytes();
  const bad = good.slice();
  bad[0] ^= 0xff;
  assert.throws(() => parsePcap(bad), /bad magic/);
  assert.throws(() => parsePcap(good.subarray(0, good.length - 1)), /short record/);
});

test("the simulator captures each transmitted frame once, stamped with its virtual send time", () => {
  const file = path.join(dir, "sim.pcap");
  const sim = new Simulator({ seed: 3, startTime: 1000 });
  const w = new PcapWriter(file);
  sim.capture(w);
  const a = sim.attach("a", () => {}, { delay: 5, loss: 1 }); // lost frames are still captured
  const b = sim.attach("b", () => {});
  const f1 = frame(60, 1);
  f1.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1]);
  const f2 = frame(64, 2);
  f2.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2]);
  a.send(f1);
  sim.runFor(250.5);
  b.send(f2);
  sim.runFor(100);
  w.close();
  const p = parsePcap(readFileSync(file));
  assert.equal(p.records.length, 2);
  assert.deepEqual([p.records[0].timeSec, p.records[0].timeUsec], [1, 0]);
  assert.deepEqual([p.records[1].timeSec, p.records[1].timeUsec], [1, 250500]);
  assert.deepEqual(p.records[0].data, f1);
  assert.deepEqual(p.records[1].data, f2);
});
