import type { ProviderName } from '../core/lookup-result.js';
import type { Budget } from '../config/budget.js';
import type { PriceTable } from '../config/prices.js';
import type { BreakerSettings, Delimiter, HistoryOptions } from '../core/settings.js';

/** A batch: one input file scanned with one set of options. No secrets: credentials live with the workers. */
/** What intake read into the batch's own copy of its input: each step checks the copy against it. */
export interface InputCopyRecord {
  readonly bytes: number;
  readonly sha256: string;
  /** True when the copy was made for this batch alone and goes with it; false for an API upload (kept for retries). */
  readonly disposable: boolean;
}

export interface BatchJobData {
  readonly batchId: string;
  /** The batch's own copy of its input (never the user's file): every step reads this. */
  readonly inputPath: string;
  /** Size and SHA-256 of the copy at intake; absent in jobs queued before intake kept copies. */
  readonly inputCopy?: InputCopyRecord;
  /** The name users gave the file, for messages and reports. */
  readonly displayName: string;
  readonly outDir: string;
  readonly provider: ProviderName;
  readonly delimiter: Delimiter;
  readonly headers: readonly string[];
  readonly phoneColumn: number;
  readonly defaultCountry: string | null;
  readonly chunkSize: number;
  readonly staleDays: number;
  /** Upstream requests per second for all workers together; 0 = no cap of ours. */
  readonly ratePerSecond: number;
  /** Where the history lives and how long it keeps a number. */
  readonly history: HistoryOptions;
  /** Answers from the history younger than this are used instead of a call (`--max-age`); 0 = always ask. */
  readonly maxAgeMs: number;
  readonly formulaGuard: boolean;
  readonly bom: boolean;
  /** First retry delay of a chunk with transient failures (doubles per attempt, with jitter), ms. */
  readonly retryBaseMs: number;
  /** When the batch pauses for failing calls; absent in jobs queued before it existed (defaults apply). */
  readonly breaker?: BreakerSettings;
  /** Input column positions shown beside each number in the longest-gaps list; absent in older jobs. */
  readonly idColumns?: readonly number[];
  /** The name runs of one source share (the report's trend); null or absent: no trend. */
  readonly label?: string | null;
  /** Write results.xlsx beside results.csv (`--xlsx`); absent in older jobs: no. */
  readonly xlsx?: boolean;
  /** Where the batch's events go (docs/webhooks.md), and the base of its output links when served; absent: none. */
  readonly webhook?: BatchWebhook | null;
  /** What the batch may spend on upstream requests (`--budget`); absent: no cap. */
  readonly budget?: Budget;
  /** The prices of REACHSCAN_PRICES when the batch was started, for its cost; absent: none. */
  readonly prices?: PriceTable;
  readonly submittedAt: string;
  /** Where the batch job is: reading the file, waiting for its chunks, or writing outputs. */
  readonly step: 'ingest' | 'wait' | 'finalize';
  /** Data records already turned into chunk jobs, and chunks made: a restarted ingest resumes here. */
  readonly cursor: { readonly records: number; readonly chunks: number };
  /** Why the batch asks (`--purpose`); null or absent: the provider's configured purpose, in the worker. */
  readonly purpose?: string | null;
}

/** A batch's webhook: the receiver, and the URL `serve` is reached at (null: no output links). */
export interface BatchWebhook {
  readonly url: string;
  readonly links: string | null;
}

/** A few hundred numbers of one batch, each asked once. */
export interface ChunkJobData {
  readonly batchId: string;
  readonly chunk: number;
  readonly numbers: readonly string[];
  readonly provider: ProviderName;
  readonly ratePerSecond: number;
  readonly history: HistoryOptions;
  readonly maxAgeMs: number;
  readonly breaker?: BreakerSettings;
}

/** Job data comes back from Redis untyped: check the shape before trusting it. */
export function assertBatchJobData(data: unknown): asserts data is BatchJobData {
  const d = data as Partial<BatchJobData> | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    typeof d.batchId !== 'string' ||
    typeof d.inputPath !== 'string' ||
    typeof d.outDir !== 'string' ||
    !Array.isArray(d.headers) ||
    typeof d.phoneColumn !== 'number' ||
    typeof d.chunkSize !== 'number' ||
    typeof d.retryBaseMs !== 'number' ||
    !isHistoryOptions(d.history) ||
    typeof d.maxAgeMs !== 'number' ||
    !['ingest', 'wait', 'finalize'].includes(d.step ?? '') ||
    typeof d.cursor?.records !== 'number'
  ) {
    throw new TypeError('batch job data has an unexpected shape');
  }
}

export function assertChunkJobData(data: unknown): asserts data is ChunkJobData {
  const d = data as Partial<ChunkJobData> | null;
  if (
    typeof d !== 'object' ||
    d === null ||
    typeof d.batchId !== 'string' ||
    typeof d.chunk !== 'number' ||
    !Array.isArray(d.numbers) ||
    !d.numbers.every((n) => typeof n === 'string') ||
    typeof d.ratePerSecond !== 'number' ||
    !isHistoryOptions(d.history) ||
    typeof d.maxAgeMs !== 'number'
  ) {
    throw new TypeError('chunk job data has an unexpected shape');
  }
}

function isHistoryOptions(value: unknown): value is HistoryOptions {
  const h = value as Partial<HistoryOptions> | null | undefined;
  // Jobs queued before buckets existed have none: they read the single-slot layout (1).
  const buckets = h?.buckets;
  return (
    typeof h?.prefix === 'string' &&
    typeof h.retentionDays === 'number' &&
    (buckets === undefined || (Number.isInteger(buckets) && buckets >= 1 && buckets <= 16_384))
  );
}
