import { describe, expect, it } from 'vitest';
import { ReportAccumulator } from '../../../src/output/report.js';
import { renderHtml } from '../../../src/output/report-html.js';
import { resultRow } from '../../support/rows.js';

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
