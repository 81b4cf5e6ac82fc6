import { describe, expect, it } from 'vitest';
import type { HistogramBucket } from '../../../src/output/report.js';
import {
  bucketSpan,
  HISTOGRAM_SIZE,
  histogramLayout,
  histogramSvg,
} from '../../../src/output/report-histogram.js';

/** The report's buckets with a stale threshold of 60 days, with rows. */
const buckets = (rows: readonly number[]): HistogramBucket[] => {
  const edges = [0, 7, 14, 30, 60, 90, 180, 365];
  return edges.map((from, i) => ({
    from,
    to: i + 1 < edges.length ? (edges[i + 1] as number) - 1 : null,
    rows: rows[i] ?? 0,
  }));
};

describe('days-without-connectivity histogram, to scale', () => {
  it('makes each closed bar as wide as the days it spans, side by side on one day axis', () => {
    const layout = histogramLayout(buckets([5, 1, 1, 1, 1, 1, 5, 2]));
    const closed = layout.bars.filter((b) => !b.open);
    expect(closed).toHaveLength(7);
    expect(layout.axisEnd).toBe(365);
    expect(layout.pxPerDay).toBeCloseTo(HISTOGRAM_SIZE.plotWidth / 365, 9);
    for (const bar of closed) {
      expect(bar.width / (bucketSpan(bar.bucket) as number), String(bar.bucket.from)).toBeCloseTo(
        layout.pxPerDay,
        9,
      );
      expect(bar.x).toBeCloseTo(bar.bucket.from * layout.pxPerDay, 9);
    }
    // "180–364" spans 185 days, "0–6" seven: same rows, bars 185/7 apart in width.
    const first = closed[0]!;
    const long = closed.find((b) => b.bucket.from === 180)!;
    expect(first.bucket.rows).toBe(long.bucket.rows);
    expect(long.width / first.width).toBeCloseTo(185 / 7, 9);
    // Touching, no gap and no overlap, up to the end of the axis.
    closed.slice(1).forEach((bar, i) => expect(bar.x).toBeCloseTo(closed[i]!.x + closed[i]!.width, 9));
    expect(closed.at(-1)!.x + closed.at(-1)!.width).toBeCloseTo(HISTOGRAM_SIZE.plotWidth, 9);
  });

  it('makes heights proportional to rows, and draws the open bucket past the axis at a fixed width', () => {
    const layout = histogramLayout(buckets([10, 4, 0, 1, 2, 3, 5, 8]));
    for (const bar of layout.bars)
      expect(bar.height).toBeCloseTo((HISTOGRAM_SIZE.plotHeight * bar.bucket.rows) / 10, 9);
    const open = layout.bars.at(-1)!;
    expect(open).toMatchObject({ open: true, width: HISTOGRAM_SIZE.openWidth });
    expect(open.x).toBeCloseTo(HISTOGRAM_SIZE.plotWidth + HISTOGRAM_SIZE.gap, 9);
    expect(bucketSpan(open.bucket)).toBeNull();
  });

  it('draws nothing taller than zero when every bucket is empty', () => {
    expect(histogramLayout(buckets([])).bars.every((b) => b.height === 0)).toBe(true);
  });

  it('shows tick labels that do not overlap, and always the one it is told to keep', () => {
    // Threshold 10: edges 0, 7, 10, 14 are a few pixels apart at 2 px a day.
    const edges = [0, 7, 10, 14, 30, 60, 90, 180, 365];
    const b = edges.map((from, i) => ({
      from,
      to: i + 1 < edges.length ? edges[i + 1]! - 1 : null,
      rows: 1,
    }));
    const { ticks } = histogramLayout(b, HISTOGRAM_SIZE, 10);
    const shown = ticks.filter((t) => t.label);
    expect(shown.map((t) => t.day)).toContain(10);
    const half = (day: number) => (String(day).length * HISTOGRAM_SIZE.charWidth) / 2;
    shown
      .slice(1)
      .forEach((t, i) => expect(t.x - half(t.day)).toBeGreaterThan(shown[i]!.x + half(shown[i]!.day)));
    expect(ticks.map((t) => t.day)).toEqual([...edges.slice(0, -1), 365]);
  });

  it('marks every bar with its rows and days, stale ones in the warning colour', () => {
    const svg = histogramSvg('h', buckets([3, 0, 0, 0, 2, 0, 0, 1]), 60, (x) => `${x.from}`, String);
    expect(svg).toContain('data-label="0" data-value="3" data-from="0" data-to="6"');
    expect(svg).toMatch(/data-from="60" data-to="89"[^>]*fill="#d8503b"/);
    expect(svg).toMatch(/data-from="0" data-to="6"[^>]*fill="#8a97ab"/);
    expect(svg).toMatch(/data-from="365" data-to=""[^>]*stroke-dasharray/);
  });
});
