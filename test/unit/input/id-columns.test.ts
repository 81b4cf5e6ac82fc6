import { describe, expect, it } from 'vitest';
import { idColumnsFlag, labelFlag } from '../../../src/config/options.js';
import { UsageError } from '../../../src/core/errors.js';
import { chooseIdColumns, defaultIdColumns } from '../../../src/input/id-columns.js';

describe('identifying columns of the longest-gaps list', () => {
  const headers = ['customer_id', 'name', 'msisdn', 'segment'];

  it('are the first two columns when the phone column is not one of them', () => {
    expect(chooseIdColumns('f.csv', headers, 2)).toEqual([0, 1]);
  });

  it('skip the phone column: phone,id,name shows id and name', () => {
    expect(chooseIdColumns('f.csv', ['phone', 'id', 'name', 'x'], 0)).toEqual([1, 2]);
    expect(chooseIdColumns('f.csv', ['id', 'phone', 'name'], 1)).toEqual([0, 2]);
  });

  it('are fewer when the file has fewer other columns, none for a lone phone column', () => {
    expect(chooseIdColumns('f.csv', ['id', 'phone'], 1)).toEqual([0]);
    expect(chooseIdColumns('f.csv', ['phone'], 0)).toEqual([]);
    // A results file whose phone column is not known: just the first two.
    expect(defaultIdColumns(5, -1)).toEqual([0, 1]);
  });

  it('are the named ones, in the order named, matched exactly or loosely, each once', () => {
    expect(chooseIdColumns('f.csv', headers, 2, ['segment', 'customer_id'])).toEqual([3, 0]);
    expect(chooseIdColumns('f.csv', headers, 2, ['Customer ID', 'customer_id'])).toEqual([0]);
    // Naming the phone column is allowed: the user asked for it.
    expect(chooseIdColumns('f.csv', headers, 2, ['msisdn'])).toEqual([2]);
  });

  it('refuse an unknown name with a usage error naming it and the file and its columns', () => {
    const refuse = () => chooseIdColumns('fleet.csv', headers, 2, ['name', 'acount']);
    expect(refuse).toThrow(UsageError);
    expect(refuse).toThrow(
      '--id-columns: fleet.csv has no column named "acount"; its columns are "customer_id", "name", "msisdn", "segment"',
    );
  });
});

describe('--id-columns and --label values', () => {
  it('split names on commas, trimmed, each once', () => {
    expect(idColumnsFlag(undefined)).toBeUndefined();
    expect(idColumnsFlag(' customer_id , name,name')).toEqual(['customer_id', 'name']);
    expect(() => idColumnsFlag('a,,b')).toThrow(/--id-columns must name columns separated by commas/);
    expect(() => idColumnsFlag('')).toThrow(UsageError);
  });

  it('take a printable label of up to 100 characters', () => {
    expect(labelFlag(undefined)).toBeUndefined();
    expect(labelFlag(' nightly fleet ')).toBe('nightly fleet');
    expect(() => labelFlag('')).toThrow(/--label must be 1 to 100 printable characters/);
    expect(() => labelFlag('a\nb')).toThrow(UsageError);
    expect(() => labelFlag('x'.repeat(101))).toThrow(UsageError);
    expect(labelFlag('x'.repeat(100))).toHaveLength(100);
  });
});
