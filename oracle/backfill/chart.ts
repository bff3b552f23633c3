import type { SweepResult } from './types.js';

export interface ChartOptions {
  width?: number;
  height?: number;
  title?: string;
}

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** "Nice" tick step for a span: 1, 2 or 5 times a power of ten. */
function tickStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const m = raw / power;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * power;
}

/**
 * Renders a sweep as a standalone SVG line chart: empty slots % against the waitlist
 * window, the original empty % as a dashed reference line, the suggested window marked.
 */
export function renderSweepChart(sweep: SweepResult, options: ChartOptions = {}): string {
  const width = options.width ?? 800;
  const height = options.height ?? 450;
  const title = options.title ?? `Empty slots vs waitlist window — slots ${sweep.from}-${sweep.to}`;
  const m = { left: 64, right: 24, top: 48, bottom: 56 };
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const first = sweep.rows[0]!.window;
  const last = sweep.rows[sweep.rows.length - 1]!.window;
  const yMax = Math.max(sweep.emptyPercentBefore, ...sweep.rows.map((r) => r.emptyPercent), 1) * 1.08;
  const x = (w: number) => m.left + (last === first ? plotW / 2 : ((w - first) / (last - first)) * plotW);
  const y = (p: number) => m.top + plotH - (p / yMax) * plotH;
  const f = (n: number) => n.toFixed(1);

  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  parts.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="15">${esc(title)}</text>`);
  const yStep = tickStep(yMax, 6);
  for (let t = 0; t <= yMax + 1e-9; t += yStep) {
    parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${f(y(t))}" y2="${f(y(t))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.left - 8}" y="${f(y(t) + 4)}" text-anchor="end">${+t.toFixed(2)}</text>`);
  }
  const xStep = Math.max(1, tickStep(last - first, 10));
  for (let t = Math.ceil(first / xStep) * xStep; t <= last; t += xStep) {
    parts.push(`<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${m.top + plotH}" y2="${m.top + plotH + 5}" stroke="black"/>`);
    parts.push(`<text x="${f(x(t))}" y="${m.top + plotH + 19}" text-anchor="middle">${t}</text>`);
  }
  parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${m.top + plotH}" y2="${m.top + plotH}" stroke="black"/>`);
  parts.push(`<line x1="${m.left}" x2="${m.left}" y1="${m.top}" y2="${m.top + plotH}" stroke="black"/>`);
  parts.push(`<text x="${m.left + plotW / 2}" y="${height - 14}" text-anchor="middle">waitlist window (slots)</text>`);
  parts.push(`<text transform="translate(18 ${m.top + plotH / 2}) rotate(-90)" text-anchor="middle">empty slots (%)</text>`);

  const ref = y(sweep.emptyPercentBefore);
  parts.push(`<line x1="${m.left}" x2="${m.left + plotW}" y1="${f(ref)}" y2="${f(ref)}" stroke="#d62728" stroke-dasharray="6 4"/>`);
  parts.push(`<text x="${m.left + plotW - 4}" y="${f(ref - 6)}" text-anchor="end" fill="#d62728">without backfilling: ${sweep.emptyPercentBefore.toFixed(2)} %</text>`);

  const points = sweep.rows.map((r) => `${f(x(r.window))},${f(y(r.emptyPercent))}`).join(' ');
  parts.push(`<polyline points="${points}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  const s = sweep.rows.find((r) => r.window === sweep.suggestedWindow)!;
  parts.push(`<circle cx="${f(x(s.window))}" cy="${f(y(s.emptyPercent))}" r="5" fill="#2ca02c"/>`);
  parts.push(`<text x="${f(x(s.window) + 8)}" y="${f(y(s.emptyPercent) - 10)}" fill="#2ca02c">suggested window ${s.window}: ${s.emptyPercent.toFixed(2)} %</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
