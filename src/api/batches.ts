import type { Budget } from '../config/budget.js';
import { resumePausedBatch } from '../batch/resume.js';
import { reportCost, spendingSoFar } from '../batch/budget.js';
import type { ReportCost } from '../output/report.js';
import type { Readable } from 'node:stream';
import { prepareBatch, type ScanSettings } from '../batch/prepare.js';
import type { Clock } from '../core/clock.js';
import { UsageError } from '../core/errors.js';
import type { RedisClient } from '../queue/connection.js';
import { batchKeys } from '../queue/keys.js';
import { submitBatch } from '../batch/submit.js';
import { batchProgress, readReport, type ApiBatchState } from '../batch/progress.js';
import { outputType, SERVED_FILES, type DataDir, type ServedFile } from './data-dir.js';
import { decodeCursor, pageOf } from './batch-list.js';
import { type BatchRecord, type RetryRecord } from '../batch/files.js';
import { partialResults } from '../batch/partial-results.js';
import { HttpProblem } from './problem.js';
import { etaSeconds, RateTracker } from '../batch/eta.js';
import { buildRetryInput, settingsOf } from '../batch/retry.js';
import type { RetryMerger } from '../batch/retry-merger.js';
import type { SavedUpload } from './upload.js';

/** `GET /batches/:id`: the contract API clients read. */
export interface BatchView {
  readonly id: string;
  readonly state: ApiBatchState;
  readonly input_file: string;
  readonly provider: string;
  readonly submitted_at: string;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  /** Unique numbers answered, of the unique numbers found so far (the total grows while the file is read). */
  readonly done: number;
  readonly total: number;
  /** Data records read from the file, and whether it has all been read. */
  readonly records: number;
  readonly ingested: boolean;
  /** Answers per second (recent), or null before it can be said. */
  readonly rate: number | null;
  readonly eta_seconds: number | null;
  /** Chunk attempts retried, and pauses for the carrier's 429s. */
  readonly retries: number;
  readonly pauses: number;
  readonly failure: string | null;
  /** While the error-ratio breaker holds the batch: why (then POST …/resume). */
  readonly paused: string | null;
  /** Once done: rows whose `error` is set (see report.json): `invalid_numbers` + `lookups_failed`. */
  readonly rows_in_error: number | null;
  /** Once done, from report.json: findings about the input, apart from the lookups that failed. */
  readonly invalid_numbers: number | null;
  readonly malformed_records: number | null;
  readonly lookups_failed: number | null;
  /**
   * Why the batch asks: the `purpose` it was submitted with, and once done the one report.json records (then
   * the provider's configured purpose when none was given); null while it runs without one.
   */
  readonly purpose: string | null;
  /**
   * What it spent on upstream requests so far, as report.json's `cost` says it (`budget`: `500 requests`,
   * `25.00 EUR`, null without one); null when neither Redis nor a report knows (an old batch).
   */
  readonly cost: BatchCost | null;
  readonly retry_of: string | null;
  readonly retry: {
    readonly id: string;
    readonly rows: number;
    readonly state: RetryRecord['state'];
    readonly requested_at: string;
    readonly merged_at: string | null;
    readonly failure: string | null;
    readonly status_url: string;
  } | null;
  readonly links: Readonly<
    Record<'self' | 'results' | 'report_json' | 'report_html' | 'rejects' | 'retry' | 'resume', string>
  >;
  /** The outputs in the batch's folder now, each with its `GET /batches/:id/files/:name` URL. */
  readonly files: readonly { readonly name: string; readonly url: string }[];
}

/** A batch's spending in its view: report.json's `cost` without the cache hits (counted at the end). */
export type BatchCost = Omit<ReportCost, 'cache_hits'>;

/** One batch in `GET /batches`: its view's essentials and, once done, the report's figures. */
export interface BatchSummary {
  readonly id: string;
  readonly input_file: string;
  readonly provider: string;
  readonly submitted_at: string;
  readonly started_at: string | null;
  readonly finished_at: string | null;
  readonly state: ApiBatchState;
  readonly done: number;
  readonly total: number;
  readonly records: number;
  readonly reachable: number | null;
  readonly not_reachable: number | null;
  readonly no_connectivity: { readonly days: number; readonly rows: number | null };
  readonly rows_in_error: number | null;
  readonly retry_of: string | null;
  readonly url: string;
}

/** States in which nothing more happens to a batch: it may be deleted. */
export const FINISHED_STATES: readonly ApiBatchState[] = ['done', 'failed', 'lost'];

export interface BatchServiceDeps {
  readonly redis: RedisClient;
  readonly prefix: string;
  readonly dataDir: DataDir;
  readonly clock: Clock;
  readonly merger: RetryMerger;
}

/** What a file request gets: the finished file, the results so far, or "not yet" with the batch's view. */
export type FileAnswer =
  | { readonly kind: 'file'; readonly path: string; readonly type: string }
  | { readonly kind: 'partial'; readonly stream: Readable; readonly type: string }
  | { readonly kind: 'not-ready'; readonly view: BatchView };

const statusUrl = (id: string) => `/batches/${id}`;

/** The batches the API accepted: submitting, reading progress, serving files, retrying rows in error. */
export class BatchService {
  private readonly rates = new RateTracker();

  constructor(private readonly deps: BatchServiceDeps) {}

  /**
   * Queues an upload as a batch (or joins the same upload with the same options already running). Notes are
   * warnings about the input that do not stop it (read as Windows-1252, a repeated phone header).
   */
  async submit(
    upload: SavedUpload,
    displayName: string,
    settings: ScanSettings,
    retryOf: string | null = null,
  ): Promise<{ record: BatchRecord; notes: readonly string[] }> {
    const { dataDir } = this.deps;
    const submittedAt = new Date(this.deps.clock()).toISOString();
    const prepared = await prepareBatch({
      file: upload.path,
      // The upload is already the batch's own: written by the API, named by its content, never changed.
      copyTo: null,
      outDir: (id) => dataDir.batchDir(id),
      idIgnoresOutDir: true,
      displayName,
      submittedAt,
      settings,
    }).catch((error: unknown) => {
      // Options that only the file can refute (an `id-columns` name it lacks): the client's mistake, a 400.
      if (error instanceof UsageError) {
        throw new HttpProblem(400, `option ${error.message.replace(/--([\w-]+)/g, '"$1"')}`, {
          option: /^--([\w-]+)/.exec(error.message)?.[1] ?? null,
        });
      }
      throw error;
    });
    const id = prepared.data.batchId;
    await dataDir.createBatchDir(id);
    const existing = await dataDir.readRecord(id);
    const how = await submitBatch(this.deps.redis, this.deps.prefix, prepared.data);
    const notes = prepared.notes;
    if (how === 'resumed' && existing !== null) return { record: existing, notes };
    const record: BatchRecord = {
      version: 1,
      id,
      inputSha256: upload.sha256,
      displayName,
      submittedAt,
      job: prepared.data,
      retryOf: retryOf ?? existing?.retryOf ?? null,
      // A new run starts from nothing: an older retry of this batch no longer applies.
      retry: null,
    };
    await dataDir.writeRecord(record);
    this.rates.forget(id);
    return { record, notes };
  }

  async record(id: string): Promise<BatchRecord> {
    const record = await this.deps.dataDir.readRecord(id);
    if (record === null) throw new HttpProblem(404, `no batch ${id}`);
    return record;
  }

  async view(id: string): Promise<BatchView> {
    const record = await this.record(id);
    const progress = await batchProgress(this.deps.redis, this.deps.prefix, this.deps.dataDir, id);
    const { status, report } = progress;
    const now = this.deps.clock();
    const done = status?.answered ?? report?.unique_numbers ?? 0;
    const total = status?.unique ?? report?.unique_numbers ?? 0;
    const ingested = status?.ingested ?? report !== null;
    const startedAt = status?.startedAt ?? report?.started_at ?? null;
    const running = progress.state !== 'done' && progress.state !== 'failed' && progress.state !== 'lost';
    const rate = running
      ? this.rates.rate(id, now, done, startedAt === null ? null : Date.parse(startedAt))
      : null;
    const retry = record.retry;
    const state: ApiBatchState =
      progress.state === 'done' && retry?.state === 'running' ? 'retrying' : progress.state;
    return {
      id,
      state,
      input_file: record.displayName,
      provider: record.job.provider,
      submitted_at: record.submittedAt,
      started_at: startedAt,
      finished_at: progress.finishedAt,
      done,
      total,
      records: status?.records ?? report?.rows.total ?? 0,
      ingested,
      rate: rate === null ? null : Math.round(rate * 100) / 100,
      // A paused batch finishes when someone resumes it: no time can be said.
      eta_seconds: running && state !== 'paused' ? etaSeconds(done, total, ingested, rate) : null,
      retries: status?.retries ?? 0,
      pauses: status?.pauses ?? 0,
      failure: progress.failure,
      paused: status?.paused ?? null,
      rows_in_error: report?.rows_in_error ?? null,
      // null from a report.json written before these counts existed
      invalid_numbers: report?.invalid_numbers ?? null,
      malformed_records: report?.malformed_records ?? null,
      lookups_failed: report?.lookups_failed ?? null,
      purpose: report?.purpose ?? record.job.purpose ?? null,
      cost: await this.cost(id, report?.cost),
      retry_of: record.retryOf,
      retry:
        retry === null
          ? null
          : {
              id: retry.id,
              rows: retry.rows,
              state: retry.state,
              requested_at: retry.requestedAt,
              merged_at: retry.mergedAt ?? null,
              failure: retry.failure ?? null,
              status_url: statusUrl(retry.id),
            },
      links: {
        self: statusUrl(id),
        results: `${statusUrl(id)}/results.csv`,
        report_json: `${statusUrl(id)}/report.json`,
        report_html: `${statusUrl(id)}/report.html`,
        rejects: `${statusUrl(id)}/rejects.csv`,
        retry: `${statusUrl(id)}/retry`,
        resume: `${statusUrl(id)}/resume`,
      },
      files: (await this.deps.dataDir.outputs(id)).map((name) => ({
        name,
        url: `${statusUrl(id)}/files/${name}`,
      })),
    };
  }

  /** The final cost once report.json has it; until then what Redis counted so far. */
  private async cost(id: string, reported: ReportCost | undefined): Promise<BatchCost | null> {
    if (reported !== undefined) {
      const { cache_hits: _counted, ...cost } = reported;
      return cost;
    }
    const spending = await spendingSoFar(this.deps.redis, batchKeys(this.deps.prefix, id));
    return spending === null ? null : reportCost(spending);
  }

  /** A page of the batches in the data folder, newest first (`GET /batches`). */
  async list(
    limit: number,
    cursor: string | null,
  ): Promise<{ batches: BatchSummary[]; next: string | null }> {
    const after = cursor === null ? null : decodeCursor(cursor);
    const records: BatchRecord[] = [];
    for (const id of await this.deps.dataDir.batchIds()) {
      // A folder being written or removed as we read is not a batch to list.
      const record = await this.deps.dataDir.readRecord(id).catch(() => null);
      if (record !== null) records.push(record);
    }
    const { page, next } = pageOf(records, limit, after);
    return { batches: await Promise.all(page.map((r) => this.summary(r))), next };
  }

  private async summary(record: BatchRecord): Promise<BatchSummary> {
    const view = await this.view(record.id);
    const report = view.state === 'done' ? await readReport(this.deps.dataDir, record.id) : null;
    return {
      id: view.id,
      input_file: view.input_file,
      provider: view.provider,
      submitted_at: view.submitted_at,
      started_at: view.started_at,
      finished_at: view.finished_at,
      state: view.state,
      done: view.done,
      total: view.total,
      records: view.records,
      reachable: report?.reachability.reachable ?? null,
      not_reachable: report?.reachability.not_reachable ?? null,
      no_connectivity: { days: record.job.staleDays, rows: report?.stale.rows ?? null },
      rows_in_error: view.rows_in_error,
      retry_of: view.retry_of,
      url: view.links.self,
    };
  }

  /** Removes a finished batch's folder, and its upload when no other batch reads it (`DELETE /batches/:id`). */
  async remove(id: string): Promise<void> {
    const view = await this.view(id);
    if (!FINISHED_STATES.includes(view.state))
      throw new HttpProblem(409, `batch ${id} is ${view.state}: only a finished batch can be deleted`, {
        batch_state: view.state,
      });
    const record = await this.record(id);
    await this.deps.dataDir.removeBatch(id, record.inputSha256);
    this.rates.forget(id);
  }

  /** An output by its file name: its path and content type once the batch is done, else "not yet". */
  async output(id: string, name: string): Promise<FileAnswer> {
    if (name in SERVED_FILES) return this.file(id, name as ServedFile);
    const view = await this.view(id);
    if (view.state !== 'done' && view.state !== 'retrying') return { kind: 'not-ready', view };
    return { kind: 'file', path: this.deps.dataDir.outputPath(id, name), type: outputType(name) };
  }

  /**
   * A batch's file: when the batch is done, the file it wrote; results.csv while it runs, the rows answered so
   * far; anything else, not yet.
   */
  async file(id: string, name: ServedFile): Promise<FileAnswer> {
    const view = await this.view(id);
    const type = SERVED_FILES[name].type;
    if (view.state === 'done' || view.state === 'retrying') {
      return { kind: 'file', path: this.deps.dataDir.file(id, name), type };
    }
    const inFlight = view.state !== 'failed' && view.state !== 'lost';
    if (name === 'results.csv' && inFlight) {
      const record = await this.record(id);
      const stream = partialResults(
        this.deps.redis,
        batchKeys(this.deps.prefix, id).answers,
        record.job,
        this.deps.dataDir.uploadPath(record.inputSha256),
      );
      return { kind: 'partial', stream, type };
    }
    return { kind: 'not-ready', view };
  }

  /** Lifts the error-ratio breaker's pause (as `reachscan resume` does). */
  async resume(id: string, budget?: Budget): Promise<{ chunks: number; reason: string }> {
    await this.record(id);
    const result = await resumePausedBatch(this.deps.redis, this.deps.prefix, id, budget);
    if (result.kind === 'resumed') return result;
    if (result.kind === 'bad-budget') throw new HttpProblem(400, `option "budget": ${result.reason}`);
    const state = result.kind === 'unknown' ? 'finished' : result.state;
    throw new HttpProblem(409, `batch ${id} is ${state}, not paused: nothing to resume`);
  }

  /** Asks the rows in error of a finished batch again, as a batch of their own; merged back when it is done. */
  async retry(id: string): Promise<{ record: BatchRecord; retry: BatchRecord; rows: number }> {
    const view = await this.view(id);
    if (view.state === 'retrying')
      throw new HttpProblem(
        409,
        `batch ${id} is already retrying its rows in error (retry ${view.retry?.id})`,
        {
          batch_state: view.state,
        },
      );
    if (view.state !== 'done')
      throw new HttpProblem(
        409,
        `batch ${id} is ${view.state}: only a finished batch can retry its rows in error`,
        {
          batch_state: view.state,
        },
      );
    const record = await this.record(id);
    const built = await buildRetryInput(this.deps.dataDir, record);
    if (built === null)
      throw new HttpProblem(
        409,
        `batch ${id} has no rows in error worth a retry (invalid numbers never are)`,
        {
          batch_state: view.state,
        },
      );
    const { record: retry } = await this.submit(
      built.upload,
      `${record.displayName} (retry)`,
      settingsOf(record.job),
      id,
    );
    // Every row was worth a retry and the retry's input has the original's very bytes: the batch itself runs
    // again, in place, and there is nothing to merge.
    if (retry.id === id) return { record: retry, retry, rows: built.rows.length };
    const updated: BatchRecord = {
      ...record,
      retry: {
        id: retry.id,
        rows: built.rows.length,
        requestedAt: new Date(this.deps.clock()).toISOString(),
        state: 'running',
      },
    };
    await this.deps.dataDir.writeRecord(updated);
    await this.deps.merger.watch(id);
    return { record: updated, retry, rows: built.rows.length };
  }
}
