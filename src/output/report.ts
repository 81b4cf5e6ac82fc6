import { CHANGE_KINDS, describeChange, type ChangeKind } from '../history/changes.js';
import { daysWithoutConnectivity } from '../history/no-connectivity.js';
import { SOURCE, type ResultFields } from '../core/columns.js';
import { roamingGroup } from '../core/mcc.js';
import { formatCount, plural } from './format.js';
import type { TrendEntry } from './report-trend.js';

/** One number of the stale list's top (largest gap first), for the reports. */
export interface StaleEntry {
  readonly phone_e164: string;
  readonly days: number;
  readonly since: string;
  readonly evidence: string;
  /** The identifying input columns (`stale.id_columns`) of the number's first row: column name → cell. */
  readonly ids: Readonly<Record<string, string>>;
  /** Input rows that hold this number (a number listed twice is one entry). */
  readonly rows: number;
}

/** One change, for the reports' sample (changes.csv has them all). */
export interface ChangeEntry {
  readonly phone_e164: string;
  readonly change: ChangeKind;
  readonly before: string;
  readonly after: string;
  readonly previous_checked_at: string;
  readonly checked_at: string;
}

/** One bar of the days-without-connectivity histogram: rows not reachable for `from`..`to` days. */
export interface HistogramBucket {
  readonly from: number;
  /** Inclusive; null for the open last bucket. */
  readonly to: number | null;
  readonly rows: number;
}

/** report.json: the contract scripts read. Counts are per results.csv row unless named otherwise. */
export interface BatchReport {
  /** Null when rebuilt from a results file (`reachscan report`). */
  readonly batch_id: string | null;
  readonly input_file: string;
  readonly provider: string | null;
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
  /**
   * Rows answered by the carrier in this run, rows answered from the history (`--max-age`), and rows answered
   * by the built-in simulator in this run (not real carrier data).
   */
  readonly source: { readonly live: number; readonly cache: number; readonly simulated: number };
  /**
   * Reachability of the rows with a valid number (the numbers asked, or answered from the history):
   * `reachable` + `not_reachable` + `unknown` = `rows.valid`; `unknown` holds the answers that did not say and
   * the lookups that failed. Rows without a valid number are in `invalid_numbers`, not here.
   */
  readonly reachability: {
    readonly reachable: number;
    readonly not_reachable: number;
    readonly unknown: number;
    readonly data: number;
    readonly sms_only: number;
  };
  /** Like `reachability`: `roaming` + `not_roaming` + `unknown` = `rows.valid`. */
  readonly roaming: {
    readonly roaming: number;
    readonly not_roaming: number;
    readonly unknown: number;
    /**
     * Roaming rows by where they roam, each row once, so the values add up to `roaming`: an ISO country
     * (`DE`), an MCC that stands for several countries (`MCC 340 (BL, GF, GP, MF, MQ)`), `MCC 901` (no
     * country), or `unknown` (the carrier named no place).
     */
    readonly by_country: Readonly<Record<string, number>>;
  };
  readonly status_counts: {
    readonly reachability: Readonly<Record<string, number>>;
    readonly roaming: Readonly<Record<string, number>>;
  };
  readonly stale: {
    readonly days: number;
    readonly rows: number;
    readonly file: string;
    readonly evidence: { readonly status_time: number; readonly history: number };
    /** The input columns each entry of `top` shows (`--id-columns`, else the first two but the phone's). */
    readonly id_columns: readonly string[];
    /** The longest gaps, largest first, one entry per number (up to 20). */
    readonly top: readonly StaleEntry[];
  };
  /** Not-reachable rows by days without connectivity (rows whose gap is known). */
  readonly no_connectivity_days: readonly HistogramBucket[];
  readonly changes: {
    /** Rows whose number had been checked before (what changes are measured against). */
    readonly compared_rows: number;
    readonly rows: number;
    readonly by_kind: Readonly<Record<ChangeKind, number>>;
    readonly file: string;
    /** The first changes in file order (up to 50). */
    readonly sample: readonly ChangeEntry[];
  };
  /**
   * Rows whose `error` column is not empty: `invalid_numbers` + `lookups_failed`. Kept for the scripts that read
   * it; the three counts below tell findings about the input from failed lookups.
   */
  readonly rows_in_error: number;
  /** Rows whose cell holds no usable number (`INVALID_NUMBER_FORMAT`, `EXCEL_MANGLED`): never asked. */
  readonly invalid_numbers: number;
  /** Records that are not valid CSV (the lines of rejects.csv). */
  readonly malformed_records: number;
  /**
   * Rows with a valid number and no answer after the retries (`error` set: a carrier error, a transient status
   * every time, `ERROR_NOT_PROCESSED`). What makes a batch exit 1.
   */
  readonly lookups_failed: number;
  /** Answers of the built-in simulator in the results (`source.simulated` > 0): not real carrier data. */
  readonly simulated: boolean;
  /** The name runs of this source share (`--label`, a schedule's id, a watched file's name); null: none. */
  readonly label: string | null;
  /** The label's last runs, oldest first, this one included (up to 30); empty without a label. */
  readonly trend: readonly TrendEntry[];
  /** Why the run asked (`--purpose`, else the provider's configured purpose); null in reports rebuilt from older runs. */
  readonly purpose: string | null;
}

export interface ReportContext {
  readonly batchId: string | null;
  readonly inputFile: string;
  readonly provider: string | null;
  readonly startedAt: string;
  readonly staleDays: number;
  readonly staleFile: string;
  readonly changesFile: string;
  /** See {@link BatchReport.label}. */
  readonly label?: string | null;
  /** See {@link BatchReport.purpose}. */
  readonly purpose?: string | null;
}

const TOP_STALE = 20;
const CHANGE_SAMPLE = 50;
const BUCKET_EDGES = [0, 7, 14, 30, 60, 90, 180, 365];

/** What one row adds to the stale list and the changes, for the writer of those files. */
export interface RowVerdict {
  /** Whole days without connectivity as of the check; null when not known or the device is reachable. */
  readonly days: number | null;
  readonly stale: boolean;
  readonly changes: readonly ChangeEntry[];
}

/** Counts rows as they stream past; holds counters and two short lists, never the rows. */
export class ReportAccumulator {
  private total = 0;
  private valid = 0;
  private rejected = 0;
  private staleRows = 0;
  private inError = 0;
  private lookupsFailed = 0;
  private compared = 0;
  private changedRows = 0;
  private readonly source = { live: 0, cache: 0, simulated: 0 };
  private readonly evidence = { status_time: 0, history: 0 };
  private readonly reach = { reachable: 0, not_reachable: 0, unknown: 0, data: 0, sms_only: 0 };
  private readonly roam = { roaming: 0, not_roaming: 0, unknown: 0 };
  private readonly byCountry = new Map<string, number>();
  private readonly reachCodes = new Map<string, number>();
  private readonly roamCodes = new Map<string, number>();
  private readonly byKind = Object.fromEntries(CHANGE_KINDS.map((k) => [k, 0])) as Record<ChangeKind, number>;
  private readonly edges: number[];
  private readonly buckets: number[];
  private readonly top: StaleEntry[] = [];
  private readonly sample: ChangeEntry[] = [];
  private startedAt: string | null = null;
  private finishedAt: string | null = null;

  /**
   * @param idColumns names of the input columns whose cells {@link addRow} is given, to tell rows apart in the
   *   longest-gaps list
   */
  constructor(
    private readonly staleDays: number,
    private readonly idColumns: readonly string[] = [],
  ) {
    // The stale threshold is always a bucket edge, so the histogram shows exactly what the list holds.
    this.edges = [...new Set([...BUCKET_EDGES, staleDays])].sort((a, b) => a - b);
    this.buckets = this.edges.map(() => 0);
  }

  /** One results row; `ids` are its cells of the identifying columns, in the constructor's order. */
  addRow(fields: ResultFields, ids: readonly string[] = []): RowVerdict {
    this.total++;
    this.countKind(fields);
    if (fields.checked_at !== '') {
      if (this.startedAt === null || fields.checked_at < this.startedAt) this.startedAt = fields.checked_at;
      if (this.finishedAt === null || fields.checked_at > this.finishedAt)
        this.finishedAt = fields.checked_at;
    }
    if (fields.reachable === 'true') {
      this.reach.reachable++;
      const kinds = fields.connectivity.split(';');
      if (kinds.includes('DATA')) this.reach.data++;
      else if (fields.connectivity === 'SMS') this.reach.sms_only++;
    } else if (fields.reachable === 'false') this.reach.not_reachable++;
    else if (fields.phone_e164 !== '') this.reach.unknown++;
    if (fields.roaming === 'true') {
      this.roam.roaming++;
      bump(this.byCountry, roamingGroupOf(fields));
    } else if (fields.roaming === 'false') this.roam.not_roaming++;
    else if (fields.phone_e164 !== '') this.roam.unknown++;
    bump(this.reachCodes, fields.reachability_status);
    bump(this.roamCodes, fields.roaming_status);

    const days =
      fields.reachable === 'false' && fields.no_connectivity_since !== ''
        ? daysWithoutConnectivity(fields.no_connectivity_since, fields.checked_at)
        : null;
    const stale = days !== null && days >= this.staleDays;
    if (days !== null) this.addToHistogram(days);
    if (stale) {
      this.staleRows++;
      if (fields.no_connectivity_evidence === 'status_time') this.evidence.status_time++;
      else this.evidence.history++;
      this.keepTop({
        phone_e164: fields.phone_e164,
        days,
        since: fields.no_connectivity_since,
        evidence: fields.no_connectivity_evidence,
        ids: Object.fromEntries(this.idColumns.map((name, i) => [name, ids[i] ?? ''])),
        rows: 1,
      });
    }

    if (fields.previous_checked_at !== '') this.compared++;
    const changes = fields.changes === '' ? [] : changeEntries(fields);
    if (changes.length > 0) this.changedRows++;
    for (const change of changes) {
      this.byKind[change.change]++;
      if (this.sample.length < CHANGE_SAMPLE) this.sample.push(change);
    }
    return { days, stale, changes };
  }

  /**
   * What kind of row it is: an invalid cell (never asked: a finding about the input, not an answer of any
   * kind, so it is left out of the reachability and roaming counts), a lookup that failed, or an answer, and
   * where that came from.
   */
  private countKind(fields: ResultFields): void {
    if (fields.error !== '') this.inError++;
    if (fields.phone_e164 === '') return;
    this.valid++;
    if (fields.error !== '') this.lookupsFailed++;
    if (fields.source === SOURCE.live) this.source.live++;
    else if (fields.source === SOURCE.cache) this.source.cache++;
    else if (fields.source === SOURCE.simulated) this.source.simulated++;
  }

  addReject(): void {
    this.rejected++;
  }

  private addToHistogram(days: number): void {
    let i = this.edges.length - 1;
    while (i > 0 && days < (this.edges[i] as number)) i--;
    this.buckets[i] = (this.buckets[i] ?? 0) + 1;
  }

  /**
   * Keeps the longest gaps, one entry per number: a number on several rows (the same answer, so the same days)
   * counts its rows on the entry of its first row instead of taking several places.
   */
  private keepTop(entry: StaleEntry): void {
    const same = this.top.findIndex((e) => e.phone_e164 === entry.phone_e164);
    if (same >= 0) {
      const kept = this.top[same] as StaleEntry;
      this.top[same] = { ...kept, rows: kept.rows + 1, days: Math.max(kept.days, entry.days) };
      this.top.sort((a, b) => b.days - a.days);
      return;
    }
    if (this.top.length >= TOP_STALE && (this.top.at(-1)?.days ?? 0) >= entry.days) return;
    const at = this.top.findIndex((e) => e.days < entry.days);
    this.top.splice(at === -1 ? this.top.length : at, 0, entry);
    if (this.top.length > TOP_STALE) this.top.pop();
  }

  /** First and last `checked_at` seen: the run's span when nothing better is known (a rebuilt report). */
  span(): { first: string | null; last: string | null } {
    return { first: this.startedAt, last: this.finishedAt };
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
      source: { ...this.source },
      reachability: { ...this.reach },
      roaming: { ...this.roam, by_country: sortedRecord(this.byCountry) },
      status_counts: { reachability: sortedRecord(this.reachCodes), roaming: sortedRecord(this.roamCodes) },
      stale: {
        days: context.staleDays,
        rows: this.staleRows,
        file: context.staleFile,
        evidence: { ...this.evidence },
        id_columns: [...this.idColumns],
        top: [...this.top],
      },
      no_connectivity_days: this.edges.map((from, i) => ({
        from,
        to: i + 1 < this.edges.length ? (this.edges[i + 1] as number) - 1 : null,
        rows: this.buckets[i] ?? 0,
      })),
      changes: {
        compared_rows: this.compared,
        rows: this.changedRows,
        by_kind: { ...this.byKind },
        file: context.changesFile,
        sample: [...this.sample],
      },
      rows_in_error: this.inError,
      invalid_numbers: this.total - this.valid,
      malformed_records: this.rejected,
      lookups_failed: this.lookupsFailed,
      simulated: this.source.simulated > 0,
      label: context.label ?? null,
      purpose: context.purpose ?? null,
      // Filled in by whoever keeps the run log (the finalize step), once this run's figures are known.
      trend: [],
    };
  }
}

/** The changes a result row names, each with its two sides. Unknown names (a newer file) are skipped. */
function changeEntries(fields: ResultFields): ChangeEntry[] {
  const known = new Set<string>(CHANGE_KINDS);
  return fields.changes
    .split(';')
    .filter((kind): kind is ChangeKind => known.has(kind))
    .map((change) => ({
      phone_e164: fields.phone_e164,
      change,
      ...describeChange(change, fields, fields.previous_roaming_countries),
      previous_checked_at: fields.previous_checked_at,
      checked_at: fields.checked_at,
    }));
}

/** A roaming row's group: one per device, so the groups add up to the roaming rows. */
function roamingGroupOf(fields: ResultFields): string {
  const mcc = /^\d+$/.test(fields.roaming_mcc) ? Number(fields.roaming_mcc) : null;
  return roamingGroup(fields.roaming_countries.split(';'), mcc);
}

function bump(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** Largest first, then by name: the order a person reads. */
function sortedRecord(map: Map<string, number>): Record<string, number> {
  return Object.fromEntries([...map].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
}

/** "60–89 days", "365+ days": a histogram bucket as people read it. */
export function bucketLabel(bucket: HistogramBucket): string {
  if (bucket.to === null) return `${bucket.from}+`;
  return bucket.from === bucket.to ? `${bucket.from}` : `${bucket.from}–${bucket.to}`;
}

/** What a change kind means, in words. */
export const CHANGE_LABELS: Readonly<Record<ChangeKind, string>> = {
  went_offline: 'went offline',
  came_back: 'came back',
  started_roaming: 'started roaming',
  stopped_roaming: 'stopped roaming',
  roaming_country_changed: 'changed roaming country',
  became_not_found: 'became NOT_FOUND',
};

/** One sentence on the changes, for the summary and the reports. */
export function changesLine(report: BatchReport): string {
  const c = report.changes;
  if (c.compared_rows > 0)
    return `changed since the previous check: ${formatCount(c.rows)} of ${plural(c.compared_rows, 'row')} → ${c.file}`;
  if (report.source.cache > 0 && report.source.live === 0)
    return 'changes: none measured, every answer came from the history (--max-age)';
  return 'changes: none of these numbers had been checked before';
}

/** Where the answers came from, for the reports. */
export function sourcesLine(report: BatchReport): string {
  const { live, cache, simulated } = report.source;
  return (
    `${plural(live, 'row')} asked live, ${formatCount(cache)} answered from the history` +
    (simulated > 0 ? `, ${formatCount(simulated)} answered by the built-in simulator` : '')
  );
}

/** The banner at the top of a simulated run's reports. */
export const SIMULATED_BANNER = 'Simulated carrier — not real data';

/** What the banner says next: how many answers the simulator gave. */
export function simulatedNote(report: BatchReport): string {
  return (
    `${report.source.simulated} of the answers came from reachscan's built-in carrier simulator, not from a ` +
    'carrier (results.csv says source=simulated). Use these figures to try reachscan, never to decide about a device.'
  );
}
