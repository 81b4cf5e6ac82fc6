import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadJobsFolder } from '../../../src/schedule/jobs-folder.js';

const root = join(import.meta.dirname, '..', '..', '..');

describe('the shipped jobs/ folder', () => {
  it('jobs/nightly-fleet.json validates, and its source is the fleet fixture', async () => {
    const folder = await loadJobsFolder(join(root, 'jobs'));
    expect(folder.problems).toEqual([]);
    expect(folder.warnings).toEqual([]);
    const fleet = folder.definitions.find((d) => d.id === 'nightly-fleet');
    expect(fleet).toMatchObject({
      source: join(root, 'fixtures', 'iot-fleet.csv'),
      out: join(root, 'out', 'nightly-fleet'),
      cron: '0 2 * * *',
      timezone: 'Europe/Paris',
      enabled: true,
    });
    const rows = readFileSync(join(root, 'fixtures', 'iot-fleet.csv'), 'utf8')
      .trim()
      .split('\n')
      .slice(1);
    expect(rows).toHaveLength(30);
    // Every Virtual Operator number is in it, so a run shows every kind of answer.
    for (let n = 0; n <= 99; n += 11)
      expect(rows.join('\n')).toContain(`+9901234${String(n).padStart(2, '0')}`);
  });
});
