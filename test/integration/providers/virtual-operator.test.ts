import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asE164 } from '../../../src/core/e164.js';
import {
  capturingLogger,
  providerFor,
  startTestSimulator,
  type TestSimulator,
} from '../../support/simulator.js';

const ANCHOR = Date.parse('2026-05-10T00:00:00Z');
const DAY = 86_400_000;
const expected = parse<Record<string, string>>(
  readFileSync(new URL('../../../fixtures/virtual-operator.csv', import.meta.url)),
  { columns: true },
);

let t: TestSimulator;
beforeAll(async () => {
  t = await startTestSimulator({ anchorMs: ANCHOR });
});
afterAll(() => t.close());

describe('Virtual Operator numbers', () => {
  it.each(expected.map((row) => [row.phone, row] as const))(
    '%s answers as fixtures/virtual-operator.csv says',
    async (phone, row) => {
      const provider = providerFor(t, capturingLogger().logger);
      const outcome = await provider.lookup(asE164(phone ?? ''));
      await provider.close();
      if (outcome.kind !== 'answered') throw new Error(outcome.failure.detail);
      const { reachability: r, roaming: m } = outcome;
      const daysAgo = r.latestStatusAt === null ? '' : String((ANCHOR - Date.parse(r.latestStatusAt)) / DAY);
      expect({
        phone,
        reachable: r.reachable === null ? '' : String(r.reachable),
        connectivity: r.connectivity.join(';'),
        last_status_days_ago: daysAgo,
        roaming: m.roaming === null ? '' : String(m.roaming),
        roaming_countries: m.countries.join(';'),
        reachability_status: r.status.code,
        roaming_status: m.status.code,
      }).toEqual(row);
    },
  );
});
