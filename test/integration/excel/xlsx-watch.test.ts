import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatorProcess, type SimulatorProcess } from '../../support/simulator-process.js';
import { dropFile, folders, list, numbersOf, readResults, startWatcher, watchEnv } from '../watch/harness.js';

let sim: SimulatorProcess;
beforeAll(async () => {
  sim = await startSimulatorProcess();
});
afterAll(async () => {
  await sim.stop();
});

describe('reachscan watch: Excel files', () => {
  it('an .xlsx dropped in the inbox is scanned from its first sheet', { timeout: 60_000 }, async () => {
    const book = new ExcelJS.Workbook();
    const sheet = book.addWorksheet('Numbers');
    sheet.addRow(['id', 'phone']);
    const numbers = numbersOf(400_070_000, 5);
    numbers.forEach((n, i) => sheet.addRow([`R${i + 1}`, n]));
    const f = folders();
    const watcher = startWatcher(f, watchEnv(sim));
    try {
      dropFile(f.inbox, 'fleet.xlsx', Buffer.from(await book.xlsx.writeBuffer()));
      await expect.poll(() => list(join(f.inbox, 'done')), { timeout: 30_000 }).toHaveLength(1);
      const [filed] = list(join(f.inbox, 'done'));
      expect(filed).toMatch(/^fleet-\d{8}T\d{6}Z\.xlsx$/);
      const rows = readResults(join(f.outbox, (filed as string).replace(/\.xlsx$/, '')));
      expect(rows.map((r) => [r.id, r.phone_e164, r.reachability_status])).toEqual(
        numbers.map((n, i) => [`R${i + 1}`, n, 'OK']),
      );
      expect(list(join(f.inbox, 'failed'))).toEqual([]);
    } finally {
      await watcher.stop();
    }
  });
});
