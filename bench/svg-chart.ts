/**
 * Two tiny chart kinds as standalone SVG text (no dependency): a line chart with an optional
 * log2 x axis and reference lines, and a grouped bar chart. Enough for the bench report.
 */
export interface LinePoint {
  x: number;
  y: number;
  /** Drawn hollow (e.g. a load level that failed). */
  hollow?: boolean;
}

export interface LineSeries {
  name: string;
  points: LinePoint[];
}

const W = 760;
const H = 400;
const M = { left: 64, right: 190, top: 40, bottom: 52 };
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) => (v === 0 ? '0' : Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function frame(title: string, xLabel: string, yLabel: string, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
    `<text x="${M.left + (W - M.left - M.right) / 2}" y="${H - 12}" text-anchor="middle">${esc(xLabel)}</text>`,
    `<text transform="translate(16 ${M.top + (H - M.top - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>`,
    ...body,
    '</svg>',
  ].join('\n');
}

function yAxis(yMax: number, plotW: number, plotH: number): string[] {
  const out: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    const y = M.top + plotH - (plotH * i) / 5;
    out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${y + 4}" text-anchor="end">${fmt(v)}</text>`);
  }
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${M.top + plotH}" y2="${M.top + plotH}" stroke="#333"/>`);
  return out;
}

function legend(names: string[], plotW: number): string[] {
  return names.map((n, i) => {
    const y = M.top + 10 + i * 20;
    const x = M.left + plotW + 16;
    return `<rect x="${x}" y="${y - 9}" width="12" height="12" fill="${COLORS[i % COLORS.length]}"/><text x="${x + 18}" y="${y + 1}">${esc(n)}</text>`;
  });
}

/** `yCap`: values above it are drawn on the top edge with their value written beside them. */
export function lineChartSvg(o: { title: string; xLabel: string; yLabel: string; xLog2?: boolean; series: LineSeries[]; refLines?: Array<{ y: number; label: string }>; note?: string; yCap?: number }): string {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const pts = o.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y) && Number.isFinite(p.x));
  const tx = (x: number) => (o.xLog2 ? Math.log2(Math.max(x, 1)) : x);
  const xs = pts.map((p) => tx(p.x));
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, xMin + 1);
  const yMax = niceMax(Math.min(o.yCap ?? Number.POSITIVE_INFINITY, Math.max(...pts.map((p) => p.y), ...(o.refLines ?? []).map((r) => r.y * 1.1), 0)));
  const X = (x: number) => M.left + ((tx(x) - xMin) / (xMax - xMin)) * plotW;
  const Y = (y: number) => M.top + plotH - (Math.min(y, yMax) / yMax) * plotH;
  const body = yAxis(yMax, plotW, plotH);
  const ticks = [...new Set(pts.map((p) => p.x))].sort((a, b) => a - b);
  for (const t of ticks) body.push(`<text x="${X(t)}" y="${M.top + plotH + 16}" text-anchor="middle">${t}</text>`);
  for (const r of o.refLines ?? []) {
    body.push(`<line x1="${M.left}" x2="${M.left + plotW}" y1="${Y(r.y)}" y2="${Y(r.y)}" stroke="#555" stroke-dasharray="5 4"/>`);
    body.push(`<text x="${M.left + plotW - 4}" y="${Y(r.y) - 4}" text-anchor="end" fill="#555">${esc(r.label)}</text>`);
  }
  o.series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const ok = s.points.filter((p) => Number.isFinite(p.y));
    if (ok.length > 1) body.push(`<polyline fill="none" stroke="${c}" stroke-width="2" points="${ok.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(' ')}"/>`);
    for (const p of ok) {
      body.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="4" fill="${p.hollow ? '#fff' : c}" stroke="${c}" stroke-width="2"/>`);
      if (p.y > yMax) body.push(`<text x="${(X(p.x) - 7).toFixed(1)}" y="${(Y(p.y) + 14 + 12 * i).toFixed(1)}" text-anchor="end" font-size="11" fill="${c}">↑ ${fmt(p.y)}</text>`);
    }
  });
  body.push(...legend(o.series.map((s) => s.name), plotW));
  if (o.note) body.push(`<text x="${M.left + plotW + 16}" y="${M.top + 30 + o.series.length * 20}" font-size="11" fill="#555">${esc(o.note)}</text>`);
  return frame(o.title, o.xLabel, o.yLabel, body);
}

export function barChartSvg(o: { title: string; xLabel: string; yLabel: string; groups: string[]; series: Array<{ name: string; values: number[] }> }): string {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const yMax = niceMax(Math.max(...o.series.flatMap((s) => s.values).filter(Number.isFinite), 0));
  const body = yAxis(yMax, plotW, plotH);
  const groupW = plotW / Math.max(1, o.groups.length);
  const barW = (groupW * 0.8) / Math.max(1, o.series.length);
  o.groups.forEach((g, gi) => {
    body.push(`<text x="${M.left + groupW * (gi + 0.5)}" y="${M.top + plotH + 16}" text-anchor="middle">${esc(g)}</text>`);
    o.series.forEach((s, si) => {
      const v = s.values[gi];
      if (v === undefined || !Number.isFinite(v)) return;
      const h = (Math.min(v, yMax) / yMax) * plotH;
      const x = M.left + groupW * gi + groupW * 0.1 + barW * si;
      body.push(`<rect x="${x.toFixed(1)}" y="${(M.top + plotH - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLORS[si % COLORS.length]}"><title>${esc(`${s.name}, ${g}: ${fmt(v)}`)}</title></rect>`);
    });
  });
  body.push(...legend(o.series.map((s) => s.name), plotW));
  return frame(o.title, o.xLabel, o.yLabel, body);
}
