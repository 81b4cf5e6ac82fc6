import { describe, expect, it } from 'vitest';
import { ReportAccumulator } from '../../../src/output/report.js';
import { renderHtml } from '../../../src/output/report-html.js';
import { renderMarkdown } from '../../../src/output/report-markdown.js';
import { resultRow } from '../../support/rows.js';

const context = {
  batchId: 'b',
  inputFile: 'fleet.csv',
  provider: 'identity-insights',
  startedAt: '2026-12-04T22:45:00.000Z',
  staleDays: 60,
  staleFile: 'no-connectivity-60d.csv',
  changesFile: 'changes.csv',
};

describe('report.html', () => {
  it('escapes everything that comes from files or carriers, and loads nothing', () => {
    const acc = new ReportAccumulator(60);
    const hostile = '<script>alert(1)</script>';
    acc.addRow(
      resultRow({
        connectivity: 'DATA',
        last_status_at: '',
        roaming: 'true',
        roaming_countries: `"><img src=x onerror=alert(1)>`,
        reachability_status: hostile,
        checked_at: '2026-01-01T00:00:00.000Z',
      }),
    );
    const html = renderHtml(
      acc.build(
        {
          batchId: 'b',
          inputFile: `${hostile}.csv`,
          provider: 'identity-insights',
          startedAt: 's',
          staleDays: 60,
          staleFile: 'no-connectivity-60d.csv',
          changesFile: 'changes.csv',
        },
        1,
        'f',
      ),
    );
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;.csv');
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(html).toContain("default-src 'none'");
  });
});

describe('report.html and report.md for people', () => {
  it('write counts with separators, plurals right and times with their zone', () => {
    const acc = new ReportAccumulator(60);
    for (let i = 0; i < 1403; i++) acc.addRow(resultRow({ previous_checked_at: '2026-02-01T00:00:00.000Z' }));
    acc.addRow(
      resultRow({
        reachable: 'false',
        connectivity: '',
        no_connectivity_since: '2025-12-01T00:00:00.000Z',
        no_connectivity_evidence: 'history',
      }),
    );
    const report = acc.build(context, 1, '2026-12-04T22:51:10.000Z');
    const html = renderHtml(report);
    expect(html).toContain('data-figure="rows"><b>1,404</b>');
    expect(html).toContain('data-figure="reachable"><b>1,403</b>');
    expect(html).toContain('4 Dec 2026, 22:45 → 22:51 UTC');
    expect(html).toContain('1,404 rows asked live');
    expect(html).toContain('1 unique number<');
    expect(html).toContain('0 malformed records');
    expect(html).toContain('stale list: 1 row,');
    expect(html).toContain('<td>1 Dec 2025, 00:00 UTC</td>');
    // No count without its separator in what the page shows (attributes keep raw numbers for scripts).
    expect(html.replace(/<[^>]*>/g, ' ')).not.toMatch(/\b140[34]\b/);
    const md = renderMarkdown(report);
    expect(md).toContain('1,404 rows (1,404 valid numbers');
    expect(md).toContain('**1 row has had no connectivity for 60 days or more**');
    expect(md).toContain('| reachable | 1,403 | 99.9% |');
    expect(md).toContain('4 Dec 2026, 22:45 → 22:51 UTC');
  });

  it('draw no empty card: a section without data says there is nothing, or is left out', () => {
    const empty = new ReportAccumulator(60).build(context, 0, '2026-12-04T22:46:00.000Z');
    const html = renderHtml(empty);
    expect(html).not.toContain('<svg');
    expect(html).not.toContain('<table');
    expect(html).toContain('The file had no rows.');
    expect(html).toContain('No row is known to be without connectivity.');
    expect(html).not.toContain('id="roaming"');
    expect(html).not.toContain('id="status-codes"');
    expect(renderMarkdown(empty)).not.toContain('| rows |');

    // Checked before, nothing changed, nobody offline: sentences, not charts of zeros.
    const acc = new ReportAccumulator(60);
    acc.addRow(resultRow({ previous_checked_at: '2026-02-01T00:00:00.000Z' }));
    acc.addRow(resultRow({ previous_checked_at: '2026-02-01T00:00:00.000Z' }));
    const quiet = renderHtml(acc.build(context, 2, '2026-12-04T22:46:00.000Z'));
    expect(quiet).toContain('None of the 2 rows checked before has changed.');
    expect(quiet).not.toContain('data-chart="changes"');
    expect(quiet).toContain('No row is known to be without connectivity.');
    expect(quiet).not.toContain('data-chart="no-connectivity-days"');
    expect(quiet).toContain('data-chart="connectivity"');
  });
});
