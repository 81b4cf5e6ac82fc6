import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/input/errors.js';
import { choosePhoneColumn } from '../../../src/input/phone-column.js';

describe('choosePhoneColumn', () => {
  it.each([
    [['id', 'Phone Number', 'name'], 1],
    [['id', 'MOBILE_NUMBER'], 1],
    [['msisdn', 'phone'], 0],
    [['name', 'Tel.'], 1],
    [['Number', 'Mobile'], 1], // the more specific name wins
    [['e.164'], 0],
  ])('finds the phone column in %j', (headers, index) => {
    expect(choosePhoneColumn('f.csv', headers)).toBe(index);
  });

  it('takes --column, exactly or loosely', () => {
    expect(choosePhoneColumn('f.csv', ['a', 'Contact Phone', 'phone'], 'Contact Phone')).toBe(1);
    expect(choosePhoneColumn('f.csv', ['a', 'Contact Phone'], 'contact_phone')).toBe(1);
  });

  it('names the file and lists the headers when none fits', () => {
    expect(() => choosePhoneColumn('crm.csv', ['id', 'name'])).toThrow(InputError);
    expect(() => choosePhoneColumn('crm.csv', ['id', 'name'])).toThrow(
      /^crm\.csv: no phone column found .* the headers are "id", "name"; name it with --column$/,
    );
    expect(() => choosePhoneColumn('crm.csv', ['id'], 'cell')).toThrow(
      'crm.csv: no column named "cell"; the headers are "id"',
    );
  });
});
