import type { ResultFields } from './columns.js';

/** report.json: the contract scripts read. Counts are per results.csv row unless named otherwise. */
export interface BatchReport {
  readonly batch_id: string;
  readonly input_file: string;
  readonly provider: string;
  readonly started_at: string;
  readonly finished_at: string;
  readonly rows: {
    readonly total: number;
    readonly valid: number;
    readonly invalid: number;
    readonly duplicate: number;
    readonly rejected: number;
  };
  readonly unique_numbers: number;
  readonly reachability: {
    readonly reachable: number;
    readonly not_reachable: number;
    readonly unknown: number;
    readonly data: number;
    readonly sms_only: number;
  };
  readonly roaming: {
    readonly roaming: number;
    readonly not_roaming: number;
    readonly unknown: number;
    readonly by_country: Readonly<Record<string, number>>;
  };
  readonly status_counts: {
    readonly reachability: Readonly<Record<string, number>>;
    readonly roaming: Readonly<Record<string, number>>;
  };
  readonly stale: { readonly days: number; readonly rows: number; readonly file: string };
  /** Rows whose `error` column is not empty. */
  readonly rows_in_error: number;
}

export interface ReportContext {
  readonly batchId: string;
  readonly inputFile: string;
  readonly provider: string;
  readonly startedAt: string;
  readonly staleDays: number;
  readonly staleFile: string;
}

/** Counts rows as they stream past; holds only counters, never rows. */
export class ReportAccumulator {
  private total = 0;
  private valid = 0;
  private rejected = 0;
  private staleRows = 0;
  private inError = 0;
  private readonly reach = { reachable: 0, not_reachable: 0, unknown: 0, data: 0, sms_only: 0 };
  private readonly roam = { roaming: 0, not_roaming: 0, unknown: 0 };
  private readonly byCountry = new Map<string, number>();
  private readonly reachCodes = new Map<string, number>();
  private readonly roamCodes = new Map<string, number>();

  addRow(fields: ResultFields, stale: boolean): void {
    this.total++;
    if (fields.phone_e164 !== '') this.valid++;
    if (fields.error !== '') this.inError++;
    if (stale) this.staleRows++;
    if (fields.reachable === 'true') {
      this.reach.reachable++;
      const kinds = fields.connectivity.split(';');
      if (kinds.includes('DATA')) this.reach.data++;
      else if (fields.connectivity === 'SMS') this.reach.sms_only++;
    } else if (fields.reachable === 'false') this.reach.not_reachable++;
    else this.reach.unknown++;
    if (fields.roaming === 'true') {
      this.roam.roaming++;
      for (const country of fields.roaming_countries.split(';')) {
        if (country !== '') this.byCountry.set(country, (this.byCountry.get(country) ?? 0) + 1);
      }
    } else if (fields.roaming === 'false') this.roam.not_roaming++;
    else this.roam.unknown++;
    bump(this.reachCodes, fields.reachability_status);
    bump(this.roamCodes, fields.roaming_status);
  }

  addReject(): void {
    this.rejected++;
  }

  build(context: ReportContext, uniqueNumbers: number, finishedAt: string): BatchReport {
    return {
      batch_id: context.batchId,
      input_file: context.inputFile,
      provider: context.provider,
      started_at: context.startedAt,
      finished_at: finishedAt,
      rows: {
        total: this.total,
        valid: this.valid,
        invalid: this.total - this.valid,
        duplicate: Math.max(0, this.valid - uniqueNumbers),
        rejected: this.rejected,
      },
      unique_numbers: uniqueNumbers,
      reachability: { ...this.reach },
      roaming: { ...this.roam, by_country: sortedRecord(this.byCountry) },
      status_counts: { reachability: sortedRecord(this.reachCodes), roaming: sortedRecord(this.roamCodes) },
      stale: { days: context.staleDays, rows: this.staleRows, file: context.staleFile },
      rows_in_error: this.inError,
    };
  }
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Largest first, then by name: the order a person reads. */
function sortedRecord(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

const DAY_MS = 86_400_000;

/** Whole days since `lastStatusAt` when the device is not reachable; null when it does not qualify. */
export function daysWithoutConnectivity(fields: ResultFields, nowMs: number): number | null {
  if (fields.reachable !== 'false' || fields.last_status_at === '') return null;
  const since = Date.parse(fields.last_status_at);
  if (Number.isNaN(since)) return null;
  return Math.floor((nowMs - since) / DAY_MS);
}

/** report.md: the same figures, for people. */
export function renderMarkdown(report: BatchReport): string {
  const pct = (n: number) =>
    report.rows.total === 0 ? '0%' : `${((100 * n) / report.rows.total).toFixed(1)}%`;
  const table = (title: string, rows: [string, number][]) =>
    [
      `| ${title} | rows | share |`,
      '|---|---:|---:|',
      ...rows.map(([k, v]) => `| ${k} | ${v} | ${pct(v)} |`),
    ].join('\n');
  const r = report.reachability;
  const m = report.roaming;
  return [
    `# reachscan report: ${report.input_file}`,
    '',
    `Batch \`${report.batch_id}\`, provider ${report.provider}, ${report.started_at} → ${report.finished_at}.`,
    '',
    `${report.rows.total} rows (${report.rows.valid} valid numbers, ${report.rows.invalid} invalid, ` +
      `${report.rows.duplicate} duplicates, ${report.unique_numbers} unique numbers asked); ` +
      `${report.rows.rejected} records rejected as malformed CSV (rejects.csv); ${report.rows_in_error} rows in error.`,
    '',
    `**${report.stale.rows} rows have had no connectivity for ${report.stale.days} days or more** (${report.stale.file}).`,
    '',
    '## Reachability',
    '',
    table('status', [
      ['reachable', r.reachable],
      ['… with data', r.data],
      ['… SMS only', r.sms_only],
      ['not reachable', r.not_reachable],
      ['unknown', r.unknown],
    ]),
    '',
    '## Roaming',
    '',
    table('status', [
      ['roaming', m.roaming],
      ['not roaming', m.not_roaming],
      ['unknown', m.unknown],
    ]),
    '',
    Object.keys(m.by_country).length > 0
      ? table('roaming in', Object.entries(m.by_country))
      : 'No roaming devices.',
    '',
    '## Status codes',
    '',
    table('reachability status', Object.entries(report.status_counts.reachability)),
    '',
    table('roaming status', Object.entries(report.status_counts.roaming)),
    '',
  ].join('\n');
}
