import { describe, expect, it } from 'vitest';
import { PACKED, packValue, unpackValue } from '../../../src/core/packed-value.js';

describe('packed values', () => {
  it('pack ISO times with milliseconds and lower-case UUIDs, and unpack them to the same text', () => {
    for (const [kind, value] of [
      ['time', '2026-12-06T22:11:12.123Z'],
      ['time', '1970-01-01T00:00:00.000Z'],
      ['time', '1969-07-20T20:17:40.000Z'],
      ['time', '2024-02-29T23:59:59.999Z'],
      ['time', '2000-02-29T12:00:00.000Z'],
      ['id', '0f8e9a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b'],
      ['id', '00000000-0000-0000-0000-000000000000'],
    ] as const) {
      const packed = packValue(kind, value) as string;
      expect(packed.startsWith(PACKED)).toBe(true);
      expect(packed.length).toBeLessThan(value.length);
      expect(unpackValue(kind, packed)).toBe(value);
    }
  });

  it('pack every millisecond of a leap year as toISOString writes it', () => {
    for (let ms = Date.UTC(2024, 0, 1); ms < Date.UTC(2025, 0, 1); ms += 3_599_999) {
      const value = new Date(ms).toISOString();
      expect(unpackValue('time', packValue('time', value) as string)).toBe(value);
    }
  });

  it('keep any other value as it is, and refuse one that starts with the mark', () => {
    for (const [kind, value] of [
      ['time', ''],
      ['time', '2026-12-06T22:11:12Z'],
      ['time', '2026-02-30T00:00:00.000Z'],
      ['time', '2026-01-01T24:00:00.000Z'],
      ['time', '2025-02-29T00:00:00.000Z'],
      ['time', '2026-04-31T00:00:00.000Z'],
      ['time', '2026-13-01T00:00:00.000Z'],
      ['time', '2026-01-01T00:60:00.000Z'],
      ['time', '0050-01-01T00:00:00.000Z'],
      ['id', '0F8E9A2B-3C4D-4E5F-8A9B-0C1D2E3F4A5B'],
      ['id', 'req-42'],
      ['text', '2026-12-06T22:11:12.123Z'],
    ] as const) {
      expect(packValue(kind, value)).toBe(value);
      expect(unpackValue(kind, value)).toBe(value);
    }
    expect(packValue('text', '~x')).toBeNull();
    expect(packValue('time', '~x')).toBeNull();
  });
});
