import type { HistogramBucket } from './report.js';

/**
 * The days-without-connectivity histogram drawn to scale.
 *
 * The buckets are not equally wide (0–6, 7–13, 14–29, 30–59, … 180–364, 365+): drawn as equal columns, "180–364
 * days" would look like "0–6 days". So the x axis is days: each closed bucket is as wide as the days it spans
 * (its `to - from + 1`), the bars touch, and the edges are the axis ticks. A bar's height is its row count, not
 * rows per day: a density would flatten the long-gap bars this chart exists to show, and people read a bar's
 * height as its count (printed on the bar, and in the table under the chart). The open last bucket ("365+") has
 * no span to scale: it is drawn past the end of the axis at a fixed width, lighter and dashed, so it does not
 * pass for a measured one.
 */
export interface HistogramLayout {
  readonly bars: readonly HistogramBar[];
  /** Pixels per day of the closed buckets. */
  readonly pxPerDay: number;
  /** Where the day axis ends (the open bucket's start, or the last closed bucket's end). */
  readonly axisEnd: number;
  /** Ticks on the day axis: each bucket edge with the x it is drawn at, and whether its label is shown. */
  readonly ticks: readonly { readonly day: number; readonly x: number; readonly label: boolean }[];
}

export interface HistogramBar {
  readonly bucket: HistogramBucket;
  readonly x: number;
  readonly width: number;
  readonly height: number;
  /** The open last bucket: fixed width, not to scale. */
  readonly open: boolean;
}

export interface HistogramSize {
  /** Width of the day axis, for the closed buckets. */
  readonly plotWidth: number;
  /** Height of the tallest bar. */
  readonly plotHeight: number;
  /** Width of the open bucket's bar, drawn after `gap`. */
  readonly openWidth: number;
  readonly gap: number;
  /** About how wide one character of a tick label is, so labels that would overlap are left out. */
  readonly charWidth: number;
}

export const HISTOGRAM_SIZE: HistogramSize = {
  plotWidth: 720,
  plotHeight: 180,
  openWidth: 64,
  gap: 14,
  charWidth: 7,
};

/** Days a closed bucket covers (both ends included); null for the open one. */
export function bucketSpan(bucket: HistogramBucket): number | null {
  return bucket.to === null ? null : bucket.to - bucket.from + 1;
}

/** Where each bar goes: x and width from the bucket's days, height from its rows (see above). */
export function histogramLayout(
  buckets: readonly HistogramBucket[],
  size: HistogramSize = HISTOGRAM_SIZE,
  /** A tick whose label must show (the stale threshold): a neighbour that would overlap it gives way. */
  keepTick?: number,
): HistogramLayout {
  const closed = buckets.filter((b) => b.to !== null);
  const axisEnd = closed.reduce((end, b) => Math.max(end, (b.to as number) + 1), 0);
  const pxPerDay = axisEnd > 0 ? size.plotWidth / axisEnd : 0;
  const maxRows = Math.max(1, ...buckets.map((b) => b.rows));
  const height = (rows: number) => (size.plotHeight * rows) / maxRows;
  const bars = buckets.map((bucket): HistogramBar => {
    const span = bucketSpan(bucket);
    if (span === null) {
      return {
        bucket,
        x: axisEnd * pxPerDay + size.gap,
        width: size.openWidth,
        height: height(bucket.rows),
        open: true,
      };
    }
    return {
      bucket,
      x: bucket.from * pxPerDay,
      width: span * pxPerDay,
      height: height(bucket.rows),
      open: false,
    };
  });
  const edges = [...new Set([...closed.map((b) => b.from), axisEnd])].sort((a, b) => a - b);
  return { bars, pxPerDay, axisEnd, ticks: placeTicks(edges, pxPerDay, size.charWidth, keepTick) };
}

/** Tick labels left to right, each shown unless it would overlap one shown before it (a kept tick wins). */
function placeTicks(
  edges: readonly number[],
  pxPerDay: number,
  charWidth: number,
  keep: number | undefined,
): HistogramLayout['ticks'] {
  const half = (day: number) => (String(day).length * charWidth) / 2;
  const overlaps = (a: number, b: number) => b * pxPerDay - half(b) < a * pxPerDay + half(a) + 2;
  const shown: number[] = [];
  for (const day of edges) {
    if (day === keep) {
      while (shown.length > 0 && overlaps(shown.at(-1) as number, day)) shown.pop();
    } else if (shown.length > 0 && overlaps(shown.at(-1) as number, day)) continue;
    shown.push(day);
  }
  return edges.map((day) => ({ day, x: day * pxPerDay, label: shown.includes(day) }));
}

const MARGIN = { left: 12, right: 12, top: 22, bottom: 46 } as const;

/**
 * The histogram as inline SVG. Every bar carries `data-chart`, `data-label`, `data-value` (its rows) and
 * `data-from`/`data-to` (its days; `data-to` empty for the open bucket), so what is drawn can be measured against
 * what it stands for. Bars from `warnFrom` days on are drawn in the warning colour.
 */
export function histogramSvg(
  name: string,
  buckets: readonly HistogramBucket[],
  warnFrom: number,
  label: (bucket: HistogramBucket) => string,
  count: (n: number) => string,
  size: HistogramSize = HISTOGRAM_SIZE,
): string {
  const layout = histogramLayout(buckets, size, warnFrom);
  const width = MARGIN.left + size.plotWidth + size.gap + size.openWidth + MARGIN.right;
  const height = MARGIN.top + size.plotHeight + MARGIN.bottom;
  const base = MARGIN.top + size.plotHeight;
  const x = (px: number) => (MARGIN.left + px).toFixed(2);
  const bars = layout.bars.map((bar) => {
    const colour = bar.bucket.from >= warnFrom ? '#d8503b' : '#8a97ab';
    const look = bar.open ? ` fill-opacity="0.55" stroke="${colour}" stroke-dasharray="4 3"` : '';
    return (
      `<rect data-chart="${name}" data-label="${label(bar.bucket)}" data-value="${bar.bucket.rows}" ` +
      `data-from="${bar.bucket.from}" data-to="${bar.bucket.to ?? ''}" x="${x(bar.x)}" ` +
      `y="${(base - bar.height).toFixed(2)}" width="${bar.width.toFixed(2)}" height="${bar.height.toFixed(2)}" ` +
      `fill="${colour}"${look}></rect>`
    );
  });
  // Touching bars are told apart by a white line on each inner edge, not by shrinking them.
  const seams = layout.ticks
    .filter((t) => t.x > 0 && t.day < layout.axisEnd)
    .map((t) => `<line x1="${x(t.x)}" x2="${x(t.x)}" y1="${MARGIN.top}" y2="${base}" stroke="#fff"></line>`);
  return (
    `<svg role="img" aria-label="${name}: rows by days without connectivity" data-chart="${name}" ` +
    `width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">` +
    bars.join('') +
    seams.join('') +
    countLabels(layout, base, count, size.charWidth, x) +
    axis(layout, size, base, label, x) +
    '</svg>'
  );
}

/** Each non-empty bar's count above it, unless it would overlap the count shown before it (the table has all). */
function countLabels(
  layout: HistogramLayout,
  base: number,
  count: (n: number) => string,
  charWidth: number,
  x: (px: number) => string,
): string {
  let lastEnd = -Infinity;
  return layout.bars
    .filter((bar) => bar.bucket.rows > 0)
    .map((bar) => {
      const text = count(bar.bucket.rows);
      const centre = bar.x + bar.width / 2;
      const half = (text.length * charWidth) / 2;
      if (centre - half < lastEnd + 2) return '';
      lastEnd = centre + half;
      return `<text x="${x(centre)}" y="${(base - bar.height - 5).toFixed(2)}" text-anchor="middle">${text}</text>`;
    })
    .join('');
}

/** The day axis: a base line, a tick at each bucket edge with its label when it fits, the open bucket's label. */
function axis(
  layout: HistogramLayout,
  size: HistogramSize,
  base: number,
  label: (bucket: HistogramBucket) => string,
  x: (px: number) => string,
): string {
  const ticks = layout.ticks.map(
    (t) =>
      `<line x1="${x(t.x)}" x2="${x(t.x)}" y1="${base}" y2="${base + 5}" stroke="#5b6576"></line>` +
      (t.label ? `<text x="${x(t.x)}" y="${base + 18}" text-anchor="middle">${t.day}</text>` : ''),
  );
  const open = layout.bars.find((b) => b.open);
  return (
    `<line x1="${x(0)}" x2="${x(layout.axisEnd * layout.pxPerDay)}" y1="${base}" y2="${base}" stroke="#5b6576"></line>` +
    ticks.join('') +
    (open !== undefined
      ? `<text x="${x(open.x + open.width / 2)}" y="${base + 18}" text-anchor="middle">${label(open.bucket)}</text>`
      : '') +
    `<text x="${x(size.plotWidth / 2)}" y="${base + 38}" text-anchor="middle" class="axis">days without connectivity (bar width: the days a bucket spans; height: its rows)</text>`
  );
}
