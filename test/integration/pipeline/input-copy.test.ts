import { mkdtempSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sweepAbandonedCopies } from '../../../src/batch/input-copy.js';

const DAY_MS = 24 * 3600 * 1000;

describe('copies of abandoned batches are swept at the next intake into their folder', () => {
  it('removes copies older than 30 days and intake leftovers older than a day; keeps the rest', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'reachscan-copies-'));
    const now = Date.now();
    const files: Record<string, number> = {
      'aaaaaaaaaaaaaaaaaaaaaaaa.csv': 31 * DAY_MS, // abandoned: its batch's state is gone from Redis
      'bbbbbbbbbbbbbbbbbbbbbbbb.csv': 29 * DAY_MS, // may still be resumed
      '.intake-0f1e2d3c-aaaa-bbbb-cccc-000000000000.partial': 2 * DAY_MS, // an intake that died
      '.intake-0f1e2d3c-aaaa-bbbb-cccc-111111111111.partial': 60_000, // an intake under way
      'notes.txt': 400 * DAY_MS, // not ours
    };
    for (const [name, age] of Object.entries(files)) {
      const path = join(folder, name);
      writeFileSync(path, 'id,phone\n');
      const at = new Date(now - age);
      utimesSync(path, at, at);
    }
    await sweepAbandonedCopies(folder, now);
    expect(readdirSync(folder).sort()).toEqual(
      [
        '.intake-0f1e2d3c-aaaa-bbbb-cccc-111111111111.partial',
        'bbbbbbbbbbbbbbbbbbbbbbbb.csv',
        'notes.txt',
      ].sort(),
    );
  });
});
