import type { Readable } from 'node:stream';
import type { BatchJobData } from '../queue/job-data.js';

/** A retry of a batch's rows in error, as its original batch remembers it. */
export interface RetryRecord {
  readonly id: string;
  readonly rows: number;
  readonly requestedAt: string;
  readonly state: 'running' | 'merged' | 'failed';
  readonly mergedAt?: string;
  readonly failure?: string;
}

/** What the API keeps about a batch it accepted (`batch.json`): enough to serve it once Redis forgets it. */
export interface BatchRecord {
  readonly version: 1;
  readonly id: string;
  /** The upload is `uploads/<inputSha256>.csv`. */
  readonly inputSha256: string;
  readonly displayName: string;
  readonly submittedAt: string;
  /** The job as queued: shape and options (its paths are never used to open anything). */
  readonly job: BatchJobData;
  /** Set on a retry batch: the batch whose rows in error it asks again. */
  readonly retryOf: string | null;
  /** The latest retry of this batch's rows in error. */
  readonly retry: RetryRecord | null;
}

/** An input stored by its content: the same bytes always land in the same file. */
export interface SavedInput {
  /** `uploads/<sha256>.csv`. */
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
}

/**
 * Where the batches an API accepted keep their files: each batch's outputs and record, and the inputs, named by
 * their content. The HTTP API's data folder is one; retries and progress read and write through this.
 */
export interface BatchFiles {
  /** A batch's folder. */
  batchDir(id: string): string;
  /** A file of a batch's folder. */
  file(id: string, name: 'results.csv' | 'report.json' | 'retry-rows.txt'): string;
  /** Where the input with this SHA-256 is kept. */
  uploadPath(sha256: string): string;
  /** Streams an input into the store. */
  saveInput(source: Readable): Promise<SavedInput>;
  readRecord(id: string): Promise<BatchRecord | null>;
  writeRecord(record: BatchRecord): Promise<void>;
}
