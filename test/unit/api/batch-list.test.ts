import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageOf } from '../../../src/api/batch-list.js';
import { contentDisposition, downloadName } from '../../../src/api/batch-routes.js';
import { withoutOutsideFonts } from '../../../src/api/dashboard.js';
import type { BatchRecord } from '../../../src/batch/files.js';

const record = (id: string, submittedAt: string) => ({ id, submittedAt }) as unknown as BatchRecord;
const hex = (n: number) => n.toString(16).padStart(24, '0');

describe('GET /batches paging', () => {
  const records = [
    record(hex(1), '2026-01-01T10:00:00.000Z'),
    record(hex(2), '2026-01-03T10:00:00.000Z'),
    record(hex(3), '2026-01-02T10:00:00.000Z'),
    // Same millisecond as hex(2): the id decides, so the order never changes between pages.
    record(hex(4), '2026-01-03T10:00:00.000Z'),
  ];

  it('walks every record once, newest first, and says when there is no more', () => {
    const seen: string[] = [];
    let cursor = null;
    for (;;) {
      const { page, next } = pageOf(records, 3, cursor === null ? null : decodeCursor(cursor));
      seen.push(...page.map((r) => r.id));
      if (next === null) break;
      cursor = next;
    }
    expect(seen).toEqual([hex(4), hex(2), hex(3), hex(1)]);
    expect(pageOf(records, 4, null).next).toBeNull();
  });

  it('a cursor whose batch was deleted still continues after its place', () => {
    const cursor = decodeCursor(encodeCursor({ id: hex(9), submittedAt: '2026-01-02T12:00:00.000Z' }));
    expect(pageOf(records, 10, cursor).page.map((r) => r.id)).toEqual([hex(3), hex(1)]);
  });

  it('a cursor no page gave is a 400', () => {
    expect(() => decodeCursor('bm9wZQ')).toThrow(/cursor is not one/);
  });
});

describe('download names', () => {
  it('are the upload without its extension, then the output', () => {
    expect(downloadName('crm-export.csv', 'results.csv')).toBe('crm-export-results.csv');
    expect(downloadName('crm-export.xlsx', 'report.md')).toBe('crm-export-report.md');
    expect(downloadName('crm-export.csv (retry)', 'results.csv')).toBe('crm-export-results.csv');
    expect(downloadName('', 'results.csv')).toBe('results.csv');
  });

  it('cannot break out of the header or name a folder', () => {
    expect(downloadName('a"b\\c/d\r\n.csv', 'results.csv')).toBe('a_b_c_d__-results.csv');
    expect(contentDisposition('Übersicht-results.csv')).toBe(
      `attachment; filename="_bersicht-results.csv"; filename*=UTF-8''%C3%9Cbersicht-results.csv`,
    );
  });
});

describe('bull-board page', () => {
  it('loses its link to Google Fonts', () => {
    const html =
      '<head>\n<link href="https://fonts.googleapis.com/css2?family=IBM+Plex+Sans&display=swap" rel="stylesheet">\n<link href="static/css/main.css" rel="stylesheet"></head>';
    expect(withoutOutsideFonts(html)).toBe(
      '<head>\n<link href="static/css/main.css" rel="stylesheet"></head>',
    );
  });
});
