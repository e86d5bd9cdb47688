// `wasmip ladder FILE.pcap [PEER.pcap] [--conn A:P-B:P] [-o OUT.svg]`: a TCP connection from a
// capture drawn as a sequence (ladder) diagram in SVG: the two endpoints as vertical lines, time
// going down, one arrow per segment labelled with its flags, sequence and acknowledgment numbers
// relative to each side's ISN, payload length and window (scaled when both SYNs agreed on it).
//
// What a capture can show, and so what is marked:
// - One capture (one point: the harness's network capture records each frame at its sender;
//   tcpdump records at one host): a *retransmission* is a segment whose sequence space was seen
//   before in that direction (spurious when the peer had already acknowledged all of it; fast
//   after three duplicate ACKs). A segment is *presumed lost* when it was sent again (no sooner
//   than the quickest acknowledgment seen in the capture) and no acknowledgment reaching into it
//   (cumulative beyond its first byte, or a SACK block over part of it) was captured in between.
//   That is what one point can see: usually the segment was lost; it may instead have been its
//   acknowledgment (seen at the sender), or a peer without SACK kept it out of order while the
//   sender went back and resent everything after an earlier loss. Lost pure ACKs carry no
//   sequence space and cannot be seen. A segment that starts beyond everything seen so far is
//   marked "previous segment not captured" (lost before a capture point at the receiver).
// - Two captures, one at each endpoint (`wasmip sim --capture-dir` writes one per board): each
//   segment is matched to its copy at the other end, the arrow runs from its send time to its
//   arrival time, and a segment in the sender's capture that never reached the peer's is *lost*
//   for certain (pure ACKs included); a second copy that arrived is a duplicate.
// Pure TypeScript; reads classic pcap and pcapng (host/capture/capture.ts).
import { readFileSync } from "node:fs";
import path from "node:path";
import { CaptureError, ipv4Payload, linktypeName, readCapture, type CapturedFrame } from "./capture.ts";

export class LadderError extends Error {} // bad input: exit 1
export class LadderUsageError extends Error {} // bad arguments: exit 2

export const TCP_FLAGS = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"] as const;
const FIN = 1;
const SYN = 2;
const RST = 4;
const ACK = 16;

export interface TcpSegment {
  frame: number; // frame number in its file
  time: number; // µs since the epoch of the capture's clock
  src: string; // "10.0.0.1:60747"
  dst: string;
  seq: number;
  ack: number;
  flags: number;
  window: number; // the raw 16-bit field
  len: number; // payload bytes (from the IP total length, not the captured length)
  mss?: number;
  wscale?: number;
  sackPermitted?: boolean;
  sack?: [number, number][];
  ipId: number;
  checksum: "ok" | "bad" | "offload" | "unknown";
  key: string; // identifies the same segment in another capture
}

export function flagNames(flags: number): string[] {
  return TCP_FLAGS.filter((_, i) => flags & (1 << i));
}

const ipStr = (p: Uint8Array, o: number) => `${p[o]}.${p[o + 1]}.${p[o + 2]}.${p[o + 3]}`;
const g16 = (p: Uint8Array, o: number) => (p[o] << 8) | p[o + 1];
const g32 = (p: Uint8Array, o: number) => ((p[o] << 24) | (p[o + 1] << 16) | (p[o + 2] << 8) | p[o + 3]) >>> 0;

function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + Math.floor(sum / 0x10000);
  return sum;
}

/** The TCP segment in a captured frame (IPv4, not a fragment), or undefined. */
export function decodeTcp(f: CapturedFrame): TcpSegment | undefined {
  const p = ipv4Payload(f);
  if (!p) return undefined;
  const ihl = (p[0] & 15) * 4;
  if (ihl < 20 || p.length < ihl + 20 || p[9] !== 6) return undefined;
  if ((p[6] & 0x3f) !== 0 || p[7] !== 0) return undefined; // a fragment: not reassembled
  // A capture of a segmentation-offloaded packet can carry total length 0: use what was captured.
  const total = g16(p, 2) || p.length;
  if (total < ihl + 20) return undefined;
  const t = ihl;
  const doff = (p[t + 12] >> 4) * 4;
  if (doff < 20 || total < ihl + doff) return undefined;
  const seg: TcpSegment = {
    frame: f.index,
    time: f.time,
    src: `${ipStr(p, 12)}:${g16(p, t)}`,
    dst: `${ipStr(p, 16)}:${g16(p, t + 2)}`,
    seq: g32(p, t + 4),
    ack: g32(p, t + 8),
    flags: p[t + 13],
    window: g16(p, t + 14),
    len: total - ihl - doff,
    ipId: g16(p, 4),
    checksum: "unknown",
    key: "",
  };
  // Options (RFC 9293 §3.2, RFC 7323, RFC 2018), within what was captured.
  const optEnd = Math.min(t + doff, p.length);
  for (let o = t + 20; o < optEnd; ) {
    const kind = p[o];
    if (kind === 0) break;
    if (kind === 1) {
      o++;
      continue;
    }
    if (o + 1 >= optEnd) break;
    const l = p[o + 1];
    if (l < 2 || o + l > optEnd) break;
    if (kind === 2 && l === 4) seg.mss = g16(p, o + 2);
    else if (kind === 3 && l === 3) seg.wscale = Math.min(p[o + 2], 14);
    else if (kind === 4 && l === 2) seg.sackPermitted = true;
    else if (kind === 5 && (l - 2) % 8 === 0) {
      seg.sack = [];
      for (let k = o + 2; k + 8 <= o + l; k += 8) seg.sack.push([g32(p, k), g32(p, k + 4)]);
    }
    o += l;
  }
  const field = g16(p, t + 16);
  if (p.length >= total) {
    const tcpLen = total - ihl;
    const pseudo = fold(g16(p, 12) + g16(p, 14) + g16(p, 16) + g16(p, 18) + 6 + tcpLen);
    let sum = pseudo;
    for (let i = t; i + 1 < t + tcpLen; i += 2) sum += g16(p, i);
    if (tcpLen & 1) sum += p[t + tcpLen - 1] << 8;
    // A sender with checksum offload leaves only the pseudo-header sum in the field (tshark and
    // tcpdump on that host capture it before the NIC fills it in): not an error.
    seg.checksum = fold(sum) === 0xffff ? "ok" : field === pseudo ? "offload" : "bad";
  }
  seg.key = `${seg.src}>${seg.dst}/${seg.seq}/${seg.ack}/${seg.flags}/${seg.len}/${seg.window}/${seg.ipId}/${field}`;
  return seg;
}

export interface Endpoints {
  a: string; // "ip:port", drawn on the left
  b: string;
}

/** "10.0.0.1:60747-10.0.0.3:54321" (either order matches; the first is drawn on the left). */
export function parseConn(s: string): Endpoints {
  const m = /^\s*(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\s*-\s*(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})\s*$/.exec(s);
  const okIp = (x: string) => x.split(".").every((o) => Number(o) <= 255);
  if (!m || !okIp(m[1]) || !okIp(m[3]) || Number(m[2]) > 65535 || Number(m[4]) > 65535)
    throw new LadderUsageError(`--conn: expected A.B.C.D:PORT-E.F.G.H:PORT (e.g. 10.0.0.1:49152-10.0.0.3:80), got '${s}'`);
  const norm = (ip: string, port: string) => `${ip.split(".").map(Number).join(".")}:${Number(port)}`;
  return { a: norm(m[1], m[2]), b: norm(m[3], m[4]) };
}

const convKey = (x: string, y: string) => (x < y ? `${x} ${y}` : `${y} ${x}`);

/** The TCP connections in a capture, in order of first appearance, with their segment counts. */
export function listConnections(segs: TcpSegment[]): { a: string; b: string; segments: number }[] {
  const m = new Map<string, { a: string; b: string; segments: number }>();
  for (const s of segs) {
    const k = convKey(s.src, s.dst);
    const c = m.get(k);
    if (c) c.segments++;
    else m.set(k, { a: s.src, b: s.dst, segments: 1 });
  }
  return [...m.values()];
}

/** The segments of one connection and which endpoint is drawn left: --conn's first, else the
 *  side that sent a SYN without ACK (the active opener), else the first segment's sender. */
export function selectConnection(segs: TcpSegment[], conn: Endpoints | undefined, what: string): { left: string; right: string; segs: TcpSegment[] } {
  if (segs.length === 0) throw new LadderError(`${what}: no TCP segments (over IPv4) in the capture`);
  const k = conn ? convKey(conn.a, conn.b) : convKey(segs[0].src, segs[0].dst);
  const mine = segs.filter((s) => convKey(s.src, s.dst) === k);
  if (mine.length === 0) {
    const list = listConnections(segs);
    const shown = list.slice(0, 10).map((c) => `  ${c.a}-${c.b} (${c.segments} segments)`);
    throw new LadderError(
      `${what}: no TCP segments between ${conn!.a} and ${conn!.b}. The capture has ${list.length} TCP connection${list.length === 1 ? "" : "s"}:\n${shown.join("\n")}${list.length > 10 ? `\n  ... and ${list.length - 10} more` : ""}`,
    );
  }
  let left: string;
  if (conn) left = conn.a;
  else left = (mine.find((s) => (s.flags & (SYN | ACK)) === SYN) ?? mine[0]).src;
  const right = mine[0].src === left ? mine[0].dst : mine[0].src;
  return { left, right, segs: mine };
}

// ---- Analysis --------------------------------------------------------------------------------

const lt = (a: number, b: number) => ((a - b) | 0) < 0;
const leq = (a: number, b: number) => ((a - b) | 0) <= 0;
const gt = (a: number, b: number) => ((a - b) | 0) > 0;

export interface LadderArrow {
  n: number; // 1-based, in drawing order
  seg: TcpSegment;
  dir: "right" | "left"; // right: left endpoint -> right endpoint
  relSeq: number;
  relAck?: number; // with ACK only
  window: number; // scaled when window scaling is in effect
  notes: string[];
  retransmission: boolean;
  lost: boolean; // two captures: certain; one capture: presumed (see the file comment)
  duplicate?: boolean; // two captures: a second copy of a segment arrived
  txTime: number; // µs
  rxTime?: number; // two captures: when it reached the peer (undefined: lost)
  unsent?: boolean; // two captures: arrived, but not in the sender's capture
}

interface DirState {
  base?: number;
  fromSyn: boolean;
  maxEnd?: number; // highest sequence end sent
  acked?: number; // highest cumulative ACK the peer sent for this direction
  synWscale?: number;
  sawSyn: boolean;
  lastAck?: number;
  lastWin?: number;
  dups: number;
}

const newDir = (): DirState => ({ fromSyn: false, sawSyn: false, dups: 0 });

/** Annotate the segments of one connection, in order (see the file comment for the rules). */
export function analyze(segs: TcpSegment[], left: string, opts: { inferLoss?: boolean } = {}): LadderArrow[] {
  let st: [DirState, DirState] = [newDir(), newDir()];
  const arrows: LadderArrow[] = [];
  for (const s of segs) {
    const d = s.src === left ? 0 : 1;
    const o = 1 - d;
    const notes: string[] = [];
    const syn = (s.flags & SYN) !== 0;
    const isAck = (s.flags & ACK) !== 0;
    // A new SYN with another ISN on the same 4-tuple: a new connection (port reuse).
    if (syn && !isAck && st[d].sawSyn && s.seq !== st[d].base) {
      st = [newDir(), newDir()];
      notes.push("new connection on the same ports");
    }
    const D = st[d];
    const O = st[o];
    if (syn) {
      if (!D.sawSyn) {
        D.base = s.seq;
        D.fromSyn = true;
      }
      D.sawSyn = true;
      D.synWscale = s.wscale;
    } else if (D.base === undefined) {
      D.base = s.seq;
    }
    if (isAck && O.base === undefined) O.base = s.ack; // the peer's first segment was not captured
    const space = s.len + (syn ? 1 : 0) + (s.flags & FIN ? 1 : 0);
    const end = (s.seq + space) >>> 0;
    const scaled = !syn && D.synWscale !== undefined && O.synWscale !== undefined;
    const window = scaled ? s.window * 2 ** D.synWscale! : s.window;
    let retransmission = false;
    const plain = (s.flags & (SYN | FIN | RST)) === 0;
    if (s.checksum === "bad") notes.push("bad checksum");
    if (plain && s.len <= 1 && D.maxEnd !== undefined && s.seq === ((D.maxEnd - 1) >>> 0)) {
      notes.push("keep-alive");
    } else if (space > 0 && D.maxEnd !== undefined && lt(s.seq, D.maxEnd)) {
      retransmission = true;
      if (D.acked !== undefined && leq(end, D.acked)) notes.push("spurious retransmission");
      else if (O.dups >= 3) notes.push("fast retransmission");
      else notes.push("retransmission");
    } else if (space > 0 && D.maxEnd !== undefined && gt(s.seq, D.maxEnd)) {
      notes.push(`previous segment not captured (${(s.seq - D.maxEnd) >>> 0} bytes)`);
    }
    if (isAck && plain && s.len === 0 && D.lastAck === s.ack && D.lastWin === s.window && O.maxEnd !== undefined && gt(O.maxEnd, s.ack)) {
      D.dups++;
      notes.push(`dup ack #${D.dups}`);
    } else if (isAck && D.lastAck !== s.ack) {
      D.dups = 0;
    }
    if (s.window === 0 && !(s.flags & RST)) notes.push("zero window");
    if (D.maxEnd === undefined || gt(end, D.maxEnd)) D.maxEnd = end;
    if (isAck) {
      if (O.acked === undefined || gt(s.ack, O.acked)) O.acked = s.ack;
      D.lastAck = s.ack;
      D.lastWin = s.window;
    }
    arrows.push({
      n: arrows.length + 1,
      seg: s,
      dir: d === 0 ? "right" : "left",
      relSeq: (s.seq - D.base!) >>> 0,
      relAck: isAck ? (s.ack - O.base!) >>> 0 : undefined,
      window,
      notes,
      retransmission,
      lost: false,
      txTime: s.time,
    });
  }
  if (opts.inferLoss !== false) inferLosses(arrows);
  return arrows;
}

/**
 * One capture point: a segment is presumed lost when it was sent again, at least the smallest
 * acknowledgment delay seen in the capture later (copies sent back to back prove nothing), and
 * nothing acknowledged any of it in between.
 */
function inferLosses(arrows: LadderArrow[]): void {
  const spaceOf = (s: TcpSegment) => s.len + (s.flags & SYN ? 1 : 0) + (s.flags & FIN ? 1 : 0);
  // Smallest delay from a segment to the first ACK reaching into it, per direction.
  const minDelay: Record<string, number> = { right: Infinity, left: Infinity };
  const open: LadderArrow[] = [];
  for (const a of arrows) {
    for (let k = open.length - 1; k >= 0; k--) {
      const x = open[k];
      if (x.dir !== a.dir && a.seg.flags & ACK && gt(a.seg.ack, x.seg.seq)) {
        minDelay[x.dir] = Math.min(minDelay[x.dir], a.txTime - x.txTime);
        open.splice(k, 1);
      }
    }
    if (spaceOf(a.seg) > 0 && !a.retransmission) open.push(a);
  }
  for (let i = 0; i < arrows.length; i++) {
    const a = arrows[i];
    const space = spaceOf(a.seg);
    if (space === 0 || a.notes.includes("keep-alive")) continue;
    const start = a.seg.seq;
    const end = (start + space) >>> 0;
    const wait = Number.isFinite(minDelay[a.dir]) ? minDelay[a.dir] : 0;
    for (let j = i + 1; j < arrows.length; j++) {
      const b = arrows[j];
      if (b.notes.includes("new connection on the same ports")) break;
      if (b.dir !== a.dir) {
        const s = b.seg;
        // Segments arrive whole: an ACK beyond its first byte (or a SACK block over part of it)
        // means it arrived, even if not all of it was acknowledged (a FIN the peer did not keep).
        if ((s.flags & ACK && gt(s.ack, start)) || s.sack?.some(([l, r]) => lt(l, end) && gt(r, start))) break;
        continue;
      }
      const bs = spaceOf(b.seg);
      if (bs > 0 && b.retransmission && lt(b.seg.seq, end) && gt((b.seg.seq + bs) >>> 0, start)) {
        if (b.txTime - a.txTime > 0 && b.txTime - a.txTime >= wait) {
          a.lost = true;
          a.notes.push("presumed lost");
        }
        break;
      }
    }
  }
}

/**
 * Two captures, one at each endpoint: match each segment sent to its arrival(s) in the other
 * file. `atLeft` holds the left endpoint's capture. Returns arrows in send order, with rxTime,
 * lost and duplicate set, and arrivals nobody sent (in the other capture) as `unsent` arrows.
 */
export function matchCaptures(atLeft: TcpSegment[], atRight: TcpSegment[], left: string): LadderArrow[] {
  const sent = [...atLeft.filter((s) => s.src === left), ...atRight.filter((s) => s.src !== left)].sort((x, y) => x.time - y.time || x.frame - y.frame);
  const arrived = [...atRight.filter((s) => s.src === left), ...atLeft.filter((s) => s.src !== left)].sort((x, y) => x.time - y.time || x.frame - y.frame);
  const arrows = analyze(sent, left, { inferLoss: false });
  const byKey = new Map<string, LadderArrow[]>();
  for (const a of arrows) {
    const l = byKey.get(a.seg.key);
    if (l) l.push(a);
    else byKey.set(a.seg.key, [a]);
  }
  const extra: LadderArrow[] = [];
  // Each arrival came from the latest send of identical bytes before it that has not arrived yet
  // (a retransmission can repeat the original byte for byte); with none left it is a duplicate.
  for (const c of arrived) {
    const sends = (byKey.get(c.key) ?? []).filter((a) => a.seg.time <= c.time);
    const open = sends.filter((a) => a.rxTime === undefined);
    const from = open.length ? open[open.length - 1] : undefined;
    if (from) {
      from.rxTime = c.time;
    } else if (sends.length) {
      const last = sends[sends.length - 1];
      extra.push({ ...last, notes: [...last.notes, "duplicate"], duplicate: true, rxTime: c.time });
    } else {
      const lone = analyze([c], left, { inferLoss: false })[0];
      extra.push({ ...lone, unsent: true, rxTime: c.time, txTime: c.time, notes: [...lone.notes, c.checksum === "bad" ? "damaged in transit" : "not in the sender's capture"] });
    }
  }
  // Unmatched sends: lost, if the peer's capture was still running after they were sent.
  const endAt = (s: TcpSegment[]) => (s.length ? s[s.length - 1].time : -Infinity);
  const endR = endAt(atRight);
  const endL = endAt(atLeft);
  for (const a of arrows)
    if (a.rxTime === undefined) {
      if ((a.dir === "right" ? endR : endL) > a.seg.time) {
        a.lost = true;
        a.notes.push("lost");
      } else a.notes.push("after the peer's capture ended");
    }
  const out = [...arrows, ...extra].sort((x, y) => x.txTime - y.txTime || (x.rxTime ?? 0) - (y.rxTime ?? 0));
  out.forEach((a, i) => (a.n = i + 1));
  return out;
}

// ---- SVG -------------------------------------------------------------------------------------

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function arrowLabel(a: LadderArrow): string {
  const s = a.seg;
  const parts = [`[${flagNames(s.flags).join(", ") || "none"}]`, `Seq=${a.relSeq}`];
  if (a.relAck !== undefined) parts.push(`Ack=${a.relAck}`);
  parts.push(`Len=${s.len}`, `Win=${a.window}`);
  if (s.mss !== undefined) parts.push(`MSS=${s.mss}`);
  if (s.wscale !== undefined) parts.push(`WS=${2 ** s.wscale}`);
  if (s.sackPermitted) parts.push("SACK_PERM");
  if (s.sack?.length) parts.push(`SACK ${s.sack.length}`);
  return parts.join(" ");
}

export interface LadderOptions {
  title?: string;
  max?: number; // segments drawn at most (default 1000)
  twoPoint?: boolean;
}

const X_TIME = 12;
const X_L = 170;
const X_R = 790;
const WIDTH = 960;
const TOP = 70;

/** The ladder diagram as an SVG document. */
export function renderSvg(arrows: LadderArrow[], left: string, right: string, opts: LadderOptions = {}): string {
  const max = opts.max ?? 1000;
  const shown = arrows.slice(0, max);
  const two = opts.twoPoint ?? false;
  const t0 = shown.length ? Math.min(...shown.map((a) => a.txTime)) : 0;
  // Rows: one per segment with one capture; with two, one per send and one per arrival (at equal
  // times arrivals first: an arrival is what makes a board send).
  const rowH = two ? 22 : 34;
  const sendRow = new Map<LadderArrow, number>();
  const arriveRow = new Map<LadderArrow, number>();
  if (two) {
    const ev: { t: number; k: number; a: LadderArrow }[] = [];
    for (const a of shown) {
      if (!a.unsent) ev.push({ t: a.txTime, k: 1, a });
      if (a.rxTime !== undefined) ev.push({ t: a.rxTime, k: 0, a });
    }
    ev.sort((x, y) => x.t - y.t || x.k - y.k || x.a.n - y.a.n);
    ev.forEach((e, i) => (e.k === 1 ? sendRow : arriveRow).set(e.a, i));
    for (const a of shown) if (a.unsent) sendRow.set(a, arriveRow.get(a)!);
  }
  const rowCount = two ? sendRow.size + arriveRow.size - shown.filter((a) => a.unsent).length : shown.length;
  const rows = rowCount;
  const height = TOP + rows * rowH + 70;
  const out: string[] = [];
  out.push(`<?xml version="1.0" encoding="UTF-8"?>`);
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
      `font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" font-size="11" data-left="${esc(left)}" data-right="${esc(right)}" data-segments="${arrows.length}">`,
  );
  out.push(`<title>${esc(opts.title ?? `TCP ${left} - ${right}`)}</title>`);
  out.push(
    `<style>.r{stroke:#1f4e9c;fill:#1f4e9c}.l{stroke:#2e6b30;fill:#2e6b30}.rtx{stroke:#d46a00;fill:#d46a00}.lost{stroke:#c62828;fill:#c62828}` +
      `.dup{stroke:#777;fill:#777}g.seg text{stroke:none}.lbl{fill:#222}.lbl.rtx,.lbl.lost{font-weight:bold}.t{fill:#666}line.life{stroke:#999;stroke-width:1.5}</style>`,
  );
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="${WIDTH / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(opts.title ?? `TCP ${left} - ${right}`)}</text>`);
  out.push(`<text x="${X_L}" y="48" text-anchor="middle" font-size="12" font-weight="bold">${esc(left)}</text>`);
  out.push(`<text x="${X_R}" y="48" text-anchor="middle" font-size="12" font-weight="bold">${esc(right)}</text>`);
  out.push(`<text x="${X_TIME}" y="48" class="t">time (ms)</text>`);
  const yEnd = TOP + rows * rowH;
  out.push(`<line class="life" x1="${X_L}" y1="${TOP - 12}" x2="${X_L}" y2="${yEnd}"/>`);
  out.push(`<line class="life" x1="${X_R}" y1="${TOP - 12}" x2="${X_R}" y2="${yEnd}"/>`);
  const ms = (us: number) => ((us - t0) / 1000).toFixed(3);
  const drawnRows = new Set<number>();
  shown.forEach((a, i) => {
    const s = a.seg;
    const right = a.dir === "right";
    const x1 = right ? X_L : X_R;
    const x2 = right ? X_R : X_L;
    const y1 = TOP + (two ? sendRow.get(a)! : i) * rowH + (two ? rowH / 2 + 4 : 18);
    let y2 = two ? (arriveRow.has(a) ? TOP + arriveRow.get(a)! * rowH + rowH / 2 + 4 : y1 + rowH) : y1 + 12;
    if (a.unsent) y2 = y1; // arrived without a send in the other capture: drawn flat at its arrival
    const cls = a.lost ? "lost" : a.retransmission ? "rtx" : a.duplicate || a.unsent ? "dup" : right ? "r" : "l";
    const attrs: Record<string, string | number> = {
      class: `seg ${cls}`,
      "data-n": a.n,
      "data-dir": a.dir,
      "data-src": s.src,
      "data-dst": s.dst,
      "data-flags": flagNames(s.flags).join(","),
      "data-seq": a.relSeq,
      ...(a.relAck !== undefined ? { "data-ack": a.relAck } : {}),
      "data-len": s.len,
      "data-win": a.window,
      "data-frame": s.frame,
      "data-time-us": +s.time.toFixed(3),
      ...(a.rxTime !== undefined && two ? { "data-rx-time-us": +a.rxTime.toFixed(3) } : {}),
      "data-notes": a.notes.join(";"),
    };
    out.push(`<g ${Object.entries(attrs).map(([k, v]) => `${k}="${esc(String(v))}"`).join(" ")}>`);
    const detail = `frame ${s.frame}, t=${ms(a.txTime)} ms${a.rxTime !== undefined && two ? `, arrived t=${ms(a.rxTime)} ms` : ""}: ${s.src} > ${s.dst} ${arrowLabel(a)}; absolute seq ${s.seq} ack ${s.ack}, raw window ${s.window}, checksum ${s.checksum}${a.notes.length ? "; " + a.notes.join(", ") : ""}`;
    out.push(`<title>${esc(detail)}</title>`);
    // A lost segment stops half way with a cross.
    const xe = a.lost ? (x1 + x2) / 2 : x2;
    const ye = a.lost ? (y1 + y2) / 2 : y2;
    out.push(`<line x1="${x1}" y1="${y1}" x2="${xe}" y2="${ye.toFixed(1)}" stroke-width="1.6"${a.duplicate || a.unsent ? ` stroke-dasharray="5 3"` : ""}/>`);
    if (a.lost) {
      out.push(`<path d="M${xe - 6} ${(ye - 6).toFixed(1)}L${xe + 6} ${(ye + 6).toFixed(1)}M${xe - 6} ${(ye + 6).toFixed(1)}L${xe + 6} ${(ye - 6).toFixed(1)}" stroke-width="2.5"/>`);
    } else {
      const ang = Math.atan2(y2 - y1, x2 - x1);
      const p = (r: number, da: number) => `${(x2 - r * Math.cos(ang + da)).toFixed(1)},${(y2 - r * Math.sin(ang + da)).toFixed(1)}`;
      out.push(`<polygon points="${x2},${y2.toFixed(1)} ${p(9, 0.35)} ${p(9, -0.35)}"/>`);
    }
    const label = arrowLabel(a);
    const note = a.notes.length ? ` (${a.notes.join(", ")})` : "";
    const lx = two ? (right ? X_L + 8 : X_R - 8) : (X_L + X_R) / 2;
    const anchor = two ? (right ? "start" : "end") : "middle";
    out.push(`<text class="lbl ${cls}" x="${lx}" y="${y1 - 4}" text-anchor="${anchor}">${esc(label + note)}</text>`);
    if (!drawnRows.has(y1)) {
      drawnRows.add(y1);
      out.push(`<text class="t" x="${X_TIME}" y="${y1 + 4}">${ms(a.unsent ? a.rxTime! : a.txTime)}</text>`);
    }
    if (two && arriveRow.has(a) && !drawnRows.has(y2)) {
      drawnRows.add(y2);
      out.push(`<text class="t" x="${X_TIME}" y="${y2 + 4}">${ms(a.rxTime!)}</text>`);
    }
    out.push(`</g>`);
  });
  const counts = {
    retransmissions: arrows.filter((a) => a.retransmission).length,
    lost: arrows.filter((a) => a.lost).length,
  };
  let y = yEnd + 22;
  const foot = `${arrows.length} segment${arrows.length === 1 ? "" : "s"}${arrows.length > shown.length ? ` (first ${shown.length} drawn: --max)` : ""}, ` +
    `${counts.retransmissions} retransmitted, ${counts.lost} ${two ? "lost" : "presumed lost"}. Seq/Ack relative to each side's ISN; Win scaled when both SYNs carried window scaling.`;
  out.push(`<text x="${X_TIME}" y="${y}" class="t">${esc(foot)}</text>`);
  y += 16;
  const legend = two
    ? "Two captures: arrows run from the send time to the arrival time; lost = sent, never arrived (red, cross); dashed = duplicate copy."
    : "One capture point: orange = retransmission; red with a cross = presumed lost (sent again, nothing acknowledged it in between).";
  out.push(`<text x="${X_TIME}" y="${y}" class="t">${esc(legend)}</text>`);
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

// ---- The command -----------------------------------------------------------------------------

function loadSegments(file: string): { segs: TcpSegment[]; frames: number; linktypes: Set<number>; warnings: string[] } {
  let buf: Buffer;
  try {
    buf = readFileSync(file);
  } catch (e) {
    throw new LadderError(`${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`);
  }
  let cap;
  try {
    cap = readCapture(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), file);
  } catch (e) {
    if (e instanceof CaptureError) throw new LadderError(e.message);
    throw e;
  }
  const segs: TcpSegment[] = [];
  for (const f of cap.frames) {
    const s = decodeTcp(f);
    if (s) segs.push(s);
  }
  return { segs, frames: cap.frames.length, linktypes: new Set(cap.frames.map((f) => f.linktype)), warnings: cap.warnings };
}

function noTcp(file: string, l: { frames: number; linktypes: Set<number> }): LadderError {
  const supported = [1, 113, 276, 101, 228, 0, 108];
  const odd = [...l.linktypes].filter((t) => !supported.includes(t));
  return new LadderError(
    `${file}: no TCP segments over IPv4 in ${l.frames} frames` +
      (odd.length ? ` (link type ${odd.map(linktypeName).join(", ")} is not supported: Ethernet, Linux cooked, raw IP and loopback are)` : ""),
  );
}

export interface LadderResult {
  svg: string;
  arrows: LadderArrow[];
  left: string;
  right: string;
  warnings: string[];
}

/** Build the ladder of one connection from one capture, or from two (one at each endpoint). */
export function ladderFromFiles(files: string[], conn?: Endpoints, max?: number): LadderResult {
  const loaded = files.map(loadSegments);
  const warnings = loaded.flatMap((l) => l.warnings);
  loaded.forEach((l, i) => {
    if (l.segs.length === 0) throw noTcp(files[i], l);
  });
  const base = path.basename(files[0]);
  if (files.length === 1) {
    const { left, right, segs } = selectConnection(loaded[0].segs, conn, files[0]);
    const arrows = analyze(segs, left);
    return { svg: renderSvg(arrows, left, right, { title: `TCP ${left} - ${right} (${base})`, max }), arrows, left, right, warnings };
  }
  const first = selectConnection(loaded[0].segs, conn, files[0]);
  const sel = { a: first.left, b: first.right };
  const other = selectConnection(loaded[1].segs, sel, files[1]);
  // Which file was taken at which end: the sender's copy of a segment is the earlier one.
  const times1 = new Map(first.segs.map((s) => [s.key, s]));
  let score = 0;
  for (const s of other.segs) {
    const m = times1.get(s.key);
    if (!m || m.time === s.time) continue;
    score += (m.time < s.time ? 1 : -1) * (s.src === first.left ? 1 : -1);
  }
  // score > 0: file 1 holds the left endpoint's sends first, so it is the left one's capture.
  const [atLeft, atRight] = score >= 0 ? [first.segs, other.segs] : [other.segs, first.segs];
  if (score === 0) warnings.push("the two captures have no segment in common at different times: taking the first file as the left endpoint's");
  const arrows = matchCaptures(atLeft, atRight, first.left);
  const names = score >= 0 ? [files[0], files[1]] : [files[1], files[0]];
  return {
    svg: renderSvg(arrows, first.left, first.right, {
      title: `TCP ${first.left} (${path.basename(names[0])}) - ${first.right} (${path.basename(names[1])})`,
      max,
      twoPoint: true,
    }),
    arrows,
    left: first.left,
    right: first.right,
    warnings,
  };
}
