import { randomUUID } from 'node:crypto';
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { BatchFiles, BatchRecord, SavedInput } from '../batch/files.js';
import { assertBatchJobData } from '../queue/job-data.js';
import { HttpProblem } from './problem.js';
import { saveUpload } from './upload.js';

/** Batch ids are 24 lower-case hex characters (see deriveBatchId); anything else never reaches a path. */
export const BATCH_ID = /^[0-9a-f]{24}$/;
/** Uploads are named by the SHA-256 of their bytes. */
const SHA256_HEX = /^[0-9a-f]{64}$/;

export function assertBatchId(id: string): void {
  if (!BATCH_ID.test(id))
    throw new HttpProblem(400, 'batch id must be 24 hexadecimal characters', { option: 'id' });
}

/** The files of a batch the API serves, by URL name; nothing else in the folder is reachable. */
export const SERVED_FILES = {
  'results.csv': { type: 'text/csv; charset=utf-8' },
  'report.json': { type: 'application/json; charset=utf-8' },
  'report.html': { type: 'text/html; charset=utf-8' },
  'rejects.csv': { type: 'text/csv; charset=utf-8' },
} as const;
export type ServedFile = keyof typeof SERVED_FILES;

const FOLDER_MODE = 0o750;

/**
 * The API's folder: `uploads/` (inputs, named by content) and `batches/<id>/` (outputs, `batch.json`). Every
 * path is built here from a validated id or hash and a fixed name.
 */
export class DataDir implements BatchFiles {
  readonly uploads: string;
  readonly batches: string;

  constructor(readonly root: string) {
    this.uploads = join(root, 'uploads');
    this.batches = join(root, 'batches');
  }

  async create(): Promise<void> {
    for (const dir of [this.root, this.uploads, this.batches]) await makeFolder(dir);
  }

  batchDir(id: string): string {
    assertBatchId(id);
    return join(this.batches, id);
  }

  async createBatchDir(id: string): Promise<string> {
    const dir = this.batchDir(id);
    await makeFolder(dir);
    return dir;
  }

  file(id: string, name: ServedFile | 'retry-rows.txt'): string {
    return join(this.batchDir(id), name);
  }

  /** A new upload's temporary name (in the uploads folder, so the rename to its final name is atomic). */
  incomingPath(): string {
    return join(this.uploads, `.incoming-${randomUUID()}`);
  }

  uploadPath(sha256: string): string {
    if (!SHA256_HEX.test(sha256)) throw new TypeError('an upload is named by its SHA-256');
    return join(this.uploads, `${sha256}.csv`);
  }

  /** An input made here (a retry's), with no size limit of the API's. */
  saveInput(source: Readable): Promise<SavedInput> {
    return saveUpload(source, this, Number.POSITIVE_INFINITY);
  }

  async readRecord(id: string): Promise<BatchRecord | null> {
    let text: string;
    try {
      text = await readFile(join(this.batchDir(id), 'batch.json'), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const record = JSON.parse(text) as unknown;
    assertBatchRecord(record);
    return record;
  }

  /** Written whole under a temporary name, then renamed: a reader never sees half a record. */
  async writeRecord(record: BatchRecord): Promise<void> {
    const dir = await this.createBatchDir(record.id);
    const temp = join(dir, `.batch.json.${randomUUID()}`);
    await writeFile(temp, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o640 });
    await rename(temp, join(dir, 'batch.json'));
  }
}

async function makeFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: FOLDER_MODE });
  // mkdir's mode is filtered by the umask, and an existing folder keeps its own: say it once more.
  await chmod(dir, FOLDER_MODE);
}

function assertBatchRecord(value: unknown): asserts value is BatchRecord {
  const r = value as Partial<BatchRecord> | null;
  if (
    typeof r !== 'object' ||
    r === null ||
    r.version !== 1 ||
    typeof r.id !== 'string' ||
    !BATCH_ID.test(r.id) ||
    typeof r.inputSha256 !== 'string' ||
    !SHA256_HEX.test(r.inputSha256) ||
    typeof r.displayName !== 'string' ||
    typeof r.submittedAt !== 'string' ||
    !(r.retryOf === null || (typeof r.retryOf === 'string' && BATCH_ID.test(r.retryOf))) ||
    !(
      r.retry === null ||
      (typeof r.retry === 'object' && typeof r.retry.id === 'string' && BATCH_ID.test(r.retry.id))
    )
  ) {
    throw new TypeError('batch.json has an unexpected shape');
  }
  assertBatchJobData(r.job);
}
