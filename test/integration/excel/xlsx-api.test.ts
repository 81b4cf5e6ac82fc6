import { join } from 'node:path';
import ExcelJS from 'exceljs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { NO_FAULTS } from '../../../src/simulator/index.js';
import { startTestSimulator, type TestSimulator } from '../../support/simulator.js';
import { call, csvRows, phone, startServe, type ServeProcess } from '../api/serve-process.js';

/** .xlsx uploads through `reachscan serve` (multipart and as the body), against the simulator over HTTP. */

let t: TestSimulator;
let serve: ServeProcess | null = null;
beforeAll(async () => {
  t = await startTestSimulator();
});
afterAll(() => t.close());
beforeEach(() => {
  t.sim.reset();
  t.sim.setDials({ faults: NO_FAULTS, rateCapPerSecond: 0, latencyMs: 0, retryAfter: true });
});
afterEach(async () => {
  await serve?.stop();
  serve = null;
});

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** A workbook with a cover sheet first and the numbers on "Fleet", one of them a number cell. */
async function fleetWorkbook(seed: number): Promise<Buffer> {
  const book = new ExcelJS.Workbook();
  book.addWorksheet('Cover').addRow(['exported by the CRM']);
  const sheet = book.addWorksheet('Fleet');
  sheet.addRow(['customer', 'msisdn', 'since']);
  for (let i = 0; i < 6; i++) {
    const row = sheet.addRow([`C${i}`, phone(seed, i), new Date(Date.UTC(2026, 0, i + 1))]);
    row.getCell(3).numFmt = 'yyyy-mm-dd';
  }
  sheet.addRow(['C6', 447700900123, null]);
  return Buffer.from(await book.xlsx.writeBuffer());
}

async function untilDone(s: ServeProcess, id: string): Promise<void> {
  await expect
    .poll(
      async () => (await call(`${s.url}/batches/${id}`, { token: s.token })).json<{ state: string }>().state,
      {
        timeout: 45_000,
        interval: 100,
      },
    )
    .toBe('done');
}

describe('reachscan serve: Excel uploads', () => {
  it(
    'a multipart .xlsx with a sheet option is scanned from that sheet, cells as Excel shows them',
    { timeout: 60_000 },
    async () => {
      serve = await startServe(t);
      const data = new FormData();
      data.append('sheet', 'Fleet');
      data.append('xlsx', 'true');
      data.append('file', new Blob([new Uint8Array(await fleetWorkbook(31))]), 'crm-export.xlsx');
      const posted = await call(`${serve.url}/batches`, { token: serve.token, body: data });
      expect(posted.status, posted.text).toBe(202);
      const { id } = posted.json<{ id: string }>();
      await untilDone(serve, id);
      const results = await call(`${serve.url}/batches/${id}/results.csv`, { token: serve.token });
      const rows = csvRows(results.text);
      expect(rows.map((r) => [r.customer, r.msisdn, r.since])).toEqual([
        ...Array.from({ length: 6 }, (_, i) => [`C${i}`, phone(31, i), `2026-01-0${i + 1}`]),
        ['C6', '4.47701E+11', ''],
      ]);
      expect(rows.map((r) => r.reachability_status)).toEqual([
        ...Array<string>(6).fill('OK'),
        'EXCEL_MANGLED',
      ]);
      // results.xlsx: the same phone cells, as text.
      const book = new ExcelJS.Workbook();
      await book.xlsx.readFile(join(serve.dataDir, 'batches', id, 'results.xlsx'));
      const sheet = book.getWorksheet('Results');
      const msisdn = sheet?.getColumn(2).values.slice(2);
      expect(msisdn).toEqual(rows.map((r) => r.msisdn));
      expect(sheet?.getRow(2).getCell(2).type).toBe(ExcelJS.ValueType.String);
      const report = await call(`${serve.url}/batches/${id}/report.json`, { token: serve.token });
      expect(report.json()).toMatchObject({ input_file: 'crm-export.xlsx', rows: { total: 7 } });
    },
  );

  it(
    'an .xlsx as the body, and an unknown sheet refused with the sheets listed',
    { timeout: 60_000 },
    async () => {
      serve = await startServe(t);
      const body = await fleetWorkbook(32);
      const unknown = await call(`${serve.url}/batches?sheet=Nope`, {
        method: 'POST',
        token: serve.token,
        headers: { 'content-type': XLSX_TYPE },
        body,
      });
      expect(unknown.status).toBe(422);
      expect(unknown.json<{ detail: string }>().detail).toContain(
        'has no sheet named "Nope"; its sheets are "Cover", "Fleet"',
      );
      const posted = await call(`${serve.url}/batches?sheet=Fleet`, {
        method: 'POST',
        token: serve.token,
        headers: { 'content-type': XLSX_TYPE },
        body,
      });
      expect(posted.status, posted.text).toBe(202);
      const { id } = posted.json<{ id: string }>();
      await untilDone(serve, id);
      const rows = csvRows(
        (await call(`${serve.url}/batches/${id}/results.csv`, { token: serve.token })).text,
      );
      expect(rows.map((r) => r.msisdn)).toEqual([
        ...Array.from({ length: 6 }, (_, i) => phone(32, i)),
        '4.47701E+11',
      ]);
    },
  );
});
