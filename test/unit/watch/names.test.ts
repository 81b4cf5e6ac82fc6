import { describe, expect, it } from 'vitest';
import {
  classifyName,
  folderOf,
  originalNameOf,
  splitName,
  stampedName,
  utcStamp,
} from '../../../src/watch/names.js';

describe('classifyName', () => {
  it.each([
    'crm.csv',
    'CRM.CSV',
    'list.txt',
    'fleet.TSV',
    'with space.csv',
    'a.b.csv',
    '-x.csv',
    'crm.xlsx',
    'Fleet.XLSX',
  ])('takes %s', (name) => expect(classifyName(name).kind).toBe('candidate'));
  it.each([
    '.hidden.csv',
    '.csv',
    'crm.csv.part',
    'crm.csv.PART',
    'crm.csv.tmp',
    'crm.csv.crdownload',
    'crm.csv.partial',
    'crm.csv~',
    '~$crm.csv',
    '~$crm.xlsx',
    '.~lock.crm.csv#',
  ])('ignores the temporary or hidden %s', (name) => expect(classifyName(name).kind).toBe('temporary'));
  it.each(['crm.xls', 'notes.pdf', 'README', 'processing', 'crm.csv.bak'])(
    'leaves %s alone as another kind of file',
    (name) => expect(classifyName(name).kind).toBe('other'),
  );
});

describe('stamped names', () => {
  const at = new Date('2026-11-24T03:15:00.987Z');
  it('stamps in UTC, to the second, sortable and safe in file names', () => {
    expect(utcStamp(at)).toBe('20261124T031500Z');
    expect(utcStamp(new Date('2026-01-02T23:04:05+02:00'))).toBe('20260102T210405Z');
  });
  it('puts the stamp before the extension, and names the output folder alike', () => {
    expect(stampedName('crm-export.csv', at)).toEqual({
      file: 'crm-export-20261124T031500Z.csv',
      folder: 'crm-export-20261124T031500Z',
    });
    expect(stampedName('crm-export.csv', at, 3).file).toBe('crm-export-20261124T031500Z-3.csv');
    expect(folderOf('crm-export-20261124T031500Z-3.csv')).toBe('crm-export-20261124T031500Z-3');
  });
  it('gives back the dropped name from a stamped one', () => {
    expect(originalNameOf('crm-export-20261124T031500Z.csv')).toBe('crm-export.csv');
    expect(originalNameOf('a.b-20261124T031500Z-2.TSV')).toBe('a.b.TSV');
    expect(originalNameOf('two\nlines-20261124T031500Z.csv')).toBe('two\nlines.csv');
    expect(originalNameOf('not-stamped.csv')).toBe('not-stamped.csv');
  });
  it('keeps generated names within file-name limits', () => {
    const long = `${'é'.repeat(200)}.csv`;
    const { stem } = splitName(long);
    expect(Buffer.byteLength(stem)).toBeLessThanOrEqual(180);
    expect(Buffer.byteLength(stampedName(long, at, 12).file)).toBeLessThan(255);
  });
});
