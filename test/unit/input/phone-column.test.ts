import { describe, expect, it } from 'vitest';
import { InputError } from '../../../src/input/errors.js';
import { choosePhoneColumn, duplicatePhoneHeaderNote } from '../../../src/input/phone-column.js';

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

  it('masks a "header" that is a phone number (a file without a header row): the message is logged', () => {
    expect(() => choosePhoneColumn('crm.csv', ['+447400123456', 'Ada', '2024', '07400 123456'])).toThrow(
      'the headers are "+*********456", "Ada", "2024", "*********456"; name it with --column',
    );
  });

  it('takes --column as a 1-based position when no header has that name', () => {
    expect(choosePhoneColumn('f.csv', ['id', 'phone', 'phone'], '3')).toBe(2);
    expect(choosePhoneColumn('f.csv', ['2', 'phone'], '2')).toBe(0); // a header named "2" wins
    expect(() => choosePhoneColumn('f.csv', ['id', 'phone'], '3')).toThrow('no column named "3"');
  });

  it('says which column is used when the phone header repeats, and how to take another', () => {
    expect(duplicatePhoneHeaderNote('f.csv', ['id', 'phone', 'id', 'Phone', 'phone'], 1)).toBe(
      'f.csv: line 1: the phone column\'s header "phone" appears 3 times (columns 2, 4, 5); column 2 is used; choose another with --column 4',
    );
    expect(duplicatePhoneHeaderNote('f.csv', ['id', 'id', 'phone'], 2)).toBeNull(); // other repeats don't matter
  });
});
