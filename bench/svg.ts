// The plots of `make bench` as plain SVG (no plotting dependency): goodput against loss, and a
// congestion-window / sequence-number trace of one transfer with loss.
import type { TracePoint } from "./sim.ts";

const W = 960;
const FONT = `font-family="sans-serif" font-size="12"`;

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** Round-number axis ticks covering [lo, hi]. */
function ticks(lo: number, hi: number, n = 6): number[] {
  if (!(hi > lo)) hi = lo + 1;
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1e6 ? `${(v / 1e6).toFixed(1)}M` : Math.abs(v) >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : `${Number(v.toPrecision(4))}`);

interface Panel {
  x: number;
  y: number;
  w: number;
  h: number;
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

const px = (p: Panel, v: number) => p.x + ((v - p.x0) / (p.x1 - p.x0 || 1)) * p.w;
const py = (p: Panel, v: number) => p.y + p.h - ((v - p.y0) / (p.y1 - p.y0 || 1)) * p.h;

function axes(p: Panel, xlabel: string, ylabel: string, yfmt: (v: number) => string = fmt): string {
  let s = `<rect x="${p.x}" y="${p.y}" width="${p.w}" height="${p.h}" fill="none" stroke="#888"/>`;
  for (const t of ticks(p.x0, p.x1)) {
    const x = px(p, t).toFixed(1);
    s += `<line x1="${x}" y1="${p.y}" x2="${x}" y2="${p.y + p.h}" stroke="#eee"/><text x="${x}" y="${p.y + p.h + 16}" text-anchor="middle" ${FONT}>${fmt(t)}</text>`;
  }
  for (const t of ticks(p.y0, p.y1, 5)) {
    const y = py(p, t).toFixed(1);
    s += `<line x1="${p.x}" y1="${y}" x2="${p.x + p.w}" y2="${y}" stroke="#eee"/><text x="${p.x - 6}" y="${y}" dy="4" text-anchor="end" ${FONT}>${yfmt(t)}</text>`;
  }
  s += `<text x="${p.x + p.w / 2}" y="${p.y + p.h + 34}" text-anchor="middle" ${FONT}>${esc(xlabel)}</text>`;
  s += `<text transform="translate(${p.x - 58},${p.y + p.h / 2}) rotate(-90)" text-anchor="middle" ${FONT}>${esc(ylabel)}</text>`;
  return s;
}

/** A step line through (t, v) points, thinned to a few points per pixel column. */
function stepPath(p: Panel, pts: [number, number][], color: string, width = 1.2, dash = ""): string {
  if (pts.length === 0) return "";
  const cols = new Map<number, [number, number][]>();
  for (const q of pts) {
    const c = Math.round(px(p, q[0]));
    let a = cols.get(c);
    if (!a) cols.set(c, (a = []));
    a.push(q);
  }
  let d = "";
  let prevY: number | undefined;
  for (const [c, a] of [...cols].sort((x, y) => x[0] - y[0])) {
    const ys = a.map((q) => py(p, q[1]));
    const first = ys[0];
    const last = ys[ys.length - 1];
    const lo = Math.min(...ys);
    const hi = Math.max(...ys);
    if (prevY === undefined) d += `M${c},${first.toFixed(1)}`;
    else d += `H${c}V${first.toFixed(1)}`;
    if (hi - lo > 0.5) d += `V${lo.toFixed(1)}V${hi.toFixed(1)}`;
    d += `V${last.toFixed(1)}`;
    prevY = last;
  }
  return `<path d="${d}" fill="none" stroke="${color}" stroke-width="${width}"${dash ? ` stroke-dasharray="${dash}"` : ""}/>`;
}

function legend(x: number, y: number, items: [string, string][]): string {
  return items
    .map(([c, t], i) => `<rect x="${x}" y="${y + i * 16 - 9}" width="14" height="4" fill="${c}"/><text x="${x + 20}" y="${y + i * 16}" ${FONT}>${esc(t)}</text>`)
    .join("");
}

function doc(h: number, title: string, body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}">
<rect width="${W}" height="${h}" fill="white"/>
<text x="${W / 2}" y="22" text-anchor="middle" font-family="sans-serif" font-size="15" font-weight="bold">${esc(title)}</text>
${body}
</svg>
`;
}

type GoodputPoint = { loss: number; fraction: number };

export function goodputPlot(points: GoodputPoint[], subtitle: string, previous?: { label: string; points: GoodputPoint[] }): string {
  const p: Panel = { x: 90, y: 50, w: W - 140, h: 330, x0: 0, x1: Math.max(10, ...points.map((q) => q.loss * 100)), y0: 0, y1: 1.05 };
  let s = axes(p, "frames lost in each direction (%)", "goodput / clean goodput", (v) => v.toFixed(2));
  if (previous) {
    const old = previous.points.map((q) => `${px(p, q.loss * 100).toFixed(1)},${py(p, q.fraction).toFixed(1)}`).join(" ");
    s += `<polyline points="${old}" fill="none" stroke="#999" stroke-width="2" stroke-dasharray="6 4"/>`;
    for (const q of previous.points) s += `<circle cx="${px(p, q.loss * 100).toFixed(1)}" cy="${py(p, q.fraction).toFixed(1)}" r="3" fill="#999"/>`;
    s += `<text x="${p.x + p.w - 8}" y="${p.y + 16}" text-anchor="end" ${FONT} fill="#1f77b4">this run</text>`;
    s += `<text x="${p.x + p.w - 8}" y="${p.y + 32}" text-anchor="end" ${FONT} fill="#999">${esc(previous.label)} (dashed)</text>`;
  }
  const pts = points.map((q) => `${px(p, q.loss * 100).toFixed(1)},${py(p, q.fraction).toFixed(1)}`).join(" ");
  s += `<polyline points="${pts}" fill="none" stroke="#1f77b4" stroke-width="2"/>`;
  for (const q of points) {
    const x = px(p, q.loss * 100);
    const y = py(p, q.fraction);
    s += `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="#1f77b4"/><text x="${(x + 6).toFixed(1)}" y="${(y - 8).toFixed(1)}" ${FONT}>${q.fraction.toFixed(3)}</text>`;
  }
  s += `<text x="${W / 2}" y="${p.y + p.h + 56}" text-anchor="middle" ${FONT} fill="#555">${esc(subtitle)}</text>`;
  return doc(450, "wasmip: goodput against loss (emulated PHY, virtual time)", s);
}

export function tracePlot(trace: TracePoint[], subtitle: string): string {
  const tmax = Math.max(1, ...trace.map((q) => q.t)) / 1000;
  const cwndMax = Math.max(1, ...trace.map((q) => Math.max(q.cwnd, q.wnd)));
  // ssthresh starts "infinite": clip it to the plot.
  const yTop = cwndMax * 1.15;
  const top: Panel = { x: 90, y: 50, w: W - 140, h: 250, x0: 0, x1: tmax, y0: 0, y1: yTop };
  const seqMax = Math.max(1, ...trace.map((q) => q.nxt)) / 1024;
  const bot: Panel = { x: 90, y: 360, w: W - 140, h: 250, x0: 0, x1: tmax, y0: 0, y1: seqMax * 1.02 };
  let s = "";
  // Fast recovery: shaded spans in both panels.
  let start: number | undefined;
  const spans: [number, number][] = [];
  for (const q of trace) {
    if (q.recovery && start === undefined) start = q.t;
    if (!q.recovery && start !== undefined) {
      spans.push([start, q.t]);
      start = undefined;
    }
  }
  if (start !== undefined) spans.push([start, trace[trace.length - 1].t]);
  for (const [a, z] of spans)
    for (const p of [top, bot]) {
      const x = px(p, a / 1000);
      s += `<rect x="${x.toFixed(1)}" y="${p.y}" width="${Math.max(1, px(p, z / 1000) - x).toFixed(1)}" height="${p.h}" fill="#fde0c5"/>`;
    }
  // Timeouts: snd_nxt moved back (go-back after an RTO).
  const rtos: number[] = [];
  for (let i = 1; i < trace.length; i++) if (trace[i].nxt < trace[i - 1].nxt && !trace[i].recovery) rtos.push(trace[i].t);
  for (const t of rtos)
    for (const p of [top, bot]) {
      const x = px(p, t / 1000).toFixed(1);
      s += `<line x1="${x}" y1="${p.y}" x2="${x}" y2="${p.y + p.h}" stroke="#d62728" stroke-width="1" stroke-dasharray="3,3"/>`;
    }
  s += axes(top, "", "bytes");
  s += stepPath(top, trace.map((q) => [q.t / 1000, q.cwnd]), "#1f77b4", 1.5);
  s += stepPath(top, trace.map((q) => [q.t / 1000, Math.min(q.ssthresh, yTop)]), "#2ca02c", 1.2, "5,3");
  s += stepPath(top, trace.map((q) => [q.t / 1000, q.wnd]), "#9467bd", 1, "2,2");
  s += legend(top.x + top.w - 230, top.y + 16, [
    ["#1f77b4", "cwnd"],
    ["#2ca02c", "ssthresh (clipped)"],
    ["#9467bd", "peer's window (snd_wnd)"],
    ["#fde0c5", "fast recovery"],
    ["#d62728", "retransmission timeout"],
  ]);
  s += axes(bot, "virtual time (s)", "sequence − ISN (KiB)");
  s += stepPath(bot, trace.map((q) => [q.t / 1000, q.nxt / 1024]), "#ff7f0e", 1.2);
  s += stepPath(bot, trace.map((q) => [q.t / 1000, q.una / 1024]), "#1f77b4", 1.2);
  s += legend(bot.x + 12, bot.y + 16, [
    ["#ff7f0e", "snd_nxt"],
    ["#1f77b4", "snd_una"],
  ]);
  s += `<text x="${W / 2}" y="${bot.y + bot.h + 56}" text-anchor="middle" ${FONT} fill="#555">${esc(subtitle)}</text>`;
  return doc(680, "wasmip: congestion window and sequence numbers of one transfer with loss", s);
}
